//! `hostfns`: calls every host function of `smart_rollup_core` (2.0.0-r6, NDS
//! functions excepted) with valid and invalid arguments and records each
//! return code.
//!
//! The suite runs in the **first** `kernel_run` only: it ends by writing
//! `/hostfns_ran`, and a run that finds that key does nothing. Scratch data
//! lives under `/t`. Each result is written at the end as `/hostfns/<case>`
//! = i64 LE, for every case of `cases.rs`; `kernels/hostfns/expected.json`
//! gives the value the PVM must produce for each (see README.md). A case the
//! kernel failed to record is written as `i64::MIN` and `/hostfns_incomplete`
//! is set.
//!
//! The run assumes the standard inbox framing: the first input is SOL
//! (`00 01`) with message id 0 and the second one Info_per_level; and that
//! the outbox of the level is empty when the suite starts (it fills it to 100
//! messages).
#![cfg(target_arch = "wasm32")]

use kernel_common::raw;
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;

include!("cases.rs");

/// An address beyond any memory a kernel has (the module has < 4 GiB).
const OOB: usize = 0xffff_ff00;

const RAN: &[u8] = b"/hostfns_ran";
const INCOMPLETE: &[u8] = b"/hostfns_incomplete";

/// `00 ‖ blake2b-256("")`: its preimage is the empty string.
const EMPTY_HASH: [u8; 33] = [
    0x00, 0x0e, 0x57, 0x51, 0xc0, 0x26, 0xe5, 0x43, 0xb2, 0xe8, 0xab, 0x2e, 0xb0, 0x60, 0x99, 0xda, 0xa1, 0xd1, 0xe5,
    0xdf, 0x47, 0x77, 0x8f, 0x77, 0x87, 0xfa, 0xab, 0x45, 0xcd, 0xf1, 0x2f, 0xe3, 0xa8,
];

struct Suite {
    results: [Option<i64>; CASES.len()],
    buf: Vec<u8>,
}

impl Suite {
    fn rec(&mut self, case: Case, code: impl Into<i64>) {
        self.results[case as usize] = Some(code.into());
    }
}

fn ptr(p: usize) -> *const u8 {
    p as *const u8
}

fn mptr(p: usize) -> *mut u8 {
    p as *mut u8
}

// Thin wrappers: keys are byte strings, results raw codes.
unsafe fn has(key: &[u8]) -> i32 {
    raw::store_has(key.as_ptr(), key.len())
}
unsafe fn exists(key: &[u8]) -> i32 {
    raw::store_exists(key.as_ptr(), key.len())
}
unsafe fn write(key: &[u8], offset: usize, value: &[u8]) -> i32 {
    raw::store_write(key.as_ptr(), key.len(), offset, value.as_ptr(), value.len())
}
unsafe fn value_size(key: &[u8]) -> i32 {
    raw::store_value_size(key.as_ptr(), key.len())
}
unsafe fn delete(key: &[u8]) -> i32 {
    raw::store_delete(key.as_ptr(), key.len())
}
unsafe fn delete_value(key: &[u8]) -> i32 {
    raw::store_delete_value(key.as_ptr(), key.len())
}
unsafe fn copy(from: &[u8], to: &[u8]) -> i32 {
    raw::store_copy(from.as_ptr(), from.len(), to.as_ptr(), to.len())
}
unsafe fn move_(from: &[u8], to: &[u8]) -> i32 {
    raw::store_move(from.as_ptr(), from.len(), to.as_ptr(), to.len())
}
unsafe fn list_size(key: &[u8]) -> i64 {
    raw::store_list_size(key.as_ptr(), key.len())
}
unsafe fn create(key: &[u8], size: usize) -> i32 {
    raw::store_create(key.as_ptr(), key.len(), size)
}

fn memory_bytes() -> usize {
    core::arch::wasm32::memory_size(0) * 65536
}

/// read_input, write_output, write_debug.
unsafe fn inputs_and_outputs(s: &mut Suite) {
    let mut info = [0u8; 8];
    let info_ptr = info.as_mut_ptr() as *mut raw::ReadInputMessageInfo;
    let dst = s.buf.as_mut_ptr();

    // Address checks happen before anything is dequeued.
    s.rec(
        Case::read_input_info_oob,
        raw::read_input(OOB as *mut raw::ReadInputMessageInfo, dst, 4096),
    );
    s.rec(Case::read_input_dst_oob, raw::read_input(info_ptr, mptr(OOB), 4096));
    // Octez checks `dst + max_bytes < memory size` (strict).
    s.rec(
        Case::read_input_dst_at_memory_end,
        raw::read_input(info_ptr, mptr(memory_bytes() - 8), 8),
    );
    let n = raw::read_input(info_ptr, dst, 4096);
    let sol = n == 2 && s.buf[0] == 0x00 && s.buf[1] == 0x01;
    s.rec(Case::read_input_sol, if sol { n } else { -1000 - n });
    s.rec(
        Case::read_input_sol_id,
        i32::from_le_bytes([info[4], info[5], info[6], info[7]]),
    );
    // Info_per_level (42 bytes) truncated to 1.
    s.rec(Case::read_input_truncated, raw::read_input(info_ptr, dst, 1));
    // max_bytes = 0 consumes the next input and returns 0.
    s.rec(Case::read_input_zero_max, raw::read_input(info_ptr, dst, 0));
    let mut last;
    loop {
        last = raw::read_input(info_ptr, dst, 4096);
        if last <= 0 {
            break;
        }
    }
    s.rec(Case::read_input_empty, last);

    let msg = b"hostfns";
    s.rec(Case::write_output_ok, raw::write_output(msg.as_ptr(), msg.len()));
    s.rec(Case::write_output_4096, raw::write_output(s.buf.as_ptr(), 4096));
    s.rec(Case::write_output_4097, raw::write_output(s.buf.as_ptr(), 4097));
    s.rec(Case::write_output_src_oob, raw::write_output(ptr(OOB), 10));
    let mut fill = 0;
    for _ in 2..100 {
        let code = raw::write_output(msg.as_ptr(), msg.len());
        if code != 0 && fill == 0 {
            fill = code;
        }
    }
    s.rec(Case::write_output_fill_to_100, fill);
    s.rec(Case::write_output_101st, raw::write_output(msg.as_ptr(), msg.len()));

    let debug = b"hostfns: write_debug\n";
    raw::write_debug(debug.as_ptr(), debug.len());
    s.rec(Case::write_debug_ok, 0);
    raw::write_debug(ptr(OOB), 100);
    s.rec(Case::write_debug_oob, 0);
}

/// Key syntax, store_write, store_read, store_value_size.
unsafe fn keys_reads_writes(s: &mut Suite) {
    let mut long = vec![b'a'; 241];
    long[0] = b'/';
    long[1] = b't';
    long[2] = b'/';
    s.rec(Case::key_241_bytes, has(&long));
    s.rec(Case::key_241_bytes_oob_ptr, raw::store_has(ptr(OOB), 241));
    s.rec(Case::key_240_bytes_write, write(&long[..240], 0, b"x"));
    delete(&long[..240]);
    s.rec(Case::key_double_slash, has(b"/t//a"));
    s.rec(Case::key_no_leading_slash, has(b"t/a"));
    s.rec(Case::key_trailing_slash, has(b"/t/a/"));
    s.rec(Case::key_slash_only, has(b"/"));
    s.rec(Case::key_bad_char, has(b"/t/a b"));
    s.rec(Case::key_ptr_oob, raw::store_has(ptr(OOB), 4));
    s.rec(Case::key_root_write, write(b"", 0, b"x"));

    for (i, b) in s.buf.iter_mut().enumerate() {
        *b = i as u8;
    }
    let buf = s.buf.as_mut_ptr();
    s.rec(Case::store_write_ok, write(b"/t/v", 0, b"hello world"));
    s.rec(
        Case::store_write_2048,
        raw::store_write(b"/t/big".as_ptr(), 6, 0, buf, 2048),
    );
    s.rec(
        Case::store_write_2049,
        raw::store_write(b"/t/big".as_ptr(), 6, 0, buf, 2049),
    );
    s.rec(Case::store_write_append, write(b"/t/v", 11, b"!"));
    s.rec(Case::store_write_offset_past_end, write(b"/t/v", 13, b"x"));
    s.rec(Case::store_write_readonly, write(b"/readonly/x", 0, b"x"));
    s.rec(
        Case::store_write_src_oob,
        raw::store_write(b"/t/v".as_ptr(), 4, 0, ptr(OOB), 4),
    );
    s.rec(
        Case::store_write_negative_len,
        raw::store_write(b"/t/v".as_ptr(), 4, 0, buf, 0x8000_0000),
    );

    s.rec(Case::store_read_ok, raw::store_read(b"/t/v".as_ptr(), 4, 0, buf, 2048));
    s.rec(
        Case::store_read_partial,
        raw::store_read(b"/t/v".as_ptr(), 4, 6, buf, 3),
    );
    s.rec(
        Case::store_read_tail,
        raw::store_read(b"/t/big".as_ptr(), 6, 2000, buf, 2048),
    );
    s.rec(
        Case::store_read_offset_eq_len,
        raw::store_read(b"/t/v".as_ptr(), 4, 12, buf, 10),
    );
    s.rec(
        Case::store_read_offset_past_len,
        raw::store_read(b"/t/v".as_ptr(), 4, 100, buf, 10),
    );
    s.rec(
        Case::store_read_2049,
        raw::store_read(b"/t/big".as_ptr(), 6, 0, buf, 2049),
    );
    s.rec(
        Case::store_read_2049_missing,
        raw::store_read(b"/t/missing".as_ptr(), 10, 0, buf, 2049),
    );
    s.rec(
        Case::store_read_missing,
        raw::store_read(b"/t/missing".as_ptr(), 10, 0, buf, 10),
    );
    s.rec(
        Case::store_read_dst_oob,
        raw::store_read(b"/t/v".as_ptr(), 4, 0, mptr(OOB), 12),
    );
    let version = b"/readonly/wasm_version";
    let n = raw::store_read(version.as_ptr(), version.len(), 0, buf, 64);
    s.rec(Case::store_read_wasm_version, n);
    s.rec(
        Case::wasm_version_is_r6,
        i32::from(n == 8 && &s.buf[..8] == b"2.0.0-r6"),
    );

    s.rec(Case::store_value_size_ok, value_size(b"/t/v"));
    s.rec(Case::store_value_size_big, value_size(b"/t/big"));
    s.rec(Case::store_value_size_missing, value_size(b"/t/missing"));
    s.rec(Case::store_value_size_subtree_only, value_size(b"/t"));
}

/// store_has, store_exists, store_list_size, store_get_nth_key, store_create.
unsafe fn tree_queries(s: &mut Suite) {
    // /t/h/value: value only; /t/h/dir: subtree only (child x);
    // /t/h/both: value and child x; /t/h/long: one child named abcdefgh.
    write(b"/t/h/value", 0, b"12345");
    write(b"/t/h/dir/x", 0, b"x");
    write(b"/t/h/both", 0, b"b");
    write(b"/t/h/both/x", 0, b"x");
    write(b"/t/h/long/abcdefgh", 0, b"l");

    s.rec(Case::store_has_none, has(b"/t/h/none"));
    s.rec(Case::store_has_value, has(b"/t/h/value"));
    s.rec(Case::store_has_subtree, has(b"/t/h/dir"));
    s.rec(Case::store_has_both, has(b"/t/h/both"));

    s.rec(Case::store_exists_value, exists(b"/t/h/value"));
    s.rec(Case::store_exists_subtree, exists(b"/t/h/dir"));
    s.rec(Case::store_exists_missing, exists(b"/t/h/none"));
    s.rec(Case::store_exists_readonly, exists(b"/readonly/wasm_version"));
    s.rec(Case::store_exists_invalid_key, exists(b"/t//h"));

    s.rec(Case::store_list_size_both, list_size(b"/t/h/both"));
    s.rec(Case::store_list_size_parent, list_size(b"/t/h"));
    s.rec(Case::store_list_size_missing, list_size(b"/t/h/none"));
    s.rec(Case::store_list_size_invalid_key, list_size(b"/t/h/"));

    let buf = s.buf.as_mut_ptr();
    let nth = |key: &[u8], index: i64, dst: *mut u8, max: usize| {
        raw::store_get_nth_key(key.as_ptr(), key.len(), index, dst, max)
    };
    s.rec(Case::store_get_nth_key_value_only, nth(b"/t/h/value", 0, buf, 64));
    s.buf[0] = 0;
    let n = nth(b"/t/h/dir", 0, buf, 64);
    s.rec(Case::store_get_nth_key_single_child, n);
    s.rec(Case::store_get_nth_key_name_is_x, i32::from(n == 1 && s.buf[0] == b'x'));
    s.rec(Case::store_get_nth_key_truncated, nth(b"/t/h/long", 0, buf, 3));
    s.rec(Case::store_get_nth_key_past_end, nth(b"/t/h/dir", 1, buf, 64));
    s.rec(Case::store_get_nth_key_missing, nth(b"/t/h/none", 0, buf, 64));
    s.rec(Case::store_get_nth_key_dst_oob, nth(b"/t/h/dir", 0, mptr(OOB), 64));

    s.rec(Case::store_create_new, create(b"/t/c", 100));
    s.rec(Case::store_create_new_size, value_size(b"/t/c"));
    s.rec(Case::store_create_existing, create(b"/t/c", 10));
    s.rec(Case::store_create_readonly, create(b"/readonly/c", 10));
    s.rec(Case::store_create_negative_size, create(b"/t/n", 0x8000_0000));
    s.rec(Case::store_create_zero, create(b"/t/z", 0));
    s.rec(
        Case::store_read_empty_value,
        raw::store_read(b"/t/z".as_ptr(), 4, 0, buf, 10),
    );
    s.rec(Case::store_create_on_subtree, create(b"/t/h/long", 4));
}

/// store_delete, store_delete_value, store_copy, store_move,
/// __internal_store_get_hash.
unsafe fn tree_updates(s: &mut Suite) {
    s.rec(Case::store_delete_value_both, delete_value(b"/t/h/both"));
    s.rec(Case::store_has_after_delete_value, has(b"/t/h/both"));
    s.rec(Case::store_delete_subtree, delete(b"/t/h/dir"));
    s.rec(Case::store_has_after_delete, has(b"/t/h/dir"));
    s.rec(Case::store_delete_missing, delete(b"/t/h/none"));
    s.rec(Case::store_delete_readonly, delete(b"/readonly/wasm_version"));
    s.rec(Case::store_delete_invalid_key, delete(b"/t/h/"));
    s.rec(Case::store_delete_value_missing, delete_value(b"/t/h/none"));
    s.rec(
        Case::store_delete_value_readonly,
        delete_value(b"/readonly/wasm_version"),
    );

    s.rec(Case::store_copy_ok, copy(b"/t/h", b"/t/copy"));
    s.rec(Case::store_copy_dst_value_size, value_size(b"/t/copy/value"));
    s.rec(Case::store_copy_missing_src, copy(b"/t/none", b"/t/copy2"));
    s.rec(Case::store_copy_to_readonly, copy(b"/t/h", b"/readonly/copy"));
    s.rec(
        Case::store_copy_from_readonly,
        copy(b"/readonly/wasm_version", b"/t/version"),
    );
    s.rec(Case::store_copy_from_readonly_size, value_size(b"/t/version"));
    s.rec(Case::store_copy_overwrite, copy(b"/t/v", b"/t/copy"));
    s.rec(Case::store_has_after_copy_overwrite, has(b"/t/copy"));
    s.rec(Case::store_move_ok, move_(b"/t/copy", b"/t/moved"));
    s.rec(Case::store_exists_after_move_src, exists(b"/t/copy"));
    s.rec(Case::store_exists_after_move_dst, exists(b"/t/moved"));
    s.rec(Case::store_move_missing_src, move_(b"/t/none", b"/t/moved2"));
    s.rec(
        Case::store_move_from_readonly,
        move_(b"/readonly/wasm_version", b"/t/moved3"),
    );
    s.rec(Case::store_move_to_readonly, move_(b"/t/v", b"/readonly/moved"));

    let buf = s.buf.as_mut_ptr();
    let hash = |key: &[u8], dst: *mut u8, max: usize| raw::__internal_store_get_hash(key.as_ptr(), key.len(), dst, max);
    s.rec(Case::store_get_hash_ok, hash(b"/t/h", buf, 32));
    s.rec(Case::store_get_hash_truncated, hash(b"/t/h", buf, 10));
    s.rec(Case::store_get_hash_value_only, hash(b"/t/v", buf, 64));
    s.rec(Case::store_get_hash_missing, hash(b"/t/none", buf, 32));
    s.rec(Case::store_get_hash_dst_oob, hash(b"/t/h", mptr(OOB), 32));
}

/// reveal_metadata, reveal_preimage, reveal.
unsafe fn reveals(s: &mut Suite) {
    let buf = s.buf.as_mut_ptr();
    s.rec(Case::reveal_metadata_ok, raw::reveal_metadata(buf, 24));
    s.rec(Case::reveal_metadata_short, raw::reveal_metadata(buf, 10));
    s.rec(Case::reveal_metadata_dst_oob, raw::reveal_metadata(mptr(OOB), 24));

    s.rec(
        Case::reveal_preimage_empty,
        raw::reveal_preimage(EMPTY_HASH.as_ptr(), 33, buf, 4096),
    );
    s.rec(
        Case::reveal_preimage_hash_oob,
        raw::reveal_preimage(ptr(OOB), 33, buf, 4096),
    );
    let long = vec![0u8; 4097];
    s.rec(
        Case::reveal_preimage_hash_4097,
        raw::reveal_preimage(long.as_ptr(), 4097, buf, 4096),
    );

    let metadata = [0x01u8];
    s.rec(Case::reveal_raw_metadata, raw::reveal(metadata.as_ptr(), 1, buf, 4096));
    let mut request = [0u8; 34];
    request[1..].copy_from_slice(&EMPTY_HASH);
    s.rec(
        Case::reveal_raw_preimage_empty,
        raw::reveal(request.as_ptr(), 34, buf, 4096),
    );
    let undecodable = [0x42u8, 1, 2, 3];
    s.rec(
        Case::reveal_raw_undecodable,
        raw::reveal(undecodable.as_ptr(), 4, buf, 4096),
    );
    s.rec(Case::reveal_raw_payload_oob, raw::reveal(ptr(OOB), 1, buf, 4096));
}

fn run(host: &mut impl Runtime) {
    // SAFETY (all blocks): every pointer passed is either valid for the length
    // given, or deliberately out of bounds (`OOB`), which the host must
    // reject without touching memory.
    unsafe {
        if exists(RAN) == 1 {
            return;
        }
        let mut suite = Suite {
            results: [None; CASES.len()],
            buf: vec![0u8; 8192],
        };
        inputs_and_outputs(&mut suite);
        keys_reads_writes(&mut suite);
        tree_queries(&mut suite);
        tree_updates(&mut suite);
        reveals(&mut suite);
        let mut complete = true;
        for (name, result) in CASES.iter().zip(suite.results.iter()) {
            complete &= result.is_some();
            let value = result.unwrap_or(i64::MIN);
            let _ = host.store_write(
                &kernel_common::path(format!("/hostfns/{name}")),
                &value.to_le_bytes(),
                0,
            );
        }
        if !complete {
            write(INCOMPLETE, 0, b"1");
        }
        write(RAN, 0, b"1");
    }
}

kernel_entry!(run);
