//! `durable-heavy`: many durable-storage operations per message.
//!
//! On every external message (any payload), with `m` = the number of external
//! messages processed before this one:
//! 1. writes 100 values `/heavy/<i>` (i = 0…99, decimal), 16 bytes each:
//!    `mix(m, i)` u64 LE ‖ `i` u64 LE;
//! 2. reads them back (`store_value_size`, `store_read`) and folds them into a
//!    digest;
//! 3. copies `/heavy` to `/heavy-copy` (`store_copy`), then moves
//!    `/heavy-copy` to `/heavy-moved` (`store_move`, replacing the previous
//!    one);
//! 4. deletes the 50 even-numbered children of `/heavy-moved`
//!    (`store_delete`);
//! 5. counts the children of `/heavy-moved` (`store_list_size`, 50) and reads
//!    every child name with `store_get_nth_key`; names are folded in an
//!    order-independent way (the child order is the PVM's);
//! 6. writes `/durable-heavy/digest` (u64 LE), `/durable-heavy/children` (u64
//!    LE, the child count) and `/durable-heavy/count` (u64 LE, m + 1).
//!
//! A failed host call makes the digest differ (its error code is folded in).
#![cfg(target_arch = "wasm32")]

use kernel_common::{external_payload, path, raw, read_u64, write_u64};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::{Path, RefPath};

const HEAVY: RefPath = RefPath::assert_from(b"/heavy");
const COPY: RefPath = RefPath::assert_from(b"/heavy-copy");
const MOVED: RefPath = RefPath::assert_from(b"/heavy-moved");
const DIGEST: RefPath = RefPath::assert_from(b"/durable-heavy/digest");
const CHILDREN: RefPath = RefPath::assert_from(b"/durable-heavy/children");
const COUNT: RefPath = RefPath::assert_from(b"/durable-heavy/count");

const KEYS: u64 = 100;

fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b;
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 29)
}

fn fold(digest: &mut u64, x: u64) {
    *digest = (*digest ^ x).wrapping_mul(0x0000_0100_0000_01b3);
}

fn fold_code<T>(digest: &mut u64, r: Result<T, tezos_smart_rollup::host::RuntimeError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(_) => {
            fold(digest, 0xdead);
            None
        }
    }
}

fn one_round(host: &mut impl Runtime, m: u64) -> (u64, u64) {
    let mut digest = 0xcbf2_9ce4_8422_2325u64;
    for i in 0..KEYS {
        let key = path(format!("/heavy/{i}"));
        let mut value = [0u8; 16];
        value[..8].copy_from_slice(&mix(m, i).to_le_bytes());
        value[8..].copy_from_slice(&i.to_le_bytes());
        fold_code(&mut digest, host.store_write(&key, &value, 0));
    }
    for i in 0..KEYS {
        let key = path(format!("/heavy/{i}"));
        let size = fold_code(&mut digest, host.store_value_size(&key)).unwrap_or(0);
        fold(&mut digest, size as u64);
        let mut buf = [0u8; 16];
        let n = fold_code(&mut digest, host.store_read_slice(&key, 0, &mut buf)).unwrap_or(0);
        fold(&mut digest, n as u64);
        fold(&mut digest, u64::from_le_bytes(buf[..8].try_into().unwrap_or([0; 8])));
        fold(&mut digest, u64::from_le_bytes(buf[8..].try_into().unwrap_or([0; 8])));
    }
    fold_code(&mut digest, host.store_copy(&HEAVY, &COPY));
    fold_code(&mut digest, host.store_move(&COPY, &MOVED));
    for i in (0..KEYS).step_by(2) {
        fold_code(&mut digest, host.store_delete(&path(format!("/heavy-moved/{i}"))));
    }
    let children = fold_code(&mut digest, host.store_count_subkeys(&MOVED)).unwrap_or(0);
    fold(&mut digest, children);
    let mut names = 0u64;
    let mut buf = [0u8; 64];
    for index in 0..children {
        // SAFETY: the path and buffer are valid for the lengths given.
        let len =
            unsafe { raw::store_get_nth_key(MOVED.as_ptr(), MOVED.size(), index as i64, buf.as_mut_ptr(), buf.len()) };
        if len < 0 {
            fold(&mut digest, len as u64);
            continue;
        }
        let mut h = 0x8422_2325u64;
        for b in &buf[..len as usize] {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        names = names.wrapping_add(mix(h, len as u64));
    }
    fold(&mut digest, names);
    // The source is still there, the copy is gone.
    // SAFETY: valid path pointers and lengths.
    let exists = unsafe {
        (
            raw::store_exists(HEAVY.as_ptr(), HEAVY.size()),
            raw::store_exists(COPY.as_ptr(), COPY.size()),
        )
    };
    fold(&mut digest, exists.0 as u64);
    fold(&mut digest, exists.1 as u64);
    (digest, children)
}

fn run(host: &mut impl Runtime) {
    while let Ok(Some(message)) = host.read_input() {
        if external_payload(&message).is_some() {
            let m = read_u64(host, &COUNT).unwrap_or(0);
            let (digest, children) = one_round(host, m);
            write_u64(host, &DIGEST, digest);
            write_u64(host, &CHILDREN, children);
            write_u64(host, &COUNT, m + 1);
        }
    }
}

kernel_entry!(run);
