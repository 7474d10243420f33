//! PVM one-step proofs: the proof that one tick (or one input or reveal
//! answer) takes the state with hash `start` to the state with hash `stop`.
//!
//! Prover and verifier run the *same* step function ([`apply_step`]) on the
//! PVM over two tree backends: the prover on a [`RecordingTree`] of the full
//! state, which notes every node the tick opens; the verifier on the
//! [`VerifierTree`] those nodes form, which fails on any node the proof lacks.
//! The PVM reads its counters, inputs and phase from the tree, steps, and
//! writes them back, so the verifier's after-root is the true next state hash.
//!
//! Wire format (version 1, `docs/ARCHITECTURE.md`): one version byte, then
//! the soru-tree proof to the end.
//!
//! A proof's tree can hold any state, reachable or not; the verifier turns
//! an internal check failing on an unreachable state into a rejection.
//!
//! The step opens only what it touches: a running machine is read chunk by
//! chunk ([`crate::machine_proof`]), a decoding kernel's decoder and input
//! record by record (`crate::decode_store`), and Link and Init work on the
//! module's records and the machine layout in the tree
//! (`crate::instantiate`), so every proof stays small whatever the size of
//! the kernel, its memory, tables, stack or durable storage.

use soru_core::StateHash;
#[cfg(feature = "prover")]
use soru_tree::{RecordingTree, Tree};
use soru_tree::{TreeAccess, VerifierTree};

use crate::inspect::InternalState;
use crate::pvm::{Input, InputRequest, Pvm, PvmError, RevealRequest};
use crate::state::MachineLoading;

/// Version byte of the step-proof wire format.
pub const STEP_PROOF_VERSION: u8 = 1;

/// Size of a metadata reveal answer: rollup address (20) ‖ origination level (4).
pub const METADATA_SIZE: usize = 24;

/// What the tick consumes, as the refutation's input proof establishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepInput {
    /// An inbox message (the first input, or the one after the last read).
    Message(Input),
    /// The answer to a reveal: a preimage, or the 24 metadata bytes.
    Reveal(Vec<u8>),
}

/// What a valid proof establishes (PROTOCOL-FACTS §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepVerdict {
    /// The state the proof starts from.
    pub start: StateHash,
    /// The state after the step; `None` when the state needs an input and
    /// none was given (the PVM is blocked).
    pub stop: Option<StateHash>,
    /// What the start state asks for.
    pub request: InputRequest,
}

/// Why a step proof was not produced or not accepted.
#[derive(Debug, thiserror::Error)]
pub enum StepProofError {
    /// The proof has no version byte.
    #[error("empty step proof")]
    Empty,
    /// The version byte is not one this code reads.
    #[error("unsupported step proof version {0}")]
    UnsupportedVersion(u8),
    /// The embedded tree proof is malformed.
    #[error("malformed tree proof: {0}")]
    Tree(#[from] soru_tree::ProofError),
    /// The input does not answer the state's request (pairing table of
    /// PROTOCOL-FACTS §5.3), or a reveal does not match its hash.
    #[error("input does not match the request {request:?}: {reason}")]
    Pairing {
        /// What the start state asks for.
        request: InputRequest,
        /// What is wrong with the input given.
        reason: String,
    },
    /// The step failed: on the verifier, because the proof lacks state the
    /// step needs or holds a state no PVM reaches; on the prover, because its
    /// own state is unreadable.
    #[error("step failed: {0}")]
    Step(#[from] PvmError),
    /// The proof's state breaks an invariant every reachable state keeps, so
    /// that stepping it hit an internal check (caught: the verifier never
    /// takes the process down).
    #[error("the proof's state is not one a PVM reaches: {0}")]
    UnreachableState(String),
}

/// A step proof, in its wire form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepProof(Vec<u8>);

impl StepProof {
    /// Wraps received bytes; [`verify_step`] checks them.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        StepProof(bytes)
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

/// The step function both sides run: rebuild the PVM from `tree`, consume
/// `input` or run one tick, write the state back. Returns the tree, the
/// start state's request, and whether the PVM was blocked (nothing ran).
fn apply_step<T: TreeAccess>(tree: T, input: Option<StepInput>) -> Result<(T, InputRequest, bool), StepProofError> {
    let mut pvm = Pvm::from_state_tree(tree, MachineLoading::Lazy)?;
    let request = pvm.input_request();
    let pairing = |reason: &str| StepProofError::Pairing {
        request: request.clone(),
        reason: reason.to_owned(),
    };
    let blocked = match (&request, input) {
        (InputRequest::NoInputRequired, None) => {
            pvm.step()?;
            false
        }
        (InputRequest::NoInputRequired, Some(_)) => return Err(pairing("no input is required")),
        (_, None) => true,
        (InputRequest::Initial | InputRequest::FirstAfter { .. }, Some(StepInput::Message(message))) => {
            pvm.set_input(message).map_err(|e| pairing(&e.to_string()))?;
            false
        }
        (InputRequest::Reveal(kind), Some(StepInput::Reveal(data))) => {
            if *kind == RevealRequest::Metadata && data.len() != METADATA_SIZE {
                return Err(pairing("metadata is 24 bytes"));
            }
            pvm.reveal(&data).map_err(|e| pairing(&e.to_string()))?;
            false
        }
        (InputRequest::Reveal(_), Some(StepInput::Message(_))) => return Err(pairing("a reveal is required")),
        (_, Some(StepInput::Reveal(_))) => return Err(pairing("an inbox message is required")),
    };
    Ok((pvm.into_state_tree()?, request, blocked))
}

#[cfg(feature = "prover")]
/// Proves the next step of `pvm` consuming `input` (which must answer its
/// [`Pvm::input_request`]). Returns the proof and what it establishes.
pub fn prove_step(pvm: &Pvm, input: Option<StepInput>) -> Result<(StepProof, StepVerdict), StepProofError> {
    StepProver::new(pvm)?.prove(input)
}

#[cfg(feature = "prover")]
/// Proves consecutive steps from one state, keeping the state tree each
/// step produces, so a proof costs what its step touches rather than the
/// size of the state (a node proving a range of ticks; the benchmarks).
#[derive(Debug, Clone)]
pub struct StepProver {
    tree: Tree,
}

#[cfg(feature = "prover")]
impl StepProver {
    /// Starts from the state of `pvm`.
    pub fn new(pvm: &Pvm) -> Result<Self, StepProofError> {
        Ok(StepProver { tree: pvm.to_tree()? })
    }

    /// The current state's hash.
    pub fn state_hash(&self) -> StateHash {
        StateHash(self.tree.root_hash().0)
    }

    /// The current state with its machine left in the tree (cheap to open).
    fn view(&self) -> Result<Pvm, StepProofError> {
        Ok(Pvm::from_state_tree(self.tree.clone(), MachineLoading::Lazy)?)
    }

    /// What the current state asks for.
    pub fn input_request(&self) -> Result<InputRequest, StepProofError> {
        Ok(self.view()?.input_request())
    }

    /// Where the current state is: its phase, the ticks left in its cycle
    /// and the host-call ticks pending.
    pub fn position(&self) -> Result<(InternalState, u128, u128), StepProofError> {
        let view = self.view()?;
        Ok((
            view.internal_state(),
            view.ticks_left_in_cycle(),
            view.pending_host_ticks(),
        ))
    }

    /// Moves up to `ticks` ticks ahead without proving them (runs the PVM
    /// on the whole state; stops early where an input is needed).
    pub fn skip(&mut self, ticks: u128) -> Result<(), StepProofError> {
        let mut pvm = self.to_pvm()?;
        pvm.run(ticks)?;
        self.tree = pvm.to_tree()?;
        Ok(())
    }

    /// The current state as a PVM.
    pub fn to_pvm(&self) -> Result<Pvm, StepProofError> {
        Ok(Pvm::from_tree(self.tree.clone())?)
    }

    /// Proves the next step consuming `input` and moves to the state after
    /// it (unless the step is blocked on a missing input).
    pub fn prove(&mut self, input: Option<StepInput>) -> Result<(StepProof, StepVerdict), StepProofError> {
        let recording = RecordingTree::new(self.tree.clone());
        let start = StateHash(recording.before_hash().0);
        let (mut recording, request, blocked) = apply_step(recording, input)?;
        let stop = (!blocked).then(|| StateHash(recording.root_hash().0));
        let (tree_proof, after) = recording.finish();
        if !blocked {
            self.tree = after;
        }
        let mut bytes = Vec::with_capacity(1 + tree_proof.len());
        bytes.push(STEP_PROOF_VERSION);
        bytes.extend_from_slice(tree_proof.as_bytes());
        Ok((StepProof(bytes), StepVerdict { start, stop, request }))
    }
}

/// Checks a step proof with the input its input proof establishes and
/// returns the start state, the stop state and the request. The caller
/// compares `start` and `stop` with the game's dissection and pairs
/// `request` with the input proof's position. Never panics on arbitrary bytes.
pub fn verify_step(proof: &[u8], input: Option<StepInput>) -> Result<StepVerdict, StepProofError> {
    let (&version, tree_proof) = proof.split_first().ok_or(StepProofError::Empty)?;
    if version != STEP_PROOF_VERSION {
        return Err(StepProofError::UnsupportedVersion(version));
    }
    let tree = VerifierTree::new(tree_proof)?;
    let start = StateHash(tree.before_hash().0);
    // Anyone can build a tree, so a proof may hold a state no execution
    // reaches; an internal check failing on it is a rejection, never a crash.
    // Stepping is deterministic, so so is this outcome.
    let stepped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply_step(tree, input)));
    let (tree, request, blocked) = stepped.map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "internal check failed".to_owned());
        StepProofError::UnreachableState(what)
    })??;
    let stop = (!blocked).then(|| StateHash(tree.after_hash().0));
    Ok(StepVerdict { start, stop, request })
}
