//! BLAKE2b digests in the two sizes Tezos uses: 160 bits (addresses, key
//! hashes) and 256 bits (everything else).

use blake2::digest::consts::{U20, U32};
use blake2::{Blake2b, Digest};

/// BLAKE2b-256 of the concatenation of `parts`.
pub fn blake2b_256_concat(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Blake2b::<U32>::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// BLAKE2b-256 of `data`.
pub fn blake2b_256(data: &[u8]) -> [u8; 32] {
    blake2b_256_concat(&[data])
}

/// BLAKE2b-160 of `data`.
pub fn blake2b_160(data: &[u8]) -> [u8; 20] {
    let mut hasher = Blake2b::<U20>::new();
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of the `index`-th origination of operation `operation_hash`
/// (Octez's origination nonce): blake2b-160(hash ‖ index as int32 BE).
/// Contracts (`KT1…`) and smart rollups (`sr1…`) are both addressed by it.
pub fn origination_hash(operation_hash: &[u8; 32], index: u32) -> [u8; 20] {
    let mut nonce = operation_hash.to_vec();
    nonce.extend_from_slice(&index.to_be_bytes());
    blake2b_160(&nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // RFC 7693 does not give 256/160-bit vectors; these come from `b2sum -l`.
        assert_eq!(
            hex::encode(blake2b_256(b"")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        );
        assert_eq!(
            hex::encode(blake2b_256(b"abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
        assert_eq!(
            hex::encode(blake2b_160(b"")),
            "3345524abf6bbe1809449224b5972c41790b6cf2"
        );
        assert_eq!(
            blake2b_256_concat(&[b"a", b"bc"]),
            blake2b_256(b"abc"),
            "concatenation is hashed as one stream"
        );
    }

    #[test]
    fn origination_hashes_give_octez_addresses() {
        // Octez's liquidity baking contracts: originated by the operation
        // hash blake2b-256("Drip, drip, drip."), indices 0 and 1.
        let hash = blake2b_256(b"Drip, drip, drip.");
        let kt1 = |index| crate::base58::ContractKt1Hash(origination_hash(&hash, index)).to_base58();
        assert_eq!(kt1(0), "KT1TxqZ8QtKvLu3V3JH7Gx58n7Co8pgtpQU5");
        assert_eq!(kt1(1), "KT1AafHA1C1vk959wvHWBispY9Y2f3fxBUUo");
    }
}
