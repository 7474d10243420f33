//! `soru-pvm`: the `wasm_2_0_0` proof-generating virtual machine — the
//! reference semantics of every soru rollup. It consumes the inbox, loads
//! and runs the kernel (`kernel_run`) on soru-wasm, reboots, yields, gets
//! stuck, upgrades kernels with fallback, answers reveals and fills the
//! outbox, counting ticks as PROTOCOL-FACTS §7 describes. Its whole state is
//! one soru-tree tree whose root hash is the state hash (`srs1…`).
//!
//! It does not know the L1 (inbox proofs, games: `soru-protocol`) and does
//! not fetch reveal data (the caller answers [`InputRequest::Reveal`]).
//!
//! Feature `prover` (default): the owned backend (install, run, hash,
//! inspect) and proof production. Without it the crate is the verifier
//! alone ([`step_proof::verify_step`], [`output_proof::verify_output`]).

// The verifier build leaves out callers of helpers the prover shares.
#![cfg_attr(not(feature = "prover"), allow(unused_imports, dead_code))]

mod decode_store;
pub mod durable;
pub mod host;
mod hostcall;
pub mod inbox;
mod inspect;
mod instantiate;
#[cfg(feature = "prover")]
pub mod kernel_run;
pub mod machine_proof;
pub mod output_proof;
mod pvm;
mod state;
pub mod step_proof;

pub use inspect::{InternalState, MemoryError, PvmHooks, RunningFunction};
pub use pvm::{
    empty_preimage_hash, ExecStats, Input, InputRequest, Pvm, PvmConfig, PvmError, RevealRequest, Status, StuckReason,
};
