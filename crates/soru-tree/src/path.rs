//! Tree paths and durable-storage keys.
//!
//! A tree path is bytes: segments separated by `/`, the empty path naming the
//! root (`b""`, `b"durable/kernel/boot.wasm"`). A segment is any non-empty
//! byte string of at most [`MAX_SEGMENT_LEN`] bytes without `/`, so the PVM can
//! use names that durable keys cannot spell. Durable keys are stricter;
//! [`validate_durable_key`] checks them.

use crate::error::{DurableKeyError, TreeError};

/// Longest segment (child name) the tree accepts, in bytes.
pub const MAX_SEGMENT_LEN: usize = 255;

/// Most segments a path may have. It bounds the recursion of path operations;
/// durable keys (at most 240 bytes) have at most 120.
pub const MAX_PATH_SEGMENTS: usize = 256;

/// Longest durable key, in bytes: 250 − len("/durable") − len("/@") (Octez durable.ml).
pub const MAX_DURABLE_KEY_LEN: usize = 240;

/// Splits a tree path into its segments, checking the segment rules.
pub(crate) fn segments(path: &[u8]) -> Result<Vec<&[u8]>, TreeError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for segment in path.split(|&b| b == b'/') {
        if segment.is_empty() {
            return Err(TreeError::InvalidPath(
                "empty segment (leading, trailing or double '/')",
            ));
        }
        if segment.len() > MAX_SEGMENT_LEN {
            return Err(TreeError::InvalidPath("segment longer than 255 bytes"));
        }
        if out.len() == MAX_PATH_SEGMENTS {
            return Err(TreeError::InvalidPath("more than 256 segments"));
        }
        out.push(segment);
    }
    Ok(out)
}

/// True when `prefix`'s segments are a leading part of `path`'s (or equal).
pub(crate) fn is_segment_prefix(prefix: &[&[u8]], path: &[&[u8]]) -> bool {
    prefix.len() <= path.len() && prefix.iter().zip(path).all(|(a, b)| a == b)
}

/// Checks a durable-storage key against the kernel ABI's syntax: `""` (the
/// root) or `/seg(/seg)*`, segments non-empty over `[A-Za-z0-9._-]`, at most
/// [`MAX_DURABLE_KEY_LEN`] bytes. Length is checked first, as Octez does, so an
/// over-long key is [`DurableKeyError::TooLong`] whatever its characters.
pub fn validate_durable_key(key: &[u8]) -> Result<(), DurableKeyError> {
    if key.len() > MAX_DURABLE_KEY_LEN {
        return Err(DurableKeyError::TooLong { len: key.len() });
    }
    if key.is_empty() {
        return Ok(());
    }
    let Some(rest) = key.strip_prefix(b"/") else {
        return Err(DurableKeyError::Invalid("a non-empty key must start with '/'"));
    };
    for segment in rest.split(|&b| b == b'/') {
        if segment.is_empty() {
            return Err(DurableKeyError::Invalid("empty segment"));
        }
        if !segment
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(DurableKeyError::Invalid("character outside [A-Za-z0-9._-]"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments() {
        assert_eq!(segments(b"").unwrap(), Vec::<&[u8]>::new());
        assert_eq!(segments(b"a/bc/@").unwrap(), vec![&b"a"[..], b"bc", b"@"]);
        for bad in [&b"/a"[..], b"a/", b"a//b", b"/"] {
            assert!(matches!(segments(bad), Err(TreeError::InvalidPath(_))), "{bad:?}");
        }
        let long = vec![b'x'; 256];
        assert!(segments(&long).is_err());
        assert!(segments(&long[..255]).is_ok());
        let deep = vec![&b"a"[..]; 257].join(&b'/');
        assert!(segments(&deep).is_err());
        assert_eq!(segments(&deep[..deep.len() - 2]).unwrap().len(), 256);
    }

    #[test]
    fn durable_keys() {
        for ok in [&b""[..], b"/a", b"/kernel/boot.wasm", b"/A-b_c.9/x"] {
            assert_eq!(validate_durable_key(ok), Ok(()), "{ok:?}");
        }
        for bad in [&b"/"[..], b"a", b"/a/", b"//a", b"/a b", b"/a@", b"/\xff"] {
            assert!(
                matches!(validate_durable_key(bad), Err(DurableKeyError::Invalid(_))),
                "{bad:?}"
            );
        }
        let mut key = b"/".to_vec();
        key.extend(vec![b'a'; 239]);
        assert_eq!(validate_durable_key(&key), Ok(()));
        key.push(b'a');
        assert_eq!(validate_durable_key(&key), Err(DurableKeyError::TooLong { len: 241 }));
        // Too long wins over invalid characters, as in Octez.
        assert_eq!(
            validate_durable_key(&[b' '; 300]),
            Err(DurableKeyError::TooLong { len: 300 })
        );
    }
}
