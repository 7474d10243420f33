//! The machine as chunks: every [`Chunk`] of a store and machine encodes to
//! bytes, and a *partial* state can be rebuilt from any set of chunks. This
//! is how a tick is proved: the prover records the chunks the tick touches
//! ([`ChunkRecorder`]); the verifier rebuilds a partial state from exactly
//! those chunks ([`load_chunks`]), runs the same tick under a
//! [`PresenceCheck`] hook that refuses anything outside the set, and
//! re-encodes the chunks it wrote. Structures absent from a partial state
//! are stand-ins that the hook never lets the interpreter read.
//!
//! Encodings are postcard (deterministic) over plain data.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::code::Op;
use crate::exec::{Frame, Machine};
use crate::hooks::{self, Chunk, Hooks, Missing};
use crate::region::{byte_valtype, valtype_byte};
use crate::store::{FuncInst, GlobalInst, Instance, MemInst, Store, TableInst, PAGE_SIZE};
use crate::types::{FuncBody, FuncType, GlobalType, Limits, Module, TableType, ValType};

/// Why chunks could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The bytes of a chunk do not decode.
    #[error("malformed chunk {chunk:?}: {reason}")]
    Malformed {
        /// The chunk.
        chunk: Chunk,
        /// What is wrong.
        reason: String,
    },
}

fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_stdvec(v).expect("in-memory serialization cannot fail")
}

fn dec<'a, T: Deserialize<'a>>(chunk: Chunk, bytes: &'a [u8]) -> Result<T, LayoutError> {
    postcard::from_bytes(bytes).map_err(|e| LayoutError::Malformed {
        chunk,
        reason: e.to_string(),
    })
}

#[derive(Serialize, Deserialize)]
struct Registers {
    pc: u32,
    fp: u32,
    func: u32,
    instance: u32,
    pending: Option<crate::exec::Bulk>,
    state: crate::exec::State,
    started: bool,
    stack_len: u64,
    frames_len: u64,
}

/// Index-space numbers used in [`Chunk::Instance`] (`index = space << 40 | group`).
fn space_vec(inst: &Instance, space: u64) -> &Vec<u32> {
    match space {
        0 => &inst.funcs,
        1 => &inst.tables,
        2 => &inst.memories,
        3 => &inst.globals,
        5 => &inst.types,
        6 => &inst.elems,
        _ => &inst.datas,
    }
}

fn space_vec_mut(inst: &mut Instance, space: u64) -> &mut Vec<u32> {
    match space {
        0 => &mut inst.funcs,
        1 => &mut inst.tables,
        2 => &mut inst.memories,
        3 => &mut inst.globals,
        5 => &mut inst.types,
        6 => &mut inst.elems,
        _ => &mut inst.datas,
    }
}

const SPACES: [u64; 7] = [0, 1, 2, 3, 5, 6, 7];

fn range<T: Clone>(v: &[T], index: u64, per: u64) -> Vec<T> {
    let from = (index * per).min(v.len() as u64) as usize;
    let to = ((index + 1) * per).min(v.len() as u64) as usize;
    v[from..to].to_vec()
}

/// Elements stored with a fixed width, so a growable region is one byte
/// string in which chunk `i` is a byte range (and shortening the region
/// drops bytes instead of rewriting chunks).
pub trait FixedWidth: Sized {
    /// Bytes per element.
    const WIDTH: usize;
    /// Appends the element's bytes.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads an element from exactly `WIDTH` bytes.
    fn get(bytes: &[u8]) -> Option<Self>;
}

impl FixedWidth for u64 {
    const WIDTH: usize = 8;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }
}

impl FixedWidth for u32 {
    const WIDTH: usize = 4;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    }
}

impl FixedWidth for Frame {
    const WIDTH: usize = 16;
    fn put(&self, out: &mut Vec<u8>) {
        for v in [self.ret_pc, self.fp, self.func, self.instance] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        let w = |i: usize| {
            bytes
                .get(i * 4..i * 4 + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
        };
        Some(Frame {
            ret_pc: w(0)?,
            fp: w(1)?,
            func: w(2)?,
            instance: w(3)?,
        })
    }
}

/// An instruction in 20 bytes: its postcard encoding, zero-padded.
impl FixedWidth for Op {
    const WIDTH: usize = 20;
    fn put(&self, out: &mut Vec<u8>) {
        let mut bytes = enc(self);
        bytes.resize(Self::WIDTH, 0);
        out.extend_from_slice(&bytes);
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        postcard::take_from_bytes(bytes).ok().map(|(op, _)| op)
    }
}

impl FixedWidth for GlobalInst {
    const WIDTH: usize = 10;
    fn put(&self, out: &mut Vec<u8>) {
        out.push(valtype_byte(self.ty.ty));
        out.push(u8::from(self.ty.mutable));
        out.extend_from_slice(&self.value.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        let ty = byte_valtype(*bytes.first()?)?;
        Some(GlobalInst {
            ty: GlobalType {
                ty,
                mutable: *bytes.get(1)? != 0,
            },
            value: u64::from_le_bytes(bytes.get(2..10)?.try_into().ok()?),
        })
    }
}

/// Fixed-width bytes of elements `[index·per, index·per + per)` (fewer at the end).
fn encode_range<T: FixedWidth + Clone>(v: &[T], index: u64, per: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for item in range(v, index, per) {
        item.put(&mut out);
    }
    out
}

fn decode_range<T: FixedWidth>(chunk: Chunk, bytes: &[u8]) -> Result<Vec<T>, LayoutError> {
    if bytes.len() % T::WIDTH != 0 {
        return Err(LayoutError::Malformed {
            chunk,
            reason: format!("{} bytes is not a multiple of {}", bytes.len(), T::WIDTH),
        });
    }
    bytes
        .chunks(T::WIDTH)
        .map(|b| {
            T::get(b).ok_or_else(|| LayoutError::Malformed {
                chunk,
                reason: "bad element".into(),
            })
        })
        .collect()
}

/// Bytes `[index·per, index·per + per)` of a byte region (fewer at the end).
fn byte_range(v: &[u8], index: u64, per: u64) -> Vec<u8> {
    range(v, index, per)
}

/// The bytes of `chunk` in a full state.
pub fn encode_chunk(store: &Store, machine: &Machine, chunk: Chunk) -> Vec<u8> {
    match chunk {
        Chunk::Registers => enc(&Registers {
            pc: machine.pc,
            fp: machine.fp,
            func: machine.func,
            instance: machine.instance,
            pending: machine.pending,
            state: machine.state,
            started: machine.started,
            stack_len: machine.stack.len() as u64,
            frames_len: machine.frames.len() as u64,
        }),
        Chunk::Memory { mem, index } => {
            let data = store.memories.get(mem as usize).map_or(&[][..], |m| &m.data[..]);
            byte_range(data, index, hooks::MEMORY_CHUNK)
        }
        Chunk::MemorySize { mem } => {
            let m = store.memories.get(mem as usize);
            enc(&(m.map_or(0, MemInst::pages), m.and_then(|m| m.max)))
        }
        Chunk::Stack { index } => encode_range(&machine.stack, index, hooks::STACK_CHUNK),
        Chunk::Frames { index } => encode_range(&machine.frames, index, hooks::FRAME_CHUNK),
        Chunk::Code { instance, index } => {
            let code = store
                .instances
                .get(instance as usize)
                .map_or(&[][..], |i| &i.module.code[..]);
            encode_range(code, index, hooks::CODE_CHUNK)
        }
        Chunk::Func { func } => {
            let f = store.funcs.get(func as usize);
            let body: Option<FuncBody> = match f {
                Some(FuncInst::Wasm { instance, body, .. }) => store.instances[*instance as usize]
                    .module
                    .bodies
                    .get(*body as usize)
                    .cloned(),
                _ => None,
            };
            let ty: Option<&FuncType> = f.map(|f| &store.types[f.type_id() as usize]);
            enc(&(f, body, ty))
        }
        Chunk::Instance { instance, index } => {
            let (space, group) = (index >> 40, index & ((1 << 40) - 1));
            store
                .instances
                .get(instance as usize)
                .map(|i| encode_range(space_vec(i, space), group, 32))
                .unwrap_or_default()
        }
        Chunk::Globals { index } => encode_range(&store.globals, index, hooks::GLOBAL_CHUNK),
        Chunk::Table { table, index } => {
            let elems = store.tables.get(table as usize).map_or(&[][..], |t| &t.elems[..]);
            encode_range(elems, index, hooks::TABLE_CHUNK)
        }
        Chunk::TableSize { table } => {
            let t = store.tables.get(table as usize);
            enc(&(t.map_or(0, |t| t.elems.len() as u64), t.map(|t| t.ty)))
        }
        Chunk::Elem { elem, index } => {
            let items = store.elems.get(elem as usize).and_then(Option::as_ref);
            if index == u64::MAX {
                enc(&items.map(|v| v.len() as u64))
            } else {
                items
                    .map(|v| encode_range(v, index, hooks::TABLE_CHUNK))
                    .unwrap_or_default()
            }
        }
        Chunk::Data { data, index } => {
            let bytes = store.datas.get(data as usize).and_then(Option::as_ref);
            if index == u64::MAX {
                enc(&bytes.map(|b| b.len() as u64))
            } else {
                bytes
                    .map(|b| byte_range(b, index, hooks::DATA_CHUNK))
                    .unwrap_or_default()
            }
        }
        Chunk::Type { id } => enc(&store.types.get(id as usize)),
    }
}

fn ensure<T: Clone>(v: &mut Vec<T>, len: usize, fill: T) {
    if v.len() < len {
        v.resize(len, fill);
    }
}

fn stand_in_instance() -> Instance {
    Instance {
        module: Arc::new(Module::default()),
        types: vec![],
        funcs: vec![],
        tables: vec![],
        memories: vec![],
        globals: vec![],
        elems: vec![],
        datas: vec![],
    }
}

fn ensure_instance(store: &mut Store, instance: u32) -> &mut Instance {
    while store.instances.len() <= instance as usize {
        store.instances.push(stand_in_instance());
    }
    &mut store.instances[instance as usize]
}

fn ensure_memory(store: &mut Store, mem: u32) -> &mut MemInst {
    while store.memories.len() <= mem as usize {
        store.memories.push(MemInst {
            data: vec![],
            max: None,
        });
    }
    &mut store.memories[mem as usize]
}

fn ensure_table(store: &mut Store, table: u32) -> &mut TableInst {
    while store.tables.len() <= table as usize {
        store.tables.push(TableInst {
            ty: TableType {
                elem: ValType::FuncRef,
                limits: Limits { min: 0, max: None },
            },
            elems: vec![],
        });
    }
    &mut store.tables[table as usize]
}

fn write_range<T: Clone>(v: &mut Vec<T>, index: u64, per: u64, items: &[T], fill: T) {
    // A chunk beyond the end (an out-of-bounds access the tick traps on)
    // holds nothing and must not grow the vector.
    if items.is_empty() {
        return;
    }
    let from = (index * per) as usize;
    ensure(v, from + items.len(), fill);
    v[from..from + items.len()].clone_from_slice(items);
}

/// Rebuilds a partial state from `chunks` (chunk → bytes). Sizes (registers,
/// memory and table sizes, segment lengths, descriptors) are applied before
/// contents.
pub fn load_chunks(chunks: &BTreeMap<Chunk, Vec<u8>>) -> Result<(Store, Machine), LayoutError> {
    let mut store = Store::default();
    let mut machine = Machine::empty();
    // Data segments are assembled as vectors, then frozen once.
    let mut datas: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let is_size = |c: &Chunk| {
        matches!(
            c,
            Chunk::Registers
                | Chunk::MemorySize { .. }
                | Chunk::TableSize { .. }
                | Chunk::Func { .. }
                | Chunk::Type { .. }
        ) || matches!(
            c,
            Chunk::Elem { index: u64::MAX, .. } | Chunk::Data { index: u64::MAX, .. }
        )
    };
    let sizes = chunks.iter().filter(|(c, _)| is_size(c));
    let contents = chunks.iter().filter(|(c, _)| !is_size(c));
    for (&chunk, bytes) in sizes.chain(contents) {
        apply(&mut store, &mut machine, &mut datas, chunk, bytes)?;
    }
    freeze_datas(&mut store, datas);
    Ok((store, machine))
}

/// Adds one chunk to a partial state that lacks it (a lazily loaded
/// machine: the chunk is read when the tick first needs it). A size chunk
/// must come before the contents it sizes.
pub fn apply_chunk(store: &mut Store, machine: &mut Machine, chunk: Chunk, bytes: &[u8]) -> Result<(), LayoutError> {
    let mut datas = BTreeMap::new();
    if let Chunk::Data { data, .. } = chunk {
        if let Some(Some(existing)) = store.datas.get(data as usize) {
            datas.insert(data, existing.to_vec());
        }
    }
    apply(store, machine, &mut datas, chunk, bytes)?;
    freeze_datas(store, datas);
    Ok(())
}

fn freeze_datas(store: &mut Store, datas: BTreeMap<u32, Vec<u8>>) {
    for (data, bytes) in datas {
        ensure(&mut store.datas, data as usize + 1, None);
        store.datas[data as usize] = Some(Arc::from(bytes));
    }
}

fn apply(
    store: &mut Store,
    machine: &mut Machine,
    datas: &mut BTreeMap<u32, Vec<u8>>,
    chunk: Chunk,
    bytes: &[u8],
) -> Result<(), LayoutError> {
    match chunk {
        Chunk::Registers => {
            let r: Registers = dec(chunk, bytes)?;
            machine.pc = r.pc;
            machine.fp = r.fp;
            machine.func = r.func;
            machine.instance = r.instance;
            machine.pending = r.pending;
            machine.state = r.state;
            machine.started = r.started;
            machine.stack.resize(r.stack_len as usize, 0);
            machine.frames.resize(
                r.frames_len as usize,
                Frame {
                    ret_pc: 0,
                    fp: 0,
                    func: 0,
                    instance: 0,
                },
            );
        }
        Chunk::MemorySize { mem } => {
            let (pages, max): (u32, Option<u32>) = dec(chunk, bytes)?;
            let m = ensure_memory(store, mem);
            m.max = max;
            // A fresh zeroed allocation is lazily backed by the OS.
            let mut data = vec![0u8; pages as usize * PAGE_SIZE];
            let keep = m.data.len().min(data.len());
            data[..keep].copy_from_slice(&m.data[..keep]);
            m.data = data;
        }
        Chunk::Memory { mem, index } => {
            let m = ensure_memory(store, mem);
            let from = (index * hooks::MEMORY_CHUNK) as usize;
            let n = bytes.len().min(m.data.len().saturating_sub(from));
            if n > 0 {
                m.data[from..from + n].copy_from_slice(&bytes[..n]);
            }
        }
        Chunk::Stack { index } => {
            // Slots past the current height are not the machine's (a chunk
            // read after the stack shrank).
            let slots: Vec<u64> = decode_range(chunk, bytes)?;
            let keep = slots.len().min(
                machine
                    .stack
                    .len()
                    .saturating_sub((index * hooks::STACK_CHUNK) as usize),
            );
            write_range(&mut machine.stack, index, hooks::STACK_CHUNK, &slots[..keep], 0);
        }
        Chunk::Frames { index } => {
            let frames: Vec<Frame> = decode_range(chunk, bytes)?;
            let keep = frames.len().min(
                machine
                    .frames
                    .len()
                    .saturating_sub((index * hooks::FRAME_CHUNK) as usize),
            );
            let fill = Frame {
                ret_pc: 0,
                fp: 0,
                func: 0,
                instance: 0,
            };
            write_range(&mut machine.frames, index, hooks::FRAME_CHUNK, &frames[..keep], fill);
        }
        Chunk::Code { instance, index } => {
            let ops: Vec<Op> = decode_range(chunk, bytes)?;
            let inst = ensure_instance(store, instance);
            let module = Arc::make_mut(&mut inst.module);
            write_range(&mut module.code, index, hooks::CODE_CHUNK, &ops, Op::Unreachable);
        }
        Chunk::Func { func } => {
            let (f, body, ty): (Option<FuncInst>, Option<FuncBody>, Option<FuncType>) = dec(chunk, bytes)?;
            let Some(f) = f else { return Ok(()) };
            if let Some(ty) = ty {
                let id = f.type_id() as usize;
                ensure(&mut store.types, id + 1, FuncType::default());
                store.types[id] = ty;
            }
            if let (FuncInst::Wasm { instance, body: b, .. }, Some(body)) = (&f, body) {
                let inst = ensure_instance(store, *instance);
                let module = Arc::make_mut(&mut inst.module);
                let stand_in = FuncBody {
                    type_index: 0,
                    start: 0,
                    num_locals: 0,
                    max_height: 0,
                };
                ensure(&mut module.bodies, *b as usize + 1, stand_in);
                module.bodies[*b as usize] = body;
            }
            ensure(
                &mut store.funcs,
                func as usize + 1,
                FuncInst::Host {
                    type_id: 0,
                    host_id: u32::MAX,
                },
            );
            store.funcs[func as usize] = f;
        }
        Chunk::Instance { instance, index } => {
            let entries: Vec<u32> = decode_range(chunk, bytes)?;
            let (space, group) = (index >> 40, index & ((1 << 40) - 1));
            let inst = ensure_instance(store, instance);
            write_range(space_vec_mut(inst, space), group, 32, &entries, u32::MAX);
        }
        Chunk::Globals { index } => {
            let globals: Vec<GlobalInst> = decode_range(chunk, bytes)?;
            let fill = GlobalInst {
                ty: GlobalType {
                    ty: ValType::I32,
                    mutable: false,
                },
                value: 0,
            };
            write_range(&mut store.globals, index, hooks::GLOBAL_CHUNK, &globals, fill);
        }
        Chunk::TableSize { table } => {
            let (len, ty): (u64, Option<TableType>) = dec(chunk, bytes)?;
            let t = ensure_table(store, table);
            if let Some(ty) = ty {
                t.ty = ty;
            }
            t.elems.resize(len as usize, 0);
        }
        Chunk::Table { table, index } => {
            let elems: Vec<u64> = decode_range(chunk, bytes)?;
            let t = ensure_table(store, table);
            write_range(&mut t.elems, index, hooks::TABLE_CHUNK, &elems, 0);
        }
        Chunk::Elem { elem, index } => {
            ensure(&mut store.elems, elem as usize + 1, None);
            if index == u64::MAX {
                let len: Option<u64> = dec(chunk, bytes)?;
                store.elems[elem as usize] = len.map(|n| vec![0; n as usize]);
            } else {
                let items: Vec<u64> = decode_range(chunk, bytes)?;
                let seg = store.elems[elem as usize].get_or_insert_with(Vec::new);
                write_range(seg, index, hooks::TABLE_CHUNK, &items, 0);
            }
        }
        Chunk::Data { data, index } => {
            if index == u64::MAX {
                let len: Option<u64> = dec(chunk, bytes)?;
                match len {
                    Some(n) => {
                        datas.entry(data).or_default().resize(n as usize, 0);
                    }
                    None => {
                        ensure(&mut store.datas, data as usize + 1, None);
                    }
                }
            } else {
                let part: &[u8] = bytes;
                write_range(datas.entry(data).or_default(), index, hooks::DATA_CHUNK, part, 0);
            }
        }
        Chunk::Type { id } => {
            let ty: Option<FuncType> = dec(chunk, bytes)?;
            if let Some(ty) = ty {
                ensure(&mut store.types, id as usize + 1, FuncType::default());
                store.types[id as usize] = ty;
            }
        }
    }
    Ok(())
}

/// Every chunk of a state (memory chunks only where they are not all zero,
/// since absent chunks read as zero).
pub fn all_chunks(store: &Store, machine: &Machine) -> Vec<Chunk> {
    let mut out = vec![Chunk::Registers];
    let groups = |len: usize, per: u64| (len as u64).div_ceil(per);
    for (mem, m) in store.memories.iter().enumerate() {
        let mem = mem as u32;
        out.push(Chunk::MemorySize { mem });
        for (index, chunk) in m.data.chunks(hooks::MEMORY_CHUNK as usize).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                out.push(Chunk::Memory {
                    mem,
                    index: index as u64,
                });
            }
        }
    }
    out.extend((0..groups(machine.stack.len(), hooks::STACK_CHUNK)).map(|index| Chunk::Stack { index }));
    out.extend((0..groups(machine.frames.len(), hooks::FRAME_CHUNK)).map(|index| Chunk::Frames { index }));
    for (i, inst) in store.instances.iter().enumerate() {
        let instance = i as u32;
        out.extend((0..groups(inst.module.code.len(), hooks::CODE_CHUNK)).map(|index| Chunk::Code { instance, index }));
        for space in SPACES {
            out.extend((0..groups(space_vec(inst, space).len(), 32)).map(|g| Chunk::Instance {
                instance,
                index: (space << 40) | g,
            }));
        }
    }
    out.extend((0..store.funcs.len() as u32).map(|func| Chunk::Func { func }));
    out.extend((0..store.types.len() as u32).map(|id| Chunk::Type { id }));
    out.extend((0..groups(store.globals.len(), hooks::GLOBAL_CHUNK)).map(|index| Chunk::Globals { index }));
    for (t, table) in store.tables.iter().enumerate() {
        let table_addr = t as u32;
        out.push(Chunk::TableSize { table: table_addr });
        out.extend(
            (0..groups(table.elems.len(), hooks::TABLE_CHUNK)).map(|index| Chunk::Table {
                table: table_addr,
                index,
            }),
        );
    }
    for (e, items) in store.elems.iter().enumerate() {
        let elem = e as u32;
        out.push(Chunk::Elem { elem, index: u64::MAX });
        let n = items.as_ref().map_or(0, Vec::len);
        out.extend((0..groups(n, hooks::TABLE_CHUNK)).map(|index| Chunk::Elem { elem, index }));
    }
    for (d, bytes) in store.datas.iter().enumerate() {
        let data = d as u32;
        out.push(Chunk::Data { data, index: u64::MAX });
        let n = bytes.as_ref().map_or(0, |b| b.len());
        out.extend((0..groups(n, hooks::DATA_CHUNK)).map(|index| Chunk::Data { data, index }));
    }
    out
}

/// Records every chunk read or written (across ticks, until cleared).
#[derive(Debug, Clone, Default)]
pub struct ChunkRecorder {
    /// Chunks read.
    pub read: BTreeSet<Chunk>,
    /// Chunks written.
    pub written: BTreeSet<Chunk>,
}

impl ChunkRecorder {
    /// Every chunk touched.
    pub fn touched(&self) -> BTreeSet<Chunk> {
        self.read.union(&self.written).copied().collect()
    }
}

impl Hooks for ChunkRecorder {
    const ENABLED: bool = true;

    fn read(&mut self, chunk: Chunk) -> Result<(), Missing> {
        self.read.insert(chunk);
        Ok(())
    }

    fn write(&mut self, chunk: Chunk) -> Result<(), Missing> {
        self.written.insert(chunk);
        Ok(())
    }
}

/// Refuses every access to a chunk outside `present`, recording writes.
#[derive(Debug, Clone, Default)]
pub struct PresenceCheck {
    /// The chunks the partial state holds.
    pub present: BTreeSet<Chunk>,
    /// Chunks written.
    pub written: BTreeSet<Chunk>,
}

impl Hooks for PresenceCheck {
    const ENABLED: bool = true;

    fn read(&mut self, chunk: Chunk) -> Result<(), Missing> {
        if self.present.contains(&chunk) {
            Ok(())
        } else {
            Err(Missing(chunk))
        }
    }

    fn write(&mut self, chunk: Chunk) -> Result<(), Missing> {
        if self.present.contains(&chunk) {
            self.written.insert(chunk);
            Ok(())
        } else {
            Err(Missing(chunk))
        }
    }
}
