//! `installer`: installs a kernel delivered as reveal-preimage pages, then
//! reboots into it.
//!
//! **Root hash.** The 33-byte reveal hash of the root page is a patchable
//! slot in this kernel's own binary: the static byte array
//! `b"SORU-INSTALLER-ROOT-HASH:" ‖ [0u8; 33]`, read with volatile loads so the
//! compiler keeps the bytes in the data section verbatim. `pages patch` (in
//! `kernels/tools/pages`) finds the marker in the `.wasm` and overwrites the
//! 33 bytes after it without changing anything else.
//!
//! **Pages.** A page is at most 4 096 bytes. Byte 0 is `0x00` for a contents
//! page (the rest is kernel bytes) or `0x01` for a hashes page (the rest is a
//! concatenation of 33-byte reveal hashes of child pages, in order). The
//! kernel is the concatenation of the contents-page payloads in depth-first
//! order. A page's reveal hash is `0x00 ‖ blake2b-256(page)`.
//!
//! **Run.** Deletes `/installer/staging`, walks the page tree from the root
//! with `reveal_preimage`, appending each payload to `/installer/staging` at
//! increasing offsets in writes of at most 2 048 bytes, then moves
//! `/installer/staging` to `/kernel/boot.wasm` (so no byte of the installer
//! survives past the new kernel's end), writes `/installer/size` (u32 LE),
//! and requests a reboot. The installer reads no input: the installed kernel,
//! booted by that reboot in the same level, finds the level's inputs unread.
//! On failure (unpatched all-zero hash, a reveal error, a malformed page, a
//! tree deeper than 16) it writes `/installer/error` (text), leaves
//! `/kernel/boot.wasm` untouched and does not reboot; the next level tries
//! again.
#![cfg(target_arch = "wasm32")]

use kernel_common::{raw, write_u32};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::{Path, RefPath};

const MARKER_LEN: usize = 25;
const HASH_LEN: usize = 33;

const fn unpatched_root_hash() -> [u8; MARKER_LEN + HASH_LEN] {
    let marker = b"SORU-INSTALLER-ROOT-HASH:";
    let mut bytes = [0u8; MARKER_LEN + HASH_LEN];
    let mut i = 0;
    while i < MARKER_LEN {
        bytes[i] = marker[i];
        i += 1;
    }
    bytes
}

/// Marker ‖ root hash; the hash bytes are patched in the binary.
static ROOT_HASH: [u8; MARKER_LEN + HASH_LEN] = unpatched_root_hash();

const STAGING: RefPath = RefPath::assert_from(b"/installer/staging");
const BOOT: RefPath = RefPath::assert_from(b"/kernel/boot.wasm");
const SIZE: RefPath = RefPath::assert_from(b"/installer/size");
const ERROR: RefPath = RefPath::assert_from(b"/installer/error");

const PAGE_MAX: usize = 4096;
const WRITE_MAX: usize = 2048;
const MAX_DEPTH: u32 = 16;

fn root_hash() -> [u8; HASH_LEN] {
    let mut hash = [0u8; HASH_LEN];
    for (i, byte) in hash.iter_mut().enumerate() {
        // SAFETY: in bounds of the static; volatile so the patched bytes are
        // read from memory rather than constant-folded.
        *byte = unsafe { core::ptr::read_volatile(ROOT_HASH.as_ptr().add(MARKER_LEN + i)) };
    }
    hash
}

fn append(host: &mut impl Runtime, offset: &mut usize, payload: &[u8]) -> Result<(), &'static str> {
    for chunk in payload.chunks(WRITE_MAX) {
        host.store_write(&STAGING, chunk, *offset)
            .map_err(|_| "store_write failed")?;
        *offset += chunk.len();
    }
    Ok(())
}

fn walk(host: &mut impl Runtime, hash: &[u8; HASH_LEN], depth: u32, offset: &mut usize) -> Result<(), &'static str> {
    if depth > MAX_DEPTH {
        return Err("page tree too deep");
    }
    let mut page = vec![0u8; PAGE_MAX];
    let len = host
        .reveal_preimage(hash, &mut page)
        .map_err(|_| "reveal_preimage failed")?;
    match page[..len].split_first() {
        Some((0x00, payload)) => append(host, offset, payload),
        Some((0x01, hashes)) if hashes.len() % HASH_LEN == 0 => {
            for child in hashes.chunks_exact(HASH_LEN) {
                let child: &[u8; HASH_LEN] = child.try_into().map_err(|_| "bad hash")?;
                walk(host, child, depth + 1, offset)?;
            }
            Ok(())
        }
        _ => Err("malformed page"),
    }
}

fn install(host: &mut impl Runtime) -> Result<usize, &'static str> {
    let root = root_hash();
    if root.iter().all(|b| *b == 0) {
        return Err("unpatched root hash");
    }
    // SAFETY: valid path pointer and length. Absent keys delete fine.
    unsafe { raw::store_delete(STAGING.as_ptr(), STAGING.size()) };
    let mut offset = 0;
    walk(host, &root, 0, &mut offset)?;
    host.store_move(&STAGING, &BOOT).map_err(|_| "store_move failed")?;
    Ok(offset)
}

fn run(host: &mut impl Runtime) {
    match install(host) {
        Ok(size) => {
            write_u32(host, &SIZE, size as u32);
            let _ = host.mark_for_reboot();
        }
        Err(e) => {
            let _ = host.store_write_all(&ERROR, e.as_bytes());
        }
    }
}

kernel_entry!(run);
