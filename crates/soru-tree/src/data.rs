//! Values: a binary Merkle tree over [`CHUNK_SIZE`]-byte chunks.
//!
//! A value of `size` bytes has a data tree of height [`data_height`]`(size)`;
//! chunk `i` is the leaf reached by the bits of `i`, most significant first.
//! All-zero chunks and all-zero subtrees are absent, and chunks drop their
//! trailing zeros, so the tree depends only on the bytes (sparse values cost
//! only what was written) and bytes past `size` are always zero. An access to
//! `k` bytes opens at most ⌈k / CHUNK_SIZE⌉ + 1 chunks and the branches above
//! them, whatever the value's size; a write that covers a chunk or subtree
//! entirely replaces it without opening it.

use std::cmp::{max, min};

use crate::error::TreeError;
use crate::node::{data_height, Access, DataNode, Ref, ValueRoot, CHUNK_SIZE, MAX_VALUE_SIZE};

const CHUNK: u64 = CHUNK_SIZE as u64;

/// What a write stores in its range.
#[derive(Clone, Copy)]
enum Fill<'a> {
    /// These bytes, the first one at the range's start.
    Bytes(&'a [u8]),
    /// Zeros.
    Zeros,
}

impl Fill<'_> {
    /// Copies the fill's bytes `[at, at + dst.len())` (relative to the range start).
    fn copy_into(&self, dst: &mut [u8], at: u64) {
        match self {
            Fill::Bytes(bytes) => {
                // `at` lies within the write's range, whose length fits in usize.
                let at = at as usize;
                dst.copy_from_slice(&bytes[at..at + dst.len()]);
            }
            Fill::Zeros => dst.fill(0),
        }
    }
}

fn wrong_height() -> TreeError {
    TreeError::Malformed("data node at the wrong height")
}

fn chunk_of(bytes: &[u8]) -> Option<Ref<DataNode>> {
    let len = bytes.iter().rposition(|&b| b != 0)? + 1;
    Some(Ref::new(DataNode::Chunk(bytes[..len].into())))
}

fn branch_of(left: Option<Ref<DataNode>>, right: Option<Ref<DataNode>>) -> Option<Ref<DataNode>> {
    if left.is_none() && right.is_none() {
        None
    } else {
        Some(Ref::new(DataNode::Branch { left, right }))
    }
}

/// Reads `len` bytes at `offset` (fewer if the value ends first).
pub(crate) fn read(acc: &Access<'_>, value: &ValueRoot, offset: u64, len: usize) -> Result<Vec<u8>, TreeError> {
    if offset > value.size {
        return Err(TreeError::OffsetOutOfRange {
            offset,
            size: value.size,
        });
    }
    let n = min(len as u64, value.size - offset) as usize;
    let mut out = vec![0; n];
    if n > 0 {
        read_range(acc, value.data.as_ref(), data_height(value.size), 0, offset, &mut out)?;
    }
    Ok(out)
}

/// Fills `out` with the bytes `[from, from + out.len())` that lie in the
/// subtree of `height` starting at byte `start`.
fn read_range(
    acc: &Access<'_>,
    node: Option<&Ref<DataNode>>,
    height: u32,
    start: u64,
    from: u64,
    out: &mut [u8],
) -> Result<(), TreeError> {
    let end = start + (CHUNK << height);
    let to = from + out.len() as u64;
    if to <= start || from >= end {
        return Ok(());
    }
    let Some(node) = node else {
        return Ok(()); // absent: zeros, and `out` starts zeroed
    };
    match acc.open(node)? {
        DataNode::Chunk(bytes) if height == 0 => {
            let lo = max(from, start);
            let hi = min(to, end).min(start + bytes.len() as u64);
            if lo < hi {
                let src = &bytes[(lo - start) as usize..(hi - start) as usize];
                out[(lo - from) as usize..(hi - from) as usize].copy_from_slice(src);
            }
            Ok(())
        }
        DataNode::Branch { left, right } if height > 0 => {
            let half = CHUNK << (height - 1);
            read_range(acc, left.as_ref(), height - 1, start, from, out)?;
            read_range(acc, right.as_ref(), height - 1, start + half, from, out)
        }
        _ => Err(wrong_height()),
    }
}

/// The subtree of `height` starting at `start` after storing `fill` over
/// `[from, to)`.
fn write_range(
    acc: &Access<'_>,
    node: Option<&Ref<DataNode>>,
    height: u32,
    start: u64,
    from: u64,
    to: u64,
    fill: Fill<'_>,
) -> Result<Option<Ref<DataNode>>, TreeError> {
    let end = start + (CHUNK << height);
    if to <= start || from >= end {
        return Ok(node.cloned());
    }
    if from <= start && end <= to {
        // Entirely overwritten: the old subtree is not needed, nor opened.
        return Ok(build(height, start - from, fill));
    }
    if height == 0 {
        let mut chunk = [0u8; CHUNK_SIZE];
        if let Some(node) = node {
            match acc.open(node)? {
                DataNode::Chunk(bytes) => chunk[..bytes.len()].copy_from_slice(bytes),
                DataNode::Branch { .. } => return Err(wrong_height()),
            }
        }
        let lo = max(from, start);
        let hi = min(to, end);
        fill.copy_into(&mut chunk[(lo - start) as usize..(hi - start) as usize], lo - from);
        return Ok(chunk_of(&chunk));
    }
    let (left, right) = match node {
        None => (None, None),
        Some(node) => match acc.open(node)? {
            DataNode::Branch { left, right } => (left.clone(), right.clone()),
            DataNode::Chunk(_) => return Err(wrong_height()),
        },
    };
    let half = CHUNK << (height - 1);
    let left = write_range(acc, left.as_ref(), height - 1, start, from, to, fill)?;
    let right = write_range(acc, right.as_ref(), height - 1, start + half, from, to, fill)?;
    Ok(branch_of(left, right))
}

/// A subtree of `height` holding the fill from its offset `at` on.
fn build(height: u32, at: u64, fill: Fill<'_>) -> Option<Ref<DataNode>> {
    match fill {
        Fill::Zeros => None,
        Fill::Bytes(bytes) => {
            // The subtree lies inside the written range, so this slice is in bounds.
            let at = at as usize;
            build_bytes(height, &bytes[at..at + (CHUNK_SIZE << height)])
        }
    }
}

fn build_bytes(height: u32, bytes: &[u8]) -> Option<Ref<DataNode>> {
    if height == 0 {
        return chunk_of(bytes);
    }
    let (left, right) = bytes.split_at(bytes.len() / 2);
    branch_of(build_bytes(height - 1, left), build_bytes(height - 1, right))
}

/// The value grown to `new_size` (≥ its size): the data tree gains levels
/// above the old root, nothing is opened.
fn grow(value: &ValueRoot, new_size: u64) -> ValueRoot {
    let mut data = value.data.clone();
    for _ in data_height(value.size)..data_height(new_size) {
        data = data.map(|d| {
            Ref::new(DataNode::Branch {
                left: Some(d),
                right: None,
            })
        });
    }
    ValueRoot { size: new_size, data }
}

fn check_size(size: u64) -> Result<(), TreeError> {
    if size > MAX_VALUE_SIZE {
        Err(TreeError::ValueTooLarge { size })
    } else {
        Ok(())
    }
}

/// A zeroed value of `size` bytes (no data at all: every chunk is absent).
pub(crate) fn zeroed(size: u64) -> Result<ValueRoot, TreeError> {
    check_size(size)?;
    Ok(ValueRoot { size, data: None })
}

/// A value holding exactly `bytes`.
pub(crate) fn from_bytes(bytes: &[u8]) -> Result<ValueRoot, TreeError> {
    let size = bytes.len() as u64;
    check_size(size)?;
    let data = write_range(
        &Access {
            source: None,
            opened: None,
        },
        None,
        data_height(size),
        0,
        0,
        size,
        Fill::Bytes(bytes),
    )?;
    Ok(ValueRoot { size, data })
}

/// The value after writing `bytes` at `offset`, growing it (with zeros in
/// any gap) if the write ends past its end.
pub(crate) fn write(acc: &Access<'_>, value: &ValueRoot, offset: u64, bytes: &[u8]) -> Result<ValueRoot, TreeError> {
    let end = offset
        .checked_add(bytes.len() as u64)
        .ok_or(TreeError::ValueTooLarge { size: u64::MAX })?;
    check_size(end)?;
    let grown = grow(value, max(value.size, end));
    if bytes.is_empty() {
        return Ok(grown);
    }
    let height = data_height(grown.size);
    let data = write_range(acc, grown.data.as_ref(), height, 0, offset, end, Fill::Bytes(bytes))?;
    Ok(ValueRoot { size: grown.size, data })
}

/// The value resized to `new_size`: grown with zeros, or cut (the dropped
/// bytes become zeros, so growing again reads zeros).
pub(crate) fn resize(acc: &Access<'_>, value: &ValueRoot, new_size: u64) -> Result<ValueRoot, TreeError> {
    check_size(new_size)?;
    if new_size >= value.size {
        return Ok(grow(value, new_size));
    }
    let old_height = data_height(value.size);
    let capacity = CHUNK << old_height;
    let mut data = write_range(acc, value.data.as_ref(), old_height, 0, new_size, capacity, Fill::Zeros)?;
    for _ in data_height(new_size)..old_height {
        data = match &data {
            None => None,
            Some(node) => match acc.open(node)? {
                DataNode::Branch { left, right: None } => left.clone(),
                _ => return Err(TreeError::Malformed("data beyond a value's capacity")),
            },
        };
    }
    Ok(ValueRoot { size: new_size, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Access<'static> = Access {
        source: None,
        opened: None,
    };

    fn read_all(v: &ValueRoot) -> Vec<u8> {
        read(&PLAIN, v, 0, v.size as usize).unwrap()
    }

    #[test]
    fn write_read_grow_and_cut() {
        let mut v = zeroed(0).unwrap();
        let mut model = Vec::new();
        for (offset, len, byte) in [
            (0u64, 10usize, 1u8),
            (500, 30, 2),
            (2000, 1, 3),
            (100, 1500, 4),
            (5000, 0, 0),
        ] {
            v = write(&PLAIN, &v, offset, &vec![byte; len]).unwrap();
            let end = (offset as usize + len).max(model.len());
            model.resize(end, 0);
            model[offset as usize..offset as usize + len].fill(byte);
            assert_eq!(read_all(&v), model);
        }
        for size in [4000u64, 1025, 1024, 513, 3, 0, 700] {
            v = resize(&PLAIN, &v, size).unwrap();
            model.resize(size as usize, 0);
            assert_eq!(read_all(&v), model);
            let canonical = from_bytes(&model).unwrap();
            assert_eq!(
                v.data.as_ref().map(|d| d.hash()),
                canonical.data.as_ref().map(|d| d.hash())
            );
        }
    }

    #[test]
    fn zeros_are_absent() {
        let v = write(&PLAIN, &zeroed(10_000).unwrap(), 3000, &[0; 100]).unwrap();
        assert!(v.data.is_none());
        let v = write(&PLAIN, &v, 3000, &[7]).unwrap();
        let v = write(&PLAIN, &v, 3000, &[0]).unwrap();
        assert!(v.data.is_none(), "a chunk that returns to zero disappears");
    }

    #[test]
    fn bounds() {
        let v = zeroed(10).unwrap();
        assert_eq!(read(&PLAIN, &v, 10, 5).unwrap(), Vec::<u8>::new());
        assert_eq!(
            read(&PLAIN, &v, 11, 5),
            Err(TreeError::OffsetOutOfRange { offset: 11, size: 10 })
        );
        assert!(matches!(
            zeroed(MAX_VALUE_SIZE + 1),
            Err(TreeError::ValueTooLarge { .. })
        ));
        assert!(matches!(
            write(&PLAIN, &v, MAX_VALUE_SIZE, &[1]),
            Err(TreeError::ValueTooLarge { .. })
        ));
        assert!(matches!(
            write(&PLAIN, &v, u64::MAX, &[1]),
            Err(TreeError::ValueTooLarge { .. })
        ));
        let big = write(&PLAIN, &v, MAX_VALUE_SIZE - 1, &[9]).unwrap();
        assert_eq!(read(&PLAIN, &big, MAX_VALUE_SIZE - 2, 10).unwrap(), vec![0, 9]);
    }
}
