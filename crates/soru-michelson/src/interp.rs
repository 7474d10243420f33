//! The interpreter: runs typed instructions on a stack of values, drawing
//! gas for every step (Octez `Script_interpreter`). A script's run takes
//! `pair parameter storage` and gives back the operations it emits and the
//! new storage; it reads the chain only through [`ChainView`] and the
//! [`Env`] of the call, so the same inputs always give the same outputs.

use std::cmp::Ordering;
use std::sync::Arc;

use num_bigint::{BigInt, Sign};
use num_traits::{Signed, ToPrimitive, Zero};
use sha2::Digest;
use soru_core::base58::{ChainId, ContractKt1Hash};
use soru_core::encoding::{Decode, Reader};
use soru_core::micheline::Micheline;
use soru_core::PublicKeyHash;

use crate::entrypoints::Entrypoints;
use crate::error::{RuntimeError, ScriptError};
use crate::gas::{cost, Gas};
use crate::instr::Instr;
use crate::ty::Type;
use crate::typecheck::{Checker, Script};
use crate::value::{unparse, Address, Destination, Form, Lambda, LambdaCode, Ticket, Transfer, Value};

/// What the interpreter may ask of the chain.
pub trait ChainView {
    /// Whether `destination` exists and its `entrypoint` (empty for
    /// default) takes values of `ty`: an originated contract's entrypoint
    /// type, `unit` or a ticket for an implicit account, a rollup's
    /// declared type.
    fn accepts(&self, destination: &Destination, entrypoint: &str, ty: &Type) -> bool;
}

/// The facts of one call.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The contract running.
    pub self_address: ContractKt1Hash,
    /// Who called it (a contract, an implicit account or a rollup).
    pub sender: &'a Address,
    /// The implicit account that signed the operation.
    pub source: PublicKeyHash,
    /// Mutez sent with the call.
    pub amount: u64,
    /// The contract's balance, the amount included.
    pub balance: u64,
    /// The block's timestamp (seconds).
    pub now: i64,
    /// The block's level.
    pub level: u32,
    /// The chain.
    pub chain_id: ChainId,
    /// Contract lookups.
    pub chain: &'a dyn ChainView,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("self_address", &self.self_address)
            .field("sender", &self.sender)
            .field("amount", &self.amount)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

/// What a script's run gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The operations emitted, in order.
    pub operations: Vec<Transfer>,
    /// The new storage.
    pub storage: Value,
}

/// The deepest lambda-in-lambda nesting a run may reach.
pub const MAX_CALL_DEPTH: usize = 1_000;

/// Largest shift `LSL`/`LSR` accept (Octez: 256).
const MAX_SHIFT: u64 = 256;

/// Runs `script` on `parameter` (already a value of entrypoint
/// `entrypoint`'s type) and `storage`.
pub fn run_script(
    script: &Script,
    entrypoint: &str,
    parameter: Value,
    storage: Value,
    env: &Env<'_>,
    gas: &mut Gas,
) -> Result<Outcome, RuntimeError> {
    let (path, _) = script
        .entrypoints
        .find(entrypoint)
        .ok_or_else(|| RuntimeError::Script(Box::new(ScriptError::NoSuchEntrypoint(entrypoint.to_string()))))?;
    let parameter = Entrypoints::wrap(path, parameter);
    let mut stack = vec![Value::Pair(Box::new(parameter), Box::new(storage))];
    let mut interpreter = Interpreter { env, gas, depth: 0 };
    interpreter.run(&script.code, &mut stack)?;
    interpreter.charge(cost::HALT)?;
    match stack.pop() {
        Some(Value::Pair(operations, storage)) => match *operations {
            Value::List(operations) => Ok(Outcome {
                operations: operations
                    .into_iter()
                    .filter_map(|op| match op {
                        Value::Operation(transfer) => Some(*transfer),
                        _ => None,
                    })
                    .collect(),
                storage: *storage,
            }),
            _ => Err(bad_stack()),
        },
        _ => Err(bad_stack()),
    }
}

/// A stack that does not have the shape the typechecker promised: a bug
/// in soru, reported rather than panicking.
fn bad_stack() -> RuntimeError {
    RuntimeError::Script(Box::new(ScriptError::BadStack {
        instr: "(interpreter)".into(),
        stack: "unexpected".into(),
    }))
}

struct Interpreter<'e, 'g> {
    env: &'e Env<'e>,
    gas: &'g mut Gas,
    depth: usize,
}

fn pop(stack: &mut Vec<Value>) -> Result<Value, RuntimeError> {
    stack.pop().ok_or_else(bad_stack)
}

fn int(v: Value) -> Result<BigInt, RuntimeError> {
    match v {
        Value::Int(i) => Ok(i),
        _ => Err(bad_stack()),
    }
}

fn boolean(v: Value) -> Result<bool, RuntimeError> {
    match v {
        Value::Bool(b) => Ok(b),
        _ => Err(bad_stack()),
    }
}

fn mutez(i: BigInt) -> Result<Value, RuntimeError> {
    i.to_i64()
        .filter(|v| *v >= 0)
        .map(|v| Value::Mutez(v as u64))
        .ok_or(RuntimeError::Overflow)
}

fn some(v: Value) -> Value {
    Value::Option(Some(Box::new(v)))
}

fn pair(a: Value, b: Value) -> Value {
    Value::Pair(Box::new(a), Box::new(b))
}

/// Euclidean division: the remainder is never negative.
fn ediv(a: &BigInt, b: &BigInt) -> Option<(BigInt, BigInt)> {
    if b.is_zero() {
        return None;
    }
    let mut r = a % b;
    if r.is_negative() {
        r += b.abs();
    }
    let q = (a - &r) / b;
    Some((q, r))
}

/// Milligas for copying `v`: its parts that are not shared (collections
/// and lambdas are), about one per byte copied and a few per
/// allocation. Octez's values are immutable and shared, so its `DUP` is
/// free of this; soru charges it so that no instruction copies more than
/// its gas pays for.
fn clone_cost(v: &Value) -> u64 {
    match v {
        Value::Int(i) | Value::Timestamp(i) => i.bits() / 64,
        Value::String(s) => s.len() as u64 / 8,
        Value::Bytes(b) => b.len() as u64 / 8,
        Value::Pair(a, b) => 4 + clone_cost(a) + clone_cost(b),
        Value::Left(x) | Value::Right(x) => 2 + clone_cost(x),
        Value::Option(Some(x)) => 2 + clone_cost(x),
        Value::Ticket(t) => 4 + clone_cost(&t.contents) + t.amount.bits() / 64,
        Value::Operation(t) => 4 + clone_cost(&t.parameter),
        _ => 0,
    }
}

/// Octez's `Gas_comparable_input_size` of a value: the size that map,
/// set and comparison costs grow with.
fn comparable_size(v: &Value) -> u64 {
    match v {
        Value::Int(i) | Value::Timestamp(i) => i.bits() / 8,
        Value::String(s) => s.len() as u64,
        Value::Bytes(b) => b.len() as u64,
        Value::Mutez(_) => 8,
        Value::Unit | Value::Bool(_) => 1,
        Value::KeyHash(_) => 21,
        Value::Key(_) => 33,
        Value::Signature(_) => 64,
        Value::ChainId(_) => 4,
        Value::Address(a) => {
            21 + if a.entrypoint.is_empty() {
                7
            } else {
                a.entrypoint.len() as u64
            }
        }
        Value::Pair(a, b) => comparable_size(a) + comparable_size(b) + 1,
        Value::Left(v) | Value::Right(v) => comparable_size(v) + 1,
        Value::Option(v) => v.as_deref().map_or(0, comparable_size) + 1,
        _ => 8,
    }
}

/// Octez's `COMPARE` cost: a leaf cost per scalar, 10 per structure node.
fn compare_cost(a: &Value, b: &Value) -> u64 {
    match (a, b) {
        (Value::Pair(a1, a2), Value::Pair(b1, b2)) => 10 + compare_cost(a1, b1) + compare_cost(a2, b2),
        (Value::Left(a) | Value::Right(a), Value::Left(b) | Value::Right(b)) => 10 + compare_cost(a, b),
        (Value::Option(Some(a)), Value::Option(Some(b))) => 10 + compare_cost(a, b),
        (Value::Option(_), Value::Option(_)) | (Value::Unit, Value::Unit) => 10,
        (Value::Key(_), _) | (Value::Signature(_), _) => 92,
        (Value::ChainId(_), _) => 30,
        (Value::Address(_), _) => cost::compare_leaf(52, 52),
        _ => cost::compare_leaf(comparable_size(a).max(1), comparable_size(b).max(1)),
    }
}

/// Nodes, integer bytes and string bytes of Micheline (serialization cost).
fn micheline_size(expr: &Micheline) -> (u64, u64, u64) {
    match expr {
        Micheline::Int(i) => (1, cost::int_bytes(i), 0),
        Micheline::String(s) => (1, 0, s.len() as u64),
        Micheline::Bytes(b) => (1, 0, b.len() as u64),
        Micheline::Seq(items) | Micheline::Prim { args: items, .. } => items
            .iter()
            .map(micheline_size)
            .fold((1, 0, 0), |(n, i, s), (n2, i2, s2)| (n + n2, i + i2, s + s2)),
    }
}

/// The cost of unparsing a value to `expr` and serializing it.
fn unparse_cost(expr: &Micheline) -> u64 {
    let (nodes, ints, strings) = micheline_size(expr);
    cost::UNPARSE_DATA_NODE * nodes + cost::serialize(nodes, ints, strings)
}

fn int_bytes_of(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::Int(i) | Value::Timestamp(i)) => cost::int_bytes(i),
        _ => 0,
    }
}

fn byte_len(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::String(s)) => s.len() as u64,
        Some(Value::Bytes(b)) => b.len() as u64,
        _ => 0,
    }
}

fn collection_len(v: &Value) -> usize {
    match v {
        Value::List(l) => l.len(),
        Value::Set(s) => s.len(),
        Value::Map(m) => m.len(),
        _ => 0,
    }
}

/// Octez `GET n` on a right comb.
fn comb_get(v: Value, k: usize) -> Result<Value, RuntimeError> {
    match (k, v) {
        (0, v) => Ok(v),
        (1, Value::Pair(a, _)) => Ok(*a),
        (k, Value::Pair(_, b)) if k >= 2 => comb_get(*b, k - 2),
        _ => Err(bad_stack()),
    }
}

/// Octez `UPDATE n` on a right comb.
fn comb_update(v: Value, k: usize, field: Value) -> Result<Value, RuntimeError> {
    match (k, v) {
        (0, _) => Ok(field),
        (1, Value::Pair(_, b)) => Ok(Value::Pair(Box::new(field), b)),
        (k, Value::Pair(a, b)) if k >= 2 => Ok(Value::Pair(a, Box::new(comb_update(*b, k - 2, field)?))),
        _ => Err(bad_stack()),
    }
}

impl Interpreter<'_, '_> {
    fn charge(&mut self, milligas: u64) -> Result<(), RuntimeError> {
        self.gas.consume(milligas).map_err(|_| RuntimeError::OutOfGas)
    }

    /// The cost of `instr` on `stack`, charged before it runs (Octez
    /// `cost_of_instr`; work whose size shows only while it runs, such as
    /// loop iterations and unparsing, is charged as it happens).
    fn step_cost(instr: &Instr, stack: &[Value]) -> u64 {
        let top = |i: usize| stack.len().checked_sub(i + 1).map(|k| &stack[k]);
        let ints = |i: usize| int_bytes_of(top(i));
        let len = |i: usize| byte_len(top(i));
        let count = |i: usize| top(i).map_or(0, collection_len) as u64;
        let key = || top(0).map_or(1, comparable_size);
        match instr {
            Instr::Dup(n) => {
                let copied = n.checked_sub(1).and_then(top).map_or(0, clone_cost);
                copied + if *n == 1 { cost::STEP } else { cost::dup_n(*n as u64) }
            }
            Instr::Push(v) => cost::STEP + clone_cost(v),
            Instr::Drop(1) | Instr::Swap | Instr::Dip(1, _) => cost::STEP,
            Instr::Drop(n) => cost::drop_n(*n as u64),
            Instr::Dig(n) => cost::dig(*n as u64),
            Instr::Dug(n) => cost::dig(*n as u64) + 5,
            Instr::Dip(n, _) => cost::dip_n(*n as u64),
            Instr::Pair(2) | Instr::Unpair(2) => cost::STEP,
            Instr::Pair(n) => cost::pair_n(*n as u64),
            Instr::Unpair(n) => cost::unpair_n(*n as u64),
            Instr::GetComb(n) => cost::get_n(*n as u64),
            Instr::UpdateComb(n) => cost::update_n(*n as u64),
            Instr::EmptySet | Instr::EmptyMap => cost::EMPTY_COLLECTION,
            Instr::Size => match top(0) {
                Some(Value::String(_)) => 15,
                _ => cost::STEP,
            },
            Instr::Mem => match top(1) {
                Some(Value::Set(_)) => cost::set_mem(count(1), key()),
                _ => cost::map_get(count(1), key()),
            },
            Instr::Get => cost::map_get(count(1), key()),
            Instr::Update => match top(2) {
                Some(Value::Set(_)) => cost::set_update(count(2), key()),
                _ => cost::map_update(count(2), key()),
            },
            Instr::GetAndUpdate => cost::map_get_and_update(count(2), key()),
            Instr::Concat => 45 + ((len(0) + len(1)) >> 1),
            Instr::ConcatList(_) => match top(0) {
                Some(Value::List(items)) => {
                    let total: u64 = items.iter().map(|v| byte_len(Some(v))).sum();
                    10 * items.len() as u64 + 100 + (total >> 1)
                }
                _ => 100,
            },
            Instr::Slice => 25 + (len(2) >> 1),
            Instr::Add | Instr::Sub => match (top(0), top(1)) {
                (Some(Value::Mutez(_)), _) => 20,
                _ => cost::add_int(ints(0), ints(1)),
            },
            Instr::SubMutez => 15,
            Instr::Mul => match (top(0), top(1)) {
                (Some(Value::Mutez(_)), _) | (_, Some(Value::Mutez(_))) => 50,
                _ => cost::mul_int(ints(0), ints(1)),
            },
            Instr::Ediv => match top(0) {
                Some(Value::Mutez(_)) => 70,
                _ => cost::ediv_int(ints(0), ints(1)),
            },
            Instr::Abs => 20 + (ints(0) >> 1),
            Instr::Neg => 25 + (ints(0) >> 1),
            Instr::Lsl | Instr::Lsr | Instr::Or | Instr::And | Instr::Xor => match top(0) {
                Some(Value::Int(_)) => 35 + (ints(0).max(ints(1)) >> 1),
                _ => 15,
            },
            Instr::Not => match top(0) {
                Some(Value::Int(_)) => 25 + (ints(0) >> 1),
                _ => cost::STEP,
            },
            Instr::Compare => match (top(0), top(1)) {
                (Some(a), Some(b)) => compare_cost(a, b),
                _ => cost::STEP,
            },
            Instr::Blake2b => cost::blake2b(len(0)),
            Instr::Sha256 => cost::sha256(len(0)),
            Instr::Sha512 => cost::sha512(len(0)),
            Instr::HashKey => cost::HASH_KEY,
            Instr::CheckSignature => {
                let base = match top(0) {
                    Some(Value::Key(k)) => match k.curve() {
                        soru_core::keys::Curve::Ed25519 => cost::CHECK_SIGNATURE_ED25519,
                        soru_core::keys::Curve::Secp256k1 => cost::CHECK_SIGNATURE_SECP256K1,
                        soru_core::keys::Curve::P256 => cost::CHECK_SIGNATURE_P256,
                        soru_core::keys::Curve::Bls => cost::CHECK_SIGNATURE_BLS + 2 * len(2),
                    },
                    _ => cost::CHECK_SIGNATURE_P256,
                };
                base + len(2) + (len(2) >> 3)
            }
            Instr::Unpack(_) => 260 + (len(0) >> 1) + 20 * len(0),
            Instr::Contract(..) => cost::CONTRACT,
            Instr::TransferTokens(_) => cost::TRANSFER_TOKENS,
            Instr::SplitTicket => match top(1) {
                Some(Value::Pair(a, b)) => 40 + (int_bytes_of(Some(a)).max(int_bytes_of(Some(b))) >> 1),
                _ => 40,
            },
            Instr::JoinTickets => 35 + 35 + 35,
            Instr::Apply(_) => cost::APPLY,
            Instr::ChainId => 15,
            Instr::Iter(_) => match top(0) {
                Some(Value::Map(_) | Value::Set(_)) => {
                    let n = count(0);
                    50 + 7 * n + (n >> 1) + (n >> 3)
                }
                _ => 20,
            },
            Instr::Map(_) => match top(0) {
                Some(Value::Map(_)) => {
                    let n = count(0);
                    40 + 8 * n + (n >> 1)
                }
                _ => 20,
            },
            // Charged with the unparsing they do.
            Instr::Pack(_) | Instr::Failwith(_) => 0,
            _ => cost::STEP,
        }
    }

    fn run(&mut self, code: &[Instr], stack: &mut Vec<Value>) -> Result<(), RuntimeError> {
        self.depth += 1;
        if self.depth > MAX_CALL_DEPTH {
            return Err(RuntimeError::TooDeep);
        }
        for instr in code {
            self.charge(Self::step_cost(instr, stack))?;
            self.step(instr, stack)?;
        }
        self.depth -= 1;
        Ok(())
    }

    #[allow(clippy::too_many_lines)]
    fn step(&mut self, instr: &Instr, stack: &mut Vec<Value>) -> Result<(), RuntimeError> {
        let n = stack.len();
        match instr {
            Instr::Drop(k) => stack.truncate(n.checked_sub(*k).ok_or_else(bad_stack)?),
            Instr::Dup(k) => {
                let v = stack
                    .get(n.checked_sub(*k).ok_or_else(bad_stack)?)
                    .ok_or_else(bad_stack)?
                    .clone();
                stack.push(v);
            }
            Instr::Swap => {
                if n < 2 {
                    return Err(bad_stack());
                }
                stack.swap(n - 1, n - 2);
            }
            Instr::Dig(k) => {
                let v = stack.remove(n.checked_sub(k + 1).ok_or_else(bad_stack)?);
                stack.push(v);
            }
            Instr::Dug(k) => {
                let at = n.checked_sub(k + 1).ok_or_else(bad_stack)?;
                let v = pop(stack)?;
                stack.insert(at, v);
            }
            Instr::Push(v) => stack.push(v.clone()),
            Instr::Shared(block) => self.run(block, stack)?,
            Instr::Dip(k, body) => {
                let mut protected = stack.split_off(n.checked_sub(*k).ok_or_else(bad_stack)?);
                self.run(body, stack)?;
                stack.append(&mut protected);
            }
            Instr::Unit => stack.push(Value::Unit),
            Instr::Some => {
                let v = pop(stack)?;
                stack.push(some(v));
            }
            Instr::None => stack.push(Value::Option(None)),
            Instr::Left => {
                let v = pop(stack)?;
                stack.push(Value::Left(Box::new(v)));
            }
            Instr::Right => {
                let v = pop(stack)?;
                stack.push(Value::Right(Box::new(v)));
            }
            Instr::Nil => stack.push(Value::List(imbl::Vector::new())),
            Instr::Cons => {
                let head = pop(stack)?;
                let Value::List(mut tail) = pop(stack)? else {
                    return Err(bad_stack());
                };
                tail.push_front(head);
                stack.push(Value::List(tail));
            }
            Instr::Pair(k) => {
                let parts = stack.split_off(n.checked_sub(*k).ok_or_else(bad_stack)?);
                let mut parts = parts.into_iter();
                let mut acc = parts.next().ok_or_else(bad_stack)?;
                for v in parts {
                    acc = pair(v, acc);
                }
                stack.push(acc);
            }
            Instr::Unpair(k) => {
                let mut rest = pop(stack)?;
                let mut parts = Vec::with_capacity(*k);
                for _ in 0..k - 1 {
                    let Value::Pair(a, b) = rest else {
                        return Err(bad_stack());
                    };
                    parts.push(*a);
                    rest = *b;
                }
                parts.push(rest);
                stack.extend(parts.into_iter().rev());
            }
            Instr::Car | Instr::Cdr => {
                let Value::Pair(a, b) = pop(stack)? else {
                    return Err(bad_stack());
                };
                stack.push(if matches!(instr, Instr::Car) { *a } else { *b });
            }
            Instr::GetComb(k) => {
                let v = pop(stack)?;
                stack.push(comb_get(v, *k)?);
            }
            Instr::UpdateComb(k) => {
                let field = pop(stack)?;
                let comb = pop(stack)?;
                stack.push(comb_update(comb, *k, field)?);
            }
            Instr::EmptySet => stack.push(Value::Set(imbl::OrdSet::new())),
            Instr::EmptyMap => stack.push(Value::Map(Default::default())),
            Instr::Size => {
                let size = match pop(stack)? {
                    Value::String(s) => s.len(),
                    Value::Bytes(b) => b.len(),
                    v => collection_len(&v),
                };
                stack.push(Value::Int(size.into()));
            }
            Instr::Mem => {
                let key = pop(stack)?;
                let found = match pop(stack)? {
                    Value::Set(items) => items.contains(&key),
                    Value::Map(map) => map.contains_key(&key),
                    _ => return Err(bad_stack()),
                };
                stack.push(Value::Bool(found));
            }
            Instr::Get => {
                let key = pop(stack)?;
                let Value::Map(map) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let found = map.get(&key).cloned();
                self.charge(found.as_ref().map_or(0, clone_cost))?;
                stack.push(Value::Option(found.map(Box::new)));
            }
            Instr::Update => {
                let key = pop(stack)?;
                let change = pop(stack)?;
                let updated = match (pop(stack)?, change) {
                    (Value::Set(mut items), Value::Bool(add)) => {
                        if add {
                            items.insert(key);
                        } else {
                            items.remove(&key);
                        }
                        Value::Set(items)
                    }
                    (Value::Map(mut map), Value::Option(value)) => {
                        match value {
                            Some(v) => map.insert(key, *v),
                            None => map.remove(&key),
                        };
                        Value::Map(map)
                    }
                    _ => return Err(bad_stack()),
                };
                stack.push(updated);
            }
            Instr::GetAndUpdate => {
                let key = pop(stack)?;
                let Value::Option(value) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let Value::Map(mut map) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let old = match value {
                    Some(v) => map.insert(key, *v),
                    None => map.remove(&key),
                };
                self.charge(old.as_ref().map_or(0, clone_cost))?;
                stack.push(Value::Map(map));
                stack.push(Value::Option(old.map(Box::new)));
            }
            Instr::Concat => {
                let a = pop(stack)?;
                let b = pop(stack)?;
                stack.push(match (a, b) {
                    (Value::String(a), Value::String(b)) => Value::String(a + &b),
                    (Value::Bytes(mut a), Value::Bytes(b)) => {
                        a.extend_from_slice(&b);
                        Value::Bytes(a)
                    }
                    _ => return Err(bad_stack()),
                });
            }
            Instr::ConcatList(bytes) => {
                let Value::List(items) = pop(stack)? else {
                    return Err(bad_stack());
                };
                if *bytes {
                    let mut out = Vec::new();
                    for item in items {
                        let Value::Bytes(b) = item else { return Err(bad_stack()) };
                        out.extend_from_slice(&b);
                    }
                    stack.push(Value::Bytes(out));
                } else {
                    let mut out = String::new();
                    for item in items {
                        let Value::String(s) = item else {
                            return Err(bad_stack());
                        };
                        out.push_str(&s);
                    }
                    stack.push(Value::String(out));
                }
            }
            Instr::Slice => {
                let offset = int(pop(stack)?)?;
                let length = int(pop(stack)?)?;
                let sliced = |len: usize| -> Option<(usize, usize)> {
                    let start = offset.to_usize()?;
                    let end = start.checked_add(length.to_usize()?)?;
                    (end <= len).then_some((start, end))
                };
                let result = match pop(stack)? {
                    Value::String(s) => sliced(s.len()).map(|(a, b)| Value::String(s[a..b].to_string())),
                    Value::Bytes(v) => sliced(v.len()).map(|(a, b)| Value::Bytes(v[a..b].to_vec())),
                    _ => return Err(bad_stack()),
                };
                stack.push(Value::Option(result.map(Box::new)));
            }
            Instr::Pack(ty) => {
                let v = pop(stack)?;
                let written = unparse(ty, &v, Form::OptimizedLegacy);
                self.charge(unparse_cost(&written))?;
                let packed = written.pack();
                stack.push(Value::Bytes(packed));
            }
            Instr::Unpack(ty) => {
                let Value::Bytes(bytes) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let result = self.unpack(ty, &bytes)?;
                stack.push(Value::Option(result.map(Box::new)));
            }
            Instr::If(then_code, else_code) => {
                let code = if boolean(pop(stack)?)? { then_code } else { else_code };
                self.run(code, stack)?;
            }
            Instr::IfNone(none_code, some_code) => match pop(stack)? {
                Value::Option(None) => self.run(none_code, stack)?,
                Value::Option(Some(v)) => {
                    stack.push(*v);
                    self.run(some_code, stack)?;
                }
                _ => return Err(bad_stack()),
            },
            Instr::IfLeft(left_code, right_code) => match pop(stack)? {
                Value::Left(v) => {
                    stack.push(*v);
                    self.run(left_code, stack)?;
                }
                Value::Right(v) => {
                    stack.push(*v);
                    self.run(right_code, stack)?;
                }
                _ => return Err(bad_stack()),
            },
            Instr::IfCons(cons_code, nil_code) => {
                let Value::List(mut items) = pop(stack)? else {
                    return Err(bad_stack());
                };
                match items.pop_front() {
                    None => self.run(nil_code, stack)?,
                    Some(head) => {
                        self.charge(clone_cost(&head))?;
                        stack.push(Value::List(items));
                        stack.push(head);
                        self.run(cons_code, stack)?;
                    }
                }
            }
            Instr::Loop(body) => {
                while boolean(pop(stack)?)? {
                    self.charge(cost::STEP)?;
                    self.run(body, stack)?;
                }
            }
            Instr::LoopLeft(body) => loop {
                match pop(stack)? {
                    Value::Left(v) => {
                        self.charge(cost::STEP)?;
                        stack.push(*v);
                        self.run(body, stack)?;
                    }
                    Value::Right(v) => {
                        stack.push(*v);
                        break;
                    }
                    _ => return Err(bad_stack()),
                }
            },
            Instr::Iter(body) => {
                let elements: Vec<Value> = match pop(stack)? {
                    Value::List(items) => items.into_iter().collect(),
                    Value::Set(items) => items.into_iter().collect(),
                    Value::Map(map) => map.into_iter().map(|(k, v)| pair(k, v)).collect(),
                    _ => return Err(bad_stack()),
                };
                for element in elements {
                    // Elements come out of a shared structure: copies.
                    self.charge(cost::STEP + clone_cost(&element))?;
                    stack.push(element);
                    self.run(body, stack)?;
                }
            }
            Instr::Map(body) => match pop(stack)? {
                Value::List(items) => {
                    let mut out = imbl::Vector::new();
                    for item in items {
                        self.charge(30 + clone_cost(&item))?;
                        stack.push(item);
                        self.run(body, stack)?;
                        out.push_back(pop(stack)?);
                    }
                    stack.push(Value::List(out));
                }
                Value::Map(map) => {
                    let mut out = imbl::OrdMap::new();
                    for (k, v) in map {
                        self.charge(80 + clone_cost(&k) + clone_cost(&v))?;
                        stack.push(pair(k.clone(), v));
                        self.run(body, stack)?;
                        out.insert(k, pop(stack)?);
                    }
                    stack.push(Value::Map(out));
                }
                _ => return Err(bad_stack()),
            },
            Instr::Lambda(v) => stack.push(v.clone()),
            Instr::Exec => {
                let arg = pop(stack)?;
                let Value::Lambda(lambda) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let mut inner = vec![arg];
                self.run(&lambda.body, &mut inner)?;
                stack.push(pop(&mut inner)?);
            }
            Instr::Apply(captured_ty) => {
                let captured = pop(stack)?;
                let Value::Lambda(lambda) = pop(stack)? else {
                    return Err(bad_stack());
                };
                // Neither code nor body is copied: the new lambda points at
                // the old one's (Octez writes `{ PUSH t v ; PAIR ; code }`).
                self.charge(clone_cost(&captured))?;
                let code = LambdaCode::Applied {
                    ty: captured_ty.clone(),
                    value: captured.clone(),
                    inner: lambda.code,
                };
                let body = vec![Instr::Push(captured), Instr::Pair(2), Instr::Shared(lambda.body)];
                stack.push(Value::Lambda(Lambda {
                    code: Arc::new(code),
                    body: body.into(),
                }));
            }
            Instr::Failwith(ty) => {
                let v = pop(stack)?;
                let written = unparse(ty, &v, Form::Optimized);
                self.charge(unparse_cost(&written))?;
                return Err(RuntimeError::Failwith(written));
            }
            Instr::Never => return Err(bad_stack()),
            Instr::Add => {
                let a = pop(stack)?;
                let b = pop(stack)?;
                stack.push(match (a, b) {
                    (Value::Int(a), Value::Int(b)) => Value::Int(a + b),
                    (Value::Timestamp(a), Value::Int(b)) | (Value::Int(b), Value::Timestamp(a)) => {
                        Value::Timestamp(a + b)
                    }
                    (Value::Mutez(a), Value::Mutez(b)) => mutez(BigInt::from(a) + b)?,
                    _ => return Err(bad_stack()),
                });
            }
            Instr::Sub => {
                let a = pop(stack)?;
                let b = pop(stack)?;
                stack.push(match (a, b) {
                    (Value::Int(a), Value::Int(b)) => Value::Int(a - b),
                    (Value::Timestamp(a), Value::Int(b)) => Value::Timestamp(a - b),
                    (Value::Timestamp(a), Value::Timestamp(b)) => Value::Int(a - b),
                    _ => return Err(bad_stack()),
                });
            }
            Instr::SubMutez => {
                let (Value::Mutez(a), Value::Mutez(b)) = (pop(stack)?, pop(stack)?) else {
                    return Err(bad_stack());
                };
                stack.push(Value::Option(a.checked_sub(b).map(|v| Box::new(Value::Mutez(v)))));
            }
            Instr::Mul => {
                let a = pop(stack)?;
                let b = pop(stack)?;
                stack.push(match (a, b) {
                    (Value::Int(a), Value::Int(b)) => Value::Int(a * b),
                    (Value::Mutez(a), Value::Int(b)) | (Value::Int(b), Value::Mutez(a)) => mutez(BigInt::from(a) * b)?,
                    _ => return Err(bad_stack()),
                });
            }
            Instr::Ediv => {
                let a = pop(stack)?;
                let b = pop(stack)?;
                let result = match (a, b) {
                    (Value::Int(a), Value::Int(b)) => ediv(&a, &b).map(|(q, r)| pair(Value::Int(q), Value::Int(r))),
                    (Value::Mutez(a), Value::Int(b)) => ediv(&a.into(), &b)
                        .map(|(q, r)| Ok::<_, RuntimeError>(pair(mutez(q)?, mutez(r)?)))
                        .transpose()?,
                    (Value::Mutez(a), Value::Mutez(b)) => ediv(&a.into(), &b.into())
                        .map(|(q, r)| Ok::<_, RuntimeError>(pair(Value::Int(q), mutez(r)?)))
                        .transpose()?,
                    _ => return Err(bad_stack()),
                };
                stack.push(Value::Option(result.map(Box::new)));
            }
            Instr::Abs => {
                let a = int(pop(stack)?)?;
                stack.push(Value::Int(a.abs()));
            }
            Instr::IsNat => {
                let a = int(pop(stack)?)?;
                stack.push(Value::Option((!a.is_negative()).then(|| Box::new(Value::Int(a)))));
            }
            Instr::Int => {
                let a = int(pop(stack)?)?;
                stack.push(Value::Int(a));
            }
            Instr::Neg => {
                let a = int(pop(stack)?)?;
                stack.push(Value::Int(-a));
            }
            Instr::Lsl | Instr::Lsr => {
                let value = int(pop(stack)?)?;
                let shift = int(pop(stack)?)?;
                let shift = shift
                    .to_u64()
                    .filter(|s| *s <= MAX_SHIFT)
                    .ok_or(RuntimeError::Overflow)?;
                stack.push(Value::Int(if matches!(instr, Instr::Lsl) {
                    value << shift
                } else {
                    value >> shift
                }));
            }
            Instr::Or | Instr::And | Instr::Xor => {
                let a = pop(stack)?;
                let b = pop(stack)?;
                stack.push(match (a, b) {
                    (Value::Bool(a), Value::Bool(b)) => Value::Bool(match instr {
                        Instr::Or => a | b,
                        Instr::And => a & b,
                        _ => a ^ b,
                    }),
                    // num-bigint's bitwise operators use two's complement,
                    // which `AND` of an `int` with a `nat` needs.
                    (Value::Int(a), Value::Int(b)) => Value::Int(match instr {
                        Instr::Or => a | b,
                        Instr::And => a & b,
                        _ => a ^ b,
                    }),
                    _ => return Err(bad_stack()),
                });
            }
            Instr::Not => {
                let v = match pop(stack)? {
                    Value::Bool(b) => Value::Bool(!b),
                    Value::Int(i) => Value::Int(-i - 1),
                    _ => return Err(bad_stack()),
                };
                stack.push(v);
            }
            Instr::Compare => {
                let a = pop(stack)?;
                let b = pop(stack)?;
                let ordering = match a.cmp(&b) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                };
                stack.push(Value::Int(ordering.into()));
            }
            Instr::Eq | Instr::Neq | Instr::Lt | Instr::Gt | Instr::Le | Instr::Ge => {
                let sign = int(pop(stack)?)?.sign();
                let result = match instr {
                    Instr::Eq => sign == Sign::NoSign,
                    Instr::Neq => sign != Sign::NoSign,
                    Instr::Lt => sign == Sign::Minus,
                    Instr::Gt => sign == Sign::Plus,
                    Instr::Le => sign != Sign::Plus,
                    _ => sign != Sign::Minus,
                };
                stack.push(Value::Bool(result));
            }
            Instr::Blake2b | Instr::Sha256 | Instr::Sha512 => {
                let Value::Bytes(data) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let digest = match instr {
                    Instr::Blake2b => soru_core::hash::blake2b_256(&data).to_vec(),
                    Instr::Sha256 => sha2::Sha256::digest(&data).to_vec(),
                    _ => sha2::Sha512::digest(&data).to_vec(),
                };
                stack.push(Value::Bytes(digest));
            }
            Instr::HashKey => {
                let Value::Key(key) = pop(stack)? else {
                    return Err(bad_stack());
                };
                stack.push(Value::KeyHash(key.hash()));
            }
            Instr::CheckSignature => {
                let Value::Key(key) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let Value::Signature(signature) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let Value::Bytes(message) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let valid = key.verify(&[], &message, &signature).unwrap_or(false);
                stack.push(Value::Bool(valid));
            }
            Instr::SelfContract(entrypoint) => stack.push(Value::Contract(Address {
                destination: Destination::Originated(self.env.self_address),
                entrypoint: entrypoint.clone(),
            })),
            Instr::SelfAddress => stack.push(Value::Address(Address {
                destination: Destination::Originated(self.env.self_address),
                entrypoint: String::new(),
            })),
            Instr::Contract(ty, entrypoint) => {
                let Value::Address(address) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let entrypoint = match (address.entrypoint.as_str(), entrypoint.as_str()) {
                    (a, "") => Some(a.to_string()),
                    ("", b) => Some(b.to_string()),
                    _ => None,
                };
                let found = entrypoint.filter(|ep| self.env.chain.accepts(&address.destination, ep, ty));
                stack.push(Value::Option(found.map(|entrypoint| {
                    Box::new(Value::Contract(Address {
                        destination: address.destination,
                        entrypoint,
                    }))
                })));
            }
            Instr::ImplicitAccount => {
                let Value::KeyHash(pkh) = pop(stack)? else {
                    return Err(bad_stack());
                };
                stack.push(Value::Contract(Address {
                    destination: Destination::Implicit(pkh),
                    entrypoint: String::new(),
                }));
            }
            Instr::Address => {
                let Value::Contract(address) = pop(stack)? else {
                    return Err(bad_stack());
                };
                stack.push(Value::Address(address));
            }
            Instr::TransferTokens(parameter_ty) => {
                let parameter = pop(stack)?;
                let Value::Mutez(amount) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let Value::Contract(destination) = pop(stack)? else {
                    return Err(bad_stack());
                };
                self.charge(unparse_cost(&unparse(parameter_ty, &parameter, Form::Optimized)))?;
                stack.push(Value::Operation(Box::new(Transfer {
                    destination,
                    amount,
                    parameter_ty: parameter_ty.clone(),
                    parameter,
                })));
            }
            Instr::Sender => stack.push(Value::Address(self.env.sender.clone())),
            Instr::Source => stack.push(Value::Address(Address {
                destination: Destination::Implicit(self.env.source),
                entrypoint: String::new(),
            })),
            Instr::Amount => stack.push(Value::Mutez(self.env.amount)),
            Instr::Balance => stack.push(Value::Mutez(self.env.balance)),
            Instr::Now => stack.push(Value::Timestamp(self.env.now.into())),
            Instr::Level => stack.push(Value::Int(self.env.level.into())),
            Instr::ChainId => stack.push(Value::ChainId(self.env.chain_id)),
            Instr::Ticket => {
                let contents = pop(stack)?;
                let amount = int(pop(stack)?)?;
                stack.push(Value::Option((!amount.is_zero()).then(|| {
                    Box::new(Value::Ticket(Box::new(Ticket {
                        ticketer: Address {
                            destination: Destination::Originated(self.env.self_address),
                            entrypoint: String::new(),
                        },
                        contents,
                        amount,
                    })))
                })));
            }
            Instr::ReadTicket => {
                let Some(Value::Ticket(ticket)) = stack.last() else {
                    return Err(bad_stack());
                };
                let read = pair(
                    Value::Address(ticket.ticketer.clone()),
                    pair(ticket.contents.clone(), Value::Int(ticket.amount.clone())),
                );
                self.charge(clone_cost(&read))?;
                stack.push(read);
            }
            Instr::SplitTicket => {
                let Value::Ticket(ticket) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let Value::Pair(a, b) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let (a, b) = (int(*a)?, int(*b)?);
                let split = (!a.is_zero() && !b.is_zero() && &a + &b == ticket.amount).then(|| {
                    let part = |amount: BigInt| {
                        Value::Ticket(Box::new(Ticket {
                            ticketer: ticket.ticketer.clone(),
                            contents: ticket.contents.clone(),
                            amount,
                        }))
                    };
                    Box::new(pair(part(a), part(b)))
                });
                stack.push(Value::Option(split));
            }
            Instr::JoinTickets => {
                let Value::Pair(a, b) = pop(stack)? else {
                    return Err(bad_stack());
                };
                let (Value::Ticket(a), Value::Ticket(b)) = (*a, *b) else {
                    return Err(bad_stack());
                };
                let joined = (a.ticketer == b.ticketer && a.contents == b.contents).then(|| {
                    Box::new(Value::Ticket(Box::new(Ticket {
                        ticketer: a.ticketer.clone(),
                        contents: a.contents.clone(),
                        amount: &a.amount + &b.amount,
                    })))
                });
                stack.push(Value::Option(joined));
            }
        }
        Ok(())
    }

    /// `UNPACK`: `0x05 ‖ Micheline`, read as a value of `ty`; `None` on any
    /// mismatch. Lambdas inside are typechecked on this run's gas.
    fn unpack(&mut self, ty: &Type, bytes: &[u8]) -> Result<Option<Value>, RuntimeError> {
        let Some((0x05, body)) = bytes.split_first() else {
            return Ok(None);
        };
        let mut reader = Reader::new(body);
        let Ok(expr) = Micheline::decode(&mut reader) else {
            return Ok(None);
        };
        if reader.finish().is_err() {
            return Ok(None);
        }
        let mut checker = Checker::new(self.gas);
        match checker.parse_value(ty, &expr) {
            Ok(v) => Ok(Some(v)),
            Err(ScriptError::OutOfGas) => Err(RuntimeError::OutOfGas),
            Err(_) => Ok(None),
        }
    }
}
