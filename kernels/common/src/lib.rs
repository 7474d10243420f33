//! Helpers shared by soru's example kernels.
//!
//! - [`raw`]: the `smart_rollup_core` host functions that the SDK 0.2.2 does
//!   not declare (`store_get_nth_key`, `store_create`, `store_exists`,
//!   `__internal_store_get_hash`, `reveal`), with the signatures of
//!   PROTOCOL-FACTS §7.5;
//! - little-endian integers kept in durable storage;
//! - the inbox message tags (external `0x01`, internal `0x00`).
//!
//! Only compiled for `wasm32`: on the host this crate is empty.
#![cfg(target_arch = "wasm32")]

use tezos_smart_rollup::host::Runtime;
use tezos_smart_rollup::storage::path::{OwnedPath, Path};
use tezos_smart_rollup::types::Message;

/// Host functions of `smart_rollup_core` missing from the SDK 0.2.2.
///
/// All pointers and lengths are wasm32 `i32`; a negative result is an error
/// code (PROTOCOL-FACTS §7.5).
pub mod raw {
    pub use tezos_smart_rollup::core_unsafe::smart_rollup_core::*;

    #[link(wasm_import_module = "smart_rollup_core")]
    extern "C" {
        /// Name of the `index`-th child of `path` ("" = the value node);
        /// returns its length (truncated to `max_bytes`).
        pub fn store_get_nth_key(path: *const u8, path_len: usize, index: i64, dst: *mut u8, max_bytes: usize) -> i32;
        /// Allocates a zero-filled value of `size` bytes; −13 if a value exists.
        pub fn store_create(path: *const u8, path_len: usize, size: usize) -> i32;
        /// 1 if `path` holds a value or a subtree, 0 otherwise.
        pub fn store_exists(path: *const u8, path_len: usize) -> i32;
        /// Writes the 32-byte hash of the subtree at `path`.
        pub fn __internal_store_get_hash(path: *const u8, path_len: usize, dst: *mut u8, max_bytes: usize) -> i32;
        /// Raw reveal request (PROTOCOL-FACTS §7.6); returns the bytes written.
        pub fn reveal(payload: *const u8, payload_len: usize, dst: *mut u8, max_bytes: usize) -> i32;
    }
}

/// Tag byte of an external inbox message.
pub const EXTERNAL_TAG: u8 = 0x01;

/// Tag byte of an internal inbox message (SOL, EOL, Info_per_level, transfer…).
pub const INTERNAL_TAG: u8 = 0x00;

/// The payload of an external inbox message, without its tag byte.
pub fn external_payload(message: &Message) -> Option<&[u8]> {
    match message.as_ref() {
        [EXTERNAL_TAG, rest @ ..] => Some(rest),
        _ => None,
    }
}

/// Reads a little-endian `u32` from `path`; `None` if it is absent or too short.
pub fn read_u32(host: &impl Runtime, path: &impl Path) -> Option<u32> {
    let mut buf = [0u8; 4];
    match host.store_read_slice(path, 0, &mut buf) {
        Ok(4) => Some(u32::from_le_bytes(buf)),
        _ => None,
    }
}

/// Reads a little-endian `u64` from `path`; `None` if it is absent or too short.
pub fn read_u64(host: &impl Runtime, path: &impl Path) -> Option<u64> {
    let mut buf = [0u8; 8];
    match host.store_read_slice(path, 0, &mut buf) {
        Ok(8) => Some(u64::from_le_bytes(buf)),
        _ => None,
    }
}

/// Writes `value` little-endian at `path` (4 bytes, replacing any value).
pub fn write_u32(host: &mut impl Runtime, path: &impl Path, value: u32) {
    let _ = host.store_write(path, &value.to_le_bytes(), 0);
}

/// Writes `value` little-endian at `path` (8 bytes, replacing any value).
pub fn write_u64(host: &mut impl Runtime, path: &impl Path, value: u64) {
    let _ = host.store_write(path, &value.to_le_bytes(), 0);
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// An owned durable path from a string the caller knows is valid.
pub fn path(s: String) -> OwnedPath {
    OwnedPath::try_from(s).unwrap_or_else(|_| core::arch::wasm32::unreachable())
}
