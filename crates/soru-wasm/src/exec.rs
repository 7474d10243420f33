//! The tick-steppable interpreter.
//!
//! A [`Machine`] is the whole execution state as data: value stack, call
//! frames, program counter, current function and instance, and any bulk
//! operation in progress. [`Machine::run`] executes at most the given number
//! of ticks and returns; the machine can then be resumed, or serialized and
//! resumed elsewhere. Calls to host functions return control to the embedder
//! ([`Outcome::HostCall`]), which resumes with [`Machine::resume_host`].

use std::sync::Arc;

use crate::code::Op;
use crate::hooks::{self, Chunk, Hooks, Missing, NoHooks};
use crate::limits;
use crate::store::{func_of_ref, func_ref, FuncInst, Store, NULL_REF};
use crate::types::{Module, SegmentMode};

/// Bytes a bulk memory operation moves per tick.
pub const BULK_MEMORY_CHUNK: u32 = 2048;
/// Elements a bulk table operation moves per tick.
pub const BULK_TABLE_CHUNK: u32 = 256;

/// A WebAssembly trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Trap {
    /// `unreachable` executed.
    #[error("unreachable")]
    Unreachable,
    /// Memory access out of bounds.
    #[error("out of bounds memory access")]
    MemoryOutOfBounds,
    /// Table access out of bounds.
    #[error("out of bounds table access")]
    TableOutOfBounds,
    /// `call_indirect` with an index outside the table.
    #[error("undefined element")]
    UndefinedElement,
    /// `call_indirect` on a null element.
    #[error("uninitialized element")]
    UninitializedElement,
    /// `call_indirect` with the wrong signature.
    #[error("indirect call type mismatch")]
    IndirectCallTypeMismatch,
    /// Integer division or remainder by zero.
    #[error("integer divide by zero")]
    IntegerDivideByZero,
    /// Signed division overflow or out-of-range float-to-int conversion.
    #[error("integer overflow")]
    IntegerOverflow,
    /// Float-to-int conversion of NaN.
    #[error("invalid conversion to integer")]
    InvalidConversionToInteger,
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The tick budget is spent; call [`Machine::run`] again to continue.
    OutOfTicks,
    /// The invoked function returned these values.
    Returned(Vec<u64>),
    /// A host function was called; resume with [`Machine::resume_host`].
    HostCall {
        /// The embedder's id of the function.
        host_id: u32,
        /// Store address of the function.
        func: u32,
        /// Arguments.
        args: Vec<u64>,
    },
    /// A trap.
    Trap(Trap),
    /// The call stack or value stack limit was reached.
    Exhausted,
    /// A hook refused access to a state chunk (a verifier's partial state
    /// lacks it). The machine is left unusable.
    Missing(Missing),
}

/// Errors from misuse of the machine API (not from the running code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    /// `run` on a machine that finished, trapped or waits for a host result.
    #[error("the machine is not runnable in state {0}")]
    NotRunnable(&'static str),
    /// Wrong number of arguments or results.
    #[error("arity mismatch: {0}")]
    Arity(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Frame {
    pub(crate) ret_pc: u32,
    pub(crate) fp: u32,
    pub(crate) func: u32,
    pub(crate) instance: u32,
}

/// A bulk operation in progress (one chunk per tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Bulk {
    MemFill {
        mem: u32,
        dst: u32,
        value: u8,
        len: u32,
    },
    MemCopy {
        mem: u32,
        dst: u32,
        src: u32,
        len: u32,
    },
    MemInit {
        mem: u32,
        dst: u32,
        data: u32,
        src: u32,
        len: u32,
    },
    TableFill {
        table: u32,
        dst: u32,
        value: u64,
        len: u32,
    },
    TableCopy {
        dst_table: u32,
        src_table: u32,
        dst: u32,
        src: u32,
        len: u32,
    },
    TableInit {
        table: u32,
        elem: u32,
        dst: u32,
        src: u32,
        len: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum State {
    Running,
    AwaitingHost { results: u32 },
    Done,
}

/// The execution state of one invocation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    pub(crate) stack: Vec<u64>,
    pub(crate) frames: Vec<Frame>,
    pub(crate) pc: u32,
    pub(crate) fp: u32,
    pub(crate) func: u32,
    pub(crate) instance: u32,
    pub(crate) pending: Option<Bulk>,
    pub(crate) state: State,
    pub(crate) started: bool,
}

/// `⌈len / chunk⌉`: the extra ticks a bulk operation of `len` costs.
pub fn bulk_ticks(len: u32, chunk: u32) -> u64 {
    u64::from(len).div_ceil(u64::from(chunk))
}

impl Machine {
    /// A machine about to call function `func` (a store address) with `args`.
    pub fn invoke(store: &Store, func: u32, args: &[u64]) -> Result<Self, MachineError> {
        let ty = store.func_type(func);
        if ty.params.len() != args.len() {
            return Err(MachineError::Arity(format!(
                "{} arguments given, {} expected",
                args.len(),
                ty.params.len()
            )));
        }
        Ok(Self::entry(func, args))
    }

    /// A machine about to call `func` with `args` (the entry call itself is
    /// set up by the first `run`, which checks the function).
    pub(crate) fn entry(func: u32, args: &[u64]) -> Self {
        Machine {
            stack: args.to_vec(),
            frames: Vec::new(),
            pc: u32::MAX,
            fp: 0,
            func,
            instance: u32::MAX,
            pending: None,
            state: State::Running,
            started: false,
        }
    }

    /// A machine with nothing in it, to be filled by [`crate::layout::load_chunks`].
    pub(crate) fn empty() -> Self {
        Machine {
            stack: Vec::new(),
            frames: Vec::new(),
            pc: 0,
            fp: 0,
            func: 0,
            instance: 0,
            pending: None,
            state: State::Running,
            started: false,
        }
    }

    /// Value-stack height and call-frame count.
    pub fn lengths(&self) -> (usize, usize) {
        (self.stack.len(), self.frames.len())
    }

    /// Whether the invocation has finished (returned or trapped).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Call depth (frames on the stack, the current one included).
    pub fn depth(&self) -> usize {
        self.frames.len() + usize::from(self.pc != u32::MAX)
    }

    /// Feeds the results of the host call the machine is waiting for.
    pub fn resume_host(&mut self, results: &[u64]) -> Result<(), MachineError> {
        match self.state {
            State::AwaitingHost { results: n } if n as usize == results.len() => {
                self.stack.extend_from_slice(results);
                self.state = State::Running;
                Ok(())
            }
            State::AwaitingHost { results: n } => Err(MachineError::Arity(format!(
                "{} host results given, {n} expected",
                results.len()
            ))),
            _ => Err(MachineError::NotRunnable("not waiting for a host call")),
        }
    }

    /// Applies the active segments of instance `inst` and runs nothing else
    /// (the start function is invoked separately). Active segments are
    /// copied in order; a segment out of bounds traps, leaving earlier
    /// writes in place, as the specification requires.
    pub fn initialize(store: &mut Store, inst: u32) -> Result<(), Trap> {
        let module = store.instances[inst as usize].module.clone();
        for (i, seg) in module.elems.iter().enumerate() {
            let elem = store.instances[inst as usize].elems[i];
            match seg.mode {
                SegmentMode::Active { index, offset } => {
                    let table = store.instances[inst as usize].tables[index as usize];
                    let dst = store.segment_offset(inst, &offset);
                    let items = store.elems[elem as usize].take().unwrap_or_default();
                    let t = &mut store.tables[table as usize].elems;
                    let end = u64::from(dst) + items.len() as u64;
                    if end > t.len() as u64 {
                        return Err(Trap::TableOutOfBounds);
                    }
                    t[dst as usize..end as usize].copy_from_slice(&items);
                }
                SegmentMode::Declarative => store.elems[elem as usize] = None,
                SegmentMode::Passive => {}
            }
        }
        for (i, seg) in module.datas.iter().enumerate() {
            if let SegmentMode::Active { index, offset } = seg.mode {
                let data = store.instances[inst as usize].datas[i];
                let mem = store.instances[inst as usize].memories[index as usize];
                let dst = store.segment_offset(inst, &offset);
                let bytes = store.datas[data as usize].take().unwrap_or_else(|| Arc::from(&[][..]));
                let m = &mut store.memories[mem as usize].data;
                let end = u64::from(dst) + bytes.len() as u64;
                if end > m.len() as u64 {
                    return Err(Trap::MemoryOutOfBounds);
                }
                m[dst as usize..end as usize].copy_from_slice(&bytes);
            }
        }
        Ok(())
    }

    fn finish(&mut self, outcome: Outcome) -> Outcome {
        if matches!(
            outcome,
            Outcome::Trap(_) | Outcome::Exhausted | Outcome::Returned(_) | Outcome::Missing(_)
        ) {
            self.state = State::Done;
        }
        outcome
    }

    /// Enters function `addr`, whose arguments are on the stack. Returns an
    /// outcome if control leaves the interpreter.
    fn enter<H: Hooks>(&mut self, store: &Store, addr: u32, code: &mut Arc<Module>, hooks: &mut H) -> Option<Outcome> {
        if H::ENABLED {
            hooks.call(addr);
            if let Err(m) = hooks.read(Chunk::Func { func: addr }) {
                return Some(Outcome::Missing(m));
            }
            let id = store.funcs[addr as usize].type_id();
            if let Err(m) = hooks.read(Chunk::Type { id }) {
                return Some(Outcome::Missing(m));
            }
        }
        match store.funcs[addr as usize] {
            FuncInst::Wasm {
                instance,
                body,
                type_id,
                ..
            } => {
                let module = &store.instances[instance as usize].module;
                let b = &module.bodies[body as usize];
                let params = store.types[type_id as usize].params.len();
                if self.frames.len() + 1 >= limits::MAX_FRAMES {
                    return Some(Outcome::Exhausted);
                }
                let fp = self.stack.len() - params;
                let needed = fp + params + b.num_locals as usize + b.max_height as usize;
                if needed > limits::MAX_STACK_SLOTS {
                    return Some(Outcome::Exhausted);
                }
                // Locals start as zero without touching their chunks: the
                // value stack above its height reads as zero.
                self.stack.resize(self.stack.len() + b.num_locals as usize, 0);
                if self.pc != u32::MAX {
                    if H::ENABLED {
                        let index = self.frames.len() as u64 / hooks::FRAME_CHUNK;
                        if let Err(m) = hooks.write(Chunk::Frames { index }) {
                            return Some(Outcome::Missing(m));
                        }
                    }
                    self.frames.push(Frame {
                        ret_pc: self.pc,
                        fp: self.fp,
                        func: self.func,
                        instance: self.instance,
                    });
                }
                self.fp = fp as u32;
                self.pc = b.start;
                self.func = addr;
                if self.instance != instance {
                    self.instance = instance;
                    *code = module.clone();
                }
                None
            }
            FuncInst::Host { host_id, type_id } => {
                let ty = &store.types[type_id as usize];
                let from = self.stack.len() - ty.params.len();
                if H::ENABLED {
                    for c in hooks::stack_chunks(from as u64, self.stack.len() as u64) {
                        if let Err(m) = hooks.read(c) {
                            return Some(Outcome::Missing(m));
                        }
                    }
                }
                let args = self.stack.split_off(from);
                self.state = State::AwaitingHost {
                    results: ty.results.len() as u32,
                };
                Some(Outcome::HostCall {
                    host_id,
                    func: addr,
                    args,
                })
            }
        }
    }

    /// Runs at most `*fuel` ticks, decrementing it by the ticks spent.
    pub fn run(&mut self, store: &mut Store, fuel: &mut u64) -> Result<Outcome, MachineError> {
        self.run_with(store, fuel, &mut NoHooks)
    }

    /// [`Machine::run`] with observation hooks.
    pub fn run_with<H: Hooks>(
        &mut self,
        store: &mut Store,
        fuel: &mut u64,
        hooks: &mut H,
    ) -> Result<Outcome, MachineError> {
        match self.state {
            State::Running => {}
            State::AwaitingHost { .. } => return Err(MachineError::NotRunnable("awaiting a host result")),
            State::Done => return Err(MachineError::NotRunnable("done")),
        }
        // A partial state (a verifier's) may lack the instance when the tick
        // does not need its code, e.g. a bulk-operation slice.
        let mut code: Arc<Module> = store
            .instances
            .get(self.instance as usize)
            .map(|i| i.module.clone())
            .unwrap_or_default();
        if !self.started {
            // First run: the entry call (or a host function called directly,
            // whose results are then the invocation's results).
            self.started = true;
            if let Some(o) = self.enter(store, self.func, &mut code, hooks) {
                return Ok(self.finish(o));
            }
        } else if self.pc == u32::MAX {
            let results = std::mem::take(&mut self.stack);
            return Ok(self.finish(Outcome::Returned(results)));
        }
        let outcome = self.interpret(store, fuel, &mut code, hooks);
        Ok(self.finish(outcome))
    }

    fn mem_addr(store: &Store, instance: u32) -> u32 {
        store.instances[instance as usize].memories[0]
    }

    /// Memory 0 of `instance`, or `u32::MAX` if it has none (validated code
    /// then never touches memory).
    fn current_memory(store: &Store, instance: u32) -> u32 {
        store
            .instances
            .get(instance as usize)
            .and_then(|i| i.memories.first().copied())
            .unwrap_or(u32::MAX)
    }

    /// The chunks one slice of `bulk` touches.
    fn bulk_chunks(bulk: Bulk, out: &mut Vec<(Chunk, bool)>) {
        let mem_chunk = BULK_MEMORY_CHUNK;
        let table_range = |out: &mut Vec<(Chunk, bool)>, table: u32, at: u32, n: u32, write: bool| {
            let a = u64::from(at) / hooks::TABLE_CHUNK;
            let b = (u64::from(at) + u64::from(n.max(1))).div_ceil(hooks::TABLE_CHUNK);
            for index in a..b {
                out.push((Chunk::Table { table, index }, write));
            }
        };
        // Every slice also reads the sizes of what it touches, so a partial
        // state (a verifier's) can size its stand-in memories and tables.
        match bulk {
            Bulk::MemFill { mem, .. } | Bulk::MemCopy { mem, .. } => out.push((Chunk::MemorySize { mem }, false)),
            Bulk::MemInit { mem, data, .. } => {
                out.push((Chunk::MemorySize { mem }, false));
                out.push((Chunk::Data { data, index: u64::MAX }, false));
            }
            Bulk::TableFill { table, .. } => out.push((Chunk::TableSize { table }, false)),
            Bulk::TableCopy {
                dst_table, src_table, ..
            } => {
                out.push((Chunk::TableSize { table: dst_table }, false));
                out.push((Chunk::TableSize { table: src_table }, false));
            }
            Bulk::TableInit { table, elem, .. } => {
                out.push((Chunk::TableSize { table }, false));
                out.push((Chunk::Elem { elem, index: u64::MAX }, false));
            }
        }
        match bulk {
            Bulk::MemFill { mem, dst, len, .. } => {
                out.extend(hooks::memory_chunks(mem, u64::from(dst), u64::from(len.min(mem_chunk))).map(|c| (c, true)))
            }
            Bulk::MemCopy { mem, dst, src, len } => {
                let n = len.min(mem_chunk);
                let (d, s) = if dst <= src {
                    (dst, src)
                } else {
                    (dst + len - n, src + len - n)
                };
                out.extend(hooks::memory_chunks(mem, u64::from(s), u64::from(n)).map(|c| (c, false)));
                out.extend(hooks::memory_chunks(mem, u64::from(d), u64::from(n)).map(|c| (c, true)));
            }
            Bulk::MemInit {
                mem,
                dst,
                data,
                src,
                len,
            } => {
                let n = u64::from(len.min(mem_chunk));
                let (a, b) = (
                    u64::from(src) / hooks::DATA_CHUNK,
                    (u64::from(src) + n).div_ceil(hooks::DATA_CHUNK),
                );
                for index in a..b {
                    out.push((Chunk::Data { data, index }, false));
                }
                out.extend(hooks::memory_chunks(mem, u64::from(dst), n).map(|c| (c, true)));
            }
            Bulk::TableFill { table, dst, len, .. } => table_range(out, table, dst, len.min(BULK_TABLE_CHUNK), true),
            Bulk::TableCopy {
                dst_table,
                src_table,
                dst,
                src,
                len,
            } => {
                let n = len.min(BULK_TABLE_CHUNK);
                let forward = dst_table != src_table || dst <= src;
                let (d, s) = if forward {
                    (dst, src)
                } else {
                    (dst + len - n, src + len - n)
                };
                table_range(out, src_table, s, n, false);
                table_range(out, dst_table, d, n, true);
            }
            Bulk::TableInit {
                table,
                elem,
                dst,
                src,
                len,
            } => {
                let n = len.min(BULK_TABLE_CHUNK);
                let (a, b) = (
                    u64::from(src) / hooks::TABLE_CHUNK,
                    (u64::from(src) + u64::from(n)).div_ceil(hooks::TABLE_CHUNK),
                );
                for index in a..b {
                    out.push((Chunk::Elem { elem, index }, false));
                }
                table_range(out, table, dst, n, true);
            }
        }
    }

    fn step_bulk(&mut self, store: &mut Store, bulk: Bulk) {
        let next = match bulk {
            Bulk::MemFill { mem, dst, value, len } => {
                let n = len.min(BULK_MEMORY_CHUNK);
                let m = &mut store.memories[mem as usize].data;
                m[dst as usize..(dst + n) as usize].fill(value);
                (len > n).then_some(Bulk::MemFill {
                    mem,
                    dst: dst + n,
                    value,
                    len: len - n,
                })
            }
            Bulk::MemCopy { mem, dst, src, len } => {
                let n = len.min(BULK_MEMORY_CHUNK);
                let m = &mut store.memories[mem as usize].data;
                if dst <= src {
                    m.copy_within(src as usize..(src + n) as usize, dst as usize);
                    (len > n).then_some(Bulk::MemCopy {
                        mem,
                        dst: dst + n,
                        src: src + n,
                        len: len - n,
                    })
                } else {
                    // Overlap with dst above src: copy from the end.
                    let off = len - n;
                    m.copy_within((src + off) as usize..(src + len) as usize, (dst + off) as usize);
                    (len > n).then_some(Bulk::MemCopy {
                        mem,
                        dst,
                        src,
                        len: len - n,
                    })
                }
            }
            Bulk::MemInit {
                mem,
                dst,
                data,
                src,
                len,
            } => {
                let n = len.min(BULK_MEMORY_CHUNK);
                let bytes = store.datas[data as usize].clone().unwrap_or_else(|| Arc::from(&[][..]));
                let m = &mut store.memories[mem as usize].data;
                m[dst as usize..(dst + n) as usize].copy_from_slice(&bytes[src as usize..(src + n) as usize]);
                (len > n).then_some(Bulk::MemInit {
                    mem,
                    dst: dst + n,
                    data,
                    src: src + n,
                    len: len - n,
                })
            }
            Bulk::TableFill { table, dst, value, len } => {
                let n = len.min(BULK_TABLE_CHUNK);
                store.tables[table as usize].elems[dst as usize..(dst + n) as usize].fill(value);
                (len > n).then_some(Bulk::TableFill {
                    table,
                    dst: dst + n,
                    value,
                    len: len - n,
                })
            }
            Bulk::TableCopy {
                dst_table,
                src_table,
                dst,
                src,
                len,
            } => {
                let n = len.min(BULK_TABLE_CHUNK);
                let forward = dst_table != src_table || dst <= src;
                let (d, s) = if forward {
                    (dst, src)
                } else {
                    (dst + len - n, src + len - n)
                };
                let chunk: Vec<u64> = store.tables[src_table as usize].elems[s as usize..(s + n) as usize].to_vec();
                store.tables[dst_table as usize].elems[d as usize..(d + n) as usize].copy_from_slice(&chunk);
                (len > n).then_some(if forward {
                    Bulk::TableCopy {
                        dst_table,
                        src_table,
                        dst: dst + n,
                        src: src + n,
                        len: len - n,
                    }
                } else {
                    Bulk::TableCopy {
                        dst_table,
                        src_table,
                        dst,
                        src,
                        len: len - n,
                    }
                })
            }
            Bulk::TableInit {
                table,
                elem,
                dst,
                src,
                len,
            } => {
                let n = len.min(BULK_TABLE_CHUNK);
                let items = store.elems[elem as usize].as_deref().unwrap_or(&[]);
                let chunk: Vec<u64> = items[src as usize..(src + n) as usize].to_vec();
                store.tables[table as usize].elems[dst as usize..(dst + n) as usize].copy_from_slice(&chunk);
                (len > n).then_some(Bulk::TableInit {
                    table,
                    elem,
                    dst: dst + n,
                    src: src + n,
                    len: len - n,
                })
            }
        };
        self.pending = next;
    }

    #[allow(clippy::cognitive_complexity)]
    fn interpret<H: Hooks>(
        &mut self,
        store: &mut Store,
        fuel: &mut u64,
        code: &mut Arc<Module>,
        hooks: &mut H,
    ) -> Outcome {
        // The current instance's memory (refreshed when the instance changes).
        let mut mem = Self::current_memory(store, self.instance);
        macro_rules! read {
            ($c:expr) => {
                if H::ENABLED {
                    if let Err(m) = hooks.read($c) {
                        return Outcome::Missing(m);
                    }
                }
            };
        }
        macro_rules! write {
            ($c:expr) => {
                if H::ENABLED {
                    if let Err(m) = hooks.write($c) {
                        return Outcome::Missing(m);
                    }
                }
            };
        }
        macro_rules! slot {
            ($i:expr, $w:expr) => {
                if H::ENABLED {
                    let c = Chunk::Stack {
                        index: ($i) as u64 / hooks::STACK_CHUNK,
                    };
                    if $w {
                        write!(c);
                    } else {
                        read!(c);
                    }
                }
            };
        }
        macro_rules! pop {
            () => {{
                slot!(self.stack.len() - 1, false);
                self.stack.pop().expect("validated code never underflows")
            }};
        }
        macro_rules! push {
            ($v:expr) => {{
                let v: u64 = $v;
                slot!(self.stack.len(), true);
                self.stack.push(v)
            }};
        }
        macro_rules! instance_entry {
            ($space:expr, $i:expr) => {
                read!(Chunk::Instance {
                    instance: self.instance,
                    index: ($space << 40) | (u64::from($i) / 32),
                })
            };
        }
        macro_rules! trap {
            ($t:expr) => {
                return Outcome::Trap($t)
            };
        }
        macro_rules! un32 {
            ($f:expr) => {{
                let a = pop!() as u32;
                let f: fn(u32) -> u32 = $f;
                push!(u64::from(f(a)))
            }};
        }
        macro_rules! bin32 {
            ($f:expr) => {{
                let b = pop!() as u32;
                let a = pop!() as u32;
                let f: fn(u32, u32) -> u32 = $f;
                push!(u64::from(f(a, b)))
            }};
        }
        macro_rules! cmp32 {
            ($f:expr) => {{
                let b = pop!() as u32;
                let a = pop!() as u32;
                let f: fn(u32, u32) -> bool = $f;
                push!(u64::from(f(a, b)))
            }};
        }
        macro_rules! un64 {
            ($f:expr) => {{
                let a = pop!();
                let f: fn(u64) -> u64 = $f;
                push!(f(a))
            }};
        }
        macro_rules! bin64 {
            ($f:expr) => {{
                let b = pop!();
                let a = pop!();
                let f: fn(u64, u64) -> u64 = $f;
                push!(f(a, b))
            }};
        }
        macro_rules! cmp64 {
            ($f:expr) => {{
                let b = pop!();
                let a = pop!();
                let f: fn(u64, u64) -> bool = $f;
                push!(u64::from(f(a, b)))
            }};
        }
        macro_rules! f32un {
            ($f:expr) => {{
                let a = f32::from_bits(pop!() as u32);
                let f: fn(f32) -> f32 = $f;
                push!(u64::from(float::quiet32(f(a)).to_bits()))
            }};
        }
        macro_rules! f32bin {
            ($f:expr) => {{
                let b = f32::from_bits(pop!() as u32);
                let a = f32::from_bits(pop!() as u32);
                let f: fn(f32, f32) -> f32 = $f;
                push!(u64::from(float::quiet32(f(a, b)).to_bits()))
            }};
        }
        macro_rules! f32cmp {
            ($f:expr) => {{
                let b = f32::from_bits(pop!() as u32);
                let a = f32::from_bits(pop!() as u32);
                let f: fn(f32, f32) -> bool = $f;
                push!(u64::from(f(a, b)))
            }};
        }
        macro_rules! f64un {
            ($f:expr) => {{
                let a = f64::from_bits(pop!());
                let f: fn(f64) -> f64 = $f;
                push!(float::quiet64(f(a)).to_bits())
            }};
        }
        macro_rules! f64bin {
            ($f:expr) => {{
                let b = f64::from_bits(pop!());
                let a = f64::from_bits(pop!());
                let f: fn(f64, f64) -> f64 = $f;
                push!(float::quiet64(f(a, b)).to_bits())
            }};
        }
        macro_rules! f64cmp {
            ($f:expr) => {{
                let b = f64::from_bits(pop!());
                let a = f64::from_bits(pop!());
                let f: fn(f64, f64) -> bool = $f;
                push!(u64::from(f(a, b)))
            }};
        }
        macro_rules! addr {
            ($offset:expr, $size:expr, $w:expr) => {{
                let base = pop!() as u32;
                let ea = u64::from(base) + u64::from($offset);
                instance_entry!(2u64, 0u32);
                if H::ENABLED {
                    // A partial state may not have had the instance loaded
                    // when `mem` was cached: look it up after the hook.
                    mem = Self::current_memory(store, self.instance);
                }
                read!(Chunk::MemorySize { mem });
                if H::ENABLED {
                    for c in hooks::memory_chunks(mem, ea, $size) {
                        if $w {
                            write!(c);
                        } else {
                            read!(c);
                        }
                    }
                }
                // An effective address beyond usize cannot be in bounds.
                usize::try_from(ea).unwrap_or(usize::MAX)
            }};
        }
        macro_rules! load {
            ($offset:expr, $n:literal, $conv:expr) => {{
                let ea = addr!($offset, $n, false);
                let Some(bytes) = store.memories[mem as usize].data.get(ea..ea.saturating_add($n)) else {
                    trap!(Trap::MemoryOutOfBounds)
                };
                let bytes: [u8; $n] = bytes.try_into().expect("slice of length n");
                let f: fn([u8; $n]) -> u64 = $conv;
                push!(f(bytes))
            }};
        }
        macro_rules! store_mem {
            ($offset:expr, $n:literal, $conv:expr) => {{
                let v = pop!();
                let ea = addr!($offset, $n, true);
                let Some(bytes) = store.memories[mem as usize]
                    .data
                    .get_mut(ea..ea.saturating_add($n))
                else {
                    trap!(Trap::MemoryOutOfBounds)
                };
                let f: fn(u64) -> [u8; $n] = $conv;
                bytes.copy_from_slice(&f(v));
            }};
        }
        macro_rules! branch {
            ($target:expr, $drop:expr, $keep:expr) => {{
                let (drop, keep) = ($drop as usize, $keep as usize);
                if H::ENABLED && drop > 0 {
                    let len = self.stack.len() as u64;
                    let (keep64, drop64) = (keep as u64, drop as u64);
                    for c in hooks::stack_chunks(len - keep64, len) {
                        read!(c);
                    }
                    for c in hooks::stack_chunks(len - keep64 - drop64, len - drop64) {
                        write!(c);
                    }
                }
                if drop > 0 {
                    let len = self.stack.len();
                    self.stack.copy_within(len - keep..len, len - keep - drop);
                    self.stack.truncate(len - drop);
                }
                self.pc = $target;
            }};
        }

        let mut touched = Vec::new();
        loop {
            if *fuel == 0 {
                return Outcome::OutOfTicks;
            }
            *fuel -= 1;
            if H::ENABLED {
                hooks.tick();
                write!(Chunk::Registers);
            }
            if let Some(bulk) = self.pending {
                if H::ENABLED {
                    touched.clear();
                    Self::bulk_chunks(bulk, &mut touched);
                    for &(c, w) in &touched {
                        if w {
                            write!(c);
                        } else {
                            read!(c);
                        }
                    }
                }
                self.step_bulk(store, bulk);
                continue;
            }
            read!(Chunk::Code {
                instance: self.instance,
                index: u64::from(self.pc) / hooks::CODE_CHUNK,
            });
            let op = code.code[self.pc as usize];
            self.pc += 1;
            match op {
                Op::Unreachable => trap!(Trap::Unreachable),
                Op::Br { target, drop, keep } => branch!(target, drop, keep),
                Op::BrIf { target, drop, keep } => {
                    if pop!() as u32 != 0 {
                        branch!(target, drop, keep);
                    }
                }
                Op::BrUnless { target } => {
                    if pop!() as u32 == 0 {
                        self.pc = target;
                    }
                }
                Op::BrTable { len } => {
                    let i = (pop!() as u32).min(len);
                    read!(Chunk::Code {
                        instance: self.instance,
                        index: u64::from(self.pc + i) / hooks::CODE_CHUNK,
                    });
                    match code.code[(self.pc + i) as usize] {
                        Op::BrTableEntry { target, drop, keep } => branch!(target, drop, keep),
                        other => unreachable!("br_table entry expected, found {other:?}"),
                    }
                }
                Op::BrTableEntry { .. } => unreachable!("br_table entries are not executed"),
                Op::Return => {
                    read!(Chunk::Func { func: self.func });
                    read!(Chunk::Type {
                        id: store.funcs[self.func as usize].type_id()
                    });
                    let arity = store.func_type(self.func).results.len();
                    let len = self.stack.len();
                    let fp = self.fp as usize;
                    if H::ENABLED {
                        hooks.ret();
                        for c in hooks::stack_chunks((len - arity) as u64, len as u64) {
                            read!(c);
                        }
                        for c in hooks::stack_chunks(fp as u64, (fp + arity) as u64) {
                            write!(c);
                        }
                        if !self.frames.is_empty() {
                            read!(Chunk::Frames {
                                index: (self.frames.len() - 1) as u64 / hooks::FRAME_CHUNK
                            });
                        }
                    }
                    self.stack.copy_within(len - arity..len, fp);
                    self.stack.truncate(fp + arity);
                    match self.frames.pop() {
                        Some(f) => {
                            self.pc = f.ret_pc;
                            self.fp = f.fp;
                            self.func = f.func;
                            if self.instance != f.instance {
                                self.instance = f.instance;
                                *code = store.instances[f.instance as usize].module.clone();
                                mem = Self::current_memory(store, self.instance);
                            }
                        }
                        None => {
                            self.pc = u32::MAX;
                            return Outcome::Returned(std::mem::take(&mut self.stack));
                        }
                    }
                }
                Op::Call { func } => {
                    instance_entry!(0u64, func);
                    let addr = store.instances[self.instance as usize].funcs[func as usize];
                    if let Some(o) = self.enter(store, addr, code, hooks) {
                        return o;
                    }
                    mem = Self::current_memory(store, self.instance);
                }
                Op::CallIndirect { type_index, table } => {
                    instance_entry!(1u64, table);
                    instance_entry!(5u64, type_index);
                    let i = pop!() as u32;
                    let inst = &store.instances[self.instance as usize];
                    let want = inst.types[type_index as usize];
                    let table_addr = inst.tables[table as usize];
                    read!(Chunk::TableSize { table: table_addr });
                    read!(Chunk::Table {
                        table: table_addr,
                        index: u64::from(i) / hooks::TABLE_CHUNK,
                    });
                    let t = &store.tables[table_addr as usize];
                    let Some(&r) = t.elems.get(i as usize) else {
                        trap!(Trap::UndefinedElement)
                    };
                    if r == NULL_REF {
                        trap!(Trap::UninitializedElement);
                    }
                    let addr = func_of_ref(r);
                    read!(Chunk::Func { func: addr });
                    let have = store.funcs[addr as usize].type_id();
                    // Function types match structurally; equal ids are the
                    // common case and need no type read.
                    if have != want {
                        read!(Chunk::Type { id: have });
                        read!(Chunk::Type { id: want });
                        if store.types[have as usize] != store.types[want as usize] {
                            trap!(Trap::IndirectCallTypeMismatch);
                        }
                    }
                    if let Some(o) = self.enter(store, addr, code, hooks) {
                        return o;
                    }
                    mem = Self::current_memory(store, self.instance);
                }
                Op::Drop => {
                    pop!();
                }
                Op::Select => {
                    let c = pop!() as u32;
                    let b = pop!();
                    if c == 0 {
                        slot!(self.stack.len() - 1, true);
                        *self.stack.last_mut().expect("validated") = b;
                    }
                }
                Op::LocalGet(i) => {
                    slot!(self.fp + i, false);
                    push!(self.stack[(self.fp + i) as usize])
                }
                Op::LocalSet(i) => {
                    let v = pop!();
                    slot!(self.fp + i, true);
                    self.stack[(self.fp + i) as usize] = v;
                }
                Op::LocalTee(i) => {
                    slot!(self.stack.len() - 1, false);
                    slot!(self.fp + i, true);
                    let v = *self.stack.last().expect("validated");
                    self.stack[(self.fp + i) as usize] = v;
                }
                Op::GlobalGet(g) => {
                    instance_entry!(3u64, g);
                    let a = store.instances[self.instance as usize].globals[g as usize];
                    read!(Chunk::Globals {
                        index: u64::from(a) / hooks::GLOBAL_CHUNK
                    });
                    push!(store.globals[a as usize].value)
                }
                Op::GlobalSet(g) => {
                    instance_entry!(3u64, g);
                    let a = store.instances[self.instance as usize].globals[g as usize];
                    write!(Chunk::Globals {
                        index: u64::from(a) / hooks::GLOBAL_CHUNK
                    });
                    store.globals[a as usize].value = pop!();
                }
                Op::TableGet(t) => {
                    instance_entry!(1u64, t);
                    let a = store.instances[self.instance as usize].tables[t as usize];
                    let i = pop!() as u32;
                    read!(Chunk::TableSize { table: a });
                    read!(Chunk::Table {
                        table: a,
                        index: u64::from(i) / hooks::TABLE_CHUNK,
                    });
                    match store.tables[a as usize].elems.get(i as usize) {
                        Some(&v) => push!(v),
                        None => trap!(Trap::TableOutOfBounds),
                    }
                }
                Op::TableSet(t) => {
                    instance_entry!(1u64, t);
                    let a = store.instances[self.instance as usize].tables[t as usize];
                    let v = pop!();
                    let i = pop!() as u32;
                    read!(Chunk::TableSize { table: a });
                    write!(Chunk::Table {
                        table: a,
                        index: u64::from(i) / hooks::TABLE_CHUNK,
                    });
                    match store.tables[a as usize].elems.get_mut(i as usize) {
                        Some(slot) => *slot = v,
                        None => trap!(Trap::TableOutOfBounds),
                    }
                }
                Op::TableSize(t) => {
                    instance_entry!(1u64, t);
                    let a = store.instances[self.instance as usize].tables[t as usize];
                    read!(Chunk::TableSize { table: a });
                    push!(store.tables[a as usize].elems.len() as u64)
                }
                Op::TableGrow(t) => {
                    instance_entry!(1u64, t);
                    let a = store.instances[self.instance as usize].tables[t as usize];
                    write!(Chunk::TableSize { table: a });
                    let n = pop!() as u32;
                    let init = pop!();
                    let table = &mut store.tables[a as usize];
                    let old = table.elems.len() as u64;
                    let new = old + u64::from(n);
                    let max =
                        u64::from(table.ty.limits.max.unwrap_or(u32::MAX)).min(u64::from(limits::MAX_TABLE_ELEMS));
                    if new > max {
                        push!(u64::from(u32::MAX))
                    } else {
                        // New elements start null (absent = zero); a non-null
                        // initial value is filled in one chunk per tick.
                        table.elems.resize(new as usize, crate::store::NULL_REF);
                        if init != crate::store::NULL_REF && n > 0 {
                            self.pending = Some(Bulk::TableFill {
                                table: a,
                                dst: old as u32,
                                value: init,
                                len: n,
                            });
                        }
                        push!(old)
                    }
                }
                Op::TableFill(t) => {
                    instance_entry!(1u64, t);
                    let a = store.instances[self.instance as usize].tables[t as usize];
                    read!(Chunk::TableSize { table: a });
                    let n = pop!() as u32;
                    let v = pop!();
                    let d = pop!() as u32;
                    if u64::from(d) + u64::from(n) > store.tables[a as usize].elems.len() as u64 {
                        trap!(Trap::TableOutOfBounds);
                    }
                    if n > 0 {
                        self.pending = Some(Bulk::TableFill {
                            table: a,
                            dst: d,
                            value: v,
                            len: n,
                        });
                    }
                }
                Op::TableCopy { dst, src } => {
                    instance_entry!(1u64, dst);
                    instance_entry!(1u64, src);
                    let inst = &store.instances[self.instance as usize];
                    let (da, sa) = (inst.tables[dst as usize], inst.tables[src as usize]);
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    read!(Chunk::TableSize { table: sa });
                    read!(Chunk::TableSize { table: da });
                    if u64::from(s) + u64::from(n) > store.tables[sa as usize].elems.len() as u64
                        || u64::from(d) + u64::from(n) > store.tables[da as usize].elems.len() as u64
                    {
                        trap!(Trap::TableOutOfBounds);
                    }
                    if n > 0 {
                        self.pending = Some(Bulk::TableCopy {
                            dst_table: da,
                            src_table: sa,
                            dst: d,
                            src: s,
                            len: n,
                        });
                    }
                }
                Op::TableInit { table, elem } => {
                    instance_entry!(1u64, table);
                    instance_entry!(6u64, elem);
                    let inst = &store.instances[self.instance as usize];
                    let (ta, ea) = (inst.tables[table as usize], inst.elems[elem as usize]);
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    read!(Chunk::TableSize { table: ta });
                    read!(Chunk::Elem {
                        elem: ea,
                        index: u64::MAX
                    });
                    let items = store.elems[ea as usize].as_ref().map_or(0, Vec::len) as u64;
                    if u64::from(s) + u64::from(n) > items
                        || u64::from(d) + u64::from(n) > store.tables[ta as usize].elems.len() as u64
                    {
                        trap!(Trap::TableOutOfBounds);
                    }
                    if n > 0 {
                        self.pending = Some(Bulk::TableInit {
                            table: ta,
                            elem: ea,
                            dst: d,
                            src: s,
                            len: n,
                        });
                    }
                }
                Op::ElemDrop(e) => {
                    instance_entry!(6u64, e);
                    let a = store.instances[self.instance as usize].elems[e as usize];
                    write!(Chunk::Elem {
                        elem: a,
                        index: u64::MAX
                    });
                    store.elems[a as usize] = None;
                }
                Op::I32Load(o) => load!(o, 4, |b| u64::from(u32::from_le_bytes(b))),
                Op::I64Load(o) => load!(o, 8, u64::from_le_bytes),
                Op::F32Load(o) => load!(o, 4, |b| u64::from(u32::from_le_bytes(b))),
                Op::F64Load(o) => load!(o, 8, u64::from_le_bytes),
                Op::I32Load8S(o) => load!(o, 1, |b| u64::from(b[0] as i8 as i32 as u32)),
                Op::I32Load8U(o) => load!(o, 1, |b| u64::from(b[0])),
                Op::I32Load16S(o) => load!(o, 2, |b| u64::from(i16::from_le_bytes(b) as i32 as u32)),
                Op::I32Load16U(o) => load!(o, 2, |b| u64::from(u16::from_le_bytes(b))),
                Op::I64Load8S(o) => load!(o, 1, |b| b[0] as i8 as i64 as u64),
                Op::I64Load8U(o) => load!(o, 1, |b| u64::from(b[0])),
                Op::I64Load16S(o) => load!(o, 2, |b| i16::from_le_bytes(b) as i64 as u64),
                Op::I64Load16U(o) => load!(o, 2, |b| u64::from(u16::from_le_bytes(b))),
                Op::I64Load32S(o) => load!(o, 4, |b| i32::from_le_bytes(b) as i64 as u64),
                Op::I64Load32U(o) => load!(o, 4, |b| u64::from(u32::from_le_bytes(b))),
                Op::I32Store(o) | Op::F32Store(o) => store_mem!(o, 4, |v| (v as u32).to_le_bytes()),
                Op::I64Store(o) | Op::F64Store(o) => store_mem!(o, 8, u64::to_le_bytes),
                Op::I32Store8(o) | Op::I64Store8(o) => store_mem!(o, 1, |v| [v as u8]),
                Op::I32Store16(o) | Op::I64Store16(o) => store_mem!(o, 2, |v| (v as u16).to_le_bytes()),
                Op::I64Store32(o) => store_mem!(o, 4, |v| (v as u32).to_le_bytes()),
                Op::MemorySize => {
                    instance_entry!(2u64, 0u32);
                    let mem = Self::mem_addr(store, self.instance);
                    read!(Chunk::MemorySize { mem });
                    push!(u64::from(store.memories[mem as usize].pages()))
                }
                Op::MemoryGrow => {
                    instance_entry!(2u64, 0u32);
                    let mem = Self::mem_addr(store, self.instance);
                    // O(1) in the chunk model: new pages are absent and read as zero.
                    write!(Chunk::MemorySize { mem });
                    let n = pop!() as u32;
                    match store.memories[mem as usize].grow(n) {
                        Some(old) => push!(u64::from(old)),
                        None => push!(u64::from(u32::MAX)),
                    }
                }
                Op::MemoryFill => {
                    instance_entry!(2u64, 0u32);
                    let mem = Self::mem_addr(store, self.instance);
                    read!(Chunk::MemorySize { mem });
                    let n = pop!() as u32;
                    let v = pop!() as u8;
                    let d = pop!() as u32;
                    if u64::from(d) + u64::from(n) > store.memories[mem as usize].data.len() as u64 {
                        trap!(Trap::MemoryOutOfBounds);
                    }
                    if n > 0 {
                        self.pending = Some(Bulk::MemFill {
                            mem,
                            dst: d,
                            value: v,
                            len: n,
                        });
                    }
                }
                Op::MemoryCopy => {
                    instance_entry!(2u64, 0u32);
                    let mem = Self::mem_addr(store, self.instance);
                    read!(Chunk::MemorySize { mem });
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    let size = store.memories[mem as usize].data.len() as u64;
                    if u64::from(s) + u64::from(n) > size || u64::from(d) + u64::from(n) > size {
                        trap!(Trap::MemoryOutOfBounds);
                    }
                    if n > 0 {
                        self.pending = Some(Bulk::MemCopy {
                            mem,
                            dst: d,
                            src: s,
                            len: n,
                        });
                    }
                }
                Op::MemoryInit(seg) => {
                    instance_entry!(2u64, 0u32);
                    instance_entry!(7u64, seg);
                    let inst = &store.instances[self.instance as usize];
                    let (mem, data) = (inst.memories[0], inst.datas[seg as usize]);
                    let n = pop!() as u32;
                    let s = pop!() as u32;
                    let d = pop!() as u32;
                    read!(Chunk::MemorySize { mem });
                    read!(Chunk::Data { data, index: u64::MAX });
                    let len = store.datas[data as usize].as_ref().map_or(0, |b| b.len()) as u64;
                    if u64::from(s) + u64::from(n) > len
                        || u64::from(d) + u64::from(n) > store.memories[mem as usize].data.len() as u64
                    {
                        trap!(Trap::MemoryOutOfBounds);
                    }
                    if n > 0 {
                        self.pending = Some(Bulk::MemInit {
                            mem,
                            dst: d,
                            data,
                            src: s,
                            len: n,
                        });
                    }
                }
                Op::DataDrop(seg) => {
                    instance_entry!(7u64, seg);
                    let a = store.instances[self.instance as usize].datas[seg as usize];
                    write!(Chunk::Data {
                        data: a,
                        index: u64::MAX
                    });
                    store.datas[a as usize] = None;
                }
                Op::I32Const(v) => push!(u64::from(v as u32)),
                Op::I64Const(v) => push!(v as u64),
                Op::F32Const(v) => push!(u64::from(v)),
                Op::F64Const(v) => push!(v),
                Op::RefNull => push!(NULL_REF),
                Op::RefIsNull => {
                    let v = pop!();
                    push!(u64::from(v == NULL_REF))
                }
                Op::RefFunc(f) => {
                    instance_entry!(0u64, f);
                    push!(func_ref(store.instances[self.instance as usize].funcs[f as usize]))
                }

                Op::I32Eqz => un32!(|a| u32::from(a == 0)),
                Op::I32Eq => cmp32!(|a, b| a == b),
                Op::I32Ne => cmp32!(|a, b| a != b),
                Op::I32LtS => cmp32!(|a, b| (a as i32) < (b as i32)),
                Op::I32LtU => cmp32!(|a, b| a < b),
                Op::I32GtS => cmp32!(|a, b| (a as i32) > (b as i32)),
                Op::I32GtU => cmp32!(|a, b| a > b),
                Op::I32LeS => cmp32!(|a, b| (a as i32) <= (b as i32)),
                Op::I32LeU => cmp32!(|a, b| a <= b),
                Op::I32GeS => cmp32!(|a, b| (a as i32) >= (b as i32)),
                Op::I32GeU => cmp32!(|a, b| a >= b),
                Op::I64Eqz => {
                    let a = pop!();
                    push!(u64::from(a == 0))
                }
                Op::I64Eq => cmp64!(|a, b| a == b),
                Op::I64Ne => cmp64!(|a, b| a != b),
                Op::I64LtS => cmp64!(|a, b| (a as i64) < (b as i64)),
                Op::I64LtU => cmp64!(|a, b| a < b),
                Op::I64GtS => cmp64!(|a, b| (a as i64) > (b as i64)),
                Op::I64GtU => cmp64!(|a, b| a > b),
                Op::I64LeS => cmp64!(|a, b| (a as i64) <= (b as i64)),
                Op::I64LeU => cmp64!(|a, b| a <= b),
                Op::I64GeS => cmp64!(|a, b| (a as i64) >= (b as i64)),
                Op::I64GeU => cmp64!(|a, b| a >= b),
                Op::F32Eq => f32cmp!(|a, b| a == b),
                Op::F32Ne => f32cmp!(|a, b| a != b),
                Op::F32Lt => f32cmp!(|a, b| a < b),
                Op::F32Gt => f32cmp!(|a, b| a > b),
                Op::F32Le => f32cmp!(|a, b| a <= b),
                Op::F32Ge => f32cmp!(|a, b| a >= b),
                Op::F64Eq => f64cmp!(|a, b| a == b),
                Op::F64Ne => f64cmp!(|a, b| a != b),
                Op::F64Lt => f64cmp!(|a, b| a < b),
                Op::F64Gt => f64cmp!(|a, b| a > b),
                Op::F64Le => f64cmp!(|a, b| a <= b),
                Op::F64Ge => f64cmp!(|a, b| a >= b),
                Op::I32Clz => un32!(u32::leading_zeros),
                Op::I32Ctz => un32!(u32::trailing_zeros),
                Op::I32Popcnt => un32!(u32::count_ones),
                Op::I32Add => bin32!(u32::wrapping_add),
                Op::I32Sub => bin32!(u32::wrapping_sub),
                Op::I32Mul => bin32!(u32::wrapping_mul),
                Op::I32DivS => {
                    let b = pop!() as u32 as i32;
                    let a = pop!() as u32 as i32;
                    if b == 0 {
                        trap!(Trap::IntegerDivideByZero);
                    }
                    if a == i32::MIN && b == -1 {
                        trap!(Trap::IntegerOverflow);
                    }
                    push!(u64::from((a / b) as u32))
                }
                Op::I32DivU => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if b == 0 {
                        trap!(Trap::IntegerDivideByZero);
                    }
                    push!(u64::from(a / b))
                }
                Op::I32RemS => {
                    let b = pop!() as u32 as i32;
                    let a = pop!() as u32 as i32;
                    if b == 0 {
                        trap!(Trap::IntegerDivideByZero);
                    }
                    push!(u64::from(a.wrapping_rem(b) as u32))
                }
                Op::I32RemU => {
                    let b = pop!() as u32;
                    let a = pop!() as u32;
                    if b == 0 {
                        trap!(Trap::IntegerDivideByZero);
                    }
                    push!(u64::from(a % b))
                }
                Op::I32And => bin32!(|a, b| a & b),
                Op::I32Or => bin32!(|a, b| a | b),
                Op::I32Xor => bin32!(|a, b| a ^ b),
                Op::I32Shl => bin32!(|a, b| a.wrapping_shl(b)),
                Op::I32ShrS => bin32!(|a, b| (a as i32).wrapping_shr(b) as u32),
                Op::I32ShrU => bin32!(|a, b| a.wrapping_shr(b)),
                Op::I32Rotl => bin32!(|a, b| a.rotate_left(b % 32)),
                Op::I32Rotr => bin32!(|a, b| a.rotate_right(b % 32)),
                Op::I64Clz => un64!(|a| u64::from(a.leading_zeros())),
                Op::I64Ctz => un64!(|a| u64::from(a.trailing_zeros())),
                Op::I64Popcnt => un64!(|a| u64::from(a.count_ones())),
                Op::I64Add => bin64!(u64::wrapping_add),
                Op::I64Sub => bin64!(u64::wrapping_sub),
                Op::I64Mul => bin64!(u64::wrapping_mul),
                Op::I64DivS => {
                    let b = pop!() as i64;
                    let a = pop!() as i64;
                    if b == 0 {
                        trap!(Trap::IntegerDivideByZero);
                    }
                    if a == i64::MIN && b == -1 {
                        trap!(Trap::IntegerOverflow);
                    }
                    push!((a / b) as u64)
                }
                Op::I64DivU => {
                    let b = pop!();
                    let a = pop!();
                    if b == 0 {
                        trap!(Trap::IntegerDivideByZero);
                    }
                    push!(a / b)
                }
                Op::I64RemS => {
                    let b = pop!() as i64;
                    let a = pop!() as i64;
                    if b == 0 {
                        trap!(Trap::IntegerDivideByZero);
                    }
                    push!(a.wrapping_rem(b) as u64)
                }
                Op::I64RemU => {
                    let b = pop!();
                    let a = pop!();
                    if b == 0 {
                        trap!(Trap::IntegerDivideByZero);
                    }
                    push!(a % b)
                }
                Op::I64And => bin64!(|a, b| a & b),
                Op::I64Or => bin64!(|a, b| a | b),
                Op::I64Xor => bin64!(|a, b| a ^ b),
                Op::I64Shl => bin64!(|a, b| a.wrapping_shl(b as u32)),
                Op::I64ShrS => bin64!(|a, b| (a as i64).wrapping_shr(b as u32) as u64),
                Op::I64ShrU => bin64!(|a, b| a.wrapping_shr(b as u32)),
                Op::I64Rotl => bin64!(|a, b| a.rotate_left((b % 64) as u32)),
                Op::I64Rotr => bin64!(|a, b| a.rotate_right((b % 64) as u32)),
                Op::F32Abs => un32!(|a| a & 0x7fff_ffff),
                Op::F32Neg => un32!(|a| a ^ 0x8000_0000),
                Op::F32Ceil => f32un!(f32::ceil),
                Op::F32Floor => f32un!(f32::floor),
                Op::F32Trunc => f32un!(f32::trunc),
                Op::F32Nearest => f32un!(f32::round_ties_even),
                Op::F32Sqrt => f32un!(f32::sqrt),
                Op::F32Add => f32bin!(|a, b| a + b),
                Op::F32Sub => f32bin!(|a, b| a - b),
                Op::F32Mul => f32bin!(|a, b| a * b),
                Op::F32Div => f32bin!(|a, b| a / b),
                Op::F32Min => f32bin!(float::min32),
                Op::F32Max => f32bin!(float::max32),
                Op::F32Copysign => bin32!(|a, b| (a & 0x7fff_ffff) | (b & 0x8000_0000)),
                Op::F64Abs => un64!(|a| a & 0x7fff_ffff_ffff_ffff),
                Op::F64Neg => un64!(|a| a ^ 0x8000_0000_0000_0000),
                Op::F64Ceil => f64un!(f64::ceil),
                Op::F64Floor => f64un!(f64::floor),
                Op::F64Trunc => f64un!(f64::trunc),
                Op::F64Nearest => f64un!(f64::round_ties_even),
                Op::F64Sqrt => f64un!(f64::sqrt),
                Op::F64Add => f64bin!(|a, b| a + b),
                Op::F64Sub => f64bin!(|a, b| a - b),
                Op::F64Mul => f64bin!(|a, b| a * b),
                Op::F64Div => f64bin!(|a, b| a / b),
                Op::F64Min => f64bin!(float::min64),
                Op::F64Max => f64bin!(float::max64),
                Op::F64Copysign => bin64!(|a, b| (a & 0x7fff_ffff_ffff_ffff) | (b & 0x8000_0000_0000_0000)),
                Op::I32WrapI64 => un64!(|a| a & 0xffff_ffff),
                Op::I32TruncF32S => {
                    let a = f64::from(f32::from_bits(pop!() as u32));
                    match float::trunc(a, -2147483649.0, 2147483648.0) {
                        Ok(v) => push!(u64::from(v as i32 as u32)),
                        Err(t) => trap!(t),
                    }
                }
                Op::I32TruncF32U => {
                    let a = f64::from(f32::from_bits(pop!() as u32));
                    match float::trunc(a, -1.0, 4294967296.0) {
                        Ok(v) => push!(u64::from(v as u32)),
                        Err(t) => trap!(t),
                    }
                }
                Op::I32TruncF64S => {
                    let a = f64::from_bits(pop!());
                    match float::trunc(a, -2147483649.0, 2147483648.0) {
                        Ok(v) => push!(u64::from(v as i32 as u32)),
                        Err(t) => trap!(t),
                    }
                }
                Op::I32TruncF64U => {
                    let a = f64::from_bits(pop!());
                    match float::trunc(a, -1.0, 4294967296.0) {
                        Ok(v) => push!(u64::from(v as u32)),
                        Err(t) => trap!(t),
                    }
                }
                Op::I64ExtendI32S => un64!(|a| a as u32 as i32 as i64 as u64),
                Op::I64ExtendI32U => un64!(|a| a & 0xffff_ffff),
                Op::I64TruncF32S => {
                    let a = f64::from(f32::from_bits(pop!() as u32));
                    match float::trunc(a, -9223373136366403584.0, 9223372036854775808.0) {
                        Ok(v) => push!(v as i64 as u64),
                        Err(t) => trap!(t),
                    }
                }
                Op::I64TruncF32U => {
                    let a = f64::from(f32::from_bits(pop!() as u32));
                    match float::trunc(a, -1.0, 18446744073709551616.0) {
                        Ok(v) => push!(v as u64),
                        Err(t) => trap!(t),
                    }
                }
                Op::I64TruncF64S => {
                    let a = f64::from_bits(pop!());
                    match float::trunc(a, -9223372036854777856.0, 9223372036854775808.0) {
                        Ok(v) => push!(v as i64 as u64),
                        Err(t) => trap!(t),
                    }
                }
                Op::I64TruncF64U => {
                    let a = f64::from_bits(pop!());
                    match float::trunc(a, -1.0, 18446744073709551616.0) {
                        Ok(v) => push!(v as u64),
                        Err(t) => trap!(t),
                    }
                }
                Op::F32ConvertI32S => un64!(|a| u64::from((a as u32 as i32 as f32).to_bits())),
                Op::F32ConvertI32U => un64!(|a| u64::from((a as u32 as f32).to_bits())),
                Op::F32ConvertI64S => un64!(|a| u64::from((a as i64 as f32).to_bits())),
                Op::F32ConvertI64U => un64!(|a| u64::from((a as f32).to_bits())),
                Op::F32DemoteF64 => un64!(|a| u64::from(float::demote(f64::from_bits(a)).to_bits())),
                Op::F64ConvertI32S => un64!(|a| f64::from(a as u32 as i32).to_bits()),
                Op::F64ConvertI32U => un64!(|a| f64::from(a as u32).to_bits()),
                Op::F64ConvertI64S => un64!(|a| (a as i64 as f64).to_bits()),
                Op::F64ConvertI64U => un64!(|a| (a as f64).to_bits()),
                Op::F64PromoteF32 => un64!(|a| float::promote(f32::from_bits(a as u32)).to_bits()),
                Op::I32ReinterpretF32 | Op::F32ReinterpretI32 | Op::I64ReinterpretF64 | Op::F64ReinterpretI64 => {}
                Op::I32Extend8S => un32!(|a| a as u8 as i8 as i32 as u32),
                Op::I32Extend16S => un32!(|a| a as u16 as i16 as i32 as u32),
                Op::I64Extend8S => un64!(|a| a as u8 as i8 as i64 as u64),
                Op::I64Extend16S => un64!(|a| a as u16 as i16 as i64 as u64),
                Op::I64Extend32S => un64!(|a| a as u32 as i32 as i64 as u64),
                // Rust's float-to-int `as` saturates and maps NaN to 0, as the
                // saturating conversions require.
                Op::I32TruncSatF32S => un64!(|a| u64::from(f32::from_bits(a as u32) as i32 as u32)),
                Op::I32TruncSatF32U => un64!(|a| u64::from(f32::from_bits(a as u32) as u32)),
                Op::I32TruncSatF64S => un64!(|a| u64::from(f64::from_bits(a) as i32 as u32)),
                Op::I32TruncSatF64U => un64!(|a| u64::from(f64::from_bits(a) as u32)),
                Op::I64TruncSatF32S => un64!(|a| f32::from_bits(a as u32) as i64 as u64),
                Op::I64TruncSatF32U => un64!(|a| f32::from_bits(a as u32) as u64),
                Op::I64TruncSatF64S => un64!(|a| f64::from_bits(a) as i64 as u64),
                Op::I64TruncSatF64U => un64!(|a| f64::from_bits(a) as u64),
            }
        }
    }
}

/// Float helpers with WebAssembly semantics.
mod float {
    use super::Trap;

    const CANONICAL_NAN_32: f32 = f32::from_bits(0x7fc0_0000);
    const CANONICAL_NAN_64: f64 = f64::from_bits(0x7ff8_0000_0000_0000);

    /// Arithmetic results that are NaN must be quiet NaNs.
    pub(super) fn quiet32(x: f32) -> f32 {
        if x.is_nan() {
            f32::from_bits(x.to_bits() | 0x0040_0000)
        } else {
            x
        }
    }

    /// Arithmetic results that are NaN must be quiet NaNs.
    pub(super) fn quiet64(x: f64) -> f64 {
        if x.is_nan() {
            f64::from_bits(x.to_bits() | 0x0008_0000_0000_0000)
        } else {
            x
        }
    }

    pub(super) fn min32(a: f32, b: f32) -> f32 {
        if a.is_nan() || b.is_nan() {
            CANONICAL_NAN_32
        } else if a == 0.0 && b == 0.0 {
            if a.is_sign_negative() {
                a
            } else {
                b
            }
        } else {
            a.min(b)
        }
    }

    pub(super) fn max32(a: f32, b: f32) -> f32 {
        if a.is_nan() || b.is_nan() {
            CANONICAL_NAN_32
        } else if a == 0.0 && b == 0.0 {
            if a.is_sign_positive() {
                a
            } else {
                b
            }
        } else {
            a.max(b)
        }
    }

    pub(super) fn min64(a: f64, b: f64) -> f64 {
        if a.is_nan() || b.is_nan() {
            CANONICAL_NAN_64
        } else if a == 0.0 && b == 0.0 {
            if a.is_sign_negative() {
                a
            } else {
                b
            }
        } else {
            a.min(b)
        }
    }

    pub(super) fn max64(a: f64, b: f64) -> f64 {
        if a.is_nan() || b.is_nan() {
            CANONICAL_NAN_64
        } else if a == 0.0 && b == 0.0 {
            if a.is_sign_positive() {
                a
            } else {
                b
            }
        } else {
            a.max(b)
        }
    }

    /// Truncates toward zero; the result must lie strictly between `low`
    /// and `high` (the first values out of range on each side).
    pub(super) fn trunc(a: f64, low: f64, high: f64) -> Result<f64, Trap> {
        if a.is_nan() {
            return Err(Trap::InvalidConversionToInteger);
        }
        let t = a.trunc();
        if t <= low || t >= high {
            return Err(Trap::IntegerOverflow);
        }
        Ok(t)
    }

    pub(super) fn demote(a: f64) -> f32 {
        if a.is_nan() {
            // Keep the payload's top bits and force the quiet bit.
            let bits = a.to_bits();
            let sign = ((bits >> 63) as u32) << 31;
            let payload = ((bits >> 29) as u32) & 0x003f_ffff;
            return f32::from_bits(sign | 0x7fc0_0000 | payload);
        }
        a as f32
    }

    pub(super) fn promote(a: f32) -> f64 {
        if a.is_nan() {
            let bits = a.to_bits();
            let sign = u64::from(bits >> 31) << 63;
            let payload = u64::from(bits & 0x003f_ffff) << 29;
            return f64::from_bits(sign | 0x7ff8_0000_0000_0000 | payload);
        }
        f64::from(a)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_size_is_wasm_page() {
        assert_eq!(crate::store::PAGE_SIZE, 65_536);
    }
}
