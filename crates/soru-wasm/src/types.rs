//! WebAssembly types and the decoded module.

use serde::{Deserialize, Serialize};

use crate::code::Op;

/// A value type. SIMD (`v128`) is not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float (conformance mode only).
    F32,
    /// 64-bit float (conformance mode only).
    F64,
    /// Function reference.
    FuncRef,
    /// External reference.
    ExternRef,
}

impl ValType {
    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }

    /// Whether this is a float type.
    pub fn is_float(self) -> bool {
        matches!(self, ValType::F32 | ValType::F64)
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

/// Size limits of a table or memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Initial size.
    pub min: u32,
    /// Maximum size, if any.
    pub max: Option<u32>,
}

/// A table type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableType {
    /// Element type (`funcref` or `externref`).
    pub elem: ValType,
    /// Size limits, in elements.
    pub limits: Limits,
}

/// A memory type (sizes in 64 KiB pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryType {
    /// Size limits, in pages.
    pub limits: Limits,
}

/// A global type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalType {
    /// Value type.
    pub ty: ValType,
    /// Whether it can be set.
    pub mutable: bool,
}

/// What an import or export names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternKind {
    /// A function of the given type index.
    Func(u32),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

/// An import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What is imported.
    pub kind: ExternKind,
}

/// The index space an export refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportKind {
    /// Function index.
    Func,
    /// Table index.
    Table,
    /// Memory index.
    Memory,
    /// Global index.
    Global,
}

/// An export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// Index space.
    pub kind: ExportKind,
    /// Index.
    pub index: u32,
}

/// A constant expression (WebAssembly 2.0: one instruction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstExpr {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const` (bits).
    F32(u32),
    /// `f64.const` (bits).
    F64(u64),
    /// `ref.null t`.
    RefNull(ValType),
    /// `ref.func f`.
    RefFunc(u32),
    /// `global.get g` of an imported immutable global.
    GlobalGet(u32),
}

/// How a segment is used at instantiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegmentMode {
    /// Kept for `memory.init` / `table.init`.
    Passive,
    /// Copied into table/memory `index` at `offset`, then dropped.
    Active {
        /// Table or memory index.
        index: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Element segment only declaring `ref.func` targets; dropped at once.
    Declarative,
}

/// An element segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElemSegment {
    /// Use at instantiation.
    pub mode: SegmentMode,
    /// Element type.
    pub ty: ValType,
    /// The elements.
    pub items: Vec<ConstExpr>,
}

/// A data segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSegment {
    /// Use at instantiation.
    pub mode: SegmentMode,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A defined function's decoded body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuncBody {
    /// Type index.
    pub type_index: u32,
    /// Index of the first instruction in [`Module::code`].
    pub start: u32,
    /// Number of declared locals (after the parameters).
    pub num_locals: u32,
    /// Largest operand-stack height reached (values above the locals).
    pub max_height: u32,
}

/// A decoded and validated module.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Function types.
    pub types: Vec<FuncType>,
    /// Imports, in order.
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub func_types: Vec<u32>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Every table, imported ones first.
    pub tables: Vec<TableType>,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Every memory, imported ones first.
    pub memories: Vec<MemoryType>,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Every global, imported ones first.
    pub globals: Vec<GlobalType>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Initialisers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// Exports.
    pub exports: Vec<Export>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Bodies of the defined functions.
    pub bodies: Vec<FuncBody>,
    /// The decoded code of all bodies.
    pub code: Vec<Op>,
}

impl Module {
    /// The type of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.func_types[index as usize] as usize]
    }

    /// The export named `name`.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }
}
