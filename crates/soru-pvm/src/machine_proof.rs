//! One-step proofs of a WebAssembly machine tick, in the state tree.
//!
//! The machine lives in the tree as *regions*: the value stack, the call
//! frames, each memory, each instance's code and index spaces, the globals,
//! each table and segment are one sparse soru-tree value each, with
//! fixed-width elements (`soru_wasm::layout::FixedWidth`), so a state chunk
//! is a byte range of a region. Growing or shortening a region
//! (`memory.grow`, a call's locals, a `return`) is a value resize: O(depth),
//! new bytes read as zero, dropped bytes are gone, and equal machines give
//! equal trees.
//!
//! To prove a tick, the prover runs it on the full state recording the chunks
//! it touches, then replays the reads and writes of exactly those chunks on a
//! [`RecordingTree`]; the proof is the tree proof plus the list of chunks.
//! The verifier rebuilds the partial tree (anything altered or missing fails
//! there), loads a partial machine from the listed chunks, runs the same tick
//! under a hook that refuses any other chunk, writes back what it changed,
//! and obtains the after-state hash.
//!
//! This is the Eval-tick core of the PVM's proofs; the PVM step around it
//! (counters, inputs, host calls on durable storage) builds on it.

use std::collections::{BTreeMap, BTreeSet};

use soru_tree::{NodeHash, Proof, TreeAccess, TreeError, VerifierTree};
#[cfg(feature = "prover")]
use soru_tree::{RecordingTree, Tree};
use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::hooks::{self, Chunk};
#[cfg(feature = "prover")]
use soru_wasm::layout::ChunkRecorder;
use soru_wasm::layout::{all_chunks, apply_chunk, encode_chunk, load_chunks, LayoutError, PresenceCheck, FUNC_RECORD};
use soru_wasm::store::PAGE_SIZE;
use soru_wasm::types::TableType;
use soru_wasm::Store;

use crate::pvm::PvmError;

/// Tree directory of the machine.
pub const MACHINE_ROOT: &str = "wasm";

/// Why a machine proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineProofError {
    /// The tree proof is malformed or lacks a node the tick reads.
    #[error("tree proof: {0}")]
    Tree(String),
    /// A chunk's bytes do not decode.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The tick needs a chunk the proof does not list.
    #[error("the tick needs chunk {0:?}, which the proof lacks")]
    MissingChunk(Chunk),
    /// The proof's start state is not the claimed one.
    #[error("the proof starts from another state")]
    WrongStart,
}

impl From<TreeError> for MachineProofError {
    fn from(e: TreeError) -> Self {
        MachineProofError::Tree(e.to_string())
    }
}

/// Where a chunk lives.
enum Place {
    /// A whole small value.
    Whole(String),
    /// Bytes `[offset, offset + len)` of a region value.
    Range { path: String, offset: u64, len: u64 },
    /// A memory's size (region length in pages) and its maximum.
    MemorySize { path: String },
    /// A table's size (region length in elements) and its type.
    TableSize { path: String },
    /// Whether a segment exists, and its length in `unit`-byte elements.
    SegmentLen { path: String, unit: u64 },
    /// Record `index` of a list of variable-size records: the end offset of
    /// every record (8 bytes each, in `ends`) and their bytes (in `bytes`).
    Record { ends: String, bytes: String, index: u64 },
}

/// Function descriptors, [`FUNC_RECORD`] bytes each.
pub(crate) const FUNCS: &str = "wasm/funcs";
/// End offsets of the function types' bytes.
pub(crate) const TYPE_ENDS: &str = "wasm/type_ends";
/// The function types (postcard), end to end.
pub(crate) const TYPE_BYTES: &str = "wasm/types";
/// No function type's encoding comes near this (at most 256 value types).
const MAX_TYPE_RECORD: u64 = 4096;

fn root(rest: String) -> String {
    format!("{MACHINE_ROOT}/{rest}")
}

fn place(chunk: Chunk) -> Place {
    let range = |path: String, index: u64, per: u64, width: u64| Place::Range {
        path: root(path),
        offset: index * per * width,
        len: per * width,
    };
    match chunk {
        Chunk::Registers => Place::Whole(root("registers".into())),
        Chunk::Memory { mem, index } => range(format!("memory/{mem}"), index, hooks::MEMORY_CHUNK, 1),
        Chunk::MemorySize { mem } => Place::MemorySize {
            path: root(format!("memory/{mem}")),
        },
        Chunk::Stack { index } => range("stack".into(), index, hooks::STACK_CHUNK, 8),
        Chunk::Frames { index } => range("frames".into(), index, hooks::FRAME_CHUNK, 16),
        Chunk::Code { instance, index } => range(format!("instance/{instance}/code"), index, hooks::CODE_CHUNK, 20),
        Chunk::Func { func } => Place::Range {
            path: FUNCS.into(),
            offset: u64::from(func) * FUNC_RECORD as u64,
            len: FUNC_RECORD as u64,
        },
        Chunk::Instance { instance, index } => {
            let (space, group) = (index >> 40, index & ((1 << 40) - 1));
            range(format!("instance/{instance}/space/{space}"), group, 32, 4)
        }
        Chunk::Globals { index } => range("globals".into(), index, hooks::GLOBAL_CHUNK, 10),
        Chunk::Table { table, index } => range(format!("tables/{table}"), index, hooks::TABLE_CHUNK, 8),
        Chunk::TableSize { table } => Place::TableSize {
            path: root(format!("tables/{table}")),
        },
        Chunk::Elem { elem, index } if index == u64::MAX => Place::SegmentLen {
            path: root(format!("elems/{elem}")),
            unit: 8,
        },
        Chunk::Elem { elem, index } => range(format!("elems/{elem}"), index, hooks::TABLE_CHUNK, 8),
        Chunk::Data { data, index } if index == u64::MAX => Place::SegmentLen {
            path: root(format!("datas/{data}")),
            unit: 1,
        },
        Chunk::Data { data, index } => range(format!("datas/{data}"), index, hooks::DATA_CHUNK, 1),
        Chunk::Type { id } => Place::Record {
            ends: TYPE_ENDS.into(),
            bytes: TYPE_BYTES.into(),
            index: u64::from(id),
        },
    }
}

/// Resizes a region value, creating it if absent.
fn set_len(tree: &mut impl TreeAccess, path: &str, size: u64) -> Result<(), TreeError> {
    if !tree.create_value(path.as_bytes(), size)? {
        tree.resize_value(path.as_bytes(), size)?;
    }
    Ok(())
}

fn size_of(tree: &mut impl TreeAccess, path: &str) -> Result<Option<u64>, TreeError> {
    tree.value_size(path.as_bytes())
}

fn small_value(tree: &mut impl TreeAccess, path: &str) -> Result<Option<Vec<u8>>, TreeError> {
    match tree.read(path.as_bytes(), 0, usize::MAX) {
        Ok(v) => Ok(Some(v)),
        Err(TreeError::NoValue) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The bytes of `chunk` as `soru_wasm::layout` encodes it, read from the tree.
fn read_chunk(tree: &mut impl TreeAccess, chunk: Chunk) -> Result<Option<Vec<u8>>, TreeError> {
    Ok(match place(chunk) {
        Place::Whole(path) => small_value(tree, &path)?,
        Place::Range { path, offset, len } => {
            let size = size_of(tree, &path)?.unwrap_or(0);
            if offset >= size {
                Some(Vec::new())
            } else {
                Some(tree.read(path.as_bytes(), offset, len.min(size - offset) as usize)?)
            }
        }
        Place::MemorySize { path } => {
            let Some(size) = size_of(tree, &path)? else {
                return Ok(None);
            };
            let max: Option<u32> = small_value(tree, &format!("{path}/max"))?
                .and_then(|b| postcard::from_bytes(&b).ok())
                .unwrap_or(None);
            Some(crate::state::serialized(&((size / PAGE_SIZE as u64) as u32, max)))
        }
        Place::TableSize { path } => {
            let Some(size) = size_of(tree, &path)? else {
                return Ok(None);
            };
            let ty: Option<TableType> =
                small_value(tree, &format!("{path}/type"))?.and_then(|b| postcard::from_bytes(&b).ok());
            Some(crate::state::serialized(&(size / 8, ty)))
        }
        Place::SegmentLen { path, unit } => Some(crate::state::serialized(&size_of(tree, &path)?.map(|s| s / unit))),
        Place::Record { ends, bytes, index } => {
            if (index + 1) * 8 > size_of(tree, &ends)?.unwrap_or(0) {
                return Ok(None);
            }
            let inconsistent = TreeError::Malformed("a record's bounds are inconsistent");
            let word = |b: &[u8], at: usize| {
                b.get(at..at + 8)
                    .and_then(|w| w.try_into().ok())
                    .map(u64::from_le_bytes)
            };
            let bounds = if index == 0 {
                word(&tree.read(ends.as_bytes(), 0, 8)?, 0).map(|to| (0, to))
            } else {
                let both = tree.read(ends.as_bytes(), (index - 1) * 8, 16)?;
                word(&both, 0).zip(word(&both, 8))
            };
            let (from, to) = bounds.ok_or(inconsistent.clone())?;
            let size = size_of(tree, &bytes)?.unwrap_or(0);
            if from > to || to - from > MAX_TYPE_RECORD || to > size {
                return Err(inconsistent);
            }
            Some(tree.read(bytes.as_bytes(), from, (to - from) as usize)?)
        }
    })
}

fn size_memory(tree: &mut impl TreeAccess, path: &str, pages: u32, max: Option<u32>) -> Result<(), TreeError> {
    set_len(tree, path, u64::from(pages) * PAGE_SIZE as u64)?;
    tree.set_value(format!("{path}/max").as_bytes(), &crate::state::serialized(&max))
}

fn size_table(tree: &mut impl TreeAccess, path: &str, len: u64, ty: Option<&TableType>) -> Result<(), TreeError> {
    set_len(tree, path, len * 8)?;
    match ty {
        Some(ty) => tree.set_value(format!("{path}/type").as_bytes(), &crate::state::serialized(ty)),
        None => Ok(()),
    }
}

/// Lays out memory `mem`: `pages` zeroed pages, maximum `max`.
pub(crate) fn create_memory(
    tree: &mut impl TreeAccess,
    mem: u32,
    pages: u32,
    max: Option<u32>,
) -> Result<(), TreeError> {
    size_memory(tree, &root(format!("memory/{mem}")), pages, max)
}

/// Lays out table `table`: its minimum of null elements, type `ty`.
pub(crate) fn create_table(tree: &mut impl TreeAccess, table: u32, ty: &TableType) -> Result<(), TreeError> {
    size_table(
        tree,
        &root(format!("tables/{table}")),
        u64::from(ty.limits.min),
        Some(ty),
    )
}

/// Lays out a segment of `bytes` bytes (element segments: 8 per item),
/// whose contents are then written into [`region_value`].
pub(crate) fn create_segment(tree: &mut impl TreeAccess, segment: Chunk, bytes: u64) -> Result<(), TreeError> {
    match place(segment) {
        Place::SegmentLen { path, .. } => set_len(tree, &path, bytes),
        _ => Err(TreeError::Malformed("not a segment")),
    }
}

/// The tree value holding the region a ranged chunk is part of (memory,
/// stack, code, an index space, a table, a segment, the globals...).
pub(crate) fn region_value(chunk: Chunk) -> Result<String, TreeError> {
    match place(chunk) {
        Place::Range { path, .. } => Ok(path),
        _ => Err(TreeError::Malformed("not a ranged chunk")),
    }
}

/// Lays out a machine about to call store function `func`: its registers
/// and an empty value stack and call-frame stack.
pub(crate) fn write_entry(tree: &mut impl TreeAccess, func: u32) -> Result<(), TreeError> {
    tree.set_value(
        root("registers".into()).as_bytes(),
        &soru_wasm::layout::entry_registers(func),
    )?;
    set_len(tree, &root("stack".into()), 0)?;
    set_len(tree, &root("frames".into()), 0)
}

/// Writes `records` as a list of variable-size records (see [`Place::Record`]).
fn write_records(tree: &mut impl TreeAccess, ends: &str, bytes: &str, records: &[Vec<u8>]) -> Result<(), TreeError> {
    let mut all = Vec::new();
    let mut offsets = Vec::with_capacity(records.len() * 8);
    for record in records {
        all.extend_from_slice(record);
        offsets.extend_from_slice(&(all.len() as u64).to_le_bytes());
    }
    for (path, data) in [(ends, offsets), (bytes, all)] {
        tree.delete_value(path.as_bytes())?;
        if !data.is_empty() {
            tree.write(path.as_bytes(), 0, &data)?;
        }
    }
    Ok(())
}

/// Writes the after-tick content of `chunk` (from `store`/`machine`).
fn write_chunk(tree: &mut impl TreeAccess, chunk: Chunk, store: &Store, machine: &Machine) -> Result<(), TreeError> {
    match place(chunk) {
        Place::Whole(path) => tree.set_value(path.as_bytes(), &encode_chunk(store, machine, chunk))?,
        Place::Range { path, offset, .. } => {
            let bytes = encode_chunk(store, machine, chunk);
            if !bytes.is_empty() {
                tree.write(path.as_bytes(), offset, &bytes)?;
            }
        }
        Place::MemorySize { path } => {
            let (pages, max): (u32, Option<u32>) =
                postcard::from_bytes(&encode_chunk(store, machine, chunk)).expect("own encoding");
            size_memory(tree, &path, pages, max)?;
        }
        Place::TableSize { path } => {
            let (len, ty): (u64, Option<TableType>) =
                postcard::from_bytes(&encode_chunk(store, machine, chunk)).expect("own encoding");
            size_table(tree, &path, len, ty.as_ref())?;
        }
        Place::SegmentLen { path, unit } => {
            let len: Option<u64> = postcard::from_bytes(&encode_chunk(store, machine, chunk)).expect("own encoding");
            match len {
                Some(n) => set_len(tree, &path, n * unit)?,
                None => {
                    tree.delete_value(path.as_bytes())?;
                }
            }
        }
        // Function types never change once instantiated (no tick writes
        // them); `write_machine` writes the list whole.
        Place::Record { .. } => {}
    }
    Ok(())
}

/// After a tick: registers, then the stack and frame regions cut or grown to
/// their new lengths, then every written chunk.
fn write_after(
    tree: &mut impl TreeAccess,
    written: impl Iterator<Item = Chunk>,
    store: &Store,
    machine: &Machine,
) -> Result<(), TreeError> {
    write_chunk(tree, Chunk::Registers, store, machine)?;
    let (stack_len, frames_len) = machine.lengths();
    set_len(tree, &root("stack".into()), stack_len as u64 * 8)?;
    set_len(tree, &root("frames".into()), frames_len as u64 * 16)?;
    for chunk in written {
        if chunk != Chunk::Registers {
            write_chunk(tree, chunk, store, machine)?;
        }
    }
    Ok(())
}

/// Writes the whole machine into `tree` under [`MACHINE_ROOT`].
pub fn write_machine(tree: &mut impl TreeAccess, store: &Store, machine: &Machine) -> Result<(), TreeError> {
    tree.delete_subtree(MACHINE_ROOT.as_bytes())?;
    // Sizes first (they create the regions), then contents.
    let chunks = all_chunks(store, machine);
    let is_size = |c: &Chunk| {
        matches!(
            c,
            Chunk::MemorySize { .. }
                | Chunk::TableSize { .. }
                | Chunk::Elem { index: u64::MAX, .. }
                | Chunk::Data { index: u64::MAX, .. }
        )
    };
    write_after(tree, chunks.iter().copied().filter(is_size), store, machine)?;
    for chunk in chunks.into_iter().filter(|c| !is_size(c)) {
        write_chunk(tree, chunk, store, machine)?;
    }
    let types: Vec<Vec<u8>> = (0..store.types.len() as u32)
        .map(|id| encode_chunk(store, machine, Chunk::Type { id }))
        .collect();
    write_records(tree, TYPE_ENDS, TYPE_BYTES, &types)
}

/// A proof of one machine tick.
#[derive(Debug, Clone)]
pub struct MachineProof {
    /// The tree proof of the chunks' values.
    pub tree: Proof,
    /// The chunks the tick touches.
    pub chunks: Vec<Chunk>,
}

impl MachineProof {
    /// Size in bytes of the tree proof and the chunk list (postcard).
    pub fn size(&self) -> usize {
        self.tree.len() + postcard::to_stdvec(&self.chunks).map_or(0, |v| v.len())
    }
}

#[cfg(feature = "prover")]
/// Proves the next tick of `machine` on `store`, whose tree is `tree` (as
/// written by [`write_machine`]). Returns the proof and the after-state hash.
pub fn prove_tick(tree: Tree, store: &Store, machine: &Machine) -> Result<(MachineProof, NodeHash), TreeError> {
    let (mut after_store, mut after_machine) = (store.clone(), machine.clone());
    let mut recorder = ChunkRecorder::default();
    let mut fuel = 1;
    // A machine that cannot run changes nothing; its proof shows its registers.
    let _ = after_machine.run_with(&mut after_store, &mut fuel, &mut recorder);
    let mut chunks: Vec<Chunk> = recorder.touched().into_iter().collect();
    if !chunks.contains(&Chunk::Registers) {
        chunks.insert(0, Chunk::Registers);
    }
    let mut recording = RecordingTree::new(tree);
    for &chunk in &chunks {
        read_chunk(&mut recording, chunk)?;
    }
    write_after(
        &mut recording,
        recorder.written.iter().copied(),
        &after_store,
        &after_machine,
    )?;
    let after = recording.root_hash();
    let (proof, _) = recording.finish();
    Ok((MachineProof { tree: proof, chunks }, after))
}

/// Checks a proof against the claimed start state and returns the
/// after-state hash it proves.
pub fn verify_tick(proof: &MachineProof, start: NodeHash) -> Result<NodeHash, MachineProofError> {
    let mut tree = VerifierTree::new(proof.tree.as_bytes()).map_err(|e| MachineProofError::Tree(e.to_string()))?;
    if tree.before_hash() != start {
        return Err(MachineProofError::WrongStart);
    }
    let mut chunks = BTreeMap::new();
    for &chunk in &proof.chunks {
        if let Some(bytes) = read_chunk(&mut tree, chunk)? {
            chunks.insert(chunk, bytes);
        }
    }
    let (mut store, mut machine) = load_chunks(&chunks)?;
    let mut check = PresenceCheck {
        present: proof.chunks.iter().copied().collect(),
        ..Default::default()
    };
    let mut fuel = 1;
    if let Ok(Outcome::Missing(m)) = machine.run_with(&mut store, &mut fuel, &mut check) {
        return Err(MachineProofError::MissingChunk(m.0));
    }
    write_after(&mut tree, check.written.iter().copied(), &store, &machine)?;
    Ok(tree.after_hash())
}

/// The numeric names of the children of `dir` (`""`, the value, excluded).
fn numbered_children(tree: &mut impl TreeAccess, dir: &str) -> Result<Vec<u32>, TreeError> {
    let n = tree.count_children(dir.as_bytes())?;
    let mut out = Vec::new();
    for i in 0..n {
        if let Some(name) = tree.nth_child(dir.as_bytes(), i)? {
            if let Some(k) = std::str::from_utf8(&name).ok().and_then(|s| s.parse().ok()) {
                out.push(k);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Reads back a whole machine written by [`write_machine`].
pub fn read_machine(tree: &mut impl TreeAccess) -> Result<(Store, Machine), MachineProofError> {
    let mut chunks = BTreeMap::new();
    let mut put = |tree: &mut dyn TreeAccessDyn, chunk: Chunk| -> Result<(), MachineProofError> {
        if let Some(bytes) = tree.chunk(chunk)? {
            chunks.insert(chunk, bytes);
        }
        Ok(())
    };
    let groups = |size: u64, per: u64, width: u64| size.div_ceil(per * width);
    put(tree, Chunk::Registers)?;
    let size = |tree: &mut dyn TreeAccessDyn, path: &str| -> Result<u64, MachineProofError> {
        Ok(tree.size(&root(path.into()))?.unwrap_or(0))
    };
    for index in 0..groups(size(tree, "stack")?, hooks::STACK_CHUNK, 8) {
        put(tree, Chunk::Stack { index })?;
    }
    for index in 0..groups(size(tree, "frames")?, hooks::FRAME_CHUNK, 16) {
        put(tree, Chunk::Frames { index })?;
    }
    for instance in numbered_children(tree, &root("instance".into()))? {
        let code = size(tree, &format!("instance/{instance}/code"))?;
        for index in 0..groups(code, hooks::CODE_CHUNK, 20) {
            put(tree, Chunk::Code { instance, index })?;
        }
        for space in numbered_children(tree, &root(format!("instance/{instance}/space")))? {
            let n = size(tree, &format!("instance/{instance}/space/{space}"))?;
            for group in 0..groups(n, 32, 4) {
                put(
                    tree,
                    Chunk::Instance {
                        instance,
                        index: (u64::from(space) << 40) | group,
                    },
                )?;
            }
        }
    }
    for func in 0..tree.size(FUNCS)?.unwrap_or(0) / FUNC_RECORD as u64 {
        put(tree, Chunk::Func { func: func as u32 })?;
    }
    for id in 0..tree.size(TYPE_ENDS)?.unwrap_or(0) / 8 {
        put(tree, Chunk::Type { id: id as u32 })?;
    }
    for index in 0..groups(size(tree, "globals")?, hooks::GLOBAL_CHUNK, 10) {
        put(tree, Chunk::Globals { index })?;
    }
    let memories = numbered_children(tree, &root("memory".into()))?;
    for &mem in &memories {
        put(tree, Chunk::MemorySize { mem })?;
    }
    for table in numbered_children(tree, &root("tables".into()))? {
        put(tree, Chunk::TableSize { table })?;
        for index in 0..groups(size(tree, &format!("tables/{table}"))?, hooks::TABLE_CHUNK, 8) {
            put(tree, Chunk::Table { table, index })?;
        }
    }
    for elem in numbered_children(tree, &root("elems".into()))? {
        put(tree, Chunk::Elem { elem, index: u64::MAX })?;
        for index in 0..groups(size(tree, &format!("elems/{elem}"))?, hooks::TABLE_CHUNK, 8) {
            put(tree, Chunk::Elem { elem, index })?;
        }
    }
    for data in numbered_children(tree, &root("datas".into()))? {
        put(tree, Chunk::Data { data, index: u64::MAX })?;
        for index in 0..groups(size(tree, &format!("datas/{data}"))?, hooks::DATA_CHUNK, 1) {
            put(tree, Chunk::Data { data, index })?;
        }
    }
    let (mut store, machine) = load_chunks(&chunks)?;
    // A dropped segment has no value in the tree; the instances' index
    // spaces still name it, so the store keeps its (empty) slot.
    let slots = |spaces: fn(&soru_wasm::store::Instance) -> &Vec<u32>| {
        store
            .instances
            .iter()
            .flat_map(|i| spaces(i).iter())
            .map(|&a| a as usize + 1)
            .max()
            .unwrap_or(0)
    };
    let (elems, datas) = (slots(|i| &i.elems), slots(|i| &i.datas));
    if store.elems.len() < elems {
        store.elems.resize(elems, None);
    }
    if store.datas.len() < datas {
        store.datas.resize(datas, None);
    }
    // Memories are read whole rather than chunk by chunk.
    for mem in memories {
        let path = root(format!("memory/{mem}"));
        let n = tree.value_size(path.as_bytes())?.unwrap_or(0) as usize;
        if n > 0 {
            let bytes = tree.read(path.as_bytes(), 0, n)?;
            store.memories[mem as usize].data.copy_from_slice(&bytes);
        }
    }
    Ok((store, machine))
}

/// Object-safe access used by [`read_machine`]'s helpers.
trait TreeAccessDyn {
    fn chunk(&mut self, chunk: Chunk) -> Result<Option<Vec<u8>>, TreeError>;
    fn size(&mut self, path: &str) -> Result<Option<u64>, TreeError>;
}

impl<T: TreeAccess> TreeAccessDyn for T {
    fn chunk(&mut self, chunk: Chunk) -> Result<Option<Vec<u8>>, TreeError> {
        read_chunk(self, chunk)
    }

    fn size(&mut self, path: &str) -> Result<Option<u64>, TreeError> {
        size_of(self, path)
    }
}

/// A machine read from the state tree chunk by chunk, when a step first
/// needs each chunk: how the one-step proof of an Eval tick opens only what
/// the tick touches, whatever the size of memory, code, tables or stack.
/// The prover (on a recording tree) and the verifier (on the proof's tree)
/// run this same code, so they read the same chunks in the same order.
#[derive(Debug, Default)]
pub(crate) struct LazyMachine {
    /// Bytes of the chunks read, as the start state holds them.
    loaded: BTreeMap<Chunk, Vec<u8>>,
    /// Chunks read, those absent from the tree included (stand-ins).
    present: BTreeSet<Chunk>,
    /// Chunks the step changed.
    written: BTreeSet<Chunk>,
}

fn lazy_error(e: LayoutError) -> PvmError {
    PvmError::MalformedState(format!("wasm: {e}"))
}

impl LazyMachine {
    /// Opens the machine in `tree` with only its registers read.
    pub(crate) fn open(tree: &mut impl TreeAccess) -> Result<(Self, Store, Machine), PvmError> {
        let mut lazy = LazyMachine::default();
        lazy.fetch(tree, Chunk::Registers)?;
        let (store, machine) = load_chunks(&lazy.loaded).map_err(lazy_error)?;
        Ok((lazy, store, machine))
    }

    fn fetch(&mut self, tree: &mut impl TreeAccess, chunk: Chunk) -> Result<(), PvmError> {
        if let Some(bytes) = read_chunk(tree, chunk)? {
            self.loaded.insert(chunk, bytes);
        }
        self.present.insert(chunk);
        Ok(())
    }

    /// Runs one interpreter tick, the first thing a step does to the
    /// machine. A tick that needs a chunk not read yet stops, leaving the
    /// machine unusable; the chunk is then read and the tick rerun from the
    /// chunks as read (at most `MAX_CHUNKS_PER_TICK` reruns).
    pub(crate) fn tick(
        &mut self,
        tree: &mut impl TreeAccess,
        store: &mut Store,
        machine: &mut Machine,
    ) -> Result<Outcome, PvmError> {
        if !self.written.is_empty() {
            return Err(PvmError::MalformedState("a lazy tick after changes".into()));
        }
        loop {
            let (mut s, mut m) = load_chunks(&self.loaded).map_err(lazy_error)?;
            let mut check = PresenceCheck {
                present: self.present.clone(),
                written: BTreeSet::new(),
            };
            let mut fuel = 1;
            let outcome = m
                .run_with(&mut s, &mut fuel, &mut check)
                .map_err(|e| PvmError::MalformedState(format!("wasm: {e}")))?;
            match outcome {
                Outcome::Missing(missing) if !self.present.contains(&missing.0) => self.fetch(tree, missing.0)?,
                Outcome::Missing(missing) => {
                    return Err(PvmError::MalformedState(format!("chunk {:?} refused", missing.0)))
                }
                outcome => {
                    (*store, *machine) = (s, m);
                    self.written = check.written;
                    return Ok(outcome);
                }
            }
        }
    }

    /// Makes `chunk` part of the partial state, reading it if needed (a
    /// host function's memory access, a host result pushed on the stack).
    pub(crate) fn ensure(
        &mut self,
        tree: &mut impl TreeAccess,
        store: &mut Store,
        machine: &mut Machine,
        chunk: Chunk,
    ) -> Result<(), PvmError> {
        if self.present.contains(&chunk) {
            return Ok(());
        }
        self.fetch(tree, chunk)?;
        if let Some(bytes) = self.loaded.get(&chunk) {
            apply_chunk(store, machine, chunk, bytes).map_err(lazy_error)?;
        }
        Ok(())
    }

    /// Notes that the step changed `chunk` (which must be present).
    pub(crate) fn mark_written(&mut self, chunk: Chunk) {
        self.written.insert(chunk);
    }

    /// Writes what the step changed back into `tree`: the registers, the
    /// stack and frame lengths, and every changed chunk.
    pub(crate) fn write_back(
        &self,
        tree: &mut impl TreeAccess,
        store: &Store,
        machine: &Machine,
    ) -> Result<(), TreeError> {
        write_after(tree, self.written.iter().copied(), store, machine)
    }
}
