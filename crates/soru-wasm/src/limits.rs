//! soru's implementation limits, identical for the PVM and the fast engine
//! (DESIGN.md §4 rule 6). Modules beyond them are rejected at decode with
//! [`crate::decode::DecodeError::Limit`]; stacks beyond them exhaust at run
//! time.

/// Largest memory, in 64 KiB pages (the wasm32 maximum).
pub const MAX_MEMORY_PAGES: u64 = 65_536;
/// Function types.
pub const MAX_TYPES: usize = 100_000;
/// Imports. The PVM keeps the host function of every import in the header
/// every Eval proof carries, so their number bounds that header.
pub const MAX_IMPORTS: usize = 1_024;
/// Functions, imported ones included.
pub const MAX_FUNCTIONS: usize = 1_000_000;
/// Parameters of a function type (bounds the values one call moves).
pub const MAX_PARAMS: usize = 128;
/// Results of a function type (bounds the values one return moves).
pub const MAX_RESULTS: usize = 128;
/// Bytes of an import, export or custom-section name.
pub const MAX_NAME_BYTES: usize = 4_096;
/// Parameters plus declared locals of one function.
pub const MAX_LOCALS: usize = 65_536;
/// Bytes of one function body.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Decoded instructions of a whole module.
pub const MAX_CODE_OPS: usize = 16 * 1024 * 1024;
/// Entries of one `br_table`.
pub const MAX_BR_TABLE: usize = 1_000_000;
/// Tables.
pub const MAX_TABLES: usize = 100_000;
/// Globals.
pub const MAX_GLOBALS: usize = 1_000_000;
/// Element or data segments.
pub const MAX_SEGMENTS: usize = 100_000;
/// Items of one element segment.
pub const MAX_SEGMENT_ITEMS: usize = 10_000_000;
/// Bytes of one data segment.
pub const MAX_DATA_SEGMENT_BYTES: usize = 64 * 1024 * 1024;
/// Elements of a table at run time (`table.grow` beyond fails with −1).
pub const MAX_TABLE_ELEMS: u32 = 10_000_000;
/// Call frames on the stack.
pub const MAX_FRAMES: usize = 60_000;
/// Value slots (parameters, locals and operands) across all frames.
pub const MAX_STACK_SLOTS: usize = 4 * 1024 * 1024;
