//! How the PVM's non-durable state is written into the state tree: the
//! counters at `pvm/meta`, the unread inputs at `pvm/inputs/<i>`, and the
//! phase with its machine at `pvm/phase`. Outside Decode/Link/Init/Eval the
//! phase carries no machine (DESIGN.md §4 rule 3), so the state hash at
//! Collect, Padding, Snapshot and Stuck depends only on durable storage,
//! buffers, counters and flags. The outbox lives in the tree permanently
//! (`pvm/outbox/<level>/<index>`).
//!
//! Encodings are postcard (deterministic), so equal states give equal hashes
//! and a stored tree reloads into the same PVM.

use std::collections::VecDeque;

use soru_tree::{Tree, TreeAccess, TreeError};

use crate::pvm::{Input, Meta, Phase, PvmError};

const META: &[u8] = b"pvm/meta";
const INPUTS: &[u8] = b"pvm/inputs";
const PHASE: &[u8] = b"pvm/phase";

fn serialized<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("in-memory serialization cannot fail")
}

fn malformed(what: &str, e: impl std::fmt::Display) -> PvmError {
    PvmError::MalformedState(format!("{what}: {e}"))
}

/// Writes the non-durable state into `tree` (a copy of the PVM's tree).
pub(crate) fn write_state(
    tree: &mut Tree,
    meta: &Meta,
    inputs: &VecDeque<Input>,
    phase: &Phase,
) -> Result<(), TreeError> {
    tree.set_value(META, &serialized(meta))?;
    tree.delete_subtree(INPUTS)?;
    for (i, input) in inputs.iter().enumerate() {
        tree.set_value(format!("pvm/inputs/{i}").as_bytes(), &serialized(input))?;
    }
    tree.set_value(PHASE, &serialized(phase))?;
    Ok(())
}

/// Reads back what [`write_state`] wrote; the returned tree no longer holds
/// those entries (they are kept in memory until the next write).
pub(crate) fn read_state(mut tree: Tree) -> Result<(Tree, Meta, VecDeque<Input>, Phase), PvmError> {
    let read = |tree: &mut Tree, path: &[u8]| -> Result<Vec<u8>, PvmError> {
        tree.read(path, 0, usize::MAX)
            .map_err(|e| malformed(&String::from_utf8_lossy(path), e))
    };
    let meta: Meta = postcard::from_bytes(&read(&mut tree, META)?).map_err(|e| malformed("pvm/meta", e))?;
    let n = tree.count_children(INPUTS)?;
    let mut inputs = VecDeque::new();
    for i in 0..n {
        let bytes = read(&mut tree, format!("pvm/inputs/{i}").as_bytes())?;
        inputs.push_back(postcard::from_bytes(&bytes).map_err(|e| malformed("pvm/inputs", e))?);
    }
    let phase: Phase = postcard::from_bytes(&read(&mut tree, PHASE)?).map_err(|e| malformed("pvm/phase", e))?;
    tree.delete_value(META)?;
    tree.delete_subtree(INPUTS)?;
    tree.delete_value(PHASE)?;
    Ok((tree, meta, inputs, phase))
}
