//! Michelson values: read from Micheline against a type (Octez
//! `parse_data`), written back in the Readable or the Optimized form
//! (`unparse_data`; rollup Transfer payloads are Optimized), and compared
//! as `COMPARE` does.

use std::cmp::Ordering;
use std::sync::Arc;

use num_bigint::{BigInt, Sign};
use soru_core::base58::{ChainId, ContractKt1Hash, SmartRollupAddress};
use soru_core::encoding::{Decode, Encode, Reader};
use soru_core::micheline::Micheline;
use soru_core::time::Timestamp;
use soru_core::{PublicKey, PublicKeyHash, Signature};

use crate::error::DataError;
use crate::instr::Instr;
use crate::ty::Type;

/// Where an address points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    /// An implicit account.
    Implicit(PublicKeyHash),
    /// An originated contract.
    Originated(ContractKt1Hash),
    /// A smart rollup.
    SmartRollup(SmartRollupAddress),
}

/// An `address`: a destination and an entrypoint (`default` when none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    /// The destination.
    pub destination: Destination,
    /// The entrypoint, empty for `default`.
    pub entrypoint: String,
}

impl Address {
    /// Parses `tz1…`, `KT1…%entrypoint`, `sr1…`.
    pub fn from_text(text: &str) -> Option<Self> {
        let (base, entrypoint) = text.split_once('%').unwrap_or((text, ""));
        if entrypoint.len() > 31 || entrypoint == "default" && text.contains('%') {
            return None;
        }
        let destination = if base.starts_with("KT1") {
            Destination::Originated(ContractKt1Hash::from_base58(base).ok()?)
        } else if base.starts_with("sr1") {
            Destination::SmartRollup(SmartRollupAddress::from_base58(base).ok()?)
        } else {
            Destination::Implicit(PublicKeyHash::from_base58(base).ok()?)
        };
        Some(Self {
            destination,
            entrypoint: entrypoint.to_string(),
        })
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let base = match &self.destination {
            Destination::Implicit(pkh) => pkh.to_base58(),
            Destination::Originated(kt1) => kt1.to_base58(),
            Destination::SmartRollup(sr1) => sr1.to_base58(),
        };
        if self.entrypoint.is_empty() {
            base
        } else {
            format!("{base}%{}", self.entrypoint)
        }
    }

    /// Octez's binary form: the 22-byte destination, then the entrypoint's
    /// bytes (none for `default`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(22 + self.entrypoint.len());
        match &self.destination {
            Destination::Implicit(pkh) => {
                out.push(0);
                pkh.encode_to(&mut out);
            }
            Destination::Originated(kt1) => {
                out.push(1);
                out.extend_from_slice(&kt1.0);
                out.push(0);
            }
            Destination::SmartRollup(sr1) => {
                out.push(3);
                out.extend_from_slice(&sr1.0);
                out.push(0);
            }
        }
        out.extend_from_slice(self.entrypoint.as_bytes());
        out
    }

    /// Reads [`Address::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < 22 {
            return None;
        }
        let (head, entrypoint) = bytes.split_at(22);
        let destination = match head[0] {
            0 => Destination::Implicit(PublicKeyHash::decode(&mut Reader::new(&head[1..])).ok()?),
            1 if head[21] == 0 => Destination::Originated(ContractKt1Hash(head[1..21].try_into().ok()?)),
            3 if head[21] == 0 => Destination::SmartRollup(SmartRollupAddress(head[1..21].try_into().ok()?)),
            _ => return None,
        };
        let entrypoint = std::str::from_utf8(entrypoint).ok()?;
        if entrypoint.len() > 31 || entrypoint == "default" {
            return None;
        }
        Some(Self {
            destination,
            entrypoint: entrypoint.to_string(),
        })
    }
}

/// A typed Michelson value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `Unit`.
    Unit,
    /// `True`/`False`.
    Bool(bool),
    /// An `int` or a `nat` (the type says which).
    Int(BigInt),
    /// `mutez`.
    Mutez(u64),
    /// A `string`.
    String(String),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// A `timestamp`, in seconds.
    Timestamp(BigInt),
    /// An `address`.
    Address(Address),
    /// A `key_hash`.
    KeyHash(PublicKeyHash),
    /// A `key`.
    Key(PublicKey),
    /// A `signature`.
    Signature(Signature),
    /// A `chain_id`.
    ChainId(ChainId),
    /// An `option`.
    Option(Option<Box<Value>>),
    /// A `list` (persistent: `DUP` shares it, `CONS` is O(1)).
    List(imbl::Vector<Value>),
    /// A `set` (persistent, ordered).
    Set(imbl::OrdSet<Value>),
    /// A `map` or a `big_map` held by value, by key (persistent, ordered).
    Map(imbl::OrdMap<Value, Value>),
    /// A `pair`.
    Pair(Box<Value>, Box<Value>),
    /// `Left`.
    Left(Box<Value>),
    /// `Right`.
    Right(Box<Value>),
    /// A `lambda`.
    Lambda(Lambda),
    /// A `contract t`: an address whose entrypoint has type `t`.
    Contract(Address),
    /// A `ticket t`.
    Ticket(Box<Ticket>),
    /// An `operation` (only transfers are made by soru's instructions).
    Operation(Box<Transfer>),
}

/// A lambda value: its code (for `PACK` and unparsing) and its typed
/// body, both shared, so that copying a lambda copies neither.
#[derive(Debug, Clone)]
pub struct Lambda {
    /// The code.
    pub code: Arc<LambdaCode>,
    /// The typechecked body.
    pub body: Arc<[Instr]>,
}

/// A lambda's code: as written, or another lambda with an argument
/// captured by `APPLY` — written out only when asked, as Octez writes it:
/// `{ PUSH t v ; PAIR ; code }`.
#[derive(Debug, Clone)]
pub enum LambdaCode {
    /// Code as written in a script or constant.
    Written(Micheline),
    /// `APPLY` of `inner` to `value` of type `ty`.
    Applied {
        /// The captured value's type.
        ty: Type,
        /// The captured value.
        value: Value,
        /// The lambda it was applied to.
        inner: Arc<LambdaCode>,
    },
}

impl LambdaCode {
    /// The code as Micheline, its `PUSH` constants in `form`.
    pub fn to_micheline(&self, form: Form) -> Micheline {
        match self {
            LambdaCode::Written(code) => normalize_code(code, form),
            LambdaCode::Applied { ty, value, inner } => Micheline::Seq(vec![
                prim("PUSH", vec![ty.to_micheline(), unparse(ty, value, form)]),
                prim("PAIR", vec![]),
                inner.to_micheline(form),
            ]),
        }
    }
}

impl PartialEq for Lambda {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.code, &other.code)
            || self.code.to_micheline(Form::OptimizedLegacy) == other.code.to_micheline(Form::OptimizedLegacy)
    }
}

impl Eq for Lambda {}

/// A ticket: who minted it, what it holds, how many units.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket {
    /// The contract (or rollup) that minted it.
    pub ticketer: Address,
    /// Its contents.
    pub contents: Value,
    /// Units (a positive `nat`).
    pub amount: BigInt,
}

/// The operation `TRANSFER_TOKENS` makes: a call of `destination` with a
/// typed parameter and an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The destination and its entrypoint.
    pub destination: Address,
    /// Tez sent, in mutez.
    pub amount: u64,
    /// The parameter's type (the destination entrypoint's).
    pub parameter_ty: Type,
    /// The parameter.
    pub parameter: Value,
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Unit => 0,
        Value::Bool(_) => 1,
        Value::Int(_) => 2,
        Value::Mutez(_) => 3,
        Value::String(_) => 4,
        Value::Bytes(_) => 5,
        Value::Timestamp(_) => 6,
        Value::Address(_) => 7,
        Value::KeyHash(_) => 8,
        Value::Key(_) => 9,
        Value::Signature(_) => 10,
        Value::ChainId(_) => 11,
        Value::Option(_) => 12,
        Value::List(_) => 13,
        Value::Set(_) => 14,
        Value::Map(_) => 15,
        Value::Pair(..) => 16,
        Value::Left(_) => 17,
        Value::Right(_) => 18,
        Value::Lambda(_) => 19,
        Value::Contract(_) => 20,
        Value::Ticket(_) => 21,
        Value::Operation(_) => 22,
    }
}

impl Ord for Value {
    /// `COMPARE` on comparable values (values of one type always share a
    /// variant, except `Left` < `Right` and `None` < `Some`); a total order
    /// on the others so that values can be map keys in the interpreter.
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        match (self, other) {
            (Unit, Unit) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) | (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Mutez(a), Mutez(b)) => a.cmp(b),
            (String(a), String(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (Address(a), Address(b)) => a.to_bytes()[..22]
                .cmp(&b.to_bytes()[..22])
                .then_with(|| a.entrypoint.cmp(&b.entrypoint)),
            (KeyHash(a), KeyHash(b)) => a.to_bytes().cmp(&b.to_bytes()),
            (Key(a), Key(b)) => a.to_bytes().cmp(&b.to_bytes()),
            (Signature(a), Signature(b)) => a.as_bytes().cmp(b.as_bytes()),
            (ChainId(a), ChainId(b)) => a.0.cmp(&b.0),
            (Option(a), Option(b)) => a.cmp(b),
            (List(a), List(b)) => a.cmp(b),
            (Set(a), Set(b)) => a.cmp(b),
            (Map(a), Map(b)) => a.cmp(b),
            (Pair(a1, a2), Pair(b1, b2)) => a1.cmp(b1).then_with(|| a2.cmp(b2)),
            (Left(a), Left(b)) | (Right(a), Right(b)) => a.cmp(b),
            (Contract(a), Contract(b)) => a.cmp(b),
            (Ticket(a), Ticket(b)) => a.cmp(b),
            (Lambda(a), Lambda(b)) => a
                .code
                .to_micheline(Form::OptimizedLegacy)
                .pack()
                .cmp(&b.code.to_micheline(Form::OptimizedLegacy).pack()),
            (Operation(a), Operation(b)) => {
                (&a.destination, a.amount, &a.parameter).cmp(&(&b.destination, b.amount, &b.parameter))
            }
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// How [`unparse`] writes values (Octez `unparsing_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Strings for addresses, keys and timestamps; flat `Pair a b c`.
    Readable,
    /// Bytes for addresses and keys, integers for timestamps; right combs
    /// of four or more as sequences. Rollup Transfer payloads use it.
    Optimized,
    /// Optimized, but every comb written as nested `Pair`s (Octez
    /// `Optimized_legacy`: what `PACK` and ticket-table keys use).
    OptimizedLegacy,
}

fn invalid(value: &Micheline, ty: &Type) -> DataError {
    DataError::InvalidConstant {
        value: value.to_string(),
        ty: ty.to_string(),
    }
}

fn prim_of<'a>(expr: &'a Micheline, name: &str) -> Option<&'a [Micheline]> {
    match expr {
        Micheline::Prim { prim, args, annots } if prim.name() == name && annots.is_empty() => Some(args),
        _ => None,
    }
}

/// Michelson strings: printable ASCII and newlines.
fn is_michelson_string(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b) || b == b'\n')
}

/// What reading a value needs beyond the value: lambdas are typechecked,
/// contracts looked up on the chain, and tickets written out in full are
/// accepted only where the protocol allows it (outbox transactions).
pub trait DataContext {
    /// A lambda literal: typechecks `code` from `arg` to `ret`.
    fn lambda(&mut self, arg: &Type, ret: &Type, code: &Micheline) -> Result<Value, DataError>;
    /// A `contract ty` literal: `address` must exist and take `ty`.
    fn contract(&mut self, ty: &Type, address: &Address) -> Result<Value, DataError>;
    /// Whether ticket literals are accepted.
    fn allow_forged_tickets(&self) -> bool;
}

/// The context of plain data: no lambda, contract or ticket literals.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainData;

impl DataContext for PlainData {
    fn lambda(&mut self, arg: &Type, ret: &Type, _: &Micheline) -> Result<Value, DataError> {
        Err(DataError::NoLiteral(
            Type::Lambda(Box::new(arg.clone()), Box::new(ret.clone())).to_string(),
        ))
    }

    fn contract(&mut self, ty: &Type, _: &Address) -> Result<Value, DataError> {
        Err(DataError::NoLiteral(Type::Contract(Box::new(ty.clone())).to_string()))
    }

    fn allow_forged_tickets(&self) -> bool {
        false
    }
}

/// Reads `expr` as a value of `ty` (Octez `parse_data`, not legacy), with
/// no lambda, contract or ticket literals; see [`parse_data_in`].
pub fn parse_data(ty: &Type, expr: &Micheline) -> Result<Value, DataError> {
    parse_depth(ty, expr, 0, &mut PlainData)
}

/// Reads `expr` as a value of `ty`, asking `ctx` about lambdas, contracts
/// and tickets.
pub fn parse_data_in(ty: &Type, expr: &Micheline, ctx: &mut dyn DataContext) -> Result<Value, DataError> {
    parse_depth(ty, expr, 0, ctx)
}

fn parse_depth(ty: &Type, expr: &Micheline, depth: usize, ctx: &mut dyn DataContext) -> Result<Value, DataError> {
    if depth > soru_core::encoding::MAX_NESTING as usize {
        return Err(DataError::TooDeep);
    }
    let bad = || invalid(expr, ty);
    let forged_tickets = ctx.allow_forged_tickets();
    let mut next = |t: &Type, e: &Micheline| parse_depth(t, e, depth + 1, ctx);
    Ok(match ty {
        Type::Unit => prim_of(expr, "Unit")
            .filter(|a| a.is_empty())
            .map(|_| Value::Unit)
            .ok_or_else(bad)?,
        Type::Bool => match (prim_of(expr, "True"), prim_of(expr, "False")) {
            (Some([]), _) => Value::Bool(true),
            (_, Some([])) => Value::Bool(false),
            _ => return Err(bad()),
        },
        Type::Int => match expr {
            Micheline::Int(i) => Value::Int(i.clone()),
            _ => return Err(bad()),
        },
        Type::Nat => match expr {
            Micheline::Int(i) if i.sign() != Sign::Minus => Value::Int(i.clone()),
            _ => return Err(bad()),
        },
        Type::Mutez => match expr {
            Micheline::Int(i) => Value::Mutez(
                i64::try_from(i)
                    .ok()
                    .and_then(|v| u64::try_from(v).ok())
                    .ok_or_else(bad)?,
            ),
            _ => return Err(bad()),
        },
        Type::String => match expr {
            Micheline::String(s) if is_michelson_string(s) => Value::String(s.clone()),
            _ => return Err(bad()),
        },
        Type::Bytes => match expr {
            Micheline::Bytes(b) => Value::Bytes(b.clone()),
            _ => return Err(bad()),
        },
        Type::Timestamp => match expr {
            Micheline::Int(i) => Value::Timestamp(i.clone()),
            Micheline::String(s) => Value::Timestamp(Timestamp::parse(s).ok_or_else(bad)?.seconds.into()),
            _ => return Err(bad()),
        },
        Type::Address => match expr {
            Micheline::String(s) => Value::Address(Address::from_text(s).ok_or_else(bad)?),
            Micheline::Bytes(b) => Value::Address(Address::from_bytes(b).ok_or_else(bad)?),
            _ => return Err(bad()),
        },
        Type::KeyHash => match expr {
            Micheline::String(s) => Value::KeyHash(PublicKeyHash::from_base58(s).map_err(|_| bad())?),
            Micheline::Bytes(b) => Value::KeyHash(PublicKeyHash::from_bytes(b).map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        Type::Key => match expr {
            Micheline::String(s) => Value::Key(PublicKey::from_base58(s).map_err(|_| bad())?),
            Micheline::Bytes(b) => Value::Key(PublicKey::from_bytes(b).map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        Type::Signature => match expr {
            Micheline::String(s) => Value::Signature(Signature::from_base58(s).map_err(|_| bad())?),
            Micheline::Bytes(b) => Value::Signature(Signature::from_bytes(b.as_slice().try_into().map_err(|_| bad())?)),
            _ => return Err(bad()),
        },
        Type::ChainId => match expr {
            Micheline::String(s) => Value::ChainId(ChainId::from_base58(s).map_err(|_| bad())?),
            Micheline::Bytes(b) => Value::ChainId(ChainId(b.as_slice().try_into().map_err(|_| bad())?)),
            _ => return Err(bad()),
        },
        Type::Option(t) => match (prim_of(expr, "Some"), prim_of(expr, "None")) {
            (Some([v]), _) => Value::Option(Some(Box::new(next(t, v)?))),
            (_, Some([])) => Value::Option(None),
            _ => return Err(bad()),
        },
        Type::List(t) => match expr {
            Micheline::Seq(items) => Value::List(items.iter().map(|e| next(t, e)).collect::<Result<_, _>>()?),
            _ => return Err(bad()),
        },
        Type::Set(t) => match expr {
            Micheline::Seq(items) => {
                let items: Vec<Value> = items.iter().map(|e| next(t, e)).collect::<Result<_, _>>()?;
                for w in items.windows(2) {
                    match w[0].cmp(&w[1]) {
                        Ordering::Less => {}
                        Ordering::Equal => return Err(DataError::Duplicate("set")),
                        Ordering::Greater => return Err(DataError::Unordered("set")),
                    }
                }
                Value::Set(items.into_iter().collect())
            }
            _ => return Err(bad()),
        },
        Type::Map(k, v) | Type::BigMap(k, v) => match expr {
            Micheline::Seq(items) => {
                let mut map = imbl::OrdMap::new();
                let mut last: Option<Value> = None;
                for item in items {
                    let Some([key, value]) = prim_of(item, "Elt") else {
                        return Err(bad());
                    };
                    let key = next(k, key)?;
                    if let Some(previous) = &last {
                        match previous.cmp(&key) {
                            Ordering::Less => {}
                            Ordering::Equal => return Err(DataError::Duplicate("map")),
                            Ordering::Greater => return Err(DataError::Unordered("map")),
                        }
                    }
                    last = Some(key.clone());
                    map.insert(key, next(v, value)?);
                }
                Value::Map(map)
            }
            _ => return Err(bad()),
        },
        Type::Pair(l, r) => {
            // `Pair a b c …` and `{a; b; c …}` are right combs.
            let items: &[Micheline] = match expr {
                Micheline::Seq(items) if items.len() >= 2 => items,
                _ => match prim_of(expr, "Pair") {
                    Some(args) if args.len() >= 2 => args,
                    _ => return Err(bad()),
                },
            };
            let left = next(l, &items[0])?;
            let rest = if items.len() == 2 {
                items[1].clone()
            } else {
                Micheline::prim("Pair", items[1..].to_vec()).map_err(|_| bad())?
            };
            Value::Pair(Box::new(left), Box::new(next(r, &rest)?))
        }
        Type::Or(l, r) => match (prim_of(expr, "Left"), prim_of(expr, "Right")) {
            (Some([v]), _) => Value::Left(Box::new(next(l, v)?)),
            (_, Some([v])) => Value::Right(Box::new(next(r, v)?)),
            _ => return Err(bad()),
        },
        Type::Lambda(arg, ret) => match expr {
            Micheline::Seq(_) => ctx.lambda(arg, ret, expr)?,
            _ => return Err(bad()),
        },
        Type::Contract(t) => {
            let address = match expr {
                Micheline::String(s) => Address::from_text(s),
                Micheline::Bytes(b) => Address::from_bytes(b),
                _ => None,
            }
            .ok_or_else(bad)?;
            ctx.contract(t, &address)?
        }
        Type::Ticket(t) if forged_tickets => {
            // `Ticket ticketer type contents amount`, or the opened form
            // `Pair ticketer contents amount` that rollup kernels write.
            let (ticketer, contents, amount) = match prim_of(expr, "Ticket") {
                Some([ticketer, declared, contents, amount]) => {
                    if Type::parse(declared)? != **t {
                        return Err(bad());
                    }
                    (ticketer.clone(), contents.clone(), amount.clone())
                }
                Some(_) => return Err(bad()),
                None => {
                    let opened = Type::comb(vec![Type::Address, (**t).clone(), Type::Nat]);
                    let Value::Pair(ticketer, rest) = parse_depth(&opened, expr, depth + 1, ctx)? else {
                        return Err(bad());
                    };
                    let Value::Pair(contents, amount) = *rest else {
                        return Err(bad());
                    };
                    if *amount == Value::Int(BigInt::default()) {
                        return Err(DataError::ForbiddenZeroTicket);
                    }
                    return ticket_of(*ticketer, *contents, *amount).ok_or_else(bad);
                }
            };
            let ticketer = next(&Type::Address, &ticketer)?;
            let contents = next(t, &contents)?;
            let amount = next(&Type::Nat, &amount)?;
            if amount == Value::Int(BigInt::default()) {
                return Err(DataError::ForbiddenZeroTicket);
            }
            ticket_of(ticketer, contents, amount).ok_or_else(bad)?
        }
        Type::Never | Type::Operation | Type::Ticket(_) => return Err(DataError::NoLiteral(ty.to_string())),
    })
}

/// A ticket from parsed parts: the ticketer has no entrypoint and the
/// amount is positive.
fn ticket_of(ticketer: Value, contents: Value, amount: Value) -> Option<Value> {
    match (ticketer, amount) {
        (Value::Address(ticketer), Value::Int(amount))
            if ticketer.entrypoint.is_empty() && amount.sign() == Sign::Plus =>
        {
            Some(Value::Ticket(Box::new(Ticket {
                ticketer,
                contents,
                amount,
            })))
        }
        _ => None,
    }
}

fn prim(name: &str, args: Vec<Micheline>) -> Micheline {
    Micheline::prim(name, args).expect("a Michelson data constructor")
}

/// Writes `value` (of type `ty`) as Micheline in `form` (Octez
/// `unparse_data`).
pub fn unparse(ty: &Type, value: &Value, form: Form) -> Micheline {
    let optimized = form != Form::Readable;
    match (ty, value) {
        (_, Value::Unit) => prim("Unit", vec![]),
        (_, Value::Bool(b)) => prim(if *b { "True" } else { "False" }, vec![]),
        (_, Value::Int(i)) => Micheline::Int(i.clone()),
        (_, Value::Mutez(m)) => Micheline::Int((*m).into()),
        (_, Value::String(s)) => Micheline::String(s.clone()),
        (_, Value::Bytes(b)) => Micheline::Bytes(b.clone()),
        (_, Value::Timestamp(t)) => {
            let readable = (!optimized)
                .then(|| i64::try_from(t).ok())
                .flatten()
                .map(|s| Timestamp::from_seconds(s).to_rfc3339())
                .filter(|text| !text.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
            match readable {
                Some(text) => Micheline::String(text),
                None => Micheline::Int(t.clone()),
            }
        }
        // Optimized writes these as bytes, Readable as base58 text.
        (_, Value::Address(a)) => bytes_or_text(optimized, || a.to_bytes(), || a.to_text()),
        (_, Value::KeyHash(k)) => bytes_or_text(optimized, || k.to_bytes(), || k.to_base58()),
        (_, Value::Key(k)) => bytes_or_text(optimized, || k.to_bytes(), || k.to_base58()),
        (_, Value::Signature(sig)) => bytes_or_text(optimized, || sig.as_bytes().to_vec(), || sig.to_base58()),
        (_, Value::ChainId(c)) => bytes_or_text(optimized, || c.0.to_vec(), || c.to_base58()),
        (Type::Option(t), Value::Option(v)) => match v {
            Some(v) => prim("Some", vec![unparse(t, v, form)]),
            None => prim("None", vec![]),
        },
        (Type::List(t), Value::List(items)) => Micheline::Seq(items.iter().map(|v| unparse(t, v, form)).collect()),
        (Type::Set(t), Value::Set(items)) => Micheline::Seq(items.iter().map(|v| unparse(t, v, form)).collect()),
        (Type::Map(k, v) | Type::BigMap(k, v), Value::Map(map)) => Micheline::Seq(
            map.iter()
                .map(|(key, value)| prim("Elt", vec![unparse(k, key, form), unparse(v, value, form)]))
                .collect(),
        ),
        (Type::Pair(lt, rt), Value::Pair(l, r)) => {
            let left = unparse(lt, l, form);
            let right = unparse(rt, r, form);
            let right_is_comb = matches!(**rt, Type::Pair(..));
            match (form, right_is_comb, right) {
                // Optimized, combs of five or more: one flat sequence.
                (Form::Optimized, true, Micheline::Seq(mut rest)) => {
                    rest.insert(0, left);
                    Micheline::Seq(rest)
                }
                // Optimized, combs of four: a sequence.
                (Form::Optimized, true, Micheline::Prim { prim: p, args, annots })
                    if p.name() == "Pair" && annots.is_empty() && args.len() == 2 && is_pair(&args[1]) =>
                {
                    let Micheline::Prim { args: inner, .. } = &args[1] else {
                        unreachable!("checked by is_pair")
                    };
                    Micheline::Seq(vec![left, args[0].clone(), inner[0].clone(), inner[1].clone()])
                }
                // Readable combs: flat `Pair a b c`.
                (
                    Form::Readable,
                    true,
                    Micheline::Prim {
                        prim: p,
                        mut args,
                        annots,
                    },
                ) if p.name() == "Pair" && annots.is_empty() => {
                    args.insert(0, left);
                    prim("Pair", args)
                }
                (_, _, right) => prim("Pair", vec![left, right]),
            }
        }
        (Type::Or(lt, _), Value::Left(v)) => prim("Left", vec![unparse(lt, v, form)]),
        (Type::Or(_, rt), Value::Right(v)) => prim("Right", vec![unparse(rt, v, form)]),
        (_, Value::Lambda(lambda)) => lambda.code.to_micheline(form),
        (_, Value::Contract(address)) => unparse(&Type::Address, &Value::Address(address.clone()), form),
        (Type::Ticket(t), Value::Ticket(ticket)) => unparse(
            &Type::comb(vec![Type::Address, (**t).clone(), Type::Nat]),
            &Value::Pair(
                Box::new(Value::Address(ticket.ticketer.clone())),
                Box::new(Value::Pair(
                    Box::new(ticket.contents.clone()),
                    Box::new(Value::Int(ticket.amount.clone())),
                )),
            ),
            form,
        ),
        (_, Value::Ticket(ticket)) => unparse(
            &Type::Ticket(Box::new(Type::Unit)),
            &Value::Ticket(ticket.clone()),
            form,
        ),
        // Operations have no Michelson syntax; like Octez, they are shown
        // as bytes (soru's: destination, amount, packed parameter).
        (_, Value::Operation(transfer)) => {
            let mut bytes = transfer.destination.to_bytes();
            bytes.extend_from_slice(&transfer.amount.to_be_bytes());
            bytes.extend(unparse(&transfer.parameter_ty, &transfer.parameter, Form::Optimized).pack());
            Micheline::Bytes(bytes)
        }
        // A value that does not match its type: written by its own shape.
        (_, Value::Option(v)) => match v {
            Some(v) => prim("Some", vec![unparse(&Type::Unit, v, form)]),
            None => prim("None", vec![]),
        },
        (_, Value::List(items)) => Micheline::Seq(items.iter().map(|v| unparse(&Type::Unit, v, form)).collect()),
        (_, Value::Set(items)) => Micheline::Seq(items.iter().map(|v| unparse(&Type::Unit, v, form)).collect()),
        (_, Value::Map(map)) => Micheline::Seq(
            map.iter()
                .map(|(k, v)| {
                    prim(
                        "Elt",
                        vec![unparse(&Type::Unit, k, form), unparse(&Type::Unit, v, form)],
                    )
                })
                .collect(),
        ),
        (_, Value::Pair(l, r)) => prim(
            "Pair",
            vec![unparse(&Type::Unit, l, form), unparse(&Type::Unit, r, form)],
        ),
        (_, Value::Left(v)) => prim("Left", vec![unparse(&Type::Unit, v, form)]),
        (_, Value::Right(v)) => prim("Right", vec![unparse(&Type::Unit, v, form)]),
    }
}

fn bytes_or_text(optimized: bool, bytes: impl FnOnce() -> Vec<u8>, text: impl FnOnce() -> String) -> Micheline {
    if optimized {
        Micheline::Bytes(bytes())
    } else {
        Micheline::String(text())
    }
}

/// Code with every `PUSH` constant written in `form` (Octez
/// `unparse_code`): how lambdas are packed, stored and shown. Constants
/// that do not read (which typechecked code never has) stay as written.
pub fn normalize_code(code: &Micheline, form: Form) -> Micheline {
    match code {
        Micheline::Seq(items) => Micheline::Seq(items.iter().map(|i| normalize_code(i, form)).collect()),
        Micheline::Prim { prim, args, annots } => {
            let args = match args.as_slice() {
                [ty, data] if prim.name() == "PUSH" => {
                    let written = Type::parse(ty)
                        .ok()
                        .and_then(|t| Some(unparse(&t, &parse_depth(&t, data, 0, &mut CodeConstants).ok()?, form)));
                    vec![ty.clone(), written.unwrap_or_else(|| data.clone())]
                }
                _ => args.iter().map(|a| normalize_code(a, form)).collect(),
            };
            Micheline::Prim {
                prim: *prim,
                args,
                annots: annots.clone(),
            }
        }
        other => other.clone(),
    }
}

/// Reads constants of code being rewritten: lambdas keep their code (to be
/// rewritten in turn), nothing is typechecked again.
struct CodeConstants;

impl DataContext for CodeConstants {
    fn lambda(&mut self, _: &Type, _: &Type, code: &Micheline) -> Result<Value, DataError> {
        Ok(Value::Lambda(Lambda {
            code: Arc::new(LambdaCode::Written(code.clone())),
            body: Arc::from(Vec::new()),
        }))
    }

    fn contract(&mut self, _: &Type, address: &Address) -> Result<Value, DataError> {
        Ok(Value::Contract(address.clone()))
    }

    fn allow_forged_tickets(&self) -> bool {
        true
    }
}

fn is_pair(expr: &Micheline) -> bool {
    matches!(expr, Micheline::Prim { prim, args, annots } if prim.name() == "Pair" && args.len() == 2 && annots.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> Type {
        Type::parse(&text.parse::<Micheline>().unwrap()).unwrap()
    }

    fn data(t: &str, v: &str) -> Result<Value, DataError> {
        parse_data(&ty(t), &v.parse::<Micheline>().unwrap())
    }

    fn round(t: &str, v: &str, form: Form) -> String {
        unparse(&ty(t), &data(t, v).unwrap(), form).to_string()
    }

    #[test]
    fn scalars() {
        assert!(data("nat", "-1").is_err());
        assert!(data("int", "-1").is_ok());
        assert!(data("mutez", "9223372036854775807").is_ok());
        assert!(data("mutez", "9223372036854775808").is_err());
        assert!(
            data("string", "\"tab\\there\"").is_err(),
            "tabs are not Michelson string characters"
        );
        assert_eq!(
            round("timestamp", "\"2024-01-01T00:00:00Z\"", Form::Optimized),
            "1704067200"
        );
        assert_eq!(
            round("timestamp", "1704067200", Form::Readable),
            "\"2024-01-01T00:00:00Z\""
        );
        let pkh = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx";
        let address = data("address", &format!("\"{pkh}\"")).unwrap();
        let Value::Address(a) = &address else { panic!() };
        assert_eq!(a.to_bytes().len(), 22);
        assert_eq!(Address::from_bytes(&a.to_bytes()).as_ref(), Some(a));
        assert_eq!(
            round("address", &format!("\"{pkh}\""), Form::Readable),
            format!("\"{pkh}\"")
        );
        let kt1 = "KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq%deposit";
        let optimized = round("address", &format!("\"{kt1}\""), Form::Optimized);
        assert!(
            optimized.starts_with("0x01") && optimized.ends_with(&hex::encode("deposit")),
            "{optimized}"
        );
        assert!(data("address", "\"KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq%default\"").is_err());
        assert!(data("key_hash", &format!("\"{pkh}\"")).is_ok());
        assert!(data("unit", "Unit").is_ok() && data("unit", "Unit 1").is_err());
        assert!(data("never", "Unit").is_err());
        assert!(data("ticket nat", "Pair \"KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq\" 1 2").is_err());
    }

    #[test]
    fn collections_are_ordered_and_unique() {
        assert!(data("set nat", "{ 1 ; 2 ; 3 }").is_ok());
        assert_eq!(data("set nat", "{ 2 ; 1 }").unwrap_err(), DataError::Unordered("set"));
        assert_eq!(data("set nat", "{ 1 ; 1 }").unwrap_err(), DataError::Duplicate("set"));
        assert!(data("map string nat", "{ Elt \"a\" 1 ; Elt \"b\" 2 }").is_ok());
        assert!(data("map string nat", "{ Elt \"b\" 1 ; Elt \"a\" 2 }").is_err());
        assert!(data("option (or nat string)", "Some (Right \"x\")").is_ok());
        assert!(data("list nat", "{ 1 ; \"x\" }").is_err());
    }

    #[test]
    fn combs_in_both_forms() {
        let t = "pair nat nat nat nat nat";
        for v in [
            "Pair 1 2 3 4 5",
            "{ 1 ; 2 ; 3 ; 4 ; 5 }",
            "Pair 1 (Pair 2 (Pair 3 (Pair 4 5)))",
        ] {
            assert_eq!(round(t, v, Form::Readable), "Pair 1 2 3 4 5");
            assert_eq!(round(t, v, Form::Optimized), "{ 1 ; 2 ; 3 ; 4 ; 5 }");
        }
        assert_eq!(
            round("pair nat nat nat nat", "Pair 1 2 3 4", Form::Optimized),
            "{ 1 ; 2 ; 3 ; 4 }"
        );
        assert_eq!(
            round("pair nat nat nat", "Pair 1 2 3", Form::Optimized),
            "Pair 1 (Pair 2 3)"
        );
        assert_eq!(round("pair nat nat", "{ 1 ; 2 }", Form::Optimized), "Pair 1 2");
        assert_eq!(
            round("pair nat nat nat nat", "Pair 1 2 3 4", Form::OptimizedLegacy),
            "Pair 1 (Pair 2 (Pair 3 4))"
        );
        // A left-nested pair is not a comb.
        assert_eq!(
            round("pair (pair nat nat) nat", "Pair (Pair 1 2) 3", Form::Readable),
            "Pair (Pair 1 2) 3"
        );
    }

    #[test]
    fn compare_follows_michelson() {
        let a = data("or nat string", "Left 5").unwrap();
        let b = data("or nat string", "Right \"a\"").unwrap();
        assert!(a < b);
        assert!(data("option nat", "None").unwrap() < data("option nat", "Some 0").unwrap());
        assert!(data("pair nat string", "Pair 1 \"b\"").unwrap() < data("pair nat string", "Pair 2 \"a\"").unwrap());
    }
}
