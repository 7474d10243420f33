//! Inbox and outbox messages cross-checked against the official kernel SDK
//! (`tezos-smart-rollup-encoding` 0.2.2): random messages of every kind are
//! encoded by soru and decoded by the SDK, and encoded by the SDK and decoded
//! by soru; plus every vector of `sdk_message_vectors.jsonl`, which the SDK
//! produced.
//!
//! The SDK does not model protocol-migration inbox messages or typed outbox
//! batches; those are checked against layouts derived from the Octez
//! encodings in `inbox_and_outbox_layouts`.

use num_bigint::BigInt;
use proptest::prelude::*;
use serde_json::Value;
use soru_core::encoding::{Decode, Encode};
use soru_core::inbox::{InfoPerLevel, InternalMessage, TargetedExternal, Transfer};
use soru_core::outbox::{OutboxTransaction, TypedOutboxTransaction};
use soru_core::time::Timestamp;
use soru_core::{InboxMessage, Micheline, OutboxMessage};
use tezos_data_encoding::enc::BinWriter;
use tezos_data_encoding::nom::NomReader;
use tezos_data_encoding::types::Zarith;
use tezos_smart_rollup_encoding as sdk;
use tezos_smart_rollup_encoding::michelson::{
    MichelsonBytes, MichelsonInt, MichelsonOption, MichelsonOr, MichelsonPair, MichelsonString, MichelsonUnit,
};

/// The Michelson shape used for transfer payloads and outbox parameters:
/// `pair int (or bytes (option string))`, or `unit`.
type SdkValue = MichelsonPair<MichelsonInt, MichelsonOr<MichelsonBytes, MichelsonOption<MichelsonString>>>;

#[derive(Debug, Clone)]
struct Value3 {
    int: i64,
    choice: Result<Vec<u8>, Option<String>>,
}

fn prim(name: &str, args: Vec<Micheline>) -> Micheline {
    Micheline::prim(name, args).unwrap()
}

impl Value3 {
    fn ours(&self) -> Micheline {
        let right = match &self.choice {
            Ok(bytes) => prim("Left", vec![Micheline::Bytes(bytes.clone())]),
            Err(None) => prim("Right", vec![prim("None", vec![])]),
            Err(Some(s)) => prim("Right", vec![prim("Some", vec![Micheline::String(s.clone())])]),
        };
        prim("Pair", vec![Micheline::int(self.int), right])
    }

    fn sdk(&self) -> SdkValue {
        let right = match &self.choice {
            Ok(bytes) => MichelsonOr::Left(MichelsonBytes(bytes.clone())),
            Err(opt) => MichelsonOr::Right(MichelsonOption(opt.clone().map(MichelsonString))),
        };
        MichelsonPair(MichelsonInt(Zarith(self.int.into())), right)
    }
}

fn arb_value() -> impl Strategy<Value = Value3> {
    (
        any::<i64>(),
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Ok),
            proptest::option::of("[a-zA-Z0-9 ]{0,20}").prop_map(Err),
        ],
    )
        .prop_map(|(int, choice)| Value3 { int, choice })
}

fn arb_kt1() -> impl Strategy<Value = [u8; 20]> {
    any::<[u8; 20]>()
}

fn sdk_kt1(bytes: [u8; 20]) -> tezos_crypto_rs::hash::ContractKt1Hash {
    tezos_crypto_rs::hash::ContractKt1Hash(bytes.to_vec())
}

fn sdk_rollup(bytes: [u8; 20]) -> sdk::smart_rollup::SmartRollupAddress {
    sdk::smart_rollup::SmartRollupAddress::new(tezos_crypto_rs::hash::SmartRollupHash(bytes.to_vec()))
}

fn sdk_pkh(bytes: [u8; 20]) -> sdk::public_key_hash::PublicKeyHash {
    sdk::public_key_hash::PublicKeyHash::Ed25519(tezos_crypto_rs::hash::ContractTz1Hash(bytes.to_vec()))
}

fn sdk_inbox_bytes(message: sdk::inbox::InboxMessage<'_, SdkValue>) -> Vec<u8> {
    let mut out = Vec::new();
    message.serialize(&mut out).unwrap();
    out
}

#[derive(Debug, Clone)]
enum InboxCase {
    External(Vec<u8>),
    Transfer(Value3, [u8; 20], [u8; 20], [u8; 20]),
    StartOfLevel,
    EndOfLevel,
    InfoPerLevel(i64, [u8; 32]),
}

fn arb_inbox() -> impl Strategy<Value = InboxCase> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(InboxCase::External),
        (arb_value(), arb_kt1(), any::<[u8; 20]>(), any::<[u8; 20]>())
            .prop_map(|(v, kt1, tz1, sr1)| InboxCase::Transfer(v, kt1, tz1, sr1)),
        Just(InboxCase::StartOfLevel),
        Just(InboxCase::EndOfLevel),
        (0i64..4_000_000_000, any::<[u8; 32]>()).prop_map(|(t, b)| InboxCase::InfoPerLevel(t, b)),
    ]
}

impl InboxCase {
    fn ours(&self) -> InboxMessage {
        match self {
            InboxCase::External(b) => InboxMessage::External(b.clone()),
            InboxCase::Transfer(v, kt1, tz1, sr1) => InboxMessage::Internal(InternalMessage::Transfer(Transfer {
                payload: v.ours(),
                sender: soru_core::ContractKt1Hash(*kt1),
                source: soru_core::PublicKeyHash::ed25519(*tz1),
                destination: soru_core::SmartRollupAddress(*sr1),
            })),
            InboxCase::StartOfLevel => InboxMessage::Internal(InternalMessage::StartOfLevel),
            InboxCase::EndOfLevel => InboxMessage::Internal(InternalMessage::EndOfLevel),
            InboxCase::InfoPerLevel(t, b) => InboxMessage::Internal(InternalMessage::InfoPerLevel(InfoPerLevel {
                predecessor_timestamp: Timestamp::from_seconds(*t),
                predecessor: soru_core::BlockHash(*b),
            })),
        }
    }

    fn sdk_bytes(&self) -> Vec<u8> {
        use sdk::inbox::{InboxMessage as M, InternalInboxMessage as I};
        match self {
            InboxCase::External(b) => sdk_inbox_bytes(M::External(b)),
            InboxCase::Transfer(v, kt1, tz1, sr1) => sdk_inbox_bytes(M::Internal(I::Transfer(sdk::inbox::Transfer {
                payload: v.sdk(),
                sender: sdk_kt1(*kt1),
                source: sdk_pkh(*tz1),
                destination: sdk_rollup(*sr1),
            }))),
            InboxCase::StartOfLevel => sdk_inbox_bytes(M::Internal(I::StartOfLevel)),
            InboxCase::EndOfLevel => sdk_inbox_bytes(M::Internal(I::EndOfLevel)),
            InboxCase::InfoPerLevel(t, b) => sdk_inbox_bytes(M::Internal(I::InfoPerLevel(sdk::inbox::InfoPerLevel {
                predecessor_timestamp: sdk::timestamp::Timestamp::from(*t),
                predecessor: tezos_crypto_rs::hash::BlockHash(b.to_vec()),
            }))),
        }
    }
}

fn sdk_entrypoint(name: &str) -> sdk::entrypoint::Entrypoint {
    sdk::entrypoint::Entrypoint::try_from(name.to_string()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inbox_messages_agree_with_the_sdk(case in arb_inbox()) {
        let ours = case.ours();
        let sdk_bytes = case.sdk_bytes();
        // soru → SDK
        prop_assert_eq!(ours.to_bytes(), sdk_bytes.clone());
        let our_bytes = ours.to_bytes();
        let (rest, parsed) = sdk::inbox::InboxMessage::<SdkValue>::parse(&our_bytes).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(sdk_inbox_bytes(parsed), sdk_bytes.clone());
        // SDK → soru
        prop_assert_eq!(InboxMessage::from_bytes(&sdk_bytes).unwrap(), ours.clone());
        prop_assert_eq!(InboxMessage::from_json(&ours.to_json()).unwrap(), ours);
    }

    #[test]
    fn outbox_batches_agree_with_the_sdk(
        txs in proptest::collection::vec((arb_value(), arb_kt1(), "[a-z_]{1,31}"), 1..5),
    ) {
        let ours = OutboxMessage::AtomicTransactionBatch(
            txs.iter()
                .map(|(v, kt1, ep)| OutboxTransaction {
                    parameters: v.ours(),
                    destination: soru_core::ContractKt1Hash(*kt1),
                    entrypoint: ep.clone(),
                })
                .collect(),
        );
        let theirs = sdk::outbox::OutboxMessage::AtomicTransactionBatch(
            txs.iter()
                .map(|(v, kt1, ep)| sdk::outbox::OutboxMessageTransaction {
                    parameters: v.sdk(),
                    destination: sdk::contract::Contract::Originated(sdk_kt1(*kt1)),
                    entrypoint: sdk_entrypoint(ep),
                })
                .collect::<Vec<_>>()
                .into(),
        );
        let mut sdk_bytes = Vec::new();
        theirs.bin_write(&mut sdk_bytes).unwrap();
        prop_assert_eq!(ours.to_bytes(), sdk_bytes.clone());
        let our_bytes = ours.to_bytes();
        let (rest, parsed) = sdk::outbox::OutboxMessage::<SdkValue>::nom_read(&our_bytes).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(parsed, theirs);
        prop_assert_eq!(OutboxMessage::from_bytes(&sdk_bytes).unwrap(), ours.clone());
        prop_assert_eq!(OutboxMessage::from_json(&ours.to_json()).unwrap(), ours);
    }

    #[test]
    fn whitelist_updates_agree_with_the_sdk(list in proptest::option::of(proptest::collection::vec(any::<[u8; 20]>(), 1..6))) {
        let ours = OutboxMessage::WhitelistUpdate(
            list.as_ref().map(|l| l.iter().map(|b| soru_core::PublicKeyHash::ed25519(*b)).collect()),
        );
        let theirs: sdk::outbox::OutboxMessage<MichelsonUnit> = sdk::outbox::OutboxMessage::WhitelistUpdate(
            sdk::outbox::OutboxMessageWhitelistUpdate {
                whitelist: list.as_ref().map(|l| l.iter().map(|b| sdk_pkh(*b)).collect()),
            },
        );
        let mut sdk_bytes = Vec::new();
        theirs.bin_write(&mut sdk_bytes).unwrap();
        prop_assert_eq!(ours.to_bytes(), sdk_bytes.clone());
        let (_, parsed) = sdk::outbox::OutboxMessage::<MichelsonUnit>::nom_read(&ours.to_bytes()).unwrap();
        prop_assert_eq!(parsed, theirs);
        prop_assert_eq!(OutboxMessage::from_bytes(&sdk_bytes).unwrap(), ours.clone());
        prop_assert_eq!(OutboxMessage::from_json(&ours.to_json()).unwrap(), ours);
    }

    #[test]
    fn external_frames_agree_with_the_sdk(address in any::<[u8; 20]>(), contents in proptest::collection::vec(any::<u8>(), 0..64)) {
        let ours = TargetedExternal { address: soru_core::SmartRollupAddress(address), contents: contents.clone() };
        let theirs = sdk::inbox::ExternalMessageFrame::Targetted { address: sdk_rollup(address), contents: contents.as_slice() };
        let mut sdk_bytes = Vec::new();
        theirs.bin_write(&mut sdk_bytes).unwrap();
        prop_assert_eq!(ours.to_bytes(), sdk_bytes.clone());
        prop_assert_eq!(TargetedExternal::from_bytes(&sdk_bytes).unwrap(), ours);
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = InboxMessage::from_bytes(&bytes);
        let _ = OutboxMessage::from_bytes(&bytes);
        let _ = Micheline::from_bytes(&bytes);
        let _ = soru_core::Commitment::from_bytes(&bytes);
        let _ = soru_core::operation::ManagerOperation::from_bytes(&bytes);
        let _ = soru_core::operation::SignedOperation::from_bytes(&bytes);
        let _ = soru_core::operation::UnsignedOperation::unforge(&bytes);
        let _ = soru_core::PublicKey::from_bytes(&bytes);
        let _ = TargetedExternal::from_bytes(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mutated_valid_input(seed in 0usize..10_000, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let samples = valid_samples();
        let mut bytes = samples[seed % samples.len()].clone();
        for (pos, value) in flips {
            if !bytes.is_empty() {
                let i = pos % bytes.len();
                bytes[i] = value;
            }
        }
        let _ = InboxMessage::from_bytes(&bytes);
        let _ = OutboxMessage::from_bytes(&bytes);
        let _ = soru_core::operation::SignedOperation::from_bytes(&bytes);
        let _ = soru_core::operation::UnsignedOperation::unforge(&bytes);
    }

    #[test]
    fn base58_decoders_never_panic(text in "[1-9A-HJ-NP-Za-km-z]{0,120}") {
        let _ = soru_core::base58::decode_raw(&text);
        let _ = soru_core::PublicKeyHash::from_base58(&text);
        let _ = soru_core::PublicKey::from_base58(&text);
        let _ = soru_core::Signature::from_base58(&text);
        let _ = soru_core::SecretKey::from_base58(&text);
        let _ = soru_core::SmartRollupAddress::from_base58(&text);
    }
}

fn valid_samples() -> Vec<Vec<u8>> {
    let mut samples: Vec<Vec<u8>> = sdk_vectors().into_iter().map(|(_, _, bytes)| bytes).collect();
    let pytezos: Value = serde_json::from_str(include_str!("vectors/pytezos.json")).unwrap();
    for op in pytezos["operations"].as_array().unwrap() {
        samples.push(hex::decode(op["signed_hex"].as_str().unwrap()).unwrap());
    }
    samples
}

/// (kind, name, bytes) of every SDK-produced vector.
fn sdk_vectors() -> Vec<(String, String, Vec<u8>)> {
    include_str!("vectors/sdk_message_vectors.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            (
                v["kind"].as_str().unwrap().to_string(),
                v["name"].as_str().unwrap().to_string(),
                hex::decode(v["hex"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_sdk_vector_decodes_and_re_encodes() {
    let vectors = sdk_vectors();
    assert_eq!(vectors.len(), 8);
    for (kind, name, bytes) in vectors {
        let re_encoded = match kind.as_str() {
            "inbox" => InboxMessage::from_bytes(&bytes).map(|m| m.to_bytes()),
            "outbox" => OutboxMessage::from_bytes(&bytes).map(|m| m.to_bytes()),
            "external_frame" => TargetedExternal::from_bytes(&bytes).map(|m| m.to_bytes()),
            other => panic!("unknown vector kind {other}"),
        }
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(re_encoded, bytes, "{name}");
    }
}

#[test]
fn sdk_vectors_match_the_shared_copy() {
    // The vectors are copied from ../shared/vectors so the crate tests alone;
    // where the shared directory is present, the copy must not have drifted.
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/sdk_message_vectors.jsonl"
    );
    if let Ok(text) = std::fs::read_to_string(shared) {
        assert_eq!(text, include_str!("vectors/sdk_message_vectors.jsonl"));
    }
}

#[test]
fn sdk_vectors_decode_to_the_documented_values() {
    let find = |name: &str| sdk_vectors().into_iter().find(|(_, n, _)| n == name).unwrap().2;
    let transfer = InboxMessage::from_bytes(&find("transfer_bytes")).unwrap();
    let json = transfer.to_json();
    assert_eq!(json["sender"], "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y");
    assert_eq!(json["source"], "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx");
    assert_eq!(json["destination"], "sr1UNDWPUYVeomgG15wn5jSw689EJ4RNnVQa");
    assert_eq!(json["payload"]["bytes"], "68656c6c6f");
    let info = InboxMessage::from_bytes(&find("info_per_level")).unwrap().to_json();
    assert_eq!(info["predecessor_timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(
        info["predecessor"],
        "BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2"
    );
    let batch = OutboxMessage::from_bytes(&find("batch_1_pair_int_bytes")).unwrap();
    let OutboxMessage::AtomicTransactionBatch(txs) = &batch else {
        panic!("{batch:?}")
    };
    assert_eq!(txs[0].entrypoint, "mint");
    assert_eq!(txs[0].parameters.to_string(), "Pair 42 0xdead");
}

#[test]
fn inbox_and_outbox_layouts() {
    // Protocol migration (`00 04 ‖ u32 length ‖ name`) and typed batches are
    // not in the SDK; these bytes follow sc_rollup_inbox_message_repr.ml and
    // sc_rollup_outbox_message_repr.ml field by field.
    let migration = InboxMessage::Internal(InternalMessage::ProtocolMigration("t024_024".into()));
    assert_eq!(
        hex::encode(migration.to_bytes()),
        "00040000000874303234 5f303234".replace(' ', "")
    );
    let typed = OutboxMessage::TypedTransactionBatch(vec![TypedOutboxTransaction {
        transaction: OutboxTransaction {
            parameters: Micheline::Int(BigInt::from(37)),
            destination: "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y".parse().unwrap(),
            entrypoint: "default".into(),
        },
        parameters_ty: "int".parse().unwrap(),
    }]);
    // tag 01 ‖ list length ‖ 00 25 (37) ‖ 03 5b (int) ‖ 01 KT1 00 ‖ "default"
    assert_eq!(
        hex::encode(typed.to_bytes()),
        "0100000025 0025 035b 0115edad279f55e2fe4011de6d2c24fdf51bf225c500 0000000764656661756c74".replace(' ', "")
    );
    assert_eq!(OutboxMessage::from_bytes(&typed.to_bytes()).unwrap(), typed);
}
