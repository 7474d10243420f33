//! `smart_rollup_execute_outbox_message` (Octez `sc_rollup_operations.ml`,
//! `sc_rollup_outbox_storage.ml`; PROTOCOL-FACTS §4.3): the checks that let
//! an outbox message of a cemented state run on the L1, in Octez's order,
//! and what the rollup's state becomes. Running the transactions is the
//! Michelson interpreter's (the L1's); this module returns them decoded.
//!
//! 1. the commitment is the last cemented one or an ancestor whose contents
//!    are still stored (the last 5 cemented);
//! 2. the output proof is valid against its state;
//! 3. `lcc level − max_active_outbox_levels < outbox level ≤ lcc level`;
//! 4. the message decodes; a whitelist update needs private rollups
//!    enabled, a private rollup, a non-empty list and an update newer than
//!    the last one;
//! 5. replay protection: `0 ≤ index < max_outbox_messages_per_level`, one
//!    bitset per slot `outbox level mod max_active_outbox_levels`.
//!
//! Every check runs before anything changes: a refused execution leaves
//! the rollup as it was.

use std::collections::BTreeMap;

use soru_core::base58::CommitmentHash;
use soru_core::encoding::{Decode, DecodeError};
use soru_core::outbox::{OutboxMessage, OutboxTransaction, TypedOutboxTransaction};
use soru_core::params::SmartRollupParams;
use soru_core::PublicKeyHash;

use crate::rollup::RollupState;

/// Why an outbox message was refused (Octez's error names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// A cemented commitment whose contents are no longer stored.
    #[error("smart_rollup_unknown_commitment: {0}")]
    UnknownCommitment(CommitmentHash),
    /// The commitment is neither the last cemented one nor a stored ancestor.
    #[error("smart_rollup_invalid_last_cemented_commitment: not a stored cemented commitment")]
    InvalidLastCementedCommitment,
    /// The output proof does not hold against the commitment's state.
    #[error("smart_rollup_invalid_output_proof: {0}")]
    InvalidOutputProof(String),
    /// The message's level is not executable now.
    #[error("smart_rollup_invalid_outbox_level: level {outbox_level} outside ]{}, {lcc_level}]", i64::from(*.lcc_level) - i64::from(*.max_active_levels))]
    InvalidOutboxLevel {
        /// The message's level.
        outbox_level: u32,
        /// The last cemented commitment's level.
        lcc_level: u32,
        /// `max_active_outbox_levels`.
        max_active_levels: u32,
    },
    /// The message's bytes are not an outbox message.
    #[error("smart_rollup_invalid_outbox_message: {0}")]
    InvalidOutboxMessage(DecodeError),
    /// A whitelist update while private rollups are disabled.
    #[error("smart_rollup_whitelist_disabled")]
    WhitelistDisabled,
    /// A whitelist update for a public rollup.
    #[error("smart_rollup_rollup_is_public")]
    RollupIsPublic,
    /// A whitelist update to an empty list.
    #[error("smart_rollup_empty_whitelist")]
    EmptyWhitelist,
    /// A whitelist update not newer than the last one applied.
    #[error("smart_rollup_outdated_whitelist_update: ({outbox_level}, {message_index}) is not after the last update ({last_level}, {last_index})")]
    OutdatedWhitelistUpdate {
        /// The update's level.
        outbox_level: u32,
        /// The update's index.
        message_index: u32,
        /// The last applied update's level.
        last_level: u32,
        /// The last applied update's index.
        last_index: u32,
    },
    /// An index past the per-level limit.
    #[error("smart_rollup_invalid_outbox_message_index: {0}")]
    InvalidOutboxMessageIndex(u32),
    /// The message's slot holds a newer level: its level has expired.
    #[error("smart_rollup_outbox_level_expired")]
    OutboxLevelExpired,
    /// The message already ran.
    #[error("smart_rollup_outbox_message_already_applied")]
    OutboxMessageAlreadyApplied,
}

/// Which outbox messages ran: per slot `level mod max_active_outbox_levels`,
/// the level and a bitset of message indices (Octez `Applied_outbox_messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedOutboxMessages {
    slots: BTreeMap<u32, (u32, u128)>,
}

impl AppliedOutboxMessages {
    /// Whether message `index` of `level` ran (and its slot still holds that level).
    pub fn is_applied(&self, level: u32, index: u32, max_active_levels: u32) -> bool {
        let slot = level % max_active_levels.max(1);
        matches!(self.slots.get(&slot), Some((l, bits)) if *l == level && index < 128 && bits & (1 << index) != 0)
    }

    /// The slot as it will be after recording `(level, index)`, or why not.
    fn recorded(&self, level: u32, index: u32, params: &SmartRollupParams) -> Result<(u32, (u32, u128)), OutboxError> {
        // The bitset holds 128 indices; the protocol's limit is 100.
        let per_level = params.max_outbox_messages_per_level.min(128);
        if index >= per_level {
            return Err(OutboxError::InvalidOutboxMessageIndex(index));
        }
        let slot = level % params.max_active_outbox_levels.max(1);
        let bits = match self.slots.get(&slot) {
            Some(&(stored, bits)) if stored == level => {
                if bits & (1 << index) != 0 {
                    return Err(OutboxError::OutboxMessageAlreadyApplied);
                }
                bits
            }
            Some(&(stored, _)) if level < stored => return Err(OutboxError::OutboxLevelExpired),
            _ => 0,
        };
        Ok((slot, (level, bits | 1 << index)))
    }
}

/// Who may publish on a rollup (Octez `Whitelist`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Only these keys; the last update applied (outbox level, index), if any.
    Private {
        /// The keys allowed.
        whitelist: Vec<PublicKeyHash>,
        /// The last whitelist update applied from the outbox.
        last_update: Option<(u32, u32)>,
    },
}

/// What an accepted outbox message does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    /// Transactions for the L1 to run, sender = the rollup, amount 0.
    Transactions(Vec<OutboxTransaction>),
    /// Transactions with their parameter types.
    TypedTransactions(Vec<TypedOutboxTransaction>),
    /// The rollup's access changed (applied to the state already).
    AccessChanged(Access),
}

/// Applies `execute_outbox_message` of `cemented_commitment` with
/// `output_proof` to `rollup`: on success the message is recorded (and a
/// whitelist update applied) and its effect returned; on error `rollup` is
/// unchanged.
pub fn execute_outbox_message(
    params: &SmartRollupParams,
    rollup: &mut RollupState,
    cemented_commitment: &CommitmentHash,
    output_proof: &[u8],
) -> Result<Execution, OutboxError> {
    let (lcc_hash, lcc) = rollup
        .last_cemented()
        .map_err(|_| OutboxError::UnknownCommitment(rollup.lcc))?;
    let lcc_level = u32::try_from(lcc.inbox_level).unwrap_or(0);
    if !rollup.commitments_are_related(&lcc_hash, cemented_commitment) {
        return Err(OutboxError::InvalidLastCementedCommitment);
    }
    let commitment = rollup
        .commitment(cemented_commitment)
        .ok_or(OutboxError::UnknownCommitment(*cemented_commitment))?;
    let output = soru_pvm::output_proof::verify_output(output_proof, &commitment.compressed_state)
        .map_err(|e| OutboxError::InvalidOutputProof(e.to_string()))?;

    let max_active_levels = params.max_active_outbox_levels;
    let min_level = i64::from(lcc_level) - i64::from(max_active_levels);
    if !(min_level < i64::from(output.outbox_level) && output.outbox_level <= lcc_level) {
        return Err(OutboxError::InvalidOutboxLevel {
            outbox_level: output.outbox_level,
            lcc_level,
            max_active_levels,
        });
    }
    let message = OutboxMessage::from_bytes(&output.message).map_err(OutboxError::InvalidOutboxMessage)?;

    let (execution, access) = match message {
        OutboxMessage::AtomicTransactionBatch(transactions) => (Execution::Transactions(transactions), None),
        OutboxMessage::TypedTransactionBatch(transactions) => (Execution::TypedTransactions(transactions), None),
        OutboxMessage::WhitelistUpdate(update) => {
            if !params.private_enable {
                return Err(OutboxError::WhitelistDisabled);
            }
            let Access::Private { last_update, .. } = &rollup.access else {
                return Err(OutboxError::RollupIsPublic);
            };
            let access = match update {
                Some(whitelist) => {
                    if whitelist.is_empty() {
                        return Err(OutboxError::EmptyWhitelist);
                    }
                    // Octez reads a rollup without updates as (level 0, index 0).
                    let (last_level, last_index) = last_update.unwrap_or((0, 0));
                    let outdated = (last_level == output.outbox_level && last_index >= output.message_index)
                        || output.outbox_level < last_level;
                    if outdated {
                        return Err(OutboxError::OutdatedWhitelistUpdate {
                            outbox_level: output.outbox_level,
                            message_index: output.message_index,
                            last_level,
                            last_index,
                        });
                    }
                    Access::Private {
                        whitelist,
                        last_update: Some((output.outbox_level, output.message_index)),
                    }
                }
                None => Access::Public,
            };
            (Execution::AccessChanged(access.clone()), Some(access))
        }
    };

    let (slot, recorded) = rollup
        .applied_outbox
        .recorded(output.outbox_level, output.message_index, params)?;
    rollup.applied_outbox.slots.insert(slot, recorded);
    if let Some(access) = access {
        rollup.access = access;
    }
    Ok(execution)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_holding_a_newer_level_makes_older_ones_expire() {
        let mut params = soru_core::params::ProtocolParams::mainnet().smart_rollup;
        params.max_active_outbox_levels = 10;
        let mut applied = AppliedOutboxMessages::default();
        let (slot, value) = applied.recorded(25, 3, &params).unwrap();
        assert_eq!((slot, value), (5, (25, 1 << 3)));
        applied.slots.insert(slot, value);
        assert_eq!(applied.recorded(15, 3, &params), Err(OutboxError::OutboxLevelExpired));
        assert_eq!(
            applied.recorded(25, 3, &params),
            Err(OutboxError::OutboxMessageAlreadyApplied)
        );
        // A newer level in the same slot starts a fresh bitset.
        assert_eq!(applied.recorded(35, 3, &params).unwrap(), (5, (35, 1 << 3)));
        assert_eq!(applied.recorded(25, 4, &params).unwrap(), (5, (25, 1 << 3 | 1 << 4)));
        assert!(applied.is_applied(25, 3, 10) && !applied.is_applied(35, 3, 10));
    }
}
