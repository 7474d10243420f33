//! The decoder's state in the state tree: while a kernel decodes, its
//! regions (`soru_wasm::region`) are values under `pvm/decode/`, the export
//! names seen are keys under `pvm/decode/names/` (the blake2b-256 of each
//! name) whose values are the export's index (4 bytes, little-endian), and
//! the input is the kernel at `/kernel/boot.wasm`. The decoded module stays
//! there while it is linked and instantiated (`crate::instantiate`). A
//! Decode tick of a one-step proof reads and writes these record by record,
//! so its proof opens what the tick touches, however large the kernel.

use soru_tree::{TreeAccess, TreeError};
use soru_wasm::region::{DecodeStore, RegionId};
use soru_wasm::DecodeError;

use crate::durable::{self, tree_path};

/// Tree directory of a decoding kernel's state.
pub(crate) const DECODE_ROOT: &[u8] = b"pvm/decode";

pub(crate) fn region_path(region: RegionId) -> Vec<u8> {
    format!("pvm/decode/{}", region.name()).into_bytes()
}

fn name_path(name: &[u8]) -> Vec<u8> {
    let digest = soru_core::hash::blake2b_256(name);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("pvm/decode/names/{hex}").into_bytes()
}

/// A [`DecodeStore`] over a state tree. A tree failure is kept so the PVM
/// reports it as such (it is never a verdict on the kernel).
struct TreeDecodeStore<'a, T> {
    tree: &'a mut T,
    kernel: Vec<u8>,
    fault: Option<TreeError>,
}

/// Runs `f` on the decoder's store in `tree`. A tree failure during it is
/// the outer error; the inner result is the decoder's own.
pub(crate) fn with_tree_store<T: TreeAccess, R>(
    tree: &mut T,
    f: impl FnOnce(&mut dyn DecodeStore) -> Result<R, DecodeError>,
) -> Result<Result<R, DecodeError>, TreeError> {
    let mut store = TreeDecodeStore {
        tree,
        kernel: tree_path(durable::KERNEL_BOOT.as_bytes()),
        fault: None,
    };
    let result = f(&mut store);
    match store.fault {
        Some(fault) => Err(fault),
        None => Ok(result),
    }
}

impl<T: TreeAccess> TreeDecodeStore<'_, T> {
    fn keep<V>(&mut self, r: Result<V, TreeError>) -> Result<V, String> {
        r.map_err(|e| {
            let message = e.to_string();
            self.fault.get_or_insert(e);
            message
        })
    }
}

impl<T: TreeAccess> DecodeStore for TreeDecodeStore<'_, T> {
    fn input_len(&mut self) -> Result<u64, String> {
        let size = self.tree.value_size(&self.kernel);
        match self.keep(size)? {
            Some(n) => Ok(n),
            None => Err("no kernel".into()),
        }
    }

    fn input(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let bytes = self.tree.read(&self.kernel, offset, len);
        self.keep(bytes)
    }

    fn read(&mut self, region: RegionId, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let bytes = self.tree.read(&region_path(region), offset, len);
        self.keep(bytes)
    }

    fn write(&mut self, region: RegionId, offset: u64, bytes: &[u8]) -> Result<(), String> {
        let done = self.tree.write(&region_path(region), offset, bytes);
        self.keep(done)
    }

    fn resize(&mut self, region: RegionId, len: u64) -> Result<(), String> {
        let path = region_path(region);
        let done = if len == 0 {
            self.tree.delete_value(&path).map(|_| ())
        } else {
            match self.tree.value_size(&path) {
                Ok(Some(_)) => self.tree.resize_value(&path, len),
                Ok(None) => self.tree.create_value(&path, len).map(|_| ()),
                Err(e) => Err(e),
            }
        };
        self.keep(done)
    }

    fn insert_name(&mut self, name: &[u8], index: u32) -> Result<bool, String> {
        let path = name_path(name);
        let size = self.tree.value_size(&path);
        if self.keep(size)?.is_some() {
            return Ok(false);
        }
        let done = self.tree.set_value(&path, &index.to_le_bytes());
        self.keep(done)?;
        Ok(true)
    }

    fn lookup_name(&mut self, name: &[u8]) -> Result<Option<u32>, String> {
        let path = name_path(name);
        let value = match self.tree.read(&path, 0, 4) {
            Err(TreeError::NoValue) => return Ok(None),
            other => self.keep(other)?,
        };
        let index: [u8; 4] = value
            .try_into()
            .map_err(|_| "an export name's entry is not 4 bytes".to_string())?;
        Ok(Some(u32::from_le_bytes(index)))
    }
}
