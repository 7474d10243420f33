//! Contracts and rollups on a real `soru l1` process over loopback:
//!
//! - seed 003: the bytes forwarder sends to the `echo` rollup; the
//!   internal Transfer is rebuilt from the block's receipts, proved against
//!   the L1's inbox hash and fed to the kernel in the PVM; outbox messages
//!   written by `echo` call the `go` contract once their commitment is
//!   cemented (the documentation's `37`, ill-typed for `go`, is refused;
//!   the string `"37"` is stored);
//! - the ticket bridge: tez locked on L1 become a ticket held by the rollup
//!   (its Transfer read by the official SDK), the `bridge` kernel sends it
//!   back through the outbox, and executing that message pays the tez out.

mod common;

use common::{block_inbox_hash, bootstrap, follow, rollup_core, rollup_core_for, L1};

use serde_json::{json, Value};
use soru_core::base58::{CommitmentHash, ContractKt1Hash, SmartRollupAddress};
use soru_core::encoding::{Bytes, Decode, Encode, Nat};
use soru_core::micheline::Micheline;
use soru_core::operation::{OperationKind, Parameters, PvmKind, Script};
use soru_core::outbox::{OutboxMessage, OutboxTransaction, TypedOutboxTransaction};
use soru_core::params::ProtocolParams;
use soru_core::{Commitment, Contract, SecretKey};
use soru_node::RollupCore;

const BRIDGE_KERNEL: &[u8] = include_bytes!("../../../kernels/wasm/bridge.wasm");

fn contract_source(name: &str) -> Micheline {
    let path = format!("{}/../../contracts/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    soru_michelson::script_from_text(&text).unwrap()
}

fn expr(text: &str) -> Micheline {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Injects one content, bakes, and returns its metadata.
fn run(l1: &L1, key: &SecretKey, kind: OperationKind) -> Value {
    let hash = l1.inject(key, vec![(kind, 200_000, 10_000)]).unwrap();
    l1.bake();
    l1.metadata(&hash).remove(0)
}

/// The content failed, its first error being `id`.
fn failed_with(metadata: &Value, id: &str) {
    let result = &metadata["operation_result"];
    assert_eq!(result["status"], "failed", "{result}");
    assert!(result["errors"][0]["id"].as_str().unwrap().ends_with(id), "{result}");
}

fn applied(metadata: &Value) -> &Value {
    let result = &metadata["operation_result"];
    assert_eq!(result["status"], "applied", "{metadata:#}");
    result
}

fn originate(l1: &L1, key: &SecretKey, code: Micheline, storage: &str, balance: u64) -> ContractKt1Hash {
    let metadata = run(
        l1,
        key,
        OperationKind::Origination {
            balance: Nat(balance.into()),
            delegate: None,
            script: Script {
                code,
                storage: expr(storage),
            },
        },
    );
    let address = applied(&metadata)["originated_contracts"][0]
        .as_str()
        .unwrap()
        .to_string();
    ContractKt1Hash::from_base58(&address).unwrap()
}

fn originate_rollup(l1: &L1, key: &SecretKey, kernel: &[u8], ty: &str) -> (SmartRollupAddress, u32) {
    let metadata = run(
        l1,
        key,
        OperationKind::SmartRollupOriginate {
            pvm_kind: PvmKind::Wasm,
            kernel: Bytes(kernel.to_vec()),
            parameters_ty: expr(ty),
            whitelist: None,
        },
    );
    let address = applied(&metadata)["address"].as_str().unwrap().to_string();
    (SmartRollupAddress::from_base58(&address).unwrap(), l1.head_level())
}

fn call_kind(kt1: ContractKt1Hash, amount: u64, entrypoint: &str, value: &str) -> OperationKind {
    OperationKind::Transaction {
        amount: Nat(amount.into()),
        destination: Contract::Originated(kt1),
        parameters: Some(Parameters {
            entrypoint: entrypoint.into(),
            value: expr(value),
        }),
    }
}

/// Publishes the first commitment the core built, waits out the challenge
/// window and cements it.
fn publish_and_cement(l1: &L1, core: &mut RollupCore, rollup: SmartRollupAddress) -> (CommitmentHash, Commitment) {
    let (hash, commitment) = loop {
        if let Some(first) = follow(l1, core, l1.head_level()).first() {
            break *first;
        }
        l1.bake();
    };
    let staker = bootstrap(2);
    applied(&run(
        l1,
        &staker,
        OperationKind::SmartRollupPublish { rollup, commitment },
    ));
    for _ in 0..ProtocolParams::sandbox().smart_rollup.challenge_window_in_blocks {
        l1.bake();
    }
    let cemented = run(l1, &staker, OperationKind::SmartRollupCement { rollup });
    assert_eq!(applied(&cemented)["commitment_hash"], hash.to_base58());
    (hash, commitment)
}

/// Proves output (`level`, `index`) from the state of the cemented
/// commitment and executes it from `executor`.
fn execute_output(
    l1: &L1,
    core: &RollupCore,
    executor: &SecretKey,
    rollup: SmartRollupAddress,
    cemented: (CommitmentHash, Commitment),
    level: u32,
    index: u32,
) -> (Value, Vec<u8>) {
    let pvm = core.state_at(cemented.1.inbox_level as u32).unwrap().unwrap();
    let (proof, output) = soru_pvm::output_proof::prove_output(&pvm, level, index).unwrap();
    let metadata = run(
        l1,
        executor,
        OperationKind::SmartRollupExecuteOutboxMessage {
            rollup,
            cemented_commitment: cemented.0,
            output_proof: Bytes(proof.as_bytes().to_vec()),
        },
    );
    (metadata, output.message)
}

fn storage(l1: &L1, kt1: ContractKt1Hash) -> Value {
    l1.get(&format!("/chains/main/blocks/head/context/contracts/{kt1}/storage"))
}

fn balance(l1: &L1, address: &str) -> u64 {
    let balance = l1.get(&format!("/chains/main/blocks/head/context/contracts/{address}/balance"));
    balance.as_str().unwrap().parse().unwrap()
}

#[test]
fn seed_003_forwarder_to_echo_and_outbox_calls_to_go() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = L1::start(dir.path());
    l1.bake();
    let alice = bootstrap(0);
    let bob = bootstrap(1);

    // `originate contract go transferring 1 … running '…' --init '""'`
    let go = originate(&l1, &alice, contract_source("go.tz"), "\"\"", 1_000_000);
    assert_eq!(storage(&l1, go), json!({"string": ""}));
    assert_eq!(balance(&l1, &go.to_base58()), 1_000_000);
    let (rollup, origination_level) = originate_rollup(&l1, &alice, common::ECHO, "bytes");
    let forwarder = originate(
        &l1,
        &alice,
        contract_source("forward_bytes.tz"),
        &format!("\"{rollup}\""),
        0,
    );

    // One block: the forwarder's Transfer, then two external messages that
    // echo turns into outbox messages calling `go`.
    let outbox_call = |parameters: &str| {
        OutboxMessage::AtomicTransactionBatch(vec![OutboxTransaction {
            parameters: expr(parameters),
            destination: go,
            entrypoint: "default".into(),
        }])
        .to_bytes()
    };
    let forward = l1
        .inject(
            &alice,
            vec![(call_kind(forwarder, 0, "default", "0xcafe"), 200_000, 1_000)],
        )
        .unwrap();
    // Typed batches carry the parameter's type: it must be the entrypoint's.
    let typed_call = |parameters: &str, ty: &str| {
        OutboxMessage::TypedTransactionBatch(vec![TypedOutboxTransaction {
            transaction: OutboxTransaction {
                parameters: expr(parameters),
                destination: go,
                entrypoint: "default".into(),
            },
            parameters_ty: expr(ty),
        }])
        .to_bytes()
    };
    let messages = vec![
        Bytes(outbox_call("37")),
        Bytes(outbox_call("\"37\"")),
        Bytes(typed_call("5", "int")),
        Bytes(typed_call("\"typed\"", "string")),
    ];
    l1.inject(
        &bob,
        vec![(OperationKind::SmartRollupAddMessages { messages }, 10_000, 0)],
    )
    .unwrap();
    let level = l1.bake();
    let metadata = l1.metadata(&forward).remove(0);
    applied(&metadata);
    let internal = &metadata["internal_operation_results"][0];
    assert_eq!(internal["destination"], rollup.to_base58());
    assert_eq!(internal["parameters"]["value"], json!({"bytes": "cafe"}));

    // The node rebuilds the level from the block's receipts; `follow`
    // checks every level against the L1's inbox hash.
    let node_dir = tempfile::tempdir().unwrap();
    let mut core = rollup_core(&l1, node_dir.path(), rollup, origination_level);
    follow(&l1, &mut core, level);
    let block = l1.get(&format!("/chains/main/blocks/{level}"));
    let rebuilt = soru_node::l1_block::inbox_messages(&block).unwrap();
    assert_eq!(rebuilt.len(), 5, "the Transfer and four external messages");
    let transfer = soru_core::inbox::InboxMessage::from_bytes(&rebuilt[0]).unwrap();
    let soru_core::inbox::InboxMessage::Internal(soru_core::inbox::InternalMessage::Transfer(transfer)) = transfer
    else {
        panic!("not a transfer: {transfer:?}")
    };
    assert_eq!(transfer.payload, Micheline::Bytes(vec![0xca, 0xfe]));
    assert_eq!(transfer.sender, forwarder);
    assert_eq!(transfer.source, alice.public_key().hash());
    assert_eq!(transfer.destination, rollup);
    // …proved against the L1's inbox: it is message 2 of the level, after
    // SOL and Info_per_level.
    let snapshot = block_inbox_hash(&l1, l1.head_level()).snapshot();
    let (proof, _) = soru_protocol::inbox_proof::produce(core.archive(), &snapshot, level, 2).unwrap();
    let proven = soru_protocol::inbox_proof::verify(&snapshot, level, 2, &proof)
        .unwrap()
        .unwrap();
    assert_eq!(proven.payload, rebuilt[0]);
    // …and the kernel in the PVM read the whole level: its outbox holds
    // the four messages of the external inputs that came after it.
    let pvm = core.state_at(level).unwrap().unwrap();
    assert!(soru_pvm::output_proof::prove_output(&pvm, level, 3).is_ok());
    assert!(soru_pvm::output_proof::prove_output(&pvm, level, 4).is_err());

    let cemented = publish_and_cement(&l1, &mut core, rollup);
    assert!(cemented.1.inbox_level as u32 >= level);

    // The documentation's message: `37` for a `string` parameter.
    let (metadata, message) = execute_output(&l1, &core, &bob, rollup, cemented, level, 0);
    assert_eq!(message, outbox_call("37"));
    failed_with(&metadata, "michelson_v1.bad_contract_parameter");
    assert_eq!(storage(&l1, go), json!({"string": ""}), "nothing changed");

    // A string goes through: `go` is called by the rollup and stores it.
    let (metadata, _) = execute_output(&l1, &core, &bob, rollup, cemented, level, 1);
    applied(&metadata);
    let internal = &metadata["internal_operation_results"][0];
    assert_eq!(internal["source"], rollup.to_base58());
    assert_eq!(internal["destination"], go.to_base58());
    assert_eq!(internal["amount"], "0");
    assert_eq!(internal["parameters"]["value"], json!({"string": "37"}));
    assert_eq!(internal["result"]["status"], "applied");
    assert_eq!(storage(&l1, go), json!({"string": "37"}));
    // An outbox message runs once.
    let (metadata, _) = execute_output(&l1, &core, &bob, rollup, cemented, level, 1);
    assert_eq!(metadata["operation_result"]["status"], "failed");

    // Typed: an `int` for a `string` entrypoint fails when the call runs…
    let (metadata, _) = execute_output(&l1, &core, &bob, rollup, cemented, level, 2);
    failed_with(&metadata, "michelson_v1.bad_contract_parameter");
    assert_eq!(storage(&l1, go), json!({"string": "37"}));
    // …a `string` is stored.
    let (metadata, _) = execute_output(&l1, &core, &bob, rollup, cemented, level, 3);
    applied(&metadata);
    assert_eq!(storage(&l1, go), json!({"string": "typed"}));
}

#[test]
fn ticket_bridge_deposit_and_withdrawal_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = L1::start(dir.path());
    l1.bake();
    let alice = bootstrap(0);
    let bob = bootstrap(1);
    let carol = bootstrap(3).public_key().hash();

    let bridge = originate(&l1, &alice, contract_source("ticket_bridge.tz"), "Unit", 0);
    let entrypoints = l1.get(&format!(
        "/chains/main/blocks/head/context/contracts/{bridge}/entrypoints"
    ));
    assert_eq!(
        entrypoints["entrypoints"]["withdraw"],
        json!({"prim": "pair", "args": [{"prim": "address"}, {"prim": "ticket", "args": [{"prim": "unit"}]}]})
    );
    let (rollup, origination_level) = originate_rollup(&l1, &alice, BRIDGE_KERNEL, "pair address (ticket unit)");

    // Deposit 1 tez for carol.
    let deposit = call_kind(bridge, 1_000_000, "deposit", &format!("Pair \"{rollup}\" \"{carol}\""));
    let metadata = run(&l1, &alice, deposit);
    applied(&metadata);
    let level = l1.head_level();
    assert_eq!(balance(&l1, &bridge.to_base58()), 1_000_000);
    let token = json!({"ticketer": bridge.to_base58(), "content_type": {"prim": "unit"}, "content": {"prim": "Unit"}});
    let rollup_tickets = format!("/chains/main/blocks/head/context/smart_rollups/smart_rollup/{rollup}/ticket_balance");
    assert_eq!(l1.post(&rollup_tickets, &token).unwrap(), json!("1000000"));

    // The deposit's Transfer, rebuilt from the receipts, read by the SDK.
    let block = l1.get(&format!("/chains/main/blocks/{level}"));
    let rebuilt = soru_node::l1_block::inbox_messages(&block).unwrap();
    type Deposit = tezos_smart_rollup_encoding::michelson::MichelsonPair<
        tezos_smart_rollup_encoding::michelson::MichelsonContract,
        tezos_smart_rollup_encoding::michelson::ticket::UnitTicket,
    >;
    let (rest, parsed) = tezos_smart_rollup_encoding::inbox::InboxMessage::<Deposit>::parse(&rebuilt[0]).unwrap();
    assert!(rest.is_empty());
    let tezos_smart_rollup_encoding::inbox::InboxMessage::Internal(
        tezos_smart_rollup_encoding::inbox::InternalInboxMessage::Transfer(transfer),
    ) = parsed
    else {
        panic!("not a transfer")
    };
    let tezos_smart_rollup_encoding::michelson::MichelsonPair(receiver, ticket) = transfer.payload;
    assert_eq!(receiver.0.to_b58check(), carol.to_base58());
    assert_eq!(ticket.creator().0.to_b58check(), bridge.to_base58());
    assert_eq!(ticket.amount_as::<u64, _>().unwrap(), 1_000_000);

    // The bridge kernel answers with a withdrawal in the outbox.
    let node_dir = tempfile::tempdir().unwrap();
    let mut core = rollup_core_for(&l1, node_dir.path(), rollup, origination_level, BRIDGE_KERNEL);
    let cemented = publish_and_cement(&l1, &mut core, rollup);
    let carol_before = balance(&l1, &carol.to_base58());
    let (metadata, message) = execute_output(&l1, &core, &bob, rollup, cemented, level, 0);
    let result = applied(&metadata);
    let decoded = OutboxMessage::from_bytes(&message).unwrap();
    let OutboxMessage::AtomicTransactionBatch(transactions) = decoded else {
        panic!("not a transaction batch")
    };
    assert_eq!(transactions[0].destination, bridge);
    assert_eq!(transactions[0].entrypoint, "withdraw");
    // The rollup's tickets went to the bridge before it ran…
    assert_eq!(result["ticket_updates"][0]["updates"][0]["account"], rollup.to_base58());
    assert_eq!(result["ticket_updates"][0]["updates"][0]["amount"], "-1000000");
    assert_eq!(l1.post(&rollup_tickets, &token).unwrap(), json!("0"));
    // …which destroyed them and paid carol.
    let internal = metadata["internal_operation_results"].as_array().unwrap();
    assert_eq!(internal.len(), 2, "{internal:#?}");
    assert_eq!(internal[0]["source"], rollup.to_base58());
    assert_eq!(internal[0]["destination"], bridge.to_base58());
    assert_eq!(internal[0]["parameters"]["entrypoint"], "withdraw");
    assert_eq!(internal[1]["source"], bridge.to_base58());
    assert_eq!(internal[1]["destination"], carol.to_base58());
    assert_eq!(internal[1]["amount"], "1000000");
    assert_eq!(balance(&l1, &carol.to_base58()), carol_before + 1_000_000);
    assert_eq!(balance(&l1, &bridge.to_base58()), 0);
    let bridge_tickets = format!("/chains/main/blocks/head/context/contracts/{bridge}/ticket_balance");
    assert_eq!(l1.post(&bridge_tickets, &token).unwrap(), json!("0"));
}

#[test]
fn run_code_and_pack_data_helpers() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = L1::start(dir.path());
    l1.bake();
    let helper = |name: &str, body: Value| l1.post(&format!("/chains/main/blocks/head/helpers/scripts/{name}"), &body);
    let go = contract_source("go.tz").to_json();
    let ran = helper(
        "run_code",
        json!({"script": go, "storage": {"string": ""}, "input": {"string": "hi"}, "amount": "0", "chain_id": l1.get("/chains/main/chain_id")}),
    )
    .unwrap();
    assert_eq!(ran["storage"], json!({"string": "hi"}));
    assert_eq!(ran["operations"], json!([]));
    // The forwarder's operation, with the rollup it names unknown: FAILWITH.
    let forwarder = contract_source("forward_bytes.tz").to_json();
    let (status, errors) = helper(
        "run_code",
        json!({"script": forwarder, "storage": {"string": "sr163Lv22CdE8QagCwf48PWDTquk6isQwv57"}, "input": {"bytes": "00"}, "amount": "0", "chain_id": l1.get("/chains/main/chain_id")}),
    )
    .unwrap_err();
    assert_eq!(status, 400);
    assert!(
        errors[1]["id"]
            .as_str()
            .unwrap()
            .ends_with("michelson_v1.script_rejected"),
        "{errors}"
    );
    assert_eq!(errors[1]["with"], json!({"string": "Invalid address"}));
    // Ill-typed input, and no input at all.
    let (status, errors) = helper(
        "run_code",
        json!({"script": go, "storage": {"string": ""}, "input": {"int": "37"}}),
    )
    .unwrap_err();
    assert_eq!(status, 400);
    assert!(
        errors[0]["id"].as_str().unwrap().ends_with("ill_typed_contract"),
        "{errors}"
    );
    assert_eq!(helper("run_code", json!({"script": go})).unwrap_err().0, 400);
    // The type map of `go`: CAR, NIL, PAIR and the code block.
    let checked = helper("typecheck_code", json!({"program": go, "gas": "10000"})).unwrap();
    let map = checked["type_map"].as_array().unwrap();
    assert_eq!(map.len(), 4, "{checked}");
    assert_eq!(
        map[0]["stack_before"],
        json!([{"prim": "pair", "args": [{"prim": "string"}, {"prim": "string"}]}])
    );
    assert!(checked["gas"].as_str().unwrap().parse::<u64>().unwrap() < 10_000_000);
    let (status, _) = helper(
        "typecheck_code",
        json!({"program": expr("{ parameter unit ; storage unit ; code { CAR ; ADD } }").to_json()}),
    )
    .unwrap_err();
    assert_eq!(status, 400);
    // PACK as Octez's `hash data`: 1 is 0x050001; a 4-comb is nested pairs.
    assert_eq!(
        helper("pack_data", json!({"data": {"int": "1"}, "type": {"prim": "nat"}})).unwrap()["packed"],
        "050001"
    );
    let comb = helper(
        "pack_data",
        json!({"data": [{"int": "1"}, {"int": "2"}, {"int": "3"}, {"int": "4"}], "type": {"prim": "pair", "args": [{"prim": "nat"}, {"prim": "nat"}, {"prim": "nat"}, {"prim": "nat"}]}}),
    )
    .unwrap();
    let nested = expr("Pair 1 (Pair 2 (Pair 3 4))").pack();
    assert_eq!(comb["packed"], hex::encode(nested));
}
