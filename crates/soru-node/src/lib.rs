//! `soru-node`: the rollup node. Today its deterministic core
//! ([`RollupCore`]): each L1 level's rollup inbox is built and checked
//! against the L1's inbox hash, executed — every `kernel_run` on the fast
//! engine, everything else on the PVM — and its end state, tick and inbox
//! are kept in the node's store (redb: the PVM state trees in soru-tree's
//! node store, and the node's own tables), with a commitment built at every
//! commitment period's end. The daemon (L1 watching, publishing, playing
//! games, RPC) is built on it. [`l1_block`] reads what an L1 block adds
//! to the inbox from the Octez RPC's JSON; [`PvmClaims`] is the node's
//! view in a refutation game, for soru-protocol's honest player.

mod claims;
mod core;
pub mod l1_block;

pub use crate::claims::PvmClaims;
pub use crate::core::{CoreConfig, CoreError, LevelRecord, Processed, RollupCore};
