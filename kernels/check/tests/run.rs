//! Runs every kernel in the emulator of `check` (soru-wasm + Octez's
//! host-function semantics) and checks the behaviour README.md documents.

use check::{decode, kernel, wat_kernel, Emu, RunEnd};
use soru_wasm::exec::Trap;

#[allow(dead_code)]
mod spec {
    include!("../../big-code/spec.rs");
}

include!("../../hostfns/src/cases.rs");

const R: RunEnd = RunEnd::Returned;

fn u32_msg(tag: u8, n: u32) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&n.to_le_bytes());
    m
}

#[test]
fn echo_writes_external_payloads_to_the_outbox() {
    let mut emu = Emu::new(&kernel("echo"));
    // An untyped outbox batch (tag 0, empty list) and arbitrary bytes.
    let batch = [0x00, 0x00, 0x00, 0x00, 0x00];
    assert_eq!(emu.level(&[&batch, b"hello"]), [R]);
    assert_eq!(emu.outbox[&1], [batch.to_vec(), b"hello".to_vec()]);
    // Internal messages (here a transfer-tagged one) are not echoed.
    assert_eq!(
        emu.level_raw(vec![vec![0, 1], vec![0, 0, 1, 2, 3], vec![1, 42], vec![0, 2]]),
        [R]
    );
    assert_eq!(emu.outbox[&2], [vec![42]]);
}

#[test]
fn counter_counts_external_messages_and_records_the_level() {
    let mut emu = Emu::new(&kernel("counter"));
    assert_eq!(emu.level(&[b"a", b"b"]), [R]);
    assert_eq!(emu.durable.u64("/counter"), Some(2));
    assert_eq!(emu.durable.u32("/level"), Some(1));
    emu.level(&[b"c", b"d", b"e"]);
    emu.level(&[]);
    assert_eq!(emu.durable.u64("/counter"), Some(5));
    assert_eq!(emu.durable.u32("/level"), Some(3));
}

#[test]
fn reboot_runs_target_times_per_level() {
    let mut emu = Emu::new(&kernel("reboot"));
    assert_eq!(emu.level(&[]).len(), 3);
    assert_eq!(emu.durable.u32("/reboot/runs"), Some(3));
    assert_eq!(emu.durable.u32("/reboot/runs_this_level"), Some(3));
    assert_eq!(emu.durable.u32("/reboot/level"), Some(1));
    assert_eq!(emu.level(&[&u32_msg(b'R', 5)]).len(), 5);
    assert_eq!(emu.durable.u32("/reboot/runs"), Some(8));
    assert_eq!(emu.durable.u32("/reboot/runs_this_level"), Some(5));
    assert_eq!(emu.level(&[]).len(), 5);
    assert_eq!(emu.level(&[&u32_msg(b'R', 0)]).len(), 1);
    assert_eq!(emu.durable.u32("/reboot/runs"), Some(14));
    // Beyond the limit: 1 001 runs, then a forced yield.
    assert_eq!(emu.level(&[&u32_msg(b'R', 2000)]).len(), 1001);
    assert!(emu.durable.exists("/readonly/kernel/env/too_many_reboot"));
    assert_eq!(emu.durable.u32("/reboot/runs_this_level"), Some(1001));
    assert_eq!(emu.level(&[&u32_msg(b'R', 1)]).len(), 1);
    assert!(!emu.durable.exists("/readonly/kernel/env/too_many_reboot"));
    assert_eq!(emu.durable.u32("/reboot/runs_this_level"), Some(1));
    assert_eq!(emu.durable.u32("/reboot/level"), Some(6));
}

fn installed(kernel_bytes: &[u8]) -> Emu {
    let split = pages::split(kernel_bytes);
    let mut installer = kernel("installer");
    pages::patch_installer(&mut installer, &split.root).expect("patch");
    let mut emu = Emu::new(&installer);
    emu.preimages.extend(split.pages);
    emu
}

#[test]
fn installer_installs_big_code_from_pages_and_reboots_into_it() {
    let big = kernel("big-code");
    let split = pages::split(&big);
    assert!(split.pages.len() > 200, "{} pages", split.pages.len());
    assert_eq!(
        pages::reassemble(&split.root, &|h| split.pages.get(h).cloned()).expect("reassemble"),
        big
    );
    let mut emu = installed(&big);
    assert_eq!(emu.level(&[b"m"]), [R, R]);
    assert_eq!(emu.durable.get("/kernel/boot.wasm"), Some(&big[..]));
    assert_eq!(emu.durable.u32("/installer/size"), Some(big.len() as u32));
    assert!(!emu.durable.exists("/installer/staging"));
    // big-code ran in the same level and saw its inputs (level 1).
    assert_eq!(emu.durable.u64("/big-code/result"), Some(big_code_result(1)));
    assert_eq!(emu.level(&[]), [R]);
    assert_eq!(emu.durable.u64("/big-code/result"), Some(big_code_result(2)));
    assert_eq!(emu.durable.u64("/big-code/runs"), Some(2));
}

#[test]
fn installer_installs_a_small_kernel_that_sees_the_level_inputs() {
    let counter = kernel("counter");
    let mut emu = installed(&counter);
    assert_eq!(emu.level(&[b"a", b"b", b"c"]), [R, R]);
    assert_eq!(emu.durable.get("/kernel/boot.wasm"), Some(&counter[..]));
    assert_eq!(emu.durable.u64("/counter"), Some(3));
}

#[test]
fn installer_reports_an_unpatched_hash_and_a_bad_kernel() {
    let mut emu = Emu::new(&kernel("installer"));
    assert_eq!(emu.level(&[]), [R]);
    assert_eq!(emu.durable.get("/installer/error"), Some(&b"unpatched root hash"[..]));
    // A kernel that does not decode: the fallback (the installer) comes back.
    let mut emu = installed(b"not a wasm module");
    let ends = emu.level(&[]);
    assert_eq!(ends.len(), 2);
    assert!(matches!(ends[1], RunEnd::UpgradeFailed(_)), "{ends:?}");
    assert!(emu.durable.exists("/readonly/kernel/env/upgrade_error"));
    assert_eq!(
        emu.durable.get("/kernel/boot.wasm"),
        emu.durable.get("/readonly/kernel/boot.wasm")
    );
}

fn big_code_result(level: u32) -> u64 {
    (0..spec::FUNCTIONS).fold(u64::from(level), |x, i| spec::apply(i, x))
}

#[test]
fn big_code_applies_every_generated_function() {
    let mut emu = Emu::new(&kernel("big-code"));
    assert_eq!(emu.level(&[b"x"]), [R]);
    assert_eq!(emu.durable.u64("/big-code/result"), Some(big_code_result(1)));
    assert_eq!(emu.durable.u64("/big-code/runs"), Some(1));
}

#[test]
fn hostfns_codes_match_expected_json() {
    let text = std::fs::read_to_string(check::kernels_dir().join("hostfns/expected.json")).expect("expected.json");
    let expected: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).expect("JSON");
    let mut emu = Emu::new(&kernel("hostfns"));
    assert_eq!(emu.level(&[b"x"]), [R]);
    assert!(!emu.durable.exists("/hostfns_incomplete"));
    let mut wrong = Vec::new();
    for name in CASES {
        let got = emu.durable.i64(&format!("/hostfns/{name}"));
        let want = expected[*name].as_i64();
        if got != want {
            wrong.push(format!("{name}: got {got:?}, expected {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(emu.outbox[&1].len(), 100);
    assert!(String::from_utf8_lossy(&emu.debug).contains("hostfns: write_debug"));
    // Later levels do not run the suite again.
    assert_eq!(emu.level(&[b"y"]), [R]);
    assert!(emu.outbox[&2].is_empty());
}

#[test]
fn trap_keeps_earlier_durable_writes_and_sets_the_stuck_flag() {
    let mut emu = Emu::new(&kernel("trap"));
    assert_eq!(emu.level(&[b"a", b"trap", b"b"]), [RunEnd::Trapped(Trap::Unreachable)]);
    assert_eq!(emu.durable.get("/trap/before"), Some(&b"1"[..]));
    assert!(emu.durable.exists("/readonly/kernel/env/stuck"));
    assert!(!emu.durable.exists("/trap/ok"));
    assert_eq!(emu.level(&[b"fine"]), [R]);
    assert_eq!(emu.durable.u32("/trap/ok"), Some(2));
    assert!(!emu.durable.exists("/readonly/kernel/env/stuck"));
}

#[test]
fn loop_forever_runs_out_of_ticks() {
    let mut emu = Emu::new(&kernel("loop-forever"));
    emu.fuel = 2_000_000;
    assert_eq!(emu.level(&[]), [RunEnd::Stuck("too many ticks".into())]);
}

fn descend(n: u32) -> u64 {
    (1..=n).fold(0x9e37_79b9_7f4a_7c15u64, |x, i| {
        x.rotate_left(7) ^ u64::from(i).wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

#[test]
fn deep_recursion_fits_below_60000_frames_and_exhausts_the_stack_above() {
    let mut emu = Emu::new(&kernel("deep-recursion"));
    assert_eq!(emu.level(&[&u32_msg(b'D', 1000)]), [R]);
    assert_eq!(emu.durable.u64("/deep/result"), Some(descend(1000)));
    assert_eq!(emu.level(&[&u32_msg(b'D', 59_000)]), [R]);
    assert_eq!(emu.durable.u64("/deep/result"), Some(descend(59_000)));
    assert_eq!(emu.durable.u32("/deep/n"), Some(59_000));
    assert_eq!(
        emu.level(&[&u32_msg(b'D', 100_000)]),
        [RunEnd::Stuck("call stack exhausted".into())]
    );
    assert_eq!(emu.durable.u32("/deep/n"), Some(59_000));
}

#[test]
fn memory_grow_grows_and_reports() {
    let bytes = kernel("memory-grow");
    let initial = decode(&bytes).expect("decodes").memories[0].limits.min as u32;
    let mut emu = Emu::new(&bytes);
    assert_eq!(emu.level(&[&u32_msg(b'G', 10), &u32_msg(b'G', 5)]), [R]);
    // The allocator may grow the memory too (reading inputs): compare the
    // result with the size just before the second grow.
    let before = emu.durable.u32("/memory/last_grow").expect("last_grow");
    assert!(before >= initial + 10, "{before}");
    assert_eq!(emu.durable.u32("/memory/pages"), Some(before + 5));
    assert_eq!(emu.durable.get("/memory/touched"), Some(&b"1"[..]));
    // Memory starts afresh at every run.
    assert_eq!(emu.level(&[&u32_msg(b'G', 1)]), [R]);
    let before = emu.durable.u32("/memory/last_grow").expect("last_grow");
    assert!(before < initial + 10, "{before}");
    assert_eq!(emu.durable.u32("/memory/pages"), Some(before + 1));
    assert_eq!(emu.level(&[&u32_msg(b'G', 70_000)]), [R]);
    assert_eq!(emu.durable.u32("/memory/last_grow"), Some(u32::MAX));
    assert!(emu.durable.u32("/memory/pages").expect("pages") < initial + 10);
}

fn account(pk: &[u8; 32], field: &str) -> String {
    format!("/accounts/{}/{field}", tx_sign::to_hex(pk))
}

#[test]
fn tx_applies_signed_transfers_and_rejects_bad_ones() {
    let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let (pa, pb, pc) = (
        tx_sign::public_key(&a),
        tx_sign::public_key(&b),
        tx_sign::public_key(&c),
    );
    let mut bad_sig = tx_sign::transfer(&a, 1, &pb, 1);
    bad_sig[40] ^= 1;
    let mut emu = Emu::new(&kernel("tx"));
    let ends = emu.level(&[
        &tx_sign::transfer(&a, 0, &pb, 100),
        &tx_sign::transfer(&a, 0, &pb, 100),       // replayed nonce
        &tx_sign::transfer(&a, 1, &pb, 2_000_000), // more than the balance
        &bad_sig,
        &tx_sign::transfer(&a, 1, &pb, 1)[..100],  // wrong length
        &tx_sign::transfer(&b, 0, &pa, 1_000_050), // faucet included
        &tx_sign::transfer(&c, 0, &pa, 5_000_000), // new sender, too much
        b"X not a transfer",
    ]);
    assert_eq!(ends, [R]);
    let d = &emu.durable;
    assert_eq!(d.u64(&account(&pa, "balance")), Some(1_000_000 - 100 + 1_000_050));
    assert_eq!(d.u64(&account(&pb, "balance")), Some(1_000_000 + 100 - 1_000_050));
    assert_eq!(d.u64(&account(&pa, "nonce")), Some(1));
    assert_eq!(d.u64(&account(&pb, "nonce")), Some(1));
    assert!(!d.exists(&format!("/accounts/{}", tx_sign::to_hex(&pc))));
    assert_eq!(d.u64("/tx/accepted"), Some(2));
    assert_eq!(d.u64("/tx/rejected"), Some(5));
    // The next transfer of a uses nonce 1; self-transfers only use the nonce.
    emu.level(&[&tx_sign::transfer(&a, 1, &pa, 7), &tx_sign::transfer(&c, 0, &pc, 10)]);
    let d = &emu.durable;
    assert_eq!(d.u64(&account(&pa, "balance")), Some(1_999_950));
    assert_eq!(d.u64(&account(&pa, "nonce")), Some(2));
    assert_eq!(d.u64(&account(&pc, "balance")), Some(1_000_000));
    assert_eq!(d.u64("/tx/accepted"), Some(4));
}

fn hash_loop(n: u32) -> u64 {
    let mut x = 0x243f_6a88_85a3_08d3 ^ u64::from(n);
    for i in 0..n {
        x ^= x >> 30;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        x = x.wrapping_add(u64::from(i));
    }
    x
}

fn sorted_digest(n: u32) -> u64 {
    let mut state = n ^ 0x9e37_79b9;
    if state == 0 {
        state = 1;
    }
    let mut values: Vec<u32> = (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        })
        .collect();
    values.sort_unstable();
    values.iter().fold(0xcbf2_9ce4_8422_2325u64, |d, v| {
        (d ^ u64::from(*v)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn compute_hashes_and_sorts() {
    let mut emu = Emu::new(&kernel("compute"));
    assert_eq!(emu.level(&[&u32_msg(b'C', 0), &u32_msg(b'C', 20_000)]), [R]);
    assert_eq!(emu.durable.u64("/compute/hash"), Some(hash_loop(20_000)));
    assert_eq!(emu.durable.u64("/compute/sorted"), Some(sorted_digest(20_000)));
    assert_eq!(emu.durable.u32("/compute/n"), Some(20_000));
    assert_eq!(emu.durable.u64("/compute/count"), Some(2));
}

#[test]
fn durable_heavy_copies_moves_deletes_and_lists() {
    let run = || {
        let mut emu = Emu::new(&kernel("durable-heavy"));
        assert_eq!(emu.level(&[b"1", b"2"]), [R]);
        emu
    };
    let emu = run();
    let d = &emu.durable;
    assert_eq!(d.u64("/durable-heavy/count"), Some(2));
    assert_eq!(d.u64("/durable-heavy/children"), Some(50));
    assert!(!d.exists("/heavy-copy"));
    let keys = d.keys();
    assert_eq!(keys.iter().filter(|k| k.starts_with("/heavy/")).count(), 100);
    assert_eq!(keys.iter().filter(|k| k.starts_with("/heavy-moved/")).count(), 50);
    assert_eq!(d.get("/heavy/7").map(|v| v.len()), Some(16));
    assert_eq!(
        run().durable.u64("/durable-heavy/digest"),
        d.u64("/durable-heavy/digest")
    );
}

#[test]
fn wat_kernels_get_stuck() {
    for name in [
        "unknown-import",
        "wrong-signature",
        "start-calls-host",
        "no-kernel-run",
        "no-memory-export",
    ] {
        let mut emu = Emu::new(&wat_kernel(name));
        let ends = emu.level(&[b"x"]);
        assert!(matches!(ends.as_slice(), [RunEnd::Stuck(_)]), "{name}: {ends:?}");
        assert!(emu.stuck.is_some());
        assert!(!emu.durable.exists("/start"), "{name}");
        // Stuck for good: later levels run nothing.
        assert!(emu.level(&[]).is_empty());
    }
}
