//! How the PVM's non-durable state is written into the state tree: the
//! counters at `pvm/meta` and the phase at `pvm/phase`; the unread inputs
//! live in the tree at `pvm/inputs/<i>` (positions `inputs_head..inputs_tail`
//! of the counters), one value each, so a tick reads only the input it uses; while a kernel runs, the machine is under `wasm/`,
//! region by region (crate::machine_proof). Outside Decode/Link/Init/Eval the
//! phase carries no machine (DESIGN.md §4 rule 3), so the state hash at
//! Collect, Padding, Snapshot and Stuck depends only on durable storage,
//! buffers, counters and flags. The outbox lives in the tree permanently
//! (`pvm/outbox/<level>/<index>`).
//!
//! Encodings are postcard (deterministic), so equal states give equal hashes
//! and a stored tree reloads into the same PVM.

use soru_tree::TreeAccess;

use crate::decode_store::{with_tree_store, DECODE_ROOT};
use crate::host::HostFn;
use crate::instantiate::InitState;
use crate::machine_proof::LazyMachine;
use crate::pvm::{EvalState, Meta, PendingReveal, Phase, PvmError};

const META: &[u8] = b"pvm/meta";
const PHASE: &[u8] = b"pvm/phase";

/// Postcard bytes of in-memory state (cannot fail: no I/O, no maps with
/// non-string keys).
pub(crate) fn serialized<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("in-memory serialization cannot fail")
}

fn malformed(what: &str, e: impl std::fmt::Display) -> PvmError {
    PvmError::MalformedState(format!("{what}: {e}"))
}

/// Writes the non-durable state into `tree` (a copy of the PVM's tree).
pub(crate) fn write_state<T: TreeAccess>(tree: &mut T, meta: &Meta, phase: &Phase) -> Result<(), PvmError> {
    tree.set_value(META, &serialized(meta))?;
    match phase {
        // A running kernel's machine goes into the tree region by region
        // (crate::machine_proof), so proofs can open just what a tick touches.
        Phase::Eval(e) => {
            let header = EvalHeaderRef {
                host_fns: &e.host_fns,
                memory: e.memory,
                pending_ticks: e.pending_ticks,
                reveal: &e.reveal,
                in_start: &e.in_start,
            };
            let mut bytes = vec![EVAL_TAG];
            bytes.extend(serialized(&header));
            tree.set_value(PHASE, &bytes)?;
            match &e.lazy {
                // The machine stayed in the tree: write back what changed.
                Some(lazy) => lazy.write_back(tree, &e.store, &e.machine)?,
                None => crate::machine_proof::write_machine(tree, &e.store, &e.machine)?,
            }
        }
        other => {
            let mut bytes = vec![OTHER_TAG];
            bytes.extend(serialized(other));
            tree.set_value(PHASE, &bytes)?;
            match other {
                // Linking and instantiating work in the tree itself: the
                // module in `pvm/decode`, the machine being laid out in `wasm`.
                Phase::Link { .. } | Phase::Init { .. } => {}
                // A decoder read from the tree left its regions there.
                Phase::Decode { decoder, .. } if decoder.is_stored() => {}
                Phase::Decode { decoder, .. } => {
                    tree.delete_subtree(DECODE_ROOT)?;
                    with_tree_store(tree, |store| decoder.save(store))?.map_err(|e| malformed("pvm/decode", e))?;
                }
                _ => {
                    tree.delete_subtree(crate::machine_proof::MACHINE_ROOT.as_bytes())?;
                    tree.delete_subtree(DECODE_ROOT)?;
                }
            }
        }
    }
    Ok(())
}

const OTHER_TAG: u8 = 0;
const EVAL_TAG: u8 = 1;

#[derive(serde::Serialize)]
struct EvalHeaderRef<'a> {
    host_fns: &'a [HostFn],
    memory: u32,
    pending_ticks: u128,
    reveal: &'a Option<PendingReveal>,
    in_start: &'a Option<Box<InitState>>,
}

#[derive(serde::Deserialize)]
struct EvalHeader {
    host_fns: Vec<HostFn>,
    memory: u32,
    pending_ticks: u128,
    reveal: Option<PendingReveal>,
    in_start: Option<Box<InitState>>,
}

/// How a running kernel's machine is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MachineLoading {
    /// Whole, into memory (running).
    Whole,
    /// Chunk by chunk as a step needs them, left in the tree (a one-step
    /// proof: the step opens only the chunks it touches).
    Lazy,
}

/// Reads back what [`write_state`] wrote; the returned tree no longer holds
/// those entries (they are kept in memory until the next write), except
/// what is read in place: the module and machine of Link and Init, and a
/// proof's decoder regions or machine.
pub(crate) fn read_state<T: TreeAccess>(mut tree: T, loading: MachineLoading) -> Result<(T, Meta, Phase), PvmError> {
    let read = |tree: &mut T, path: &[u8]| -> Result<Vec<u8>, PvmError> {
        tree.read(path, 0, usize::MAX)
            .map_err(|e| malformed(&String::from_utf8_lossy(path), e))
    };
    let meta: Meta = postcard::from_bytes(&read(&mut tree, META)?).map_err(|e| malformed("pvm/meta", e))?;
    let phase_bytes = read(&mut tree, PHASE)?;
    let lazy = loading == MachineLoading::Lazy;
    // Whether the machine or the decoder's regions stay in the tree (read
    // in place) rather than in memory.
    let (phase, in_tree) = match phase_bytes.split_first() {
        Some((&OTHER_TAG, rest)) => {
            let mut phase: Phase = postcard::from_bytes(rest).map_err(|e| malformed("pvm/phase", e))?;
            match &mut phase {
                // Linking and instantiating work in the tree, running or proving.
                Phase::Link { .. } | Phase::Init { .. } => (phase, true),
                // A proof's Decode tick reads the decoder's regions in place.
                Phase::Decode { .. } if lazy => (phase, true),
                Phase::Decode { decoder, .. } => {
                    with_tree_store(&mut tree, |store| decoder.load(store))?.map_err(|e| malformed("pvm/decode", e))?;
                    (phase, false)
                }
                _ => (phase, false),
            }
        }
        Some((&EVAL_TAG, rest)) => {
            let header: EvalHeader = postcard::from_bytes(rest).map_err(|e| malformed("pvm/phase", e))?;
            // A proof's machine stays in the tree, read as the step needs it.
            let (store, machine, lazy_machine) = if lazy {
                let (lazy_machine, store, machine) = LazyMachine::open(&mut tree)?;
                (store, machine, Some(lazy_machine))
            } else {
                let (store, machine) =
                    crate::machine_proof::read_machine(&mut tree).map_err(|e| malformed("wasm", e))?;
                (store, machine, None)
            };
            let phase = Phase::Eval(Box::new(EvalState {
                store,
                machine,
                host_fns: header.host_fns,
                memory: header.memory,
                pending_ticks: header.pending_ticks,
                reveal: header.reveal,
                in_start: header.in_start,
                lazy: lazy_machine,
            }));
            (phase, lazy)
        }
        _ => return Err(malformed("pvm/phase", "unknown phase tag")),
    };
    tree.delete_value(META)?;
    tree.delete_value(PHASE)?;
    if !in_tree {
        tree.delete_subtree(crate::machine_proof::MACHINE_ROOT.as_bytes())?;
        if matches!(phase, Phase::Decode { .. }) {
            tree.delete_subtree(DECODE_ROOT)?;
        }
    }
    Ok((tree, meta, phase))
}
