//! `big-code`: a kernel whose code section is larger than 512 KiB.
//!
//! `build.rs` generates 3 000 distinct functions `u64 -> u64` (16 mixing
//! steps each, constants from `spec.rs`) and a static table of pointers to
//! all of them, so none can be dropped. Every `kernel_run` reads the whole
//! inbox, then starting from `x` = the level of the last input read (0 if
//! none) applies every function in table order through `call_indirect`
//! (`x = FUNCS[i](x)` for i = 0…2999) and writes `x` to `/big-code/result`
//! (u64 LE) and the number of runs so far to `/big-code/runs` (u64 LE).
//! The check tests recompute the result from `spec.rs`.
//!
//! This is also the large kernel that the `installer` test delivers as
//! reveal pages.
#![cfg(target_arch = "wasm32")]

use kernel_common::{read_u64, write_u64};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::RefPath;

include!(concat!(env!("OUT_DIR"), "/functions.rs"));

const RESULT: RefPath = RefPath::assert_from(b"/big-code/result");
const RUNS: RefPath = RefPath::assert_from(b"/big-code/runs");

fn run(host: &mut impl Runtime) {
    let mut level = 0u32;
    while let Ok(Some(message)) = host.read_input() {
        level = message.level;
    }
    let table = core::hint::black_box(&FUNCS);
    let mut x = u64::from(level);
    for f in table.iter() {
        x = f(x);
    }
    write_u64(host, &RESULT, x);
    let runs = read_u64(host, &RUNS).unwrap_or(0) + 1;
    write_u64(host, &RUNS, runs);
}

kernel_entry!(run);
