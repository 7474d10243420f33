//! The typechecker: Michelson code (Micheline) and a stack type in, typed
//! instructions and the resulting stack type out (Octez
//! `Script_ir_translator.parse_instr`). Scripts are checked whole: the
//! three sections, the entrypoints of the parameter, and code taking
//! `pair parameter storage` to `pair (list operation) storage`.

use std::sync::Arc;

use soru_core::micheline::Micheline;

use crate::entrypoints::Entrypoints;
use crate::error::{DataError, ScriptError};
use crate::gas::{cost, Gas};
use crate::instr::{Block, Instr};
use crate::interp::ChainView;
use crate::ty::Type;
use crate::value::{parse_data_in, Address, DataContext, Lambda, Value};

/// Deepest nesting of code blocks soru typechecks.
pub const MAX_CODE_DEPTH: usize = 1_000;

/// The stack after some code: its types (top last), or `Failed` after an
/// instruction that never returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stack {
    /// The types, top last.
    Live(Vec<Type>),
    /// Code that always fails leaves any stack.
    Failed,
}

/// A typechecked script.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The parameter type and its entrypoints.
    pub entrypoints: Entrypoints,
    /// The storage type.
    pub storage: Type,
    /// The code.
    pub code: Arc<[Instr]>,
}

/// Writes a stack type top first, as errors show it.
pub fn stack_text(stack: &[Type]) -> String {
    stack.iter().rev().map(Type::to_string).collect::<Vec<_>>().join(" : ")
}

/// The typechecker's state: gas, the script's own parameter (for `SELF`),
/// the chain (for `contract` literals), and whether ticket literals are
/// allowed.
pub struct Checker<'a> {
    gas: &'a mut Gas,
    self_entrypoints: Option<&'a Entrypoints>,
    chain: Option<&'a dyn ChainView>,
    forged_tickets: bool,
    depth: usize,
    type_map: Option<TypeMap>,
}

/// The stacks before and after every instruction and block that does not
/// always fail, by Micheline location (Octez's `type_map`, what
/// `typecheck_code` answers).
#[derive(Debug, Clone, Default)]
pub struct TypeMap {
    /// Node address → location (the node's index in a pre-order walk of
    /// the script, the root being 0), for the script being checked.
    locations: std::collections::HashMap<usize, usize>,
    /// (location, stack before, stack after), top first, in checking
    /// order (an instruction after those it contains; Octez lists them
    /// the other way round).
    pub entries: Vec<(usize, Vec<Type>, Vec<Type>)>,
}

impl TypeMap {
    fn for_script(script: &Micheline) -> Self {
        let mut locations = std::collections::HashMap::new();
        let mut pending = vec![script];
        while let Some(node) = pending.pop() {
            locations.insert(std::ptr::from_ref(node) as usize, locations.len());
            if let Micheline::Seq(items) | Micheline::Prim { args: items, .. } = node {
                pending.extend(items.iter().rev());
            }
        }
        Self {
            locations,
            entries: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Checker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("gas", &self.gas)
            .field("forged_tickets", &self.forged_tickets)
            .finish_non_exhaustive()
    }
}

/// The three sections of a script, found in any order, each once.
fn sections(script: &Micheline) -> Result<[&Micheline; 3], ScriptError> {
    let Micheline::Seq(items) = script else {
        return Err(ScriptError::BadScript("a script is a sequence of sections".into()));
    };
    let mut found: [Option<&Micheline>; 3] = [None, None, None];
    for item in items {
        let Micheline::Prim { prim, args, .. } = item else {
            return Err(ScriptError::BadScript(format!("not a section: {item}")));
        };
        let slot = match prim.name() {
            "parameter" => 0,
            "storage" => 1,
            "code" => 2,
            "view" => return Err(ScriptError::Unsupported("views".into())),
            other => return Err(ScriptError::BadScript(format!("unknown section `{other}`"))),
        };
        let [arg] = args.as_slice() else {
            return Err(ScriptError::BadScript(format!(
                "section `{}` takes one argument",
                prim.name()
            )));
        };
        if found[slot].replace(arg).is_some() {
            return Err(ScriptError::BadScript(format!(
                "section `{}` appears twice",
                prim.name()
            )));
        }
    }
    match found {
        [Some(p), Some(s), Some(c)] => Ok([p, s, c]),
        _ => Err(ScriptError::BadScript("missing parameter, storage or code".into())),
    }
}

impl<'a> Checker<'a> {
    /// A checker drawing from `gas`.
    pub fn new(gas: &'a mut Gas) -> Self {
        Self {
            gas,
            self_entrypoints: None,
            chain: None,
            forged_tickets: false,
            depth: 0,
            type_map: None,
        }
    }

    /// Records the stacks around every instruction of `script` (which
    /// must be the expression then given to [`Checker::check_script`]).
    pub fn with_type_map(mut self, script: &Micheline) -> Self {
        self.type_map = Some(TypeMap::for_script(script));
        self
    }

    /// The stacks recorded (see [`Checker::with_type_map`]).
    pub fn type_map(&self) -> Option<&TypeMap> {
        self.type_map.as_ref()
    }

    fn log(&mut self, node: &Micheline, before: Option<Vec<Type>>, after: &Stack) {
        if let (Some(map), Some(before), Stack::Live(after)) = (self.type_map.as_mut(), before, after) {
            if let Some(location) = map.locations.get(&(std::ptr::from_ref(node) as usize)) {
                let top_first = |stack: &[Type]| stack.iter().rev().cloned().collect();
                map.entries.push((*location, top_first(&before), top_first(after)));
            }
        }
    }

    /// Lets `contract` literals be looked up on `chain`.
    pub fn with_chain(mut self, chain: &'a dyn ChainView) -> Self {
        self.chain = Some(chain);
        self
    }

    /// Accepts ticket literals (outbox transactions only).
    pub fn with_forged_tickets(mut self) -> Self {
        self.forged_tickets = true;
        self
    }

    fn charge(&mut self, milligas: u64) -> Result<(), ScriptError> {
        self.gas.consume(milligas).map_err(|_| ScriptError::OutOfGas)
    }

    /// Typechecks a whole script.
    pub fn check_script(&mut self, script: &Micheline) -> Result<Script, ScriptError> {
        let [parameter, storage, code] = sections(script)?;
        self.charge(cost::PARSE_TYPE_NODE * (node_count(parameter) + node_count(storage)))?;
        let entrypoints = Entrypoints::parse(parameter)?;
        if !entrypoints.root().is_passable() {
            return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                ty: entrypoints.root().to_string(),
                context: "a parameter",
            }));
        }
        let storage = Type::parse(storage)?;
        if !storage.is_storable() {
            return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                ty: storage.to_string(),
                context: "a storage",
            }));
        }
        let input = Type::Pair(Box::new(entrypoints.root().clone()), Box::new(storage.clone()));
        let output = Type::Pair(
            Box::new(Type::List(Box::new(Type::Operation))),
            Box::new(storage.clone()),
        );
        // SELF needs the parameter: the code is checked by a checker that
        // borrows it.
        let mut inner = Checker {
            gas: self.gas,
            self_entrypoints: Some(&entrypoints),
            chain: self.chain,
            forged_tickets: self.forged_tickets,
            depth: 0,
            type_map: self.type_map.take(),
        };
        let checked = inner.check_block(code, vec![input], false);
        self.type_map = inner.type_map.take();
        let (body, after) = checked?;
        match after {
            Stack::Failed => {}
            Stack::Live(stack) if stack == [output.clone()] => {}
            Stack::Live(stack) => {
                return Err(ScriptError::BadReturn {
                    expected: output.to_string(),
                    found: stack_text(&stack),
                })
            }
        }
        Ok(Script {
            entrypoints,
            storage,
            code: body.into(),
        })
    }

    /// Typechecks `code` (a sequence) on `stack`.
    pub fn check_block(
        &mut self,
        code: &Micheline,
        stack: Vec<Type>,
        in_lambda: bool,
    ) -> Result<(Block, Stack), ScriptError> {
        let Micheline::Seq(items) = code else {
            return Err(ScriptError::BadArguments(format!("expected a code block, got {code}")));
        };
        self.depth += 1;
        if self.depth > MAX_CODE_DEPTH {
            return Err(ScriptError::TooDeep);
        }
        let before = self.type_map.is_some().then(|| stack.clone());
        let mut block = Vec::with_capacity(items.len());
        let result = self.check_items(items, Stack::Live(stack), in_lambda, &mut block);
        self.depth -= 1;
        let after = result?;
        self.log(code, before, &after);
        Ok((block, after))
    }

    fn check_items(
        &mut self,
        items: &[Micheline],
        mut stack: Stack,
        in_lambda: bool,
        block: &mut Block,
    ) -> Result<Stack, ScriptError> {
        for item in items {
            let Stack::Live(live) = stack else {
                return Err(ScriptError::FailNotInTail);
            };
            let before = self.type_map.is_some().then(|| live.clone());
            stack = match item {
                Micheline::Seq(inner) => {
                    self.depth += 1;
                    if self.depth > MAX_CODE_DEPTH {
                        return Err(ScriptError::TooDeep);
                    }
                    let result = self.check_items(inner, Stack::Live(live), in_lambda, block);
                    self.depth -= 1;
                    result?
                }
                _ => {
                    self.charge(cost::TYPECHECK_INSTR)?;
                    let (instr, after) = self.check_instr(item, live, in_lambda)?;
                    block.extend(instr);
                    after
                }
            };
            self.log(item, before, &stack);
        }
        Ok(stack)
    }

    fn lambda_value(&mut self, arg: &Type, ret: &Type, code: &Micheline) -> Result<Value, ScriptError> {
        let (body, after) = self.check_block(code, vec![arg.clone()], true)?;
        match after {
            Stack::Failed => {}
            Stack::Live(stack) if stack.len() == 1 && stack[0] == *ret => {}
            Stack::Live(stack) => {
                return Err(ScriptError::BadReturn {
                    expected: ret.to_string(),
                    found: stack_text(&stack),
                })
            }
        }
        Ok(Value::Lambda(Lambda {
            code: Arc::new(crate::value::LambdaCode::Written(code.clone())),
            body: body.into(),
        }))
    }

    /// Reads a constant of type `ty` (lambdas typechecked, contracts
    /// looked up when a chain is given).
    pub fn parse_value(&mut self, ty: &Type, expr: &Micheline) -> Result<Value, ScriptError> {
        self.charge(cost::PARSE_DATA_NODE * node_count(expr))?;
        parse_data_in(ty, expr, self).map_err(|e| match e {
            DataError::Lambda(inner) => *inner,
            other => ScriptError::Data(other),
        })
    }

    #[allow(clippy::too_many_lines)]
    fn check_instr(
        &mut self,
        expr: &Micheline,
        mut stack: Vec<Type>,
        in_lambda: bool,
    ) -> Result<(Option<Instr>, Stack), ScriptError> {
        let Micheline::Prim { prim, args, .. } = expr else {
            return Err(ScriptError::UnknownInstruction(expr.to_string()));
        };
        let name = prim.name();
        let bad_stack = |stack: &[Type]| ScriptError::BadStack {
            instr: name.to_string(),
            stack: stack_text(stack),
        };
        let bad_args = || ScriptError::BadArguments(expr.to_string());
        let n = stack.len();
        // The i-th element from the top (0 is the top).
        let at =
            |stack: &[Type], i: usize| -> Option<Type> { stack.len().checked_sub(i + 1).map(|k| stack[k].clone()) };
        let no_args = || if args.is_empty() { Ok(()) } else { Err(bad_args()) };
        let int_arg = || -> Result<usize, ScriptError> {
            match args.as_slice() {
                [Micheline::Int(i)] => usize::try_from(i).ok().filter(|v| *v <= 1023).ok_or_else(bad_args),
                _ => Err(bad_args()),
            }
        };
        macro_rules! need {
            ($cond:expr) => {
                if !$cond {
                    return Err(bad_stack(&stack));
                }
            };
        }
        let live = |instr: Instr, stack: Vec<Type>| Ok((Some(instr), Stack::Live(stack)));
        match name {
            // ---------------------------------------------------- stack
            "DROP" => {
                let k = if args.is_empty() { 1 } else { int_arg()? };
                need!(n >= k);
                stack.truncate(n - k);
                live(Instr::Drop(k), stack)
            }
            "DUP" => {
                let k = if args.is_empty() { 1 } else { int_arg()? };
                if k == 0 {
                    return Err(bad_args());
                }
                need!(n >= k);
                let t = stack[n - k].clone();
                if !t.is_duplicable() {
                    return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                        ty: t.to_string(),
                        context: "DUP",
                    }));
                }
                stack.push(t);
                live(Instr::Dup(k), stack)
            }
            "SWAP" => {
                no_args()?;
                need!(n >= 2);
                stack.swap(n - 1, n - 2);
                live(Instr::Swap, stack)
            }
            "DIG" => {
                let k = int_arg()?;
                need!(n > k);
                let t = stack.remove(n - 1 - k);
                stack.push(t);
                live(Instr::Dig(k), stack)
            }
            "DUG" => {
                let k = int_arg()?;
                need!(n > k);
                let Some(t) = stack.pop() else {
                    return Err(bad_stack(&stack));
                };
                stack.insert(n - 1 - k, t);
                live(Instr::Dug(k), stack)
            }
            "PUSH" => {
                let [t, v] = args.as_slice() else {
                    return Err(bad_args());
                };
                self.charge(cost::PARSE_TYPE_NODE * node_count(t))?;
                let t = Type::parse(t)?;
                if !t.is_pushable() {
                    return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                        ty: t.to_string(),
                        context: "PUSH",
                    }));
                }
                let v = self.parse_value(&t, v)?;
                stack.push(t);
                live(Instr::Push(v), stack)
            }
            "DIP" => {
                let (k, code) = match args.as_slice() {
                    [code] => (1, code),
                    [Micheline::Int(i), code] => (
                        usize::try_from(i).ok().filter(|v| *v <= 1023).ok_or_else(bad_args)?,
                        code,
                    ),
                    _ => return Err(bad_args()),
                };
                need!(n >= k);
                let protected = stack.split_off(n - k);
                let (body, after) = self.check_block(code, stack, in_lambda)?;
                let Stack::Live(mut rest) = after else {
                    return Err(ScriptError::FailNotInTail);
                };
                rest.extend(protected);
                live(Instr::Dip(k, body), rest)
            }
            // ---------------------------------------------------- data
            "UNIT" => {
                no_args()?;
                stack.push(Type::Unit);
                live(Instr::Unit, stack)
            }
            "NEVER" => {
                no_args()?;
                need!(at(&stack, 0) == Some(Type::Never));
                Ok((Some(Instr::Never), Stack::Failed))
            }
            "SOME" => {
                no_args()?;
                need!(n >= 1);
                let Some(t) = stack.pop() else {
                    return Err(bad_stack(&stack));
                };
                stack.push(Type::Option(Box::new(t)));
                live(Instr::Some, stack)
            }
            "NONE" | "NIL" | "EMPTY_SET" => {
                let [t] = args.as_slice() else { return Err(bad_args()) };
                let t = Box::new(Type::parse(t)?);
                let (instr, ty) = match name {
                    "NONE" => (Instr::None, Type::Option(t)),
                    "NIL" => (Instr::Nil, Type::List(t)),
                    _ => {
                        if !t.is_comparable() {
                            return Err(crate::TypeError::NotComparable(t.to_string()).into());
                        }
                        (Instr::EmptySet, Type::Set(t))
                    }
                };
                stack.push(ty);
                live(instr, stack)
            }
            "EMPTY_MAP" | "EMPTY_BIG_MAP" => {
                let [k, v] = args.as_slice() else {
                    return Err(bad_args());
                };
                let big = if name == "EMPTY_MAP" { "map" } else { "big_map" };
                let ty = Type::parse(&Micheline::prim(big, vec![k.clone(), v.clone()]).map_err(|_| bad_args())?)?;
                stack.push(ty);
                live(Instr::EmptyMap, stack)
            }
            "LEFT" | "RIGHT" => {
                let [other] = args.as_slice() else {
                    return Err(bad_args());
                };
                need!(n >= 1);
                let other = Box::new(Type::parse(other)?);
                let Some(t) = stack.pop().map(Box::new) else {
                    return Err(bad_stack(&stack));
                };
                if name == "LEFT" {
                    stack.push(Type::Or(t, other));
                    live(Instr::Left, stack)
                } else {
                    stack.push(Type::Or(other, t));
                    live(Instr::Right, stack)
                }
            }
            "CONS" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1)) {
                    (Some(a), Some(Type::List(t))) if *t == a => {
                        stack.pop();
                        live(Instr::Cons, stack)
                    }
                    _ => Err(bad_stack(&stack)),
                }
            }
            "PAIR" => {
                let k = if args.is_empty() { 2 } else { int_arg()? };
                if k < 2 {
                    return Err(bad_args());
                }
                need!(n >= k);
                let parts: Vec<Type> = stack.split_off(n - k).into_iter().rev().collect();
                stack.push(Type::comb(parts));
                live(Instr::Pair(k), stack)
            }
            "UNPAIR" => {
                let k = if args.is_empty() { 2 } else { int_arg()? };
                if k < 2 {
                    return Err(bad_args());
                }
                need!(n >= 1);
                let mut parts = Vec::with_capacity(k);
                let mut rest = stack[n - 1].clone();
                for _ in 0..k - 1 {
                    let Type::Pair(a, b) = rest else {
                        return Err(bad_stack(&stack));
                    };
                    parts.push(*a);
                    rest = *b;
                }
                parts.push(rest);
                stack.pop();
                stack.extend(parts.into_iter().rev());
                live(Instr::Unpair(k), stack)
            }
            "CAR" | "CDR" => {
                no_args()?;
                match stack.pop() {
                    Some(Type::Pair(a, b)) => {
                        let (t, instr) = if name == "CAR" {
                            (*a, Instr::Car)
                        } else {
                            (*b, Instr::Cdr)
                        };
                        stack.push(t);
                        live(instr, stack)
                    }
                    other => {
                        stack.extend(other);
                        Err(bad_stack(&stack))
                    }
                }
            }
            "GET" if !args.is_empty() => {
                let k = int_arg()?;
                need!(n >= 1);
                let t = comb_get(&stack[n - 1], k).ok_or_else(|| bad_stack(&stack))?;
                stack.pop();
                stack.push(t);
                live(Instr::GetComb(k), stack)
            }
            "UPDATE" if !args.is_empty() => {
                let k = int_arg()?;
                // value : comb : S → comb' : S, the field's type replaced
                // by the value's (Octez `comb_set`).
                need!(n >= 2);
                let updated = comb_set(&stack[n - 2], k, stack[n - 1].clone()).ok_or_else(|| bad_stack(&stack))?;
                stack.truncate(n - 2);
                stack.push(updated);
                live(Instr::UpdateComb(k), stack)
            }
            "SIZE" => {
                no_args()?;
                need!(matches!(
                    at(&stack, 0),
                    Some(Type::String | Type::Bytes | Type::List(_) | Type::Set(_) | Type::Map(..))
                ));
                stack.pop();
                stack.push(Type::Nat);
                live(Instr::Size, stack)
            }
            "MEM" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1)) {
                    (Some(key), Some(Type::Set(k) | Type::Map(k, _) | Type::BigMap(k, _))) if *k == key => {
                        stack.truncate(n - 2);
                        stack.push(Type::Bool);
                        live(Instr::Mem, stack)
                    }
                    _ => Err(bad_stack(&stack)),
                }
            }
            "GET" => match (at(&stack, 0), at(&stack, 1)) {
                (Some(key), Some(Type::Map(k, v) | Type::BigMap(k, v))) if *k == key => {
                    stack.truncate(n - 2);
                    stack.push(Type::Option(v));
                    live(Instr::Get, stack)
                }
                _ => Err(bad_stack(&stack)),
            },
            "UPDATE" => match (at(&stack, 0), at(&stack, 1), at(&stack, 2)) {
                (Some(key), Some(Type::Bool), Some(Type::Set(k))) if *k == key => {
                    stack.truncate(n - 2);
                    live(Instr::Update, stack)
                }
                (Some(key), Some(Type::Option(w)), Some(Type::Map(k, v) | Type::BigMap(k, v)))
                    if *k == key && v == w =>
                {
                    stack.truncate(n - 2);
                    live(Instr::Update, stack)
                }
                _ => Err(bad_stack(&stack)),
            },
            "GET_AND_UPDATE" => match (at(&stack, 0), at(&stack, 1), at(&stack, 2)) {
                (Some(key), Some(Type::Option(w)), Some(Type::Map(k, v) | Type::BigMap(k, v)))
                    if *k == key && v == w =>
                {
                    // key : option v : map → option v : map
                    stack.truncate(n - 2);
                    stack.push(Type::Option(w));
                    live(Instr::GetAndUpdate, stack)
                }
                _ => Err(bad_stack(&stack)),
            },
            _ => self.check_instr_more(expr, name, args, stack, in_lambda),
        }
    }
}

impl Checker<'_> {
    /// Control flow, arithmetic, crypto, chain and ticket instructions.
    #[allow(clippy::too_many_lines)]
    fn check_instr_more(
        &mut self,
        expr: &Micheline,
        name: &str,
        args: &[Micheline],
        mut stack: Vec<Type>,
        in_lambda: bool,
    ) -> Result<(Option<Instr>, Stack), ScriptError> {
        let bad_stack = |stack: &[Type]| ScriptError::BadStack {
            instr: name.to_string(),
            stack: stack_text(stack),
        };
        let bad_args = || ScriptError::BadArguments(expr.to_string());
        let n = stack.len();
        let at = |stack: &[Type], i: usize| -> std::option::Option<Type> {
            stack.len().checked_sub(i + 1).map(|k| stack[k].clone())
        };
        let no_args = || if args.is_empty() { Ok(()) } else { Err(bad_args()) };
        let annots: &[std::string::String] = match expr {
            Micheline::Prim { annots, .. } => annots,
            _ => &[],
        };
        let field_entrypoint = || -> Result<std::string::String, ScriptError> {
            let mut fields = annots.iter().filter_map(|a| a.strip_prefix('%'));
            let ep = fields.next().unwrap_or("");
            if fields.next().is_some() || ep.len() > crate::entrypoints::MAX_ENTRYPOINT_LENGTH {
                return Err(bad_args());
            }
            Ok(if ep == "default" {
                std::string::String::new()
            } else {
                ep.to_string()
            })
        };
        let live = |instr: Instr, stack: Vec<Type>| Ok((Some(instr), Stack::Live(stack)));
        // Replaces the top `k` types by `result` (the instruction's output).
        let unary = |mut stack: Vec<Type>, k: usize, result: Type, instr: Instr| {
            stack.truncate(stack.len() - k);
            stack.push(result);
            Ok((Some(instr), Stack::Live(stack)))
        };
        let option = |t: Type| Type::Option(Box::new(t));
        let pair = |a: Type, b: Type| Type::Pair(Box::new(a), Box::new(b));
        use Type::*;
        match name {
            // ---------------------------------------------------- control
            "IF" | "IF_NONE" | "IF_LEFT" | "IF_CONS" => {
                let [then_code, else_code] = args else {
                    return Err(bad_args());
                };
                let top = at(&stack, 0).ok_or_else(|| bad_stack(&stack))?;
                let rest: Vec<Type> = stack[..n - 1].to_vec();
                let with = |extra: &[Type]| [rest.clone(), extra.to_vec()].concat();
                let (first, second) = match (name, &top) {
                    ("IF", Bool) => (rest.clone(), rest.clone()),
                    ("IF_NONE", Option(t)) => (rest.clone(), with(&[(**t).clone()])),
                    ("IF_LEFT", Or(l, r)) => (with(&[(**l).clone()]), with(&[(**r).clone()])),
                    ("IF_CONS", List(t)) => (with(&[top.clone(), (**t).clone()]), rest.clone()),
                    _ => return Err(bad_stack(&stack)),
                };
                let (a, after_a) = self.check_block(then_code, first, in_lambda)?;
                let (b, after_b) = self.check_block(else_code, second, in_lambda)?;
                let after = merge(after_a, after_b)?;
                let instr = match name {
                    "IF" => Instr::If(a, b),
                    "IF_NONE" => Instr::IfNone(a, b),
                    "IF_LEFT" => Instr::IfLeft(a, b),
                    _ => Instr::IfCons(a, b),
                };
                Ok((Some(instr), after))
            }
            "LOOP" => {
                let [body] = args else { return Err(bad_args()) };
                if at(&stack, 0) != Some(Bool) {
                    return Err(bad_stack(&stack));
                }
                let rest = stack[..n - 1].to_vec();
                let (code, after) = self.check_block(body, rest.clone(), in_lambda)?;
                expect_stack(&after, &stack)?;
                live(Instr::Loop(code), rest)
            }
            "LOOP_LEFT" => {
                let [body] = args else { return Err(bad_args()) };
                let Some(Or(l, r)) = at(&stack, 0) else {
                    return Err(bad_stack(&stack));
                };
                let rest = stack[..n - 1].to_vec();
                let (code, after) = self.check_block(body, [rest.clone(), vec![(*l).clone()]].concat(), in_lambda)?;
                expect_stack(&after, &stack)?;
                live(Instr::LoopLeft(code), [rest, vec![*r]].concat())
            }
            "ITER" => {
                let [body] = args else { return Err(bad_args()) };
                let element = match at(&stack, 0) {
                    Some(List(t) | Set(t)) => *t,
                    Some(Map(k, v)) => pair(*k, *v),
                    _ => return Err(bad_stack(&stack)),
                };
                let rest = stack[..n - 1].to_vec();
                let (code, after) = self.check_block(body, [rest.clone(), vec![element]].concat(), in_lambda)?;
                expect_stack(&after, &rest)?;
                live(Instr::Iter(code), rest)
            }
            "MAP" => {
                let [body] = args else { return Err(bad_args()) };
                let collection = at(&stack, 0).ok_or_else(|| bad_stack(&stack))?;
                let element = match &collection {
                    List(t) => (**t).clone(),
                    Map(k, v) => pair((**k).clone(), (**v).clone()),
                    _ => return Err(bad_stack(&stack)),
                };
                let rest = stack[..n - 1].to_vec();
                let (code, after) = self.check_block(body, [rest.clone(), vec![element]].concat(), in_lambda)?;
                let Stack::Live(mut out) = after else {
                    return Err(ScriptError::BadArguments(format!("MAP body always fails: {expr}")));
                };
                let produced = out.pop().ok_or_else(|| bad_stack(&stack))?;
                if out != rest {
                    return Err(ScriptError::UnmatchedBranches {
                        left: stack_text(&out),
                        right: stack_text(&rest),
                    });
                }
                let result = match collection {
                    List(_) => List(Box::new(produced)),
                    Map(k, _) => Map(k, Box::new(produced)),
                    _ => unreachable!("matched above"),
                };
                out.push(result);
                live(Instr::Map(code), out)
            }
            "LAMBDA" => {
                let [arg, ret, code] = args else { return Err(bad_args()) };
                let arg = Type::parse(arg)?;
                let ret = Type::parse(ret)?;
                let value = self.lambda_value(&arg, &ret, code)?;
                stack.push(Lambda(Box::new(arg), Box::new(ret)));
                live(Instr::Lambda(value), stack)
            }
            "EXEC" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1)) {
                    (Some(a), Some(Lambda(arg, ret))) if *arg == a => unary(stack, 2, *ret, Instr::Exec),
                    _ => Err(bad_stack(&stack)),
                }
            }
            "APPLY" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1)) {
                    (Some(captured), Some(Lambda(arg, ret))) => match *arg {
                        Pair(first, rest) if *first == captured => {
                            if !captured.is_pushable() {
                                return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                                    ty: captured.to_string(),
                                    context: "APPLY",
                                }));
                            }
                            unary(stack, 2, Lambda(rest, ret), Instr::Apply(captured))
                        }
                        _ => Err(bad_stack(&stack)),
                    },
                    _ => Err(bad_stack(&stack)),
                }
            }
            "FAILWITH" => {
                no_args()?;
                let t = at(&stack, 0).ok_or_else(|| bad_stack(&stack))?;
                if !t.is_pushable() {
                    return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                        ty: t.to_string(),
                        context: "FAILWITH",
                    }));
                }
                Ok((Some(Instr::Failwith(t)), Stack::Failed))
            }
            "CAST" => {
                let [t] = args else { return Err(bad_args()) };
                let t = Type::parse(t)?;
                if at(&stack, 0) != Some(t) {
                    return Err(bad_stack(&stack));
                }
                Ok((None, Stack::Live(stack)))
            }
            "RENAME" => {
                no_args()?;
                if n == 0 {
                    return Err(bad_stack(&stack));
                }
                Ok((None, Stack::Live(stack)))
            }
            // ---------------------------------------------------- strings and bytes
            "CONCAT" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1)) {
                    (Some(String), Some(String)) => unary(stack, 2, String, Instr::Concat),
                    (Some(Bytes), Some(Bytes)) => unary(stack, 2, Bytes, Instr::Concat),
                    (Some(List(t)), _) if *t == String => unary(stack, 1, String, Instr::ConcatList(false)),
                    (Some(List(t)), _) if *t == Bytes => unary(stack, 1, Bytes, Instr::ConcatList(true)),
                    _ => Err(bad_stack(&stack)),
                }
            }
            "SLICE" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1), at(&stack, 2)) {
                    (Some(Nat), Some(Nat), Some(t @ (String | Bytes))) => unary(stack, 3, option(t), Instr::Slice),
                    _ => Err(bad_stack(&stack)),
                }
            }
            "PACK" => {
                no_args()?;
                let t = at(&stack, 0).ok_or_else(|| bad_stack(&stack))?;
                if !t.is_packable() {
                    return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                        ty: t.to_string(),
                        context: "PACK",
                    }));
                }
                unary(stack, 1, Bytes, Instr::Pack(t))
            }
            "UNPACK" => {
                let [t] = args else { return Err(bad_args()) };
                let t = Type::parse(t)?;
                if !t.is_pushable() {
                    return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                        ty: t.to_string(),
                        context: "UNPACK",
                    }));
                }
                if at(&stack, 0) != Some(Bytes) {
                    return Err(bad_stack(&stack));
                }
                unary(stack, 1, option(t.clone()), Instr::Unpack(t))
            }
            // ---------------------------------------------------- arithmetic
            "ADD" | "SUB" | "MUL" | "EDIV" | "LSL" | "LSR" | "OR" | "AND" | "XOR" | "SUB_MUTEZ" | "COMPARE" => {
                no_args()?;
                let (Some(a), Some(b)) = (at(&stack, 0), at(&stack, 1)) else {
                    return Err(bad_stack(&stack));
                };
                let result = binary_result(name, &a, &b).ok_or_else(|| bad_stack(&stack))?;
                let instr = match name {
                    "ADD" => Instr::Add,
                    "SUB" => Instr::Sub,
                    "MUL" => Instr::Mul,
                    "EDIV" => Instr::Ediv,
                    "LSL" => Instr::Lsl,
                    "LSR" => Instr::Lsr,
                    "OR" => Instr::Or,
                    "AND" => Instr::And,
                    "XOR" => Instr::Xor,
                    "SUB_MUTEZ" => Instr::SubMutez,
                    _ => Instr::Compare,
                };
                unary(stack, 2, result, instr)
            }
            "ABS" | "ISNAT" | "INT" | "NEG" | "NOT" | "EQ" | "NEQ" | "LT" | "GT" | "LE" | "GE" | "BLAKE2B"
            | "SHA256" | "SHA512" | "HASH_KEY" => {
                no_args()?;
                let a = at(&stack, 0).ok_or_else(|| bad_stack(&stack))?;
                let (result, instr) = match (name, &a) {
                    ("ABS", Int) => (Nat, Instr::Abs),
                    ("ISNAT", Int) => (option(Nat), Instr::IsNat),
                    ("INT", Nat) => (Int, Instr::Int),
                    ("NEG", Int | Nat) => (Int, Instr::Neg),
                    ("NOT", Bool) => (Bool, Instr::Not),
                    ("NOT", Int | Nat) => (Int, Instr::Not),
                    ("EQ", Int) => (Bool, Instr::Eq),
                    ("NEQ", Int) => (Bool, Instr::Neq),
                    ("LT", Int) => (Bool, Instr::Lt),
                    ("GT", Int) => (Bool, Instr::Gt),
                    ("LE", Int) => (Bool, Instr::Le),
                    ("GE", Int) => (Bool, Instr::Ge),
                    ("BLAKE2B", Bytes) => (Bytes, Instr::Blake2b),
                    ("SHA256", Bytes) => (Bytes, Instr::Sha256),
                    ("SHA512", Bytes) => (Bytes, Instr::Sha512),
                    ("HASH_KEY", Key) => (KeyHash, Instr::HashKey),
                    _ => return Err(bad_stack(&stack)),
                };
                unary(stack, 1, result, instr)
            }
            "CHECK_SIGNATURE" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1), at(&stack, 2)) {
                    (Some(Key), Some(Signature), Some(Bytes)) => unary(stack, 3, Bool, Instr::CheckSignature),
                    _ => Err(bad_stack(&stack)),
                }
            }
            // ---------------------------------------------------- chain
            "SELF" => {
                no_args()?;
                if in_lambda {
                    return Err(ScriptError::SelfInLambda);
                }
                let entrypoint = field_entrypoint()?;
                let entrypoints = self
                    .self_entrypoints
                    .ok_or_else(|| ScriptError::Unsupported("SELF outside a script".into()))?;
                let (_, t) = entrypoints
                    .find(&entrypoint)
                    .ok_or_else(|| ScriptError::NoSuchEntrypoint(entrypoint.clone()))?;
                stack.push(Contract(Box::new(t.clone())));
                live(Instr::SelfContract(entrypoint), stack)
            }
            "CONTRACT" => {
                let [t] = args else { return Err(bad_args()) };
                let t = Type::parse(t)?;
                if !t.is_passable() {
                    return Err(ScriptError::Type(crate::TypeError::NotAllowed {
                        ty: t.to_string(),
                        context: "CONTRACT",
                    }));
                }
                if at(&stack, 0) != Some(Address) {
                    return Err(bad_stack(&stack));
                }
                let entrypoint = field_entrypoint()?;
                unary(
                    stack,
                    1,
                    option(Contract(Box::new(t.clone()))),
                    Instr::Contract(t, entrypoint),
                )
            }
            "IMPLICIT_ACCOUNT" => {
                no_args()?;
                if at(&stack, 0) != Some(KeyHash) {
                    return Err(bad_stack(&stack));
                }
                unary(stack, 1, Contract(Box::new(Unit)), Instr::ImplicitAccount)
            }
            "ADDRESS" => {
                no_args()?;
                let Some(Contract(_)) = at(&stack, 0) else {
                    return Err(bad_stack(&stack));
                };
                unary(stack, 1, Address, Instr::Address)
            }
            "TRANSFER_TOKENS" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1), at(&stack, 2)) {
                    (Some(a), Some(Mutez), Some(Contract(t))) if *t == a => {
                        unary(stack, 3, Operation, Instr::TransferTokens(a))
                    }
                    _ => Err(bad_stack(&stack)),
                }
            }
            "SELF_ADDRESS" | "SENDER" | "SOURCE" | "AMOUNT" | "BALANCE" | "NOW" | "LEVEL" | "CHAIN_ID" => {
                no_args()?;
                let (t, instr) = match name {
                    "SELF_ADDRESS" => (Address, Instr::SelfAddress),
                    "SENDER" => (Address, Instr::Sender),
                    "SOURCE" => (Address, Instr::Source),
                    "AMOUNT" => (Mutez, Instr::Amount),
                    "BALANCE" => (Mutez, Instr::Balance),
                    "NOW" => (Timestamp, Instr::Now),
                    "LEVEL" => (Nat, Instr::Level),
                    _ => (ChainId, Instr::ChainId),
                };
                stack.push(t);
                live(instr, stack)
            }
            // ---------------------------------------------------- tickets
            "TICKET" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1)) {
                    (Some(t), Some(Nat)) if t.is_comparable() => {
                        unary(stack, 2, option(Ticket(Box::new(t))), Instr::Ticket)
                    }
                    _ => Err(bad_stack(&stack)),
                }
            }
            "READ_TICKET" => {
                no_args()?;
                let Some(Ticket(t)) = at(&stack, 0) else {
                    return Err(bad_stack(&stack));
                };
                stack.push(Type::comb(vec![Address, *t, Nat]));
                live(Instr::ReadTicket, stack)
            }
            "SPLIT_TICKET" => {
                no_args()?;
                match (at(&stack, 0), at(&stack, 1)) {
                    (Some(ticket @ Ticket(_)), Some(Pair(a, b))) if *a == Nat && *b == Nat => {
                        unary(stack, 2, option(pair(ticket.clone(), ticket)), Instr::SplitTicket)
                    }
                    _ => Err(bad_stack(&stack)),
                }
            }
            "JOIN_TICKETS" => {
                no_args()?;
                match at(&stack, 0) {
                    Some(Pair(a, b)) if a == b && matches!(*a, Ticket(_)) => {
                        unary(stack, 1, option(*a), Instr::JoinTickets)
                    }
                    _ => Err(bad_stack(&stack)),
                }
            }
            other => Err(match other {
                "CREATE_CONTRACT"
                | "SET_DELEGATE"
                | "EMIT"
                | "VIEW"
                | "LAMBDA_REC"
                | "KECCAK"
                | "SHA3"
                | "VOTING_POWER"
                | "TOTAL_VOTING_POWER"
                | "PAIRING_CHECK"
                | "SAPLING_EMPTY_STATE"
                | "SAPLING_VERIFY_UPDATE"
                | "OPEN_CHEST"
                | "MIN_BLOCK_TIME"
                | "BYTES"
                | "NAT"
                | "IS_IMPLICIT_ACCOUNT"
                | "INDEX_ADDRESS"
                | "GET_ADDRESS_INDEX"
                | "TICKET_DEPRECATED"
                | "STEPS_TO_QUOTA"
                | "CREATE_ACCOUNT" => ScriptError::Unsupported(other.to_string()),
                _ => ScriptError::UnknownInstruction(other.to_string()),
            }),
        }
    }
}

/// The result type of a two-operand arithmetic or comparison instruction.
fn binary_result(name: &str, a: &Type, b: &Type) -> Option<Type> {
    use Type::*;
    let option = |t: Type| Option(Box::new(t));
    let pair = |x: Type, y: Type| Pair(Box::new(x), Box::new(y));
    Some(match (name, a, b) {
        ("ADD", Nat, Nat) => Nat,
        ("ADD", Int | Nat, Int | Nat) => Int,
        ("ADD", Timestamp, Int) | ("ADD", Int, Timestamp) => Timestamp,
        ("ADD", Mutez, Mutez) => Mutez,
        ("SUB", Int | Nat, Int | Nat) => Int,
        ("SUB", Timestamp, Int) => Timestamp,
        ("SUB", Timestamp, Timestamp) => Int,
        ("SUB_MUTEZ", Mutez, Mutez) => option(Mutez),
        ("MUL", Nat, Nat) => Nat,
        ("MUL", Int | Nat, Int | Nat) => Int,
        ("MUL", Mutez, Nat) | ("MUL", Nat, Mutez) => Mutez,
        ("EDIV", Nat, Nat) => option(pair(Nat, Nat)),
        ("EDIV", Int | Nat, Int | Nat) => option(pair(Int, Nat)),
        ("EDIV", Mutez, Nat) => option(pair(Mutez, Mutez)),
        ("EDIV", Mutez, Mutez) => option(pair(Nat, Mutez)),
        ("LSL" | "LSR", Nat, Nat) => Nat,
        ("OR" | "XOR", Nat, Nat) => Nat,
        ("OR" | "AND" | "XOR", Bool, Bool) => Bool,
        ("AND", Nat | Int, Nat) => Nat,
        ("COMPARE", a, b) if a == b && a.is_comparable() => Int,
        _ => return None,
    })
}

/// Merges the stacks two branches leave.
fn merge(a: Stack, b: Stack) -> Result<Stack, ScriptError> {
    match (a, b) {
        (Stack::Failed, other) | (other, Stack::Failed) => Ok(other),
        (Stack::Live(a), Stack::Live(b)) if a == b => Ok(Stack::Live(a)),
        (Stack::Live(a), Stack::Live(b)) => Err(ScriptError::UnmatchedBranches {
            left: stack_text(&a),
            right: stack_text(&b),
        }),
    }
}

/// A loop body must leave the stack it started from (or fail).
fn expect_stack(after: &Stack, expected: &[Type]) -> Result<(), ScriptError> {
    match after {
        Stack::Failed => Ok(()),
        Stack::Live(stack) if stack == expected => Ok(()),
        Stack::Live(stack) => Err(ScriptError::UnmatchedBranches {
            left: stack_text(stack),
            right: stack_text(expected),
        }),
    }
}

/// The type of a right comb after `UPDATE k` puts a value of `field` in it.
fn comb_set(ty: &Type, k: usize, field: Type) -> Option<Type> {
    match (k, ty) {
        (0, _) => Some(field),
        (1, Type::Pair(_, b)) => Some(Type::Pair(Box::new(field), b.clone())),
        (k, Type::Pair(a, b)) => Some(Type::Pair(a.clone(), Box::new(comb_set(b, k - 2, field)?))),
        _ => None,
    }
}

/// The type `GET k` reads from a right comb.
fn comb_get(ty: &Type, k: usize) -> Option<Type> {
    match (k, ty) {
        (0, t) => Some(t.clone()),
        (1, Type::Pair(a, _)) => Some((**a).clone()),
        (k, Type::Pair(_, b)) => comb_get(b, k - 2),
        _ => None,
    }
}

/// Nodes in an expression (what parsing it costs).
pub fn node_count(expr: &Micheline) -> u64 {
    match expr {
        Micheline::Seq(items) => 1 + items.iter().map(node_count).sum::<u64>(),
        Micheline::Prim { args, .. } => 1 + args.iter().map(node_count).sum::<u64>(),
        _ => 1,
    }
}

impl DataContext for Checker<'_> {
    fn lambda(&mut self, arg: &Type, ret: &Type, code: &Micheline) -> Result<Value, DataError> {
        self.lambda_value(arg, ret, code)
            .map_err(|e| DataError::Lambda(Box::new(e)))
    }

    fn contract(&mut self, ty: &Type, address: &Address) -> Result<Value, DataError> {
        let no_such = || DataError::NoSuchContract {
            address: address.to_text(),
            ty: ty.to_string(),
        };
        let chain = self.chain.ok_or_else(no_such)?;
        if chain.accepts(&address.destination, &address.entrypoint, ty) {
            Ok(Value::Contract(address.clone()))
        } else {
            Err(no_such())
        }
    }

    fn allow_forged_tickets(&self) -> bool {
        self.forged_tickets
    }
}
