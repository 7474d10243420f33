//! The tree against a `BTreeMap<path, bytes>` model: same answers and
//! contents after random operation sequences, and a root hash that depends
//! only on the contents.

mod common;

use std::collections::BTreeSet;

use common::{join, op_strategy, run_op, Model, Op, Segs};
use proptest::prelude::*;
use soru_tree::{Presence, Tree, TreeAccess};

/// Checks every observable of the tree against the model.
fn check_contents(tree: &mut Tree, model: &Model) -> Result<(), TestCaseError> {
    let mut dirs: BTreeSet<Segs> = BTreeSet::new();
    for (path, value) in &model.0 {
        let p = join(path);
        prop_assert_eq!(tree.value_size(&p).unwrap(), Some(value.len() as u64));
        prop_assert_eq!(&tree.read(&p, 0, value.len() + 10).unwrap(), value);
        for i in 0..=path.len() {
            dirs.insert(path[..i].to_vec());
        }
    }
    dirs.insert(Vec::new());
    for dir in &dirs {
        let p = join(dir);
        let expected = model.children(dir);
        prop_assert_eq!(tree.count_children(&p).unwrap(), expected.len() as u64);
        let listed: Vec<Vec<u8>> = (0..expected.len() as u64)
            .map(|n| tree.nth_child(&p, n).unwrap().unwrap())
            .collect();
        prop_assert_eq!(tree.nth_child(&p, expected.len() as u64).unwrap(), None);
        if expected.contains(&Vec::new()) {
            prop_assert!(listed[0].is_empty(), "the value is listed first");
        }
        let listed_set: BTreeSet<Vec<u8>> = listed.iter().cloned().collect();
        prop_assert_eq!(listed_set.len(), listed.len(), "no name twice");
        prop_assert_eq!(listed_set, expected);
        prop_assert_eq!(
            tree.subtree_hash(&p).unwrap().is_some(),
            !model.children(dir).is_empty()
        );
    }
    prop_assert_eq!(tree.has(b"zz/never").unwrap(), Presence::default());
    Ok(())
}

/// A tree built straight from the model, entries in the given order.
fn rebuilt<'a>(entries: impl Iterator<Item = (&'a Segs, &'a Vec<u8>)>) -> Tree {
    let mut tree = Tree::new();
    for (path, value) in entries {
        tree.set_value(&join(path), value).unwrap();
    }
    tree
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn tree_matches_model(ops in prop::collection::vec(op_strategy(), 1..40)) {
        let mut tree = Tree::new();
        let mut model = Model::default();
        for op in &ops {
            let got = run_op(&mut tree, op);
            if let Some(expected) = model.apply(op) {
                prop_assert_eq!(got, expected, "{:?}", op);
            } else {
                prop_assert!(got.is_ok(), "{:?}: {:?}", op, got);
            }
        }
        check_contents(&mut tree, &model)?;
        // Equal contents, equal hash, whatever the history.
        prop_assert_eq!(rebuilt(model.0.iter()).root_hash(), tree.root_hash());
        prop_assert_eq!(rebuilt(model.0.iter().rev()).root_hash(), tree.root_hash());
    }

    #[test]
    fn clones_are_independent(ops in prop::collection::vec(op_strategy(), 1..20), more in prop::collection::vec(op_strategy(), 1..20)) {
        let mut tree = Tree::new();
        for op in &ops {
            let _ = run_op(&mut tree, op);
        }
        let snapshot = tree.clone();
        let hash = snapshot.root_hash();
        for op in &more {
            let _ = run_op(&mut tree, op);
        }
        prop_assert_eq!(snapshot.root_hash(), hash);
        let mut replay = snapshot.clone();
        for op in &more {
            let _ = run_op(&mut replay, op);
        }
        prop_assert_eq!(replay.root_hash(), tree.root_hash());
    }
}

#[test]
fn hash_ignores_operation_order_on_a_wide_directory() {
    // 3 000 names inserted in two orders, with deletions in between.
    let names: Vec<Vec<u8>> = (0..3000u32).map(|i| format!("d/n{i}").into_bytes()).collect();
    let mut forward = Tree::new();
    for name in &names {
        forward.write(name, 0, name).unwrap();
    }
    let mut backward = Tree::new();
    for name in names.iter().rev() {
        backward.write(name, 0, b"temporary").unwrap();
        backward.write(b"d/extra", 0, b"x").unwrap();
    }
    for name in names.iter().rev() {
        backward.set_value(name, name).unwrap();
    }
    assert_ne!(forward.root_hash(), backward.root_hash());
    assert!(backward.delete_subtree(b"d/extra").unwrap());
    assert_eq!(forward.root_hash(), backward.root_hash());
    assert_eq!(forward.count_children(b"d").unwrap(), 3000);
    for n in [0u64, 1, 1499, 2999] {
        assert_eq!(
            forward.nth_child(b"d", n).unwrap(),
            backward.nth_child(b"d", n).unwrap()
        );
    }
}

#[test]
fn deleting_a_subtree_is_independent_of_its_size() {
    // Deleting or copying a big subtree builds only the nodes on the path.
    let mut tree = Tree::new();
    for i in 0..2000u32 {
        tree.write(format!("wasm/mem/{i}").as_bytes(), 0, &[1; 64]).unwrap();
    }
    tree.write(b"durable/x", 0, b"kept").unwrap();
    let mut recorder = soru_tree::RecordingTree::new(tree.clone());
    assert!(recorder.copy_subtree(b"wasm", b"backup/wasm").unwrap());
    assert!(recorder.delete_subtree(b"wasm").unwrap());
    let (proof, after) = recorder.finish();
    assert!(proof.len() < 400, "proof of copy+delete is {} bytes", proof.len());
    let mut after = after;
    assert_eq!(after.count_children(b"backup/wasm/mem").unwrap(), 2000);
    assert_eq!(after.read(b"durable/x", 0, 4).unwrap(), b"kept");
    let ops = [Op::Has(vec![b"wasm".to_vec()])];
    assert_eq!(
        run_op(&mut after, &ops[0]).unwrap(),
        common::Answer::Presence(Presence::default())
    );
}
