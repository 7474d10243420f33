//! The inputs file (seed 003, "Testing your Kernel"): a JSON or YAML list of
//! inboxes, each a list of messages:
//!
//! ```json
//! [ [ { "external": "0000…" } ],
//!   [ { "payload": "Pair Unit False", "sender": "KT1…", "source": "tz1…", "destination": "sr1…" },
//!     { "serialized": "0001" } ] ]
//! ```
//!
//! `external` is the hex of an external message's payload; `payload` (a
//! Michelson value in concrete syntax, or Micheline JSON) makes an internal
//! transfer whose `sender`, `source` and `destination` default to
//! [`DEFAULT_SENDER`], [`DEFAULT_SOURCE`] and the rollup address;
//! `serialized` is the hex of a whole serialized inbox message (as Octez's
//! debugger accepts). Each inbox is delivered at its level (the first at 0)
//! wrapped in Start_of_level, Info_per_level ([`level_inputs`]) and
//! End_of_level.

use std::path::Path;

use serde_json::Value;
use soru_core::inbox::{InboxMessage, InfoPerLevel, InternalMessage, Transfer, MAX_MESSAGE_SIZE};
use soru_core::time::Timestamp;
use soru_core::{BlockHash, ContractKt1Hash, Encode, Micheline, PublicKeyHash, SmartRollupAddress};
use soru_pvm::Input;

/// Default `sender` of internal transfers.
pub const DEFAULT_SENDER: &str = "KT18amZmM5W7qDWVt2pH6uj7sCEd3kbzLrHT";
/// Default `source` of internal transfers.
pub const DEFAULT_SOURCE: &str = "tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU";
/// Default rollup address (`--rollup` replaces it).
pub const DEFAULT_ROLLUP: &str = "sr163Lv22CdE8QagCwf48PWDTquk6isQwv57";
/// The predecessor block named by every Info_per_level.
pub const PREDECESSOR: &str = "BKiHLREqU3JkXfzEDYAkmmfX48gBDtYhMrpA98s7Aq4SzbUAB6M";

/// One inbox: its messages, serialized (tag included), without the
/// Start_of_level, Info_per_level and End_of_level the debugger adds.
pub type Inbox = Vec<Vec<u8>>;

/// Why an inputs file is refused.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// The file cannot be read.
    #[error("cannot read inputs {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not JSON or YAML.
    #[error("inputs {path}: not valid {format}: {reason}")]
    Syntax {
        /// The file.
        path: String,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// Valid JSON or YAML of the wrong shape, or a bad message.
    #[error("inputs {path}: {reason}")]
    Content {
        /// The file.
        path: String,
        /// What is wrong and where.
        reason: String,
    },
}

/// The values that messages may leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDefaults {
    /// Sender of transfers.
    pub sender: ContractKt1Hash,
    /// Source of transfers.
    pub source: PublicKeyHash,
    /// Destination of transfers.
    pub destination: SmartRollupAddress,
}

impl InputDefaults {
    /// The documented defaults, with `rollup` as the destination.
    pub fn new(rollup: SmartRollupAddress) -> Self {
        Self {
            sender: DEFAULT_SENDER.parse().expect("valid default sender"),
            source: DEFAULT_SOURCE.parse().expect("valid default source"),
            destination: rollup,
        }
    }
}

fn hex_field(value: &Value, what: &str) -> Result<Vec<u8>, String> {
    let Value::String(text) = value else {
        return Err(format!(
            "{what} must be a string of hexadecimal digits (quote it in YAML)"
        ));
    };
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(text).map_err(|e| format!("{what} is not hexadecimal: {e}"))
}

fn micheline(value: &Value) -> Result<Micheline, String> {
    match value {
        Value::String(text) => text.parse().map_err(|e| format!("payload: {e}")),
        Value::Number(n) => n.to_string().parse().map_err(|e| format!("payload: {e}")),
        Value::Object(_) | Value::Array(_) => Micheline::from_json(value).map_err(|e| format!("payload: {e}")),
        _ => Err("payload must be a Michelson value (a string in concrete syntax)".into()),
    }
}

fn parsed<T>(obj: &serde_json::Map<String, Value>, key: &str, default: &T) -> Result<T, String>
where
    T: std::str::FromStr + Clone,
    T::Err: std::fmt::Display,
{
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default.clone()),
        Some(Value::String(s)) => s.trim().parse().map_err(|e| format!("{key} {s:?}: {e}")),
        Some(_) => Err(format!("{key} must be a string")),
    }
}

/// One message of the file, serialized.
fn message(value: &Value, defaults: &InputDefaults) -> Result<Vec<u8>, String> {
    let Value::Object(obj) = value else {
        return Err("a message must be an object with \"external\", \"payload\" or \"serialized\"".into());
    };
    let kinds: Vec<&str> = ["external", "payload", "serialized"]
        .into_iter()
        .filter(|k| obj.contains_key(*k))
        .collect();
    let allowed: &[&str] = match kinds.as_slice() {
        ["external"] => &["external"],
        ["serialized"] => &["serialized"],
        ["payload"] => &["payload", "sender", "source", "destination"],
        [] => return Err("a message needs \"external\", \"payload\" or \"serialized\"".into()),
        _ => return Err(format!("a message has exactly one of {}", kinds.join(", "))),
    };
    if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unexpected field {extra:?}"));
    }
    let bytes = match kinds[0] {
        "external" => InboxMessage::External(hex_field(&obj["external"], "external")?).to_bytes(),
        "serialized" => hex_field(&obj["serialized"], "serialized")?,
        _ => InboxMessage::Internal(InternalMessage::Transfer(Transfer {
            payload: micheline(&obj["payload"])?,
            sender: parsed(obj, "sender", &defaults.sender)?,
            source: parsed(obj, "source", &defaults.source)?,
            destination: parsed(obj, "destination", &defaults.destination)?,
        }))
        .to_bytes(),
    };
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(format!(
            "the serialized message has {} bytes, the limit is {MAX_MESSAGE_SIZE}",
            bytes.len()
        ));
    }
    if bytes.is_empty() {
        return Err("an empty serialized message".into());
    }
    Ok(bytes)
}

/// The inboxes of a parsed inputs document (JSON data model).
pub fn parse_inboxes(doc: &Value, defaults: &InputDefaults) -> Result<Vec<Inbox>, String> {
    let Value::Array(inboxes) = doc else {
        return Err("expected a list of inboxes (a list of lists of messages)".into());
    };
    inboxes
        .iter()
        .enumerate()
        .map(|(i, inbox)| {
            let Value::Array(messages) = inbox else {
                return Err(format!("inbox {i}: expected a list of messages"));
            };
            messages
                .iter()
                .enumerate()
                .map(|(j, m)| message(m, defaults).map_err(|e| format!("inbox {i}, message {j}: {e}")))
                .collect()
        })
        .collect()
}

/// Reads an inputs file: `.json` as JSON, `.yaml`/`.yml` as YAML, anything
/// else as JSON or, failing that, YAML.
pub fn read_inputs(path: &Path, defaults: &InputDefaults) -> Result<Vec<Inbox>, InputsError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| InputsError::Read {
        path: name.clone(),
        source,
    })?;
    let json = |text: &str| {
        serde_json::from_str::<Value>(text).map_err(|e| InputsError::Syntax {
            path: name.clone(),
            format: "JSON",
            reason: e.to_string(),
        })
    };
    let yaml = |text: &str| {
        serde_yaml::from_str::<Value>(text).map_err(|e| InputsError::Syntax {
            path: name.clone(),
            format: "YAML",
            reason: e.to_string(),
        })
    };
    let doc = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => json(&text)?,
        Some("yaml") | Some("yml") => yaml(&text)?,
        _ => json(&text).or_else(|_| yaml(&text))?,
    };
    parse_inboxes(&doc, defaults).map_err(|reason| InputsError::Content { path: name, reason })
}

/// The Info_per_level of every level: timestamp 0, predecessor [`PREDECESSOR`].
pub fn info_per_level() -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(0),
        predecessor: BlockHash::from_base58(PREDECESSOR).expect("valid predecessor"),
    }
}

/// The PVM inputs of `inbox` at `level`: Start_of_level, Info_per_level, the
/// messages, End_of_level, with counters from 0.
pub fn level_inputs(level: u32, inbox: &[Vec<u8>]) -> Vec<Input> {
    let mut payloads = Vec::with_capacity(inbox.len() + 3);
    payloads.push(InboxMessage::Internal(InternalMessage::StartOfLevel).to_bytes());
    payloads.push(InboxMessage::Internal(InternalMessage::InfoPerLevel(info_per_level())).to_bytes());
    payloads.extend(inbox.iter().cloned());
    payloads.push(InboxMessage::Internal(InternalMessage::EndOfLevel).to_bytes());
    payloads
        .into_iter()
        .enumerate()
        .map(|(counter, payload)| Input {
            level,
            counter: counter as u64,
            payload,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> InputDefaults {
        InputDefaults::new(DEFAULT_ROLLUP.parse().unwrap())
    }

    const SEED_EXAMPLE: &str = r#"[
      [ { "external": "0000000023030b01d1a37c088a1221b636bb5fccb35e05181038ba7c000000000764656661756c74" } ],
      [ { "payload" : "0",
          "sender" : "KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq",
          "source" : "tz1RjtZUVeLhADFHDL8UwDZA6vjWWhojpu5w",
          "destination" : "sr1RYurGZtN8KNSpkMcCt9CgWeUaNkzsAfXf" },
        { "payload" : "Pair Unit False" } ] ]"#;

    #[test]
    fn seed_example_parses() {
        let doc: Value = serde_json::from_str(SEED_EXAMPLE).unwrap();
        let inboxes = parse_inboxes(&doc, &defaults()).unwrap();
        assert_eq!(inboxes.len(), 2);
        assert_eq!(inboxes[0].len(), 1);
        assert_eq!(inboxes[0][0][0], 1, "external tag");
        assert_eq!(inboxes[0][0].len(), 1 + 40);
        let decoded = <InboxMessage as soru_core::Decode>::from_bytes(&inboxes[1][1]).unwrap();
        let InboxMessage::Internal(InternalMessage::Transfer(t)) = decoded else {
            panic!("{decoded:?}")
        };
        assert_eq!(t.payload.to_string(), "Pair Unit False");
        assert_eq!(t.sender.to_string(), DEFAULT_SENDER);
        assert_eq!(t.source.to_string(), DEFAULT_SOURCE);
        assert_eq!(t.destination.to_string(), DEFAULT_ROLLUP);
        let first = <InboxMessage as soru_core::Decode>::from_bytes(&inboxes[1][0]).unwrap();
        let InboxMessage::Internal(InternalMessage::Transfer(t)) = first else {
            panic!()
        };
        assert_eq!(t.sender.to_string(), "KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq");
        assert_eq!(t.destination.to_string(), "sr1RYurGZtN8KNSpkMcCt9CgWeUaNkzsAfXf");
    }

    #[test]
    fn yaml_and_json_files_agree() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("in.json");
        std::fs::write(&json, SEED_EXAMPLE).unwrap();
        let yaml = dir.path().join("in.yaml");
        std::fs::write(
            &yaml,
            concat!(
                "- - external: \"0000000023030b01d1a37c088a1221b636bb5fccb35e05181038ba7c000000000764656661756c74\"\n",
                "- - payload: 0\n",
                "    sender: KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq\n",
                "    source: tz1RjtZUVeLhADFHDL8UwDZA6vjWWhojpu5w\n",
                "    destination: sr1RYurGZtN8KNSpkMcCt9CgWeUaNkzsAfXf\n",
                "  - payload: Pair Unit False\n",
            ),
        )
        .unwrap();
        assert_eq!(
            read_inputs(&json, &defaults()).unwrap(),
            read_inputs(&yaml, &defaults()).unwrap()
        );
    }

    #[test]
    fn bad_inputs_say_where() {
        let bad = |text: &str| {
            let doc: Value = serde_json::from_str(text).unwrap();
            parse_inboxes(&doc, &defaults()).unwrap_err()
        };
        assert!(bad(r#"{"a": 1}"#).contains("list of inboxes"));
        assert!(bad(r#"[{"external": "00"}]"#).contains("inbox 0: expected a list"));
        assert_eq!(
            bad(r#"[[], [{"external": "0g"}]]"#),
            "inbox 1, message 0: external is not hexadecimal: Invalid character 'g' at position 1"
        );
        assert!(bad(r#"[[{"payload": "Pair (1"}]]"#).starts_with("inbox 0, message 0: payload:"));
        assert!(bad(r#"[[{"payload": "1", "sender": "tz1x"}]]"#).contains("sender"));
        assert!(bad(r#"[[{"external": "00", "payload": "1"}]]"#).contains("exactly one"));
        assert!(bad(r#"[[{"externl": "00"}]]"#).contains("needs"));
        assert!(bad(r#"[[{"external": "00", "sender": "KT1"}]]"#).contains("unexpected field \"sender\""));
        assert!(bad(r#"[[{"external": 12}]]"#).contains("quote it"));
        let big = format!(r#"[[{{"external": "{}"}}]]"#, "00".repeat(4096));
        assert!(bad(&big).contains("limit is 4096"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.json");
        std::fs::write(&path, "[[{").unwrap();
        let e = read_inputs(&path, &defaults()).unwrap_err();
        assert!(matches!(e, InputsError::Syntax { format: "JSON", .. }), "{e}");
        let e = read_inputs(&dir.path().join("missing.json"), &defaults()).unwrap_err();
        assert!(matches!(e, InputsError::Read { .. }), "{e}");
    }

    #[test]
    fn levels_are_wrapped() {
        let inputs = level_inputs(3, &[vec![1, 0xab]]);
        let payloads: Vec<&[u8]> = inputs.iter().map(|i| i.payload.as_slice()).collect();
        assert_eq!(payloads[0], [0, 1]);
        assert_eq!(&payloads[1][..2], [0, 3]);
        assert_eq!(&payloads[1][2..10], [0; 8], "timestamp 0");
        assert_eq!(payloads[2], [1, 0xab]);
        assert_eq!(payloads[3], [0, 2]);
        assert!(inputs.iter().all(|i| i.level == 3));
        assert_eq!(inputs.iter().map(|i| i.counter).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    }
}
