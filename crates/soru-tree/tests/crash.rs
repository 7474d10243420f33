//! SIGKILL during a store commit: the test re-runs its own binary as a writer
//! that commits generation after generation (tree nodes, the `head` root and
//! a generation counter in the caller's own table, in one transaction), kills
//! it while a commit is in flight, and checks that the reopened store holds
//! the last acknowledged generation or the one in flight — complete, never torn.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use soru_tree::redb::TableDefinition;
use soru_tree::{NodeStore, Tree, TreeAccess};

const WRITER_ENV: &str = "SORU_TREE_CRASH_WRITER_DB";
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("crash_test_meta");

/// The changes generation `g` makes: 150 values of ~1.5 KiB rewritten, one
/// key deleted, a counter written.
fn apply_generation(tree: &mut Tree, g: u64) {
    for i in 0..150u64 {
        let key = (g * 37 + i * 11) % 600;
        let mut value = format!("g{g} i{i} ").into_bytes();
        value.resize(1000 + (key as usize * 13) % 1000, (g + i) as u8);
        tree.set_value(format!("state/k{key}").as_bytes(), &value).unwrap();
    }
    tree.delete_subtree(format!("state/k{}", (g * 101) % 600).as_bytes())
        .unwrap();
    tree.set_value(b"generation", &g.to_be_bytes()).unwrap();
}

fn expected_root(g: u64) -> soru_tree::NodeHash {
    let mut tree = Tree::new();
    for k in 1..=g {
        apply_generation(&mut tree, k);
    }
    tree.root_hash()
}

/// The writer; only meaningful as the child of the test below.
#[test]
#[ignore = "child process of kill_during_commit_keeps_the_last_committed_root"]
fn crash_writer() {
    let path =
        std::env::var(WRITER_ENV).expect("run only as the child of kill_during_commit_keeps_the_last_committed_root");
    let store = NodeStore::open(path).unwrap();
    let read = store.database().begin_read().unwrap();
    let mut generation = match read.open_table(META) {
        Ok(table) => table.get("generation").unwrap().map_or(0, |g| g.value()),
        Err(_) => 0,
    };
    drop(read);
    let mut tree = match store.root("head").unwrap() {
        Some(root) => store.open_tree(root).unwrap(),
        None => Tree::new(),
    };
    let mut out = std::io::stdout();
    loop {
        generation += 1;
        apply_generation(&mut tree, generation);
        let txn = store.begin_write().unwrap();
        let stats = store.write_tree(&txn, &tree).unwrap();
        store.set_root(&txn, "head", stats.root).unwrap();
        txn.open_table(META).unwrap().insert("generation", generation).unwrap();
        writeln!(out, "committing {generation}").unwrap();
        out.flush().unwrap();
        txn.commit().unwrap();
        writeln!(out, "committed {generation}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn kill_during_commit_keeps_the_last_committed_root() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.redb");
    let exe = std::env::current_exe().unwrap();
    let mut committed = 0u64;
    // Delays between "committing" and the kill, so kills land at different
    // points of the commit (before, during and after the fsync).
    for (round, delay_us) in [0u64, 50, 150, 300, 600, 1000, 2000, 3000].into_iter().enumerate() {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut commits_seen = 0;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(g) = line.strip_prefix("committed ") {
                committed = g.parse().unwrap();
                commits_seen += 1;
            } else if line.starts_with("committing ") && commits_seen > round % 3 {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(delay_us));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // Whatever the child acknowledged before dying.
        for line in lines {
            if let Some(g) = line.unwrap().strip_prefix("committed ") {
                committed = g.parse().unwrap();
            }
        }

        let store = NodeStore::open(&db).unwrap();
        let read = store.database().begin_read().unwrap();
        let generation = read
            .open_table(META)
            .unwrap()
            .get("generation")
            .unwrap()
            .unwrap()
            .value();
        drop(read);
        assert!(
            generation == committed || generation == committed + 1,
            "round {round}: store at generation {generation}, last acknowledged {committed}"
        );
        eprintln!("round {round}: last acknowledged {committed}, store at {generation}");
        let head = store.root("head").unwrap().unwrap();
        assert_eq!(
            head,
            expected_root(generation),
            "round {round}: head is generation {generation}'s state"
        );
        store.verify_reachable(head).unwrap();
        let mut tree = store.open_tree(head).unwrap();
        assert_eq!(tree.read(b"generation", 0, 8).unwrap(), generation.to_be_bytes());
        committed = generation;
    }
}
