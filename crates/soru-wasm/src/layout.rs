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
use crate::limits;
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

/// Refuses a size beyond what any execution reaches: a partial state's
/// stand-ins are sized by the sizes it claims, so a forged size must not
/// make the verifier allocate without bound.
fn within(chunk: Chunk, size: u64, limit: u64) -> Result<usize, LayoutError> {
    if size > limit {
        return Err(LayoutError::Malformed {
            chunk,
            reason: format!("size {size} beyond the limit {limit}"),
        });
    }
    Ok(size as usize)
}

/// Zero-extends `v` to `len`. A fresh vector of integers is allocated
/// zeroed (`vec![0; n]`), which costs no memory until written.
fn grow_zeroed<T: Clone + Default>(v: &mut Vec<T>, len: usize) {
    if v.is_empty() {
        *v = vec![T::default(); len];
    } else if v.len() < len {
        v.resize(len, T::default());
    }
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
        Chunk::Func { func } => match store.funcs.get(func as usize) {
            Some(f) => {
                let body = match f {
                    FuncInst::Wasm { instance, body, .. } => store
                        .instances
                        .get(*instance as usize)
                        .and_then(|i| i.module.bodies.get(*body as usize)),
                    FuncInst::Host { .. } => None,
                };
                func_record(f, body).to_vec()
            }
            None => Vec::new(),
        },
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
        Chunk::Type { id } => store.types.get(id as usize).map(enc).unwrap_or_default(),
    }
}

/// Bytes of a function descriptor ([`Chunk::Func`]): the `Wasm`/`Host`
/// tag (1 host, 2 wasm: zeros are no function), the type id, then the host
/// id, or the instance, body index and body descriptor; zero-padded.
pub const FUNC_RECORD: usize = 32;

/// The [`FUNC_RECORD`] bytes of `f`; `body` is its descriptor (for a
/// function defined by an instance).
pub fn func_record(f: &FuncInst, body: Option<&FuncBody>) -> [u8; FUNC_RECORD] {
    let mut out = [0u8; FUNC_RECORD];
    let mut put = |at: usize, v: u32| out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    match *f {
        FuncInst::Host { type_id, host_id } => {
            put(1, type_id);
            put(5, host_id);
            out[0] = 1;
        }
        FuncInst::Wasm {
            instance,
            body: index,
            type_id,
        } => {
            put(1, type_id);
            put(5, instance);
            put(9, index);
            if let Some(b) = body {
                put(13, b.type_index);
                put(17, b.start);
                put(21, b.num_locals);
                put(25, b.max_height);
            }
            out[0] = 2;
        }
    }
    out
}

fn parse_func_record(bytes: &[u8]) -> Option<(FuncInst, Option<FuncBody>)> {
    // A record of any other size is not one.
    let bytes: &[u8; FUNC_RECORD] = bytes.try_into().ok()?;
    let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    match bytes[0] {
        1 => Some((
            FuncInst::Host {
                type_id: word(1),
                host_id: word(5),
            },
            None,
        )),
        2 => Some((
            FuncInst::Wasm {
                type_id: word(1),
                instance: word(5),
                body: word(9),
            },
            Some(FuncBody {
                type_index: word(13),
                start: word(17),
                num_locals: word(21),
                max_height: word(25),
            }),
        )),
        _ => None,
    }
}

/// The [`Chunk::Registers`] bytes of a machine about to call store function
/// `func` with no arguments (what [`Machine::invoke`] builds), for an
/// embedder that lays a machine out without holding its store.
pub fn entry_registers(func: u32) -> Vec<u8> {
    encode_chunk(&Store::default(), &Machine::entry(func, &[]), Chunk::Registers)
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

/// Most instances a store laid out in chunks may have (a kernel has one).
const MAX_INSTANCES: u64 = 1 << 16;

/// Refuses a chunk no execution within soru's limits has: a partial
/// state's stand-ins are dense vectors, so a forged far address or offset
/// must not make the verifier allocate without bound. Offsets are checked
/// only for chunks with contents (an access beyond a region's end, which
/// the tick traps on, reads an empty chunk).
fn check_bounds(chunk: Chunk, bytes: &[u8]) -> Result<(), LayoutError> {
    use limits::*;
    let beyond = |what: &str| LayoutError::Malformed {
        chunk,
        reason: format!("{what} beyond soru's limits"),
    };
    let address = |a: u32, limit: usize, what: &str| {
        if u64::from(a) >= limit as u64 {
            Err(beyond(what))
        } else {
            Ok(())
        }
    };
    let offset = |index: u64, per: u64, limit: u64| {
        if !bytes.is_empty() && index.saturating_mul(per) >= limit {
            Err(beyond("offset"))
        } else {
            Ok(())
        }
    };
    match chunk {
        Chunk::Registers => Ok(()),
        Chunk::Memory { mem, index } => {
            address(mem, MAX_INSTANCES as usize, "memory")?;
            offset(index, hooks::MEMORY_CHUNK, MAX_MEMORY_PAGES * PAGE_SIZE as u64)
        }
        Chunk::MemorySize { mem } => address(mem, MAX_INSTANCES as usize, "memory"),
        Chunk::Stack { index } => offset(index, hooks::STACK_CHUNK, MAX_STACK_SLOTS as u64),
        Chunk::Frames { index } => offset(index, hooks::FRAME_CHUNK, MAX_FRAMES as u64),
        Chunk::Code { instance, index } => {
            address(instance, MAX_INSTANCES as usize, "instance")?;
            offset(index, hooks::CODE_CHUNK, MAX_CODE_OPS as u64)
        }
        Chunk::Func { func } => address(func, MAX_FUNCTIONS, "function"),
        Chunk::Instance { instance, index } => {
            address(instance, MAX_INSTANCES as usize, "instance")?;
            offset(index & ((1 << 40) - 1), 32, MAX_FUNCTIONS.max(MAX_GLOBALS) as u64)
        }
        Chunk::Globals { index } => offset(index, hooks::GLOBAL_CHUNK, MAX_GLOBALS as u64),
        Chunk::Table { table, index } => {
            address(table, MAX_TABLES, "table")?;
            offset(index, hooks::TABLE_CHUNK, u64::from(MAX_TABLE_ELEMS))
        }
        Chunk::TableSize { table } => address(table, MAX_TABLES, "table"),
        Chunk::Elem { elem, index } => {
            address(elem, MAX_SEGMENTS, "segment")?;
            match index {
                u64::MAX => Ok(()),
                _ => offset(index, hooks::TABLE_CHUNK, MAX_SEGMENT_ITEMS as u64),
            }
        }
        Chunk::Data { data, index } => {
            address(data, MAX_SEGMENTS, "segment")?;
            match index {
                u64::MAX => Ok(()),
                _ => offset(index, hooks::DATA_CHUNK, MAX_DATA_SEGMENT_BYTES as u64),
            }
        }
        Chunk::Type { id } => address(id, MAX_TYPES, "type"),
    }
}

fn apply(
    store: &mut Store,
    machine: &mut Machine,
    datas: &mut BTreeMap<u32, Vec<u8>>,
    chunk: Chunk,
    bytes: &[u8],
) -> Result<(), LayoutError> {
    check_bounds(chunk, bytes)?;
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
            let stack_len = within(chunk, r.stack_len, limits::MAX_STACK_SLOTS as u64)?;
            let frames_len = within(chunk, r.frames_len, limits::MAX_FRAMES as u64)?;
            grow_zeroed(&mut machine.stack, stack_len);
            machine.stack.truncate(stack_len);
            machine.frames.resize(
                frames_len,
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
            within(chunk, u64::from(pages), limits::MAX_MEMORY_PAGES)?;
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
            // Beyond the descriptors: no function (a forged address).
            if bytes.is_empty() {
                return Ok(());
            }
            let bad = |reason: &str| LayoutError::Malformed {
                chunk,
                reason: reason.into(),
            };
            let (f, body) = parse_func_record(bytes).ok_or_else(|| bad("bad function record"))?;
            if let FuncInst::Wasm { instance, body, .. } = f {
                if u64::from(instance) >= MAX_INSTANCES || body as usize >= limits::MAX_FUNCTIONS {
                    return Err(bad("function of an instance or body beyond soru's limits"));
                }
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
            let len = within(chunk, len, u64::from(limits::MAX_TABLE_ELEMS))?;
            grow_zeroed(&mut t.elems, len);
            t.elems.truncate(len);
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
                let len = len
                    .map(|n| within(chunk, n, limits::MAX_SEGMENT_ITEMS as u64))
                    .transpose()?;
                store.elems[elem as usize] = len.map(|n| vec![0; n]);
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
                        let n = within(chunk, n, limits::MAX_DATA_SEGMENT_BYTES as u64)?;
                        let bytes = datas.entry(data).or_default();
                        grow_zeroed(bytes, n);
                        bytes.truncate(n);
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
            let ty: FuncType = dec(chunk, bytes)?;
            ensure(&mut store.types, id as usize + 1, FuncType::default());
            store.types[id as usize] = ty;
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
