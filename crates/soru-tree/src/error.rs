//! Error types, one enum per domain: tree operations, proof parsing, the node
//! store, and durable-key syntax.

use crate::node::NodeHash;

/// Why a tree operation failed.
///
/// The first group are answers about the tree's contents that a caller (the
/// PVM) turns into its own error codes; the second group ([`Self::is_integrity_failure`])
/// means the operation could not be carried out on the data at hand: a proof
/// lacks a node, or a store is missing or corrupt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The path is not a sequence of non-empty, `/`-free segments of at most
    /// 255 bytes, or has too many segments.
    #[error("invalid tree path: {0}")]
    InvalidPath(&'static str),
    /// There is no value at the path.
    #[error("no value at this path")]
    NoValue,
    /// Nothing (neither value nor subtree) exists at the path.
    #[error("nothing at this path")]
    NotFound,
    /// A read starts after the end of the value.
    #[error("offset {offset} is beyond the value's size {size}")]
    OffsetOutOfRange {
        /// The requested offset.
        offset: u64,
        /// The value's size.
        size: u64,
    },
    /// The operation would make a value larger than [`crate::MAX_VALUE_SIZE`].
    #[error("value size {size} exceeds the maximum {max}", max = crate::MAX_VALUE_SIZE)]
    ValueTooLarge {
        /// The size the value would have had.
        size: u64,
    },
    /// A subtree cannot be moved into itself.
    #[error("cannot move a subtree into itself")]
    MoveIntoItself,
    /// The operation needs a node that the proof does not contain.
    #[error("node {0} is not in the proof")]
    NotInProof(NodeHash),
    /// The node store has no node with this hash.
    #[error("node {0} is missing from the store")]
    MissingNode(NodeHash),
    /// A node's bytes do not hash to its name, or do not decode.
    #[error("corrupt node {hash}: {reason}")]
    CorruptNode {
        /// The node's hash (its name in the store).
        hash: NodeHash,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A structural invariant does not hold (only possible with a corrupt store
    /// or a forged proof whose root hash is not an honest state's).
    #[error("malformed tree: {0}")]
    Malformed(&'static str),
    /// The store could not be read.
    #[error("node store: {0}")]
    Store(String),
}

impl TreeError {
    /// True when the error is about missing or bad data (proof, store) rather
    /// than an answer about the tree's contents.
    pub fn is_integrity_failure(&self) -> bool {
        matches!(
            self,
            Self::NotInProof(_) | Self::MissingNode(_) | Self::CorruptNode { .. } | Self::Malformed(_) | Self::Store(_)
        )
    }
}

/// Why proof bytes were rejected. Offsets are byte positions in the proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof is empty or ends in the middle of an item.
    #[error("proof truncated at byte {0}")]
    Truncated(usize),
    /// The version byte is not one this code reads.
    #[error("unsupported proof version {0}")]
    UnsupportedVersion(u8),
    /// A tag byte is not valid in its position.
    #[error("invalid tag {tag:#04x} at byte {offset}")]
    InvalidTag {
        /// Position of the tag.
        offset: usize,
        /// The tag read.
        tag: u8,
    },
    /// An item is syntactically well formed but not in canonical form, or
    /// violates the tree's structural rules.
    #[error("invalid proof item at byte {offset}: {reason}")]
    Invalid {
        /// Position of the item.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Bytes remain after the root item.
    #[error("{0} trailing bytes after the proof")]
    TrailingBytes(usize),
}

/// Why the node store failed.
#[cfg(feature = "store")]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The underlying database failed. Boxed: `redb::Error` is large and
    /// would make every store `Result` large.
    #[error("database: {0}")]
    Database(#[source] Box<redb::Error>),
    /// A tree operation failed while writing or loading.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// A root named for loading or collection is not in the store.
    #[error("root {0} is not in the store")]
    UnknownRoot(NodeHash),
    /// A garbage collection is already running on this store.
    #[error("a garbage collection is already running")]
    GcInProgress,
}

#[cfg(feature = "store")]
macro_rules! store_error_from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Database(Box::new(e.into()))
            }
        }
    )*};
}
#[cfg(feature = "store")]
store_error_from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Why a durable-storage key (PROTOCOL-FACTS §7.4) was rejected. The PVM maps
/// these to the host-function codes −1 and −2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurableKeyError {
    /// Longer than [`crate::MAX_DURABLE_KEY_LEN`] bytes.
    #[error("durable key of {len} bytes is longer than {max}", max = crate::MAX_DURABLE_KEY_LEN)]
    TooLong {
        /// The key's length.
        len: usize,
    },
    /// Not `""` or `/seg(/seg)*` with segments of `[A-Za-z0-9._-]`.
    #[error("invalid durable key: {0}")]
    Invalid(&'static str),
}
