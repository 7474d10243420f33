//! Whole refutation games through a real `soru l1` process: two stakers
//! publish conflicting commitments on the `echo` rollup (one computed by
//! running the kernel, one with states wrong from a tick on), then play
//! with signed `smart_rollup_refute` operations, each move chosen from the
//! game the RPC returns. The honest staker wins by the moves, or by the
//! clock when the other stops playing; the balances show the bond burnt
//! and the reward paid.

mod common;

use std::sync::Arc;

use common::{bootstrap, follow, pvm_config, rollup_core, ECHO, L1};
use serde_json::Value;
use soru_core::base58::{SmartRollupAddress, StateHash};
use soru_core::encoding::{Bytes, Nat};
use soru_core::hash::blake2b_256_concat;
use soru_core::micheline::Micheline;
use soru_core::operation::{OperationKind, PvmKind, Refutation, RefutationProof, Stakers};
use soru_core::params::ProtocolParams;
use soru_core::{Commitment, PublicKeyHash, SecretKey};
use soru_node::{PvmClaims, RollupCore};
use soru_protocol::game::{Game, GameState, Players, Tick};
use soru_protocol::strategy::{honest_move, Claims};
use soru_pvm::Pvm;

/// A player's view: the PVM's, or one whose states are wrong from a tick on.
struct View {
    claims: PvmClaims,
    wrong_from: Option<Tick>,
}

impl Claims for View {
    fn state_at(&mut self, tick: Tick) -> Result<Option<StateHash>, String> {
        let state = self.claims.state_at(tick)?;
        Ok(match self.wrong_from {
            Some(from) if tick >= from => state.map(|s| StateHash(blake2b_256_concat(&[&s.0, b"wrong"]))),
            _ => state,
        })
    }

    fn proof_at(&mut self, tick: Tick) -> Result<RefutationProof, String> {
        self.claims.proof_at(tick)
    }
}

struct Setup {
    l1: L1,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    rollup: SmartRollupAddress,
    core: RollupCore,
    origination_level: u32,
    honest: SecretKey,
    dishonest: SecretKey,
    honest_hash: String,
    dishonest_hash: String,
    commit_level: u32,
    end_tick: Tick,
}

fn rollup_path(rollup: &SmartRollupAddress, rest: &str) -> String {
    format!("/chains/main/blocks/head/context/smart_rollups/smart_rollup/{rollup}/{rest}")
}

/// Originates echo, adds messages, publishes an honest and a wrong
/// commitment for the first period.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let l1 = L1::start(dir.path());
    l1.bake();
    let originate = OperationKind::SmartRollupOriginate {
        pvm_kind: PvmKind::Wasm,
        kernel: Bytes(ECHO.to_vec()),
        parameters_ty: Micheline::prim0("bytes").unwrap(),
        whitelist: None,
    };
    let op = l1.inject(&bootstrap(3), vec![(originate, 200_000, 6_572)]).unwrap();
    let origination_level = l1.bake();
    let rollup = l1.results(&op)[0]["address"].as_str().unwrap().parse().unwrap();

    let params = ProtocolParams::sandbox();
    let node_dir = tempfile::tempdir().unwrap();
    let mut core = rollup_core(&l1, node_dir.path(), rollup, origination_level);
    let messages = vec![Bytes(b"hello, rollup".to_vec()), Bytes(b"and again".to_vec())];
    l1.inject(
        &bootstrap(4),
        vec![(OperationKind::SmartRollupAddMessages { messages }, 5_000, 0)],
    )
    .unwrap();
    let commit_level = origination_level + params.smart_rollup.commitment_period_in_blocks;
    while l1.bake() <= commit_level {}

    let commitment = follow(&l1, &mut core, commit_level).pop();
    let (honest_hash, honest_commitment) = commitment.expect("a commitment at the period's end");
    let end_tick = Tick::from(honest_commitment.number_of_ticks.get());
    // The wrong commitment: same ticks, the state the faulty view computes.
    let wrong = Commitment {
        compressed_state: StateHash(blake2b_256_concat(&[&honest_commitment.compressed_state.0, b"wrong"])),
        ..honest_commitment
    };
    let (honest, dishonest) = (bootstrap(1), bootstrap(2));
    let publish = |commitment| OperationKind::SmartRollupPublish { rollup, commitment };
    l1.inject(&honest, vec![(publish(honest_commitment), 10_000, 0)])
        .unwrap();
    l1.inject(&dishonest, vec![(publish(wrong), 10_000, 0)]).unwrap();
    l1.bake();
    let conflicts = l1.get(&rollup_path(
        &rollup,
        &format!("staker/{}/conflicts", honest.public_key().hash()),
    ));
    assert_eq!(
        conflicts[0]["other"],
        dishonest.public_key().hash().to_base58(),
        "{conflicts}"
    );
    Setup {
        l1,
        _dirs: (dir, node_dir),
        rollup,
        core,
        origination_level,
        honest,
        dishonest,
        honest_hash: honest_hash.to_base58(),
        dishonest_hash: wrong.hash().to_base58(),
        commit_level,
        end_tick,
    }
}

impl Setup {
    fn view(&self, snapshot: soru_protocol::inbox::HistoryCell, wrong_from: Option<Tick>) -> View {
        let genesis = Pvm::install_boot_sector(&pvm_config(), ECHO).unwrap();
        View {
            claims: PvmClaims::new(
                genesis,
                self.core.archive().clone(),
                snapshot,
                self.origination_level,
                self.commit_level,
                self.rollup,
                Arc::new(soru_fast::NoReveals),
            ),
            wrong_from,
        }
    }

    /// The game `staker` plays, as the RPC returns it.
    fn game(&self, staker: &PublicKeyHash) -> Option<(Game, PublicKeyHash, PublicKeyHash)> {
        let games = self
            .l1
            .get(&rollup_path(&self.rollup, &format!("staker/{staker}/games")));
        let entry = games.as_array().unwrap().first()?.clone();
        let game = Game::from_json(&entry["game"]).unwrap();
        let alice = entry["alice"].as_str().unwrap().parse().unwrap();
        let bob = entry["bob"].as_str().unwrap().parse().unwrap();
        Some((game, alice, bob))
    }

    fn balance(&self, pkh: &PublicKeyHash, what: &str) -> u64 {
        let value = self
            .l1
            .get(&format!("/chains/main/blocks/head/context/contracts/{pkh}/{what}"));
        value.as_str().unwrap().parse().unwrap()
    }

    /// The refuter (the honest staker, or the other) starts the game;
    /// returns the two views.
    fn start(&self, honest_refutes: bool) -> (View, View) {
        // A game starts once the next commitment period has ended (its
        // inbox is the snapshot the inputs are proved against).
        let period = ProtocolParams::sandbox().smart_rollup.commitment_period_in_blocks;
        while self.l1.head_level() < self.commit_level + period {
            self.l1.bake();
        }
        let (refuter, defender, mine, theirs) = if honest_refutes {
            (&self.honest, &self.dishonest, &self.honest_hash, &self.dishonest_hash)
        } else {
            (&self.dishonest, &self.honest, &self.dishonest_hash, &self.honest_hash)
        };
        let start = OperationKind::SmartRollupRefute {
            rollup: self.rollup,
            opponent: defender.public_key().hash(),
            refutation: Refutation::Start {
                player_commitment_hash: mine.parse().unwrap(),
                opponent_commitment_hash: theirs.parse().unwrap(),
            },
        };
        let op = self.l1.inject(refuter, vec![(start, 20_000, 0)]).unwrap();
        self.l1.bake();
        assert_eq!(
            self.l1.results(&op)[0]["status"],
            "applied",
            "{}",
            self.l1.results(&op)[0]
        );
        let (game, _, _) = self.game(&self.honest.public_key().hash()).expect("a game");
        let honest = self.view(game.inbox_snapshot.clone(), None);
        let dishonest = self.view(game.inbox_snapshot, Some(self.end_tick / 3));
        (honest, dishonest)
    }

    /// Plays the mover's honest move with its view; returns the receipt
    /// and whether the game was in its final move.
    fn play(&self, honest_view: &mut View, dishonest_view: &mut View) -> (Value, bool) {
        let (game, alice, bob) = self.game(&self.honest.public_key().hash()).expect("a game");
        let final_move = matches!(game.state, GameState::FinalMove { .. });
        let mover = Players::new(alice, bob).staker(game.turn);
        let honest_pkh = self.honest.public_key().hash();
        let (key, opponent, view) = if mover == honest_pkh {
            (&self.honest, self.dishonest.public_key().hash(), honest_view)
        } else {
            (&self.dishonest, honest_pkh, dishonest_view)
        };
        let tps = pvm_config().ticks_per_snapshot;
        let (choice, step) = honest_move(&game, tps, view).unwrap();
        let refute = OperationKind::SmartRollupRefute {
            rollup: self.rollup,
            opponent,
            refutation: Refutation::Move {
                choice: Nat(choice),
                step,
            },
        };
        let op = self.l1.inject(key, vec![(refute, 60_000, 0)]).unwrap();
        self.l1.bake();
        let result = self.l1.results(&op)[0].clone();
        assert_eq!(result["status"], "applied", "{result}");
        (result, final_move)
    }

    /// Plays until the game ends; returns the last receipt, the number of
    /// moves and whether a final move was played.
    fn play_to_the_end(&self, honest: &mut View, dishonest: &mut View) -> (Value, usize, bool) {
        let mut final_move = false;
        for moves in 1..80 {
            let (result, in_final_move) = self.play(honest, dishonest);
            final_move |= in_final_move;
            if result["game_status"] != "ongoing" {
                return (result, moves, final_move);
            }
        }
        panic!("the game did not end");
    }

    /// The honest staker won by the moves: the other's bond burnt, half of
    /// it paid to the honest one.
    fn assert_honest_won(&self, result: &Value) {
        let stake = ProtocolParams::sandbox().smart_rollup.stake_amount;
        let (honest_pkh, dishonest_pkh) = (self.honest.public_key().hash(), self.dishonest.public_key().hash());
        assert_eq!(result["game_status"]["result"]["kind"], "loser", "{result}");
        assert_eq!(result["game_status"]["result"]["player"], dishonest_pkh.to_base58());
        assert_eq!(result["game_status"]["result"]["reason"], "conflict_resolved");
        let updates = result["balance_updates"].as_array().unwrap();
        let reward = (stake / 2).to_string();
        assert!(updates
            .iter()
            .any(|u| u["contract"] == honest_pkh.to_base58() && u["change"] == reward.as_str()));
        assert!(updates.iter().any(
            |u| u["category"] == "smart_rollup_refutation_punishments" && u["change"] == stake.to_string().as_str()
        ));
        assert_eq!(self.balance(&dishonest_pkh, "frozen_bonds"), 0);
        assert_eq!(self.balance(&honest_pkh, "frozen_bonds"), stake);
        assert!(self.game(&honest_pkh).is_none(), "the game is over");
        let stakers = self.l1.get(&rollup_path(&self.rollup, "stakers"));
        assert_eq!(stakers, serde_json::json!([honest_pkh.to_base58()]));
    }
}

#[test]
fn the_honest_staker_wins_a_game_played_through_the_rpc() {
    let s = setup();
    let stake = ProtocolParams::sandbox().smart_rollup.stake_amount;
    assert_eq!(s.balance(&s.dishonest.public_key().hash(), "frozen_bonds"), stake);
    let (mut honest, mut dishonest) = s.start(true);
    let (result, moves, _) = s.play_to_the_end(&mut honest, &mut dishonest);
    // Cycle-aligned dissections down to one tick, then the proof.
    assert!((5..60).contains(&moves), "{moves} moves");
    s.assert_honest_won(&result);
}

#[test]
fn the_honest_defender_wins_with_the_final_move() {
    let s = setup();
    let (mut honest, mut dishonest) = s.start(false);
    let (result, moves, final_move) = s.play_to_the_end(&mut honest, &mut dishonest);
    assert!((5..60).contains(&moves), "{moves} moves");
    assert!(
        final_move,
        "the other staker's proof did not refute; the honest one proved in the final move"
    );
    s.assert_honest_won(&result);
}

#[test]
fn a_staker_who_stops_playing_loses_by_timeout() {
    let s = setup();
    let stake = ProtocolParams::sandbox().smart_rollup.stake_amount;
    let (honest_pkh, dishonest_pkh) = (s.honest.public_key().hash(), s.dishonest.public_key().hash());
    let (mut honest, mut dishonest) = s.start(true);
    // The refuter's first dissection; then the other side never answers.
    let (result, _) = s.play(&mut honest, &mut dishonest);
    assert_eq!(result["game_status"], "ongoing");
    let players = Players::new(honest_pkh, dishonest_pkh);
    let timeout_path = rollup_path(
        &s.rollup,
        &format!("staker1/{}/staker2/{}/timeout_reached", players.alice, players.bob),
    );
    assert_eq!(s.l1.get(&timeout_path), Value::Null);
    let claim = || OperationKind::SmartRollupTimeout {
        rollup: s.rollup,
        stakers: Stakers::new(honest_pkh, dishonest_pkh),
    };
    let early = s.l1.inject(&s.honest, vec![(claim(), 10_000, 0)]).unwrap();
    s.l1.bake();
    let refused = &s.l1.results(&early)[0];
    assert_eq!(refused["status"], "failed");
    assert!(refused["errors"][0]["id"]
        .as_str()
        .unwrap()
        .ends_with("smart_rollup_timeout_level_not_reached"));
    for _ in 0..ProtocolParams::sandbox().smart_rollup.timeout_period_in_blocks {
        s.l1.bake();
    }
    assert_eq!(s.l1.get(&timeout_path)["player"], dishonest_pkh.to_base58());
    let before = s.balance(&honest_pkh, "balance");
    let op = s.l1.inject(&s.honest, vec![(claim(), 10_000, 0)]).unwrap();
    s.l1.bake();
    let result = &s.l1.results(&op)[0];
    assert_eq!(result["status"], "applied", "{result}");
    assert_eq!(result["game_status"]["result"]["reason"], "timeout");
    assert_eq!(result["game_status"]["result"]["player"], dishonest_pkh.to_base58());
    assert_eq!(s.balance(&dishonest_pkh, "frozen_bonds"), 0);
    // The reward, less the fee of the timeout operation.
    assert_eq!(s.balance(&honest_pkh, "balance"), before + stake / 2 - 200_000);
}
