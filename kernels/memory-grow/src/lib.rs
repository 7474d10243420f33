//! `memory-grow`: grows linear memory on request.
//!
//! On the external message `b"G" ‖ u32 LE n`, executes `memory.grow n` and
//! writes:
//! - `/memory/pages`: the memory size after the grow, in 64 KiB pages (u32 LE);
//! - `/memory/last_grow`: the result of `memory.grow` (i32 LE: the previous
//!   size, or −1 when the memory cannot reach that size, e.g. beyond 65 536
//!   pages);
//! - `/memory/touched` = `b"1"` after writing and reading back the last byte of
//!   the memory when the grow succeeded with n > 0.
//!
//! Memory does not persist between `kernel_run`s: every run starts from the
//! module's initial memory.
#![cfg(target_arch = "wasm32")]

use kernel_common::{external_payload, write_u32};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::RefPath;

const PAGES: RefPath = RefPath::assert_from(b"/memory/pages");
const LAST_GROW: RefPath = RefPath::assert_from(b"/memory/last_grow");
const TOUCHED: RefPath = RefPath::assert_from(b"/memory/touched");

fn run(host: &mut impl Runtime) {
    while let Ok(Some(message)) = host.read_input() {
        if let Some([b'G', a, b, c, d]) = external_payload(&message) {
            let n = u32::from_le_bytes([*a, *b, *c, *d]);
            let result = core::arch::wasm32::memory_grow(0, n as usize);
            let pages = core::arch::wasm32::memory_size(0) as u32;
            write_u32(host, &LAST_GROW, result as u32);
            write_u32(host, &PAGES, pages);
            if result != usize::MAX && n > 0 {
                let last = (pages as usize * 65536 - 1) as *mut u8;
                // SAFETY: `last` is the last byte of the memory just grown,
                // which no Rust object occupies.
                let back = unsafe {
                    core::ptr::write_volatile(last, 0xa5);
                    core::ptr::read_volatile(last)
                };
                if back == 0xa5 {
                    let _ = host.store_write(&TOUCHED, b"1", 0);
                }
            }
        }
    }
}

kernel_entry!(run);
