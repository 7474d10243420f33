//! The honest player of a refutation game: given its own view of the PVM
//! from the parent commitment's state ([`Claims`]: the state at any tick and
//! the proof of any step), the next move — the first section whose start it
//! agrees with and whose stop it does not, dissected with its own states as
//! the rules require (cycle-aligned while the section spans cycles), or
//! proved once it is one tick wide; in the final move, the proof of the
//! refuted stop. A rollup node plays with this against any opponent; an
//! honest player following it wins against any claim that differs from the
//! PVM's.

use soru_core::base58::StateHash;

use soru_core::encoding::Nat;
use soru_core::operation::RefutationProof;

use crate::game::{DissectionChunk, Game, GameState, Step, Tick};

/// A player's view of the PVM from the state of the disputed commitment's
/// predecessor (tick 0).
pub trait Claims {
    /// The state at `tick`, or `None` where the PVM is blocked (it needs an
    /// input past the disputed level, or the tick is past that point).
    fn state_at(&mut self, tick: Tick) -> Result<Option<StateHash>, String>;
    /// The proof of the step from `tick` to `tick + 1`.
    fn proof_at(&mut self, tick: Tick) -> Result<RefutationProof, String>;
}

/// Why no move could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// The player's view failed.
    #[error("computing a claim: {0}")]
    Claims(String),
    /// The player agrees with every section of the dissection (it should
    /// not be playing).
    #[error("no section to dispute: the opponent's claims are this player's")]
    NothingToDispute,
}

/// The ticks of a dissection of `start..stop` that the rules accept: with
/// `ticks_per_snapshot` = tps, cycle boundaries spread evenly while the
/// section spans more than a cycle, else an even split into
/// `min(default, stop − start)` sections.
pub fn dissection_ticks(
    start: Tick,
    stop: Tick,
    default_number_of_sections: u8,
    ticks_per_snapshot: u128,
) -> Vec<Tick> {
    let dist = stop - start;
    let tps = ticks_per_snapshot.max(1);
    let default = u128::from(default_number_of_sections);
    if dist > tps {
        // Cycles from the boundary at or before `start` (the rules only
        // dissect from a boundary), the last maybe partial; interior ticks
        // on boundaries.
        let base = start / tps;
        let cycles = (stop - base * tps).div_ceil(tps);
        let sections = default.min(cycles);
        let mut ticks = vec![start];
        ticks.extend((1..sections).map(|i| (base + cycles * i / sections) * tps));
        ticks.push(stop);
        ticks
    } else {
        let sections = default.min(dist);
        (0..=sections).map(|i| start + dist * i / sections).collect()
    }
}

fn claim(claims: &mut dyn Claims, tick: Tick) -> Result<Option<StateHash>, StrategyError> {
    claims.state_at(tick).map_err(StrategyError::Claims)
}

/// The honest move in `game` for the player whose turn it is: the choice
/// (a section's start tick) and the step.
pub fn honest_move(
    game: &Game,
    ticks_per_snapshot: u128,
    claims: &mut dyn Claims,
) -> Result<(Tick, Step), StrategyError> {
    match &game.state {
        GameState::FinalMove { agreed_start_chunk, .. } => {
            // Prove the stop the opponent failed to refute (the choice is not read).
            let proof = claims
                .proof_at(agreed_start_chunk.tick.0)
                .map_err(StrategyError::Claims)?;
            Ok((agreed_start_chunk.tick.0, Step::Proof(proof)))
        }
        GameState::Dissecting {
            dissection,
            default_number_of_sections,
        } => {
            for section in dissection.windows(2) {
                let (start, stop) = (section[0], section[1]);
                let (a, b) = (start.tick.0, stop.tick.0);
                if start.state.is_none() || claim(claims, a)? != start.state {
                    continue;
                }
                let ours = claim(claims, b)?;
                if ours == stop.state {
                    continue;
                }
                if b - a == 1 {
                    let proof = claims.proof_at(a).map_err(StrategyError::Claims)?;
                    return Ok((a, Step::Proof(proof)));
                }
                let ticks = dissection_ticks(a, b, *default_number_of_sections, ticks_per_snapshot);
                let mut chunks = Vec::with_capacity(ticks.len());
                let mut blocked = false;
                for (i, &tick) in ticks.iter().enumerate() {
                    let state = if i == 0 {
                        start.state
                    } else if i + 1 == ticks.len() {
                        ours
                    } else if blocked {
                        None
                    } else {
                        claim(claims, tick)?
                    };
                    // Once blocked, the PVM stays blocked.
                    blocked |= state.is_none();
                    chunks.push(DissectionChunk { state, tick: Nat(tick) });
                }
                return Ok((a, Step::Dissection(chunks)));
            }
            Err(StrategyError::NothingToDispute)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::check_dissection;

    const TPS: u128 = 50_000_000_000_000;

    #[test]
    fn produced_ticks_satisfy_the_dissection_rules() {
        let some = |t: u128| Some(StateHash([(t % 251) as u8; 32]));
        for (start, stop) in [
            (0, 2),
            (0, 33),
            (7, 1_000),
            (0, TPS),
            (0, TPS + 1),
            (0, 2 * TPS + 17),
            (TPS, 40 * TPS),
            (3 * TPS, 3 * TPS + 5),
            (0, 1_000 * TPS + 3),
        ] {
            let ticks = dissection_ticks(start, stop, 32, TPS);
            let chunks: Vec<DissectionChunk> = ticks
                .iter()
                .map(|&tick| DissectionChunk {
                    state: some(tick),
                    tick: Nat(tick),
                })
                .collect();
            let a = DissectionChunk {
                state: some(start),
                tick: Nat(start),
            };
            let b = DissectionChunk {
                state: None,
                tick: Nat(stop),
            };
            assert_eq!(
                check_dissection(32, TPS, &a, &b, &chunks),
                Ok(()),
                "{start}..{stop}: {ticks:?}"
            );
        }
    }
}
