//! The on-disk module cache: a second engine loads what the first compiled;
//! damaged, replaced, truncated or missing artifacts are never used (the
//! kernel is compiled again and the artifact rewritten); the compile-size
//! bound sends a huge function to the PVM. Every run still reaches the
//! PVM's own state.

#[path = "../../soru-pvm/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::Arc;

use soru_fast::{FastEngine, FastStats, ModuleCache, NoReveals, RevealOracle};
use soru_pvm::Pvm;

const TPS: u128 = 50_000_000_000_000;

/// One level of `messages` on the PVM alone: the reference state hash.
fn reference(kernel: &[u8], messages: &[&[u8]]) -> soru_core::StateHash {
    let mut pvm = Pvm::install_boot_sector(&common::config(TPS), kernel).expect("genesis");
    common::feed(&mut pvm, 1, messages);
    pvm.run_until_input(u128::MAX).expect("run");
    pvm.state_hash().expect("hash")
}

/// The same level with a fresh engine on the cache in `dir`: its stats.
fn run_cached(dir: &Path, kernel: &[u8], messages: &[&[u8]]) -> FastStats {
    let cache = ModuleCache::open(dir).expect("cache");
    let mut engine = FastEngine::new().expect("engine").with_cache(cache);
    let mut pvm = Pvm::install_boot_sector(&common::config(TPS), kernel).expect("genesis");
    common::feed(&mut pvm, 1, messages);
    let oracle: Arc<dyn RevealOracle> = Arc::new(NoReveals);
    engine.run_until_input(&mut pvm, &oracle).expect("fast run");
    assert_eq!(
        pvm.state_hash().expect("hash"),
        reference(kernel, messages),
        "the fast run's state"
    );
    if let Some(problem) = engine.last_cache_problem() {
        eprintln!("cache: {problem}");
    }
    engine.stats()
}

fn only_artifact(dir: &Path) -> std::path::PathBuf {
    let artifacts = ModuleCache::open(dir).expect("cache").artifacts().expect("list");
    assert_eq!(artifacts.len(), 1, "artifacts: {artifacts:?}");
    artifacts[0].clone()
}

#[test]
fn a_second_engine_loads_the_compiled_kernel_from_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let echo = common::example_kernel("echo");
    let first = run_cached(dir.path(), &echo, &[b"hello"]);
    assert_eq!(
        (first.compiled, first.cache_hits, first.fast_runs),
        (1, 0, 1),
        "{first:?}"
    );
    only_artifact(dir.path());
    let second = run_cached(dir.path(), &echo, &[b"again"]);
    assert_eq!(
        (second.compiled, second.cache_hits, second.fast_runs),
        (0, 1, 1),
        "{second:?}"
    );
    assert_eq!((second.cache_rejected, second.cache_errors), (0, 0));
}

#[test]
fn damaged_replaced_truncated_or_missing_artifacts_are_compiled_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let echo = common::example_kernel("echo");
    run_cached(dir.path(), &echo, &[b"hello"]);
    let artifact = only_artifact(dir.path());
    let good = std::fs::read(&artifact).expect("read");

    // One bit flipped in the code.
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    // Another kernel's valid artifact under this kernel's name.
    let other_dir = tempfile::tempdir().expect("tempdir");
    run_cached(other_dir.path(), &common::example_kernel("counter"), &[b"a"]);
    let other = std::fs::read(only_artifact(other_dir.path())).expect("read");
    // Cut short.
    let truncated = good[..good.len() / 3].to_vec();

    for (what, bytes) in [("flipped", flipped), ("replaced", other), ("truncated", truncated)] {
        std::fs::write(&artifact, &bytes).expect("write");
        let stats = run_cached(dir.path(), &echo, &[b"x"]);
        assert_eq!(
            (stats.cache_hits, stats.cache_rejected, stats.compiled),
            (0, 1, 1),
            "{what}: {stats:?}"
        );
        // Rewritten: the next engine loads it.
        assert_eq!(std::fs::read(&artifact).expect("read"), good, "{what}: rewritten");
        let again = run_cached(dir.path(), &echo, &[b"y"]);
        assert_eq!((again.cache_hits, again.compiled), (1, 0), "{what}, then: {again:?}");
    }

    std::fs::remove_file(&artifact).expect("remove");
    let stats = run_cached(dir.path(), &echo, &[b"z"]);
    assert_eq!(
        (stats.cache_hits, stats.cache_rejected, stats.compiled),
        (0, 0, 1),
        "{stats:?}"
    );
    assert!(artifact.exists(), "rewritten after removal");
}

#[test]
fn a_function_too_large_to_compile_runs_on_the_pvm() {
    // A kernel whose kernel_run body is one function of over 1 MiB of nops.
    let nops = "nop\n".repeat(soru_fast::MAX_FUNCTION_BODY_BYTES + 16);
    let wat = format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "kernel_run")
{nops}))"#
    );
    let kernel = wat::parse_str(&wat).expect("wat");
    let mut pvm = Pvm::install_boot_sector(&common::config(TPS), &kernel).expect("genesis");
    common::feed(&mut pvm, 1, &[b"m"]);
    let mut engine = FastEngine::new().expect("engine");
    let oracle: Arc<dyn RevealOracle> = Arc::new(NoReveals);
    engine.run_until_input(&mut pvm, &oracle).expect("run");
    assert_eq!(pvm.state_hash().expect("hash"), reference(&kernel, &[b"m"]));
    let stats = engine.stats();
    assert_eq!((stats.compiled, stats.fast_runs), (0, 0), "{stats:?}");
    assert!(stats.pvm_cycles > 0, "{stats:?}");
}
