//! Proofs: the recording view, the wire format, and the verifier view.
//!
//! A [`RecordingTree`] runs operations on a tree and remembers every node they
//! open. Its proof is the tree as it was before the operations, with the
//! opened nodes written out and every other subtree replaced by its hash
//! ("blinded"). A [`VerifierTree`] rebuilds that partial tree, whose root hash
//! is the before-state's, and answers the same operations with the same code;
//! an operation that needs a blinded node fails with
//! [`TreeError::NotInProof`](crate::TreeError::NotInProof). Its root hash
//! after the operations is the after-state's.
//!
//! Wire format, version 1 (every item canonical, so a proof has one encoding):
//!
//! ```text
//! proof     = 0x01 dir
//! dir       = 0x00 hash32                              blinded directory
//!           | 0x10+flags [varint size data(h)] [trie]  flags: 1 = value, 2 = children;
//!                                                      h = data height of size
//! data(h)   = 0x00                                     absent (all zeros)
//!           | 0x01 hash32                              blinded (hash ≠ 0)
//!           | 0x02 data(h-1) data(h-1)                 branch, h > 0, not both absent
//!           | 0x02 varint len bytes                    chunk, h = 0, 1 ≤ len ≤ 512, last byte ≠ 0
//! trie      = 0x00 varint count hash32                 blinded subtree of count ≥ 1 children
//!           | 0x01 bit trie trie                       branch, bit above its parent's
//!           | 0x02 u8 len name dir                     leaf, 1 ≤ len, no '/', BLAKE2b(name) on its path
//! varint    = unsigned LEB128, minimal, ≤ u64
//! ```

use std::fmt;

use crate::error::ProofError;
use crate::node::{
    check_chunk, check_name, data_height, key_bit, trie_key, DataNode, DirNode, NodeHash, Ref, TrieNode, TrieRef,
    ValueRoot, CHUNK_SIZE, MAX_VALUE_SIZE,
};
use crate::tree::{tree_access_via_cursor, Tree};

/// The proof format version this code writes and reads.
pub const PROOF_VERSION: u8 = 1;

mod wire {
    pub(super) const BLINDED: u8 = 0x00;
    pub(super) const DIR_OPEN: u8 = 0x10;
    pub(super) const DIR_HAS_VALUE: u8 = 0x01;
    pub(super) const DIR_HAS_CHILDREN: u8 = 0x02;
    pub(super) const DATA_ABSENT: u8 = 0x00;
    pub(super) const DATA_BLINDED: u8 = 0x01;
    pub(super) const DATA_OPEN: u8 = 0x02;
    pub(super) const TRIE_BRANCH: u8 = 0x01;
    pub(super) const TRIE_LEAF: u8 = 0x02;
}

/// A proof in wire form.
#[derive(Clone, PartialEq, Eq)]
pub struct Proof(Vec<u8>);

impl Proof {
    /// Wraps received bytes; they are checked when a [`VerifierTree`] parses them.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Proof(bytes)
    }

    /// The wire bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The wire bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Size on the wire, in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a proof holds at least its version and root.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proof({} bytes)", self.0.len())
    }
}

#[cfg(feature = "prover")]
pub use recording::{with_one_node_dropped, RecordingTree};

/// The recording backend and the proof encoder (the prover's side).
#[cfg(feature = "prover")]
mod recording {
    use std::cell::RefCell;
    use std::collections::HashSet;

    use super::*;
    use crate::node::{Access, Node};
    use crate::tree::Cursor;

    /// A view of a tree that records the nodes its operations open, to produce a
    /// [`Proof`] of them. Operations behave exactly as on the plain [`Tree`].
    pub struct RecordingTree {
        tree: Tree,
        before: Ref<DirNode>,
        opened: RefCell<HashSet<usize>>,
    }

    impl RecordingTree {
        /// Starts recording on `tree` (an O(1) snapshot is kept as the before-state).
        pub fn new(tree: Tree) -> Self {
            let before = tree.root.clone();
            RecordingTree {
                tree,
                before,
                opened: RefCell::new(HashSet::new()),
            }
        }

        /// Root hash of the state recording started from.
        pub fn before_hash(&self) -> NodeHash {
            self.before.hash()
        }

        /// The proof of every operation run so far.
        pub fn proof(&self) -> Proof {
            Proof(encode(&self.opened.borrow(), &self.before))
        }

        /// The proof, and the tree after the operations.
        pub fn finish(self) -> (Proof, Tree) {
            (self.proof(), self.tree)
        }

        fn cursor(&mut self) -> Cursor<'_> {
            Cursor {
                root: &mut self.tree.root,
                acc: Access {
                    source: self.tree.source.as_deref(),
                    opened: Some(&self.opened),
                },
            }
        }
    }

    impl fmt::Debug for RecordingTree {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("RecordingTree")
                .field("before", &self.before_hash())
                .field("opened_nodes", &self.opened.borrow().len())
                .finish()
        }
    }

    tree_access_via_cursor!(RecordingTree, |rec| rec.cursor());

    /// Every variant of `proof` with one more node blinded (an opened node
    /// written as its hash, so its subtree is gone): each has the same
    /// before-hash and holds less state. For tampering tests of verifiers:
    /// an operation that needs the dropped node must fail on every variant.
    pub fn with_one_node_dropped(proof: &Proof) -> Result<Vec<Proof>, ProofError> {
        let verifier = VerifierTree::new(proof.as_bytes())?;
        let root = &verifier.tree.root;
        let mut opened = HashSet::new();
        let mut todo = vec![Emit::Dir(root)];
        while let Some(item) = todo.pop() {
            match item {
                Emit::Dir(r) => {
                    let Some(node) = r.loaded() else { continue };
                    opened.insert(r.id());
                    if let Some(children) = &node.children {
                        todo.push(Emit::Trie(children));
                    }
                    if let Some(value) = &node.value {
                        todo.push(Emit::Data(value.data.as_ref(), 0));
                    }
                }
                Emit::Data(None, _) => {}
                Emit::Data(Some(r), _) => {
                    let Some(node) = r.loaded() else { continue };
                    opened.insert(r.id());
                    if let DataNode::Branch { left, right } = node {
                        todo.push(Emit::Data(left.as_ref(), 0));
                        todo.push(Emit::Data(right.as_ref(), 0));
                    }
                }
                Emit::Trie(t) => {
                    let Some(node) = t.node.loaded() else { continue };
                    opened.insert(t.node.id());
                    match node {
                        TrieNode::Branch { left, right, .. } => {
                            todo.push(Emit::Trie(left));
                            todo.push(Emit::Trie(right));
                        }
                        TrieNode::Leaf { dir, .. } => todo.push(Emit::Dir(dir)),
                    }
                }
            }
        }
        let mut ids: Vec<usize> = opened.iter().copied().collect();
        ids.sort_unstable();
        Ok(ids
            .into_iter()
            .map(|id| {
                let mut fewer = opened.clone();
                fewer.remove(&id);
                Proof(encode(&fewer, root))
            })
            .collect())
    }

    pub(super) fn write_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// One item still to write, in wire order.
    enum Emit<'a> {
        Dir(&'a Ref<DirNode>),
        Data(Option<&'a Ref<DataNode>>, u32),
        Trie(&'a TrieRef),
    }

    /// Writes the partial tree: opened nodes in full, the rest by hash. Iterative,
    /// so the depth of the tree does not matter.
    fn encode(opened: &HashSet<usize>, root: &Ref<DirNode>) -> Vec<u8> {
        fn open<'r, N: Node>(opened: &HashSet<usize>, r: &'r Ref<N>) -> Option<&'r N> {
            if opened.contains(&r.id()) {
                r.loaded()
            } else {
                None
            }
        }
        let mut out = vec![PROOF_VERSION];
        let mut todo = vec![Emit::Dir(root)];
        while let Some(item) = todo.pop() {
            match item {
                Emit::Dir(r) => {
                    let Some(node) = open(opened, r) else {
                        out.push(wire::BLINDED);
                        out.extend_from_slice(&r.hash().0);
                        continue;
                    };
                    let mut flags = wire::DIR_OPEN;
                    if node.value.is_some() {
                        flags |= wire::DIR_HAS_VALUE;
                    }
                    if node.children.is_some() {
                        flags |= wire::DIR_HAS_CHILDREN;
                    }
                    out.push(flags);
                    // Pushed in reverse: the value's data comes out before the trie.
                    if let Some(children) = &node.children {
                        todo.push(Emit::Trie(children));
                    }
                    if let Some(value) = &node.value {
                        write_varint(&mut out, value.size);
                        todo.push(Emit::Data(value.data.as_ref(), data_height(value.size)));
                    }
                }
                Emit::Data(None, _) => out.push(wire::DATA_ABSENT),
                Emit::Data(Some(r), height) => match open(opened, r) {
                    None => {
                        out.push(wire::DATA_BLINDED);
                        out.extend_from_slice(&r.hash().0);
                    }
                    Some(DataNode::Branch { left, right }) => {
                        out.push(wire::DATA_OPEN);
                        let below = height.saturating_sub(1);
                        todo.push(Emit::Data(right.as_ref(), below));
                        todo.push(Emit::Data(left.as_ref(), below));
                    }
                    Some(DataNode::Chunk(bytes)) => {
                        out.push(wire::DATA_OPEN);
                        write_varint(&mut out, bytes.len() as u64);
                        out.extend_from_slice(bytes);
                    }
                },
                Emit::Trie(t) => match open(opened, &t.node) {
                    None => {
                        out.push(wire::BLINDED);
                        write_varint(&mut out, t.count);
                        out.extend_from_slice(&t.node.hash().0);
                    }
                    Some(TrieNode::Branch { bit, left, right }) => {
                        out.push(wire::TRIE_BRANCH);
                        out.push(*bit);
                        todo.push(Emit::Trie(right));
                        todo.push(Emit::Trie(left));
                    }
                    Some(TrieNode::Leaf { name, dir, .. }) => {
                        out.push(wire::TRIE_LEAF);
                        // Names are 1..=255 bytes (path rules).
                        out.push(name.len() as u8);
                        out.extend_from_slice(name);
                        todo.push(Emit::Dir(dir));
                    }
                },
            }
        }
        out
    }
}

/// One step of the parser: read an item, or assemble one from the items
/// read since it started (which are on the result stack).
enum Task {
    Dir,
    Data(u32),
    /// A trie subtree; its leaves' keys must agree with `path[base..]`.
    Trie {
        parent_bit: Option<u8>,
        base: usize,
    },
    FinishDir {
        value_size: Option<(u64, usize)>,
        has_children: bool,
    },
    FinishDataBranch {
        at: usize,
    },
    FinishTrieBranch {
        bit: u8,
        at: usize,
    },
    FinishLeaf {
        name: Box<[u8]>,
        key: [u8; 32],
    },
    PathPush(u8, bool),
    PathPop,
}

/// An item read.
enum Parsed {
    Dir(Ref<DirNode>),
    Data(Option<Ref<DataNode>>),
    Trie(TrieRef),
}

/// Reads the wire format into a partial tree, iteratively (nesting costs heap,
/// not stack).
struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn invalid(&self, at: usize, reason: &'static str) -> ProofError {
        ProofError::Invalid { offset: at, reason }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProofError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(ProofError::Truncated(self.pos))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, ProofError> {
        Ok(self.take(1)?[0])
    }

    fn hash(&mut self) -> Result<NodeHash, ProofError> {
        let mut h = [0; 32];
        h.copy_from_slice(self.take(32)?);
        Ok(NodeHash(h))
    }

    fn varint(&mut self) -> Result<u64, ProofError> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10 {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if i == 9 && bits > 1 {
                return Err(self.invalid(start, "varint overflows u64"));
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return Err(self.invalid(start, "non-minimal varint"));
                }
                return Ok(value);
            }
        }
        Err(self.invalid(start, "varint longer than 10 bytes"))
    }

    /// Parses the root directory; returns it and the deepest nesting seen.
    fn root(&mut self) -> Result<(Ref<DirNode>, usize), ProofError> {
        let mut tasks = vec![Task::Dir];
        let mut results: Vec<Parsed> = Vec::new();
        let mut path: Vec<(u8, bool)> = Vec::new();
        let (mut depth, mut max_depth) = (0usize, 0usize);
        while let Some(task) = tasks.pop() {
            let at = self.pos;
            // Every item read is one level below the open containers.
            if matches!(task, Task::Dir | Task::Data(_) | Task::Trie { .. }) {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            match task {
                Task::Dir => match self.u8()? {
                    wire::BLINDED => {
                        results.push(Parsed::Dir(Ref::from_hash(self.hash()?)));
                        depth -= 1;
                    }
                    t if t & !(wire::DIR_HAS_VALUE | wire::DIR_HAS_CHILDREN) == wire::DIR_OPEN => {
                        let has_children = t & wire::DIR_HAS_CHILDREN != 0;
                        let value_size = if t & wire::DIR_HAS_VALUE != 0 {
                            let size = self.varint()?;
                            if size > MAX_VALUE_SIZE {
                                return Err(self.invalid(at + 1, "value size over the maximum"));
                            }
                            Some((size, at + 1))
                        } else {
                            None
                        };
                        tasks.push(Task::FinishDir {
                            value_size,
                            has_children,
                        });
                        if has_children {
                            tasks.push(Task::Trie {
                                parent_bit: None,
                                base: path.len(),
                            });
                        }
                        if let Some((size, _)) = value_size {
                            tasks.push(Task::Data(data_height(size)));
                        }
                    }
                    tag => return Err(ProofError::InvalidTag { offset: at, tag }),
                },
                Task::Data(height) => match self.u8()? {
                    wire::DATA_ABSENT => {
                        results.push(Parsed::Data(None));
                        depth -= 1;
                    }
                    wire::DATA_BLINDED => {
                        let hash = self.hash()?;
                        if hash.0 == [0; 32] {
                            return Err(self.invalid(at, "blinded data with the absent hash"));
                        }
                        results.push(Parsed::Data(Some(Ref::from_hash(hash))));
                        depth -= 1;
                    }
                    wire::DATA_OPEN if height == 0 => {
                        let len = self.varint()?;
                        if len == 0 || len > CHUNK_SIZE as u64 {
                            return Err(self.invalid(at, "chunk length not in 1..=512"));
                        }
                        // len ≤ 512 was just checked.
                        let bytes = self.take(len as usize)?;
                        check_chunk(bytes).map_err(|reason| self.invalid(at, reason))?;
                        results.push(Parsed::Data(Some(Ref::new(DataNode::Chunk(bytes.into())))));
                        depth -= 1;
                    }
                    wire::DATA_OPEN => {
                        tasks.push(Task::FinishDataBranch { at });
                        tasks.push(Task::Data(height - 1));
                        tasks.push(Task::Data(height - 1));
                    }
                    tag => return Err(ProofError::InvalidTag { offset: at, tag }),
                },
                Task::Trie { parent_bit, base } => match self.u8()? {
                    wire::BLINDED => {
                        let count = self.varint()?;
                        if count == 0 {
                            return Err(self.invalid(at, "blinded trie subtree without children"));
                        }
                        results.push(Parsed::Trie(TrieRef {
                            count,
                            node: Ref::from_hash(self.hash()?),
                        }));
                        depth -= 1;
                    }
                    wire::TRIE_BRANCH => {
                        let bit = self.u8()?;
                        if parent_bit.is_some_and(|p| bit <= p) {
                            return Err(self.invalid(at, "trie branch bit not above its parent's"));
                        }
                        let below = Task::Trie {
                            parent_bit: Some(bit),
                            base,
                        };
                        tasks.extend([
                            Task::FinishTrieBranch { bit, at },
                            Task::PathPop,
                            Task::Trie {
                                parent_bit: Some(bit),
                                base,
                            },
                            Task::PathPush(bit, true),
                            Task::PathPop,
                            below,
                            Task::PathPush(bit, false),
                        ]);
                    }
                    wire::TRIE_LEAF => {
                        let len = usize::from(self.u8()?);
                        let name = self.take(len)?;
                        check_name(name).map_err(|reason| self.invalid(at, reason))?;
                        let key = trie_key(name);
                        if !path[base..].iter().all(|&(bit, right)| key_bit(&key, bit) == right) {
                            return Err(self.invalid(at, "trie leaf off its key's path"));
                        }
                        tasks.push(Task::FinishLeaf { name: name.into(), key });
                        tasks.push(Task::Dir);
                    }
                    tag => return Err(ProofError::InvalidTag { offset: at, tag }),
                },
                Task::FinishDir {
                    value_size,
                    has_children,
                } => {
                    depth -= 1;
                    let children = if has_children {
                        Some(pop_trie(&mut results)?)
                    } else {
                        None
                    };
                    let value = match value_size {
                        None => None,
                        Some((size, size_at)) => {
                            let data = pop_data(&mut results)?;
                            if size == 0 && data.is_some() {
                                return Err(self.invalid(size_at, "data under an empty value"));
                            }
                            Some(ValueRoot { size, data })
                        }
                    };
                    results.push(Parsed::Dir(Ref::new(DirNode { value, children })));
                }
                Task::FinishDataBranch { at } => {
                    depth -= 1;
                    let right = pop_data(&mut results)?;
                    let left = pop_data(&mut results)?;
                    if left.is_none() && right.is_none() {
                        return Err(self.invalid(at, "data branch with no children"));
                    }
                    results.push(Parsed::Data(Some(Ref::new(DataNode::Branch { left, right }))));
                }
                Task::FinishTrieBranch { bit, at } => {
                    depth -= 1;
                    let right = pop_trie(&mut results)?;
                    let left = pop_trie(&mut results)?;
                    let count = left
                        .count
                        .checked_add(right.count)
                        .ok_or_else(|| self.invalid(at, "child count overflow"))?;
                    results.push(Parsed::Trie(TrieRef {
                        count,
                        node: Ref::new(TrieNode::Branch { bit, left, right }),
                    }));
                }
                Task::FinishLeaf { name, key } => {
                    depth -= 1;
                    let dir = match results.pop() {
                        Some(Parsed::Dir(dir)) => dir,
                        _ => return Err(internal()),
                    };
                    results.push(Parsed::Trie(TrieRef {
                        count: 1,
                        node: Ref::new(TrieNode::Leaf { name, key, dir }),
                    }));
                }
                Task::PathPush(bit, right) => path.push((bit, right)),
                Task::PathPop => {
                    path.pop();
                }
            }
        }
        match (results.pop(), results.is_empty()) {
            (Some(Parsed::Dir(root)), true) => Ok((root, max_depth)),
            _ => Err(internal()),
        }
    }
}

/// The parser's stacks disagree; unreachable by construction, but an error
/// rather than a panic all the same.
fn internal() -> ProofError {
    ProofError::Invalid {
        offset: 0,
        reason: "parser stack mismatch",
    }
}

fn pop_data(results: &mut Vec<Parsed>) -> Result<Option<Ref<DataNode>>, ProofError> {
    match results.pop() {
        Some(Parsed::Data(data)) => Ok(data),
        _ => Err(internal()),
    }
}

fn pop_trie(results: &mut Vec<Parsed>) -> Result<TrieRef, ProofError> {
    match results.pop() {
        Some(Parsed::Trie(trie)) => Ok(trie),
        _ => Err(internal()),
    }
}

/// A tree rebuilt from a [`Proof`]: answers the recorded operations, fails
/// cleanly on anything else, and gives the before and after root hashes.
pub struct VerifierTree {
    tree: Tree,
    before: NodeHash,
    nesting: usize,
}

impl VerifierTree {
    /// Parses a proof. Never panics, whatever the bytes.
    pub fn new(proof: &[u8]) -> Result<Self, ProofError> {
        let mut decoder = Decoder { bytes: proof, pos: 0 };
        let version = decoder.u8()?;
        if version != PROOF_VERSION {
            return Err(ProofError::UnsupportedVersion(version));
        }
        let (root, nesting) = decoder.root()?;
        if decoder.pos != proof.len() {
            return Err(ProofError::TrailingBytes(proof.len() - decoder.pos));
        }
        let before = root.hash();
        Ok(VerifierTree {
            tree: Tree { root, source: None },
            before,
            nesting,
        })
    }

    /// Root hash of the state the proof starts from.
    pub fn before_hash(&self) -> NodeHash {
        self.before
    }

    /// Root hash after the operations run so far.
    pub fn after_hash(&self) -> NodeHash {
        self.tree.root_hash()
    }

    /// Deepest nesting of nodes in the proof (root directory = 1).
    pub fn nesting_depth(&self) -> usize {
        self.nesting
    }
}

impl fmt::Debug for VerifierTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierTree")
            .field("before", &self.before)
            .field("after", &self.after_hash())
            .finish()
    }
}

tree_access_via_cursor!(VerifierTree, |verifier| verifier.tree.cursor());

#[cfg(test)]
mod tests {
    use super::recording::write_varint;
    use super::*;
    use crate::{TreeAccess, TreeError};

    #[test]
    fn varints_are_canonical() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            let mut d = Decoder { bytes: &out, pos: 0 };
            assert_eq!(d.varint().unwrap(), v);
            assert_eq!(d.pos, out.len());
        }
        for bad in [&[0x80, 0x00][..], &[0xff; 10], &[0x80; 11], &[0x80]] {
            let mut d = Decoder { bytes: bad, pos: 0 };
            assert!(d.varint().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn round_trip_small() {
        let mut tree = Tree::new();
        tree.write(b"a/b", 0, &[5; 700]).unwrap();
        tree.write(b"a/c", 0, b"c").unwrap();
        tree.write(b"d", 0, b"d").unwrap();
        let mut rec = RecordingTree::new(tree.clone());
        assert_eq!(rec.read(b"a/b", 510, 4).unwrap(), vec![5; 4]);
        rec.write(b"a/new", 0, b"n").unwrap();
        assert!(rec.delete_subtree(b"d").unwrap());
        let after = rec.root_hash();
        let (proof, _) = rec.finish();
        let mut v = VerifierTree::new(proof.as_bytes()).unwrap();
        assert_eq!(v.before_hash(), tree.root_hash());
        assert_eq!(v.read(b"a/b", 510, 4).unwrap(), vec![5; 4]);
        v.write(b"a/new", 0, b"n").unwrap();
        assert!(v.delete_subtree(b"d").unwrap());
        assert_eq!(v.after_hash(), after);
        assert!(matches!(v.read(b"a/c", 0, 1), Err(TreeError::NotInProof(_))));
    }

    #[test]
    fn empty_recording_blinds_the_root() {
        let mut tree = Tree::new();
        tree.write(b"x", 0, b"1").unwrap();
        let rec = RecordingTree::new(tree.clone());
        let proof = rec.proof();
        assert_eq!(proof.len(), 34);
        let v = VerifierTree::new(proof.as_bytes()).unwrap();
        assert_eq!(v.before_hash(), tree.root_hash());
        assert_eq!(v.after_hash(), tree.root_hash());
    }

    #[test]
    fn deep_nesting_costs_heap_not_stack() {
        // A chain of 100 000 opened directories, each the only child of the
        // previous: parsing, hashing, operating and dropping must not recurse.
        let levels = 100_000;
        let mut bytes = vec![PROOF_VERSION];
        for _ in 0..levels {
            bytes.extend([wire::DIR_OPEN | wire::DIR_HAS_CHILDREN, wire::TRIE_LEAF, 1, b'a']);
        }
        bytes.push(wire::BLINDED);
        bytes.extend([7; 32]);
        let mut v = VerifierTree::new(&bytes).unwrap();
        assert_eq!(v.nesting_depth(), 2 * levels + 1);
        assert_eq!(v.count_children(b"a/a/a").unwrap(), 1);
        v.write(b"a/a/b", 0, b"x").unwrap();
        assert_ne!(v.after_hash(), v.before_hash());
        // Re-encoding the same shape from a recorder is iterative as well.
        let mut tree = Tree::new();
        let deep = vec![&b"a"[..]; crate::MAX_PATH_SEGMENTS].join(&b'/');
        tree.write(&deep, 0, b"deep").unwrap();
        let mut rec = RecordingTree::new(tree);
        assert_eq!(rec.read(&deep, 0, 4).unwrap(), b"deep");
        let (proof, _) = rec.finish();
        let mut v = VerifierTree::new(proof.as_bytes()).unwrap();
        assert_eq!(v.read(&deep, 0, 4).unwrap(), b"deep");
    }
}
