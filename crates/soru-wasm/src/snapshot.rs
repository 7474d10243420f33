//! Whole-machine snapshots: a store and a paused [`Machine`] written to bytes
//! and read back, so execution can stop at any tick, leave the process and
//! resume elsewhere with the same result. (The PVM stores the machine
//! chunk by chunk in its Merkle tree instead; this compact form is for
//! checkpoints and tests.)

use serde::{Deserialize, Serialize};

use crate::exec::Machine;
use crate::store::Store;

/// Format version written first in every snapshot.
pub const SNAPSHOT_VERSION: u8 = 1;

/// Why a snapshot could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Empty input or another format version.
    #[error("unsupported snapshot version {0:?}")]
    Version(Option<u8>),
    /// The bytes do not decode.
    #[error("malformed snapshot: {0}")]
    Malformed(String),
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    store: Store,
    machine: Machine,
}

/// Serializes `store` and `machine`.
pub fn save(store: &Store, machine: &Machine) -> Vec<u8> {
    #[derive(Serialize)]
    struct SnapshotRef<'a> {
        store: &'a Store,
        machine: &'a Machine,
    }
    let mut out = vec![SNAPSHOT_VERSION];
    out.extend(postcard::to_stdvec(&SnapshotRef { store, machine }).expect("in-memory serialization cannot fail"));
    out
}

/// Reads back what [`save`] wrote.
pub fn load(bytes: &[u8]) -> Result<(Store, Machine), SnapshotError> {
    match bytes.first() {
        Some(&SNAPSHOT_VERSION) => {}
        other => return Err(SnapshotError::Version(other.copied())),
    }
    let snapshot: Snapshot = postcard::from_bytes(&bytes[1..]).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
    Ok((snapshot.store, snapshot.machine))
}
