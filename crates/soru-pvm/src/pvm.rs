//! The PVM state machine: phases, tick accounting, reboots, yields, kernel
//! loading, upgrades and fallback, evaluation with host functions, reveals.
//!
//! Tick model (PROTOCOL-FACTS §7.2–7.3 for the phases and cycle rules; ours
//! inside a `kernel_run`, DESIGN.md §3):
//! - every step is one tick: an input, a reveal answer, a padding tick, the
//!   snapshot tick, one decoder unit, one import linked, one init slice, one
//!   interpreter tick, one host-call cost tick;
//! - a cycle is exactly `max_nb_ticks` ticks; its last tick is the boundary,
//!   where the PVM reboots (flag set, counter > 0), force-yields (flag set,
//!   counter 0) or yields (no flag); a `kernel_run` still running when the
//!   boundary comes is `Stuck(TooManyTicks)`;
//! - a host call costs the interpreter's call tick, then the costs of §7.3 as
//!   extra ticks (its effects happen at the call; an error return costs none).

use std::sync::Arc;

use soru_core::{RevealHash, StateHash};
use soru_tree::{Tree, TreeAccess, TreeError};
use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::hooks::{self, NoHooks};
use soru_wasm::region::StoredModule;
use soru_wasm::{DecodeError, Decoder, Mode, Store};

use crate::decode_store::with_tree_store;
use crate::durable::{self, tree_path};
use crate::host::{version_for_protocol, HostFn, VERSIONS};
use crate::hostcall::{self, HostCallResult, PvmMachine};
use crate::inspect::PvmHooks;
use crate::instantiate::{self, InitOutcome, InitStage, InitState};
use crate::machine_proof::LazyMachine;
use crate::state::MachineLoading;

/// Why the PVM is stuck.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum StuckReason {
    /// `/kernel/boot.wasm` could not be decoded and there is no usable fallback.
    #[error("decoding error: {0}")]
    Decode(String),
    /// Linking failed and there is no usable fallback.
    #[error("link error: {0}")]
    Link(String),
    /// Initialisation failed and there is no usable fallback.
    #[error("init error: {0}")]
    Init(String),
    /// A `kernel_run` did not finish within the cycle.
    #[error("too many ticks")]
    TooManyTicks,
    /// The call stack or value stack limit was reached.
    #[error("call stack exhausted")]
    CallStackExhausted,
    /// The kernel has no `/kernel/boot.wasm`.
    #[error("no kernel")]
    NoKernel,
}

/// What the PVM needs to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputRequest {
    /// Nothing: call [`Pvm::step`].
    NoInputRequired,
    /// The first inbox message after origination.
    Initial,
    /// The inbox message after `(level, counter)`.
    FirstAfter {
        /// Inbox level of the last message read.
        level: u32,
        /// Its index in the level.
        counter: u64,
    },
    /// Reveal data for this request payload (PROTOCOL-FACTS §7.6).
    Reveal(RevealRequest),
}

/// A reveal the kernel asked for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RevealRequest {
    /// The preimage of a reveal hash.
    RawData(RevealHash),
    /// The rollup metadata (address ‖ origination level).
    Metadata,
}

impl RevealRequest {
    /// Decodes a raw request payload; undecodable or inactive kinds (DAL)
    /// fall back to the preimage of blake2b("") (PROTOCOL-FACTS §7.6).
    pub fn decode(payload: &[u8]) -> Self {
        match payload {
            [0x00, 0x00, hash @ ..] if hash.len() == 32 => {
                RevealRequest::RawData(RevealHash(hash.try_into().expect("32 bytes")))
            }
            [0x01] => RevealRequest::Metadata,
            _ => RevealRequest::RawData(empty_preimage_hash()),
        }
    }
}

/// The reveal hash of the empty preimage, target of every reveal fallback.
pub fn empty_preimage_hash() -> RevealHash {
    RevealHash::of_preimage(b"")
}

/// An inbox message given to the PVM.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Input {
    /// Inbox level.
    pub level: u32,
    /// Index in the level (0 = start of level).
    pub counter: u64,
    /// The serialized inbox message.
    pub payload: Vec<u8>,
}

/// Misuse of the PVM API or a broken state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PvmError {
    /// An input given when none was requested.
    #[error("the PVM does not expect an input now ({0})")]
    UnexpectedInput(&'static str),
    /// A reveal given when none was requested.
    #[error("the PVM does not expect reveal data now")]
    UnexpectedReveal,
    /// Reveal data whose hash is not the requested one.
    #[error("revealed data does not match the requested hash")]
    WrongPreimage,
    /// Reveal data longer than 4096 bytes.
    #[error("revealed data is {0} bytes, the limit is 4096")]
    RevealTooLarge(usize),
    /// An input longer than 4096 bytes.
    #[error("input of {0} bytes, the limit is 4096")]
    InputTooLarge(usize),
    /// A step was requested while an input or reveal is needed.
    #[error("the PVM is waiting for {0:?}")]
    Waiting(InputRequest),
    /// The state tree failed (a verifier view lacking a node, a corrupt store).
    #[error("state tree: {0}")]
    Tree(#[from] TreeError),
    /// A stored state that does not decode.
    #[error("malformed PVM state: {0}")]
    MalformedState(String),
    /// A kernel run handed to another engine does not fit the PVM's state.
    #[error("kernel run hand-over: {0}")]
    KernelRunMismatch(&'static str),
}

/// Constants of one PVM instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvmConfig {
    /// Ticks per cycle (`ticks_per_snapshot`).
    pub ticks_per_snapshot: u128,
    /// Reboots allowed after the first `kernel_run` of a level.
    pub maximum_reboots_per_input: u32,
    /// Levels an outbox level is kept.
    pub outbox_validity_period: u32,
    /// Outbox messages per level.
    pub outbox_message_limit: u32,
}

impl PvmConfig {
    /// The values of the protocol parameters.
    pub fn from_params(p: &soru_core::params::PvmParams) -> Self {
        Self {
            ticks_per_snapshot: p.ticks_per_snapshot,
            maximum_reboots_per_input: p.maximum_reboots_per_input,
            outbox_validity_period: p.outbox_validity_period,
            outbox_message_limit: p.outbox_message_limit,
        }
    }
}

/// Coarse status, for APIs and RPCs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Reading inputs.
    Collect,
    /// Idle until the cycle boundary.
    Padding,
    /// Loading the kernel (snapshot, decode, link, init).
    Loading,
    /// Running `kernel_run`.
    Evaluating,
    /// Waiting for reveal data.
    WaitingForReveal(RevealRequest),
    /// Stuck.
    Stuck(StuckReason),
}

/// Counters and configuration that persist across phases.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Meta {
    pub(crate) current_tick: u128,
    pub(crate) last_top_level_call: u128,
    pub(crate) max_nb_ticks: u128,
    pub(crate) reboot_counter: u32,
    pub(crate) maximum_reboots_per_input: u32,
    pub(crate) outbox_validity_period: u32,
    pub(crate) outbox_message_limit: u32,
    pub(crate) version: u8,
    pub(crate) last_input: Option<(u32, u64)>,
    /// Inbox level of the last start-of-level: the outbox level.
    pub(crate) current_level: Option<u32>,
    /// Position of the next unread input under `pvm/inputs/`.
    pub(crate) inputs_head: u64,
    /// Position the next input given is stored at.
    pub(crate) inputs_tail: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct EvalState {
    pub(crate) store: Store,
    pub(crate) machine: Machine,
    pub(crate) host_fns: Vec<HostFn>,
    pub(crate) memory: u32,
    /// Host-call cost ticks still to spend before the machine resumes.
    pub(crate) pending_ticks: u128,
    /// A reveal host call waiting for its data.
    pub(crate) reveal: Option<PendingReveal>,
    /// Running the start function (host calls are forbidden there).
    pub(crate) in_start: Option<Box<InitState>>,
    /// Set when the machine is read from the state tree chunk by chunk (a
    /// one-step proof): `store` and `machine` then hold only those chunks.
    #[serde(skip)]
    pub(crate) lazy: Option<LazyMachine>,
}

impl EvalState {
    /// Feeds a host call's results to the machine; a lazy machine first
    /// reads the stack chunk they land in.
    fn resume<T: TreeAccess>(&mut self, tree: &mut T, results: &[u64]) -> Result<(), PvmError> {
        if let (Some(lazy), false) = (&mut self.lazy, results.is_empty()) {
            let height = self.machine.lengths().0 as u64;
            for chunk in hooks::stack_chunks(height, height + results.len() as u64) {
                lazy.ensure(tree, &mut self.store, &mut self.machine, chunk)?;
                lazy.mark_written(chunk);
            }
        }
        self.machine
            .resume_host(results)
            .map_err(|e| PvmError::MalformedState(format!("wasm: {e}")))
    }
}

/// A reveal host call waiting for data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PendingReveal {
    pub(crate) request: RevealRequest,
    pub(crate) dst: u32,
    pub(crate) max: u32,
}

/// The phase and the machine state it carries. Serialized (postcard) into
/// the state tree at `pvm/phase`; the kernel bytes of `Decode` are not
/// repeated there (they are `/kernel/boot.wasm`).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) enum Phase {
    Collect,
    Padding,
    Snapshot,
    Decode {
        /// The kernel's bytes once a Decode tick has read them.
        #[serde(skip)]
        kernel: Option<Arc<[u8]>>,
        decoder: Box<Decoder>,
    },
    /// Linking import `next` of the module left in the decoder's regions.
    Link {
        module: Box<StoredModule>,
        next: u64,
        host_fns: Vec<HostFn>,
    },
    /// Laying the machine out in the tree (`crate::instantiate`).
    Init {
        init: Box<InitState>,
        host_fns: Vec<HostFn>,
    },
    Eval(Box<EvalState>),
    Stuck(StuckReason),
}

/// Execution statistics since the PVM was created or loaded (not part of
/// the state).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecStats {
    /// Ticks spent interpreting kernel code.
    pub interpreter_ticks: u128,
    /// Host calls made.
    pub host_calls: u64,
    /// Extra ticks charged by host calls.
    pub host_cost_ticks: u128,
    /// Padding ticks (skipped in O(1)).
    pub padding_ticks: u128,
}

/// The `wasm_2_0_0` PVM. `T` is its tree backend: the owned [`Tree`] for
/// running, and, for one-step proofs, a recording tree (prover) or a verifier
/// tree (L1) on which the very same step function runs.
pub struct Pvm<T = Tree> {
    pub(crate) tree: T,
    /// How a machine in the tree is read when evaluation starts: whole
    /// (running) or chunk by chunk (a one-step proof).
    pub(crate) loading: MachineLoading,
    pub(crate) meta: Meta,
    pub(crate) phase: Phase,
    /// Messages written with `write_debug` by the kernel, when captured.
    pub(crate) debug_log: Option<Vec<Vec<u8>>>,
    pub(crate) stats: ExecStats,
}

impl<T> std::fmt::Debug for Pvm<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pvm")
            .field("tick", &self.meta.current_tick)
            .finish_non_exhaustive()
    }
}

fn key_path(key: &str) -> Vec<u8> {
    tree_path(key.as_bytes())
}

#[cfg(feature = "prover")]
impl Pvm<Tree> {
    /// The state right after origination: `boot_sector` installed as
    /// `/kernel/boot.wasm`, version `2.0.0-r6`, reboot flag set, waiting for
    /// the first input.
    pub fn install_boot_sector(config: &PvmConfig, boot_sector: &[u8]) -> Result<Self, PvmError> {
        let mut tree = Tree::new();
        let version = (VERSIONS.len() - 1) as u8;
        tree.set_value(&key_path(durable::WASM_VERSION), VERSIONS[version as usize].as_bytes())?;
        tree.set_value(&key_path(durable::REBOOT_FLAG), b"")?;
        tree.set_value(&key_path(durable::KERNEL_BOOT), boot_sector)?;
        Ok(Self {
            tree,
            loading: MachineLoading::Whole,
            meta: Meta {
                current_tick: 0,
                last_top_level_call: 0,
                max_nb_ticks: config.ticks_per_snapshot,
                reboot_counter: config.maximum_reboots_per_input + 1,
                maximum_reboots_per_input: config.maximum_reboots_per_input,
                outbox_validity_period: config.outbox_validity_period,
                outbox_message_limit: config.outbox_message_limit,
                version,
                last_input: None,
                current_level: None,
                inputs_head: 0,
                inputs_tail: 0,
            },
            phase: Phase::Collect,
            debug_log: None,
            stats: ExecStats::default(),
        })
    }
}

impl<T: TreeAccess> Pvm<T> {
    /// Keeps the kernel's `write_debug` messages (read with [`Pvm::take_debug`]).
    pub fn capture_debug(&mut self, on: bool) {
        self.debug_log = on.then(Vec::new);
    }

    /// The `write_debug` messages captured since the last call.
    pub fn take_debug(&mut self) -> Vec<Vec<u8>> {
        self.debug_log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub(crate) fn log_debug(&mut self, bytes: Vec<u8>) {
        if let Some(log) = &mut self.debug_log {
            log.push(bytes);
        }
    }

    /// Execution statistics.
    pub fn stats(&self) -> ExecStats {
        self.stats
    }

    /// Ticks per cycle (`ticks_per_snapshot`).
    pub fn ticks_per_snapshot(&self) -> u128 {
        self.meta.max_nb_ticks
    }

    /// The tick counter.
    pub fn current_tick(&self) -> u128 {
        self.meta.current_tick
    }

    /// The inbox level of the last start-of-level read.
    pub fn current_level(&self) -> Option<u32> {
        self.meta.current_level
    }

    /// The PVM version string.
    pub fn version(&self) -> &'static str {
        VERSIONS[self.meta.version as usize]
    }

    /// Coarse status.
    pub fn status(&self) -> Status {
        match &self.phase {
            Phase::Collect => Status::Collect,
            Phase::Padding => Status::Padding,
            Phase::Snapshot | Phase::Decode { .. } | Phase::Link { .. } | Phase::Init { .. } => Status::Loading,
            // The start function runs as part of loading the kernel.
            Phase::Eval(e) if e.in_start.is_some() => Status::Loading,
            Phase::Eval(e) => match &e.reveal {
                Some(r) => Status::WaitingForReveal(r.request.clone()),
                None => Status::Evaluating,
            },
            Phase::Stuck(r) => Status::Stuck(r.clone()),
        }
    }

    /// What the PVM needs next.
    pub fn input_request(&self) -> InputRequest {
        match &self.phase {
            Phase::Collect | Phase::Stuck(_) => match self.meta.last_input {
                None => InputRequest::Initial,
                Some((level, counter)) => InputRequest::FirstAfter { level, counter },
            },
            Phase::Eval(e) => match &e.reveal {
                Some(r) => InputRequest::Reveal(r.request.clone()),
                None => InputRequest::NoInputRequired,
            },
            _ => InputRequest::NoInputRequired,
        }
    }

    fn tick(&mut self) {
        self.meta.current_tick += 1;
    }

    /// Ticks left in the current cycle, the boundary tick included.
    pub(crate) fn ticks_to_boundary(&self) -> u128 {
        let used = self.meta.current_tick.saturating_sub(self.meta.last_top_level_call);
        self.meta.max_nb_ticks.saturating_sub(used)
    }

    pub(crate) fn tree_mut(&mut self) -> &mut T {
        &mut self.tree
    }

    pub(crate) fn meta_outbox(&self) -> (Option<u32>, u32) {
        (self.meta.current_level, self.meta.outbox_message_limit)
    }

    /// Drops the next unread input.
    pub(crate) fn pop_input(&mut self) -> Result<(), PvmError> {
        if self.meta.inputs_head < self.meta.inputs_tail {
            self.tree.delete_value(&input_path(self.meta.inputs_head))?;
            self.meta.inputs_head += 1;
        }
        Ok(())
    }

    /// The next unread input: one tree value, so a tick reading an input
    /// opens only that input.
    pub(crate) fn peek_input(&mut self) -> Result<Option<Input>, PvmError> {
        if self.meta.inputs_head == self.meta.inputs_tail {
            return Ok(None);
        }
        read_input_at(&mut self.tree, self.meta.inputs_head).map(Some)
    }

    /// Forgets every unread input (end of a level, or stuck).
    fn clear_inputs(&mut self) -> Result<(), PvmError> {
        if self.meta.inputs_tail > 0 {
            self.tree.delete_subtree(INPUTS_DIR)?;
        }
        self.meta.inputs_head = 0;
        self.meta.inputs_tail = 0;
        Ok(())
    }

    fn flag(&mut self, key: &str) -> Result<bool, PvmError> {
        Ok(self.tree.has(&key_path(key))?.value)
    }

    fn set_flag(&mut self, key: &str) -> Result<(), PvmError> {
        self.tree.set_value(&key_path(key), b"")?;
        Ok(())
    }

    fn clear_flag(&mut self, key: &str) -> Result<(), PvmError> {
        self.tree.delete_value(&key_path(key))?;
        Ok(())
    }

    /// Gives the input the PVM asked for (in Collect, or when stuck, where it
    /// is consumed and ignored). One tick.
    pub fn set_input(&mut self, input: Input) -> Result<(), PvmError> {
        if input.payload.len() > 4096 {
            return Err(PvmError::InputTooLarge(input.payload.len()));
        }
        match self.phase {
            Phase::Collect => {}
            Phase::Stuck(_) => {
                self.meta.last_input = Some((input.level, input.counter));
                self.tick();
                return Ok(());
            }
            _ => return Err(PvmError::UnexpectedInput("not collecting inputs")),
        }
        self.meta.last_input = Some((input.level, input.counter));
        match input.payload.as_slice() {
            [0x00, 0x01] => {
                // Start of level: the outbox moves to this level; levels
                // beyond the validity period are dropped.
                self.meta.current_level = Some(input.level);
                if let Some(old) = input.level.checked_sub(self.meta.outbox_validity_period) {
                    self.tree.delete_subtree(&outbox_level_path(old))?;
                }
            }
            [0x00, 0x02] => self.phase = Phase::Padding,
            [0x00, 0x04, rest @ ..] => {
                if let Some(name) = rest.get(4..).and_then(|n| std::str::from_utf8(n).ok()) {
                    if let Some(v) = version_for_protocol(name) {
                        if v > self.meta.version {
                            self.meta.version = v;
                            self.tree
                                .set_value(&key_path(durable::WASM_VERSION), VERSIONS[v as usize].as_bytes())?;
                        }
                    }
                }
            }
            _ => {}
        }
        self.tree
            .set_value(&input_path(self.meta.inputs_tail), &crate::state::serialized(&input))?;
        self.meta.inputs_tail += 1;
        self.tick();
        Ok(())
    }

    /// Answers the reveal the PVM asked for. One tick, then the host call's
    /// cost (42 ticks per byte written).
    pub fn reveal(&mut self, data: &[u8]) -> Result<(), PvmError> {
        if data.len() > 4096 {
            return Err(PvmError::RevealTooLarge(data.len()));
        }
        let Phase::Eval(e) = &mut self.phase else {
            return Err(PvmError::UnexpectedReveal);
        };
        let Some(pending) = e.reveal.take() else {
            return Err(PvmError::UnexpectedReveal);
        };
        let (result, cost) = match hostcall::answer_reveal(&mut self.tree, &mut **e, &pending, data) {
            Ok(answer) => answer,
            Err(err) => {
                e.reveal = Some(pending);
                return Err(err);
            }
        };
        e.resume(&mut self.tree, &[u64::from(result as u32)])?;
        e.pending_ticks = cost;
        self.tick();
        if self.ticks_to_boundary() == 0 {
            self.stuck(StuckReason::TooManyTicks)?;
        }
        Ok(())
    }

    /// One tick without input. Fails if an input or reveal is needed.
    pub fn step(&mut self) -> Result<(), PvmError> {
        self.run(1).map(|_| ())
    }

    /// Runs up to `max_ticks` ticks, stopping early when an input or a reveal
    /// is needed. Padding is skipped in O(1). Returns the ticks executed.
    pub fn run(&mut self, max_ticks: u128) -> Result<u128, PvmError> {
        self.run_with_hooks(max_ticks, &mut NoHooks)
    }

    /// [`Pvm::run`] with observation hooks (the debugger's profiler); with
    /// [`NoHooks`] it is [`Pvm::run`].
    pub fn run_with_hooks<H: PvmHooks>(&mut self, max_ticks: u128, hooks: &mut H) -> Result<u128, PvmError> {
        let start = self.meta.current_tick;
        while self.meta.current_tick - start < max_ticks {
            let budget = max_ticks - (self.meta.current_tick - start);
            match &self.phase {
                Phase::Collect | Phase::Stuck(_) => {
                    if self.meta.current_tick == start {
                        return Err(PvmError::Waiting(self.input_request()));
                    }
                    break;
                }
                Phase::Eval(e) if e.reveal.is_some() => {
                    if self.meta.current_tick == start {
                        return Err(PvmError::Waiting(self.input_request()));
                    }
                    break;
                }
                _ => {}
            }
            self.advance(budget, hooks)?;
        }
        Ok(self.meta.current_tick - start)
    }

    /// Runs until the PVM waits for an input or a reveal, or `max_ticks`.
    pub fn run_until_input(&mut self, max_ticks: u128) -> Result<u128, PvmError> {
        let start = self.meta.current_tick;
        loop {
            let done = self.meta.current_tick - start;
            if done >= max_ticks || self.input_request() != InputRequest::NoInputRequired {
                return Ok(done);
            }
            self.run(max_ticks - done)?;
        }
    }

    /// Executes at least one and at most `budget` ticks of the current phase.
    pub(crate) fn advance<H: PvmHooks>(&mut self, budget: u128, hooks: &mut H) -> Result<(), PvmError> {
        match std::mem::replace(&mut self.phase, Phase::Padding) {
            Phase::Padding => {
                let to_boundary = self.ticks_to_boundary();
                if to_boundary > 1 {
                    // Padding is idle: jump as far as allowed in one go.
                    let n = (to_boundary - 1).min(budget);
                    self.meta.current_tick += n;
                    self.stats.padding_ticks += n;
                    self.phase = Phase::Padding;
                    return Ok(());
                }
                self.boundary()
            }
            Phase::Snapshot => {
                self.tick();
                // Only whether a kernel is there: Decode reads its bytes.
                match self.tree.value_size(&key_path(durable::KERNEL_BOOT))? {
                    Some(_) => {
                        self.phase = Phase::Decode {
                            kernel: None,
                            decoder: Box::new(Decoder::new(Mode::Pvm)),
                        };
                    }
                    None => self.load_failed(StuckReason::NoKernel)?,
                }
                self.check_cycle()
            }
            Phase::Decode {
                mut kernel,
                mut decoder,
            } => {
                let stored = decoder.is_stored();
                let result = if stored {
                    // A proof's tick: the decoder reads its state and the
                    // kernel record by record from the tree.
                    self.tick();
                    with_tree_store(&mut self.tree, |store| decoder.step_stored(store))?
                } else {
                    let bytes = match kernel.take() {
                        Some(bytes) => bytes,
                        None => Arc::from(self.tree.read(&key_path(durable::KERNEL_BOOT), 0, usize::MAX)?),
                    };
                    // One unit per tick, as many as the budget and the cycle
                    // allow (a unit ending on the boundary gets stuck below).
                    let max = budget.min(self.ticks_to_boundary()).max(1);
                    let (units, result) = decoder.run(&bytes, u64::try_from(max).unwrap_or(u64::MAX));
                    self.meta.current_tick += u128::from(units);
                    kernel = Some(bytes);
                    result
                };
                match result {
                    Ok(soru_wasm::decode::Progress::Continue) => self.phase = Phase::Decode { kernel, decoder },
                    Ok(soru_wasm::decode::Progress::Done) => {
                        // The module stays in the decoder's regions (an
                        // in-memory decoder writes them into the tree now).
                        let module = with_tree_store(&mut self.tree, |store| decoder.into_stored_module(store))?
                            .map_err(|e| PvmError::MalformedState(format!("decoder: {e}")))?;
                        self.phase = Phase::Link {
                            module: Box::new(module),
                            next: 0,
                            host_fns: Vec::new(),
                        }
                    }
                    Err(e) if !e.is_verdict() => return Err(PvmError::MalformedState(format!("decoder: {e}"))),
                    Err(e) => self.load_failed(StuckReason::Decode(describe_decode(&e)))?,
                }
                self.check_cycle()
            }
            Phase::Link {
                module,
                next,
                mut host_fns,
            } => {
                self.tick();
                if next < module.imports.len() {
                    match instantiate::link_import(&mut self.tree, &module, next, self.meta.version)? {
                        Ok(f) => host_fns.push(f),
                        Err(reason) => {
                            self.load_failed(StuckReason::Link(reason))?;
                            return self.check_cycle();
                        }
                    }
                }
                if next + 1 >= module.imports.len() {
                    self.phase = Phase::Init {
                        init: Box::new(InitState {
                            module: *module,
                            stage: InitStage::Layout,
                        }),
                        host_fns,
                    };
                } else {
                    self.phase = Phase::Link {
                        module,
                        next: next + 1,
                        host_fns,
                    };
                }
                self.check_cycle()
            }
            Phase::Init { mut init, host_fns } => {
                self.tick();
                match instantiate::init_step(&mut self.tree, &mut init)? {
                    InitOutcome::Continue => self.phase = Phase::Init { init, host_fns },
                    InitOutcome::Failed(reason) => self.load_failed(StuckReason::Init(reason))?,
                    InitOutcome::RunStart => self.start_eval(host_fns, u32::MAX, Some(init))?,
                    InitOutcome::Run { memory } => self.start_eval(host_fns, memory, None)?,
                }
                self.check_cycle()
            }
            Phase::Eval(e) => self.eval(e, budget, hooks),
            other @ (Phase::Collect | Phase::Stuck(_)) => {
                self.phase = other;
                Ok(())
            }
        }
    }

    /// After a loading tick: a kernel still loading at the boundary is stuck.
    fn check_cycle(&mut self) -> Result<(), PvmError> {
        if self.ticks_to_boundary() == 0 && !matches!(self.phase, Phase::Padding | Phase::Stuck(_)) {
            self.stuck(StuckReason::TooManyTicks)?;
        }
        Ok(())
    }

    pub(crate) fn stuck(&mut self, reason: StuckReason) -> Result<(), PvmError> {
        self.phase = Phase::Stuck(reason);
        self.clear_inputs()
    }

    /// A decode, link or init failure: restore a different fallback kernel
    /// and set `upgrade_error`, or get stuck.
    pub(crate) fn load_failed(&mut self, reason: StuckReason) -> Result<(), PvmError> {
        instantiate::discard(&mut self.tree)?;
        let current = self.tree.subtree_hash(&key_path(durable::KERNEL_BOOT))?;
        let fallback = self.tree.subtree_hash(&key_path(durable::FALLBACK_KERNEL))?;
        match fallback {
            Some(f) if Some(f) != current => {
                self.tree
                    .copy_subtree(&key_path(durable::FALLBACK_KERNEL), &key_path(durable::KERNEL_BOOT))?;
                self.set_flag(durable::UPGRADE_ERROR_FLAG)?;
                self.phase = Phase::Padding;
                Ok(())
            }
            _ => self.stuck(reason),
        }
    }

    /// Enters evaluation of the machine Init laid out in the tree: read
    /// whole into memory (running), or left there to be read chunk by chunk
    /// (a one-step proof).
    fn start_eval(
        &mut self,
        host_fns: Vec<HostFn>,
        memory: u32,
        in_start: Option<Box<InitState>>,
    ) -> Result<(), PvmError> {
        let (store, machine, lazy) = match self.loading {
            MachineLoading::Whole => {
                let (store, machine) = crate::machine_proof::read_machine(&mut self.tree)
                    .map_err(|e| PvmError::MalformedState(format!("wasm: {e}")))?;
                self.tree
                    .delete_subtree(crate::machine_proof::MACHINE_ROOT.as_bytes())?;
                (store, machine, None)
            }
            MachineLoading::Lazy => {
                let (lazy, store, machine) = LazyMachine::open(&mut self.tree)?;
                (store, machine, Some(lazy))
            }
        };
        self.phase = Phase::Eval(Box::new(EvalState {
            store,
            machine,
            host_fns,
            memory,
            pending_ticks: 0,
            reveal: None,
            in_start,
            lazy,
        }));
        Ok(())
    }

    /// Runs the machine for at most `budget` ticks.
    fn eval<H: PvmHooks>(&mut self, mut e: Box<EvalState>, budget: u128, hooks: &mut H) -> Result<(), PvmError> {
        let to_boundary = self.ticks_to_boundary();
        // The boundary tick itself cannot run kernel code.
        let available = budget.min(to_boundary.saturating_sub(1));
        if available == 0 {
            self.tick();
            return self.stuck(StuckReason::TooManyTicks);
        }
        if e.pending_ticks > 0 {
            let n = e.pending_ticks.min(available);
            e.pending_ticks -= n;
            self.meta.current_tick += n;
            self.stats.host_cost_ticks += n;
            if H::ENABLED {
                hooks.host_ticks(n);
            }
            self.phase = Phase::Eval(e);
            return Ok(());
        }
        let (outcome, spent) = match &mut e.lazy {
            None => {
                let mut fuel = u64::try_from(available).unwrap_or(u64::MAX);
                let before = fuel;
                let outcome = e
                    .machine
                    .run_with(&mut e.store, &mut fuel, hooks)
                    .expect("a runnable machine");
                (outcome, before - fuel)
            }
            // A proof's step: one tick, reading chunks as it needs them.
            Some(lazy) => (lazy.tick(&mut self.tree, &mut e.store, &mut e.machine)?, 1),
        };
        self.meta.current_tick += u128::from(spent);
        self.stats.interpreter_ticks += u128::from(spent);
        match outcome {
            Outcome::OutOfTicks => self.phase = Phase::Eval(e),
            Outcome::Returned(_) => match e.in_start.take() {
                Some(init) => {
                    // Init goes on in the tree: put the machine back there.
                    match &e.lazy {
                        Some(lazy) => lazy.write_back(&mut self.tree, &e.store, &e.machine)?,
                        None => crate::machine_proof::write_machine(&mut self.tree, &e.store, &e.machine)?,
                    }
                    self.phase = Phase::Init {
                        init,
                        host_fns: std::mem::take(&mut e.host_fns),
                    };
                }
                None => self.kernel_run_returned()?,
            },
            Outcome::Trap(_) => {
                if e.in_start.is_some() {
                    return self.load_failed(StuckReason::Init("the start function trapped".into()));
                }
                self.kernel_run_trapped()?;
            }
            Outcome::Exhausted => {
                if e.in_start.is_some() {
                    return self.load_failed(StuckReason::Init("the start function exhausted the stack".into()));
                }
                self.stuck(StuckReason::CallStackExhausted)?;
            }
            Outcome::Missing(m) => unreachable!("no hooks on the owned backend: {m}"),
            Outcome::HostCall { host_id, args, .. } => {
                if e.in_start.is_some() {
                    return self.load_failed(StuckReason::Init("a host function was called during init".into()));
                }
                let f = *e
                    .host_fns
                    .get(host_id as usize)
                    .ok_or_else(|| PvmError::MalformedState(format!("host function {host_id} is not linked")))?;
                self.stats.host_calls += 1;
                match hostcall::call(self, &mut PvmMachine(&mut e), f, &args)? {
                    HostCallResult::Done { result, cost } => {
                        let results: Vec<u64> = result.into_iter().collect();
                        e.resume(&mut self.tree, &results)?;
                        e.pending_ticks = cost;
                    }
                    HostCallResult::Reveal(pending) => e.reveal = Some(pending),
                }
                self.phase = Phase::Eval(e);
            }
        }
        if self.ticks_to_boundary() == 0 && matches!(self.phase, Phase::Eval(_)) {
            self.stuck(StuckReason::TooManyTicks)?;
        }
        Ok(())
    }

    /// `kernel_run` returned: the stuck and upgrade-error flags clear, and
    /// the PVM idles to the boundary.
    pub(crate) fn kernel_run_returned(&mut self) -> Result<(), PvmError> {
        self.clear_flag(durable::STUCK_FLAG)?;
        self.clear_flag(durable::UPGRADE_ERROR_FLAG)?;
        self.phase = Phase::Padding;
        Ok(())
    }

    /// `kernel_run` trapped: the stuck flag is set, and the PVM idles to
    /// the boundary.
    pub(crate) fn kernel_run_trapped(&mut self) -> Result<(), PvmError> {
        self.set_flag(durable::STUCK_FLAG)?;
        self.phase = Phase::Padding;
        Ok(())
    }

    /// The boundary tick: reboot, force-yield or yield.
    fn boundary(&mut self) -> Result<(), PvmError> {
        let reboot_requested = self.flag(durable::REBOOT_FLAG)?;
        if reboot_requested && self.meta.reboot_counter > 0 {
            self.clear_flag(durable::REBOOT_FLAG)?;
            self.meta.reboot_counter -= 1;
            self.phase = Phase::Snapshot;
        } else {
            if reboot_requested {
                self.set_flag(durable::TOO_MANY_REBOOT_FLAG)?;
            } else {
                self.clear_flag(durable::TOO_MANY_REBOOT_FLAG)?;
                // Yielding sets the flag so the next level runs the kernel.
                self.set_flag(durable::REBOOT_FLAG)?;
            }
            self.meta.reboot_counter = self.meta.maximum_reboots_per_input + 1;
            self.clear_inputs()?;
            self.phase = Phase::Collect;
        }
        self.tree.set_value(
            &key_path(durable::REBOOT_COUNTER),
            &(self.meta.reboot_counter as i32).to_le_bytes(),
        )?;
        self.meta.last_top_level_call = self.meta.current_tick + 1;
        self.tick();
        Ok(())
    }

    /// Reads a durable value.
    pub fn durable_read(&mut self, key: &str) -> Result<Option<Vec<u8>>, PvmError> {
        match self.tree.read(&key_path(key), 0, usize::MAX) {
            Ok(v) => Ok(Some(v)),
            Err(TreeError::NoValue) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a durable value (for tests and tools, not for kernels).
    pub fn durable_write(&mut self, key: &str, value: &[u8]) -> Result<(), PvmError> {
        self.tree.set_value(&key_path(key), value)?;
        Ok(())
    }

    /// The children of a durable key, in canonical order (`""` = the value).
    pub fn durable_list(&mut self, key: &str) -> Result<Vec<Vec<u8>>, PvmError> {
        let path = key_path(key);
        let n = self.tree.count_children(&path)?;
        (0..n)
            .map(|i| Ok(self.tree.nth_child(&path, i)?.unwrap_or_default()))
            .collect()
    }

    /// The outbox messages of `level`, in order.
    pub fn outbox(&mut self, level: u32) -> Result<Vec<Vec<u8>>, PvmError> {
        let n = self.tree.count_children(&outbox_level_path(level))?;
        let mut out = Vec::new();
        for i in 0..n {
            match self.tree.read(&outbox_message_path(level, i), 0, usize::MAX) {
                Ok(v) => out.push(v),
                Err(TreeError::NoValue) => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// Rebuilds a PVM on any backend from the state tree [`Pvm::to_tree`]
    /// describes; the counters, inputs and phase are taken out of the tree
    /// until [`Pvm::into_state_tree`] puts them back.
    pub(crate) fn from_state_tree(tree: T, loading: MachineLoading) -> Result<Self, PvmError> {
        let (tree, meta, phase) = crate::state::read_state(tree, loading)?;
        Ok(Self {
            tree,
            loading,
            meta,
            phase,
            debug_log: None,
            stats: ExecStats::default(),
        })
    }

    /// The backend holding the whole state, as [`Pvm::to_tree`] writes it.
    pub(crate) fn into_state_tree(mut self) -> Result<T, PvmError> {
        crate::state::write_state(&mut self.tree, &self.meta, &self.phase)?;
        Ok(self.tree)
    }
}

#[cfg(feature = "prover")]
impl Pvm<Tree> {
    /// The unread inputs, read on an O(1) copy of the tree (reads may load
    /// nodes lazily, which needs `&mut`).
    pub(crate) fn read_unread_inputs(&self) -> Result<Vec<Input>, PvmError> {
        let mut tree = self.tree.clone();
        (self.meta.inputs_head..self.meta.inputs_tail)
            .map(|i| read_input_at(&mut tree, i))
            .collect()
    }

    /// The whole state as one tree: durable storage and outbox as they are,
    /// plus the counters, the unread inputs and (while loading or running a
    /// kernel) the machine. Its root hash is the state hash; storing it and
    /// [`Pvm::from_tree`] give back the same PVM.
    pub fn to_tree(&self) -> Result<Tree, PvmError> {
        let mut tree = self.tree.clone();
        crate::state::write_state(&mut tree, &self.meta, &self.phase)?;
        Ok(tree)
    }

    /// Rebuilds a PVM from a tree made by [`Pvm::to_tree`].
    pub fn from_tree(tree: Tree) -> Result<Self, PvmError> {
        Self::from_state_tree(tree, MachineLoading::Whole)
    }

    /// The state hash (`srs1…`): the root hash of [`Pvm::to_tree`].
    pub fn state_hash(&self) -> Result<StateHash, PvmError> {
        Ok(StateHash(self.to_tree()?.root_hash().0))
    }
}

/// Tree directory of the unread inputs.
pub(crate) const INPUTS_DIR: &[u8] = b"pvm/inputs";

/// Tree path of the input at position `i`.
pub(crate) fn input_path(i: u64) -> Vec<u8> {
    format!("pvm/inputs/{i}").into_bytes()
}

/// The input stored at position `i`.
pub(crate) fn read_input_at<T: TreeAccess>(tree: &mut T, i: u64) -> Result<Input, PvmError> {
    let bytes = tree.read(&input_path(i), 0, usize::MAX)?;
    postcard::from_bytes(&bytes).map_err(|e| PvmError::MalformedState(format!("pvm/inputs/{i}: {e}")))
}

/// Tree directory of the outbox of `level`.
pub(crate) fn outbox_level_path(level: u32) -> Vec<u8> {
    format!("pvm/outbox/{level}").into_bytes()
}

/// Tree path of outbox message `index` of `level`.
pub(crate) fn outbox_message_path(level: u32, index: u64) -> Vec<u8> {
    format!("pvm/outbox/{level}/{index}").into_bytes()
}

fn describe_decode(e: &DecodeError) -> String {
    e.to_string()
}
