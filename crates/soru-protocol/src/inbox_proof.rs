//! Inbox proofs (Octez `Sc_rollup_inbox_repr.proof`): that the message at
//! `(level, counter)` of the inbox whose last history cell is a game's
//! snapshot is this payload — or that there is none, because the level has
//! no message `counter` (the next input is then the next level's SOL, or
//! nothing if the level is the snapshot's).
//!
//! A proof is an inclusion proof — history cells from the snapshot down to
//! the level's cell, each step the skip list's best one — and a message
//! proof — payload cells from the level's EOL cell down to the message,
//! with the message itself. Binary layout (data-encoding):
//! `u32 bytes ‖ history cells ‖ u32 bytes ‖ payload cells ‖ (00 | ff ‖ u32 len ‖ payload)`.

use soru_core::encoding::{DecodeError, Reader};

use crate::inbox::{
    decode_history_cell, decode_payload_cell, encode_history_cell, encode_payload_cell, history_cell_hash,
    message_hash, payload_cell_hash, start_of_level, HistoryCell, InboxArchive, PayloadCell,
};
use crate::skip_list::{back_path, valid_cell_path};

/// The message part of a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadsProof {
    /// Payload cells, the level's last (EOL) cell first, the proven one last.
    pub proof: Vec<PayloadCell>,
    /// The proven message, serialized (none when proving there is none).
    pub payload: Option<Vec<u8>>,
}

/// An inbox proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxProof {
    /// History cells, the snapshot first, the message's level last.
    pub inclusion_proof: Vec<HistoryCell>,
    /// The message within its level.
    pub message_proof: PayloadsProof,
}

/// The input a proof establishes: the message the PVM reads next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenInput {
    /// Its inbox level.
    pub level: u32,
    /// Its index in the level.
    pub counter: u64,
    /// The serialized message.
    pub payload: Vec<u8>,
}

/// Why a proof was refused or could not be made (the names of Octez's
/// errors where it has one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboxProofError {
    /// The bytes are not a proof.
    #[error("invalid serialized inbox proof: {0}")]
    InvalidSerializedInboxProof(DecodeError),
    /// No history cell.
    #[error("inclusion proof is empty")]
    EmptyInclusionProof,
    /// The history cells do not lead from the snapshot down the skip list.
    #[error("invalid inclusion proof")]
    InvalidInclusionProof,
    /// No payload cell.
    #[error("message proof is empty")]
    EmptyMessageProof,
    /// The payload cells do not form a best-skip path.
    #[error("invalid message proof")]
    InvalidMessageProof,
    /// The message proof starts at a cell other than the level's.
    #[error("message_proof does not match history")]
    MessageProofDoesNotMatchHistory,
    /// A payload given where the level has no such message.
    #[error("payload provided but none expected")]
    PayloadProvidedButNoneExpected,
    /// No payload where the level has the message.
    #[error("expected a payload but none provided")]
    ExpectedPayload,
    /// A payload whose hash is not the cell's.
    #[error("the payload does not match the message hash of the proven cell")]
    PayloadHashMismatch,
    /// The proven cell is not the message asked for.
    #[error("found index in message_proof ({found}) is incorrect, expected {expected}")]
    WrongMessageIndex {
        /// The cell's index.
        found: u64,
        /// The counter asked for.
        expected: u64,
    },
    /// A counter past the level's end (+1).
    #[error("message counter {counter} out of the valid range [0 -- {}]", .max_index + 1)]
    CounterOutOfRange {
        /// The counter asked for.
        counter: u64,
        /// The level's last index.
        max_index: u64,
    },
    /// Producing: the level is not behind the snapshot in the archive.
    #[error("level {0} is not in the archived inbox below the snapshot")]
    LevelNotArchived(u32),
    /// Producing: the archive lacks a cell of the path.
    #[error("the archive lacks a cell the proof needs")]
    ArchiveIncomplete,
}

fn encode_option_bytes(value: &Option<Vec<u8>>, out: &mut Vec<u8>) {
    match value {
        None => out.push(0x00),
        Some(bytes) => {
            out.push(0xff);
            soru_core::encoding::write_dynamic(out, |out| out.extend_from_slice(bytes));
        }
    }
}

impl InboxProof {
    /// The binary `serialized_proof`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        soru_core::encoding::write_dynamic(&mut out, |out| {
            for cell in &self.inclusion_proof {
                encode_history_cell(cell, out);
            }
        });
        soru_core::encoding::write_dynamic(&mut out, |out| {
            for cell in &self.message_proof.proof {
                encode_payload_cell(cell, out);
            }
        });
        encode_option_bytes(&self.message_proof.payload, &mut out);
        out
    }

    /// Reads a `serialized_proof`; trailing bytes are refused. As in
    /// data-encoding, any non-zero presence byte means the payload is there.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InboxProofError> {
        let parse = |r: &mut Reader<'_>| -> Result<Self, DecodeError> {
            let inclusion_proof = decode_list(r, decode_history_cell)?;
            let proof = decode_list(r, decode_payload_cell)?;
            let payload = match r.u8()? {
                0 => None,
                _ => Some(r.dynamic(|inner| Ok(inner.take_rest().to_vec()))?),
            };
            r.finish()?;
            Ok(Self {
                inclusion_proof,
                message_proof: PayloadsProof { proof, payload },
            })
        };
        let mut r = Reader::new(bytes);
        parse(&mut r).map_err(InboxProofError::InvalidSerializedInboxProof)
    }
}

/// A data-encoding `list`: a 4-byte byte length, then elements to its end.
fn decode_list<T>(
    r: &mut Reader<'_>,
    element: impl Fn(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    r.dynamic(|inner| {
        let mut items = Vec::new();
        while !inner.is_empty() {
            items.push(element(inner)?);
        }
        Ok(items)
    })
}

/// The input after `(level, counter)` when the level has no message
/// `counter`: none if `level_cell` is the snapshot's, else the next
/// level's SOL.
fn after_level(snapshot: &HistoryCell, level_cell: &HistoryCell, level: u32) -> Option<ProvenInput> {
    (snapshot != level_cell).then(|| ProvenInput {
        level: level + 1,
        counter: 0,
        payload: start_of_level(),
    })
}

/// Octez's `verify_proof (level, counter) snapshot proof`: the message the
/// proof establishes at `(level, counter)` of the inbox of `snapshot`, or
/// `None` if the inbox has nothing more.
pub fn verify(
    snapshot: &HistoryCell,
    level: u32,
    counter: u64,
    proof: &InboxProof,
) -> Result<Option<ProvenInput>, InboxProofError> {
    // The inclusion proof: from the snapshot to the level's cell.
    let Some(level_cell) = proof.inclusion_proof.last() else {
        return Err(InboxProofError::EmptyInclusionProof);
    };
    if !valid_cell_path(&proof.inclusion_proof, &history_cell_hash(snapshot), history_cell_hash) {
        return Err(InboxProofError::InvalidInclusionProof);
    }

    // The message proof: from the level's EOL cell to the message.
    let message = &proof.message_proof;
    let (Some(head), Some(proven)) = (message.proof.first(), message.proof.last()) else {
        return Err(InboxProofError::EmptyMessageProof);
    };
    if !valid_cell_path(&message.proof, &payload_cell_hash(head), payload_cell_hash) {
        return Err(InboxProofError::InvalidMessageProof);
    }
    if payload_cell_hash(head) != level_cell.content.hash {
        return Err(InboxProofError::MessageProofDoesNotMatchHistory);
    }
    let max_index = head.index;
    if counter == max_index.saturating_add(1) {
        if message.payload.is_some() {
            return Err(InboxProofError::PayloadProvidedButNoneExpected);
        }
        if proven != head {
            return Err(InboxProofError::InvalidMessageProof);
        }
        return Ok(after_level(snapshot, level_cell, level));
    }
    if counter > max_index {
        return Err(InboxProofError::CounterOutOfRange { counter, max_index });
    }
    let Some(payload) = &message.payload else {
        return Err(InboxProofError::ExpectedPayload);
    };
    if message_hash(payload) != proven.content {
        return Err(InboxProofError::PayloadHashMismatch);
    }
    if proven.index != counter {
        return Err(InboxProofError::WrongMessageIndex {
            found: proven.index,
            expected: counter,
        });
    }
    Ok(Some(ProvenInput {
        level,
        counter,
        payload: payload.clone(),
    }))
}

/// Octez's `produce_proof`: the proof, from `archive`, of what is at
/// `(level, counter)` of the inbox of `snapshot`, and that input.
pub fn produce(
    archive: &InboxArchive,
    snapshot: &HistoryCell,
    level: u32,
    counter: u64,
) -> Result<(InboxProof, Option<ProvenInput>), InboxProofError> {
    // One history cell per level: the level's cell is `snapshot.level −
    // level` cells back.
    let back = snapshot
        .content
        .level
        .checked_sub(level)
        .ok_or(InboxProofError::LevelNotArchived(level))?;
    let target = snapshot
        .index
        .checked_sub(u64::from(back))
        .ok_or(InboxProofError::LevelNotArchived(level))?;
    let path = back_path(|h| archive.history_cell(h), history_cell_hash(snapshot), target)
        .ok_or(InboxProofError::LevelNotArchived(level))?;
    let inclusion_proof: Vec<HistoryCell> = path
        .iter()
        .map(|h| archive.history_cell(h).ok_or(InboxProofError::ArchiveIncomplete))
        .collect::<Result<_, _>>()?;
    let level_cell = inclusion_proof.last().ok_or(InboxProofError::ArchiveIncomplete)?;
    if level_cell.content.level != level {
        return Err(InboxProofError::LevelNotArchived(level));
    }

    let witness = archive
        .level(&level_cell.content.hash)
        .ok_or(InboxProofError::LevelNotArchived(level))?;
    let max_index = witness.last_index();
    if counter > max_index.saturating_add(1) {
        return Err(InboxProofError::CounterOutOfRange { counter, max_index });
    }
    let target = counter.min(max_index);
    let message_path =
        back_path(|h| witness.cell(h), witness.head_hash(), target).ok_or(InboxProofError::ArchiveIncomplete)?;
    let proof: Vec<PayloadCell> = message_path
        .iter()
        .map(|h| witness.cell(h).ok_or(InboxProofError::ArchiveIncomplete))
        .collect::<Result<_, _>>()?;
    let (payload, input) = if target == counter {
        let payload = witness.messages()[counter as usize].clone();
        let input = ProvenInput {
            level,
            counter,
            payload: payload.clone(),
        };
        (Some(payload), Some(input))
    } else {
        (None, after_level(snapshot, level_cell, level))
    };
    let proof = InboxProof {
        inclusion_proof,
        message_proof: PayloadsProof { proof, payload },
    };
    Ok((proof, input))
}
