//! The interpreter: runs typed instructions on a stack of values, drawing
//! gas for every step (Octez `Script_interpreter`). A script's run takes
//! `pair parameter storage` and gives back the operations it emits and the
//! new storage; it reads the chain only through [`ChainView`] and the
//! [`Env`] of the call, so the same inputs always give the same outputs.

use std::cmp::Ordering;

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
use crate::value::{unparse, Address, Destination, Form, Lambda, Ticket, Transfer, Value};

/// What the interpreter may ask of the chain.
pub trait ChainView {
    /// The type of `entrypoint` (empty for default) of `destination`, if
    /// that destination exists and has it: an originated contract's
    /// entrypoint, an implicit account's `unit` (or a ticket), a rollup's
    /// declared type.
    fn entrypoint_type(&self, destination: &Destination, entrypoint: &str) -> Option<Type>;
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

/// Size of a value's scalar content in bytes, for gas.
fn scalar_size(v: &Value) -> u64 {
    match v {
        Value::Int(i) | Value::Timestamp(i) => cost::int_size(i),
        Value::String(s) => s.len() as u64,
        Value::Bytes(b) => b.len() as u64,
        Value::Pair(a, b) => scalar_size(a) + scalar_size(b),
        _ => 8,
    }
}

fn collection_len(v: &Value) -> usize {
    match v {
        Value::List(l) | Value::Set(l) => l.len(),
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

    /// The cost of `instr` on `stack` (before it runs).
    fn step_cost(instr: &Instr, stack: &[Value]) -> u64 {
        let top = |i: usize| stack.len().checked_sub(i + 1).map(|k| &stack[k]);
        let size = |i: usize| top(i).map(scalar_size).unwrap_or(0);
        match instr {
            Instr::Drop(n) | Instr::Dig(n) | Instr::Dug(n) | Instr::Dup(n) | Instr::Dip(n, _) => {
                cost::STACK_STEP + *n as u64
            }
            Instr::Swap => cost::STACK_STEP,
            Instr::Pair(n) | Instr::Unpair(n) | Instr::GetComb(n) | Instr::UpdateComb(n) => {
                cost::DATA_STEP + *n as u64
            }
            Instr::Add | Instr::Sub | Instr::SubMutez | Instr::Abs | Instr::Neg | Instr::Int | Instr::IsNat => {
                cost::ARITH_BASE + size(0).max(size(1)) / 2
            }
            Instr::Or | Instr::And | Instr::Xor | Instr::Not | Instr::Lsl | Instr::Lsr => {
                cost::ARITH_BASE + size(0).max(size(1))
            }
            Instr::Mul | Instr::Ediv => cost::MUL_BASE + size(0) * size(1) / 4 + size(0) + size(1),
            Instr::Compare => cost::COMPARE_BASE + size(0).min(size(1)),
            Instr::Concat => cost::DATA_STEP + size(0) + size(1),
            Instr::ConcatList(_) => {
                let total: u64 = match top(0) {
                    Some(Value::List(items)) => items.iter().map(scalar_size).sum::<u64>() + items.len() as u64,
                    _ => 0,
                };
                cost::DATA_STEP + total
            }
            Instr::Slice => cost::DATA_STEP + size(2) / 4,
            Instr::Mem | Instr::Get | Instr::Update | Instr::GetAndUpdate => {
                let n = match instr {
                    Instr::Mem | Instr::Get => top(1).map(collection_len).unwrap_or(0),
                    _ => top(2).map(collection_len).unwrap_or(0),
                };
                cost::MAP_BASE + cost::MAP_LOG * cost::log2(n) * size(0).max(1)
            }
            Instr::Iter(_) | Instr::Map(_) => cost::CONTROL_STEP,
            Instr::Blake2b | Instr::Sha256 | Instr::Sha512 => cost::HASH_BASE + cost::HASH_PER_BYTE * size(0),
            Instr::Pack(_) | Instr::Unpack(_) => cost::HASH_BASE + 4 * size(0),
            Instr::CheckSignature => cost::CHECK_SIGNATURE + cost::HASH_PER_BYTE * size(2),
            Instr::HashKey => cost::HASH_BASE,
            Instr::Contract(..) => cost::CONTRACT_LOOKUP,
            Instr::TransferTokens(_) => cost::TRANSFER_TOKENS,
            Instr::Ticket | Instr::ReadTicket | Instr::SplitTicket | Instr::JoinTickets => cost::TICKET_STEP,
            Instr::SelfContract(_)
            | Instr::SelfAddress
            | Instr::Sender
            | Instr::Source
            | Instr::Amount
            | Instr::Balance
            | Instr::Now
            | Instr::Level
            | Instr::ChainId
            | Instr::ImplicitAccount
            | Instr::Address => cost::CHAIN_STEP,
            Instr::If(..)
            | Instr::IfNone(..)
            | Instr::IfLeft(..)
            | Instr::IfCons(..)
            | Instr::Loop(_)
            | Instr::LoopLeft(_)
            | Instr::Exec
            | Instr::Apply(_)
            | Instr::Failwith(_)
            | Instr::Never => cost::CONTROL_STEP,
            _ => cost::DATA_STEP,
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
                let v = stack.get(n.checked_sub(*k).ok_or_else(bad_stack)?).ok_or_else(bad_stack)?.clone();
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
            Instr::Nil => stack.push(Value::List(Vec::new())),
            Instr::Cons => {
                let head = pop(stack)?;
                let Value::List(mut tail) = pop(stack)? else { return Err(bad_stack()) };
                tail.insert(0, head);
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
                    let Value::Pair(a, b) = rest else { return Err(bad_stack()) };
                    parts.push(*a);
                    rest = *b;
                }
                parts.push(rest);
                stack.extend(parts.into_iter().rev());
            }
            Instr::Car | Instr::Cdr => {
                let Value::Pair(a, b) = pop(stack)? else { return Err(bad_stack()) };
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
            Instr::EmptySet => stack.push(Value::Set(Vec::new())),
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
                    Value::Set(items) => items.binary_search(&key).is_ok(),
                    Value::Map(map) => map.contains_key(&key),
                    _ => return Err(bad_stack()),
                };
                stack.push(Value::Bool(found));
            }
            Instr::Get => {
                let key = pop(stack)?;
                let Value::Map(map) = pop(stack)? else { return Err(bad_stack()) };
                stack.push(Value::Option(map.get(&key).cloned().map(Box::new)));
            }
            Instr::Update => {
                let key = pop(stack)?;
                let change = pop(stack)?;
                let updated = match (pop(stack)?, change) {
                    (Value::Set(mut items), Value::Bool(add)) => {
                        match (items.binary_search(&key), add) {
                            (Err(at), true) => items.insert(at, key),
                            (Ok(at), false) => {
                                items.remove(at);
                            }
                            _ => {}
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
                let Value::Option(value) = pop(stack)? else { return Err(bad_stack()) };
                let Value::Map(mut map) = pop(stack)? else { return Err(bad_stack()) };
                let old = match value {
                    Some(v) => map.insert(key, *v),
                    None => map.remove(&key),
                };
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
                let Value::List(items) = pop(stack)? else { return Err(bad_stack()) };
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
                        let Value::String(s) = item else { return Err(bad_stack()) };
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
                let packed = unparse(ty, &v, Form::Optimized).pack();
                self.charge(cost::HASH_PER_BYTE * packed.len() as u64)?;
                stack.push(Value::Bytes(packed));
            }
            Instr::Unpack(ty) => {
                let Value::Bytes(bytes) = pop(stack)? else { return Err(bad_stack()) };
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
                let Value::List(mut items) = pop(stack)? else { return Err(bad_stack()) };
                if items.is_empty() {
                    self.run(nil_code, stack)?;
                } else {
                    let head = items.remove(0);
                    stack.push(Value::List(items));
                    stack.push(head);
                    self.run(cons_code, stack)?;
                }
            }
            Instr::Loop(body) => {
                while boolean(pop(stack)?)? {
                    self.charge(cost::CONTROL_STEP)?;
                    self.run(body, stack)?;
                }
            }
            Instr::LoopLeft(body) => loop {
                match pop(stack)? {
                    Value::Left(v) => {
                        self.charge(cost::CONTROL_STEP)?;
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
                    Value::List(items) | Value::Set(items) => items,
                    Value::Map(map) => map.into_iter().map(|(k, v)| pair(k, v)).collect(),
                    _ => return Err(bad_stack()),
                };
                for element in elements {
                    self.charge(cost::CONTROL_STEP)?;
                    stack.push(element);
                    self.run(body, stack)?;
                }
            }
            Instr::Map(body) => match pop(stack)? {
                Value::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        self.charge(cost::CONTROL_STEP)?;
                        stack.push(item);
                        self.run(body, stack)?;
                        out.push(pop(stack)?);
                    }
                    stack.push(Value::List(out));
                }
                Value::Map(map) => {
                    let mut out = std::collections::BTreeMap::new();
                    for (k, v) in map {
                        self.charge(cost::CONTROL_STEP)?;
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
                let Value::Lambda(lambda) = pop(stack)? else { return Err(bad_stack()) };
                let mut inner = vec![arg];
                self.run(&lambda.body, &mut inner)?;
                stack.push(pop(&mut inner)?);
            }
            Instr::Apply(captured_ty) => {
                let captured = pop(stack)?;
                let Value::Lambda(lambda) = pop(stack)? else { return Err(bad_stack()) };
                let written = unparse(captured_ty, &captured, Form::Optimized);
                let push = Micheline::prim("PUSH", vec![captured_ty.to_micheline(), written]).map_err(|_| bad_stack())?;
                let code = Micheline::Seq(vec![push, Micheline::prim0("PAIR").map_err(|_| bad_stack())?, lambda.code]);
                let mut body = vec![Instr::Push(captured), Instr::Pair(2)];
                body.extend(lambda.body.iter().cloned());
                stack.push(Value::Lambda(Lambda {
                    code,
                    body: body.into(),
                }));
            }
            Instr::Failwith(ty) => {
                let v = pop(stack)?;
                return Err(RuntimeError::Failwith(unparse(ty, &v, Form::Optimized)));
            }
            Instr::Never => return Err(bad_stack()),
            Instr::Add => {
                let a = pop(stack)?;
                let b = pop(stack)?;
                stack.push(match (a, b) {
                    (Value::Int(a), Value::Int(b)) => Value::Int(a + b),
                    (Value::Timestamp(a), Value::Int(b)) | (Value::Int(b), Value::Timestamp(a)) => Value::Timestamp(a + b),
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
                    (Value::Mutez(a), Value::Mutez(b)) => {
                        ediv(&a.into(), &b.into())
                        .map(|(q, r)| Ok::<_, RuntimeError>(pair(Value::Int(q), mutez(r)?)))
                        .transpose()?
                    }
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
                let shift = shift.to_u64().filter(|s| *s <= MAX_SHIFT).ok_or(RuntimeError::Overflow)?;
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
                let Value::Bytes(data) = pop(stack)? else { return Err(bad_stack()) };
                let digest = match instr {
                    Instr::Blake2b => soru_core::hash::blake2b_256(&data).to_vec(),
                    Instr::Sha256 => sha2::Sha256::digest(&data).to_vec(),
                    _ => sha2::Sha512::digest(&data).to_vec(),
                };
                stack.push(Value::Bytes(digest));
            }
            Instr::HashKey => {
                let Value::Key(key) = pop(stack)? else { return Err(bad_stack()) };
                stack.push(Value::KeyHash(key.hash()));
            }
            Instr::CheckSignature => {
                let Value::Key(key) = pop(stack)? else { return Err(bad_stack()) };
                let Value::Signature(signature) = pop(stack)? else { return Err(bad_stack()) };
                let Value::Bytes(message) = pop(stack)? else { return Err(bad_stack()) };
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
                let Value::Address(address) = pop(stack)? else { return Err(bad_stack()) };
                let entrypoint = match (address.entrypoint.as_str(), entrypoint.as_str()) {
                    (a, "") => Some(a.to_string()),
                    ("", b) => Some(b.to_string()),
                    _ => None,
                };
                let found = entrypoint.filter(|ep| {
                    self.env.chain.entrypoint_type(&address.destination, ep).as_ref() == Some(ty)
                });
                stack.push(Value::Option(found.map(|entrypoint| {
                    Box::new(Value::Contract(Address {
                        destination: address.destination,
                        entrypoint,
                    }))
                })));
            }
            Instr::ImplicitAccount => {
                let Value::KeyHash(pkh) = pop(stack)? else { return Err(bad_stack()) };
                stack.push(Value::Contract(Address {
                    destination: Destination::Implicit(pkh),
                    entrypoint: String::new(),
                }));
            }
            Instr::Address => {
                let Value::Contract(address) = pop(stack)? else { return Err(bad_stack()) };
                stack.push(Value::Address(address));
            }
            Instr::TransferTokens(parameter_ty) => {
                let parameter = pop(stack)?;
                let Value::Mutez(amount) = pop(stack)? else { return Err(bad_stack()) };
                let Value::Contract(destination) = pop(stack)? else { return Err(bad_stack()) };
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
                let Some(Value::Ticket(ticket)) = stack.last() else { return Err(bad_stack()) };
                let read = pair(
                    Value::Address(ticket.ticketer.clone()),
                    pair(ticket.contents.clone(), Value::Int(ticket.amount.clone())),
                );
                stack.push(read);
            }
            Instr::SplitTicket => {
                let Value::Ticket(ticket) = pop(stack)? else { return Err(bad_stack()) };
                let Value::Pair(a, b) = pop(stack)? else { return Err(bad_stack()) };
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
                let Value::Pair(a, b) = pop(stack)? else { return Err(bad_stack()) };
                let (Value::Ticket(a), Value::Ticket(b)) = (*a, *b) else { return Err(bad_stack()) };
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
        self.charge(cost::HASH_PER_BYTE * bytes.len() as u64)?;
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
