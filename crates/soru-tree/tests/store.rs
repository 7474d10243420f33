//! The node store: commits shared with the caller's tables, lazy loading,
//! corruption detection, and garbage collection alongside reads and writes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use soru_tree::redb::{ReadableTable, TableDefinition};
use soru_tree::{NodeHash, NodeStore, RecordingTree, StoreError, Tree, TreeAccess, TreeError, VerifierTree};

const BLOCKS: TableDefinition<'_, u64, &[u8; 32]> = TableDefinition::new("test_blocks");
const NODES: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("soru_tree_nodes");

fn value(i: u32, generation: u32) -> Vec<u8> {
    let mut v = format!("value {i} of generation {generation} ").into_bytes();
    v.resize(300 + (i as usize * 37) % 1500, (i ^ generation) as u8);
    v
}

fn commit(store: &NodeStore, tree: &Tree, name: &str) -> NodeHash {
    let txn = store.begin_write().unwrap();
    let stats = store.write_tree(&txn, tree).unwrap();
    store.set_root(&txn, name, stats.root).unwrap();
    txn.commit().unwrap();
    stats.root
}

#[test]
fn committed_trees_reload_lazily_and_share_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let mut tree = Tree::new();
    for i in 0..500 {
        tree.write(format!("durable/k{i}").as_bytes(), 0, &value(i, 0)).unwrap();
    }
    tree.create_value(b"wasm/memory", 1 << 30).unwrap();
    tree.write(b"wasm/memory", 1 << 20, &[3; 4000]).unwrap();
    let root = {
        let store = NodeStore::open(&path).unwrap();
        let txn = store.begin_write().unwrap();
        let stats = store.write_tree(&txn, &tree).unwrap();
        assert_eq!(stats.root, tree.root_hash());
        assert!(stats.nodes_written > 1500);
        // The caller's own table commits in the same transaction.
        txn.open_table(BLOCKS).unwrap().insert(1, &stats.root.0).unwrap();
        store.set_root(&txn, "head", stats.root).unwrap();
        txn.commit().unwrap();
        stats.root
    };

    let store = NodeStore::open(&path).unwrap();
    assert_eq!(store.root("head").unwrap(), Some(root));
    let read = store.database().begin_read().unwrap();
    assert_eq!(
        read.open_table(BLOCKS).unwrap().get(1).unwrap().unwrap().value(),
        &root.0
    );
    let mut loaded = store.open_tree(root).unwrap();
    assert_eq!(loaded.root_hash(), root, "known without loading anything");
    assert_eq!(loaded.read(b"durable/k123", 0, 5000).unwrap(), value(123, 0));
    assert_eq!(loaded.read(b"wasm/memory", (1 << 20) - 2, 4).unwrap(), vec![0, 0, 3, 3]);
    assert_eq!(loaded.count_children(b"durable").unwrap(), 500);

    // A second commit writes only what changed.
    loaded.write(b"durable/k7", 0, b"changed").unwrap();
    let txn = store.begin_write().unwrap();
    let stats = store.write_tree(&txn, &loaded).unwrap();
    txn.commit().unwrap();
    assert!(stats.nodes_written < 40, "{stats:?}");
    store.verify_reachable(stats.root).unwrap();

    // Proofs over a store-backed tree carry the nodes loaded on the way.
    let mut recorder = RecordingTree::new(store.open_tree(stats.root).unwrap());
    assert_eq!(recorder.read(b"durable/k7", 0, 7).unwrap(), b"changed");
    recorder.write(b"durable/k8", 0, b"x").unwrap();
    let after = recorder.root_hash();
    let (proof, _) = recorder.finish();
    let mut verifier = VerifierTree::new(proof.as_bytes()).unwrap();
    assert_eq!(verifier.before_hash(), stats.root);
    assert_eq!(verifier.read(b"durable/k7", 0, 7).unwrap(), b"changed");
    verifier.write(b"durable/k8", 0, b"x").unwrap();
    assert_eq!(verifier.after_hash(), after);
}

#[test]
fn an_abandoned_transaction_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path().join("store.redb")).unwrap();
    let mut tree = Tree::new();
    tree.write(b"a", 0, b"never committed").unwrap();
    {
        let txn = store.begin_write().unwrap();
        store.write_tree(&txn, &tree).unwrap();
        txn.open_table(BLOCKS).unwrap().insert(9, &[0; 32]).unwrap();
        store.set_root(&txn, "head", tree.root_hash()).unwrap();
        // Dropped without commit.
    }
    assert_eq!(store.node_count().unwrap(), 0);
    assert_eq!(store.root("head").unwrap(), None);
    assert!(matches!(
        store.open_tree(tree.root_hash()),
        Err(StoreError::UnknownRoot(_))
    ));
}

#[test]
fn corrupt_and_missing_nodes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path().join("store.redb")).unwrap();
    let mut tree = Tree::new();
    tree.write(b"x/y", 0, b"payload").unwrap();
    tree.write(b"x/z", 0, b"other").unwrap();
    let root = commit(&store, &tree, "head");
    // Overwrite every node except the root with wrong bytes.
    let keys: Vec<[u8; 32]> = {
        let read = store.database().begin_read().unwrap();
        let table = read.open_table(NODES).unwrap();
        table
            .iter()
            .unwrap()
            .map(|e| *e.unwrap().0.value())
            .filter(|k| *k != root.0)
            .collect()
    };
    let txn = store.begin_write().unwrap();
    {
        let mut table = txn.open_table(NODES).unwrap();
        for key in &keys {
            table.insert(key, &b"\x05garbage"[..]).unwrap();
        }
    }
    txn.commit().unwrap();
    let mut loaded = store.open_tree(root).unwrap();
    let err = loaded.read(b"x/y", 0, 7).unwrap_err();
    assert!(matches!(err, TreeError::CorruptNode { .. }), "{err:?}");
    assert!(matches!(
        store.verify_reachable(root),
        Err(StoreError::Tree(TreeError::CorruptNode { .. }))
    ));
    // A node removed outright.
    let txn = store.begin_write().unwrap();
    txn.open_table(NODES).unwrap().remove(&keys[0]).unwrap();
    txn.commit().unwrap();
    assert!(store.verify_reachable(root).is_err());
    assert!(
        matches!(store.collect_garbage(&[root], 10), Err(StoreError::Tree(_))),
        "GC refuses a broken root set"
    );
}

#[test]
fn gc_keeps_exactly_what_the_roots_reach() {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path().join("store.redb")).unwrap();
    let mut tree = Tree::new();
    let mut roots = Vec::new();
    for generation in 0..6u32 {
        for i in (generation * 50)..(generation * 50 + 150) {
            tree.write(format!("d/k{}", i % 400).as_bytes(), 0, &value(i, generation))
                .unwrap();
        }
        tree.delete_subtree(format!("d/k{}", generation * 7).as_bytes())
            .unwrap();
        let txn = store.begin_write().unwrap();
        roots.push(store.write_tree(&txn, &tree).unwrap().root);
        txn.commit().unwrap();
    }
    let before = store.node_count().unwrap();
    let keep = [roots[3], roots[5]];
    let stats = store.collect_garbage(&keep, 7).unwrap();
    let live = {
        let mut all = std::collections::HashSet::new();
        for root in keep {
            let read = store.database().begin_read().unwrap();
            let table = read.open_table(NODES).unwrap();
            let mut stack = vec![root.0];
            while let Some(h) = stack.pop() {
                if all.insert(h) {
                    let bytes = table.get(&h).unwrap().unwrap().value().to_vec();
                    stack.extend(children(&bytes));
                }
            }
        }
        all.len() as u64
    };
    assert_eq!(stats.live_nodes, live);
    assert_eq!(stats.scanned_nodes, before);
    assert_eq!(stats.deleted_nodes, before - live);
    assert!(stats.batches > 1);
    assert_eq!(store.node_count().unwrap(), live);
    for root in keep {
        store.verify_reachable(root).unwrap();
    }
    assert!(!store.contains(roots[0]).unwrap());
    let mut kept = store.open_tree(roots[5]).unwrap();
    assert_eq!(kept.read(b"d/k299", 0, 5000).unwrap(), value(299, 5));
}

/// Child hashes of a preimage (the store's layout, read independently).
fn children(preimage: &[u8]) -> Vec<[u8; 32]> {
    let hash_at = |at: usize| -> [u8; 32] { preimage[at..at + 32].try_into().unwrap() };
    let mut out = Vec::new();
    match preimage[0] {
        0x01 => {
            let mut at = 2;
            if preimage[1] == 1 {
                out.push(hash_at(10));
                at = 42;
            }
            if preimage.len() > at + 8 {
                out.push(hash_at(at + 8));
            }
        }
        0x02 => {
            out.push(hash_at(10));
            out.push(hash_at(50));
        }
        0x03 => out.push(hash_at(2 + preimage[1] as usize)),
        0x04 => {
            out.push(hash_at(1));
            out.push(hash_at(33));
        }
        _ => {}
    }
    out.retain(|h| *h != [0; 32]);
    out
}

#[test]
fn gc_runs_alongside_reads_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path().join("store.redb")).unwrap();
    // Many old states: lots of garbage, some of it equal to what the writer
    // will write again while the collection runs.
    let mut tree = Tree::new();
    let mut old_roots = Vec::new();
    for generation in 0..8u32 {
        for i in 0..120 {
            tree.write(format!("d/k{i}").as_bytes(), 0, &value(i, generation))
                .unwrap();
        }
        old_roots.push(commit(&store, &tree, "head"));
    }
    let keep = old_roots[7];
    let stop = Arc::new(AtomicBool::new(false));

    let reader = {
        let (store, stop) = (store.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let mut t = store.open_tree(keep).unwrap();
                assert_eq!(t.read(b"d/k5", 0, 5000).unwrap(), value(5, 7));
                reads += 1;
            }
            reads
        })
    };
    let writer = {
        let (store, stop) = (store.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut generation = 0u32;
            let mut model = std::collections::BTreeMap::new();
            let mut tree = store.open_named("head").unwrap().unwrap();
            while !stop.load(Ordering::Relaxed) || generation < 4 {
                // Half the values cycle through the old generations' contents,
                // so the new roots share nodes with garbage being swept.
                for i in 0..120 {
                    let v = if i < 60 {
                        value(i, generation % 8)
                    } else {
                        value(i, 100 + generation)
                    };
                    tree.write(format!("d/k{i}").as_bytes(), 0, &v).unwrap();
                    model.insert(i, v);
                }
                commit(&store, &tree, "head");
                tree = store.open_named("head").unwrap().unwrap();
                generation += 1;
            }
            (generation, model)
        })
    };
    let stats = store.collect_garbage(&[keep], 4).unwrap();
    stop.store(true, Ordering::Relaxed);
    eprintln!("{stats:?}");
    let reads = reader.join().unwrap();
    let (generations, model) = writer.join().unwrap();
    assert!(
        stats.deleted_nodes > 0 && reads > 0 && generations >= 4,
        "{stats:?} {reads} {generations}"
    );
    assert!(
        stats.protected_roots > 0,
        "the writer committed while the collection ran: {stats:?}"
    );

    let head = store.root("head").unwrap().unwrap();
    store.verify_reachable(head).unwrap();
    store.verify_reachable(keep).unwrap();
    let mut t = store.open_tree(head).unwrap();
    for (i, v) in &model {
        assert_eq!(&t.read(format!("d/k{i}").as_bytes(), 0, 5000).unwrap(), v);
    }
    // A second collection with no writer removes the rest.
    store.collect_garbage(&[keep], 1000).unwrap();
    store.verify_reachable(head).unwrap();
    assert!(!store.contains(old_roots[0]).unwrap() || old_roots[0] == head);
}

#[test]
fn only_one_collection_at_a_time_and_unknown_roots_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path().join("store.redb")).unwrap();
    let mut tree = Tree::new();
    tree.write(b"a", 0, b"1").unwrap();
    commit(&store, &tree, "head");
    assert!(matches!(
        store.collect_garbage(&[NodeHash([9; 32])], 10),
        Err(StoreError::UnknownRoot(_))
    ));
    // The failed run released the collector.
    let stats = store.collect_garbage(&[], 10).unwrap();
    assert_eq!(stats.deleted_nodes, 0, "named roots are always kept");
    let txn = store.begin_write().unwrap();
    assert!(store.remove_root(&txn, "head").unwrap());
    txn.commit().unwrap();
    assert_eq!(store.collect_garbage(&[], 10).unwrap().deleted_nodes, 4);
    assert_eq!(store.node_count().unwrap(), 0);
}
