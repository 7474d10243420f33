//! Micheline, the expression language of Michelson values, types and code, in
//! its three forms: binary (tags 0–10, the form that is packed, hashed and
//! carried in operations and rollup messages), the Octez JSON form, and the
//! concrete syntax (`Pair 1 "a"`, `{ CAR ; NIL operation ; PAIR }`).
//!
//! This module knows the syntax and the primitive names; it does not
//! typecheck.

use std::fmt::{self, Write as _};

use num_bigint::BigInt;
use serde_json::{json, Map, Value};

use crate::encoding::{read_z, write_z, Decode, DecodeError, DecodeResult, Encode, Reader};
use crate::hash::blake2b_256;

/// Michelson primitive names in binary-tag order
/// (`michelson_v1_primitives.ml`): the tag of a primitive is its index here.
pub const PRIMITIVES: &[&str] = &[
    "parameter",
    "storage",
    "code",
    "False",
    "Elt",
    "Left",
    "None",
    "Pair",
    "Right",
    "Some", // 0-9
    "True",
    "Unit",
    "PACK",
    "UNPACK",
    "BLAKE2B",
    "SHA256",
    "SHA512",
    "ABS",
    "ADD",
    "AMOUNT", // 10-19
    "AND",
    "BALANCE",
    "CAR",
    "CDR",
    "CHECK_SIGNATURE",
    "COMPARE",
    "CONCAT",
    "CONS",
    "CREATE_ACCOUNT",
    "CREATE_CONTRACT", // 20-29
    "IMPLICIT_ACCOUNT",
    "DIP",
    "DROP",
    "DUP",
    "EDIV",
    "EMPTY_MAP",
    "EMPTY_SET",
    "EQ",
    "EXEC",
    "FAILWITH", // 30-39
    "GE",
    "GET",
    "GT",
    "HASH_KEY",
    "IF",
    "IF_CONS",
    "IF_LEFT",
    "IF_NONE",
    "INT",
    "LAMBDA", // 40-49
    "LE",
    "LEFT",
    "LOOP",
    "LSL",
    "LSR",
    "LT",
    "MAP",
    "MEM",
    "MUL",
    "NEG", // 50-59
    "NEQ",
    "NIL",
    "NONE",
    "NOT",
    "NOW",
    "OR",
    "PAIR",
    "PUSH",
    "RIGHT",
    "SIZE", // 60-69
    "SOME",
    "SOURCE",
    "SENDER",
    "SELF",
    "STEPS_TO_QUOTA",
    "SUB",
    "SWAP",
    "TRANSFER_TOKENS",
    "SET_DELEGATE",
    "UNIT", // 70-79
    "UPDATE",
    "XOR",
    "ITER",
    "LOOP_LEFT",
    "ADDRESS",
    "CONTRACT",
    "ISNAT",
    "CAST",
    "RENAME",
    "bool", // 80-89
    "contract",
    "int",
    "key",
    "key_hash",
    "lambda",
    "list",
    "map",
    "big_map",
    "nat",
    "option", // 90-99
    "or",
    "pair",
    "set",
    "signature",
    "string",
    "bytes",
    "mutez",
    "timestamp",
    "unit",
    "operation", // 100-109
    "address",
    "SLICE",
    "DIG",
    "DUG",
    "EMPTY_BIG_MAP",
    "APPLY",
    "chain_id",
    "CHAIN_ID",
    "LEVEL",
    "SELF_ADDRESS", // 110-119
    "never",
    "NEVER",
    "UNPAIR",
    "VOTING_POWER",
    "TOTAL_VOTING_POWER",
    "KECCAK",
    "SHA3",
    "PAIRING_CHECK",
    "bls12_381_g1",
    "bls12_381_g2", // 120-129
    "bls12_381_fr",
    "sapling_state",
    "sapling_transaction_deprecated",
    "SAPLING_EMPTY_STATE",
    "SAPLING_VERIFY_UPDATE",
    "ticket",
    "TICKET_DEPRECATED",
    "READ_TICKET",
    "SPLIT_TICKET",
    "JOIN_TICKETS", // 130-139
    "GET_AND_UPDATE",
    "chest",
    "chest_key",
    "OPEN_CHEST",
    "VIEW",
    "view",
    "constant",
    "SUB_MUTEZ",
    "tx_rollup_l2_address",
    "MIN_BLOCK_TIME", // 140-149
    "sapling_transaction",
    "EMIT",
    "Lambda_rec",
    "LAMBDA_REC",
    "TICKET",
    "BYTES",
    "NAT",
    "Ticket",
    "IS_IMPLICIT_ACCOUNT",
    "INDEX_ADDRESS",     // 150-159
    "GET_ADDRESS_INDEX", // 160
];

/// A Michelson primitive, stored as its binary tag.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prim(u8);

impl Prim {
    /// The primitive with this binary tag, if any.
    pub fn from_tag(tag: u8) -> Option<Self> {
        ((tag as usize) < PRIMITIVES.len()).then_some(Prim(tag))
    }

    /// The primitive with this name, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        PRIMITIVES.iter().position(|p| *p == name).map(|i| Prim(i as u8))
    }

    /// The binary tag.
    pub fn tag(self) -> u8 {
        self.0
    }

    /// The name, e.g. `"Pair"`.
    pub fn name(self) -> &'static str {
        PRIMITIVES[self.0 as usize]
    }
}

impl fmt::Debug for Prim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Prim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Micheline expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Micheline {
    /// An integer of any size.
    Int(BigInt),
    /// A string (Michelson strings are printable ASCII, but Micheline carries any UTF-8).
    String(String),
    /// A byte sequence.
    Bytes(Vec<u8>),
    /// A sequence `{ a ; b }`.
    Seq(Vec<Micheline>),
    /// A primitive application with optional annotations (`%a`, `@b`, `:c`).
    Prim {
        /// The primitive.
        prim: Prim,
        /// Its arguments.
        args: Vec<Micheline>,
        /// Its annotations, each with its sigil.
        annots: Vec<String>,
    },
}

/// Why a Micheline text or JSON value is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MichelineError {
    /// A concrete-syntax error at a byte offset.
    #[error("Micheline syntax error at byte {offset}: {message}")]
    Syntax {
        /// Byte offset in the input.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// A name that is not a Michelson primitive.
    #[error("unknown Michelson primitive {0:?}")]
    UnknownPrimitive(String),
    /// A JSON value that is not Micheline JSON.
    #[error("invalid Micheline JSON: {0}")]
    Json(String),
    /// Nesting deeper than soru accepts.
    #[error("Micheline nested deeper than {}", crate::encoding::MAX_NESTING)]
    TooDeep,
}

impl Micheline {
    /// A primitive without arguments or annotations.
    pub fn prim0(name: &str) -> Result<Self, MichelineError> {
        Self::prim(name, vec![])
    }

    /// A primitive with arguments and no annotations.
    pub fn prim(name: &str, args: Vec<Micheline>) -> Result<Self, MichelineError> {
        Ok(Micheline::Prim {
            prim: Prim::from_name(name).ok_or_else(|| MichelineError::UnknownPrimitive(name.into()))?,
            args,
            annots: vec![],
        })
    }

    /// An integer.
    pub fn int(value: impl Into<BigInt>) -> Self {
        Micheline::Int(value.into())
    }

    /// Whether this is the value `Unit` (no annotations).
    pub fn is_unit(&self) -> bool {
        matches!(self, Micheline::Prim { prim, args, annots } if prim.tag() == 11 && args.is_empty() && annots.is_empty())
    }

    /// `PACK`ed bytes: `0x05 ‖ binary`.
    pub fn pack(&self) -> Vec<u8> {
        let mut out = vec![0x05];
        self.encode_to(&mut out);
        out
    }

    /// The script expression hash (`expr…`) of the packed value.
    pub fn script_expr_hash(&self) -> crate::base58::ScriptExprHash {
        crate::base58::ScriptExprHash(blake2b_256(&self.pack()))
    }
}

// ---------------------------------------------------------------- binary

fn write_annots(out: &mut Vec<u8>, annots: &[String]) {
    annots.join(" ").encode_to(out);
}

impl Encode for Micheline {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Micheline::Int(v) => {
                out.push(0);
                write_z(out, v);
            }
            Micheline::String(s) => {
                out.push(1);
                s.encode_to(out);
            }
            Micheline::Seq(items) => {
                out.push(2);
                items.encode_to(out);
            }
            Micheline::Prim { prim, args, annots } => {
                let annotated = !annots.is_empty();
                match (args.len(), annotated) {
                    (0..=2, _) => {
                        out.push(3 + 2 * args.len() as u8 + u8::from(annotated));
                        out.push(prim.tag());
                        for arg in args {
                            arg.encode_to(out);
                        }
                        if annotated {
                            write_annots(out, annots);
                        }
                    }
                    _ => {
                        out.push(9);
                        out.push(prim.tag());
                        args.encode_to(out);
                        write_annots(out, annots);
                    }
                }
            }
            Micheline::Bytes(b) => {
                out.push(10);
                crate::encoding::Bytes(b.clone()).encode_to(out);
            }
        }
    }
}

fn read_prim(r: &mut Reader<'_>) -> DecodeResult<Prim> {
    let tag = r.u8()?;
    Prim::from_tag(tag).ok_or(DecodeError::UnknownTag {
        what: "Michelson primitive",
        tag: tag.into(),
    })
}

fn read_annots(r: &mut Reader<'_>) -> DecodeResult<Vec<String>> {
    let text = String::decode(r)?;
    Ok(text.split(' ').filter(|a| !a.is_empty()).map(str::to_string).collect())
}

/// A container whose children are being decoded (see [`Micheline::decode`]).
enum Frame {
    /// A primitive node with a fixed number of arguments (tags 5–8).
    Prim {
        prim: Prim,
        arity: usize,
        annotated: bool,
        args: Vec<Micheline>,
    },
    /// A length-prefixed list of nodes ending at byte `end`: a sequence
    /// (tag 2), or the arguments of a generic primitive (tag 9, followed by
    /// its annotations).
    List {
        generic: Option<Prim>,
        end: usize,
        items: Vec<Micheline>,
    },
}

impl Decode for Micheline {
    /// Decodes with an explicit stack rather than recursion, so hostile
    /// nesting costs heap, never native stack; depth is still capped at
    /// [`crate::encoding::MAX_NESTING`].
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let mut completed = None;
            if let Some(Frame::List { end, .. }) = stack.last() {
                if r.position() == *end {
                    let Some(Frame::List { generic, items, .. }) = stack.pop() else {
                        unreachable!("the top frame is a list")
                    };
                    completed = Some(match generic {
                        None => Micheline::Seq(items),
                        Some(prim) => Micheline::Prim {
                            prim,
                            args: items,
                            annots: read_annots(r)?,
                        },
                    });
                } else if r.position() > *end {
                    return Err(DecodeError::Invalid {
                        what: "Micheline",
                        reason: "a node overruns its enclosing list".into(),
                    });
                }
            }
            let mut node = match completed {
                Some(node) => node,
                None => {
                    if stack.len() >= crate::encoding::MAX_NESTING as usize {
                        return Err(DecodeError::TooDeep);
                    }
                    let tag = r.u8()?;
                    match tag {
                        0 => Micheline::Int(read_z(r)?),
                        1 => Micheline::String(String::decode(r)?),
                        10 => Micheline::Bytes(crate::encoding::Bytes::decode(r)?.0),
                        2 | 9 => {
                            let generic = if tag == 9 { Some(read_prim(r)?) } else { None };
                            let len = u32::decode(r)? as usize;
                            if len > r.remaining() {
                                return Err(DecodeError::UnexpectedEnd {
                                    needed: len,
                                    available: r.remaining(),
                                });
                            }
                            let end = r.position() + len;
                            stack.push(Frame::List {
                                generic,
                                end,
                                items: Vec::new(),
                            });
                            continue;
                        }
                        3..=8 => {
                            let prim = read_prim(r)?;
                            let arity = usize::from((tag - 3) / 2);
                            let annotated = (tag - 3) % 2 == 1;
                            if arity > 0 {
                                stack.push(Frame::Prim {
                                    prim,
                                    arity,
                                    annotated,
                                    args: Vec::with_capacity(arity),
                                });
                                continue;
                            }
                            let annots = if annotated { read_annots(r)? } else { vec![] };
                            Micheline::Prim {
                                prim,
                                args: vec![],
                                annots,
                            }
                        }
                        _ => {
                            return Err(DecodeError::UnknownTag {
                                what: "Micheline node",
                                tag: tag.into(),
                            })
                        }
                    }
                }
            };
            // Hand the finished node to its parent, closing every primitive
            // frame it completes.
            loop {
                match stack.last_mut() {
                    None => return Ok(node),
                    Some(Frame::List { items, .. }) => {
                        items.push(node);
                        break;
                    }
                    Some(Frame::Prim { args, arity, .. }) => {
                        args.push(node);
                        if args.len() < *arity {
                            break;
                        }
                        let Some(Frame::Prim {
                            prim, annotated, args, ..
                        }) = stack.pop()
                        else {
                            unreachable!("the top frame is a primitive")
                        };
                        let annots = if annotated { read_annots(r)? } else { vec![] };
                        node = Micheline::Prim { prim, args, annots };
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- JSON

impl Micheline {
    /// The Octez JSON form: `{"int":"1"}`, `{"string":…}`, `{"bytes":"hex"}`,
    /// arrays for sequences, `{"prim":…,"args":[…],"annots":[…]}`.
    pub fn to_json(&self) -> Value {
        match self {
            Micheline::Int(v) => json!({ "int": v.to_string() }),
            Micheline::String(s) => json!({ "string": s }),
            Micheline::Bytes(b) => json!({ "bytes": hex::encode(b) }),
            Micheline::Seq(items) => Value::Array(items.iter().map(Micheline::to_json).collect()),
            Micheline::Prim { prim, args, annots } => {
                let mut obj = Map::new();
                obj.insert("prim".into(), Value::String(prim.name().into()));
                if !args.is_empty() {
                    obj.insert(
                        "args".into(),
                        Value::Array(args.iter().map(Micheline::to_json).collect()),
                    );
                }
                if !annots.is_empty() {
                    obj.insert("annots".into(), json!(annots));
                }
                Value::Object(obj)
            }
        }
    }

    /// Parses the Octez JSON form.
    pub fn from_json(value: &Value) -> Result<Self, MichelineError> {
        Self::from_json_at(value, 0)
    }

    fn from_json_at(value: &Value, depth: u32) -> Result<Self, MichelineError> {
        if depth >= crate::encoding::MAX_NESTING {
            return Err(MichelineError::TooDeep);
        }
        let bad = |what: &str| MichelineError::Json(format!("{what}: {value}"));
        match value {
            Value::Array(items) => items
                .iter()
                .map(|v| Self::from_json_at(v, depth + 1))
                .collect::<Result<_, _>>()
                .map(Micheline::Seq),
            Value::Object(obj) => {
                if let Some(v) = obj.get("int") {
                    let text = v.as_str().ok_or_else(|| bad("\"int\" must be a decimal string"))?;
                    return parse_int(text)
                        .map(Micheline::Int)
                        .ok_or_else(|| bad("invalid integer"));
                }
                if let Some(v) = obj.get("string") {
                    return v
                        .as_str()
                        .map(|s| Micheline::String(s.into()))
                        .ok_or_else(|| bad("\"string\" must be a string"));
                }
                if let Some(v) = obj.get("bytes") {
                    let text = v.as_str().ok_or_else(|| bad("\"bytes\" must be a hex string"))?;
                    return hex::decode(text).map(Micheline::Bytes).map_err(|_| bad("invalid hex"));
                }
                let name = obj
                    .get("prim")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("expected int, string, bytes, prim or an array"))?;
                let prim = Prim::from_name(name).ok_or_else(|| MichelineError::UnknownPrimitive(name.into()))?;
                let args = match obj.get("args") {
                    None => vec![],
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|v| Self::from_json_at(v, depth + 1))
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err(bad("\"args\" must be an array")),
                };
                let annots = match obj.get("annots") {
                    None => vec![],
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|a| {
                            a.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| bad("annotations must be strings"))
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err(bad("\"annots\" must be an array")),
                };
                Ok(Micheline::Prim { prim, args, annots })
            }
            _ => Err(bad("expected an object or an array")),
        }
    }
}

fn parse_int(text: &str) -> Option<BigInt> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl serde::Serialize for Micheline {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Micheline {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Micheline::from_json(&value).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------- concrete syntax

impl fmt::Display for Micheline {
    /// The concrete syntax, on one line, as `octez-client` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        print(self, &mut out, true);
        f.write_str(&out)
    }
}

fn print(node: &Micheline, out: &mut String, top: bool) {
    match node {
        Micheline::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Micheline::String(s) => print_string(s, out),
        Micheline::Bytes(b) => {
            out.push_str("0x");
            out.push_str(&hex::encode(b));
        }
        Micheline::Seq(items) => {
            if items.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{ ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(" ; ");
                }
                print(item, out, true);
            }
            out.push_str(" }");
        }
        Micheline::Prim { prim, args, annots } => {
            let wrap = !top && (!args.is_empty() || !annots.is_empty());
            if wrap {
                out.push('(');
            }
            out.push_str(prim.name());
            for annot in annots {
                out.push(' ');
                out.push_str(annot);
            }
            for arg in args {
                out.push(' ');
                print(arg, out, false);
            }
            if wrap {
                out.push(')');
            }
        }
    }
}

fn print_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl std::str::FromStr for Micheline {
    type Err = MichelineError;

    /// Parses the concrete syntax. A top-level primitive may take arguments
    /// without parentheses (`Pair 1 2`); nested ones need them.
    fn from_str(s: &str) -> Result<Self, MichelineError> {
        let mut p = Parser {
            src: s.as_bytes(),
            pos: 0,
            depth: 0,
        };
        p.skip_blank()?;
        let node = p.expr(true)?;
        p.skip_blank()?;
        if p.pos != p.src.len() {
            return Err(p.error("unexpected input after the expression"));
        }
        Ok(node)
    }
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    depth: u32,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> MichelineError {
        MichelineError::Syntax {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_blank(&mut self) -> Result<(), MichelineError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'#') => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.src.get(self.pos + 1) == Some(&b'*') => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        match self.peek() {
                            None => {
                                self.pos = start;
                                return Err(self.error("unterminated comment"));
                            }
                            Some(b'*') if self.src.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn enter(&mut self) -> Result<(), MichelineError> {
        self.depth += 1;
        if self.depth >= crate::encoding::MAX_NESTING {
            return Err(MichelineError::TooDeep);
        }
        Ok(())
    }

    /// One expression; `applied` allows a primitive to take arguments
    /// without parentheses (at top level, in sequences and in parentheses).
    fn expr(&mut self, applied: bool) -> Result<Micheline, MichelineError> {
        self.enter()?;
        let node = match self.peek() {
            None => Err(self.error("expected an expression")),
            Some(b'{') => self.seq(),
            Some(b'(') => {
                self.pos += 1;
                self.skip_blank()?;
                let inner = self.expr(true)?;
                self.skip_blank()?;
                if self.peek() != Some(b')') {
                    return Err(self.error("expected ')'"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(b'"') => self.string(),
            Some(b'0') if self.src.get(self.pos + 1) == Some(&b'x') => self.bytes(),
            Some(b'-' | b'0'..=b'9') => self.int(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.prim(applied),
            Some(_) => Err(self.error("unexpected character")),
        };
        self.depth -= 1;
        node
    }

    fn seq(&mut self) -> Result<Micheline, MichelineError> {
        self.pos += 1; // '{'
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Micheline::Seq(items));
                }
                None => return Err(self.error("unterminated sequence: expected '}'")),
                _ => {}
            }
            items.push(self.expr(true)?);
            self.skip_blank()?;
            match self.peek() {
                Some(b';') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(self.error("expected ';' or '}' in a sequence")),
            }
        }
    }

    fn string(&mut self) -> Result<Micheline, MichelineError> {
        self.pos += 1; // '"'
        let mut text = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let escaped = match self.src.get(self.pos + 1) {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'n') => b'\n',
                        Some(b't') => b'\t',
                        Some(b'r') => b'\r',
                        Some(b'b') => 8,
                        _ => return Err(self.error("invalid escape in string")),
                    };
                    text.push(escaped);
                    self.pos += 2;
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(text)
            .map(Micheline::String)
            .map_err(|_| self.error("string is not UTF-8"))
    }

    fn bytes(&mut self) -> Result<Micheline, MichelineError> {
        self.pos += 2; // "0x"
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        hex::decode(&self.src[start..self.pos])
            .map(Micheline::Bytes)
            .map_err(|_| self.error("bytes need an even number of hex digits"))
    }

    fn int(&mut self) -> Result<Micheline, MichelineError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.src[start..self.pos]).map_err(|_| self.error("invalid integer"))?;
        parse_int(text)
            .map(Micheline::Int)
            .ok_or_else(|| self.error("invalid integer"))
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'%' || c == b'@' || c == b':')
        {
            self.pos += 1;
        }
        std::str::from_utf8(&self.src[start..self.pos]).unwrap_or_default()
    }

    fn prim(&mut self, applied: bool) -> Result<Micheline, MichelineError> {
        let start = self.pos;
        let name = self.word().to_string();
        let prim = Prim::from_name(&name).ok_or_else(|| {
            self.pos = start;
            MichelineError::UnknownPrimitive(name.clone())
        })?;
        let mut annots = Vec::new();
        let mut args = Vec::new();
        loop {
            let before = self.pos;
            self.skip_blank()?;
            match self.peek() {
                Some(b'%' | b'@' | b':') if args.is_empty() && self.pos > before => {
                    annots.push(self.word().to_string())
                }
                Some(b'{' | b'(' | b'"' | b'-' | b'0'..=b'9') if applied && self.pos > before => {
                    args.push(self.expr(false)?)
                }
                Some(c) if applied && self.pos > before && (c.is_ascii_alphabetic() || c == b'_') => {
                    args.push(self.expr(false)?)
                }
                _ => {
                    self.pos = before;
                    return Ok(Micheline::Prim { prim, args, annots });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Micheline {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn primitive_table_is_consistent() {
        assert_eq!(Prim::from_name("Pair").unwrap().tag(), 7);
        assert_eq!(Prim::from_name("bool").unwrap().tag(), 89);
        assert_eq!(Prim::from_name("ticket").unwrap().tag(), 135);
        assert_eq!(Prim::from_name("Ticket").unwrap().tag(), 157);
        for (i, name) in PRIMITIVES.iter().enumerate() {
            assert_eq!(Prim::from_name(name).unwrap().tag() as usize, i, "{name} listed twice");
        }
    }

    #[test]
    fn concrete_syntax_round_trips() {
        for text in [
            "Unit",
            "Pair Unit False",
            "Pair 1 (Pair \"a\" 0xdead)",
            "{ CAR ; NIL operation ; PAIR }",
            "{}",
            "-42",
            "\"esc\\\"aped\\n\"",
            "pair (int %a) (nat :b @c)",
            "Left (Some (Pair 1 2))",
            "{ Elt 1 \"one\" ; Elt 2 \"two\" }",
            "{ DIP { DROP } ; PUSH nat 0 }",
            "parameter %root unit",
            "0x",
        ] {
            assert_eq!(parse(text).to_string(), text);
        }
        assert_eq!(
            parse(" { CAR ;  # comment\n NIL /* c */ operation ; PAIR ; } ").to_string(),
            "{ CAR ; NIL operation ; PAIR }"
        );
        assert_eq!(parse("(Pair 1 2)").to_string(), "Pair 1 2");
    }

    #[test]
    fn concrete_syntax_errors() {
        for bad in [
            "Pair 1 (",
            "{ CAR ",
            "\"open",
            "Foo",
            "0x1",
            "1 2",
            "{ CAR ; ; }",
            "",
            "Pair %a",
        ] {
            let result = bad.parse::<Micheline>();
            // "Pair %a" is an annotated primitive and is valid.
            if bad == "Pair %a" {
                assert!(result.is_ok());
                continue;
            }
            assert!(result.is_err(), "{bad:?} parsed as {:?}", result);
        }
    }

    #[test]
    fn binary_layouts() {
        assert_eq!(hex::encode(parse("37").to_bytes()), "0025");
        assert_eq!(
            hex::encode(parse("Pair 42 0xdead").to_bytes()),
            "0707002a0a00000002dead"
        );
        assert_eq!(hex::encode(parse("Unit").to_bytes()), "030b");
        assert_eq!(hex::encode(parse("\"hi\"").to_bytes()), "01000000026869");
        assert_eq!(
            hex::encode(parse("{ CAR }").to_bytes()),
            "0200000002 0316".replace(' ', "")
        );
        assert_eq!(hex::encode(parse("unit %a").to_bytes()), "046c000000022561");
        // Three arguments use the generic node (tag 9) with an empty annotation string.
        let three = parse("Elt 1 2 3");
        assert_eq!(hex::encode(three.to_bytes()), "09040000000600010002000300000000");
        assert_eq!(Micheline::from_bytes(&three.to_bytes()).unwrap(), three);
        assert_eq!(hex::encode(parse("37").pack()), "050025");
    }

    #[test]
    fn json_form() {
        let v = parse("Pair (int %a) { 1 ; \"s\" ; 0x00 }");
        let json = v.to_json();
        assert_eq!(
            json,
            json!({"prim":"Pair","args":[{"prim":"int","annots":["%a"]},[{"int":"1"},{"string":"s"},{"bytes":"00"}]]})
        );
        assert_eq!(Micheline::from_json(&json).unwrap(), v);
        assert!(Micheline::from_json(&json!({"int": 1})).is_err(), "ints are strings");
        assert!(Micheline::from_json(&json!({"prim": "Nope"})).is_err());
        assert!(Micheline::from_json(&json!({"bytes": "zz"})).is_err());
    }

    #[test]
    fn hostile_nesting_is_refused() {
        let mut deep = Vec::new();
        for _ in 0..100_000 {
            deep.extend([5u8, 9]); // Some(
        }
        deep.extend([3, 11]);
        assert_eq!(Micheline::from_bytes(&deep), Err(DecodeError::TooDeep));
    }

    #[test]
    fn hostile_text_nesting_is_refused() {
        let text = "{".repeat(100_000);
        assert_eq!(text.parse::<Micheline>(), Err(MichelineError::TooDeep));
    }

    fn arb_micheline() -> impl Strategy<Value = Micheline> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Micheline::int),
            "[a-z \\\\\"]{0,8}".prop_map(Micheline::String),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(Micheline::Bytes),
            (0..PRIMITIVES.len() as u8).prop_map(|t| Micheline::Prim {
                prim: Prim(t),
                args: vec![],
                annots: vec![]
            }),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Micheline::Seq),
                (
                    0..PRIMITIVES.len() as u8,
                    proptest::collection::vec(inner, 0..4),
                    proptest::collection::vec("[%@:][a-z]{1,4}", 0..2)
                )
                    .prop_map(|(t, args, annots)| Micheline::Prim {
                        prim: Prim(t),
                        args,
                        annots
                    }),
            ]
        })
    }

    proptest! {
        #[test]
        fn all_forms_round_trip(v in arb_micheline()) {
            prop_assert_eq!(Micheline::from_bytes(&v.to_bytes()).unwrap(), v.clone());
            prop_assert_eq!(Micheline::from_json(&v.to_json()).unwrap(), v.clone());
            prop_assert_eq!(v.to_string().parse::<Micheline>().unwrap(), v);
        }

        #[test]
        fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Micheline::from_bytes(&bytes);
        }

        #[test]
        fn parser_never_panics(text in "[ -~\\n]{0,64}") {
            let _ = text.parse::<Micheline>();
        }
    }
}
