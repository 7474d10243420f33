//! `soru-wasm`: the WebAssembly 2.0 engine of the soru PVM — a resumable
//! decoder and validator ([`decode`]) and a tick-steppable interpreter
//! ([`exec`]) whose whole state is explicit data.
//!
//! Supported: the MVP, sign-extension, non-trapping float-to-int,
//! multi-value, bulk memory and reference types. SIMD is rejected at decode.
//! Two modes differ only in the float gate ([`decode::Mode`]): kernels run in
//! PVM mode, where any float type or instruction is a decode error; the
//! conformance mode exists to run the full specification suite.
//!
//! This crate knows nothing of rollups: host functions are returned to the
//! embedder as [`exec::Outcome::HostCall`]; the PVM (`soru-pvm`) implements
//! them and the tick accounting around them.

pub mod code;
pub mod decode;
pub mod exec;
pub mod hooks;
pub mod layout;
pub mod limits;
pub mod region;
pub mod snapshot;
pub mod store;
pub mod types;

pub use decode::{DecodeError, Decoder, Mode};
pub use exec::{Machine, Outcome, Trap};
pub use store::{Extern, Store};
pub use types::Module;
