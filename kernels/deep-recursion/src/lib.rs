//! `deep-recursion`: recurses `n` WebAssembly frames deep on request.
//!
//! On the external message `b"D" ‖ u32 LE n`, calls a non-tail-recursive
//! function `n` levels deep (each level is one WebAssembly call frame and uses
//! no linear-memory stack), then writes the result to `/deep/result` (u64 LE)
//! and `n` to `/deep/n` (u32 LE). With `n = 100000` the 60 000-frame call stack
//! of the PVM is exhausted: the PVM becomes stuck ("call stack exhausted")
//! and nothing of that run after the call is written. Other messages are
//! ignored.
#![cfg(target_arch = "wasm32")]

use kernel_common::{external_payload, write_u32, write_u64};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::RefPath;

const RESULT: RefPath = RefPath::assert_from(b"/deep/result");
const N: RefPath = RefPath::assert_from(b"/deep/n");

static SALT: u64 = 0x9e37_79b9_7f4a_7c15;

/// One frame per level. The result of the inner call is combined with `n`
/// in a way that is neither associative nor commutative, so the compiler
/// cannot turn the recursion into a loop.
#[inline(never)]
fn descend(n: u32) -> u64 {
    if n == 0 {
        // SAFETY: reading an immutable static; volatile keeps it opaque.
        return unsafe { core::ptr::read_volatile(&SALT) };
    }
    let below = descend(n - 1);
    below.rotate_left(7) ^ u64::from(n).wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn run(host: &mut impl Runtime) {
    while let Ok(Some(message)) = host.read_input() {
        if let Some([b'D', a, b, c, d]) = external_payload(&message) {
            let n = u32::from_le_bytes([*a, *b, *c, *d]);
            let result = descend(n);
            write_u64(host, &RESULT, result);
            write_u32(host, &N, n);
        }
    }
}

kernel_entry!(run);
