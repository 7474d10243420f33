//! How the PVM's non-durable state is written into the state tree for the
//! state hash: counters under `pvm/meta`, the unread inputs under
//! `pvm/inputs/<i>`, and, only while a kernel is loading or running, the
//! machine under `wasm/` (DESIGN.md §4 rule 3: outside those phases there is
//! no `wasm/` subtree, so the hash depends only on durable storage, buffers,
//! counters and flags). The outbox lives in the tree permanently
//! (`pvm/outbox/<level>/<index>`).
//!
//! Every field has a fixed binary layout, so equal states give equal hashes.

use std::collections::VecDeque;

use soru_tree::{Tree, TreeAccess, TreeError};
use soru_wasm::exec::Machine;
use soru_wasm::{Decoder, Module, Store};

use crate::pvm::Input;

/// The counters, in the order they are written.
#[derive(Debug, Clone)]
pub(crate) struct MetaSnapshot {
    pub(crate) current_tick: u128,
    pub(crate) last_top_level_call: u128,
    pub(crate) max_nb_ticks: u128,
    pub(crate) reboot_counter: u32,
    pub(crate) maximum_reboots_per_input: u32,
    pub(crate) outbox_validity_period: u32,
    pub(crate) outbox_message_limit: u32,
    pub(crate) version: u8,
    pub(crate) last_input: Option<(u32, u64)>,
    pub(crate) current_level: Option<u32>,
}

/// The phase and its machine, borrowed from the PVM.
pub(crate) enum PhaseSnapshot<'a> {
    Collect,
    Padding,
    Snapshot,
    Decode {
        position: u64,
        decoder: &'a Decoder,
    },
    Link {
        module: &'a Module,
        next: usize,
    },
    Init {
        store: &'a Store,
        stage: String,
    },
    Eval {
        store: &'a Store,
        machine: &'a Machine,
        pending_ticks: u128,
        reveal: Option<String>,
    },
    Stuck(String),
}

fn meta_bytes(m: &MetaSnapshot) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(&m.current_tick.to_be_bytes());
    out.extend_from_slice(&m.last_top_level_call.to_be_bytes());
    out.extend_from_slice(&m.max_nb_ticks.to_be_bytes());
    out.extend_from_slice(&m.reboot_counter.to_be_bytes());
    out.extend_from_slice(&m.maximum_reboots_per_input.to_be_bytes());
    out.extend_from_slice(&m.outbox_validity_period.to_be_bytes());
    out.extend_from_slice(&m.outbox_message_limit.to_be_bytes());
    out.push(m.version);
    match m.last_input {
        None => out.push(0),
        Some((level, counter)) => {
            out.push(1);
            out.extend_from_slice(&level.to_be_bytes());
            out.extend_from_slice(&counter.to_be_bytes());
        }
    }
    match m.current_level {
        None => out.push(0),
        Some(level) => {
            out.push(1);
            out.extend_from_slice(&level.to_be_bytes());
        }
    }
    out
}

fn serialized<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("in-memory serialization cannot fail")
}

/// Writes the non-durable state into `tree` (a copy of the PVM's tree).
pub(crate) fn write_state(
    tree: &mut Tree,
    meta: &MetaSnapshot,
    inputs: &VecDeque<Input>,
    phase: PhaseSnapshot<'_>,
) -> Result<(), TreeError> {
    tree.set_value(b"pvm/meta", &meta_bytes(meta))?;
    tree.delete_subtree(b"pvm/inputs")?;
    for (i, input) in inputs.iter().enumerate() {
        let mut bytes = Vec::with_capacity(12 + input.payload.len());
        bytes.extend_from_slice(&input.level.to_be_bytes());
        bytes.extend_from_slice(&input.counter.to_be_bytes());
        bytes.extend_from_slice(&input.payload);
        tree.set_value(format!("pvm/inputs/{i}").as_bytes(), &bytes)?;
    }
    tree.delete_subtree(b"wasm")?;
    let (tag, payload): (&str, Option<Vec<u8>>) = match phase {
        PhaseSnapshot::Collect => ("collect", None),
        PhaseSnapshot::Padding => ("padding", None),
        PhaseSnapshot::Snapshot => ("snapshot", None),
        PhaseSnapshot::Decode { position, decoder } => {
            let mut bytes = position.to_be_bytes().to_vec();
            bytes.extend(serialized(decoder));
            ("decode", Some(bytes))
        }
        PhaseSnapshot::Link { module, next } => {
            let mut bytes = (next as u64).to_be_bytes().to_vec();
            bytes.extend(serialized(module));
            ("link", Some(bytes))
        }
        PhaseSnapshot::Init { store, stage } => {
            let mut bytes = serialized(&stage);
            bytes.extend(serialized(store));
            ("init", Some(bytes))
        }
        PhaseSnapshot::Eval {
            store,
            machine,
            pending_ticks,
            reveal,
        } => {
            let mut bytes = pending_ticks.to_be_bytes().to_vec();
            bytes.extend(serialized(&reveal));
            bytes.extend(soru_wasm::snapshot::save(store, machine));
            ("eval", Some(bytes))
        }
        PhaseSnapshot::Stuck(reason) => {
            tree.set_value(b"pvm/stuck", reason.as_bytes())?;
            ("stuck", None)
        }
    };
    tree.set_value(b"pvm/phase", tag.as_bytes())?;
    if let Some(bytes) = payload {
        tree.set_value(b"wasm/machine", &bytes)?;
    }
    Ok(())
}
