//! Signed transfers for the `tx` kernel.
//!
//! External payload (145 bytes; the inbox message is `0x01` ‖ payload):
//! `b"T"` ‖ sender public key (32) ‖ Ed25519 signature (64) ‖ nonce (u64 LE)
//! ‖ recipient public key (32) ‖ amount (u64 LE), the signature being over
//! the last 48 bytes (nonce ‖ recipient ‖ amount).
//!
//! From a Rust test with `ed25519-dalek` 2:
//! ```ignore
//! let key = SigningKey::from_bytes(&secret);
//! let mut signed = nonce.to_le_bytes().to_vec();
//! signed.extend_from_slice(&to);
//! signed.extend_from_slice(&amount.to_le_bytes());
//! let payload = [&b"T"[..], key.verifying_key().as_bytes(), &key.sign(&signed).to_bytes(), &signed].concat();
//! ```
#![cfg(not(target_arch = "wasm32"))]

use ed25519_dalek::{Signer, SigningKey};

/// Length of a transfer payload.
pub const MESSAGE_LEN: usize = 145;

/// The signing key of a 32-byte secret.
pub fn key(secret: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(secret)
}

/// Public key of a 32-byte secret.
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    key(secret).verifying_key().to_bytes()
}

/// The external payload of a transfer signed by `secret`.
pub fn transfer(secret: &[u8; 32], nonce: u64, to: &[u8; 32], amount: u64) -> Vec<u8> {
    let key = key(secret);
    let mut signed = Vec::with_capacity(48);
    signed.extend_from_slice(&nonce.to_le_bytes());
    signed.extend_from_slice(to);
    signed.extend_from_slice(&amount.to_le_bytes());
    let signature = key.sign(&signed);
    let mut payload = Vec::with_capacity(MESSAGE_LEN);
    payload.push(b'T');
    payload.extend_from_slice(key.verifying_key().as_bytes());
    payload.extend_from_slice(&signature.to_bytes());
    payload.extend_from_slice(&signed);
    payload
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 bytes from 64 hex digits.
pub fn from_hex32(s: &str) -> Result<[u8; 32], String> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return Err(format!("expected 64 hex digits, got {s:?}"));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| format!("bad hex {s:?}: {e}"))?;
    }
    Ok(out)
}
