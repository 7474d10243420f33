//! Whole refutation games at protocol level with real PVM states and proofs
//! at the real `ticks_per_snapshot` (5·10¹³): the `echo` kernel over two
//! inbox levels, a commitment for the first, an honest node (its view is
//! [`PvmClaims`]) against a faulty one, both playing [`honest_move`] with
//! their own view. Dissections cross the cycle-alignment rule and end on one
//! tick; the honest player wins against a fault in a message (its inbox
//! proof fails), in an Eval tick, in a Decode tick and in padding, as
//! refuter or defender; two faulty players draw; the money follows.

use std::sync::Arc;

use soru_core::base58::{CommitmentHash, SmartRollupAddress, StateHash};
use soru_core::commitment::NumberOfTicks;
use soru_core::hash::blake2b_256_concat;
use soru_core::inbox::InfoPerLevel;
use soru_core::micheline::{Micheline, Prim};
use soru_core::operation::RefutationProof;
use soru_core::params::{ProtocolParams, SmartRollupParams};
use soru_core::time::Timestamp;
use soru_core::{BlockHash, Commitment, PublicKeyHash};
use soru_fast::NoReveals;
use soru_node::PvmClaims;
use soru_protocol::game::{GameContext, GameResult, MoveOutcome, Reason, Tick};
use soru_protocol::inbox::InboxArchive;
use soru_protocol::rollup::{BalanceUpdate, Context, RollupState};
use soru_protocol::strategy::{honest_move, Claims};
use soru_pvm::{InternalState, Pvm, PvmConfig};

const ORIGINATION: u32 = 10;
const COMMIT_LEVEL: u32 = 11;
const STAKE: i64 = 10_000_000_000;

fn info(level: u32) -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(1_700_000_000 + i64::from(level)),
        predecessor: BlockHash([level as u8; 32]),
    }
}

/// The inbox from origination: level 11 (disputed) with `message`, level 12 after it.
fn archive(message: &[u8]) -> InboxArchive {
    let mut archive = InboxArchive::genesis(ORIGINATION, info(ORIGINATION), b"\x00\x04\x00\x00\x00\x01x").unwrap();
    archive.add_level(info(11), None, &[message.to_vec()]).unwrap();
    archive.add_level(info(12), None, &[b"\x01later".to_vec()]).unwrap();
    archive
}

const HONEST_MESSAGE: &[u8] = b"\x01hello, rollup";

fn genesis_pvm() -> Pvm {
    let echo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernels/wasm/echo.wasm")).unwrap();
    let config = PvmConfig::from_params(&ProtocolParams::mainnet().smart_rollup.pvm);
    assert_eq!(config.ticks_per_snapshot, 50_000_000_000_000);
    Pvm::install_boot_sector(&config, &echo).unwrap()
}

/// How a view departs from the PVM.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// None: the honest view.
    Honest,
    /// States from this tick on are not the PVM's.
    StatesFrom(Tick),
}

/// A player's view: the node's [`PvmClaims`] over its own inbox (the true
/// one, or one with another message), with states possibly altered from a
/// tick on.
struct View {
    claims: PvmClaims,
    fault: Fault,
}

impl View {
    fn new(archive: InboxArchive, fault: Fault) -> Self {
        let snapshot = archive.inbox().snapshot();
        let claims = PvmClaims::new(
            genesis_pvm(),
            archive,
            snapshot,
            ORIGINATION,
            COMMIT_LEVEL,
            SmartRollupAddress([3; 20]),
            Arc::new(NoReveals),
        );
        Self { claims, fault }
    }

    fn end_of_level(&mut self) -> Tick {
        self.claims.end().unwrap()
    }

    fn pvm_at(&mut self, tick: Tick) -> Option<Pvm> {
        self.claims.pvm_at(tick).unwrap()
    }
}

impl Claims for View {
    fn state_at(&mut self, tick: Tick) -> Result<Option<StateHash>, String> {
        let state = self.claims.state_at(tick)?;
        Ok(match self.fault {
            Fault::StatesFrom(from) if tick >= from => {
                state.map(|s| StateHash(blake2b_256_concat(&[&s.0, b"a wrong state"])))
            }
            _ => state,
        })
    }

    fn proof_at(&mut self, tick: Tick) -> Result<RefutationProof, String> {
        self.claims.proof_at(tick)
    }
}

fn pkh(b: u8) -> PublicKeyHash {
    PublicKeyHash::ed25519([b; 20])
}

fn params() -> SmartRollupParams {
    let mut p = ProtocolParams::mainnet().smart_rollup;
    p.commitment_period_in_blocks = 1;
    p.timeout_period_in_blocks = 1_000;
    p
}

/// Plays a whole game: `refuter` (key, view) against `defender`, each
/// publishing the commitment its view computes. Returns the result, the
/// balance updates and the number of moves.
fn play(
    refuter: (PublicKeyHash, &mut View),
    defender: (PublicKeyHash, &mut View),
) -> (GameResult, Vec<BalanceUpdate>, usize) {
    let p = params();
    let tps = genesis_pvm().ticks_per_snapshot();
    let ctx = |current_level| GameContext {
        rules: Context {
            current_level,
            params: &p,
            past_periods: &[],
        },
        ticks_per_snapshot: tps,
    };
    let genesis_state = genesis_pvm().state_hash().unwrap();
    let unit = Micheline::Prim {
        prim: Prim::from_name("unit").unwrap(),
        args: vec![],
        annots: vec![],
    };
    let mut rollup = RollupState::originate(&ctx(ORIGINATION).rules, &[1; 32], 0, genesis_state, unit, None)
        .unwrap()
        .rollup;
    let (refuter_key, refuter_view) = refuter;
    let (defender_key, defender_view) = defender;
    let mut publish = |key: PublicKeyHash, view: &mut View| -> CommitmentHash {
        let ticks = view.end_of_level();
        let commitment = Commitment {
            compressed_state: view.state_at(ticks).unwrap().unwrap(),
            inbox_level: COMMIT_LEVEL as i32,
            predecessor: rollup.lcc,
            number_of_ticks: NumberOfTicks::new(ticks).unwrap(),
        };
        rollup
            .publish(&ctx(12).rules, key, u64::MAX, commitment)
            .unwrap()
            .staked_hash
    };
    let refuter_hash = publish(refuter_key, refuter_view);
    let defender_hash = publish(defender_key, defender_view);
    assert_ne!(refuter_hash, defender_hash, "the views must disagree");

    // The L1's inbox when the game starts: levels 11 and 12 finalized.
    let l1_inbox = archive(HONEST_MESSAGE).inbox().clone();
    rollup
        .start_game(
            &ctx(13),
            &l1_inbox,
            refuter_key,
            refuter_hash,
            defender_key,
            defender_hash,
        )
        .unwrap();
    let mut level = 13;
    for moves in 1..200 {
        level += 1;
        let (game, _) = rollup.game(refuter_key, defender_key).unwrap().clone();
        let mover = if rollup.game(refuter_key, defender_key).is_some() {
            let players = soru_protocol::game::Players::new(refuter_key, defender_key);
            players.staker(game.turn)
        } else {
            unreachable!()
        };
        let (opponent, view) = if mover == refuter_key {
            (defender_key, &mut *refuter_view)
        } else {
            (refuter_key, &mut *defender_view)
        };
        let (choice, step) = honest_move(&game, tps, view).unwrap();
        match rollup.game_move(&ctx(level), mover, opponent, choice, step).unwrap() {
            MoveOutcome::Ongoing => {}
            MoveOutcome::Ended(result, updates) => return (result, updates, moves),
        }
    }
    panic!("the game did not end");
}

fn assert_won(
    winner: PublicKeyHash,
    loser: PublicKeyHash,
    (result, updates, moves): (GameResult, Vec<BalanceUpdate>, usize),
) {
    assert_eq!(
        result,
        GameResult::Loser {
            reason: Reason::ConflictResolved,
            loser
        },
        "after {moves} moves"
    );
    assert!(
        updates.contains(&BalanceUpdate::Contract(winner, STAKE / 2)),
        "{updates:?}"
    );
    assert!(updates.contains(&BalanceUpdate::RefutationPunishments(STAKE)));
    // Cycle-aligned dissections, then down to one tick: about a dozen moves.
    assert!((5..60).contains(&moves), "{moves} moves");
}

/// A tick of the honest level in `phase` (the `nth` such tick found by
/// scanning from tick 0 in steps of `stride`).
fn tick_in(view: &mut View, wanted: fn(&InternalState) -> bool) -> Tick {
    let end = view.end_of_level();
    let mut tick = 0;
    while tick < end {
        let pvm = view.pvm_at(tick).unwrap();
        if wanted(&pvm.internal_state()) {
            return tick;
        }
        // Small steps through the work, big ones through padding.
        tick += if matches!(pvm.internal_state(), InternalState::Padding) {
            pvm.ticks_left_in_cycle().max(1)
        } else {
            1
        };
    }
    panic!("no such tick");
}

#[test]
fn honest_refuter_wins_against_a_wrong_message() {
    let mut honest = View::new(archive(HONEST_MESSAGE), Fault::Honest);
    let mut faulty = View::new(archive(b"\x01another message"), Fault::Honest);
    assert_won(pkh(1), pkh(2), play((pkh(1), &mut honest), (pkh(2), &mut faulty)));
}

#[test]
fn honest_defender_wins_against_a_wrong_message() {
    let mut honest = View::new(archive(HONEST_MESSAGE), Fault::Honest);
    let mut faulty = View::new(archive(b"\x01another message"), Fault::Honest);
    assert_won(pkh(2), pkh(1), play((pkh(1), &mut faulty), (pkh(2), &mut honest)));
}

#[test]
fn honest_player_wins_against_a_wrong_eval_decode_or_padding_tick() {
    let mut probe = View::new(archive(HONEST_MESSAGE), Fault::Honest);
    let eval = tick_in(&mut probe, |s| matches!(s, InternalState::Eval)) + 1_000;
    let decode = tick_in(&mut probe, |s| matches!(s, InternalState::Decode)) + 10;
    let padding = tick_in(&mut probe, |s| matches!(s, InternalState::Padding)) + 1_000_000_000;
    for (what, fault_tick, honest_refutes) in [
        ("eval", eval, true),
        ("decode", decode, false),
        ("padding", padding, true),
    ] {
        let mut honest = View::new(archive(HONEST_MESSAGE), Fault::Honest);
        let mut faulty = View::new(archive(HONEST_MESSAGE), Fault::StatesFrom(fault_tick));
        let outcome = if honest_refutes {
            play((pkh(1), &mut honest), (pkh(2), &mut faulty))
        } else {
            play((pkh(2), &mut faulty), (pkh(1), &mut honest))
        };
        eprintln!("{what} fault at tick {fault_tick}: {} moves", outcome.2);
        assert_won(pkh(1), pkh(2), outcome);
    }
}

#[test]
fn two_wrong_messages_draw() {
    let mut first = View::new(archive(b"\x01wrong one"), Fault::Honest);
    let mut second = View::new(archive(b"\x01wrong two"), Fault::Honest);
    let (result, updates, _) = play((pkh(1), &mut first), (pkh(2), &mut second));
    assert_eq!(result, GameResult::Draw);
    assert_eq!(
        updates
            .iter()
            .filter(|u| matches!(u, BalanceUpdate::RefutationPunishments(_)))
            .count(),
        2,
        "both bonds burnt: {updates:?}"
    );
    assert!(!updates.iter().any(|u| matches!(u, BalanceUpdate::RefutationRewards(_))));
}
