//! Base58check with Tezos prefixes, and the typed fixed-size hashes built on
//! it (`B…`, `o…`, `KT1…`, `sr1…`, `src1…`, …).
//!
//! A Tezos base58check string is `base58(prefix ‖ payload ‖ checksum)` where
//! the checksum is the first 4 bytes of SHA-256(SHA-256(prefix ‖ payload)).
//! The prefix bytes are chosen so that every encoding of a payload of the
//! right size starts with the same text (`tz1`, `edsig`, …).

use std::fmt;

/// A Tezos base58check prefix: the raw bytes prepended to the payload, the
/// text every encoding starts with, and the payload size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// The text encodings start with, e.g. `"tz1"`.
    pub text: &'static str,
    /// The bytes prepended before base58 encoding.
    pub bytes: &'static [u8],
    /// The payload size in bytes.
    pub payload_len: usize,
}

macro_rules! prefixes {
    ($( $(#[$m:meta])* $name:ident = $text:literal, [$($b:literal),*], $len:literal; )*) => {
        $( $(#[$m])* pub const $name: Prefix = Prefix { text: $text, bytes: &[$($b),*], payload_len: $len }; )*
        /// Every prefix soru knows, for diagnostics.
        pub const ALL: &[Prefix] = &[$($name),*];
    };
}

/// The prefixes of `lib_crypto/base58.ml` and the smart-rollup hashes.
pub mod prefix {
    use super::Prefix;
    prefixes! {
        /// Chain id (4 bytes).
        CHAIN_ID = "Net", [87, 82, 0], 4;
        /// Block hash.
        BLOCK_HASH = "B", [1, 52], 32;
        /// Operation hash.
        OPERATION_HASH = "o", [5, 116], 32;
        /// List of operation lists hash.
        OPERATION_LIST_LIST_HASH = "LLo", [29, 159, 109], 32;
        /// Protocol hash.
        PROTOCOL_HASH = "P", [2, 170], 32;
        /// Context hash.
        CONTEXT_HASH = "Co", [79, 199], 32;
        /// Block payload hash.
        BLOCK_PAYLOAD_HASH = "vh", [1, 106, 242], 32;
        /// Script expression hash (of a packed Micheline value).
        SCRIPT_EXPR_HASH = "expr", [13, 44, 64, 27], 32;
        /// Originated contract.
        CONTRACT_KT1 = "KT1", [2, 90, 121], 20;
        /// Ed25519 public key hash.
        TZ1 = "tz1", [6, 161, 159], 20;
        /// Secp256k1 public key hash.
        TZ2 = "tz2", [6, 161, 161], 20;
        /// P-256 public key hash.
        TZ3 = "tz3", [6, 161, 164], 20;
        /// BLS12-381 public key hash.
        TZ4 = "tz4", [6, 161, 166], 20;
        /// Ed25519 public key.
        EDPK = "edpk", [13, 15, 37, 217], 32;
        /// Ed25519 seed (the usual `edsk…` of 54 characters).
        EDSK_SEED = "edsk", [13, 15, 58, 7], 32;
        /// Ed25519 expanded secret key: seed ‖ public key (98 characters).
        EDSK_SECRET = "edsk", [43, 246, 78, 7], 64;
        /// Encrypted Ed25519 seed: salt (8) ‖ secretbox (32 + 16).
        EDESK = "edesk", [7, 90, 60, 179, 41], 56;
        /// Ed25519 signature.
        EDSIG = "edsig", [9, 245, 205, 134, 18], 64;
        /// Secp256k1 compressed public key.
        SPPK = "sppk", [3, 254, 226, 86], 33;
        /// Secp256k1 secret key.
        SPSK = "spsk", [17, 162, 224, 201], 32;
        /// Encrypted secp256k1 secret key.
        SPESK = "spesk", [9, 237, 241, 174, 150], 56;
        /// Secp256k1 signature.
        SPSIG = "spsig1", [13, 115, 101, 19, 63], 64;
        /// P-256 compressed public key.
        P2PK = "p2pk", [3, 178, 139, 127], 33;
        /// P-256 secret key.
        P2SK = "p2sk", [16, 81, 238, 189], 32;
        /// Encrypted P-256 secret key.
        P2ESK = "p2esk", [9, 48, 57, 115, 171], 56;
        /// P-256 signature.
        P2SIG = "p2sig", [54, 240, 44, 52], 64;
        /// Curve-agnostic signature (64 bytes).
        GENERIC_SIG = "sig", [4, 130, 43], 64;
        /// BLS12-381 public key.
        BLPK = "BLpk", [6, 149, 135, 204], 48;
        /// BLS12-381 signature.
        BLSIG = "BLsig", [40, 171, 64, 207], 96;
        /// Smart rollup address.
        SMART_ROLLUP_ADDRESS = "sr1", [6, 124, 117], 20;
        /// Smart rollup commitment hash.
        SMART_ROLLUP_COMMITMENT = "src1", [17, 165, 134, 138], 32;
        /// Smart rollup PVM state hash.
        SMART_ROLLUP_STATE = "srs1", [17, 165, 235, 240], 32;
        /// Smart rollup inbox hash (history skip-list cell).
        SMART_ROLLUP_INBOX = "srib1", [3, 255, 138, 145, 110], 32;
        /// Smart rollup merkelized payload hashes cell.
        SMART_ROLLUP_PAYLOAD_HASHES = "srib2", [3, 255, 138, 145, 140], 32;
        /// Smart rollup serialized message hash.
        SMART_ROLLUP_MESSAGE = "srib3", [3, 255, 138, 145, 170], 32;
        /// Smart rollup reveal hash (blake2b).
        SMART_ROLLUP_REVEAL = "scrrh1", [230, 206, 128, 200, 196], 32;
        /// Smart rollup PVM input hash.
        SMART_ROLLUP_INPUT = "scd1", [1, 118, 125, 135], 20;
    }
}

/// Why a string is not the base58check encoding that was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base58Error {
    /// Not base58 at all.
    #[error("invalid base58 in {input:?}: {reason}")]
    InvalidCharacters {
        /// The input.
        input: String,
        /// What the base58 decoder said.
        reason: String,
    },
    /// The last 4 bytes are not the checksum of the rest: a typo, truncation
    /// or trailing garbage.
    #[error("bad base58check checksum in {0:?} (typo, truncated or extra characters?)")]
    BadChecksum(String),
    /// A valid base58check string of another kind.
    #[error("expected a {expected}… value, got {input:?}")]
    WrongPrefix {
        /// The text prefix that was expected.
        expected: String,
        /// The input.
        input: String,
    },
    /// The prefix is right but the payload size is not.
    #[error("{input:?}: payload of {actual} bytes, a {prefix}… value has {expected}")]
    WrongLength {
        /// The prefix.
        prefix: &'static str,
        /// Expected payload size.
        expected: usize,
        /// Actual payload size.
        actual: usize,
        /// The input.
        input: String,
    },
}

/// Encodes `payload` with `prefix`. The payload size is the caller's
/// responsibility; typed hashes guarantee it.
pub fn encode(prefix: &Prefix, payload: &[u8]) -> String {
    debug_assert_eq!(payload.len(), prefix.payload_len, "{}", prefix.text);
    let mut data = Vec::with_capacity(prefix.bytes.len() + payload.len());
    data.extend_from_slice(prefix.bytes);
    data.extend_from_slice(payload);
    bs58::encode(data).with_check().into_string()
}

/// Decodes base58check without looking at the prefix: the checked payload.
pub fn decode_raw(input: &str) -> Result<Vec<u8>, Base58Error> {
    bs58::decode(input).with_check(None).into_vec().map_err(|e| match e {
        bs58::decode::Error::InvalidChecksum { .. } | bs58::decode::Error::NoChecksum => {
            Base58Error::BadChecksum(input.to_string())
        }
        other => Base58Error::InvalidCharacters {
            input: input.to_string(),
            reason: other.to_string(),
        },
    })
}

/// Decodes a base58check string that must carry `prefix`.
pub fn decode(prefix: &Prefix, input: &str) -> Result<Vec<u8>, Base58Error> {
    let data = decode_raw(input)?;
    let Some(payload) = data.strip_prefix(prefix.bytes) else {
        return Err(Base58Error::WrongPrefix {
            expected: prefix.text.to_string(),
            input: input.to_string(),
        });
    };
    if payload.len() != prefix.payload_len {
        return Err(Base58Error::WrongLength {
            prefix: prefix.text,
            expected: prefix.payload_len,
            actual: payload.len(),
            input: input.to_string(),
        });
    }
    Ok(payload.to_vec())
}

/// Decodes into a fixed-size array.
pub fn decode_array<const N: usize>(prefix: &Prefix, input: &str) -> Result<[u8; N], Base58Error> {
    let payload = decode(prefix, input)?;
    payload.try_into().map_err(|p: Vec<u8>| Base58Error::WrongLength {
        prefix: prefix.text,
        expected: N,
        actual: p.len(),
        input: input.to_string(),
    })
}

/// Defines a fixed-size hash newtype shown in base58check with a prefix,
/// encoded in binary as its raw bytes, and in JSON as its base58 string.
#[macro_export]
macro_rules! base58_hash {
    ($(#[$meta:meta])* $name:ident, $len:literal, $prefix:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Size of the hash in bytes.
            pub const LEN: usize = $len;
            /// The base58check prefix.
            pub const PREFIX: $crate::base58::Prefix = $prefix;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// From a slice of exactly the right size.
            pub fn try_from_slice(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(Self)
            }

            /// The base58check text.
            pub fn to_base58(&self) -> String {
                $crate::base58::encode(&Self::PREFIX, &self.0)
            }

            /// Parses the base58check text.
            pub fn from_base58(s: &str) -> Result<Self, $crate::base58::Base58Error> {
                $crate::base58::decode_array(&Self::PREFIX, s).map(Self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.to_base58())
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_base58())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::base58::Base58Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_base58(s)
            }
        }

        impl $crate::encoding::Encode for $name {
            fn encode_to(&self, out: &mut ::std::vec::Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }

        impl $crate::encoding::Decode for $name {
            fn decode(r: &mut $crate::encoding::Reader<'_>) -> $crate::encoding::DecodeResult<Self> {
                r.array().map(Self)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_base58())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(d)?;
                Self::from_base58(&text).map_err(::serde::de::Error::custom)
            }
        }
    };
}

base58_hash!(
    /// A chain id (`Net…`).
    ChainId, 4, prefix::CHAIN_ID
);
base58_hash!(
    /// A block hash (`B…`).
    BlockHash, 32, prefix::BLOCK_HASH
);
base58_hash!(
    /// An operation hash (`o…`): blake2b-256 of the signed operation bytes.
    OperationHash, 32, prefix::OPERATION_HASH
);
base58_hash!(
    /// A hash of the lists of operations of a block (`LLo…`).
    OperationListListHash, 32, prefix::OPERATION_LIST_LIST_HASH
);
base58_hash!(
    /// A protocol hash (`P…`).
    ProtocolHash, 32, prefix::PROTOCOL_HASH
);
base58_hash!(
    /// A context hash (`Co…`).
    ContextHash, 32, prefix::CONTEXT_HASH
);
base58_hash!(
    /// A block payload hash (`vh…`): what a round's proposal commits to.
    BlockPayloadHash, 32, prefix::BLOCK_PAYLOAD_HASH
);
base58_hash!(
    /// A script expression hash (`expr…`): blake2b-256 of a packed value.
    ScriptExprHash, 32, prefix::SCRIPT_EXPR_HASH
);
base58_hash!(
    /// An originated contract (`KT1…`).
    ContractKt1Hash, 20, prefix::CONTRACT_KT1
);
base58_hash!(
    /// A smart rollup address (`sr1…`).
    SmartRollupAddress, 20, prefix::SMART_ROLLUP_ADDRESS
);
base58_hash!(
    /// A smart rollup commitment hash (`src1…`).
    CommitmentHash, 32, prefix::SMART_ROLLUP_COMMITMENT
);
base58_hash!(
    /// A PVM state hash (`srs1…`).
    StateHash, 32, prefix::SMART_ROLLUP_STATE
);
base58_hash!(
    /// A smart rollup inbox hash (`srib1…`).
    InboxHash, 32, prefix::SMART_ROLLUP_INBOX
);
base58_hash!(
    /// A merkelized payload hashes cell (`srib2…`).
    PayloadHashesHash, 32, prefix::SMART_ROLLUP_PAYLOAD_HASHES
);
base58_hash!(
    /// A serialized inbox message hash (`srib3…`).
    MessageHash, 32, prefix::SMART_ROLLUP_MESSAGE
);

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_produces_its_text() {
        for p in prefix::ALL {
            for fill in [0x00u8, 0x7f, 0xff] {
                let text = encode(p, &vec![fill; p.payload_len]);
                assert!(text.starts_with(p.text), "{} encodes as {text}", p.text);
                assert_eq!(decode(p, &text).unwrap(), vec![fill; p.payload_len]);
            }
        }
    }

    #[test]
    fn known_values_round_trip() {
        for text in [
            "sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf",
            "sr1UNDWPUYVeomgG15wn5jSw689EJ4RNnVQa",
        ] {
            assert_eq!(SmartRollupAddress::from_base58(text).unwrap().to_string(), text);
        }
        let block = "BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2";
        assert_eq!(BlockHash::from_base58(block).unwrap().to_string(), block);
        let kt1 = "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y";
        assert_eq!(ContractKt1Hash::from_base58(kt1).unwrap().to_string(), kt1);
        let chain = "NetXdQprcVkpaWU";
        assert_eq!(ChainId::from_base58(chain).unwrap().to_string(), chain);
    }

    #[test]
    fn bad_inputs_have_clear_errors() {
        let good = "sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf";
        let mut typo = good.to_string();
        typo.replace_range(10..11, "z");
        assert!(matches!(
            SmartRollupAddress::from_base58(&typo),
            Err(Base58Error::BadChecksum(_))
        ));
        assert!(matches!(
            SmartRollupAddress::from_base58(&good[..good.len() - 1]),
            Err(Base58Error::BadChecksum(_))
        ));
        assert!(matches!(
            SmartRollupAddress::from_base58(&format!("{good}1")),
            Err(Base58Error::BadChecksum(_))
        ));
        assert!(matches!(
            SmartRollupAddress::from_base58("KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y"),
            Err(Base58Error::WrongPrefix { .. })
        ));
        assert!(matches!(
            SmartRollupAddress::from_base58("sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZE0"),
            Err(Base58Error::InvalidCharacters { .. })
        ));
        assert!(SmartRollupAddress::from_base58("").is_err());
        let wrong_len = encode(
            &Prefix {
                payload_len: 21,
                ..prefix::SMART_ROLLUP_ADDRESS
            },
            &[1; 21],
        );
        assert!(matches!(
            SmartRollupAddress::from_base58(&wrong_len),
            Err(Base58Error::WrongLength { .. }) | Err(Base58Error::WrongPrefix { .. })
        ));
    }

    #[test]
    fn agrees_with_tezos_crypto_rs() {
        use tezos_crypto_rs::hash::{BlockHash as TheirBlock, ContractKt1Hash as TheirKt1, SmartRollupHash};
        let bytes = [7u8; 20];
        assert_eq!(
            SmartRollupAddress(bytes).to_string(),
            SmartRollupHash(bytes.to_vec()).to_base58_check()
        );
        assert_eq!(
            ContractKt1Hash(bytes).to_string(),
            TheirKt1(bytes.to_vec()).to_base58_check()
        );
        let bytes = [9u8; 32];
        assert_eq!(
            BlockHash(bytes).to_string(),
            TheirBlock(bytes.to_vec()).to_base58_check()
        );
    }
}
