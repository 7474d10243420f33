//! Observation hooks of the interpreter and the chunk model of its state.
//!
//! The interpreter is generic over [`Hooks`]. With [`NoHooks`] (the default)
//! every hook call is compiled out (`Hooks::ENABLED` is a constant), so the
//! in-memory hot loop pays nothing. Other implementations see every tick,
//! call and return (the debugger's profiler) and every *state chunk* an
//! instruction reads or writes — the unit in which the PVM stores the machine
//! in its Merkle tree and in which a proof carries it. A hook may refuse an
//! access ([`Missing`]): that is how a verifier holding only a partial state
//! stops a tick that needs a chunk its proof lacks.
//!
//! Chunk sizes (see `docs/ARCHITECTURE.md`): memory 256 bytes, value stack 16
//! slots, call frames 8, code 16 instructions, tables 32 elements, globals 32.

/// Bytes of linear memory per chunk.
pub const MEMORY_CHUNK: u64 = 256;
/// Value-stack slots per chunk.
pub const STACK_CHUNK: u64 = 16;
/// Call frames per chunk.
pub const FRAME_CHUNK: u64 = 8;
/// Decoded instructions per chunk.
pub const CODE_CHUNK: u64 = 16;
/// Table elements (and element-segment items) per chunk.
pub const TABLE_CHUNK: u64 = 32;
/// Globals per chunk.
pub const GLOBAL_CHUNK: u64 = 32;
/// Data-segment bytes per chunk.
pub const DATA_CHUNK: u64 = 256;

/// The most distinct chunks one tick may touch. The worst cases are a
/// `return` or `br` moving 128 values (9 stack chunks read and 9 written)
/// and a bulk-memory slice (2 KiB read and 2 KiB written: 9 + 9 memory
/// chunks), plus registers, code and descriptors. With 256-byte memory
/// chunks and 128-byte stack chunks that is under 8 KiB of state per tick.
pub const MAX_CHUNKS_PER_TICK: usize = 28;

/// One unit of machine state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Chunk {
    /// Program counter, frame pointer, stack height, current function and
    /// instance, bulk operation in progress.
    Registers,
    /// Linear memory `mem`, bytes `[index·256, index·256 + 256)`.
    Memory {
        /// Store address of the memory.
        mem: u32,
        /// Chunk index.
        index: u64,
    },
    /// Size of memory `mem` (pages).
    MemorySize {
        /// Store address of the memory.
        mem: u32,
    },
    /// Value-stack slots `[index·16, index·16 + 16)`.
    Stack {
        /// Chunk index.
        index: u64,
    },
    /// Call frames `[index·8, index·8 + 8)`.
    Frames {
        /// Chunk index.
        index: u64,
    },
    /// Instructions of instance `instance`'s module.
    Code {
        /// Instance.
        instance: u32,
        /// Chunk index.
        index: u64,
    },
    /// Function descriptor (type, body start, locals) of store function `func`.
    Func {
        /// Store address.
        func: u32,
    },
    /// The index spaces of an instance (function, table, memory, global,
    /// segment addresses).
    Instance {
        /// Instance.
        instance: u32,
        /// Which index space entry (grouped by 32).
        index: u64,
    },
    /// Globals `[index·32, index·32 + 32)`.
    Globals {
        /// Chunk index.
        index: u64,
    },
    /// Elements of table `table`.
    Table {
        /// Store address.
        table: u32,
        /// Chunk index.
        index: u64,
    },
    /// Size of table `table`.
    TableSize {
        /// Store address.
        table: u32,
    },
    /// Items of element segment `elem`.
    Elem {
        /// Store address.
        elem: u32,
        /// Chunk index.
        index: u64,
    },
    /// Bytes of data segment `data`.
    Data {
        /// Store address.
        data: u32,
        /// Chunk index.
        index: u64,
    },
    /// Canonical function type `id`.
    Type {
        /// Canonical type id.
        id: u32,
    },
}

/// A hook refused an access: the state chunk is not available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("state chunk {0:?} is not available")]
pub struct Missing(pub Chunk);

/// Interpreter observation hooks. Every method has a do-nothing default.
pub trait Hooks {
    /// Whether the interpreter calls the hooks at all. Leave `false` for
    /// zero cost.
    const ENABLED: bool;

    /// A tick is about to execute.
    fn tick(&mut self) {}

    /// Function `func` (store address) is entered.
    fn call(&mut self, _func: u32) {}

    /// The current function returns.
    fn ret(&mut self) {}

    /// The tick reads `chunk`.
    fn read(&mut self, _chunk: Chunk) -> Result<(), Missing> {
        Ok(())
    }

    /// The tick writes `chunk`.
    fn write(&mut self, _chunk: Chunk) -> Result<(), Missing> {
        Ok(())
    }
}

/// No hooks: the fast path.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {
    const ENABLED: bool = false;
}

/// Records the distinct chunks each tick touches (for tests and for sizing
/// proofs): after each tick, [`ChunkCounter::max`] holds the largest count.
#[derive(Debug, Clone, Default)]
pub struct ChunkCounter {
    current: std::collections::BTreeSet<Chunk>,
    /// The largest number of distinct chunks one tick touched.
    pub max: usize,
    /// The chunks of the tick that touched the most.
    pub worst: Vec<Chunk>,
    /// Ticks observed.
    pub ticks: u64,
    /// Calls observed.
    pub calls: u64,
}

impl ChunkCounter {
    fn close_tick(&mut self) {
        if self.current.len() > self.max {
            self.max = self.current.len();
            self.worst = self.current.iter().copied().collect();
        }
        self.current.clear();
    }

    /// Ends the last tick (call when a run stops).
    pub fn finish(&mut self) {
        self.close_tick();
    }
}

impl Hooks for ChunkCounter {
    const ENABLED: bool = true;

    fn tick(&mut self) {
        self.close_tick();
        self.ticks += 1;
    }

    fn call(&mut self, _func: u32) {
        self.calls += 1;
    }

    fn read(&mut self, chunk: Chunk) -> Result<(), Missing> {
        self.current.insert(chunk);
        Ok(())
    }

    fn write(&mut self, chunk: Chunk) -> Result<(), Missing> {
        self.current.insert(chunk);
        Ok(())
    }
}

/// The chunks covering slots `[from, to)` of the value stack.
pub fn stack_chunks(from: u64, to: u64) -> impl Iterator<Item = Chunk> {
    let (a, b) = (from / STACK_CHUNK, to.max(from + 1).div_ceil(STACK_CHUNK));
    (a..b).map(|index| Chunk::Stack { index })
}

/// The chunks covering bytes `[from, from + len)` of memory `mem`.
pub fn memory_chunks(mem: u32, from: u64, len: u64) -> impl Iterator<Item = Chunk> {
    let (a, b) = (from / MEMORY_CHUNK, (from + len.max(1)).div_ceil(MEMORY_CHUNK));
    (a..b).map(move |index| Chunk::Memory { mem, index })
}
