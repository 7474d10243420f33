//! Blocks: the header in Tezos's binary layout (shell header, then the
//! protocol data of a Tenderbake block), signed by the chain's baker, and
//! hashed as Tezos hashes headers (blake2b-256 of the signed bytes → `B…`).
//!
//! What is ours: `operations_hash` and `context` are soru's digests (of the
//! operation hashes, and of the ledger), not Octez's Merkle roots; every
//! block has round 0 and one baker.

use serde_json::{json, Value};
use soru_core::base58::{BlockHash, BlockPayloadHash, ChainId, ContextHash, OperationHash, OperationListListHash};
use soru_core::hash::{blake2b_256, blake2b_256_concat};
use soru_core::time::Timestamp;
use soru_core::{SecretKey, Signature};

/// The watermark of a Tenderbake block signature: `0x11 ‖ chain id`.
pub fn block_watermark(chain_id: &ChainId) -> Vec<u8> {
    let mut w = vec![0x11];
    w.extend_from_slice(&chain_id.0);
    w
}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// The block's level (genesis is 0).
    pub level: u32,
    /// How many protocols the chain went through (1 after activation).
    pub proto: u8,
    /// The previous block.
    pub predecessor: BlockHash,
    /// When it was baked.
    pub timestamp: Timestamp,
    /// Digest of the operation hashes, pass by pass.
    pub operations_hash: OperationListListHash,
    /// Digest of the ledger after the block.
    pub context: ContextHash,
    /// Digest of the predecessor, round and operations.
    pub payload_hash: BlockPayloadHash,
    /// The baker's signature.
    pub signature: Signature,
}

/// Bytes of the protocol data before the signature: payload hash (32),
/// round (4), proof-of-work nonce (8), seed nonce hash option (1), votes (1).
const SIGNED_PROTOCOL_DATA_PREFIX: usize = 32 + 4 + 8 + 1 + 1;

/// Validation passes of a Tezos block: consensus, voting, anonymous, manager.
pub const VALIDATION_PASSES: u8 = 4;

impl Header {
    /// The Tenderbake fitness: version 02, level, no locked round, the
    /// predecessor's round (-1 before round 0 blocks) and round 0.
    pub fn fitness(&self) -> Vec<Vec<u8>> {
        vec![
            vec![0x02],
            self.level.to_be_bytes().to_vec(),
            vec![],
            vec![0xff; 4],
            vec![0; 4],
        ]
    }

    /// Shell header ‖ protocol data without the signature: what the baker signs.
    pub fn unsigned_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(200);
        out.extend_from_slice(&(self.level as i32).to_be_bytes());
        out.push(self.proto);
        out.extend_from_slice(&self.predecessor.0);
        out.extend_from_slice(&self.timestamp.seconds.to_be_bytes());
        out.push(VALIDATION_PASSES);
        out.extend_from_slice(&self.operations_hash.0);
        let mut fitness = Vec::new();
        for part in self.fitness() {
            fitness.extend_from_slice(&(part.len() as u32).to_be_bytes());
            fitness.extend_from_slice(&part);
        }
        out.extend_from_slice(&(fitness.len() as u32).to_be_bytes());
        out.extend_from_slice(&fitness);
        out.extend_from_slice(&self.context.0);
        // Protocol data: payload hash, payload round, proof-of-work nonce,
        // no seed nonce hash, per-block votes (liquidity baking: pass).
        out.extend_from_slice(&self.payload_hash.0);
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&[0; 8]);
        out.push(0);
        out.push(2);
        out
    }

    /// The protocol data (payload hash to signature).
    pub fn protocol_data_bytes(&self) -> Vec<u8> {
        let bytes = self.bytes();
        bytes[bytes.len() - 64 - SIGNED_PROTOCOL_DATA_PREFIX..].to_vec()
    }

    /// The signed header's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = self.unsigned_bytes();
        out.extend_from_slice(self.signature.as_bytes());
        out
    }

    /// The block hash.
    pub fn hash(&self) -> BlockHash {
        BlockHash(blake2b_256(&self.bytes()))
    }

    /// Signs the header with the baker's key.
    pub fn sign(&mut self, chain_id: &ChainId, baker: &SecretKey) {
        self.signature = baker.sign(&block_watermark(chain_id), &self.unsigned_bytes());
    }

    /// The header as Octez's RPC shows it.
    pub fn to_json(&self, protocol: &str, chain_id: &ChainId) -> Value {
        json!({
            "protocol": protocol,
            "chain_id": chain_id,
            "hash": self.hash(),
            "level": self.level,
            "proto": self.proto,
            "predecessor": self.predecessor,
            "timestamp": self.timestamp.to_rfc3339(),
            "validation_pass": VALIDATION_PASSES,
            "operations_hash": self.operations_hash,
            "fitness": self.fitness().iter().map(hex::encode).collect::<Vec<_>>(),
            "context": self.context,
            "payload_hash": self.payload_hash,
            "payload_round": 0,
            "proof_of_work_nonce": "0000000000000000",
            "liquidity_baking_toggle_vote": "pass",
            "signature": self.signature.to_generic_base58(),
        })
    }
}

/// soru's operations digest: blake2b of each pass's blake2b of its
/// operation hashes.
pub fn operations_hash(manager_operations: &[OperationHash]) -> OperationListListHash {
    let empty = blake2b_256(&[]);
    let managers: Vec<&[u8]> = manager_operations.iter().map(|h| h.0.as_slice()).collect();
    let managers = blake2b_256_concat(&managers);
    OperationListListHash(blake2b_256_concat(&[&empty, &empty, &empty, &managers]))
}

/// The payload hash: predecessor, round 0 and the operations.
pub fn payload_hash(predecessor: &BlockHash, manager_operations: &[OperationHash]) -> BlockPayloadHash {
    let mut parts: Vec<&[u8]> = vec![&predecessor.0, &[0, 0, 0, 0]];
    parts.extend(manager_operations.iter().map(|h| h.0.as_slice()));
    BlockPayloadHash(blake2b_256_concat(&parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_header_hash_changes_with_every_field() {
        let key = SecretKey::ed25519_from_seed([7; 32]);
        let chain = ChainId([1, 2, 3, 4]);
        let mut header = Header {
            level: 5,
            proto: 1,
            predecessor: BlockHash([9; 32]),
            timestamp: Timestamp::from_seconds(1_700_000_000),
            operations_hash: operations_hash(&[]),
            context: ContextHash([3; 32]),
            payload_hash: payload_hash(&BlockHash([9; 32]), &[]),
            signature: Signature::from_bytes([0; 64]),
        };
        header.sign(&chain, &key);
        let hash = header.hash();
        assert!(key
            .public_key()
            .verify(&block_watermark(&chain), &header.unsigned_bytes(), &header.signature)
            .unwrap());
        let mut other = header.clone();
        other.level = 6;
        assert_ne!(other.hash(), hash);
        assert_eq!(header.to_json("P", &chain)["hash"], hash.to_base58());
        assert!(hash.to_base58().starts_with('B'));
    }
}
