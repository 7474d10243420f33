//! `soru-fast`: the fast execution engine of soru's rollup nodes. Each
//! `kernel_run` runs as wasmtime-compiled (Cranelift) native code, metered
//! at the WebAssembly level so it spends exactly the PVM's ticks, stops at
//! the same tick when the cycle runs out and at the same call when the
//! stack limits are hit, and calls the PVM's own host functions. The PVM
//! (soru-pvm) does everything else — collecting inputs, padding, reboots,
//! reveals' bookkeeping — and the state after each kernel run is the state
//! the PVM alone would reach (DESIGN.md §5).

pub mod baseline;
mod cache;
mod cross_check;
mod engine;
mod instrument;
mod run;

pub use cache::{CacheError, ModuleCache, INSTRUMENTATION_VERSION};
pub use cross_check::{cross_check, CrossCheck, Divergence, EngineState};
pub use engine::{FastEngine, FastStats, Handled, MAX_COMPILED_MODULE_BYTES};
pub use instrument::{InstrumentError, MAX_FUNCTION_BODY_BYTES};
pub use run::{NoReveals, RevealOracle};

/// What can go wrong in the fast engine itself (a kernel's own failures are
/// PVM outcomes, not errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FastError {
    /// The PVM's state failed.
    #[error("PVM: {0}")]
    Pvm(#[from] soru_pvm::PvmError),
    /// wasmtime failed where it should not.
    #[error("wasmtime: {0}")]
    Engine(String),
    /// A kernel load without a kernel.
    #[error("no kernel at /kernel/boot.wasm")]
    NoKernel,
}
