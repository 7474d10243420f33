//! The node's core over an L1 inbox built beside it: every level's inbox
//! matches the L1's hash, the state and ticks are the PVM's alone, the
//! commitments chain from the genesis commitment the L1 computes, a wrong
//! message is refused without changing anything, and a restarted node goes
//! on from its store.

use std::sync::Arc;

use soru_core::base58::SmartRollupAddress;
use soru_core::inbox::InfoPerLevel;
use soru_core::micheline::{Micheline, Prim};
use soru_core::params::ProtocolParams;
use soru_core::time::Timestamp;
use soru_core::BlockHash;
use soru_fast::NoReveals;
use soru_node::{CoreConfig, CoreError, RollupCore};
use soru_protocol::inbox::InboxArchive;
use soru_protocol::rollup::{Context, RollupState};
use soru_pvm::{Input, Pvm, PvmConfig};

const ORIGINATION: u32 = 7;
const PERIOD: u32 = 4;

fn info(level: u32) -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(1_700_000_000 + 6 * i64::from(level)),
        predecessor: BlockHash([level as u8; 32]),
    }
}

fn echo() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernels/wasm/echo.wasm")).unwrap()
}

fn config() -> CoreConfig {
    CoreConfig {
        rollup: SmartRollupAddress([5; 20]),
        origination_level: ORIGINATION,
        commitment_period: PERIOD,
        past_commitment_periods: vec![],
        pvm: PvmConfig::from_params(&ProtocolParams::mainnet().smart_rollup.pvm),
    }
}

/// The L1's inbox from level 5, levels 6 and 7 already there.
fn l1() -> InboxArchive {
    let mut l1 = InboxArchive::genesis(5, info(5), b"\x00\x04\x00\x00\x00\x01x").unwrap();
    l1.add_level(info(6), None, &[b"\x01before the rollup".to_vec()])
        .unwrap();
    l1.add_level(info(7), None, &[]).unwrap();
    l1
}

/// The messages of `level`: some levels empty, some with several messages.
fn messages(level: u32) -> Vec<Vec<u8>> {
    (0..level % 3)
        .map(|i| format!("\x01message {i} of {level}").into_bytes())
        .collect()
}

#[test]
fn levels_are_checked_executed_stored_and_committed() {
    let dir = tempfile::tempdir().unwrap();
    let oracle = Arc::new(NoReveals);
    let mut l1 = l1();
    let mut core = RollupCore::create(dir.path(), config(), &echo(), l1.inbox().clone(), oracle.clone()).unwrap();

    // The genesis commitment is the one the L1 computes at origination.
    let p = ProtocolParams::mainnet().smart_rollup;
    let ctx = Context {
        current_level: ORIGINATION,
        params: &p,
        past_periods: &[],
    };
    let unit = Micheline::Prim {
        prim: Prim::from_name("unit").unwrap(),
        args: vec![],
        annots: vec![],
    };
    let genesis_state = Pvm::install_boot_sector(&config().pvm, &echo())
        .unwrap()
        .state_hash()
        .unwrap();
    let origination = RollupState::originate(&ctx, &[1; 32], 0, genesis_state, unit, None).unwrap();
    assert_eq!(core.last_commitment().0, origination.rollup.lcc);

    // The PVM alone, for reference.
    let mut reference = Pvm::install_boot_sector(&config().pvm, &echo()).unwrap();
    let mut commitments = Vec::new();
    for level in ORIGINATION + 1..=ORIGINATION + 10 {
        let messages = messages(level);
        let l1_hash = l1.add_level(info(level), None, &messages).unwrap();

        // A wrong message is refused, and changes nothing.
        let mut wrong = messages.clone();
        wrong.push(b"\x01not on the L1".to_vec());
        let before = core.head().clone();
        assert!(matches!(
            core.process_level(info(level), None, &wrong, l1_hash),
            Err(CoreError::InboxMismatch { .. })
        ));
        assert_eq!(core.head(), &before);

        let processed = core.process_level(info(level), None, &messages, l1_hash).unwrap();
        for (counter, payload) in l1.level_messages(level).unwrap().iter().enumerate() {
            reference.run_until_input(u128::MAX).unwrap();
            reference
                .set_input(Input {
                    level,
                    counter: counter as u64,
                    payload: payload.clone(),
                })
                .unwrap();
        }
        reference.run_until_input(u128::MAX).unwrap();
        assert_eq!(processed.record.state, reference.state_hash().unwrap(), "level {level}");
        assert_eq!(processed.record.tick, reference.current_tick());
        assert_eq!(processed.record.inbox.hash(), l1_hash);
        if let Some(c) = processed.commitment {
            commitments.push(c);
        }
    }
    assert!(core.engine_stats().fast_runs >= 10, "{:?}", core.engine_stats());

    // Commitments at 11, 15, chained from genesis, ticks adding up.
    assert_eq!(
        commitments.iter().map(|(_, c)| c.inbox_level).collect::<Vec<_>>(),
        vec![11, 15]
    );
    assert_eq!(commitments[0].1.predecessor, origination.rollup.lcc);
    assert_eq!(commitments[1].1.predecessor, commitments[0].0);
    let ticks: u64 = commitments.iter().map(|(_, c)| c.number_of_ticks.get()).sum();
    let at_15 = core.state_at(15).unwrap().unwrap();
    assert_eq!(u128::from(ticks), at_15.current_tick());
    assert_eq!(core.commitment_at(15).unwrap(), Some(commitments[1].1));
    assert_eq!(at_15.state_hash().unwrap(), commitments[1].1.compressed_state);
    // Echo's outputs are in the state.
    let mut head_state = core.state_at(core.head().level).unwrap().unwrap();
    let outputs = head_state.outbox(ORIGINATION + 2).unwrap();
    assert_eq!(outputs.len(), messages(ORIGINATION + 2).len());
    assert_eq!(reference.outbox(ORIGINATION + 2).unwrap(), outputs);

    // Restart: the node goes on from its store.
    // (PVMs read from the store hold it open, as the core does.)
    let head = core.head().clone();
    drop((core, head_state, at_15));
    let mut core = RollupCore::open(dir.path(), config(), oracle.clone()).unwrap();
    assert_eq!(core.head(), &head);
    assert_eq!(core.last_commitment().0, commitments[1].0);
    // Its inbox archive is rebuilt: messages since origination are provable.
    assert_eq!(core.archive().inbox().hash(), l1.inbox().hash());
    let snapshot = core.archive().inbox().snapshot();
    let (proof, input) = soru_protocol::inbox_proof::produce(core.archive(), &snapshot, ORIGINATION + 4, 2).unwrap();
    assert_eq!(
        input.as_ref().map(|i| i.payload.clone()),
        Some(messages(ORIGINATION + 4)[0].clone())
    );
    assert_eq!(
        soru_protocol::inbox_proof::verify(&snapshot, ORIGINATION + 4, 2, &proof).unwrap(),
        input
    );
    for level in head.level + 1..=19 {
        let messages = messages(level);
        let l1_hash = l1.add_level(info(level), None, &messages).unwrap();
        let processed = core.process_level(info(level), None, &messages, l1_hash).unwrap();
        assert_eq!(processed.record.inbox.hash(), l1_hash);
        let expected = (level == 19).then_some(19);
        assert_eq!(processed.commitment.map(|(_, c)| c.inbox_level), expected);
    }
    assert_eq!(core.last_commitment().1.predecessor, commitments[1].0);

    drop(core);
    // Another rollup's configuration does not open this store.
    let mut other = config();
    other.rollup = SmartRollupAddress([6; 20]);
    assert!(matches!(
        RollupCore::open(dir.path(), other, oracle.clone()),
        Err(CoreError::StoreMismatch(_))
    ));
    assert!(matches!(
        RollupCore::create(dir.path(), config(), &echo(), l1.inbox().clone(), oracle),
        Err(CoreError::StoreMismatch(_))
    ));
}

#[test]
fn commitments_follow_past_periods() {
    let dir = tempfile::tempdir().unwrap();
    let mut l1 = l1();
    let mut config = config();
    // Period 2 until level 12, then the current 4.
    config.past_commitment_periods = vec![soru_protocol::rollup::PastCommitmentPeriod {
        commitment_period: 2,
        next_protocol_activation: 12,
    }];
    let mut core = RollupCore::create(dir.path(), config, &echo(), l1.inbox().clone(), Arc::new(NoReveals)).unwrap();
    let mut levels = Vec::new();
    for level in ORIGINATION + 1..=16 {
        let l1_hash = l1.add_level(info(level), None, &[]).unwrap();
        if let Some((_, c)) = core.process_level(info(level), None, &[], l1_hash).unwrap().commitment {
            levels.push(c.inbox_level);
        }
    }
    assert_eq!(levels, vec![9, 11, 15]);
}
