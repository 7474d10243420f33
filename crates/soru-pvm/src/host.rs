//! The kernel ABI: the host functions of module `smart_rollup_core`, their
//! signatures, the PVM version that introduced each, the error codes and the
//! tick costs (PROTOCOL-FACTS §7.3–7.5).

use soru_wasm::types::{FuncType, ValType};

/// Import module name of every host function.
pub const HOST_MODULE: &str = "smart_rollup_core";

/// Host-function error codes (negative return values).
pub mod code {
    /// Key longer than 240 bytes.
    pub const KEY_TOO_LARGE: i32 = -1;
    /// Key of invalid syntax.
    pub const INVALID_KEY: i32 = -2;
    /// No value at the key.
    pub const NOT_A_VALUE: i32 = -3;
    /// Offset beyond the value.
    pub const INVALID_ACCESS: i32 = -4;
    /// Value would exceed the size limit.
    pub const VALUE_SIZE_EXCEEDED: i32 = -5;
    /// Memory access out of bounds.
    pub const MEMORY_INVALID_ACCESS: i32 = -6;
    /// Input or output too large.
    pub const INPUT_OUTPUT_TOO_LARGE: i32 = -7;
    /// Generic error.
    pub const GENERIC: i32 = -8;
    /// Read-only key.
    pub const READ_ONLY: i32 = -9;
    /// Not a node.
    pub const NOT_A_NODE: i32 = -10;
    /// Outbox full for this level.
    pub const FULL_OUTBOX: i32 = -11;
    /// Child index out of range.
    pub const INVALID_SUBKEY_INDEX: i32 = -12;
    /// The value already exists.
    pub const VALUE_ALREADY_EXISTS: i32 = -13;
    /// NDS host functions are not enabled.
    pub const NDS_NOT_ENABLED: i32 = -16;
}

/// Per-byte and per-call tick costs.
pub mod cost {
    /// Ticks per byte read.
    pub const READ_PER_BYTE: u128 = 42;
    /// Ticks per byte written.
    pub const WRITE_PER_BYTE: u128 = 42;
    /// Fixed ticks of a durable-storage call.
    pub const BASE: u128 = 1;
}

/// A host function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HostFn {
    /// `read_input(info_ptr, dst, max) -> i32`
    ReadInput,
    /// `write_output(src, len) -> i32`
    WriteOutput,
    /// `write_debug(src, len)`
    WriteDebug,
    /// `store_has(key, len) -> i32`
    StoreHas,
    /// `store_list_size(key, len) -> i64`
    StoreListSize,
    /// `store_get_nth_key(key, len, index: i64, dst, max) -> i32`
    StoreGetNthKey,
    /// `store_delete(key, len) -> i32`
    StoreDelete,
    /// `store_delete_value(key, len) -> i32`
    StoreDeleteValue,
    /// `store_copy(from, from_len, to, to_len) -> i32`
    StoreCopy,
    /// `store_move(from, from_len, to, to_len) -> i32`
    StoreMove,
    /// `store_value_size(key, len) -> i32`
    StoreValueSize,
    /// `store_read(key, len, offset, dst, max) -> i32`
    StoreRead,
    /// `store_write(key, len, offset, src, len) -> i32`
    StoreWrite,
    /// `store_create(key, len, size) -> i32`
    StoreCreate,
    /// `store_exists(key, len) -> i32`
    StoreExists,
    /// `__internal_store_get_hash(key, len, dst, max) -> i32`
    StoreGetHash,
    /// `reveal_preimage(hash, hash_len, dst, max) -> i32`
    RevealPreimage,
    /// `reveal_metadata(dst, max) -> i32`
    RevealMetadata,
    /// `reveal(req, req_len, dst, max) -> i32`
    Reveal,
    /// One of the experimental NDS functions (index in the NDS table):
    /// links, returns −16.
    Nds(u8),
}

use ValType::{I32, I64};

/// The NDS functions of version 2.0.0-r6 with their signatures.
const NDS: [(&str, &[ValType], &[ValType]); 11] = [
    ("nds_has", &[I64, I32, I32], &[I32]),
    ("nds_delete", &[I64, I32, I32], &[I32]),
    ("nds_value_size", &[I64, I32, I32], &[I64]),
    ("nds_create", &[I64, I32, I32, I64], &[I32]),
    ("nds_read", &[I64, I32, I32, I64, I32, I32], &[I32]),
    ("nds_write", &[I64, I32, I32, I64, I32, I32], &[I32]),
    ("nds_get_hash", &[I64, I32, I32, I32, I32], &[I32]),
    ("nds_list_size", &[I64, I32, I32], &[I64]),
    ("nds_get_nth_key", &[I64, I32, I32, I64, I32, I32], &[I32]),
    ("nds_commit", &[I64], &[I32]),
    ("nds_clone", &[I64, I64], &[I32]),
];

impl HostFn {
    /// The function imported as `name`, if `version` (the PVM version index,
    /// 0 for `2.0.0` … 6 for `2.0.0-r6`) has it.
    pub fn lookup(name: &str, version: u8) -> Option<Self> {
        let (f, since) = match name {
            "read_input" => (HostFn::ReadInput, 0),
            "write_output" => (HostFn::WriteOutput, 0),
            "write_debug" => (HostFn::WriteDebug, 0),
            "store_has" => (HostFn::StoreHas, 0),
            "store_list_size" => (HostFn::StoreListSize, 0),
            "store_get_nth_key" => (HostFn::StoreGetNthKey, 0),
            "store_delete" => (HostFn::StoreDelete, 0),
            "store_delete_value" => (HostFn::StoreDeleteValue, 1),
            "store_copy" => (HostFn::StoreCopy, 0),
            "store_move" => (HostFn::StoreMove, 0),
            "store_value_size" => (HostFn::StoreValueSize, 0),
            "store_read" => (HostFn::StoreRead, 0),
            "store_write" => (HostFn::StoreWrite, 0),
            "store_create" => (HostFn::StoreCreate, 1),
            "store_exists" => (HostFn::StoreExists, 2),
            "__internal_store_get_hash" => (HostFn::StoreGetHash, 1),
            "reveal_preimage" => (HostFn::RevealPreimage, 0),
            "reveal_metadata" => (HostFn::RevealMetadata, 0),
            "reveal" => (HostFn::Reveal, 3),
            other => {
                let i = NDS.iter().position(|(n, _, _)| *n == other)?;
                (HostFn::Nds(i as u8), 6)
            }
        };
        (version >= since).then_some(f)
    }

    /// The name it is imported as.
    pub fn name(self) -> &'static str {
        match self {
            HostFn::ReadInput => "read_input",
            HostFn::WriteOutput => "write_output",
            HostFn::WriteDebug => "write_debug",
            HostFn::StoreHas => "store_has",
            HostFn::StoreListSize => "store_list_size",
            HostFn::StoreGetNthKey => "store_get_nth_key",
            HostFn::StoreDelete => "store_delete",
            HostFn::StoreDeleteValue => "store_delete_value",
            HostFn::StoreCopy => "store_copy",
            HostFn::StoreMove => "store_move",
            HostFn::StoreValueSize => "store_value_size",
            HostFn::StoreRead => "store_read",
            HostFn::StoreWrite => "store_write",
            HostFn::StoreCreate => "store_create",
            HostFn::StoreExists => "store_exists",
            HostFn::StoreGetHash => "__internal_store_get_hash",
            HostFn::RevealPreimage => "reveal_preimage",
            HostFn::RevealMetadata => "reveal_metadata",
            HostFn::Reveal => "reveal",
            HostFn::Nds(i) => NDS.get(i as usize).map_or("nds_?", |(n, _, _)| n),
        }
    }

    /// The function's WebAssembly type.
    pub fn signature(self) -> FuncType {
        let (params, results): (&[ValType], &[ValType]) = match self {
            HostFn::ReadInput => (&[I32, I32, I32], &[I32]),
            HostFn::WriteOutput => (&[I32, I32], &[I32]),
            HostFn::WriteDebug => (&[I32, I32], &[]),
            HostFn::StoreHas
            | HostFn::StoreDelete
            | HostFn::StoreDeleteValue
            | HostFn::StoreValueSize
            | HostFn::StoreExists => (&[I32, I32], &[I32]),
            HostFn::StoreListSize => (&[I32, I32], &[I64]),
            HostFn::StoreGetNthKey => (&[I32, I32, I64, I32, I32], &[I32]),
            HostFn::StoreCopy | HostFn::StoreMove => (&[I32, I32, I32, I32], &[I32]),
            HostFn::StoreRead | HostFn::StoreWrite => (&[I32, I32, I32, I32, I32], &[I32]),
            HostFn::StoreCreate => (&[I32, I32, I32], &[I32]),
            HostFn::StoreGetHash => (&[I32, I32, I32, I32], &[I32]),
            HostFn::RevealPreimage | HostFn::Reveal => (&[I32, I32, I32, I32], &[I32]),
            HostFn::RevealMetadata => (&[I32, I32], &[I32]),
            HostFn::Nds(i) => {
                let (_, p, r) = NDS[usize::from(i)];
                (p, r)
            }
        };
        FuncType {
            params: params.to_vec(),
            results: results.to_vec(),
        }
    }
}

/// PVM version strings, by version index.
pub const VERSIONS: [&str; 7] = [
    "2.0.0", "2.0.0-r1", "2.0.0-r2", "2.0.0-r3", "2.0.0-r4", "2.0.0-r5", "2.0.0-r6",
];

/// The version a `Protocol_migration` to protocol `name` selects, if any
/// (PROTOCOL-FACTS §7.1).
pub fn version_for_protocol(name: &str) -> Option<u8> {
    Some(match name {
        "nairobi_017" => 1,
        "oxford_018" => 2,
        "paris_019" | "paris_020" => 4,
        "quebec_021" | "r022_022" | "s023_023" | "t024_024" => 5,
        "u025_025" | "alpha_current" => 6,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_gate_functions() {
        assert_eq!(HostFn::lookup("store_create", 0), None);
        assert_eq!(HostFn::lookup("store_create", 1), Some(HostFn::StoreCreate));
        assert_eq!(HostFn::lookup("reveal", 2), None);
        assert_eq!(HostFn::lookup("reveal", 6), Some(HostFn::Reveal));
        assert_eq!(HostFn::lookup("nds_commit", 5), None);
        assert!(matches!(HostFn::lookup("nds_commit", 6), Some(HostFn::Nds(_))));
        assert_eq!(HostFn::lookup("nope", 6), None);
        assert_eq!(version_for_protocol("t024_024"), Some(5));
        assert_eq!(VERSIONS[6], "2.0.0-r6");
    }
}
