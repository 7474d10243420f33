//! `echo`: the running example of the Octez rollup documentation.
//!
//! For every **external** inbox message, writes its payload (the message
//! without its leading tag byte `0x01`) to the outbox with `write_output`. The
//! payload must therefore be the binary encoding of an outbox message for the
//! L1 to execute it. Internal messages (SOL, Info_per_level, EOL, transfers)
//! are ignored. No durable storage is used.
#![cfg(target_arch = "wasm32")]

use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup_encoding::inbox::InboxMessage;
use tezos_smart_rollup_encoding::michelson::MichelsonBytes;

fn run(host: &mut impl Runtime) {
    while let Ok(Some(message)) = host.read_input() {
        // Internal messages whose payload is not `bytes` fail to parse: they are
        // ignored like every other internal message.
        if let Ok((_, InboxMessage::External(payload))) = InboxMessage::<MichelsonBytes>::parse(message.as_ref()) {
            if let Err(e) = host.write_output(payload) {
                host.write_debug("echo: write_output failed: ");
                host.write_debug(if matches!(e, tezos_smart_rollup::host::RuntimeError::HostErr(_)) {
                    "host error\n"
                } else {
                    "other\n"
                });
            }
        }
    }
}

kernel_entry!(run);
