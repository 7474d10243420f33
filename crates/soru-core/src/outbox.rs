//! Smart rollup outbox messages (`sc_rollup_outbox_message_repr.ml`): what a
//! kernel writes with `write_output` and the L1 executes once the commitment
//! is cemented. Binary layout and Octez JSON form.
//!
//! | tag | message | body |
//! |---|---|---|
//! | 0 | untyped batch | list of `Micheline ‖ destination (22) ‖ entrypoint (u32 + string)` |
//! | 1 | typed batch | list of `Micheline ‖ type ‖ destination (22) ‖ entrypoint` |
//! | 2 | whitelist update | `option (list pkh)` |

use serde_json::{json, Map, Value};

use crate::base58::ContractKt1Hash;
use crate::contract::{decode_originated, encode_originated};
use crate::encoding::{write_dynamic, Decode, DecodeError, DecodeResult, Encode, Reader};
use crate::json::{self as j, JsonError};
use crate::keys::PublicKeyHash;
use crate::micheline::Micheline;

/// Largest serialized outbox message.
pub const MAX_MESSAGE_SIZE: usize = 4096;

/// An outbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxMessage {
    /// Transactions whose parameters the L1 typechecks against the entrypoint.
    AtomicTransactionBatch(Vec<OutboxTransaction>),
    /// Transactions that carry their own parameter type.
    TypedTransactionBatch(Vec<TypedOutboxTransaction>),
    /// Replace the whitelist of a private rollup (`None` makes it public).
    WhitelistUpdate(Option<Vec<PublicKeyHash>>),
}

/// One transaction of an untyped batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxTransaction {
    /// The parameters.
    pub parameters: Micheline,
    /// The contract called.
    pub destination: ContractKt1Hash,
    /// The entrypoint, without `%` (`"default"` for the default one).
    pub entrypoint: String,
}

/// One transaction of a typed batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedOutboxTransaction {
    /// The transaction.
    pub transaction: OutboxTransaction,
    /// The type the kernel expects the parameters to have.
    pub parameters_ty: Micheline,
}

/// Entrypoint names: at most 31 bytes of `[A-Za-z0-9_.%@]`, without `%` prefix.
pub fn validate_entrypoint(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 31 {
        return Err(format!("entrypoint {name:?} must have 1 to 31 characters"));
    }
    if !name.bytes().all(|c| c.is_ascii_alphanumeric() || b"_.%@".contains(&c)) {
        return Err(format!("entrypoint {name:?} has characters outside [A-Za-z0-9_.%@]"));
    }
    Ok(())
}

fn decode_entrypoint(r: &mut Reader<'_>) -> DecodeResult<String> {
    let name = String::decode(r)?;
    validate_entrypoint(&name).map_err(|reason| DecodeError::Invalid {
        what: "entrypoint",
        reason,
    })?;
    Ok(name)
}

impl OutboxMessage {
    /// Serializes, refusing messages over [`MAX_MESSAGE_SIZE`].
    pub fn serialize(&self) -> Result<Vec<u8>, DecodeError> {
        let bytes = self.to_bytes();
        if bytes.len() > MAX_MESSAGE_SIZE {
            return Err(DecodeError::Invalid {
                what: "outbox message",
                reason: format!("{} bytes, the limit is {MAX_MESSAGE_SIZE}", bytes.len()),
            });
        }
        Ok(bytes)
    }
}

impl Encode for OutboxMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            OutboxMessage::AtomicTransactionBatch(txs) => {
                out.push(0);
                write_dynamic(out, |out| {
                    for tx in txs {
                        tx.parameters.encode_to(out);
                        encode_originated(&tx.destination, out);
                        tx.entrypoint.encode_to(out);
                    }
                });
            }
            OutboxMessage::TypedTransactionBatch(txs) => {
                out.push(1);
                write_dynamic(out, |out| {
                    for typed in txs {
                        typed.transaction.parameters.encode_to(out);
                        typed.parameters_ty.encode_to(out);
                        encode_originated(&typed.transaction.destination, out);
                        typed.transaction.entrypoint.encode_to(out);
                    }
                });
            }
            OutboxMessage::WhitelistUpdate(list) => {
                out.push(2);
                list.encode_to(out);
            }
        }
    }
}

impl Decode for OutboxMessage {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        match r.u8()? {
            0 => r
                .dynamic(|r| {
                    let mut txs = Vec::new();
                    while !r.is_empty() {
                        txs.push(OutboxTransaction {
                            parameters: Micheline::decode(r)?,
                            destination: decode_originated(r)?,
                            entrypoint: decode_entrypoint(r)?,
                        });
                    }
                    Ok(txs)
                })
                .map(OutboxMessage::AtomicTransactionBatch),
            1 => r
                .dynamic(|r| {
                    let mut txs = Vec::new();
                    while !r.is_empty() {
                        let parameters = Micheline::decode(r)?;
                        let parameters_ty = Micheline::decode(r)?;
                        txs.push(TypedOutboxTransaction {
                            transaction: OutboxTransaction {
                                parameters,
                                destination: decode_originated(r)?,
                                entrypoint: decode_entrypoint(r)?,
                            },
                            parameters_ty,
                        });
                    }
                    Ok(txs)
                })
                .map(OutboxMessage::TypedTransactionBatch),
            2 => Ok(OutboxMessage::WhitelistUpdate(Option::decode(r)?)),
            tag => Err(DecodeError::UnknownTag {
                what: "outbox message",
                tag: tag.into(),
            }),
        }
    }
}

impl OutboxMessage {
    /// The Octez JSON form:
    /// `{"transactions":[{"parameters":…,"destination":"KT1…","entrypoint":"mint"}],"kind":"untyped"}`.
    /// As in Octez, `entrypoint` is left out when it is `default`.
    pub fn to_json(&self) -> Value {
        match self {
            OutboxMessage::AtomicTransactionBatch(txs) => {
                let txs: Vec<Value> = txs.iter().map(|tx| transaction_json(tx, None)).collect();
                json!({ "transactions": txs, "kind": "untyped" })
            }
            OutboxMessage::TypedTransactionBatch(txs) => {
                let txs: Vec<Value> = txs
                    .iter()
                    .map(|t| transaction_json(&t.transaction, Some(&t.parameters_ty)))
                    .collect();
                json!({ "transactions": txs, "kind": "typed" })
            }
            OutboxMessage::WhitelistUpdate(None) => json!({ "kind": "whitelist_update" }),
            OutboxMessage::WhitelistUpdate(Some(list)) => {
                let list: Vec<String> = list.iter().map(ToString::to_string).collect();
                json!({ "whitelist": list, "kind": "whitelist_update" })
            }
        }
    }

    /// Parses the Octez JSON form. Entrypoints are accepted with or without
    /// a leading `%` (the Octez documentation writes `"%default"`).
    pub fn from_json(value: &Value) -> Result<Self, JsonError> {
        let kind = j::str_field(value, "kind")?;
        match kind {
            "untyped" | "typed" => {
                let items = j::field(value, "transactions")?
                    .as_array()
                    .ok_or_else(|| JsonError::field("transactions", "expected an array"))?;
                let mut txs = Vec::with_capacity(items.len());
                let mut types = Vec::with_capacity(items.len());
                for item in items {
                    let micheline =
                        |name: &str| Micheline::from_json(j::field(item, name)?).map_err(|e| JsonError::field(name, e));
                    let entrypoint = match item.get("entrypoint") {
                        None => "default".to_string(),
                        Some(Value::String(s)) => s.strip_prefix('%').unwrap_or(s).to_string(),
                        Some(_) => return Err(JsonError::field("entrypoint", "expected a string")),
                    };
                    validate_entrypoint(&entrypoint).map_err(|e| JsonError::field("entrypoint", e))?;
                    if kind == "typed" {
                        types.push(micheline("parameters_ty")?);
                    }
                    txs.push(OutboxTransaction {
                        parameters: micheline("parameters")?,
                        destination: j::parse_field(item, "destination")?,
                        entrypoint,
                    });
                }
                Ok(if kind == "typed" {
                    OutboxMessage::TypedTransactionBatch(
                        txs.into_iter()
                            .zip(types)
                            .map(|(transaction, parameters_ty)| TypedOutboxTransaction {
                                transaction,
                                parameters_ty,
                            })
                            .collect(),
                    )
                } else {
                    OutboxMessage::AtomicTransactionBatch(txs)
                })
            }
            "whitelist_update" => match value.get("whitelist") {
                None | Some(Value::Null) => Ok(OutboxMessage::WhitelistUpdate(None)),
                Some(_) => Ok(OutboxMessage::WhitelistUpdate(Some(j::serde_field(
                    value,
                    "whitelist",
                )?))),
            },
            other => Err(JsonError::field(
                "kind",
                format!("unknown outbox message kind {other:?}"),
            )),
        }
    }
}

fn transaction_json(tx: &OutboxTransaction, parameters_ty: Option<&Micheline>) -> Value {
    let mut obj = Map::new();
    obj.insert("parameters".into(), tx.parameters.to_json());
    if let Some(ty) = parameters_ty {
        obj.insert("parameters_ty".into(), ty.to_json());
    }
    obj.insert("destination".into(), Value::String(tx.destination.to_string()));
    if tx.entrypoint != "default" {
        obj.insert("entrypoint".into(), Value::String(tx.entrypoint.clone()));
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documentation_example_parses() {
        let doc = json!({
            "transactions": [{
                "parameters": {"int": "37"},
                "destination": "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y",
                "entrypoint": "%default"
            }],
            "kind": "untyped"
        });
        let message = OutboxMessage::from_json(&doc).unwrap();
        assert_eq!(
            hex::encode(message.to_bytes()),
            "00000000230025 0115edad279f55e2fe4011de6d2c24fdf51bf225c500 000000076465666175 6c74".replace(' ', "")
        );
        let back = message.to_json();
        assert_eq!(back["transactions"][0].get("entrypoint"), None, "default is left out");
        assert_eq!(OutboxMessage::from_json(&back).unwrap(), message);
    }

    #[test]
    fn every_kind_round_trips() {
        let tx = OutboxTransaction {
            parameters: "Pair 1 0x00".parse().unwrap(),
            destination: "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y".parse().unwrap(),
            entrypoint: "mint".into(),
        };
        let typed = TypedOutboxTransaction {
            transaction: tx.clone(),
            parameters_ty: "pair int bytes".parse().unwrap(),
        };
        for m in [
            OutboxMessage::AtomicTransactionBatch(vec![tx.clone(), tx]),
            OutboxMessage::TypedTransactionBatch(vec![typed]),
            OutboxMessage::WhitelistUpdate(None),
            OutboxMessage::WhitelistUpdate(Some(vec!["tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap()])),
        ] {
            assert_eq!(OutboxMessage::from_bytes(&m.to_bytes()).unwrap(), m);
            assert_eq!(OutboxMessage::from_json(&m.to_json()).unwrap(), m);
        }
    }

    #[test]
    fn bad_messages_are_refused() {
        assert!(OutboxMessage::from_bytes(&[3]).is_err());
        // An implicit destination is not allowed.
        let mut bytes = hex::decode("00000000240025000002298c03ed7d454a101eb7022bc95f7e5f41ac7800000007").unwrap();
        bytes.extend(b"default");
        assert!(OutboxMessage::from_bytes(&bytes).is_err());
        assert!(OutboxMessage::from_json(&json!({"kind": "untyped", "transactions": [{"parameters": {"int": "1"}, "destination": "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y", "entrypoint": "has space"}]})).is_err());
    }
}
