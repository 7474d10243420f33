//! `loop-forever`: `kernel_run` never returns.
//!
//! Increments a static counter with volatile reads and writes in an endless
//! loop, so the loop cannot be optimised away. Every run exceeds the tick
//! limit: the PVM must end in `Stuck Too_many_ticks`. Touches no durable
//! storage and reads no input.
#![cfg(target_arch = "wasm32")]

use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;

static mut COUNTER: u64 = 0;

fn run(_host: &mut impl Runtime) {
    let counter = core::ptr::addr_of_mut!(COUNTER);
    loop {
        // SAFETY: the kernel is single-threaded; the pointer is to a static.
        unsafe { core::ptr::write_volatile(counter, core::ptr::read_volatile(counter).wrapping_add(1)) };
    }
}

kernel_entry!(run);
