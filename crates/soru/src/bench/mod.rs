//! `soru bench` scenarios. Each measures soru and a baseline in the same
//! run and prints ratios, never absolute pass/fail thresholds.

pub mod fast;
pub mod proofs;
pub mod pvm;
pub mod refute;
pub mod wasm;

/// Geometric mean of positive numbers.
pub fn geometric_mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}
