//! A rollup's commitments and stakes on the L1 (Octez
//! `sc_rollup_storage.ml`, `sc_rollup_stake_storage.ml`,
//! `sc_rollup_commitment_storage.ml`; PROTOCOL-FACTS §2): origination,
//! `publish`, `cement`, `recover_bond`, and removing a staker who lost a
//! game. [`RollupState`] holds what Octez keeps in its per-rollup tables;
//! each operation checks everything first, in Octez's order (so the same
//! error is reported), and changes the state only if it succeeds. Money
//! moves are returned as [`BalanceUpdate`]s for the L1 to apply.
//!
//! Stakers are numbered by a per-rollup counter and never renumbered; a
//! staker is *active* while its index is in `stakers`, which maps it to the
//! highest inbox level it ever staked on. A commitment's stakers are the
//! indices that published it; cementing needs one of them still active.

use std::collections::BTreeMap;

use soru_core::base58::{CommitmentHash, SmartRollupAddress, StateHash};
use soru_core::commitment::NumberOfTicks;
use soru_core::micheline::Micheline;
use soru_core::params::SmartRollupParams;
use soru_core::{Commitment, PublicKeyHash};

use crate::game::{Clocks, Game, Players};
use crate::outbox::{Access, AppliedOutboxMessages};

/// Why a rollup operation was refused (Octez's error names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollupError {
    /// A private rollup, and the publisher is not on its whitelist.
    #[error("smart_rollup_staker_not_in_whitelist")]
    StakerNotInWhitelist,
    /// A commitment claiming zero ticks.
    #[error("smart_rollup_zero_tick_commitment")]
    ZeroTickCommitment,
    /// The staker cannot pay the bond.
    #[error("smart_rollup_staker_funds_too_low: {balance} mutez, the bond is {stake}")]
    StakerFundsTooLow {
        /// What the staker has.
        balance: u64,
        /// The bond.
        stake: u64,
    },
    /// A commitment at or below the last cemented level.
    #[error(
        "smart_rollup_commitment_too_old: level {commitment_inbox_level}, last cemented {last_cemented_inbox_level}"
    )]
    CommitmentTooOld {
        /// The last cemented commitment's level.
        last_cemented_inbox_level: u32,
        /// The commitment's level.
        commitment_inbox_level: u32,
    },
    /// A commitment beyond the lookahead.
    #[error("smart_rollup_too_far_ahead")]
    TooFarAhead,
    /// A commitment this rollup does not store.
    #[error("smart_rollup_unknown_commitment: {0}")]
    UnknownCommitment(CommitmentHash),
    /// A level off the commitment grid.
    #[error("smart_rollup_bad_inbox_level: expected {expected}, got {provided}")]
    BadInboxLevel {
        /// The level the predecessor calls for.
        expected: u32,
        /// The commitment's level.
        provided: u32,
    },
    /// The level's first commitment is older than the challenge window.
    #[error("smart_rollup_commitment_past_curfew")]
    CommitmentPastCurfew,
    /// A commitment for a level not yet finished.
    #[error("smart_rollup_commitment_from_future: level {inbox_level} at level {current_level}")]
    CommitmentFromFuture {
        /// The block's level.
        current_level: u32,
        /// The commitment's level.
        inbox_level: u32,
    },
    /// The staker already published this commitment.
    #[error("smart_rollup_double_publish: {0}")]
    DoublePublish(CommitmentHash),
    /// The staker published another commitment at this level.
    #[error("smart_rollup_staker_double_stake")]
    StakerDoubleStake,
    /// Two commitments could be cemented.
    #[error("smart_rollup_commitment_disputed")]
    Disputed,
    /// No commitment can be cemented.
    #[error("smart_rollup_no_valid_commitment_to_cement")]
    NoValidCommitmentToCement,
    /// The candidate's challenge window is still open.
    #[error("smart_rollup_commitment_too_recent: cementable from level {min_level}, now {current_level}")]
    CommitmentTooRecent {
        /// The block's level.
        current_level: u32,
        /// The first level at which it can be cemented.
        min_level: u32,
    },
    /// Not a staker of this rollup.
    #[error("smart_rollup_not_staked")]
    NotStaked,
    /// The staker has commitments above the last cemented one.
    #[error("smart_rollup_not_staked_on_lcc_or_ancestor")]
    NotStakedOnLccOrAncestor,
    /// A whitelist while private rollups are disabled.
    #[error("smart_rollup_whitelist_disabled")]
    WhitelistDisabled,
    /// An empty whitelist.
    #[error("smart_rollup_empty_whitelist")]
    EmptyWhitelist,
    /// A key twice in a whitelist.
    #[error("smart_rollup_duplicated_key_in_whitelist")]
    DuplicatedKeyInWhitelist,
    /// A parameter type a rollup cannot take.
    #[error("smart_rollup_invalid_parameters_type: {0}")]
    InvalidParametersType(String),
}

/// A balance change for the L1 to apply (Octez's balance updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceUpdate {
    /// An implicit account's spendable balance (mutez, signed).
    Contract(PublicKeyHash, i64),
    /// A staker's frozen bond on a rollup.
    FrozenBonds(PublicKeyHash, SmartRollupAddress, i64),
    /// Burnt as a refutation punishment.
    RefutationPunishments(i64),
    /// Minted as a refutation reward.
    RefutationRewards(i64),
}

/// A commitment period before a protocol change (Octez
/// `Past_commitment_periods`): levels whose next commitment level falls at
/// or before `next_protocol_activation` use `commitment_period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastCommitmentPeriod {
    /// The period then in force.
    pub commitment_period: u32,
    /// The level at which it stopped.
    pub next_protocol_activation: u32,
}

/// What the rules read of the chain: the block's level and constants.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The level of the block being applied.
    pub current_level: u32,
    /// The smart-rollup constants.
    pub params: &'a SmartRollupParams,
    /// Earlier commitment periods, oldest first.
    pub past_periods: &'a [PastCommitmentPeriod],
}

impl Context<'_> {
    /// The commitment level after `inbox_level` (Octez `next_commitment_level`).
    pub fn next_commitment_level(&self, inbox_level: u32) -> u32 {
        next_commitment_level(inbox_level, self.params.commitment_period_in_blocks, self.past_periods)
    }
}

/// The commitment level after `inbox_level` with the current `period` and
/// the `past` periods, oldest first: the first past period whose next
/// level falls at or before its end, else the current one.
pub fn next_commitment_level(inbox_level: u32, period: u32, past: &[PastCommitmentPeriod]) -> u32 {
    for p in past {
        let candidate = inbox_level.saturating_add(p.commitment_period);
        if candidate <= p.next_protocol_activation {
            return candidate;
        }
    }
    inbox_level.saturating_add(period)
}

fn level_of(commitment: &Commitment) -> u32 {
    u32::try_from(commitment.inbox_level).unwrap_or(0)
}

/// A rollup's state on the L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupState {
    /// The rollup's address.
    pub address: SmartRollupAddress,
    /// The type of the messages contracts send it.
    pub parameters_ty: Micheline,
    /// The origination level.
    pub genesis_level: u32,
    /// The genesis commitment.
    pub genesis_commitment: CommitmentHash,
    /// The last cemented commitment.
    pub lcc: CommitmentHash,
    /// Who may publish.
    pub access: Access,
    /// Outbox messages executed.
    pub applied_outbox: AppliedOutboxMessages,
    staker_index_counter: u64,
    staker_index: BTreeMap<PublicKeyHash, u64>,
    /// Active stakers: index → highest inbox level staked on.
    stakers: BTreeMap<u64, u32>,
    commitments: BTreeMap<CommitmentHash, Commitment>,
    commitment_stakers: BTreeMap<CommitmentHash, Vec<u64>>,
    /// Per inbox level, newest first.
    commitments_per_inbox_level: BTreeMap<u32, Vec<CommitmentHash>>,
    /// Per inbox level: when its first commitment was published.
    first_publication_level: BTreeMap<u32, u32>,
    /// Per commitment: when it was first published.
    commitment_added: BTreeMap<CommitmentHash, u32>,
    /// Refutation games and their clocks.
    pub(crate) games: BTreeMap<Players, (Game, Clocks)>,
}

/// What an origination produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origination {
    /// The new rollup.
    pub rollup: RollupState,
    /// Its genesis commitment.
    pub genesis_commitment: Commitment,
}

/// The address of the `origination_index`-th origination of the
/// operation `operation_hash`: blake2b-160(hash ‖ index as int32 BE).
pub fn rollup_address(operation_hash: &[u8; 32], origination_index: u32) -> SmartRollupAddress {
    SmartRollupAddress(soru_core::hash::origination_hash(operation_hash, origination_index))
}

/// Type constructors a rollup's parameter type may use, with their arity
/// (`None`: two or more, for `pair` combs).
const ALLOWED_TYPES: &[(&str, Option<usize>)] = &[
    ("unit", Some(0)),
    ("int", Some(0)),
    ("nat", Some(0)),
    ("signature", Some(0)),
    ("string", Some(0)),
    ("bytes", Some(0)),
    ("key_hash", Some(0)),
    ("key", Some(0)),
    ("timestamp", Some(0)),
    ("address", Some(0)),
    ("bls12_381_g1", Some(0)),
    ("bls12_381_g2", Some(0)),
    ("bls12_381_fr", Some(0)),
    ("bool", Some(0)),
    ("never", Some(0)),
    ("chain_id", Some(0)),
    ("contract", Some(1)),
    ("ticket", Some(1)),
    ("set", Some(1)),
    ("option", Some(1)),
    ("list", Some(1)),
    ("or", Some(2)),
    ("map", Some(2)),
    ("pair", None),
];

/// Checks the shape of a rollup's parameter type: only the allowed type
/// constructors (no mutez, big_map, sapling, operation, chest, lambda),
/// and no entrypoints (a `%` annotation on a branch of an `or`). Whether
/// the type is well-formed Michelson (comparable keys, …) is the Michelson
/// typechecker's to say.
pub fn validate_parameters_ty(ty: &Micheline) -> Result<(), RollupError> {
    let Micheline::Prim { prim, args, .. } = ty else {
        return Err(RollupError::InvalidParametersType("not a type".into()));
    };
    let name = prim.name();
    let Some((_, arity)) = ALLOWED_TYPES.iter().find(|(n, _)| *n == name) else {
        return Err(RollupError::InvalidParametersType(format!("`{name}` is not allowed")));
    };
    let arity_ok = match arity {
        Some(n) => args.len() == *n,
        None => args.len() >= 2,
    };
    if !arity_ok {
        return Err(RollupError::InvalidParametersType(format!(
            "`{name}` with {} arguments",
            args.len()
        )));
    }
    // `contract` takes any type: its argument is not stored.
    if name == "contract" {
        return Ok(());
    }
    for arg in args {
        if name == "or" {
            if let Micheline::Prim { annots, .. } = arg {
                if annots.iter().any(|a| a.starts_with('%')) {
                    return Err(RollupError::InvalidParametersType("entrypoints are not allowed".into()));
                }
            }
        }
        validate_parameters_ty(arg)?;
    }
    Ok(())
}

/// Two stakers' commitments that cannot both be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other staker.
    pub other: PublicKeyHash,
    /// The other staker's commitment.
    pub their_commitment: (CommitmentHash, Commitment),
    /// The asking staker's commitment.
    pub our_commitment: (CommitmentHash, Commitment),
    /// Their common predecessor.
    pub parent_commitment: CommitmentHash,
}

/// What `publish` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The commitment's hash.
    pub staked_hash: CommitmentHash,
    /// When that commitment was first published.
    pub published_at_level: u32,
    /// The bond, if this was the staker's first commitment.
    pub balance_updates: Vec<BalanceUpdate>,
}

impl RollupState {
    /// Originates a rollup (Octez `originate`): `genesis_state` is the PVM
    /// state with the kernel installed; the address comes from the
    /// operation's hash and the origination's index in it.
    pub fn originate(
        ctx: &Context<'_>,
        operation_hash: &[u8; 32],
        origination_index: u32,
        genesis_state: StateHash,
        parameters_ty: Micheline,
        whitelist: Option<Vec<PublicKeyHash>>,
    ) -> Result<Origination, RollupError> {
        validate_parameters_ty(&parameters_ty)?;
        let level = ctx.current_level;
        let genesis = Commitment {
            compressed_state: genesis_state,
            inbox_level: level as i32,
            predecessor: CommitmentHash([0; 32]),
            number_of_ticks: NumberOfTicks::default(),
        };
        let access = match whitelist {
            None => Access::Public,
            Some(keys) => {
                if !ctx.params.private_enable {
                    return Err(RollupError::WhitelistDisabled);
                }
                if keys.is_empty() {
                    return Err(RollupError::EmptyWhitelist);
                }
                let mut seen = std::collections::BTreeSet::new();
                if !keys.iter().all(|k| seen.insert(*k)) {
                    return Err(RollupError::DuplicatedKeyInWhitelist);
                }
                Access::Private {
                    whitelist: keys,
                    last_update: Some((level, 0)),
                }
            }
        };
        let hash = genesis.hash();
        let rollup = RollupState {
            address: rollup_address(operation_hash, origination_index),
            parameters_ty,
            genesis_level: level,
            genesis_commitment: hash,
            lcc: hash,
            access,
            applied_outbox: AppliedOutboxMessages::default(),
            staker_index_counter: 0,
            staker_index: BTreeMap::new(),
            stakers: BTreeMap::new(),
            commitments: BTreeMap::from([(hash, genesis)]),
            commitment_stakers: BTreeMap::new(),
            commitments_per_inbox_level: BTreeMap::from([(level, vec![hash])]),
            first_publication_level: BTreeMap::from([(level, level)]),
            commitment_added: BTreeMap::from([(hash, level)]),
            games: BTreeMap::new(),
        };
        Ok(Origination {
            rollup,
            genesis_commitment: genesis,
        })
    }

    /// The last cemented commitment and its level.
    pub fn last_cemented(&self) -> Result<(CommitmentHash, Commitment), RollupError> {
        let commitment = self
            .commitments
            .get(&self.lcc)
            .ok_or(RollupError::UnknownCommitment(self.lcc))?;
        Ok((self.lcc, *commitment))
    }

    /// A stored commitment.
    pub fn commitment(&self, hash: &CommitmentHash) -> Option<&Commitment> {
        self.commitments.get(hash)
    }

    /// Whether `staker` is an active staker of this rollup.
    pub fn is_staker(&self, staker: &PublicKeyHash) -> bool {
        self.staker_index
            .get(staker)
            .is_some_and(|i| self.stakers.contains_key(i))
    }

    /// Whether `staker` published `hash` (and it is not cemented yet).
    pub fn is_staked_on(&self, staker: &PublicKeyHash, hash: &CommitmentHash) -> bool {
        let Some(index) = self.staker_index.get(staker) else {
            return false;
        };
        self.commitment_stakers.get(hash).is_some_and(|s| s.contains(index))
    }

    /// The commitments published at `inbox_level`, newest first.
    pub fn commitments_at(&self, inbox_level: u32) -> &[CommitmentHash] {
        self.commitments_per_inbox_level
            .get(&inbox_level)
            .map_or(&[], Vec::as_slice)
    }

    /// Publishes `commitment` for `staker`, whose spendable balance is
    /// `staker_balance` (Octez `publish_commitment`).
    pub fn publish(
        &mut self,
        ctx: &Context<'_>,
        staker: PublicKeyHash,
        staker_balance: u64,
        commitment: Commitment,
    ) -> Result<Published, RollupError> {
        if ctx.params.private_enable {
            if let Access::Private { whitelist, .. } = &self.access {
                if !whitelist.contains(&staker) {
                    return Err(RollupError::StakerNotInWhitelist);
                }
            }
        }
        let (_, lcc) = self.last_cemented()?;
        if commitment.number_of_ticks.get() == 0 {
            return Err(RollupError::ZeroTickCommitment);
        }
        let stake = ctx.params.stake_amount;
        let existing_index = self.staker_index.get(&staker).copied();
        let mut balance_updates = Vec::new();
        if existing_index.is_none() {
            if staker_balance < stake {
                return Err(RollupError::StakerFundsTooLow {
                    balance: staker_balance,
                    stake,
                });
            }
            let amount = stake as i64;
            balance_updates.push(BalanceUpdate::Contract(staker, -amount));
            balance_updates.push(BalanceUpdate::FrozenBonds(staker, self.address, amount));
        }

        let inbox_level = level_of(&commitment);
        let lcc_level = level_of(&lcc);
        if inbox_level <= lcc_level {
            return Err(RollupError::CommitmentTooOld {
                last_cemented_inbox_level: lcc_level,
                commitment_inbox_level: inbox_level,
            });
        }
        if inbox_level - lcc_level > ctx.params.max_lookahead_in_blocks {
            return Err(RollupError::TooFarAhead);
        }
        let predecessor = self
            .commitments
            .get(&commitment.predecessor)
            .ok_or(RollupError::UnknownCommitment(commitment.predecessor))?;
        let expected = ctx.next_commitment_level(level_of(predecessor));
        if inbox_level != expected {
            return Err(RollupError::BadInboxLevel {
                expected,
                provided: inbox_level,
            });
        }
        let first_publication = self.first_publication_level.get(&inbox_level).copied();
        if let Some(first) = first_publication {
            if ctx.current_level.saturating_sub(first) > ctx.params.challenge_window_in_blocks {
                return Err(RollupError::CommitmentPastCurfew);
            }
        }
        if inbox_level >= ctx.current_level {
            return Err(RollupError::CommitmentFromFuture {
                current_level: ctx.current_level,
                inbox_level,
            });
        }

        let hash = commitment.hash();
        let index = existing_index.unwrap_or(self.staker_index_counter);
        if self.commitment_stakers.get(&hash).is_some_and(|s| s.contains(&index)) {
            return Err(RollupError::DoublePublish(hash));
        }
        let staked_elsewhere = self
            .commitments_at(inbox_level)
            .iter()
            .any(|h| *h != hash && self.commitment_stakers.get(h).is_some_and(|s| s.contains(&index)));
        if staked_elsewhere {
            return Err(RollupError::StakerDoubleStake);
        }

        // Every check passed: write.
        if existing_index.is_none() {
            self.staker_index_counter += 1;
            self.staker_index.insert(staker, index);
            self.stakers.insert(index, 0);
        }
        self.first_publication_level
            .entry(inbox_level)
            .or_insert(ctx.current_level);
        self.commitments.insert(hash, commitment);
        let published_at_level = *self.commitment_added.entry(hash).or_insert(ctx.current_level);
        let latest = self.stakers.entry(index).or_insert(0);
        *latest = (*latest).max(inbox_level);
        self.commitment_stakers.entry(hash).or_default().insert(0, index);
        let at_level = self.commitments_per_inbox_level.entry(inbox_level).or_default();
        if !at_level.contains(&hash) {
            at_level.insert(0, hash);
        }
        Ok(Published {
            staked_hash: hash,
            published_at_level,
            balance_updates,
        })
    }

    /// Cements the commitment after the last cemented one (Octez
    /// `cement_commitment`): returns its hash and level.
    pub fn cement(&mut self, ctx: &Context<'_>) -> Result<(CommitmentHash, u32), RollupError> {
        let (old_lcc, old) = self.last_cemented()?;
        let level = ctx.next_commitment_level(level_of(&old));
        let mut candidate = None;
        let mut dangling = Vec::new();
        for hash in self.commitments_at(level) {
            let commitment = self
                .commitments
                .get(hash)
                .ok_or(RollupError::UnknownCommitment(*hash))?;
            let active = self
                .commitment_stakers
                .get(hash)
                .is_some_and(|s| s.iter().any(|i| self.stakers.contains_key(i)));
            if commitment.predecessor == old_lcc && active {
                if candidate.is_some() {
                    return Err(RollupError::Disputed);
                }
                candidate = Some(*hash);
            } else {
                dangling.push(*hash);
            }
        }
        let hash = candidate.ok_or(RollupError::NoValidCommitmentToCement)?;
        let min_level = self
            .commitment_added
            .get(&hash)
            .copied()
            .unwrap_or(0)
            .saturating_add(ctx.params.challenge_window_in_blocks);
        if ctx.current_level < min_level {
            return Err(RollupError::CommitmentTooRecent {
                current_level: ctx.current_level,
                min_level,
            });
        }

        self.lcc = hash;
        self.commitments_per_inbox_level.remove(&level);
        for h in &dangling {
            self.commitment_added.remove(h);
            self.commitments.remove(h);
            self.commitment_stakers.remove(h);
        }
        self.commitment_stakers.remove(&hash);
        self.commitment_added.remove(&hash);
        self.first_publication_level.remove(&level);
        // Keep the contents of the last `max_number_of_stored_cemented_commitments`.
        let mut oldest = old_lcc;
        let keep = ctx.params.max_number_of_stored_cemented_commitments.saturating_sub(1);
        let mut complete = true;
        for _ in 0..keep {
            match self.commitments.get(&oldest) {
                Some(c) => oldest = c.predecessor,
                None => {
                    complete = false;
                    break;
                }
            }
        }
        if complete && oldest != CommitmentHash([0; 32]) {
            self.commitments.remove(&oldest);
        }
        Ok((hash, level))
    }

    /// Returns `staker`'s bond (Octez `withdraw_stake`): only once it has
    /// nothing staked above the last cemented commitment.
    pub fn recover_bond(
        &mut self,
        ctx: &Context<'_>,
        staker: PublicKeyHash,
    ) -> Result<Vec<BalanceUpdate>, RollupError> {
        let (_, lcc) = self.last_cemented()?;
        let index = *self.staker_index.get(&staker).ok_or(RollupError::NotStaked)?;
        let latest = *self.stakers.get(&index).ok_or(RollupError::NotStaked)?;
        if latest > level_of(&lcc) {
            return Err(RollupError::NotStakedOnLccOrAncestor);
        }
        self.staker_index.remove(&staker);
        self.stakers.remove(&index);
        let amount = ctx.params.stake_amount as i64;
        Ok(vec![
            BalanceUpdate::FrozenBonds(staker, self.address, -amount),
            BalanceUpdate::Contract(staker, amount),
        ])
    }

    /// Removes a staker who lost a game: its bond is burnt; its
    /// commitments stay until their level is cemented (as dangling ones).
    /// Nothing if it is no longer a staker.
    pub fn remove_staker(&mut self, ctx: &Context<'_>, staker: PublicKeyHash) -> Vec<BalanceUpdate> {
        let Some(index) = self.staker_index.remove(&staker) else {
            return Vec::new();
        };
        self.stakers.remove(&index);
        let amount = ctx.params.stake_amount as i64;
        vec![
            BalanceUpdate::FrozenBonds(staker, self.address, -amount),
            BalanceUpdate::RefutationPunishments(amount),
        ]
    }

    /// Active stakers, in key order.
    pub fn stakers(&self) -> Vec<PublicKeyHash> {
        self.staker_index
            .iter()
            .filter(|(_, i)| self.stakers.contains_key(i))
            .map(|(pkh, _)| *pkh)
            .collect()
    }

    /// The newest uncemented commitment `staker` published, if any.
    pub fn staked_on(&self, staker: &PublicKeyHash) -> Option<CommitmentHash> {
        let index = self.staker_index.get(staker)?;
        self.commitments_per_inbox_level
            .values()
            .rev()
            .flat_map(|hashes| hashes.iter())
            .find(|h| self.commitment_stakers.get(*h).is_some_and(|s| s.contains(index)))
            .copied()
    }

    /// The commitment `staker` published at `inbox_level`, if any.
    fn staked_at(&self, index: u64, inbox_level: u32) -> Option<CommitmentHash> {
        self.commitments_at(inbox_level)
            .iter()
            .find(|h| self.commitment_stakers.get(*h).is_some_and(|s| s.contains(&index)))
            .copied()
    }

    /// The stakers whose commitments conflict with `staker`'s (Octez
    /// `conflicting_stakers_uncarbonated`): for each, the first level where
    /// the two published different commitments on the same predecessor.
    pub fn conflicts(&self, staker: &PublicKeyHash) -> Vec<Conflict> {
        let Some(&ours) = self.staker_index.get(staker) else {
            return Vec::new();
        };
        let mut conflicts = Vec::new();
        for (other, &theirs) in &self.staker_index {
            if theirs == ours || !self.stakers.contains_key(&theirs) {
                continue;
            }
            for &level in self.commitments_per_inbox_level.keys() {
                let (Some(a), Some(b)) = (self.staked_at(ours, level), self.staked_at(theirs, level)) else {
                    continue;
                };
                if a == b {
                    continue;
                }
                if let (Some(our), Some(their)) = (self.commitments.get(&a), self.commitments.get(&b)) {
                    if our.predecessor == their.predecessor {
                        conflicts.push(Conflict {
                            other: *other,
                            their_commitment: (b, *their),
                            our_commitment: (a, *our),
                            parent_commitment: our.predecessor,
                        });
                    }
                }
                break;
            }
        }
        conflicts
    }

    /// Every game, by players.
    pub fn games(&self) -> impl Iterator<Item = (&Players, &(Game, Clocks))> {
        self.games.iter()
    }

    /// Whether `ancestor` is `descendant` or one of its stored predecessors
    /// (Octez `check_if_commitments_are_related`).
    pub fn commitments_are_related(&self, descendant: &CommitmentHash, ancestor: &CommitmentHash) -> bool {
        let mut current = *descendant;
        loop {
            if current == *ancestor {
                return true;
            }
            match self.commitments.get(&current) {
                Some(c) => current = c.predecessor,
                None => return false,
            }
        }
    }
}
