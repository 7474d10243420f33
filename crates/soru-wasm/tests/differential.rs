//! Differential testing against `wasmi` on float-free `wasm-smith` modules:
//! every exported function is called (in order, on one instance) on both
//! engines, and results, trap kinds, exported memories and globals must
//! agree. `SORU_FUZZ_CASES` sets the number of modules (default 10 000);
//! `SORU_FUZZ_SEED` the first seed.

mod common;

use common::{exported_funcs, random_bytes, smith_module, soru_call, soru_instantiate, RunResult};
use soru_wasm::store::{Extern, NULL_REF};
use soru_wasm::types::ValType;

const FUEL: u64 = 200_000;

fn cases() -> u64 {
    std::env::var("SORU_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn first_seed() -> u64 {
    std::env::var("SORU_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn wasmi_engine() -> wasmi::Engine {
    let mut config = wasmi::Config::default();
    config
        .consume_fuel(true)
        .wasm_tail_call(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .wasm_extended_const(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false)
        .set_stack_limits(wasmi::StackLimits::new(1024, 8 * 1024 * 1024, 60_000).expect("valid limits"));
    wasmi::Engine::new(&config)
}

/// Trap names as soru prints them, with the table-index traps merged
/// (wasmi reports an out-of-range `call_indirect` as a table access).
fn normalize(trap: &str) -> String {
    match trap {
        "undefined element" | "out of bounds table access" => "table out of bounds".into(),
        // wasmi reports bulk table errors as table errors, not trap codes.
        other if other.contains("out of bounds table access") => "table out of bounds".into(),
        other => other.into(),
    }
}

fn wasmi_trap(e: &wasmi::Error) -> Option<RunResult> {
    use wasmi::core::TrapCode::*;
    let name = match e.as_trap_code()? {
        UnreachableCodeReached => "unreachable",
        MemoryOutOfBounds => "out of bounds memory access",
        TableOutOfBounds => "table out of bounds",
        IndirectCallToNull => "uninitialized element",
        IntegerDivisionByZero => "integer divide by zero",
        IntegerOverflow => "integer overflow",
        BadConversionToInteger => "invalid conversion to integer",
        BadSignature => "indirect call type mismatch",
        StackOverflow => return Some(RunResult::Exhausted),
        OutOfFuel => return Some(RunResult::OutOfFuel),
        GrowthOperationLimited => "growth limited",
    };
    Some(RunResult::Trap(name.into()))
}

fn to_wasmi(t: ValType, raw: u64) -> wasmi::Val {
    match t {
        ValType::I32 => wasmi::Val::I32(raw as u32 as i32),
        ValType::I64 => wasmi::Val::I64(raw as i64),
        ValType::FuncRef => wasmi::Val::FuncRef(wasmi::FuncRef::null()),
        ValType::ExternRef => wasmi::Val::ExternRef(wasmi::ExternRef::null()),
        ValType::F32 | ValType::F64 => unreachable!("float-free modules"),
    }
}

/// Raw slot of a wasmi value; references compare by nullness only (1 = non-null).
fn from_wasmi(v: &wasmi::Val) -> u64 {
    match v {
        wasmi::Val::I32(x) => u64::from(*x as u32),
        wasmi::Val::I64(x) => *x as u64,
        wasmi::Val::FuncRef(f) => u64::from(!f.is_null()),
        wasmi::Val::ExternRef(e) => u64::from(!e.is_null()),
        other => panic!("unexpected value {other:?}"),
    }
}

#[derive(Default, Debug)]
struct Stats {
    modules: u64,
    instantiated: u64,
    calls_compared: u64,
    traps_compared: u64,
    skipped_fuel: u64,
    skipped_exhausted: u64,
    mismatches: Vec<String>,
}

fn compare_module(seed: u64, stats: &mut Stats) {
    let Some(bytes) = smith_module(seed) else { return };
    stats.modules += 1;
    let engine = wasmi_engine();
    let theirs = wasmi::Module::new(&engine, &bytes[..]);
    let ours = soru_instantiate(&bytes, FUEL);
    let (mut ours, theirs) = match (ours, theirs) {
        (Ok(o), Ok(t)) => (o, t),
        (Err(e), _) if e.starts_with("start:") || e.starts_with("init trap") => return,
        (Err(e), Ok(_)) => {
            stats
                .mismatches
                .push(format!("seed {seed}: soru rejected a module wasmi accepts: {e}"));
            return;
        }
        (Ok(_), Err(e)) => {
            stats
                .mismatches
                .push(format!("seed {seed}: wasmi rejected a module soru accepts: {e}"));
            return;
        }
        (Err(_), Err(_)) => return,
    };
    let mut store = wasmi::Store::new(&engine, ());
    store.set_fuel(FUEL * 100).expect("fuel enabled");
    let linker = wasmi::Linker::<()>::new(&engine);
    let instance = match linker
        .instantiate(&mut store, &theirs)
        .and_then(|p| p.start(&mut store))
    {
        Ok(i) => i,
        Err(e) => {
            stats
                .mismatches
                .push(format!("seed {seed}: wasmi failed to instantiate what soru did: {e}"));
            return;
        }
    };
    stats.instantiated += 1;
    let arg_bytes = random_bytes(seed ^ 0xa5a5, 4096);
    let mut arg_at = 0usize;
    for (name, func) in exported_funcs(&ours) {
        let ty = ours.store.func_type(func).clone();
        let args: Vec<u64> = ty
            .params
            .iter()
            .map(|t| {
                let b = &arg_bytes[arg_at % 4000..arg_at % 4000 + 8];
                arg_at += 8;
                let raw = u64::from_le_bytes(b.try_into().expect("8 bytes"));
                match t {
                    ValType::I32 => raw & 0xffff_ffff,
                    ValType::I64 => raw,
                    _ => NULL_REF,
                }
            })
            .collect();
        let soru = soru_call(&mut ours.store, func, &args, FUEL);
        let wfunc = instance.get_func(&store, &name).expect("exported");
        let wargs: Vec<wasmi::Val> = ty.params.iter().zip(&args).map(|(t, a)| to_wasmi(*t, *a)).collect();
        let mut wresults: Vec<wasmi::Val> = ty.results.iter().map(|t| to_wasmi(*t, 0)).collect();
        store.set_fuel(FUEL * 100).expect("fuel enabled");
        let wasmi_result = match wfunc.call(&mut store, &wargs, &mut wresults) {
            Ok(()) => RunResult::Returned(wresults.iter().map(from_wasmi).collect()),
            Err(e) => wasmi_trap(&e).unwrap_or_else(|| RunResult::Trap(format!("other: {e}"))),
        };
        match (&soru, &wasmi_result) {
            (RunResult::OutOfFuel, _) | (_, RunResult::OutOfFuel) => {
                // Fuel models differ; state may now diverge, so stop here.
                stats.skipped_fuel += 1;
                return;
            }
            (RunResult::Exhausted, _) | (_, RunResult::Exhausted) => {
                stats.skipped_exhausted += 1;
                return;
            }
            (RunResult::Returned(a), RunResult::Returned(b)) => {
                let a: Vec<u64> = a
                    .iter()
                    .zip(&ty.results)
                    .map(|(v, t)| if t.is_ref() { u64::from(*v != NULL_REF) } else { *v })
                    .collect();
                if &a != b {
                    stats
                        .mismatches
                        .push(format!("seed {seed} {name}: soru {a:x?} wasmi {b:x?}"));
                    return;
                }
                stats.calls_compared += 1;
            }
            (RunResult::Trap(a), RunResult::Trap(b)) => {
                if normalize(a) != normalize(b) {
                    stats
                        .mismatches
                        .push(format!("seed {seed} {name}: soru trap {a} wasmi trap {b}"));
                    return;
                }
                stats.traps_compared += 1;
            }
            (a, b) => {
                stats
                    .mismatches
                    .push(format!("seed {seed} {name}: soru {a:?} wasmi {b:?}"));
                return;
            }
        }
    }
    // Exported memories and globals must hold the same bytes and values.
    let module = ours.store.instances[ours.instance as usize].module.clone();
    for export in &module.exports {
        match ours.store.export(ours.instance, &export.name) {
            Some(Extern::Memory(m)) => {
                let theirs = instance.get_memory(&store, &export.name).expect("exported memory");
                if theirs.data(&store) != &ours.store.memories[m as usize].data[..] {
                    stats
                        .mismatches
                        .push(format!("seed {seed}: memory {} differs", export.name));
                }
            }
            Some(Extern::Global(g)) => {
                let theirs = instance.get_global(&store, &export.name).expect("exported global");
                let ty = ours.store.globals[g as usize].ty.ty;
                let mut ours_v = ours.store.globals[g as usize].value;
                if ty.is_ref() {
                    ours_v = u64::from(ours_v != NULL_REF);
                }
                if from_wasmi(&theirs.get(&store)) != ours_v {
                    stats
                        .mismatches
                        .push(format!("seed {seed}: global {} differs", export.name));
                }
            }
            _ => {}
        }
    }
}

#[test]
fn agrees_with_wasmi_on_wasm_smith_modules() {
    let mut stats = Stats::default();
    let start = first_seed();
    for seed in start..start + cases() {
        compare_module(seed, &mut stats);
    }
    println!("differential vs wasmi: {stats:?}");
    assert!(stats.mismatches.is_empty(), "mismatches: {:#?}", stats.mismatches);
    assert!(
        stats.instantiated * 2 >= stats.modules,
        "too few modules instantiated: {stats:?}"
    );
    assert!(
        (stats.calls_compared + stats.traps_compared) * 2 >= stats.instantiated,
        "too few calls compared: {stats:?}"
    );
    assert!(stats.calls_compared > 0 && stats.traps_compared > 0, "{stats:?}");
}
