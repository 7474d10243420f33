//! Criterion bench: each `soru bench wasm` program on soru-wasm and on wasmi.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use soru::bench::wasm::{Prepared, PROGRAMS};

fn engines(c: &mut Criterion) {
    let mut group = c.benchmark_group("wasm");
    group.sample_size(10);
    for program in PROGRAMS {
        let prepared = Prepared::new(program).expect("programs assemble");
        group.bench_function(format!("{}/soru", program.name), |b| {
            b.iter(|| prepared.run_soru().expect("runs"))
        });
        group.bench_function(format!("{}/wasmi", program.name), |b| {
            b.iter(|| prepared.run_wasmi().expect("runs"))
        });
    }
    group.finish();
}

criterion_group!(benches, engines);
criterion_main!(benches);
