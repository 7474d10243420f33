//! Contract identifiers as the L1 encodes them: 22 bytes, either an implicit
//! account (`00 ‖ public key hash`) or an originated contract
//! (`01 ‖ 20-byte hash ‖ 00`).

use std::fmt;
use std::str::FromStr;

use crate::base58::ContractKt1Hash;
use crate::encoding::{Decode, DecodeError, DecodeResult, Encode, Reader};
use crate::keys::{KeyError, PublicKeyHash};

/// An implicit account or an originated contract.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contract {
    /// `tz1…`, `tz2…`, `tz3…`, `tz4…`.
    Implicit(PublicKeyHash),
    /// `KT1…`.
    Originated(ContractKt1Hash),
}

impl Contract {
    /// Parses `tz…` or `KT1…`.
    pub fn from_base58(s: &str) -> Result<Self, KeyError> {
        if s.starts_with("KT1") {
            Ok(Contract::Originated(ContractKt1Hash::from_base58(s)?))
        } else {
            PublicKeyHash::from_base58(s).map(Contract::Implicit)
        }
    }

    /// The base58 text.
    pub fn to_base58(&self) -> String {
        match self {
            Contract::Implicit(pkh) => pkh.to_base58(),
            Contract::Originated(kt1) => kt1.to_base58(),
        }
    }
}

/// Writes an originated contract in its 22-byte contract-id form.
pub fn encode_originated(kt1: &ContractKt1Hash, out: &mut Vec<u8>) {
    out.push(1);
    out.extend_from_slice(kt1.as_bytes());
    out.push(0);
}

/// Reads a 22-byte contract id that must be an originated contract.
pub fn decode_originated(r: &mut Reader<'_>) -> DecodeResult<ContractKt1Hash> {
    match Contract::decode(r)? {
        Contract::Originated(kt1) => Ok(kt1),
        Contract::Implicit(pkh) => Err(DecodeError::Invalid {
            what: "destination",
            reason: format!("{pkh} is not an originated contract"),
        }),
    }
}

impl Encode for Contract {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Contract::Implicit(pkh) => {
                out.push(0);
                pkh.encode_to(out);
            }
            Contract::Originated(kt1) => encode_originated(kt1, out),
        }
    }
}

impl Decode for Contract {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        match r.u8()? {
            0 => PublicKeyHash::decode(r).map(Contract::Implicit),
            1 => {
                let kt1 = ContractKt1Hash::decode(r)?;
                match r.u8()? {
                    0 => Ok(Contract::Originated(kt1)),
                    pad => Err(DecodeError::Invalid {
                        what: "originated contract",
                        reason: format!("padding byte {pad:#04x} is not zero"),
                    }),
                }
            }
            tag => Err(DecodeError::UnknownTag {
                what: "contract",
                tag: tag.into(),
            }),
        }
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base58())
    }
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Contract({})", self.to_base58())
    }
}

impl FromStr for Contract {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Self::from_base58(s)
    }
}

impl serde::Serialize for Contract {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base58())
    }
}

impl<'de> serde::Deserialize<'de> for Contract {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        Self::from_base58(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let kt1: Contract = "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y".parse().unwrap();
        assert_eq!(
            hex::encode(kt1.to_bytes()),
            "0115edad279f55e2fe4011de6d2c24fdf51bf225c500"
        );
        let tz1: Contract = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap();
        assert_eq!(
            hex::encode(tz1.to_bytes()),
            "000002298c03ed7d454a101eb7022bc95f7e5f41ac78"
        );
        assert_eq!(Contract::from_bytes(&kt1.to_bytes()).unwrap(), kt1);
        let mut bad_pad = kt1.to_bytes();
        bad_pad[21] = 1;
        assert!(Contract::from_bytes(&bad_pad).is_err());
    }
}
