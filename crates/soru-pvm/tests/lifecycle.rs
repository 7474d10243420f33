//! The kernel lifecycle on WebAssembly-text kernels: tick accounting per
//! level, yields and reboots, the reboot limit, traps, stuck states, upgrades
//! and fallback, reveals, and determinism of the state hash.

mod common;

use soru_pvm::{durable, Input, InputRequest, Pvm, PvmConfig, RevealRequest, Status, StuckReason};

const TPS: u128 = 100_000;

fn config() -> PvmConfig {
    common::config(TPS)
}

fn kernel(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("valid wat")
}

fn pvm(wat: &str) -> Pvm {
    Pvm::install_boot_sector(&config(), &kernel(wat)).expect("genesis")
}

/// Feeds one inbox level (SOL, info-per-level, the external messages, EOL)
/// and runs until the PVM needs the next input. Returns the ticks of the level.
fn level(pvm: &mut Pvm, level: u32, messages: &[&[u8]]) -> u128 {
    let start = pvm.current_tick();
    common::feed(pvm, level, messages);
    // Stops at the next input request, or at a reveal the test answers.
    pvm.run_until_input(u128::MAX).expect("runs");
    pvm.current_tick() - start
}

use common::{echo_wat, HOST_IMPORTS};

fn runs(pvm: &mut Pvm) -> u32 {
    pvm.durable_read("/runs")
        .expect("readable")
        .map(|v| u32::from_le_bytes(v[..4].try_into().expect("4 bytes")))
        .unwrap_or(0)
}

#[test]
fn a_level_costs_exactly_two_cycles() {
    let mut p = pvm(&echo_wat());
    assert_eq!(p.input_request(), InputRequest::Initial);
    assert_eq!(level(&mut p, 1, &[b"hello", b"world"]), 2 * TPS);
    assert_eq!(p.current_tick(), 2 * TPS);
    assert_eq!(runs(&mut p), 1);
    assert_eq!(p.outbox(1).unwrap(), vec![b"hello".to_vec(), b"world".to_vec()]);
    assert_eq!(level(&mut p, 2, &[]), 2 * TPS);
    assert_eq!(runs(&mut p), 2);
    assert_eq!(p.input_request(), InputRequest::FirstAfter { level: 2, counter: 2 });
    assert_eq!(p.status(), Status::Collect);
    // Yield set the reboot flag for the next level and reset the counter.
    assert_eq!(p.durable_read(durable::REBOOT_FLAG).unwrap(), Some(vec![]));
    assert_eq!(
        p.durable_read(durable::REBOOT_COUNTER).unwrap(),
        Some(1001i32.to_le_bytes().to_vec())
    );
    // The kernel became the fallback when it first loaded.
    assert_eq!(
        p.durable_read(durable::FALLBACK_KERNEL).unwrap(),
        Some(kernel(&echo_wat()))
    );
}

#[test]
fn same_inputs_same_state_hash() {
    let mut a = pvm(&echo_wat());
    let mut b = pvm(&echo_wat());
    assert_eq!(a.state_hash().unwrap(), b.state_hash().unwrap());
    level(&mut a, 1, &[b"x"]);
    level(&mut b, 1, &[b"x"]);
    assert_eq!(a.state_hash().unwrap(), b.state_hash().unwrap());
    let mut c = pvm(&echo_wat());
    level(&mut c, 1, &[b"y"]);
    assert_ne!(a.state_hash().unwrap(), c.state_hash().unwrap());
    // Mid-run states hash the machine too, deterministically.
    for p in [&mut a, &mut b] {
        for (counter, payload) in [vec![0, 1], vec![0, 2]].into_iter().enumerate() {
            p.set_input(Input {
                level: 2,
                counter: counter as u64,
                payload,
            })
            .unwrap();
        }
        p.run(TPS + 10).unwrap();
    }
    assert_eq!(a.status(), Status::Loading);
    assert_eq!(a.state_hash().unwrap(), b.state_hash().unwrap());
}

/// Requests a reboot on every run while /runs < target (u32 at offset 64).
fn reboot_wat(target: u32) -> String {
    format!(
        r#"(module {HOST_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 0) "/runs")
  (data (i32.const 32) "/kernel/env/reboot")
  (func (export "kernel_run")
    (drop (call $store_read (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 16) (i32.const 4)))
    (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (i32.const 1)))
    (drop (call $store_write (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 16) (i32.const 4)))
    (if (i32.lt_u (i32.load (i32.const 16)) (i32.const {target}))
      (then (drop (call $store_write (i32.const 32) (i32.const 18) (i32.const 0) (i32.const 16) (i32.const 0)))))))"#
    )
}

#[test]
fn reboots_add_a_cycle_each_and_keep_unread_inputs() {
    let mut p = pvm(&reboot_wat(4));
    assert_eq!(level(&mut p, 1, &[]), (2 + 3) * TPS, "the first run plus 3 reboots");
    assert_eq!(runs(&mut p), 4);
    assert_eq!(level(&mut p, 2, &[]), 2 * TPS, "no more reboots requested");
    assert_eq!(p.durable_read(durable::TOO_MANY_REBOOT_FLAG).unwrap(), None);
}

#[test]
fn reboot_limit_is_1001_runs_per_level() {
    let mut p = pvm(&reboot_wat(u32::MAX));
    let ticks = level(&mut p, 1, &[]);
    assert_eq!(runs(&mut p), 1001);
    assert_eq!(ticks, (1 + 1001) * TPS);
    assert_eq!(p.durable_read(durable::TOO_MANY_REBOOT_FLAG).unwrap(), Some(vec![]));
    // The flag stays set (the kernel asked), so the next level runs again.
    level(&mut p, 2, &[]);
    assert_eq!(runs(&mut p), 2002);
}

#[test]
fn a_trap_sets_the_stuck_flag_and_keeps_durable_changes() {
    let wat = format!(
        r#"(module {HOST_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 0) "/runs")
  (func (export "kernel_run")
    (i32.store (i32.const 16) (i32.const 1))
    (drop (call $store_write (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 16) (i32.const 4)))
    unreachable))"#
    );
    let mut p = pvm(&wat);
    assert_eq!(level(&mut p, 1, &[]), 2 * TPS);
    assert_eq!(runs(&mut p), 1);
    assert_eq!(p.durable_read(durable::STUCK_FLAG).unwrap(), Some(vec![]));
    assert_eq!(p.status(), Status::Collect, "a trap is not stuck");
}

#[test]
fn stuck_causes() {
    let loop_forever = r#"(module (memory (export "memory") 1)
        (func (export "kernel_run") (loop $l (br $l))))"#;
    let mut p = pvm(loop_forever);
    level(&mut p, 1, &[]);
    assert_eq!(p.status(), Status::Stuck(StuckReason::TooManyTicks));
    // A stuck PVM consumes inputs, one tick each.
    let before = p.current_tick();
    p.set_input(Input {
        level: 2,
        counter: 0,
        payload: vec![0, 1],
    })
    .unwrap();
    assert_eq!(p.current_tick(), before + 1);

    let recursion = r#"(module (memory (export "memory") 1)
        (func $f (call $f))
        (func (export "kernel_run") (call $f)))"#;
    let mut p = pvm(recursion);
    level(&mut p, 1, &[]);
    assert_eq!(p.status(), Status::Stuck(StuckReason::CallStackExhausted));

    let no_run = r#"(module (memory (export "memory") 1))"#;
    let mut p = pvm(no_run);
    level(&mut p, 1, &[]);
    assert!(
        matches!(p.status(), Status::Stuck(StuckReason::Init(_))),
        "{:?}",
        p.status()
    );

    let no_memory = r#"(module (memory 1) (func (export "kernel_run")))"#;
    let mut p = pvm(no_memory);
    level(&mut p, 1, &[]);
    assert!(matches!(p.status(), Status::Stuck(StuckReason::Init(_))));

    let floats = r#"(module (memory (export "memory") 1)
        (func (export "kernel_run") (drop (f32.const 1))))"#;
    let mut p = pvm(floats);
    level(&mut p, 1, &[]);
    assert!(matches!(p.status(), Status::Stuck(StuckReason::Decode(_))));

    let unknown_import = r#"(module (import "smart_rollup_core" "nope" (func))
        (memory (export "memory") 1) (func (export "kernel_run")))"#;
    let mut p = pvm(unknown_import);
    level(&mut p, 1, &[]);
    assert!(matches!(p.status(), Status::Stuck(StuckReason::Link(_))));

    let wrong_signature = r#"(module (import "smart_rollup_core" "read_input" (func (param i32)))
        (memory (export "memory") 1) (func (export "kernel_run")))"#;
    let mut p = pvm(wrong_signature);
    level(&mut p, 1, &[]);
    assert!(matches!(p.status(), Status::Stuck(StuckReason::Link(_))));

    let start_calls_host = r#"(module
        (import "smart_rollup_core" "write_debug" (func $debug (param i32 i32)))
        (memory (export "memory") 1)
        (func $start (call $debug (i32.const 0) (i32.const 1)))
        (start $start)
        (func (export "kernel_run")))"#;
    let mut p = pvm(start_calls_host);
    level(&mut p, 1, &[]);
    assert!(matches!(p.status(), Status::Stuck(StuckReason::Init(_))));
}

/// Writes the kernel stored in its data (at 1024, `len` bytes) to
/// /kernel/boot.wasm and reboots.
fn upgrader_wat(new_kernel: &[u8]) -> String {
    let escaped: String = new_kernel.iter().map(|b| format!("\\{b:02x}")).collect();
    format!(
        r#"(module {HOST_IMPORTS}
  (import "smart_rollup_core" "store_delete" (func $store_delete (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "/kernel/boot.wasm")
  (data (i32.const 32) "/kernel/env/reboot")
  (data (i32.const 1024) "{escaped}")
  (func (export "kernel_run")
    (drop (call $store_delete (i32.const 0) (i32.const 17)))
    (drop (call $store_write (i32.const 0) (i32.const 17) (i32.const 0) (i32.const 1024) (i32.const {len})))
    (drop (call $store_write (i32.const 32) (i32.const 18) (i32.const 0) (i32.const 16) (i32.const 0)))))"#,
        len = new_kernel.len()
    )
}

#[test]
fn upgrades_and_fallback() {
    // A valid upgrade: the new kernel runs after the reboot.
    let new = kernel(&echo_wat());
    let mut p = pvm(&upgrader_wat(&new));
    level(&mut p, 1, &[b"after"]);
    assert_eq!(p.durable_read(durable::KERNEL_BOOT).unwrap(), Some(new.clone()));
    assert_eq!(runs(&mut p), 1, "the new kernel ran once, in the reboot");
    assert_eq!(p.durable_read(durable::UPGRADE_ERROR_FLAG).unwrap(), None);

    // An invalid upgrade: the fallback (the upgrader) is restored.
    let garbage = b"\0asm\x01\0\0\0\xff".to_vec();
    let upgrader = kernel(&upgrader_wat(&garbage));
    let mut p = Pvm::install_boot_sector(&config(), &upgrader).unwrap();
    level(&mut p, 1, &[]);
    assert_eq!(p.durable_read(durable::UPGRADE_ERROR_FLAG).unwrap(), Some(vec![]));
    assert_eq!(p.durable_read(durable::KERNEL_BOOT).unwrap(), Some(upgrader));
    assert_eq!(p.status(), Status::Collect);
}

#[test]
fn reveal_preimage_waits_for_data() {
    let preimage = b"the revealed page".to_vec();
    let mut hash = vec![0u8];
    hash.extend(soru_core::hash::blake2b_256(&preimage));
    let escaped: String = hash.iter().map(|b| format!("\\{b:02x}")).collect();
    let wat = format!(
        r#"(module {HOST_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 0) "/revealed")
  (data (i32.const 64) "{escaped}")
  (func (export "kernel_run")
    (local $n i32)
    (local.set $n (call $reveal_preimage (i32.const 64) (i32.const 33) (i32.const 512) (i32.const 4096)))
    (drop (call $store_write (i32.const 0) (i32.const 9) (i32.const 0) (i32.const 512) (local.get $n)))))"#
    );
    let mut p = pvm(&wat);
    level(&mut p, 1, &[]);
    let request = p.input_request();
    let InputRequest::Reveal(RevealRequest::RawData(h)) = request else {
        panic!("{request:?}")
    };
    assert_eq!(h.to_tagged_bytes().to_vec(), hash);
    assert!(p.reveal(b"wrong data").is_err(), "the hash is checked");
    p.reveal(&preimage).unwrap();
    p.run_until_input(u128::MAX).unwrap();
    assert_eq!(p.durable_read("/revealed").unwrap(), Some(preimage));
    assert_eq!(p.status(), Status::Collect);
    assert_eq!(p.current_tick(), 2 * TPS, "a reveal stays inside the cycle");
}

#[test]
fn bad_api_use_is_refused_without_change() {
    let mut p = pvm(&echo_wat());
    let h = p.state_hash().unwrap();
    assert!(p.step().is_err(), "input needed first");
    assert!(p.reveal(b"x").is_err());
    assert!(p
        .set_input(Input {
            level: 1,
            counter: 0,
            payload: vec![0; 4097]
        })
        .is_err());
    assert_eq!(p.state_hash().unwrap(), h);
}

#[test]
fn decoding_past_the_cycle_gets_stuck_at_the_same_tick_however_the_pvm_is_driven() {
    // More decode units (one per instruction) than a cycle has ticks.
    let body = "(drop (i32.const 1))\n".repeat(TPS as usize / 2 + 10);
    let wat = format!(r#"(module (memory (export "memory") 1) (func (export "kernel_run") {body}))"#);
    let mut ran = pvm(&wat);
    let mut stepped = pvm(&wat);
    common::feed(&mut ran, 1, &[]);
    common::feed(&mut stepped, 1, &[]);
    // Owned decoding runs many units per call; one tick at a time must agree.
    ran.run_until_input(u128::MAX).expect("runs");
    while stepped.input_request() == InputRequest::NoInputRequired {
        stepped.step().expect("steps");
    }
    assert_eq!(ran.status(), Status::Stuck(StuckReason::TooManyTicks));
    assert_eq!(stepped.status(), ran.status());
    assert_eq!(stepped.current_tick(), ran.current_tick());
    assert_eq!(stepped.state_hash().unwrap(), ran.state_hash().unwrap());
}
