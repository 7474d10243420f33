//! One `kernel_run` on wasmtime: instantiation, the host functions (the
//! PVM's own, through [`KernelRun::host_call`]), and the mapping of how the
//! run ended to the PVM's outcome.

use std::sync::Arc;

use soru_pvm::host::HostFn;
use soru_pvm::kernel_run::{HostCallOutcome, KernelMemory, KernelRun, KernelRunEnd};
use soru_pvm::{PvmError, RevealRequest};
use soru_wasm::types::ValType as SoruValType;
use wasmtime::{Caller, Engine, FuncType, Global, InstancePre, Linker, Memory, Store, Trap, Val, ValType};

use crate::instrument::{self, exit, Metering};
use crate::FastError;

/// Where reveal data comes from during a fast run.
pub trait RevealOracle: Send + Sync {
    /// The data for `request` (a preimage, or the rollup's metadata), or
    /// `None` if it is not available (the run then goes back to the PVM,
    /// which waits for it).
    fn reveal(&self, request: &RevealRequest) -> Option<Vec<u8>>;
}

/// No reveal data at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReveals;

impl RevealOracle for NoReveals {
    fn reveal(&self, _: &RevealRequest) -> Option<Vec<u8>> {
        None
    }
}

/// The most parameters a host function has.
const MAX_HOST_ARGS: usize = 6;

/// The store's data during a run.
pub(crate) struct RunState {
    run: Box<KernelRun>,
    memory: Option<Memory>,
    ticks: Ticks,
    oracle: Arc<dyn RevealOracle>,
    limits: Limits,
}

/// How host calls are charged.
#[derive(Clone, Copy)]
enum Ticks {
    /// Instantiating: the kernel's start function may not call the host.
    NotYet,
    /// From the instrumented module's tick counter.
    Counted(Global),
    /// Not at all: the uninstrumented baseline of the benchmarks.
    Uncounted,
}

/// Why a host function stopped the run.
#[derive(Debug, thiserror::Error)]
enum HostStop {
    /// A host call cost more ticks than were left.
    #[error("too many ticks")]
    TooManyTicks,
    /// The run cannot go on here: the PVM must run it.
    #[error("back to the PVM: {0}")]
    Abandon(String),
    /// The PVM's state failed.
    #[error("PVM: {0}")]
    Pvm(PvmError),
}

/// How a fast run ended.
#[derive(Debug)]
pub(crate) enum RunResult {
    /// As the PVM would have ended it.
    Done(KernelRunEnd),
    /// Coarse metering cannot tell how the run ended (a trap inside a
    /// segment charged whole, or a segment crossing the tick limit where an
    /// instruction could trap): run again with precise metering.
    NeedsPrecise,
    /// Not decidable here (the reason): the PVM must run it.
    Abandoned(String),
}

/// The PVM's growth limits: memory up to 4 GiB (and the declared maximum,
/// which wasmtime enforces), tables up to `soru_wasm::limits::MAX_TABLE_ELEMS`.
struct Limits;

impl wasmtime::ResourceLimiter for Limits {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let cap = soru_wasm::limits::MAX_MEMORY_PAGES * 65_536;
        Ok(desired as u64 <= cap && maximum.is_none_or(|m| desired <= m))
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let cap = soru_wasm::limits::MAX_TABLE_ELEMS as usize;
        Ok(desired <= cap && maximum.is_none_or(|m| desired <= m))
    }
}

/// Defines every host function of PVM version `version` in `linker`, typed
/// as the PVM types them: `call(caller, f, args)` runs `f` with its
/// arguments zero-extended to `u64` and returns its result, if any.
pub(crate) fn define_host_fns<T: 'static>(
    linker: &mut Linker<T>,
    engine: &Engine,
    version: u8,
    call: impl Fn(&mut Caller<'_, T>, HostFn, &[u64]) -> Result<Option<u64>, wasmtime::Error>
        + Clone
        + Send
        + Sync
        + 'static,
) -> Result<(), FastError> {
    for f in host_fns(version) {
        let sig = f.signature();
        if sig.params.len() > MAX_HOST_ARGS {
            return Err(FastError::Engine(format!(
                "{} takes {} arguments",
                f.name(),
                sig.params.len()
            )));
        }
        let ty = FuncType::new(
            engine,
            sig.params.iter().map(|&t| val_type(t)),
            sig.results.iter().map(|&t| val_type(t)),
        );
        let wide_result = sig.results.first() == Some(&SoruValType::I64);
        let call = call.clone();
        linker
            .func_new(
                soru_pvm::host::HOST_MODULE,
                f.name(),
                ty,
                move |mut caller, params, results| {
                    // At most MAX_HOST_ARGS (checked above): no allocation per call.
                    let mut args = [0u64; MAX_HOST_ARGS];
                    for (slot, v) in args.iter_mut().zip(params) {
                        *slot = match v {
                            Val::I32(x) => u64::from(*x as u32),
                            Val::I64(x) => *x as u64,
                            _ => 0,
                        };
                    }
                    let result = call(&mut caller, f, &args[..params.len().min(MAX_HOST_ARGS)])?;
                    if let (Some(value), Some(slot)) = (result, results.first_mut()) {
                        *slot = if wide_result {
                            Val::I64(value as i64)
                        } else {
                            Val::I32(value as u32 as i32)
                        };
                    }
                    Ok(())
                },
            )
            .map_err(|e| FastError::Engine(e.to_string()))?;
    }
    Ok(())
}

/// A linker with every host function of PVM version `version`: the PVM's own.
pub(crate) fn linker(engine: &Engine, version: u8) -> Result<Linker<RunState>, FastError> {
    let mut linker = Linker::new(engine);
    define_host_fns(&mut linker, engine, version, |caller, f, args| {
        host_call(caller, f, args).map_err(wasmtime::Error::new)
    })?;
    Ok(linker)
}

/// The host functions of PVM version `version`.
fn host_fns(version: u8) -> impl Iterator<Item = HostFn> {
    [
        HostFn::ReadInput,
        HostFn::WriteOutput,
        HostFn::WriteDebug,
        HostFn::StoreHas,
        HostFn::StoreListSize,
        HostFn::StoreGetNthKey,
        HostFn::StoreDelete,
        HostFn::StoreDeleteValue,
        HostFn::StoreCopy,
        HostFn::StoreMove,
        HostFn::StoreValueSize,
        HostFn::StoreRead,
        HostFn::StoreWrite,
        HostFn::StoreCreate,
        HostFn::StoreExists,
        HostFn::StoreGetHash,
        HostFn::RevealPreimage,
        HostFn::RevealMetadata,
        HostFn::Reveal,
    ]
    .into_iter()
    .chain((0..11).map(HostFn::Nds))
    .filter(move |f| HostFn::lookup(f.name(), version) == Some(*f))
}

fn val_type(t: SoruValType) -> ValType {
    match t {
        SoruValType::I64 => ValType::I64,
        // Host functions take and return only i32 and i64.
        _ => ValType::I32,
    }
}

/// The kernel's memory as wasmtime holds it.
struct SliceMemory<'a>(&'a mut [u8]);

impl KernelMemory for SliceMemory<'_> {
    fn size(&mut self) -> Option<u64> {
        Some(self.0.len() as u64)
    }
    fn read(&mut self, ptr: u32, len: u32) -> Vec<u8> {
        self.0[ptr as usize..ptr as usize + len as usize].to_vec()
    }
    fn write(&mut self, ptr: u32, bytes: &[u8]) {
        self.0[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
    }
}

/// A kernel without memory.
struct NoMemory;

impl KernelMemory for NoMemory {
    fn size(&mut self) -> Option<u64> {
        None
    }
    fn read(&mut self, _: u32, _: u32) -> Vec<u8> {
        Vec::new()
    }
    fn write(&mut self, _: u32, _: &[u8]) {}
}

fn with_memory<R>(caller: &mut Caller<'_, RunState>, f: impl FnOnce(&mut KernelRun, &mut dyn KernelMemory) -> R) -> R {
    match caller.data().memory {
        Some(memory) => {
            let (data, state) = memory.data_and_store_mut(caller);
            f(&mut state.run, &mut SliceMemory(data))
        }
        None => f(&mut caller.data_mut().run, &mut NoMemory),
    }
}

fn host_call(caller: &mut Caller<'_, RunState>, f: HostFn, args: &[u64]) -> Result<Option<u64>, HostStop> {
    let ticks = caller.data().ticks;
    if let Ticks::NotYet = ticks {
        // The start function may not call the host: the load profile says
        // the load fails, so this cannot happen on a run the PVM agreed to.
        return Err(HostStop::Abandon("a host call during instantiation".into()));
    }
    let outcome = with_memory(caller, |run, memory| run.host_call(memory, f, args)).map_err(HostStop::Pvm)?;
    let (result, cost) = match outcome {
        HostCallOutcome::Done { result, cost } => (result, cost),
        HostCallOutcome::Reveal(call) => {
            let oracle = caller.data().oracle.clone();
            let Some(data) = oracle.reveal(call.request()) else {
                return Err(HostStop::Abandon(format!("no data for {:?}", call.request())));
            };
            let (result, cost) = with_memory(caller, |run, memory| run.answer_reveal(memory, &call, &data))
                .map_err(|e| HostStop::Abandon(format!("reveal data refused: {e}")))?;
            (Some(result), cost)
        }
    };
    if let Ticks::Counted(ticks) = ticks {
        charge(caller, ticks, cost)?;
    }
    Ok(result)
}

/// Spends `cost` ticks after a host call; more than are left ends the cycle
/// with the kernel still running (the call's effects stand).
fn charge(caller: &mut Caller<'_, RunState>, ticks: Global, cost: u128) -> Result<(), HostStop> {
    let left = ticks.get(&mut *caller).unwrap_i64();
    if cost > left.max(0) as u128 {
        return Err(HostStop::TooManyTicks);
    }
    ticks
        .set(&mut *caller, Val::I64(left - cost as i64))
        .map_err(|e| HostStop::Abandon(e.to_string()))
}

/// The exported global `name` of the instrumented module.
fn global(instance: &wasmtime::Instance, store: &mut Store<RunState>, name: &str) -> Result<Global, FastError> {
    instance
        .get_global(&mut *store, name)
        .ok_or_else(|| FastError::Engine(format!("instrumented module lacks {name:?}")))
}

/// A store for one run, with the PVM's growth limits.
fn new_store(pre: &InstancePre<RunState>, run: Box<KernelRun>, oracle: Arc<dyn RevealOracle>) -> Store<RunState> {
    let mut store = Store::new(
        pre.module().engine(),
        RunState {
            run,
            memory: None,
            ticks: Ticks::NotYet,
            oracle,
            limits: Limits,
        },
    );
    store.limiter(|s| &mut s.limits);
    store
}

/// Runs `kernel_run` of the kernel `pre` instantiates (metered as
/// `metering` says) against `run`. Returns the world back with the result.
pub(crate) fn run_kernel(
    pre: &InstancePre<RunState>,
    metering: Metering,
    run: Box<KernelRun>,
    oracle: Arc<dyn RevealOracle>,
) -> Result<(Box<KernelRun>, RunResult), FastError> {
    let budget = i64::try_from(run.budget()).unwrap_or(i64::MAX);
    let mut store = new_store(pre, run, oracle);
    let instance = match pre.instantiate(&mut store) {
        Ok(instance) => instance,
        Err(e) => {
            let reason = format!("instantiation failed where the PVM's did not: {e}");
            return Ok((store.into_data().run, RunResult::Abandoned(reason)));
        }
    };
    let ticks = global(&instance, &mut store, instrument::TICKS_EXPORT)?;
    let exit_code = global(&instance, &mut store, instrument::EXIT_EXPORT)?;
    for name in [instrument::SP_EXPORT, instrument::DEPTH_EXPORT] {
        global(&instance, &mut store, name)?
            .set(&mut store, Val::I32(0))
            .map_err(|e| FastError::Engine(e.to_string()))?;
    }
    ticks
        .set(&mut store, Val::I64(budget))
        .map_err(|e| FastError::Engine(e.to_string()))?;
    let memory = instance.get_memory(&mut store, "memory");
    store.data_mut().memory = memory;
    store.data_mut().ticks = Ticks::Counted(ticks);
    let entry = instance
        .get_typed_func::<(), ()>(&mut store, "kernel_run")
        .map_err(|e| FastError::Engine(format!("kernel_run: {e}")))?;
    let outcome = entry.call(&mut store, ());
    let left = ticks.get(&mut store).unwrap_i64();
    let used = (budget - left).max(0) as u128;
    let result = match outcome {
        Ok(()) => RunResult::Done(KernelRunEnd::Returned { ticks: used }),
        Err(e) => match e.downcast_ref::<HostStop>() {
            Some(HostStop::TooManyTicks) => RunResult::Done(KernelRunEnd::TooManyTicks),
            Some(HostStop::Abandon(reason)) => RunResult::Abandoned(reason.clone()),
            Some(HostStop::Pvm(err)) => return Err(FastError::Pvm(err.clone())),
            None => match exit_code.get(&mut store).unwrap_i32() {
                exit::TOO_MANY_TICKS => RunResult::Done(KernelRunEnd::TooManyTicks),
                exit::CROSSES_LIMIT => RunResult::NeedsPrecise,
                exit::EXHAUSTED => RunResult::Done(KernelRunEnd::Exhausted { ticks: used }),
                _ => trap_result(&e, metering, used),
            },
        },
    };
    Ok((store.into_data().run, result))
}

/// A genuine trap. Precisely metered, every instruction that can trap is
/// alone in its segment, so the ticks charged are exactly the ticks run,
/// the trapping instruction's included. Coarsely metered, the trapping
/// segment was charged whole: run again precisely (compiled code's trap
/// locations are not exact enough to count from).
fn trap_result(e: &wasmtime::Error, metering: Metering, used: u128) -> RunResult {
    match e.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => RunResult::Abandoned("native stack overflow".into()),
        Some(_) if metering == Metering::Precise => RunResult::Done(KernelRunEnd::Trapped { ticks: used }),
        Some(_) => RunResult::NeedsPrecise,
        None => RunResult::Abandoned(format!("the run failed: {e}")),
    }
}

/// Runs `kernel_run` of an uninstrumented kernel against `run`, the host
/// functions charging nothing: the benchmarks' "raw wasmtime with the same
/// host functions". Returns the world and whether the run returned.
pub(crate) fn run_uncounted(
    pre: &InstancePre<RunState>,
    run: Box<KernelRun>,
    oracle: Arc<dyn RevealOracle>,
) -> Result<(Box<KernelRun>, bool), FastError> {
    let mut store = new_store(pre, run, oracle);
    let instance = pre
        .instantiate(&mut store)
        .map_err(|e| FastError::Engine(format!("instantiating: {e}")))?;
    let memory = instance.get_memory(&mut store, "memory");
    store.data_mut().memory = memory;
    store.data_mut().ticks = Ticks::Uncounted;
    let entry = instance
        .get_typed_func::<(), ()>(&mut store, "kernel_run")
        .map_err(|e| FastError::Engine(format!("kernel_run: {e}")))?;
    let returned = entry.call(&mut store, ()).is_ok();
    Ok((store.into_data().run, returned))
}
