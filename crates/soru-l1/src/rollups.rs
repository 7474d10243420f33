//! The smart-rollup context RPCs
//! (`…/context/smart_rollups/smart_rollup/<sr1>/…`), in Octez's JSON.

use serde_json::{json, Value};
use soru_core::params::ProtocolParams;
use soru_protocol::game::{Clocks, GameState, Player, Players};
use soru_protocol::outbox::Access;
use soru_protocol::rollup::Context;

use crate::ledger::{Ledger, Rollup};
use crate::rpc::{commitment_of, staker_of, RpcError, RpcResult};

fn clocks_json(clocks: &Clocks) -> Value {
    json!({"alice": clocks.alice, "bob": clocks.bob, "last_turn_level": clocks.last_turn_level})
}

/// Answers `…/smart_rollup/<address>/<rest>` at the block of `level`.
pub(crate) fn route(rollup: &Rollup, ledger: &Ledger, params: &ProtocolParams, level: u32, rest: &[&str]) -> RpcResult {
    let state = &rollup.state;
    match rest {
        ["kind"] => Ok(json!(rollup.kind)),
        ["genesis_info"] => Ok(json!({"level": state.genesis_level, "commitment_hash": state.genesis_commitment})),
        ["boot_sector_hash"] => Ok(json!(hex::encode(rollup.boot_sector_hash))),
        ["last_cemented_commitment_hash_with_level"] => {
            let (hash, commitment) = state
                .last_cemented()
                .map_err(|e| RpcError::from(crate::L1Error::from(e)))?;
            Ok(json!({"hash": hash, "level": commitment.inbox_level}))
        }
        ["commitment", hash] => {
            let hash = commitment_of(hash)?;
            state
                .commitment(&hash)
                .map(|c| json!(c))
                .ok_or_else(|| RpcError::not_found(format!("no commitment {hash}")))
        }
        ["commitment", hash, "can_be_cemented"] => {
            let wanted = commitment_of(hash)?;
            let mut trial = state.clone();
            let ctx = Context {
                current_level: level + 1,
                params: &params.smart_rollup,
                past_periods: &[],
            };
            Ok(json!(matches!(trial.cement(&ctx), Ok((hash, _)) if hash == wanted)))
        }
        ["consumed_outputs", outbox_level] => {
            let outbox_level: u32 = outbox_level
                .parse()
                .map_err(|_| RpcError::bad_request("an outbox level is a number"))?;
            let limit = params.smart_rollup.max_outbox_messages_per_level;
            let max_active = params.smart_rollup.max_active_outbox_levels;
            let consumed: Vec<u32> = (0..limit)
                .filter(|i| state.applied_outbox.is_applied(outbox_level, *i, max_active))
                .collect();
            Ok(json!(consumed))
        }
        ["inbox_level", inbox_level, "commitments"] => {
            let inbox_level: u32 = inbox_level
                .parse()
                .map_err(|_| RpcError::bad_request("an inbox level is a number"))?;
            let hashes = state.commitments_at(inbox_level);
            Ok(if hashes.is_empty() { Value::Null } else { json!(hashes) })
        }
        ["stakers"] => Ok(json!(state.stakers())),
        ["staker", staker, "staked_on_commitment"] => {
            let staker = staker_of(staker)?;
            Ok(match state.staked_on(&staker) {
                Some(hash) => {
                    let mut value = json!(state.commitment(&hash));
                    value["hash"] = json!(hash);
                    value
                }
                None => Value::Null,
            })
        }
        ["staker", staker, "games"] => {
            let staker = staker_of(staker)?;
            let games: Vec<Value> = state
                .games()
                .filter(|(p, _)| p.alice == staker || p.bob == staker)
                .map(|(players, (game, _))| json!({"game": game.to_json(), "alice": players.alice, "bob": players.bob}))
                .collect();
            Ok(json!(games))
        }
        ["staker", staker, "conflicts"] => {
            let staker = staker_of(staker)?;
            let conflicts: Vec<Value> = state
                .conflicts(&staker)
                .iter()
                .map(|c| {
                    json!({
                        "other": c.other,
                        "their_commitment": c.their_commitment.1,
                        "our_commitment": c.our_commitment.1,
                        "parent_commitment": c.parent_commitment,
                    })
                })
                .collect();
            Ok(json!(conflicts))
        }
        ["staker1", a, "staker2", b, what @ ("timeout" | "timeout_reached")] => {
            let players = Players::new(staker_of(a)?, staker_of(b)?);
            let Some((game, clocks)) = state.game(players.alice, players.bob) else {
                return Ok(Value::Null);
            };
            if *what == "timeout" {
                return Ok(clocks_json(clocks));
            }
            let left = match game.turn {
                Player::Alice => clocks.alice,
                Player::Bob => clocks.bob,
            };
            let reached = i64::from(level) > i64::from(clocks.last_turn_level) + left;
            Ok(if reached {
                let loser = players.staker(game.turn);
                match game.state {
                    GameState::Dissecting { .. } => {
                        json!({"kind": "loser", "reason": "timeout", "player": loser})
                    }
                    GameState::FinalMove { .. } => json!({"kind": "draw"}),
                }
            } else {
                Value::Null
            })
        }
        ["whitelist"] => Ok(match &state.access {
            Access::Public => Value::Null,
            Access::Private { whitelist, .. } => json!(whitelist),
        }),
        ["last_whitelist_update"] => Ok(match &state.access {
            Access::Private {
                last_update: Some((outbox_level, index)),
                ..
            } => json!({"message_index": index.to_string(), "outbox_level": outbox_level}),
            _ => Value::Null,
        }),
        ["inbox"] => Ok(ledger.inbox().to_json()),
        _ => Err(RpcError::not_found(format!(
            "no service at smart_rollup/{}/{}",
            state.address,
            rest.join("/")
        ))),
    }
}
