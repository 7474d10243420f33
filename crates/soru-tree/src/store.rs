//! The content-addressed node store on disk (`redb`).
//!
//! Table `soru_tree_nodes` maps a node's hash to its preimage, so a node is
//! written once however many states share it, and a read checks the bytes
//! against their name. Table `soru_tree_roots` names roots (`"head"`, …).
//! The store shares one [`redb::Database`] with its caller: the caller opens a
//! write transaction ([`NodeStore::begin_write`]), writes tree nodes
//! ([`NodeStore::write_tree`]) and its own tables, and commits them together.
//!
//! Invariant: a node is in the table only if all its descendants are. Writes
//! add children with parents in one transaction; the garbage collector
//! deletes top-down (a node only once no stored garbage node points at it),
//! so the invariant holds at every commit — also after a crash mid-collection —
//! and a writer may skip any subtree whose root is already stored.
//!
//! Garbage collection ([`NodeStore::collect_garbage`]) keeps what is reachable
//! from the given roots plus every named root:
//! 1. start: inside a (momentary) write transaction, so no write is half done,
//!    mark the collection as running; from then on every `write_tree` also
//!    registers the root it wrote;
//! 2. mark: in a read snapshot, collect the live set from the roots (reads and
//!    writes continue meanwhile);
//! 3. count, for each garbage node of the snapshot, the garbage nodes naming it;
//! 4. sweep in bounded write transactions, each of which first marks live the
//!    nodes of roots registered since (they may share nodes with garbage), then
//!    deletes up to `batch_nodes` garbage nodes whose garbage parents are gone.
//!
//! Memory: the live set and the garbage counts, ~50–70 bytes per node.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};

use crate::error::{StoreError, TreeError};
use crate::node::{preimage_children, AnyRef, NodeHash, NodeSource, Ref};
use crate::tree::Tree;

const NODES: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("soru_tree_nodes");
const ROOTS: TableDefinition<'_, &str, &[u8; 32]> = TableDefinition::new("soru_tree_roots");

/// What [`NodeStore::write_tree`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// The tree's root hash.
    pub root: NodeHash,
    /// Nodes newly written (the rest were already stored).
    pub nodes_written: u64,
    /// Bytes of preimages newly written.
    pub bytes_written: u64,
}

/// What [`NodeStore::collect_garbage`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Nodes in the snapshot collection started from.
    pub scanned_nodes: u64,
    /// Bytes (preimages) in that snapshot.
    pub scanned_bytes: u64,
    /// Nodes reachable from the roots in that snapshot.
    pub live_nodes: u64,
    /// Nodes deleted.
    pub deleted_nodes: u64,
    /// Bytes deleted.
    pub deleted_bytes: u64,
    /// Write transactions the sweep used.
    pub batches: u64,
    /// Roots written while the collection ran (kept, with everything they reach).
    pub protected_roots: u64,
}

#[derive(Default)]
struct GcShared {
    running: bool,
    /// Roots written since the collection started; the sweep protects them.
    written_roots: Vec<NodeHash>,
}

/// The node store. Cloning is cheap; clones share the database.
#[derive(Clone)]
pub struct NodeStore {
    db: Arc<Database>,
    gc: Arc<Mutex<GcShared>>,
}

impl fmt::Debug for NodeStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeStore").field("db", &self.db).finish()
    }
}

struct StoreSource {
    db: Arc<Database>,
}

fn store_failure(e: impl fmt::Display) -> TreeError {
    TreeError::Store(e.to_string())
}

impl NodeSource for StoreSource {
    fn load(&self, hash: &NodeHash) -> Result<Vec<u8>, TreeError> {
        let txn = self.db.begin_read().map_err(store_failure)?;
        let table = txn.open_table(NODES).map_err(store_failure)?;
        let bytes = table
            .get(&hash.0)
            .map_err(store_failure)?
            .ok_or(TreeError::MissingNode(*hash))?;
        Ok(bytes.value().to_vec())
    }
}

/// Clears the running flag however the collection ends.
struct GcRunning<'a>(&'a NodeStore);

impl Drop for GcRunning<'_> {
    fn drop(&mut self) {
        let mut gc = self.0.lock_gc();
        gc.running = false;
        gc.written_roots.clear();
    }
}

impl NodeStore {
    /// Opens (creating if needed) the store in the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::with_database(Database::create(path)?)
    }

    /// Uses an already opened database (its other tables are the caller's).
    pub fn with_database(db: Database) -> Result<Self, StoreError> {
        let txn = db.begin_write()?;
        txn.open_table(NODES)?;
        txn.open_table(ROOTS)?;
        txn.commit()?;
        Ok(NodeStore {
            db: Arc::new(db),
            gc: Arc::default(),
        })
    }

    /// The shared database, for the caller's own tables and read transactions.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Begins a write transaction on the shared database (blocks while another
    /// is open). Commit it with [`WriteTransaction::commit`].
    pub fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        Ok(self.db.begin_write()?)
    }

    fn lock_gc(&self) -> MutexGuard<'_, GcShared> {
        // The shared state stays consistent even if a holder panicked.
        self.gc.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes every node of `tree` that is not stored yet, in `txn`. Nodes the
    /// tree knows only by hash must already be stored ([`TreeError::MissingNode`]
    /// otherwise: the tree came from a root that was garbage-collected).
    pub fn write_tree(&self, txn: &WriteTransaction, tree: &Tree) -> Result<WriteStats, StoreError> {
        let mut table = txn.open_table(NODES)?;
        let root = tree.root_hash();
        let mut stats = WriteStats {
            root,
            nodes_written: 0,
            bytes_written: 0,
        };
        let mut stack = vec![AnyRef::Dir(tree.root.clone())];
        while let Some(node) = stack.pop() {
            let hash = node.hash();
            if table.get(&hash.0)?.is_some() {
                continue; // stored, and with it the whole subtree (store invariant)
            }
            let Some(preimage) = node.preimage() else {
                return Err(TreeError::MissingNode(hash).into());
            };
            table.insert(&hash.0, preimage.as_slice())?;
            stats.nodes_written += 1;
            stats.bytes_written += preimage.len() as u64;
            node.children(&mut stack);
        }
        let mut gc = self.lock_gc();
        if gc.running {
            gc.written_roots.push(root);
        }
        Ok(stats)
    }

    /// Names `root` `name` (replacing any previous binding), in `txn`.
    pub fn set_root(&self, txn: &WriteTransaction, name: &str, root: NodeHash) -> Result<(), StoreError> {
        txn.open_table(ROOTS)?.insert(name, &root.0)?;
        Ok(())
    }

    /// Removes the name `name`; `false` if it was not bound.
    pub fn remove_root(&self, txn: &WriteTransaction, name: &str) -> Result<bool, StoreError> {
        Ok(txn.open_table(ROOTS)?.remove(name)?.is_some())
    }

    /// The root named `name` in the last committed state.
    pub fn root(&self, name: &str) -> Result<Option<NodeHash>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ROOTS)?;
        Ok(table.get(name)?.map(|h| NodeHash(*h.value())))
    }

    /// Every named root, by name.
    pub fn roots(&self) -> Result<Vec<(String, NodeHash)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(ROOTS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (name, hash) = entry?;
            out.push((name.value().to_owned(), NodeHash(*hash.value())));
        }
        Ok(out)
    }

    /// Whether a node is stored (in the last committed state).
    pub fn contains(&self, hash: NodeHash) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(NODES)?.get(&hash.0)?.is_some())
    }

    /// The tree whose root is `root`. Nothing is read yet: nodes are fetched
    /// (and checked against their hash) on first access, then kept in memory.
    pub fn open_tree(&self, root: NodeHash) -> Result<Tree, StoreError> {
        if !self.contains(root)? {
            return Err(StoreError::UnknownRoot(root));
        }
        Ok(Tree {
            root: Ref::from_hash(root),
            source: Some(Arc::new(StoreSource {
                db: Arc::clone(&self.db),
            })),
        })
    }

    /// The tree named `name`, if the name is bound.
    pub fn open_named(&self, name: &str) -> Result<Option<Tree>, StoreError> {
        self.root(name)?.map(|root| self.open_tree(root)).transpose()
    }

    /// Number of stored nodes.
    pub fn node_count(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(NODES)?.len()?)
    }

    /// Checks that every node reachable from `root` is stored, hashes to its
    /// name and decodes; returns how many distinct nodes that is.
    pub fn verify_reachable(&self, root: NodeHash) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let nodes = txn.open_table(NODES)?;
        let mut seen = HashSet::new();
        mark(vec![root], &mut seen, true, |hash| checked_get(&nodes, hash))?;
        Ok(seen.len() as u64)
    }

    /// Deletes every node not reachable from `roots` or a named root (see the
    /// module documentation for how it runs alongside reads and writes).
    /// Sweep transactions delete at most `batch_nodes` nodes each.
    pub fn collect_garbage(&self, roots: &[NodeHash], batch_nodes: usize) -> Result<GcStats, StoreError> {
        {
            // Waiting for the write lock means no write_tree is half done.
            let txn = self.db.begin_write()?;
            let mut gc = self.lock_gc();
            if gc.running {
                return Err(StoreError::GcInProgress);
            }
            gc.running = true;
            gc.written_roots.clear();
            drop(gc);
            txn.abort()?;
        }
        let _running = GcRunning(self);
        let mut stats = GcStats::default();

        let snapshot = self.db.begin_read()?;
        let nodes = snapshot.open_table(NODES)?;
        let mut start = roots.to_vec();
        for root in roots {
            if nodes.get(&root.0)?.is_none() {
                return Err(StoreError::UnknownRoot(*root));
            }
        }
        for entry in snapshot.open_table(ROOTS)?.iter()? {
            start.push(NodeHash(*entry?.1.value()));
        }
        let mut live = HashSet::new();
        // The live set decides what survives, so its nodes are checked against their names.
        mark(start, &mut live, true, |hash| checked_get(&nodes, hash))?;
        stats.live_nodes = live.len() as u64;

        // How many garbage nodes name each garbage node.
        let mut parents: HashMap<NodeHash, u32> = HashMap::new();
        for entry in nodes.iter()? {
            let (key, value) = entry?;
            stats.scanned_nodes += 1;
            stats.scanned_bytes += value.value().len() as u64;
            let hash = NodeHash(*key.value());
            if live.contains(&hash) {
                continue;
            }
            parents.entry(hash).or_insert(0);
            for child in children_of(hash, value.value())? {
                if !live.contains(&child) {
                    *parents.entry(child).or_insert(0) += 1;
                }
            }
        }
        // Top-down in waves: first the garbage nobody names, then what that
        // frees, and so on. Each wave is deleted in key order, so a batch
        // touches neighbouring B-tree pages rather than pages all over the file.
        let mut wave = Vec::new();
        for entry in nodes.iter()? {
            let hash = NodeHash(*entry?.0.value());
            if parents.get(&hash) == Some(&0) {
                wave.push(hash);
            }
        }
        let mut next_wave = Vec::new();
        let mut at = 0;
        while at < wave.len() {
            let mut txn = self.db.begin_write()?;
            {
                let mut table = txn.open_table(NODES)?;
                let written = std::mem::take(&mut self.lock_gc().written_roots);
                stats.protected_roots += written.len() as u64;
                // Nodes a root written meanwhile shares with garbage become live.
                mark(written, &mut live, false, |h| {
                    Ok(table.get(&h.0)?.map(|v| v.value().to_vec()))
                })?;
                for _ in 0..batch_nodes.max(1) {
                    if at == wave.len() {
                        if next_wave.is_empty() {
                            break;
                        }
                        next_wave.sort_unstable();
                        wave = std::mem::take(&mut next_wave);
                        at = 0;
                    }
                    let hash = wave[at];
                    at += 1;
                    if let Some(bytes) = nodes.get(&hash.0)? {
                        for child in children_of(hash, bytes.value())? {
                            if let Some(n) = parents.get_mut(&child) {
                                *n = n.saturating_sub(1);
                                if *n == 0 {
                                    next_wave.push(child);
                                }
                            }
                        }
                    }
                    if live.contains(&hash) {
                        continue;
                    }
                    if let Some(old) = table.remove(&hash.0)? {
                        stats.deleted_nodes += 1;
                        stats.deleted_bytes += old.value().len() as u64;
                    }
                }
            }
            // Losing a sweep batch in a crash only leaves garbage behind.
            txn.set_durability(Durability::Eventual);
            txn.commit()?;
            stats.batches += 1;
            if at == wave.len() && !next_wave.is_empty() {
                next_wave.sort_unstable();
                wave = std::mem::take(&mut next_wave);
                at = 0;
            }
        }
        Ok(stats)
    }
}

/// A stored preimage, checked against its name.
fn checked_get(
    table: &impl ReadableTable<&'static [u8; 32], &'static [u8]>,
    hash: &NodeHash,
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(bytes) = table.get(&hash.0)? else {
        return Ok(None);
    };
    let bytes = bytes.value().to_vec();
    if soru_core::hash::blake2b_256(&bytes) != hash.0 {
        return Err(TreeError::CorruptNode {
            hash: *hash,
            reason: "stored bytes do not hash to the node's name",
        }
        .into());
    }
    Ok(Some(bytes))
}

fn children_of(hash: NodeHash, preimage: &[u8]) -> Result<Vec<NodeHash>, StoreError> {
    preimage_children(preimage).map_err(|reason| TreeError::CorruptNode { hash, reason }.into())
}

/// Adds to `live` every node reachable from `start`. A missing node is an
/// error when `strict` (the snapshot must be complete), skipped otherwise (a
/// registered root whose transaction was abandoned).
fn mark(
    start: Vec<NodeHash>,
    live: &mut HashSet<NodeHash>,
    strict: bool,
    mut get: impl FnMut(&NodeHash) -> Result<Option<Vec<u8>>, StoreError>,
) -> Result<(), StoreError> {
    let mut stack = start;
    while let Some(hash) = stack.pop() {
        if live.contains(&hash) {
            continue;
        }
        match get(&hash)? {
            Some(bytes) => {
                live.insert(hash);
                stack.extend(children_of(hash, &bytes)?);
            }
            None if strict => return Err(TreeError::MissingNode(hash).into()),
            None => {}
        }
    }
    Ok(())
}
