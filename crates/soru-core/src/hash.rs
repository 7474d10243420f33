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
}
