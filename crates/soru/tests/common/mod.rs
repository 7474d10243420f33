//! Helpers shared by the end-to-end tests: a `soru l1` process on a
//! loopback port and a small client for its RPC.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use soru_core::base58::{CommitmentHash, SmartRollupAddress};
use soru_core::encoding::Nat;
use soru_core::operation::{ManagerOperation, OperationKind, UnsignedOperation};
use soru_core::params::ProtocolParams;
use soru_core::Commitment;
use soru_core::{BlockHash, PublicKeyHash, SecretKey};
use soru_l1::chain::BOOTSTRAP_SECRET_KEYS;
use soru_node::l1_block::{inbox_messages, BlockHeader};
use soru_node::{CoreConfig, RollupCore};
use soru_protocol::inbox::Inbox;
use soru_pvm::PvmConfig;

pub(crate) const ECHO: &[u8] = include_bytes!("../../../../kernels/wasm/echo.wasm");

/// A `soru l1` process, killed when dropped.
pub(crate) struct L1 {
    child: Child,
    pub(crate) url: String,
}

impl L1 {
    pub(crate) fn start(dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_soru"))
            .args(["l1", "run", "--manual", "--rpc-addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("soru l1 starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split("RPC on ")
            .nth(1)
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .trim()
            .to_string();
        Self { child, url }
    }

    pub(crate) fn get(&self, path: &str) -> Value {
        ureq::get(&format!("{}{path}", self.url))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .into_json()
            .unwrap()
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> Result<Value, (u16, Value)> {
        match ureq::post(&format!("{}{path}", self.url)).send_json(body.clone()) {
            Ok(response) => Ok(response.into_json().unwrap()),
            Err(ureq::Error::Status(code, response)) => Err((code, response.into_json().unwrap_or(Value::Null))),
            Err(e) => panic!("POST {path}: {e}"),
        }
    }

    pub(crate) fn bake(&self) -> u32 {
        let head = self.post("/soru/bake", &json!({})).unwrap();
        head["level"].as_u64().unwrap() as u32
    }

    pub(crate) fn head_level(&self) -> u32 {
        self.get("/chains/main/blocks/head/header")["level"].as_u64().unwrap() as u32
    }

    pub(crate) fn counter(&self, pkh: &PublicKeyHash) -> u128 {
        let counter = self.get(&format!("/chains/main/blocks/head/context/contracts/{pkh}/counter"));
        counter.as_str().unwrap().parse().unwrap()
    }

    /// Signs `kinds` as one group from `key` and injects it.
    pub(crate) fn inject(
        &self,
        key: &SecretKey,
        kinds: Vec<(OperationKind, u64, u64)>,
    ) -> Result<String, (u16, Value)> {
        let source = key.public_key().hash();
        let first = self.counter(&source) + 1;
        let contents = kinds
            .into_iter()
            .enumerate()
            .map(|(i, (kind, gas, storage))| ManagerOperation {
                source,
                fee: Nat(200_000),
                counter: Nat(first + i as u128),
                gas_limit: Nat(gas.into()),
                storage_limit: Nat(storage.into()),
                kind,
            })
            .collect();
        let branch: String = serde_json::from_value(self.get("/chains/main/blocks/head/hash")).unwrap();
        let op = UnsignedOperation {
            branch: BlockHash::from_base58(&branch).unwrap(),
            contents,
        }
        .sign(key)
        .unwrap();
        self.post("/injection/operation", &json!(hex::encode(op.to_bytes())))
            .map(|v| v.as_str().unwrap().to_string())
    }

    /// The content metadata (results and internal results) of the head
    /// block's operation `hash`.
    pub(crate) fn metadata(&self, hash: &str) -> Vec<Value> {
        let block = self.get("/chains/main/blocks/head");
        let op = block["operations"][3]
            .as_array()
            .unwrap()
            .iter()
            .find(|op| op["hash"] == hash)
            .unwrap_or_else(|| panic!("{hash} is not in the head block"))
            .clone();
        op["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["metadata"].clone())
            .collect()
    }

    /// The content results of the head block's operation `hash`.
    pub(crate) fn results(&self, hash: &str) -> Vec<Value> {
        self.metadata(hash)
            .into_iter()
            .map(|m| m["operation_result"].clone())
            .collect()
    }

    pub(crate) fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for L1 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn bootstrap(i: usize) -> SecretKey {
    SecretKey::from_base58(BOOTSTRAP_SECRET_KEYS[i]).unwrap()
}

pub(crate) fn block_inbox_hash(l1: &L1, level: u32) -> Inbox {
    Inbox::from_json(&l1.get(&format!("/chains/main/blocks/{level}/context/smart_rollups/all/inbox"))).unwrap()
}

/// The sandbox PVM configuration.
pub(crate) fn pvm_config() -> PvmConfig {
    PvmConfig::from_params(&ProtocolParams::sandbox().smart_rollup.pvm)
}

/// The reveals a rollup node serves without a preimage directory: the
/// rollup's metadata (address ‖ origination level, 24 bytes).
struct Metadata {
    rollup: SmartRollupAddress,
    origination_level: u32,
}

impl soru_fast::RevealOracle for Metadata {
    fn reveal(&self, request: &soru_pvm::RevealRequest) -> Option<Vec<u8>> {
        match request {
            soru_pvm::RevealRequest::Metadata => Some(soru_protocol::refutation_proof::metadata(
                &self.rollup,
                self.origination_level,
            )),
            soru_pvm::RevealRequest::RawData(_) => None,
        }
    }
}

/// A rollup node's core for the echo rollup originated at
/// `origination_level`, from the L1's inbox at that block.
pub(crate) fn rollup_core(l1: &L1, dir: &Path, rollup: SmartRollupAddress, origination_level: u32) -> RollupCore {
    rollup_core_for(l1, dir, rollup, origination_level, ECHO)
}

/// A rollup node's core for a rollup booted with `kernel`.
pub(crate) fn rollup_core_for(
    l1: &L1,
    dir: &Path,
    rollup: SmartRollupAddress,
    origination_level: u32,
    kernel: &[u8],
) -> RollupCore {
    let params = ProtocolParams::sandbox();
    RollupCore::create(
        dir,
        CoreConfig {
            rollup,
            origination_level,
            commitment_period: params.smart_rollup.commitment_period_in_blocks,
            past_commitment_periods: vec![],
            pvm: pvm_config(),
        },
        kernel,
        block_inbox_hash(l1, origination_level),
        std::sync::Arc::new(Metadata {
            rollup,
            origination_level,
        }),
    )
    .unwrap()
}

/// Feeds the core every block after its head up to `to`, as a rollup node
/// does (each level's inbox checked against the L1's); returns the
/// commitments built.
pub(crate) fn follow(l1: &L1, core: &mut RollupCore, to: u32) -> Vec<(CommitmentHash, Commitment)> {
    let mut commitments = Vec::new();
    for level in core.head().level + 1..=to {
        let block = l1.get(&format!("/chains/main/blocks/{level}"));
        let predecessor = l1.get(&format!("/chains/main/blocks/{}", level - 1));
        let messages = inbox_messages(&block).unwrap();
        let info = BlockHeader::of_block(&predecessor).unwrap().info();
        let l1_inbox = block_inbox_hash(l1, level);
        let processed = core.process_level(info, None, &messages, l1_inbox.hash()).unwrap();
        commitments.extend(processed.commitment);
    }
    commitments
}
