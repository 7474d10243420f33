//! `execute_outbox_message` with real output proofs from the PVM running
//! the `echo` kernel (which writes each external message to the outbox):
//! valid executions, a wrong or unrelated commitment, levels outside the
//! window, replays, undecodable messages, indices past the limit and every
//! whitelist rule. A refused execution changes nothing.

use soru_core::base58::{CommitmentHash, ContractKt1Hash, StateHash};
use soru_core::commitment::NumberOfTicks;
use soru_core::micheline::{Micheline, Prim};
use soru_core::outbox::{OutboxMessage, OutboxTransaction};
use soru_core::params::{ProtocolParams, SmartRollupParams};
use soru_core::{Commitment, PublicKeyHash};
use soru_protocol::outbox::{execute_outbox_message, Access, AppliedOutboxMessages, Execution, OutboxError};
use soru_protocol::rollup::{Context, RollupState};
use soru_pvm::output_proof::prove_output;
use soru_pvm::Pvm;

const TPS: u128 = 50_000_000_000_000;

fn transfer(n: i64) -> OutboxMessage {
    OutboxMessage::AtomicTransactionBatch(vec![OutboxTransaction {
        parameters: Micheline::Int(n.into()),
        destination: ContractKt1Hash([7; 20]),
        entrypoint: "default".into(),
    }])
}

fn pkh(b: u8) -> PublicKeyHash {
    PublicKeyHash::ed25519([b; 20])
}

/// `echo` run over `levels` (1, 2, …), each a list of outbox messages.
fn rollup(levels: &[Vec<Vec<u8>>]) -> Pvm {
    let echo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernels/wasm/echo.wasm")).unwrap();
    let config = soru_pvm::PvmConfig {
        ticks_per_snapshot: TPS,
        ..soru_pvm::PvmConfig::from_params(&ProtocolParams::mainnet().smart_rollup.pvm)
    };
    let info = soru_core::inbox::InfoPerLevel {
        predecessor_timestamp: soru_core::time::Timestamp::from_seconds(1_700_000_000),
        predecessor: soru_core::BlockHash([7; 32]),
    };
    let mut pvm = Pvm::install_boot_sector(&config, &echo).unwrap();
    for (i, messages) in levels.iter().enumerate() {
        let payloads: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        for input in soru_pvm::inbox::external_level_inputs(i as u32 + 1, info, &payloads) {
            pvm.set_input(input).unwrap();
        }
        pvm.run_until_input(u128::MAX).unwrap();
    }
    pvm
}

/// The publisher of every commitment in these tests.
fn operator() -> PublicKeyHash {
    pkh(50)
}

/// Constants small enough to cement a commitment per level.
fn params() -> SmartRollupParams {
    let mut p = ProtocolParams::mainnet().smart_rollup;
    p.commitment_period_in_blocks = 1;
    p.challenge_window_in_blocks = 1;
    p
}

/// A rollup originated at level 0 whose commitments for levels 1..=`level`
/// are cemented, the last holding `pvm`'s state and the others another
/// state; `private` makes it private (the operator whitelisted). Returns
/// it, the last cemented commitment and the one before.
fn state_for(pvm: &Pvm, level: u32, private: bool) -> (RollupState, CommitmentHash, CommitmentHash) {
    let p = params();
    let ctx = |current_level| Context {
        current_level,
        params: &p,
        past_periods: &[],
    };
    let whitelist = private.then(|| vec![pkh(9), operator()]);
    let bytes_ty = Micheline::Prim {
        prim: Prim::from_name("bytes").unwrap(),
        args: vec![],
        annots: vec![],
    };
    let origination = RollupState::originate(&ctx(0), &[1; 32], 0, StateHash([9; 32]), bytes_ty, whitelist).unwrap();
    let mut rollup = origination.rollup;
    let mut cemented = vec![rollup.lcc];
    for l in 1..=level {
        let state = if l == level {
            pvm.state_hash().unwrap()
        } else {
            StateHash([l as u8; 32])
        };
        let commitment = Commitment {
            compressed_state: state,
            inbox_level: l as i32,
            predecessor: rollup.lcc,
            number_of_ticks: NumberOfTicks::new(1).unwrap(),
        };
        rollup.publish(&ctx(l + 1), operator(), u64::MAX, commitment).unwrap();
        let (hash, cemented_level) = rollup.cement(&ctx(l + 2)).unwrap();
        assert_eq!((hash, cemented_level), (commitment.hash(), l));
        cemented.push(hash);
    }
    let n = cemented.len();
    (rollup, cemented[n - 1], cemented[n - 2])
}

fn proof(pvm: &Pvm, level: u32, index: u32) -> Vec<u8> {
    prove_output(pvm, level, index).unwrap().0.as_bytes().to_vec()
}

#[test]
fn a_cemented_message_runs_once() {
    let message = transfer(5).serialize().unwrap();
    let pvm = rollup(&[vec![message.clone(), transfer(6).serialize().unwrap()], vec![]]);
    let (mut state, lcc, older) = state_for(&pvm, 2, false);
    let p = params();

    let executed = execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 1, 0)).unwrap();
    let OutboxMessage::AtomicTransactionBatch(expected) = transfer(5) else {
        unreachable!()
    };
    assert_eq!(executed, Execution::Transactions(expected));
    assert!(state.applied_outbox.is_applied(1, 0, p.max_active_outbox_levels));
    assert!(!state.applied_outbox.is_applied(1, 1, p.max_active_outbox_levels));

    let before = state.clone();
    assert_eq!(
        execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 1, 0)),
        Err(OutboxError::OutboxMessageAlreadyApplied)
    );
    assert_eq!(state, before);
    execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 1, 1)).unwrap();

    // The older cemented commitment is of another state: its proof fails.
    assert!(matches!(
        execute_outbox_message(&p, &mut state, &older, &proof(&pvm, 1, 1)),
        Err(OutboxError::InvalidOutputProof(_))
    ));
    // A commitment that is not a stored cemented one.
    assert_eq!(
        execute_outbox_message(&p, &mut state, &CommitmentHash([3; 32]), &proof(&pvm, 1, 1)),
        Err(OutboxError::InvalidLastCementedCommitment)
    );
    // Garbage instead of a proof.
    assert!(matches!(
        execute_outbox_message(&p, &mut state, &lcc, &[1, 2, 3]),
        Err(OutboxError::InvalidOutputProof(_))
    ));
}

#[test]
fn only_levels_in_the_active_window_run() {
    let m = |n| vec![transfer(n).serialize().unwrap()];
    let pvm = rollup(&[m(1), m(2), m(3), m(4), m(5)]);
    let mut p = params();
    p.max_active_outbox_levels = 3;
    // LCC at level 4: window ]1, 4].
    let (mut state, lcc, _) = state_for(&pvm, 4, false);
    for (level, ok) in [(1, false), (2, true), (4, true), (5, false)] {
        let result = execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, level, 0));
        if ok {
            assert!(result.is_ok(), "level {level}: {result:?}");
        } else {
            assert_eq!(
                result,
                Err(OutboxError::InvalidOutboxLevel {
                    outbox_level: level,
                    lcc_level: 4,
                    max_active_levels: 3
                }),
                "level {level}"
            );
        }
    }
}

#[test]
fn undecodable_messages_and_indices_past_the_limit_are_refused() {
    let pvm = rollup(&[vec![
        b"not an outbox message".to_vec(),
        transfer(1).serialize().unwrap(),
    ]]);
    let (mut state, lcc, _) = state_for(&pvm, 1, false);
    let mut p = params();
    assert!(matches!(
        execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 1, 0)),
        Err(OutboxError::InvalidOutboxMessage(_))
    ));
    p.max_outbox_messages_per_level = 1;
    assert_eq!(
        execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 1, 1)),
        Err(OutboxError::InvalidOutboxMessageIndex(1))
    );
    assert_eq!(state.applied_outbox, AppliedOutboxMessages::default());
}

#[test]
fn whitelist_updates_follow_the_rules() {
    let update = |keys: Option<Vec<PublicKeyHash>>| OutboxMessage::WhitelistUpdate(keys).serialize().unwrap();
    let pvm = rollup(&[
        vec![update(Some(vec![pkh(1), pkh(2)])), update(Some(vec![pkh(3)]))],
        vec![update(Some(vec![])), update(None)],
    ]);
    let p = params();

    // Public rollups and disabled private rollups refuse updates.
    let (mut public, lcc, _) = state_for(&pvm, 2, false);
    assert_eq!(
        execute_outbox_message(&p, &mut public, &lcc, &proof(&pvm, 1, 0)),
        Err(OutboxError::RollupIsPublic)
    );
    let (mut state, lcc, _) = state_for(&pvm, 2, true);
    let mut disabled = p.clone();
    disabled.private_enable = false;
    assert_eq!(
        execute_outbox_message(&disabled, &mut state, &lcc, &proof(&pvm, 1, 0)),
        Err(OutboxError::WhitelistDisabled)
    );

    // In order: (1, 1) then (1, 0) is outdated.
    let changed = execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 1, 1)).unwrap();
    let expected = Access::Private {
        whitelist: vec![pkh(3)],
        last_update: Some((1, 1)),
    };
    assert_eq!(changed, Execution::AccessChanged(expected.clone()));
    assert_eq!(state.access, expected);
    let before = state.clone();
    assert_eq!(
        execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 1, 0)),
        Err(OutboxError::OutdatedWhitelistUpdate {
            outbox_level: 1,
            message_index: 0,
            last_level: 1,
            last_index: 1
        })
    );
    assert_eq!(state, before);

    // An empty list is refused; `None` makes the rollup public for good.
    assert_eq!(
        execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 2, 0)),
        Err(OutboxError::EmptyWhitelist)
    );
    assert_eq!(
        execute_outbox_message(&p, &mut state, &lcc, &proof(&pvm, 2, 1)),
        Ok(Execution::AccessChanged(Access::Public))
    );
    assert_eq!(state.access, Access::Public);
}

#[test]
fn only_the_last_five_cemented_commitments_can_prove_outputs() {
    let pvm = rollup(&[vec![transfer(1).serialize().unwrap()]]);
    let (mut state, lcc, _) = state_for(&pvm, 7, false);
    // Walk back through the stored contents: 5 of them.
    let mut stored = vec![lcc];
    while let Some(c) = state.commitment(stored.last().unwrap()) {
        stored.push(c.predecessor);
    }
    assert_eq!(stored.len(), 6, "five stored, then the hash of the sixth");
    let deallocated = *stored.last().unwrap();
    let p = params();
    let proof = proof(&pvm, 1, 0);
    assert_eq!(
        execute_outbox_message(&p, &mut state, &deallocated, &proof),
        Err(OutboxError::UnknownCommitment(deallocated))
    );
    assert!(matches!(
        execute_outbox_message(&p, &mut state, &stored[4], &proof),
        Err(OutboxError::InvalidOutputProof(_))
    ));
}
