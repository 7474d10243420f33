//! Octez's script helpers (`/helpers/scripts/run_code`, `pack_data`):
//! running a script or packing a value against a block's state without an
//! operation, for clients that dry-run contracts.

use serde_json::{json, Value as Json};
use soru_core::base58::{ChainId, ContractKt1Hash};
use soru_core::hash::blake2b_160;
use soru_core::micheline::Micheline;
use soru_core::time::Timestamp;
use soru_core::PublicKeyHash;
use soru_michelson::{run_script, unparse, Address, Checker, Env, Form, Gas, RuntimeError, ScriptError, Type};

use crate::contracts::LedgerView;
use crate::ledger::Ledger;

/// Why a helper refused its input or the script failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelperError {
    /// A field missing or malformed.
    #[error("{0}")]
    BadInput(String),
    /// The script, storage or input does not typecheck.
    #[error("{0}")]
    Typecheck(ScriptError),
    /// The script failed.
    #[error("{0}")]
    Runtime(RuntimeError),
}

/// The balance of the contract `run_code` pretends to run (Octez's).
const DEFAULT_BALANCE: u64 = 4_000_000_000_000;

/// What `run_code` needs of the chain.
#[derive(Debug, Clone, Copy)]
pub struct BlockFacts<'a> {
    /// The state scripts see (`CONTRACT`).
    pub ledger: &'a Ledger,
    /// The chain.
    pub chain_id: ChainId,
    /// The level of the next block.
    pub level: u32,
    /// Its timestamp.
    pub now: Timestamp,
    /// The hard gas limit per operation, in gas.
    pub hard_gas_limit: u64,
}

fn field<'a>(input: &'a Json, name: &str) -> Result<&'a Json, HelperError> {
    input
        .get(name)
        .ok_or_else(|| HelperError::BadInput(format!("missing `{name}`")))
}

fn micheline(input: &Json, name: &str) -> Result<Micheline, HelperError> {
    Micheline::from_json(field(input, name)?).map_err(|e| HelperError::BadInput(format!("`{name}`: {e}")))
}

fn number(input: &Json, name: &str) -> Result<Option<u64>, HelperError> {
    match input.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(value) => value
            .as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| value.as_u64())
            .map(Some)
            .ok_or_else(|| HelperError::BadInput(format!("`{name}` is not a number"))),
    }
}

fn form(input: &Json) -> Result<Form, HelperError> {
    match input.get("unparsing_mode").and_then(Json::as_str) {
        None | Some("Readable") => Ok(Form::Readable),
        Some("Optimized") => Ok(Form::Optimized),
        Some("Optimized_legacy") => Ok(Form::OptimizedLegacy),
        Some(other) => Err(HelperError::BadInput(format!("unknown unparsing mode {other}"))),
    }
}

fn gas_of(input: &Json, facts: &BlockFacts<'_>) -> Result<Gas, HelperError> {
    let limit = number(input, "gas")?
        .unwrap_or(facts.hard_gas_limit)
        .min(facts.hard_gas_limit);
    Ok(Gas::new(limit.saturating_mul(1_000)))
}

/// `POST …/helpers/scripts/run_code`: runs `script` on `input` and
/// `storage` and returns `{storage, operations}`. Callers give it
/// [`soru_michelson::STACK_SIZE`] of stack (`with_stack`).
pub fn run_code(input: &Json, facts: &BlockFacts<'_>) -> Result<Json, HelperError> {
    let script = micheline(input, "script")?;
    let storage = micheline(input, "storage")?;
    let parameter = micheline(input, "input")?;
    let amount = number(input, "amount")?.unwrap_or(0);
    let balance = number(input, "balance")?.unwrap_or(DEFAULT_BALANCE);
    let entrypoint = match input.get("entrypoint").and_then(Json::as_str) {
        None | Some("default") => String::new(),
        Some(name) => name.to_string(),
    };
    let address = |name: &str| -> Result<Option<Address>, HelperError> {
        match input.get(name).and_then(Json::as_str) {
            None => Ok(None),
            Some(text) => Address::from_text(text)
                .map(Some)
                .ok_or_else(|| HelperError::BadInput(format!("`{name}` is not an address"))),
        }
    };
    // Octez runs the code as a fresh contract unless `self` is given.
    let self_address = match input.get("self").and_then(Json::as_str) {
        Some(text) => ContractKt1Hash::from_base58(text).map_err(|e| HelperError::BadInput(format!("`self`: {e}")))?,
        None => ContractKt1Hash(blake2b_160(b"soru run_code")),
    };
    let payer = match input.get("payer").and_then(Json::as_str) {
        Some(text) => PublicKeyHash::from_base58(text).map_err(|e| HelperError::BadInput(format!("`payer`: {e}")))?,
        None => PublicKeyHash::ed25519([0; 20]),
    };
    let sender = address("source")?.unwrap_or(Address {
        destination: soru_michelson::Destination::Originated(self_address),
        entrypoint: String::new(),
    });
    let out_of_range = |name: &str| HelperError::BadInput(format!("`{name}` is out of range"));
    let now = match number(input, "now")? {
        Some(n) => i64::try_from(n).map_err(|_| out_of_range("now"))?,
        None => facts.now.seconds,
    };
    let level = match number(input, "level")? {
        Some(l) => u32::try_from(l).map_err(|_| out_of_range("level"))?,
        None => facts.level,
    };
    let unparsing = form(input)?;

    let mut gas = gas_of(input, facts)?;
    let view = LedgerView(facts.ledger);
    let checked = Checker::new(&mut gas)
        .with_chain(&view)
        .check_script(&script)
        .map_err(HelperError::Typecheck)?;
    let storage_value = Checker::new(&mut gas)
        .parse_value(&checked.storage, &storage)
        .map_err(HelperError::Typecheck)?;
    let (_, parameter_ty) = checked
        .entrypoints
        .find(&entrypoint)
        .ok_or_else(|| HelperError::Typecheck(ScriptError::NoSuchEntrypoint(entrypoint.clone())))?;
    let parameter_value = Checker::new(&mut gas)
        .with_chain(&view)
        .with_forged_tickets()
        .parse_value(parameter_ty, &parameter)
        .map_err(HelperError::Typecheck)?;
    let env = Env {
        self_address,
        sender: &sender,
        source: payer,
        amount,
        balance,
        now,
        level,
        chain_id: facts.chain_id,
        chain: &view,
    };
    let outcome = run_script(&checked, &entrypoint, parameter_value, storage_value, &env, &mut gas)
        .map_err(HelperError::Runtime)?;
    let operations: Vec<Json> = outcome
        .operations
        .iter()
        .enumerate()
        .map(|(nonce, op)| {
            let entrypoint = if op.destination.entrypoint.is_empty() {
                "default"
            } else {
                op.destination.entrypoint.as_str()
            };
            json!({
                "kind": "transaction",
                "source": self_address,
                "nonce": nonce,
                "amount": op.amount.to_string(),
                "destination": Address { destination: op.destination.destination, entrypoint: String::new() }.to_text(),
                "parameters": {
                    "entrypoint": entrypoint,
                    "value": unparse(&op.parameter_ty, &op.parameter, unparsing).to_json(),
                },
            })
        })
        .collect();
    Ok(json!({
        "storage": unparse(&checked.storage, &outcome.storage, unparsing).to_json(),
        "operations": operations,
    }))
}

/// `POST …/helpers/scripts/typecheck_code`: `{program, gas?, show_types?}`
/// → `{type_map, gas}`: the stacks around every instruction, by location
/// (types without annotations), and the milligas left (`"unaccounted"`
/// when no gas was given).
pub fn typecheck_code(input: &Json, facts: &BlockFacts<'_>) -> Result<Json, HelperError> {
    let program = micheline(input, "program")?;
    let show_types = input.get("show_types").and_then(Json::as_bool).unwrap_or(true);
    let metered = number(input, "gas")?.is_some();
    let mut gas = gas_of(input, facts)?;
    let view = LedgerView(facts.ledger);
    let mut checker = Checker::new(&mut gas).with_chain(&view).with_type_map(&program);
    checker.check_script(&program).map_err(HelperError::Typecheck)?;
    let stack = |types: &[Type]| types.iter().map(|t| t.to_micheline().to_json()).collect::<Vec<_>>();
    let type_map: Vec<Json> = match checker.type_map() {
        Some(map) if show_types => map
            .entries
            .iter()
            .rev()
            .map(|(location, before, after)| {
                json!({"location": location, "stack_before": stack(before), "stack_after": stack(after)})
            })
            .collect(),
        _ => Vec::new(),
    };
    let gas = if metered {
        json!(gas.remaining().to_string())
    } else {
        json!("unaccounted")
    };
    Ok(json!({"type_map": type_map, "gas": gas}))
}

/// `POST …/helpers/scripts/pack_data`: `{data, type, gas?}` →
/// `{packed, gas}` (`0x05 ‖` the value in Optimized_legacy form).
pub fn pack_data(input: &Json, facts: &BlockFacts<'_>) -> Result<Json, HelperError> {
    let data = micheline(input, "data")?;
    let ty_expr = micheline(input, "type")?;
    let ty = Type::parse(&ty_expr).map_err(|e| HelperError::Typecheck(ScriptError::Type(e)))?;
    if !ty.is_packable() {
        return Err(HelperError::BadInput(format!("{ty} cannot be packed")));
    }
    let mut gas = gas_of(input, facts)?;
    let view = LedgerView(facts.ledger);
    let value = Checker::new(&mut gas)
        .with_chain(&view)
        .parse_value(&ty, &data)
        .map_err(HelperError::Typecheck)?;
    let packed = unparse(&ty, &value, Form::OptimizedLegacy).pack();
    Ok(json!({"packed": hex::encode(packed), "gas": (gas.remaining() / 1_000).to_string()}))
}
