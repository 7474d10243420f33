//! Refutation games (Octez `sc_rollup_game_repr.ml`,
//! `sc_rollup_dissection_chunk_repr.ml`, `sc_rollup_refutation_storage.ml`,
//! the WASM rule of `sc_rollup_wasm.ml`; PROTOCOL-FACTS §5).
//!
//! Two stakers on conflicting commitments (same predecessor) play: the
//! refuter moves first; the defender's claim — `[parent state @ 0, its state
//! @ T, None @ T+1]` — is bisected by dissections until a player proves one
//! tick. A first proof that refutes the section's stop wins; one that does
//! not hands a final move to the opponent, who wins by proving that stop, or
//! draws. Each player has a chess clock; a timeout loses while dissecting
//! and draws in the final move. The loser's bond is burnt and half of it is
//! minted to the winner; a draw burns both.
//!
//! One departure, on purpose: a proof on a section wider than one tick is
//! refused (Octez's block-validation plugin refuses it too; its protocol
//! would accept it and let a dishonest player force a draw that burns the
//! honest defender's bond).

use soru_core::base58::CommitmentHash;
use soru_core::encoding::Nat;
use soru_core::operation::RefutationProof;
pub use soru_core::operation::{DissectionChunk, RefutationStep as Step};
use soru_core::PublicKeyHash;

use crate::inbox::{HistoryCell, Inbox};
use crate::refutation_proof::{self, ProofContext};
use crate::rollup::{BalanceUpdate, Context, RollupError, RollupState};

/// Ticks of a game, relative to the parent commitment's state.
pub type Tick = u128;

/// The two players, by key order (Octez `Index`: `alice < bob`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Players {
    /// The smaller key.
    pub alice: PublicKeyHash,
    /// The larger key.
    pub bob: PublicKeyHash,
}

impl Players {
    /// The pair, ordered.
    pub fn new(a: PublicKeyHash, b: PublicKeyHash) -> Self {
        if a > b {
            Self { alice: b, bob: a }
        } else {
            Self { alice: a, bob: b }
        }
    }

    /// The staker playing `player`.
    pub fn staker(&self, player: Player) -> PublicKeyHash {
        match player {
            Player::Alice => self.alice,
            Player::Bob => self.bob,
        }
    }
}

/// A side of a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Player {
    /// The smaller key.
    Alice,
    /// The larger key.
    Bob,
}

impl Player {
    /// The other side.
    pub fn opponent(self) -> Self {
        match self {
            Player::Alice => Player::Bob,
            Player::Bob => Player::Alice,
        }
    }
}

/// Where a game is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GameState {
    /// Bisecting the claim.
    Dissecting {
        /// The current dissection.
        dissection: Vec<DissectionChunk>,
        /// Sections of a full dissection.
        default_number_of_sections: u8,
    },
    /// A first proof failed to refute: the opponent may prove the stop.
    FinalMove {
        /// The proved section's start.
        agreed_start_chunk: DissectionChunk,
        /// Its stop, which the first proof did not refute.
        refuted_stop_chunk: DissectionChunk,
    },
}

/// A game.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Game {
    /// Who moves.
    pub turn: Player,
    /// The inbox when the game started: inputs are proved against it.
    pub inbox_snapshot: HistoryCell,
    /// The level the game started at.
    pub start_level: u32,
    /// The inbox level of the commitments in dispute.
    pub inbox_level: u32,
    /// Where the game is.
    pub state: GameState,
}

/// The chess clocks: blocks left to each player (may go negative: moving
/// late is allowed until someone claims the timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clocks {
    /// Alice's blocks left.
    pub alice: i64,
    /// Bob's blocks left.
    pub bob: i64,
    /// The level of the last move (or of the start).
    pub last_turn_level: u32,
}

/// Why a game ended with a loser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// By the moves (or the other player's stake went elsewhere).
    ConflictResolved,
    /// By the clock.
    Timeout,
}

/// How a game ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GameResult {
    /// One player lost.
    Loser {
        /// Why.
        reason: Reason,
        /// Who.
        loser: PublicKeyHash,
    },
    /// Both lost.
    Draw,
}

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveOutcome {
    /// The game goes on.
    Ongoing,
    /// The game ended; the money moved.
    Ended(GameResult, Vec<BalanceUpdate>),
}

impl Game {
    /// The game as Octez's RPC writes it (`…/staker/<pkh>/games`). soru's
    /// L1 has no DAL: `dal_snapshot` is the slots history's genesis cell.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let chunk = |c: &DissectionChunk| serde_json::to_value(c).unwrap_or(serde_json::Value::Null);
        let state = match &self.state {
            GameState::Dissecting {
                dissection,
                default_number_of_sections,
            } => json!({
                "kind": "Dissecting",
                "dissection": dissection.iter().map(chunk).collect::<Vec<_>>(),
                "default_number_of_sections": default_number_of_sections,
            }),
            GameState::FinalMove {
                agreed_start_chunk,
                refuted_stop_chunk,
            } => json!({
                "kind": "Final_move",
                "agreed_start_chunk": chunk(agreed_start_chunk),
                "refuted_stop_chunk": chunk(refuted_stop_chunk),
            }),
        };
        let snapshot = Inbox {
            level: self.inbox_snapshot.content.level,
            old_levels_messages: self.inbox_snapshot.clone(),
        }
        .to_json();
        json!({
            "turn": match self.turn { Player::Alice => "alice", Player::Bob => "bob" },
            "inbox_snapshot": snapshot["old_levels_messages"],
            "dal_snapshot": {"kind": "dal_skip_list", "skip_list": {
                "index": "0", "content": {"kind": "unpublished", "level": 0, "index": 0}, "back_pointers": []
            }},
            "start_level": self.start_level,
            "inbox_level": self.inbox_level,
            "game_state": state,
        })
    }

    /// Reads what [`Game::to_json`] writes.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        use serde_json::Value;
        let level = |v: &Value, what: &str| -> Result<u32, String> {
            v.get(what)
                .and_then(Value::as_u64)
                .and_then(|l| u32::try_from(l).ok())
                .ok_or_else(|| format!("no {what}"))
        };
        let turn = match value.get("turn").and_then(Value::as_str) {
            Some("alice") => Player::Alice,
            Some("bob") => Player::Bob,
            _ => return Err("no turn".into()),
        };
        let snapshot = value.get("inbox_snapshot").ok_or("no inbox_snapshot")?;
        let snapshot_level = snapshot
            .get("content")
            .and_then(|c| c.get("level"))
            .cloned()
            .unwrap_or(Value::Null);
        let inbox = Inbox::from_json(&serde_json::json!({"level": snapshot_level, "old_levels_messages": snapshot}))?;
        let chunk = |v: Option<&Value>, what: &str| -> Result<DissectionChunk, String> {
            serde_json::from_value(v.cloned().unwrap_or(Value::Null)).map_err(|e| format!("{what}: {e}"))
        };
        let state = value.get("game_state").ok_or("no game_state")?;
        let state = match state.get("kind").and_then(Value::as_str) {
            Some("Dissecting") => GameState::Dissecting {
                dissection: serde_json::from_value(state.get("dissection").cloned().unwrap_or(Value::Null))
                    .map_err(|e| format!("dissection: {e}"))?,
                default_number_of_sections: state
                    .get("default_number_of_sections")
                    .and_then(Value::as_u64)
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or("no default_number_of_sections")?,
            },
            Some("Final_move") => GameState::FinalMove {
                agreed_start_chunk: chunk(state.get("agreed_start_chunk"), "agreed_start_chunk")?,
                refuted_stop_chunk: chunk(state.get("refuted_stop_chunk"), "refuted_stop_chunk")?,
            },
            _ => return Err("unknown game_state kind".into()),
        };
        Ok(Self {
            turn,
            inbox_snapshot: inbox.old_levels_messages,
            start_level: level(value, "start_level")?,
            inbox_level: level(value, "inbox_level")?,
            state,
        })
    }
}

/// Why a game operation was refused (Octez's error names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GameError {
    /// A rollup rule failed (unknown commitment, …).
    #[error(transparent)]
    Rollup(#[from] RollupError),
    /// The player is not staked on the commitment it names.
    #[error("smart_rollup_wrong_staker_for_conflict_commitment")]
    WrongStakerForConflictCommitment(PublicKeyHash, CommitmentHash),
    /// Both name the same commitment.
    #[error("smart_rollup_no_conflict")]
    NoConflict,
    /// The commitments do not share their predecessor.
    #[error("smart_rollup_not_valid_commitments_conflict")]
    NotValidCommitmentsConflict,
    /// The defender's commitment is too recent to dispute.
    #[error("smart_rollup_refutation_game_start_too_early: earliest at level {earliest_start_level}")]
    RefutationGameStartTooEarly {
        /// The first level a game can start.
        earliest_start_level: u32,
    },
    /// These two already play.
    #[error("smart_rollup_game_already_started")]
    GameAlreadyStarted,
    /// A player with too many games on this rollup.
    #[error("smart_rollup_maximal_number_of_parallel_games_reached")]
    MaxNumberOfParallelGamesReached(PublicKeyHash),
    /// No game between these two.
    #[error("smart_rollup_no_game")]
    NoGame,
    /// Not this player's turn.
    #[error("smart_rollup_wrong_turn")]
    WrongTurn,
    /// The choice is not the start of a section.
    #[error("smart_rollup_dissection_choice_not_found: tick {0}")]
    DissectionChoiceNotFound(Tick),
    /// A dissection once the final move is on.
    #[error("smart_rollup_dissecting_during_final_move")]
    DissectingDuringFinalMove,
    /// The proof's PVM step does not parse.
    #[error("smart_rollup_proof_check: cannot unserialize proof")]
    CannotUnserializeProof,
    /// A proof on a section of more than one tick while dissecting.
    #[error("proof on a {0}-tick section while dissecting")]
    ProofOnMultiTickSection(Tick),
    /// Too early to claim a timeout.
    #[error("smart_rollup_timeout_level_not_reached: {blocks_left} blocks left to {staker:?}")]
    TimeoutLevelNotReached {
        /// Blocks until the timeout.
        blocks_left: i64,
        /// The player to move.
        staker: PublicKeyHash,
    },
    /// Dissection: wrong number of sections.
    #[error("smart_rollup_dissection_number_of_sections_mismatch: expected {expected}, given {given}")]
    NumberOfSectionsMismatch {
        /// Sections required.
        expected: u128,
        /// Sections given.
        given: u128,
    },
    /// Dissection of a section of at most one tick.
    #[error("smart_rollup_dissection_invalid_number_of_sections: {0}")]
    InvalidNumberOfSections(u128),
    /// The dissection does not start from the section's start state.
    #[error("smart_rollup_dissection_start_hash_mismatch")]
    StartHashMismatch,
    /// The dissection agrees with the section's stop state.
    #[error("smart_rollup_dissection_stop_hash_mismatch")]
    StopHashMismatch,
    /// The dissection's edges are not the section's.
    #[error("smart_rollup_dissection_edge_ticks_mismatch")]
    EdgeTicksMismatch,
    /// Ticks not strictly increasing.
    #[error("smart_rollup_dissection_ticks_not_increasing")]
    TicksNotIncreasing,
    /// A section larger than allowed.
    #[error("smart_rollup_dissection_invalid_distribution: sections of at most {0} ticks")]
    InvalidDistribution(u128),
    /// A state after a `None`.
    #[error("smart_rollup_dissection_invalid_successive_states_shape")]
    InvalidSuccessiveStatesShape,
    /// WASM: an interior tick not on a snapshot boundary.
    #[error("smart_rollup_wasm_invalid_dissection_distribution")]
    WasmInvalidDissectionDistribution,
}

/// The section starting at `choice`: `(start, stop)`.
fn find_choice(dissection: &[DissectionChunk], choice: Tick) -> Result<(DissectionChunk, DissectionChunk), GameError> {
    dissection
        .windows(2)
        .find(|w| w[0].tick.0 == choice)
        .map(|w| (w[0], w[1]))
        .ok_or(GameError::DissectionChoiceNotFound(choice))
}

/// Checks `dissection` of the section `start..stop` (Octez `default_check`
/// with the WASM PVM's section count and alignment rule when the section
/// spans more than one cycle of `ticks_per_snapshot`).
pub fn check_dissection(
    default_number_of_sections: u8,
    ticks_per_snapshot: u128,
    start: &DissectionChunk,
    stop: &DissectionChunk,
    dissection: &[DissectionChunk],
) -> Result<(), GameError> {
    let sections = dissection.len().saturating_sub(1) as u128;
    let dist = stop.tick.0.abs_diff(start.tick.0);
    let default = u128::from(default_number_of_sections);
    let tps = ticks_per_snapshot.max(1);
    let wasm = dist > tps;
    let section_maximum_size = if wasm {
        let aligned = dist % tps == 0;
        let expected = default.min(if aligned { dist / tps } else { dist / tps + 1 });
        if sections != expected {
            return Err(GameError::NumberOfSectionsMismatch {
                expected,
                given: sections,
            });
        }
        let considered = if aligned {
            dist
        } else {
            start.tick.0.abs_diff(stop.tick.0 / tps * tps)
        };
        tps.max(considered / 2)
    } else {
        if default <= dist {
            if sections != default {
                return Err(GameError::NumberOfSectionsMismatch {
                    expected: default,
                    given: sections,
                });
            }
        } else if dist > 1 {
            if sections != dist {
                return Err(GameError::NumberOfSectionsMismatch {
                    expected: dist,
                    given: sections,
                });
            }
        } else {
            return Err(GameError::InvalidNumberOfSections(sections));
        }
        dist / 2
    };
    let (Some(first), Some(last)) = (dissection.first(), dissection.last()) else {
        return Err(GameError::InvalidNumberOfSections(sections));
    };
    if first.state != start.state || first.state.is_none() {
        return Err(GameError::StartHashMismatch);
    }
    if last.state == stop.state {
        return Err(GameError::StopHashMismatch);
    }
    if first.tick != start.tick || last.tick != stop.tick {
        return Err(GameError::EdgeTicksMismatch);
    }
    for pair in dissection.windows(2) {
        let (x, y) = (pair[0], pair[1]);
        if x.state.is_none() && y.state.is_some() {
            return Err(GameError::InvalidSuccessiveStatesShape);
        }
        if x.tick.0 >= y.tick.0 {
            return Err(GameError::TicksNotIncreasing);
        }
        if y.tick.0 - x.tick.0 > section_maximum_size {
            return Err(GameError::InvalidDistribution(section_maximum_size));
        }
    }
    if wasm
        && dissection
            .iter()
            .any(|c| c.tick.0 % tps != 0 && c.tick != start.tick && c.tick != stop.tick)
    {
        return Err(GameError::WasmInvalidDissectionDistribution);
    }
    Ok(())
}

/// Whether `proof` is a valid final move on `start..stop`: it starts from
/// `start`'s state and — first move — stops elsewhere than `stop`'s state,
/// or — second move — exactly at it. Any failure is `false`.
fn validity_final_move(
    ctx: &ProofContext<'_>,
    proof: &RefutationProof,
    start: &DissectionChunk,
    stop: &DissectionChunk,
    first_move: bool,
) -> bool {
    let Some(start_state) = start.state else {
        return false;
    };
    match refutation_proof::valid(ctx, &start_state, proof) {
        Ok(proved_stop) => (proved_stop == stop.state) != first_move,
        Err(_) => false,
    }
}

/// The facts of the rollup a game needs (besides its state).
#[derive(Debug, Clone, Copy)]
pub struct GameContext<'a> {
    /// The chain and constants.
    pub rules: Context<'a>,
    /// The rollup's PVM `ticks_per_snapshot`.
    pub ticks_per_snapshot: u128,
}

impl RollupState {
    /// The game between `a` and `b`, with its clocks.
    pub fn game(&self, a: PublicKeyHash, b: PublicKeyHash) -> Option<&(Game, Clocks)> {
        self.games.get(&Players::new(a, b))
    }

    /// Games `staker` plays on this rollup.
    pub fn games_of(&self, staker: &PublicKeyHash) -> usize {
        self.games
            .keys()
            .filter(|p| p.alice == *staker || p.bob == *staker)
            .count()
    }

    /// Octez `check_conflict_point`: the defender's commitment.
    fn check_conflict_point(
        &self,
        refuter: PublicKeyHash,
        refuter_hash: CommitmentHash,
        defender: PublicKeyHash,
        defender_hash: CommitmentHash,
    ) -> Result<soru_core::Commitment, GameError> {
        if !self.is_staked_on(&refuter, &refuter_hash) {
            return Err(GameError::WrongStakerForConflictCommitment(refuter, refuter_hash));
        }
        if !self.is_staked_on(&defender, &defender_hash) {
            return Err(GameError::WrongStakerForConflictCommitment(defender, defender_hash));
        }
        let refuted = *self
            .commitment(&refuter_hash)
            .ok_or(RollupError::UnknownCommitment(refuter_hash))?;
        let defended = *self
            .commitment(&defender_hash)
            .ok_or(RollupError::UnknownCommitment(defender_hash))?;
        if refuter_hash == defender_hash {
            return Err(GameError::NoConflict);
        }
        if refuted.predecessor != defended.predecessor {
            return Err(GameError::NotValidCommitmentsConflict);
        }
        Ok(defended)
    }

    /// Starts a game: `refuter` disputes `defender`'s commitment with its
    /// own (validation, then Octez `start_game`). `inbox` is the L1's inbox
    /// as of the last finalized level.
    pub fn start_game(
        &mut self,
        ctx: &GameContext<'_>,
        inbox: &Inbox,
        refuter: PublicKeyHash,
        refuter_hash: CommitmentHash,
        defender: PublicKeyHash,
        defender_hash: CommitmentHash,
    ) -> Result<(), GameError> {
        let rules = &ctx.rules;
        // Validation (the operation is not even included when it fails).
        let defended = self.check_conflict_point(refuter, refuter_hash, defender, defender_hash)?;
        let earliest_start_level =
            (defended.inbox_level.max(0) as u32).saturating_add(rules.params.commitment_period_in_blocks);
        if rules.current_level < earliest_start_level {
            return Err(GameError::RefutationGameStartTooEarly { earliest_start_level });
        }
        // Application.
        let players = Players::new(refuter, defender);
        if self.games.contains_key(&players) {
            return Err(GameError::GameAlreadyStarted);
        }
        for staker in [players.alice, players.bob] {
            if !self.is_staker(&staker) {
                return Err(RollupError::NotStaked.into());
            }
            if self.games_of(&staker) >= rules.params.max_number_of_parallel_games as usize {
                return Err(GameError::MaxNumberOfParallelGamesReached(staker));
            }
        }
        let defended = self.check_conflict_point(refuter, refuter_hash, defender, defender_hash)?;
        let parent = *self
            .commitment(&defended.predecessor)
            .ok_or(RollupError::UnknownCommitment(defended.predecessor))?;
        let claimed = u128::from(defended.number_of_ticks.get());
        let game = Game {
            turn: if players.alice == refuter {
                Player::Alice
            } else {
                Player::Bob
            },
            inbox_snapshot: inbox.snapshot(),
            start_level: rules.current_level,
            inbox_level: defended.inbox_level.max(0) as u32,
            state: GameState::Dissecting {
                dissection: vec![
                    DissectionChunk {
                        state: Some(parent.compressed_state),
                        tick: Nat(0),
                    },
                    DissectionChunk {
                        state: Some(defended.compressed_state),
                        tick: Nat(claimed),
                    },
                    DissectionChunk {
                        state: None,
                        tick: Nat(claimed + 1),
                    },
                ],
                default_number_of_sections: rules.params.number_of_sections_in_dissection,
            },
        };
        let period = i64::from(rules.params.timeout_period_in_blocks);
        let clocks = Clocks {
            alice: period,
            bob: period,
            last_turn_level: rules.current_level,
        };
        self.games.insert(players, (game, clocks));
        Ok(())
    }

    /// A move by `player` in its game against `opponent` (Octez `game_move`).
    pub fn game_move(
        &mut self,
        ctx: &GameContext<'_>,
        player: PublicKeyHash,
        opponent: PublicKeyHash,
        choice: Tick,
        step: Step,
    ) -> Result<MoveOutcome, GameError> {
        let players = Players::new(player, opponent);
        let (game, clocks) = self.games.get(&players).cloned().ok_or(GameError::NoGame)?;
        if players.staker(game.turn) != player {
            return Err(GameError::WrongTurn);
        }
        // A player whose stake went elsewhere has lost this game too.
        let staked = (self.is_staker(&players.alice), self.is_staker(&players.bob));
        let forfeit = match staked {
            (true, true) => None,
            (false, true) => Some(GameResult::Loser {
                reason: Reason::ConflictResolved,
                loser: players.alice,
            }),
            (true, false) => Some(GameResult::Loser {
                reason: Reason::ConflictResolved,
                loser: players.bob,
            }),
            (false, false) => Some(GameResult::Draw),
        };
        if let Some(result) = forfeit {
            let updates = self.apply_game_result(&ctx.rules, players, result);
            return Ok(MoveOutcome::Ended(result, updates));
        }
        let proof_ctx = ProofContext {
            inbox_snapshot: &game.inbox_snapshot,
            origination_level: self.genesis_level,
            commit_inbox_level: game.inbox_level,
            rollup: self.address,
        };
        let mover_loses = GameResult::Loser {
            reason: Reason::ConflictResolved,
            loser: players.staker(game.turn.opponent()),
        };
        let next = match (&game.state, step) {
            (
                GameState::Dissecting {
                    dissection,
                    default_number_of_sections,
                },
                Step::Dissection(states),
            ) => {
                let (start, stop) = find_choice(dissection, choice)?;
                check_dissection(
                    *default_number_of_sections,
                    ctx.ticks_per_snapshot,
                    &start,
                    &stop,
                    &states,
                )?;
                Ok(GameState::Dissecting {
                    dissection: states,
                    default_number_of_sections: *default_number_of_sections,
                })
            }
            (GameState::FinalMove { .. }, Step::Dissection(_)) => return Err(GameError::DissectingDuringFinalMove),
            (GameState::Dissecting { dissection, .. }, Step::Proof(proof)) => {
                let (start, stop) = find_choice(dissection, choice)?;
                check_step_parses(&proof)?;
                let width = stop.tick.0 - start.tick.0;
                if width != 1 {
                    return Err(GameError::ProofOnMultiTickSection(width));
                }
                if validity_final_move(&proof_ctx, &proof, &start, &stop, true) {
                    // The opponent's section is refuted.
                    Err(mover_loses)
                } else {
                    Ok(GameState::FinalMove {
                        agreed_start_chunk: start,
                        refuted_stop_chunk: stop,
                    })
                }
            }
            (
                GameState::FinalMove {
                    agreed_start_chunk,
                    refuted_stop_chunk,
                },
                Step::Proof(proof),
            ) => {
                check_step_parses(&proof)?;
                if validity_final_move(&proof_ctx, &proof, agreed_start_chunk, refuted_stop_chunk, false) {
                    Err(mover_loses)
                } else {
                    Err(GameResult::Draw)
                }
            }
        };
        match next {
            Ok(state) => {
                let mut clocks = clocks;
                let spent = i64::from(ctx.rules.current_level) - i64::from(clocks.last_turn_level);
                match game.turn {
                    Player::Alice => clocks.alice -= spent,
                    Player::Bob => clocks.bob -= spent,
                }
                clocks.last_turn_level = ctx.rules.current_level;
                let game = Game {
                    turn: game.turn.opponent(),
                    state,
                    ..game
                };
                self.games.insert(players, (game, clocks));
                Ok(MoveOutcome::Ongoing)
            }
            Err(result) => {
                let updates = self.apply_game_result(&ctx.rules, players, result);
                Ok(MoveOutcome::Ended(result, updates))
            }
        }
    }

    /// Claims the timeout of the player to move (anyone may).
    pub fn timeout(
        &mut self,
        ctx: &GameContext<'_>,
        a: PublicKeyHash,
        b: PublicKeyHash,
    ) -> Result<(GameResult, Vec<BalanceUpdate>), GameError> {
        let players = Players::new(a, b);
        let (game, clocks) = self.games.get(&players).cloned().ok_or(GameError::NoGame)?;
        let left = match game.turn {
            Player::Alice => clocks.alice,
            Player::Bob => clocks.bob,
        };
        let level_of_timeout = i64::from(clocks.last_turn_level) + left;
        let current = i64::from(ctx.rules.current_level);
        if current <= level_of_timeout {
            return Err(GameError::TimeoutLevelNotReached {
                blocks_left: level_of_timeout - current,
                staker: players.staker(game.turn),
            });
        }
        let result = match game.state {
            GameState::Dissecting { .. } => GameResult::Loser {
                reason: Reason::Timeout,
                loser: players.staker(game.turn),
            },
            GameState::FinalMove { .. } => GameResult::Draw,
        };
        let updates = self.apply_game_result(&ctx.rules, players, result);
        Ok((result, updates))
    }

    /// Ends the game: the loser's bond burnt and half of it minted to the
    /// winner (if the loser still had one), or both burnt for a draw.
    fn apply_game_result(&mut self, rules: &Context<'_>, players: Players, result: GameResult) -> Vec<BalanceUpdate> {
        self.games.remove(&players);
        match result {
            GameResult::Loser { loser, .. } => {
                let winner = if loser == players.alice {
                    players.bob
                } else {
                    players.alice
                };
                let mut updates = self.remove_staker(rules, loser);
                if !updates.is_empty() {
                    let reward = (rules.params.stake_amount / 2) as i64;
                    updates.push(BalanceUpdate::RefutationRewards(-reward));
                    updates.push(BalanceUpdate::Contract(winner, reward));
                }
                updates
            }
            GameResult::Draw => {
                let mut updates = self.remove_staker(rules, players.alice);
                updates.extend(self.remove_staker(rules, players.bob));
                updates
            }
        }
    }
}

/// Octez `unserialize_pvm_step`: the step proof must at least be a soru
/// step proof of a known version.
fn check_step_parses(proof: &RefutationProof) -> Result<(), GameError> {
    match proof.pvm_step.first() {
        Some(&soru_pvm::step_proof::STEP_PROOF_VERSION) => Ok(()),
        _ => Err(GameError::CannotUnserializeProof),
    }
}
