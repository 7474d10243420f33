//! Differential tests: every example kernel over scripted inboxes, run by
//! the PVM alone and by the PVM with soru-fast taking every `kernel_run`;
//! the state hash and tick counter must agree at every level end, and the
//! fast engine must have run the kernel code.

use std::collections::BTreeMap;
use std::sync::Arc;

use soru_core::inbox::InfoPerLevel;
use soru_core::time::Timestamp;
use soru_core::BlockHash;
use soru_fast::{FastEngine, RevealOracle};
use soru_pvm::{InputRequest, Pvm, PvmConfig, RevealRequest};

fn config(tps: u128) -> PvmConfig {
    PvmConfig {
        ticks_per_snapshot: tps,
        ..PvmConfig::from_params(&soru_core::params::ProtocolParams::mainnet().smart_rollup.pvm)
    }
}

fn kernel(name: &str) -> Vec<u8> {
    let path = format!("{}/../../kernels/wasm/{name}.wasm", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
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
    let info = InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(1_700_000_000),
        predecessor: BlockHash([7; 32]),
    };
    let payloads: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    for input in soru_pvm::inbox::external_level_inputs(level, info, &payloads) {
        pvm.set_input(input).expect("input accepted");
    }
}

fn settle_on_pvm(pvm: &mut Pvm, oracle: &Oracle) {
    loop {
        pvm.run_until_input(u128::MAX).expect("runs");
        match pvm.input_request() {
            InputRequest::Reveal(r) => pvm.reveal(&oracle.reveal(&r).expect("known reveal")).expect("reveal"),
            _ => return,
        }
    }
}

/// Runs `levels` on both engines; returns the fast engine's statistics.
fn differential(kernel: &[u8], tps: u128, levels: &[Vec<Vec<u8>>], oracle: Oracle) -> soru_fast::FastStats {
    let oracle: Arc<Oracle> = Arc::new(oracle);
    let dyn_oracle: Arc<dyn RevealOracle> = oracle.clone();
    let mut reference = Pvm::install_boot_sector(&config(tps), kernel).expect("genesis");
    let mut fast = Pvm::install_boot_sector(&config(tps), kernel).expect("genesis");
    let mut engine = FastEngine::new().expect("engine");
    for (i, messages) in levels.iter().enumerate() {
        let level = i as u32 + 1;
        feed(&mut reference, level, messages);
        settle_on_pvm(&mut reference, &oracle);
        feed(&mut fast, level, messages);
        engine.run_until_input(&mut fast, &dyn_oracle).expect("fast run");
        assert_eq!(
            (fast.current_tick(), fast.status()),
            (reference.current_tick(), reference.status()),
            "level {level}: tick and status (last fallback: {:?})",
            engine.last_fallback()
        );
        assert_eq!(
            fast.state_hash().unwrap(),
            reference.state_hash().unwrap(),
            "level {level}: state hash"
        );
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
