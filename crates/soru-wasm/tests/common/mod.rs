//! Shared helpers: float-free `wasm-smith` modules from a seed, and running
//! a module's exports on soru-wasm.

#![allow(dead_code)]

use std::sync::Arc;

use arbitrary::Unstructured;
use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::store::Extern;
use soru_wasm::types::ExportKind;
use soru_wasm::{Decoder, Mode, Store};

/// Appends the unsigned LEB128 encoding of `v`.
pub(crate) fn leb(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), so every case replays.
pub(crate) fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// The features soru's PVM mode accepts: no floats, SIMD, threads, tail
/// calls, GC, exceptions, memory64, multi-memory or extended constants.
pub(crate) fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        allow_floats: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        saturating_float_to_int_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        memory64_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        max_memories: 1,
        max_memory32_bytes: 16 * 65_536,
        max_table_elements: 1_000,
        memory_max_size_required: true,
        table_max_size_required: true,
        max_imports: 0,
        export_everything: true,
        max_funcs: 20,
        min_funcs: 1,
        max_instructions: 200,
        ..wasm_smith::Config::default()
    }
}

/// A float-free module generated from `seed`.
pub(crate) fn smith_module(seed: u64) -> Option<Vec<u8>> {
    let data = random_bytes(seed, 16 * 1024);
    let mut u = Unstructured::new(&data);
    wasm_smith::Module::new(smith_config(), &mut u)
        .ok()
        .map(|m| m.to_bytes())
}

/// What running one exported function did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunResult {
    Returned(Vec<u64>),
    Trap(String),
    Exhausted,
    OutOfFuel,
}

/// An instantiated module on soru-wasm.
pub(crate) struct SoruInstance {
    pub(crate) store: Store,
    pub(crate) instance: u32,
}

/// Instantiates (applying segments and running the start function within
/// `fuel` ticks). `Err` on decode/link failure or a start that traps/loops.
pub(crate) fn soru_instantiate(bytes: &[u8], fuel: u64) -> Result<SoruInstance, String> {
    let module = Decoder::decode(Mode::Pvm, bytes).map_err(|e| format!("decode: {e}"))?;
    let module = Arc::new(module);
    let mut store = Store::default();
    let instance = store.allocate(module.clone(), &[]).map_err(|e| format!("link: {e}"))?;
    Machine::initialize(&mut store, instance).map_err(|t| format!("init trap: {t}"))?;
    if let Some(start) = module.start {
        let func = store.instances[instance as usize].funcs[start as usize];
        match soru_call(&mut store, func, &[], fuel) {
            RunResult::Returned(_) => {}
            other => return Err(format!("start: {other:?}")),
        }
    }
    Ok(SoruInstance { store, instance })
}

/// Calls `func` with `args` within `fuel` ticks.
pub(crate) fn soru_call(store: &mut Store, func: u32, args: &[u64], fuel: u64) -> RunResult {
    let mut m = match Machine::invoke(store, func, args) {
        Ok(m) => m,
        Err(e) => return RunResult::Trap(format!("invoke: {e}")),
    };
    let mut fuel = fuel;
    match m.run(store, &mut fuel) {
        Ok(Outcome::Returned(v)) => RunResult::Returned(v),
        Ok(Outcome::Trap(t)) => RunResult::Trap(t.to_string()),
        Ok(Outcome::Exhausted) => RunResult::Exhausted,
        Ok(Outcome::OutOfTicks) => RunResult::OutOfFuel,
        other => RunResult::Trap(format!("unexpected {other:?}")),
    }
}

/// The exported functions of an instance: (name, store address).
pub(crate) fn exported_funcs(inst: &SoruInstance) -> Vec<(String, u32)> {
    let module = &inst.store.instances[inst.instance as usize].module;
    module
        .exports
        .iter()
        .filter(|e| e.kind == ExportKind::Func)
        .filter_map(|e| match inst.store.export(inst.instance, &e.name) {
            Some(Extern::Func(f)) => Some((e.name.clone(), f)),
            _ => None,
        })
        .collect()
}
