//! `soru bench pvm`: the full PVM (owned backend, real host functions and
//! durable storage) on the `compute` and `tx` kernels, against the same
//! kernels' `kernel_run` on bare soru-wasm with do-nothing host functions
//! that feed the same messages. Prints interpreter ticks per second of both
//! and `R = PVM ticks/s ÷ bare soru-wasm ticks/s`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ed25519_dalek::{Signer, SigningKey};
use soru_pvm::{host::HostFn, Input, Pvm};
use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::store::Extern;
use soru_wasm::types::ExternKind;
use soru_wasm::{Decoder, Mode, Store};

/// The kernels, as committed in `kernels/wasm/`.
const COMPUTE: &[u8] = include_bytes!("../../../../kernels/wasm/compute.wasm");
const TX: &[u8] = include_bytes!("../../../../kernels/wasm/tx.wasm");

/// External message payloads (without the `01` tag) for one level.
pub(crate) fn compute_messages() -> Vec<Vec<u8>> {
    (0..4u32)
        .map(|i| {
            let mut m = b"C".to_vec();
            m.extend_from_slice(&(200_000 + i).to_le_bytes());
            m
        })
        .collect()
}

pub(crate) fn tx_messages() -> Vec<Vec<u8>> {
    let alice = SigningKey::from_bytes(&[7; 32]);
    let bob = SigningKey::from_bytes(&[9; 32]);
    (0..100u64)
        .map(|nonce| {
            let mut signed = nonce.to_le_bytes().to_vec();
            signed.extend_from_slice(bob.verifying_key().as_bytes());
            signed.extend_from_slice(&1u64.to_le_bytes());
            [
                &b"T"[..],
                alice.verifying_key().as_bytes(),
                &alice.sign(&signed).to_bytes(),
                &signed,
            ]
            .concat()
        })
        .collect()
}

pub(crate) fn inputs(level: u32, messages: &[Vec<u8>]) -> Vec<Input> {
    let mut payloads = vec![vec![0, 1]];
    let mut info = vec![0, 3];
    info.extend_from_slice(&0i64.to_be_bytes());
    info.extend_from_slice(&[0; 32]);
    payloads.push(info);
    payloads.extend(messages.iter().map(|m| [&[1u8][..], m].concat()));
    payloads.push(vec![0, 2]);
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, payload)| Input {
            level,
            counter: i as u64,
            payload,
        })
        .collect()
}

/// Interpreter ticks and the time the PVM took for one level.
fn run_pvm(kernel: &[u8], messages: &[Vec<u8>]) -> Result<(u128, Duration)> {
    let config = super::mainnet_pvm_config();
    let mut pvm = Pvm::install_boot_sector(&config, kernel)?;
    let start = Instant::now();
    for input in inputs(1, messages) {
        pvm.set_input(input)?;
    }
    pvm.run_until_input(u128::MAX)?;
    let elapsed = start.elapsed();
    if !matches!(pvm.status(), soru_pvm::Status::Collect) {
        bail!("the kernel did not complete its level: {:?}", pvm.status());
    }
    Ok((pvm.stats().interpreter_ticks, elapsed))
}

/// The same `kernel_run` on bare soru-wasm: host functions answer without
/// effects (inputs are fed, durable reads find nothing).
fn run_bare(kernel: &[u8], messages: &[Vec<u8>]) -> Result<(u128, Duration)> {
    let module = Arc::new(Decoder::decode(Mode::Pvm, kernel)?);
    let mut store = Store::default();
    let mut fns = Vec::new();
    let mut imports = Vec::new();
    for (i, import) in module.imports.iter().enumerate() {
        let ExternKind::Func(_) = import.kind else {
            bail!("non-function import")
        };
        let f = HostFn::lookup(&import.name, 6).context("unknown host function")?;
        fns.push(f);
        imports.push(Extern::Func(store.add_host_func(&f.signature(), i as u32)));
    }
    let inst = store.allocate(module, &imports)?;
    Machine::initialize(&mut store, inst).map_err(|t| anyhow::anyhow!("init trap {t}"))?;
    let Some(Extern::Func(run)) = store.export(inst, "kernel_run") else {
        bail!("no kernel_run")
    };
    let Some(Extern::Memory(mem)) = store.export(inst, "memory") else {
        bail!("no memory")
    };
    let mut queue: std::collections::VecDeque<Input> = inputs(1, messages).into();
    let mut machine = Machine::invoke(&store, run, &[])?;
    let mut fuel = u64::MAX;
    let start = Instant::now();
    loop {
        match machine.run(&mut store, &mut fuel)? {
            Outcome::Returned(_) => break,
            Outcome::HostCall { host_id, args, .. } => {
                let result: Vec<u64> = match fns[host_id as usize] {
                    HostFn::ReadInput => match queue.pop_front() {
                        Some(input) => {
                            let (dst, max) = (args[1] as usize, args[2] as usize);
                            let n = input.payload.len().min(max);
                            store.memories[mem as usize].data[dst..dst + n].copy_from_slice(&input.payload[..n]);
                            vec![n as u64]
                        }
                        None => vec![0],
                    },
                    HostFn::WriteDebug => vec![],
                    HostFn::StoreValueSize | HostFn::StoreRead => vec![u64::from((-3i32) as u32)],
                    HostFn::StoreListSize => vec![0],
                    _ => vec![0],
                };
                machine.resume_host(&result)?;
            }
            other => bail!("bare run ended with {other:?}"),
        }
    }
    Ok((u128::from(u64::MAX - fuel), start.elapsed()))
}

/// Runs the scenario and returns the report lines.
pub fn run() -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut ratios = Vec::new();
    for (name, kernel, messages) in [("compute", COMPUTE, compute_messages()), ("tx", TX, tx_messages())] {
        let (pvm_ticks, pvm_time) = run_pvm(kernel, &messages)?;
        let (bare_ticks, bare_time) = run_bare(kernel, &messages)?;
        let pvm_tps = pvm_ticks as f64 / pvm_time.as_secs_f64();
        let bare_tps = bare_ticks as f64 / bare_time.as_secs_f64();
        let ratio = pvm_tps / bare_tps;
        ratios.push(ratio);
        lines.push(format!(
            "{name}: pvm {pvm_ticks} ticks in {:.1} ms, bare {bare_ticks} ticks in {:.1} ms, pvm ticks/s: {pvm_tps:.3e} (vs bare soru-wasm: {ratio:.2})",
            pvm_time.as_secs_f64() * 1e3,
            bare_time.as_secs_f64() * 1e3
        ));
    }
    lines.push(format!(
        "pvm vs bare soru-wasm (geometric mean): {:.2}",
        super::geometric_mean(&ratios)
    ));
    Ok(lines)
}
