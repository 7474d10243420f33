//! The engine: wasmtime configured deterministically, the per-kernel caches
//! (load profile, instrumented and compiled module) and the cycle glue that
//! lets the PVM do everything but `kernel_run`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use soru_pvm::kernel_run::{KernelLoad, LoadProfile, TakeOver};
use soru_pvm::{InputRequest, Pvm};
use wasmtime::{Config, Engine, InstancePre, Module, OptLevel};

use crate::cache::{Lookup, ModuleCache};
use crate::instrument::{self, Metering};
use crate::run::{self, RevealOracle, RunResult, RunState};
use crate::FastError;

/// Native stack of the thread a kernel runs on, and how much of it compiled
/// code may use: enough for the PVM's 60 000 frames of ordinary functions;
/// a deeper native stack need is a fallback to the PVM, not an error.
const RUN_THREAD_STACK: usize = 768 << 20;
const MAX_WASM_STACK: usize = 640 << 20;

/// Kernels whose instrumented code is larger are not compiled (they run on
/// the PVM): compile time is roughly linear in code size, and this bounds
/// what a hostile kernel can make a node spend (with
/// [`crate::MAX_FUNCTION_BODY_BYTES`] per function, where it is not linear).
pub const MAX_COMPILED_MODULE_BYTES: usize = 64 << 20;

/// What [`FastEngine::take_kernel_load`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// `kernel_run` ran here and is committed.
    Fast,
    /// The kernel does not load; the failure is applied.
    LoadFailed,
    /// Left to the PVM (no load at hand, a load too long for the cycle, a
    /// kernel that cannot be compiled, or a fallback).
    Declined,
}

/// Counters of what the engine did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FastStats {
    /// `kernel_run`s run on wasmtime and committed.
    pub fast_runs: u64,
    /// Kernel loads that fail, applied without running the PVM's loader.
    pub load_failures: u64,
    /// Runs abandoned and re-run on the PVM (DESIGN.md §5).
    pub fallbacks: u64,
    /// Cycles run on the PVM because the kernel cannot be compiled, or its
    /// load does not fit in the cycle.
    pub pvm_cycles: u64,
    /// Kernels compiled.
    pub compiled: u64,
    /// Runs repeated with precise metering to decide how they end at the
    /// tick limit.
    pub precise_reruns: u64,
    /// Compiled kernels loaded from the on-disk cache.
    pub cache_hits: u64,
    /// Cached artifacts refused (hash mismatch, not deserializable) and
    /// compiled again.
    pub cache_rejected: u64,
    /// Cache reads or writes that failed (the kernel was compiled anyway).
    pub cache_errors: u64,
}

impl FastStats {
    /// What happened since `earlier` (counters of the same engine).
    pub fn since(&self, earlier: &FastStats) -> FastStats {
        FastStats {
            fast_runs: self.fast_runs - earlier.fast_runs,
            load_failures: self.load_failures - earlier.load_failures,
            fallbacks: self.fallbacks - earlier.fallbacks,
            pvm_cycles: self.pvm_cycles - earlier.pvm_cycles,
            compiled: self.compiled - earlier.compiled,
            precise_reruns: self.precise_reruns - earlier.precise_reruns,
            cache_hits: self.cache_hits - earlier.cache_hits,
            cache_rejected: self.cache_rejected - earlier.cache_rejected,
            cache_errors: self.cache_errors - earlier.cache_errors,
        }
    }
}

struct CompiledKernel {
    original: Arc<[u8]>,
    /// Per metering: the compiled module (precise on first need).
    modules: HashMap<Metering, Module>,
    /// Per PVM version and metering: the module with that version's host
    /// functions.
    instances: HashMap<(u8, Metering), InstancePre<RunState>>,
}

/// soru's fast execution engine.
pub struct FastEngine {
    engine: Engine,
    profiles: HashMap<([u8; 32], u8, u128), Option<LoadProfile>>,
    /// Per kernel: compiled, or why it runs on the PVM.
    kernels: HashMap<[u8; 32], Result<CompiledKernel, String>>,
    stats: FastStats,
    compile_time: Duration,
    last_fallback: Option<String>,
    cache: Option<ModuleCache>,
    last_cache_problem: Option<String>,
}

impl std::fmt::Debug for FastEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastEngine")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// wasmtime with exactly the PVM's WebAssembly: 2.0 without SIMD, no
/// threads, tail calls, multi-memory, memory64, extended constants,
/// function references or GC; NaNs canonicalised (kernels have no floats,
/// but nothing is left to the platform).
pub(crate) fn config() -> Config {
    let mut c = Config::new();
    c.wasm_bulk_memory(true)
        .wasm_multi_value(true)
        .wasm_reference_types(true)
        .wasm_simd(false)
        .wasm_relaxed_simd(false)
        .wasm_tail_call(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .wasm_extended_const(false)
        .wasm_function_references(false)
        .wasm_gc(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false)
        .wasm_exceptions(false)
        .wasm_stack_switching(false)
        .cranelift_nan_canonicalization(true)
        .cranelift_opt_level(OptLevel::Speed)
        .async_stack_size(MAX_WASM_STACK)
        .max_wasm_stack(MAX_WASM_STACK);
    c
}

impl FastEngine {
    /// A new engine with empty caches.
    pub fn new() -> Result<Self, FastError> {
        Ok(Self {
            engine: Engine::new(&config()).map_err(|e| FastError::Engine(e.to_string()))?,
            profiles: HashMap::new(),
            kernels: HashMap::new(),
            stats: FastStats::default(),
            compile_time: Duration::ZERO,
            last_fallback: None,
            cache: None,
            last_cache_problem: None,
        })
    }

    /// Keeps compiled kernels in `cache` too, and looks there before
    /// compiling.
    pub fn with_cache(mut self, cache: ModuleCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The last cache failure or refused artifact, if any.
    pub fn last_cache_problem(&self) -> Option<&str> {
        self.last_cache_problem.as_deref()
    }

    /// What the engine did so far.
    pub fn stats(&self) -> FastStats {
        self.stats
    }

    /// Time spent instrumenting and compiling kernels.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// Why the last fallback to the PVM happened.
    pub fn last_fallback(&self) -> Option<&str> {
        self.last_fallback.as_deref()
    }

    /// Runs `pvm` until it waits for an input (or for reveal data `oracle`
    /// lacks): the PVM for every tick but `kernel_run`s, which run here.
    pub fn run_until_input(&mut self, pvm: &mut Pvm, oracle: &Arc<dyn RevealOracle>) -> Result<(), FastError> {
        loop {
            match pvm.input_request() {
                InputRequest::NoInputRequired => {}
                InputRequest::Reveal(request) => match oracle.reveal(&request) {
                    Some(data) => {
                        pvm.reveal(&data)?;
                        continue;
                    }
                    None => return Ok(()),
                },
                _ => return Ok(()),
            }
            if let Some(load) = pvm.kernel_load()? {
                if self.take(pvm, load, oracle)? != Handled::Declined {
                    continue;
                }
                self.stats.pvm_cycles += 1;
            }
            pvm.run_to_kernel_load(u128::MAX)?;
        }
    }

    /// Takes over the kernel load the PVM is at (phase Snapshot) and its
    /// `kernel_run`: afterwards the PVM is where running them would have
    /// left it, or, [`Handled::Declined`], as it was, to run them itself.
    pub fn take_kernel_load(&mut self, pvm: &mut Pvm, oracle: &Arc<dyn RevealOracle>) -> Result<Handled, FastError> {
        match pvm.kernel_load()? {
            Some(load) => self.take(pvm, load, oracle),
            None => Ok(Handled::Declined),
        }
    }

    fn take(&mut self, pvm: &mut Pvm, load: KernelLoad, oracle: &Arc<dyn RevealOracle>) -> Result<Handled, FastError> {
        let cycle = pvm.ticks_per_snapshot();
        let key = (load.kernel_id, load.version, cycle);
        let profile = match self.profiles.entry(key) {
            std::collections::hash_map::Entry::Occupied(known) => known.get().clone(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let kernel = pvm.kernel_bytes()?.ok_or(FastError::NoKernel)?;
                let profile = soru_pvm::kernel_run::load_profile(&kernel, load.version, cycle)?;
                slot.insert(profile).clone()
            }
        };
        let Some(profile) = profile else {
            return Ok(Handled::Declined);
        };
        let run = match pvm.take_kernel_run(&load, &profile)? {
            TakeOver::NotTaken => return Ok(Handled::Declined),
            TakeOver::LoadFailed => {
                self.stats.load_failures += 1;
                return Ok(Handled::LoadFailed);
            }
            TakeOver::Run(run) => run,
        };
        let Some(instance) = self.instance(pvm, load.kernel_id, load.version, Metering::Coarse)? else {
            return Ok(Handled::Declined);
        };
        let start = run.clone();
        let (mut run, mut result) =
            run_on_big_stack(|| run::run_kernel(&instance, Metering::Coarse, run, oracle.clone()))??;
        if matches!(result, RunResult::NeedsPrecise) {
            // Coarse metering cannot tell exactly how the run ended: the
            // same run again, from the same world, precisely metered.
            self.stats.precise_reruns += 1;
            let Some(precise) = self.instance(pvm, load.kernel_id, load.version, Metering::Precise)? else {
                return Ok(Handled::Declined);
            };
            (run, result) = run_on_big_stack(|| run::run_kernel(&precise, Metering::Precise, start, oracle.clone()))??;
        }
        match result {
            RunResult::Done(end) => {
                pvm.finish_kernel_run(*run, end)?;
                self.stats.fast_runs += 1;
                Ok(Handled::Fast)
            }
            RunResult::Abandoned(reason) => {
                self.stats.fallbacks += 1;
                self.last_fallback = Some(reason);
                Ok(Handled::Declined)
            }
            RunResult::NeedsPrecise => {
                self.stats.fallbacks += 1;
                self.last_fallback = Some("precise metering could not decide".into());
                Ok(Handled::Declined)
            }
        }
    }

    /// The kernel compiled and linked for `version`, compiling it on first
    /// use; `None` if it cannot run here.
    fn instance(
        &mut self,
        pvm: &mut Pvm,
        kernel_id: [u8; 32],
        version: u8,
        metering: Metering,
    ) -> Result<Option<InstancePre<RunState>>, FastError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.kernels.entry(kernel_id) {
            let original = pvm.kernel_bytes()?.ok_or(FastError::NoKernel)?;
            slot.insert(Ok(CompiledKernel {
                original,
                modules: HashMap::new(),
                instances: HashMap::new(),
            }));
        }
        let Some(Ok(kernel)) = self.kernels.get_mut(&kernel_id) else {
            return Ok(None);
        };
        if let Some(pre) = kernel.instances.get(&(version, metering)) {
            return Ok(Some(pre.clone()));
        }
        let module = match kernel.modules.get(&metering) {
            Some(module) => Ok(module.clone()),
            None => {
                let cached = match &self.cache {
                    Some(cache) => match cache.load(&self.engine, &kernel_id, metering) {
                        Ok(Lookup::Hit(module)) => Some(module),
                        Ok(Lookup::Miss) => None,
                        Ok(Lookup::Rejected(why)) => {
                            self.stats.cache_rejected += 1;
                            self.last_cache_problem = Some(why);
                            None
                        }
                        Err(e) => {
                            self.stats.cache_errors += 1;
                            self.last_cache_problem = Some(e.to_string());
                            None
                        }
                    },
                    None => None,
                };
                match cached {
                    Some(module) => {
                        self.stats.cache_hits += 1;
                        Ok(module)
                    }
                    None => {
                        let started = Instant::now();
                        let compiled = compile(&self.engine, &kernel.original, metering);
                        self.compile_time += started.elapsed();
                        if let Ok(module) = &compiled {
                            self.stats.compiled += 1;
                            if let Some(cache) = &self.cache {
                                if let Err(e) = cache.save(&self.engine, &kernel_id, metering, module) {
                                    self.stats.cache_errors += 1;
                                    self.last_cache_problem = Some(e.to_string());
                                }
                            }
                        }
                        compiled
                    }
                }
            }
        };
        let linked = module.and_then(|module| {
            kernel.modules.insert(metering, module.clone());
            run::linker(&self.engine, version)
                .map_err(|e| e.to_string())?
                .instantiate_pre(&module)
                .map_err(|e| format!("linking: {e}"))
        });
        match linked {
            Ok(pre) => {
                kernel.instances.insert((version, metering), pre.clone());
                Ok(Some(pre))
            }
            Err(reason) => {
                self.kernels.insert(kernel_id, Err(reason));
                Ok(None)
            }
        }
    }
}

/// Instruments and compiles a kernel.
fn compile(engine: &Engine, original: &[u8], metering: Metering) -> Result<Module, String> {
    let bytes = instrument::instrument(original, metering).map_err(|e| e.to_string())?;
    if bytes.len() > MAX_COMPILED_MODULE_BYTES {
        return Err(format!("instrumented module of {} bytes", bytes.len()));
    }
    Module::new(engine, &bytes).map_err(|e| format!("compiling: {e}"))
}

/// Runs `f` on a thread with a stack deep enough for the PVM's call-depth
/// limit in compiled code.
pub(crate) fn run_on_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> Result<R, FastError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("soru-fast-run".into())
            .stack_size(RUN_THREAD_STACK)
            .spawn_scoped(scope, f)
            .map_err(|e| FastError::Engine(format!("spawning the run thread: {e}")))?
            .join()
            .map_err(|_| FastError::Engine("the run thread panicked".into()))
    })
}
