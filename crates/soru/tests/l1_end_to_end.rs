//! End to end with a real `soru l1` process on a loopback port: the `echo`
//! rollup is originated in a reveal + originate group, messages are added,
//! the rollup core rebuilds the inbox from the blocks' receipts and proves
//! a message against the L1's inbox, a commitment computed by running the
//! kernel is published and cemented, and a restarted process serves the
//! same chain.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{block_inbox_hash, bootstrap, follow, rollup_core, ECHO, L1};

use serde_json::{json, Value};
use soru_core::base58::SmartRollupAddress;
use soru_core::encoding::{Bytes, Nat};
use soru_core::micheline::Micheline;
use soru_core::operation::{OperationKind, PvmKind};
use soru_core::params::ProtocolParams;
use soru_core::{Contract, SecretKey};

#[test]
fn originate_add_messages_prove_publish_cement_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = L1::start(dir.path());
    assert_eq!(l1.head_level(), 0);
    assert!(l1.get("/chains/main/chain_id").as_str().unwrap().starts_with("Net"));
    l1.bake();

    // A fresh operator, funded, reveals and originates in one group.
    let operator = SecretKey::ed25519_from_seed([42; 32]);
    let operator_pkh = operator.public_key().hash();
    let fund = OperationKind::Transaction {
        amount: Nat(20_000_000_000u64.into()),
        destination: Contract::Implicit(operator_pkh),
        parameters: None,
    };
    l1.inject(&bootstrap(0), vec![(fund, 5_000, 300)]).unwrap();
    l1.bake();
    let reveal = OperationKind::Reveal {
        public_key: operator.public_key(),
        proof: None,
    };
    let originate = OperationKind::SmartRollupOriginate {
        pvm_kind: PvmKind::Wasm,
        kernel: Bytes(ECHO.to_vec()),
        parameters_ty: Micheline::prim0("bytes").unwrap(),
        whitelist: None,
    };
    let group = l1
        .inject(&operator, vec![(reveal, 2_000, 0), (originate, 200_000, 6_572)])
        .unwrap();
    let origination_level = l1.bake();
    let results = l1.results(&group);
    assert_eq!(results[0]["status"], "applied");
    assert_eq!(results[1]["status"], "applied", "{}", results[1]);
    let rollup = SmartRollupAddress::from_base58(results[1]["address"].as_str().unwrap()).unwrap();
    let genesis_hash = results[1]["genesis_commitment_hash"].as_str().unwrap().to_string();
    let info = l1.get(&format!(
        "/chains/main/blocks/head/context/smart_rollups/smart_rollup/{rollup}/genesis_info"
    ));
    assert_eq!(info["commitment_hash"], genesis_hash.as_str());
    assert_eq!(info["level"], origination_level);

    // The rollup node's core, from the L1's inbox at the origination block.
    let params = ProtocolParams::sandbox();
    let node_dir = tempfile::tempdir().unwrap();
    let mut core = rollup_core(&l1, node_dir.path(), rollup, origination_level);
    assert_eq!(
        core.last_commitment().0.to_base58(),
        genesis_hash,
        "the L1 and the node agree on genesis"
    );

    // Messages over several blocks, from another account.
    let sender = bootstrap(1);
    for i in 0..6u32 {
        if i % 2 == 0 {
            let messages = (0..=i)
                .map(|j| Bytes(format!("message {j} at {i}").into_bytes()))
                .collect();
            l1.inject(
                &sender,
                vec![(OperationKind::SmartRollupAddMessages { messages }, 5_000, 0)],
            )
            .unwrap();
        }
        l1.bake();
    }

    // The core follows the blocks and checks every level's inbox hash.
    let head = l1.head_level();
    let commitments = follow(&l1, &mut core, head);
    assert!(!commitments.is_empty(), "a commitment period ended");

    // A message proved against the L1's current inbox: at the third level
    // after origination, after SOL and Info_per_level, "message 0 at 2".
    let snapshot = block_inbox_hash(&l1, head).snapshot();
    let message_level = origination_level + 3;
    let (proof, input) = soru_protocol::inbox_proof::produce(core.archive(), &snapshot, message_level, 2).unwrap();
    let proven = soru_protocol::inbox_proof::verify(&snapshot, message_level, 2, &proof)
        .unwrap()
        .unwrap();
    assert_eq!(Some(proven.clone()), input);
    assert_eq!(proven.counter, 2);
    assert_eq!(proven.payload, b"\x01message 0 at 2".to_vec());

    // Publish the first commitment (stake from bootstrap3), then cement it
    // after the challenge window.
    let (hash, commitment) = commitments[0];
    let staker = bootstrap(2);
    let publish = OperationKind::SmartRollupPublish { rollup, commitment };
    let op = l1.inject(&staker, vec![(publish, 10_000, 0)]).unwrap();
    l1.bake();
    let results = l1.results(&op);
    assert_eq!(results[0]["status"], "applied", "{}", results[0]);
    assert_eq!(results[0]["staked_hash"], hash.to_base58());
    let staked = l1.get(&format!(
        "/chains/main/blocks/head/context/smart_rollups/smart_rollup/{rollup}/staker/{}/staked_on_commitment",
        staker.public_key().hash()
    ));
    assert_eq!(staked["hash"], hash.to_base58());
    let frozen = l1.get(&format!(
        "/chains/main/blocks/head/context/contracts/{}/frozen_bonds",
        staker.public_key().hash()
    ));
    assert_eq!(frozen, json!(params.smart_rollup.stake_amount.to_string()));

    let cement = || OperationKind::SmartRollupCement { rollup };
    let early = l1.inject(&staker, vec![(cement(), 10_000, 0)]).unwrap();
    l1.bake();
    let result = &l1.results(&early)[0];
    assert_eq!(result["status"], "failed");
    assert!(result["errors"][0]["id"]
        .as_str()
        .unwrap()
        .ends_with("smart_rollup_commitment_too_recent"));
    for _ in 0..params.smart_rollup.challenge_window_in_blocks {
        l1.bake();
    }
    let cemented = l1.inject(&staker, vec![(cement(), 10_000, 0)]).unwrap();
    l1.bake();
    let result = &l1.results(&cemented)[0];
    assert_eq!(result["status"], "applied", "{result}");
    assert_eq!(result["commitment_hash"], hash.to_base58());
    let lcc_path = format!(
        "/chains/main/blocks/head/context/smart_rollups/smart_rollup/{rollup}/last_cemented_commitment_hash_with_level"
    );
    let lcc = l1.get(&lcc_path);
    assert_eq!(lcc["hash"], hash.to_base58());

    // The other context and helper RPCs, on this chain.
    let path = |rest: &str| format!("/chains/main/blocks/head/context/smart_rollups/smart_rollup/{rollup}/{rest}");
    assert_eq!(
        l1.get("/chains/main/blocks/head/context/smart_rollups/all"),
        json!([rollup.to_base58()])
    );
    assert_eq!(l1.get(&path("kind")), json!("wasm_2_0_0"));
    let stored = l1.get(&path(&format!("commitment/{hash}")));
    assert_eq!(stored["inbox_level"], commitment.inbox_level);
    assert_eq!(stored["compressed_state"], commitment.compressed_state.to_base58());
    assert_eq!(
        l1.get(&path(&format!("inbox_level/{}/commitments", commitment.inbox_level))),
        Value::Null,
        "cemented"
    );
    assert_eq!(
        l1.get(&path(&format!("commitment/{hash}/can_be_cemented"))),
        json!(false)
    );
    assert_eq!(l1.get(&path("whitelist")), Value::Null);
    assert_eq!(l1.get(&path("last_whitelist_update")), Value::Null);
    let staker_pkh = staker.public_key().hash();
    assert_eq!(
        l1.get(&path(&format!("staker1/{staker_pkh}/staker2/{operator_pkh}/timeout"))),
        Value::Null
    );
    assert_eq!(l1.get(&path(&format!("staker/{staker_pkh}/games"))), json!([]));
    let ticket = json!({"ticketer": "KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq", "content_type": {"prim": "unit"}, "content": {"prim": "Unit"}});
    assert_eq!(l1.post(&path("ticket_balance"), &ticket).unwrap(), json!("0"));
    assert_eq!(l1.post(&path("ticket_balance"), &json!({})).unwrap_err().0, 400);
    let manager_key = format!("/chains/main/blocks/head/context/contracts/{operator_pkh}/manager_key");
    assert_eq!(l1.get(&manager_key), json!(operator.public_key().to_base58()));
    let fresh = SecretKey::ed25519_from_seed([43; 32]).public_key().hash();
    assert_eq!(
        l1.get(&format!(
            "/chains/main/blocks/head/context/contracts/{fresh}/manager_key"
        )),
        Value::Null
    );
    assert!(l1.get("/chains/main/blocks/head/context/constants")["smart_rollup_stake_amount"].is_string());
    assert_eq!(
        l1.get("/chains/main/blocks/head/protocols")["protocol"],
        soru_l1::PROTOCOL_HASH
    );
    assert!(l1.get("/version")["network_version"]["chain_name"]
        .as_str()
        .unwrap()
        .contains("SANDBOXED"));

    // Forge, simulate and preapply an add_messages: the forged bytes are
    // soru-core's, the simulation applies on a copy of the head, preapply
    // checks the signature.
    let branch = l1.get("/chains/main/blocks/head/hash");
    let sender_pkh = sender.public_key().hash();
    let content = json!({
        "kind": "smart_rollup_add_messages", "source": sender_pkh, "fee": "20000",
        "counter": (l1.counter(&sender_pkh) + 1).to_string(), "gas_limit": "5000", "storage_limit": "0",
        "message": ["0102"],
    });
    let unsigned = json!({"branch": branch, "contents": [content]});
    let forged = l1
        .post("/chains/main/blocks/head/helpers/forge/operations", &unsigned)
        .unwrap();
    let op: soru_core::operation::UnsignedOperation = serde_json::from_value(unsigned.clone()).unwrap();
    assert_eq!(forged, json!(hex::encode(op.forge())));
    let simulated = l1
        .post(
            "/chains/main/blocks/head/helpers/scripts/simulate_operation",
            &json!({"operation": unsigned, "chain_id": l1.get("/chains/main/chain_id")}),
        )
        .unwrap();
    let result = &simulated["contents"][0]["metadata"]["operation_result"];
    assert_eq!(result["status"], "applied", "{simulated}");
    assert!(result["consumed_milligas"].as_str().unwrap().parse::<u64>().unwrap() > 100_000);
    let signed = op.clone().sign(&sender).unwrap();
    let mut preapply = unsigned.clone();
    preapply["signature"] = json!(signed.signature.to_generic_base58());
    preapply["protocol"] = json!(soru_l1::PROTOCOL_HASH);
    let applied = l1
        .post(
            "/chains/main/blocks/head/helpers/preapply/operations",
            &json!([preapply.clone()]),
        )
        .unwrap();
    assert_eq!(
        applied[0]["contents"][0]["metadata"]["operation_result"]["status"],
        "applied"
    );
    preapply["signature"] = json!(soru_core::Signature::from_bytes([0; 64]).to_generic_base58());
    let (code, error) = l1
        .post(
            "/chains/main/blocks/head/helpers/preapply/operations",
            &json!([preapply]),
        )
        .unwrap_err();
    assert_eq!(code, 400);
    assert_eq!(error[0]["id"], "proto.alpha.operation.invalid_signature");
    let pending = l1.get("/chains/main/mempool/pending_operations");
    assert_eq!(pending["validated"], json!([]), "simulations inject nothing");

    // A restart serves the same chain.
    let head = l1.get("/chains/main/blocks/head/hash");
    let balance_path = format!("/chains/main/blocks/head/context/contracts/{operator_pkh}/balance");
    let balance = l1.get(&balance_path);
    l1.stop();
    let l1 = L1::start(dir.path());
    assert_eq!(l1.get("/chains/main/blocks/head/hash"), head);
    assert_eq!(l1.get(&balance_path), balance);
    assert_eq!(l1.get(&lcc_path), lcc);
    l1.bake();
    assert!(l1.head_level() > 0);
}

#[test]
fn monitor_heads_streams_new_heads_and_bad_requests_get_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = L1::start(dir.path());
    let response = ureq::get(&format!("{}/monitor/heads/main", l1.url)).call().unwrap();
    let mut reader = BufReader::new(response.into_reader());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["level"], 0);
    l1.bake();
    let mut next = String::new();
    reader.read_line(&mut next).unwrap();
    let next: Value = serde_json::from_str(&next).unwrap();
    assert_eq!(next["level"], 1);
    assert_eq!(next["predecessor"], first["hash"]);

    // Malformed requests: 4xx with an Octez error list.
    for (path, body) in [
        ("/injection/operation", json!(42)),
        ("/injection/operation", json!("zz")),
        (
            "/chains/main/blocks/head/helpers/forge/operations",
            json!({"branch": 1}),
        ),
    ] {
        let (code, error) = l1.post(path, &body).unwrap_err();
        assert_eq!(code, 400, "{path}");
        assert!(error[0]["id"].is_string(), "{error}");
    }
    let code = match ureq::get(&format!("{}/chains/main/blocks/nope", l1.url)).call() {
        Err(ureq::Error::Status(code, _)) => code,
        other => panic!("{other:?}"),
    };
    assert_eq!(code, 404);
    let code = match ureq::post(&format!("{}/injection/operation", l1.url)).send_string("{not json") {
        Err(ureq::Error::Status(code, _)) => code,
        other => panic!("{other:?}"),
    };
    assert_eq!(code, 400);
    // Block ids: head~N, level, hash.
    l1.bake();
    let one = l1.get("/chains/main/blocks/1/hash");
    assert_eq!(l1.get("/chains/main/blocks/head~1/hash"), one);
    assert_eq!(
        l1.get(&format!("/chains/main/blocks/{}/hash", one.as_str().unwrap())),
        one
    );
}

#[test]
fn a_new_branch_replaces_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = L1::start(dir.path());
    for _ in 0..3 {
        l1.bake();
    }
    let old_two = l1.get("/chains/main/blocks/2/hash");
    let old_three = l1.get("/chains/main/blocks/3/hash");
    let status = Command::new(env!("CARGO_BIN_EXE_soru"))
        .args(["l1", "bake", "--from", "2", "--endpoint", &l1.url])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(l1.head_level(), 2);
    assert_ne!(l1.get("/chains/main/blocks/2/hash"), old_two);
    assert_eq!(
        l1.get("/chains/main/blocks/head/header")["predecessor"],
        l1.get("/chains/main/blocks/1/hash")
    );
    // The old branch's blocks are still readable by hash.
    let old = l1.get(&format!("/chains/main/blocks/{}/header", old_three.as_str().unwrap()));
    assert_eq!(old["level"], 3);
}
