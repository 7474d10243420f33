//! Tezos `data-encoding` binary layouts: the [`Encode`]/[`Decode`] traits,
//! the primitive layouts (fixed-width big-endian integers, `n`, `z`, booleans,
//! options, length-prefixed bytes, strings and lists) and [`binary_struct!`],
//! which gives a struct the layout "fields in order" so that no later crate
//! hand-rolls a layout.
//!
//! Decoding never panics and never allocates more than the input can justify:
//! every length is checked against the bytes that remain before anything is
//! reserved.

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::Zero;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why some bytes are not a valid encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before the value did.
    #[error("unexpected end of input: needed {needed} more byte(s), {available} left")]
    UnexpectedEnd {
        /// Bytes the decoder asked for.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The value ended before the input did.
    #[error("{0} trailing byte(s) after the value")]
    TrailingBytes(usize),
    /// A union tag that no case uses.
    #[error("unknown {what} tag {tag}")]
    UnknownTag {
        /// The union being decoded.
        what: &'static str,
        /// The tag that was read.
        tag: u32,
    },
    /// A field whose bytes are well-formed but whose value is not allowed.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The field being decoded.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A number that does not fit the Rust type that holds it.
    #[error("{0} does not fit its type")]
    Overflow(&'static str),
    /// An `n` or `z` with a trailing zero group (data-encoding rejects these).
    #[error("non-canonical {0}: trailing zero byte")]
    TrailingZero(&'static str),
    /// Nesting deeper than [`MAX_NESTING`].
    #[error("nesting deeper than {MAX_NESTING}")]
    TooDeep,
}

/// Result of decoding.
pub type DecodeResult<T> = Result<T, DecodeError>;

/// Deepest nesting a recursive decoder (Micheline) accepts. Bounded so that
/// hostile input cannot exhaust the native stack.
pub const MAX_NESTING: u32 = 1_000;

/// A cursor over input bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Fails unless everything was read.
    pub fn finish(&self) -> DecodeResult<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                needed: n,
                available: self.remaining(),
            });
        }
        let slice = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// Everything not read yet.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let slice = &self.data[self.pos..];
        self.pos = self.data.len();
        slice
    }

    /// The next byte, without consuming it.
    pub fn peek_u8(&self) -> DecodeResult<u8> {
        self.data.get(self.pos).copied().ok_or(DecodeError::UnexpectedEnd {
            needed: 1,
            available: 0,
        })
    }

    /// The next byte.
    pub fn u8(&mut self) -> DecodeResult<u8> {
        Ok(self.take(1)?[0])
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> DecodeResult<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Runs `f` on the next `len` bytes, which it must consume entirely.
    pub fn bounded<T>(&mut self, len: usize, f: impl FnOnce(&mut Reader<'a>) -> DecodeResult<T>) -> DecodeResult<T> {
        let bytes = self.take(len)?;
        let mut inner = Reader::new(bytes);
        let value = f(&mut inner)?;
        inner.finish()?;
        Ok(value)
    }

    /// Reads a 4-byte length, then runs `f` on exactly that many bytes
    /// (data-encoding's `dynamic_size`).
    pub fn dynamic<T>(&mut self, f: impl FnOnce(&mut Reader<'a>) -> DecodeResult<T>) -> DecodeResult<T> {
        let len = u32::decode(self)? as usize;
        self.bounded(len, f)
    }
}

/// A value with a Tezos binary layout.
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The encoding of `self`.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A value that can be read back from its Tezos binary layout.
pub trait Decode: Sized {
    /// Reads one value from `r`.
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self>;

    /// Reads one value that must span all of `bytes`.
    fn from_bytes(bytes: &[u8]) -> DecodeResult<Self> {
        let mut r = Reader::new(bytes);
        let value = Self::decode(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (**self).encode_to(out)
    }
}

impl<T: Encode> Encode for Box<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (**self).encode_to(out)
    }
}

impl<T: Decode> Decode for Box<T> {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        T::decode(r).map(Box::new)
    }
}

macro_rules! fixed_int {
    ($($ty:ty),*) => {$(
        impl Encode for $ty {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
        }
        impl Decode for $ty {
            fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
                Ok(<$ty>::from_be_bytes(r.array()?))
            }
        }
    )*};
}
fixed_int!(u8, i8, u16, i16, u32, i32, u64, i64);

impl Encode for bool {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(if *self { 0xff } else { 0x00 });
    }
}

impl Decode for bool {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        match r.u8()? {
            0x00 => Ok(false),
            0xff => Ok(true),
            tag => Err(DecodeError::UnknownTag {
                what: "bool",
                tag: tag.into(),
            }),
        }
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        r.array()
    }
}

/// `option`: `00`, or `ff` followed by the value.
impl<T: Encode> Encode for Option<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0x00),
            Some(value) => {
                out.push(0xff);
                value.encode_to(out);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        match r.u8()? {
            0x00 => Ok(None),
            0xff => T::decode(r).map(Some),
            tag => Err(DecodeError::UnknownTag {
                what: "option",
                tag: tag.into(),
            }),
        }
    }
}

/// Writes `body` behind a 4-byte big-endian length (data-encoding's
/// `dynamic_size`).
pub fn write_dynamic(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    body(out);
    let len = u32::try_from(out.len() - start - 4).expect("encodings are smaller than 4 GiB");
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// `list`: a 4-byte byte length, then the elements back to back.
impl<T: Encode> Encode for Vec<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write_dynamic(out, |out| {
            for item in self {
                item.encode_to(out);
            }
        });
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        r.dynamic(|inner| {
            let mut items = Vec::new();
            while !inner.is_empty() {
                items.push(T::decode(inner)?);
            }
            Ok(items)
        })
    }
}

/// `string`: a 4-byte length, then UTF-8 bytes.
impl Encode for String {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.as_str().encode_to(out)
    }
}

impl Encode for str {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (self.len() as u32).encode_to(out);
        out.extend_from_slice(self.as_bytes());
    }
}

impl Decode for String {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let len = u32::decode(r)? as usize;
        let bytes = r.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| DecodeError::Invalid {
            what: "string",
            reason: e.to_string(),
        })
    }
}

/// `bytes`: a 4-byte length, then raw bytes. Shown as hex in JSON.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({})", hex::encode(&self.0))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Encode for Bytes {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).encode_to(out);
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Bytes {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let len = u32::decode(r)? as usize;
        Ok(Bytes(r.take(len)?.to_vec()))
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(&text)
            .map(Bytes)
            .map_err(|e| serde::de::Error::custom(format!("invalid hex {text:?}: {e}")))
    }
}

/// Writes a natural number as data-encoding `n`: 7-bit groups, least
/// significant first, high bit set on every byte but the last.
pub fn write_n(out: &mut Vec<u8>, mut value: u128) {
    loop {
        let group = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(group);
            return;
        }
        out.push(group | 0x80);
    }
}

/// Reads data-encoding `n` into a `u128`, rejecting trailing zero groups and
/// values that do not fit.
pub fn read_n(r: &mut Reader<'_>) -> DecodeResult<u128> {
    let mut value: u128 = 0;
    let mut shift = 0u32;
    loop {
        let byte = r.u8()?;
        let group = u128::from(byte & 0x7f);
        if shift > 0 && byte == 0 {
            return Err(DecodeError::TrailingZero("n"));
        }
        if shift >= 128 || (shift > 121 && group >> (128 - shift) != 0) {
            return Err(DecodeError::Overflow("n"));
        }
        value |= group << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
}

/// A natural number with the data-encoding `n` layout (ticks, fees, counters,
/// gas). Held as `u128`: larger values are rejected at decode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nat(pub u128);

impl Encode for Nat {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write_n(out, self.0)
    }
}

impl Decode for Nat {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        read_n(r).map(Nat)
    }
}

impl From<u64> for Nat {
    fn from(v: u64) -> Self {
        Nat(v.into())
    }
}

/// Octez JSON writes naturals as decimal strings.
impl Serialize for Nat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Nat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let parsed = match &value {
            serde_json::Value::String(s) => s.parse::<u128>().ok(),
            serde_json::Value::Number(n) => n.as_u64().map(u128::from),
            _ => None,
        };
        parsed
            .map(Nat)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a natural number, got {value}")))
    }
}

/// Writes an arbitrary-precision integer as data-encoding `z`: the first byte
/// holds a continuation bit, the sign bit and 6 value bits; later bytes hold 7.
pub fn write_z(out: &mut Vec<u8>, value: &BigInt) {
    let negative = value.sign() == Sign::Minus;
    let mut magnitude = value.magnitude().clone();
    let first = (low_bits(&magnitude) & 0x3f) as u8 | if negative { 0x40 } else { 0 };
    magnitude >>= 6;
    if magnitude.is_zero() {
        out.push(first);
        return;
    }
    out.push(first | 0x80);
    loop {
        let group = (low_bits(&magnitude) & 0x7f) as u8;
        magnitude >>= 7;
        if magnitude.is_zero() {
            out.push(group);
            return;
        }
        out.push(group | 0x80);
    }
}

fn low_bits(value: &BigUint) -> u64 {
    value.iter_u64_digits().next().unwrap_or(0)
}

/// Reads data-encoding `z`, rejecting trailing zero groups. A lone `-0`
/// (`0x40`) reads as 0, as data-encoding's reader accepts it.
pub fn read_z(r: &mut Reader<'_>) -> DecodeResult<BigInt> {
    let first = r.u8()?;
    let negative = first & 0x40 != 0;
    let mut magnitude = BigUint::from(first & 0x3f);
    let mut more = first & 0x80 != 0;
    let mut shift = 6u64;
    while more {
        let byte = r.u8()?;
        if byte == 0 {
            return Err(DecodeError::TrailingZero("z"));
        }
        magnitude |= BigUint::from(byte & 0x7f) << shift;
        shift += 7;
        more = byte & 0x80 != 0;
    }
    Ok(BigInt::from_biguint(
        if negative { Sign::Minus } else { Sign::Plus },
        magnitude,
    ))
}

/// Gives a struct the layout "its fields in declaration order" by
/// implementing [`Encode`] and [`Decode`] for it.
///
/// ```
/// soru_core::binary_struct! {
///     /// A pair.
///     #[derive(Debug, PartialEq)]
///     pub struct Point { pub x: i32, pub y: i32 }
/// }
/// use soru_core::encoding::{Decode, Encode};
/// let p = Point { x: 1, y: -1 };
/// assert_eq!(p.to_bytes(), [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
/// assert_eq!(Point::from_bytes(&p.to_bytes()).unwrap(), p);
/// ```
#[macro_export]
macro_rules! binary_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty ),*
        }

        impl $crate::encoding::Encode for $name {
            fn encode_to(&self, out: &mut ::std::vec::Vec<u8>) {
                $( $crate::encoding::Encode::encode_to(&self.$field, out); )*
            }
        }

        impl $crate::encoding::Decode for $name {
            fn decode(r: &mut $crate::encoding::Reader<'_>) -> $crate::encoding::DecodeResult<Self> {
                Ok(Self { $( $field: $crate::encoding::Decode::decode(r)? ),* })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n_bytes(v: u128) -> Vec<u8> {
        let mut out = Vec::new();
        write_n(&mut out, v);
        out
    }

    fn z_bytes(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_z(&mut out, &BigInt::from(v));
        out
    }

    #[test]
    fn n_known_layouts() {
        assert_eq!(n_bytes(0), [0x00]);
        assert_eq!(n_bytes(127), [0x7f]);
        assert_eq!(n_bytes(128), [0x80, 0x01]);
        assert_eq!(n_bytes(300), [0xac, 0x02]);
        assert_eq!(n_bytes(1_000_000), [0xc0, 0x84, 0x3d]);
        assert_eq!(Nat::from_bytes(&[0x80, 0x00]), Err(DecodeError::TrailingZero("n")));
        assert_eq!(Nat::from_bytes(&n_bytes(u128::MAX)), Ok(Nat(u128::MAX)));
        let mut too_big = n_bytes(u128::MAX);
        *too_big.last_mut().unwrap() |= 0x80;
        too_big.push(0x01);
        assert_eq!(Nat::from_bytes(&too_big), Err(DecodeError::Overflow("n")));
    }

    #[test]
    fn z_known_layouts() {
        assert_eq!(z_bytes(0), [0x00]);
        assert_eq!(z_bytes(37), [0x25]);
        assert_eq!(z_bytes(-1), [0x41]);
        assert_eq!(z_bytes(63), [0x3f]);
        assert_eq!(z_bytes(64), [0x80, 0x01]);
        assert_eq!(z_bytes(-64), [0xc0, 0x01]);
        assert_eq!(z_bytes(1000), [0xa8, 0x0f]);
        assert_eq!(read_z(&mut Reader::new(&[0x40])), Ok(BigInt::from(0)), "-0 reads as 0");
        assert!(read_z(&mut Reader::new(&[0x81, 0x00])).is_err(), "trailing zero");
    }

    #[test]
    fn lists_options_strings() {
        let v: Vec<u16> = vec![1, 2];
        assert_eq!(v.to_bytes(), [0, 0, 0, 4, 0, 1, 0, 2]);
        assert!(Vec::<u16>::from_bytes(&[0, 0, 0, 3, 0, 1, 0]).is_err());
        assert_eq!(Some(7u8).to_bytes(), [0xff, 7]);
        assert_eq!(None::<u8>.to_bytes(), [0]);
        assert!(Option::<u8>::from_bytes(&[1, 7]).is_err());
        assert_eq!("ab".to_string().to_bytes(), [0, 0, 0, 2, b'a', b'b']);
        assert!(String::from_bytes(&[0, 0, 0, 1, 0xff]).is_err());
        assert!(u32::from_bytes(&[0, 0, 0, 1, 2]).is_err(), "trailing bytes");
        assert!(
            Bytes::from_bytes(&[0xff, 0xff, 0xff, 0xff]).is_err(),
            "length beyond input"
        );
    }

    proptest! {
        #[test]
        fn n_round_trips(v in any::<u128>()) {
            prop_assert_eq!(Nat::from_bytes(&n_bytes(v)), Ok(Nat(v)));
        }

        #[test]
        fn z_round_trips(v in any::<i64>()) {
            prop_assert_eq!(read_z(&mut Reader::new(&z_bytes(v))), Ok(BigInt::from(v)));
        }

        #[test]
        // tezos_data_encoding 0.5.2's `Mutez` mis-encodes values of 2^56 and
        // more (it emits a trailing zero group), so the `n` cross-check stays
        // below that; pytezos vectors cover larger amounts.
        fn n_and_z_agree_with_data_encoding(v in 0u64..(1 << 56), s in any::<i64>()) {
            use tezos_data_encoding::enc::BinWriter;
            use tezos_data_encoding::types::{Mutez, Zarith};
            let mut theirs = Vec::new();
            Mutez(v.into()).bin_write(&mut theirs).unwrap();
            prop_assert_eq!(n_bytes(v.into()), theirs);
            let mut theirs = Vec::new();
            Zarith(s.into()).bin_write(&mut theirs).unwrap();
            prop_assert_eq!(z_bytes(s), theirs);
        }
    }
}
