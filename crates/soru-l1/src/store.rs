//! The L1's embedded store (redb): every block ever baked, by hash (the
//! signed header, the operations' bytes, the Octez JSON with receipts and
//! the inbox after it), the main chain by level, and the chain's
//! configuration. One block is one transaction, so a crash keeps whole
//! blocks only. The ledger is not stored: it is rebuilt on start by
//! re-applying the main chain, and each block's `context` digest must come
//! out the same.

use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::block::Header;

const BLOCKS: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("soru_l1_blocks");
const MAIN_CHAIN: TableDefinition<'_, u32, &[u8; 32]> = TableDefinition::new("soru_l1_main_chain");
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("soru_l1_meta");

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database.
    #[error("store: {0}")]
    Database(String),
    /// A record that does not parse.
    #[error("store record {0} is corrupt: {1}")]
    Corrupt(String, String),
}

fn db_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A block as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBlock {
    /// Its header.
    pub header: Header,
    /// Its manager operations, signed bytes in hex, in order.
    pub operations: Vec<String>,
    /// The block as `GET /chains/main/blocks/<id>` returns it.
    pub json: Value,
    /// The global inbox after the block (`Inbox::to_bytes`, hex).
    pub inbox: String,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(db_error)?;
        let txn = db.begin_write().map_err(db_error)?;
        {
            txn.open_table(BLOCKS).map_err(db_error)?;
            txn.open_table(MAIN_CHAIN).map_err(db_error)?;
            txn.open_table(META).map_err(db_error)?;
        }
        txn.commit().map_err(db_error)?;
        Ok(Self { db })
    }

    /// A configuration entry.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let table = txn.open_table(META).map_err(db_error)?;
        Ok(table.get(key).map_err(db_error)?.map(|v| v.value().to_vec()))
    }

    /// Writes configuration entries.
    pub fn set_meta(&self, entries: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_error)?;
        {
            let mut table = txn.open_table(META).map_err(db_error)?;
            for (k, v) in entries {
                table.insert(*k, *v).map_err(db_error)?;
            }
        }
        txn.commit().map_err(db_error)
    }

    /// Adds `block` as the main chain's block at its level, and drops the
    /// main chain above it (a new branch); old blocks stay readable by hash.
    pub fn put_head(&self, hash: &[u8; 32], block: &StoredBlock) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(block).map_err(db_error)?;
        let level = block.header.level;
        let txn = self.db.begin_write().map_err(db_error)?;
        {
            let mut blocks = txn.open_table(BLOCKS).map_err(db_error)?;
            blocks.insert(hash, bytes.as_slice()).map_err(db_error)?;
            let mut main = txn.open_table(MAIN_CHAIN).map_err(db_error)?;
            let above: Vec<u32> = main
                .range(level..)
                .map_err(db_error)?
                .filter_map(|e| e.ok().map(|(k, _)| k.value()))
                .collect();
            for l in above {
                main.remove(l).map_err(db_error)?;
            }
            main.insert(level, hash).map_err(db_error)?;
        }
        txn.commit().map_err(db_error)
    }

    /// A block by hash.
    pub fn block(&self, hash: &[u8; 32]) -> Result<Option<StoredBlock>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let table = txn.open_table(BLOCKS).map_err(db_error)?;
        let Some(bytes) = table.get(hash).map_err(db_error)? else {
            return Ok(None);
        };
        serde_json::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| StoreError::Corrupt(hex::encode(hash), e.to_string()))
    }

    /// The main chain's hashes, by level from genesis.
    pub fn main_chain(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let table = txn.open_table(MAIN_CHAIN).map_err(db_error)?;
        let mut hashes = Vec::new();
        for (i, entry) in table.iter().map_err(db_error)?.enumerate() {
            let (level, hash) = entry.map_err(db_error)?;
            if level.value() as usize != i {
                return Err(StoreError::Corrupt(
                    "main chain".into(),
                    format!("level {} where {i} was expected", level.value()),
                ));
            }
            hashes.push(*hash.value());
        }
        Ok(hashes)
    }
}
