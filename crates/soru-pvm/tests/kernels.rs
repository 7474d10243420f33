//! The example kernels of `kernels/` (built with the official SDK) on the
//! PVM: scripted inboxes, asserted durable values, outboxes, flags and tick
//! counters, and the host-function table of the `hostfns` kernel.

mod common;

use std::collections::BTreeMap;

use soru_pvm::{Input, InputRequest, Pvm, PvmConfig, RevealRequest, Status};

const TPS: u128 = 50_000_000_000_000;

fn config() -> PvmConfig {
    common::config(TPS)
}

fn kernel(name: &str) -> Vec<u8> {
    common::example_kernel(name)
}

fn boot(name: &str) -> Pvm {
    Pvm::install_boot_sector(&config(), &kernel(name)).expect("genesis")
}

/// Preimages the reveal oracle knows (always including the empty one).
fn oracle() -> BTreeMap<[u8; 32], Vec<u8>> {
    let mut m = BTreeMap::new();
    m.insert(soru_core::hash::blake2b_256(b""), Vec::new());
    m
}

/// Metadata answer: rollup address ‖ origination level (int32 BE).
fn metadata() -> Vec<u8> {
    let mut m = vec![0x11; 20];
    m.extend_from_slice(&1i32.to_be_bytes());
    m
}

/// Runs until the next input is needed, answering reveals from `preimages`.
fn settle(pvm: &mut Pvm, preimages: &BTreeMap<[u8; 32], Vec<u8>>) {
    loop {
        pvm.run_until_input(u128::MAX).expect("runs");
        match pvm.input_request() {
            InputRequest::Reveal(RevealRequest::Metadata) => pvm.reveal(&metadata()).expect("metadata"),
            InputRequest::Reveal(RevealRequest::RawData(h)) => {
                let data = preimages.get(&h.0).unwrap_or_else(|| panic!("unknown preimage {h:?}"));
                pvm.reveal(data).expect("preimage")
            }
            _ => return,
        }
    }
}

/// Feeds a standard level (SOL, info-per-level, externals, EOL) and settles.
fn level(pvm: &mut Pvm, level: u32, messages: &[Vec<u8>], preimages: &BTreeMap<[u8; 32], Vec<u8>>) -> u128 {
    let start = pvm.current_tick();
    let payloads: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    common::feed(pvm, level, &payloads);
    settle(pvm, preimages);
    pvm.current_tick() - start
}

fn read_u64(pvm: &mut Pvm, key: &str) -> Option<u64> {
    pvm.durable_read(key)
        .unwrap()
        .map(|v| u64::from_le_bytes(v[..8].try_into().unwrap()))
}

fn read_u32(pvm: &mut Pvm, key: &str) -> Option<u32> {
    pvm.durable_read(key)
        .unwrap()
        .map(|v| u32::from_le_bytes(v[..4].try_into().unwrap()))
}

#[test]
fn hostfns_match_the_reviewed_table() {
    let expected: BTreeMap<String, i64> = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../kernels/hostfns/expected.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("table"),
    )
    .expect("json");
    let mut pvm = boot("hostfns");
    level(&mut pvm, 1, &[], &oracle());
    assert_eq!(pvm.status(), Status::Collect);
    assert_eq!(pvm.durable_read("/hostfns_incomplete").unwrap(), None);
    let mut mismatches = Vec::new();
    for (case, code) in &expected {
        let got = pvm
            .durable_read(&format!("/hostfns/{case}"))
            .unwrap()
            .map(|v| i64::from_le_bytes(v[..8].try_into().unwrap()));
        if got != Some(*code) {
            mismatches.push(format!("{case}: expected {code}, got {got:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert_eq!(pvm.outbox(1).unwrap().len(), 100);
}

#[test]
fn echo_copies_external_messages_to_the_outbox() {
    let mut pvm = boot("echo");
    let a = hex::decode("00000000280a0000000268690115edad279f55e2fe4011de6d2c24fdf51bf225c5000000000764656661756c74")
        .unwrap();
    assert_eq!(level(&mut pvm, 1, &[a.clone(), b"xyz".to_vec()], &oracle()), 2 * TPS);
    assert_eq!(pvm.outbox(1).unwrap(), vec![a, b"xyz".to_vec()]);
    assert_eq!(level(&mut pvm, 2, &[], &oracle()), 2 * TPS);
    assert!(pvm.outbox(2).unwrap().is_empty());
}

#[test]
fn counter_counts_external_messages() {
    let mut pvm = boot("counter");
    level(&mut pvm, 1, &[b"a".to_vec(), b"b".to_vec()], &oracle());
    level(&mut pvm, 2, &[b"c".to_vec()], &oracle());
    assert_eq!(read_u64(&mut pvm, "/counter"), Some(3));
    assert_eq!(read_u32(&mut pvm, "/level"), Some(2));
    assert_eq!(pvm.current_tick(), 4 * TPS);
}

#[test]
fn reboot_runs_target_times_per_level() {
    let mut pvm = boot("reboot");
    assert_eq!(level(&mut pvm, 1, &[], &oracle()), (1 + 3) * TPS, "default target 3");
    assert_eq!(read_u32(&mut pvm, "/reboot/runs"), Some(3));
    let mut five = b"R".to_vec();
    five.extend_from_slice(&5u32.to_le_bytes());
    assert_eq!(level(&mut pvm, 2, &[five], &oracle()), (1 + 5) * TPS);
    assert_eq!(read_u32(&mut pvm, "/reboot/runs"), Some(8));
    let mut many = b"R".to_vec();
    many.extend_from_slice(&5000u32.to_le_bytes());
    assert_eq!(level(&mut pvm, 3, &[many], &oracle()), (1 + 1001) * TPS);
    assert_eq!(read_u32(&mut pvm, "/reboot/runs"), Some(8 + 1001));
    assert_eq!(
        pvm.durable_read(soru_pvm::durable::TOO_MANY_REBOOT_FLAG).unwrap(),
        Some(vec![])
    );
    assert_eq!(
        pvm.durable_read(soru_pvm::durable::REBOOT_COUNTER).unwrap(),
        Some(1001i32.to_le_bytes().to_vec())
    );
}

#[test]
fn trap_keeps_earlier_writes_and_recovers() {
    let mut pvm = boot("trap");
    level(&mut pvm, 1, &[b"trap".to_vec()], &oracle());
    assert_eq!(pvm.durable_read("/trap/before").unwrap(), Some(b"1".to_vec()));
    assert_eq!(pvm.durable_read(soru_pvm::durable::STUCK_FLAG).unwrap(), Some(vec![]));
    assert_eq!(pvm.status(), Status::Collect);
    level(&mut pvm, 2, &[b"fine".to_vec()], &oracle());
    assert_eq!(read_u32(&mut pvm, "/trap/ok"), Some(2));
    assert_eq!(pvm.durable_read(soru_pvm::durable::STUCK_FLAG).unwrap(), None);
}

#[test]
fn loop_forever_gets_stuck_on_ticks() {
    let small = PvmConfig {
        ticks_per_snapshot: 2_000_000,
        ..config()
    };
    let mut pvm = Pvm::install_boot_sector(&small, &kernel("loop-forever")).unwrap();
    level(&mut pvm, 1, &[], &oracle());
    assert_eq!(pvm.status(), Status::Stuck(soru_pvm::StuckReason::TooManyTicks));
    assert_eq!(pvm.current_tick(), 2 * 2_000_000);
}

fn deep_result(n: u32) -> u64 {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 1..=u64::from(n) {
        x = x.rotate_left(7) ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
    x
}

#[test]
fn deep_recursion_fits_or_exhausts_the_stack() {
    let mut pvm = boot("deep-recursion");
    let mut msg = b"D".to_vec();
    msg.extend_from_slice(&59_000u32.to_le_bytes());
    level(&mut pvm, 1, &[msg], &oracle());
    assert_eq!(read_u64(&mut pvm, "/deep/result"), Some(deep_result(59_000)));
    let mut msg = b"D".to_vec();
    msg.extend_from_slice(&100_000u32.to_le_bytes());
    level(&mut pvm, 2, &[msg], &oracle());
    assert_eq!(pvm.status(), Status::Stuck(soru_pvm::StuckReason::CallStackExhausted));
    assert_eq!(read_u32(&mut pvm, "/deep/n"), Some(59_000));
}

#[test]
fn memory_grow() {
    let mut pvm = boot("memory-grow");
    let mut msg = b"G".to_vec();
    msg.extend_from_slice(&100u32.to_le_bytes());
    level(&mut pvm, 1, &[msg], &oracle());
    let last = pvm
        .durable_read("/memory/last_grow")
        .unwrap()
        .map(|v| i32::from_le_bytes(v[..4].try_into().unwrap()))
        .unwrap();
    assert!(last > 0);
    assert_eq!(read_u32(&mut pvm, "/memory/pages"), Some(last as u32 + 100));
    assert_eq!(pvm.durable_read("/memory/touched").unwrap(), Some(b"1".to_vec()));
    let mut too_much = b"G".to_vec();
    too_much.extend_from_slice(&70_000u32.to_le_bytes());
    level(&mut pvm, 2, &[too_much], &oracle());
    let last = pvm
        .durable_read("/memory/last_grow")
        .unwrap()
        .map(|v| i32::from_le_bytes(v[..4].try_into().unwrap()));
    assert_eq!(last, Some(-1));
}

fn compute_expected(n: u32) -> (u64, u64) {
    let mut x: u64 = 0x243f_6a88_85a3_08d3 ^ u64::from(n);
    for i in 0..u64::from(n) {
        x ^= x >> 30;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        x = x.wrapping_add(i);
    }
    let mut s = n ^ 0x9e37_79b9;
    if s == 0 {
        s = 1;
    }
    let mut values: Vec<u32> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        })
        .collect();
    values.sort_unstable();
    let d = values.iter().fold(0xcbf2_9ce4_8422_2325u64, |d, v| {
        (d ^ u64::from(*v)).wrapping_mul(0x100_0000_01b3)
    });
    (x, d)
}

#[test]
fn compute_matches_its_specification() {
    let mut pvm = boot("compute");
    let mut msg = b"C".to_vec();
    msg.extend_from_slice(&10_000u32.to_le_bytes());
    level(&mut pvm, 1, &[msg], &oracle());
    let (hash, sorted) = compute_expected(10_000);
    assert_eq!(read_u64(&mut pvm, "/compute/hash"), Some(hash));
    assert_eq!(read_u64(&mut pvm, "/compute/sorted"), Some(sorted));
    assert_eq!(read_u64(&mut pvm, "/compute/count"), Some(1));
}

#[test]
fn tx_applies_signed_transfers() {
    use ed25519_dalek::SigningKey;
    let (alice, bob) = ([1u8; 32], [2u8; 32]);
    let alice_pk = SigningKey::from_bytes(&alice).verifying_key().to_bytes();
    let bob_pk = SigningKey::from_bytes(&bob).verifying_key().to_bytes();
    let mut pvm = boot("tx");
    let mut forged = common::signed_transfer(alice, 1, &bob_pk, 5);
    forged[40] ^= 1; // bad signature
    level(
        &mut pvm,
        1,
        &[
            common::signed_transfer(alice, 0, &bob_pk, 300),
            common::signed_transfer(alice, 0, &bob_pk, 1), // replayed nonce
            forged,
            common::signed_transfer(alice, 1, &bob_pk, 2_000_000), // more than the balance
            common::signed_transfer(alice, 1, &bob_pk, 200),
        ],
        &oracle(),
    );
    let account = |pk: &[u8; 32], field: &str| format!("/accounts/{}/{field}", hex::encode(pk));
    assert_eq!(
        read_u64(&mut pvm, &account(&alice_pk, "balance")),
        Some(1_000_000 - 500)
    );
    assert_eq!(read_u64(&mut pvm, &account(&bob_pk, "balance")), Some(500));
    assert_eq!(read_u64(&mut pvm, &account(&alice_pk, "nonce")), Some(2));
    assert_eq!(read_u64(&mut pvm, "/tx/accepted"), Some(2));
    assert_eq!(read_u64(&mut pvm, "/tx/rejected"), Some(3));
}

#[test]
fn durable_heavy_and_big_code_run_deterministically() {
    for name in ["durable-heavy", "big-code"] {
        let mut a = boot(name);
        let mut b = boot(name);
        for p in [&mut a, &mut b] {
            level(p, 1, &[b"1".to_vec(), b"2".to_vec()], &oracle());
            level(p, 2, &[b"3".to_vec()], &oracle());
        }
        assert_eq!(a.state_hash().unwrap(), b.state_hash().unwrap(), "{name}");
        assert_eq!(a.status(), Status::Collect, "{name}");
    }
    let mut pvm = boot("durable-heavy");
    level(&mut pvm, 1, &[b"1".to_vec(), b"2".to_vec()], &oracle());
    assert_eq!(read_u64(&mut pvm, "/durable-heavy/count"), Some(2));
    assert_eq!(read_u64(&mut pvm, "/durable-heavy/children"), Some(50));
    let mut pvm = boot("big-code");
    level(&mut pvm, 1, &[], &oracle());
    assert_eq!(read_u64(&mut pvm, "/big-code/runs"), Some(1));
}

#[test]
fn installer_upgrades_to_a_large_kernel_through_reveals() {
    let big = kernel("big-code");
    let (root, pages) = common::reveal_pages(&big);
    let mut preimages = oracle();
    preimages.extend(pages);
    let installer = common::installer_for(root);
    let mut pvm = Pvm::install_boot_sector(&config(), &installer).unwrap();
    assert_eq!(
        level(&mut pvm, 1, &[], &preimages),
        3 * TPS,
        "installer run + reboot into big-code"
    );
    assert_eq!(pvm.durable_read(soru_pvm::durable::KERNEL_BOOT).unwrap(), Some(big));
    assert_eq!(read_u64(&mut pvm, "/big-code/runs"), Some(1));
    assert_eq!(pvm.durable_read("/installer/error").unwrap(), None);
    level(&mut pvm, 2, &[], &preimages);
    assert_eq!(read_u64(&mut pvm, "/big-code/runs"), Some(2));
}

#[test]
fn wat_kernels_fail_as_documented() {
    for (name, expect) in [
        ("unknown-import", "link"),
        ("wrong-signature", "link"),
        ("start-calls-host", "init"),
        ("no-kernel-run", "init"),
        ("no-memory-export", "init"),
    ] {
        let path = format!("{}/../../kernels/wat/{name}.wat", env!("CARGO_MANIFEST_DIR"));
        let bytes = wat::parse_file(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut pvm = Pvm::install_boot_sector(&config(), &bytes).unwrap();
        level(&mut pvm, 1, &[], &oracle());
        let status = pvm.status();
        let ok = matches!(
            (expect, &status),
            ("link", Status::Stuck(soru_pvm::StuckReason::Link(_)))
                | ("init", Status::Stuck(soru_pvm::StuckReason::Init(_)))
        );
        assert!(ok, "{name}: {status:?}");
    }
}

#[test]
fn protocol_migration_to_an_older_protocol_keeps_the_version() {
    let config = PvmConfig {
        ticks_per_snapshot: 1_000_000,
        ..config()
    };
    let mut pvm = Pvm::install_boot_sector(&config, &kernel("counter")).unwrap();
    assert_eq!(pvm.version(), "2.0.0-r6");
    // An older protocol's name never downgrades.
    let mut migration = vec![0, 4];
    migration.extend_from_slice(&8u32.to_be_bytes());
    migration.extend_from_slice(b"t024_024");
    for (counter, payload) in [vec![0, 1], migration, vec![0, 2]].into_iter().enumerate() {
        pvm.set_input(Input {
            level: 1,
            counter: counter as u64,
            payload,
        })
        .unwrap();
    }
    pvm.run_until_input(u128::MAX).unwrap();
    assert_eq!(pvm.version(), "2.0.0-r6");
    assert_eq!(
        pvm.durable_read(soru_pvm::durable::WASM_VERSION).unwrap(),
        Some(b"2.0.0-r6".to_vec())
    );
}
