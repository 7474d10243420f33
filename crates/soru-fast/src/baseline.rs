//! The benchmarks' baseline: a kernel's `kernel_run` compiled by wasmtime
//! as it is — not instrumented, no tick counting, no stack accounting — on
//! the same engine configuration as soru-fast. `soru bench fast` measures
//! the fast engine against it, with either do-nothing host functions (for
//! CPU-bound kernels) or the PVM's own (for kernels whose work is in the
//! host). Nothing here is used to run a rollup.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use soru_pvm::host::HostFn;
use soru_pvm::kernel_run::{self, TakeOver};
use soru_pvm::{Input, Pvm};
use wasmtime::{Caller, Engine, Linker, Memory, Module, Store};

use crate::engine::{config, run_on_big_stack};
use crate::run::{self, RevealOracle};
use crate::FastError;

/// A kernel compiled by wasmtime without instrumentation.
pub struct RawKernel {
    engine: Engine,
    module: Module,
}

impl std::fmt::Debug for RawKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawKernel").finish_non_exhaustive()
    }
}

/// How a baseline run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRun {
    /// `kernel_run` returned (rather than trapped).
    pub returned: bool,
    /// From instantiation to the end of `kernel_run`.
    pub elapsed: Duration,
}

/// The store's data of a do-nothing-host run.
struct NoOpHost {
    inputs: VecDeque<Input>,
    memory: Option<Memory>,
}

impl RawKernel {
    /// Compiles `kernel` as it is.
    pub fn compile(kernel: &[u8]) -> Result<Self, FastError> {
        let engine = Engine::new(&config()).map_err(|e| FastError::Engine(e.to_string()))?;
        let module = Module::new(&engine, kernel).map_err(|e| FastError::Engine(format!("compiling: {e}")))?;
        Ok(Self { engine, module })
    }

    /// Runs `kernel_run` once with host functions that do nothing but hand
    /// out `inputs` in order (`read_input`): durable reads find nothing,
    /// writes and outputs are dropped.
    pub fn run_no_op(&self, inputs: &[Input]) -> Result<RawRun, FastError> {
        let mut linker: Linker<NoOpHost> = Linker::new(&self.engine);
        let latest = (soru_pvm::host::VERSIONS.len() - 1) as u8;
        run::define_host_fns(&mut linker, &self.engine, latest, |caller, f, args| {
            Ok(no_op_call(caller, f, args))
        })?;
        let pre = linker
            .instantiate_pre(&self.module)
            .map_err(|e| FastError::Engine(format!("linking: {e}")))?;
        let inputs: VecDeque<Input> = inputs.iter().cloned().collect();
        run_on_big_stack(move || {
            let started = Instant::now();
            let mut store = Store::new(&self.engine, NoOpHost { inputs, memory: None });
            let instance = pre
                .instantiate(&mut store)
                .map_err(|e| FastError::Engine(format!("instantiating: {e}")))?;
            store.data_mut().memory = instance.get_memory(&mut store, "memory");
            let entry = instance
                .get_typed_func::<(), ()>(&mut store, "kernel_run")
                .map_err(|e| FastError::Engine(format!("kernel_run: {e}")))?;
            let returned = entry.call(&mut store, ()).is_ok();
            Ok(RawRun {
                returned,
                elapsed: started.elapsed(),
            })
        })?
    }

    /// Runs `kernel_run` once against the world of the kernel load `pvm`
    /// is at, with the PVM's own host functions (their effects on durable
    /// storage, inbox and outbox happen; their ticks are not counted). The
    /// PVM is left at a state of no use: take a copy.
    pub fn run_on_pvm(&self, pvm: &mut Pvm, oracle: &Arc<dyn RevealOracle>) -> Result<RawRun, FastError> {
        let load = pvm
            .kernel_load()?
            .ok_or_else(|| FastError::Engine("the PVM is not at a kernel load".into()))?;
        let kernel = pvm.kernel_bytes()?.ok_or(FastError::NoKernel)?;
        let profile = kernel_run::load_profile(&kernel, load.version, pvm.ticks_per_snapshot())?
            .ok_or_else(|| FastError::Engine("the kernel does not load".into()))?;
        let TakeOver::Run(world) = pvm.take_kernel_run(&load, &profile)? else {
            return Err(FastError::Engine("the PVM would not hand over the kernel run".into()));
        };
        let pre = run::linker(&self.engine, load.version)?
            .instantiate_pre(&self.module)
            .map_err(|e| FastError::Engine(format!("linking: {e}")))?;
        let oracle = oracle.clone();
        run_on_big_stack(move || {
            let started = Instant::now();
            let (_, returned) = run::run_uncounted(&pre, world, oracle)?;
            Ok(RawRun {
                returned,
                elapsed: started.elapsed(),
            })
        })?
    }
}

fn no_op_call(caller: &mut Caller<'_, NoOpHost>, f: HostFn, args: &[u64]) -> Option<u64> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32 as usize;
    let result = match f {
        HostFn::ReadInput => match caller.data_mut().inputs.pop_front() {
            Some(input) => {
                let (info, dst, max) = (arg(0), arg(1), arg(2));
                let n = input.payload.len().min(max);
                if let Some(memory) = caller.data().memory {
                    let data = memory.data_mut(&mut *caller);
                    let mut header = input.level.to_le_bytes().to_vec();
                    header.extend_from_slice(&(input.counter as u32).to_le_bytes());
                    if let Some(slot) = data.get_mut(info..info + 8) {
                        slot.copy_from_slice(&header);
                    }
                    if let Some(slot) = data.get_mut(dst..dst + n) {
                        slot.copy_from_slice(&input.payload[..n]);
                    }
                }
                n as i32
            }
            None => 0,
        },
        HostFn::WriteDebug => return None,
        HostFn::StoreValueSize | HostFn::StoreRead => soru_pvm::host::code::NOT_A_VALUE,
        _ => 0,
    };
    // Results are i32 (sign-extended for the i64 ones), as the PVM returns them.
    Some(i64::from(result) as u64)
}
