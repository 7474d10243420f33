//! Michelson contracts on an in-process chain: origination and calls with
//! Octez's receipts, internal operations (to accounts, contracts and
//! rollups), the ticket table, and failures (type errors, FAILWITH, gas
//! exhaustion, overflow, ticket misuse) that change nothing but the fees.

mod common;

use common::{key, originate_echo, Sandbox};
use num_bigint::BigInt;
use serde_json::Value as Json;
use soru_core::base58::{ContractKt1Hash, SmartRollupAddress};
use soru_core::encoding::{Bytes, Encode, Nat};
use soru_core::inbox::{InboxMessage, InternalMessage, Transfer};
use soru_core::micheline::Micheline;
use soru_core::operation::{OperationKind, Parameters, PvmKind, Script};
use soru_core::{Contract, PublicKeyHash, SecretKey};
use soru_l1::tickets::TicketToken;
use soru_michelson::{script_from_text, Address, Destination, Type, Value};

/// The fee of every operation here (over the minimum for 100 000 gas and
/// a 30 kB kernel).
const FEE: u64 = 100_000;

const BRIDGE_KERNEL: &[u8] = include_bytes!("../../../kernels/wasm/bridge.wasm");

fn contract_source(name: &str) -> String {
    let path = format!("{}/../../contracts/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn expr(text: &str) -> Micheline {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The receipts of the head block's manager operation contents.
fn head_contents(s: &Sandbox) -> Vec<Json> {
    let block = s.chain.stored(&s.chain.head().hash).unwrap().unwrap().json;
    block["operations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|pass| pass.as_array().cloned().unwrap_or_default())
        .flat_map(|op| op["contents"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Injects one content from `signer`, bakes, and returns its metadata.
fn run(s: &mut Sandbox, signer: &SecretKey, kind: OperationKind) -> Json {
    let mut content = s.content(signer, 0, kind);
    content.fee = Nat(FEE.into());
    content.gas_limit = Nat(100_000);
    content.storage_limit = Nat(20_000);
    let op = s.sign(signer, vec![content]);
    s.chain.inject(&op).unwrap();
    s.bake();
    let contents = head_contents(s);
    assert_eq!(contents.len(), 1, "one operation per block here");
    contents[0]["metadata"].clone()
}

fn status(metadata: &Json) -> &str {
    metadata["operation_result"]["status"].as_str().unwrap()
}

fn error_ids(metadata: &Json) -> Vec<String> {
    metadata["operation_result"]["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn originate(s: &mut Sandbox, signer: &SecretKey, code: &str, storage: &str, balance: u64) -> (ContractKt1Hash, Json) {
    let kind = OperationKind::Origination {
        balance: Nat(balance.into()),
        delegate: None,
        script: Script {
            code: script_from_text(code).unwrap(),
            storage: expr(storage),
        },
    };
    let metadata = run(s, signer, kind);
    assert_eq!(status(&metadata), "applied", "{metadata:#}");
    let address = metadata["operation_result"]["originated_contracts"][0]
        .as_str()
        .unwrap();
    (ContractKt1Hash::from_base58(address).unwrap(), metadata)
}

fn call(s: &mut Sandbox, signer: &SecretKey, kt1: ContractKt1Hash, amount: u64, entrypoint: &str, value: &str) -> Json {
    let kind = OperationKind::Transaction {
        amount: Nat(amount.into()),
        destination: Contract::Originated(kt1),
        parameters: Some(Parameters {
            entrypoint: entrypoint.to_string(),
            value: expr(value),
        }),
    };
    run(s, signer, kind)
}

/// Contracts, their storage and balances, and the ticket table.
fn contracts_state(s: &Sandbox) -> String {
    let ledger = s.chain.ledger();
    let contracts: Vec<String> = ledger
        .contracts()
        .map(|(k, c)| format!("{k}:{}:{:?}:{}", c.balance, c.storage, c.paid_bytes))
        .collect();
    let tickets: Vec<String> = ledger.ticket_rows().map(|r| format!("{r:?}")).collect();
    format!("{contracts:?} {tickets:?}")
}

/// The inbox and head before a block, to predict the block's inbox.
struct LevelStart {
    inbox: soru_protocol::inbox::Inbox,
    info: soru_core::inbox::InfoPerLevel,
}

impl LevelStart {
    fn of(s: &Sandbox) -> Self {
        Self {
            inbox: s.chain.ledger().inbox().clone(),
            info: soru_core::inbox::InfoPerLevel {
                predecessor_timestamp: s.chain.head().header.timestamp,
                predecessor: s.chain.head().hash,
            },
        }
    }

    /// The inbox hash after a level holding `messages`.
    fn inbox_with(&self, messages: &[Vec<u8>]) -> soru_protocol::Hash {
        soru_protocol::inbox::InboxArchive::from_inbox(self.inbox.clone())
            .prepare_level(self.info, None, messages)
            .unwrap()
            .inbox()
            .hash()
    }
}

/// A failed call changed nothing but the fee and counter of its source.
fn failed_with(s: &mut Sandbox, signer: &SecretKey, kind: OperationKind, ids: &[&str]) {
    let source = signer.public_key().hash();
    let before = contracts_state(s);
    let balance = s.balance(&source);
    let counter = s.counter(&source);
    let level_start = LevelStart::of(s);
    let metadata = run(s, signer, kind);
    assert_eq!(status(&metadata), "failed", "{metadata:#}");
    let found = error_ids(&metadata);
    assert_eq!(found.len(), ids.len(), "{found:?}");
    for (id, expected) in found.iter().zip(ids) {
        assert!(id.ends_with(expected), "expected {expected}, got {found:?}");
    }
    assert_eq!(contracts_state(s), before);
    assert_eq!(s.balance(&source), balance - FEE, "only the fee is paid");
    assert_eq!(s.counter(&source), counter + 1);
    assert_eq!(
        s.chain.ledger().inbox().hash(),
        level_start.inbox_with(&[]),
        "the block's inbox holds only SOL, Info_per_level and EOL"
    );
    assert!(metadata["internal_operation_results"].as_array().unwrap().is_empty());
}

#[test]
fn the_go_contract_stores_strings_and_refuses_ints() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let a = alice.public_key().hash();
    let before = s.balance(&a);
    let (go, metadata) = originate(&mut s, &alice, &contract_source("go.tz"), "\"hello\"", 1_000_000);
    let result = &metadata["operation_result"];
    // Octez's own receipt for this script and storage: 46 bytes.
    assert_eq!(result["storage_size"], "46");
    assert_eq!(result["paid_storage_size_diff"], "46");
    // Burns: 46 bytes of storage and the 257-byte allocation; the tez moved.
    assert_eq!(s.balance(&a), before - FEE - 46 * 250 - 257 * 250 - 1_000_000);
    assert_eq!(s.chain.ledger().contract(&go).unwrap().balance, 1_000_000);
    assert_eq!(result["balance_updates"][1]["category"], "storage fees");

    let metadata = call(&mut s, &alice, go, 0, "default", "\"world\"");
    assert_eq!(status(&metadata), "applied", "{metadata:#}");
    assert_eq!(
        metadata["operation_result"]["storage"],
        serde_json::json!({"string": "world"})
    );
    assert_eq!(
        s.chain.ledger().contract(&go).unwrap().storage,
        Value::String("world".into())
    );

    // The seed's outbox example sends 37 to it: ill-typed.
    let int37 = OperationKind::Transaction {
        amount: Nat(0u64.into()),
        destination: Contract::Originated(go),
        parameters: Some(Parameters {
            entrypoint: "default".into(),
            value: expr("37"),
        }),
    };
    failed_with(&mut s, &alice, int37, &["michelson_v1.bad_contract_parameter"]);
    let no_entrypoint = OperationKind::Transaction {
        amount: Nat(0u64.into()),
        destination: Contract::Originated(go),
        parameters: Some(Parameters {
            entrypoint: "nope".into(),
            value: expr("\"x\""),
        }),
    };
    failed_with(&mut s, &alice, no_entrypoint, &["michelson_v1.bad_contract_parameter"]);
}

#[test]
fn failures_change_nothing_but_fees() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let code = "parameter (or (or (unit %fail) (unit %spin)) (or (mutez %overflow) (nat %store))) ;
                storage nat ;
                code { UNPAIR ;
                       IF_LEFT
                         { IF_LEFT { DROP ; PUSH string \"refused\" ; FAILWITH }
                                   { DROP ; PUSH bool True ; LOOP { PUSH bool True } ; NIL operation ; PAIR } }
                         { IF_LEFT { PUSH mutez 9223372036854775807 ; ADD ; DROP ; NIL operation ; PAIR }
                                   { ADD ; NIL operation ; PAIR } } }";
    let (kt1, _) = originate(&mut s, &alice, code, "1", 0);
    let metadata = call(&mut s, &alice, kt1, 500, "store", "41");
    assert_eq!(status(&metadata), "applied");
    assert_eq!(s.chain.ledger().contract(&kt1).unwrap().storage, Value::Int(42.into()));
    assert_eq!(s.chain.ledger().contract(&kt1).unwrap().balance, 500);

    let call_kind = |entrypoint: &str, value: &str, amount: u64| OperationKind::Transaction {
        amount: Nat(amount.into()),
        destination: Contract::Originated(kt1),
        parameters: Some(Parameters {
            entrypoint: entrypoint.into(),
            value: expr(value),
        }),
    };
    failed_with(
        &mut s,
        &alice,
        call_kind("fail", "Unit", 7),
        &["michelson_v1.runtime_error", "michelson_v1.script_rejected"],
    );
    let metadata = {
        let before = s.chain.head().hash;
        failed_with(
            &mut s,
            &alice,
            call_kind("spin", "Unit", 0),
            &["michelson_v1.runtime_error", "gas_exhausted.operation"],
        );
        assert_ne!(before, s.chain.head().hash);
        head_contents(&s)[0]["metadata"].clone()
    };
    assert_eq!(
        metadata["operation_result"]["errors"][0]["contract_handle"],
        kt1.to_base58(),
        "the runtime error names the contract"
    );
    // More tez than anyone has (beyond int64 too): refused, nothing moves.
    failed_with(
        &mut s,
        &alice,
        call_kind("store", "1", 1 << 63),
        &["contract.balance_too_low"],
    );
    failed_with(
        &mut s,
        &alice,
        call_kind("overflow", "1", 0),
        &["michelson_v1.runtime_error", "michelson_v1.script_overflow"],
    );
    // An ill-typed script or storage is refused at origination.
    let ill_typed = |code: &str, storage: &str| OperationKind::Origination {
        balance: Nat(0u64.into()),
        delegate: None,
        script: Script {
            code: script_from_text(code).unwrap(),
            storage: expr(storage),
        },
    };
    failed_with(
        &mut s,
        &alice,
        ill_typed(
            "parameter nat ; storage nat ; code { CAR ; PUSH string \"x\" ; ADD ; NIL operation ; PAIR }",
            "0",
        ),
        &["michelson_v1.ill_typed_contract"],
    );
    failed_with(
        &mut s,
        &alice,
        ill_typed(
            "parameter nat ; storage nat ; code { CAR ; NIL operation ; PAIR }",
            "\"zero\"",
        ),
        &["michelson_v1.ill_typed_data"],
    );
    failed_with(
        &mut s,
        &alice,
        ill_typed(
            "parameter unit ; storage unit ; code { DROP ; UNIT ; PUSH nat 1 ; TICKET ; DUP ; DROP 2 ; UNIT ; NIL operation ; PAIR }",
            "Unit",
        ),
        &["michelson_v1.ill_typed_contract"],
    );
}

/// The bridge kernel's rollup, of type `pair address (ticket unit)`.
fn originate_bridge_rollup() -> OperationKind {
    OperationKind::SmartRollupOriginate {
        pvm_kind: PvmKind::Wasm,
        kernel: Bytes(BRIDGE_KERNEL.to_vec()),
        parameters_ty: expr("pair address (ticket unit)"),
        whitelist: None,
    }
}

fn originate_rollup(s: &mut Sandbox, signer: &SecretKey, kind: OperationKind) -> SmartRollupAddress {
    let metadata = run(s, signer, kind);
    assert_eq!(status(&metadata), "applied", "{metadata:#}");
    SmartRollupAddress::from_base58(metadata["operation_result"]["address"].as_str().unwrap()).unwrap()
}

/// The Transfer inbox message an internal result to a rollup made, as the
/// rollup node rebuilds it.
fn transfer_message(internal: &Json, source: PublicKeyHash) -> Vec<u8> {
    InboxMessage::Internal(InternalMessage::Transfer(Transfer {
        payload: Micheline::from_json(&internal["parameters"]["value"]).unwrap(),
        sender: ContractKt1Hash::from_base58(internal["source"].as_str().unwrap()).unwrap(),
        source,
        destination: SmartRollupAddress::from_base58(internal["destination"].as_str().unwrap()).unwrap(),
    }))
    .to_bytes()
}

#[test]
fn the_forwarder_sends_bytes_to_a_rollup() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let a = alice.public_key().hash();
    let rollup = originate_rollup(&mut s, &alice, originate_echo());
    let (forwarder, _) = originate(
        &mut s,
        &alice,
        &contract_source("forward_bytes.tz"),
        &format!("\"{rollup}\""),
        0,
    );
    let level_start = LevelStart::of(&s);
    let metadata = call(&mut s, &alice, forwarder, 0, "default", "0xcafe");
    assert_eq!(status(&metadata), "applied", "{metadata:#}");
    let internal = &metadata["internal_operation_results"][0];
    assert_eq!(internal["kind"], "transaction");
    assert_eq!(internal["source"], forwarder.to_base58());
    assert_eq!(internal["destination"], rollup.to_base58());
    assert_eq!(internal["parameters"]["value"], serde_json::json!({"bytes": "cafe"}));
    assert_eq!(internal["result"]["status"], "applied");
    // The level's inbox: SOL, Info_per_level, the Transfer and EOL.
    let message = transfer_message(internal, a);
    assert_eq!(
        s.chain.ledger().inbox().hash(),
        level_start.inbox_with(std::slice::from_ref(&message)),
        "the level's inbox: SOL, Info_per_level, the Transfer, EOL"
    );
    let parsed = tezos_smart_rollup_encoding::inbox::InboxMessage::<
        tezos_smart_rollup_encoding::michelson::MichelsonBytes,
    >::parse(&message)
    .unwrap()
    .1;
    let tezos_smart_rollup_encoding::inbox::InboxMessage::Internal(
        tezos_smart_rollup_encoding::inbox::InternalInboxMessage::Transfer(transfer),
    ) = parsed
    else {
        panic!("not a transfer")
    };
    assert_eq!(transfer.payload.0, vec![0xca, 0xfe]);

    // A rollup of another type is no `contract bytes`.
    let ticket_rollup = originate_rollup(&mut s, &alice, originate_bridge_rollup());
    let (wrong, _) = originate(
        &mut s,
        &alice,
        &contract_source("forward_bytes.tz"),
        &format!("\"{ticket_rollup}\""),
        0,
    );
    let to_wrong = OperationKind::Transaction {
        amount: Nat(0u64.into()),
        destination: Contract::Originated(wrong),
        parameters: Some(Parameters {
            entrypoint: "default".into(),
            value: expr("0x00"),
        }),
    };
    failed_with(
        &mut s,
        &alice,
        to_wrong,
        &["michelson_v1.runtime_error", "michelson_v1.script_rejected"],
    );
    // Tez cannot go to a rollup.
    let (paying, _) = originate(
        &mut s,
        &alice,
        &contract_source("forward_bytes.tz").replace("PUSH mutez 0", "PUSH mutez 1"),
        &format!("\"{rollup}\""),
        10,
    );
    let pay = OperationKind::Transaction {
        amount: Nat(0u64.into()),
        destination: Contract::Originated(paying),
        parameters: Some(Parameters {
            entrypoint: "default".into(),
            value: expr("0x00"),
        }),
    };
    failed_with(&mut s, &alice, pay, &["operation.rollup_invalid_transaction_amount"]);
}

#[test]
fn the_bridge_locks_tez_and_deposits_tickets() {
    let mut s = Sandbox::new();
    let alice = key(0);
    let a = alice.public_key().hash();
    let rollup = originate_rollup(&mut s, &alice, originate_bridge_rollup());
    let (bridge, _) = originate(&mut s, &alice, &contract_source("ticket_bridge.tz"), "Unit", 0);
    let metadata = call(
        &mut s,
        &alice,
        bridge,
        1_000,
        "deposit",
        &format!("Pair \"{rollup}\" \"{a}\""),
    );
    assert_eq!(status(&metadata), "applied", "{metadata:#}");
    assert_eq!(s.chain.ledger().contract(&bridge).unwrap().balance, 1_000);
    let token = TicketToken {
        ticketer: Address::from_text(&bridge.to_base58()).unwrap(),
        content_type: Type::Unit,
        contents: Value::Unit,
    };
    let ledger = s.chain.ledger();
    assert_eq!(
        ledger.ticket_balance(&token, &Destination::SmartRollup(rollup)),
        BigInt::from(1_000)
    );
    assert_eq!(
        ledger.ticket_balance(&token, &Destination::Originated(bridge)),
        BigInt::default()
    );
    // The new ticket row (65 + 2 bytes) is paid by the caller.
    assert_eq!(metadata["operation_result"]["paid_storage_size_diff"], "67");
    let internal = &metadata["internal_operation_results"][0];
    assert_eq!(
        internal["result"]["ticket_receipt"][0]["updates"][0]["account"],
        rollup.to_base58()
    );
    assert_eq!(internal["result"]["ticket_receipt"][0]["updates"][0]["amount"], "1000");
    // The payload, Optimized: `Pair <receiver bytes> (Pair <ticketer bytes> (Pair Unit 1000))`,
    // read by the official SDK as a pair of a contract and a unit ticket.
    let message = transfer_message(internal, a);
    type Deposit = tezos_smart_rollup_encoding::michelson::MichelsonPair<
        tezos_smart_rollup_encoding::michelson::MichelsonContract,
        tezos_smart_rollup_encoding::michelson::ticket::UnitTicket,
    >;
    let (rest, parsed) = tezos_smart_rollup_encoding::inbox::InboxMessage::<Deposit>::parse(&message).unwrap();
    assert!(rest.is_empty());
    let tezos_smart_rollup_encoding::inbox::InboxMessage::Internal(
        tezos_smart_rollup_encoding::inbox::InternalInboxMessage::Transfer(transfer),
    ) = parsed
    else {
        panic!("not a transfer")
    };
    let tezos_smart_rollup_encoding::michelson::MichelsonPair(receiver, ticket) = transfer.payload;
    assert_eq!(receiver.0.to_b58check(), a.to_base58());
    assert_eq!(ticket.creator().0.to_b58check(), bridge.to_base58());
    assert_eq!(ticket.amount_as::<u64, _>().unwrap(), 1_000);
    assert_eq!(transfer.sender.to_string(), bridge.to_base58());
    assert_eq!(transfer.source.to_b58check(), a.to_base58());

    // The ticket_balance RPC's key: the posted token hashed as posted.
    let posted = soru_l1::tickets::row_key_of_posted(
        &Destination::Originated(bridge),
        &expr("unit"),
        &expr("Unit"),
        &Destination::SmartRollup(rollup),
    );
    assert_eq!(s.chain.ledger().ticket_balance_by_key(&posted), BigInt::from(1_000));

    // Ticket misuse: a ticket written by a user, and a ticket of another
    // minter at %withdraw, change nothing.
    let forged = OperationKind::Transaction {
        amount: Nat(0u64.into()),
        destination: Contract::Originated(bridge),
        parameters: Some(Parameters {
            entrypoint: "withdraw".into(),
            value: expr(&format!("Pair \"{a}\" (Pair \"{bridge}\" (Pair Unit 5))")),
        }),
    };
    failed_with(&mut s, &alice, forged, &["michelson_v1.bad_contract_parameter"]);
    let minter = "parameter address ;
                  storage unit ;
                  code { CAR ;
                         CONTRACT %withdraw (pair address (ticket unit)) ;
                         IF_NONE { PUSH string \"no bridge\" ; FAILWITH } {} ;
                         PUSH mutez 0 ;
                         PUSH nat 5 ; UNIT ; TICKET ; IF_NONE { PUSH string \"zero\" ; FAILWITH } {} ;
                         SENDER ; PAIR ;
                         TRANSFER_TOKENS ;
                         NIL operation ; SWAP ; CONS ; UNIT ; SWAP ; PAIR }";
    let (other, _) = originate(&mut s, &alice, minter, "Unit", 0);
    let foreign = OperationKind::Transaction {
        amount: Nat(0u64.into()),
        destination: Contract::Originated(other),
        parameters: Some(Parameters {
            entrypoint: "default".into(),
            value: expr(&format!("\"{bridge}\"")),
        }),
    };
    failed_with(
        &mut s,
        &alice,
        foreign,
        &["michelson_v1.runtime_error", "michelson_v1.script_rejected"],
    );
    assert_eq!(s.chain.ledger().contract(&bridge).unwrap().balance, 1_000);
}

#[test]
fn contract_rpc_views_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = soru_l1::ChainConfig::new("sandbox", 1_700_000_000).unwrap();
    let mut s = Sandbox::in_dir(dir.path(), config.clone());
    let alice = key(0);
    let (bridge, _) = originate(&mut s, &alice, &contract_source("ticket_bridge.tz"), "Unit", 0);
    let entrypoints: Vec<String> = s
        .chain
        .ledger()
        .contract(&bridge)
        .unwrap()
        .script
        .entrypoints
        .named()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(entrypoints, ["deposit", "withdraw"]);
    let head = s.chain.head().hash;
    let state = contracts_state(&s);
    drop(s);
    // Reopening replays the blocks: the same contracts come back.
    let reopened = Sandbox::in_dir(dir.path(), config);
    assert_eq!(reopened.chain.head().hash, head);
    assert_eq!(contracts_state(&reopened), state);
}

#[test]
fn a_thousand_calls_deep_run_one_after_another() {
    let mut s = Sandbox::new();
    let alice = key(0);
    // Calls itself with n - 1 until 0, counting the calls in its storage.
    let countdown = "parameter nat ; storage nat ;
        code { UNPAIR ; DUP ; INT ; EQ ;
               IF { DROP ; NIL operation ; PAIR }
                  { PUSH nat 1 ; SWAP ; SUB ; ABS ; SELF ; PUSH mutez 0 ; DIG 2 ; TRANSFER_TOKENS ;
                    NIL operation ; SWAP ; CONS ; DIP { PUSH nat 1 ; ADD } ; PAIR } }";
    let (kt1, _) = originate(&mut s, &alice, countdown, "0", 0);
    let mut content = s.content(&alice, 0, call_kind_of(kt1, "1000"));
    content.fee = Nat(300_000u64.into());
    content.gas_limit = Nat(1_000_000u64.into());
    content.storage_limit = Nat(1_000u64.into());
    let op = s.sign(&alice, vec![content]);
    s.chain.inject(&op).unwrap();
    s.bake();
    let metadata = head_contents(&s)[0]["metadata"].clone();
    assert_eq!(status(&metadata), "applied", "{:#}", metadata["operation_result"]);
    let internal = metadata["internal_operation_results"].as_array().unwrap();
    assert_eq!(internal.len(), 1_000);
    assert_eq!(internal[999]["parameters"]["value"], serde_json::json!({"int": "0"}));
    assert_eq!(
        s.chain.ledger().contract(&kt1).unwrap().storage,
        Value::Int(1_000.into())
    );
}

fn call_kind_of(kt1: ContractKt1Hash, value: &str) -> OperationKind {
    OperationKind::Transaction {
        amount: Nat(0u64.into()),
        destination: Contract::Originated(kt1),
        parameters: Some(Parameters {
            entrypoint: "default".into(),
            value: expr(value),
        }),
    }
}
