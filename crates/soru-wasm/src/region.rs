//! The decoder's growing state as *regions*: vectors of fixed-width records
//! that live either in memory (running) or in an external byte store (a
//! one-step proof, where the store is the PVM's state tree and a decode
//! step opens only the records it touches).
//!
//! A [`Region`] serializes as its identity and length only; its contents are
//! the store's region bytes, record `i` at `[i·W, i·W + W)`. A
//! [`VarRegion`] holds variable-size records (names, signatures) as two
//! regions: the end offset of every record and the concatenated postcard
//! bytes. Both behave identically in either place, so the store written from
//! an in-memory decoder equals the store a stored decoder leaves.

use serde::{Deserialize, Serialize};

use crate::code::Op;
use crate::decode::DecodeError;
use crate::layout::FixedWidth;
use crate::types::{
    ConstExpr, Export, FuncBody, FuncType, GlobalType, Import, MemoryType, SegmentMode, TableType, ValType,
};

/// Which region of a decoder's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegionId {
    /// End offsets of the function types' bytes.
    TypeEnds,
    /// Function types (postcard).
    TypeBytes,
    /// End offsets of the imports' bytes.
    ImportEnds,
    /// Imports (postcard).
    ImportBytes,
    /// Type index of every function.
    FuncTypes,
    /// Table types.
    Tables,
    /// Global types.
    Globals,
    /// Initialisers of the defined globals.
    GlobalInits,
    /// End offsets of the exports' bytes.
    ExportEnds,
    /// Exports (postcard).
    ExportBytes,
    /// Element segment headers.
    Elems,
    /// Items of all element segments.
    ElemItems,
    /// Data segment headers.
    Datas,
    /// Bytes of all data segments.
    DataBytes,
    /// Function body descriptors.
    Bodies,
    /// Decoded instructions.
    Code,
    /// Bitmap of the functions `ref.func` may name.
    Refs,
    /// Types of the current body's locals (parameters first).
    Locals,
    /// The validator's operand-type stack.
    Stack,
    /// The validator's control stack.
    Ctrls,
}

impl RegionId {
    /// Every region.
    pub const ALL: [RegionId; 20] = [
        RegionId::TypeEnds,
        RegionId::TypeBytes,
        RegionId::ImportEnds,
        RegionId::ImportBytes,
        RegionId::FuncTypes,
        RegionId::Tables,
        RegionId::Globals,
        RegionId::GlobalInits,
        RegionId::ExportEnds,
        RegionId::ExportBytes,
        RegionId::Elems,
        RegionId::ElemItems,
        RegionId::Datas,
        RegionId::DataBytes,
        RegionId::Bodies,
        RegionId::Code,
        RegionId::Refs,
        RegionId::Locals,
        RegionId::Stack,
        RegionId::Ctrls,
    ];

    /// A short stable name (the store's key).
    pub fn name(self) -> &'static str {
        match self {
            RegionId::TypeEnds => "type_ends",
            RegionId::TypeBytes => "types",
            RegionId::ImportEnds => "import_ends",
            RegionId::ImportBytes => "imports",
            RegionId::FuncTypes => "func_types",
            RegionId::Tables => "tables",
            RegionId::Globals => "globals",
            RegionId::GlobalInits => "global_inits",
            RegionId::ExportEnds => "export_ends",
            RegionId::ExportBytes => "exports",
            RegionId::Elems => "elems",
            RegionId::ElemItems => "elem_items",
            RegionId::Datas => "datas",
            RegionId::DataBytes => "data_bytes",
            RegionId::Bodies => "bodies",
            RegionId::Code => "code",
            RegionId::Refs => "refs",
            RegionId::Locals => "locals",
            RegionId::Stack => "stack",
            RegionId::Ctrls => "ctrls",
        }
    }
}

/// Where a stored decoder's state and input live. Errors are faults of the
/// store (a proof lacking a node), never verdicts on the module.
pub trait DecodeStore {
    /// Length of the module being decoded.
    fn input_len(&mut self) -> Result<u64, String>;
    /// Bytes `[offset, offset + len)` of the module (fewer at its end).
    fn input(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, String>;
    /// Bytes `[offset, offset + len)` of a region (fewer at its end).
    fn read(&mut self, region: RegionId, offset: u64, len: usize) -> Result<Vec<u8>, String>;
    /// Writes bytes at `offset` (never past the region's end plus the bytes).
    fn write(&mut self, region: RegionId, offset: u64, bytes: &[u8]) -> Result<(), String>;
    /// Cuts or zero-extends a region to `len` bytes; a region of length 0
    /// does not exist in the store.
    fn resize(&mut self, region: RegionId, len: u64) -> Result<(), String>;
    /// Adds an export name, naming export `index`, to the names seen;
    /// `false` if it was there.
    fn insert_name(&mut self, name: &[u8], index: u32) -> Result<bool, String>;
    /// The export an export name names, if it was seen.
    fn lookup_name(&mut self, name: &[u8]) -> Result<Option<u32>, String>;
}

/// The store of an in-memory decoder: it has none.
pub(crate) struct NoStore<'a>(pub(crate) &'a [u8]);

impl DecodeStore for NoStore<'_> {
    fn input_len(&mut self) -> Result<u64, String> {
        Ok(self.0.len() as u64)
    }
    fn input(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let from = (offset as usize).min(self.0.len());
        Ok(self.0[from..(from.saturating_add(len)).min(self.0.len())].to_vec())
    }
    fn read(&mut self, _: RegionId, _: u64, _: usize) -> Result<Vec<u8>, String> {
        Err("an in-memory decoder has stored regions".into())
    }
    fn write(&mut self, _: RegionId, _: u64, _: &[u8]) -> Result<(), String> {
        Err("an in-memory decoder has stored regions".into())
    }
    fn resize(&mut self, _: RegionId, _: u64) -> Result<(), String> {
        Err("an in-memory decoder has stored regions".into())
    }
    fn insert_name(&mut self, _: &[u8], _: u32) -> Result<bool, String> {
        Err("an in-memory decoder has a stored name set".into())
    }
    fn lookup_name(&mut self, _: &[u8]) -> Result<Option<u32>, String> {
        Err("an in-memory decoder has a stored name set".into())
    }
}

type Result<T, E = DecodeError> = std::result::Result<T, E>;

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("in-memory serialization cannot fail")
}

fn fault(e: String) -> DecodeError {
    DecodeError::Store(e)
}

fn corrupt() -> DecodeError {
    DecodeError::CorruptState("a stored decoder region does not decode")
}

#[derive(Debug, Clone)]
enum Data<T> {
    Owned(Vec<T>),
    Stored(u64),
}

/// A vector of fixed-width records, in memory or in a [`DecodeStore`].
#[derive(Debug, Clone)]
pub struct Region<T> {
    id: RegionId,
    data: Data<T>,
}

#[derive(Serialize, Deserialize)]
struct RegionHeader {
    id: RegionId,
    len: u64,
}

impl<T> Serialize for Region<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let len = match &self.data {
            Data::Owned(v) => v.len() as u64,
            Data::Stored(n) => *n,
        };
        RegionHeader { id: self.id, len }.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Region<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let h = RegionHeader::deserialize(d)?;
        Ok(Region {
            id: h.id,
            data: Data::Stored(h.len),
        })
    }
}

impl<T: FixedWidth + Clone> Region<T> {
    /// An empty in-memory region.
    pub fn new(id: RegionId) -> Self {
        Region {
            id,
            data: Data::Owned(Vec::new()),
        }
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        match &self.data {
            Data::Owned(v) => v.len() as u64,
            Data::Stored(n) => *n,
        }
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the records are in a store.
    pub fn is_stored(&self) -> bool {
        matches!(self.data, Data::Stored(_))
    }

    /// Record `i`, which must exist.
    pub fn get(&self, s: &mut dyn DecodeStore, i: u64) -> Result<T> {
        match &self.data {
            Data::Owned(v) => v.get(i as usize).cloned().ok_or_else(corrupt),
            Data::Stored(n) => {
                if i >= *n {
                    return Err(corrupt());
                }
                let bytes = s.read(self.id, i * T::WIDTH as u64, T::WIDTH).map_err(fault)?;
                if bytes.len() != T::WIDTH {
                    return Err(corrupt());
                }
                T::get(&bytes).ok_or_else(corrupt)
            }
        }
    }

    /// The last record, if any.
    pub fn last(&self, s: &mut dyn DecodeStore) -> Result<Option<T>> {
        match self.len() {
            0 => Ok(None),
            n => self.get(s, n - 1).map(Some),
        }
    }

    /// Replaces record `i`, which must exist.
    pub fn set(&mut self, s: &mut dyn DecodeStore, i: u64, value: T) -> Result<()> {
        match &mut self.data {
            Data::Owned(v) => {
                *v.get_mut(i as usize).ok_or_else(corrupt)? = value;
                Ok(())
            }
            Data::Stored(n) => {
                if i >= *n {
                    return Err(corrupt());
                }
                let mut bytes = Vec::with_capacity(T::WIDTH);
                value.put(&mut bytes);
                s.write(self.id, i * T::WIDTH as u64, &bytes).map_err(fault)
            }
        }
    }

    /// Appends a record.
    pub fn push(&mut self, s: &mut dyn DecodeStore, value: T) -> Result<()> {
        match &mut self.data {
            Data::Owned(v) => {
                v.push(value);
                Ok(())
            }
            Data::Stored(n) => {
                let mut bytes = Vec::with_capacity(T::WIDTH);
                value.put(&mut bytes);
                s.write(self.id, *n * T::WIDTH as u64, &bytes).map_err(fault)?;
                *n += 1;
                Ok(())
            }
        }
    }

    /// Appends `count` copies of a record.
    pub fn extend_with(&mut self, s: &mut dyn DecodeStore, value: T, count: u64) -> Result<()> {
        if count == 0 {
            return Ok(());
        }
        match &mut self.data {
            Data::Owned(v) => {
                v.extend(std::iter::repeat_n(value, count as usize));
                Ok(())
            }
            Data::Stored(n) => {
                let mut bytes = Vec::with_capacity(T::WIDTH * count as usize);
                for _ in 0..count {
                    value.put(&mut bytes);
                }
                s.write(self.id, *n * T::WIDTH as u64, &bytes).map_err(fault)?;
                *n += count;
                Ok(())
            }
        }
    }

    /// Removes and returns the last record.
    pub fn pop(&mut self, s: &mut dyn DecodeStore) -> Result<Option<T>> {
        let Some(last) = self.last(s)? else {
            return Ok(None);
        };
        self.truncate(s, self.len() - 1)?;
        Ok(Some(last))
    }

    /// Keeps the first `len` records (no-op if there are fewer).
    pub fn truncate(&mut self, s: &mut dyn DecodeStore, len: u64) -> Result<()> {
        match &mut self.data {
            Data::Owned(v) => {
                v.truncate(len as usize);
                Ok(())
            }
            Data::Stored(n) => {
                if len < *n {
                    s.resize(self.id, len * T::WIDTH as u64).map_err(fault)?;
                    *n = len;
                }
                Ok(())
            }
        }
    }

    /// Zero-extends a region of bytes-like records to `len` records.
    pub fn grow_zeroed(&mut self, s: &mut dyn DecodeStore, len: u64, zero: T) -> Result<()> {
        match &mut self.data {
            Data::Owned(v) => {
                if (v.len() as u64) < len {
                    v.resize(len as usize, zero);
                }
                Ok(())
            }
            Data::Stored(n) => {
                if *n < len {
                    s.resize(self.id, len * T::WIDTH as u64).map_err(fault)?;
                    *n = len;
                }
                Ok(())
            }
        }
    }

    /// The records, reading a stored region whole.
    pub fn to_vec(&self, s: &mut dyn DecodeStore) -> Result<Vec<T>> {
        match &self.data {
            Data::Owned(v) => Ok(v.clone()),
            Data::Stored(n) => {
                let len = usize::try_from(*n * T::WIDTH as u64).map_err(|_| corrupt())?;
                let bytes = if len == 0 {
                    Vec::new()
                } else {
                    s.read(self.id, 0, len).map_err(fault)?
                };
                if bytes.len() != len {
                    return Err(corrupt());
                }
                bytes.chunks(T::WIDTH).map(|b| T::get(b).ok_or_else(corrupt)).collect()
            }
        }
    }

    /// Takes the records of an in-memory region.
    pub fn into_owned(self, s: &mut dyn DecodeStore) -> Result<Vec<T>> {
        match self.data {
            Data::Owned(v) => Ok(v),
            Data::Stored(_) => self.to_vec(s),
        }
    }

    /// Reads a stored region into memory.
    pub fn load(&mut self, s: &mut dyn DecodeStore) -> Result<()> {
        if self.is_stored() {
            self.data = Data::Owned(self.to_vec(s)?);
        }
        Ok(())
    }

    /// The region in the store: an in-memory one is written there first
    /// (the store's region must be empty).
    pub fn into_stored(self, s: &mut dyn DecodeStore) -> Result<Self> {
        self.save(s)?;
        Ok(Region {
            id: self.id,
            data: Data::Stored(self.len()),
        })
    }

    /// The region's identity in a store.
    pub fn id(&self) -> RegionId {
        self.id
    }

    /// Writes an in-memory region's bytes into a store (whose region is
    /// empty).
    pub fn save(&self, s: &mut dyn DecodeStore) -> Result<()> {
        if let Data::Owned(v) = &self.data {
            if !v.is_empty() {
                let mut bytes = Vec::with_capacity(v.len() * T::WIDTH);
                for item in v {
                    item.put(&mut bytes);
                }
                s.write(self.id, 0, &bytes).map_err(fault)?;
            }
        }
        Ok(())
    }
}

impl Region<u8> {
    /// Appends bytes.
    pub fn append(&mut self, s: &mut dyn DecodeStore, bytes: &[u8]) -> Result<()> {
        match &mut self.data {
            Data::Owned(v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
            Data::Stored(n) => {
                if !bytes.is_empty() {
                    s.write(self.id, *n, bytes).map_err(fault)?;
                    *n += bytes.len() as u64;
                }
                Ok(())
            }
        }
    }

    /// Bytes `[start, start + len)`, which must exist.
    pub fn read_range(&self, s: &mut dyn DecodeStore, start: u64, len: u64) -> Result<Vec<u8>> {
        let end = start.checked_add(len).ok_or_else(corrupt)?;
        if end > self.len() {
            return Err(corrupt());
        }
        match &self.data {
            Data::Owned(v) => Ok(v[start as usize..end as usize].to_vec()),
            Data::Stored(_) if len == 0 => Ok(Vec::new()),
            Data::Stored(_) => {
                let len = usize::try_from(len).map_err(|_| corrupt())?;
                let bytes = s.read(self.id, start, len).map_err(fault)?;
                if bytes.len() != len {
                    return Err(corrupt());
                }
                Ok(bytes)
            }
        }
    }
}

/// A vector of variable-size records (postcard), in memory or in a store.
#[derive(Debug, Clone)]
pub struct VarRegion<T> {
    ends: Region<u64>,
    bytes: Region<u8>,
    /// In memory: the records and their encoded size.
    owned: Option<(Vec<T>, u64)>,
}

impl<T: Serialize> Serialize for VarRegion<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // An in-memory region serializes as the store would hold it.
        let (records, bytes) = match &self.owned {
            Some((v, bytes)) => (v.len() as u64, *bytes),
            None => (self.ends.len(), self.bytes.len()),
        };
        let ends = RegionHeader {
            id: self.ends.id,
            len: records,
        };
        let bytes = RegionHeader {
            id: self.bytes.id,
            len: bytes,
        };
        (ends, bytes).serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for VarRegion<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (ends, bytes) = <(Region<u64>, Region<u8>)>::deserialize(d)?;
        Ok(VarRegion {
            ends,
            bytes,
            owned: None,
        })
    }
}

impl<T: Serialize + serde::de::DeserializeOwned + Clone> VarRegion<T> {
    /// An empty in-memory region.
    pub fn new(ends: RegionId, bytes: RegionId) -> Self {
        VarRegion {
            ends: Region::new(ends),
            bytes: Region::new(bytes),
            owned: Some((Vec::new(), 0)),
        }
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        match &self.owned {
            Some((v, _)) => v.len() as u64,
            None => self.ends.len(),
        }
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `i`, which must exist.
    pub fn get(&self, s: &mut dyn DecodeStore, i: u64) -> Result<T> {
        if let Some((v, _)) = &self.owned {
            return v.get(i as usize).cloned().ok_or_else(corrupt);
        }
        let start = if i == 0 { 0 } else { self.ends.get(s, i - 1)? };
        let end = self.ends.get(s, i)?;
        // No record (two names of ≤ 4 096 bytes at most) comes near 1 MiB.
        if end < start || end > self.bytes.len() || end - start > 1 << 20 {
            return Err(corrupt());
        }
        let bytes = self.bytes.read_range(s, start, end - start)?;
        postcard::from_bytes(&bytes).map_err(|_| corrupt())
    }

    /// Appends a record.
    pub fn push(&mut self, s: &mut dyn DecodeStore, value: T) -> Result<()> {
        if let Some((v, bytes)) = &mut self.owned {
            *bytes += encode(&value).len() as u64;
            v.push(value);
            return Ok(());
        }
        self.bytes.append(s, &encode(&value))?;
        self.ends.push(s, self.bytes.len())
    }

    /// The records, reading a stored region whole.
    pub fn to_vec(&self, s: &mut dyn DecodeStore) -> Result<Vec<T>> {
        match &self.owned {
            Some((v, _)) => Ok(v.clone()),
            None => (0..self.len()).map(|i| self.get(s, i)).collect(),
        }
    }

    /// Takes the records, reading a stored region whole.
    pub fn into_vec(self, s: &mut dyn DecodeStore) -> Result<Vec<T>> {
        match self.owned {
            Some((v, _)) => Ok(v),
            None => self.to_vec(s),
        }
    }

    /// Reads a stored region into memory.
    pub fn load(&mut self, s: &mut dyn DecodeStore) -> Result<()> {
        if self.owned.is_none() {
            self.owned = Some((self.to_vec(s)?, self.bytes.len()));
        }
        Ok(())
    }

    /// The region in the store: an in-memory one is written there first
    /// (the store's regions must be empty).
    pub fn into_stored(self, s: &mut dyn DecodeStore) -> Result<Self> {
        self.save(s)?;
        let (records, bytes) = match &self.owned {
            Some((v, bytes)) => (v.len() as u64, *bytes),
            None => (self.ends.len(), self.bytes.len()),
        };
        Ok(VarRegion {
            ends: Region {
                id: self.ends.id,
                data: Data::Stored(records),
            },
            bytes: Region {
                id: self.bytes.id,
                data: Data::Stored(bytes),
            },
            owned: None,
        })
    }

    /// The identities of the end-offset and bytes regions in a store.
    pub fn ids(&self) -> (RegionId, RegionId) {
        (self.ends.id, self.bytes.id)
    }

    /// Writes an in-memory region's bytes into a store (whose regions are
    /// empty).
    pub fn save(&self, s: &mut dyn DecodeStore) -> Result<()> {
        let Some((v, _)) = &self.owned else { return Ok(()) };
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(v.len() * 8);
        for item in v {
            bytes.extend(encode(item));
            (bytes.len() as u64).put(&mut ends);
        }
        if !v.is_empty() {
            s.write(self.bytes.id, 0, &bytes).map_err(fault)?;
            s.write(self.ends.id, 0, &ends).map_err(fault)?;
        }
        Ok(())
    }
}

// ---- fixed-width records

impl FixedWidth for u8 {
    const WIDTH: usize = 1;
    fn put(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        bytes.first().copied()
    }
}

/// A value type in one byte.
pub(crate) fn valtype_byte(t: ValType) -> u8 {
    match t {
        ValType::I32 => 0,
        ValType::I64 => 1,
        ValType::F32 => 2,
        ValType::F64 => 3,
        ValType::FuncRef => 4,
        ValType::ExternRef => 5,
    }
}

/// The value type of [`valtype_byte`].
pub(crate) fn byte_valtype(b: u8) -> Option<ValType> {
    Some(match b {
        0 => ValType::I32,
        1 => ValType::I64,
        2 => ValType::F32,
        3 => ValType::F64,
        4 => ValType::FuncRef,
        5 => ValType::ExternRef,
        _ => return None,
    })
}

impl FixedWidth for ValType {
    const WIDTH: usize = 1;
    fn put(&self, out: &mut Vec<u8>) {
        out.push(valtype_byte(*self));
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        byte_valtype(*bytes.first()?)
    }
}

/// An operand type of the validator: `None` is the unknown type of
/// unreachable code.
impl FixedWidth for Option<ValType> {
    const WIDTH: usize = 1;
    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.map_or(0xff, valtype_byte));
    }
    fn get(bytes: &[u8]) -> Option<Self> {
        match *bytes.first()? {
            0xff => Some(None),
            b => byte_valtype(b).map(Some),
        }
    }
}

/// Records stored as their postcard bytes, zero-padded to a fixed width.
macro_rules! padded_record {
    ($t:ty, $width:expr) => {
        impl FixedWidth for $t {
            const WIDTH: usize = $width;
            fn put(&self, out: &mut Vec<u8>) {
                let mut bytes = postcard::to_stdvec(self).expect("in-memory serialization cannot fail");
                debug_assert!(bytes.len() <= Self::WIDTH);
                bytes.resize(Self::WIDTH, 0);
                out.extend_from_slice(&bytes);
            }
            fn get(bytes: &[u8]) -> Option<Self> {
                postcard::take_from_bytes(bytes).ok().map(|(v, _)| v)
            }
        }
    };
}

padded_record!(TableType, 12);
padded_record!(GlobalType, 2);
padded_record!(ConstExpr, 12);
padded_record!(FuncBody, 20);
padded_record!(ElemHeader, 40);
padded_record!(DataHeader, 40);
padded_record!(Ctrl, 40);

/// An element segment without its items (which are `[start, start + len)`
/// of the items region).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElemHeader {
    /// Use at instantiation.
    pub mode: SegmentMode,
    /// Element type.
    pub ty: ValType,
    /// First item in the items region.
    pub start: u64,
    /// Number of items.
    pub len: u64,
}

/// A data segment without its bytes (`[start, start + len)` of the bytes
/// region).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataHeader {
    /// Use at instantiation.
    pub mode: SegmentMode,
    /// First byte in the bytes region.
    pub start: u64,
    /// Number of bytes.
    pub len: u64,
}

/// The kind of a validator control frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CtrlKind {
    /// `block`.
    Block,
    /// `loop`.
    Loop,
    /// `if`.
    If,
    /// `else`.
    Else,
    /// The function body.
    Function,
}

/// A block's signature: its parameter and result types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockType {
    /// `[] -> []`.
    Empty,
    /// `[] -> [t]`.
    Value(ValType),
    /// The function type of this index.
    Index(u32),
    /// A function's label: `[] -> results of type index`.
    Results(u32),
}

/// A validator control frame. Forward branches to its label form a chain
/// through their own target fields (`fixups` is the newest), resolved when
/// the frame ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ctrl {
    /// Which construct.
    pub kind: CtrlKind,
    /// Its signature.
    pub block: BlockType,
    /// Operand-stack height at entry (below the parameters).
    pub height: u64,
    /// Code after an unconditional branch.
    pub unreachable: bool,
    /// Loop: the pc branches jump to.
    pub loop_pc: u32,
    /// Head of the chain of forward branches (`u32::MAX`: none).
    pub fixups: u32,
    /// `if`: the conditional jump to patch with the else/end pc.
    pub else_fixup: Option<u32>,
}

/// A decoded module left in its decoder's regions
/// ([`crate::Decoder::into_stored_module`]): the records are read from the
/// store one at a time, so an embedder can instantiate a module of any size
/// in bounded slices. Serialized, it is the regions' identities and lengths.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredModule {
    /// Function types.
    pub types: VarRegion<FuncType>,
    /// Imports, in order.
    pub imports: VarRegion<Import>,
    /// Type index of every function, imported ones first.
    pub func_types: Region<u32>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Every table, imported ones first.
    pub tables: Region<TableType>,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Every memory, imported ones first (at most one).
    pub memories: Vec<MemoryType>,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Every global, imported ones first.
    pub globals: Region<GlobalType>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Initialisers of the defined globals.
    pub global_inits: Region<ConstExpr>,
    /// Exports.
    pub exports: VarRegion<Export>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segment headers.
    pub elems: Region<ElemHeader>,
    /// Items of all element segments.
    pub elem_items: Region<ConstExpr>,
    /// Data segment headers.
    pub datas: Region<DataHeader>,
    /// Bytes of all data segments.
    pub data_bytes: Region<u8>,
    /// Body descriptors of the defined functions.
    pub bodies: Region<FuncBody>,
    /// The decoded code of all bodies.
    pub code: Region<Op>,
}

impl StoredModule {
    /// The export named `name`, found through the name index (no search).
    pub fn export(&self, s: &mut dyn DecodeStore, name: &str) -> Result<Option<Export>> {
        let Some(index) = s.lookup_name(name.as_bytes()).map_err(fault)? else {
            return Ok(None);
        };
        let export = self.exports.get(s, u64::from(index))?;
        if export.name != name {
            return Err(corrupt());
        }
        Ok(Some(export))
    }
}
