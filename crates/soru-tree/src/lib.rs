//! `soru-tree`: the Merkle tree that holds the whole PVM state (durable
//! storage and, during a kernel run, the WebAssembly machine), its proofs and
//! its on-disk store. A tree is directories with an optional byte value and
//! named children; values are binary Merkle trees over 512-byte chunks
//! (sparse: absent chunks are zeros), directories split their children into a
//! binary trie keyed by the hash of the name, so any single operation opens a
//! bounded number of small nodes whatever the value size or directory width.
//! The same operations ([`TreeAccess`]) run on the plain [`Tree`], on a
//! [`RecordingTree`] that produces a [`Proof`], and on a [`VerifierTree`]
//! rebuilt from one. [`NodeStore`] keeps nodes content-addressed in `redb`,
//! loads committed trees lazily and collects garbage.
//!
//! It is not the PVM: it knows nothing of durable-key prefixes, host-function
//! error codes or tick costs (only [`validate_durable_key`] for the key
//! syntax), and its layout and hashes are soru's own, not Irmin's, so state
//! hashes differ from Octez's (DESIGN.md §3). Design notes and measured
//! numbers are in `docs/ARCHITECTURE.md` (section soru-tree).

#[cfg(all(feature = "prover", feature = "store"))]
pub mod bench;
mod data;
pub mod error;
mod node;
pub mod path;
pub mod proof;
#[cfg(feature = "store")]
pub mod store;
mod tree;
mod trie;

#[cfg(feature = "store")]
pub use error::StoreError;
pub use error::{DurableKeyError, ProofError, TreeError};
pub use node::{NodeHash, CHUNK_SIZE, MAX_VALUE_SIZE};
pub use path::{validate_durable_key, MAX_DURABLE_KEY_LEN, MAX_PATH_SEGMENTS, MAX_SEGMENT_LEN};
#[cfg(feature = "prover")]
pub use proof::{with_one_node_dropped, RecordingTree};
pub use proof::{Proof, VerifierTree, PROOF_VERSION};
#[cfg(feature = "store")]
pub use store::{GcStats, NodeStore, WriteStats};
pub use tree::{Presence, Tree, TreeAccess};

/// The `redb` the store is built on, for callers' own tables in the shared database.
#[cfg(feature = "store")]
pub use redb;
