//! `bridge`: the rollup half of soru's ticket bridge (`contracts/ticket_bridge.tz`).
//!
//! The rollup is originated with type `pair address (ticket unit)`, so the L1
//! only lets contracts send it such pairs: an L1 receiver and a ticket, as
//! the bridge contract's `%deposit` sends them. For every internal `Transfer`
//! addressed to this rollup, the kernel writes an outbox message calling the
//! sender (the bridge) at `%withdraw` with the same payload: once the
//! commitment is cemented, anyone can execute it and the bridge pays the
//! receiver back on L1. Every other message is ignored; no durable storage
//! is used.
//!
//! The messages are read and written by hand (layouts below, PROTOCOL-FACTS
//! §3.1 and §4) rather than with `tezos-smart-rollup-encoding`, which would
//! double the kernel's size past the 32 KiB an origination operation holds.
#![cfg(target_arch = "wasm32")]

use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;

/// `Internal (Transfer …)`: tags `00 00`, then the payload (Micheline),
/// the sender (KT1, 20 bytes), the source (tz, 21 bytes) and the
/// destination (sr1, 20 bytes).
const TRANSFER_TAGS: [u8; 2] = [0, 0];
const TRAILER: usize = 20 + 21 + 20;

/// The outbox message for `payload` sent back to `bridge`'s `%withdraw`:
/// an untyped batch (`00`, u32 length) of one transaction: parameters
/// (Micheline), destination (`01 ‖ KT1 ‖ 00`), entrypoint (u32 length ‖ name).
fn withdrawal(payload: &[u8], bridge: &[u8]) -> Vec<u8> {
    const ENTRYPOINT: &[u8] = b"withdraw";
    let mut body = Vec::with_capacity(payload.len() + 22 + 4 + ENTRYPOINT.len());
    body.extend_from_slice(payload);
    body.push(1);
    body.extend_from_slice(bridge);
    body.push(0);
    body.extend_from_slice(&(ENTRYPOINT.len() as u32).to_be_bytes());
    body.extend_from_slice(ENTRYPOINT);
    let mut message = Vec::with_capacity(body.len() + 5);
    message.push(0);
    message.extend_from_slice(&(body.len() as u32).to_be_bytes());
    message.extend_from_slice(&body);
    message
}

fn run(host: &mut impl Runtime) {
    let me = host.reveal_metadata().raw_rollup_address;
    while let Ok(Some(input)) = host.read_input() {
        let message: &[u8] = input.as_ref();
        if message.len() < TRANSFER_TAGS.len() + TRAILER || message[..2] != TRANSFER_TAGS {
            continue;
        }
        let trailer = message.len() - TRAILER;
        // The inbox is shared by every rollup: keep only this one's deposits.
        if message[message.len() - 20..] != me[..] {
            continue;
        }
        let payload = &message[2..trailer];
        let sender = &message[trailer..trailer + 20];
        if host.write_output(&withdrawal(payload, sender)).is_err() {
            host.write_debug("bridge: write_output failed\n");
        }
    }
}

kernel_entry!(run);
