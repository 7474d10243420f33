//! Shared test helpers: a `BTreeMap` model of the tree, random operations,
//! and a driver that runs an operation on any [`TreeAccess`].

#![allow(dead_code, unreachable_pub, reason = "each test binary uses a different subset")]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use soru_tree::{NodeHash, Presence, TreeAccess, TreeError};

pub type Segs = Vec<Vec<u8>>;

pub fn join(segs: &[Vec<u8>]) -> Vec<u8> {
    segs.join(&b'/')
}

/// An operation on the tree.
#[derive(Debug, Clone)]
pub enum Op {
    Write(Segs, u64, Vec<u8>),
    SetValue(Segs, Vec<u8>),
    Create(Segs, u64),
    Resize(Segs, u64),
    DeleteValue(Segs),
    Delete(Segs),
    Copy(Segs, Segs),
    Move(Segs, Segs),
    Read(Segs, u64, usize),
    Has(Segs),
    Size(Segs),
    Count(Segs),
    Nth(Segs, u64),
    Hash(Segs),
}

/// What an operation answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Unit,
    Bool(bool),
    Bytes(Vec<u8>),
    Presence(Presence),
    Size(Option<u64>),
    Count(u64),
    Name(Option<Vec<u8>>),
    Hash(Option<NodeHash>),
}

pub fn run_op(t: &mut dyn TreeAccess, op: &Op) -> Result<Answer, TreeError> {
    Ok(match op {
        Op::Write(p, off, data) => t.write(&join(p), *off, data).map(|()| Answer::Unit)?,
        Op::SetValue(p, data) => t.set_value(&join(p), data).map(|()| Answer::Unit)?,
        Op::Create(p, size) => Answer::Bool(t.create_value(&join(p), *size)?),
        Op::Resize(p, size) => t.resize_value(&join(p), *size).map(|()| Answer::Unit)?,
        Op::DeleteValue(p) => Answer::Bool(t.delete_value(&join(p))?),
        Op::Delete(p) => Answer::Bool(t.delete_subtree(&join(p))?),
        Op::Copy(a, b) => Answer::Bool(t.copy_subtree(&join(a), &join(b))?),
        Op::Move(a, b) => Answer::Bool(t.move_subtree(&join(a), &join(b))?),
        Op::Read(p, off, len) => Answer::Bytes(t.read(&join(p), *off, *len)?),
        Op::Has(p) => Answer::Presence(t.has(&join(p))?),
        Op::Size(p) => Answer::Size(t.value_size(&join(p))?),
        Op::Count(p) => Answer::Count(t.count_children(&join(p))?),
        Op::Nth(p, n) => Answer::Name(t.nth_child(&join(p), *n)?),
        Op::Hash(p) => Answer::Hash(t.subtree_hash(&join(p))?),
    })
}

/// The reference model: path → value.
#[derive(Debug, Clone, Default)]
pub struct Model(pub BTreeMap<Segs, Vec<u8>>);

fn under<'a>(prefix: &'a [Vec<u8>]) -> impl Fn(&&Segs) -> bool + 'a {
    move |k| k.len() >= prefix.len() && k[..prefix.len()] == *prefix
}

impl Model {
    fn subtree(&self, p: &[Vec<u8>]) -> Vec<(Segs, Vec<u8>)> {
        self.0
            .iter()
            .filter(|(k, _)| under(p)(k))
            .map(|(k, v)| (k[p.len()..].to_vec(), v.clone()))
            .collect()
    }

    fn remove_subtree(&mut self, p: &[Vec<u8>]) -> bool {
        let keys: Vec<Segs> = self.0.keys().filter(under(p)).cloned().collect();
        for k in &keys {
            self.0.remove(k);
        }
        !keys.is_empty()
    }

    /// Names of the children of `p` in no particular order ("" for the value).
    pub fn children(&self, p: &[Vec<u8>]) -> BTreeSet<Vec<u8>> {
        let mut out = BTreeSet::new();
        for k in self.0.keys().filter(under(p)) {
            out.insert(k.get(p.len()).cloned().unwrap_or_default());
        }
        out
    }

    /// Runs an operation; `None` for the hash query the model cannot answer.
    pub fn apply(&mut self, op: &Op) -> Option<Result<Answer, TreeError>> {
        const MAX: u64 = soru_tree::MAX_VALUE_SIZE;
        Some(match op {
            Op::Write(p, off, data) => {
                let end = off + data.len() as u64;
                if end > MAX {
                    Err(TreeError::ValueTooLarge { size: end })
                } else {
                    let v = self.0.entry(p.clone()).or_default();
                    if (v.len() as u64) < end {
                        v.resize(end as usize, 0);
                    }
                    v[*off as usize..end as usize].copy_from_slice(data);
                    Ok(Answer::Unit)
                }
            }
            Op::SetValue(p, data) => {
                self.0.insert(p.clone(), data.clone());
                Ok(Answer::Unit)
            }
            Op::Create(p, size) => {
                if self.0.contains_key(p) {
                    Ok(Answer::Bool(false))
                } else {
                    self.0.insert(p.clone(), vec![0; *size as usize]);
                    Ok(Answer::Bool(true))
                }
            }
            Op::Resize(p, size) => match self.0.get_mut(p) {
                None => Err(TreeError::NoValue),
                Some(v) => {
                    v.resize(*size as usize, 0);
                    Ok(Answer::Unit)
                }
            },
            Op::DeleteValue(p) => Ok(Answer::Bool(self.0.remove(p).is_some())),
            Op::Delete(p) => Ok(Answer::Bool(self.remove_subtree(p))),
            Op::Copy(a, b) => {
                let moved = self.subtree(a);
                if moved.is_empty() {
                    Ok(Answer::Bool(false))
                } else {
                    self.remove_subtree(b);
                    for (k, v) in moved {
                        self.0.insert([b.clone(), k].concat(), v);
                    }
                    Ok(Answer::Bool(true))
                }
            }
            Op::Move(a, b) => {
                if a.len() < b.len() && b[..a.len()] == a[..] {
                    Err(TreeError::MoveIntoItself)
                } else {
                    let moved = self.subtree(a);
                    if moved.is_empty() {
                        Ok(Answer::Bool(false))
                    } else {
                        self.remove_subtree(a);
                        self.remove_subtree(b);
                        for (k, v) in moved {
                            self.0.insert([b.clone(), k].concat(), v);
                        }
                        Ok(Answer::Bool(true))
                    }
                }
            }
            Op::Read(p, off, len) => match self.0.get(p) {
                None => Err(TreeError::NoValue),
                Some(v) if *off > v.len() as u64 => Err(TreeError::OffsetOutOfRange {
                    offset: *off,
                    size: v.len() as u64,
                }),
                Some(v) => {
                    let start = *off as usize;
                    Ok(Answer::Bytes(v[start..(start + len).min(v.len())].to_vec()))
                }
            },
            Op::Has(p) => {
                let children = self.children(p);
                Ok(Answer::Presence(Presence {
                    value: self.0.contains_key(p),
                    subtree: children.iter().any(|c| !c.is_empty()),
                }))
            }
            Op::Size(p) => Ok(Answer::Size(self.0.get(p).map(|v| v.len() as u64))),
            Op::Count(p) => Ok(Answer::Count(self.children(p).len() as u64)),
            Op::Nth(..) | Op::Hash(_) => return None,
        })
    }
}

pub fn segs_strategy(max_depth: usize) -> impl Strategy<Value = Segs> {
    prop::collection::vec(
        prop::sample::select(vec![b"a".to_vec(), b"b".to_vec(), b"cc".to_vec()]),
        0..=max_depth,
    )
}

fn bytes_strategy(max: usize) -> impl Strategy<Value = Vec<u8>> {
    // Plenty of zeros, so chunks trim and vanish.
    prop::collection::vec(prop_oneof![2 => Just(0u8), 1 => any::<u8>()], 0..max)
}

fn offset_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..2100, 1 => (1u64 << 20)..(1u64 << 20) + 1100]
}

fn size_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..3000, 1 => (1u64 << 20)..(1u64 << 20) + 600]
}

pub fn op_strategy() -> impl Strategy<Value = Op> {
    let p = || segs_strategy(3);
    prop_oneof![
        6 => (p(), offset_strategy(), bytes_strategy(1200)).prop_map(|(p, o, d)| Op::Write(p, o, d)),
        2 => (p(), bytes_strategy(1500)).prop_map(|(p, d)| Op::SetValue(p, d)),
        1 => (p(), size_strategy()).prop_map(|(p, s)| Op::Create(p, s)),
        1 => (p(), size_strategy()).prop_map(|(p, s)| Op::Resize(p, s)),
        1 => p().prop_map(Op::DeleteValue),
        1 => p().prop_map(Op::Delete),
        1 => (p(), p()).prop_map(|(a, b)| Op::Copy(a, b)),
        1 => (p(), p()).prop_map(|(a, b)| Op::Move(a, b)),
        2 => (p(), offset_strategy(), 0usize..1500).prop_map(|(p, o, l)| Op::Read(p, o, l)),
        1 => p().prop_map(Op::Has),
        1 => p().prop_map(Op::Size),
        1 => p().prop_map(Op::Count),
        1 => (p(), 0u64..5).prop_map(|(p, n)| Op::Nth(p, n)),
        1 => p().prop_map(Op::Hash),
    ]
}
