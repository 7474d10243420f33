//! The tree: directories with a value and named children, the [`TreeAccess`]
//! operations over paths, and the plain in-memory [`Tree`].
//!
//! Every operation opens only the directories on its path, the trie nodes on
//! one path per directory, and the data nodes over the bytes it touches; a
//! modification builds new nodes along that path and shares everything else
//! (persistent, copy-on-write). Directories left with neither value nor child
//! disappear, so equal contents give equal hashes whatever the history.

use std::fmt;
use std::sync::Arc;

use crate::data;
use crate::error::TreeError;
use crate::node::{Access, DirNode, NodeHash, NodeSource, Ref, ValueRoot};
use crate::path::{is_segment_prefix, segments};
use crate::trie::{self, Removal};

/// What exists at a path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Presence {
    /// The path holds a value.
    pub value: bool,
    /// The path has at least one named child.
    pub subtree: bool,
}

/// The operations every view of the tree answers: the plain [`Tree`], the
/// recording view ([`crate::RecordingTree`]) and the verifier view
/// ([`crate::VerifierTree`]). Code written once against this trait runs on all
/// three with identical results.
///
/// Paths are `/`-separated segments, `b""` being the root (see [`crate::path`]).
/// Children are listed in a canonical order: the value first (as the empty
/// name `""`, as Octez's `store_get_nth_key` does) if there is one, then the
/// named children by ascending BLAKE2b-256 of their names.
pub trait TreeAccess {
    /// Whether the path holds a value and whether it has children.
    fn has(&mut self, path: &[u8]) -> Result<Presence, TreeError>;
    /// The size of the value at the path, if there is one.
    fn value_size(&mut self, path: &[u8]) -> Result<Option<u64>, TreeError>;
    /// Reads `len` bytes at `offset` (fewer if the value ends first). Absent
    /// chunks read as zeros. [`TreeError::NoValue`] without a value,
    /// [`TreeError::OffsetOutOfRange`] if `offset` is past the end.
    fn read(&mut self, path: &[u8], offset: u64, len: usize) -> Result<Vec<u8>, TreeError>;
    /// Writes `bytes` at `offset`, creating the value if absent and growing it
    /// (zeros fill any gap) if the write ends past its end.
    fn write(&mut self, path: &[u8], offset: u64, bytes: &[u8]) -> Result<(), TreeError>;
    /// Replaces the value (if any) by `bytes`.
    fn set_value(&mut self, path: &[u8], bytes: &[u8]) -> Result<(), TreeError>;
    /// Creates a zeroed value of `size` bytes; `false` (and no change) if the
    /// path already holds a value.
    fn create_value(&mut self, path: &[u8], size: u64) -> Result<bool, TreeError>;
    /// Grows (with zeros) or cuts the value to `size` bytes.
    fn resize_value(&mut self, path: &[u8], size: u64) -> Result<(), TreeError>;
    /// Deletes the value, keeping children; `false` if there was none.
    fn delete_value(&mut self, path: &[u8]) -> Result<bool, TreeError>;
    /// Deletes the value and every descendant; `false` if nothing was there.
    fn delete_subtree(&mut self, path: &[u8]) -> Result<bool, TreeError>;
    /// Replaces whatever is at `to` by a copy of the subtree at `from`
    /// (O(depth)); `false` (and no change) if nothing is at `from`.
    fn copy_subtree(&mut self, from: &[u8], to: &[u8]) -> Result<bool, TreeError>;
    /// Like [`Self::copy_subtree`], then deletes `from`.
    /// [`TreeError::MoveIntoItself`] if `to` is strictly below `from`.
    fn move_subtree(&mut self, from: &[u8], to: &[u8]) -> Result<bool, TreeError>;
    /// Number of children, the value counting as one.
    fn count_children(&mut self, path: &[u8]) -> Result<u64, TreeError>;
    /// Name of the `n`-th child in canonical order (`""` for the value), or
    /// `None` if `n` is not below the count.
    fn nth_child(&mut self, path: &[u8], n: u64) -> Result<Option<Vec<u8>>, TreeError>;
    /// Hash of the directory at the path (its value and subtree), if anything is there.
    fn subtree_hash(&mut self, path: &[u8]) -> Result<Option<NodeHash>, TreeError>;
    /// Hash of the whole tree.
    fn root_hash(&mut self) -> NodeHash;
}

/// How an update changes the directory at its path: `None` leaves it
/// unchanged, `Some(None)` removes it, `Some(Some(d))` replaces it by `d`.
type Change = Option<Option<Ref<DirNode>>>;

/// A root and the way to reach nodes: the machinery behind every view.
pub(crate) struct Cursor<'a> {
    pub(crate) root: &'a mut Ref<DirNode>,
    pub(crate) acc: Access<'a>,
}

impl Cursor<'_> {
    fn find(&self, segs: &[&[u8]]) -> Result<Option<Ref<DirNode>>, TreeError> {
        let mut cur = self.root.clone();
        for seg in segs {
            let dir = self.acc.open(&cur)?;
            match trie::lookup(&self.acc, dir.children.as_ref(), seg)? {
                Some(child) => cur = child,
                None => return Ok(None),
            }
        }
        Ok(Some(cur))
    }

    /// The directory at a path, `None` when nothing is there (the root counts
    /// as absent when empty).
    fn find_existing(&self, segs: &[&[u8]]) -> Result<Option<Ref<DirNode>>, TreeError> {
        let found = self.find(segs)?;
        if segs.is_empty() && self.acc.open(self.root)?.is_empty() {
            return Ok(None);
        }
        Ok(found)
    }

    fn find_dir(&self, path: &[u8]) -> Result<Option<Ref<DirNode>>, TreeError> {
        self.find(&segments(path)?)
    }

    fn update<R>(
        &self,
        current: Option<&Ref<DirNode>>,
        segs: &[&[u8]],
        f: impl FnOnce(Option<&Ref<DirNode>>) -> Result<(Change, R), TreeError>,
    ) -> Result<(Change, R), TreeError> {
        let Some((seg, rest)) = segs.split_first() else {
            return f(current);
        };
        let acc = &self.acc;
        let node = current.map(|r| acc.open(r)).transpose()?;
        let children = node.and_then(|n| n.children.as_ref());
        let child = trie::lookup(acc, children, seg)?;
        let (change, out) = self.update(child.as_ref(), rest, f)?;
        let Some(new_child) = change else {
            return Ok((None, out));
        };
        if let (Some(old), Some(new)) = (&child, &new_child) {
            if old.same(new) {
                return Ok((None, out));
            }
        }
        let new_children = match new_child {
            Some(dir) => Some(trie::set(acc, children, seg, dir)?),
            None => match trie::remove(acc, children, seg)? {
                Removal::NotFound => return Ok((None, out)),
                Removal::Removed(rest) => rest,
            },
        };
        let dir = DirNode {
            value: node.and_then(|n| n.value.clone()),
            children: new_children,
        };
        Ok((Some((!dir.is_empty()).then(|| Ref::new(dir))), out))
    }

    /// Runs `f` on the directory at `segs` and rebuilds the path above it.
    fn apply<R>(
        &mut self,
        segs: &[&[u8]],
        f: impl FnOnce(Option<&Ref<DirNode>>) -> Result<(Change, R), TreeError>,
    ) -> Result<R, TreeError> {
        let (change, out) = self.update(Some(&*self.root), segs, f)?;
        if let Some(new_root) = change {
            // The root always exists, possibly empty.
            *self.root = new_root.unwrap_or_else(|| Ref::new(DirNode::default()));
        }
        Ok(out)
    }

    /// Replaces the directory's value by `f(old value)`.
    fn update_value(
        &mut self,
        path: &[u8],
        f: impl FnOnce(&Access<'_>, Option<&ValueRoot>) -> Result<Option<ValueRoot>, TreeError>,
    ) -> Result<(), TreeError> {
        let acc = self.acc;
        self.apply(&segments(path)?, |cur| {
            let node = cur.map(|r| acc.open(r)).transpose()?;
            let value = f(&acc, node.and_then(|n| n.value.as_ref()))?;
            let dir = DirNode {
                value,
                children: node.and_then(|n| n.children.clone()),
            };
            Ok((Some((!dir.is_empty()).then(|| Ref::new(dir))), ()))
        })
    }

    pub(crate) fn has(&mut self, path: &[u8]) -> Result<Presence, TreeError> {
        Ok(match self.find_dir(path)? {
            None => Presence::default(),
            Some(dir) => {
                let node = self.acc.open(&dir)?;
                Presence {
                    value: node.value.is_some(),
                    subtree: node.children.is_some(),
                }
            }
        })
    }

    pub(crate) fn value_size(&mut self, path: &[u8]) -> Result<Option<u64>, TreeError> {
        Ok(match self.find_dir(path)? {
            None => None,
            Some(dir) => self.acc.open(&dir)?.value.as_ref().map(|v| v.size),
        })
    }

    pub(crate) fn read(&mut self, path: &[u8], offset: u64, len: usize) -> Result<Vec<u8>, TreeError> {
        let dir = self.find_dir(path)?.ok_or(TreeError::NoValue)?;
        let value = self.acc.open(&dir)?.value.as_ref().ok_or(TreeError::NoValue)?;
        data::read(&self.acc, value, offset, len)
    }

    pub(crate) fn write(&mut self, path: &[u8], offset: u64, bytes: &[u8]) -> Result<(), TreeError> {
        self.update_value(path, |acc, old| {
            let empty;
            let old = match old {
                Some(v) => v,
                None => {
                    empty = data::zeroed(0)?;
                    &empty
                }
            };
            data::write(acc, old, offset, bytes).map(Some)
        })
    }

    pub(crate) fn set_value(&mut self, path: &[u8], bytes: &[u8]) -> Result<(), TreeError> {
        let value = data::from_bytes(bytes)?;
        self.update_value(path, |_, _| Ok(Some(value)))
    }

    pub(crate) fn create_value(&mut self, path: &[u8], size: u64) -> Result<bool, TreeError> {
        let value = data::zeroed(size)?;
        if self.has(path)?.value {
            return Ok(false);
        }
        self.update_value(path, |_, _| Ok(Some(value)))?;
        Ok(true)
    }

    pub(crate) fn resize_value(&mut self, path: &[u8], size: u64) -> Result<(), TreeError> {
        self.update_value(path, |acc, old| {
            data::resize(acc, old.ok_or(TreeError::NoValue)?, size).map(Some)
        })
    }

    pub(crate) fn delete_value(&mut self, path: &[u8]) -> Result<bool, TreeError> {
        if !self.has(path)?.value {
            return Ok(false);
        }
        self.update_value(path, |_, _| Ok(None))?;
        Ok(true)
    }

    pub(crate) fn delete_subtree(&mut self, path: &[u8]) -> Result<bool, TreeError> {
        let segs = segments(path)?;
        if self.find_existing(&segs)?.is_none() {
            return Ok(false);
        }
        self.apply(&segs, |_| Ok((Some(None), ())))?;
        Ok(true)
    }

    pub(crate) fn copy_subtree(&mut self, from: &[u8], to: &[u8]) -> Result<bool, TreeError> {
        let (from, to) = (segments(from)?, segments(to)?);
        let Some(source) = self.find_existing(&from)? else {
            return Ok(false);
        };
        self.apply(&to, |cur| {
            let unchanged = cur.is_some_and(|c| c.same(&source));
            Ok(((!unchanged).then_some(Some(source)), ()))
        })?;
        Ok(true)
    }

    pub(crate) fn move_subtree(&mut self, from: &[u8], to: &[u8]) -> Result<bool, TreeError> {
        let (from, to) = (segments(from)?, segments(to)?);
        if from.len() < to.len() && is_segment_prefix(&from, &to) {
            return Err(TreeError::MoveIntoItself);
        }
        let Some(source) = self.find_existing(&from)? else {
            return Ok(false);
        };
        if from == to {
            return Ok(true);
        }
        // Both steps succeed or the root is left as it was.
        let saved = self.root.clone();
        let moved = self
            .apply(&from, |_| Ok((Some(None), ())))
            .and_then(|()| self.apply(&to, |_| Ok((Some(Some(source)), ()))));
        if moved.is_err() {
            *self.root = saved;
        }
        moved.map(|()| true)
    }

    pub(crate) fn count_children(&mut self, path: &[u8]) -> Result<u64, TreeError> {
        Ok(match self.find_dir(path)? {
            None => 0,
            Some(dir) => {
                let node = self.acc.open(&dir)?;
                u64::from(node.value.is_some()) + node.child_count()
            }
        })
    }

    pub(crate) fn nth_child(&mut self, path: &[u8], mut n: u64) -> Result<Option<Vec<u8>>, TreeError> {
        let Some(dir) = self.find_dir(path)? else {
            return Ok(None);
        };
        let node = self.acc.open(&dir)?;
        if node.value.is_some() {
            if n == 0 {
                return Ok(Some(Vec::new()));
            }
            n -= 1;
        }
        trie::nth(&self.acc, node.children.as_ref(), n)
    }

    pub(crate) fn subtree_hash(&mut self, path: &[u8]) -> Result<Option<NodeHash>, TreeError> {
        Ok(self.find_existing(&segments(path)?)?.map(|d| d.hash()))
    }

    pub(crate) fn root_hash(&mut self) -> NodeHash {
        self.root.hash()
    }
}

/// Implements [`TreeAccess`] for a view by building a [`Cursor`] from `self`.
macro_rules! tree_access_via_cursor {
    ($ty:ty, |$s:ident| $cursor:expr) => {
        impl $crate::tree::TreeAccess for $ty {
            fn has(&mut self, path: &[u8]) -> Result<$crate::Presence, $crate::TreeError> {
                let $s = self;
                $cursor.has(path)
            }
            fn value_size(&mut self, path: &[u8]) -> Result<Option<u64>, $crate::TreeError> {
                let $s = self;
                $cursor.value_size(path)
            }
            fn read(&mut self, path: &[u8], offset: u64, len: usize) -> Result<Vec<u8>, $crate::TreeError> {
                let $s = self;
                $cursor.read(path, offset, len)
            }
            fn write(&mut self, path: &[u8], offset: u64, bytes: &[u8]) -> Result<(), $crate::TreeError> {
                let $s = self;
                $cursor.write(path, offset, bytes)
            }
            fn set_value(&mut self, path: &[u8], bytes: &[u8]) -> Result<(), $crate::TreeError> {
                let $s = self;
                $cursor.set_value(path, bytes)
            }
            fn create_value(&mut self, path: &[u8], size: u64) -> Result<bool, $crate::TreeError> {
                let $s = self;
                $cursor.create_value(path, size)
            }
            fn resize_value(&mut self, path: &[u8], size: u64) -> Result<(), $crate::TreeError> {
                let $s = self;
                $cursor.resize_value(path, size)
            }
            fn delete_value(&mut self, path: &[u8]) -> Result<bool, $crate::TreeError> {
                let $s = self;
                $cursor.delete_value(path)
            }
            fn delete_subtree(&mut self, path: &[u8]) -> Result<bool, $crate::TreeError> {
                let $s = self;
                $cursor.delete_subtree(path)
            }
            fn copy_subtree(&mut self, from: &[u8], to: &[u8]) -> Result<bool, $crate::TreeError> {
                let $s = self;
                $cursor.copy_subtree(from, to)
            }
            fn move_subtree(&mut self, from: &[u8], to: &[u8]) -> Result<bool, $crate::TreeError> {
                let $s = self;
                $cursor.move_subtree(from, to)
            }
            fn count_children(&mut self, path: &[u8]) -> Result<u64, $crate::TreeError> {
                let $s = self;
                $cursor.count_children(path)
            }
            fn nth_child(&mut self, path: &[u8], n: u64) -> Result<Option<Vec<u8>>, $crate::TreeError> {
                let $s = self;
                $cursor.nth_child(path, n)
            }
            fn subtree_hash(&mut self, path: &[u8]) -> Result<Option<$crate::NodeHash>, $crate::TreeError> {
                let $s = self;
                $cursor.subtree_hash(path)
            }
            fn root_hash(&mut self) -> $crate::NodeHash {
                let $s = self;
                $cursor.root_hash()
            }
        }
    };
}
pub(crate) use tree_access_via_cursor;

/// The plain tree: all nodes in memory, or loaded from a [`crate::NodeStore`]
/// on first access. Cloning is O(1) and the clones are independent
/// (persistent structure); hashes are computed on demand and cached.
#[derive(Clone)]
pub struct Tree {
    pub(crate) root: Ref<DirNode>,
    pub(crate) source: Option<Arc<dyn NodeSource>>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Tree {
            root: Ref::new(DirNode::default()),
            source: None,
        }
    }

    /// The root hash (computing the hashes of nodes changed since the last call).
    pub fn root_hash(&self) -> NodeHash {
        self.root.hash()
    }

    pub(crate) fn cursor(&mut self) -> Cursor<'_> {
        Cursor {
            root: &mut self.root,
            acc: Access {
                source: self.source.as_deref(),
                opened: None,
            },
        }
    }
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tree")
            .field("root", &self.root_hash())
            .field("store_backed", &self.source.is_some())
            .finish()
    }
}

tree_access_via_cursor!(Tree, |tree| tree.cursor());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_children_coexist() {
        let mut t = Tree::new();
        let empty = t.root_hash();
        t.write(b"a", 0, b"hello").unwrap();
        t.write(b"a/b", 0, b"x").unwrap();
        assert_eq!(
            t.has(b"a").unwrap(),
            Presence {
                value: true,
                subtree: true
            }
        );
        assert_eq!(t.read(b"a", 1, 100).unwrap(), b"ello");
        assert_eq!(t.count_children(b"a").unwrap(), 2);
        assert_eq!(t.nth_child(b"a", 0).unwrap(), Some(Vec::new()));
        assert_eq!(t.nth_child(b"a", 1).unwrap(), Some(b"b".to_vec()));
        assert_eq!(t.nth_child(b"a", 2).unwrap(), None);
        assert!(t.delete_value(b"a").unwrap());
        assert_eq!(
            t.has(b"a").unwrap(),
            Presence {
                value: false,
                subtree: true
            }
        );
        assert!(t.delete_subtree(b"a/b").unwrap());
        assert_eq!(t.has(b"a").unwrap(), Presence::default());
        assert_eq!(t.root_hash(), empty, "empty directories vanish");
        assert!(!t.delete_subtree(b"").unwrap());
    }

    #[test]
    fn children_order_is_value_then_name_hash() {
        let mut t = Tree::new();
        let names: Vec<Vec<u8>> = (0..50).map(|i| format!("child{i}").into_bytes()).collect();
        for name in &names {
            t.write(&[&b"d/"[..], name].concat(), 0, b"v").unwrap();
        }
        t.write(b"d", 0, b"own value").unwrap();
        let mut expected = names.clone();
        expected.sort_by_key(|n| soru_core::hash::blake2b_256(n));
        expected.insert(0, Vec::new());
        let listed: Vec<Vec<u8>> = (0..51).map(|n| t.nth_child(b"d", n).unwrap().unwrap()).collect();
        assert_eq!(listed, expected);
    }

    #[test]
    fn views_are_thread_safe_values() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Tree>();
        send_sync::<crate::VerifierTree>();
        send_sync::<crate::NodeStore>();
    }

    #[test]
    fn errors_change_nothing() {
        let mut t = Tree::new();
        t.write(b"a/b", 0, b"1").unwrap();
        let before = t.root_hash();
        assert_eq!(t.read(b"a", 0, 1), Err(TreeError::NoValue));
        assert_eq!(
            t.read(b"a/b", 2, 1),
            Err(TreeError::OffsetOutOfRange { offset: 2, size: 1 })
        );
        assert_eq!(t.move_subtree(b"a", b"a/b/c"), Err(TreeError::MoveIntoItself));
        assert!(matches!(t.write(b"a//b", 0, b"1"), Err(TreeError::InvalidPath(_))));
        assert!(matches!(
            t.write(b"a/b", u64::MAX, b"1"),
            Err(TreeError::ValueTooLarge { .. })
        ));
        assert_eq!(t.resize_value(b"a", 5), Err(TreeError::NoValue));
        assert!(!t.create_value(b"a/b", 10).unwrap());
        assert!(!t.copy_subtree(b"zz", b"a").unwrap());
        assert_eq!(t.root_hash(), before);
    }

    #[test]
    fn copy_and_move() {
        let mut t = Tree::new();
        t.write(b"src/x", 0, b"1").unwrap();
        t.write(b"src/y/z", 0, b"2").unwrap();
        t.write(b"dst/old", 0, b"3").unwrap();
        let src_hash = t.subtree_hash(b"src").unwrap();
        assert!(t.copy_subtree(b"src", b"dst").unwrap());
        assert_eq!(t.subtree_hash(b"dst").unwrap(), src_hash);
        assert_eq!(t.has(b"dst/old").unwrap(), Presence::default());
        assert!(t.move_subtree(b"src", b"moved/here").unwrap());
        assert_eq!(t.has(b"src").unwrap(), Presence::default());
        assert_eq!(t.read(b"moved/here/y/z", 0, 1).unwrap(), b"2");
        assert!(t.move_subtree(b"moved/here", b"moved").unwrap(), "onto an ancestor");
        assert_eq!(t.read(b"moved/y/z", 0, 1).unwrap(), b"2");
        assert!(t.copy_subtree(b"", b"snapshot").unwrap());
        assert_eq!(t.read(b"snapshot/moved/x", 0, 1).unwrap(), b"1");
        assert!(!t.move_subtree(b"nothing", b"x").unwrap());
    }
}
