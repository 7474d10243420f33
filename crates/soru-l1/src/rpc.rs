//! The RPC server: Octez's paths and JSON over HTTP/1.1 (loopback by
//! default), one thread per request, and the block producer.
//!
//! Errors are Octez's: a JSON list `[{"kind", "id", …}]` with status 400
//! for a malformed request, 404 for an unknown path or object, 500 for an
//! internal failure. soru's own routes live under `/soru/` (`POST
//! /soru/bake`, which bakes a block now, or a new branch with
//! `{"from_level": N}`).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use soru_core::base58::{CommitmentHash, ContractKt1Hash, SmartRollupAddress};
use soru_core::micheline::Micheline;
use soru_core::operation::{SignedOperation, UnsignedOperation};
use soru_core::time::Timestamp;
use soru_core::{Contract, PublicKeyHash, Signature};
use soru_michelson::Destination;
use soru_protocol::inbox::Inbox;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::apply::SignatureCheck;
use crate::chain::{Chain, ChainError};
use crate::error::L1Error;
use crate::ledger::Ledger;
use crate::rollups;

/// Largest request body read, in bytes.
const MAX_BODY: u64 = 4 << 20;

/// The chain behind a lock, and the heads for `/monitor/heads`.
#[derive(Debug)]
pub struct Node {
    chain: Mutex<Chain>,
    /// (number of heads so far, the head's header JSON).
    head: Mutex<(u64, Value)>,
    new_head: Condvar,
}

/// Seconds since the epoch, now.
pub fn now() -> Timestamp {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Timestamp::from_seconds(seconds)
}

impl Node {
    /// Wraps a chain.
    pub fn new(chain: Chain) -> Arc<Self> {
        let head = head_json(&chain);
        Arc::new(Self {
            chain: Mutex::new(chain),
            head: Mutex::new((0, head)),
            new_head: Condvar::new(),
        })
    }

    /// The chain, locked.
    pub fn chain(&self) -> MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn announce(&self, chain: &Chain) {
        let mut head = self.head.lock().unwrap_or_else(|e| e.into_inner());
        *head = (head.0 + 1, head_json(chain));
        self.new_head.notify_all();
    }

    /// Bakes a block now (or a new branch at `from_level`).
    pub fn bake(&self, from_level: Option<u32>) -> Result<Value, ChainError> {
        let mut chain = self.chain();
        let hash = match from_level {
            Some(level) => chain.bake_from(level, now())?,
            None => chain.bake(now())?,
        };
        let level = chain.head().header.level;
        self.announce(&chain);
        Ok(json!({"hash": hash, "level": level}))
    }

    /// Bakes a block every `interval` until the process ends.
    pub fn produce_blocks(self: &Arc<Self>, interval: Duration) -> std::thread::JoinHandle<()> {
        let node = self.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(interval);
            if let Err(e) = node.bake(None) {
                tracing::error!(error = %e, "baking failed");
            }
        })
    }
}

/// A `/monitor/heads` element: the hash, the shell header's fields and
/// the protocol data in hex.
fn head_json(chain: &Chain) -> Value {
    let header = &chain.head().header;
    let full = header.to_json(chain.protocol(), &chain.chain_id());
    let mut value = json!({"hash": header.hash(), "protocol_data": hex::encode(header.protocol_data_bytes())});
    for field in [
        "level",
        "proto",
        "predecessor",
        "timestamp",
        "validation_pass",
        "operations_hash",
        "fitness",
        "context",
    ] {
        value[field] = full[field].clone();
    }
    value
}

/// The stack of a request's thread (reserved, not committed).
const REQUEST_STACK_SIZE: usize = 32 * 1024 * 1024;

/// An HTTP error with Octez's error list as its body.
#[derive(Debug)]
pub(crate) struct RpcError {
    status: u16,
    body: Value,
}

impl RpcError {
    fn new(status: u16, id: &str, msg: impl Into<String>) -> Self {
        Self {
            status,
            body: json!([{"kind": "permanent", "id": id, "msg": msg.into()}]),
        }
    }

    pub(crate) fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(400, "rpc.bad_request", msg)
    }

    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::new(404, "rpc.not_found", msg)
    }
}

impl From<crate::scripts::HelperError> for RpcError {
    fn from(e: crate::scripts::HelperError) -> Self {
        use crate::scripts::HelperError;
        let p = crate::PROTOCOL_ERROR_PREFIX;
        match e {
            HelperError::BadInput(msg) => Self::bad_request(msg),
            HelperError::Typecheck(error) => {
                Self::new(400, &format!("{p}.michelson_v1.ill_typed_contract"), error.to_string())
            }
            HelperError::Runtime(error) => {
                let cause = match &error {
                    soru_michelson::RuntimeError::Failwith(with) => json!({
                        "kind": "temporary", "id": format!("{p}.michelson_v1.script_rejected"),
                        "with": with.to_json(), "msg": error.to_string(),
                    }),
                    soru_michelson::RuntimeError::OutOfGas => json!({
                        "kind": "temporary", "id": format!("{p}.gas_exhausted.operation"), "msg": error.to_string(),
                    }),
                    soru_michelson::RuntimeError::Overflow => json!({
                        "kind": "temporary", "id": format!("{p}.michelson_v1.script_overflow"), "msg": error.to_string(),
                    }),
                    _ => {
                        json!({"kind": "temporary", "id": format!("{p}.michelson_v1.runtime_error"), "msg": error.to_string()})
                    }
                };
                Self {
                    status: 400,
                    body: json!([
                        {"kind": "temporary", "id": format!("{p}.michelson_v1.runtime_error"), "contract_code": "Deprecated"},
                        cause,
                    ]),
                }
            }
        }
    }
}

impl From<L1Error> for RpcError {
    fn from(e: L1Error) -> Self {
        Self {
            status: 400,
            body: json!([e.to_json()]),
        }
    }
}

impl From<ChainError> for RpcError {
    fn from(e: ChainError) -> Self {
        match e {
            ChainError::Operation(op) => op.into(),
            ChainError::UnknownBlock(_) | ChainError::ContextPruned(_) => Self::not_found(e.to_string()),
            ChainError::BadBranchLevel(_) => Self::bad_request(e.to_string()),
            other => Self::new(500, "soru.internal", other.to_string()),
        }
    }
}

pub(crate) type RpcResult = Result<Value, RpcError>;

/// Starts the RPC server on `addr` and serves until the process ends.
/// Returns the address it listens on (useful with port 0).
pub fn serve(node: Arc<Node>, addr: SocketAddr) -> std::io::Result<(SocketAddr, std::thread::JoinHandle<()>)> {
    let server = Server::http(addr).map_err(|e| std::io::Error::other(e.to_string()))?;
    let local = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| std::io::Error::other("not an IP listener"))?;
    let handle = std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let node = node.clone();
            // Requests unparse deeply nested values: a roomy stack.
            let spawned = std::thread::Builder::new()
                .stack_size(REQUEST_STACK_SIZE)
                .spawn(move || handle(&node, request));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start a request thread");
            }
        }
    });
    Ok((local, handle))
}

fn json_header() -> Header {
    Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).expect("a valid header")
}

fn handle(node: &Arc<Node>, mut request: Request) {
    let url = request.url().to_string();
    // Query parameters (`?async`, `?metadata=always`, `?version=1`) change
    // nothing here.
    let path = url.split_once('?').map_or(url.as_str(), |(path, _)| path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = request.method().clone();
    if method == Method::Get && segments == ["monitor", "heads", "main"] {
        stream_heads(node, request);
        return;
    }
    let mut body = Vec::new();
    let read = request.as_reader().take(MAX_BODY + 1).read_to_end(&mut body);
    let result = if read.is_err() {
        Err(RpcError::bad_request("cannot read the request body"))
    } else if body.len() as u64 > MAX_BODY {
        Err(RpcError::new(
            413,
            "rpc.body_too_large",
            format!("bodies are limited to {MAX_BODY} bytes"),
        ))
    } else {
        route(node, &method, &segments, &body)
    };
    let (status, value) = match result {
        Ok(value) => (200, value),
        Err(e) => (e.status, e.body),
    };
    tracing::debug!(%method, %url, status, "rpc");
    let response = Response::from_string(value.to_string())
        .with_status_code(status)
        .with_header(json_header());
    let _ = request.respond(response);
}

/// Streams head headers as chunks, the current head first.
fn stream_heads(node: &Arc<Node>, request: Request) {
    let mut writer = request.into_writer();
    let start = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    if writer.write_all(start.as_bytes()).and_then(|_| writer.flush()).is_err() {
        return;
    }
    let mut seen = None;
    loop {
        let (seq, value) = {
            let mut head = node.head.lock().unwrap_or_else(|e| e.into_inner());
            while seen == Some(head.0) {
                let (guard, _) = node
                    .new_head
                    .wait_timeout(head, Duration::from_secs(30))
                    .unwrap_or_else(|e| e.into_inner());
                head = guard;
            }
            head.clone()
        };
        seen = Some(seq);
        let mut chunk = value.to_string();
        chunk.push('\n');
        let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        if writer
            .write_all(framed.as_bytes())
            .and_then(|_| writer.flush())
            .is_err()
        {
            return;
        }
    }
}

fn parse_body(body: &[u8]) -> Result<Value, RpcError> {
    serde_json::from_slice(body).map_err(|e| RpcError::bad_request(format!("the body is not JSON: {e}")))
}

fn route(node: &Arc<Node>, method: &Method, segments: &[&str], body: &[u8]) -> RpcResult {
    match (method, segments) {
        (Method::Get, ["version"]) => Ok(version(&node.chain())),
        (Method::Get, ["protocols"]) => Ok(json!([crate::PROTOCOL_HASH])),
        (Method::Get, ["chains", "main", "chain_id"]) => Ok(json!(node.chain().chain_id())),
        (Method::Get, ["chains", "main", "blocks"]) => Ok(json!([[node.chain().head().hash]])),
        (Method::Get, ["chains", "main", "mempool", "pending_operations"]) => {
            let chain = node.chain();
            let validated: Vec<Value> = chain
                .mempool()
                .iter()
                .map(|op| {
                    let mut v = serde_json::to_value(&op.operation).unwrap_or(Value::Null);
                    v["hash"] = json!(op.hash);
                    v["signature"] = json!(op.operation.signature.to_generic_base58());
                    v
                })
                .collect();
            Ok(
                json!({"validated": validated, "refused": [], "outdated": [], "branch_refused": [],
                      "branch_delayed": [], "unprocessed": []}),
            )
        }
        (Method::Post, ["injection", "operation"]) => {
            let hex_op = parse_body(body)?;
            let text = hex_op
                .as_str()
                .ok_or_else(|| RpcError::bad_request("the body must be a JSON string of hex"))?;
            let bytes =
                hex::decode(text.trim()).map_err(|e| RpcError::from(L1Error::ParseError(format!("not hex: {e}"))))?;
            let hash = node.chain().inject(&bytes)?;
            Ok(json!(hash))
        }
        (Method::Post, ["soru", "bake"]) => {
            let from_level = if body.is_empty() {
                None
            } else {
                let value = parse_body(body)?;
                match value.get("from_level") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(
                        v.as_u64()
                            .and_then(|l| u32::try_from(l).ok())
                            .ok_or_else(|| RpcError::bad_request("from_level must be a level"))?,
                    ),
                }
            };
            Ok(node.bake(from_level)?)
        }
        (_, ["chains", "main", "blocks", id, rest @ ..]) => block_route(node, method, id, rest, body),
        _ => Err(RpcError::not_found(format!("no service at /{}", segments.join("/")))),
    }
}

fn version(chain: &Chain) -> Value {
    let name = if chain.config().profile == "sandbox" {
        "SORU_SANDBOXED"
    } else {
        "SORU_MAINNET"
    };
    json!({
        "version": {"major": 0, "minor": 1, "additional_info": "release"},
        "network_version": {"chain_name": name, "distributed_db_version": 2, "p2p_version": 1},
        "commit_info": {"commit_hash": env!("CARGO_PKG_VERSION"), "commit_date": "1970-01-01 00:00:00 +0000"},
    })
}

fn block_route(node: &Arc<Node>, method: &Method, id: &str, rest: &[&str], body: &[u8]) -> RpcResult {
    let chain = node.chain();
    let hash = chain.resolve(id)?;
    let stored = chain
        .stored(&hash)?
        .ok_or_else(|| RpcError::not_found(format!("block {hash} is not stored")))?;
    let block = &stored.json;
    match (method, rest) {
        (Method::Get, []) => Ok(block.clone()),
        (Method::Get, ["header"]) => Ok(block["header"].clone()),
        (Method::Get, ["hash"]) => Ok(json!(hash)),
        (Method::Get, ["metadata"]) => Ok(block["metadata"].clone()),
        (Method::Get, ["protocols"]) => Ok(json!({
            "protocol": block["protocol"], "next_protocol": block["metadata"]["next_protocol"]
        })),
        (Method::Get, ["operations"]) => Ok(block["operations"].clone()),
        (Method::Get, ["operations", pass]) => {
            let pass: usize = pass
                .parse()
                .map_err(|_| RpcError::bad_request("a validation pass is a number"))?;
            block["operations"]
                .get(pass)
                .cloned()
                .ok_or_else(|| RpcError::not_found("no such validation pass"))
        }
        (Method::Get, ["operations", pass, index]) => {
            let pass: usize = pass
                .parse()
                .map_err(|_| RpcError::bad_request("a validation pass is a number"))?;
            let index: usize = index
                .parse()
                .map_err(|_| RpcError::bad_request("an index is a number"))?;
            block["operations"]
                .get(pass)
                .and_then(|ops| ops.get(index))
                .cloned()
                .ok_or_else(|| RpcError::not_found("no such operation"))
        }
        (Method::Get, ["operation_hashes"]) => {
            let hashes: Vec<Vec<Value>> = block["operations"]
                .as_array()
                .map(|passes| {
                    passes
                        .iter()
                        .map(|ops| {
                            ops.as_array()
                                .map(|ops| ops.iter().map(|op| op["hash"].clone()).collect())
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(json!(hashes))
        }
        (Method::Get, ["context", "smart_rollups", "all", "inbox"]) => {
            let bytes = hex::decode(&stored.inbox).map_err(|e| RpcError::new(500, "soru.internal", e.to_string()))?;
            let inbox = Inbox::from_bytes(&bytes).map_err(|e| RpcError::new(500, "soru.internal", e.to_string()))?;
            Ok(inbox.to_json())
        }
        (Method::Get, ["context", path @ ..]) => {
            let level = stored.header.level;
            let main = chain.block_at(level).is_some_and(|b| b.hash == hash);
            if !main {
                return Err(RpcError::not_found(format!("block {hash} is not on the main chain")));
            }
            let ledger = chain.ledger_at(level)?;
            let params = chain.params().clone();
            drop(chain);
            context_route(&ledger, &params, level, path)
        }
        (Method::Post, ["context", "smart_rollups", "smart_rollup", address, "ticket_balance"]) => {
            let address = SmartRollupAddress::from_base58(address)
                .map_err(|e| RpcError::bad_request(format!("`{address}` is not a rollup address: {e}")))?;
            let ticket = parse_body(body)?;
            if chain.ledger().rollup(&address).is_none() {
                return Err(L1Error::SmartRollupDoesNotExist(address).into());
            }
            let key = posted_ticket_key(&ticket, &Destination::SmartRollup(address))?;
            Ok(json!(chain.ledger().ticket_balance_by_key(&key).to_string()))
        }
        (Method::Post, ["context", "contracts", id, "ticket_balance"]) => {
            let owner = destination_of(id)?;
            let ticket = parse_body(body)?;
            let key = posted_ticket_key(&ticket, &owner)?;
            Ok(json!(chain.ledger().ticket_balance_by_key(&key).to_string()))
        }
        (Method::Post, ["helpers", "forge", "operations"]) => {
            let value = parse_body(body)?;
            let op: UnsignedOperation =
                serde_json::from_value(value).map_err(|e| RpcError::bad_request(format!("not an operation: {e}")))?;
            Ok(json!(hex::encode(op.forge())))
        }
        (Method::Post, ["helpers", "preapply", "operations"]) => {
            let value = parse_body(body)?;
            let ops = value
                .as_array()
                .ok_or_else(|| RpcError::bad_request("preapply takes a list of operations"))?;
            let mut results = Vec::new();
            for op in ops {
                let signed = signed_of_json(op)?;
                let applied = chain.simulate(&signed.to_bytes(), SignatureCheck::Verify)?;
                results.push(json!({"contents": applied.contents, "signature": signed.signature.to_generic_base58()}));
            }
            Ok(json!(results))
        }
        (Method::Post, ["helpers", "scripts", helper @ ("run_code" | "pack_data" | "typecheck_code")]) => {
            let input = parse_body(body)?;
            let level = stored.header.level;
            let ledger = chain.ledger_at(level)?;
            let params = chain.params().clone();
            let facts = crate::scripts::BlockFacts {
                ledger: &ledger,
                chain_id: chain.chain_id(),
                level: level + 1,
                now: Timestamp::from_seconds(stored.header.timestamp.seconds + params.minimal_block_delay as i64),
                hard_gas_limit: params.hard_gas_limit_per_operation,
            };
            drop(chain);
            // Scripts recurse on nesting: they run on a thread with the
            // stack the deepest ones need.
            let result = soru_michelson::with_stack(|| match *helper {
                "run_code" => crate::scripts::run_code(&input, &facts),
                "typecheck_code" => crate::scripts::typecheck_code(&input, &facts),
                _ => crate::scripts::pack_data(&input, &facts),
            });
            Ok(result?)
        }
        (Method::Post, ["helpers", "scripts", "simulate_operation" | "run_operation"]) => {
            let value = parse_body(body)?;
            let op = value
                .get("operation")
                .ok_or_else(|| RpcError::bad_request("no `operation`"))?;
            let signed = signed_of_json(op)?;
            let applied = chain.simulate(&signed.to_bytes(), SignatureCheck::Skip)?;
            Ok(json!({"contents": applied.contents}))
        }
        _ => Err(RpcError::not_found(format!(
            "no service at …/blocks/{id}/{}",
            rest.join("/")
        ))),
    }
}

/// `{branch, contents, signature?}` → a signed operation (a missing
/// signature is a zero one, for simulations).
fn signed_of_json(value: &Value) -> Result<SignedOperation, RpcError> {
    let operation: UnsignedOperation = serde_json::from_value(json!({
        "branch": value.get("branch").cloned().unwrap_or(Value::Null),
        "contents": value.get("contents").cloned().unwrap_or(Value::Null),
    }))
    .map_err(|e| RpcError::bad_request(format!("not an operation: {e}")))?;
    if operation.contents.is_empty() {
        return Err(RpcError::bad_request("an operation needs contents"));
    }
    let signature = match value.get("signature").and_then(Value::as_str) {
        Some(text) => Signature::from_base58(text).map_err(|e| RpcError::bad_request(format!("signature: {e}")))?,
        None => Signature::from_bytes([0; 64]),
    };
    Ok(SignedOperation { operation, signature })
}

fn constants(params: &soru_core::params::ProtocolParams) -> Value {
    let r = &params.smart_rollup;
    json!({
        "minimal_block_delay": params.minimal_block_delay.to_string(),
        "blocks_per_cycle": params.blocks_per_cycle,
        "max_operations_time_to_live": params.max_operations_time_to_live,
        "hard_gas_limit_per_operation": params.hard_gas_limit_per_operation.to_string(),
        "hard_gas_limit_per_block": params.hard_gas_limit_per_block.to_string(),
        "hard_storage_limit_per_operation": params.hard_storage_limit_per_operation.to_string(),
        "cost_per_byte": params.cost_per_byte.to_string(),
        "origination_size": params.origination_size,
        "max_operation_data_length": params.max_operation_data_length,
        "proof_of_work_threshold": "-1",
        "smart_rollup_enable": r.enable,
        "smart_rollup_arith_pvm_enable": r.arith_pvm_enable,
        "smart_rollup_riscv_pvm_enable": r.riscv_pvm_enable,
        "smart_rollup_private_enable": r.private_enable,
        "smart_rollup_origination_size": r.origination_size,
        "smart_rollup_challenge_window_in_blocks": r.challenge_window_in_blocks,
        "smart_rollup_stake_amount": r.stake_amount.to_string(),
        "smart_rollup_commitment_period_in_blocks": r.commitment_period_in_blocks,
        "smart_rollup_max_lookahead_in_blocks": r.max_lookahead_in_blocks,
        "smart_rollup_max_active_outbox_levels": r.max_active_outbox_levels,
        "smart_rollup_max_outbox_messages_per_level": r.max_outbox_messages_per_level,
        "smart_rollup_number_of_sections_in_dissection": r.number_of_sections_in_dissection,
        "smart_rollup_timeout_period_in_blocks": r.timeout_period_in_blocks,
        "smart_rollup_max_number_of_cemented_commitments": r.max_number_of_stored_cemented_commitments,
        "smart_rollup_max_number_of_parallel_games": r.max_number_of_parallel_games,
        "smart_rollup_message_size_limit": r.message_size_limit,
        "smart_rollup_max_number_of_messages_per_level": r.max_number_of_messages_per_level.to_string(),
        "smart_rollup_reveal_activation_level": {
            "raw_data": {"Blake2B": 0}, "metadata": 0, "dal_page": 2_147_483_646,
            "dal_parameters": 2_147_483_646, "dal_attested_slots_validity_lag": 2_147_483_646
        },
    })
}

fn pkh_of(text: &str) -> Result<PublicKeyHash, RpcError> {
    PublicKeyHash::from_base58(text).map_err(|e| RpcError::bad_request(format!("`{text}` is not a tz address: {e}")))
}

/// A `tz…`, `KT1…` or `sr1…` address in a path.
fn destination_of(text: &str) -> Result<Destination, RpcError> {
    soru_michelson::Address::from_text(text)
        .filter(|a| a.entrypoint.is_empty())
        .map(|a| a.destination)
        .ok_or_else(|| RpcError::bad_request(format!("`{text}` is not an address")))
}

/// The ticket table row of `owner` for a posted token
/// (`{"ticketer", "content_type", "content"}`), hashed as posted, as
/// Octez does.
fn posted_ticket_key(ticket: &Value, owner: &Destination) -> Result<[u8; 32], RpcError> {
    for field in ["ticketer", "content_type", "content"] {
        if ticket.get(field).is_none() {
            return Err(RpcError::bad_request(format!("a ticket needs `{field}`")));
        }
    }
    let ticketer = ticket["ticketer"]
        .as_str()
        .ok_or_else(|| RpcError::bad_request("`ticketer` is an address"))
        .and_then(destination_of)?;
    let micheline = |field: &str| {
        Micheline::from_json(&ticket[field]).map_err(|e| RpcError::bad_request(format!("`{field}`: {e}")))
    };
    Ok(crate::tickets::row_key_of_posted(
        &ticketer,
        &micheline("content_type")?,
        &micheline("content")?,
        owner,
    ))
}

/// The services of an originated contract.
fn contract_route(ledger: &Ledger, kt1: &ContractKt1Hash, rest: &[&str]) -> RpcResult {
    let contract = ledger
        .contract(kt1)
        .ok_or_else(|| RpcError::from(L1Error::NonExistingContract(*kt1)))?;
    let storage = |form| soru_michelson::unparse(&contract.script.storage, &contract.storage, form).to_json();
    let entrypoints = || {
        contract
            .script
            .entrypoints
            .named()
            .map(|(name, ty)| (name.to_string(), ty.to_micheline().to_json()))
            .collect::<serde_json::Map<_, _>>()
    };
    match rest {
        [] => Ok(json!({
            "balance": contract.balance.to_string(),
            "script": {"code": contract.code.to_json(), "storage": storage(soru_michelson::Form::Readable)},
        })),
        ["balance"] | ["spendable"] | ["full_balance"] => Ok(json!(contract.balance.to_string())),
        ["frozen_bonds"] => Ok(json!("0")),
        ["script"] => Ok(json!({"code": contract.code.to_json(), "storage": storage(soru_michelson::Form::Optimized)})),
        ["storage"] => Ok(storage(soru_michelson::Form::Readable)),
        ["storage", "used_space"] => Ok(json!(contract.used_bytes.to_string())),
        ["storage", "paid_space"] => Ok(json!(contract.paid_bytes.to_string())),
        ["entrypoints"] => Ok(json!({"entrypoints": entrypoints()})),
        ["entrypoints", name] => entrypoints()
            .remove(*name)
            .ok_or_else(|| RpcError::not_found(format!("no entrypoint {name}"))),
        ["all_ticket_balances"] => {
            let tickets = crate::tickets::TicketAmounts::of_value(&contract.script.storage, &contract.storage);
            Ok(json!(tickets
                .iter()
                .map(|(_, (token, amount))| {
                    let mut item = token.to_json();
                    item["amount"] = json!(amount.to_string());
                    item
                })
                .collect::<Vec<_>>()))
        }
        _ => Err(RpcError::not_found(format!(
            "no service at contracts/{kt1}/{}",
            rest.join("/")
        ))),
    }
}

fn context_route(ledger: &Ledger, params: &soru_core::params::ProtocolParams, level: u32, path: &[&str]) -> RpcResult {
    match path {
        ["constants"] => Ok(constants(params)),
        ["contracts", id, rest @ ..] => {
            let contract = Contract::from_base58(id)
                .map_err(|e| RpcError::bad_request(format!("`{id}` is not a contract: {e}")))?;
            let pkh = match contract {
                Contract::Implicit(pkh) => pkh,
                Contract::Originated(kt1) => return contract_route(ledger, &kt1, rest),
            };
            let account = ledger.account(&pkh);
            let balance = account.map_or(0, |a| a.balance);
            match rest {
                [] => Ok(json!({
                    "balance": balance.to_string(),
                    "counter": account.map_or(ledger.global_counter, |a| a.counter).to_string(),
                    "revealed": account.is_some_and(|a| a.manager.is_some()),
                })),
                ["balance"] | ["spendable"] => Ok(json!(balance.to_string())),
                ["full_balance"] => Ok(json!(account.map_or(0, |a| a.balance + a.frozen()).to_string())),
                ["frozen_bonds"] => Ok(json!(account.map_or(0, |a| a.frozen()).to_string())),
                // An unallocated account would start at the global counter.
                ["counter"] => Ok(json!(account.map_or(ledger.global_counter, |a| a.counter).to_string())),
                ["manager_key"] => Ok(account
                    .and_then(|a| a.manager.as_ref())
                    .map_or(Value::Null, |k| json!(k.to_base58()))),
                _ => Err(RpcError::not_found(format!(
                    "no service at contracts/{id}/{}",
                    rest.join("/")
                ))),
            }
        }
        // soru's L1 has no DAL: no skip-list cells at any level.
        ["dal", "skip_list_cells_of_level"] => Ok(json!([])),
        ["smart_rollups", "all"] => Ok(json!(ledger.rollups().map(|(a, _)| a).collect::<Vec<_>>())),
        ["smart_rollups", "smart_rollup", address, rest @ ..] => {
            let address = SmartRollupAddress::from_base58(address)
                .map_err(|e| RpcError::bad_request(format!("`{address}` is not a rollup address: {e}")))?;
            let rollup = ledger
                .rollup(&address)
                .ok_or_else(|| RpcError::from(L1Error::SmartRollupDoesNotExist(address)))?;
            rollups::route(rollup, ledger, params, level, rest)
        }
        _ => Err(RpcError::not_found(format!("no service at context/{}", path.join("/")))),
    }
}

/// Parses a commitment hash from a path segment.
pub(crate) fn commitment_of(text: &str) -> Result<CommitmentHash, RpcError> {
    CommitmentHash::from_base58(text)
        .map_err(|e| RpcError::bad_request(format!("`{text}` is not a commitment hash: {e}")))
}

/// Parses a key hash from a path segment.
pub(crate) fn staker_of(text: &str) -> Result<PublicKeyHash, RpcError> {
    pkh_of(text)
}
