//! The host functions' semantics: argument checks in Octez's order, effects
//! on durable storage, inputs and outbox, results, and tick costs
//! (PROTOCOL-FACTS §7.3–7.6). An error return costs no extra ticks.

use soru_core::hash::blake2b_256;
use soru_tree::{TreeAccess, TreeError};
use soru_wasm::hooks::{self, Chunk};

use crate::durable::{check_key, is_read_only, tree_path, MAX_KEY_LENGTH, MAX_TRANSFER, MAX_VALUE_SIZE};
use crate::host::{code, cost, HostFn};
use crate::pvm::{
    outbox_level_path, outbox_message_path, EvalState, Input, PendingReveal, Pvm, PvmError, RevealRequest,
};

/// What a host call did.
pub(crate) enum HostCallResult {
    /// Returned `result` (none for `write_debug`); `cost` extra ticks follow.
    Done { result: Option<u64>, cost: u128 },
    /// Waiting for reveal data.
    Reveal(PendingReveal),
}

/// Largest input or output message.
pub(crate) const MAX_MESSAGE: u32 = 4096;

/// Why a memory or key access of a host function failed.
pub(crate) enum HostErr {
    /// The kernel's mistake: the host function returns this error code.
    Code(i32),
    /// The PVM's state could not be read (a proof lacking a chunk).
    Pvm(PvmError),
}

impl From<i32> for HostErr {
    fn from(code: i32) -> Self {
        HostErr::Code(code)
    }
}

impl From<PvmError> for HostErr {
    fn from(e: PvmError) -> Self {
        HostErr::Pvm(e)
    }
}

/// What host functions act on besides the kernel's memory: the state tree
/// (durable storage, outbox), the unread inputs and the debug log. The PVM
/// is one; a kernel run taken over by a fast engine
/// ([`crate::kernel_run::KernelRun`]) is the other, so both run this very
/// code.
pub(crate) trait HostWorld {
    /// The state tree backend.
    type Tree: TreeAccess;
    /// The state tree.
    fn tree(&mut self) -> &mut Self::Tree;
    /// The next unread input.
    fn peek_input(&mut self) -> Result<Option<Input>, PvmError>;
    /// Drops the next unread input.
    fn pop_input(&mut self) -> Result<(), PvmError>;
    /// The outbox level (last start-of-level) and the per-level limit.
    fn outbox(&self) -> (Option<u32>, u32);
    /// Keeps a `write_debug` message.
    fn log_debug(&mut self, bytes: Vec<u8>);
}

/// The kernel's linear memory as a host function sees it.
pub(crate) trait HostMemory<W: ?Sized> {
    /// Size in bytes (`None` if the kernel has no memory).
    fn size(&mut self, world: &mut W) -> Result<Option<u64>, PvmError>;
    /// Bytes `[ptr, ptr + len)`; the caller has checked the bounds.
    fn read_in_bounds(&mut self, world: &mut W, ptr: u32, len: u32) -> Result<Vec<u8>, PvmError>;
    /// Writes `bytes` at `ptr`; the caller has checked the bounds.
    fn write_in_bounds(&mut self, world: &mut W, ptr: u32, bytes: &[u8]) -> Result<(), PvmError>;
}

/// Checks that `[ptr, ptr + len)` lies in the kernel's memory (−6 otherwise).
fn check_bounds<W: ?Sized, M: HostMemory<W>>(w: &mut W, m: &mut M, ptr: u32, len: usize) -> Result<(), HostErr> {
    let end = u64::from(ptr) + len as u64;
    match m.size(w)? {
        Some(size) if end <= size => Ok(()),
        _ => Err(HostErr::Code(code::MEMORY_INVALID_ACCESS)),
    }
}

/// Bytes `[ptr, ptr + len)` of the kernel's memory, or −6.
pub(crate) fn read_memory<W: ?Sized, M: HostMemory<W>>(
    w: &mut W,
    m: &mut M,
    ptr: u32,
    len: u32,
) -> Result<Vec<u8>, HostErr> {
    check_bounds(w, m, ptr, len as usize)?;
    Ok(m.read_in_bounds(w, ptr, len)?)
}

/// Writes `bytes` at `ptr` in the kernel's memory, or −6.
pub(crate) fn write_memory<W: ?Sized, M: HostMemory<W>>(
    w: &mut W,
    m: &mut M,
    ptr: u32,
    bytes: &[u8],
) -> Result<(), HostErr> {
    check_bounds(w, m, ptr, bytes.len())?;
    Ok(m.write_in_bounds(w, ptr, bytes)?)
}

/// The PVM's own machine: memory in its store, read chunk by chunk from the
/// tree when the machine is lazy (a one-step proof).
impl<T: TreeAccess> HostMemory<T> for EvalState {
    fn size(&mut self, tree: &mut T) -> Result<Option<u64>, PvmError> {
        if let Some(lazy) = &mut self.lazy {
            lazy.ensure(
                tree,
                &mut self.store,
                &mut self.machine,
                Chunk::MemorySize { mem: self.memory },
            )?;
        }
        Ok(self
            .store
            .memories
            .get(self.memory as usize)
            .map(|m| m.data.len() as u64))
    }

    fn read_in_bounds(&mut self, tree: &mut T, ptr: u32, len: u32) -> Result<Vec<u8>, PvmError> {
        self.load_chunks(tree, ptr, len as usize, false)?;
        let start = ptr as usize;
        Ok(self.store.memories[self.memory as usize].data[start..start + len as usize].to_vec())
    }

    fn write_in_bounds(&mut self, tree: &mut T, ptr: u32, bytes: &[u8]) -> Result<(), PvmError> {
        self.load_chunks(tree, ptr, bytes.len(), true)?;
        let start = ptr as usize;
        self.store.memories[self.memory as usize].data[start..start + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
}

impl EvalState {
    /// On a machine loaded chunk by chunk (a proof), reads the chunks of
    /// `[ptr, ptr + len)` first; `write` marks them changed.
    fn load_chunks<T: TreeAccess>(&mut self, tree: &mut T, ptr: u32, len: usize, write: bool) -> Result<(), PvmError> {
        if let (Some(lazy), true) = (&mut self.lazy, len > 0) {
            for chunk in hooks::memory_chunks(self.memory, u64::from(ptr), len as u64) {
                lazy.ensure(tree, &mut self.store, &mut self.machine, chunk)?;
                if write {
                    lazy.mark_written(chunk);
                }
            }
        }
        Ok(())
    }
}

/// The PVM's host world: its tree and unread inputs. The machine is the
/// other half (`EvalState`), taken out of the phase while the call runs.
impl<T: TreeAccess> HostWorld for Pvm<T> {
    type Tree = T;
    fn tree(&mut self) -> &mut T {
        self.tree_mut()
    }
    fn peek_input(&mut self) -> Result<Option<Input>, PvmError> {
        Pvm::peek_input(self)
    }
    fn pop_input(&mut self) -> Result<(), PvmError> {
        Pvm::pop_input(self)
    }
    fn outbox(&self) -> (Option<u32>, u32) {
        self.meta_outbox()
    }
    fn log_debug(&mut self, bytes: Vec<u8>) {
        Pvm::log_debug(self, bytes)
    }
}

/// The PVM's machine seen with the PVM as world: memory goes through the tree.
pub(crate) struct PvmMachine<'a>(pub(crate) &'a mut EvalState);

impl<T: TreeAccess> HostMemory<Pvm<T>> for PvmMachine<'_> {
    fn size(&mut self, pvm: &mut Pvm<T>) -> Result<Option<u64>, PvmError> {
        HostMemory::<T>::size(self.0, pvm.tree())
    }
    fn read_in_bounds(&mut self, pvm: &mut Pvm<T>, ptr: u32, len: u32) -> Result<Vec<u8>, PvmError> {
        HostMemory::<T>::read_in_bounds(self.0, pvm.tree(), ptr, len)
    }
    fn write_in_bounds(&mut self, pvm: &mut Pvm<T>, ptr: u32, bytes: &[u8]) -> Result<(), PvmError> {
        HostMemory::<T>::write_in_bounds(self.0, pvm.tree(), ptr, bytes)
    }
}

/// Reads and checks a key: length (−1), memory (−6), syntax (−2).
fn read_key<W: ?Sized, M: HostMemory<W>>(w: &mut W, m: &mut M, ptr: u32, len: u32) -> Result<Vec<u8>, HostErr> {
    if len > MAX_KEY_LENGTH {
        return Err(HostErr::Code(code::KEY_TOO_LARGE));
    }
    let key = read_memory(w, m, ptr, len)?;
    check_key(&key)?;
    Ok(key)
}

fn writable_key<W: ?Sized, M: HostMemory<W>>(w: &mut W, m: &mut M, ptr: u32, len: u32) -> Result<Vec<u8>, HostErr> {
    let key = read_key(w, m, ptr, len)?;
    if is_read_only(&key) {
        return Err(HostErr::Code(code::READ_ONLY));
    }
    Ok(key)
}

fn arg32(args: &[u64], i: usize) -> u32 {
    args[i] as u32
}

fn done(result: i32, cost: u128) -> HostCallResult {
    HostCallResult::Done {
        result: Some(u64::from(result as u32)),
        cost,
    }
}

fn key_cost(key: &[u8]) -> u128 {
    cost::READ_PER_BYTE * key.len() as u128 + cost::BASE
}

/// A tree failure inside a host call is the PVM's problem, not the kernel's.
fn tree<T>(r: Result<T, TreeError>) -> Result<T, PvmError> {
    r.map_err(PvmError::Tree)
}

macro_rules! check {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(HostErr::Code(code)) => return Ok(done(code, 0)),
            Err(HostErr::Pvm(e)) => return Err(e),
        }
    };
}

/// Executes host function `f` with `args` for the machine in `e`.
pub(crate) fn call<W: HostWorld, M: HostMemory<W>>(
    pvm: &mut W,
    e: &mut M,
    f: HostFn,
    args: &[u64],
) -> Result<HostCallResult, PvmError> {
    let a = |i| arg32(args, i);
    Ok(match f {
        HostFn::ReadInput => {
            let (info_ptr, dst, max) = (a(0), a(1), a(2));
            let Some(input) = pvm.peek_input()? else {
                return Ok(done(0, 0));
            };
            let n = input.payload.len().min(max.min(MAX_MESSAGE) as usize);
            let mut info = [0u8; 8];
            info[..4].copy_from_slice(&(input.level as i32).to_le_bytes());
            info[4..].copy_from_slice(&(input.counter as i32).to_le_bytes());
            let payload = input.payload[..n].to_vec();
            // Octez checks both areas before consuming the input, the
            // destination with the strict test `dst + max_bytes < size`.
            check!(read_memory(pvm, e, info_ptr, 8));
            let size = e.size(pvm)?.unwrap_or(0);
            if max > 0 && u64::from(dst) + u64::from(max) >= size {
                return Ok(done(code::MEMORY_INVALID_ACCESS, 0));
            }
            check!(read_memory(pvm, e, dst, n as u32));
            check!(write_memory(pvm, e, info_ptr, &info));
            check!(write_memory(pvm, e, dst, &payload));
            pvm.pop_input()?;
            done(n as i32, cost::READ_PER_BYTE * n as u128)
        }
        HostFn::WriteOutput => {
            let (src, len) = (a(0), a(1));
            if len > MAX_MESSAGE {
                return Ok(done(code::INPUT_OUTPUT_TOO_LARGE, 0));
            }
            let bytes = check!(read_memory(pvm, e, src, len));
            let (level, limit) = pvm.outbox();
            let level = level.unwrap_or(0);
            let count = tree(pvm.tree().count_children(&outbox_level_path(level)))?;
            if count >= u64::from(limit) {
                return Ok(done(code::FULL_OUTBOX, 0));
            }
            tree(pvm.tree().set_value(&outbox_message_path(level, count), &bytes))?;
            done(0, cost::WRITE_PER_BYTE * u128::from(len))
        }
        HostFn::WriteDebug => {
            // Never traps, never costs: an out-of-bounds message is dropped.
            match read_memory(pvm, e, a(0), a(1)) {
                Ok(bytes) => pvm.log_debug(bytes),
                Err(HostErr::Code(_)) => {}
                Err(HostErr::Pvm(e)) => return Err(e),
            }
            HostCallResult::Done { result: None, cost: 0 }
        }
        HostFn::StoreHas => {
            let key = check!(read_key(pvm, e, a(0), a(1)));
            let p = tree(pvm.tree().has(&tree_path(&key)))?;
            done(i32::from(p.value) | (i32::from(p.subtree) << 1), key_cost(&key))
        }
        HostFn::StoreExists => {
            let key = check!(read_key(pvm, e, a(0), a(1)));
            let p = tree(pvm.tree().has(&tree_path(&key)))?;
            done(i32::from(p.value || p.subtree), key_cost(&key))
        }
        HostFn::StoreListSize => {
            // An i64 result: error codes are sign-extended.
            let key = match read_key(pvm, e, a(0), a(1)) {
                Ok(key) => key,
                Err(HostErr::Pvm(e)) => return Err(e),
                Err(HostErr::Code(code)) => {
                    return Ok(HostCallResult::Done {
                        result: Some(i64::from(code) as u64),
                        cost: 0,
                    })
                }
            };
            let n = tree(pvm.tree().count_children(&tree_path(&key)))?;
            HostCallResult::Done {
                result: Some(n),
                cost: key_cost(&key),
            }
        }
        HostFn::StoreGetNthKey => {
            let key = check!(read_key(pvm, e, a(0), a(1)));
            let index = args[2] as i64;
            let (dst, max) = (a(3), a(4));
            let path = tree_path(&key);
            let p = tree(pvm.tree().has(&path))?;
            if !p.value && !p.subtree {
                return Ok(done(code::NOT_A_NODE, 0));
            }
            if index < 0 {
                return Ok(done(code::INVALID_SUBKEY_INDEX, 0));
            }
            let Some(name) = tree(pvm.tree().nth_child(&path, index as u64))? else {
                return Ok(done(code::INVALID_SUBKEY_INDEX, 0));
            };
            let n = name.len().min(max as usize);
            check!(write_memory(pvm, e, dst, &name[..n]));
            done(n as i32, key_cost(&key))
        }
        HostFn::StoreDelete => {
            let key = check!(writable_key(pvm, e, a(0), a(1)));
            tree(pvm.tree().delete_subtree(&tree_path(&key)))?;
            done(0, key_cost(&key))
        }
        HostFn::StoreDeleteValue => {
            let key = check!(writable_key(pvm, e, a(0), a(1)));
            tree(pvm.tree().delete_value(&tree_path(&key)))?;
            done(0, key_cost(&key))
        }
        HostFn::StoreCopy | HostFn::StoreMove => {
            let from = if f == HostFn::StoreMove {
                check!(writable_key(pvm, e, a(0), a(1)))
            } else {
                check!(read_key(pvm, e, a(0), a(1)))
            };
            let to = check!(writable_key(pvm, e, a(2), a(3)));
            let (fp, tp) = (tree_path(&from), tree_path(&to));
            let moved = if f == HostFn::StoreMove {
                match pvm.tree().move_subtree(&fp, &tp) {
                    Ok(moved) => moved,
                    Err(TreeError::MoveIntoItself) => return Ok(done(code::GENERIC, 0)),
                    Err(err) => return Err(err.into()),
                }
            } else {
                tree(pvm.tree().copy_subtree(&fp, &tp))?
            };
            if !moved {
                return Ok(done(code::NOT_A_NODE, 0));
            }
            done(0, cost::READ_PER_BYTE * (from.len() + to.len()) as u128 + cost::BASE)
        }
        HostFn::StoreValueSize => {
            let key = check!(read_key(pvm, e, a(0), a(1)));
            match tree(pvm.tree().value_size(&tree_path(&key)))? {
                Some(size) => done(size as i32, key_cost(&key)),
                None => done(code::NOT_A_VALUE, 0),
            }
        }
        HostFn::StoreRead => {
            let (offset, dst, max) = (a(2), a(3), a(4));
            if max > MAX_TRANSFER {
                return Ok(done(code::INPUT_OUTPUT_TOO_LARGE, 0));
            }
            let key = check!(read_key(pvm, e, a(0), a(1)));
            let path = tree_path(&key);
            let Some(size) = tree(pvm.tree().value_size(&path))? else {
                return Ok(done(code::NOT_A_VALUE, 0));
            };
            // Reads need `offset < length` (so an empty value cannot be read).
            if u64::from(offset) >= size {
                return Ok(done(code::INVALID_ACCESS, 0));
            }
            let bytes = tree(pvm.tree().read(&path, u64::from(offset), max as usize))?;
            check!(write_memory(pvm, e, dst, &bytes));
            done(
                bytes.len() as i32,
                key_cost(&key) + cost::READ_PER_BYTE * bytes.len() as u128,
            )
        }
        HostFn::StoreWrite => {
            // Octez's order: size overflow, key, source memory, read-only,
            // the 2 048-byte limit, then `offset ≤ length`.
            let (offset, src, len) = (a(2), a(3), a(4));
            if u64::from(offset) + u64::from(len) > MAX_VALUE_SIZE {
                return Ok(done(code::VALUE_SIZE_EXCEEDED, 0));
            }
            let key = check!(read_key(pvm, e, a(0), a(1)));
            let bytes = if len > MAX_TRANSFER {
                Vec::new()
            } else {
                check!(read_memory(pvm, e, src, len))
            };
            if is_read_only(&key) {
                return Ok(done(code::READ_ONLY, 0));
            }
            if len > MAX_TRANSFER {
                return Ok(done(code::INPUT_OUTPUT_TOO_LARGE, 0));
            }
            let path = tree_path(&key);
            let size = tree(pvm.tree().value_size(&path))?.unwrap_or(0);
            if u64::from(offset) > size {
                return Ok(done(code::INVALID_ACCESS, 0));
            }
            tree(pvm.tree().write(&path, u64::from(offset), &bytes))?;
            done(0, key_cost(&key) + cost::WRITE_PER_BYTE * u128::from(len))
        }
        HostFn::StoreCreate => {
            let key = check!(writable_key(pvm, e, a(0), a(1)));
            let size = a(2);
            if u64::from(size) > MAX_VALUE_SIZE {
                return Ok(done(code::VALUE_SIZE_EXCEEDED, 0));
            }
            if !tree(pvm.tree().create_value(&tree_path(&key), u64::from(size)))? {
                return Ok(done(code::VALUE_ALREADY_EXISTS, 0));
            }
            done(0, key_cost(&key))
        }
        HostFn::StoreGetHash => {
            let key = check!(read_key(pvm, e, a(0), a(1)));
            let (dst, max) = (a(2), a(3));
            let Some(hash) = tree(pvm.tree().subtree_hash(&tree_path(&key)))? else {
                return Ok(done(code::NOT_A_NODE, 0));
            };
            let n = 32.min(max as usize);
            check!(write_memory(pvm, e, dst, &hash.0[..n]));
            done(n as i32, key_cost(&key))
        }
        HostFn::RevealPreimage => {
            let (hash_ptr, hash_len, dst, max) = (a(0), a(1), a(2), a(3));
            if hash_len > MAX_MESSAGE {
                return Ok(done(code::INPUT_OUTPUT_TOO_LARGE, 0));
            }
            let hash = check!(read_memory(pvm, e, hash_ptr, hash_len));
            let mut request = vec![0x00];
            request.extend_from_slice(&hash);
            reveal(pvm, e, &request, dst, max)?
        }
        HostFn::RevealMetadata => {
            let (dst, max) = (a(0), a(1));
            reveal(pvm, e, &[0x01], dst, max)?
        }
        HostFn::Reveal => {
            let (req, req_len, dst, max) = (a(0), a(1), a(2), a(3));
            if req_len > MAX_MESSAGE {
                return Ok(done(code::INPUT_OUTPUT_TOO_LARGE, 0));
            }
            let request = check!(read_memory(pvm, e, req, req_len));
            reveal(pvm, e, &request, dst, max)?
        }
        HostFn::Nds(_) => {
            let results = f.signature().results;
            let code = code::NDS_NOT_ENABLED;
            HostCallResult::Done {
                result: Some(if results.first() == Some(&soru_wasm::types::ValType::I64) {
                    code as i64 as u64
                } else {
                    u64::from(code as u32)
                }),
                cost: 0,
            }
        }
    })
}

/// Starts a reveal: the destination must be in bounds; the PVM then waits.
fn reveal<W: ?Sized, M: HostMemory<W>>(
    w: &mut W,
    m: &mut M,
    request: &[u8],
    dst: u32,
    max: u32,
) -> Result<HostCallResult, PvmError> {
    let max = max.min(MAX_MESSAGE);
    // Only the bounds: the answer's bytes are written when it arrives.
    let end = u64::from(dst) + u64::from(max);
    match m.size(w)? {
        Some(size) if end <= size => {}
        _ => return Ok(done(code::MEMORY_INVALID_ACCESS, 0)),
    }
    Ok(HostCallResult::Reveal(PendingReveal {
        request: RevealRequest::decode(request),
        dst,
        max,
    }))
}

/// Answers a pending reveal with `data` (checked against a raw-data request's
/// hash): writes at most `max` bytes at the destination. Returns the host
/// function's result and its cost (42 ticks per byte written); the answer's
/// own tick is the caller's.
pub(crate) fn answer_reveal<W: ?Sized, M: HostMemory<W>>(
    w: &mut W,
    m: &mut M,
    pending: &PendingReveal,
    data: &[u8],
) -> Result<(i32, u128), PvmError> {
    if data.len() > MAX_MESSAGE as usize {
        return Err(PvmError::RevealTooLarge(data.len()));
    }
    if let RevealRequest::RawData(hash) = &pending.request {
        if blake2b_256(data) != hash.0 {
            return Err(PvmError::WrongPreimage);
        }
    }
    let n = data.len().min(pending.max as usize);
    Ok(match write_memory(w, m, pending.dst, &data[..n]) {
        Ok(()) => (n as i32, cost::WRITE_PER_BYTE * n as u128),
        Err(HostErr::Code(code)) => (code, 0),
        Err(HostErr::Pvm(err)) => return Err(err),
    })
}
