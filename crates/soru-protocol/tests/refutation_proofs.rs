//! Refutation proofs with real PVM step proofs and inbox proofs: the first
//! message, inbox messages proved against the game's snapshot, a step that
//! needs no input, inputs past the disputed level (cut: the PVM blocks),
//! and every way a proof fails; the binary layout round-trips.

use soru_core::base58::{SmartRollupAddress, StateHash};
use soru_core::encoding::{Bytes, Decode, Encode, Nat};
use soru_core::inbox::InfoPerLevel;
use soru_core::operation::{InputProof, Refutation, RefutationProof, RefutationStep, RevealProof};
use soru_core::params::ProtocolParams;
use soru_core::time::Timestamp;
use soru_core::BlockHash;
use soru_protocol::inbox::InboxArchive;
use soru_protocol::inbox_proof::produce;
use soru_protocol::refutation_proof::{valid, ProofContext, ProofError};
use soru_pvm::step_proof::{prove_step, StepInput};
use soru_pvm::{Input, InputRequest, Pvm, PvmConfig};

const ORIGINATION: u32 = 10;

/// The proof through the `refute` operation's binary layout.
fn round_trip(proof: &RefutationProof) -> RefutationProof {
    let bytes = move_bytes(proof.clone());
    match Refutation::from_bytes(&bytes).unwrap() {
        Refutation::Move {
            step: RefutationStep::Proof(decoded),
            ..
        } => decoded,
        other => panic!("{other:?}"),
    }
}

fn move_bytes(proof: RefutationProof) -> Vec<u8> {
    Refutation::Move {
        choice: Nat(0),
        step: RefutationStep::Proof(proof),
    }
    .to_bytes()
}

fn info(level: u32) -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(1_700_000_000 + i64::from(level)),
        predecessor: BlockHash([level as u8; 32]),
    }
}

/// The inbox from the rollup's origination: levels 11 and 12 with one
/// external message each.
fn archive() -> InboxArchive {
    let mut archive = InboxArchive::genesis(ORIGINATION, info(ORIGINATION), b"\x00\x04\x00\x00\x00\x01x").unwrap();
    archive.add_level(info(11), None, &[b"\x01first".to_vec()]).unwrap();
    archive.add_level(info(12), None, &[b"\x01second".to_vec()]).unwrap();
    archive
}

fn echo_pvm() -> Pvm {
    let echo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernels/wasm/echo.wasm")).unwrap();
    let config = PvmConfig::from_params(&ProtocolParams::mainnet().smart_rollup.pvm);
    Pvm::install_boot_sector(&config, &echo).unwrap()
}

fn message(archive: &InboxArchive, level: u32, counter: u64) -> Input {
    Input {
        level,
        counter,
        payload: archive.level_messages(level).unwrap()[counter as usize].clone(),
    }
}

fn context(snapshot: &soru_protocol::inbox::HistoryCell, commit_inbox_level: u32) -> ProofContext<'_> {
    ProofContext {
        inbox_snapshot: snapshot,
        origination_level: ORIGINATION,
        commit_inbox_level,
        rollup: SmartRollupAddress([3; 20]),
    }
}

#[test]
fn first_message_inbox_messages_and_plain_steps() {
    let archive = archive();
    let snapshot = archive.inbox().snapshot();
    let ctx = context(&snapshot, 12);
    let mut pvm = echo_pvm();

    // The first input: SOL of the level after origination.
    assert_eq!(pvm.input_request(), InputRequest::Initial);
    let sol = message(&archive, 11, 0);
    let (step, verdict) = prove_step(&pvm, Some(StepInput::Message(sol.clone()))).unwrap();
    let proof = RefutationProof {
        pvm_step: Bytes(step.as_bytes().to_vec()),
        input_proof: Some(InputProof::FirstInput),
    };
    let start = pvm.state_hash().unwrap();
    assert_eq!(valid(&ctx, &start, &proof), Ok(verdict.stop));
    assert!(verdict.stop.is_some());
    assert_eq!(round_trip(&proof), proof);
    // From another state, or without its input, it proves nothing.
    assert!(matches!(
        valid(&ctx, &StateHash([0; 32]), &proof),
        Err(ProofError::WrongStartState { .. })
    ));
    let bare = RefutationProof {
        input_proof: None,
        ..proof.clone()
    };
    assert!(valid(&ctx, &start, &bare).is_err());
    pvm.set_input(sol).unwrap();

    // The next message, proved against the snapshot at (11, 0 + 1).
    assert_eq!(pvm.input_request(), InputRequest::FirstAfter { level: 11, counter: 0 });
    let (inbox, input) = produce(&archive, &snapshot, 11, 1).unwrap();
    let input = input.unwrap();
    let next = Input {
        level: input.level,
        counter: input.counter,
        payload: input.payload,
    };
    let (step, verdict) = prove_step(&pvm, Some(StepInput::Message(next.clone()))).unwrap();
    let inbox_proof = InputProof::InboxProof {
        level: 11,
        message_counter: Nat(0),
        serialized_proof: Bytes(inbox.to_bytes()),
    };
    let proof = RefutationProof {
        pvm_step: Bytes(step.as_bytes().to_vec()),
        input_proof: Some(inbox_proof.clone()),
    };
    let start = pvm.state_hash().unwrap();
    assert_eq!(valid(&ctx, &start, &proof), Ok(verdict.stop));
    assert_eq!(round_trip(&proof), proof);

    // The same inbox proof claimed for another position.
    let shifted = RefutationProof {
        input_proof: Some(InputProof::InboxProof {
            level: 11,
            message_counter: Nat(1),
            serialized_proof: Bytes(inbox.to_bytes()),
        }),
        ..proof.clone()
    };
    assert!(valid(&ctx, &start, &shifted).is_err());
    // A damaged inbox proof.
    let mut damaged_bytes = inbox.to_bytes();
    let last = damaged_bytes.len() - 1;
    damaged_bytes[last] ^= 1;
    let damaged = RefutationProof {
        input_proof: Some(InputProof::InboxProof {
            level: 11,
            message_counter: Nat(0),
            serialized_proof: Bytes(damaged_bytes),
        }),
        ..proof.clone()
    };
    assert!(matches!(
        valid(&ctx, &start, &damaged),
        Err(ProofError::InvalidInboxProof(_))
    ));
    // A reveal where a message is asked for.
    let reveal = RefutationProof {
        input_proof: Some(InputProof::RevealProof {
            reveal_proof: RevealProof::MetadataProof,
        }),
        ..proof.clone()
    };
    assert!(valid(&ctx, &start, &reveal).is_err());

    // Read the rest of the level and run until the kernel needs nothing.
    pvm.set_input(next).unwrap();
    for counter in 2..archive.level_messages(11).unwrap().len() as u64 {
        pvm.set_input(message(&archive, 11, counter)).unwrap();
    }
    assert_eq!(pvm.input_request(), InputRequest::NoInputRequired);
    let (step, verdict) = prove_step(&pvm, None).unwrap();
    let plain = RefutationProof {
        pvm_step: Bytes(step.as_bytes().to_vec()),
        input_proof: None,
    };
    let start = pvm.state_hash().unwrap();
    assert_eq!(valid(&ctx, &start, &plain), Ok(verdict.stop));
    // An input proof where none is needed.
    let extra = RefutationProof {
        input_proof: Some(inbox_proof),
        ..plain
    };
    assert!(valid(&ctx, &start, &extra).is_err());
}

#[test]
fn inputs_past_the_disputed_level_block_the_pvm() {
    let archive = archive();
    let snapshot = archive.inbox().snapshot();
    let mut pvm = echo_pvm();
    for counter in 0..archive.level_messages(11).unwrap().len() as u64 {
        pvm.set_input(message(&archive, 11, counter)).unwrap();
    }
    pvm.run_until_input(u128::MAX).unwrap();
    let last = archive.level_messages(11).unwrap().len() as u64 - 1;
    assert_eq!(
        pvm.input_request(),
        InputRequest::FirstAfter {
            level: 11,
            counter: last
        }
    );
    // The next input is level 12's SOL: beyond commitments of level 11.
    let (inbox, input) = produce(&archive, &snapshot, 11, last + 1).unwrap();
    assert_eq!(input.as_ref().map(|i| (i.level, i.counter)), Some((12, 0)));
    let (step, verdict) = prove_step(&pvm, None).unwrap();
    assert_eq!(verdict.stop, None, "blocked without its input");
    let proof = RefutationProof {
        pvm_step: Bytes(step.as_bytes().to_vec()),
        input_proof: Some(InputProof::InboxProof {
            level: 11,
            message_counter: Nat(u128::from(last)),
            serialized_proof: Bytes(inbox.to_bytes()),
        }),
    };
    let start = pvm.state_hash().unwrap();
    assert_eq!(valid(&context(&snapshot, 11), &start, &proof), Ok(None));
    // For a commitment of level 12 the same proof consumes that message
    // (the step's tree holds what reading it touches).
    let mut fed = Pvm::from_tree(pvm.to_tree().unwrap()).unwrap();
    let sol = input.unwrap();
    fed.set_input(Input {
        level: sol.level,
        counter: sol.counter,
        payload: sol.payload,
    })
    .unwrap();
    assert_eq!(
        valid(&context(&snapshot, 12), &start, &proof),
        Ok(Some(fed.state_hash().unwrap()))
    );
}

#[test]
fn malformed_proofs_are_refused() {
    for bytes in [
        vec![],
        vec![0, 0, 0, 1],
        vec![0, 0, 0, 0, 0xff, 9],
        vec![0, 0, 0, 0, 0xff, 1, 0, 0x10, 0x01],
        vec![0, 0, 0, 0, 0x00, 0],
    ] {
        assert!(
            Refutation::from_bytes(&[&[1u8, 0, 1][..], &bytes].concat()).is_err(),
            "{bytes:?}"
        );
    }
    let proof = RefutationProof {
        pvm_step: Bytes(vec![1, 2]),
        input_proof: Some(InputProof::RevealProof {
            reveal_proof: RevealProof::RawDataProof {
                raw_data: Bytes(vec![7; 10]),
            },
        }),
    };
    assert_eq!(round_trip(&proof), proof);
}

#[test]
fn dal_inputs_and_negative_levels_prove_nothing() {
    let archive = archive();
    let snapshot = archive.inbox().snapshot();
    let ctx = context(&snapshot, 12);
    let pvm = echo_pvm();
    let (step, _) = prove_step(&pvm, None).unwrap();
    let start = pvm.state_hash().unwrap();
    let with = |input_proof| RefutationProof {
        pvm_step: Bytes(step.as_bytes().to_vec()),
        input_proof: Some(input_proof),
    };
    assert_eq!(
        valid(
            &ctx,
            &start,
            &with(InputProof::RevealProof {
                reveal_proof: RevealProof::DalParametersProof
            })
        ),
        Err(ProofError::DalNotSupported)
    );
    assert_eq!(
        valid(
            &ctx,
            &start,
            &with(InputProof::InboxProof {
                level: -1,
                message_counter: Nat(0),
                serialized_proof: Bytes(vec![]),
            })
        ),
        Err(ProofError::NegativeLevel(-1))
    );
}
