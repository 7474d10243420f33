//! soru's layer 1: a Tezos-style chain that hosts smart rollups.
//!
//! Blocks are signed by the chain's baker and hashed as Tezos hashes them;
//! accounts are implicit `tz1…` accounts with balances, counters, revealed
//! keys and frozen bonds; operations arrive in Tezos's binary encoding,
//! signed with watermark `0x03`, and are checked and applied as Octez does
//! (`validate.ml`, `apply.ml`), the smart-rollup operations through
//! `soru-protocol`. The RPC speaks Octez's paths and JSON, so that soru's
//! rollup node, Tezos client libraries and `curl` talk to it as to a Tezos
//! node. The store keeps every block; the ledger is rebuilt on start.
//!
//! Contracts are Michelson scripts run by `soru-michelson`: originated,
//! called, sending internal operations to accounts, contracts and rollups
//! (internal `Transfer` inbox messages), holding tickets in the ticket
//! table, and called back by executed outbox messages.
//!
//! What it is not: a consensus protocol (one baker, round 0).

pub mod apply;
pub mod block;
pub mod chain;
pub mod contracts;
pub mod error;
pub mod gas;
pub mod ledger;
pub mod rollups;
pub mod rpc;
pub mod scripts;
pub mod store;
pub mod tickets;

pub use chain::{Chain, ChainConfig, ChainError};
pub use error::L1Error;
pub use ledger::Ledger;

/// The protocol soru's L1 runs, by the hash of Octez's development
/// protocol: its rules (PVM `2.0.0-r6`) are the ones implemented here.
pub const PROTOCOL_HASH: &str = "ProtoALphaALphaALphaALphaALphaALphaALphaALphaDdp3zK";

/// The protocol's name in the inbox's protocol-migration message.
pub const PROTOCOL_NAME: &str = "alpha_current";

/// The prefix of protocol error ids (`proto.alpha.contract.…`).
pub const PROTOCOL_ERROR_PREFIX: &str = "proto.alpha";
