//! The proof that ends a refutation game (Octez `Sc_rollup_proof_repr`;
//! PROTOCOL-FACTS §5.3): a PVM step proof and, when the step consumes an
//! input, the proof of that input — an inbox message against the game's
//! inbox snapshot, the first message, or a reveal.
//!
//! Binary layout (data-encoding): `u32 len ‖ pvm_step ‖ (00 | ff ‖ input
//! proof)`, input proof = `00 ‖ level (int32) ‖ counter (n) ‖ u32 len ‖
//! inbox proof` | `01 ‖ reveal proof` | `02` (first inbox message); reveal
//! proof = `00 ‖ u16 len ‖ data` | `01` (metadata) | `02 ‖ DAL page id ‖
//! u32 len ‖ proof` | `03` (DAL parameters).

use soru_core::base58::{SmartRollupAddress, StateHash};
use soru_core::encoding::{read_n, write_dynamic, write_n, Decode, DecodeError, Reader};
use soru_core::inbox::MAX_MESSAGE_SIZE;
use soru_pvm::step_proof::{verify_step, StepInput};
use soru_pvm::{Input, InputRequest, RevealRequest};

use crate::inbox::HistoryCell;
use crate::inbox_proof::{self, InboxProof};

/// A DAL page's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DalPageId {
    /// The level the slot was published at.
    pub published_level: i32,
    /// The slot.
    pub slot_index: u8,
    /// The page in the slot.
    pub page_index: i16,
}

/// The proof of a reveal's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevealProof {
    /// A preimage (at most 4 096 bytes).
    RawData(Vec<u8>),
    /// The rollup's metadata.
    Metadata,
    /// A DAL page (not supported: soru's rollups have no DAL).
    DalPage {
        /// The page.
        page_id: DalPageId,
        /// Its proof.
        proof: Vec<u8>,
    },
    /// DAL parameters (not supported).
    DalParameters,
}

/// The proof of the input a step consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputProof {
    /// The message after `(level, message_counter)`, proved against the
    /// game's inbox snapshot at `(level, message_counter + 1)`.
    Inbox {
        /// The level of the last message read.
        level: u32,
        /// Its counter.
        message_counter: u64,
        /// The serialized inbox proof.
        serialized_proof: Vec<u8>,
    },
    /// A reveal's answer.
    Reveal(RevealProof),
    /// The first message the rollup reads: SOL of the level after its origination.
    FirstInboxMessage,
}

/// A refutation proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefutationProof {
    /// The soru-pvm step proof.
    pub pvm_step: Vec<u8>,
    /// The input's proof, if the step consumes one.
    pub input_proof: Option<InputProof>,
}

/// Why a refutation proof is not valid (it then refutes nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The bytes are not a proof.
    #[error("malformed refutation proof: {0}")]
    Malformed(DecodeError),
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

const START_OF_LEVEL: [u8; 2] = [0x00, 0x01];

impl RefutationProof {
    /// The binary layout.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_dynamic(&mut out, |out| out.extend_from_slice(&self.pvm_step));
        match &self.input_proof {
            None => out.push(0x00),
            Some(input) => {
                out.push(0xff);
                match input {
                    InputProof::Inbox {
                        level,
                        message_counter,
                        serialized_proof,
                    } => {
                        out.push(0);
                        out.extend_from_slice(&(*level as i32).to_be_bytes());
                        write_n(&mut out, u128::from(*message_counter));
                        write_dynamic(&mut out, |out| out.extend_from_slice(serialized_proof));
                    }
                    InputProof::Reveal(reveal) => {
                        out.push(1);
                        match reveal {
                            RevealProof::RawData(data) => {
                                out.push(0);
                                out.extend_from_slice(&(data.len() as u16).to_be_bytes());
                                out.extend_from_slice(data);
                            }
                            RevealProof::Metadata => out.push(1),
                            RevealProof::DalPage { page_id, proof } => {
                                out.push(2);
                                out.extend_from_slice(&page_id.published_level.to_be_bytes());
                                out.push(page_id.slot_index);
                                out.extend_from_slice(&page_id.page_index.to_be_bytes());
                                write_dynamic(&mut out, |out| out.extend_from_slice(proof));
                            }
                            RevealProof::DalParameters => out.push(3),
                        }
                    }
                    InputProof::FirstInboxMessage => out.push(2),
                }
            }
        }
        out
    }

    /// Reads the binary layout (trailing bytes refused).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofError> {
        let mut r = Reader::new(bytes);
        let proof = Self::decode_from(&mut r).map_err(ProofError::Malformed)?;
        r.finish().map_err(ProofError::Malformed)?;
        Ok(proof)
    }

    /// Reads one proof from `r` (it is embedded in a `refute` operation).
    pub fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let pvm_step = r.dynamic(|inner| Ok(inner.take_rest().to_vec()))?;
        let input_proof = match r.u8()? {
            0 => None,
            _ => Some(match r.u8()? {
                0 => {
                    let level = i32::decode(r)?;
                    let level = u32::try_from(level).map_err(|_| DecodeError::Invalid {
                        what: "inbox level",
                        reason: format!("{level} is negative"),
                    })?;
                    let message_counter =
                        u64::try_from(read_n(r)?).map_err(|_| DecodeError::Overflow("message counter"))?;
                    let serialized_proof = r.dynamic(|inner| Ok(inner.take_rest().to_vec()))?;
                    InputProof::Inbox {
                        level,
                        message_counter,
                        serialized_proof,
                    }
                }
                1 => InputProof::Reveal(match r.u8()? {
                    0 => {
                        let len = usize::from(u16::decode(r)?);
                        if len > MAX_MESSAGE_SIZE {
                            return Err(DecodeError::Invalid {
                                what: "raw data proof",
                                reason: format!("{len} bytes, at most {MAX_MESSAGE_SIZE}"),
                            });
                        }
                        RevealProof::RawData(r.take(len)?.to_vec())
                    }
                    1 => RevealProof::Metadata,
                    2 => {
                        let page_id = DalPageId {
                            published_level: i32::decode(r)?,
                            slot_index: r.u8()?,
                            page_index: i16::decode(r)?,
                        };
                        let proof = r.dynamic(|inner| Ok(inner.take_rest().to_vec()))?;
                        RevealProof::DalPage { page_id, proof }
                    }
                    3 => RevealProof::DalParameters,
                    tag => {
                        return Err(DecodeError::UnknownTag {
                            what: "reveal proof",
                            tag: tag.into(),
                        })
                    }
                }),
                2 => InputProof::FirstInboxMessage,
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "input proof",
                        tag: tag.into(),
                    })
                }
            }),
        };
        Ok(Self { pvm_step, input_proof })
    }
}

/// The input an input proof establishes, before the level cut.
fn proven_input(ctx: &ProofContext<'_>, proof: &InputProof) -> Result<Option<StepInput>, ProofError> {
    Ok(match proof {
        InputProof::Inbox {
            level,
            message_counter,
            serialized_proof,
        } => {
            let inbox = InboxProof::from_bytes(serialized_proof).map_err(ProofError::InvalidInboxProof)?;
            let next = message_counter.saturating_add(1);
            inbox_proof::verify(ctx.inbox_snapshot, *level, next, &inbox)
                .map_err(ProofError::InvalidInboxProof)?
                .map(|m| {
                    StepInput::Message(Input {
                        level: m.level,
                        counter: m.counter,
                        payload: m.payload,
                    })
                })
        }
        InputProof::FirstInboxMessage => Some(StepInput::Message(Input {
            level: ctx.origination_level + 1,
            counter: 0,
            payload: START_OF_LEVEL.to_vec(),
        })),
        InputProof::Reveal(RevealProof::RawData(data)) => Some(StepInput::Reveal(data.clone())),
        InputProof::Reveal(RevealProof::Metadata) => {
            let mut metadata = ctx.rollup.0.to_vec();
            metadata.extend_from_slice(&(ctx.origination_level as i32).to_be_bytes());
            Some(StepInput::Reveal(metadata))
        }
        InputProof::Reveal(RevealProof::DalPage { .. } | RevealProof::DalParameters) => {
            return Err(ProofError::DalNotSupported)
        }
    })
}

/// Whether `request` is what `proof` answers (PROTOCOL-FACTS §5.3's table).
fn answers(request: &InputRequest, proof: Option<&InputProof>) -> bool {
    match (proof, request) {
        (None, InputRequest::NoInputRequired) => true,
        (Some(InputProof::FirstInboxMessage), InputRequest::Initial) => true,
        (
            Some(InputProof::Inbox {
                level, message_counter, ..
            }),
            InputRequest::FirstAfter { level: l, counter: n },
        ) => level == l && message_counter == n,
        (Some(InputProof::Reveal(RevealProof::RawData(data))), InputRequest::Reveal(RevealRequest::RawData(hash))) => {
            soru_core::RevealHash::of_preimage(data) == *hash
        }
        (Some(InputProof::Reveal(RevealProof::Metadata)), InputRequest::Reveal(RevealRequest::Metadata)) => true,
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
    let verdict = verify_step(&proof.pvm_step, input).map_err(|e| ProofError::InvalidStep(e.to_string()))?;
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
