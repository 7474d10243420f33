//! Node kinds, their hash preimages, and the shared references between them.
//!
//! Every node is immutable and sits in an `Arc`-shared slot that caches its
//! hash (computed on first request) and its contents (present for nodes built
//! in memory or read from a proof, fetched from the store on first access
//! otherwise). A node's hash is BLAKE2b-256 of its *preimage*, which names its
//! children by hash; the store keeps exactly that preimage under the hash.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use soru_core::hash::blake2b_256;

use crate::error::TreeError;
use crate::path::MAX_SEGMENT_LEN;

/// Size of a value chunk, the leaf of a value's Merkle tree, in bytes.
pub const CHUNK_SIZE: usize = 512;

/// Largest value size in bytes: 4 GiB, so a whole wasm32 memory fits in one
/// value. Durable storage's smaller limit (< 2³¹) is the PVM's to enforce.
pub const MAX_VALUE_SIZE: u64 = 1 << 32;

/// Height of the data tree of a [`MAX_VALUE_SIZE`] value.
pub(crate) const MAX_DATA_HEIGHT: u32 = 23;

const _: () = assert!((CHUNK_SIZE as u64) << MAX_DATA_HEIGHT == MAX_VALUE_SIZE);

/// The hash of a node: BLAKE2b-256 of its preimage. The hash of the root
/// directory is the tree's root hash.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeHash(pub [u8; 32]);

impl NodeHash {
    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for NodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for NodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeHash({self})")
    }
}

/// Preimage tags: the first byte of every preimage, separating the kinds.
pub(crate) mod tag {
    pub(crate) const DIR: u8 = 0x01;
    pub(crate) const TRIE_BRANCH: u8 = 0x02;
    pub(crate) const TRIE_LEAF: u8 = 0x03;
    pub(crate) const DATA_BRANCH: u8 = 0x04;
    pub(crate) const CHUNK: u8 = 0x05;
}

/// In preimages, an absent optional child is written as 32 zero bytes.
const ABSENT: [u8; 32] = [0; 32];

/// A node kind: how it is written as a preimage and read back, and how its
/// children are reached without recursion.
pub(crate) trait Node: Sized + Send + Sync + 'static {
    /// Appends the preimage (children by hash, computing their hashes as needed).
    fn write_preimage(&self, out: &mut Vec<u8>);
    /// Reads a preimage of this kind; children become hash-only references.
    fn from_preimage(bytes: &[u8]) -> Result<Self, &'static str>;
    /// Appends references to the children.
    fn children(&self, out: &mut Vec<AnyRef>);
    /// Moves the children out (so the node itself drops without recursion).
    fn into_children(self, out: &mut Vec<AnyRef>);
    /// Wraps a reference to this kind.
    fn any(r: Ref<Self>) -> AnyRef;
}

/// A reference to a node of any kind, for walks over whole trees.
pub(crate) enum AnyRef {
    Dir(Ref<DirNode>),
    Trie(Ref<TrieNode>),
    Data(Ref<DataNode>),
}

impl AnyRef {
    #[cfg(feature = "store")]
    pub(crate) fn hash(&self) -> NodeHash {
        match self {
            AnyRef::Dir(r) => r.hash(),
            AnyRef::Trie(r) => r.hash(),
            AnyRef::Data(r) => r.hash(),
        }
    }

    fn has_hash(&self) -> bool {
        match self {
            AnyRef::Dir(r) => r.0.hash.get().is_some(),
            AnyRef::Trie(r) => r.0.hash.get().is_some(),
            AnyRef::Data(r) => r.0.hash.get().is_some(),
        }
    }

    /// Appends the children; `false` if the node is not in memory.
    pub(crate) fn children(&self, out: &mut Vec<AnyRef>) -> bool {
        fn of<N: Node>(r: &Ref<N>, out: &mut Vec<AnyRef>) -> bool {
            r.loaded().map(|n| n.children(out)).is_some()
        }
        match self {
            AnyRef::Dir(r) => of(r, out),
            AnyRef::Trie(r) => of(r, out),
            AnyRef::Data(r) => of(r, out),
        }
    }

    /// The preimage, if the node is in memory.
    #[cfg(feature = "store")]
    pub(crate) fn preimage(&self) -> Option<Vec<u8>> {
        match self {
            AnyRef::Dir(r) => r.preimage(),
            AnyRef::Trie(r) => r.preimage(),
            AnyRef::Data(r) => r.preimage(),
        }
    }

    fn hash_from_children(&self) {
        match self {
            AnyRef::Dir(r) => r.hash_from_children(),
            AnyRef::Trie(r) => r.hash_from_children(),
            AnyRef::Data(r) => r.hash_from_children(),
        };
    }

    fn release(self, pending: &mut Vec<AnyRef>) {
        match self {
            AnyRef::Dir(r) => r.release(pending),
            AnyRef::Trie(r) => r.release(pending),
            AnyRef::Data(r) => r.release(pending),
        }
    }
}

struct Slot<N: Node> {
    hash: OnceLock<NodeHash>,
    node: OnceLock<N>,
}

impl<N: Node> Drop for Slot<N> {
    // Dropping a deep tree recursively could overflow the stack (a proof may
    // nest as deep as its size allows), so children are released from a list.
    fn drop(&mut self) {
        let Some(node) = self.node.take() else {
            return;
        };
        let mut pending = Vec::new();
        node.into_children(&mut pending);
        while let Some(child) = pending.pop() {
            child.release(&mut pending);
        }
    }
}

/// A shared reference to a node. Invariant: the slot holds the node, its
/// hash, or both. Cloning is O(1).
pub(crate) struct Ref<N: Node>(Arc<Slot<N>>);

impl<N: Node> Clone for Ref<N> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<N: Node> Ref<N> {
    /// A new in-memory node; its hash is computed when first asked for.
    pub(crate) fn new(node: N) -> Self {
        Self(Arc::new(Slot {
            hash: OnceLock::new(),
            node: OnceLock::from(node),
        }))
    }

    /// A node known only by hash (blinded in a proof, or not yet loaded).
    pub(crate) fn from_hash(hash: NodeHash) -> Self {
        Self(Arc::new(Slot {
            hash: OnceLock::from(hash),
            node: OnceLock::new(),
        }))
    }

    /// The node if it is in memory; never loads and never records.
    pub(crate) fn loaded(&self) -> Option<&N> {
        self.0.node.get()
    }

    /// Identity of the slot, used to record which nodes an operation opened.
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }

    /// True when both refer to the same slot.
    pub(crate) fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The node's hash, computed and cached on first use. Only nodes without a
    /// cached hash are visited (iteratively, children first), so re-hashing
    /// after k writes costs O(k · depth).
    pub(crate) fn hash(&self) -> NodeHash {
        if let Some(hash) = self.0.hash.get() {
            return *hash;
        }
        let mut stack = vec![(N::any(self.clone()), false)];
        let mut children = Vec::new();
        while let Some((node, children_done)) = stack.pop() {
            if node.has_hash() {
                continue;
            }
            if children_done {
                node.hash_from_children();
                continue;
            }
            node.children(&mut children);
            stack.push((node, true));
            stack.extend(children.drain(..).filter(|c| !c.has_hash()).map(|c| (c, false)));
        }
        self.hash_from_children()
    }

    /// Hashes the node itself, its children's hashes being cached already.
    fn hash_from_children(&self) -> NodeHash {
        *self.0.hash.get_or_init(|| {
            let node = self.0.node.get().expect("a node slot holds its node or its hash");
            let mut preimage = Vec::with_capacity(96);
            node.write_preimage(&mut preimage);
            NodeHash(blake2b_256(&preimage))
        })
    }

    /// The node's preimage (the bytes the store keeps), if it is in memory.
    #[cfg(feature = "store")]
    pub(crate) fn preimage(&self) -> Option<Vec<u8>> {
        let node = self.loaded()?;
        let mut out = Vec::with_capacity(96);
        node.write_preimage(&mut out);
        Some(out)
    }

    /// Drops this reference; if it was the last, hands the children over.
    fn release(self, pending: &mut Vec<AnyRef>) {
        if let Some(mut slot) = Arc::into_inner(self.0) {
            if let Some(node) = slot.node.take() {
                node.into_children(pending);
            }
        }
    }
}

/// Where nodes known only by hash come from.
pub(crate) trait NodeSource: Send + Sync {
    /// The preimage stored under `hash`.
    fn load(&self, hash: &NodeHash) -> Result<Vec<u8>, TreeError>;
}

/// How an operation reaches nodes: from where missing ones are loaded, and
/// whether each node opened is recorded (for a proof).
#[derive(Clone, Copy)]
pub(crate) struct Access<'a> {
    pub(crate) source: Option<&'a dyn NodeSource>,
    pub(crate) opened: Option<&'a RefCell<HashSet<usize>>>,
}

impl Access<'_> {
    /// Opens a node: records it, loads it if it is known only by hash.
    /// Without a source (a proof), a hash-only node is [`TreeError::NotInProof`].
    pub(crate) fn open<'r, N: Node>(&self, r: &'r Ref<N>) -> Result<&'r N, TreeError> {
        if let Some(opened) = self.opened {
            opened.borrow_mut().insert(r.id());
        }
        if let Some(node) = r.0.node.get() {
            return Ok(node);
        }
        let hash =
            *r.0.hash
                .get()
                .ok_or(TreeError::Malformed("node slot without node or hash"))?;
        let Some(source) = self.source else {
            return Err(TreeError::NotInProof(hash));
        };
        let bytes = source.load(&hash)?;
        if blake2b_256(&bytes) != hash.0 {
            return Err(TreeError::CorruptNode {
                hash,
                reason: "stored bytes do not hash to the node's name",
            });
        }
        let node = N::from_preimage(&bytes).map_err(|reason| TreeError::CorruptNode { hash, reason })?;
        // Another thread may have loaded the same slot meanwhile; both are the same node.
        let _ = r.0.node.set(node);
        r.0.node.get().ok_or(TreeError::Malformed("node slot lost its node"))
    }
}

/// A directory: an optional value and named children. The tree's root and
/// every non-root directory that has a value or a child.
#[derive(Clone, Default)]
pub(crate) struct DirNode {
    pub(crate) value: Option<ValueRoot>,
    pub(crate) children: Option<TrieRef>,
}

impl DirNode {
    pub(crate) fn is_empty(&self) -> bool {
        self.value.is_none() && self.children.is_none()
    }

    pub(crate) fn child_count(&self) -> u64 {
        self.children.as_ref().map_or(0, |c| c.count)
    }
}

/// A value: its size and the root of its data tree, whose height follows from
/// the size ([`data_height`]). `data` is `None` when every byte is zero.
#[derive(Clone)]
pub(crate) struct ValueRoot {
    pub(crate) size: u64,
    pub(crate) data: Option<Ref<DataNode>>,
}

/// A reference to a (non-empty) subtree of a directory's child trie, with the
/// number of children in it (so counting and indexing never open siblings).
#[derive(Clone)]
pub(crate) struct TrieRef {
    pub(crate) count: u64,
    pub(crate) node: Ref<TrieNode>,
}

/// A node of a directory's child trie: a PATRICIA trie over the 256-bit key
/// BLAKE2b-256(name). A branch splits on one key bit (most significant bit of
/// byte 0 is bit 0); bits strictly increase downwards, so the shape depends
/// only on the set of names.
pub(crate) enum TrieNode {
    Branch {
        bit: u8,
        left: TrieRef,
        right: TrieRef,
    },
    Leaf {
        name: Box<[u8]>,
        key: [u8; 32],
        dir: Ref<DirNode>,
    },
}

impl TrieNode {
    pub(crate) fn leaf(name: &[u8], dir: Ref<DirNode>) -> Self {
        TrieNode::Leaf {
            name: name.into(),
            key: trie_key(name),
            dir,
        }
    }
}

/// The trie key of a child name.
pub(crate) fn trie_key(name: &[u8]) -> [u8; 32] {
    blake2b_256(name)
}

/// Bit `i` of a trie key (bit 0 is the most significant bit of byte 0).
pub(crate) fn key_bit(key: &[u8; 32], i: u8) -> bool {
    (key[usize::from(i / 8)] >> (7 - i % 8)) & 1 == 1
}

/// A node of a value's data tree: a binary Merkle tree over [`CHUNK_SIZE`]
/// chunks. Absent children are all-zero subtrees.
pub(crate) enum DataNode {
    /// An inner node; never both children absent.
    Branch {
        left: Option<Ref<DataNode>>,
        right: Option<Ref<DataNode>>,
    },
    /// A chunk's bytes with trailing zeros removed; never empty.
    Chunk(Box<[u8]>),
}

/// Height of the data tree for a value of `size` bytes: the smallest `h` with
/// `CHUNK_SIZE · 2^h ≥ size`.
pub(crate) fn data_height(size: u64) -> u32 {
    let chunks = size.div_ceil(CHUNK_SIZE as u64);
    if chunks <= 1 {
        0
    } else {
        u64::BITS - (chunks - 1).leading_zeros()
    }
}

fn write_opt_hash<N: Node>(out: &mut Vec<u8>, r: Option<&Ref<N>>) {
    match r {
        Some(r) => out.extend_from_slice(&r.hash().0),
        None => out.extend_from_slice(&ABSENT),
    }
}

/// Preimage reader: fixed fields, no trailing bytes.
struct Fields<'a> {
    bytes: &'a [u8],
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.bytes.len() < n {
            return Err("preimage too short");
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, &'static str> {
        let mut b = [0; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }

    fn hash(&mut self) -> Result<[u8; 32], &'static str> {
        let mut b = [0; 32];
        b.copy_from_slice(self.take(32)?);
        Ok(b)
    }

    fn opt_ref<N: Node>(&mut self) -> Result<Option<Ref<N>>, &'static str> {
        let h = self.hash()?;
        Ok((h != ABSENT).then(|| Ref::from_hash(NodeHash(h))))
    }

    fn finish(&self) -> Result<(), &'static str> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err("trailing bytes in preimage")
        }
    }
}

impl Node for DirNode {
    // 01 ‖ has_value:u8 ‖ [size:u64 ‖ data_hash|0³²] ‖ child_count:u64 ‖ [trie_hash if count > 0]
    fn write_preimage(&self, out: &mut Vec<u8>) {
        out.push(tag::DIR);
        match &self.value {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&v.size.to_be_bytes());
                write_opt_hash(out, v.data.as_ref());
            }
        }
        out.extend_from_slice(&self.child_count().to_be_bytes());
        if let Some(c) = &self.children {
            out.extend_from_slice(&c.node.hash().0);
        }
    }

    fn from_preimage(bytes: &[u8]) -> Result<Self, &'static str> {
        let mut f = Fields { bytes };
        if f.u8()? != tag::DIR {
            return Err("expected a directory node");
        }
        let value = match f.u8()? {
            0 => None,
            1 => {
                let size = f.u64()?;
                if size > MAX_VALUE_SIZE {
                    return Err("value size over the maximum");
                }
                let data = f.opt_ref()?;
                if size == 0 && data.is_some() {
                    return Err("data under an empty value");
                }
                Some(ValueRoot { size, data })
            }
            _ => return Err("bad value flag"),
        };
        let count = f.u64()?;
        let children = if count == 0 {
            None
        } else {
            Some(TrieRef {
                count,
                node: Ref::from_hash(NodeHash(f.hash()?)),
            })
        };
        f.finish()?;
        Ok(DirNode { value, children })
    }

    fn children(&self, out: &mut Vec<AnyRef>) {
        if let Some(data) = self.value.as_ref().and_then(|v| v.data.clone()) {
            out.push(AnyRef::Data(data));
        }
        if let Some(c) = &self.children {
            out.push(AnyRef::Trie(c.node.clone()));
        }
    }

    fn into_children(self, out: &mut Vec<AnyRef>) {
        if let Some(data) = self.value.and_then(|v| v.data) {
            out.push(AnyRef::Data(data));
        }
        if let Some(c) = self.children {
            out.push(AnyRef::Trie(c.node));
        }
    }

    fn any(r: Ref<Self>) -> AnyRef {
        AnyRef::Dir(r)
    }
}

impl Node for TrieNode {
    // branch: 02 ‖ bit:u8 ‖ left_count:u64 ‖ left_hash ‖ right_count:u64 ‖ right_hash
    // leaf:   03 ‖ name_len:u8 ‖ name ‖ dir_hash
    fn write_preimage(&self, out: &mut Vec<u8>) {
        match self {
            TrieNode::Branch { bit, left, right } => {
                out.push(tag::TRIE_BRANCH);
                out.push(*bit);
                for side in [left, right] {
                    out.extend_from_slice(&side.count.to_be_bytes());
                    out.extend_from_slice(&side.node.hash().0);
                }
            }
            TrieNode::Leaf { name, dir, .. } => {
                out.push(tag::TRIE_LEAF);
                // Names are 1..=255 bytes by construction (path rules).
                out.push(name.len() as u8);
                out.extend_from_slice(name);
                out.extend_from_slice(&dir.hash().0);
            }
        }
    }

    fn from_preimage(bytes: &[u8]) -> Result<Self, &'static str> {
        let mut f = Fields { bytes };
        let node = match f.u8()? {
            tag::TRIE_BRANCH => {
                let bit = f.u8()?;
                let left_count = f.u64()?;
                let left = Ref::from_hash(NodeHash(f.hash()?));
                let right_count = f.u64()?;
                let right = Ref::from_hash(NodeHash(f.hash()?));
                if left_count == 0 || right_count == 0 || left_count.checked_add(right_count).is_none() {
                    return Err("bad trie branch counts");
                }
                TrieNode::Branch {
                    bit,
                    left: TrieRef {
                        count: left_count,
                        node: left,
                    },
                    right: TrieRef {
                        count: right_count,
                        node: right,
                    },
                }
            }
            tag::TRIE_LEAF => {
                let len = usize::from(f.u8()?);
                let name = f.take(len)?;
                check_name(name)?;
                let dir = Ref::from_hash(NodeHash(f.hash()?));
                TrieNode::leaf(name, dir)
            }
            _ => return Err("expected a trie node"),
        };
        f.finish()?;
        Ok(node)
    }

    fn children(&self, out: &mut Vec<AnyRef>) {
        match self {
            TrieNode::Branch { left, right, .. } => {
                out.push(AnyRef::Trie(left.node.clone()));
                out.push(AnyRef::Trie(right.node.clone()));
            }
            TrieNode::Leaf { dir, .. } => out.push(AnyRef::Dir(dir.clone())),
        }
    }

    fn into_children(self, out: &mut Vec<AnyRef>) {
        match self {
            TrieNode::Branch { left, right, .. } => {
                out.push(AnyRef::Trie(left.node));
                out.push(AnyRef::Trie(right.node));
            }
            TrieNode::Leaf { dir, .. } => out.push(AnyRef::Dir(dir)),
        }
    }

    fn any(r: Ref<Self>) -> AnyRef {
        AnyRef::Trie(r)
    }
}

/// A child name's rules: 1..=255 bytes, no `/`.
pub(crate) fn check_name(name: &[u8]) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > MAX_SEGMENT_LEN || name.contains(&b'/') {
        Err("invalid child name")
    } else {
        Ok(())
    }
}

/// A chunk's rules: 1..=CHUNK_SIZE bytes, last byte non-zero (trimmed).
pub(crate) fn check_chunk(bytes: &[u8]) -> Result<(), &'static str> {
    match bytes.last() {
        Some(&last) if bytes.len() <= CHUNK_SIZE && last != 0 => Ok(()),
        _ => Err("chunk not 1..=512 bytes ending in a non-zero byte"),
    }
}

impl Node for DataNode {
    // branch: 04 ‖ left_hash|0³² ‖ right_hash|0³²
    // chunk:  05 ‖ bytes
    fn write_preimage(&self, out: &mut Vec<u8>) {
        match self {
            DataNode::Branch { left, right } => {
                out.push(tag::DATA_BRANCH);
                write_opt_hash(out, left.as_ref());
                write_opt_hash(out, right.as_ref());
            }
            DataNode::Chunk(bytes) => {
                out.push(tag::CHUNK);
                out.extend_from_slice(bytes);
            }
        }
    }

    fn from_preimage(bytes: &[u8]) -> Result<Self, &'static str> {
        let mut f = Fields { bytes };
        match f.u8()? {
            tag::DATA_BRANCH => {
                let left = f.opt_ref()?;
                let right = f.opt_ref()?;
                f.finish()?;
                if left.is_none() && right.is_none() {
                    return Err("data branch with no children");
                }
                Ok(DataNode::Branch { left, right })
            }
            tag::CHUNK => {
                let data = f.bytes;
                check_chunk(data)?;
                Ok(DataNode::Chunk(data.into()))
            }
            _ => Err("expected a data node"),
        }
    }

    fn children(&self, out: &mut Vec<AnyRef>) {
        if let DataNode::Branch { left, right } = self {
            out.extend(left.iter().chain(right).map(|d| AnyRef::Data(d.clone())));
        }
    }

    fn into_children(self, out: &mut Vec<AnyRef>) {
        if let DataNode::Branch { left, right } = self {
            out.extend(left.into_iter().chain(right).map(AnyRef::Data));
        }
    }

    fn any(r: Ref<Self>) -> AnyRef {
        AnyRef::Data(r)
    }
}

/// The hashes of the children a preimage names (any kind), for the store's
/// garbage collector. Reads the fixed layouts directly (no node is built),
/// checking lengths so a malformed preimage is an error.
#[cfg(feature = "store")]
pub(crate) fn preimage_children(bytes: &[u8]) -> Result<Vec<NodeHash>, &'static str> {
    let hash_at = |at: usize| -> Option<NodeHash> {
        let h: [u8; 32] = bytes.get(at..at + 32)?.try_into().ok()?;
        Some(NodeHash(h))
    };
    let mut out = Vec::with_capacity(2);
    let expected_len = match bytes.first() {
        Some(&tag::DIR) => {
            let (count_at, data) = match bytes.get(1) {
                Some(0) => (2, None),
                Some(1) => (42, Some(hash_at(10).ok_or("preimage too short")?)),
                _ => return Err("bad value flag"),
            };
            out.extend(data);
            let count = bytes.get(count_at..count_at + 8).ok_or("preimage too short")?;
            if count.iter().all(|&b| b == 0) {
                count_at + 8
            } else {
                out.push(hash_at(count_at + 8).ok_or("preimage too short")?);
                count_at + 40
            }
        }
        Some(&tag::TRIE_BRANCH) => {
            out.extend([hash_at(10), hash_at(50)].into_iter().flatten());
            82
        }
        Some(&tag::TRIE_LEAF) => {
            let len = usize::from(*bytes.get(1).ok_or("preimage too short")?);
            out.extend(hash_at(2 + len));
            2 + len + 32
        }
        Some(&tag::DATA_BRANCH) => {
            out.extend([hash_at(1), hash_at(33)].into_iter().flatten());
            65
        }
        Some(&tag::CHUNK) => bytes.len(),
        _ => return Err("unknown node tag"),
    };
    if bytes.len() != expected_len {
        return Err("preimage of the wrong length");
    }
    out.retain(|h| h.0 != ABSENT);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights() {
        assert_eq!(data_height(0), 0);
        assert_eq!(data_height(1), 0);
        assert_eq!(data_height(512), 0);
        assert_eq!(data_height(513), 1);
        assert_eq!(data_height(1024), 1);
        assert_eq!(data_height(1025), 2);
        assert_eq!(data_height((1 << 31) - 1), 22);
        assert_eq!(data_height(MAX_VALUE_SIZE), MAX_DATA_HEIGHT);
    }

    #[test]
    fn key_bits() {
        let mut key = [0u8; 32];
        key[0] = 0b1000_0001;
        key[31] = 1;
        assert!(key_bit(&key, 0));
        assert!(!key_bit(&key, 1));
        assert!(key_bit(&key, 7));
        assert!(key_bit(&key, 255));
        assert!(!key_bit(&key, 254));
    }

    #[test]
    fn preimages_round_trip() {
        let chunk = Ref::new(DataNode::Chunk(vec![1, 2, 3].into()));
        let branch = Ref::new(DataNode::Branch {
            left: None,
            right: Some(chunk.clone()),
        });
        let dir = Ref::new(DirNode {
            value: Some(ValueRoot {
                size: 1000,
                data: Some(branch.clone()),
            }),
            children: None,
        });
        let leaf = Ref::new(TrieNode::leaf(b"name", dir.clone()));
        let parent = Ref::new(DirNode {
            value: None,
            children: Some(TrieRef {
                count: 1,
                node: leaf.clone(),
            }),
        });
        let mut bad_leaf = leaf.preimage().unwrap();
        bad_leaf.pop();
        assert!(preimage_children(&bad_leaf).is_err());
        assert!(preimage_children(&[tag::DIR, 2]).is_err());
        assert!(preimage_children(&[9]).is_err());
        for (bytes, children) in [
            (chunk.preimage().unwrap(), vec![]),
            (branch.preimage().unwrap(), vec![chunk.hash()]),
            (dir.preimage().unwrap(), vec![branch.hash()]),
            (leaf.preimage().unwrap(), vec![dir.hash()]),
            (parent.preimage().unwrap(), vec![leaf.hash()]),
        ] {
            assert_eq!(preimage_children(&bytes).unwrap(), children);
        }
        let again = DirNode::from_preimage(&dir.preimage().unwrap()).unwrap();
        assert_eq!(Ref::new(again).hash(), dir.hash());
        assert!(DirNode::from_preimage(&leaf.preimage().unwrap()).is_err());
        assert!(DataNode::from_preimage(&[tag::CHUNK, 1, 0]).is_err(), "untrimmed chunk");
        assert!(DataNode::from_preimage(&[tag::CHUNK]).is_err(), "empty chunk");
        let mut both_absent = vec![tag::DATA_BRANCH];
        both_absent.extend([0; 64]);
        assert!(DataNode::from_preimage(&both_absent).is_err());
    }
}
