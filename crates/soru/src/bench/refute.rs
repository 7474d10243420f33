//! Part of `soru bench proofs`: the largest `refute` operations a player
//! may have to send, signed, against the 32 768-byte operation limit:
//!
//! - reading a 4 096-byte message that is the first of 100 000 in its
//!   level (so its message proof walks down from the level's end), 20 000
//!   levels before the game's inbox snapshot (a long inclusion proof);
//! - answering a reveal with a 4 096-byte preimage.
//!
//! Each proof is checked with soru-protocol's `valid` (the L1's own check)
//! before its operation is measured.

use anyhow::{bail, Result};
use soru_core::base58::{BlockHash, SmartRollupAddress};
use soru_core::encoding::{Bytes, Nat};
use soru_core::inbox::InfoPerLevel;
use soru_core::keys::SecretKey;
use soru_core::operation::{
    InputProof, ManagerOperation, OperationKind, Refutation, RefutationProof, RefutationStep, RevealProof,
    UnsignedOperation, MAX_OPERATION_SIZE,
};
use soru_protocol::inbox::InboxArchive;
use soru_protocol::inbox_proof::produce;
use soru_protocol::refutation_proof::{valid, ProofContext};
use soru_pvm::step_proof::{prove_step, StepInput};
use soru_pvm::{Input, InputRequest, Pvm, RevealRequest};

/// Levels between the message read and the game's snapshot.
const LEVELS_BACK: u32 = 20_000;
/// Messages in the message's level (it is the first).
const MESSAGES_IN_LEVEL: usize = 100_000;
const ORIGINATION: u32 = 1;

fn info(level: u32) -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: soru_core::time::Timestamp::from_seconds(1_700_000_000 + i64::from(level)),
        predecessor: BlockHash([level as u8; 32]),
    }
}

/// The signed `refute` operation carrying `proof`, in bytes.
fn signed_refute(proof: RefutationProof) -> Result<usize> {
    let key = SecretKey::ed25519_from_seed([11; 32]);
    let opponent = SecretKey::ed25519_from_seed([12; 32]).public_key().hash();
    let operation = UnsignedOperation {
        branch: BlockHash([0x42; 32]),
        contents: vec![ManagerOperation {
            source: key.public_key().hash(),
            fee: Nat(10_000_000),
            counter: Nat(1_000_000_000),
            gas_limit: Nat(1_040_000),
            storage_limit: Nat(60_000),
            kind: OperationKind::SmartRollupRefute {
                rollup: SmartRollupAddress([3; 20]),
                opponent,
                refutation: Refutation::Move {
                    // A tick deep in a long level.
                    choice: Nat(987_654_321_987_654_321),
                    step: RefutationStep::Proof(proof),
                },
            },
        }],
    };
    match operation.sign(&key) {
        Ok(signed) => Ok(signed.to_bytes().len()),
        Err(e) => bail!("the refute operation cannot be signed: {e}"),
    }
}

/// The refute reading a 4 096-byte message deep in the inbox history.
fn deep_inbox_message() -> Result<String> {
    let mut archive = InboxArchive::genesis(ORIGINATION, info(ORIGINATION), b"\x00\x04\x00\x00\x00\x01x")?;
    let mut big = vec![0x01];
    big.extend((0..4095).map(|i| (i % 251) as u8));
    let mut level_messages = vec![big];
    level_messages.extend((1..MESSAGES_IN_LEVEL).map(|i| format!("\x01m{i}").into_bytes()));
    let level = ORIGINATION + 1;
    archive.add_level(info(level), None, &level_messages)?;
    for l in level + 1..=level + LEVELS_BACK {
        archive.add_level(info(l), None, &[])?;
    }
    let snapshot = archive.inbox().snapshot();
    // The big message sits after SOL and Info_per_level.
    let counter = 2;
    let (inbox_proof, input) = produce(&archive, &snapshot, level, counter)?;
    let Some(input) = input else {
        bail!("no message at ({level}, {counter})")
    };
    if input.payload.len() != 4096 {
        bail!("the proven message has {} bytes", input.payload.len());
    }

    // A PVM that has read up to the message before, waiting for it.
    let echo = include_bytes!("../../../../kernels/wasm/echo.wasm");
    let mut pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), echo)?;
    pvm.set_input(Input {
        level,
        counter: counter - 1,
        payload: vec![0x01, 0x00],
    })?;
    if pvm.input_request()
        != (InputRequest::FirstAfter {
            level,
            counter: counter - 1,
        })
    {
        bail!("the PVM waits for {:?}", pvm.input_request());
    }
    let message = Input {
        level: input.level,
        counter: input.counter,
        payload: input.payload,
    };
    let (step, verdict) = prove_step(&pvm, Some(StepInput::Message(message)))?;
    let serialized = inbox_proof.to_bytes();
    let proof = RefutationProof {
        pvm_step: Bytes(step.as_bytes().to_vec()),
        input_proof: Some(InputProof::InboxProof {
            level: level as i32,
            message_counter: Nat(u128::from(counter - 1)),
            serialized_proof: Bytes(serialized.clone()),
        }),
    };
    let ctx = ProofContext {
        inbox_snapshot: &snapshot,
        origination_level: ORIGINATION,
        commit_inbox_level: level + LEVELS_BACK,
        rollup: SmartRollupAddress([3; 20]),
    };
    if valid(&ctx, &pvm.state_hash()?, &proof)? != verdict.stop {
        bail!("the refutation proof does not prove the step");
    }
    let operation = signed_refute(proof)?;
    Ok(format!(
        "refute with an inbox proof (4096-byte message, first of {MESSAGES_IN_LEVEL} in its level, {LEVELS_BACK} levels back): \
         pvm_step {} B, inbox proof {} B ({} history cells, {} message cells), signed operation {operation} B (limit {MAX_OPERATION_SIZE})",
        step.len(),
        serialized.len(),
        inbox_proof.inclusion_proof.len(),
        inbox_proof.message_proof.proof.len(),
    ))
}

/// The refute answering a reveal with a 4 096-byte preimage.
fn large_reveal() -> Result<String> {
    let preimage: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    let hash = soru_core::RevealHash::of_preimage(&preimage);
    let escaped: String = hash.to_tagged_bytes().iter().map(|b| format!("\\{b:02x}")).collect();
    let wat = format!(
        r#"(module
  (import "smart_rollup_core" "reveal_preimage" (func $reveal (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{escaped}")
  (func (export "kernel_run")
    (drop (call $reveal (i32.const 0) (i32.const 33) (i32.const 64) (i32.const 4096)))))"#
    );
    let kernel = wat::parse_str(&wat)?;
    let mut pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), &kernel)?;
    let info = info(ORIGINATION + 1);
    for input in soru_pvm::inbox::external_level_inputs(ORIGINATION + 1, info, &[]) {
        pvm.set_input(input)?;
    }
    pvm.run_until_input(u128::MAX)?;
    if pvm.input_request() != InputRequest::Reveal(RevealRequest::RawData(hash)) {
        bail!("the kernel waits for {:?}", pvm.input_request());
    }
    let (step, verdict) = prove_step(&pvm, Some(StepInput::Reveal(preimage.clone())))?;
    let proof = RefutationProof {
        pvm_step: Bytes(step.as_bytes().to_vec()),
        input_proof: Some(InputProof::RevealProof {
            reveal_proof: RevealProof::RawDataProof {
                raw_data: Bytes(preimage),
            },
        }),
    };
    let archive = InboxArchive::genesis(ORIGINATION, self::info(ORIGINATION), b"\x00\x04\x00\x00\x00\x01x")?;
    let snapshot = archive.inbox().snapshot();
    let ctx = ProofContext {
        inbox_snapshot: &snapshot,
        origination_level: ORIGINATION,
        commit_inbox_level: ORIGINATION + 1,
        rollup: SmartRollupAddress([3; 20]),
    };
    if valid(&ctx, &pvm.state_hash()?, &proof)? != verdict.stop {
        bail!("the refutation proof does not prove the reveal");
    }
    let operation = signed_refute(proof)?;
    Ok(format!(
        "refute with a 4096-byte reveal: pvm_step {} B, signed operation {operation} B (limit {MAX_OPERATION_SIZE})",
        step.len()
    ))
}

/// The report lines.
pub fn run() -> Result<Vec<String>> {
    Ok(vec![deep_inbox_message()?, large_reveal()?])
}

#[cfg(test)]
mod tests {
    /// Both operations are built, checked by the L1's rules and signed
    /// (signing refuses operations over the limit).
    #[test]
    fn the_largest_refute_operations_fit_the_limit() {
        for line in super::run().unwrap() {
            eprintln!("{line}");
        }
    }
}
