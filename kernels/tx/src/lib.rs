//! `tx`: ed25519-signed transfers between accounts kept in durable storage.
//!
//! **Message** (external payload, 145 bytes):
//! `b"T"` ‖ sender public key (32) ‖ signature (64) ‖ nonce (u64 LE) ‖
//! recipient public key (32) ‖ amount (u64 LE). The signature is Ed25519
//! (RFC 8032, checked with `verify_strict`) by the sender over the last 48
//! bytes of the payload: nonce ‖ recipient ‖ amount.
//!
//! **State**, for an account with public key `pk` (`<hex>` = 64 lowercase hex
//! digits):
//! - `/accounts/<hex>/balance`: u64 LE, absent = 0;
//! - `/accounts/<hex>/nonce`: u64 LE, the nonce its next transfer must carry;
//!   absent until the account has sent a transfer (expected nonce 0);
//! - `/tx/accepted`, `/tx/rejected`: u64 LE counters.
//!
//! **Faucet.** The first accepted transfer of a sender (no `nonce` key yet)
//! credits the sender with 1 000 000 before the transfer is applied.
//!
//! **Rules.** A message starting with `T` is rejected (state unchanged except
//! `/tx/rejected` + 1) when its length is not 145, the key or signature is
//! invalid, the nonce differs from the expected one, the amount exceeds the
//! balance (faucet included) or the recipient's balance would overflow.
//! Otherwise the amount moves from sender to recipient, the sender's nonce
//! becomes nonce + 1 and `/tx/accepted` + 1. A transfer to oneself only
//! consumes the nonce (and the faucet). Other messages are ignored.
#![cfg(target_arch = "wasm32")]

use ed25519_dalek::{Signature, VerifyingKey};
use kernel_common::{external_payload, hex, path, read_u64, write_u64};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::RefPath;

const ACCEPTED: RefPath = RefPath::assert_from(b"/tx/accepted");
const REJECTED: RefPath = RefPath::assert_from(b"/tx/rejected");

/// Credited to a sender on its first accepted transfer.
pub const FAUCET: u64 = 1_000_000;

/// Length of a transfer payload.
pub const MESSAGE_LEN: usize = 1 + 32 + 64 + 8 + 32 + 8;

struct Transfer<'a> {
    from: &'a [u8; 32],
    signature: &'a [u8; 64],
    signed: &'a [u8],
    nonce: u64,
    to: &'a [u8; 32],
    amount: u64,
}

fn parse(payload: &[u8]) -> Option<Transfer<'_>> {
    if payload.len() != MESSAGE_LEN || payload[0] != b'T' {
        return None;
    }
    let from = payload[1..33].try_into().ok()?;
    let signature = payload[33..97].try_into().ok()?;
    let signed = &payload[97..];
    let nonce = u64::from_le_bytes(payload[97..105].try_into().ok()?);
    let to = payload[105..137].try_into().ok()?;
    let amount = u64::from_le_bytes(payload[137..145].try_into().ok()?);
    Some(Transfer {
        from,
        signature,
        signed,
        nonce,
        to,
        amount,
    })
}

fn balance_key(pk: &[u8; 32]) -> String {
    format!("/accounts/{}/balance", hex(pk))
}

fn nonce_key(pk: &[u8; 32]) -> String {
    format!("/accounts/{}/nonce", hex(pk))
}

/// Applies a transfer; `false` if it must be rejected (nothing written then).
fn apply(host: &mut impl Runtime, payload: &[u8]) -> bool {
    let Some(t) = parse(payload) else { return false };
    let Ok(key) = VerifyingKey::from_bytes(t.from) else {
        return false;
    };
    let signature = Signature::from_bytes(t.signature);
    if key.verify_strict(t.signed, &signature).is_err() {
        return false;
    }
    let from_nonce = path(nonce_key(t.from));
    let from_balance = path(balance_key(t.from));
    let stored_nonce = read_u64(host, &from_nonce);
    if t.nonce != stored_nonce.unwrap_or(0) {
        return false;
    }
    let faucet = if stored_nonce.is_none() { FAUCET } else { 0 };
    let Some(balance) = read_u64(host, &from_balance).unwrap_or(0).checked_add(faucet) else {
        return false;
    };
    let Some(remaining) = balance.checked_sub(t.amount) else {
        return false;
    };
    let Some(next_nonce) = t.nonce.checked_add(1) else {
        return false;
    };
    if t.to == t.from {
        write_u64(host, &from_balance, balance);
    } else {
        let to_balance = path(balance_key(t.to));
        let Some(credited) = read_u64(host, &to_balance).unwrap_or(0).checked_add(t.amount) else {
            return false;
        };
        write_u64(host, &from_balance, remaining);
        write_u64(host, &to_balance, credited);
    }
    write_u64(host, &from_nonce, next_nonce);
    true
}

fn run(host: &mut impl Runtime) {
    while let Ok(Some(message)) = host.read_input() {
        let Some(payload) = external_payload(&message) else {
            continue;
        };
        if payload.first() != Some(&b'T') {
            continue;
        }
        let counter = if apply(host, payload) { &ACCEPTED } else { &REJECTED };
        let n = read_u64(host, counter).unwrap_or(0) + 1;
        write_u64(host, counter, n);
    }
}

kernel_entry!(run);
