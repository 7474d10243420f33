//! `trap`: executes `unreachable` on the external message `b"trap"`.
//!
//! Reads the inbox in order. On an external message whose payload is exactly
//! `b"trap"`, writes `/trap/before` = `b"1"` and then traps (`unreachable`):
//! the write must survive, the rest of the inbox is dropped and the PVM sets
//! `/readonly/kernel/env/stuck`. A run that reads the whole inbox without
//! trapping writes `/trap/ok` = the level of the last input read (u32 LE), or
//! leaves it unchanged when it read no input.
#![cfg(target_arch = "wasm32")]

use kernel_common::{external_payload, write_u32};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::RefPath;

const BEFORE: RefPath = RefPath::assert_from(b"/trap/before");
const OK: RefPath = RefPath::assert_from(b"/trap/ok");

fn run(host: &mut impl Runtime) {
    let mut last_level = None;
    while let Ok(Some(message)) = host.read_input() {
        last_level = Some(message.level);
        if external_payload(&message) == Some(b"trap".as_slice()) {
            let _ = host.store_write(&BEFORE, b"1", 0);
            core::arch::wasm32::unreachable();
        }
    }
    if let Some(level) = last_level {
        write_u32(host, &OK, level);
    }
}

kernel_entry!(run);
