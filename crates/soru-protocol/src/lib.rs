//! `soru-protocol`: the smart-rollup rules of the L1, as pure functions
//! over values (no I/O), shared by the L1 — which enforces them — and the
//! rollup node — which must predict them. Byte-compatible with Octez where
//! the bytes are protocol (hashes, proofs); see PROTOCOL-FACTS §2–§6.
//!
//! Today: the global inbox — its two basis-4 skip lists ([`skip_list`]),
//! the per-level message witness and the level history ([`inbox`]), and
//! inbox proofs, produced by a node from its archive and verified by the
//! refutation game against an inbox snapshot ([`inbox_proof`]); a
//! rollup's origination, commitments and stakes ([`rollup`]); and the
//! checks of outbox-message execution ([`outbox`]); refutation games, their
//! proofs and their money ([`game`], [`refutation_proof`]).

pub mod game;
pub mod inbox;
pub mod inbox_proof;
pub mod outbox;
pub mod refutation_proof;
pub mod rollup;
pub mod skip_list;
pub mod strategy;

/// A 32-byte blake2b hash (cell pointers, message hashes, inbox hashes).
pub type Hash = [u8; 32];
