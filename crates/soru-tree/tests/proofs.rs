//! Proofs: the verifier answers recorded operations exactly as the real tree,
//! rejects any altered proof, stays small, and never panics on bad bytes.

mod common;

use common::{op_strategy, run_op, Answer, Op};
use proptest::prelude::*;
use soru_tree::{NodeHash, RecordingTree, Tree, TreeAccess, TreeError, VerifierTree, CHUNK_SIZE};

/// Records `ops` on `tree`: the answers, the after hash and the proof.
fn record(tree: &Tree, ops: &[Op]) -> (Vec<Result<Answer, TreeError>>, NodeHash, Vec<u8>) {
    let mut recorder = RecordingTree::new(tree.clone());
    let answers = ops.iter().map(|op| run_op(&mut recorder, op)).collect();
    let after = recorder.root_hash();
    (answers, after, recorder.finish().0.into_bytes())
}

/// Whether `proof` convinces a verifier that `ops` take `before` to `after`
/// with these answers.
fn verifies(
    proof: &[u8],
    ops: &[Op],
    before: NodeHash,
    after: NodeHash,
    answers: &[Result<Answer, TreeError>],
) -> bool {
    let Ok(mut verifier) = VerifierTree::new(proof) else {
        return false;
    };
    if verifier.before_hash() != before {
        return false;
    }
    for (op, answer) in ops.iter().zip(answers) {
        if &run_op(&mut verifier, op) != answer {
            return false;
        }
    }
    verifier.after_hash() == after
}

fn populated(ops: &[Op]) -> Tree {
    let mut tree = Tree::new();
    for op in ops {
        let _ = run_op(&mut tree, op);
    }
    tree
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn verifier_replays_recorded_operations(
        setup in prop::collection::vec(op_strategy(), 0..40),
        ops in prop::collection::vec(op_strategy(), 1..12),
    ) {
        let tree = populated(&setup);
        let mut plain = tree.clone();
        let expected: Vec<_> = ops.iter().map(|op| run_op(&mut plain, op)).collect();
        let (answers, after, proof) = record(&tree, &ops);
        prop_assert_eq!(&answers, &expected, "recording changes nothing");
        prop_assert_eq!(after, plain.root_hash());
        prop_assert!(verifies(&proof, &ops, tree.root_hash(), after, &answers));
    }

    #[test]
    fn parser_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(mut verifier) = VerifierTree::new(&bytes) {
            let _ = verifier.read(b"a/b", 0, 100);
            let _ = verifier.write(b"a/c", 10, b"xyz");
            let _ = verifier.nth_child(b"a", 1);
            let _ = verifier.after_hash();
        }
    }

    #[test]
    fn parser_never_panics_on_mutated_proofs(
        setup in prop::collection::vec(op_strategy(), 1..30),
        ops in prop::collection::vec(op_strategy(), 1..6),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let tree = populated(&setup);
        let (_, _, mut proof) = record(&tree, &ops);
        for (at, byte, kind) in edits {
            let i = at.index(proof.len());
            match kind {
                0 => proof[i] = byte,
                1 => { proof.remove(i); }
                _ => proof.insert(i, byte),
            }
            if proof.is_empty() {
                break;
            }
        }
        if let Ok(mut verifier) = VerifierTree::new(&proof) {
            for op in &ops {
                let _ = run_op(&mut verifier, op);
            }
            let _ = verifier.after_hash();
        }
    }
}

/// A tree of `keys` 32-byte values under `dir`, plus a few other entries.
fn wide(dir: &str, keys: u32) -> Tree {
    let mut tree = Tree::new();
    for i in 0..keys {
        tree.write(format!("{dir}/k{i}").as_bytes(), 0, &i.to_be_bytes().repeat(8))
            .unwrap();
    }
    tree
}

#[test]
fn every_altered_or_removed_byte_is_rejected() {
    let mut tree = wide("d", 300);
    tree.write(b"d/k7", 0, &[9; 1300]).unwrap();
    tree.write(b"e/x", 0, b"x").unwrap();
    let ops = [
        Op::Read(vec![b"d".to_vec(), b"k7".to_vec()], 500, 600),
        Op::Write(vec![b"d".to_vec(), b"k8".to_vec()], 3, b"abc".to_vec()),
        Op::Count(vec![b"d".to_vec()]),
        Op::Nth(vec![b"d".to_vec()], 150),
        Op::Delete(vec![b"e".to_vec()]),
        Op::Hash(vec![b"d".to_vec(), b"k9".to_vec()]),
    ];
    let (answers, after, proof) = record(&tree, &ops);
    let before = tree.root_hash();
    assert!(verifies(&proof, &ops, before, after, &answers));
    for i in 0..proof.len() {
        for flip in [0x01u8, 0x80] {
            let mut altered = proof.clone();
            altered[i] ^= flip;
            assert!(
                !verifies(&altered, &ops, before, after, &answers),
                "byte {i} ^ {flip:#x} accepted"
            );
        }
        let mut shorter = proof.clone();
        shorter.remove(i);
        assert!(
            !verifies(&shorter, &ops, before, after, &answers),
            "byte {i} removed, accepted"
        );
    }
    let mut longer = proof.clone();
    longer.push(0);
    assert!(!verifies(&longer, &ops, before, after, &answers));
}

#[test]
fn accesses_outside_the_proof_fail_cleanly() {
    let mut tree = wide("d", 100);
    tree.write(b"big", 0, &[1; 5000]).unwrap();
    let (_, _, proof) = record(&tree, &[Op::Read(vec![b"big".to_vec()], 0, 10)]);
    let mut verifier = VerifierTree::new(&proof).unwrap();
    assert_eq!(verifier.read(b"big", 0, 10).unwrap(), vec![1; 10]);
    assert!(matches!(verifier.read(b"big", 4000, 10), Err(TreeError::NotInProof(_))));
    assert!(matches!(verifier.read(b"d/k5", 0, 1), Err(TreeError::NotInProof(_))));
    assert!(matches!(verifier.count_children(b"d"), Err(TreeError::NotInProof(_))));
    let err = verifier.write(b"d/new", 0, b"1").unwrap_err();
    assert!(err.is_integrity_failure());
    // Failed operations leave the state as it was.
    assert_eq!(verifier.after_hash(), tree.root_hash());
}

/// Proof size bound for reads: k + chunk + 64 · depth.
#[test]
fn read_proofs_are_bounded_by_bytes_read_and_depth() {
    let mut tree = wide("dir", 10_000);
    tree.write(
        b"dir/k4242",
        0,
        &(0..20_000u32).map(|i| (i % 251) as u8 + 1).collect::<Vec<_>>(),
    )
    .unwrap();
    for (offset, len) in [
        (0u64, 1usize),
        (0, 32),
        (100, 32),
        (0, 512),
        (1000, 2048),
        (0, 2048),
        (7000, 4096),
    ] {
        let ops = [Op::Read(vec![b"dir".to_vec(), b"k4242".to_vec()], offset, len)];
        let (_, _, proof) = record(&tree, &ops);
        let depth = VerifierTree::new(&proof).unwrap().nesting_depth();
        let bound = len + CHUNK_SIZE + 64 * depth;
        assert!(
            proof.len() <= bound,
            "read {len} at {offset}: {} > {bound} (depth {depth})",
            proof.len()
        );
    }
}

#[test]
fn unrelated_growth_does_not_grow_proofs() {
    let mut tree = wide("a", 10_000);
    for i in 0..100u32 {
        tree.write(format!("b/x/k{i}").as_bytes(), 0, &[1; 40]).unwrap();
    }
    tree.write(b"c", 0, b"c").unwrap();
    let ops = [Op::Read(vec![b"a".to_vec(), b"k77".to_vec()], 0, 32)];
    let small = record(&tree, &ops).2.len();
    // The unrelated subtree grows 100×.
    for i in 100..10_000u32 {
        tree.write(format!("b/x/k{i}").as_bytes(), 0, &[1; 40]).unwrap();
    }
    let (answers, after, proof) = record(&tree, &ops);
    assert!(verifies(&proof, &ops, tree.root_hash(), after, &answers));
    assert!(proof.len().abs_diff(small) <= 64, "{small} -> {}", proof.len());
}

#[test]
fn sparse_value_proofs_stay_small() {
    let mut tree = Tree::new();
    assert!(tree.create_value(b"memory", (1 << 31) - 1).unwrap());
    tree.write(b"memory", 1 << 30, &[7; 2048]).unwrap();
    tree.write(b"memory", 12345, &[8; 100]).unwrap();
    for (offset, len) in [(1u64 << 30, 2048usize), ((1 << 31) - 600, 600), (777_777_777, 8)] {
        let ops = [Op::Read(vec![b"memory".to_vec()], offset, len)];
        let (answers, after, proof) = record(&tree, &ops);
        assert!(verifies(&proof, &ops, tree.root_hash(), after, &answers));
        let depth = VerifierTree::new(&proof).unwrap().nesting_depth();
        assert!(proof.len() <= len + CHUNK_SIZE + 64 * depth, "{} bytes", proof.len());
    }
    // Growing and writing far out opens only the path to the new chunk.
    let ops = [
        Op::Resize(vec![b"memory".to_vec()], 1 << 32),
        Op::Write(vec![b"memory".to_vec()], (1 << 32) - 8, vec![1; 8]),
    ];
    let (answers, after, proof) = record(&tree, &ops);
    assert!(verifies(&proof, &ops, tree.root_hash(), after, &answers));
    assert!(proof.len() < 200, "{} bytes", proof.len());
}
