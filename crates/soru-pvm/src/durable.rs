//! Durable storage as the kernel sees it: key syntax, the `/readonly` rule,
//! the mapping of keys to tree paths (`/a/b` ↦ `durable/a/b`), and the
//! well-known keys.

use soru_tree::{validate_durable_key, DurableKeyError};

use crate::host::code;

/// Tree directory holding durable storage.
pub const DURABLE_ROOT: &[u8] = b"durable";

/// The kernel (writable: writing it is how upgrades work).
pub const KERNEL_BOOT: &str = "/kernel/boot.wasm";
/// The reboot request flag.
pub const REBOOT_FLAG: &str = "/kernel/env/reboot";
/// The fallback kernel.
pub const FALLBACK_KERNEL: &str = "/readonly/kernel/boot.wasm";
/// Set when the previous `kernel_run` trapped.
pub const STUCK_FLAG: &str = "/readonly/kernel/env/stuck";
/// Set when an upgrade failed and the fallback kernel was restored.
pub const UPGRADE_ERROR_FLAG: &str = "/readonly/kernel/env/upgrade_error";
/// Set when the reboot limit forced a yield.
pub const TOO_MANY_REBOOT_FLAG: &str = "/readonly/kernel/env/too_many_reboot";
/// Reboots left in this level (int32 little-endian).
pub const REBOOT_COUNTER: &str = "/readonly/kernel/env/reboot_counter";
/// The PVM version string.
pub const WASM_VERSION: &str = "/readonly/wasm_version";

/// Largest value (`< 2³¹`).
pub const MAX_VALUE_SIZE: u64 = (1 << 31) - 1;
/// Largest read or write per host call.
pub const MAX_TRANSFER: u32 = 2048;
/// Longest key as passed by the kernel before syntax checks (Octez checks the
/// length first: over this, −1).
pub const MAX_KEY_LENGTH: u32 = soru_tree::MAX_DURABLE_KEY_LEN as u32;

/// The tree path of durable key `key` (already validated).
pub fn tree_path(key: &[u8]) -> Vec<u8> {
    let mut path = DURABLE_ROOT.to_vec();
    path.extend_from_slice(key);
    path
}

/// Checks a key's syntax, returning the host error code on failure.
pub fn check_key(key: &[u8]) -> Result<(), i32> {
    validate_durable_key(key).map_err(|e| match e {
        DurableKeyError::TooLong { .. } => code::KEY_TOO_LARGE,
        DurableKeyError::Invalid(_) => code::INVALID_KEY,
    })
}

/// Whether the kernel may not write at `key` (the root and `/readonly…`).
pub fn is_read_only(key: &[u8]) -> bool {
    key.is_empty() || key == b"/readonly" || key.starts_with(b"/readonly/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(tree_path(b"/a/b"), b"durable/a/b");
        assert_eq!(tree_path(b""), b"durable");
        assert_eq!(check_key(b"/a/b"), Ok(()));
        assert_eq!(check_key(b"/a//b"), Err(code::INVALID_KEY));
        assert_eq!(check_key(&[b'a'; 241]), Err(code::KEY_TOO_LARGE));
        assert!(is_read_only(b"/readonly/x"));
        assert!(is_read_only(b""));
        assert!(!is_read_only(b"/readonlyx"));
    }
}
