//! What an L1 block adds to the rollups' inbox, read from the block as the
//! Octez RPC returns it (`GET /chains/main/blocks/<id>`, JSON with
//! receipts), as Octez's rollup node does (`Inbox.get_messages`): in
//! operation order, for every applied manager operation content,
//!
//! - `smart_rollup_add_messages`: each message as an external message
//!   (`01 ‖ bytes`);
//! - each applied internal `transaction` from an originated contract to a
//!   smart rollup: a `Transfer` {payload = the parameters' value as binary
//!   Micheline, sender = the contract, source = the operation's signer,
//!   destination = the rollup}.
//!
//! The inbox is global: messages to every rollup are included (kernels
//! filter). SOL, Info_per_level and EOL are the inbox's own
//! ([`soru_protocol::inbox::InboxArchive::prepare_level`]); the
//! Info_per_level comes from the predecessor block ([`BlockHeader::info`]).

use serde_json::Value;
use soru_core::base58::{BlockHash, ContractKt1Hash, SmartRollupAddress};
use soru_core::encoding::Encode;
use soru_core::inbox::{InboxMessage, InfoPerLevel, InternalMessage, Transfer, MAX_MESSAGE_SIZE};
use soru_core::micheline::Micheline;
use soru_core::time::Timestamp;
use soru_core::PublicKeyHash;
use soru_protocol::inbox::Inbox;

/// Why a block could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// A field is missing or has the wrong type.
    #[error("block JSON: {0}")]
    Malformed(String),
}

fn malformed(what: impl Into<String>) -> BlockError {
    BlockError::Malformed(what.into())
}

/// The header fields the inbox needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// The block's level.
    pub level: u32,
    /// Its hash.
    pub hash: BlockHash,
    /// Its timestamp.
    pub timestamp: Timestamp,
}

impl BlockHeader {
    /// Reads `hash`, `header.level` and `header.timestamp`.
    pub fn of_block(block: &Value) -> Result<Self, BlockError> {
        let hash = block
            .get("hash")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("no block hash"))?;
        let header = block.get("header").ok_or_else(|| malformed("no header"))?;
        let level = header
            .get("level")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok())
            .ok_or_else(|| malformed("no header level"))?;
        let timestamp = header
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(Timestamp::parse)
            .ok_or_else(|| malformed("no header timestamp"))?;
        Ok(Self {
            level,
            hash: BlockHash::from_base58(hash).map_err(|e| malformed(format!("block hash: {e}")))?,
            timestamp,
        })
    }

    /// The Info_per_level this block gives the next level's inbox.
    pub fn info(&self) -> InfoPerLevel {
        InfoPerLevel {
            predecessor_timestamp: self.timestamp,
            predecessor: self.hash,
        }
    }
}

fn applied(result: Option<&Value>) -> bool {
    result.and_then(|r| r.get("status")).and_then(Value::as_str) == Some("applied")
}

/// The serialized inbox messages `block` adds, in order.
pub fn inbox_messages(block: &Value) -> Result<Vec<Vec<u8>>, BlockError> {
    let passes = block
        .get("operations")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no operations"))?;
    let mut messages = Vec::new();
    for operation in passes.iter().filter_map(Value::as_array).flatten() {
        let Some(contents) = operation.get("contents").and_then(Value::as_array) else {
            continue;
        };
        for content in contents {
            let Some(metadata) = content.get("metadata") else {
                continue;
            };
            if !applied(metadata.get("operation_result")) {
                continue;
            }
            if content.get("kind").and_then(Value::as_str) == Some("smart_rollup_add_messages") {
                for hex_message in content
                    .get("message")
                    .and_then(Value::as_array)
                    .ok_or_else(|| malformed("add_messages without messages"))?
                {
                    let bytes = hex_message
                        .as_str()
                        .and_then(|h| hex::decode(h).ok())
                        .ok_or_else(|| malformed("a message that is not hex"))?;
                    messages.push(serialize(InboxMessage::External(bytes))?);
                }
            }
            let source = content.get("source").and_then(Value::as_str);
            for internal in metadata
                .get("internal_operation_results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(message) = transfer(internal, source)? {
                    messages.push(message);
                }
            }
        }
    }
    Ok(messages)
}

/// The Transfer message of an applied internal transaction from a contract
/// to a rollup, if that is what `internal` is.
fn transfer(internal: &Value, source: Option<&str>) -> Result<Option<Vec<u8>>, BlockError> {
    let is_transaction = internal.get("kind").and_then(Value::as_str) == Some("transaction");
    let destination = internal.get("destination").and_then(Value::as_str).unwrap_or("");
    let sender = internal.get("source").and_then(Value::as_str).unwrap_or("");
    if !is_transaction
        || !applied(internal.get("result"))
        || !destination.starts_with("sr1")
        || !sender.starts_with("KT1")
    {
        return Ok(None);
    }
    // Octez leaves `parameters` out when they are `Unit` on `default`.
    let payload = match internal.get("parameters").and_then(|p| p.get("value")) {
        Some(value) => Micheline::from_json(value).map_err(|e| malformed(format!("parameters: {e}")))?,
        None => Micheline::prim0("Unit").map_err(|e| malformed(e.to_string()))?,
    };
    let source = source.ok_or_else(|| malformed("a transfer without the operation's source"))?;
    let message = InboxMessage::Internal(InternalMessage::Transfer(Transfer {
        payload,
        sender: ContractKt1Hash::from_base58(sender).map_err(|e| malformed(format!("sender: {e}")))?,
        source: PublicKeyHash::from_base58(source).map_err(|e| malformed(format!("source: {e}")))?,
        destination: SmartRollupAddress::from_base58(destination)
            .map_err(|e| malformed(format!("destination: {e}")))?,
    }));
    serialize(message).map(Some)
}

fn serialize(message: InboxMessage) -> Result<Vec<u8>, BlockError> {
    let bytes = message.to_bytes();
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(malformed(format!("an inbox message of {} bytes", bytes.len())));
    }
    Ok(bytes)
}

/// The L1's inbox as the Octez RPC returns it
/// (`GET …/context/smart_rollups/all/inbox`).
pub fn inbox_of_json(value: &Value) -> Result<Inbox, BlockError> {
    Inbox::from_json(value).map_err(malformed)
}

/// [`inbox_of_json`]'s inverse (what soru's L1 serves).
pub fn inbox_to_json(inbox: &Inbox) -> Value {
    inbox.to_json()
}
