//! Reading what a block adds to the inbox from Octez-RPC-shaped JSON:
//! applied `add_messages` contents and applied internal transfers from
//! contracts to rollups, in operation order; failed and backtracked ones,
//! other internal operations and consensus operations are not messages;
//! malformed blocks are refused. Then a node fed from such blocks agrees
//! with the L1's inbox.

use std::sync::Arc;

use serde_json::json;
use soru_core::base58::{BlockHash, ContractKt1Hash, SmartRollupAddress};
use soru_core::encoding::Encode;
use soru_core::inbox::{InboxMessage, InternalMessage, Transfer};
use soru_core::micheline::Micheline;
use soru_core::params::ProtocolParams;
use soru_core::PublicKeyHash;
use soru_node::l1_block::{inbox_messages, BlockError, BlockHeader};
use soru_node::{CoreConfig, RollupCore};
use soru_protocol::inbox::InboxArchive;
use soru_pvm::PvmConfig;

fn kt1() -> ContractKt1Hash {
    ContractKt1Hash([1; 20])
}

fn tz1() -> PublicKeyHash {
    PublicKeyHash::ed25519([2; 20])
}

fn sr1() -> SmartRollupAddress {
    SmartRollupAddress([3; 20])
}

fn applied() -> serde_json::Value {
    json!({"status": "applied", "consumed_milligas": "1000"})
}

/// A block at `level` with consensus operations and three manager
/// operations (one failed), built like the Octez RPC's JSON.
fn block(level: u32, tag: u8) -> serde_json::Value {
    json!({
        "protocol": "PtAlpha",
        "chain_id": "NetXdQprcVkpaWU",
        "hash": BlockHash([level as u8; 32]).to_string(),
        "header": {"level": level, "proto": 2, "predecessor": BlockHash([level as u8 - 1; 32]).to_string(),
                   "timestamp": format!("2026-11-21T10:00:{:02}Z", level % 60)},
        "operations": [
            [{"hash": "oo1", "branch": "B", "contents": [{"kind": "attestation", "slot": 0,
              "metadata": {"delegate": tz1().to_string()}}]}],
            [], [],
            [
                {"hash": "oo2", "branch": "B", "contents": [
                    {"kind": "smart_rollup_add_messages", "source": tz1().to_string(), "fee": "1000", "counter": "1",
                     "gas_limit": "1000", "storage_limit": "0", "message": [hex::encode([tag, 1]), hex::encode([tag, 2])],
                     "metadata": {"balance_updates": [], "operation_result": applied()}},
                    {"kind": "transaction", "source": tz1().to_string(), "fee": "1000", "counter": "2",
                     "gas_limit": "1000", "storage_limit": "0", "amount": "0", "destination": kt1().to_string(),
                     "metadata": {"balance_updates": [], "operation_result": applied(),
                        "internal_operation_results": [
                            {"kind": "transaction", "source": kt1().to_string(), "nonce": 0, "amount": "0",
                             "destination": sr1().to_string(),
                             "parameters": {"entrypoint": "default", "value": {"bytes": hex::encode([tag, 9])}},
                             "result": applied()},
                            {"kind": "transaction", "source": kt1().to_string(), "nonce": 1, "amount": "5",
                             "destination": ContractKt1Hash([4; 20]).to_string(), "result": applied()},
                            {"kind": "transaction", "source": kt1().to_string(), "nonce": 2, "amount": "0",
                             "destination": sr1().to_string(),
                             "parameters": {"entrypoint": "default", "value": {"int": "7"}},
                             "result": {"status": "backtracked"}}
                        ]}}
                ], "signature": "sig"},
                {"hash": "oo3", "branch": "B", "contents": [
                    {"kind": "smart_rollup_add_messages", "source": tz1().to_string(), "fee": "1", "counter": "3",
                     "gas_limit": "1", "storage_limit": "0", "message": [hex::encode([tag, 66])],
                     "metadata": {"balance_updates": [], "operation_result": {"status": "failed", "errors": []}}}
                ], "signature": "sig"},
                {"hash": "oo4", "branch": "B", "contents": [
                    {"kind": "smart_rollup_add_messages", "source": tz1().to_string(), "fee": "1", "counter": "4",
                     "gas_limit": "1", "storage_limit": "0", "message": [hex::encode([tag, 3])],
                     "metadata": {"balance_updates": [], "operation_result": applied()}}
                ], "signature": "sig"}
            ]
        ]
    })
}

#[test]
fn messages_in_operation_order() {
    let messages = inbox_messages(&block(20, 0xaa)).unwrap();
    let transfer = InboxMessage::Internal(InternalMessage::Transfer(Transfer {
        payload: Micheline::Bytes(vec![0xaa, 9]),
        sender: kt1(),
        source: tz1(),
        destination: sr1(),
    }))
    .to_bytes();
    assert_eq!(
        messages,
        vec![vec![1, 0xaa, 1], vec![1, 0xaa, 2], transfer, vec![1, 0xaa, 3]]
    );
    let header = BlockHeader::of_block(&block(20, 0xaa)).unwrap();
    assert_eq!(header.level, 20);
    assert_eq!(header.hash, BlockHash([20; 32]));
    assert_eq!(header.info().predecessor, BlockHash([20; 32]));
}

#[test]
fn malformed_blocks_are_refused() {
    assert!(matches!(inbox_messages(&json!({})), Err(BlockError::Malformed(_))));
    let mut bad = block(20, 1);
    bad["operations"][3][0]["contents"][0]["message"][0] = json!("zz");
    assert!(inbox_messages(&bad).is_err());
    let mut bad = block(20, 1);
    bad["operations"][3][0]["contents"][1]["metadata"]["internal_operation_results"][0]["parameters"]["value"] =
        json!({"prim": "no such primitive"});
    assert!(inbox_messages(&bad).is_err());
    let mut bad = block(20, 1);
    bad["header"]["timestamp"] = json!("yesterday");
    assert!(BlockHeader::of_block(&bad).is_err());
}

#[test]
fn a_node_fed_from_blocks_agrees_with_the_l1() {
    let dir = tempfile::tempdir().unwrap();
    let genesis_block = block(10, 0);
    let mut l1 = InboxArchive::genesis(
        10,
        BlockHeader::of_block(&block(9, 0)).unwrap().info(),
        b"\x00\x04\x00\x00\x00\x01x",
    )
    .unwrap();
    let config = CoreConfig {
        rollup: sr1(),
        origination_level: 10,
        commitment_period: 2,
        past_commitment_periods: vec![],
        pvm: PvmConfig::from_params(&ProtocolParams::mainnet().smart_rollup.pvm),
    };
    let echo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kernels/wasm/echo.wasm")).unwrap();
    let mut core = RollupCore::create(
        dir.path(),
        config,
        &echo,
        l1.inbox().clone(),
        Arc::new(soru_fast::NoReveals),
    )
    .unwrap();
    let mut predecessor = BlockHeader::of_block(&genesis_block).unwrap();
    for level in 11..=14 {
        let block = block(level, level as u8);
        let messages = inbox_messages(&block).unwrap();
        // The L1 builds its inbox from the same operations.
        let l1_hash = l1.add_level(predecessor.info(), None, &messages).unwrap();
        let processed = core
            .process_level(predecessor.info(), None, &messages, l1_hash)
            .unwrap();
        assert_eq!(processed.commitment.is_some(), level % 2 == 0, "level {level}");
        predecessor = BlockHeader::of_block(&block).unwrap();
    }
    assert_eq!(core.head().level, 14);
}

#[test]
fn the_l1_inbox_from_its_json() {
    let mut l1 = InboxArchive::genesis(
        10,
        BlockHeader::of_block(&block(9, 0)).unwrap().info(),
        b"\x00\x04\x00\x00\x00\x01x",
    )
    .unwrap();
    for level in 11..30 {
        l1.add_level(
            BlockHeader::of_block(&block(level - 1, 0)).unwrap().info(),
            None,
            &[vec![1, level as u8]],
        )
        .unwrap();
    }
    let inbox = l1.inbox().clone();
    let json = soru_node::l1_block::inbox_to_json(&inbox);
    assert!(json["old_levels_messages"]["back_pointers"][0]
        .as_str()
        .unwrap()
        .starts_with("srib1"));
    let read = soru_node::l1_block::inbox_of_json(&json).unwrap();
    assert_eq!(read, inbox);
    assert_eq!(read.hash(), inbox.hash());
    let mut bad = json.clone();
    bad["old_levels_messages"]["back_pointers"][0] = json!("srib2notahash");
    assert!(soru_node::l1_block::inbox_of_json(&bad).is_err());
}
