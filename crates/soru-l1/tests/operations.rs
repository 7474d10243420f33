//! Operation checks and application on an in-process chain: every refusal
//! leaves the ledger as it was; failing contents backtrack their group and
//! only the fees stay paid.

use soru_core::base58::BlockHash;
use soru_core::encoding::{Bytes, Nat};
use soru_core::keys::watermark;
use soru_core::operation::{ManagerOperation, OperationKind, SignedOperation, UnsignedOperation};
use soru_core::time::Timestamp;
use soru_core::SecretKey;
use soru_l1::{Chain, ChainConfig, L1Error};

mod common;

use common::{fresh_key, key, originate_echo, transfer, Sandbox};

#[test]
fn a_transfer_applies_with_fees_and_allocation_burn() {
    let mut s = Sandbox::new();
    let (alice, bob) = (key(0), fresh_key(1).public_key().hash());
    let a = alice.public_key().hash();
    let before = s.balance(&a);
    let supply = s.chain.ledger().total_mutez();
    let op = s.sign(&alice, vec![s.content(&alice, 0, transfer(5_000_000, bob))]);
    s.chain.inject(&op).unwrap();
    s.bake();
    // Fees move to the baker; only the burn leaves the supply.
    assert_eq!(supply - s.chain.ledger().total_mutez(), 257 * 250);
    let baker = SecretKey::from_base58(&s.chain.config().baker_secret_key).unwrap();
    assert_eq!(s.balance(&baker.public_key().hash()), 10_000);
    let block = s.chain.stored(&s.chain.head().hash).unwrap().unwrap().json;
    assert_eq!(block["metadata"]["balance_updates"][1]["change"], "10000");
    assert_eq!(s.balance(&bob), 5_000_000);
    // Amount, fee and the 257-byte allocation burn.
    assert_eq!(s.balance(&a), before - 5_000_000 - 10_000 - 257 * 250);
    assert_eq!(s.counter(&a), 1);
}

#[test]
fn signed_by_another_key_or_with_another_watermark() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let contents = vec![s.content(&alice, 0, transfer(1, key(1).public_key().hash()))];
    let by_bob = s.sign(&key(1), contents.clone());
    s.refused(&by_bob, "operation.invalid_signature");

    let unsigned = UnsignedOperation {
        branch: s.chain.head().hash,
        contents,
    };
    let signature = alice.sign(&[0x01], &unsigned.forge());
    let wrong_watermark = SignedOperation {
        operation: unsigned.clone(),
        signature,
    }
    .to_bytes();
    s.refused(&wrong_watermark, "operation.invalid_signature");
    // The right watermark passes.
    let right = SignedOperation {
        signature: alice.sign(watermark::GENERIC_OPERATION, &unsigned.forge()),
        operation: unsigned,
    };
    s.chain.inject(&right.to_bytes()).unwrap();
}

#[test]
fn unrevealed_sources_and_bad_reveals() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let fresh = fresh_key(2);
    let fresh_pkh = fresh.public_key().hash();
    let fund = s.sign(&alice, vec![s.content(&alice, 0, transfer(50_000_000, fresh_pkh))]);
    s.chain.inject(&fund).unwrap();
    s.bake();

    // Before its reveal.
    let early = s.sign(
        &fresh,
        vec![s.content(&fresh, 0, transfer(1, alice.public_key().hash()))],
    );
    s.refused(&early, "contract.unrevealed_key");

    // A reveal of a key that does not hash to the source.
    let other = fresh_key(3);
    let bad_reveal = s.sign(
        &other,
        vec![s.content(
            &fresh,
            0,
            OperationKind::Reveal {
                public_key: other.public_key(),
                proof: None,
            },
        )],
    );
    s.refused(&bad_reveal, "contract.manager.inconsistent_hash");

    // A reveal that is not first.
    let reveal = OperationKind::Reveal {
        public_key: fresh.public_key(),
        proof: None,
    };
    let late_reveal = s.sign(
        &fresh,
        vec![
            s.content(&fresh, 0, transfer(1, alice.public_key().hash())),
            s.content(&fresh, 1, reveal.clone()),
        ],
    );
    s.refused(&late_reveal, "validate.operation.incorrect_reveal_position");

    // The real reveal, then a second one.
    let good = s.sign(&fresh, vec![s.content(&fresh, 0, reveal.clone())]);
    s.chain.inject(&good).unwrap();
    s.bake();
    assert!(s.chain.ledger().account(&fresh_pkh).unwrap().manager.is_some());
    let again = s.sign(&fresh, vec![s.content(&fresh, 0, reveal)]);
    s.refused(&again, "contract.previously_revealed_key");
}

#[test]
fn counters_branches_replays_and_balances() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let bob = key(1).public_key().hash();
    let past = s.sign(&alice, vec![s.content(&alice, 0, transfer(1, bob))]);
    s.chain.inject(&past).unwrap();
    s.bake();
    // Replayed after inclusion.
    s.refused(&past, "node.prevalidation.operation_already_included");
    // The counter again, in a new operation: in the past.
    let mut content = s.content(&alice, 0, transfer(2, bob));
    content.counter = Nat(1);
    let old_counter = s.sign(&alice, vec![content]);
    s.refused(&old_counter, "contract.counter_in_the_past");
    let future = s.sign(&alice, vec![s.content(&alice, 3, transfer(1, bob))]);
    s.refused(&future, "contract.counter_in_the_future");

    // Fees over the balance.
    let poor = fresh_key(4);
    let poor_pkh = poor.public_key().hash();
    let fund = s.sign(&alice, vec![s.content(&alice, 0, transfer(5_000, poor_pkh))]);
    s.chain.inject(&fund).unwrap();
    s.bake();
    let reveal = s.sign(
        &poor,
        vec![s.content(
            &poor,
            0,
            OperationKind::Reveal {
                public_key: poor.public_key(),
                proof: None,
            },
        )],
    );
    s.refused(&reveal, "contract.balance_too_low");

    // A branch the chain does not know, and one older than the TTL.
    let mut unknown = UnsignedOperation {
        branch: BlockHash([7; 32]),
        contents: vec![s.content(&alice, 0, transfer(1, bob))],
    };
    let bytes = unknown.clone().sign(&alice).unwrap().to_bytes();
    s.refused(&bytes, "node.prevalidation.outdated_operation");
    unknown.branch = s.chain.block_at(1).unwrap().hash;
    let ttl = s.chain.params().max_operations_time_to_live;
    while s.chain.head().header.level < ttl + 1 {
        s.bake();
    }
    unknown.contents = vec![s.content(&alice, 0, transfer(1, bob))];
    let old = unknown.sign(&alice).unwrap().to_bytes();
    s.refused(&old, "node.prevalidation.outdated_operation");
}

#[test]
fn malformed_oversized_and_over_limit_operations() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let bob = key(1).public_key().hash();
    s.refused(&[1, 2, 3], "node.prevalidation.parse_error");
    let mut garbage = s.sign(&alice, vec![s.content(&alice, 0, transfer(1, bob))]);
    garbage[32] = 0xee; // an unknown content tag
    s.refused(&garbage, "node.prevalidation.parse_error");
    let huge = OperationKind::SmartRollupAddMessages {
        messages: vec![Bytes(vec![0; 4000]); 9],
    };
    let contents = vec![s.content(&alice, 0, huge)];
    let unsigned = UnsignedOperation {
        branch: s.chain.head().hash,
        contents,
    };
    let oversized = SignedOperation {
        signature: alice.sign(watermark::GENERIC_OPERATION, &unsigned.forge()),
        operation: unsigned,
    }
    .to_bytes();
    assert!(oversized.len() > 32_768);
    s.refused(&oversized, "node.prevalidation.oversized_operation");

    let mut content = s.content(&alice, 0, transfer(1, bob));
    content.gas_limit = Nat(2_000_000);
    let too_much_gas = s.sign(&alice, vec![content]);
    s.refused(&too_much_gas, "gas_limit_too_high");
    let mut content = s.content(&alice, 0, transfer(1, bob));
    content.gas_limit = Nat(50);
    let too_little_gas = s.sign(&alice, vec![content]);
    s.refused(&too_little_gas, "validate.operation.insufficient_gas_for_manager");
    let mut content = s.content(&alice, 0, transfer(1, bob));
    content.fee = Nat(1);
    let cheap = s.sign(&alice, vec![content]);
    s.refused(&cheap, "prefilter.fees_too_low");
    // One operation per manager in the mempool.
    let first = s.sign(&alice, vec![s.content(&alice, 0, transfer(1, bob))]);
    s.chain.inject(&first).unwrap();
    let second = s.sign(&alice, vec![s.content(&alice, 0, transfer(2, bob))]);
    let error = s.chain.inject(&second).unwrap_err();
    assert!(
        error.id().ends_with("validate.operation.manager_restriction"),
        "{error}"
    );
}

#[test]
fn a_failing_content_backtracks_its_group_and_only_fees_stay_paid() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let fresh = fresh_key(5);
    let pkh = fresh.public_key().hash();
    let fund = s.sign(&alice, vec![s.content(&alice, 0, transfer(10_000_000_000, pkh))]);
    s.chain.inject(&fund).unwrap();
    s.bake();
    let reveal = OperationKind::Reveal {
        public_key: fresh.public_key(),
        proof: None,
    };

    // Reveal + originate with a storage limit under the rollup's 6 552
    // bytes: the origination fails, the reveal is backtracked.
    let mut originate = s.content(&fresh, 1, originate_echo());
    originate.storage_limit = Nat(100);
    originate.gas_limit = Nat(100_000);
    originate.fee = Nat(100_000);
    let group = s.sign(&fresh, vec![s.content(&fresh, 0, reveal.clone()), originate]);
    let before = s.balance(&pkh);
    let counter = s.counter(&pkh);
    s.chain.inject(&group).unwrap();
    s.bake();
    let account = s.chain.ledger().account(&pkh).unwrap();
    assert!(account.manager.is_none(), "the reveal was backtracked");
    assert_eq!(account.balance, before - 110_000, "only the two fees are paid");
    assert_eq!(account.counter, counter + 2, "counters advance");
    assert_eq!(s.chain.ledger().rollups().count(), 0);
    let block = s.chain.stored(&s.chain.head().hash).unwrap().unwrap().json;
    let contents = &block["operations"][3][0]["contents"];
    assert_eq!(contents[0]["metadata"]["operation_result"]["status"], "backtracked");
    assert_eq!(contents[1]["metadata"]["operation_result"]["status"], "failed");
    let id = contents[1]["metadata"]["operation_result"]["errors"][0]["id"]
        .as_str()
        .unwrap();
    assert!(id.ends_with("storage_exhausted.operation"), "{id}");

    // The seed's group: reveal + originate, applied.
    let mut originate = s.content(&fresh, 1, originate_echo());
    originate.storage_limit = Nat(6_572);
    originate.gas_limit = Nat(100_000);
    originate.fee = Nat(100_000);
    let group = s.sign(&fresh, vec![s.content(&fresh, 0, reveal), originate]);
    let before = s.balance(&pkh);
    s.chain.inject(&group).unwrap();
    s.bake();
    let block = s.chain.stored(&s.chain.head().hash).unwrap().unwrap().json;
    let result = &block["operations"][3][0]["contents"][1]["metadata"]["operation_result"];
    assert_eq!(result["status"], "applied", "{result}");
    assert_eq!(result["size"], "6552");
    assert!(result["address"].as_str().unwrap().starts_with("sr1"));
    assert!(result["genesis_commitment_hash"].as_str().unwrap().starts_with("src1"));
    assert_eq!(s.balance(&pkh), before - 110_000 - 6_552 * 250);
    assert_eq!(s.chain.ledger().rollups().count(), 1);

    // A transfer over the balance fails at application; fee paid.
    let overdraft = s.sign(
        &fresh,
        vec![s.content(&fresh, 0, transfer(u64::MAX / 2, key(1).public_key().hash()))],
    );
    let before = s.balance(&pkh);
    s.chain.inject(&overdraft).unwrap();
    s.bake();
    assert_eq!(s.balance(&pkh), before - 10_000);
}

#[test]
fn a_restart_replays_the_same_chain() {
    let dir = tempfile::tempdir().unwrap();
    let config = ChainConfig::new("sandbox", 1_700_000_000).unwrap();
    let (head, state) = {
        let mut chain = Chain::open(dir.path(), config.clone()).unwrap();
        let alice = key(0);
        for i in 0..5u64 {
            let content = ManagerOperation {
                source: alice.public_key().hash(),
                fee: Nat(10_000),
                counter: Nat(u128::from(i) + 1),
                gas_limit: Nat(20_000),
                storage_limit: Nat(1_000),
                kind: transfer(1_000_000 + i, fresh_key(10 + i as u8).public_key().hash()),
            };
            let op = UnsignedOperation {
                branch: chain.head().hash,
                contents: vec![content],
            }
            .sign(&alice)
            .unwrap();
            chain.inject(&op.to_bytes()).unwrap();
            chain.bake(Timestamp::from_seconds(1_700_000_010 + i as i64)).unwrap();
        }
        (
            chain.head().hash,
            format!("{:?}", chain.ledger().accounts().collect::<Vec<_>>()),
        )
    };
    let chain = Chain::open(dir.path(), config).unwrap();
    assert_eq!(chain.head().hash, head);
    assert_eq!(format!("{:?}", chain.ledger().accounts().collect::<Vec<_>>()), state);
}

#[test]
fn unknown_errors_are_named() {
    let e = L1Error::EmptyImplicitContract(key(0).public_key().hash());
    assert_eq!(e.to_json()["id"], "proto.alpha.implicit.empty_implicit_contract");
}
