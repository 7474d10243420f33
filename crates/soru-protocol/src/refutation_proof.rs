//! The proof that ends a refutation game (Octez `Sc_rollup_proof_repr`;
//! PROTOCOL-FACTS §5.3): a PVM step proof and, when the step consumes an
//! input, the proof of that input — an inbox message against the game's
//! inbox snapshot, the first message, or a reveal.
//!
//! The proof's types and binary layout are the `refute` operation's
//! (`soru_core::operation`); this module says what a proof proves.

use soru_core::base58::{SmartRollupAddress, StateHash};
use soru_core::operation::{InputProof, RefutationProof, RevealProof};
use soru_pvm::step_proof::{verify_step, StepInput};
use soru_pvm::{Input, InputRequest, RevealRequest};

use crate::inbox::{start_of_level, HistoryCell};
use crate::inbox_proof::{self, InboxProof};

/// Why a refutation proof is not valid (it then refutes nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// An inbox proof at a negative level.
    #[error("inbox proof at level {0}")]
    NegativeLevel(i32),
    /// The inbox proof is not valid.
    #[error("invalid inbox proof: {0}")]
    InvalidInboxProof(inbox_proof::InboxProofError),
    /// A DAL input: this L1 has no DAL.
    #[error("DAL inputs are not supported")]
    DalNotSupported,
    /// The PVM step proof is not valid.
    #[error("invalid PVM step proof: {0}")]
    InvalidStep(String),
    /// The step starts from another state than the section's.
    #[error("the proof starts from {found}, not {expected}")]
    WrongStartState {
        /// The section's start state.
        expected: StateHash,
        /// The proof's.
        found: StateHash,
    },
    /// The input proof does not answer what the state asks for.
    #[error("the input proof does not answer the request {0:?}")]
    InputRequestMismatch(InputRequest),
}

/// What a proof is checked against (the game's and rollup's facts).
#[derive(Debug, Clone, Copy)]
pub struct ProofContext<'a> {
    /// The game's inbox snapshot.
    pub inbox_snapshot: &'a HistoryCell,
    /// The rollup's origination level.
    pub origination_level: u32,
    /// The inbox level of the commitments in dispute: inputs past it are
    /// not the game's.
    pub commit_inbox_level: u32,
    /// The rollup's address (metadata).
    pub rollup: SmartRollupAddress,
}

/// The answer to a metadata reveal: the rollup's address ‖ its
/// origination level (int32 BE), 24 bytes.
pub fn metadata(rollup: &SmartRollupAddress, origination_level: u32) -> Vec<u8> {
    let mut bytes = rollup.0.to_vec();
    bytes.extend_from_slice(&(origination_level as i32).to_be_bytes());
    bytes
}

/// The input an input proof establishes, before the level cut.
fn proven_input(ctx: &ProofContext<'_>, proof: &InputProof) -> Result<Option<StepInput>, ProofError> {
    Ok(match proof {
        InputProof::InboxProof {
            level,
            message_counter,
            serialized_proof,
        } => {
            let level = u32::try_from(*level).map_err(|_| ProofError::NegativeLevel(*level))?;
            let inbox = InboxProof::from_bytes(&serialized_proof.0).map_err(ProofError::InvalidInboxProof)?;
            let next = u64::try_from(message_counter.0.saturating_add(1)).unwrap_or(u64::MAX);
            inbox_proof::verify(ctx.inbox_snapshot, level, next, &inbox)
                .map_err(ProofError::InvalidInboxProof)?
                .map(|m| {
                    StepInput::Message(Input {
                        level: m.level,
                        counter: m.counter,
                        payload: m.payload,
                    })
                })
        }
        InputProof::FirstInput => Some(StepInput::Message(Input {
            level: ctx.origination_level + 1,
            counter: 0,
            payload: start_of_level(),
        })),
        InputProof::RevealProof {
            reveal_proof: RevealProof::RawDataProof { raw_data },
        } => Some(StepInput::Reveal(raw_data.0.clone())),
        InputProof::RevealProof {
            reveal_proof: RevealProof::MetadataProof,
        } => Some(StepInput::Reveal(metadata(&ctx.rollup, ctx.origination_level))),
        InputProof::RevealProof {
            reveal_proof: RevealProof::DalPageProof { .. } | RevealProof::DalParametersProof,
        } => return Err(ProofError::DalNotSupported),
    })
}

/// Whether `request` is what `proof` answers (PROTOCOL-FACTS §5.3's table).
fn answers(request: &InputRequest, proof: Option<&InputProof>) -> bool {
    match (proof, request) {
        (None, InputRequest::NoInputRequired) => true,
        (Some(InputProof::FirstInput), InputRequest::Initial) => true,
        (
            Some(InputProof::InboxProof {
                level, message_counter, ..
            }),
            InputRequest::FirstAfter { level: l, counter: n },
        ) => i64::from(*level) == i64::from(*l) && message_counter.0 == u128::from(*n),
        (
            Some(InputProof::RevealProof {
                reveal_proof: RevealProof::RawDataProof { raw_data },
            }),
            InputRequest::Reveal(RevealRequest::RawData(hash)),
        ) => soru_core::RevealHash::of_preimage(&raw_data.0) == *hash,
        (
            Some(InputProof::RevealProof {
                reveal_proof: RevealProof::MetadataProof,
            }),
            InputRequest::Reveal(RevealRequest::Metadata),
        ) => true,
        _ => false,
    }
}

/// Octez's `Sc_rollup_proof_repr.valid`: checks `proof` from the state
/// `start` and returns the state it stops at — `None` when the state needs
/// an input and none applies (the PVM is blocked).
pub fn valid(
    ctx: &ProofContext<'_>,
    start: &StateHash,
    proof: &RefutationProof,
) -> Result<Option<StateHash>, ProofError> {
    let input = match &proof.input_proof {
        Some(input_proof) => proven_input(ctx, input_proof)?,
        None => None,
    };
    // Inputs outside ]origination level, commitment level] are not the game's.
    let input = input.filter(|i| match i {
        StepInput::Message(m) => m.level > ctx.origination_level && m.level <= ctx.commit_inbox_level,
        StepInput::Reveal(_) => true,
    });
    let verdict = verify_step(&proof.pvm_step.0, input).map_err(|e| ProofError::InvalidStep(e.to_string()))?;
    if verdict.start != *start {
        return Err(ProofError::WrongStartState {
            expected: *start,
            found: verdict.start,
        });
    }
    if !answers(&verdict.request, proof.input_proof.as_ref()) {
        return Err(ProofError::InputRequestMismatch(verdict.request));
    }
    Ok(verdict.stop)
}
