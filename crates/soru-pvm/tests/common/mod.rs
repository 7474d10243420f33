//! Helpers shared by the PVM tests.

#![allow(dead_code)]

use soru_core::inbox::InfoPerLevel;
use soru_core::time::Timestamp;
use soru_core::BlockHash;
use soru_pvm::{Pvm, PvmConfig};

/// The predecessor info every test level uses.
pub(crate) fn info() -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(1_700_000_000),
        predecessor: BlockHash([7; 32]),
    }
}

/// A PVM configuration with mainnet limits and `tps` ticks per cycle.
pub(crate) fn config(tps: u128) -> PvmConfig {
    PvmConfig {
        ticks_per_snapshot: tps,
        ..PvmConfig::from_params(&soru_core::params::ProtocolParams::mainnet().smart_rollup.pvm)
    }
}

/// Feeds a standard level with these external payloads.
pub(crate) fn feed(pvm: &mut Pvm, level: u32, payloads: &[&[u8]]) {
    for input in soru_pvm::inbox::external_level_inputs(level, info(), payloads) {
        pvm.set_input(input).expect("input accepted");
    }
}

/// The example kernel `name` from `kernels/wasm/`.
pub(crate) fn example_kernel(name: &str) -> Vec<u8> {
    let path = format!("{}/../../kernels/wasm/{name}.wasm", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
