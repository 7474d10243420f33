//! Criterion benchmarks of the tree's hot operations: chunk reads and writes
//! with re-hashing, proof recording and verification, store commits.

#![allow(missing_docs, reason = "criterion_group! generates an undocumented function")]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use soru_tree::{NodeStore, RecordingTree, Tree, TreeAccess, VerifierTree, CHUNK_SIZE};

fn populated(keys: u64) -> Tree {
    let mut tree = Tree::new();
    for i in 0..keys {
        tree.write(format!("dir/k{i:07}").as_bytes(), 0, &i.to_le_bytes().repeat(4))
            .unwrap();
    }
    tree.set_value(b"dir/k0050000", &[7; 2048]).unwrap();
    tree.create_value(b"memory", 1 << 30).unwrap();
    tree.root_hash();
    tree
}

fn bench(c: &mut Criterion) {
    let tree = populated(100_000);
    let mut counter = 0u64;

    c.bench_function("write 32 B + root hash (100k-key dir)", |b| {
        let mut t = tree.clone();
        b.iter(|| {
            counter = counter.wrapping_add(7919);
            let key = format!("dir/k{:07}", counter % 100_000);
            t.write(key.as_bytes(), 0, &counter.to_le_bytes().repeat(4)).unwrap();
            t.root_hash()
        })
    });

    c.bench_function("chunk write + root hash (1 GiB sparse value)", |b| {
        let mut t = tree.clone();
        let chunk = vec![0x5a; CHUNK_SIZE];
        b.iter(|| {
            counter = counter.wrapping_add(104_729);
            t.write(b"memory", (counter % (1 << 21)) * CHUNK_SIZE as u64, &chunk)
                .unwrap();
            t.root_hash()
        })
    });

    c.bench_function("read 2 KiB (100k-key dir)", |b| {
        let mut t = tree.clone();
        b.iter(|| t.read(b"dir/k0050000", 0, 2048).unwrap())
    });

    c.bench_function("record + verify a 32 B write (100k-key dir)", |b| {
        b.iter(|| {
            let mut rec = RecordingTree::new(tree.clone());
            rec.write(b"dir/k0012345", 0, &[1; 32]).unwrap();
            let (proof, _) = rec.finish();
            let mut v = VerifierTree::new(proof.as_bytes()).unwrap();
            v.write(b"dir/k0012345", 0, &[1; 32]).unwrap();
            v.after_hash()
        })
    });

    let dir = tempfile::tempdir().unwrap();
    let store = NodeStore::open(dir.path().join("bench.redb")).unwrap();
    c.bench_function("store commit of 100 changed 32 B values", |b| {
        let mut t = tree.clone();
        b.iter_batched(
            || {
                for _ in 0..100 {
                    counter = counter.wrapping_add(7919);
                    let key = format!("dir/k{:07}", counter % 100_000);
                    t.write(key.as_bytes(), 0, &counter.to_le_bytes().repeat(4)).unwrap();
                }
                t.clone()
            },
            |snapshot| {
                let txn = store.begin_write().unwrap();
                store.write_tree(&txn, &snapshot).unwrap();
                txn.commit().unwrap();
            },
            BatchSize::PerIteration,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
