//! Refutation-game rules with claimed states (no PVM): dissection checks
//! (default and WASM alignment) with every named error, game start
//! preconditions, turns, clocks, timeouts, forfeits and the money of every
//! outcome. Whole games with real PVM proofs are in `games.rs`.

use soru_core::base58::{CommitmentHash, StateHash};
use soru_core::commitment::NumberOfTicks;
use soru_core::encoding::{Bytes, Nat};
use soru_core::micheline::{Micheline, Prim};
use soru_core::operation::RefutationProof;
use soru_core::params::{ProtocolParams, SmartRollupParams};
use soru_core::{Commitment, PublicKeyHash};
use soru_protocol::game::{
    check_dissection, DissectionChunk, GameContext, GameError, GameResult, GameState, MoveOutcome, Player, Players,
    Reason, Step,
};
use soru_protocol::inbox::InboxArchive;
use soru_protocol::rollup::{BalanceUpdate, Context, RollupError, RollupState};

const TPS: u128 = 50_000_000_000_000;
const STAKE: i64 = 10_000_000_000;

fn s(b: u8) -> Option<StateHash> {
    Some(StateHash([b; 32]))
}

fn chunk(state: Option<StateHash>, tick: u128) -> DissectionChunk {
    DissectionChunk { state, tick: Nat(tick) }
}

/// A dissection of `start..stop` into `n` even sections with states `1, 2, …`.
fn even(start: DissectionChunk, stop_tick: u128, n: u128) -> Vec<DissectionChunk> {
    let dist = stop_tick - start.tick.0;
    (0..=n)
        .map(|i| {
            let tick = start.tick.0 + dist * i / n;
            chunk(if i == 0 { start.state } else { s(100 + i as u8) }, tick)
        })
        .collect()
}

#[test]
fn default_dissection_rules() {
    let start = chunk(s(1), 0);
    let stop = chunk(s(2), 100);
    let check = |d: &[DissectionChunk]| check_dissection(32, TPS, &start, &stop, d);
    assert_eq!(check(&even(start, 100, 32)), Ok(()));
    assert_eq!(
        check(&even(start, 100, 31)),
        Err(GameError::NumberOfSectionsMismatch {
            expected: 32,
            given: 31
        })
    );
    // Fewer ticks than sections: one section per tick.
    let short_stop = chunk(s(2), 5);
    assert_eq!(
        check_dissection(32, TPS, &start, &short_stop, &even(start, 5, 5)),
        Ok(())
    );
    assert_eq!(
        check_dissection(32, TPS, &start, &short_stop, &even(start, 5, 4)),
        Err(GameError::NumberOfSectionsMismatch { expected: 5, given: 4 })
    );
    let one = chunk(s(2), 1);
    assert_eq!(
        check_dissection(32, TPS, &start, &one, &[start, chunk(s(3), 1)]),
        Err(GameError::InvalidNumberOfSections(1))
    );

    let mut d = even(start, 100, 32);
    d[0].state = s(9);
    assert_eq!(check(&d), Err(GameError::StartHashMismatch));
    let mut d = even(start, 100, 32);
    d[32].state = stop.state;
    assert_eq!(check(&d), Err(GameError::StopHashMismatch));
    let mut d = even(start, 100, 32);
    d[32].tick = Nat(99);
    d[31].tick = Nat(98);
    assert_eq!(check(&d), Err(GameError::EdgeTicksMismatch));
    let mut d = even(start, 100, 32);
    d[5].tick = d[4].tick;
    assert_eq!(check(&d), Err(GameError::TicksNotIncreasing));
    let mut d = even(start, 100, 32);
    d[10].state = None;
    assert_eq!(check(&d), Err(GameError::InvalidSuccessiveStatesShape));
    // One section of 60 ticks (> 100 / 2).
    let mut d: Vec<DissectionChunk> = (0..=32u128).map(|i| chunk(s(50 + i as u8), i)).collect();
    d[0] = start;
    d[32] = chunk(s(7), 100);
    assert_eq!(check(&d), Err(GameError::InvalidDistribution(50)));
    // A section whose start is `None` cannot be dissected.
    let none_start = chunk(None, 0);
    assert_eq!(
        check_dissection(32, TPS, &none_start, &stop, &even(none_start, 100, 32)),
        Err(GameError::StartHashMismatch)
    );
}

#[test]
fn wasm_dissections_align_on_snapshots() {
    let start = chunk(s(1), 0);
    // Three and a half cycles: ⌈3.5⌉ = 4 sections, interior ticks on cycle boundaries.
    let stop = chunk(s(2), 3 * TPS + TPS / 2);
    let aligned: Vec<DissectionChunk> = vec![
        start,
        chunk(s(3), TPS),
        chunk(s(4), 2 * TPS),
        chunk(s(5), 3 * TPS),
        chunk(s(6), stop.tick.0),
    ];
    assert_eq!(check_dissection(32, TPS, &start, &stop, &aligned), Ok(()));
    let mut off = aligned.clone();
    off[2].tick = Nat(2 * TPS + 1);
    assert_eq!(
        check_dissection(32, TPS, &start, &stop, &off),
        Err(GameError::WasmInvalidDissectionDistribution)
    );
    assert_eq!(
        check_dissection(32, TPS, &start, &stop, &aligned[..4]),
        Err(GameError::NumberOfSectionsMismatch { expected: 4, given: 3 })
    );
    // Sections may reach max(tps, considered / 2), considered = the whole
    // cycles (3): 1.5 cycles.
    let wide: Vec<DissectionChunk> = vec![
        start,
        chunk(s(3), 2 * TPS),
        chunk(s(4), 2 * TPS + TPS / 4),
        chunk(s(5), 3 * TPS),
        chunk(s(6), stop.tick.0),
    ];
    assert_eq!(
        check_dissection(32, TPS, &start, &stop, &wide),
        Err(GameError::InvalidDistribution(TPS * 3 / 2))
    );
    // 100 cycles: 32 sections, each at most 50 cycles.
    let long = chunk(s(2), 100 * TPS);
    let mut d: Vec<DissectionChunk> = (0..=32u128).map(|i| chunk(s(10 + i as u8), i * 3 * TPS)).collect();
    d[0] = start;
    d[32] = chunk(s(99), long.tick.0);
    assert_eq!(check_dissection(32, TPS, &start, &long, &d), Ok(()));
    // Within one cycle the default rule applies.
    let within = chunk(s(2), TPS);
    assert_eq!(
        check_dissection(32, TPS, &start, &within, &even(start, TPS, 32)),
        Ok(())
    );
}

fn pkh(b: u8) -> PublicKeyHash {
    PublicKeyHash::ed25519([b; 20])
}

/// Period 10, challenge window 20, timeout 50.
fn params() -> SmartRollupParams {
    let mut p = ProtocolParams::mainnet().smart_rollup;
    p.commitment_period_in_blocks = 10;
    p.challenge_window_in_blocks = 20;
    p.timeout_period_in_blocks = 50;
    p
}

fn gctx(p: &SmartRollupParams, current_level: u32) -> GameContext<'_> {
    GameContext {
        rules: Context {
            current_level,
            params: p,
            past_periods: &[],
        },
        ticks_per_snapshot: TPS,
    }
}

/// A rollup originated at 100 with conflicting commitments at 110 by
/// stakers 1 (claiming `honest`) and 2.
struct Dispute {
    rollup: RollupState,
    archive: InboxArchive,
    honest: CommitmentHash,
    wrong: CommitmentHash,
}

fn dispute(p: &SmartRollupParams, ticks: u64) -> Dispute {
    let ty = Micheline::Prim {
        prim: Prim::from_name("unit").unwrap(),
        args: vec![],
        annots: vec![],
    };
    let mut rollup = RollupState::originate(&gctx(p, 100).rules, &[1; 32], 0, StateHash([1; 32]), ty, None)
        .unwrap()
        .rollup;
    let genesis = rollup.lcc;
    let commit = |state: u8| Commitment {
        compressed_state: StateHash([state; 32]),
        inbox_level: 110,
        predecessor: genesis,
        number_of_ticks: NumberOfTicks::new(u128::from(ticks)).unwrap(),
    };
    let (honest, wrong) = (commit(2), commit(3));
    rollup.publish(&gctx(p, 111).rules, pkh(1), u64::MAX, honest).unwrap();
    rollup.publish(&gctx(p, 111).rules, pkh(2), u64::MAX, wrong).unwrap();
    let info = soru_core::inbox::InfoPerLevel {
        predecessor_timestamp: soru_core::time::Timestamp::from_seconds(0),
        predecessor: soru_core::BlockHash([0; 32]),
    };
    let archive = InboxArchive::genesis(100, info, b"\x00\x04\x00\x00\x00\x01x").unwrap();
    Dispute {
        rollup,
        archive,
        honest: honest.hash(),
        wrong: wrong.hash(),
    }
}

#[test]
fn starting_a_game() {
    let p = params();
    let mut d = dispute(&p, 1_000);
    let inbox = d.archive.inbox().clone();
    let (h, w) = (d.honest, d.wrong);
    let start = |r: &mut RollupState, level, refuter, rh, defender, dh| {
        r.start_game(&gctx(&p, level), &inbox, refuter, rh, defender, dh)
    };
    assert_eq!(
        start(&mut d.rollup, 120, pkh(1), w, pkh(2), w),
        Err(GameError::WrongStakerForConflictCommitment(pkh(1), w))
    );
    assert_eq!(
        start(&mut d.rollup, 120, pkh(1), h, pkh(2), h),
        Err(GameError::WrongStakerForConflictCommitment(pkh(2), h))
    );
    assert_eq!(
        start(&mut d.rollup, 119, pkh(1), h, pkh(2), w),
        Err(GameError::RefutationGameStartTooEarly {
            earliest_start_level: 120
        })
    );
    start(&mut d.rollup, 120, pkh(1), h, pkh(2), w).unwrap();
    assert_eq!(
        start(&mut d.rollup, 121, pkh(2), w, pkh(1), h),
        Err(GameError::GameAlreadyStarted)
    );
    let (game, clocks) = d.rollup.game(pkh(2), pkh(1)).unwrap().clone();
    assert_eq!(game.turn, Player::Alice, "the refuter (pkh 1 < pkh 2) moves first");
    assert_eq!((clocks.alice, clocks.bob, clocks.last_turn_level), (50, 50, 120));
    assert_eq!(
        game.state,
        GameState::Dissecting {
            dissection: vec![chunk(s(1), 0), chunk(s(3), 1_000), chunk(None, 1_001)],
            default_number_of_sections: 32
        }
    );
    assert_eq!(game.inbox_level, 110);
    assert_eq!(d.rollup.games_of(&pkh(1)), 1);
}

/// A dispute whose game (staker 1 refuting staker 2) started at 120.
fn started(p: &SmartRollupParams) -> (Dispute, soru_protocol::inbox::Inbox) {
    let mut d = dispute(p, 1_000);
    let inbox = d.archive.inbox().clone();
    d.rollup
        .start_game(&gctx(p, 120), &inbox, pkh(1), d.honest, pkh(2), d.wrong)
        .unwrap();
    (d, inbox)
}

#[test]
fn moves_clocks_timeouts_and_money() {
    let p = params();
    let (mut d, _) = started(&p);
    let genesis_state = chunk(s(1), 0);

    // Bob may not move first; Alice dissects [0, 1000].
    let dissection = even(genesis_state, 1_000, 32);
    assert_eq!(
        d.rollup
            .game_move(&gctx(&p, 125), pkh(2), pkh(1), 0, Step::Dissection(dissection.clone())),
        Err(GameError::WrongTurn)
    );
    assert_eq!(
        d.rollup
            .game_move(&gctx(&p, 125), pkh(1), pkh(2), 7, Step::Dissection(dissection.clone())),
        Err(GameError::DissectionChoiceNotFound(7))
    );
    assert_eq!(
        d.rollup
            .game_move(&gctx(&p, 125), pkh(1), pkh(2), 0, Step::Dissection(dissection.clone())),
        Ok(MoveOutcome::Ongoing)
    );
    let (game, clocks) = d.rollup.game(pkh(1), pkh(2)).unwrap().clone();
    assert_eq!(game.turn, Player::Bob);
    assert_eq!((clocks.alice, clocks.bob, clocks.last_turn_level), (45, 50, 125));

    // A proof on a multi-tick section, and one that does not parse.
    let proof = RefutationProof {
        pvm_step: Bytes(vec![1]),
        input_proof: None,
    };
    assert_eq!(
        d.rollup
            .game_move(&gctx(&p, 126), pkh(2), pkh(1), 0, Step::Proof(proof.clone())),
        Err(GameError::ProofOnMultiTickSection(31))
    );

    // Bob lets his clock run out: 125 + 50 = 175 is the last level he has.
    assert!(matches!(
        d.rollup.timeout(&gctx(&p, 175), pkh(1), pkh(2)),
        Err(GameError::TimeoutLevelNotReached {
            blocks_left: 0,
            staker
        }) if staker == pkh(2)
    ));
    let (result, updates) = d.rollup.timeout(&gctx(&p, 176), pkh(2), pkh(1)).unwrap();
    assert_eq!(
        result,
        GameResult::Loser {
            reason: Reason::Timeout,
            loser: pkh(2)
        }
    );
    assert_eq!(
        updates,
        vec![
            BalanceUpdate::FrozenBonds(pkh(2), d.rollup.address, -STAKE),
            BalanceUpdate::RefutationPunishments(STAKE),
            BalanceUpdate::RefutationRewards(-STAKE / 2),
            BalanceUpdate::Contract(pkh(1), STAKE / 2),
        ]
    );
    assert!(d.rollup.game(pkh(1), pkh(2)).is_none());
    assert!(!d.rollup.is_staker(&pkh(2)));
    assert_eq!(
        d.rollup
            .game_move(&gctx(&p, 177), pkh(1), pkh(2), 0, Step::Proof(proof)),
        Err(GameError::NoGame)
    );
    // The honest commitment is the only candidate left.
    assert_eq!(d.rollup.cement(&gctx(&p, 200).rules).unwrap().1, 110);
}

#[test]
fn a_player_whose_stake_is_gone_forfeits() {
    let p = params();
    let (mut d, inbox) = started(&p);
    // Bob lost his stake in another game.
    let burnt = d.rollup.remove_staker(&gctx(&p, 121).rules, pkh(2));
    assert_eq!(burnt.len(), 2);
    let outcome = d
        .rollup
        .game_move(
            &gctx(&p, 122),
            pkh(1),
            pkh(2),
            0,
            Step::Dissection(even(chunk(s(1), 0), 1_000, 32)),
        )
        .unwrap();
    assert_eq!(
        outcome,
        MoveOutcome::Ended(
            GameResult::Loser {
                reason: Reason::ConflictResolved,
                loser: pkh(2)
            },
            vec![]
        ),
        "nothing left to burn, no reward"
    );
    assert_eq!(
        d.rollup
            .start_game(&gctx(&p, 123), &inbox, pkh(1), d.honest, pkh(2), d.wrong),
        Err(GameError::WrongStakerForConflictCommitment(pkh(2), d.wrong)),
        "not staked any more"
    );
    let _ = Players::new(pkh(1), pkh(2));
    let _ = RollupError::NotStaked;
}

#[test]
fn conflicts_parallel_games_and_move_kinds() {
    let mut p = params();
    p.max_number_of_parallel_games = 1;
    let mut d = dispute(&p, 1_000);
    let inbox = d.archive.inbox().clone();
    let genesis = d.rollup.lcc;
    // Same commitment on both sides; commitments of different predecessors.
    d.rollup
        .publish(
            &gctx(&p, 112).rules,
            pkh(3),
            u64::MAX,
            d.rollup.commitment(&d.honest).copied().unwrap(),
        )
        .unwrap();
    assert_eq!(
        d.rollup
            .start_game(&gctx(&p, 120), &inbox, pkh(1), d.honest, pkh(3), d.honest),
        Err(GameError::NoConflict)
    );
    let later = Commitment {
        compressed_state: StateHash([8; 32]),
        inbox_level: 120,
        predecessor: d.honest,
        number_of_ticks: NumberOfTicks::new(5).unwrap(),
    };
    d.rollup.publish(&gctx(&p, 121).rules, pkh(3), u64::MAX, later).unwrap();
    assert_eq!(
        d.rollup
            .start_game(&gctx(&p, 121), &inbox, pkh(2), d.wrong, pkh(3), later.hash()),
        Err(GameError::NotValidCommitmentsConflict)
    );
    assert_ne!(genesis, later.predecessor);

    // One game each at most.
    d.rollup
        .start_game(&gctx(&p, 120), &inbox, pkh(1), d.honest, pkh(2), d.wrong)
        .unwrap();
    assert_eq!(
        d.rollup
            .start_game(&gctx(&p, 120), &inbox, pkh(3), d.honest, pkh(2), d.wrong),
        Err(GameError::MaxNumberOfParallelGamesReached(pkh(2)))
    );

    // Alice dissects down to [0, 1]… in two moves of 32 sections each.
    let mut level = 121;
    let mut start = chunk(s(1), 0);
    let mut stop_tick = 1_000;
    let (mut mover, mut other) = (pkh(1), pkh(2));
    while stop_tick > 1 {
        let n = 32.min(stop_tick);
        let mut d2 = even(start, stop_tick, n);
        // Disagree with the previous stop: fresh states.
        for (i, c) in d2.iter_mut().enumerate().skip(1) {
            c.state = s(200 - (level as u8) + i as u8);
        }
        d.rollup
            .game_move(
                &gctx(&p, level),
                mover,
                other,
                start.tick.0,
                Step::Dissection(d2.clone()),
            )
            .unwrap();
        start = d2[0];
        stop_tick = d2[1].tick.0;
        std::mem::swap(&mut mover, &mut other);
        level += 1;
    }
    // A proof that does not parse fails the move; one that does not refute
    // hands the final move over.
    let unparsable = RefutationProof {
        pvm_step: Bytes(vec![]),
        input_proof: None,
    };
    assert_eq!(
        d.rollup
            .game_move(&gctx(&p, level), mover, other, 0, Step::Proof(unparsable)),
        Err(GameError::CannotUnserializeProof)
    );
    let invalid = RefutationProof {
        pvm_step: Bytes(vec![1, 0]),
        input_proof: None,
    };
    assert_eq!(
        d.rollup
            .game_move(&gctx(&p, level), mover, other, 0, Step::Proof(invalid.clone())),
        Ok(MoveOutcome::Ongoing)
    );
    let (game, _) = d.rollup.game(mover, other).unwrap().clone();
    assert!(matches!(game.state, GameState::FinalMove { .. }));
    assert_eq!(
        d.rollup
            .game_move(&gctx(&p, level + 1), other, mover, 0, Step::Dissection(vec![])),
        Err(GameError::DissectingDuringFinalMove)
    );
    // The second proof fails too: a draw, both bonds burnt.
    let MoveOutcome::Ended(result, updates) = d
        .rollup
        .game_move(&gctx(&p, level + 1), other, mover, 0, Step::Proof(invalid))
        .unwrap()
    else {
        panic!("the game goes on")
    };
    assert_eq!(result, GameResult::Draw);
    assert_eq!(
        updates
            .iter()
            .filter(|u| matches!(u, BalanceUpdate::RefutationPunishments(STAKE)))
            .count(),
        2
    );
}
