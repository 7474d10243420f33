//! `soru bench fast`: one inbox level per kernel (`compute`, `tx`,
//! `durable-heavy`, `echo` on a full inbox) run three ways in the same run:
//!
//! - the PVM alone (every tick interpreted);
//! - soru-fast: the PVM with the fast engine taking every `kernel_run`,
//!   module already compiled (compile time is printed apart);
//! - raw wasmtime: the kernel as it is, uninstrumented, on the same wasmtime
//!   configuration: do-nothing host functions for the CPU-bound kernels,
//!   the PVM's own host functions for the host-bound ones.
//!
//! Prints `fast vs raw wasmtime` (kernel-run time of soru-fast ÷ raw
//! wasmtime's; lower is better) and `fast speedup vs pvm` (PVM level time ÷
//! soru-fast level time) per kernel and as geometric means, and the number
//! of fallbacks to the PVM. soru-fast must also reach the PVM's state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use soru_fast::baseline::RawKernel;
use soru_fast::{FastEngine, Handled, NoReveals, RevealOracle};
use soru_pvm::{Input, InputRequest, Pvm};

use super::pvm::{compute_messages, inputs, tx_messages};

const COMPUTE: &[u8] = include_bytes!("../../../../kernels/wasm/compute.wasm");
const TX: &[u8] = include_bytes!("../../../../kernels/wasm/tx.wasm");
const DURABLE_HEAVY: &[u8] = include_bytes!("../../../../kernels/wasm/durable-heavy.wasm");
const ECHO: &[u8] = include_bytes!("../../../../kernels/wasm/echo.wasm");

/// External messages of the full inbox `echo` reads: one L1 block's worth of
/// manager operations (512 KiB) in 128-byte messages.
const FULL_INBOX_MESSAGES: usize = 4096;
const FULL_INBOX_MESSAGE_BYTES: usize = 128;

/// Whose host functions the raw-wasmtime baseline calls.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BaselineHost {
    /// Do-nothing host functions (CPU-bound kernels).
    NoOp,
    /// The PVM's (kernels whose work is in the host).
    Pvm,
}

struct Scenario {
    name: &'static str,
    kernel: &'static [u8],
    messages: Vec<Vec<u8>>,
    host: BaselineHost,
}

fn scenarios(quick: bool) -> Vec<Scenario> {
    let mut compute = compute_messages();
    let mut tx = tx_messages();
    let heavy_count = if quick { 4 } else { 20 };
    let echo_count = if quick { 512 } else { FULL_INBOX_MESSAGES };
    if quick {
        compute.truncate(1);
        tx.truncate(20);
    }
    vec![
        Scenario {
            name: "compute",
            kernel: COMPUTE,
            messages: compute,
            host: BaselineHost::NoOp,
        },
        Scenario {
            name: "tx",
            kernel: TX,
            messages: tx,
            host: BaselineHost::NoOp,
        },
        Scenario {
            name: "durable-heavy",
            kernel: DURABLE_HEAVY,
            messages: (0..heavy_count as u32).map(|i| i.to_le_bytes().to_vec()).collect(),
            host: BaselineHost::Pvm,
        },
        Scenario {
            name: "echo (full inbox)",
            kernel: ECHO,
            messages: (0..echo_count)
                .map(|i| (0..FULL_INBOX_MESSAGE_BYTES).map(|j| (i * 31 + j) as u8).collect())
                .collect(),
            host: BaselineHost::Pvm,
        },
    ]
}

/// A PVM with the kernel installed and the level's inputs set.
fn fresh_pvm(kernel: &[u8], level: &[Input]) -> Result<Pvm> {
    let mut pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), kernel)?;
    for input in level {
        pvm.set_input(input.clone())?;
    }
    Ok(pvm)
}

/// The level on the PVM alone: its time and the PVM.
fn pvm_level(kernel: &[u8], level: &[Input]) -> Result<(Duration, Pvm)> {
    let mut pvm = fresh_pvm(kernel, level)?;
    let started = Instant::now();
    pvm.run_until_input(u128::MAX)?;
    Ok((started.elapsed(), pvm))
}

/// The level with soru-fast: level time, time in the fast engine's kernel
/// runs, and the PVM.
fn fast_level(engine: &mut FastEngine, kernel: &[u8], level: &[Input]) -> Result<(Duration, Duration, Pvm)> {
    let oracle: Arc<dyn RevealOracle> = Arc::new(NoReveals);
    let mut pvm = fresh_pvm(kernel, level)?;
    let mut in_runs = Duration::ZERO;
    let started = Instant::now();
    while pvm.input_request() == InputRequest::NoInputRequired {
        if pvm.kernel_load()?.is_some() {
            let run_started = Instant::now();
            let handled = engine.take_kernel_load(&mut pvm, &oracle)?;
            in_runs += run_started.elapsed();
            if handled != Handled::Declined {
                continue;
            }
        }
        pvm.run_to_kernel_load(u128::MAX)?;
    }
    Ok((started.elapsed(), in_runs, pvm))
}

/// The level's kernel run on raw wasmtime.
fn raw_run(raw: &RawKernel, scenario: &Scenario, level: &[Input]) -> Result<Duration> {
    let run = match scenario.host {
        BaselineHost::NoOp => raw.run_no_op(level)?,
        BaselineHost::Pvm => {
            let mut pvm = fresh_pvm(scenario.kernel, level)?;
            pvm.run_to_kernel_load(u128::MAX)?;
            let oracle: Arc<dyn RevealOracle> = Arc::new(NoReveals);
            raw.run_on_pvm(&mut pvm, &oracle)?
        }
    };
    if !run.returned {
        bail!("{}: kernel_run trapped on raw wasmtime", scenario.name);
    }
    Ok(run.elapsed)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Runs the scenario and returns the report lines. `repeats` runs of
/// soru-fast and raw wasmtime each (the best is kept); the PVM runs once.
pub fn run(quick: bool, repeats: u32) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let (mut vs_raw, mut vs_pvm) = (Vec::new(), Vec::new());
    let mut fallbacks = 0;
    for scenario in scenarios(quick) {
        let level = inputs(1, &scenario.messages);
        let (pvm_time, reference) = pvm_level(scenario.kernel, &level)?;
        let pvm_ticks = reference.current_tick();
        let kernel_ticks = reference.stats().interpreter_ticks;

        let mut engine = FastEngine::new()?;
        // The first run compiles the kernel and profiles its load.
        let (_, _, warm) = fast_level(&mut engine, scenario.kernel, &level)?;
        let compile = engine.compile_time();
        if warm.state_hash()? != reference.state_hash()? || warm.current_tick() != pvm_ticks {
            bail!("{}: soru-fast and the PVM disagree", scenario.name);
        }
        let compile_started = Instant::now();
        let raw = RawKernel::compile(scenario.kernel)?;
        let raw_compile = compile_started.elapsed();
        // soru-fast and raw wasmtime alternate, so that a slow spell of the
        // machine hits both.
        let (mut fast_time, mut fast_runs, mut raw_time) = (Duration::MAX, Duration::MAX, Duration::MAX);
        for _ in 0..repeats.max(1) {
            let (total, in_runs, pvm) = fast_level(&mut engine, scenario.kernel, &level)?;
            if pvm.state_hash()? != reference.state_hash()? {
                bail!("{}: soru-fast and the PVM disagree", scenario.name);
            }
            fast_time = fast_time.min(total);
            fast_runs = fast_runs.min(in_runs);
            raw_time = raw_time.min(raw_run(&raw, &scenario, &level)?);
        }
        let stats = engine.stats();
        fallbacks += stats.fallbacks;

        let r1 = fast_runs.as_secs_f64() / raw_time.as_secs_f64();
        let r2 = pvm_time.as_secs_f64() / fast_time.as_secs_f64();
        vs_raw.push(r1);
        vs_pvm.push(r2);
        let host = match scenario.host {
            BaselineHost::NoOp => "no-op host",
            BaselineHost::Pvm => "PVM host",
        };
        lines.push(format!(
            "{}: {} inputs, {kernel_ticks} kernel ticks; pvm {}; soru-fast level {} (kernel runs {}, fallbacks {}); raw wasmtime ({host}) {}; compile: soru-fast {}, raw {}",
            scenario.name,
            level.len(),
            ms(pvm_time),
            ms(fast_time),
            ms(fast_runs),
            stats.fallbacks,
            ms(raw_time),
            ms(compile),
            ms(raw_compile),
        ));
        lines.push(format!("  fast vs raw wasmtime: {r1:.2}"));
        lines.push(format!("  fast speedup vs pvm: {r2:.1}"));
    }
    lines.push(format!(
        "fast vs raw wasmtime (geometric mean): {:.2}",
        super::geometric_mean(&vs_raw)
    ));
    lines.push(format!(
        "fast speedup vs pvm (geometric mean): {:.1}",
        super::geometric_mean(&vs_pvm)
    ));
    lines.push(format!("PVM fallbacks: {fallbacks}"));
    Ok(lines)
}
