//! The `soru bench tree` scenarios: proof sizes of typical accesses, write
//! throughput with hashing, store commit and garbage-collection throughput.
//!
//! [`run`] measures everything in the current process and returns one line
//! per figure. Proof sizes are deterministic; rates depend on the machine.
//! `quick` shrinks every size so the run fits in a unit test (the labels give
//! the sizes actually used).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::{ProofError, StoreError, TreeError};
use crate::{NodeStore, Proof, RecordingTree, Tree, TreeAccess, VerifierTree};

/// Why a benchmark run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A tree operation failed.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// A proof did not parse.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The scratch directory for the store could not be made or removed.
    #[error("scratch directory: {0}")]
    Io(#[from] std::io::Error),
    /// A proof did not verify to the recorded results.
    #[error("proof check failed: {0}")]
    ProofMismatch(&'static str),
}

/// Sizes of one run.
struct Sizes {
    dir_keys: u64,
    wide_keys: u64,
    writes: u64,
    store_values: u64,
}

const FULL: Sizes = Sizes {
    dir_keys: 100_000,
    wide_keys: 1_000_000,
    writes: 100_000,
    store_values: 16_384,
};
const QUICK: Sizes = Sizes {
    dir_keys: 1_000,
    wide_keys: 10_000,
    writes: 2_000,
    store_values: 256,
};

/// Size of the values of the store scenario (16 384 of them make 64 MiB).
const STORE_VALUE_LEN: usize = 4096;

/// Deterministic filler bytes (xorshift64*), distinct per seed.
pub(crate) struct Filler(u64);

impl Filler {
    pub(crate) fn new(seed: u64) -> Self {
        Filler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// The path of key `i` of directory `dir`.
pub(crate) fn key_path(dir: &str, i: u64) -> Vec<u8> {
    format!("{dir}/k{i:07}").into_bytes()
}

/// A tree with directory `dir` of `keys` children holding 32-byte values.
pub(crate) fn wide_dir(dir: &str, keys: u64) -> Result<Tree, TreeError> {
    let mut tree = Tree::new();
    let mut filler = Filler::new(keys);
    for i in 0..keys {
        tree.write(&key_path(dir, i), 0, &filler.bytes(32))?;
    }
    Ok(tree)
}

/// Records `op` on `tree`, checks that the verifier gives the same answer and
/// hashes, and returns the proof.
pub(crate) fn prove<T: PartialEq>(
    tree: &Tree,
    op: impl Fn(&mut dyn TreeAccess) -> Result<T, TreeError>,
) -> Result<Proof, BenchError> {
    let mut recorder = RecordingTree::new(tree.clone());
    let answer = op(&mut recorder)?;
    let after = recorder.root_hash();
    let (proof, _) = recorder.finish();
    let mut verifier = VerifierTree::new(proof.as_bytes())?;
    if verifier.before_hash() != tree.root_hash() {
        return Err(BenchError::ProofMismatch("before hash"));
    }
    if op(&mut verifier)? != answer {
        return Err(BenchError::ProofMismatch("answer"));
    }
    if verifier.after_hash() != after {
        return Err(BenchError::ProofMismatch("after hash"));
    }
    Ok(proof)
}

/// `count` per second over `elapsed`, as an integer (no floats).
fn per_second(count: u64, elapsed: Duration) -> u64 {
    let micros = elapsed.as_micros().max(1);
    (u128::from(count) * 1_000_000 / micros) as u64
}

/// Bytes per second over `elapsed`, in MB/s (10⁶ bytes) with one decimal.
fn megabytes_per_second(bytes: u64, elapsed: Duration) -> String {
    let tenths = per_second(bytes, elapsed) / 100_000;
    format!("{}.{}", tenths / 10, tenths % 10)
}

struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> std::io::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let path = std::env::temp_dir().join(format!("soru-tree-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs every scenario and returns the result lines.
pub fn run(quick: bool) -> Result<Vec<String>, BenchError> {
    let sizes = if quick { QUICK } else { FULL };
    let mut lines = Vec::new();

    // Proofs in a wide directory.
    let n = sizes.dir_keys;
    let mut tree = wide_dir("dir", n)?;
    let value2k = key_path("dir", n / 3);
    let value4k = key_path("dir", 2 * n / 3);
    tree.set_value(&value2k, &Filler::new(2).bytes(2048))?;
    tree.set_value(&value4k, &Filler::new(4).bytes(4096))?;
    let aligned = prove(&tree, |t| t.read(&value2k, 0, 2048))?;
    lines.push(format!(
        "tree proof bytes (read 2 KiB in a {n}-key dir): {}",
        aligned.len()
    ));
    let unaligned = prove(&tree, |t| t.read(&value4k, 1000, 2048))?;
    lines.push(format!(
        "tree proof bytes (read 2 KiB unaligned in a {n}-key dir): {}",
        unaligned.len()
    ));
    let written = key_path("dir", n / 2);
    let write = prove(&tree, |t| t.write(&written, 0, &[0xab; 32]))?;
    lines.push(format!(
        "tree proof bytes (write 32 B in a {n}-key dir): {}",
        write.len()
    ));

    // Writes per second, each followed by a root hash.
    let mut filler = Filler::new(7);
    let start = Instant::now();
    for _ in 0..sizes.writes {
        let key = key_path("dir", filler.next_u64() % n);
        tree.write(&key, 0, &filler.bytes(32))?;
        tree.root_hash();
    }
    let writes_per_second = per_second(sizes.writes, start.elapsed());
    drop(tree);

    let wide = sizes.wide_keys;
    let tree = wide_dir("wide", wide)?;
    let nth = prove(&tree, |t| t.nth_child(b"wide", wide / 2))?;
    lines.push(format!(
        "tree proof bytes (n-th child in a {wide}-key dir): {}",
        nth.len()
    ));
    drop(tree);

    // A sparse 2^31-1 byte value with a few written regions.
    let mut tree = Tree::new();
    tree.create_value(b"sparse", (1 << 31) - 1)?;
    let mut filler = Filler::new(31);
    for i in 0..32u64 {
        tree.write(b"sparse", i << 26, &filler.bytes(512))?;
    }
    tree.write(b"sparse", 1 << 30, &filler.bytes(2048))?;
    let sparse = prove(&tree, |t| t.read(b"sparse", 1 << 30, 2048))?;
    lines.push(format!(
        "tree proof bytes (read 2 KiB at offset 2^30 of a 2^31-1 sparse value): {}",
        sparse.len()
    ));

    lines.push(format!(
        "tree writes/s (32 B values, hashing included): {writes_per_second}"
    ));

    // Store: commit a tree of random 4 KiB values, then a successor sharing
    // half of them, then collect the first.
    let scratch = ScratchDir::new()?;
    let store = NodeStore::open(scratch.0.join("nodes.redb"))?;
    let mut tree = Tree::new();
    let mut filler = Filler::new(64);
    for i in 0..sizes.store_values {
        tree.set_value(&key_path("values", i), &filler.bytes(STORE_VALUE_LEN))?;
    }
    tree.root_hash(); // hashing is measured above; this times the store alone
    let start = Instant::now();
    let txn = store.begin_write()?;
    let stats = store.write_tree(&txn, &tree)?;
    txn.commit().map_err(StoreError::from)?;
    lines.push(format!(
        "tree store commit MB/s: {}",
        megabytes_per_second(stats.bytes_written, start.elapsed())
    ));

    for i in (0..sizes.store_values).step_by(2) {
        tree.set_value(&key_path("values", i), &filler.bytes(STORE_VALUE_LEN))?;
    }
    let txn = store.begin_write()?;
    let second = store.write_tree(&txn, &tree)?;
    txn.commit().map_err(StoreError::from)?;
    let start = Instant::now();
    let gc = store.collect_garbage(&[second.root], 10_000)?;
    lines.push(format!(
        "tree gc MB/s: {}",
        megabytes_per_second(gc.scanned_bytes, start.elapsed())
    ));
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_run_reports_every_figure() {
        let lines = run(true).unwrap();
        let labels: Vec<&str> = lines.iter().map(|l| l.rsplit_once(": ").unwrap().0).collect();
        assert_eq!(
            labels,
            [
                "tree proof bytes (read 2 KiB in a 1000-key dir)",
                "tree proof bytes (read 2 KiB unaligned in a 1000-key dir)",
                "tree proof bytes (write 32 B in a 1000-key dir)",
                "tree proof bytes (n-th child in a 10000-key dir)",
                "tree proof bytes (read 2 KiB at offset 2^30 of a 2^31-1 sparse value)",
                "tree writes/s (32 B values, hashing included)",
                "tree store commit MB/s",
                "tree gc MB/s",
            ]
        );
        let numbers: Vec<&str> = lines.iter().map(|l| l.rsplit_once(": ").unwrap().1).collect();
        for n in &numbers[..6] {
            assert!(n.parse::<u64>().unwrap() > 0, "{lines:?}");
        }
        for n in &numbers[6..] {
            let (whole, tenth) = n.split_once('.').unwrap();
            assert!(whole.parse::<u64>().is_ok() && tenth.len() == 1, "{lines:?}");
        }
        // The read proofs carry the 2 KiB they read.
        assert!(numbers[0].parse::<u64>().unwrap() > 2048);
    }

    /// The acceptance bounds, on the full-size directory, without timing.
    #[test]
    fn proof_bounds_in_a_100000_key_dir() {
        let n = FULL.dir_keys;
        let mut tree = wide_dir("dir", n).unwrap();
        let value2k = key_path("dir", n / 3);
        tree.set_value(&value2k, &Filler::new(2).bytes(2048)).unwrap();
        let read = prove(&tree, |t| t.read(&value2k, 0, 2048)).unwrap();
        assert!(read.len() <= 3072, "read proof {} bytes", read.len());
        let written = key_path("dir", n / 2);
        let write = prove(&tree, |t| t.write(&written, 0, &[0xab; 32])).unwrap();
        assert!(write.len() <= 2048, "write proof {} bytes", write.len());
        let fresh = prove(&tree, |t| t.write(b"dir/fresh", 0, &[0xcd; 32])).unwrap();
        assert!(fresh.len() <= 2048, "insert proof {} bytes", fresh.len());
    }

    /// The full `soru bench tree` run: `cargo test -p soru-tree --release -- --ignored full_run --nocapture`.
    #[test]
    #[ignore = "full-size benchmark: minutes in debug, ~1 GiB of memory"]
    fn full_run() {
        let lines = run(false).unwrap();
        for line in &lines {
            println!("{line}");
        }
        let figure = |i: usize| lines[i].rsplit_once(": ").unwrap().1.parse::<u64>().unwrap();
        assert!(figure(0) <= 3072, "{}", lines[0]);
        assert!(figure(2) <= 2048, "{}", lines[2]);
    }

    #[test]
    fn megabytes_format() {
        assert_eq!(megabytes_per_second(1_500_000, Duration::from_secs(1)), "1.5");
        assert_eq!(megabytes_per_second(123_456_789, Duration::from_secs(2)), "61.7");
        assert_eq!(per_second(10, Duration::ZERO), 10_000_000);
    }
}
