//! Fixed vectors for the operations pytezos cannot forge (delegation and the
//! smart rollup operations 200, 202–205, 207), written field by field from
//! the Octez encodings of protocol T024 (`operation_repr.ml`,
//! `sc_rollup_commitment_repr.ml`, `sc_rollup_game_repr.ml`,
//! `sc_rollup_proof_repr.ml`, `sc_rollup_dissection_chunk_repr.ml`). Each
//! vector lists the fields in wire order with the rule that produced them.

use soru_core::commitment::NumberOfTicks;
use soru_core::encoding::{Bytes, Decode, Encode, Nat};
use soru_core::operation::{
    DissectionChunk, InputProof, ManagerOperation, OperationKind, PvmKind, Refutation, RefutationProof, RefutationStep,
    RevealProof, Stakers,
};
use soru_core::{Commitment, CommitmentHash, PublicKeyHash, SmartRollupAddress, StateHash};

/// bootstrap1 (`tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx`): tag 00 ‖ 20 bytes.
const SOURCE: &str = "00 02298c03ed7d454a101eb7022bc95f7e5f41ac78";
/// bootstrap2 (`tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN`).
const OTHER: &str = "00 e7670f32038107a59a2b9cfefae36ea21f5aa63c";
/// `sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf`: 20 raw bytes, no tag.
const ROLLUP: &str = "74f8952e7a287d78e8dceec67547bd00a278abbf";
/// fee 1000 (n: e8 07) ‖ counter 7 (n: 07) ‖ gas 10000 (n: 90 4e) ‖ storage 0 (n: 00).
const LIMITS: &str = "e807 07 904e 00";

fn op(kind: OperationKind) -> ManagerOperation {
    ManagerOperation {
        source: "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap(),
        fee: Nat(1000),
        counter: Nat(7),
        gas_limit: Nat(10_000),
        storage_limit: Nat(0),
        kind,
    }
}

fn rollup() -> SmartRollupAddress {
    "sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf".parse().unwrap()
}

fn other() -> PublicKeyHash {
    "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN".parse().unwrap()
}

/// Checks `operation` against the concatenated `fields` both ways.
fn check(operation: ManagerOperation, fields: &[(&str, &str)]) {
    let expected: String = fields.iter().map(|(_, hex)| hex.replace(' ', "")).collect();
    assert_eq!(hex::encode(operation.to_bytes()), expected, "fields: {fields:?}");
    let decoded = ManagerOperation::from_bytes(&hex::decode(&expected).unwrap()).unwrap();
    assert_eq!(decoded, operation);
}

fn commitment() -> Commitment {
    Commitment {
        compressed_state: StateHash([0xaa; 32]),
        inbox_level: 300,
        predecessor: CommitmentHash([0xbb; 32]),
        number_of_ticks: NumberOfTicks::new(1 << 47).unwrap(),
    }
}

#[test]
fn delegation() {
    check(
        op(OperationKind::Delegation {
            delegate: Some(other()),
        }),
        &[
            ("tag 110", "6e"),
            ("source", SOURCE),
            ("fee counter gas storage", LIMITS),
            ("delegate: option present", "ff"),
            ("delegate pkh", OTHER),
        ],
    );
    check(
        op(OperationKind::Delegation { delegate: None }),
        &[
            ("tag 110", "6e"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("delegate: none", "00"),
        ],
    );
}

#[test]
fn smart_rollup_originate() {
    check(
        op(OperationKind::SmartRollupOriginate {
            pvm_kind: PvmKind::Wasm,
            kernel: Bytes(vec![0x00, 0x61, 0x73, 0x6d]),
            parameters_ty: "bytes".parse().unwrap(),
            whitelist: Some(vec![other()]),
        }),
        &[
            ("tag 200", "c8"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("pvm_kind wasm_2_0_0 (string_enum index 1)", "01"),
            ("kernel: u32 length", "00000004"),
            ("kernel bytes", "0061736d"),
            ("parameters_ty lazy_expr: u32 length", "00000002"),
            ("Micheline prim, no args (03) bytes (105 = 0x69)", "0369"),
            ("whitelist: option present", "ff"),
            ("whitelist list: u32 byte length (1 × 21)", "00000015"),
            ("whitelisted pkh", OTHER),
        ],
    );
}

#[test]
fn smart_rollup_cement() {
    check(
        op(OperationKind::SmartRollupCement { rollup: rollup() }),
        &[
            ("tag 202", "ca"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("rollup", ROLLUP),
        ],
    );
}

#[test]
fn smart_rollup_publish() {
    check(
        op(OperationKind::SmartRollupPublish {
            rollup: rollup(),
            commitment: commitment(),
        }),
        &[
            ("tag 203", "cb"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("rollup", ROLLUP),
            ("compressed_state (32)", &"aa".repeat(32)),
            ("inbox_level int32 300", "0000012c"),
            ("predecessor (32)", &"bb".repeat(32)),
            ("number_of_ticks int64 2^47", "0000800000000000"),
        ],
    );
}

#[test]
fn smart_rollup_refute_start() {
    check(
        op(OperationKind::SmartRollupRefute {
            rollup: rollup(),
            opponent: other(),
            refutation: Refutation::Start {
                player_commitment_hash: CommitmentHash([0x01; 32]),
                opponent_commitment_hash: CommitmentHash([0x02; 32]),
            },
        }),
        &[
            ("tag 204", "cc"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("rollup", ROLLUP),
            ("opponent", OTHER),
            ("refutation: Start (tag 0)", "00"),
            ("player_commitment_hash", &"01".repeat(32)),
            ("opponent_commitment_hash", &"02".repeat(32)),
        ],
    );
}

#[test]
fn smart_rollup_refute_dissection() {
    check(
        op(OperationKind::SmartRollupRefute {
            rollup: rollup(),
            opponent: other(),
            refutation: Refutation::Move {
                choice: Nat(0),
                step: RefutationStep::Dissection(vec![
                    DissectionChunk {
                        state: Some(StateHash([0x03; 32])),
                        tick: Nat(0),
                    },
                    DissectionChunk {
                        state: None,
                        tick: Nat(300),
                    },
                ]),
            },
        }),
        &[
            ("tag 204", "cc"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("rollup", ROLLUP),
            ("opponent", OTHER),
            ("refutation: Move (tag 1)", "01"),
            ("choice: tick n 0", "00"),
            ("step: Dissection (tag 0)", "00"),
            ("chunks: u32 byte length (34 + 3)", "00000025"),
            ("chunk 1 state: present", "ff"),
            ("chunk 1 state hash", &"03".repeat(32)),
            ("chunk 1 tick n 0", "00"),
            ("chunk 2 state: absent", "00"),
            ("chunk 2 tick n 300", "ac02"),
        ],
    );
}

#[test]
fn smart_rollup_refute_proofs() {
    check(
        op(OperationKind::SmartRollupRefute {
            rollup: rollup(),
            opponent: other(),
            refutation: Refutation::Move {
                choice: Nat(128),
                step: RefutationStep::Proof(RefutationProof {
                    pvm_step: Bytes(vec![0xde, 0xad]),
                    input_proof: Some(InputProof::InboxProof {
                        level: 5,
                        message_counter: Nat(1),
                        serialized_proof: Bytes(vec![0xbe, 0xef]),
                    }),
                }),
            },
        }),
        &[
            ("tag 204", "cc"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("rollup", ROLLUP),
            ("opponent", OTHER),
            ("refutation: Move", "01"),
            ("choice: tick n 128", "8001"),
            ("step: Proof (tag 1)", "01"),
            ("pvm_step: u32 length + bytes", "00000002 dead"),
            ("input_proof: present", "ff"),
            ("inbox proof (tag 0)", "00"),
            ("level int32 5", "00000005"),
            ("message_counter n 1", "01"),
            ("serialized_proof: u32 length + bytes", "00000002 beef"),
        ],
    );
    check(
        op(OperationKind::SmartRollupRefute {
            rollup: rollup(),
            opponent: other(),
            refutation: Refutation::Move {
                choice: Nat(3),
                step: RefutationStep::Proof(RefutationProof {
                    pvm_step: Bytes(vec![]),
                    input_proof: Some(InputProof::RevealProof {
                        reveal_proof: RevealProof::RawDataProof {
                            raw_data: Bytes(b"abc".to_vec()),
                        },
                    }),
                }),
            },
        }),
        &[
            ("tag 204", "cc"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("rollup", ROLLUP),
            ("opponent", OTHER),
            ("refutation: Move", "01"),
            ("choice n 3", "03"),
            ("step: Proof", "01"),
            ("pvm_step: empty", "00000000"),
            ("input_proof: present", "ff"),
            ("reveal proof (tag 1)", "01"),
            ("raw data proof (tag 0)", "00"),
            ("raw_data: uint16 length + bytes", "0003 616263"),
        ],
    );
    for (proof, hex) in [
        (InputProof::FirstInput, "02"),
        (
            InputProof::RevealProof {
                reveal_proof: RevealProof::MetadataProof,
            },
            "0101",
        ),
        (
            InputProof::RevealProof {
                reveal_proof: RevealProof::DalParametersProof,
            },
            "0103",
        ),
    ] {
        assert_eq!(hex::encode(proof.to_bytes()), hex);
        assert_eq!(InputProof::from_bytes(&hex::decode(hex).unwrap()).unwrap(), proof);
    }
}

#[test]
fn smart_rollup_timeout_and_recover_bond() {
    check(
        op(OperationKind::SmartRollupTimeout {
            rollup: rollup(),
            stakers: Stakers::new(other(), "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap()),
        }),
        &[
            ("tag 205", "cd"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("rollup", ROLLUP),
            ("alice: the smaller pkh", SOURCE),
            ("bob", OTHER),
        ],
    );
    check(
        op(OperationKind::SmartRollupRecoverBond {
            rollup: rollup(),
            staker: other(),
        }),
        &[
            ("tag 207", "cf"),
            ("source", SOURCE),
            ("limits", LIMITS),
            ("rollup", ROLLUP),
            ("staker", OTHER),
        ],
    );
}

#[test]
fn json_forms_use_octez_field_names() {
    let publish = op(OperationKind::SmartRollupPublish {
        rollup: rollup(),
        commitment: commitment(),
    });
    let json = serde_json::to_value(&publish).unwrap();
    assert_eq!(json["kind"], "smart_rollup_publish");
    assert_eq!(json["fee"], "1000");
    assert_eq!(json["rollup"], "sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf");
    assert_eq!(json["commitment"]["inbox_level"], 300);
    assert_eq!(json["commitment"]["number_of_ticks"], "140737488355328");
    let refute = serde_json::json!({
        "kind": "smart_rollup_refute", "source": "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx",
        "fee": "1000", "counter": "7", "gas_limit": "10000", "storage_limit": "0",
        "rollup": "sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf", "opponent": "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN",
        "refutation": {"refutation_kind": "move", "choice": "0", "step": [
            {"state": StateHash([3; 32]).to_string(), "tick": "0"}, {"tick": "300"}
        ]}
    });
    let parsed: ManagerOperation = serde_json::from_value(refute.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), refute);
    let timeout = serde_json::to_value(op(OperationKind::SmartRollupTimeout {
        rollup: rollup(),
        stakers: Stakers::new(other(), "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap()),
    }))
    .unwrap();
    assert_eq!(timeout["stakers"]["alice"], "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx");
}
