//! The runtime store (functions, tables, memories, globals, segments of every
//! instance) and instantiation.
//!
//! Values are untyped 64-bit slots: `i32` zero-extended, `i64` as is, floats
//! as their bits. References are `0` for null ([`NULL_REF`]), so zeroed
//! locals and table slots are null as the specification requires, and
//! `address + 1` otherwise ([`func_ref`]; external references likewise).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::limits;
use crate::types::*;

/// The slot value of a null reference.
pub const NULL_REF: u64 = 0;

/// The slot value of a reference to store function `addr`.
pub fn func_ref(addr: u32) -> u64 {
    u64::from(addr) + 1
}

/// The store function a non-null function reference designates.
pub fn func_of_ref(r: u64) -> u32 {
    (r - 1) as u32
}

impl ConstExpr {
    /// The slot value of the expression: `function` gives the store address
    /// of a function index, `global` the value of a global index.
    pub fn value<E>(
        self,
        function: impl FnOnce(u32) -> Result<u32, E>,
        global: impl FnOnce(u32) -> Result<u64, E>,
    ) -> Result<u64, E> {
        Ok(match self {
            ConstExpr::I32(v) => u64::from(v as u32),
            ConstExpr::I64(v) => v as u64,
            ConstExpr::F32(v) => u64::from(v),
            ConstExpr::F64(v) => v,
            ConstExpr::RefNull(_) => NULL_REF,
            ConstExpr::RefFunc(f) => func_ref(function(f)?),
            ConstExpr::GlobalGet(g) => global(g)?,
        })
    }
}

/// WebAssembly page size.
pub const PAGE_SIZE: usize = 65_536;

/// A function in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FuncInst {
    /// A function defined by an instance.
    Wasm {
        /// The instance.
        instance: u32,
        /// Index into the module's bodies.
        body: u32,
        /// Canonical type id.
        type_id: u32,
    },
    /// A function provided by the embedder.
    Host {
        /// Canonical type id.
        type_id: u32,
        /// The embedder's number for it.
        host_id: u32,
    },
}

impl FuncInst {
    /// Canonical type id.
    pub fn type_id(&self) -> u32 {
        match self {
            FuncInst::Wasm { type_id, .. } | FuncInst::Host { type_id, .. } => *type_id,
        }
    }
}

/// A table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableInst {
    /// Its type (the minimum tracks the current size).
    pub ty: TableType,
    /// Elements.
    pub elems: Vec<u64>,
}

/// A linear memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemInst {
    /// The bytes (length is a multiple of [`PAGE_SIZE`]).
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// Maximum size in pages.
    pub max: Option<u32>,
}

impl MemInst {
    /// Current size in pages.
    pub fn pages(&self) -> u32 {
        (self.data.len() / PAGE_SIZE) as u32
    }

    /// Grows by `delta` pages; returns the old size, or `None` if that would
    /// exceed the maximum. New pages read as zero.
    pub fn grow(&mut self, delta: u32) -> Option<u32> {
        let old = self.pages();
        let new = u64::from(old) + u64::from(delta);
        let max = u64::from(self.max.unwrap_or(limits::MAX_MEMORY_PAGES as u32)).min(limits::MAX_MEMORY_PAGES);
        if new > max {
            return None;
        }
        // `resize` grows the allocation geometrically, so a loop of small
        // grows costs linear time overall.
        self.data.resize(new as usize * PAGE_SIZE, 0);
        Some(old)
    }
}

/// A global.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GlobalInst {
    /// Its type.
    pub ty: GlobalType,
    /// Its value.
    pub value: u64,
}

/// An instance: the module and the store addresses of its index spaces.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    /// The module.
    pub module: Arc<Module>,
    /// Canonical type id of each module type.
    pub types: Vec<u32>,
    /// Function addresses.
    pub funcs: Vec<u32>,
    /// Table addresses.
    pub tables: Vec<u32>,
    /// Memory addresses.
    pub memories: Vec<u32>,
    /// Global addresses.
    pub globals: Vec<u32>,
    /// Element segment addresses.
    pub elems: Vec<u32>,
    /// Data segment addresses.
    pub datas: Vec<u32>,
}

/// Something an instance can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extern {
    /// A function address.
    Func(u32),
    /// A table address.
    Table(u32),
    /// A memory address.
    Memory(u32),
    /// A global address.
    Global(u32),
}

/// Why instantiation failed before any code ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The import could not be resolved or has the wrong type.
    #[error("unknown or incompatible import {module}.{name}: {reason}")]
    Import {
        /// Module name.
        module: String,
        /// Field name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A table or memory larger than soru allows.
    #[error("resource limit: {0}")]
    Resource(String),
}

/// All runtime objects.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Store {
    /// Canonical function types.
    pub types: Vec<FuncType>,
    /// Functions.
    pub funcs: Vec<FuncInst>,
    /// Tables.
    pub tables: Vec<TableInst>,
    /// Memories.
    pub memories: Vec<MemInst>,
    /// Globals.
    pub globals: Vec<GlobalInst>,
    /// Element segments (`None` once dropped).
    pub elems: Vec<Option<Vec<u64>>>,
    /// Data segments (`None` once dropped).
    pub datas: Vec<Option<Arc<[u8]>>>,
    /// Instances.
    pub instances: Vec<Instance>,
}

impl Store {
    /// The canonical id of `ty`, interning it.
    pub fn intern_type(&mut self, ty: &FuncType) -> u32 {
        if let Some(i) = self.types.iter().position(|t| t == ty) {
            return i as u32;
        }
        self.types.push(ty.clone());
        (self.types.len() - 1) as u32
    }

    /// Adds a host function of type `ty`.
    pub fn add_host_func(&mut self, ty: &FuncType, host_id: u32) -> u32 {
        let type_id = self.intern_type(ty);
        self.funcs.push(FuncInst::Host { type_id, host_id });
        (self.funcs.len() - 1) as u32
    }

    /// Adds a table filled with `init`.
    pub fn add_table(&mut self, ty: TableType, init: u64) -> Result<u32, LinkError> {
        if ty.limits.min > limits::MAX_TABLE_ELEMS {
            return Err(LinkError::Resource(format!("table of {} elements", ty.limits.min)));
        }
        self.tables.push(TableInst {
            ty,
            elems: vec![init; ty.limits.min as usize],
        });
        Ok((self.tables.len() - 1) as u32)
    }

    /// Adds a zeroed memory.
    pub fn add_memory(&mut self, ty: MemoryType) -> u32 {
        self.memories.push(MemInst {
            data: vec![0; ty.limits.min as usize * PAGE_SIZE],
            max: ty.limits.max,
        });
        (self.memories.len() - 1) as u32
    }

    /// Adds a global.
    pub fn add_global(&mut self, ty: GlobalType, value: u64) -> u32 {
        self.globals.push(GlobalInst { ty, value });
        (self.globals.len() - 1) as u32
    }

    /// The type of function `addr`.
    pub fn func_type(&self, addr: u32) -> &FuncType {
        &self.types[self.funcs[addr as usize].type_id() as usize]
    }

    /// The address of export `name` of instance `inst`.
    pub fn export(&self, inst: u32, name: &str) -> Option<Extern> {
        let instance = self.instances.get(inst as usize)?;
        let e = instance.module.export(name)?;
        let i = e.index as usize;
        Some(match e.kind {
            ExportKind::Func => Extern::Func(*instance.funcs.get(i)?),
            ExportKind::Table => Extern::Table(*instance.tables.get(i)?),
            ExportKind::Memory => Extern::Memory(*instance.memories.get(i)?),
            ExportKind::Global => Extern::Global(*instance.globals.get(i)?),
        })
    }

    fn eval_const(&self, inst: &Instance, e: &ConstExpr) -> u64 {
        let value = e.value::<std::convert::Infallible>(
            |f| Ok(inst.funcs[f as usize]),
            |g| Ok(self.globals[inst.globals[g as usize] as usize].value),
        );
        match value {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Links `module` against `imports` (in import order) and allocates its
    /// functions, tables, memories, globals and segments. Active segments
    /// are not applied yet: see [`crate::exec::Machine::initialize`].
    pub fn allocate(&mut self, module: Arc<Module>, imports: &[Extern]) -> Result<u32, LinkError> {
        if imports.len() != module.imports.len() {
            return Err(LinkError::Import {
                module: String::new(),
                name: String::new(),
                reason: format!("{} imports given, {} expected", imports.len(), module.imports.len()),
            });
        }
        let mut inst = Instance {
            module: module.clone(),
            types: module.types.iter().map(|t| self.intern_type(t)).collect(),
            funcs: vec![],
            tables: vec![],
            memories: vec![],
            globals: vec![],
            elems: vec![],
            datas: vec![],
        };
        for (import, ext) in module.imports.iter().zip(imports) {
            let bad = |reason: &str| LinkError::Import {
                module: import.module.clone(),
                name: import.name.clone(),
                reason: reason.to_string(),
            };
            match (&import.kind, *ext) {
                (ExternKind::Func(t), Extern::Func(addr)) => {
                    let want = inst.types[*t as usize];
                    if self.funcs.get(addr as usize).map(FuncInst::type_id) != Some(want) {
                        return Err(bad("incompatible import type"));
                    }
                    inst.funcs.push(addr);
                }
                (ExternKind::Table(t), Extern::Table(addr)) => {
                    let table = self.tables.get(addr as usize).ok_or_else(|| bad("unknown table"))?;
                    if table.ty.elem != t.elem || !limits_match(table.elems.len() as u64, table.ty.limits.max, t.limits)
                    {
                        return Err(bad("incompatible import type"));
                    }
                    inst.tables.push(addr);
                }
                (ExternKind::Memory(t), Extern::Memory(addr)) => {
                    let mem = self.memories.get(addr as usize).ok_or_else(|| bad("unknown memory"))?;
                    if !limits_match(u64::from(mem.pages()), mem.max, t.limits) {
                        return Err(bad("incompatible import type"));
                    }
                    inst.memories.push(addr);
                }
                (ExternKind::Global(t), Extern::Global(addr)) => {
                    let g = self.globals.get(addr as usize).ok_or_else(|| bad("unknown global"))?;
                    if g.ty != *t {
                        return Err(bad("incompatible import type"));
                    }
                    inst.globals.push(addr);
                }
                _ => return Err(bad("incompatible import type")),
            }
        }
        let inst_addr = self.instances.len() as u32;
        for (i, body) in module.bodies.iter().enumerate() {
            self.funcs.push(FuncInst::Wasm {
                instance: inst_addr,
                body: i as u32,
                type_id: inst.types[body.type_index as usize],
            });
            inst.funcs.push((self.funcs.len() - 1) as u32);
        }
        for t in &module.tables[module.num_imported_tables as usize..] {
            inst.tables.push(self.add_table(*t, NULL_REF)?);
        }
        for m in &module.memories[module.num_imported_memories as usize..] {
            inst.memories.push(self.add_memory(*m));
        }
        for (i, init) in module.global_inits.iter().enumerate() {
            let ty = module.globals[module.num_imported_globals as usize + i];
            let value = self.eval_const(&inst, init);
            inst.globals.push(self.add_global(ty, value));
        }
        for seg in &module.elems {
            let items = seg.items.iter().map(|e| self.eval_const(&inst, e)).collect();
            self.elems.push(Some(items));
            inst.elems.push((self.elems.len() - 1) as u32);
        }
        for seg in &module.datas {
            self.datas.push(Some(Arc::from(seg.bytes.as_slice())));
            inst.datas.push((self.datas.len() - 1) as u32);
        }
        self.instances.push(inst);
        Ok(inst_addr)
    }

    /// The offset of an active segment.
    pub fn segment_offset(&self, inst: u32, e: &ConstExpr) -> u32 {
        self.eval_const(&self.instances[inst as usize], e) as u32
    }
}

fn limits_match(actual_min: u64, actual_max: Option<u32>, want: Limits) -> bool {
    if actual_min < u64::from(want.min) {
        return false;
    }
    match (want.max, actual_max) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(w), Some(a)) => a <= w,
    }
}
