//! `soru-core`: the Tezos bytes every part of soru speaks. BLAKE2b hashes,
//! base58check with Tezos prefixes and typed hashes, Ed25519/secp256k1/P-256
//! keys and the Tezos signing scheme, `data-encoding`-compatible binary
//! layouts, Micheline (binary, JSON, concrete syntax), smart rollup inbox and
//! outbox messages, commitments, reveal hashes, L1 manager operations, the
//! `octez-client` wallet files and the protocol parameters.
//!
//! Layouts follow Tezos protocol T024 (Tallinn); see `docs/ARCHITECTURE.md`.
//! This crate does no I/O other than the wallet files, and has no notion of
//! chain state: the L1 rules live in `soru-protocol` and `soru-l1`.

pub mod base58;
pub mod commitment;
pub mod contract;
pub mod encoding;
pub mod hash;
pub mod inbox;
pub mod json;
pub mod keys;
pub mod micheline;
pub mod operation;
pub mod outbox;
pub mod params;
pub mod time;
pub mod wallet;

pub use base58::{
    BlockHash, ChainId, CommitmentHash, ContractKt1Hash, OperationHash, ProtocolHash, SmartRollupAddress, StateHash,
};
pub use commitment::{Commitment, RevealHash};
pub use contract::Contract;
pub use encoding::{Decode, DecodeError, Encode};
pub use inbox::InboxMessage;
pub use json::JsonError;
pub use keys::{PublicKey, PublicKeyHash, SecretKey, Signature};
pub use micheline::Micheline;
pub use outbox::OutboxMessage;
pub use params::ProtocolParams;
