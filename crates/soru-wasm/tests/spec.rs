//! The WebAssembly specification suite (`../shared/wasm-testsuite/core`, the
//! snapshot Octez uses) in both modes. Prints the two summary lines and
//! fails on any failed assertion or more than the 546 skippable
//! `module quote` cases.

#[path = "spec/runner.rs"]
mod runner;

use soru_wasm::Mode;

#[test]
fn spec_suite() {
    let dir = runner::suite_dir();
    assert!(
        dir.is_dir(),
        "the spec suite is expected at {} (the shared/ directory beside the repository)",
        dir.display()
    );
    let conformance = runner::run_dir(&dir, Mode::Conformance, None);
    // The PVM-mode run also counts the state chunks each tick touches.
    let mut counter = soru_wasm::hooks::ChunkCounter::default();
    let pvm = runner::run_dir(&dir, Mode::Pvm, Some(&mut counter));
    counter.finish();
    for f in conformance.failures.iter().take(60) {
        eprintln!("conformance failure: {f}");
    }
    for f in pvm.failures.iter().take(60) {
        eprintln!("pvm failure: {f}");
    }
    println!("{}", runner::summary("conformance", &conformance));
    println!("{}", runner::summary("pvm", &pvm));
    println!(
        "spec max state chunks per tick: {} (over {} ticks; worst {:?})",
        counter.max, counter.ticks, counter.worst
    );
    assert!(counter.ticks > 100_000, "the suite executes code");
    assert!(
        counter.max <= soru_wasm::hooks::MAX_CHUNKS_PER_TICK,
        "a tick touched {} chunks",
        counter.max
    );
    assert_eq!(conformance.failed, 0, "conformance failures");
    assert_eq!(pvm.failed, 0, "pvm failures");
    assert!(conformance.skipped <= 546 && pvm.skipped <= 546);
    assert_eq!(conformance.total(), 26_738, "every core assertion is counted");
    assert_eq!(pvm.total(), 26_738, "every core assertion is counted");
}
