//! Reveal-preimage pages for the `installer` kernel.
//!
//! A page is at most [`PAGE_MAX`] bytes. Byte 0 is [`CONTENTS`] (the rest is
//! kernel bytes) or [`HASHES`] (the rest is a concatenation of 33-byte reveal
//! hashes of child pages, in order). The kernel is the concatenation of the
//! contents-page payloads in depth-first order. A page's reveal hash is
//! `0x00 ‖ blake2b-256(page)`; page files are named by its lowercase hex.
//!
//! [`split`] builds a balanced tree: contents pages of 4 095 payload bytes
//! (the last one shorter), then levels of hashes pages of up to 124 hashes,
//! until one page remains: the root (a lone contents page when the kernel
//! fits in one page).
#![cfg(not(target_arch = "wasm32"))]

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use std::collections::BTreeMap;

/// Largest page.
pub const PAGE_MAX: usize = 4096;
/// Tag of a contents page.
pub const CONTENTS: u8 = 0x00;
/// Tag of a hashes page.
pub const HASHES: u8 = 0x01;
/// Length of a reveal hash.
pub const HASH_LEN: usize = 33;
/// Hashes per hashes page.
pub const HASHES_PER_PAGE: usize = (PAGE_MAX - 1) / HASH_LEN;
/// The marker that precedes the root hash slot in the installer.
pub const MARKER: &[u8] = b"SORU-INSTALLER-ROOT-HASH:";

/// A 33-byte reveal hash.
pub type RevealHash = [u8; HASH_LEN];

/// `0x00 ‖ blake2b-256(page)`.
pub fn reveal_hash(page: &[u8]) -> RevealHash {
    let digest = Blake2b::<U32>::digest(page);
    let mut hash = [0u8; HASH_LEN];
    hash[1..].copy_from_slice(&digest);
    hash
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a 33-byte reveal hash from hex.
pub fn hash_from_hex(s: &str) -> Result<RevealHash, String> {
    let s = s.trim();
    if s.len() != 2 * HASH_LEN || !s.is_ascii() {
        return Err(format!("a reveal hash is {} hex digits, got {:?}", 2 * HASH_LEN, s));
    }
    let mut hash = [0u8; HASH_LEN];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| format!("bad hex {s:?}: {e}"))?;
    }
    Ok(hash)
}

/// The pages of a kernel.
#[derive(Debug, Clone)]
pub struct Pages {
    /// Reveal hash of the root page.
    pub root: RevealHash,
    /// Every distinct page by its reveal hash.
    pub pages: BTreeMap<RevealHash, Vec<u8>>,
}

/// Splits `kernel` into pages.
pub fn split(kernel: &[u8]) -> Pages {
    let mut pages = BTreeMap::new();
    let mut add = |page: Vec<u8>| {
        let hash = reveal_hash(&page);
        pages.insert(hash, page);
        hash
    };
    let mut level: Vec<RevealHash> = if kernel.is_empty() {
        vec![add(vec![CONTENTS])]
    } else {
        kernel
            .chunks(PAGE_MAX - 1)
            .map(|chunk| {
                let mut page = Vec::with_capacity(chunk.len() + 1);
                page.push(CONTENTS);
                page.extend_from_slice(chunk);
                add(page)
            })
            .collect()
    };
    while level.len() > 1 {
        level = level
            .chunks(HASHES_PER_PAGE)
            .map(|hashes| {
                let mut page = Vec::with_capacity(1 + hashes.len() * HASH_LEN);
                page.push(HASHES);
                for h in hashes {
                    page.extend_from_slice(h);
                }
                add(page)
            })
            .collect();
    }
    Pages { root: level[0], pages }
}

/// Rebuilds a kernel from its root hash, as the installer does.
pub fn reassemble(root: &RevealHash, lookup: &dyn Fn(&RevealHash) -> Option<Vec<u8>>) -> Result<Vec<u8>, String> {
    fn walk(
        hash: &RevealHash,
        depth: u32,
        lookup: &dyn Fn(&RevealHash) -> Option<Vec<u8>>,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        if depth > 16 {
            return Err("page tree too deep".into());
        }
        let page = lookup(hash).ok_or_else(|| format!("missing page {}", to_hex(hash)))?;
        if page.len() > PAGE_MAX || reveal_hash(&page) != *hash {
            return Err(format!("bad page {}", to_hex(hash)));
        }
        match page.split_first() {
            Some((&CONTENTS, payload)) => out.extend_from_slice(payload),
            Some((&HASHES, hashes)) if hashes.len() % HASH_LEN == 0 => {
                for child in hashes.chunks_exact(HASH_LEN) {
                    walk(child.try_into().expect("33 bytes"), depth + 1, lookup, out)?;
                }
            }
            _ => return Err(format!("malformed page {}", to_hex(hash))),
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, 0, lookup, &mut out)?;
    Ok(out)
}

/// Writes `root` after the unique marker of an installer binary.
pub fn patch_installer(installer: &mut [u8], root: &RevealHash) -> Result<(), String> {
    let found: Vec<usize> = installer
        .windows(MARKER.len())
        .enumerate()
        .filter(|(_, w)| *w == MARKER)
        .map(|(i, _)| i)
        .collect();
    let at = match found.as_slice() {
        [at] => at + MARKER.len(),
        [] => return Err("no root-hash marker in the installer".into()),
        _ => {
            return Err(format!(
                "{} root-hash markers in the installer, expected one",
                found.len()
            ))
        }
    };
    if at + HASH_LEN > installer.len() {
        return Err("marker too close to the end of the installer".into());
    }
    installer[at..at + HASH_LEN].copy_from_slice(root);
    Ok(())
}
