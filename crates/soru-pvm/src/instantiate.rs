//! Linking and instantiating a decoded kernel, in bounded slices on the
//! state tree.
//!
//! The decoder leaves the module in its regions under `pvm/decode/`
//! ([`StoredModule`]). Link checks one import per tick against the host
//! functions. Init then lays the machine out under `wasm/` exactly as
//! `crate::machine_proof` stores a running one, a bounded slice per tick:
//! the decoded code and the function types are *copied* (the decoder's
//! records have the machine's layout, so a copy is one tree update), then
//! function descriptors, index spaces, tables, globals and segments are
//! written a few records at a time, active segments go into their table or
//! memory a slice at a time, and the start function runs on the machine in
//! the tree like any code. Every slice reads and writes a bounded number of
//! records, so every Link and Init tick has a small proof whatever the
//! module's size, and the owned PVM runs this same code on its own tree.
//!
//! The one instance's index spaces are the identity (a kernel imports only
//! functions): function `i` is store function `i`, table `t` is store table
//! `t`, and type ids are the module's type indices — function types are
//! compared structurally, so no slice searches a type table.

use soru_tree::{TreeAccess, TreeError};
use soru_wasm::hooks::Chunk;
use soru_wasm::layout::{func_record, FixedWidth, FUNC_RECORD};
use soru_wasm::limits;
use soru_wasm::region::{DecodeStore, RegionId, StoredModule};
use soru_wasm::store::{FuncInst, GlobalInst};
use soru_wasm::types::{ConstExpr, ExportKind, ExternKind, FuncType, SegmentMode};
use soru_wasm::DecodeError;

use crate::decode_store::{region_path, with_tree_store, DECODE_ROOT};
use crate::durable::{self, tree_path};
use crate::host::{self, HostFn, VERSIONS};
use crate::machine_proof::{
    create_memory, create_segment, create_table, region_value, write_entry, MACHINE_ROOT, TYPE_BYTES, TYPE_ENDS,
};
use crate::pvm::PvmError;

/// Function descriptors written per tick.
const FUNCS_PER_TICK: u64 = 32;
/// Index-space entries written per tick (a multiple of the 32-entry chunk).
const SPACE_ENTRIES_PER_TICK: u64 = 512;
/// Globals initialised per tick.
const GLOBALS_PER_TICK: u64 = 32;
/// Element-segment items evaluated and written per tick.
const ELEM_ITEMS_PER_TICK: u64 = 64;
/// Data-segment bytes copied per tick.
const DATA_BYTES_PER_TICK: u64 = 2048;

/// The only instance.
const INSTANCE: u32 = 0;

/// Index spaces of an instance, in the order Init writes them (numbers as
/// in [`Chunk::Instance`]).
const SPACES: [u64; 7] = [0, 1, 2, 3, 5, 6, 7];

/// An instantiation in progress: the module in the decoder's regions and
/// how far Init is.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct InitState {
    pub(crate) module: StoredModule,
    pub(crate) stage: InitStage,
}

/// Where Init is. Each tick does one stage's slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum InitStage {
    /// Copy the code and function types, lay out the memory.
    Layout,
    /// Function descriptors from `next` on.
    Funcs { next: u64 },
    /// Entries of index space `SPACES[space]` from `next` on.
    Spaces { space: usize, next: u64 },
    /// Tables from `next` on, one per tick.
    Tables { next: u64 },
    /// Globals from `next` on.
    Globals { next: u64 },
    /// Element segment `segment`, `done` items in.
    Elems { segment: u64, done: u64 },
    /// Data segment `segment`, `done` bytes in.
    Datas { segment: u64, done: u64 },
    /// Run the start function, if any.
    Start,
    /// Check the `kernel_run` and `memory` exports.
    Exports,
    /// Keep the kernel as the fallback and enter `kernel_run` (function
    /// `kernel_run`, with memory `memory` exported).
    SaveFallback { kernel_run: u32, memory: u32 },
}

/// What an Init tick leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InitOutcome {
    /// Init goes on (the state's stage has moved).
    Continue,
    /// Instantiation failed (no code ran): the reason.
    Failed(String),
    /// The machine in the tree is about to run the start function.
    RunStart,
    /// Loading is done and the machine in the tree is about to run
    /// `kernel_run`; `memory` is the exported memory's address.
    Run { memory: u32 },
}

fn module_error(e: DecodeError) -> PvmError {
    PvmError::MalformedState(format!("decoded module: {e}"))
}

/// Reads records of the module in the tree.
fn read<T: TreeAccess, R>(
    tree: &mut T,
    f: impl FnOnce(&mut dyn DecodeStore) -> Result<R, DecodeError>,
) -> Result<R, PvmError> {
    with_tree_store(tree, f)?.map_err(module_error)
}

/// Links import `index` of `module`: the host function it names, or why it
/// cannot be linked.
pub(crate) fn link_import<T: TreeAccess>(
    tree: &mut T,
    module: &StoredModule,
    index: u64,
    version: u8,
) -> Result<Result<HostFn, String>, PvmError> {
    let import = read(tree, |s| module.imports.get(s, index))?;
    if import.module != host::HOST_MODULE {
        return Ok(Err(format!("unknown import module {:?}", import.module)));
    }
    let ExternKind::Func(t) = import.kind else {
        return Ok(Err(format!("import {:?} is not a function", import.name)));
    };
    let Some(f) = HostFn::lookup(&import.name, version) else {
        let version = VERSIONS.get(version as usize).copied().unwrap_or("?");
        return Ok(Err(format!("unknown host function {:?} for {version}", import.name)));
    };
    if read(tree, |s| module.types.get(s, u64::from(t)))? != f.signature() {
        return Ok(Err(format!(
            "host function {:?} imported with a wrong type",
            import.name
        )));
    }
    Ok(Ok(f))
}

/// The value of a constant expression of the instance being built (whose
/// index spaces are the identity).
fn eval_const<T: TreeAccess>(tree: &mut T, e: ConstExpr) -> Result<u64, PvmError> {
    e.value(Ok, |g| {
        let path = region_value(Chunk::Globals { index: 0 })?;
        let width = GlobalInst::WIDTH as u64;
        let bytes = tree.read(path.as_bytes(), u64::from(g) * width, GlobalInst::WIDTH)?;
        GlobalInst::get(&bytes)
            .map(|global| global.value)
            .ok_or_else(|| PvmError::MalformedState(format!("global {g} read before it is set")))
    })
}

/// Writes `bytes` at `offset` of the region holding `chunk`.
fn write_region<T: TreeAccess>(tree: &mut T, chunk: Chunk, offset: u64, bytes: &[u8]) -> Result<(), PvmError> {
    if !bytes.is_empty() {
        tree.write(region_value(chunk)?.as_bytes(), offset, bytes)?;
    }
    Ok(())
}

fn size_of<T: TreeAccess>(tree: &mut T, chunk: Chunk) -> Result<u64, PvmError> {
    Ok(tree.value_size(region_value(chunk)?.as_bytes())?.unwrap_or(0))
}

/// Copies a decoder region's value to `to` (one tree update whatever its size).
fn copy_region<T: TreeAccess>(tree: &mut T, region: RegionId, to: &str) -> Result<(), TreeError> {
    tree.delete_subtree(to.as_bytes())?;
    tree.copy_subtree(&region_path(region), to.as_bytes())?;
    Ok(())
}

/// Number of entries of index space `space` of the module.
fn space_len(module: &StoredModule, space: u64) -> u64 {
    match space {
        0 => module.func_types.len(),
        1 => module.tables.len(),
        2 => module.memories.len() as u64,
        3 => module.globals.len(),
        5 => module.types.len(),
        6 => module.elems.len(),
        _ => module.datas.len(),
    }
}

/// One Init tick.
pub(crate) fn init_step<T: TreeAccess>(tree: &mut T, init: &mut InitState) -> Result<InitOutcome, PvmError> {
    let module = &init.module;
    let next_stage = match init.stage {
        InitStage::Layout => {
            let code = region_value(Chunk::Code {
                instance: INSTANCE,
                index: 0,
            })?;
            copy_region(tree, module.code.id(), &code)?;
            let (ends, bytes) = module.types.ids();
            copy_region(tree, ends, TYPE_ENDS)?;
            copy_region(tree, bytes, TYPE_BYTES)?;
            // A kernel imports only functions: every memory is its own.
            for (mem, ty) in module.memories.iter().enumerate() {
                create_memory(tree, mem as u32, ty.limits.min, ty.limits.max)?;
            }
            InitStage::Funcs { next: 0 }
        }
        InitStage::Funcs { next } => {
            let count = module.func_types.len();
            let end = count.min(next + FUNCS_PER_TICK);
            let imported = u64::from(module.num_imported_funcs);
            let mut records = Vec::with_capacity(((end - next) as usize) * FUNC_RECORD);
            for f in next..end {
                let type_id = read(tree, |s| module.func_types.get(s, f))?;
                let record = if f < imported {
                    func_record(
                        &FuncInst::Host {
                            type_id,
                            host_id: f as u32,
                        },
                        None,
                    )
                } else {
                    let body = read(tree, |s| module.bodies.get(s, f - imported))?;
                    let inst = FuncInst::Wasm {
                        instance: INSTANCE,
                        body: (f - imported) as u32,
                        type_id,
                    };
                    func_record(&inst, Some(&body))
                };
                records.extend_from_slice(&record);
            }
            write_region(tree, Chunk::Func { func: 0 }, next * FUNC_RECORD as u64, &records)?;
            if end < count {
                InitStage::Funcs { next: end }
            } else {
                InitStage::Spaces { space: 0, next: 0 }
            }
        }
        InitStage::Spaces { mut space, next } => {
            let &number = SPACES
                .get(space)
                .ok_or_else(|| PvmError::MalformedState("no such index space".into()))?;
            let count = space_len(module, number);
            let end = count.min(next + SPACE_ENTRIES_PER_TICK);
            // Identity: entry i is address i.
            let entries: Vec<u8> = (next..end).flat_map(|i| (i as u32).to_le_bytes()).collect();
            let chunk = Chunk::Instance {
                instance: INSTANCE,
                index: number << 40,
            };
            write_region(tree, chunk, next * 4, &entries)?;
            if end < count {
                InitStage::Spaces { space, next: end }
            } else {
                space += 1;
                if space < SPACES.len() {
                    InitStage::Spaces { space, next: 0 }
                } else {
                    InitStage::Tables { next: 0 }
                }
            }
        }
        InitStage::Tables { next } => {
            if next < module.tables.len() {
                let ty = read(tree, |s| module.tables.get(s, next))?;
                if ty.limits.min > limits::MAX_TABLE_ELEMS {
                    return Ok(InitOutcome::Failed(format!(
                        "resource limit: table of {} elements",
                        ty.limits.min
                    )));
                }
                create_table(tree, next as u32, &ty)?;
                InitStage::Tables { next: next + 1 }
            } else {
                InitStage::Globals { next: 0 }
            }
        }
        InitStage::Globals { next } => {
            let count = module.globals.len();
            let end = count.min(next + GLOBALS_PER_TICK);
            let imported = u64::from(module.num_imported_globals);
            let mut records = Vec::new();
            for g in next..end {
                let ty = read(tree, |s| module.globals.get(s, g))?;
                let init = read(tree, |s| module.global_inits.get(s, g.wrapping_sub(imported)))?;
                GlobalInst {
                    ty,
                    value: eval_const(tree, init)?,
                }
                .put(&mut records);
            }
            let width = GlobalInst::WIDTH as u64;
            write_region(tree, Chunk::Globals { index: 0 }, next * width, &records)?;
            if end < count {
                InitStage::Globals { next: end }
            } else {
                InitStage::Elems { segment: 0, done: 0 }
            }
        }
        InitStage::Elems { segment, done } => {
            if segment >= module.elems.len() {
                InitStage::Datas { segment: 0, done: 0 }
            } else {
                let header = read(tree, |s| module.elems.get(s, segment))?;
                let elem = segment as u32;
                // Where the items go: the table (active), the segment
                // (passive), nowhere (declarative: dropped at once).
                let target = match header.mode {
                    SegmentMode::Active { index, offset } => {
                        let base = u64::from(eval_const(tree, offset)? as u32);
                        let table = Chunk::Table { table: index, index: 0 };
                        if base + header.len > size_of(tree, table)? / 8 {
                            return Ok(InitOutcome::Failed("element segment out of bounds".into()));
                        }
                        Some((table, base))
                    }
                    SegmentMode::Passive => {
                        if done == 0 {
                            create_segment(tree, Chunk::Elem { elem, index: u64::MAX }, header.len * 8)?;
                        }
                        Some((Chunk::Elem { elem, index: 0 }, 0))
                    }
                    SegmentMode::Declarative => None,
                };
                let end = header.len.min(done + ELEM_ITEMS_PER_TICK);
                if let Some((region, base)) = target {
                    let mut items = Vec::new();
                    for i in done..end {
                        let item = read(tree, |s| module.elem_items.get(s, header.start + i))?;
                        items.extend_from_slice(&eval_const(tree, item)?.to_le_bytes());
                    }
                    write_region(tree, region, (base + done) * 8, &items)?;
                }
                if end < header.len && target.is_some() {
                    InitStage::Elems { segment, done: end }
                } else {
                    InitStage::Elems {
                        segment: segment + 1,
                        done: 0,
                    }
                }
            }
        }
        InitStage::Datas { segment, done } => {
            if segment >= module.datas.len() {
                InitStage::Start
            } else {
                let header = read(tree, |s| module.datas.get(s, segment))?;
                let data = segment as u32;
                let (region, base) = match header.mode {
                    SegmentMode::Active { index, offset } => {
                        let base = u64::from(eval_const(tree, offset)? as u32);
                        let memory = Chunk::Memory { mem: index, index: 0 };
                        if base + header.len > size_of(tree, memory)? {
                            return Ok(InitOutcome::Failed("data segment out of bounds".into()));
                        }
                        (memory, base)
                    }
                    _ => {
                        if done == 0 {
                            create_segment(tree, Chunk::Data { data, index: u64::MAX }, header.len)?;
                        }
                        (Chunk::Data { data, index: 0 }, 0)
                    }
                };
                let end = header.len.min(done + DATA_BYTES_PER_TICK);
                let bytes = read(tree, |s| {
                    module.data_bytes.read_range(s, header.start + done, end - done)
                })?;
                write_region(tree, region, base + done, &bytes)?;
                if end < header.len {
                    InitStage::Datas { segment, done: end }
                } else {
                    InitStage::Datas {
                        segment: segment + 1,
                        done: 0,
                    }
                }
            }
        }
        InitStage::Start => match module.start {
            Some(start) => {
                write_entry(tree, start)?;
                init.stage = InitStage::Exports;
                return Ok(InitOutcome::RunStart);
            }
            None => InitStage::Exports,
        },
        InitStage::Exports => {
            let kernel_run = match read(tree, |s| module.export(s, "kernel_run"))? {
                Some(e) if e.kind == ExportKind::Func => {
                    let t = read(tree, |s| module.func_types.get(s, u64::from(e.index)))?;
                    let unit = read(tree, |s| module.types.get(s, u64::from(t)))? == FuncType::default();
                    unit.then_some(e.index)
                }
                _ => None,
            };
            let Some(kernel_run) = kernel_run else {
                return Ok(InitOutcome::Failed("no kernel_run export of type [] -> []".into()));
            };
            match read(tree, |s| module.export(s, "memory"))? {
                Some(e) if e.kind == ExportKind::Memory => InitStage::SaveFallback {
                    kernel_run,
                    memory: e.index,
                },
                _ => return Ok(InitOutcome::Failed("memory 0 is not exported as \"memory\"".into())),
            }
        }
        InitStage::SaveFallback { kernel_run, memory } => {
            let boot = tree_path(durable::KERNEL_BOOT.as_bytes());
            let fallback = tree_path(durable::FALLBACK_KERNEL.as_bytes());
            if tree.subtree_hash(&boot)? != tree.subtree_hash(&fallback)? {
                tree.copy_subtree(&boot, &fallback)?;
            }
            write_entry(tree, kernel_run)?;
            // The module is in the machine now.
            tree.delete_subtree(DECODE_ROOT)?;
            return Ok(InitOutcome::Run { memory });
        }
    };
    init.stage = next_stage;
    Ok(InitOutcome::Continue)
}

/// Removes what loading a kernel left in the tree (after a failure).
pub(crate) fn discard<T: TreeAccess>(tree: &mut T) -> Result<(), TreeError> {
    tree.delete_subtree(DECODE_ROOT)?;
    tree.delete_subtree(MACHINE_ROOT.as_bytes())?;
    Ok(())
}
