//! Differential tests: every example kernel over scripted inboxes, run by
//! the PVM alone and by the PVM with soru-fast taking every `kernel_run`;
//! the state hash and tick counter must agree at every level end, and the
//! fast engine must have run the kernel code.

// The PVM tests' helpers (configuration, inbox levels, wasm-smith settings).
#[path = "../../soru-pvm/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use soru_fast::{FastEngine, RevealOracle};
use soru_pvm::{InputRequest, Pvm, PvmConfig, RevealRequest};

fn config(tps: u128) -> PvmConfig {
    common::config(tps)
}

fn kernel(name: &str) -> Vec<u8> {
    common::example_kernel(name)
}

fn u32_msg(tag: u8, n: u32) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&n.to_le_bytes());
    m
}

/// Preimages and metadata, answered the same way to both engines.
#[derive(Default)]
struct Oracle {
    preimages: BTreeMap<[u8; 32], Vec<u8>>,
}

impl RevealOracle for Oracle {
    fn reveal(&self, request: &RevealRequest) -> Option<Vec<u8>> {
        match request {
            RevealRequest::Metadata => Some([[0x11; 20].as_slice(), &1i32.to_be_bytes()].concat()),
            RevealRequest::RawData(h) if h.0 == soru_core::hash::blake2b_256(b"") => Some(Vec::new()),
            RevealRequest::RawData(h) => self.preimages.get(&h.0).cloned(),
        }
    }
}

fn feed(pvm: &mut Pvm, level: u32, payloads: &[Vec<u8>]) {
    let payloads: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    common::feed(pvm, level, &payloads);
}

/// Answers a pending reveal on `pvm`; `false` if none is pending.
fn answer(pvm: &mut Pvm, oracle: &Oracle) -> bool {
    match pvm.input_request() {
        InputRequest::Reveal(r) => {
            pvm.reveal(&oracle.reveal(&r).expect("known reveal")).expect("reveal");
            true
        }
        _ => false,
    }
}

fn assert_same(fast: &Pvm, reference: &Pvm, what: &str, engine: &FastEngine) {
    assert_eq!(
        (fast.current_tick(), fast.status()),
        (reference.current_tick(), reference.status()),
        "{what}: tick and status (last fallback: {:?})",
        engine.last_fallback()
    );
    assert_eq!(
        fast.state_hash().unwrap(),
        reference.state_hash().unwrap(),
        "{what}: state hash"
    );
}

/// Runs `levels` on the PVM alone and on the PVM with soru-fast with
/// [`soru_fast::cross_check`], level by level: the states are compared
/// after every kernel load and run (so the tick a run ends at — return,
/// trap, exhausted stack — is checked exactly) and at every level end.
/// Returns the fast engine's statistics.
fn differential(kernel: &[u8], tps: u128, levels: &[Vec<Vec<u8>>], oracle: Oracle) -> soru_fast::FastStats {
    let mut engine = FastEngine::new().expect("engine");
    differential_on(&mut engine, kernel, tps, levels, oracle)
}

/// [`differential`] with an engine of the caller's (whose compiled kernels
/// are reused); returns the engine's statistics so far.
fn differential_on(
    engine: &mut FastEngine,
    kernel: &[u8],
    tps: u128,
    levels: &[Vec<Vec<u8>>],
    oracle: Oracle,
) -> soru_fast::FastStats {
    let oracle: Arc<dyn RevealOracle> = Arc::new(oracle);
    let mut pvm = Pvm::install_boot_sector(&config(tps), kernel).expect("genesis");
    for (i, messages) in levels.iter().enumerate() {
        let level = i as u32 + 1;
        let payloads: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let inputs = soru_pvm::inbox::external_level_inputs(level, common::info(), &payloads);
        let check = soru_fast::cross_check(engine, &pvm, &inputs, &oracle).expect("cross-check");
        assert_eq!(
            check.divergence,
            None,
            "level {level} (last fallback: {:?})",
            engine.last_fallback()
        );
        assert_eq!(check.inputs_fed, inputs.len(), "level {level}: inputs read");
        pvm = check.pvm;
    }
    if let Some(reason) = engine.last_fallback() {
        eprintln!("last fallback: {reason}");
    }
    engine.stats()
}

fn assert_all_fast(name: &str, stats: soru_fast::FastStats) {
    assert!(
        stats.fast_runs > 0,
        "{name}: no kernel run on the fast engine: {stats:?}"
    );
    assert_eq!(stats.fallbacks, 0, "{name}: fallbacks: {stats:?}");
    assert_eq!(stats.pvm_cycles, 0, "{name}: cycles on the PVM: {stats:?}");
}

const TPS: u128 = 50_000_000_000_000;

#[test]
fn example_kernels_agree_with_the_pvm() {
    let scripts: Vec<(&str, Vec<Vec<Vec<u8>>>)> = vec![
        (
            "echo",
            vec![
                vec![b"\x02\0\0\0\0".to_vec(), b"hello".to_vec()],
                vec![],
                vec![b"x".to_vec()],
            ],
        ),
        (
            "counter",
            vec![vec![b"a".to_vec()], vec![b"b".to_vec(), b"c".to_vec()], vec![]],
        ),
        ("reboot", vec![vec![], vec![u32_msg(b'R', 5)], vec![]]),
        ("trap", vec![vec![b"trap".to_vec()], vec![b"ok".to_vec()]]),
        (
            "deep-recursion",
            vec![
                vec![u32_msg(b'D', 1_000)],
                vec![u32_msg(b'D', 59_000)],
                vec![u32_msg(b'D', 100_000)],
                vec![],
            ],
        ),
        ("memory-grow", vec![vec![u32_msg(b'G', 3)], vec![u32_msg(b'G', 70_000)]]),
        ("compute", vec![vec![u32_msg(b'C', 1_000)], vec![u32_msg(b'C', 2)]]),
        (
            "durable-heavy",
            vec![vec![b"1".to_vec()], vec![b"2".to_vec(), b"3".to_vec()]],
        ),
        ("big-code", vec![vec![], vec![b"z".to_vec()]]),
        ("hostfns", vec![vec![], vec![]]),
    ];
    for (name, script) in scripts {
        let stats = differential(&kernel(name), TPS, &script, Oracle::default());
        eprintln!("{name}: {stats:?}");
        assert_all_fast(name, stats);
    }
}

/// `tx`: signed transfers, accepted and rejected (replayed nonce, forged
/// signature, overdraft).
#[test]
fn tx_transfers_agree_with_the_pvm() {
    let (alice, bob) = ([1u8; 32], [2u8; 32]);
    let bob_pk = ed25519_dalek::SigningKey::from_bytes(&bob).verifying_key().to_bytes();
    let mut forged = common::signed_transfer(alice, 1, &bob_pk, 5);
    forged[40] ^= 1;
    let levels = vec![
        vec![
            common::signed_transfer(alice, 0, &bob_pk, 300),
            common::signed_transfer(alice, 0, &bob_pk, 1),
            forged,
        ],
        vec![
            common::signed_transfer(alice, 1, &bob_pk, 2_000_000),
            common::signed_transfer(alice, 1, &bob_pk, 200),
        ],
    ];
    let stats = differential(&kernel("tx"), TPS, &levels, Oracle::default());
    assert_all_fast("tx", stats);
}

/// The installer: its kernel run reveals the pages of `big-code` (answered
/// by the fast engine's oracle), installs it and reboots into it.
#[test]
fn the_installer_agrees_with_the_pvm() {
    let (root, pages) = common::reveal_pages(&kernel("big-code"));
    let installer = common::installer_for(root);
    let oracle = Oracle { preimages: pages };
    let stats = differential(&installer, TPS, &[vec![], vec![b"x".to_vec()]], oracle);
    assert!(stats.compiled >= 2, "the installer and big-code compiled: {stats:?}");
    assert_all_fast("installer", stats);
}

#[test]
fn too_many_ticks_in_a_small_cycle_is_decided_exactly() {
    for tps in [2_000_000, 2_000_001, 2_000_013, 3_333_333] {
        let stats = differential(&kernel("loop-forever"), tps, &[vec![], vec![]], Oracle::default());
        eprintln!("loop-forever at {tps}: {stats:?}");
        assert_all_fast("loop-forever", stats);
    }
    // compute runs long: a cycle too short for it, at many offsets.
    for tps in (0..8).map(|i| 1_500_000 + 7_919 * i) {
        let stats = differential(
            &kernel("compute"),
            tps,
            &[vec![u32_msg(b'C', 1_000)]],
            Oracle::default(),
        );
        assert_all_fast("compute", stats);
    }
}

const IMPORTS: &str = r#"
  (import "smart_rollup_core" "store_write" (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_has" (func $store_has (param i32 i32) (result i32)))
  (import "smart_rollup_core" "reveal_preimage" (func $reveal_preimage (param i32 i32 i32 i32) (result i32)))"#;

fn wat_escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// A kernel that upgrades itself to garbage: the next load fails, the
/// fallback kernel comes back with `upgrade_error` set — applied by the
/// fast engine from the kernel's load profile, without the PVM's loader.
#[test]
fn a_failed_upgrade_restores_the_fallback_kernel() {
    let wat = format!(
        r#"(module {IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 0) "/upgraded")
  (data (i32.const 16) "/kernel/boot.wasm")
  (data (i32.const 48) "/kernel/env/reboot")
  (data (i32.const 80) "garbage")
  (func (export "kernel_run")
    (if (i32.eqz (call $store_has (i32.const 0) (i32.const 9)))
      (then
        (drop (call $store_write (i32.const 0) (i32.const 9) (i32.const 0) (i32.const 80) (i32.const 1)))
        (drop (call $store_write (i32.const 16) (i32.const 17) (i32.const 0) (i32.const 80) (i32.const 7)))
        (drop (call $store_write (i32.const 48) (i32.const 18) (i32.const 0) (i32.const 80) (i32.const 0)))))))"#
    );
    let kernel = wat::parse_str(wat).unwrap();
    let stats = differential(&kernel, TPS, &[vec![], vec![], vec![]], Oracle::default());
    assert_eq!(stats.load_failures, 1, "{stats:?}");
    assert_all_fast("upgrade", stats);
}

/// Kernels that never load: every load failure is applied from the profile.
#[test]
fn kernels_that_do_not_load_fail_the_same_way() {
    for name in [
        "no-kernel-run",
        "no-memory-export",
        "start-calls-host",
        "unknown-import",
        "wrong-signature",
    ] {
        let path = format!("{}/../../kernels/wat/{name}.wat", env!("CARGO_MANIFEST_DIR"));
        let kernel = wat::parse_file(&path).unwrap();
        let stats = differential(&kernel, TPS, &[vec![], vec![]], Oracle::default());
        assert!(stats.load_failures > 0 && stats.fast_runs == 0, "{name}: {stats:?}");
        assert_eq!(stats.fallbacks, 0, "{name}: {stats:?}");
    }
}

/// The one forced fallback: the fast engine's oracle lacks a preimage the
/// kernel reveals, so the run goes back to the PVM, which waits for it;
/// the states still agree.
#[test]
fn a_reveal_the_fast_engine_cannot_answer_falls_back_to_the_pvm() {
    let preimage = b"a preimage only the PVM's driver knows".to_vec();
    let hash = soru_core::hash::blake2b_256(&preimage);
    let wat = format!(
        r#"(module {IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 0) "/revealed")
  (data (i32.const 128) "\00{hash}")
  (func (export "kernel_run")
    (local $n i32)
    (local.set $n (call $reveal_preimage (i32.const 128) (i32.const 33) (i32.const 256) (i32.const 100)))
    (drop (call $store_write (i32.const 0) (i32.const 9) (i32.const 0) (i32.const 256) (local.get $n)))))"#,
        hash = wat_escape(&hash)
    );
    let kernel = wat::parse_str(wat).unwrap();
    let mut known = Oracle::default();
    known.preimages.insert(hash, preimage.clone());
    // Both engines know it: no fallback.
    let stats = differential(&kernel, TPS, &[vec![], vec![]], known);
    assert_all_fast("reveal", stats);

    // The fast engine does not: one fallback per run, same states.
    let oracle = {
        let mut o = Oracle::default();
        o.preimages.insert(hash, preimage.clone());
        o
    };
    let blind: Arc<dyn RevealOracle> = Arc::new(soru_fast::NoReveals);
    let mut reference = Pvm::install_boot_sector(&config(TPS), &kernel).unwrap();
    let mut fast = Pvm::install_boot_sector(&config(TPS), &kernel).unwrap();
    let mut engine = FastEngine::new().unwrap();
    for level in 1..=2 {
        feed(&mut reference, level, &[]);
        feed(&mut fast, level, &[]);
        loop {
            reference.run_until_input(u128::MAX).unwrap();
            if !answer(&mut reference, &oracle) {
                break;
            }
        }
        loop {
            engine.run_until_input(&mut fast, &blind).unwrap();
            if !answer(&mut fast, &oracle) {
                break;
            }
        }
        assert_same(&fast, &reference, &format!("level {level}"), &engine);
    }
    assert_eq!(fast.durable_read("/revealed").unwrap(), Some(preimage));
    assert_eq!(engine.stats().fallbacks, 2, "{:?}", engine.stats());
}

/// A random kernel: a float-free wasm-smith module exporting `kernel_run`
/// and `memory`, free to call host functions with random arguments.
fn smith_kernel(seed: u64) -> Option<Vec<u8>> {
    common::smith_kernel(seed, &common::smith_imports(false), 9, 200)
}

/// Differential fuzz: random kernels over two levels in small cycles (so
/// runs hit the tick limit at every offset), compared after every kernel
/// run. `SORU_FUZZ_KERNELS` sets how many (default 1 000; longer runs are
/// opt-in).
#[test]
fn random_kernels_agree_with_the_pvm() {
    let n: u64 = std::env::var("SORU_FUZZ_KERNELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let mut totals = soru_fast::FastStats::default();
    let mut tried = 0;
    for seed in 0..n {
        let Some(kernel) = smith_kernel(seed) else { continue };
        if std::env::var("SORU_FUZZ_DUMP").is_ok() {
            std::fs::write(format!("/tmp/fuzz-{seed}.wasm"), &kernel).unwrap();
            eprintln!("seed {seed}");
        }
        tried += 1;
        let tps = 4_000 + 997 * u128::from(seed % 11);
        let levels = vec![vec![b"\x01hello".to_vec(), vec![0; 40]], vec![b"x".to_vec()]];
        let stats = differential(&kernel, tps, &levels, Oracle::default());
        assert_eq!(stats.fallbacks, 0, "seed {seed}: {stats:?}");
        totals.fast_runs += stats.fast_runs;
        totals.load_failures += stats.load_failures;
        totals.precise_reruns += stats.precise_reruns;
        totals.pvm_cycles += stats.pvm_cycles;
    }
    eprintln!("{tried} random kernels: {totals:?}");
    assert!(totals.fast_runs > tried / 2, "{totals:?}");
}

/// Ticks of the PVM's load (Snapshot to entering `kernel_run`) of `kernel`.
fn load_ticks(kernel: &[u8]) -> u128 {
    let mut pvm = Pvm::install_boot_sector(&config(TPS), kernel).expect("genesis");
    feed(&mut pvm, 1, &[]);
    pvm.run_to_kernel_load(u128::MAX).expect("run");
    let load = pvm.kernel_load().expect("load").expect("at a kernel load");
    soru_pvm::kernel_run::load_profile(kernel, load.version, u128::MAX)
        .expect("profile")
        .expect("loads")
        .ticks
}

/// One straight-line segment — `k` instructions, then `event`, then more —
/// with the cycle's budget at every value from 0 to past the segment's
/// cost: the run must stop at exactly the PVM's tick, before the event
/// (too many ticks, the event's effects absent) or at it (the trap, the
/// host call and its effects, or too many ticks during the call's own
/// cost), whatever the offset.
#[test]
fn an_event_inside_a_segment_that_crosses_the_limit() {
    let filler = |n: usize| "(local.set $x (i32.add (local.get $x) (i32.const 3)))\n".repeat(n);
    let events = [
        (
            "division by zero",
            "(local.set $x (i32.div_u (local.get $x) (i32.const 0)))",
        ),
        ("memory out of bounds", "(local.set $x (i32.load (i32.const 70000)))"),
        ("unreachable", "unreachable"),
        (
            "store_write",
            "(drop (call $store_write (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 16) (i32.const 300)))",
        ),
    ];
    for k in [0, 1, 7, 30] {
        for (what, event) in events {
            let wat = format!(
                r#"(module {IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 0) "/written")
  (func (export "kernel_run")
    (local $x i32)
    {before}
    {event}
    {after}
    (drop (call $store_has (i32.const 0) (i32.const 8)))))"#,
                before = filler(k),
                after = filler(5),
            );
            let kernel = wat::parse_str(&wat).unwrap();
            let load = load_ticks(&kernel);
            let mut engine = FastEngine::new().unwrap();
            // Budget b = tps − load − 1; the run takes under 6k + 60 ticks
            // plus the write's cost.
            let window = 6 * k as u128 + 60 + if what == "store_write" { 1_500 } else { 0 };
            for budget in 0..window {
                let tps = load + 1 + budget;
                differential_on(&mut engine, &kernel, tps, &[vec![]], Oracle::default());
            }
            if what == "store_write" {
                // The window reaches past the write and its cost.
                let mut pvm = Pvm::install_boot_sector(&config(load + window), &kernel).unwrap();
                feed(&mut pvm, 1, &[]);
                pvm.run_until_input(u128::MAX).unwrap();
                assert!(pvm.durable_read("/written").unwrap().is_some(), "window too short");
            }
            let stats = engine.stats();
            eprintln!("{what} at {k}: {stats:?}");
            assert_all_fast(what, stats);
            assert!(
                stats.precise_reruns > 0 || what == "store_write",
                "{what} at {k}: {stats:?}"
            );
        }
    }
}

/// `bridge`: internal Transfers to the rollup (the oracle's metadata
/// address) become withdrawals in the outbox, others are ignored; both
/// engines agree on every level.
#[test]
fn the_bridge_kernel_agrees_with_the_pvm() {
    use soru_core::base58::{ContractKt1Hash, SmartRollupAddress};
    use soru_core::inbox::{InboxMessage, InternalMessage, Transfer};
    use soru_core::micheline::Micheline;

    let transfer = |destination: [u8; 20], amount: u32| {
        let payload: Micheline = format!(
            "Pair 0x00006b82198cb179e8306c1bedd08f12dc863f328886 (Pair 0x01{}00 (Pair Unit {amount}))",
            "22".repeat(20)
        )
        .parse()
        .expect("payload");
        InboxMessage::Internal(InternalMessage::Transfer(Transfer {
            payload,
            sender: ContractKt1Hash([0x22; 20]),
            source: soru_core::PublicKeyHash::ed25519([0x33; 20]),
            destination: SmartRollupAddress(destination),
        }))
    };
    let levels = [
        vec![transfer([0x11; 20], 1_000)],
        vec![transfer([0x44; 20], 5), InboxMessage::External(b"x".to_vec())],
        vec![transfer([0x11; 20], 7), transfer([0x11; 20], 8)],
    ];
    let mut engine = FastEngine::new().expect("engine");
    let oracle: Arc<dyn RevealOracle> = Arc::new(Oracle::default());
    let mut pvm = Pvm::install_boot_sector(&config(TPS), &kernel("bridge")).expect("genesis");
    for (i, messages) in levels.iter().enumerate() {
        let level = i as u32 + 1;
        let inputs = soru_pvm::inbox::level_inputs(level, common::info(), messages);
        let check = soru_fast::cross_check(&mut engine, &pvm, &inputs, &oracle).expect("cross-check");
        assert_eq!(check.divergence, None, "level {level}");
        assert_eq!(check.inputs_fed, inputs.len(), "level {level}: inputs read");
        pvm = check.pvm;
    }
    assert_all_fast("bridge", engine.stats());
    // One withdrawal per Transfer to this rollup: levels 1 and 3.
    for (level, count) in [(1, 1), (2, 0), (3, 2)] {
        for index in 0..3 {
            let proved = soru_pvm::output_proof::prove_output(&pvm, level, index).is_ok();
            assert_eq!(proved, index < count, "level {level}, message {index}");
        }
    }
}
