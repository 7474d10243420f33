//! Tezos keys and signatures: Ed25519 (`tz1`), secp256k1 (`tz2`) and P-256
//! (`tz3`) key pairs, public key hashes, and the Tezos signing scheme, in
//! which the signed message is always the BLAKE2b-256 digest of
//! `watermark ‖ bytes`.
//!
//! BLS (`tz4`) key hashes and public keys are parsed and encoded so that
//! operations mentioning them decode, but soru neither signs nor verifies
//! BLS signatures.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer as _, Verifier as _};
use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rand::rngs::OsRng;

use crate::base58::{self, prefix, Base58Error, Prefix};
use crate::encoding::{Decode, DecodeError, DecodeResult, Encode, Reader};
use crate::hash::{blake2b_160, blake2b_256_concat};

/// Why a key or signature is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Bad base58check text.
    #[error(transparent)]
    Base58(#[from] Base58Error),
    /// The text starts with no key prefix soru knows.
    #[error("unrecognised {what}: {input:?}")]
    Unrecognised {
        /// What was being parsed.
        what: &'static str,
        /// The input.
        input: String,
    },
    /// Bytes that are not a point or scalar of the curve.
    #[error("invalid {curve} key: {reason}")]
    InvalidKey {
        /// The curve.
        curve: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The public half of an `edsk…` of 98 characters does not match its seed.
    #[error("the public key inside this secret key does not match its seed")]
    InconsistentSecretKey,
    /// BLS keys can be named but not used for signing.
    #[error("BLS (tz4) keys cannot sign or verify in soru")]
    BlsUnsupported,
    /// An encrypted secret key given where a clear one is needed.
    #[error("{0}… keys are encrypted: give the password to decrypt them first")]
    Encrypted(&'static str),
}

/// The curve of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Curve {
    /// Ed25519, `tz1`.
    Ed25519,
    /// secp256k1, `tz2`.
    Secp256k1,
    /// NIST P-256, `tz3`.
    P256,
    /// BLS12-381, `tz4`.
    Bls,
}

impl Curve {
    fn tag(self) -> u8 {
        match self {
            Curve::Ed25519 => 0,
            Curve::Secp256k1 => 1,
            Curve::P256 => 2,
            Curve::Bls => 3,
        }
    }

    fn from_tag(tag: u8, what: &'static str) -> DecodeResult<Self> {
        Ok(match tag {
            0 => Curve::Ed25519,
            1 => Curve::Secp256k1,
            2 => Curve::P256,
            3 => Curve::Bls,
            _ => return Err(DecodeError::UnknownTag { what, tag: tag.into() }),
        })
    }

    fn pkh_prefix(self) -> Prefix {
        match self {
            Curve::Ed25519 => prefix::TZ1,
            Curve::Secp256k1 => prefix::TZ2,
            Curve::P256 => prefix::TZ3,
            Curve::Bls => prefix::TZ4,
        }
    }

    fn pk_prefix(self) -> Prefix {
        match self {
            Curve::Ed25519 => prefix::EDPK,
            Curve::Secp256k1 => prefix::SPPK,
            Curve::P256 => prefix::P2PK,
            Curve::Bls => prefix::BLPK,
        }
    }

    fn sig_prefix(self) -> Prefix {
        match self {
            Curve::Ed25519 => prefix::EDSIG,
            Curve::Secp256k1 => prefix::SPSIG,
            Curve::P256 => prefix::P2SIG,
            Curve::Bls => prefix::BLSIG,
        }
    }

    const ALL: [Curve; 4] = [Curve::Ed25519, Curve::Secp256k1, Curve::P256, Curve::Bls];
}

/// A public key hash: an implicit account (`tz1`, `tz2`, `tz3`, `tz4`).
/// Binary: curve tag ‖ 20 bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKeyHash {
    /// The curve of the key it hashes.
    pub curve: Curve,
    /// blake2b-160 of the public key bytes.
    pub hash: [u8; 20],
}

impl PublicKeyHash {
    /// An Ed25519 (`tz1`) key hash.
    pub fn ed25519(hash: [u8; 20]) -> Self {
        Self {
            curve: Curve::Ed25519,
            hash,
        }
    }

    /// Parses `tz1…`, `tz2…`, `tz3…` or `tz4…`.
    pub fn from_base58(s: &str) -> Result<Self, KeyError> {
        for curve in Curve::ALL {
            if s.starts_with(curve.pkh_prefix().text) {
                return Ok(Self {
                    curve,
                    hash: base58::decode_array(&curve.pkh_prefix(), s)?,
                });
            }
        }
        Err(KeyError::Unrecognised {
            what: "public key hash (tz1, tz2, tz3, tz4)",
            input: s.to_string(),
        })
    }

    /// The base58check text.
    pub fn to_base58(&self) -> String {
        base58::encode(&self.curve.pkh_prefix(), &self.hash)
    }
}

impl Encode for PublicKeyHash {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.curve.tag());
        out.extend_from_slice(&self.hash);
    }
}

impl Decode for PublicKeyHash {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let curve = Curve::from_tag(r.u8()?, "public key hash")?;
        Ok(Self {
            curve,
            hash: r.array()?,
        })
    }
}

/// A public key. Binary: curve tag ‖ 32 (Ed25519), 33 (compressed ECDSA) or
/// 48 (BLS) bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey {
    curve: Curve,
    bytes: Vec<u8>,
}

impl PublicKey {
    fn len_of(curve: Curve) -> usize {
        match curve {
            Curve::Ed25519 => 32,
            Curve::Secp256k1 | Curve::P256 => 33,
            Curve::Bls => 48,
        }
    }

    /// A public key from its raw bytes, checked to be a point of the curve
    /// (BLS keys are only checked for size).
    pub fn from_raw(curve: Curve, bytes: &[u8]) -> Result<Self, KeyError> {
        let invalid = |reason: String| KeyError::InvalidKey {
            curve: curve_name(curve),
            reason,
        };
        if bytes.len() != Self::len_of(curve) {
            return Err(invalid(format!(
                "{} bytes, expected {}",
                bytes.len(),
                Self::len_of(curve)
            )));
        }
        match curve {
            Curve::Ed25519 => {
                let raw: [u8; 32] = bytes.try_into().map_err(|_| invalid("size".into()))?;
                ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|e| invalid(e.to_string()))?;
            }
            Curve::Secp256k1 => {
                k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|e| invalid(e.to_string()))?;
            }
            Curve::P256 => {
                p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|e| invalid(e.to_string()))?;
            }
            Curve::Bls => {}
        }
        Ok(Self {
            curve,
            bytes: bytes.to_vec(),
        })
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The raw key bytes (without the curve tag).
    pub fn raw(&self) -> &[u8] {
        &self.bytes
    }

    /// The public key hash (`tz1…` etc.): blake2b-160 of the raw bytes.
    pub fn hash(&self) -> PublicKeyHash {
        PublicKeyHash {
            curve: self.curve,
            hash: blake2b_160(&self.bytes),
        }
    }

    /// Parses `edpk…`, `sppk…`, `p2pk…` or `BLpk…`.
    pub fn from_base58(s: &str) -> Result<Self, KeyError> {
        for curve in Curve::ALL {
            if s.starts_with(curve.pk_prefix().text) {
                return Self::from_raw(curve, &base58::decode(&curve.pk_prefix(), s)?);
            }
        }
        Err(KeyError::Unrecognised {
            what: "public key (edpk, sppk, p2pk, BLpk)",
            input: s.to_string(),
        })
    }

    /// The base58check text.
    pub fn to_base58(&self) -> String {
        base58::encode(&self.curve.pk_prefix(), &self.bytes)
    }

    /// Whether `signature` signs `blake2b-256(watermark ‖ message)` with this key.
    pub fn verify(&self, watermark: &[u8], message: &[u8], signature: &Signature) -> Result<bool, KeyError> {
        let digest = blake2b_256_concat(&[watermark, message]);
        let sig = signature.as_bytes();
        Ok(match self.curve {
            Curve::Ed25519 => {
                let raw: [u8; 32] = self.bytes.as_slice().try_into().map_err(|_| KeyError::InvalidKey {
                    curve: "ed25519",
                    reason: "size".into(),
                })?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|e| KeyError::InvalidKey {
                    curve: "ed25519",
                    reason: e.to_string(),
                })?;
                key.verify(&digest, &ed25519_dalek::Signature::from_bytes(sig)).is_ok()
            }
            Curve::Secp256k1 => {
                let key =
                    k256::ecdsa::VerifyingKey::from_sec1_bytes(&self.bytes).map_err(|e| KeyError::InvalidKey {
                        curve: "secp256k1",
                        reason: e.to_string(),
                    })?;
                // libsecp256k1, which Octez uses, accepts only low-S signatures;
                // k256 enforces the same rule in `verify_prehash`.
                match k256::ecdsa::Signature::from_slice(sig) {
                    Ok(s) => key.verify_prehash(&digest, &s).is_ok(),
                    Err(_) => false,
                }
            }
            Curve::P256 => {
                let key =
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.bytes).map_err(|e| KeyError::InvalidKey {
                        curve: "p256",
                        reason: e.to_string(),
                    })?;
                match p256::ecdsa::Signature::from_slice(sig) {
                    Ok(s) => key.verify_prehash(&digest, &s).is_ok(),
                    Err(_) => false,
                }
            }
            Curve::Bls => return Err(KeyError::BlsUnsupported),
        })
    }
}

fn curve_name(curve: Curve) -> &'static str {
    match curve {
        Curve::Ed25519 => "ed25519",
        Curve::Secp256k1 => "secp256k1",
        Curve::P256 => "p256",
        Curve::Bls => "bls",
    }
}

impl Encode for PublicKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.curve.tag());
        out.extend_from_slice(&self.bytes);
    }
}

impl Decode for PublicKey {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let curve = Curve::from_tag(r.u8()?, "public key")?;
        let bytes = r.take(Self::len_of(curve))?;
        Self::from_raw(curve, bytes).map_err(|e| DecodeError::Invalid {
            what: "public key",
            reason: e.to_string(),
        })
    }
}

/// A 64-byte signature, remembering which curve made it (for display only:
/// on the wire a signature is 64 bytes with no curve, and equality ignores it).
#[derive(Clone, Copy)]
pub struct Signature {
    curve: Option<Curve>,
    bytes: [u8; 64],
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Signature {}

impl std::hash::Hash for Signature {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}

impl Signature {
    /// A signature from raw bytes, of unknown curve (`sig…`).
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        Self { curve: None, bytes }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.bytes
    }

    /// The curve-specific text (`edsig…`, `spsig1…`, `p2sig…`), or `sig…` when
    /// the curve is unknown.
    pub fn to_base58(&self) -> String {
        match self.curve {
            Some(curve) => base58::encode(&curve.sig_prefix(), &self.bytes),
            None => self.to_generic_base58(),
        }
    }

    /// The curve-agnostic text (`sig…`).
    pub fn to_generic_base58(&self) -> String {
        base58::encode(&prefix::GENERIC_SIG, &self.bytes)
    }

    /// Parses `edsig…`, `spsig1…`, `p2sig…` or `sig…`.
    pub fn from_base58(s: &str) -> Result<Self, KeyError> {
        for curve in [Curve::Ed25519, Curve::Secp256k1, Curve::P256] {
            if s.starts_with(curve.sig_prefix().text) {
                return Ok(Self {
                    curve: Some(curve),
                    bytes: base58::decode_array(&curve.sig_prefix(), s)?,
                });
            }
        }
        if s.starts_with(prefix::GENERIC_SIG.text) {
            return Ok(Self::from_bytes(base58::decode_array(&prefix::GENERIC_SIG, s)?));
        }
        Err(KeyError::Unrecognised {
            what: "signature (edsig, spsig1, p2sig, sig)",
            input: s.to_string(),
        })
    }
}

impl Encode for Signature {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes);
    }
}

impl Decode for Signature {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        r.array().map(Self::from_bytes)
    }
}

/// A secret key that can sign.
#[derive(Clone)]
pub enum SecretKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
    /// secp256k1.
    Secp256k1(k256::ecdsa::SigningKey),
    /// NIST P-256.
    P256(p256::ecdsa::SigningKey),
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secret material.
        write!(f, "SecretKey({})", self.public_key().hash())
    }
}

impl SecretKey {
    /// A fresh random key on `curve` (BLS is refused).
    pub fn generate(curve: Curve) -> Result<Self, KeyError> {
        Ok(match curve {
            Curve::Ed25519 => SecretKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng)),
            Curve::Secp256k1 => SecretKey::Secp256k1(k256::ecdsa::SigningKey::random(&mut OsRng)),
            Curve::P256 => SecretKey::P256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            Curve::Bls => return Err(KeyError::BlsUnsupported),
        })
    }

    /// An Ed25519 key from its 32-byte seed.
    pub fn ed25519_from_seed(seed: [u8; 32]) -> Self {
        SecretKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        match self {
            SecretKey::Ed25519(_) => Curve::Ed25519,
            SecretKey::Secp256k1(_) => Curve::Secp256k1,
            SecretKey::P256(_) => Curve::P256,
        }
    }

    /// Parses `edsk…` (seed or 64-byte form), `spsk…` or `p2sk…`, with or
    /// without an `unencrypted:` locator.
    pub fn from_base58(s: &str) -> Result<Self, KeyError> {
        let s = s.strip_prefix("unencrypted:").unwrap_or(s);
        for (encrypted, name) in [
            (prefix::EDESK, "edesk"),
            (prefix::SPESK, "spesk"),
            (prefix::P2ESK, "p2esk"),
        ] {
            if s.starts_with(encrypted.text) || s.starts_with("encrypted:") {
                return Err(KeyError::Encrypted(name));
            }
        }
        let invalid = |curve, e: &dyn fmt::Display| KeyError::InvalidKey {
            curve,
            reason: e.to_string(),
        };
        if s.starts_with("edsk") {
            if s.len() == 98 {
                let raw: [u8; 64] = base58::decode_array(&prefix::EDSK_SECRET, s)?;
                let seed: [u8; 32] = raw[..32].try_into().map_err(|_| KeyError::InconsistentSecretKey)?;
                let key = Self::ed25519_from_seed(seed);
                if key.public_key().raw() != &raw[32..] {
                    return Err(KeyError::InconsistentSecretKey);
                }
                return Ok(key);
            }
            return Ok(Self::ed25519_from_seed(base58::decode_array(&prefix::EDSK_SEED, s)?));
        }
        if s.starts_with("spsk") {
            let raw: [u8; 32] = base58::decode_array(&prefix::SPSK, s)?;
            return k256::ecdsa::SigningKey::from_slice(&raw)
                .map(SecretKey::Secp256k1)
                .map_err(|e| invalid("secp256k1", &e));
        }
        if s.starts_with("p2sk") {
            let raw: [u8; 32] = base58::decode_array(&prefix::P2SK, s)?;
            return p256::ecdsa::SigningKey::from_slice(&raw)
                .map(SecretKey::P256)
                .map_err(|e| invalid("p256", &e));
        }
        Err(KeyError::Unrecognised {
            what: "secret key (edsk, spsk, p2sk)",
            input: "<redacted>".to_string(),
        })
    }

    /// The base58check text (`edsk…` of 54 characters for Ed25519).
    pub fn to_base58(&self) -> String {
        match self {
            SecretKey::Ed25519(k) => base58::encode(&prefix::EDSK_SEED, &k.to_bytes()),
            SecretKey::Secp256k1(k) => base58::encode(&prefix::SPSK, &k.to_bytes()),
            SecretKey::P256(k) => base58::encode(&prefix::P2SK, &k.to_bytes()),
        }
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        let (curve, bytes) = match self {
            SecretKey::Ed25519(k) => (Curve::Ed25519, k.verifying_key().to_bytes().to_vec()),
            SecretKey::Secp256k1(k) => (
                Curve::Secp256k1,
                k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
            ),
            SecretKey::P256(k) => (
                Curve::P256,
                k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
            ),
        };
        PublicKey { curve, bytes }
    }

    /// Signs `blake2b-256(watermark ‖ message)`. ECDSA signatures are
    /// deterministic (RFC 6979) and, for secp256k1, low-S normalised.
    pub fn sign(&self, watermark: &[u8], message: &[u8]) -> Signature {
        let digest = blake2b_256_concat(&[watermark, message]);
        let bytes: [u8; 64] = match self {
            SecretKey::Ed25519(k) => k.sign(&digest).to_bytes(),
            SecretKey::Secp256k1(k) => {
                let sig: k256::ecdsa::Signature = k.sign_prehash(&digest).expect("32-byte digest is a valid prehash");
                let sig = sig.normalize_s().unwrap_or(sig);
                sig.to_bytes().into()
            }
            SecretKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign_prehash(&digest).expect("32-byte digest is a valid prehash");
                sig.to_bytes().into()
            }
        };
        Signature {
            curve: Some(self.curve()),
            bytes,
        }
    }
}

/// Signing watermarks (the first bytes of every signed Tezos message).
pub mod watermark {
    /// Operations (`0x03`): the watermark of every manager operation.
    pub const GENERIC_OPERATION: &[u8] = &[0x03];
}

macro_rules! text_forms {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_base58())
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($ty), self.to_base58())
            }
        }
        impl FromStr for $ty {
            type Err = KeyError;
            fn from_str(s: &str) -> Result<Self, KeyError> {
                Self::from_base58(s)
            }
        }
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_base58())
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                Self::from_base58(&text).map_err(serde::de::Error::custom)
            }
        }
    )*};
}
text_forms!(PublicKeyHash, PublicKey, Signature);

#[cfg(test)]
mod tests {
    use super::*;

    const BOOTSTRAP1_SK: &str = "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh";
    const BOOTSTRAP1_PK: &str = "edpkuBknW28nW72KG6RoHtYW7p12T6GKc7nAbwYX5m8Wd9sDVC9yav";
    const BOOTSTRAP1_PKH: &str = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx";

    #[test]
    fn bootstrap1_derivation() {
        let sk = SecretKey::from_base58(BOOTSTRAP1_SK).unwrap();
        assert_eq!(sk.to_base58(), BOOTSTRAP1_SK);
        assert_eq!(sk.public_key().to_base58(), BOOTSTRAP1_PK);
        assert_eq!(sk.public_key().hash().to_base58(), BOOTSTRAP1_PKH);
        let unencrypted = SecretKey::from_base58(&format!("unencrypted:{BOOTSTRAP1_SK}")).unwrap();
        assert_eq!(unencrypted.public_key(), sk.public_key());
    }

    #[test]
    fn sign_and_verify_every_curve() {
        for curve in [Curve::Ed25519, Curve::Secp256k1, Curve::P256] {
            let sk = SecretKey::generate(curve).unwrap();
            let pk = sk.public_key();
            let sig = sk.sign(watermark::GENERIC_OPERATION, b"hello");
            assert!(pk.verify(watermark::GENERIC_OPERATION, b"hello", &sig).unwrap());
            assert!(!pk.verify(watermark::GENERIC_OPERATION, b"hellp", &sig).unwrap());
            assert!(!pk.verify(&[], b"hello", &sig).unwrap(), "watermark is signed");
            let text = sig.to_base58();
            assert_eq!(Signature::from_base58(&text).unwrap(), sig);
            let reparsed = SecretKey::from_base58(&sk.to_base58()).unwrap();
            assert_eq!(reparsed.public_key(), pk);
            assert_eq!(PublicKey::from_base58(&pk.to_base58()).unwrap(), pk);
            assert_eq!(PublicKey::from_bytes(&pk.to_bytes()).unwrap(), pk);
            let pkh = pk.hash();
            assert_eq!(PublicKeyHash::from_base58(&pkh.to_base58()).unwrap(), pkh);
            assert_eq!(PublicKeyHash::from_bytes(&pkh.to_bytes()).unwrap(), pkh);
        }
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(matches!(
            SecretKey::from_base58(
                "encrypted:edesk1GXwWmGjXiLHBKxGBxwmNvG21vKBh6FBxc4CyJ8adQQE2avP5vBB57ZUZ93Anm7i4k8RmsHaPzVAvpnHkFF"
            ),
            Err(KeyError::Encrypted(_))
        ));
        assert!(SecretKey::from_base58("tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx").is_err());
        assert!(PublicKey::from_bytes(&[9; 33]).is_err());
        assert!(PublicKeyHash::from_base58("KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y").is_err());
        // 32 bytes that are not an Ed25519 point.
        let mut not_a_point = vec![0u8];
        not_a_point.extend([0xffu8; 32]);
        not_a_point[32] = 0x7f;
        let _ = PublicKey::from_bytes(&not_a_point); // must not panic either way
    }
}
