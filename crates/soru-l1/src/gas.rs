//! The gas model, in milligas, after Octez's (protocol alpha): every
//! content pays `manager_operation` (100 gas); the first content of a
//! group also pays the signature check, which grows with the operation's
//! size; each kind then pays what Octez charges for it. Where Octez's cost
//! comes from storage accesses of its context (publish, cement, timeout…),
//! soru charges the constant Octez's regression tests show, so that gas
//! limits computed for Octez work here. Details in `docs/ARCHITECTURE.md`.

use soru_core::encoding::Encode;
use soru_core::keys::Curve;
use soru_core::operation::{InputProof, OperationKind, Refutation, RefutationStep};

/// Milligas per gas unit.
pub const MILLIGAS_PER_GAS: u128 = 1_000;

/// Every content pays this first (Octez `Cost_of.manager_operation`).
pub const MANAGER_OPERATION: u128 = 100 * MILLIGAS_PER_GAS;
/// A transfer's own cost (Octez `transfer_operation`).
pub const TRANSFER_OPERATION: u128 = 2_000 * MILLIGAS_PER_GAS;
/// One storage write of Octez's context (`write_access`, before bytes).
pub const STORAGE_WRITE: u128 = 200_000;

/// Checking the group's signature: `32·N` to hash the `N` unsigned bytes,
/// plus the curve's verification cost (Octez `check_signature_cost`).
pub fn signature_cost(curve: Curve, unsigned_length: usize) -> u128 {
    let n = unsigned_length as u128;
    let check = match curve {
        Curve::Ed25519 => n + n / 8 + 65_800,
        Curve::Secp256k1 => n + n / 8 + 51_600,
        Curve::P256 => n + n / 8 + 341_000,
        Curve::Bls => 3 * n + 1_570_000,
    };
    32 * n + check
}

/// Decoding a Micheline expression of `bytes` bytes (Octez's lazy
/// expression cost).
fn decode_micheline(bytes: usize) -> u128 {
    (20 * bytes as u128).max(10)
}

/// Adding one serialized message of `len` bytes to the inbox: serializing,
/// hashing it and its skip-list cell (Octez `cost_add_message`).
pub(crate) fn inbox_message(len: usize) -> u128 {
    let l = len as u128;
    4 * l + 1_276 + 430 + (l + 1) + (l + 1) / 8 + 351
}

/// Deserializing and verifying a proof of `len` bytes.
fn proof(len: usize) -> u128 {
    let l = len as u128;
    7_100 + 6 * l + 103_450 + 7 * l
}

/// The milligas `kind` consumes when applied, without the signature check.
pub fn cost(kind: &OperationKind) -> u128 {
    let specific = match kind {
        OperationKind::Reveal { .. } | OperationKind::Delegation { .. } => 0,
        OperationKind::Transaction {
            parameters,
            destination,
            ..
        } => {
            // Only transfers to implicit accounts pay the flat transfer
            // cost; a contract call pays for what its script does.
            let transfer = match destination {
                soru_core::Contract::Implicit(_) => TRANSFER_OPERATION,
                soru_core::Contract::Originated(_) => 0,
            };
            transfer
                + parameters
                    .as_ref()
                    .map_or(0, |p| decode_micheline(p.value.to_bytes().len()))
        }
        OperationKind::Origination { script, .. } => {
            decode_micheline(script.code.to_bytes().len()) + decode_micheline(script.storage.to_bytes().len())
        }
        OperationKind::SmartRollupOriginate {
            kernel, parameters_ty, ..
        } => {
            let ty = parameters_ty.to_bytes().len() as u128;
            let boot = kernel.0.len() as u128;
            decode_micheline(ty as usize) + 10 + 6 * ty + 13_550 + 3 * boot + boot / 2 + 8 * STORAGE_WRITE + 4 * 6_552
        }
        OperationKind::SmartRollupAddMessages { messages } => {
            // Each message is stored with the external tag (1 byte).
            messages.iter().map(|m| inbox_message(m.0.len() + 1)).sum()
        }
        OperationKind::SmartRollupPublish { .. } => 6_488_858,
        OperationKind::SmartRollupCement { .. } => 4_739_196,
        OperationKind::SmartRollupRecoverBond { .. } => 2_984_418,
        OperationKind::SmartRollupTimeout { .. } => 3_615_625,
        OperationKind::SmartRollupRefute { refutation, .. } => {
            3_615_625
                + match refutation {
                    Refutation::Start { .. } => 0,
                    Refutation::Move {
                        step: RefutationStep::Dissection(chunks),
                        ..
                    } => 10_000 * chunks.len() as u128,
                    Refutation::Move {
                        step: RefutationStep::Proof(step),
                        ..
                    } => {
                        let input = match &step.input_proof {
                            Some(InputProof::InboxProof { serialized_proof, .. }) => serialized_proof.0.len(),
                            _ => 0,
                        };
                        proof(step.pvm_step.0.len() + input)
                    }
                }
        }
        OperationKind::SmartRollupExecuteOutboxMessage { output_proof, .. } => 4_502_000 + proof(output_proof.0.len()),
    };
    MANAGER_OPERATION + specific
}

#[cfg(test)]
mod tests {
    use super::*;
    use soru_core::encoding::Bytes;

    #[test]
    fn add_messages_costs_what_octez_charges() {
        // Octez's regression: one 11-byte message from an ed25519 source, a
        // 79-byte unsigned operation: 170.530 gas.
        let kind = OperationKind::SmartRollupAddMessages {
            messages: vec![Bytes(vec![0; 10])],
        };
        assert_eq!(cost(&kind) + signature_cost(Curve::Ed25519, 79), 170_530);
    }

    #[test]
    fn transfer_costs_what_octez_charges() {
        // Octez's regression: a tz1 → tz1 transfer, about 2 168.8 gas.
        let kind = OperationKind::Transaction {
            amount: 1u64.into(),
            destination: "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap(),
            parameters: None,
        };
        let total = cost(&kind) + signature_cost(Curve::Ed25519, 95);
        assert!((2_168_000..2_170_000).contains(&total), "{total}");
    }
}
