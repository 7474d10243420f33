//! The on-disk cache of compiled kernels, so a restarted node does not
//! compile its kernel again.
//!
//! An artifact is wasmtime's serialization of one instrumented, compiled
//! kernel, in a file `<key>.cwasm` of the cache directory. Its name `key` is
//! the blake2b-256 of the kernel's tree hash, the metering, the
//! instrumentation's version and the wasmtime engine's compatibility hash,
//! so a change of any of them is a miss, never a stale artifact. The
//! artifact's own blake2b-256 is kept in the store (a `redb` table,
//! `soru_fast_artifacts`: key → hash), written after the file; a file whose
//! bytes do not hash to it — damaged, truncated, replaced, or written by a
//! crash between file and store — is never deserialized: the kernel is
//! compiled again and the artifact rewritten.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, TableDefinition};
use soru_core::hash::blake2b_256;
use wasmtime::{Engine, Module};

use crate::instrument::Metering;

const ARTIFACTS: TableDefinition<'_, &[u8; 32], &[u8; 32]> = TableDefinition::new("soru_fast_artifacts");

/// Changes whenever the instrumentation emits different code for the same
/// kernel, so artifacts of an older soru are not reused.
pub const INSTRUMENTATION_VERSION: u32 = 2;

/// What can go wrong in the cache (a node goes on without it: the kernel
/// is compiled as if the cache were empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// Reading or writing the cache directory.
    #[error("module cache {path}: {reason}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The store of artifact hashes.
    #[error("module cache store: {0}")]
    Store(String),
}

fn store_error(e: impl std::fmt::Display) -> CacheError {
    CacheError::Store(e.to_string())
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// The artifact, verified and deserialized.
    Hit(Module),
    /// No artifact for this key.
    Miss,
    /// An artifact that failed verification or deserialization (why).
    Rejected(String),
}

/// Compiled kernels on disk, their hashes in a store.
#[derive(Clone)]
pub struct ModuleCache {
    dir: PathBuf,
    db: Arc<Database>,
}

impl std::fmt::Debug for ModuleCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleCache")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl ModuleCache {
    /// A cache in `dir` (created if need be) with a store of its own,
    /// `dir/artifacts.redb`.
    pub fn open(dir: &Path) -> Result<Self, CacheError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let db = Database::create(dir.join("artifacts.redb")).map_err(store_error)?;
        Self::with_database(Arc::new(db), dir)
    }

    /// A cache whose artifacts are files in `dir` and whose hashes are in
    /// `db` (a node's own store).
    pub fn with_database(db: Arc<Database>, dir: &Path) -> Result<Self, CacheError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let txn = db.begin_write().map_err(store_error)?;
        txn.open_table(ARTIFACTS).map_err(store_error)?;
        txn.commit().map_err(store_error)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            db,
        })
    }

    /// The artifact's name.
    fn key(engine: &Engine, kernel_id: &[u8; 32], metering: Metering) -> [u8; 32] {
        let mut compat = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut compat);
        let metering = match metering {
            Metering::Coarse => 0u8,
            Metering::Precise => 1,
        };
        soru_core::hash::blake2b_256_concat(&[
            kernel_id,
            &[metering],
            &INSTRUMENTATION_VERSION.to_be_bytes(),
            &compat.finish().to_be_bytes(),
        ])
    }

    fn path(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.cwasm", hex::encode(key)))
    }

    /// The compiled kernel, if a verified artifact is there.
    pub(crate) fn load(&self, engine: &Engine, kernel_id: &[u8; 32], metering: Metering) -> Result<Lookup, CacheError> {
        let key = Self::key(engine, kernel_id, metering);
        let expected = {
            let txn = self.db.begin_read().map_err(store_error)?;
            let table = txn.open_table(ARTIFACTS).map_err(store_error)?;
            let found = table.get(&key).map_err(store_error)?;
            match found {
                Some(hash) => *hash.value(),
                None => return Ok(Lookup::Miss),
            }
        };
        let path = self.path(&key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(io_error(&path, e)),
        };
        if blake2b_256(&bytes) != expected {
            return Ok(Lookup::Rejected(format!("{} does not match its hash", path.display())));
        }
        // SAFETY: wasmtime requires the bytes to be a serialization by a
        // compatible engine. These are: their hash is the one recorded in
        // the store when this cache wrote them from `Module::serialize`, and
        // the key names the engine's compatibility hash (wasmtime checks it
        // again in the header).
        match unsafe { Module::deserialize(engine, &bytes) } {
            Ok(module) => Ok(Lookup::Hit(module)),
            Err(e) => Ok(Lookup::Rejected(format!("{}: {e}", path.display()))),
        }
    }

    /// Saves `module`, the compiled kernel: the file, then its hash.
    pub(crate) fn save(
        &self,
        engine: &Engine,
        kernel_id: &[u8; 32],
        metering: Metering,
        module: &Module,
    ) -> Result<(), CacheError> {
        let key = Self::key(engine, kernel_id, metering);
        let bytes = module.serialize().map_err(|e| CacheError::Io {
            path: self.dir.clone(),
            reason: format!("serializing: {e}"),
        })?;
        let path = self.path(&key);
        let partial = path.with_extension("partial");
        std::fs::write(&partial, &bytes).map_err(|e| io_error(&partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| io_error(&path, e))?;
        let txn = self.db.begin_write().map_err(store_error)?;
        {
            let mut table = txn.open_table(ARTIFACTS).map_err(store_error)?;
            table.insert(&key, &blake2b_256(&bytes)).map_err(store_error)?;
        }
        txn.commit().map_err(store_error)
    }

    /// The artifact files in the cache (for tests and tools).
    pub fn artifacts(&self) -> Result<Vec<PathBuf>, CacheError> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| io_error(&self.dir, e))? {
            let path = entry.map_err(|e| io_error(&self.dir, e))?.path();
            if path.extension().is_some_and(|x| x == "cwasm") {
                found.push(path);
            }
        }
        found.sort();
        Ok(found)
    }
}

fn io_error(path: &Path, e: std::io::Error) -> CacheError {
    CacheError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
