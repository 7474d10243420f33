//! Differential test: soru's Michelson typechecker and interpreter against
//! pytezos' (PyPI), an independent Python implementation of Michelson.
//!
//! Every case below is a whole script with a parameter, a storage and a
//! call context. Both implementations run it and must agree on:
//! - success or failure, and the kind of failure (`FAILWITH` and its
//!   value, mutez overflow, or a rejection: soru must reject statically,
//!   while typechecking the script or reading the parameter and storage,
//!   whatever pytezos rejects, since pytezos only checks types dynamically);
//! - the new storage, in Readable form (big maps compared by content);
//! - the operations emitted, in order: destination, entrypoint, amount and
//!   parameter value.
//!
//! Both sides see the same chain: the contracts in [`chain_table`] (plus a
//! case's own) with their parameter types, implicit accounts taking `unit`,
//! and every other address unknown (the harness' `strict_contracts`). The
//! balance given to pytezos includes the amount, as soru's `Env.balance`
//! does.
//!
//! pytezos 3.20 deviates from Octez in places. Where the harness'
//! `octez_compat` option fixes a deviation (SUB_MUTEZ underflow, SUB on
//! mutez, SPLIT_TICKET with a zero part, address order, ADDRESS keeping
//! the entrypoint: see `tests/pytezos/interpret.py`), the case sets it.
//! Where nothing does, the case is marked [`Expect::Deviation`] with the
//! reason and the Octez result that soru must give, and the test checks
//! that pytezos still deviates so that no mark outlives its reason.
//!
//! All cases run in one Python process (`tests/pytezos/interpret.py`, cases
//! as a JSON array on stdin, results on stdout). The Python interpreter is
//! `$SORU_PYTEZOS_PYTHON` (`.ci/run` installs pytezos in a virtual
//! environment and sets it), else `python3`. Without pytezos the test says
//! so and passes, unless `$SORU_REQUIRE_PYTEZOS` is set, as CI sets it.
//!
//! The serde_json value type is not named here (it is not a dependency of
//! this crate); it is reached through `Micheline::to_json`.

#[path = "pytezos/python.rs"]
mod python;

use std::collections::BTreeMap;

use python::{pytezos_python, run_python};
use soru_core::base58::{ChainId, ContractKt1Hash};
use soru_core::micheline::Micheline;
use soru_core::PublicKeyHash;
use soru_michelson::{
    run_script, unparse, Address, ChainView, Checker, Destination, Entrypoints, Env, Form, Gas, RuntimeError,
    ScriptError, Type,
};

// ------------------------------------------------------------------ context

/// The running contract (unless a case says otherwise).
const SELF: &str = "KT1BEqzn5Wx8uJrZNvuS9DVHmLvG9td3fDLi";
/// `SENDER` (unless a case says otherwise).
const SENDER: &str = "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN";
/// `SOURCE`.
const SOURCE: &str = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx";
const NOW: i64 = 1_700_000_000;
const LEVEL: u32 = 42;
const CHAIN_ID: &str = "NetXdQprcVkpaWU";
/// The contract's balance before the call; `BALANCE` adds the amount.
const BALANCE_BEFORE: u64 = 5_000_000;
/// Octez's hard gas limit per operation, in milligas.
const GAS: u64 = 1_040_000_000;

const TZ1: &str = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx";
const TZ1_B: &str = "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN";
const TZ2: &str = "tz2BqcqJaSTZeQHkboWdkvzXTDBbXu9qKXqQ";
const TZ3: &str = "tz3UPfyQK5SxUwFKUTGTHXegRtKnAJS3DRFW";
/// `or (nat %foo) (string %bar)`.
const KT_OTHER: &str = "KT1VD4SdQF2ruNNTCE1aTWErmGz9tN4Mg8F5";
/// `nat`.
const KT_NAT: &str = "KT1ThEdxfUcWUwqsdergy3QnbCWGHSUHeHJq";
/// `or (ticket %receive string) (unit %ping)`.
const KT_TICKETS: &str = "KT1R1uQo9xSdbawauCPn7XnmFReYq5HR1EbE";
/// Not on the chain.
const KT_UNKNOWN: &str = "KT1RhpJQ8x1v1u5v4dmkLnPaJYUpUwDeQKiV";
/// A rollup of type `bytes` (the seed's `${SR_ADDR}`).
const SR_BYTES: &str = "sr163Lv22CdE8QagCwf48PWDTquk6isQwv57";
/// A rollup of type `ticket string`.
const SR_TICKET: &str = "sr1KjYFdHJNGPqdvSmTGZuv4nwWvew9QCdTp";
/// A rollup of type `pair address (ticket string)`.
const SR_PAIR: &str = "sr1Qmxuz5o9DEcqK6CWfnjfjhMe4dUR3Tumz";
/// Not on the chain.
const SR_UNKNOWN: &str = "sr1PAPeep592K6A6PYcXNGAfuC9wXuWf3i5N";

/// The contracts and rollups every case sees, with their parameter types.
fn chain_table() -> Vec<(&'static str, &'static str)> {
    vec![
        (KT_OTHER, "or (nat %foo) (string %bar)"),
        (KT_NAT, "nat"),
        (KT_TICKETS, "or (ticket %receive string) (unit %ping)"),
        (SR_BYTES, "bytes"),
        (SR_TICKET, "ticket string"),
        (SR_PAIR, "pair address (ticket string)"),
    ]
}

/// The chain as soru's interpreter sees it: the same table pytezos gets.
struct TestChain(BTreeMap<String, Micheline>);

impl ChainView for TestChain {
    fn accepts(&self, destination: &Destination, entrypoint: &str, ty: &Type) -> bool {
        match destination {
            // Octez also lets implicit accounts take tickets; the harness
            // models them as `parameter unit` only, so no case sends them one.
            Destination::Implicit(_) => entrypoint.is_empty() && matches!(ty, Type::Unit | Type::Ticket(_)),
            Destination::Originated(kt1) => self
                .0
                .get(&kt1.to_base58())
                .and_then(|parameter| Entrypoints::parse(parameter).ok())
                .is_some_and(|entrypoints| entrypoints.find(entrypoint).is_some_and(|(_, t)| t == ty)),
            // A rollup has one entrypoint, of its declared type.
            Destination::SmartRollup(sr1) => {
                entrypoint.is_empty()
                    && self
                        .0
                        .get(&sr1.to_base58())
                        .is_some_and(|parameter| Type::parse(parameter).is_ok_and(|t| &t == ty))
            }
        }
    }
}

// ------------------------------------------------------------------ cases

/// The Octez result a case must give, where pytezos does not.
#[derive(Debug, Clone)]
enum Want {
    /// Success with this storage (Readable) and no operations.
    Storage(&'static str),
    /// `FAILWITH` with this value (Readable).
    Failwith(&'static str),
    /// Rejected before running.
    Rejected,
}

#[derive(Debug, Clone)]
enum Expect {
    /// soru and pytezos agree.
    Same,
    /// pytezos deviates from Octez (`why` cites the deviation): soru must
    /// give `want`, and pytezos must still give something else.
    Deviation { why: &'static str, want: Want },
}

#[derive(Debug, Clone)]
struct Case {
    name: &'static str,
    /// `parameter …; storage …; code …` (ASSERT_SOME is expanded).
    script: String,
    parameter: String,
    storage: String,
    entrypoint: &'static str,
    amount: u64,
    sender: &'static str,
    self_address: &'static str,
    /// Contracts besides [`chain_table`]'s (or replacing them).
    contracts: Vec<(&'static str, &'static str)>,
    /// The harness' `octez_compat` patches.
    compat: bool,
    /// The type of the `FAILWITH` value, needed when its Optimized form
    /// (soru's) differs from its Readable form (pytezos').
    failwith_ty: Option<&'static str>,
    expect: Expect,
}

fn script(name: &'static str, text: &str, parameter: &str, storage: &str) -> Case {
    assert!(
        name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "case names are plain: {name}"
    );
    Case {
        name,
        script: text.replace("ASSERT_SOME", "IF_NONE { UNIT ; FAILWITH } {}"),
        parameter: parameter.to_string(),
        storage: storage.to_string(),
        entrypoint: "default",
        amount: 0,
        sender: SENDER,
        self_address: SELF,
        contracts: vec![],
        compat: false,
        failwith_ty: None,
        expect: Expect::Same,
    }
}

/// A script from its three parts.
fn code(name: &'static str, param_ty: &str, storage_ty: &str, body: &str, parameter: &str, storage: &str) -> Case {
    script(
        name,
        &format!("parameter ({param_ty}); storage ({storage_ty}); code {{ {body} }}"),
        parameter,
        storage,
    )
}

/// A script taking `unit`.
fn unit(name: &'static str, storage_ty: &str, body: &str, storage: &str) -> Case {
    code(name, "unit", storage_ty, body, "Unit", storage)
}

impl Case {
    fn entrypoint(mut self, entrypoint: &'static str) -> Self {
        self.entrypoint = entrypoint;
        self
    }

    fn amount(mut self, amount: u64) -> Self {
        self.amount = amount;
        self
    }

    fn sender(mut self, sender: &'static str) -> Self {
        self.sender = sender;
        self
    }

    fn self_address(mut self, address: &'static str) -> Self {
        self.self_address = address;
        self
    }

    fn contract(mut self, address: &'static str, parameter_ty: &'static str) -> Self {
        self.contracts.push((address, parameter_ty));
        self
    }

    fn compat(mut self) -> Self {
        self.compat = true;
        self
    }

    fn failwith_ty(mut self, ty: &'static str) -> Self {
        self.failwith_ty = Some(ty);
        self
    }

    fn deviation(mut self, why: &'static str, want: Want) -> Self {
        self.expect = Expect::Deviation { why, want };
        self
    }

    fn contracts(&self) -> BTreeMap<String, Micheline> {
        chain_table()
            .into_iter()
            .chain(self.contracts.iter().copied())
            .map(|(address, ty)| (address.to_string(), expr(ty)))
            .collect()
    }

    fn balance(&self) -> u64 {
        BALANCE_BEFORE + self.amount
    }

    fn script_micheline(&self) -> Micheline {
        expr(&format!("{{ {} }}", self.script))
    }

    /// The case as the harness reads it.
    fn to_json(&self) -> String {
        let json = |m: &Micheline| m.to_json().to_string();
        let contracts: Vec<String> = self
            .contracts()
            .iter()
            .map(|(address, ty)| format!("\"{address}\": {}", json(ty)))
            .collect();
        format!(
            concat!(
                "{{\"name\": \"{}\", \"code\": {}, \"entrypoint\": \"{}\", \"parameter\": {}, \"storage\": {}, ",
                "\"amount\": {}, \"balance\": {}, \"sender\": \"{}\", \"source\": \"{}\", \"self_address\": \"{}\", ",
                "\"now\": {}, \"level\": {}, \"chain_id\": \"{}\", \"contracts\": {{{}}}, ",
                "\"strict_contracts\": true, \"octez_compat\": {}, \"timeout\": 5}}"
            ),
            self.name,
            json(&self.script_micheline()),
            self.entrypoint,
            json(&expr(&self.parameter)),
            json(&expr(&self.storage)),
            self.amount,
            self.balance(),
            self.sender,
            SOURCE,
            self.self_address,
            NOW,
            LEVEL,
            CHAIN_ID,
            contracts.join(", "),
            self.compat,
        )
    }
}

fn expr(text: &str) -> Micheline {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

// ------------------------------------------------------------------ outcomes

/// What a run gives, in a form both sides share.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Success: the storage (Readable, big maps as sorted `Elt`s) and the
    /// operations (`destination %entrypoint amount value`).
    Ok { storage: String, operations: Vec<String> },
    /// `FAILWITH`, with the value in Readable form.
    Failwith(String),
    /// Mutez overflow, or a shift over 256.
    Overflow,
    /// Ill-typed: rejected before running (soru) or by a dynamic type check
    /// (pytezos).
    Rejected,
    /// Anything else (the category and message).
    Other(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok { storage, operations } if operations.is_empty() => write!(f, "ok, storage {storage}"),
            Outcome::Ok { storage, operations } => {
                write!(f, "ok, storage {storage}, operations [{}]", operations.join("; "))
            }
            Outcome::Failwith(v) => write!(f, "FAILWITH {v}"),
            Outcome::Overflow => write!(f, "overflow"),
            Outcome::Rejected => write!(f, "rejected"),
            Outcome::Other(what) => write!(f, "other: {what}"),
        }
    }
}

/// Big map contents by id (pytezos' `lazy_diff`).
type BigMaps = BTreeMap<String, Vec<(Micheline, Micheline)>>;

/// Rewrites a Readable value of `ty` so that both sides write it alike:
/// a big map (an id on pytezos' side, resolved through `big_maps`) becomes
/// its `Elt`s sorted by their text.
fn normalize(ty: &Type, value: &Micheline, big_maps: &BigMaps) -> Micheline {
    let prim = |name: &str, args: Vec<Micheline>| Micheline::prim(name, args).expect("a data constructor");
    match (ty, value) {
        (Type::BigMap(..), _) => {
            let mut elts: Vec<(Micheline, Micheline)> = match value {
                Micheline::Int(id) => big_maps.get(&id.to_string()).cloned().unwrap_or_default(),
                Micheline::Seq(items) => items
                    .iter()
                    .filter_map(|item| match item {
                        Micheline::Prim { args, .. } if args.len() == 2 => Some((args[0].clone(), args[1].clone())),
                        _ => None,
                    })
                    .collect(),
                _ => return value.clone(),
            };
            elts.sort_by_key(|(k, v)| (k.to_string(), v.to_string()));
            Micheline::Seq(elts.into_iter().map(|(k, v)| prim("Elt", vec![k, v])).collect())
        }
        (Type::Pair(l, r), Micheline::Prim { prim: p, args, annots }) if p.name() == "Pair" && args.len() >= 2 => {
            let first = normalize(l, &args[0], big_maps);
            let rest = if args.len() == 2 {
                args[1].clone()
            } else {
                Micheline::Prim {
                    prim: *p,
                    args: args[1..].to_vec(),
                    annots: annots.clone(),
                }
            };
            let rest = normalize(r, &rest, big_maps);
            match rest {
                Micheline::Prim {
                    prim: q, args: more, ..
                } if args.len() > 2 && q.name() == "Pair" => {
                    let mut all = vec![first];
                    all.extend(more);
                    prim("Pair", all)
                }
                rest => prim("Pair", vec![first, rest]),
            }
        }
        (Type::Option(t), Micheline::Prim { prim: p, args, .. }) if p.name() == "Some" && args.len() == 1 => {
            prim("Some", vec![normalize(t, &args[0], big_maps)])
        }
        (Type::Or(l, r), Micheline::Prim { prim: p, args, .. }) if args.len() == 1 => match p.name() {
            "Left" => prim("Left", vec![normalize(l, &args[0], big_maps)]),
            "Right" => prim("Right", vec![normalize(r, &args[0], big_maps)]),
            _ => value.clone(),
        },
        (Type::List(t), Micheline::Seq(items)) => {
            Micheline::Seq(items.iter().map(|v| normalize(t, v, big_maps)).collect())
        }
        (Type::Map(_, v), Micheline::Seq(items)) => Micheline::Seq(
            items
                .iter()
                .map(|item| match item {
                    Micheline::Prim { prim: p, args, .. } if p.name() == "Elt" && args.len() == 2 => {
                        prim("Elt", vec![args[0].clone(), normalize(v, &args[1], big_maps)])
                    }
                    other => other.clone(),
                })
                .collect(),
        ),
        _ => value.clone(),
    }
}

fn operation_text(destination: &str, entrypoint: &str, amount: &str, value: &Micheline) -> String {
    let entrypoint = if entrypoint.is_empty() { "default" } else { entrypoint };
    format!("{destination} %{entrypoint} {amount} {value}")
}

// ------------------------------------------------------------------ soru

/// Runs a case with soru, giving the outcome and a diagnostic.
fn run_soru(case: &Case) -> (Outcome, String) {
    let chain = TestChain(case.contracts());
    let mut gas = Gas::new(GAS);
    let rejected = |stage: &str, e: &dyn std::fmt::Display| (Outcome::Rejected, format!("{stage}: {e}"));
    let script = match Checker::new(&mut gas)
        .with_chain(&chain)
        .check_script(&case.script_micheline())
    {
        Ok(script) => script,
        Err(e) => return rejected("script", &e),
    };
    let Some((_, parameter_ty)) = script.entrypoints.find(case.entrypoint) else {
        return rejected("entrypoint", &case.entrypoint);
    };
    let parameter_ty = parameter_ty.clone();
    // Tickets in parameters and storage are written out (as pytezos reads
    // them): accepted as forged.
    let parameter = match Checker::new(&mut gas)
        .with_chain(&chain)
        .with_forged_tickets()
        .parse_value(&parameter_ty, &expr(&case.parameter))
    {
        Ok(v) => v,
        Err(e) => return rejected("parameter", &e),
    };
    let storage = match Checker::new(&mut gas)
        .with_chain(&chain)
        .with_forged_tickets()
        .parse_value(&script.storage, &expr(&case.storage))
    {
        Ok(v) => v,
        Err(e) => return rejected("storage", &e),
    };
    let sender = Address::from_text(case.sender).expect("a valid sender");
    let env = Env {
        self_address: ContractKt1Hash::from_base58(case.self_address).expect("a valid KT1"),
        sender: &sender,
        source: PublicKeyHash::from_base58(SOURCE).expect("a valid tz1"),
        amount: case.amount,
        balance: case.balance(),
        now: NOW,
        level: LEVEL,
        chain_id: ChainId::from_base58(CHAIN_ID).expect("a valid chain id"),
        chain: &chain,
    };
    match run_script(&script, case.entrypoint, parameter, storage, &env, &mut gas) {
        Ok(outcome) => {
            let storage = unparse(&script.storage, &outcome.storage, Form::Readable);
            let operations = outcome
                .operations
                .iter()
                .map(|t| {
                    let base = Address {
                        destination: t.destination.destination,
                        entrypoint: String::new(),
                    };
                    operation_text(
                        &base.to_text(),
                        &t.destination.entrypoint,
                        &t.amount.to_string(),
                        &unparse(&t.parameter_ty, &t.parameter, Form::Readable),
                    )
                })
                .collect();
            let storage = normalize(&script.storage, &storage, &BigMaps::new()).to_string();
            (Outcome::Ok { storage, operations }, String::new())
        }
        Err(RuntimeError::Failwith(value)) => {
            // soru gives the Optimized form; written Readable through the
            // declared type when the two differ.
            let readable = match case.failwith_ty {
                None => value.clone(),
                Some(ty) => {
                    let ty = Type::parse(&expr(ty)).expect("a valid FAILWITH type");
                    match Checker::new(&mut Gas::new(GAS))
                        .with_chain(&chain)
                        .parse_value(&ty, &value)
                    {
                        Ok(v) => unparse(&ty, &v, Form::Readable),
                        Err(e) => panic!("{}: FAILWITH value {value} is not a {ty}: {e}", case.name),
                    }
                }
            };
            (Outcome::Failwith(readable.to_string()), format!("optimized {value}"))
        }
        Err(RuntimeError::Overflow) => (Outcome::Overflow, String::new()),
        Err(RuntimeError::Script(e)) if matches!(*e, ScriptError::NoSuchEntrypoint(_)) => rejected("run", &e),
        Err(e) => (Outcome::Other(format!("{e:?}")), e.to_string()),
    }
}

// ------------------------------------------------------------------ pytezos

/// `text` parsed as JSON, into the type of `witness` (serde_json's value,
/// which this crate cannot name).
fn parse_json_like<T: std::str::FromStr>(_witness: &T, text: &str) -> T
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .unwrap_or_else(|e| panic!("the harness printed invalid JSON ({e}): {text}"))
}

/// A pytezos result: its outcome (storage not yet normalised) and a
/// diagnostic.
struct PyResult {
    name: String,
    ok: Option<(Micheline, Vec<String>, BigMaps)>,
    /// The error category, the stage and the `FAILWITH` value.
    failure: Option<(String, String, Option<Micheline>)>,
    message: String,
}

fn run_pytezos(python: &str, cases: &[Case]) -> Vec<PyResult> {
    let input = format!(
        "[\n{}\n]",
        cases.iter().map(Case::to_json).collect::<Vec<_>>().join(",\n")
    );
    let text = run_python(
        python,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pytezos/interpret.py"),
        &input,
    );
    let witness = Micheline::Seq(vec![]).to_json();
    let all = parse_json_like(&witness, &text);
    let micheline = |v| Micheline::from_json(v).unwrap_or_else(|e| panic!("bad Micheline from pytezos ({e})"));
    let mut results = Vec::new();
    for r in all.as_array().expect("an array of results") {
        let name = r["name"].as_str().unwrap_or_default().to_string();
        let message = r["message"].as_str().unwrap_or_default().to_string();
        if r["ok"].as_bool() == Some(true) {
            let storage = micheline(&r["storage"]);
            let mut operations = Vec::new();
            for op in r["operations"].as_array().expect("operations") {
                if op["kind"].as_str() == Some("transaction") {
                    let parameters = &op["parameters"];
                    operations.push(operation_text(
                        op["destination"].as_str().unwrap_or_default(),
                        parameters["entrypoint"].as_str().unwrap_or_default(),
                        op["amount"].as_str().unwrap_or_default(),
                        &micheline(&parameters["value"]),
                    ));
                } else {
                    operations.push(op.to_string());
                }
            }
            let mut big_maps = BigMaps::new();
            for diff in r["lazy_diff"].as_array().into_iter().flatten() {
                if diff["kind"].as_str() != Some("big_map") {
                    continue;
                }
                let id = diff["id"].as_str().unwrap_or_default().to_string();
                let entries = big_maps.entry(id).or_default();
                for update in diff["diff"]["updates"].as_array().into_iter().flatten() {
                    if let Some(value) = update.get("value").filter(|v| !v.is_null()) {
                        entries.push((micheline(&update["key"]), micheline(value)));
                    }
                }
            }
            results.push(PyResult {
                name,
                ok: Some((storage, operations, big_maps)),
                failure: None,
                message,
            });
        } else {
            let error = r["error"].as_str().unwrap_or_default().to_string();
            let value = r.get("value").map(micheline);
            let stage = r["stage"].as_str().unwrap_or_default().to_string();
            results.push(PyResult {
                name,
                ok: None,
                message: format!("{stage}: {error}: {message}"),
                failure: Some((error, stage, value)),
            });
        }
    }
    results
}

fn pytezos_outcome(case: &Case, result: &PyResult) -> Outcome {
    if let Some((storage, operations, big_maps)) = &result.ok {
        let storage = match storage_type(case) {
            Some(ty) => normalize(&ty, storage, big_maps),
            None => storage.clone(),
        };
        return Outcome::Ok {
            storage: storage.to_string(),
            operations: operations.clone(),
        };
    }
    let (error, stage, value) = result.failure.clone().expect("ok or failure");
    match error.as_str() {
        "FAILWITH" => Outcome::Failwith(value.map(|v| v.to_string()).unwrap_or_default()),
        // Failing to read the script, the parameter or the storage (a mutez
        // literal over 2^63 is an "overflow" there) is a rejection.
        _ if stage == "parse" || stage == "instantiate" => Outcome::Rejected,
        "overflow" => Outcome::Overflow,
        "typecheck" | "parse" => Outcome::Rejected,
        other => Outcome::Other(other.to_string()),
    }
}

/// The storage type, read from the script's `storage` section.
fn storage_type(case: &Case) -> Option<Type> {
    let Micheline::Seq(sections) = case.script_micheline() else {
        return None;
    };
    sections.iter().find_map(|s| match s {
        Micheline::Prim { prim, args, .. } if prim.name() == "storage" && args.len() == 1 => Type::parse(&args[0]).ok(),
        _ => None,
    })
}

fn want_outcome(case: &Case, want: &Want) -> Outcome {
    match want {
        Want::Storage(text) => {
            let ty = storage_type(case).expect("a storage type");
            Outcome::Ok {
                storage: normalize(&ty, &expr(text), &BigMaps::new()).to_string(),
                operations: vec![],
            }
        }
        Want::Failwith(text) => Outcome::Failwith(expr(text).to_string()),
        Want::Rejected => Outcome::Rejected,
    }
}

// ------------------------------------------------------------------ the test

#[test]
fn soru_and_pytezos_agree() {
    let Some(python) = pytezos_python() else { return };
    let cases = cases();
    let mut names = std::collections::BTreeSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "two cases named {}", case.name);
    }
    let results = run_pytezos(&python, &cases);
    assert_eq!(results.len(), cases.len(), "one result per case");

    // `SORU_PYTEZOS_VERBOSE=1` lists every case's outcomes.
    let verbose = std::env::var_os("SORU_PYTEZOS_VERBOSE").is_some();
    let mut kinds = BTreeMap::<&str, usize>::new();
    let mut failures = Vec::new();
    let (mut same, mut deviations) = (0, 0);
    for (case, result) in cases.iter().zip(&results) {
        assert_eq!(case.name, result.name, "results in case order");
        let (soru, soru_note) = run_soru(case);
        let py = pytezos_outcome(case, result);
        let detail = || {
            format!(
                "  soru:    {soru}{}\n  pytezos: {py}{}",
                if soru_note.is_empty() {
                    String::new()
                } else {
                    format!("   [{soru_note}]")
                },
                if result.message.is_empty() {
                    String::new()
                } else {
                    format!("   [{}]", result.message)
                },
            )
        };
        *kinds
            .entry(match &soru {
                Outcome::Ok { .. } => "ok",
                Outcome::Failwith(_) => "FAILWITH",
                Outcome::Overflow => "overflow",
                Outcome::Rejected => "rejected",
                Outcome::Other(_) => "other",
            })
            .or_default() += 1;
        if verbose {
            eprintln!("{}\n{}", case.name, detail());
        }
        match &case.expect {
            Expect::Same => {
                if soru == py {
                    same += 1;
                } else {
                    failures.push(format!("{}: soru and pytezos differ\n{}", case.name, detail()));
                }
            }
            Expect::Deviation { why, want } => {
                deviations += 1;
                let want = want_outcome(case, want);
                if soru != want {
                    failures.push(format!(
                        "{}: soru does not give the Octez result {want} ({why})\n{}",
                        case.name,
                        detail()
                    ));
                } else if py == want {
                    failures.push(format!(
                        "{}: pytezos no longer deviates ({why}): mark the case Same\n{}",
                        case.name,
                        detail()
                    ));
                }
            }
        }
    }
    eprintln!(
        "{} cases: {same} agree, {deviations} pytezos deviations, {} failures; soru outcomes {kinds:?}",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ------------------------------------------------------------------ the corpus
//
// Macros are not expanded by either side's Micheline reader: cases use
// plain instructions (ASSERT_SOME aside, expanded by `script`).

// Why cases are marked: pytezos' deviations.

/// pytezos writes a lambda as its code was written; Octez rewrites every
/// `PUSH` constant in a lambda's code in the form asked for
/// (`unparse_code_rec`): Readable in storage, Optimized_legacy for PACK.
const LAMBDA_AS_WRITTEN: &str = "pytezos writes a lambda's PUSH constants as written; Octez rewrites them in the requested form (unparse_code_rec), e.g. an address is bytes in PACK and a string in Readable storage";

/// pytezos cannot write timestamps outside years 1-9999 (or time_t);
/// Octez writes years 0-9999 in RFC 3339 (Ptime's range) and others as
/// integers.
const TIMESTAMP_RANGE: &str =
    "pytezos fails to write a timestamp outside years 1-9999 or time_t; Octez writes years 0-9999 in RFC 3339 and others as integers";

/// Octez's storage types hold no contract and no operation
/// (`parse_normal_storage_ty`); pytezos does not check.
const STORAGE_TYPE: &str = "pytezos accepts a storage type with a contract or an operation; Octez does not";

/// pytezos has no static typechecker: it checks types as it runs.
const NO_STATIC_TYPECHECK: &str =
    "pytezos only checks the instructions it runs; Octez typechecks the whole script first";

fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(stack_cases());
    all.extend(or_option_cases());
    all.extend(list_cases());
    all.extend(set_map_cases());
    all.extend(big_map_cases());
    all.extend(arithmetic_cases());
    all.extend(comparison_cases());
    all.extend(string_bytes_pack_cases());
    all.extend(control_cases());
    all.extend(ill_typed_cases());
    all.extend(crypto_cases());
    all.extend(env_cases());
    all.extend(contract_cases());
    all.extend(ticket_cases());
    all.extend(seed_cases());
    all.extend(bridge_cases());
    all.extend(repository_contract_cases());
    all
}

fn stack_cases() -> Vec<Case> {
    vec![
        unit(
            "stack_swap_dup_dig_drop",
            "pair nat nat nat",
            "DROP; PUSH nat 1; PUSH nat 2; PUSH nat 3; SWAP; DUP; DIG 3; DROP; PAIR 3; NIL operation; PAIR",
            "Pair 0 0 0",
        ),
        unit(
            "stack_dup_n_dig_dug",
            "pair nat nat nat",
            "DROP; PUSH nat 1; PUSH nat 2; PUSH nat 3; PUSH nat 4; DUP 4; DIG 2; DUG 3; DIG 0; DUG 0; DROP 2; PAIR 3; NIL operation; PAIR",
            "Pair 0 0 0",
        ),
        unit(
            "stack_drop_0_dip_0",
            "nat",
            "DROP; PUSH nat 5; DROP 0; DIP 0 { PUSH nat 1; ADD }; NIL operation; PAIR",
            "0",
        ),
        unit(
            "stack_dip_n_deep",
            "pair nat nat nat nat",
            "DROP; PUSH nat 1; PUSH nat 2; PUSH nat 3; PUSH nat 4; DIP 3 { PUSH nat 10; ADD }; PAIR 4; NIL operation; PAIR",
            "Pair 0 0 0 0",
        ),
        unit(
            "stack_dip_nested",
            "pair nat nat",
            "DROP; PUSH nat 1; PUSH nat 2; DIP { DIP { }; PUSH nat 3; ADD }; PAIR; NIL operation; PAIR",
            "Pair 0 0",
        ),
        unit(
            "stack_dup_dip_drop",
            "pair nat nat nat",
            "DROP; PUSH nat 1; PUSH nat 2; PUSH nat 3; PUSH nat 4; DUP 4; DIP 2 { DROP 2; PUSH nat 20 }; DROP; SWAP; PAIR 3; NIL operation; PAIR",
            "Pair 0 0 0",
        ),
        unit(
            "stack_dip_2",
            "pair nat nat nat",
            "DROP; PUSH nat 3; PUSH nat 2; PUSH nat 1; DIP 2 { PUSH nat 10; ADD }; PAIR 3; NIL operation; PAIR",
            "Pair 0 0 0",
        ),
        unit(
            "comb_pair_get_update_unpair",
            "pair nat nat nat nat",
            "DROP; PUSH nat 1; PUSH nat 2; PUSH nat 3; PAIR 3; DUP; GET 3; SWAP; PUSH nat 9; UPDATE 4; UNPAIR 3; DIG 3; DUG 2; PAIR 4; NIL operation; PAIR",
            "Pair 0 0 0 0",
        ),
        unit(
            "comb_get_0_to_4",
            "pair nat nat (pair nat nat) nat (pair nat nat nat)",
            "DROP; PUSH (pair nat nat nat) (Pair 1 2 3); DUP; GET 0; SWAP; DUP; GET 1; SWAP; DUP; GET 2; SWAP; DUP; GET 4; SWAP; PUSH nat 7; UPDATE 1; GET 1; PAIR 5; NIL operation; PAIR",
            "Pair 0 0 (Pair 0 0) 0 (Pair 0 0 0)",
        ),
        unit(
            "comb_pair_unpair_5",
            "pair nat (pair bytes int bool string nat)",
            "DROP; PUSH nat 1; PUSH string \"a\"; PUSH bool True; PUSH int -1; PUSH bytes 0x00; PAIR 5; DUP; UNPAIR 5; DROP 4; PAIR; NIL operation; PAIR",
            "Pair 0 0x 0 False \"\" 0",
        ),
        unit(
            "comb_get_odd_even",
            "pair (pair bool int) int bool string nat",
            "DROP; PUSH (pair nat string bool int) (Pair 7 \"s\" True -3); DUP; GET 1; SWAP; DUP; GET 3; SWAP; DUP; GET 5; SWAP; DUP; GET 6; SWAP; GET 4; PAIR 5; NIL operation; PAIR",
            "Pair (Pair False 0) 0 False \"\" 0",
        ),
        unit(
            "comb_update_n",
            "pair nat string bool",
            "DROP; PUSH (pair nat string bool) (Pair 1 \"a\" False); PUSH nat 9; UPDATE 1; PUSH string \"z\"; UPDATE 3; PUSH bool True; UPDATE 4; NIL operation; PAIR",
            "Pair 0 \"\" False",
        ),
        unit(
            "comb_update_last_deep",
            "pair nat nat nat",
            "DROP; PUSH (pair nat nat nat) (Pair 1 2 3); PUSH nat 4; UPDATE 4; NIL operation; PAIR",
            "Pair 0 0 0",
        ),
        unit(
            "comb_update_changes_type",
            "pair string nat",
            "DROP; PUSH (pair nat nat) (Pair 1 2); PUSH string \"x\"; UPDATE 1; NIL operation; PAIR",
            "Pair \"\" 0",
        ),
        unit(
            "comb_update_deep_changes_type",
            "pair nat nat int",
            "DROP; PUSH (pair nat nat nat) (Pair 1 2 3); PUSH int -4; UPDATE 4; NIL operation; PAIR",
            "Pair 0 0 0",
        ),
        unit(
            "comb_update_0_changes_type",
            "string",
            "DROP; PUSH nat 1; PUSH string \"x\"; UPDATE 0; NIL operation; PAIR",
            "\"\"",
        )
        .deviation(
            "UPDATE 0 replaces the whole value, of any type (Comb_set_zero); pytezos wants a pair",
            Want::Storage("\"x\""),
        ),
        code(
            "car_cdr_swap",
            "pair nat string",
            "pair string nat",
            "CAR; DUP; CDR; SWAP; CAR; SWAP; PAIR; NIL operation; PAIR",
            "Pair 5 \"five\"",
            "Pair \"\" 0",
        ),
        unit("stack_too_short", "nat", "DROP; DROP; PUSH nat 1; NIL operation; PAIR", "0"),
        unit("dup_0", "nat", "DROP; PUSH nat 1; DUP 0; DROP; NIL operation; PAIR", "0").deviation(
            "pytezos accepts DUP 0 (a no-op); Octez rejects it (Dup_n_bad_argument)",
            Want::Rejected,
        ),
        unit("dig_too_deep", "nat", "DROP; PUSH nat 1; DIG 3; NIL operation; PAIR", "0"),
        unit("pair_1", "nat", "DROP; PUSH nat 1; PAIR 1; NIL operation; PAIR", "0"),
        unit(
            "get_n_out_of_comb",
            "nat",
            "DROP; PUSH (pair nat nat) (Pair 1 2); GET 3; NIL operation; PAIR",
            "0",
        ),
        unit("unpair_not_a_pair", "nat", "DROP; PUSH nat 1; UNPAIR; DROP; NIL operation; PAIR", "0"),
    ]
}

fn or_option_cases() -> Vec<Case> {
    const OR: &str = "UNPAIR; IF_LEFT { SOME; SWAP; CDR; SWAP; PAIR } { SWAP; CAR; PAIR }; NIL operation; PAIR";
    const OR_TY: &str = "or (nat %a) (string %b)";
    const NESTED: &str = "or (or (nat %a) (unit %b)) (or (string %c) (int %d))";
    const NESTED_CODE: &str =
        "CAR; IF_LEFT { IF_LEFT { INT } { DROP; PUSH int -100 } } { IF_LEFT { SIZE; INT } { } }; NIL operation; PAIR";
    vec![
        code("or_entrypoint_a", OR_TY, "pair (option nat) string", OR, "5", "Pair None \"old\"").entrypoint("a"),
        code("or_entrypoint_b", OR_TY, "pair (option nat) string", OR, "\"hi\"", "Pair None \"old\"")
            .entrypoint("b"),
        code("or_entrypoint_default", OR_TY, "pair (option nat) string", OR, "Left 5", "Pair None \"old\""),
        code("or_entrypoint_unknown", OR_TY, "pair (option nat) string", OR, "5", "Pair None \"old\"")
            .entrypoint("zzz"),
        code("or_entrypoint_ill_typed", OR_TY, "pair (option nat) string", OR, "\"x\"", "Pair None \"old\"")
            .entrypoint("a"),
        code("or_nested_entrypoint_d", NESTED, "int", NESTED_CODE, "-5", "0").entrypoint("d"),
        code("or_nested_entrypoint_b", NESTED, "int", NESTED_CODE, "Unit", "0").entrypoint("b"),
        code("or_nested_whole", NESTED, "int", NESTED_CODE, "Right (Left \"abc\")", "0"),
        code(
            "or_nested_default",
            "or (or (nat %default) unit) string",
            "nat",
            "CAR; IF_LEFT { IF_LEFT { } { DROP; PUSH nat 1 } } { SIZE }; NIL operation; PAIR",
            "5",
            "0",
        ),
        code("root_annotated_entrypoint", "nat %root", "nat", "CAR; NIL operation; PAIR", "5", "0").entrypoint("root"),
        code(
            "or_annotated_default",
            "or (nat %default) (string %other)",
            "nat",
            "CAR; IF_LEFT { } { SIZE }; NIL operation; PAIR",
            "7",
            "0",
        ),
        code(
            "or_annotated_default_other",
            "or (nat %default) (string %other)",
            "nat",
            "CAR; IF_LEFT { } { SIZE }; NIL operation; PAIR",
            "\"four\"",
            "0",
        )
        .entrypoint("other"),
        unit(
            "option_or_constructors",
            "pair (or nat string) (or nat string) nat",
            "DROP; PUSH (option nat) None; IF_NONE { PUSH nat 11 } { }; PUSH string \"r\"; RIGHT nat; PUSH nat 1; LEFT string; PAIR 3; NIL operation; PAIR",
            "Pair (Left 0) (Left 0) 0",
        ),
        code(
            "if_none_some",
            "option nat",
            "nat",
            "CAR; IF_NONE { PUSH nat 100 } { PUSH nat 1; ADD }; NIL operation; PAIR",
            "Some 41",
            "0",
        ),
        code(
            "if_none_none",
            "option nat",
            "nat",
            "CAR; IF_NONE { PUSH nat 100 } { PUSH nat 1; ADD }; NIL operation; PAIR",
            "None",
            "0",
        ),
        code(
            "option_nested_some_some",
            "option (option int)",
            "option (option int)",
            "CAR; IF_NONE { NONE (option int) } { IF_NONE { PUSH int 0; SOME; SOME } { NEG; SOME; SOME } }; NIL operation; PAIR",
            "Some (Some 5)",
            "None",
        ),
        code(
            "option_nested_some_none",
            "option (option int)",
            "option (option int)",
            "CAR; IF_NONE { NONE (option int) } { IF_NONE { PUSH int 0; SOME; SOME } { NEG; SOME; SOME } }; NIL operation; PAIR",
            "Some None",
            "None",
        ),
        code(
            "if_left_nested_values",
            "or (pair nat nat) (or string bytes)",
            "nat",
            "CAR; IF_LEFT { UNPAIR; ADD } { IF_LEFT { SIZE } { SIZE } }; NIL operation; PAIR",
            "Right (Right 0xabcdef)",
            "0",
        ),
        code(
            "if_left_pair_branch",
            "or (pair nat nat) (or string bytes)",
            "nat",
            "CAR; IF_LEFT { UNPAIR; ADD } { IF_LEFT { SIZE } { SIZE } }; NIL operation; PAIR",
            "Left (Pair 20 22)",
            "0",
        ),
    ]
}

fn list_cases() -> Vec<Case> {
    vec![
        code(
            "list_size_iter_map_cons",
            "list int",
            "pair (list int) int nat",
            "CAR; DUP; SIZE; SWAP; DUP; PUSH int 0; SWAP; ITER { ADD }; SWAP; MAP { PUSH int 2; MUL }; PUSH int 100; CONS; PAIR 3; NIL operation; PAIR",
            "{ 1 ; 2 ; 3 }",
            "Pair {} 0 0",
        ),
        code(
            "list_if_cons",
            "list int",
            "pair int (list int)",
            "CAR; IF_CONS { PAIR } { PUSH int -1; NIL int; SWAP; PAIR }; NIL operation; PAIR",
            "{ 7 ; 8 }",
            "Pair 0 {}",
        ),
        code(
            "list_if_cons_empty",
            "list int",
            "pair int (list int)",
            "CAR; IF_CONS { PAIR } { PUSH int -1; NIL int; SWAP; PAIR }; NIL operation; PAIR",
            "{}",
            "Pair 0 {}",
        ),
        code(
            "list_map_retyped",
            "list int",
            "list string",
            "CAR; MAP { DROP; PUSH string \"x\" }; NIL operation; PAIR",
            "{ 1 ; 2 }",
            "{}",
        ),
        code(
            "list_map_empty_retyped",
            "list int",
            "list string",
            "CAR; MAP { DROP; PUSH string \"x\" }; NIL operation; PAIR",
            "{}",
            "{ \"old\" }",
        )
        .deviation(
            "pytezos' MAP of an empty list keeps the old element type and END rejects the storage",
            Want::Storage("{}"),
        ),
        code(
            "list_map_reads_stack",
            "list nat",
            "list nat",
            "UNPAIR; PUSH nat 10; SWAP; MAP { DUP 2; ADD }; SWAP; DROP; SWAP; DROP; NIL operation; PAIR",
            "{ 1 ; 2 }",
            "{ 5 }",
        ),
        code(
            "list_iter_reverses",
            "list string",
            "list string",
            "CAR; NIL string; SWAP; ITER { CONS }; NIL operation; PAIR",
            "{ \"a\" ; \"b\" ; \"c\" }",
            "{}",
        ),
        code(
            "list_concat_strings",
            "list string",
            "string",
            "CAR; CONCAT; NIL operation; PAIR",
            "{ \"ab\" ; \"\" ; \"cd\" }",
            "\"\"",
        ),
        code(
            "list_concat_bytes",
            "list bytes",
            "bytes",
            "CAR; CONCAT; NIL operation; PAIR",
            "{ 0x01 ; 0x ; 0xff }",
            "0x",
        ),
        code(
            "list_nested_flatten",
            "list (list nat)",
            "pair nat (list nat)",
            "CAR; DUP; SIZE; SWAP; NIL nat; SWAP; ITER { ITER { CONS } }; SWAP; PAIR; NIL operation; PAIR",
            "{ { 1 ; 2 } ; {} ; { 3 } }",
            "Pair 0 {}",
        ),
        code(
            "list_of_pairs_map",
            "list (pair string nat)",
            "list nat",
            "CAR; MAP { CDR }; NIL operation; PAIR",
            "{ Pair \"a\" 1 ; Pair \"b\" 2 }",
            "{}",
        ),
        code(
            "combs_inside_collections",
            "unit",
            "pair (list (pair nat nat nat)) (map nat (pair nat nat nat)) (or (pair nat nat nat) unit)",
            "CDR; UNPAIR 3; PUSH (pair nat nat nat) (Pair 7 8 9); CONS; PAIR 3; NIL operation; PAIR",
            "Unit",
            "Pair { Pair 1 2 3 } { Elt 0 (Pair 4 5 6) } (Left (Pair 10 11 12))",
        ),
        code("list_size_empty", "list nat", "nat", "CAR; SIZE; NIL operation; PAIR", "{}", "5"),
    ]
}

fn set_map_cases() -> Vec<Case> {
    vec![
        unit(
            "set_update_mem_size",
            "pair (set nat) bool bool nat",
            "DROP; EMPTY_SET nat; PUSH bool True; PUSH nat 3; UPDATE; PUSH bool True; PUSH nat 1; UPDATE; PUSH bool True; PUSH nat 2; UPDATE; PUSH bool False; PUSH nat 2; UPDATE; DUP; SIZE; SWAP; DUP; PUSH nat 2; MEM; SWAP; DUP; PUSH nat 3; MEM; SWAP; PAIR 4; NIL operation; PAIR",
            "Pair {} False False 0",
        ),
        code(
            "set_iter_order",
            "set string",
            "list string",
            "CAR; NIL string; SWAP; ITER { CONS }; NIL operation; PAIR",
            "{ \"a\" ; \"b\" ; \"c\" }",
            "{}",
        ),
        unit(
            "set_of_addresses_order",
            "set address",
            &format!(
                "DROP; EMPTY_SET address; PUSH bool True; PUSH address \"{SR_BYTES}\"; UPDATE; PUSH bool True; PUSH address \"{KT_OTHER}\"; UPDATE; PUSH bool True; PUSH address \"{TZ3}\"; UPDATE; PUSH bool True; PUSH address \"{TZ1}\"; UPDATE; PUSH bool True; PUSH address \"{TZ2}\"; UPDATE; PUSH bool True; PUSH address \"{KT_OTHER}%foo\"; UPDATE; NIL operation; PAIR"
            ),
            "{}",
        )
        .compat(),
        code(
            "set_of_pairs",
            "set (pair nat string)",
            "pair nat bool bool",
            "CAR; DUP; PUSH (pair nat string) (Pair 1 \"b\"); MEM; SWAP; DUP; PUSH (pair nat string) (Pair 2 \"a\"); MEM; SWAP; SIZE; PAIR 3; NIL operation; PAIR",
            "{ Pair 1 \"a\" ; Pair 1 \"b\" ; Pair 2 \"b\" }",
            "Pair 0 False False",
        ),
        code("set_literal_unordered", "unit", "set nat", "CDR; NIL operation; PAIR", "Unit", "{ 2 ; 1 }"),
        code("set_literal_duplicate", "unit", "set nat", "CDR; NIL operation; PAIR", "Unit", "{ 1 ; 1 }"),
        unit(
            "set_remove_absent_add_twice",
            "set nat",
            "DROP; EMPTY_SET nat; PUSH bool False; PUSH nat 3; UPDATE; PUSH bool True; PUSH nat 3; UPDATE; PUSH bool True; PUSH nat 3; UPDATE; NIL operation; PAIR",
            "{}",
        ),
        unit(
            "set_non_comparable",
            "unit",
            "DROP; EMPTY_SET (list nat); DROP; UNIT; NIL operation; PAIR",
            "Unit",
        ),
        unit(
            "map_update_get_and_update_map",
            "pair (map string nat) (map string nat) nat bool (option nat) (option nat)",
            "DROP; EMPTY_MAP string nat; PUSH (option nat) (Some 5); PUSH string \"b\"; UPDATE; PUSH (option nat) (Some 6); PUSH string \"a\"; UPDATE; PUSH (option nat) (Some 7); PUSH string \"b\"; GET_AND_UPDATE; SWAP; DUP; PUSH string \"zz\"; GET; SWAP; DUP; PUSH string \"a\"; MEM; SWAP; DUP; SIZE; SWAP; DUP; MAP { CDR; PUSH nat 1; ADD }; SWAP; PAIR 6; NIL operation; PAIR",
            "Pair {} {} 0 False None None",
        ),
        unit(
            "map_iter_sum",
            "int",
            "DROP; PUSH (map string int) { Elt \"a\" 1 ; Elt \"b\" 2 }; PUSH int 0; SWAP; ITER { CDR; ADD }; NIL operation; PAIR",
            "0",
        ),
        code(
            "map_iter_order",
            "map string nat",
            "list string",
            "CAR; NIL string; SWAP; ITER { CAR; CONS }; NIL operation; PAIR",
            "{ Elt \"a\" 1 ; Elt \"b\" 2 ; Elt \"c\" 3 }",
            "{}",
        ),
        code(
            "map_map_values",
            "map nat string",
            "map nat nat",
            "CAR; MAP { CDR; SIZE }; NIL operation; PAIR",
            "{ Elt 1 \"a\" ; Elt 5 \"hello\" }",
            "{}",
        ),
        code(
            "map_map_uses_key",
            "map nat nat",
            "map nat nat",
            "CAR; MAP { UNPAIR; MUL }; NIL operation; PAIR",
            "{ Elt 2 3 ; Elt 4 5 }",
            "{}",
        ),
        code(
            "map_map_empty_retyped",
            "map nat string",
            "map nat nat",
            "CAR; MAP { CDR; SIZE }; NIL operation; PAIR",
            "{}",
            "{ Elt 1 1 }",
        )
        .deviation(
            "pytezos' MAP of an empty map keeps the old value type and END rejects the storage",
            Want::Storage("{}"),
        ),
        code(
            "map_get_and_update_remove",
            "map string nat",
            "pair (option nat) (map string nat)",
            "CAR; NONE nat; PUSH string \"a\"; GET_AND_UPDATE; PAIR; NIL operation; PAIR",
            "{ Elt \"a\" 1 ; Elt \"b\" 2 }",
            "Pair None {}",
        ),
        code(
            "map_storage_update",
            "pair string nat",
            "map string nat",
            "UNPAIR; UNPAIR; DIP { SOME }; UPDATE; NIL operation; PAIR",
            "Pair \"k\" 9",
            "{ Elt \"a\" 1 ; Elt \"z\" 2 }",
        ),
        code(
            "map_pair_keys",
            "map (pair nat nat) string",
            "option string",
            "CAR; PUSH (pair nat nat) (Pair 1 2); GET; NIL operation; PAIR",
            "{ Elt (Pair 1 1) \"x\" ; Elt (Pair 1 2) \"y\" }",
            "None",
        ),
        code(
            "map_size_mem",
            "map int unit",
            "pair nat bool bool",
            "CAR; DUP; PUSH int -1; MEM; SWAP; DUP; PUSH int 1; MEM; SWAP; SIZE; PAIR 3; NIL operation; PAIR",
            "{ Elt -1 Unit ; Elt 0 Unit }",
            "Pair 0 False False",
        ),
        code(
            "map_or_keys_order",
            "map (or nat string) nat",
            "list (or nat string)",
            "CAR; NIL (or nat string); SWAP; ITER { CAR; CONS }; NIL operation; PAIR",
            "{ Elt (Left 2) 0 ; Elt (Left 10) 0 ; Elt (Right \"\") 0 ; Elt (Right \"a\") 0 }",
            "{}",
        ),
        code(
            "big_map_pair_keys",
            "pair nat string",
            "big_map (pair nat string) (option nat)",
            "UNPAIR; PUSH (option nat) None; SOME; SWAP; UPDATE; NIL operation; PAIR",
            "Pair 1 \"b\"",
            "{ Elt (Pair 1 \"a\") (Some 5) ; Elt (Pair 2 \"a\") None }",
        ),
        code(
            "map_literal_unordered",
            "unit",
            "map nat nat",
            "CDR; NIL operation; PAIR",
            "Unit",
            "{ Elt 2 1 ; Elt 1 2 }",
        ),
    ]
}

fn big_map_cases() -> Vec<Case> {
    vec![
        code(
            "big_map_literal_update",
            "unit",
            "big_map string nat",
            "CDR; PUSH (option nat) (Some 2); PUSH string \"b\"; UPDATE; PUSH (option nat) None; PUSH string \"a\"; UPDATE; NIL operation; PAIR",
            "Unit",
            "{ Elt \"a\" 1 ; Elt \"c\" 3 }",
        ),
        code(
            "big_map_get_mem",
            "unit",
            "pair (big_map string nat) bool (option nat)",
            "CDR; CAR; DUP; PUSH string \"c\"; GET; SWAP; DUP; PUSH string \"zz\"; MEM; SWAP; PAIR 3; NIL operation; PAIR",
            "Unit",
            "Pair { Elt \"a\" 1 ; Elt \"c\" 3 } False None",
        ),
        unit(
            "big_map_empty_update",
            "big_map nat nat",
            "DROP; EMPTY_BIG_MAP nat nat; PUSH (option nat) (Some 1); PUSH nat 1; UPDATE; NIL operation; PAIR",
            "{}",
        ),
        code(
            "big_map_get_and_update",
            "pair string nat",
            "pair (option nat) (big_map string nat)",
            "UNPAIR; UNPAIR; DIP { SOME }; DIG 2; CDR; DUG 2; GET_AND_UPDATE; PAIR; NIL operation; PAIR",
            "Pair \"a\" 10",
            "Pair None { Elt \"a\" 1 ; Elt \"b\" 2 }",
        ),
        code(
            "big_maps_in_comb",
            "nat",
            "pair (big_map nat string) nat (big_map string nat)",
            "UNPAIR; SWAP; UNPAIR 3; PUSH (option string) (Some \"new\"); DUP 5; UPDATE; SWAP; DIG 3; ADD; SWAP; PAIR 3; NIL operation; PAIR",
            "7",
            "Pair { Elt 1 \"one\" } 1 { Elt \"x\" 0 }",
        ),
        code(
            "big_map_remove_all",
            "unit",
            "big_map nat nat",
            "CDR; NONE nat; PUSH nat 1; UPDATE; NONE nat; PUSH nat 2; UPDATE; NIL operation; PAIR",
            "Unit",
            "{ Elt 1 10 ; Elt 2 20 }",
        ),
        code(
            "big_map_in_option",
            "unit",
            "option (big_map nat nat)",
            "CDR; IF_NONE { EMPTY_BIG_MAP nat nat } {}; PUSH (option nat) (Some 5); PUSH nat 5; UPDATE; SOME; NIL operation; PAIR",
            "Unit",
            "None",
        ),
        code(
            "big_map_literal_duplicate",
            "unit",
            "big_map nat nat",
            "CDR; NIL operation; PAIR",
            "Unit",
            "{ Elt 1 10 ; Elt 1 20 }",
        ),
        unit(
            "push_big_map",
            "unit",
            "DROP; PUSH (big_map nat nat) {}; DROP; UNIT; NIL operation; PAIR",
            "Unit",
        ),
    ]
}

fn arithmetic_cases() -> Vec<Case> {
    const ARITH: &str = "CAR; UNPAIR; DUP 2; DUP 2; EDIV; DUP 3; DUP 3; MUL; DUP 4; DUP 4; SUB; DIG 4; DIG 4; ADD; PAIR 4; NIL operation; PAIR";
    const INT_TY: &str = "pair int int int (option (pair int nat))";
    const NAT_TY: &str = "pair nat int nat (option (pair nat nat))";
    const INIT: &str = "Pair 0 0 0 None";
    const MUTEZ: &str = "CAR; UNPAIR; DUP 2; DUP 2; EDIV; PUSH nat 3; DUP 3; EDIV; DUP 4; DUP 4; SUB_MUTEZ; DIG 4; DIG 4; ADD; PAIR 4; NIL operation; PAIR";
    const MUTEZ_TY: &str = "pair mutez (option mutez) (option (pair mutez mutez)) (option (pair nat mutez))";
    const MUTEZ_INIT: &str = "Pair 0 None None None";
    vec![
        code("arith_int", "pair int int", INT_TY, ARITH, "Pair -7 2", INIT),
        code("arith_int_negative_divisor", "pair int int", INT_TY, ARITH, "Pair 7 -2", INIT),
        code("arith_int_both_negative", "pair int int", INT_TY, ARITH, "Pair -7 -2", INIT),
        code("arith_int_by_zero", "pair int int", INT_TY, ARITH, "Pair 7 0", INIT),
        code("arith_nat", "pair nat nat", NAT_TY, ARITH, "Pair 7 9", INIT),
        code("arith_int_nat", "pair int nat", INT_TY, ARITH, "Pair -7 3", INIT),
        code("arith_nat_int", "pair nat int", INT_TY, ARITH, "Pair 7 -3", INIT),
        code(
            "arith_big",
            "pair int int",
            INT_TY,
            ARITH,
            "Pair 170141183460469231731687303715884105728 -340282366920938463463374607431768211457",
            INIT,
        ),
        code("arith_mutez", "pair mutez mutez", MUTEZ_TY, MUTEZ, "Pair 10 3", MUTEZ_INIT),
        // pytezos raises on a SUB_MUTEZ underflow; octez_compat gives None.
        code("arith_mutez_underflow", "pair mutez mutez", MUTEZ_TY, MUTEZ, "Pair 3 10", MUTEZ_INIT).compat(),
        unit(
            "mutez_add_overflow",
            "mutez",
            "DROP; PUSH mutez 9223372036854775807; PUSH mutez 1; ADD; NIL operation; PAIR",
            "0",
        ),
        unit(
            "mutez_mul_overflow",
            "mutez",
            "DROP; PUSH nat 2; PUSH mutez 9223372036854775807; MUL; NIL operation; PAIR",
            "0",
        ),
        code(
            "mutez_mul_overflow_nat_first",
            "pair nat mutez",
            "mutez",
            "CAR; UNPAIR; MUL; NIL operation; PAIR",
            "Pair 2 4611686018427387904",
            "0",
        ),
        code("mul_nat_mutez", "pair nat mutez", "mutez", "CAR; UNPAIR; MUL; NIL operation; PAIR", "Pair 3 1000", "0"),
        unit(
            "mutez_max",
            "mutez",
            "DROP; PUSH mutez 9223372036854775806; PUSH mutez 1; ADD; NIL operation; PAIR",
            "0",
        ),
        unit(
            "mutez_amount_plus_balance",
            "mutez",
            "DROP; AMOUNT; BALANCE; ADD; NIL operation; PAIR",
            "0",
        )
        .amount(1000),
        unit(
            "sub_mutez_exact",
            "option mutez",
            "DROP; PUSH mutez 5; PUSH mutez 5; SUB_MUTEZ; NIL operation; PAIR",
            "None",
        ),
        unit(
            "sub_mutez_underflow",
            "option mutez",
            "DROP; PUSH mutez 6; PUSH mutez 5; SUB_MUTEZ; NIL operation; PAIR",
            "Some 1",
        )
        .compat(),
        // SUB on mutez is ill-typed since Ithaca (octez_compat).
        unit(
            "sub_on_mutez",
            "mutez",
            "DROP; PUSH mutez 1; PUSH mutez 3; SUB; NIL operation; PAIR",
            "0",
        )
        .compat(),
        code("ediv_mutez_nat", "pair mutez nat", "option (pair mutez mutez)", "CAR; UNPAIR; EDIV; NIL operation; PAIR", "Pair 1000001 3", "None"),
        code("ediv_mutez_nat_zero", "pair mutez nat", "option (pair mutez mutez)", "CAR; UNPAIR; EDIV; NIL operation; PAIR", "Pair 5 0", "None"),
        code("ediv_mutez_mutez", "pair mutez mutez", "option (pair nat mutez)", "CAR; UNPAIR; EDIV; NIL operation; PAIR", "Pair 1000001 3", "None"),
        code("ediv_mutez_mutez_zero", "pair mutez mutez", "option (pair nat mutez)", "CAR; UNPAIR; EDIV; NIL operation; PAIR", "Pair 5 0", "None"),
        code("mutez_parameter_too_big", "mutez", "mutez", "CAR; NIL operation; PAIR", "9223372036854775808", "0"),
        code("nat_parameter_negative", "nat", "nat", "CAR; NIL operation; PAIR", "-1", "0"),
        unit(
            "shifts",
            "pair nat nat",
            "DROP; PUSH nat 256; PUSH nat 1; LSL; PUSH nat 3; PUSH nat 100; LSR; PAIR; NIL operation; PAIR",
            "Pair 0 0",
        ),
        unit("lsl_overflow", "nat", "DROP; PUSH nat 257; PUSH nat 1; LSL; NIL operation; PAIR", "0"),
        unit("lsr_overflow", "nat", "DROP; PUSH nat 257; PUSH nat 1; LSR; NIL operation; PAIR", "0"),
        unit(
            "lsl_huge_shift",
            "nat",
            "DROP; PUSH nat 100000000000000000000; PUSH nat 1; LSL; NIL operation; PAIR",
            "0",
        ),
        unit("lsr_to_zero", "nat", "DROP; PUSH nat 256; PUSH nat 12345; LSR; NIL operation; PAIR", "5"),
        unit(
            "abs_neg_isnat_int",
            "pair nat int (option nat) (option nat) int",
            "DROP; PUSH nat 5; INT; PUSH int -3; ISNAT; PUSH int 3; ISNAT; PUSH nat 4; NEG; PUSH int -9; ABS; PAIR 5; NIL operation; PAIR",
            "Pair 0 0 None None 0",
        ),
        unit(
            "bitwise_nat",
            "pair nat nat nat int nat",
            "DROP; PUSH nat 12; PUSH int -1; AND; PUSH nat 12; NOT; PUSH nat 10; PUSH nat 12; XOR; PUSH nat 10; PUSH nat 12; OR; PUSH nat 10; PUSH nat 12; AND; PAIR 5; NIL operation; PAIR",
            "Pair 0 0 0 0 0",
        ),
        unit(
            "bitwise_negative_int",
            "pair int int nat",
            "DROP; PUSH nat 255; PUSH int -256; AND; PUSH int -7; NOT; PUSH nat 0; NOT; PAIR 3; NIL operation; PAIR",
            "Pair 0 0 0",
        ),
        unit(
            "bool_logic",
            "pair bool bool bool bool",
            "DROP; PUSH bool True; PUSH bool False; XOR; PUSH bool True; PUSH bool False; AND; PUSH bool False; PUSH bool False; OR; PUSH bool False; NOT; PAIR 4; NIL operation; PAIR",
            "Pair False False False False",
        ),
        unit(
            "timestamp_arith",
            "pair timestamp int",
            "DROP; NOW; PUSH timestamp 0; SWAP; SUB; NOW; PUSH int 60; ADD; PAIR; NIL operation; PAIR",
            "Pair 0 0",
        ),
        unit(
            "timestamp_plus_int",
            "timestamp",
            "DROP; PUSH int -86400; NOW; ADD; NIL operation; PAIR",
            "0",
        ),
        unit(
            "timestamp_minus_int",
            "timestamp",
            "DROP; PUSH int 100; NOW; SUB; NIL operation; PAIR",
            "0",
        ),
        unit(
            "timestamp_difference",
            "int",
            "DROP; PUSH timestamp \"2024-01-01T00:00:00Z\"; NOW; SUB; NIL operation; PAIR",
            "0",
        ),
        unit(
            "timestamp_before_1970",
            "timestamp",
            "DROP; PUSH timestamp 0; PUSH int -100; ADD; NIL operation; PAIR",
            "0",
        ),
        unit(
            "timestamp_year_1",
            "timestamp",
            "DROP; PUSH timestamp -62135596800; NIL operation; PAIR",
            "0",
        )
        .deviation(
            "pytezos writes year 1 as \"1-01-01T00:00:00Z\"; Octez (Ptime's RFC 3339) pads years to four digits",
            Want::Storage("\"0001-01-01T00:00:00Z\""),
        ),
        unit(
            "timestamp_year_0",
            "timestamp",
            "DROP; PUSH timestamp -62167219200; NIL operation; PAIR",
            "0",
        )
        .deviation(TIMESTAMP_RANGE, Want::Storage("\"0000-01-01T00:00:00Z\"")),
        unit(
            "timestamp_year_10000",
            "timestamp",
            "DROP; PUSH timestamp 253402300800; NIL operation; PAIR",
            "0",
        )
        .deviation(TIMESTAMP_RANGE, Want::Storage("253402300800")),
        unit(
            "timestamp_beyond_i64",
            "timestamp",
            "DROP; PUSH timestamp 100000000000000000000; NIL operation; PAIR",
            "0",
        )
        .deviation(TIMESTAMP_RANGE, Want::Storage("100000000000000000000")),
        code(
            "timestamp_parameter_rfc3339",
            "timestamp",
            "int",
            "CAR; NOW; SUB; NIL operation; PAIR",
            "\"2023-11-14T00:00:00Z\"",
            "0",
        ),
        code(
            "timestamp_parameter_offset",
            "timestamp",
            "timestamp",
            "CAR; NIL operation; PAIR",
            "\"2023-11-14T22:13:20+01:00\"",
            "0",
        ),
    ]
}

fn comparison_cases() -> Vec<Case> {
    const CMP: &str = "CAR; UNPAIR; COMPARE; DUP; EQ; SWAP; DUP; NEQ; SWAP; DUP; LT; SWAP; DUP; GT; SWAP; DUP; LE; SWAP; DUP; GE; SWAP; PAIR 7; NIL operation; PAIR";
    const TY: &str = "pair int bool bool bool bool bool bool";
    const INIT: &str = "Pair 0 False False False False False False";
    let cmp =
        |name: &'static str, ty: &str, values: &str| code(name, &format!("pair ({ty}) ({ty})"), TY, CMP, values, INIT);
    vec![
        cmp("compare_int_lt", "int", "Pair 1 5"),
        cmp("compare_int_eq", "int", "Pair 5 5"),
        cmp("compare_int_gt", "int", "Pair 9 -5"),
        cmp(
            "compare_int_big",
            "int",
            "Pair -340282366920938463463374607431768211457 -340282366920938463463374607431768211456",
        ),
        cmp("compare_nat", "nat", "Pair 3 2"),
        cmp("compare_mutez", "mutez", "Pair 0 9223372036854775807"),
        cmp("compare_bool", "bool", "Pair True False"),
        cmp("compare_unit", "unit", "Pair Unit Unit"),
        cmp("compare_string_prefix", "string", "Pair \"ab\" \"abc\""),
        cmp("compare_string_case", "string", "Pair \"B\" \"a\""),
        cmp("compare_bytes", "bytes", "Pair 0x00ff 0x01"),
        cmp("compare_bytes_prefix", "bytes", "Pair 0x01 0x0100"),
        cmp("compare_pair", "pair nat string", "Pair (Pair 1 \"b\") (Pair 1 \"a\")"),
        cmp("compare_option", "option nat", "Pair None (Some 0)"),
        cmp("compare_or", "or nat string", "Pair (Right \"a\") (Left 5)"),
        cmp("compare_or_same_side", "or nat string", "Pair (Left 7) (Left 5)"),
        cmp(
            "compare_timestamp",
            "timestamp",
            "Pair \"2023-01-01T00:00:00Z\" 1672531200",
        ),
        cmp(
            "compare_key_hash_kinds",
            "key_hash",
            &format!("Pair \"{TZ2}\" \"{TZ1}\""),
        ),
        cmp(
            "compare_key_hash_tz1",
            "key_hash",
            &format!("Pair \"{TZ1_B}\" \"{TZ1}\""),
        ),
        cmp(
            "compare_chain_id",
            "chain_id",
            "Pair \"NetXdQprcVkpaWU\" \"NetXH12Aer3be93\"",
        ),
        cmp(
            "compare_address_tz1_kt1",
            "address",
            &format!("Pair \"{KT_OTHER}\" \"{TZ1}\""),
        ),
        cmp(
            "compare_address_tz3_kt1",
            "address",
            &format!("Pair \"{TZ3}\" \"{KT_NAT}\""),
        ),
        cmp(
            "compare_address_entrypoints",
            "address",
            &format!("Pair \"{KT_OTHER}%a\" \"{KT_OTHER}\""),
        )
        .compat(),
        // pytezos orders sr1 before tz1 (string order); octez_compat fixes it.
        cmp(
            "compare_address_tz1_sr1",
            "address",
            &format!("Pair \"{TZ1}\" \"{SR_BYTES}\""),
        )
        .compat(),
        cmp(
            "compare_address_kt1_sr1",
            "address",
            &format!("Pair \"{KT_OTHER}\" \"{SR_BYTES}\""),
        )
        .compat(),
        unit(
            "compare_many",
            "list int",
            &format!(
                "DROP; NIL int;
                 PUSH string \"b\"; PUSH string \"a\"; COMPARE; CONS;
                 PUSH (pair int string) (Pair 1 \"a\"); PUSH (pair int string) (Pair 1 \"z\"); COMPARE; CONS;
                 PUSH address \"{KT_OTHER}\"; PUSH address \"{TZ1}\"; COMPARE; CONS;
                 PUSH (option nat) (Some 0); PUSH (option nat) None; COMPARE; CONS;
                 PUSH bytes 0x0001; PUSH bytes 0x01; COMPARE; CONS;
                 PUSH (or int string) (Right \"a\"); PUSH (or int string) (Left 5); COMPARE; CONS;
                 PUSH mutez 2; PUSH mutez 1; COMPARE; CONS;
                 PUSH bool True; PUSH bool False; COMPARE; CONS;
                 PUSH key_hash \"{TZ1_B}\"; PUSH key_hash \"{TZ1}\"; COMPARE; CONS;
                 NIL operation; PAIR"
            ),
            "{}",
        ),
        unit(
            "compare_non_comparable",
            "int",
            "DROP; NIL nat; NIL nat; COMPARE; NIL operation; PAIR",
            "0",
        )
        .deviation(
            "pytezos compares values of any type; Octez's COMPARE wants a comparable type",
            Want::Rejected,
        ),
    ]
}

fn string_bytes_pack_cases() -> Vec<Case> {
    vec![
        unit(
            "string_concat_slice_size",
            "pair string string (option string) (option string) nat",
            "DROP; PUSH string \"hello\"; SIZE; PUSH string \"hello\"; PUSH nat 10; PUSH nat 0; SLICE; PUSH string \"hello\"; PUSH nat 3; PUSH nat 1; SLICE; NIL string; PUSH string \"c\"; CONS; PUSH string \"b\"; CONS; PUSH string \"a\"; CONS; CONCAT; PUSH string \" world\"; PUSH string \"hello\"; CONCAT; PAIR 5; NIL operation; PAIR",
            "Pair \"\" \"\" None None 0",
        ),
        unit(
            "bytes_concat_slice_size",
            "pair bytes bytes (option bytes) nat",
            "DROP; PUSH bytes 0xdeadbeef; SIZE; PUSH bytes 0xdeadbeef; PUSH nat 2; PUSH nat 1; SLICE; NIL bytes; PUSH bytes 0xbb; CONS; PUSH bytes 0xaa; CONS; CONCAT; PUSH bytes 0x02; PUSH bytes 0x01; CONCAT; PAIR 4; NIL operation; PAIR",
            "Pair 0x 0x None 0",
        ),
        unit(
            "slice_edges",
            "pair (option string) (option string) (option string) (option bytes)",
            "DROP; PUSH bytes 0x; PUSH nat 0; PUSH nat 0; SLICE; PUSH string \"hello\"; PUSH nat 0; PUSH nat 6; SLICE; PUSH string \"hello\"; PUSH nat 1; PUSH nat 5; SLICE; PUSH string \"hello\"; PUSH nat 0; PUSH nat 5; SLICE; PAIR 4; NIL operation; PAIR",
            "Pair None None None None",
        ),
        unit(
            "concat_empty_lists",
            "pair string bytes",
            "DROP; NIL bytes; CONCAT; NIL string; CONCAT; PAIR; NIL operation; PAIR",
            "Pair \"x\" 0x00",
        ),
        unit(
            "string_escapes",
            "pair nat string",
            "DROP; PUSH string \"a\\\"b\\\\c\\nd\"; DUP; SIZE; PAIR; NIL operation; PAIR",
            "Pair 0 \"\"",
        ),
        unit(
            "string_with_tab",
            "string",
            "DROP; PUSH string \"a\\tb\"; NIL operation; PAIR",
            "\"\"",
        )
        .deviation(
            "pytezos accepts a tab in a string; Octez's strings are printable ASCII and newlines (Script_string.of_string)",
            Want::Rejected,
        ),
        code("string_non_ascii", "string", "string", "CAR; NIL operation; PAIR", "\"caf\u{e9}\"", "\"\""),
        unit(
            "slice_huge_offset",
            "option string",
            "DROP; PUSH string \"abc\"; PUSH nat 1; PUSH nat 100000000000000000000000; SLICE; NIL operation; PAIR",
            "None",
        ),
        unit(
            "size_with_newline",
            "pair nat nat",
            "DROP; PUSH bytes 0x; SIZE; PUSH string \"ab\\nc\"; SIZE; PAIR; NIL operation; PAIR",
            "Pair 0 0",
        ),
        unit(
            "pack_values",
            "list bytes",
            &format!(
                "DROP; NIL bytes;
                 PUSH nat 1; PACK; CONS; PUSH int -64; PACK; CONS; PUSH string \"abc\"; PACK; CONS;
                 PUSH (pair nat string) (Pair 1 \"a\"); PACK; CONS; PUSH address \"{TZ1}\"; PACK; CONS;
                 PUSH address \"{KT_OTHER}%foo\"; PACK; CONS; PUSH key_hash \"{TZ1}\"; PACK; CONS;
                 PUSH (lambda nat nat) {{ PUSH nat 1; ADD }}; PACK; CONS; PUSH mutez 1000000; PACK; CONS;
                 PUSH timestamp \"2023-11-14T22:13:20Z\"; PACK; CONS; PUSH (option unit) (Some Unit); PACK; CONS;
                 PUSH (list nat) {{ 1 ; 2 }}; PACK; CONS; PUSH chain_id \"NetXdQprcVkpaWU\"; PACK; CONS;
                 PUSH bytes 0xff; PACK; CONS;
                 NIL operation; PAIR"
            ),
            "{}",
        ),
        unit(
            "pack_scalars",
            "list bytes",
            "DROP; NIL bytes; PUSH unit Unit; PACK; CONS; PUSH bool True; PACK; CONS; PUSH int 0; PACK; CONS; PUSH int 123456789012345678901234567890; PACK; CONS; PUSH int -1; PACK; CONS; PUSH string \"\"; PACK; CONS; PUSH bytes 0x; PACK; CONS; PUSH (or nat string) (Right \"r\"); PACK; CONS; PUSH (option nat) None; PACK; CONS; PUSH (set nat) { 3 ; 4 }; PACK; CONS; PUSH (map string nat) { Elt \"a\" 1 }; PACK; CONS; NIL operation; PAIR",
            "{}",
        ),
        unit(
            "pack_addresses",
            "list bytes",
            &format!(
                "DROP; NIL bytes; PUSH address \"{SR_BYTES}\"; PACK; CONS; PUSH address \"{TZ2}\"; PACK; CONS; PUSH address \"{TZ3}\"; PACK; CONS; PUSH key_hash \"{TZ3}\"; PACK; CONS; PUSH address \"{KT_OTHER}\"; PACK; CONS; NIL operation; PAIR"
            ),
            "{}",
        ),
        unit(
            "pack_combs",
            "list bytes",
            "DROP; NIL bytes; PUSH (pair nat nat nat) (Pair 1 2 3); PACK; CONS; PUSH (pair (pair nat nat) nat) (Pair (Pair 1 2) 3); PACK; CONS; PUSH (list (pair nat nat nat)) { Pair 1 2 3 }; PACK; CONS; NIL operation; PAIR",
            "{}",
        ),
        // `Pair 1 (Pair 2 (Pair 3 4))`: 05 0707 0001 0707 0002 0707 0003 0004.
        unit(
            "pack_comb_of_four",
            "bytes",
            "DROP; PUSH (pair nat nat nat nat) (Pair 1 2 3 4); PACK; NIL operation; PAIR",
            "0x",
        )
        .deviation(
            "pytezos packs combs of four or more as sequences (Optimized); Octez's PACK writes nested pairs (Optimized_legacy)",
            Want::Storage("0x050707000107070002070700030004"),
        ),
        unit(
            "pack_lambda",
            "bytes",
            "DROP; LAMBDA (pair nat nat) nat { UNPAIR; ADD }; PACK; NIL operation; PAIR",
            "0x",
        ),
        unit(
            "pack_applied_lambda",
            "bytes",
            "DROP; LAMBDA (pair nat nat) nat { UNPAIR; ADD }; PUSH nat 5; APPLY; PACK; NIL operation; PAIR",
            "0x",
        ),
        // `{ DROP ; PUSH address 0x0000… }`: 0502 00000021 0320 0743 036e 0a 00000016 0000….
        unit(
            "pack_lambda_push_address",
            "bytes",
            &format!("DROP; LAMBDA unit address {{ DROP; PUSH address \"{TZ1}\" }}; PACK; NIL operation; PAIR"),
            "0x",
        )
        .deviation(
            LAMBDA_AS_WRITTEN,
            Want::Storage("0x05020000002103200743036e0a00000016000002298c03ed7d454a101eb7022bc95f7e5f41ac78"),
        ),
        unit(
            "unpack_values",
            "pair (option (pair nat string)) (option nat) (option address) (option string)",
            &format!(
                "DROP; PUSH bytes 0x0501000000036162; UNPACK string; PUSH address \"{TZ1}\"; PACK; UNPACK address; PUSH bytes 0x0500; UNPACK nat; PUSH (pair nat string) (Pair 1 \"a\"); PACK; UNPACK (pair nat string); PAIR 4; NIL operation; PAIR"
            ),
            "Pair None None None None",
        ),
        unit(
            "unpack_roundtrips",
            "pair (option (list int)) (option (or nat string)) (option (map string nat)) (option timestamp) (option mutez) (option (set address))",
            &format!(
                "DROP; PUSH (set address) {{ \"{TZ1}\" ; \"{KT_OTHER}\" }}; PACK; UNPACK (set address); PUSH mutez 1000000; PACK; UNPACK mutez; PUSH timestamp \"2023-11-14T22:13:20Z\"; PACK; UNPACK timestamp; PUSH (map string nat) {{ Elt \"a\" 1 ; Elt \"b\" 2 }}; PACK; UNPACK (map string nat); PUSH (or nat string) (Right \"x\"); PACK; UNPACK (or nat string); PUSH (list int) {{ -1 ; 0 ; 1 }}; PACK; UNPACK (list int); PAIR 6; NIL operation; PAIR"
            ),
            "Pair None None None None None None",
        ),
        unit(
            "unpack_wrong_type",
            "pair (option nat) (option string) (option bytes)",
            "DROP; PUSH int -1; PACK; UNPACK bytes; PUSH int 5; PACK; UNPACK string; PUSH int -1; PACK; UNPACK nat; PAIR 3; NIL operation; PAIR",
            "Pair None None None",
        ),
        unit(
            "unpack_malformed",
            "pair (option nat) (option nat) (option nat) (option string)",
            "DROP; PUSH bytes 0x050001; UNPACK string; PUSH bytes 0x; UNPACK nat; PUSH bytes 0x0600; UNPACK nat; PUSH bytes 0x050000; UNPACK nat; PAIR 4; NIL operation; PAIR",
            "Pair None None None None",
        ),
        unit(
            "unpack_trailing_bytes",
            "option nat",
            "DROP; PUSH bytes 0x05000100; UNPACK nat; NIL operation; PAIR",
            "None",
        ),
        unit(
            "unpack_comb_forms",
            "pair (option (pair nat nat nat)) (option (pair nat nat nat)) (option (pair nat nat nat))",
            "DROP; PUSH bytes 0x0507070001070700020003; UNPACK (pair nat nat nat); PUSH bytes 0x050200000006000100020003; UNPACK (pair nat nat nat); PUSH bytes 0x0509070000000600010002000300000000; UNPACK (pair nat nat nat); PAIR 3; NIL operation; PAIR",
            "Pair None None None",
        ),
        unit(
            "unpack_lambda_and_exec",
            "nat",
            "DROP; LAMBDA nat nat { PUSH nat 2; MUL }; PACK; UNPACK (lambda nat nat); ASSERT_SOME; PUSH nat 21; EXEC; NIL operation; PAIR",
            "0",
        ),
        unit(
            "unpack_address_entrypoint",
            "option address",
            &format!("DROP; PUSH address \"{KT_OTHER}%foo\"; PACK; UNPACK address; NIL operation; PAIR"),
            "None",
        ),
        unit(
            "unpack_contract_type",
            "unit",
            "DROP; PUSH bytes 0x05; UNPACK (contract unit); DROP; UNIT; NIL operation; PAIR",
            "Unit",
        )
        .deviation(
            "pytezos accepts UNPACK (contract _); Octez forbids contract types in UNPACK (parse_packable_ty)",
            Want::Rejected,
        ),
    ]
}

fn control_cases() -> Vec<Case> {
    const LOOP: &str = "CAR; PUSH nat 0; SWAP; DUP; INT; NEQ; LOOP { DUP; DIP { ADD }; PUSH int 1; SWAP; SUB; ABS; DUP; INT; NEQ }; DROP; NIL operation; PAIR";
    const LOOP_LEFT: &str =
        "CAR; LEFT int; LOOP_LEFT { DUP; GT; IF { PUSH int 1; SWAP; SUB; LEFT int } { RIGHT int } }; NIL operation; PAIR";
    vec![
        unit(
            "lambda_exec_apply",
            "pair int int",
            "DROP; LAMBDA (pair int int) int { UNPAIR; SUB }; DUP; PUSH int 10; APPLY; PUSH int 3; EXEC; SWAP; PUSH (pair int int) (Pair 1 2); EXEC; PAIR; NIL operation; PAIR",
            "Pair 0 0",
        ),
        unit(
            "lambda_apply_comb",
            "string",
            "DROP; LAMBDA (pair string nat string) string { UNPAIR 3; SWAP; DROP; CONCAT }; PUSH string \"a\"; APPLY; PUSH (pair nat string) (Pair 1 \"b\"); EXEC; NIL operation; PAIR",
            "\"\"",
        ),
        unit(
            "lambda_apply_twice",
            "int",
            "DROP; LAMBDA (pair int int int) int { UNPAIR 3; SUB; SUB }; PUSH int 10; APPLY; PUSH int 3; APPLY; PUSH int 1; EXEC; NIL operation; PAIR",
            "0",
        ),
        unit(
            "lambda_applied_address_stored",
            "lambda unit address",
            &format!("DROP; LAMBDA (pair address unit) address {{ CAR }}; PUSH address \"{TZ1}\"; APPLY; NIL operation; PAIR"),
            "{ DROP; SELF_ADDRESS }",
        ),
        unit(
            "lambda_push_bytes_address_stored",
            "lambda unit address",
            "DROP; LAMBDA unit address { DROP; PUSH address 0x000002298c03ed7d454a101eb7022bc95f7e5f41ac78 }; NIL operation; PAIR",
            "{ DROP; SELF_ADDRESS }",
        )
        .deviation(
            LAMBDA_AS_WRITTEN,
            Want::Storage(concat!("{ DROP ; PUSH address \"", "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx", "\" }")),
        ),
        unit(
            "lambda_applied_stored",
            "lambda nat nat",
            "DROP; LAMBDA (pair nat nat) nat { UNPAIR; ADD }; PUSH nat 5; APPLY; NIL operation; PAIR",
            "{}",
        ),
        code(
            "lambda_from_storage",
            "nat",
            "pair (lambda nat nat) nat",
            "UNPAIR; SWAP; UNPAIR; DUP; DIG 3; EXEC; DIG 2; DROP; SWAP; PAIR; NIL operation; PAIR",
            "4",
            "Pair { DUP; MUL } 0",
        ),
        unit(
            "lambda_returns_lambda",
            "nat",
            "DROP; LAMBDA nat (lambda nat nat) { LAMBDA (pair nat nat) nat { UNPAIR; MUL }; SWAP; APPLY }; PUSH nat 6; EXEC; PUSH nat 7; EXEC; NIL operation; PAIR",
            "0",
        ),
        code("cast_same_type", "nat", "nat", "CAR; CAST nat; RENAME; NIL operation; PAIR", "3", "0"),
        code("cast_other_type", "nat", "nat", "CAR; CAST int; DROP; PUSH nat 1; NIL operation; PAIR", "3", "0")
            .deviation("pytezos' CAST is a no-op; Octez checks the type", Want::Rejected),
        code("loop_sum", "nat", "nat", LOOP, "10", "0"),
        code("loop_zero_iterations", "nat", "nat", LOOP, "0", "7"),
        code("loop_1000", "nat", "nat", LOOP, "1000", "0"),
        code("loop_left", "int", "int", LOOP_LEFT, "5", "5"),
        code("loop_left_immediate", "int", "int", LOOP_LEFT, "-3", "5"),
        code("iter_empty", "list nat", "nat", "UNPAIR; ITER { ADD }; NIL operation; PAIR", "{}", "7"),
        code("iter_with_storage", "list nat", "nat", "UNPAIR; ITER { ADD }; NIL operation; PAIR", "{ 1 ; 2 ; 3 }", "7"),
        code(
            "if_true",
            "bool",
            "string",
            "CAR; IF { PUSH string \"yes\" } { PUSH string \"no\" }; NIL operation; PAIR",
            "True",
            "\"\"",
        ),
        code(
            "if_false",
            "bool",
            "string",
            "CAR; IF { PUSH string \"yes\" } { PUSH string \"no\" }; NIL operation; PAIR",
            "False",
            "\"\"",
        ),
        code(
            "if_nested",
            "pair bool bool",
            "nat",
            "CAR; UNPAIR; IF { IF { PUSH nat 3 } { PUSH nat 2 } } { IF { PUSH nat 1 } { PUSH nat 0 } }; NIL operation; PAIR",
            "Pair True False",
            "9",
        ),
        unit(
            "failwith_pair",
            "unit",
            "DROP; PUSH (pair string nat) (Pair \"err\" 42); FAILWITH",
            "Unit",
        ),
        unit(
            "failwith_in_lambda_in_dip",
            "unit",
            &format!("DROP; PUSH nat 1; DIP {{ LAMBDA unit unit {{ DROP; PUSH (option address) (Some \"{TZ1}\"); FAILWITH }}; UNIT; EXEC }}; FAILWITH"),
            "Unit",
        )
        .failwith_ty("option address"),
        unit(
            "failwith_unit_in_if",
            "unit",
            "DROP; PUSH bool True; IF { UNIT; FAILWITH } { UNIT; NIL operation; PAIR }",
            "Unit",
        ),
        code("failwith_nat_parameter", "nat", "nat", "CAR; FAILWITH", "42", "0"),
        unit("failwith_string", "unit", "DROP; PUSH string \"boom\"; FAILWITH", "Unit"),
        unit("failwith_list", "unit", "DROP; PUSH (list nat) { 1 ; 2 }; FAILWITH", "Unit"),
        unit("failwith_or", "unit", "DROP; PUSH (or nat string) (Right \"e\"); FAILWITH", "Unit"),
        unit("failwith_bytes", "unit", "DROP; PUSH bytes 0xdead; FAILWITH", "Unit"),
        unit("failwith_lambda", "unit", "DROP; LAMBDA nat nat { PUSH nat 1; ADD }; FAILWITH", "Unit"),
        unit("failwith_mutez", "unit", "DROP; AMOUNT; FAILWITH", "Unit").amount(77),
        unit("failwith_timestamp", "unit", "DROP; NOW; FAILWITH", "Unit").failwith_ty("timestamp"),
        unit("failwith_address", "unit", "DROP; SENDER; FAILWITH", "Unit").failwith_ty("address"),
        unit("failwith_chain_id", "unit", "DROP; CHAIN_ID; FAILWITH", "Unit").failwith_ty("chain_id"),
        unit(
            "failwith_comb3",
            "unit",
            "DROP; PUSH (pair nat string bool) (Pair 1 \"a\" True); FAILWITH",
            "Unit",
        )
        .failwith_ty("pair nat string bool"),
        unit(
            "failwith_comb4",
            "unit",
            "DROP; PUSH (pair nat nat nat nat) (Pair 1 2 3 4); FAILWITH",
            "Unit",
        )
        .failwith_ty("pair nat nat nat nat"),
        code(
            "failwith_in_iter",
            "list nat",
            "nat",
            "CAR; PUSH nat 0; SWAP; ITER { DUP; PUSH nat 2; COMPARE; EQ; IF { FAILWITH } { ADD } }; NIL operation; PAIR",
            "{ 1 ; 2 ; 3 }",
            "0",
        ),
        code(
            "failwith_in_map",
            "list nat",
            "list nat",
            "CAR; MAP { DUP; PUSH nat 3; COMPARE; EQ; IF { FAILWITH } {} }; NIL operation; PAIR",
            "{ 1 ; 3 }",
            "{}",
        ),
        code(
            "failwith_in_loop",
            "nat",
            "nat",
            "CAR; PUSH bool True; LOOP { PUSH nat 1; SWAP; SUB; ISNAT; IF_NONE { PUSH string \"negative\"; FAILWITH } { PUSH bool True } }; NIL operation; PAIR",
            "3",
            "0",
        ),
    ]
}

fn ill_typed_cases() -> Vec<Case> {
    vec![
        code("storage_comb_as_sequence", "unit", "pair nat nat nat", "CDR; NIL operation; PAIR", "Unit", "{ 1 ; 2 ; 3 }"),
        code(
            "storage_flat_pair_for_left_comb",
            "unit",
            "pair (pair nat nat) nat",
            "CDR; NIL operation; PAIR",
            "Unit",
            "Pair 1 2 3",
        ),
        code("storage_negative_mutez", "unit", "mutez", "CDR; NIL operation; PAIR", "Unit", "-1"),
        code("storage_some_two_args", "unit", "option nat", "CDR; NIL operation; PAIR", "Unit", "Some 1 2"),
        // Optimized forms: addresses, a timestamp and a chain id as bytes or an integer.
        code(
            "storage_optimized_literals",
            "unit",
            "pair address address timestamp chain_id",
            "CDR; NIL operation; PAIR",
            "Unit",
            "Pair 0x000002298c03ed7d454a101eb7022bc95f7e5f41ac78 0x01e23f94166aa518a037d11c2af05984c36b08f7cc00666f6f 1700000000 0x7a06a770",
        ),
        code(
            "storage_optimized_key_hash",
            "unit",
            "key_hash",
            "CDR; NIL operation; PAIR",
            "Unit",
            "0x0002298c03ed7d454a101eb7022bc95f7e5f41ac78",
        )
        .deviation(
            "pytezos cannot read a key_hash written as bytes (its own PACK form); Octez can (parse_key_hash)",
            Want::Storage("\"tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx\""),
        ),
        code(
            "dead_branch_type_error",
            "nat",
            "nat",
            "CAR; PUSH bool True; IF { } { PUSH string \"x\"; ADD }; NIL operation; PAIR",
            "1",
            "0",
        )
        .deviation(NO_STATIC_TYPECHECK, Want::Rejected),
        unit(
            "unmatched_branches",
            "nat",
            "DROP; PUSH bool True; IF { PUSH nat 1 } { PUSH int 1 }; NIL operation; PAIR",
            "0",
        )
        .deviation(NO_STATIC_TYPECHECK, Want::Rejected),
        code(
            "loop_body_changes_stack",
            "nat",
            "nat",
            "CAR; PUSH bool False; LOOP { PUSH string \"x\"; PUSH bool False }; NIL operation; PAIR",
            "1",
            "0",
        )
        .deviation(NO_STATIC_TYPECHECK, Want::Rejected),
        unit(
            "failwith_not_in_tail",
            "unit",
            "DROP; UNIT; FAILWITH; UNIT; NIL operation; PAIR",
            "Unit",
        )
        .deviation(NO_STATIC_TYPECHECK, Want::Rejected),
        unit(
            "map_body_always_fails",
            "list nat",
            "DROP; NIL nat; PUSH nat 1; CONS; MAP { FAILWITH }; NIL operation; PAIR",
            "{}",
        )
        .deviation(
            "Octez rejects a MAP body that always fails (Invalid_map_block_fail); pytezos only runs it",
            Want::Rejected,
        ),
        unit(
            "self_in_lambda",
            "unit",
            "DROP; LAMBDA unit unit { DROP; SELF; DROP; UNIT }; DROP; UNIT; NIL operation; PAIR",
            "Unit",
        )
        .deviation(NO_STATIC_TYPECHECK, Want::Rejected),
        unit(
            "lambda_ill_typed_body",
            "unit",
            "DROP; LAMBDA nat string { }; DROP; UNIT; NIL operation; PAIR",
            "Unit",
        )
        .deviation(NO_STATIC_TYPECHECK, Want::Rejected),
        unit(
            "push_contract",
            "address",
            &format!("DROP; PUSH (contract unit) \"{TZ1}\"; ADDRESS; NIL operation; PAIR"),
            &format!("\"{TZ1}\""),
        )
        .deviation("pytezos allows PUSH of a contract; Octez's PUSH takes no contract type", Want::Rejected),
        unit("wrong_final_storage_type", "nat", "DROP; PUSH int 1; NIL operation; PAIR", "0"),
        unit(
            "extra_stack_item_at_end",
            "nat",
            "DROP; PUSH nat 1; PUSH nat 2; NIL operation; PAIR",
            "0",
        ),
        unit(
            "ill_typed_add",
            "nat",
            "DROP; PUSH string \"x\"; PUSH nat 1; ADD; NIL operation; PAIR",
            "0",
        ),
        unit("push_ill_typed", "nat", "DROP; PUSH nat -1; NIL operation; PAIR", "0"),
        unit("data_constructor_as_instruction", "nat", "DROP; Pair; NIL operation; PAIR", "0"),
        unit("failwith_operation_list", "unit", "DROP; NIL operation; FAILWITH", "Unit"),
        code("storage_ill_typed", "unit", "nat", "CDR; NIL operation; PAIR", "Unit", "\"x\""),
        code("storage_contract_type", "unit", "contract unit", "CDR; NIL operation; PAIR", "Unit", &format!("\"{TZ1}\""))
            .deviation(STORAGE_TYPE, Want::Rejected),
        code("storage_operation_type", "unit", "list operation", "CDR; NIL operation; PAIR", "Unit", "{}")
            .deviation(STORAGE_TYPE, Want::Rejected),
        script("missing_code_section", "parameter unit; storage unit", "Unit", "Unit"),
    ]
}

const EDPK: &str = "edpkuyJjrAjhtkNSPaprh1KEHJutAaTzDvpw3BymonH2J8wPgBEhKp";
const SPPK: &str = "sppk7cnpRAYH1H9bvXbA8QgDsZkwHae82cCACvXyTad32pSTPZ5rpkM";
const P2PK: &str = "p2pk66sXXySnhTCFvV9y8UxwRwFiRYtnX1QJ5QmvGfdQANgPLYi5Tgb";
/// Signatures of `0x050100000003616263` (PACK "abc") by the keys above,
/// made with pytezos.
const EDSIG: &str =
    "edsigtobve7pAvmmTq6hd1rAmzN4j9oQs29S1tLXG87h6PFoWt3J5MtzeLQiR79ZDXUbwKpDLCZHc6Fd3HWYpA61aVY9mwCa8po";
const SPSIG: &str =
    "spsig1NzDmF5kzvYBMjgSNRNQT4c1tjfdkxfF57WmUNwqbnqjTchMj4uDkQa8WwE7anahW9H5x2TAVTantvQp8i5ykSCBvTpkBn";
const P2SIG: &str =
    "p2sigRieF9QsdqZcDgSnQY1jecpkSovLMb37335E1ZqyQhZshxpMexaMYJDTMhjGr4yfuQZxYsR21jxSeaZnQ8LjHBEdQ5hkoa";

fn crypto_cases() -> Vec<Case> {
    const CHECK: &str = "CAR; UNPAIR 3; CHECK_SIGNATURE; NIL operation; PAIR";
    const CHECK_TY: &str = "pair key signature bytes";
    let check = |name: &'static str, key: &str, signature: &str, message: &str| {
        code(
            name,
            CHECK_TY,
            "bool",
            CHECK,
            &format!("Pair \"{key}\" \"{signature}\" {message}"),
            "False",
        )
    };
    vec![
        unit(
            "hash_key_each_curve",
            "pair key_hash key_hash key_hash",
            &format!("DROP; PUSH key \"{P2PK}\"; HASH_KEY; PUSH key \"{SPPK}\"; HASH_KEY; PUSH key \"{EDPK}\"; HASH_KEY; PAIR 3; NIL operation; PAIR"),
            &format!("Pair \"{TZ1}\" \"{TZ1}\" \"{TZ1}\""),
        ),
        unit(
            "hashes",
            "pair bytes bytes bytes",
            "DROP; PUSH bytes 0x61; DUP; SHA512; DIP { DUP; SHA256; DIP { BLAKE2B } }; PAIR 3; NIL operation; PAIR",
            "Pair 0x 0x 0x",
        ),
        check("check_signature_ed25519", EDPK, EDSIG, "0x050100000003616263"),
        check("check_signature_secp256k1", SPPK, SPSIG, "0x050100000003616263"),
        check("check_signature_p256", P2PK, P2SIG, "0x050100000003616263"),
        check("check_signature_other_message", EDPK, EDSIG, "0x050100000003616264"),
        check("check_signature_other_key", SPPK, P2SIG, "0x050100000003616263"),
        check("check_signature_curve_mismatch", EDPK, SPSIG, "0x050100000003616263"),
        code(
            "compare_keys",
            "pair key key",
            "int",
            "CAR; UNPAIR; COMPARE; NIL operation; PAIR",
            &format!("Pair \"{SPPK}\" \"{EDPK}\""),
            "0",
        ),
        unit(
            "pack_keys_signatures",
            "list bytes",
            &format!("DROP; NIL bytes; PUSH key \"{EDPK}\"; PACK; CONS; PUSH key \"{SPPK}\"; PACK; CONS; PUSH key \"{P2PK}\"; PACK; CONS; PUSH signature \"{EDSIG}\"; PACK; CONS; NIL operation; PAIR"),
            "{}",
        ),
        code(
            "keys_in_storage",
            "unit",
            "pair key signature",
            "CDR; NIL operation; PAIR",
            "Unit",
            &format!("Pair \"{P2PK}\" \"{P2SIG}\""),
        ),
    ]
}

fn env_cases() -> Vec<Case> {
    vec![
        code(
            "self_default_is_root",
            "or nat string",
            "option address",
            "CDR; DROP; SELF %default; ADDRESS; SOME; NIL operation; PAIR",
            "Left 1",
            "None",
        ),
        code(
            "self_unknown_entrypoint",
            "or (nat %a) (unit %b)",
            "unit",
            "CDR; SELF %zzz; DROP; NIL operation; PAIR",
            "Unit",
            "Unit",
        )
        .entrypoint("b"),
        unit(
            "env_values",
            "pair address address mutez mutez timestamp nat address chain_id",
            "DROP; CHAIN_ID; SELF_ADDRESS; LEVEL; NOW; BALANCE; AMOUNT; SOURCE; SENDER; PAIR 8; NIL operation; PAIR",
            &format!("Pair \"{TZ1}\" \"{TZ1}\" 0 0 0 0 \"{TZ1}\" \"NetXdQprcVkpaWU\""),
        )
        .amount(1_000_000),
        unit(
            "env_sender_contract",
            "pair address address",
            "DROP; SOURCE; SENDER; PAIR; NIL operation; PAIR",
            &format!("Pair \"{TZ1}\" \"{TZ1}\""),
        )
        .sender(KT_NAT),
        unit(
            "env_sender_rollup",
            "address",
            "DROP; SENDER; NIL operation; PAIR",
            &format!("\"{TZ1}\""),
        )
        .sender(SR_PAIR),
        unit("env_amount_zero", "mutez", "DROP; AMOUNT; NIL operation; PAIR", "5"),
        unit(
            "env_balance_includes_amount",
            "mutez",
            "DROP; BALANCE; NIL operation; PAIR",
            "0",
        )
        .amount(250),
        unit(
            "env_self_address_is_self",
            "pair int address",
            "DROP; SELF; ADDRESS; SELF_ADDRESS; DUP; DIP { COMPARE }; SWAP; PAIR; NIL operation; PAIR",
            &format!("Pair 1 \"{TZ1}\""),
        ),
        unit(
            "env_other_self_address",
            "address",
            "DROP; SELF_ADDRESS; NIL operation; PAIR",
            &format!("\"{TZ1}\""),
        )
        .self_address(KT_NAT),
        // pytezos' ADDRESS drops the entrypoint; octez_compat keeps it.
        code(
            "self_entrypoint_address",
            "or (nat %a) (unit %b)",
            "address",
            "DROP; SELF %a; ADDRESS; NIL operation; PAIR",
            "Unit",
            &format!("\"{TZ1}\""),
        )
        .entrypoint("b")
        .compat(),
        code(
            "self_transfer",
            "or (nat %a) (unit %b)",
            "unit",
            "CDR; SELF %a; PUSH mutez 0; PUSH nat 3; TRANSFER_TOKENS; NIL operation; SWAP; CONS; PAIR",
            "Unit",
            "Unit",
        )
        .entrypoint("b"),
    ]
}

fn contract_cases() -> Vec<Case> {
    const FOO: &str = "parameter address; storage unit; code { CAR; CONTRACT %foo nat; IF_NONE { PUSH string \"no contract\"; FAILWITH } { PUSH mutez 5; PUSH nat 42; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR } }";
    const NAT_ADDRESS: &str = "parameter address; storage (option address); code { CAR; CONTRACT nat; IF_NONE { NONE address } { ADDRESS; SOME }; NIL operation; PAIR }";
    const UNIT_TRANSFER: &str = "parameter address; storage unit; code { CAR; CONTRACT unit; IF_NONE { PUSH string \"no contract\"; FAILWITH } { PUSH mutez 7; UNIT; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR } }";
    let addr = |a: &str| format!("\"{a}\"");
    vec![
        script("contract_foo_known", FOO, &addr(KT_OTHER), "Unit"),
        script("contract_foo_unknown", FOO, &addr(KT_UNKNOWN), "Unit"),
        script("contract_foo_wrong_type", FOO, &addr(KT_UNKNOWN), "Unit")
            .contract(KT_UNKNOWN, "or (int %foo) (string %bar)"),
        script("contract_foo_implicit", FOO, &addr(TZ1), "Unit"),
        script("contract_foo_rollup", FOO, &addr(SR_BYTES), "Unit"),
        script("contract_foo_address_other_entrypoint", FOO, &format!("\"{KT_OTHER}%bar\""), "Unit"),
        script("contract_foo_address_same_entrypoint", FOO, &format!("\"{KT_OTHER}%foo\""), "Unit").deviation(
            "the harness' strict CONTRACT accepts an address entrypoint equal to the annotation; Octez gives None whenever both name one (IContract in script_interpreter.ml)",
            Want::Failwith("\"no contract\""),
        ),
        script("contract_address_entrypoint", NAT_ADDRESS, &format!("\"{KT_OTHER}%foo\""), "None").compat(),
        script("contract_address_of_default", NAT_ADDRESS, &addr(KT_NAT), "None").compat(),
        script("contract_nat_unknown", NAT_ADDRESS, &addr(KT_UNKNOWN), "None"),
        script("contract_explicit_default", NAT_ADDRESS, &addr(KT_UNKNOWN), "None")
            .contract(KT_UNKNOWN, "or (nat %default) (string %other)")
            .compat(),
        script(
            "contract_explicit_default_root_type",
            "parameter address; storage (option address); code { CAR; CONTRACT (or nat string); IF_NONE { NONE address } { ADDRESS; SOME }; NIL operation; PAIR }",
            &addr(KT_UNKNOWN),
            "None",
        )
        .contract(KT_UNKNOWN, "or (nat %default) (string %other)"),
        script("contract_nat_wrong_root_type", NAT_ADDRESS, &addr(KT_OTHER), "None"),
        script(
            "contract_root_type_default",
            "parameter address; storage unit; code { CAR; CONTRACT (or nat string); IF_NONE { PUSH string \"no contract\"; FAILWITH } { PUSH mutez 0; PUSH (or nat string) (Right \"hi\"); TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR } }",
            &addr(KT_OTHER),
            "Unit",
        ),
        script(
            "contract_default_annotation",
            "parameter address; storage unit; code { CAR; CONTRACT %default nat; IF_NONE { PUSH string \"no contract\"; FAILWITH } { PUSH mutez 1; PUSH nat 0; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR } }",
            &addr(KT_NAT),
            "Unit",
        ),
        script("contract_unit_implicit_tz1", UNIT_TRANSFER, &addr(TZ1), "Unit"),
        script("contract_unit_implicit_tz2", UNIT_TRANSFER, &addr(TZ2), "Unit"),
        script("contract_unit_implicit_tz3", UNIT_TRANSFER, &addr(TZ3), "Unit"),
        script("contract_unit_originated", UNIT_TRANSFER, &addr(KT_NAT), "Unit"),
        script("contract_unit_entrypoint_in_address", UNIT_TRANSFER, &format!("\"{KT_TICKETS}%ping\""), "Unit"),
        script("contract_unit_rollup", UNIT_TRANSFER, &addr(SR_BYTES), "Unit"),
        script(
            "contract_self_lookup",
            "parameter (or (nat %a) (unit %b)); storage unit; code { CDR; SELF_ADDRESS; CONTRACT %a nat; IF_NONE { PUSH string \"no contract\"; FAILWITH } { PUSH mutez 2; PUSH nat 8; TRANSFER_TOKENS; NIL operation; SWAP; CONS; PAIR } }",
            "Unit",
            "Unit",
        )
        .entrypoint("b")
        .contract(SELF, "or (nat %a) (unit %b)"),
        unit(
            "implicit_account_address",
            "address",
            &format!("DROP; PUSH key_hash \"{TZ2}\"; IMPLICIT_ACCOUNT; ADDRESS; NIL operation; PAIR"),
            &addr(TZ1),
        ),
        unit(
            "implicit_account_transfers",
            "unit",
            &format!(
                "DROP; PUSH address \"{TZ1}\"; CONTRACT unit; ASSERT_SOME; PUSH mutez 7; UNIT; TRANSFER_TOKENS; PUSH key_hash \"{TZ3}\"; IMPLICIT_ACCOUNT; PUSH mutez 8; UNIT; TRANSFER_TOKENS; NIL operation; SWAP; CONS; SWAP; CONS; UNIT; SWAP; PAIR"
            ),
            "Unit",
        ),
        unit(
            "transfer_amount_to_sender",
            "unit",
            "DROP; SENDER; CONTRACT unit; ASSERT_SOME; AMOUNT; UNIT; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR",
            "Unit",
        )
        .amount(1234),
        unit(
            "transfer_max_mutez",
            "unit",
            &format!("DROP; PUSH address \"{KT_NAT}\"; CONTRACT nat; ASSERT_SOME; PUSH mutez 9223372036854775807; PUSH nat 1; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR"),
            "Unit",
        ),
        unit(
            "transfer_three_operations",
            "unit",
            &format!(
                "DROP; NIL operation; PUSH address \"{KT_NAT}\"; CONTRACT nat; ASSERT_SOME; PUSH mutez 1; PUSH nat 1; TRANSFER_TOKENS; CONS; PUSH address \"{KT_OTHER}%bar\"; CONTRACT string; ASSERT_SOME; PUSH mutez 2; PUSH string \"two\"; TRANSFER_TOKENS; CONS; PUSH address \"{SR_BYTES}\"; CONTRACT bytes; ASSERT_SOME; PUSH mutez 0; PUSH bytes 0x03; TRANSFER_TOKENS; CONS; UNIT; SWAP; PAIR"
            ),
            "Unit",
        ),
        unit(
            "transfer_tokens_ill_typed",
            "unit",
            &format!("DROP; PUSH address \"{KT_NAT}\"; CONTRACT nat; ASSERT_SOME; PUSH mutez 0; PUSH string \"x\"; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR"),
            "Unit",
        ),
    ]
}

fn ticket_cases() -> Vec<Case> {
    let ticket = |ticketer: &str, contents: &str, amount: u32| format!("Pair \"{ticketer}\" {contents} {amount}");
    vec![
        unit(
            "ticket_mint_read",
            "pair nat (pair address string nat)",
            "DROP; PUSH nat 10; PUSH string \"t\"; TICKET; ASSERT_SOME; READ_TICKET; SWAP; DROP; PUSH nat 1; PAIR; NIL operation; PAIR",
            &format!("Pair 0 \"{TZ1}\" \"\" 0"),
        ),
        unit(
            "ticket_split_read",
            "pair nat nat",
            "DROP; PUSH nat 10; PUSH string \"t\"; TICKET; ASSERT_SOME; PUSH (pair nat nat) (Pair 3 7); SWAP; SPLIT_TICKET; ASSERT_SOME; UNPAIR; READ_TICKET; CDR; CDR; DIP { DROP }; SWAP; READ_TICKET; CDR; CDR; DIP { DROP }; PAIR; NIL operation; PAIR",
            "Pair 0 0",
        ),
        unit(
            "ticket_split_join",
            "pair address string nat",
            "DROP; PUSH nat 10; PUSH string \"t\"; TICKET; ASSERT_SOME; PUSH (pair nat nat) (Pair 3 7); SWAP; SPLIT_TICKET; ASSERT_SOME; JOIN_TICKETS; ASSERT_SOME; READ_TICKET; DIP { DROP }; NIL operation; PAIR",
            &format!("Pair \"{TZ1}\" \"\" 0"),
        ),
        unit(
            "ticket_split_store",
            "pair (ticket string) (ticket string)",
            "DROP; PUSH nat 10; PUSH string \"t\"; TICKET; ASSERT_SOME; PUSH (pair nat nat) (Pair 3 7); SWAP; SPLIT_TICKET; ASSERT_SOME; NIL operation; PAIR",
            &format!("Pair ({}) ({})", ticket(KT_OTHER, "\"x\"", 1), ticket(KT_OTHER, "\"x\"", 1)),
        ),
        unit(
            "ticket_storage_passthrough",
            "option (ticket string)",
            "CDR; NIL operation; PAIR",
            &format!("Some ({})", ticket(KT_OTHER, "\"x\"", 5)),
        ),
        unit(
            "ticket_zero_amount",
            "bool",
            "DROP; PUSH nat 0; PUSH string \"t\"; TICKET; IF_NONE { PUSH bool True } { DROP; PUSH bool False }; NIL operation; PAIR",
            "False",
        ),
        // pytezos splits off a zero ticket; octez_compat gives None.
        unit(
            "ticket_split_zero",
            "bool",
            "DROP; PUSH nat 10; PUSH string \"t\"; TICKET; ASSERT_SOME; PUSH (pair nat nat) (Pair 0 10); SWAP; SPLIT_TICKET; IF_NONE { PUSH bool True } { DROP; PUSH bool False }; NIL operation; PAIR",
            "False",
        )
        .compat(),
        unit(
            "ticket_split_bad_sum",
            "bool",
            "DROP; PUSH nat 10; PUSH string \"t\"; TICKET; ASSERT_SOME; PUSH (pair nat nat) (Pair 3 3); SWAP; SPLIT_TICKET; IF_NONE { PUSH bool True } { DROP; PUSH bool False }; NIL operation; PAIR",
            "False",
        ),
        unit(
            "ticket_join_other_contents",
            "bool",
            "DROP; PUSH nat 1; PUSH string \"a\"; TICKET; ASSERT_SOME; PUSH nat 1; PUSH string \"b\"; TICKET; ASSERT_SOME; PAIR; JOIN_TICKETS; IF_NONE { PUSH bool True } { DROP; PUSH bool False }; NIL operation; PAIR",
            "False",
        ),
        code(
            "ticket_join_other_ticketer",
            "ticket string",
            "bool",
            "CAR; PUSH nat 1; PUSH string \"x\"; TICKET; ASSERT_SOME; PAIR; JOIN_TICKETS; IF_NONE { PUSH bool True } { DROP; PUSH bool False }; NIL operation; PAIR",
            &ticket(KT_OTHER, "\"x\"", 5),
            "False",
        ),
        code(
            "ticket_join_from_parameter",
            "pair (ticket string) (ticket string)",
            "option (ticket string)",
            "CAR; JOIN_TICKETS; NIL operation; PAIR",
            &format!("Pair ({}) ({})", ticket(KT_OTHER, "\"x\"", 2), ticket(KT_OTHER, "\"x\"", 3)),
            "None",
        ),
        unit(
            "ticket_minted_into_storage",
            "option (ticket string)",
            "DROP; PUSH nat 4; PUSH string \"s\"; TICKET; NIL operation; PAIR",
            "None",
        ),
        code(
            "ticket_from_parameter_read",
            "ticket string",
            "pair address string nat",
            "CAR; READ_TICKET; SWAP; DROP; NIL operation; PAIR",
            &ticket(KT_OTHER, "\"x\"", 5),
            &format!("Pair \"{TZ1}\" \"\" 0"),
        ),
        code(
            "ticket_parameter_zero_amount",
            "ticket string",
            "unit",
            "CAR; DROP; UNIT; NIL operation; PAIR",
            &ticket(KT_OTHER, "\"x\"", 0),
            "Unit",
        )
        .deviation(
            "pytezos reads a zero-amount ticket; Octez refuses them since Lima",
            Want::Rejected,
        ),
        unit(
            "ticket_pair_contents",
            "pair address (pair nat string) nat",
            "DROP; PUSH nat 3; PUSH (pair nat string) (Pair 1 \"p\"); TICKET; ASSERT_SOME; READ_TICKET; SWAP; DROP; NIL operation; PAIR",
            &format!("Pair \"{TZ1}\" (Pair 0 \"\") 0"),
        ),
        unit(
            "ticket_list_storage",
            "list (ticket nat)",
            "CDR; PUSH nat 1; PUSH nat 7; TICKET; ASSERT_SOME; CONS; NIL operation; PAIR",
            &format!("{{ {} }}", ticket(KT_OTHER, "3", 9)),
        ),
        unit(
            "ticket_map_storage",
            "map string (ticket nat)",
            "CDR; PUSH nat 2; PUSH nat 5; TICKET; PUSH string \"k\"; UPDATE; NIL operation; PAIR",
            &format!("{{ Elt \"a\" ({}) }}", ticket(KT_OTHER, "3", 9)),
        ),
        unit(
            "ticket_big_map_storage",
            "big_map string (ticket nat)",
            "CDR; PUSH nat 2; PUSH nat 5; TICKET; PUSH string \"k\"; UPDATE; NIL operation; PAIR",
            "{}",
        ),
        unit(
            "ticket_big_amounts",
            "pair nat nat",
            "DROP; PUSH nat 1000000000000000000000000000000; PUSH unit Unit; TICKET; ASSERT_SOME; PUSH (pair nat nat) (Pair 1 999999999999999999999999999999); SWAP; SPLIT_TICKET; ASSERT_SOME; UNPAIR; READ_TICKET; GET 4; DIP { DROP }; SWAP; READ_TICKET; GET 4; DIP { DROP }; PAIR; NIL operation; PAIR",
            "Pair 0 0",
        ),
        unit(
            "ticket_dup_forbidden",
            "unit",
            "DROP; PUSH nat 1; PUSH string \"a\"; TICKET; ASSERT_SOME; DUP; DROP 2; UNIT; NIL operation; PAIR",
            "Unit",
        ),
        unit(
            "ticket_non_comparable_contents",
            "unit",
            "DROP; PUSH nat 1; NIL nat; TICKET; DROP; UNIT; NIL operation; PAIR",
            "Unit",
        ),
        unit(
            "ticket_to_contract",
            "unit",
            &format!("DROP; PUSH address \"{KT_TICKETS}\"; CONTRACT %receive (ticket string); ASSERT_SOME; PUSH mutez 0; PUSH nat 3; PUSH string \"t\"; TICKET; ASSERT_SOME; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR"),
            "Unit",
        ),
        unit(
            "ticket_to_rollup",
            "unit",
            &format!("DROP; PUSH address \"{SR_TICKET}\"; CONTRACT (ticket string); ASSERT_SOME; PUSH mutez 0; PUSH nat 3; PUSH string \"t\"; TICKET; ASSERT_SOME; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR"),
            "Unit",
        ),
        unit(
            "ticket_to_rollup_wrong_contents",
            "unit",
            &format!("DROP; PUSH address \"{SR_TICKET}\"; CONTRACT (ticket nat); ASSERT_SOME; PUSH mutez 0; PUSH nat 3; PUSH nat 1; TICKET; ASSERT_SOME; TRANSFER_TOKENS; NIL operation; SWAP; CONS; UNIT; SWAP; PAIR"),
            "Unit",
        ),
    ]
}

fn seed_cases() -> Vec<Case> {
    // The contracts of the smart rollup docs (/work/shared/reference/seeds/003_*.txt).
    const GO: &str = "parameter string; storage string; code {CAR; NIL operation; PAIR};";
    let forwarder = |rollup: &str| {
        format!(
            "parameter bytes;
             storage unit;
             code
               {{
                 UNPAIR;
                 PUSH address \"{rollup}\";
                 CONTRACT bytes;
                 IF_NONE {{ PUSH string \"Invalid address\"; FAILWITH }} {{}};
                 PUSH mutez 0;
                 DIG 2;
                 TRANSFER_TOKENS;
                 NIL operation;
                 SWAP;
                 CONS;
                 PAIR;
               }}"
        )
    };
    vec![
        script("seed_go", GO, "\"hello\"", "\"\"").self_address(KT_OTHER),
        script("seed_go_empty", GO, "\"\"", "\"old\"").self_address(KT_OTHER),
        // The docs' outbox example sends 37, which is not a string.
        script("seed_go_int37", GO, "37", "\"\"").self_address(KT_OTHER),
        script("seed_bytes_forwarder", &forwarder(SR_BYTES), "0x0102deadbeef", "Unit"),
        script("seed_bytes_forwarder_empty", &forwarder(SR_BYTES), "0x", "Unit").amount(10),
        script(
            "seed_bytes_forwarder_unknown_rollup",
            &forwarder(SR_UNKNOWN),
            "0x01",
            "Unit",
        ),
        script(
            "seed_bytes_forwarder_wrong_rollup_type",
            &forwarder(SR_TICKET),
            "0x01",
            "Unit",
        ),
    ]
}

/// A ticket bridge: deposits mint tickets worth the tez received and send
/// them to a rollup (typed `pair address (ticket string)`, or `ticket
/// string`); withdrawals take this contract's tickets back and pay their
/// amount in mutez.
const BRIDGE: &str = "
parameter (or (or (address %deposit) (unit %deposit_plain)) (pair %withdraw address (ticket string)));
storage (pair (address %rollup) (address %plain_rollup) (nat %minted) (nat %burned));
code {
  UNPAIR;
  IF_LEFT
    { AMOUNT; PUSH mutez 1; SWAP; EDIV; ASSERT_SOME; CAR;
      DUP; INT; EQ; IF { PUSH string \"zero deposit\"; FAILWITH } {};
      DIG 2; UNPAIR 4; DIG 2; DUP 5; ADD; DUG 2; PAIR 4; DUG 2;
      PUSH string \"tez\"; TICKET; ASSERT_SOME; SWAP;
      IF_LEFT
        { PAIR; DUP 2; CAR; CONTRACT (pair address (ticket string));
          IF_NONE { PUSH string \"bad rollup\"; FAILWITH } {};
          PUSH mutez 0; DIG 2; TRANSFER_TOKENS }
        { DROP; DUP 2; GET 3; CONTRACT (ticket string);
          IF_NONE { PUSH string \"bad rollup\"; FAILWITH } {};
          PUSH mutez 0; DIG 2; TRANSFER_TOKENS } }
    { UNPAIR; SWAP; READ_TICKET; UNPAIR 3;
      SELF_ADDRESS; COMPARE; NEQ; IF { PUSH string \"wrong ticketer\"; FAILWITH } {};
      PUSH string \"tez\"; COMPARE; NEQ; IF { PUSH string \"wrong contents\"; FAILWITH } {};
      SWAP; DROP;
      DIG 2; UNPAIR 4; DIG 3; DUP 5; ADD; DUG 3; PAIR 4; DUG 2;
      PUSH mutez 1; MUL; SWAP; CONTRACT unit;
      IF_NONE { PUSH string \"cannot pay\"; FAILWITH } {};
      SWAP; UNIT; TRANSFER_TOKENS };
  NIL operation; SWAP; CONS; PAIR }";

fn bridge_cases() -> Vec<Case> {
    let storage = |rollup: &str| format!("Pair \"{rollup}\" \"{SR_TICKET}\" 100 40");
    let withdraw = |receiver: &str, ticketer: &str, contents: &str, amount: u32| {
        format!("Pair \"{receiver}\" \"{ticketer}\" \"{contents}\" {amount}")
    };
    let tz2 = format!("\"{TZ2}\"");
    vec![
        script("bridge_deposit", BRIDGE, &tz2, &storage(SR_PAIR))
            .entrypoint("deposit")
            .amount(1500),
        script("bridge_deposit_plain", BRIDGE, "Unit", &storage(SR_PAIR))
            .entrypoint("deposit_plain")
            .amount(7),
        script(
            "bridge_deposit_whole_parameter",
            BRIDGE,
            "Left (Right Unit)",
            &storage(SR_PAIR),
        )
        .amount(3),
        script("bridge_deposit_zero", BRIDGE, &tz2, &storage(SR_PAIR)).entrypoint("deposit"),
        script("bridge_deposit_unknown_rollup", BRIDGE, &tz2, &storage(SR_UNKNOWN))
            .entrypoint("deposit")
            .amount(5),
        script("bridge_deposit_wrong_rollup_type", BRIDGE, &tz2, &storage(SR_BYTES))
            .entrypoint("deposit")
            .amount(5),
        script(
            "bridge_withdraw",
            BRIDGE,
            &withdraw(TZ2, SELF, "tez", 700),
            &storage(SR_PAIR),
        )
        .entrypoint("withdraw")
        .sender(SR_PAIR),
        script(
            "bridge_withdraw_to_entrypoint",
            BRIDGE,
            &withdraw(&format!("{KT_TICKETS}%ping"), SELF, "tez", 3),
            &storage(SR_PAIR),
        )
        .entrypoint("withdraw")
        .sender(SR_PAIR),
        script(
            "bridge_withdraw_wrong_ticketer",
            BRIDGE,
            &withdraw(TZ2, KT_OTHER, "tez", 700),
            &storage(SR_PAIR),
        )
        .entrypoint("withdraw")
        .sender(SR_PAIR),
        script(
            "bridge_withdraw_wrong_contents",
            BRIDGE,
            &withdraw(TZ2, SELF, "tex", 700),
            &storage(SR_PAIR),
        )
        .entrypoint("withdraw")
        .sender(SR_PAIR),
        script(
            "bridge_withdraw_cannot_pay",
            BRIDGE,
            &withdraw(KT_NAT, SELF, "tez", 700),
            &storage(SR_PAIR),
        )
        .entrypoint("withdraw")
        .sender(SR_PAIR),
        script("bridge_unknown_entrypoint", BRIDGE, "Unit", &storage(SR_PAIR)).entrypoint("mint"),
    ]
}

/// The contracts the repository ships (`contracts/`), as the L1 runs them.
fn repository_contract_cases() -> Vec<Case> {
    const GO: &str = include_str!("../../../contracts/go.tz");
    const FORWARD_BYTES: &str = include_str!("../../../contracts/forward_bytes.tz");
    const TICKET_BRIDGE: &str = include_str!("../../../contracts/ticket_bridge.tz");
    // The bridge rollup's type; `SR_UNKNOWN` is unknown to every other case.
    let bridge_rollup = |case: Case| case.contract(SR_UNKNOWN, "pair address (ticket unit)");
    let deposit = format!("Pair \"{SR_UNKNOWN}\" \"{TZ1}\"");
    let withdraw = |ticketer: &str, amount: u32| format!("Pair \"{TZ1_B}\" \"{ticketer}\" Unit {amount}");
    vec![
        script("repo_go", GO, "\"37\"", "\"\""),
        script("repo_go_int37", GO, "37", "\"\""),
        script(
            "repo_forward_bytes",
            FORWARD_BYTES,
            "0xcafe",
            &format!("\"{SR_BYTES}\""),
        ),
        script(
            "repo_forward_bytes_wrong_type",
            FORWARD_BYTES,
            "0xcafe",
            &format!("\"{SR_TICKET}\""),
        ),
        bridge_rollup(script("repo_bridge_deposit", TICKET_BRIDGE, &deposit, "Unit"))
            .entrypoint("deposit")
            .amount(2_500),
        bridge_rollup(script("repo_bridge_deposit_nothing", TICKET_BRIDGE, &deposit, "Unit")).entrypoint("deposit"),
        script(
            "repo_bridge_deposit_bytes_rollup",
            TICKET_BRIDGE,
            &format!("Pair \"{SR_BYTES}\" \"{TZ1}\""),
            "Unit",
        )
        .entrypoint("deposit")
        .amount(5),
        script("repo_bridge_withdraw", TICKET_BRIDGE, &withdraw(SELF, 2_500), "Unit")
            .entrypoint("withdraw")
            .sender(SR_UNKNOWN),
        script(
            "repo_bridge_withdraw_foreign",
            TICKET_BRIDGE,
            &withdraw(KT_OTHER, 7),
            "Unit",
        )
        .entrypoint("withdraw")
        .sender(SR_UNKNOWN),
        script(
            "repo_bridge_withdraw_to_contract",
            TICKET_BRIDGE,
            &format!("Pair \"{KT_NAT}\" \"{SELF}\" Unit 1"),
            "Unit",
        )
        .entrypoint("withdraw")
        .sender(SR_UNKNOWN),
    ]
}
