//! Bounded state per tick: a counting hook records the distinct state chunks
//! every tick touches. Over 10⁴ wasm-smith modules (`SORU_FUZZ_CASES`) the
//! maximum stays under [`MAX_CHUNKS_PER_TICK`], and for programs scaled in
//! memory, code, table, locals and call depth the maximum does not grow with
//! the scale.

mod common;

use std::sync::Arc;

use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::hooks::{ChunkCounter, MAX_CHUNKS_PER_TICK};
use soru_wasm::store::Extern;
use soru_wasm::{Decoder, Mode, Store};

fn cases() -> u64 {
    std::env::var("SORU_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn wasm_smith_ticks_touch_few_chunks() {
    let mut counter = ChunkCounter::default();
    for seed in 0..cases() {
        let Some(bytes) = common::smith_module(seed) else {
            continue;
        };
        let Ok(mut inst) = common::soru_instantiate(&bytes, 20_000) else {
            continue;
        };
        for (_, func) in common::exported_funcs(&inst) {
            let params = inst.store.func_type(func).params.len();
            let Ok(mut m) = Machine::invoke(&inst.store, func, &vec![0; params]) else {
                continue;
            };
            let mut fuel = 20_000;
            let _ = m.run_with(&mut inst.store, &mut fuel, &mut counter);
        }
    }
    counter.finish();
    println!(
        "wasm-smith max state chunks per tick: {} over {} ticks (worst {:?})",
        counter.max, counter.ticks, counter.worst
    );
    assert!(counter.ticks > 1_000_000);
    assert!(counter.max <= MAX_CHUNKS_PER_TICK);
}

/// Runs export `run` of `wat` to completion and returns the largest number
/// of chunks a tick touched.
fn max_chunks(wat: &str) -> usize {
    let bytes = wat::parse_str(wat).expect("valid wat");
    let module = Arc::new(Decoder::decode(Mode::Pvm, &bytes).expect("valid module"));
    let mut store = Store::default();
    let inst = store.allocate(module, &[]).expect("links");
    Machine::initialize(&mut store, inst).expect("segments fit");
    let Some(Extern::Func(f)) = store.export(inst, "run") else {
        panic!("no run export")
    };
    let mut m = Machine::invoke(&store, f, &[]).expect("invoke");
    let mut counter = ChunkCounter::default();
    let mut fuel = 100_000_000;
    let outcome = m.run_with(&mut store, &mut fuel, &mut counter).expect("runnable");
    assert!(matches!(outcome, Outcome::Returned(_)), "{outcome:?}");
    counter.finish();
    counter.max
}

fn memory_program(pages: u32) -> String {
    let top = pages * 65_536 - 8;
    format!(
        r#"(module (memory {pages})
          (func (export "run")
            (i64.store (i32.const {top}) (i64.const 7))
            (drop (i64.load (i32.const {top})))
            (memory.fill (i32.const 0) (i32.const 1) (i32.const 60000))
            (memory.copy (i32.const {far}) (i32.const 3) (i32.const 60000))
            (drop (memory.grow (i32.const 1)))
            (drop (i32.load (i32.const {top})))))"#,
        far = pages * 65_536 - 60_000
    )
}

fn code_program(functions: u32) -> String {
    let mut filler = String::new();
    for i in 0..functions {
        filler.push_str(&format!("(func $f{i} (result i32) (i32.const {i}))\n"));
    }
    format!(
        r#"(module {filler}
          (func (export "run") (drop (call $f{last})) (drop (call $f0))))"#,
        last = functions - 1
    )
}

fn table_program(size: u32) -> String {
    format!(
        r#"(module (table {size} funcref) (type $t (func (result i32)))
          (func $one (result i32) (i32.const 1))
          (elem declare func $one)
          (func (export "run")
            (table.fill (i32.const 0) (ref.func $one) (i32.const {size}))
            (drop (call_indirect (type $t) (i32.const {last})))
            (table.copy (i32.const 0) (i32.const {half}) (i32.const {half}))
            (drop (table.get (i32.const {last})))))"#,
        last = size - 1,
        half = size / 2
    )
}

fn locals_program(locals: u32) -> String {
    format!(
        r#"(module
          (func $f (param i32) (result i32) (local {decl})
            (local.set {last} (local.get 0))
            (local.get {last}))
          (func (export "run") (drop (call $f (i32.const 5)))))"#,
        decl = "i32 ".repeat(locals as usize),
        last = locals
    )
}

fn depth_program(depth: u32) -> String {
    format!(
        r#"(module
          (func $down (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0))
              (then (i32.const 0))
              (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
          (func (export "run") (drop (call $down (i32.const {depth})))))"#
    )
}

#[test]
fn chunks_per_tick_do_not_grow_with_scale() {
    type Case = (&'static str, fn(u32) -> String, u32, u32);
    let cases: [Case; 5] = [
        ("memory pages", memory_program, 2, 1_000),
        ("functions", code_program, 2, 5_000),
        ("table elements", table_program, 4_096, 200_000),
        ("locals", locals_program, 1_000, 50_000),
        ("call depth", depth_program, 1_000, 50_000),
    ];
    for (what, program, small, large) in cases {
        let a = max_chunks(&program(small));
        let b = max_chunks(&program(large));
        println!("max chunks per tick, {what} {small} → {large}: {a} → {b}");
        assert!(b <= a.max(MAX_CHUNKS_PER_TICK), "{what}: {a} → {b}");
        assert_eq!(a, b, "{what}: chunks per tick grew with scale");
    }
}
