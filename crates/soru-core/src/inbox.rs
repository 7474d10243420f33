//! Smart rollup inbox messages (`sc_rollup_inbox_message_repr.ml`): what the
//! PVM reads with `read_input`. Binary layout and Octez JSON form.
//!
//! | message | bytes |
//! |---|---|
//! | external | `01 ‖ payload` |
//! | transfer | `00 00 ‖ Micheline ‖ sender (20) ‖ source (21) ‖ destination (20)` |
//! | start of level | `00 01` |
//! | end of level | `00 02` |
//! | info per level | `00 03 ‖ timestamp (int64) ‖ block hash (32)` |
//! | protocol migration | `00 04 ‖ u32 length ‖ protocol name` |

use serde_json::{json, Value};

use crate::base58::{BlockHash, ContractKt1Hash, SmartRollupAddress};
use crate::encoding::{Decode, DecodeError, DecodeResult, Encode, Reader};
use crate::keys::PublicKeyHash;
use crate::micheline::Micheline;
use crate::time::Timestamp;
use crate::JsonError;

/// Largest serialized inbox message, tag included.
pub const MAX_MESSAGE_SIZE: usize = 4096;

/// A message of the rollup inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxMessage {
    /// Posted by the L1 itself or by a contract.
    Internal(InternalMessage),
    /// Posted by anyone with `smart_rollup_add_messages`: raw bytes.
    External(Vec<u8>),
}

/// A message the L1 writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InternalMessage {
    /// A contract called the rollup with `TRANSFER_TOKENS`.
    Transfer(Transfer),
    /// The first message of every level.
    StartOfLevel,
    /// The last message of every level.
    EndOfLevel,
    /// The second message of every level: the predecessor block.
    InfoPerLevel(InfoPerLevel),
    /// The first block of a new protocol.
    ProtocolMigration(String),
}

/// A deposit from an L1 contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The Micheline value passed (in optimized form).
    pub payload: Micheline,
    /// The contract that sent it.
    pub sender: ContractKt1Hash,
    /// The implicit account that started the L1 operation.
    pub source: PublicKeyHash,
    /// The rollup it was sent to.
    pub destination: SmartRollupAddress,
}

/// The predecessor block of the level being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoPerLevel {
    /// Timestamp of the predecessor block.
    pub predecessor_timestamp: Timestamp,
    /// Hash of the predecessor block.
    pub predecessor: BlockHash,
}

impl InboxMessage {
    /// Serializes, refusing messages over [`MAX_MESSAGE_SIZE`].
    pub fn serialize(&self) -> Result<Vec<u8>, DecodeError> {
        let bytes = self.to_bytes();
        if bytes.len() > MAX_MESSAGE_SIZE {
            return Err(DecodeError::Invalid {
                what: "inbox message",
                reason: format!("{} bytes, the limit is {MAX_MESSAGE_SIZE}", bytes.len()),
            });
        }
        Ok(bytes)
    }
}

impl Encode for InboxMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            InboxMessage::External(payload) => {
                out.push(1);
                out.extend_from_slice(payload);
            }
            InboxMessage::Internal(internal) => {
                out.push(0);
                match internal {
                    InternalMessage::Transfer(t) => {
                        out.push(0);
                        t.payload.encode_to(out);
                        t.sender.encode_to(out);
                        t.source.encode_to(out);
                        t.destination.encode_to(out);
                    }
                    InternalMessage::StartOfLevel => out.push(1),
                    InternalMessage::EndOfLevel => out.push(2),
                    InternalMessage::InfoPerLevel(info) => {
                        out.push(3);
                        info.predecessor_timestamp.encode_to(out);
                        info.predecessor.encode_to(out);
                    }
                    InternalMessage::ProtocolMigration(name) => {
                        out.push(4);
                        name.encode_to(out);
                    }
                }
            }
        }
    }
}

impl Decode for InboxMessage {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        match r.u8()? {
            1 => Ok(InboxMessage::External(r.take_rest().to_vec())),
            0 => Ok(InboxMessage::Internal(match r.u8()? {
                0 => InternalMessage::Transfer(Transfer {
                    payload: Micheline::decode(r)?,
                    sender: ContractKt1Hash::decode(r)?,
                    source: PublicKeyHash::decode(r)?,
                    destination: SmartRollupAddress::decode(r)?,
                }),
                1 => InternalMessage::StartOfLevel,
                2 => InternalMessage::EndOfLevel,
                3 => InternalMessage::InfoPerLevel(InfoPerLevel {
                    predecessor_timestamp: Timestamp::decode(r)?,
                    predecessor: BlockHash::decode(r)?,
                }),
                4 => {
                    let len = u32::decode(r)? as usize;
                    let name = r.take(len)?;
                    InternalMessage::ProtocolMigration(String::from_utf8(name.to_vec()).map_err(|_| {
                        DecodeError::Invalid {
                            what: "protocol migration",
                            reason: "protocol name is not UTF-8".into(),
                        }
                    })?)
                }
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "internal inbox message",
                        tag: tag.into(),
                    })
                }
            })),
            tag => Err(DecodeError::UnknownTag {
                what: "inbox message",
                tag: tag.into(),
            }),
        }
    }
}

impl InboxMessage {
    /// The Octez JSON form: a hex string for external messages, an object
    /// with `internal_inbox_message_kind` for internal ones.
    pub fn to_json(&self) -> Value {
        match self {
            InboxMessage::External(payload) => Value::String(hex::encode(payload)),
            InboxMessage::Internal(InternalMessage::Transfer(t)) => json!({
                "internal_inbox_message_kind": "transfer",
                "payload": t.payload.to_json(),
                "sender": t.sender.to_string(),
                "source": t.source.to_string(),
                "destination": t.destination.to_string(),
            }),
            InboxMessage::Internal(InternalMessage::StartOfLevel) => {
                json!({ "internal_inbox_message_kind": "start_of_level" })
            }
            InboxMessage::Internal(InternalMessage::EndOfLevel) => {
                json!({ "internal_inbox_message_kind": "end_of_level" })
            }
            InboxMessage::Internal(InternalMessage::InfoPerLevel(info)) => json!({
                "internal_inbox_message_kind": "info_per_level",
                "predecessor_timestamp": info.predecessor_timestamp.to_rfc3339(),
                "predecessor": info.predecessor.to_string(),
            }),
            // The protocol name is a `string Hex` field: JSON carries its hex.
            InboxMessage::Internal(InternalMessage::ProtocolMigration(name)) => json!({
                "internal_inbox_message_kind": "protocol_migration",
                "protocol": hex::encode(name.as_bytes()),
            }),
        }
    }

    /// Parses the Octez JSON form.
    pub fn from_json(value: &Value) -> Result<Self, JsonError> {
        if let Value::String(text) = value {
            return hex::decode(text)
                .map(InboxMessage::External)
                .map_err(|e| JsonError::field("external message", e));
        }
        let kind = crate::json::str_field(value, "internal_inbox_message_kind")?;
        let internal = match kind {
            "transfer" => InternalMessage::Transfer(Transfer {
                payload: Micheline::from_json(crate::json::field(value, "payload")?)
                    .map_err(|e| JsonError::field("payload", e))?,
                sender: crate::json::parse_field(value, "sender")?,
                source: crate::json::parse_field(value, "source")?,
                destination: crate::json::parse_field(value, "destination")?,
            }),
            "start_of_level" => InternalMessage::StartOfLevel,
            "end_of_level" => InternalMessage::EndOfLevel,
            "info_per_level" => InternalMessage::InfoPerLevel(InfoPerLevel {
                predecessor_timestamp: Timestamp::parse(crate::json::str_field(value, "predecessor_timestamp")?)
                    .ok_or_else(|| JsonError::field("predecessor_timestamp", "invalid timestamp"))?,
                predecessor: crate::json::parse_field(value, "predecessor")?,
            }),
            "protocol_migration" => {
                let bytes = hex::decode(crate::json::str_field(value, "protocol")?)
                    .map_err(|e| JsonError::field("protocol", e))?;
                InternalMessage::ProtocolMigration(
                    String::from_utf8(bytes).map_err(|e| JsonError::field("protocol", e))?,
                )
            }
            other => {
                return Err(JsonError::field(
                    "internal_inbox_message_kind",
                    format!("unknown kind {other:?}"),
                ))
            }
        };
        Ok(InboxMessage::Internal(internal))
    }
}

/// The SDK's framing for external messages aimed at one rollup:
/// `00 ‖ rollup address ‖ contents`, placed inside the external payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetedExternal {
    /// The rollup the message is for.
    pub address: SmartRollupAddress,
    /// The contents.
    pub contents: Vec<u8>,
}

impl Encode for TargetedExternal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(0);
        self.address.encode_to(out);
        out.extend_from_slice(&self.contents);
    }
}

impl Decode for TargetedExternal {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        match r.u8()? {
            0 => Ok(Self {
                address: SmartRollupAddress::decode(r)?,
                contents: r.take_rest().to_vec(),
            }),
            tag => Err(DecodeError::UnknownTag {
                what: "external message frame",
                tag: tag.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer() -> InboxMessage {
        InboxMessage::Internal(InternalMessage::Transfer(Transfer {
            payload: Micheline::Bytes(b"hello".to_vec()),
            sender: "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y".parse().unwrap(),
            source: "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap(),
            destination: "sr1UNDWPUYVeomgG15wn5jSw689EJ4RNnVQa".parse().unwrap(),
        }))
    }

    #[test]
    fn json_round_trips() {
        let messages = [
            InboxMessage::External(vec![1, 2, 3]),
            transfer(),
            InboxMessage::Internal(InternalMessage::StartOfLevel),
            InboxMessage::Internal(InternalMessage::EndOfLevel),
            InboxMessage::Internal(InternalMessage::InfoPerLevel(InfoPerLevel {
                predecessor_timestamp: Timestamp::from_seconds(1_700_000_000),
                predecessor: "BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2".parse().unwrap(),
            })),
            InboxMessage::Internal(InternalMessage::ProtocolMigration("t024_024".into())),
        ];
        for m in messages {
            let json = m.to_json();
            assert_eq!(InboxMessage::from_json(&json).unwrap(), m, "{json}");
            assert_eq!(InboxMessage::from_bytes(&m.to_bytes()).unwrap(), m);
        }
        assert_eq!(
            transfer().to_json()["payload"],
            json!({"bytes": "68656c6c6f"}),
            "payloads are Micheline JSON"
        );
        assert!(InboxMessage::from_json(&json!({"internal_inbox_message_kind": "nope"})).is_err());
        assert!(InboxMessage::from_json(&json!("zz")).is_err());
    }

    #[test]
    fn size_limit() {
        assert!(InboxMessage::External(vec![0; 4095]).serialize().is_ok());
        assert!(InboxMessage::External(vec![0; 4096]).serialize().is_err());
    }
}
