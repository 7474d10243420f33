//! How the debugger prints things: inbox and outbox messages in the style of
//! seed 003's transcripts, durable values and memory as hex, text or
//! integers, durations.

use soru_core::inbox::{InboxMessage, InternalMessage};
use soru_core::outbox::{OutboxMessage, OutboxTransaction};
use soru_core::Decode;

/// The `payload:` of an inbox message in `show inbox`.
pub fn inbox_payload(bytes: &[u8]) -> String {
    match InboxMessage::from_bytes(bytes) {
        Err(_) => format!("Unknown encoding: {}", hex::encode(bytes)),
        Ok(InboxMessage::External(payload)) => hex::encode(payload),
        Ok(InboxMessage::Internal(internal)) => match internal {
            InternalMessage::StartOfLevel => "Start_of_level".into(),
            InternalMessage::EndOfLevel => "End_of_level".into(),
            InternalMessage::ProtocolMigration(name) => format!("Protocol_migration {name}"),
            InternalMessage::InfoPerLevel(info) => {
                let time = info.predecessor_timestamp.to_rfc3339();
                // Octez prints UTC as `-00:00`.
                let time = match time.strip_suffix('Z') {
                    Some(t) => format!("{t}-00:00"),
                    None => time,
                };
                format!(
                    "Info_per_level {{predecessor_timestamp = {time}; predecessor = {}}}",
                    info.predecessor
                )
            }
            InternalMessage::Transfer(t) => format!(
                "Transfer {{payload = {}; sender = {}; source = {}; destination = {}}}",
                t.payload, t.sender, t.source, t.destination
            ),
        },
    }
}

/// One message of `show inbox`.
pub fn inbox_entry(level: u32, counter: u64, payload: &[u8]) -> String {
    format!(
        "{{ raw_level: {level};\n  counter: {counter}\n  payload: {} }}",
        inbox_payload(payload)
    )
}

fn transaction(tx: &OutboxTransaction, ty: Option<&soru_core::Micheline>) -> String {
    let ty = ty.map(|t| format!(" unparsed_parameters_ty: {t};")).unwrap_or_default();
    format!(
        "{{ unparsed_parameters: {};{ty} destination: {}; entrypoint: {}; }}",
        tx.parameters, tx.destination, tx.entrypoint
    )
}

/// One outbox message of `show outbox`, decoded, on one line.
pub fn outbox_message(bytes: &[u8]) -> String {
    match OutboxMessage::from_bytes(bytes) {
        Err(_) => format!("Unknown encoding: {}", hex::encode(bytes)),
        Ok(OutboxMessage::AtomicTransactionBatch(txs)) => {
            let txs: Vec<String> = txs.iter().map(|t| transaction(t, None)).collect();
            format!("Atomic_transaction_batch [ {} ]", txs.join(" ; "))
        }
        Ok(OutboxMessage::TypedTransactionBatch(txs)) => {
            let txs: Vec<String> = txs
                .iter()
                .map(|t| transaction(&t.transaction, Some(&t.parameters_ty)))
                .collect();
            format!("Typed_transaction_batch [ {} ]", txs.join(" ; "))
        }
        Ok(OutboxMessage::WhitelistUpdate(None)) => "Whitelist_update none (the rollup becomes public)".into(),
        Ok(OutboxMessage::WhitelistUpdate(Some(list))) => {
            let list: Vec<String> = list.iter().map(ToString::to_string).collect();
            format!("Whitelist_update [ {} ]", list.join(" ; "))
        }
    }
}

/// How to print a durable value or memory bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Lowercase hex (the default).
    Hex,
    /// The bytes as text (invalid UTF-8 replaced).
    String,
    /// A little-endian two's-complement integer of the value's width.
    Int,
    /// A little-endian unsigned integer of the value's width.
    Nat,
    /// A little-endian integer of a fixed width.
    Fixed {
        /// The name the user typed (`u16`, `i32`, …).
        name: &'static str,
        /// Bytes.
        len: usize,
        /// Two's complement.
        signed: bool,
    },
}

const FIXED: [(&str, &str, usize, bool); 11] = [
    ("u8", "uint8", 1, false),
    ("i8", "int8", 1, true),
    ("u16", "uint16", 2, false),
    ("i16", "int16", 2, true),
    ("u32", "uint32", 4, false),
    ("i32", "int32", 4, true),
    ("u64", "uint64", 8, false),
    ("i64", "int64", 8, true),
    ("u128", "uint128", 16, false),
    ("i128", "int128", 16, true),
    ("u256", "uint256", 32, false),
];

impl ValueKind {
    /// Parses a kind name: `hex`, `string`, `int`, `nat`/`uint`, or a fixed
    /// width (`u8` … `u256`, `i8` … `i128`, also spelled `uint16`, `int32`, …).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "hex" => Some(Self::Hex),
            "string" | "str" => Some(Self::String),
            "int" => Some(Self::Int),
            "nat" | "uint" => Some(Self::Nat),
            _ => FIXED
                .iter()
                .find(|(short, long, _, _)| *short == name || *long == name)
                .map(|&(name, _, len, signed)| Self::Fixed { name, len, signed }),
        }
    }

    /// The names [`ValueKind::parse`] accepts, for messages.
    pub fn names() -> String {
        let fixed: Vec<&str> = FIXED.iter().map(|f| f.0).collect();
        format!("hex, string, int, nat, {}", fixed.join(", "))
    }

    /// The width a fixed kind reads from memory.
    pub fn width(self) -> Option<usize> {
        match self {
            Self::Fixed { len, .. } => Some(len),
            _ => None,
        }
    }
}

/// Decimal of a little-endian integer (two's complement when `signed`).
pub fn le_integer(bytes: &[u8], signed: bool) -> String {
    let negative = signed && bytes.last().is_some_and(|b| b & 0x80 != 0);
    // Big-endian magnitude.
    let mut mag: Vec<u8> = bytes.iter().rev().copied().collect();
    if negative {
        // Two's complement: invert and add one.
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    let mut digits = Vec::new();
    while mag.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for b in mag.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    if negative {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8(digits).expect("ASCII digits")
}

/// Prints `bytes` as `kind`; a width mismatch is an error whose text says
/// so (the caller then falls back to hex, as Octez does).
pub fn format_value(kind: ValueKind, bytes: &[u8]) -> Result<String, String> {
    match kind {
        ValueKind::Hex => Ok(hex::encode(bytes)),
        ValueKind::String => Ok(String::from_utf8_lossy(bytes).into_owned()),
        ValueKind::Int | ValueKind::Nat => {
            if bytes.is_empty() || bytes.len() > 32 {
                return Err(format!(
                    "integers must be 1 to 32 bytes long, the value has {} bytes",
                    bytes.len()
                ));
            }
            Ok(le_integer(bytes, kind == ValueKind::Int))
        }
        ValueKind::Fixed { name, len, signed } => {
            if bytes.len() != len {
                return Err(format!("{name} values must be {len} bytes long"));
            }
            Ok(le_integer(bytes, signed))
        }
    }
}

/// [`format_value`], falling back to hex with the error in front.
pub fn show_value(kind: ValueKind, bytes: &[u8]) -> String {
    match format_value(kind, bytes) {
        Ok(text) => text,
        Err(e) => format!("Error: {e}. Defaulting to hexadecimal value\n{}", hex::encode(bytes)),
    }
}

/// A long value shortened for `show durable storage`: the first `max`
/// bytes in hex, then its size.
pub fn short_hex(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        hex::encode(bytes)
    } else {
        format!("{}… ({} bytes)", hex::encode(&bytes[..max]), bytes.len())
    }
}

/// Parses an address or length: decimal or `0x` hexadecimal.
pub fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{info_per_level, level_inputs};

    #[test]
    fn inbox_messages_print_as_in_seed_003() {
        let inputs = level_inputs(0, &[hex::decode("01abcd").unwrap()]);
        assert_eq!(
            inbox_entry(0, 0, &inputs[0].payload),
            "{ raw_level: 0;\n  counter: 0\n  payload: Start_of_level }"
        );
        assert_eq!(
            inbox_payload(&inputs[1].payload),
            "Info_per_level {predecessor_timestamp = 1970-01-01T00:00:00-00:00; \
             predecessor = BKiHLREqU3JkXfzEDYAkmmfX48gBDtYhMrpA98s7Aq4SzbUAB6M}"
        );
        assert_eq!(inbox_payload(&inputs[2].payload), "abcd");
        assert_eq!(inbox_payload(&inputs[3].payload), "End_of_level");
        assert_eq!(inbox_payload(&[7, 7]), "Unknown encoding: 0707");
        let _ = info_per_level();
    }

    #[test]
    fn outbox_messages_decode() {
        // The message of soru-pvm's echo test: one transaction of 0x6869 to
        // a KT1, entrypoint `default`.
        let bytes =
            hex::decode("00000000280a0000000268690115edad279f55e2fe4011de6d2c24fdf51bf225c5000000000764656661756c74")
                .unwrap();
        let text = outbox_message(&bytes);
        assert!(text.starts_with("Atomic_transaction_batch [ { unparsed_parameters: 0x6869; destination: KT1"));
        assert!(text.ends_with("entrypoint: default; } ]"), "{text}");
        assert_eq!(outbox_message(b"xyz"), "Unknown encoding: 78797a");
    }

    #[test]
    fn values() {
        assert_eq!(le_integer(&[0xff, 0xff, 0xff, 0xff], true), "-1");
        assert_eq!(le_integer(&[0xff, 0xff, 0xff, 0xff], false), "4294967295");
        assert_eq!(le_integer(&[0x11, 0, 0, 0], true), "17");
        assert_eq!(le_integer(&[0, 0, 0, 0x80], true), "-2147483648");
        assert_eq!(le_integer(&[0; 8], true), "0");
        let u256_max = [0xffu8; 32];
        assert_eq!(
            le_integer(&u256_max, false),
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        );
        assert_eq!(
            format_value(ValueKind::parse("i32").unwrap(), &[2, 0, 0, 0]),
            Ok("2".into())
        );
        assert_eq!(
            format_value(ValueKind::parse("int32").unwrap(), &[2, 0]),
            Err("i32 values must be 4 bytes long".into())
        );
        assert_eq!(
            show_value(ValueKind::parse("u16").unwrap(), &[1]),
            "Error: u16 values must be 2 bytes long. Defaulting to hexadecimal value\n01"
        );
        assert_eq!(format_value(ValueKind::String, b"hi"), Ok("hi".into()));
        assert_eq!(format_value(ValueKind::Hex, b"hi"), Ok("6869".into()));
        assert!(format_value(ValueKind::Int, &[]).is_err());
        assert_eq!(ValueKind::parse("float"), None);
        assert_eq!(parse_number("0x10"), Some(16));
        assert_eq!(parse_number("10"), Some(10));
        assert_eq!(parse_number("ten"), None);
        assert_eq!(short_hex(&[1, 2, 3], 2), "0102… (3 bytes)");
        assert_eq!(short_hex(&[1, 2], 2), "0102");
    }
}
