//! A directory's children: a PATRICIA trie keyed by BLAKE2b-256(name).
//!
//! Keys are uniformly spread whatever the names, so the trie is balanced in
//! expectation (depth ≈ log₂ n + 2 for n children) without rebalancing, and
//! its shape depends only on the set of names: equal directories hash equally
//! whatever the order of insertions and deletions. Each branch stores the
//! child counts of both sides, so counting is O(1) and the n-th child (in key
//! order) is found in O(depth) without opening siblings.
//!
//! Every operation opens only the nodes on one root-to-leaf path; a removal
//! lifts the sibling subtree by reference, unopened.

use crate::error::TreeError;
use crate::node::{key_bit, trie_key, Access, DirNode, Ref, TrieNode, TrieRef};

/// Branch bits must strictly increase downwards; this checks it, so every
/// walk is at most 257 nodes deep even on a malformed tree.
fn check_below(parent_bit: Option<u8>, bit: u8) -> Result<(), TreeError> {
    match parent_bit {
        Some(p) if bit <= p => Err(TreeError::Malformed("trie branch bits do not increase")),
        _ => Ok(()),
    }
}

/// A leaf reached by a walk.
struct FoundLeaf<'r> {
    name: &'r [u8],
    key: &'r [u8; 32],
    dir: &'r Ref<DirNode>,
}

/// The leaf reached by following `key`'s bits.
fn walk<'r>(acc: &Access<'_>, root: &'r Ref<TrieNode>, key: &[u8; 32]) -> Result<FoundLeaf<'r>, TreeError> {
    let mut cur = root;
    let mut parent_bit = None;
    loop {
        match acc.open(cur)? {
            TrieNode::Branch { bit, left, right } => {
                check_below(parent_bit, *bit)?;
                parent_bit = Some(*bit);
                cur = if key_bit(key, *bit) { &right.node } else { &left.node };
            }
            TrieNode::Leaf { name, key, dir } => return Ok(FoundLeaf { name, key, dir }),
        }
    }
}

/// The directory named `name`, if any.
pub(crate) fn lookup(
    acc: &Access<'_>,
    children: Option<&TrieRef>,
    name: &[u8],
) -> Result<Option<Ref<DirNode>>, TreeError> {
    let Some(root) = children else {
        return Ok(None);
    };
    let leaf = walk(acc, &root.node, &trie_key(name))?;
    Ok((leaf.name == name).then(|| leaf.dir.clone()))
}

/// The first bit at which two keys differ.
fn first_difference(a: &[u8; 32], b: &[u8; 32]) -> Option<u8> {
    a.iter()
        .zip(b)
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| {
            // i < 32 and the leading-zero count < 8, so the bit index fits in u8.
            (i * 8 + (x ^ y).leading_zeros() as usize) as u8
        })
}

/// The trie with `name` bound to `dir` (inserted, or replacing the old binding).
pub(crate) fn set(
    acc: &Access<'_>,
    children: Option<&TrieRef>,
    name: &[u8],
    dir: Ref<DirNode>,
) -> Result<TrieRef, TreeError> {
    let Some(root) = children else {
        return Ok(TrieRef {
            count: 1,
            node: Ref::new(TrieNode::leaf(name, dir)),
        });
    };
    let key = trie_key(name);
    let leaf = walk(acc, &root.node, &key)?;
    if leaf.name == name {
        return replace(acc, root, &key, dir, None);
    }
    let split = first_difference(&key, leaf.key)
        .ok_or(TreeError::Malformed("two child names with the same BLAKE2b-256 hash"))?;
    insert(acc, root, &key, split, TrieNode::leaf(name, dir), None)
}

fn replace(
    acc: &Access<'_>,
    at: &TrieRef,
    key: &[u8; 32],
    dir: Ref<DirNode>,
    parent_bit: Option<u8>,
) -> Result<TrieRef, TreeError> {
    let node = match acc.open(&at.node)? {
        TrieNode::Branch { bit, left, right } => {
            check_below(parent_bit, *bit)?;
            let (left, right) = if key_bit(key, *bit) {
                (left.clone(), replace(acc, right, key, dir, Some(*bit))?)
            } else {
                (replace(acc, left, key, dir, Some(*bit))?, right.clone())
            };
            TrieNode::Branch { bit: *bit, left, right }
        }
        TrieNode::Leaf { name, key, .. } => TrieNode::Leaf {
            name: name.clone(),
            key: *key,
            dir,
        },
    };
    Ok(TrieRef {
        count: at.count,
        node: Ref::new(node),
    })
}

/// Inserts a new leaf whose key first differs from its neighbours' at bit
/// `split`: above the first node on the key's path that splits on a later bit.
fn insert(
    acc: &Access<'_>,
    at: &TrieRef,
    key: &[u8; 32],
    split: u8,
    leaf: TrieNode,
    parent_bit: Option<u8>,
) -> Result<TrieRef, TreeError> {
    let count = at
        .count
        .checked_add(1)
        .ok_or(TreeError::Malformed("child count overflow"))?;
    if let TrieNode::Branch { bit, left, right } = acc.open(&at.node)? {
        check_below(parent_bit, *bit)?;
        if *bit == split {
            return Err(TreeError::Malformed("trie leaf under the wrong branch"));
        }
        if *bit < split {
            let (left, right) = if key_bit(key, *bit) {
                (left.clone(), insert(acc, right, key, split, leaf, Some(*bit))?)
            } else {
                (insert(acc, left, key, split, leaf, Some(*bit))?, right.clone())
            };
            return Ok(TrieRef {
                count,
                node: Ref::new(TrieNode::Branch { bit: *bit, left, right }),
            });
        }
    }
    let new_leaf = TrieRef {
        count: 1,
        node: Ref::new(leaf),
    };
    let (left, right) = if key_bit(key, split) {
        (at.clone(), new_leaf)
    } else {
        (new_leaf, at.clone())
    };
    Ok(TrieRef {
        count,
        node: Ref::new(TrieNode::Branch {
            bit: split,
            left,
            right,
        }),
    })
}

/// Result of removing a name from a subtree.
pub(crate) enum Removal {
    /// The name is not there; nothing changed.
    NotFound,
    /// The name was removed; the subtree is now this (`None`: empty).
    Removed(Option<TrieRef>),
}

/// The trie without `name`.
pub(crate) fn remove(acc: &Access<'_>, children: Option<&TrieRef>, name: &[u8]) -> Result<Removal, TreeError> {
    match children {
        None => Ok(Removal::NotFound),
        Some(root) => remove_at(acc, root, &trie_key(name), name, None),
    }
}

fn remove_at(
    acc: &Access<'_>,
    at: &TrieRef,
    key: &[u8; 32],
    name: &[u8],
    parent_bit: Option<u8>,
) -> Result<Removal, TreeError> {
    match acc.open(&at.node)? {
        TrieNode::Leaf { name: leaf_name, .. } => Ok(if &**leaf_name == name {
            Removal::Removed(None)
        } else {
            Removal::NotFound
        }),
        TrieNode::Branch { bit, left, right } => {
            check_below(parent_bit, *bit)?;
            let go_right = key_bit(key, *bit);
            let (taken, other) = if go_right { (right, left) } else { (left, right) };
            let removal = remove_at(acc, taken, key, name, Some(*bit))?;
            Ok(match removal {
                Removal::NotFound => Removal::NotFound,
                // The branch disappears; its other side moves up unopened.
                Removal::Removed(None) => Removal::Removed(Some(other.clone())),
                Removal::Removed(Some(new_side)) => {
                    let count = at
                        .count
                        .checked_sub(1)
                        .ok_or(TreeError::Malformed("child count underflow"))?;
                    let (left, right) = if go_right {
                        (other.clone(), new_side)
                    } else {
                        (new_side, other.clone())
                    };
                    Removal::Removed(Some(TrieRef {
                        count,
                        node: Ref::new(TrieNode::Branch { bit: *bit, left, right }),
                    }))
                }
            })
        }
    }
}

/// The name of the `n`-th child in key order (ascending BLAKE2b-256(name)),
/// if `n` is below the count.
pub(crate) fn nth(acc: &Access<'_>, children: Option<&TrieRef>, mut n: u64) -> Result<Option<Vec<u8>>, TreeError> {
    let Some(mut cur) = children else {
        return Ok(None);
    };
    if n >= cur.count {
        return Ok(None);
    }
    let mut parent_bit = None;
    loop {
        match acc.open(&cur.node)? {
            TrieNode::Branch { bit, left, right } => {
                check_below(parent_bit, *bit)?;
                parent_bit = Some(*bit);
                if n < left.count {
                    cur = left;
                } else {
                    n -= left.count;
                    cur = right;
                }
            }
            TrieNode::Leaf { name, .. } => {
                return if n == 0 {
                    Ok(Some(name.to_vec()))
                } else {
                    Err(TreeError::Malformed("trie counts disagree"))
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_bits() {
        let a = [0u8; 32];
        let mut b = [0u8; 32];
        assert_eq!(first_difference(&a, &b), None);
        b[0] = 0x80;
        assert_eq!(first_difference(&a, &b), Some(0));
        b[0] = 0x01;
        assert_eq!(first_difference(&a, &b), Some(7));
        b[0] = 0;
        b[31] = 0x01;
        assert_eq!(first_difference(&a, &b), Some(255));
    }
}
