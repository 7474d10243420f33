//! Output proofs: evidence that the outbox of a PVM state holds a given
//! message at (outbox level, index). The L1 checks one against a cemented
//! commitment's `compressed_state` before it executes the message.
//!
//! The proof carries the position and the tree proof of reading
//! `pvm/outbox/<level>/<index>` from the whole state tree
//! ([`Pvm::to_tree`]); the message itself is taken from the tree proof, so
//! the proof cannot name one message and prove another. Wire format
//! (version 1, documented in `docs/ARCHITECTURE.md`):
//!
//! ```text
//! u8      version = 1
//! u32 BE  outbox level
//! u32 BE  message index
//! ...     soru-tree proof (to the end)
//! ```

use soru_core::StateHash;
#[cfg(feature = "prover")]
use soru_tree::RecordingTree;
use soru_tree::{Proof, TreeAccess, TreeError, VerifierTree};

use crate::hostcall::MAX_MESSAGE;
use crate::pvm::{outbox_message_path, Pvm, PvmError};

/// Version byte of the output-proof wire format.
pub const OUTPUT_PROOF_VERSION: u8 = 1;

/// Bytes before the tree proof.
const HEADER_LEN: usize = 9;

/// A message of the outbox, as an output proof establishes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// Inbox level at which the kernel wrote it.
    pub outbox_level: u32,
    /// Its position in that level's outbox.
    pub message_index: u32,
    /// The message bytes (an encoded outbox message).
    pub message: Vec<u8>,
}

/// Why an output proof was not produced or not accepted.
#[derive(Debug, thiserror::Error)]
pub enum OutputProofError {
    /// The proof is shorter than its fixed header.
    #[error("output proof truncated: {0} bytes")]
    Truncated(usize),
    /// The version byte is not one this code reads.
    #[error("unsupported output proof version {0}")]
    UnsupportedVersion(u8),
    /// The embedded tree proof is malformed.
    #[error("malformed tree proof: {0}")]
    Tree(#[from] soru_tree::ProofError),
    /// The proof is of another state.
    #[error("the proof is of state {found}, not {expected}")]
    WrongState {
        /// The state the caller trusts.
        expected: StateHash,
        /// The state the proof starts from.
        found: StateHash,
    },
    /// The state has no message at that position (never written, or the
    /// level left the outbox).
    #[error("no outbox message at level {outbox_level} index {message_index}")]
    NoSuchOutput {
        /// The level asked for.
        outbox_level: u32,
        /// The index asked for.
        message_index: u32,
    },
    /// The tree proof lacks nodes the read needs, or the value read is not a
    /// message a kernel could have written.
    #[error("the proof does not establish the output: {0}")]
    Incomplete(String),
    /// Producing the proof failed (the prover's own state is unreadable).
    #[error(transparent)]
    Pvm(#[from] PvmError),
}

/// An output proof, in its wire form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputProof(Vec<u8>);

impl OutputProof {
    /// Wraps received bytes; [`verify_output`] checks them.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        OutputProof(bytes)
    }

    /// The wire bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the proof has no bytes (never true of a produced proof).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(feature = "prover")]
/// The proof that `pvm`'s state holds the outbox message at
/// (`outbox_level`, `message_index`), with that message.
pub fn prove_output(
    pvm: &Pvm,
    outbox_level: u32,
    message_index: u32,
) -> Result<(OutputProof, Output), OutputProofError> {
    let mut recording = RecordingTree::new(pvm.to_tree()?);
    let message = read_output(&mut recording, outbox_level, message_index, |e| {
        OutputProofError::Pvm(PvmError::Tree(e))
    })?;
    let tree_proof: Proof = recording.proof();
    let mut bytes = Vec::with_capacity(HEADER_LEN + tree_proof.len());
    bytes.push(OUTPUT_PROOF_VERSION);
    bytes.extend_from_slice(&outbox_level.to_be_bytes());
    bytes.extend_from_slice(&message_index.to_be_bytes());
    bytes.extend_from_slice(tree_proof.as_bytes());
    Ok((
        OutputProof(bytes),
        Output {
            outbox_level,
            message_index,
            message,
        },
    ))
}

/// Checks `proof` against the trusted state hash (a cemented commitment's
/// `compressed_state`) and returns the output it establishes. Never panics
/// on arbitrary bytes.
pub fn verify_output(proof: &[u8], state: &StateHash) -> Result<Output, OutputProofError> {
    if proof.len() < HEADER_LEN {
        return Err(OutputProofError::Truncated(proof.len()));
    }
    if proof[0] != OUTPUT_PROOF_VERSION {
        return Err(OutputProofError::UnsupportedVersion(proof[0]));
    }
    let word = |at: usize| u32::from_be_bytes([proof[at], proof[at + 1], proof[at + 2], proof[at + 3]]);
    let (outbox_level, message_index) = (word(1), word(5));
    let mut tree = VerifierTree::new(&proof[HEADER_LEN..])?;
    let found = StateHash(tree.before_hash().0);
    if found != *state {
        return Err(OutputProofError::WrongState {
            expected: *state,
            found,
        });
    }
    let message = read_output(&mut tree, outbox_level, message_index, |e| {
        OutputProofError::Incomplete(e.to_string())
    })?;
    if message.len() > MAX_MESSAGE as usize {
        return Err(OutputProofError::Incomplete(format!(
            "a {}-byte value cannot be an outbox message",
            message.len()
        )));
    }
    Ok(Output {
        outbox_level,
        message_index,
        message,
    })
}

/// Reads outbox message `(outbox_level, message_index)`; a position never
/// written is [`OutputProofError::NoSuchOutput`], any other tree failure
/// goes through `other`.
fn read_output(
    tree: &mut impl TreeAccess,
    outbox_level: u32,
    message_index: u32,
    other: impl FnOnce(TreeError) -> OutputProofError,
) -> Result<Vec<u8>, OutputProofError> {
    match tree.read(
        &outbox_message_path(outbox_level, u64::from(message_index)),
        0,
        usize::MAX,
    ) {
        Ok(message) => Ok(message),
        Err(TreeError::NoValue | TreeError::NotFound) => Err(OutputProofError::NoSuchOutput {
            outbox_level,
            message_index,
        }),
        Err(e) => Err(other(e)),
    }
}
