//! `soru bench` scenarios. Each measures soru and a baseline in the same
//! run and prints ratios, never absolute pass/fail thresholds.

pub mod fast;
pub mod proofs;
pub mod pvm;
pub mod refute;
pub mod wasm;

/// The PVM configuration of mainnet, which every scenario runs.
pub(crate) fn mainnet_pvm_config() -> soru_pvm::PvmConfig {
    soru_pvm::PvmConfig::from_params(&soru_core::params::ProtocolParams::mainnet().smart_rollup.pvm)
}

/// Geometric mean of positive numbers.
pub fn geometric_mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}
