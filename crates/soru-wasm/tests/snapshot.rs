//! Pausing at random ticks, saving the whole machine to bytes, dropping
//! every Rust object, loading and resuming gives the same final state as a
//! straight run.

mod common;

use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::snapshot;
use soru_wasm::Store;

/// Final observable state: the outcome, memories and globals.
fn observe(store: &Store, outcome: &Outcome) -> (String, Vec<Vec<u8>>, Vec<u64>) {
    (
        format!("{outcome:?}"),
        store.memories.iter().map(|m| m.data.clone()).collect(),
        store.globals.iter().map(|g| g.value).collect(),
    )
}

fn straight(store: &mut Store, func: u32, args: &[u64], fuel: u64) -> Outcome {
    let mut m = Machine::invoke(store, func, args).expect("invoke");
    let mut fuel = fuel;
    m.run(store, &mut fuel).expect("runnable")
}

/// Runs in slices of pseudo-random length, round-tripping through bytes
/// between slices.
fn paused(store: Store, func: u32, args: &[u64], fuel: u64, seed: u64) -> (Store, Outcome) {
    let mut m = Machine::invoke(&store, func, args).expect("invoke");
    let mut store = store;
    let mut left = fuel;
    let pauses = common::random_bytes(seed, 64);
    let mut i = 0;
    loop {
        let slice = (u64::from(pauses[i % 64]) * 37 + 1).min(left);
        i += 1;
        let mut f = slice;
        let outcome = m.run(&mut store, &mut f).expect("runnable");
        left -= slice - f;
        match outcome {
            Outcome::OutOfTicks if left > 0 => {
                let bytes = snapshot::save(&store, &m);
                drop(store);
                drop(m);
                let (s, machine) = snapshot::load(&bytes).expect("loads");
                store = s;
                m = machine;
            }
            other => return (store, other),
        }
    }
}

#[test]
fn resuming_from_bytes_matches_a_straight_run() {
    let mut compared = 0;
    for seed in 0..300 {
        let Some(bytes) = common::smith_module(seed) else {
            continue;
        };
        let Ok(inst) = common::soru_instantiate(&bytes, 20_000) else {
            continue;
        };
        for (_, func) in common::exported_funcs(&inst) {
            let params = inst.store.func_type(func).params.len();
            let args = vec![1u64; params];
            let mut a = inst.store.clone();
            let straight_outcome = straight(&mut a, func, &args, 20_000);
            let (b, paused_outcome) = paused(inst.store.clone(), func, &args, 20_000, seed);
            assert_eq!(
                observe(&a, &straight_outcome),
                observe(&b, &paused_outcome),
                "seed {seed}"
            );
            compared += 1;
        }
    }
    assert!(compared > 200, "{compared}");
}

#[test]
fn bad_snapshots_are_refused() {
    assert!(snapshot::load(&[]).is_err());
    assert!(snapshot::load(&[99, 1, 2]).is_err());
    assert!(snapshot::load(&[snapshot::SNAPSHOT_VERSION, 0xff, 0xff, 0xff]).is_err());
}
