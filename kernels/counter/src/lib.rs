//! `counter`: counts external messages.
//!
//! Every `kernel_run` reads the whole inbox. For each external message it
//! increments `/counter` (u64 little-endian, absent = 0); for every input it
//! writes the input's inbox level to `/level` (u32 little-endian), so `/level`
//! holds the level of the last input read.
#![cfg(target_arch = "wasm32")]

use kernel_common::{external_payload, read_u64, write_u32, write_u64};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::RefPath;

const COUNTER: RefPath = RefPath::assert_from(b"/counter");
const LEVEL: RefPath = RefPath::assert_from(b"/level");

fn run(host: &mut impl Runtime) {
    let mut count = read_u64(host, &COUNTER).unwrap_or(0);
    let mut last_level = None;
    while let Ok(Some(message)) = host.read_input() {
        last_level = Some(message.level);
        if external_payload(&message).is_some() {
            count += 1;
        }
    }
    write_u64(host, &COUNTER, count);
    if let Some(level) = last_level {
        write_u32(host, &LEVEL, level);
    }
}

kernel_entry!(run);
