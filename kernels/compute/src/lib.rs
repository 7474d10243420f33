//! `compute`: CPU-bound work per message.
//!
//! On the external message `b"C" ‖ u32 LE n`:
//! 1. a 64-bit mixing loop of `n` rounds (splitmix64 finaliser plus the round
//!    index), digest written to `/compute/hash` (u64 LE);
//! 2. `n` pseudo-random u32s (xorshift32 seeded with `n`), sorted with
//!    `sort_unstable`, folded in order into `/compute/sorted` (u64 LE);
//! 3. `/compute/n` = n (u32 LE) and `/compute/count` = number of `C` messages
//!    processed so far (u64 LE).
//!
//! The work is linear (hash) and n·log n (sort) in n, and the sort needs 4·n
//! bytes of memory. Other messages are ignored. `n = 0` is valid.
#![cfg(target_arch = "wasm32")]

use kernel_common::{external_payload, read_u64, write_u32, write_u64};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::RefPath;

const HASH: RefPath = RefPath::assert_from(b"/compute/hash");
const SORTED: RefPath = RefPath::assert_from(b"/compute/sorted");
const N: RefPath = RefPath::assert_from(b"/compute/n");
const COUNT: RefPath = RefPath::assert_from(b"/compute/count");

/// `n` rounds of the splitmix64 finaliser, each round adding its index.
pub fn hash_loop(n: u32) -> u64 {
    let mut x = 0x243f_6a88_85a3_08d3 ^ u64::from(n);
    for i in 0..n {
        x ^= x >> 30;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        x = x.wrapping_add(u64::from(i));
    }
    x
}

/// Sorts `n` xorshift32 values seeded with `n` and folds them in order.
pub fn sorted_digest(n: u32) -> u64 {
    let mut state = n ^ 0x9e37_79b9;
    if state == 0 {
        state = 1;
    }
    let mut values = Vec::with_capacity(n as usize);
    for _ in 0..n {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        values.push(state);
    }
    values.sort_unstable();
    let mut digest = 0xcbf2_9ce4_8422_2325u64;
    for v in values {
        digest = (digest ^ u64::from(v)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    digest
}

fn run(host: &mut impl Runtime) {
    while let Ok(Some(message)) = host.read_input() {
        if let Some([b'C', a, b, c, d]) = external_payload(&message) {
            let n = u32::from_le_bytes([*a, *b, *c, *d]);
            write_u64(host, &HASH, hash_loop(n));
            write_u64(host, &SORTED, sorted_digest(n));
            write_u32(host, &N, n);
            let count = read_u64(host, &COUNT).unwrap_or(0) + 1;
            write_u64(host, &COUNT, count);
        }
    }
}

kernel_entry!(run);
