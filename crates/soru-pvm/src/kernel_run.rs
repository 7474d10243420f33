//! Handing a kernel load and its `kernel_run` to another engine — the fast
//! path of a rollup node (soru-fast, DESIGN.md §5) — and taking the result
//! back, so that the PVM's state afterwards is exactly the state the PVM
//! would have reached alone.
//!
//! The protocol, at the start of a cycle's kernel load (phase Snapshot):
//! 1. [`Pvm::kernel_load`] names the kernel (its tree hash and the PVM
//!    version) and the ticks left in the cycle;
//! 2. the engine gets the kernel's [`LoadProfile`] — the ticks of
//!    Snapshot+Decode+Link+Init and the verdict, computed once per kernel by
//!    running the PVM's own loading code ([`load_profile`]);
//! 3. [`Pvm::take_kernel_run`] applies a failed load at once, or hands out a
//!    [`KernelRun`]: the host world of the run (durable storage, unread
//!    inputs, outbox) and its tick budget. The engine runs the kernel against
//!    it, calling [`KernelRun::host_call`] — the PVM's own host functions —
//!    for every import;
//! 4. [`Pvm::finish_kernel_run`] commits the run: storage, inputs, outbox,
//!    flags, phase and tick counter. Dropping the `KernelRun` instead leaves
//!    the PVM untouched, and the caller runs the cycle on the PVM.

use std::sync::Arc;

use soru_tree::{Tree, TreeAccess};

use crate::durable::{self, tree_path};
use crate::host::HostFn;
use crate::hostcall::{self, HostCallResult, HostMemory, HostWorld};
use crate::pvm::{Input, PendingReveal, Phase, Pvm, PvmError, RevealRequest, StuckReason};

/// A kernel about to be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelLoad {
    /// Tree hash of `/kernel/boot.wasm`: identifies the kernel.
    pub kernel_id: [u8; 32],
    /// PVM version index (which host functions link).
    pub version: u8,
    /// Ticks left in the cycle, the Snapshot tick and the boundary included.
    pub ticks_left: u128,
}

/// How loading one kernel goes, by the PVM's rules: the same for every load
/// of that kernel at that PVM version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProfile {
    /// Ticks from the Snapshot tick to the tick that enters `kernel_run`
    /// (or that fails), both included.
    pub ticks: u128,
    /// Whether the kernel loads.
    pub verdict: LoadVerdict,
}

/// The outcome of loading a kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadVerdict {
    /// `kernel_run` is entered.
    Loaded,
    /// Decoding, linking or initialisation failed.
    Failed(StuckReason),
}

/// Runs the PVM's loading code on `kernel` at `version` in a scratch PVM
/// (start function included). `None` when loading takes `max_ticks` ticks or
/// more: it cannot finish within a cycle of that length.
pub fn load_profile(kernel: &[u8], version: u8, max_ticks: u128) -> Result<Option<LoadProfile>, PvmError> {
    let version_name = crate::host::VERSIONS
        .get(usize::from(version))
        .ok_or_else(|| PvmError::MalformedState(format!("PVM version index {version}")))?;
    let config = crate::PvmConfig {
        // Never reached: the loop below stops at `max_ticks`.
        ticks_per_snapshot: u128::MAX,
        maximum_reboots_per_input: 0,
        outbox_validity_period: 0,
        outbox_message_limit: 0,
    };
    let mut pvm = Pvm::install_boot_sector(&config, kernel)?;
    pvm.durable_write(durable::WASM_VERSION, version_name.as_bytes())?;
    pvm.meta.version = version;
    pvm.phase = Phase::Snapshot;
    loop {
        match &pvm.phase {
            Phase::Eval(e) if e.in_start.is_none() => {
                return Ok(Some(LoadProfile {
                    ticks: pvm.meta.current_tick,
                    verdict: LoadVerdict::Loaded,
                }))
            }
            // No fallback kernel in the scratch PVM: a failure is Stuck.
            Phase::Stuck(reason) => {
                return Ok(Some(LoadProfile {
                    ticks: pvm.meta.current_tick,
                    verdict: LoadVerdict::Failed(reason.clone()),
                }))
            }
            Phase::Eval(e) if e.reveal.is_some() => {
                return Err(PvmError::MalformedState("a start function waiting for a reveal".into()))
            }
            Phase::Collect | Phase::Padding => {
                return Err(PvmError::MalformedState("loading left the load phases".into()))
            }
            _ => {}
        }
        if pvm.meta.current_tick >= max_ticks {
            return Ok(None);
        }
        let budget = max_ticks - pvm.meta.current_tick;
        pvm.advance(budget, &mut soru_wasm::hooks::NoHooks)?;
    }
}

/// What [`Pvm::take_kernel_run`] did.
#[derive(Debug)]
pub enum TakeOver {
    /// The load does not fit in what is left of the cycle: run it on the PVM.
    NotTaken,
    /// The load fails: applied (fallback kernel restored, or stuck).
    LoadFailed,
    /// The kernel loads: run it against this world, then
    /// [`Pvm::finish_kernel_run`].
    Run(Box<KernelRun>),
}

/// How a `kernel_run` taken over by another engine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelRunEnd {
    /// `kernel_run` returned after `ticks` ticks.
    Returned {
        /// Ticks spent (instructions, host-call costs, reveal answers).
        ticks: u128,
    },
    /// The kernel trapped; the trapping instruction was the `ticks`-th tick.
    Trapped {
        /// Ticks spent, the trapping instruction's included.
        ticks: u128,
    },
    /// The call stack or value stack limit was hit by the call at tick `ticks`.
    Exhausted {
        /// Ticks spent, the exhausting call's included.
        ticks: u128,
    },
    /// The cycle ended before `kernel_run` did.
    TooManyTicks,
}

/// The world of one `kernel_run` run by another engine: the state tree
/// (durable storage, outbox), the unread inputs and the debug log, with the
/// tick budget of the run. Host functions are the PVM's own
/// ([`KernelRun::host_call`]). A clone is an O(1) snapshot of the world, to
/// run the same `kernel_run` again.
#[derive(Debug, Clone)]
pub struct KernelRun {
    tree: Tree,
    inputs_head: u64,
    inputs_tail: u64,
    outbox: (Option<u32>, u32),
    version: u8,
    budget: u128,
    load_ticks: u128,
    /// The PVM's tick when the run was handed out (checked at the end).
    start_tick: u128,
    debug_log: Option<Vec<Vec<u8>>>,
    host_calls: u64,
    host_cost_ticks: u128,
}

/// The kernel's linear memory as the other engine holds it.
pub trait KernelMemory {
    /// Size in bytes, `None` if the kernel has no memory.
    fn size(&mut self) -> Option<u64>;
    /// Bytes `[ptr, ptr + len)`, which the caller has checked are in bounds.
    fn read(&mut self, ptr: u32, len: u32) -> Vec<u8>;
    /// Writes `bytes` at `ptr`, which the caller has checked is in bounds.
    fn write(&mut self, ptr: u32, bytes: &[u8]);
}

struct Memory<'a, M: ?Sized>(&'a mut M);

impl<M: KernelMemory + ?Sized> HostMemory<KernelRun> for Memory<'_, M> {
    fn size(&mut self, _: &mut KernelRun) -> Result<Option<u64>, PvmError> {
        Ok(self.0.size())
    }
    fn read_in_bounds(&mut self, _: &mut KernelRun, ptr: u32, len: u32) -> Result<Vec<u8>, PvmError> {
        Ok(self.0.read(ptr, len))
    }
    fn write_in_bounds(&mut self, _: &mut KernelRun, ptr: u32, bytes: &[u8]) -> Result<(), PvmError> {
        self.0.write(ptr, bytes);
        Ok(())
    }
}

/// What a host call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCallOutcome {
    /// Returned `result` (none for `write_debug`); `cost` ticks follow.
    Done {
        /// The result value (an `i32` zero-extended, or an `i64`).
        result: Option<u64>,
        /// Extra ticks charged after the call tick.
        cost: u128,
    },
    /// A reveal: answer it with [`KernelRun::answer_reveal`].
    Reveal(RevealCall),
}

/// A reveal host call waiting for its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealCall(PendingReveal);

impl RevealCall {
    /// What is asked for.
    pub fn request(&self) -> &RevealRequest {
        &self.0.request
    }
}

impl HostWorld for KernelRun {
    type Tree = Tree;
    fn tree(&mut self) -> &mut Tree {
        &mut self.tree
    }
    fn peek_input(&mut self) -> Result<Option<Input>, PvmError> {
        if self.inputs_head == self.inputs_tail {
            return Ok(None);
        }
        crate::pvm::read_input_at(&mut self.tree, self.inputs_head).map(Some)
    }
    fn pop_input(&mut self) -> Result<(), PvmError> {
        if self.inputs_head < self.inputs_tail {
            self.tree.delete_value(&crate::pvm::input_path(self.inputs_head))?;
            self.inputs_head += 1;
        }
        Ok(())
    }
    fn outbox(&self) -> (Option<u32>, u32) {
        self.outbox
    }
    fn log_debug(&mut self, bytes: Vec<u8>) {
        if let Some(log) = &mut self.debug_log {
            log.push(bytes);
        }
    }
}

impl KernelRun {
    /// The PVM version index (which host functions exist).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Ticks the run may spend: instructions, host-call costs and reveal
    /// answers. One more and the cycle ends with the kernel still running.
    pub fn budget(&self) -> u128 {
        self.budget
    }

    /// Ticks of the kernel load that preceded the run.
    pub fn load_ticks(&self) -> u128 {
        self.load_ticks
    }

    /// Runs host function `f` with `args` against this world and `memory`.
    pub fn host_call<M: KernelMemory + ?Sized>(
        &mut self,
        memory: &mut M,
        f: HostFn,
        args: &[u64],
    ) -> Result<HostCallOutcome, PvmError> {
        self.host_calls += 1;
        let outcome = match hostcall::call(self, &mut Memory(memory), f, args)? {
            HostCallResult::Done { result, cost } => HostCallOutcome::Done { result, cost },
            HostCallResult::Reveal(pending) => HostCallOutcome::Reveal(RevealCall(pending)),
        };
        if let HostCallOutcome::Done { cost, .. } = outcome {
            self.host_cost_ticks += cost;
        }
        Ok(outcome)
    }

    /// Answers `call` with `data`, as [`Pvm::reveal`] does: returns the
    /// host function's result and the ticks it costs (one for the answer,
    /// 42 per byte written). Data of the wrong hash is refused.
    pub fn answer_reveal<M: KernelMemory + ?Sized>(
        &mut self,
        memory: &mut M,
        call: &RevealCall,
        data: &[u8],
    ) -> Result<(u64, u128), PvmError> {
        let (result, cost) = hostcall::answer_reveal(self, &mut Memory(memory), &call.0, data)?;
        self.host_cost_ticks += cost;
        Ok((u64::from(result as u32), 1 + cost))
    }
}

impl Pvm<Tree> {
    /// The kernel about to be loaded, when the PVM is at the start of a load
    /// (phase Snapshot) and there is a kernel.
    pub fn kernel_load(&mut self) -> Result<Option<KernelLoad>, PvmError> {
        if !matches!(self.phase, Phase::Snapshot) {
            return Ok(None);
        }
        let Some(hash) = self.tree.subtree_hash(&tree_path(durable::KERNEL_BOOT.as_bytes()))? else {
            return Ok(None);
        };
        Ok(Some(KernelLoad {
            kernel_id: hash.0,
            version: self.meta.version,
            ticks_left: self.ticks_to_boundary(),
        }))
    }

    /// The bytes of `/kernel/boot.wasm`.
    pub fn kernel_bytes(&mut self) -> Result<Option<Arc<[u8]>>, PvmError> {
        Ok(self.durable_read(durable::KERNEL_BOOT)?.map(Arc::from))
    }

    /// Takes over the load [`Pvm::kernel_load`] named, whose profile is
    /// `profile`: see [`TakeOver`].
    pub fn take_kernel_run(&mut self, load: &KernelLoad, profile: &LoadProfile) -> Result<TakeOver, PvmError> {
        if self.kernel_load()?.as_ref() != Some(load) {
            return Err(PvmError::KernelRunMismatch("the PVM is not at that kernel load"));
        }
        // The PVM checks the cycle after every loading tick: a load reaching
        // the boundary is its business.
        if profile.ticks >= load.ticks_left {
            return Ok(TakeOver::NotTaken);
        }
        match &profile.verdict {
            LoadVerdict::Failed(reason) => {
                self.meta.current_tick += profile.ticks;
                self.load_failed(reason.clone())?;
                Ok(TakeOver::LoadFailed)
            }
            LoadVerdict::Loaded => {
                let mut tree = self.tree.clone();
                // Init's last tick saves the kernel as the fallback.
                let boot = tree_path(durable::KERNEL_BOOT.as_bytes());
                let fallback = tree_path(durable::FALLBACK_KERNEL.as_bytes());
                if tree.subtree_hash(&boot)? != tree.subtree_hash(&fallback)? {
                    tree.copy_subtree(&boot, &fallback)?;
                }
                Ok(TakeOver::Run(Box::new(KernelRun {
                    tree,
                    inputs_head: self.meta.inputs_head,
                    inputs_tail: self.meta.inputs_tail,
                    outbox: self.meta_outbox(),
                    version: self.meta.version,
                    // Kernel code cannot run on the boundary tick.
                    budget: load.ticks_left - profile.ticks - 1,
                    load_ticks: profile.ticks,
                    start_tick: self.meta.current_tick,
                    debug_log: self.debug_log.is_some().then(Vec::new),
                    host_calls: 0,
                    host_cost_ticks: 0,
                })))
            }
        }
    }

    /// Commits a run handed out by [`Pvm::take_kernel_run`] that ended with
    /// `end`: the PVM is then where running the load and `kernel_run` itself
    /// would have left it.
    pub fn finish_kernel_run(&mut self, run: KernelRun, end: KernelRunEnd) -> Result<(), PvmError> {
        if !matches!(self.phase, Phase::Snapshot) || self.meta.current_tick != run.start_tick {
            return Err(PvmError::KernelRunMismatch(
                "the PVM moved since the run was handed out",
            ));
        }
        let ticks = match end {
            KernelRunEnd::Returned { ticks } | KernelRunEnd::Trapped { ticks } | KernelRunEnd::Exhausted { ticks } => {
                ticks
            }
            KernelRunEnd::TooManyTicks => run.budget,
        };
        if ticks > run.budget {
            return Err(PvmError::KernelRunMismatch("the run spent more ticks than its budget"));
        }
        self.tree = run.tree;
        self.meta.inputs_head = run.inputs_head;
        if let (Some(log), Some(new)) = (&mut self.debug_log, run.debug_log) {
            log.extend(new);
        }
        self.meta.current_tick += run.load_ticks + ticks;
        self.stats.host_calls += run.host_calls;
        self.stats.host_cost_ticks += run.host_cost_ticks;
        self.stats.interpreter_ticks += ticks.saturating_sub(run.host_cost_ticks);
        match end {
            KernelRunEnd::Returned { .. } => self.kernel_run_returned()?,
            KernelRunEnd::Trapped { .. } => self.kernel_run_trapped()?,
            KernelRunEnd::Exhausted { .. } => self.stuck(StuckReason::CallStackExhausted)?,
            KernelRunEnd::TooManyTicks => {
                // The boundary tick finds the kernel still running.
                self.meta.current_tick += 1;
                self.stuck(StuckReason::TooManyTicks)?;
            }
        }
        Ok(())
    }

    /// Runs until the PVM waits for an input or a reveal, or reaches the
    /// start of a kernel load (where [`Pvm::kernel_load`] applies), or
    /// `max_ticks`. Returns the ticks executed.
    pub fn run_to_kernel_load(&mut self, max_ticks: u128) -> Result<u128, PvmError> {
        let start = self.meta.current_tick;
        loop {
            let done = self.meta.current_tick - start;
            let waiting = self.input_request() != crate::InputRequest::NoInputRequired;
            if done >= max_ticks || waiting || (matches!(self.phase, Phase::Snapshot) && done > 0) {
                return Ok(done);
            }
            self.advance(max_ticks - done, &mut soru_wasm::hooks::NoHooks)?;
        }
    }

    /// Runs while the PVM loads or runs a kernel — stopping when the run
    /// ends (padding, stuck), waits for reveal data, or after `max_ticks`.
    /// Returns the ticks executed. What a fast run replaces, tick for tick.
    pub fn run_kernel_load(&mut self, max_ticks: u128) -> Result<u128, PvmError> {
        let start = self.meta.current_tick;
        loop {
            let done = self.meta.current_tick - start;
            let loading_or_running = matches!(self.status(), crate::Status::Loading | crate::Status::Evaluating);
            if done >= max_ticks || !loading_or_running {
                return Ok(done);
            }
            self.advance(max_ticks - done, &mut soru_wasm::hooks::NoHooks)?;
        }
    }
}
