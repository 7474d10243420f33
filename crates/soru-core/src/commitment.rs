//! Smart rollup commitments (76 bytes, hashed to `src1…`) and reveal hashes
//! (33 bytes: tag `00` ‖ blake2b-256 of the preimage).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::base58::{self, prefix, CommitmentHash, StateHash};
use crate::binary_struct;
use crate::encoding::{Decode, DecodeError, DecodeResult, Encode, Reader};
use crate::hash::blake2b_256;

/// A tick count that does not fit a commitment's `int64`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} ticks do not fit a commitment's int64 number_of_ticks")]
pub struct TickCountOverflow(pub u128);

/// A commitment's `number_of_ticks`: an `int64` on the wire that must be ≥ 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NumberOfTicks(u64);

impl NumberOfTicks {
    /// Largest representable count.
    pub const MAX: u64 = i64::MAX as u64;

    /// Checks that `ticks` fits in an `int64`.
    pub fn new(ticks: u128) -> Result<Self, TickCountOverflow> {
        if ticks > u128::from(Self::MAX) {
            return Err(TickCountOverflow(ticks));
        }
        Ok(Self(ticks as u64))
    }

    /// The count.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl Encode for NumberOfTicks {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (self.0 as i64).encode_to(out);
    }
}

impl Decode for NumberOfTicks {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let value = i64::decode(r)?;
        u64::try_from(value).map(Self).map_err(|_| DecodeError::Invalid {
            what: "number_of_ticks",
            reason: format!("{value} is negative"),
        })
    }
}

/// JSON: an int64 is a decimal string.
impl Serialize for NumberOfTicks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for NumberOfTicks {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let nat = crate::encoding::Nat::deserialize(d)?;
        Self::new(nat.0).map_err(serde::de::Error::custom)
    }
}

binary_struct! {
    /// A claim that the PVM, started in `predecessor`'s state, reaches
    /// `compressed_state` after reading the inbox up to `inbox_level`, in
    /// `number_of_ticks` ticks.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct Commitment {
        /// The PVM state hash at the end of `inbox_level`.
        pub compressed_state: StateHash,
        /// The last inbox level this commitment covers.
        pub inbox_level: i32,
        /// The commitment this one extends.
        pub predecessor: CommitmentHash,
        /// Ticks since the predecessor's state.
        pub number_of_ticks: NumberOfTicks,
    }
}

impl Commitment {
    /// Size of the binary encoding.
    pub const SIZE: usize = 76;

    /// The commitment hash (`src1…`): blake2b-256 of the 76 bytes.
    pub fn hash(&self) -> CommitmentHash {
        CommitmentHash(blake2b_256(&self.to_bytes()))
    }
}

/// The hash that names a preimage for `reveal_preimage`: on the wire 33
/// bytes, `00 ‖ blake2b-256(preimage)`; shown as the hex of those 33 bytes
/// (file names in the preimage directory, RPCs) or as `scrrh1…`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RevealHash(pub [u8; 32]);

impl RevealHash {
    /// Size on the wire, tag included.
    pub const SIZE: usize = 33;

    /// The reveal hash of `preimage`.
    pub fn of_preimage(preimage: &[u8]) -> Self {
        Self(blake2b_256(preimage))
    }

    /// The 33 bytes: tag `00` then the digest.
    pub fn to_tagged_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[1..].copy_from_slice(&self.0);
        out
    }

    /// From the 33 tagged bytes.
    pub fn from_tagged_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_bytes(bytes)
    }

    /// Lowercase hex of the 33 bytes (the preimage file name).
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_tagged_bytes())
    }

    /// `scrrh1…`.
    pub fn to_base58(&self) -> String {
        base58::encode(&prefix::SMART_ROLLUP_REVEAL, &self.0)
    }
}

impl Encode for RevealHash {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_tagged_bytes());
    }
}

impl Decode for RevealHash {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        match r.u8()? {
            0 => r.array().map(Self),
            tag => Err(DecodeError::UnknownTag {
                what: "reveal hash",
                tag: tag.into(),
            }),
        }
    }
}

impl fmt::Display for RevealHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for RevealHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RevealHash({})", self.to_hex())
    }
}

/// Accepts the 66-digit hex form or `scrrh1…`.
impl FromStr for RevealHash {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("scrrh1") {
            return base58::decode_array(&prefix::SMART_ROLLUP_REVEAL, s)
                .map(Self)
                .map_err(|e| e.to_string());
        }
        let bytes = hex::decode(s).map_err(|e| format!("reveal hash {s:?}: {e}"))?;
        Self::from_tagged_bytes(&bytes).map_err(|e| format!("reveal hash {s:?}: {e}"))
    }
}

impl Serialize for RevealHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for RevealHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Commitment {
        Commitment {
            compressed_state: StateHash([0x11; 32]),
            inbox_level: 1234,
            predecessor: CommitmentHash([0x22; 32]),
            number_of_ticks: NumberOfTicks::new(100_000_000_000_000).unwrap(),
        }
    }

    #[test]
    fn layout_and_hash() {
        let c = sample();
        let bytes = c.to_bytes();
        assert_eq!(bytes.len(), Commitment::SIZE);
        assert_eq!(&bytes[32..36], &1234i32.to_be_bytes());
        assert_eq!(&bytes[68..], &100_000_000_000_000i64.to_be_bytes());
        assert_eq!(Commitment::from_bytes(&bytes).unwrap(), c);
        assert_eq!(c.hash().0, blake2b_256(&bytes));
        assert!(c.hash().to_string().starts_with("src1"));
        let mut negative = bytes.clone();
        negative[68] = 0x80;
        assert!(Commitment::from_bytes(&negative).is_err());
        assert!(NumberOfTicks::new(u128::from(u64::MAX)).is_err());
    }

    #[test]
    fn json_shape() {
        let c = sample();
        let json = serde_json::to_value(c).unwrap();
        assert_eq!(json["inbox_level"], serde_json::json!(1234));
        assert_eq!(json["number_of_ticks"], serde_json::json!("100000000000000"));
        assert!(json["compressed_state"].as_str().unwrap().starts_with("srs1"));
        assert_eq!(serde_json::from_value::<Commitment>(json).unwrap(), c);
    }

    #[test]
    fn reveal_hashes() {
        let h = RevealHash::of_preimage(b"");
        assert_eq!(
            h.to_hex(),
            "000e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        );
        assert_eq!(h.to_hex().parse::<RevealHash>().unwrap(), h);
        assert_eq!(h.to_base58().parse::<RevealHash>().unwrap(), h);
        assert!(h.to_base58().starts_with("scrrh1"));
        assert!("01".repeat(33).parse::<RevealHash>().is_err(), "only tag 0 exists");
    }
}
