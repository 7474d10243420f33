//! A debugging session: one PVM started from origination, the inboxes still
//! to load, and the commands that drive and inspect it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use soru_core::hash::blake2b_256;
use soru_core::{RevealHash, SmartRollupAddress};
use soru_pvm::durable::{check_key, KERNEL_BOOT, STUCK_FLAG};
use soru_pvm::{Input, InputRequest, InternalState, MemoryError, Pvm, PvmConfig, PvmError, RevealRequest};
use soru_tree::Tree;

use crate::command::{help_text, parse, Command, StepKind};
use crate::display::{inbox_entry, outbox_message, short_hex, show_value, ValueKind};
use crate::error::{refused, DebuggerError};
use crate::inputs::{level_inputs, read_inputs, Inbox, InputDefaults};
use crate::kernel::{check_kernel, read_kernel};
use crate::names::{parse_names, FunctionNames};
use crate::profile::{LoadPhase, ProfileOptions, Profiler};
use crate::repl::LineSource;

/// Ticks run between two flushes of the kernel's debug output.
const RUN_CHUNK: u128 = 10_000_000;
/// Largest memory read `show memory` prints.
const MAX_MEMORY_READ: u64 = 1 << 20;
/// Tries for a preimage typed by the user.
const PREIMAGE_TRIES: usize = 3;

/// The session's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The rollup address: metadata reveals and the default destination of
    /// internal transfers.
    pub rollup: SmartRollupAddress,
    /// Where preimages are read (files named by the reveal hash's hex).
    pub preimage_dir: PathBuf,
    /// Print the kernel's `write_debug` messages.
    pub kernel_debug: bool,
    /// PVM constants (mainnet's).
    pub pvm: PvmConfig,
}

impl Config {
    /// Mainnet PVM parameters, the `preimage` directory, debug output on.
    pub fn new(rollup: SmartRollupAddress) -> Self {
        Self {
            rollup,
            preimage_dir: PathBuf::from("preimage"),
            kernel_debug: true,
            pvm: PvmConfig::from_params(&soru_core::params::ProtocolParams::mainnet().smart_rollup.pvm),
        }
    }
}

/// Whether the session goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next command.
    Continue,
    /// `stop`.
    Stop,
}

/// What `crosscheck` replays: the state when the current level started and
/// what was given to the PVM since.
struct LevelRecord {
    level: Option<u32>,
    start: Tree,
    start_tick: u128,
    inputs: Vec<Input>,
    /// The reveals answered, in order, with what they answered.
    reveals: Vec<(RevealRequest, Vec<u8>)>,
}

/// The recorded reveals, as the fast engine's oracle (an answer depends
/// only on its request: a preimage on its hash, metadata on nothing).
struct RecordedReveals(Vec<(RevealRequest, Vec<u8>)>);

impl soru_fast::RevealOracle for RecordedReveals {
    fn reveal(&self, request: &RevealRequest) -> Option<Vec<u8>> {
        self.0.iter().find(|(r, _)| r == request).map(|(_, data)| data.clone())
    }
}

impl LevelRecord {
    fn new(pvm: &Pvm, level: Option<u32>) -> Result<Self, DebuggerError> {
        Ok(Self {
            level,
            start: pvm.to_tree()?,
            start_tick: pvm.current_tick(),
            inputs: Vec::new(),
            reveals: Vec::new(),
        })
    }
}

/// A debugging session.
pub struct Session {
    config: Config,
    pvm: Pvm,
    inboxes: Vec<Inbox>,
    next_inbox: usize,
    next_level: u32,
    record: LevelRecord,
    /// Where `step result` stopped: the tick and the internal state to show.
    result_point: Option<(u128, String)>,
    names: Option<([u8; 32], FunctionNames)>,
    /// The fast engine `crosscheck` compares with (made on first use, so
    /// the kernel is compiled once per session).
    fast: Option<soru_fast::FastEngine>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("pvm", &self.pvm)
            .field("next_level", &self.next_level)
            .finish()
    }
}

fn originate(config: &Config, kernel: &[u8]) -> Result<Pvm, DebuggerError> {
    let mut pvm = Pvm::install_boot_sector(&config.pvm, kernel)?;
    pvm.capture_debug(config.kernel_debug);
    Ok(pvm)
}

fn waiting_for_input(request: &InputRequest) -> bool {
    matches!(request, InputRequest::Initial | InputRequest::FirstAfter { .. })
}

fn describe_reveal(request: &RevealRequest) -> String {
    match request {
        RevealRequest::Metadata => "metadata".into(),
        RevealRequest::RawData(hash) => format!("preimage of {}", hash.to_hex()),
    }
}

fn elapsed(start: Option<Instant>) -> Duration {
    start.map(|s| s.elapsed()).unwrap_or_default()
}

static PROFILE_FILES: AtomicU64 = AtomicU64::new(0);

impl Session {
    /// A session on `kernel` (checked first), right after origination, with
    /// `inboxes` to load at levels 0, 1, …
    pub fn new(config: Config, kernel: &[u8], inboxes: Vec<Inbox>) -> Result<Self, DebuggerError> {
        check_kernel(kernel)?;
        let pvm = originate(&config, kernel)?;
        let record = LevelRecord::new(&pvm, None)?;
        Ok(Self {
            config,
            pvm,
            inboxes,
            next_inbox: 0,
            next_level: 0,
            record,
            result_point: None,
            names: None,
            fast: None,
        })
    }

    /// The PVM.
    pub fn pvm(&self) -> &Pvm {
        &self.pvm
    }

    /// The PVM, for tests and tools that inspect it further.
    pub fn pvm_mut(&mut self) -> &mut Pvm {
        &mut self.pvm
    }

    /// The level the next `load inputs` feeds.
    pub fn next_level(&self) -> u32 {
        self.next_level
    }

    /// Parses and runs one command line.
    pub fn execute_line(
        &mut self,
        line: &str,
        out: &mut dyn Write,
        input: &mut dyn LineSource,
    ) -> Result<Flow, DebuggerError> {
        let command = parse(line)?;
        self.execute(command, out, input)
    }

    /// Runs one command.
    pub fn execute(
        &mut self,
        command: Command,
        out: &mut dyn Write,
        input: &mut dyn LineSource,
    ) -> Result<Flow, DebuggerError> {
        match command {
            Command::Time(inner) => {
                let start = Instant::now();
                let result = self.execute(*inner, out, input);
                writeln!(out, "took {:?}", start.elapsed())?;
                return result;
            }
            Command::Stop => return Ok(Flow::Stop),
            Command::Help => write!(out, "{}", help_text())?,
            Command::ShowStatus => write!(out, "{}", self.status())?,
            Command::ShowInbox => self.show_inbox(out)?,
            Command::ShowOutbox(level) => self.show_outbox(level, out)?,
            Command::ShowDurableStorage => self.show_durable(out)?,
            Command::ShowSubkeys(path) => self.show_subkeys(&path, out)?,
            Command::ShowKey(key, kind) => self.show_key(&key, kind, out)?,
            Command::ShowMemory { address, len, kind } => self.show_memory(address, len, kind, out)?,
            Command::DumpFunctionSymbols => write!(out, "{}", self.kernel_names()?.listing())?,
            Command::LoadInputs => self.load_inputs(out)?,
            Command::LoadInputsFrom(path) => self.load_inputs_from(&path, out)?,
            Command::LoadKernel(path) => self.load_kernel(&path, out)?,
            Command::Step(kind) => self.step(kind, out, input)?,
            Command::RevealPreimage(hex) => self.reveal_preimage_command(hex.as_deref(), out, input)?,
            Command::RevealMetadata => self.reveal_metadata_command(out)?,
            Command::Profile(options) => self.profile(options, out, input)?,
            Command::Crosscheck => self.crosscheck(out)?,
        }
        Ok(Flow::Continue)
    }

    // ------------------------------------------------------------ status

    fn internal_state_text(&self) -> String {
        if let Some((tick, label)) = &self.result_point {
            if *tick == self.pvm.current_tick() {
                return label.clone();
            }
        }
        match self.pvm.internal_state() {
            InternalState::Collect => "Collect".into(),
            InternalState::Padding => "Padding".into(),
            InternalState::Snapshot => "Snapshot".into(),
            InternalState::Decode => "Decode".into(),
            InternalState::Link => "Link".into(),
            InternalState::Init => "Init".into(),
            InternalState::Eval if self.pvm.in_start_function() => "Eval (start function)".into(),
            InternalState::Eval => "Eval".into(),
            InternalState::Stuck(reason) => format!("Stuck ({reason})"),
        }
    }

    /// The `show status` text: the status and the internal state.
    pub fn status(&self) -> String {
        let status = match self.pvm.input_request() {
            InputRequest::NoInputRequired => "Evaluating".to_string(),
            InputRequest::Initial | InputRequest::FirstAfter { .. } => "Waiting for input".to_string(),
            InputRequest::Reveal(r) => format!("Waiting for reveal: {}", describe_reveal(&r)),
        };
        format!("Status: {status}\nInternal state: {}\n", self.internal_state_text())
    }

    // ------------------------------------------------------------ inspection

    fn show_inbox(&self, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let inputs = self.pvm.unread_inputs()?;
        writeln!(out, "Inbox has {} messages:", inputs.len())?;
        for i in &inputs {
            writeln!(out, "{}", inbox_entry(i.level, i.counter, &i.payload))?;
        }
        Ok(())
    }

    fn show_outbox(&mut self, level: u32, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let messages = self.pvm.outbox(level)?;
        writeln!(out, "Outbox has {} messages:", messages.len())?;
        for m in &messages {
            writeln!(out, "{}", outbox_message(m))?;
        }
        Ok(())
    }

    fn children(&mut self, key: &str) -> Result<(bool, Vec<String>), DebuggerError> {
        let mut has_value = false;
        let mut names = Vec::new();
        for name in self.pvm.durable_list(key)? {
            if name.is_empty() {
                has_value = true;
            } else {
                names.push(String::from_utf8_lossy(&name).into_owned());
            }
        }
        names.sort();
        Ok((has_value, names))
    }

    fn show_durable(&mut self, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let mut stack = vec![String::new()];
        while let Some(key) = stack.pop() {
            let (has_value, names) = self.children(&key)?;
            if has_value {
                let value = self.pvm.durable_read(&key)?.unwrap_or_default();
                let shown = if key.is_empty() { "/" } else { key.as_str() };
                writeln!(out, "{shown}\n  {}", short_hex(&value, 64))?;
            }
            for name in names.into_iter().rev() {
                stack.push(format!("{key}/{name}"));
            }
        }
        Ok(())
    }

    fn show_subkeys(&mut self, path: &str, out: &mut dyn Write) -> Result<(), DebuggerError> {
        if !path.starts_with('/') {
            return Err(refused("Invalid path, it must start with '/'"));
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let key = segments.iter().map(|s| format!("/{s}")).collect::<String>();
        if check_key(key.as_bytes()).is_err() {
            return Err(refused(format!("Invalid path {path}")));
        }
        let (has_value, names) = self.children(&key)?;
        if !has_value && names.is_empty() {
            writeln!(out, "The path {path} is not available in the durable storage")?;
            return Ok(());
        }
        for name in names {
            writeln!(out, "/{name}")?;
        }
        Ok(())
    }

    fn show_key(&mut self, key: &str, kind: ValueKind, out: &mut dyn Write) -> Result<(), DebuggerError> {
        if key.is_empty() || check_key(key.as_bytes()).is_err() {
            return Err(refused(format!("Invalid key {key}")));
        }
        match self.pvm.durable_read(key)? {
            None => writeln!(out, "Key not found")?,
            Some(value) => writeln!(out, "{}", show_value(kind, &value))?,
        }
        Ok(())
    }

    fn show_memory(&self, address: u64, len: u64, kind: ValueKind, out: &mut dyn Write) -> Result<(), DebuggerError> {
        if len > MAX_MEMORY_READ {
            return Err(refused(format!("at most {MAX_MEMORY_READ} bytes can be shown at once")));
        }
        match self.pvm.read_memory(address, len) {
            Ok(bytes) => writeln!(out, "{}", show_value(kind, &bytes))?,
            Err(MemoryError::NotRunning(_)) => {
                return Err(refused(format!(
                    "Cannot inspect memory during internal state {}: the memory exists only while kernel code \
                     runs (stop there with `step result` or `step tick`)",
                    self.internal_state_text()
                )))
            }
            Err(e) => return Err(refused(e.to_string())),
        }
        Ok(())
    }

    /// The names of the kernel in `/kernel/boot.wasm` (cached by hash).
    fn kernel_names(&mut self) -> Result<FunctionNames, DebuggerError> {
        let kernel = self
            .pvm
            .durable_read(KERNEL_BOOT)?
            .ok_or_else(|| refused(format!("there is no kernel at {KERNEL_BOOT}")))?;
        let hash = blake2b_256(&kernel);
        if let Some((h, names)) = &self.names {
            if *h == hash {
                return Ok(names.clone());
            }
        }
        let names = parse_names(&kernel).map_err(|e| refused(format!("the kernel's name section: {e}")))?;
        self.names = Some((hash, names.clone()));
        Ok(names)
    }

    // ------------------------------------------------------------ inputs and kernels

    fn metadata(&self) -> Vec<u8> {
        let mut m = self.config.rollup.0.to_vec();
        m.extend_from_slice(&0i32.to_be_bytes());
        m
    }

    fn load_inputs(&mut self, out: &mut dyn Write) -> Result<(), DebuggerError> {
        match self.pvm.input_request() {
            InputRequest::NoInputRequired => {
                return Err(refused(
                    "The PVM is not expecting inputs yet. You can `step inbox` to evaluate the current inbox.",
                ))
            }
            InputRequest::Reveal(r) => {
                return Err(refused(format!(
                    "The PVM is waiting for a reveal ({}): answer it with `reveal preimage` or `reveal metadata`.",
                    describe_reveal(&r)
                )))
            }
            InputRequest::Initial | InputRequest::FirstAfter { .. } => {}
        }
        let inbox = self.inboxes.get(self.next_inbox).cloned().unwrap_or_default();
        let level = self.next_level;
        let inputs = level_inputs(level, &inbox);
        let mut record = LevelRecord::new(&self.pvm, Some(level))?;
        for i in &inputs {
            self.pvm.set_input(i.clone())?;
        }
        record.inputs = inputs;
        self.record = record;
        self.next_inbox += 1;
        self.next_level += 1;
        writeln!(out, "Loaded {} inputs at level {level}", inbox.len())?;
        Ok(())
    }

    fn load_inputs_from(&mut self, path: &Path, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let inboxes = read_inputs(path, &InputDefaults::new(self.config.rollup))?;
        writeln!(
            out,
            "Read {} inboxes from {}; the next `load inputs` loads the first at level {}",
            inboxes.len(),
            path.display(),
            self.next_level
        )?;
        self.inboxes = inboxes;
        self.next_inbox = 0;
        Ok(())
    }

    fn load_kernel(&mut self, path: &Path, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let kernel = read_kernel(path)?;
        check_kernel(&kernel)?;
        let pvm = originate(&self.config, &kernel)?;
        self.record = LevelRecord::new(&pvm, None)?;
        self.pvm = pvm;
        self.next_inbox = 0;
        self.next_level = 0;
        self.result_point = None;
        writeln!(
            out,
            "Loaded kernel {} ({} bytes): back to the state after origination, inputs from level 0",
            path.display(),
            kernel.len()
        )?;
        Ok(())
    }

    // ------------------------------------------------------------ running

    /// Prints the kernel's debug messages captured since the last call.
    fn flush_debug(&mut self, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let messages = self.pvm.take_debug();
        let mut open = false;
        for m in messages {
            out.write_all(String::from_utf8_lossy(&m).as_bytes())?;
            open = !m.ends_with(b"\n");
        }
        if open {
            writeln!(out)?;
        }
        Ok(())
    }

    /// Runs `ticks` ticks (never stopping for input: the caller knows none
    /// is needed on the way).
    fn run_exact(&mut self, ticks: u128, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let target = self.pvm.current_tick() + ticks;
        while self.pvm.current_tick() < target {
            let remaining = target - self.pvm.current_tick();
            let chunk = if self.pvm.internal_state() == InternalState::Padding {
                remaining
            } else {
                remaining.min(RUN_CHUNK)
            };
            let ran = self.pvm.run(chunk)?;
            self.flush_debug(out)?;
            if ran == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Runs until tick `until` (or until input is needed when `None`),
    /// answering reveals; stops early when the PVM needs input or a reveal
    /// is not answered.
    fn drive(
        &mut self,
        until: Option<u128>,
        out: &mut dyn Write,
        input: &mut dyn LineSource,
    ) -> Result<(), DebuggerError> {
        loop {
            let now = self.pvm.current_tick();
            if until.is_some_and(|t| now >= t) {
                return Ok(());
            }
            match self.pvm.input_request() {
                InputRequest::Initial | InputRequest::FirstAfter { .. } => return Ok(()),
                InputRequest::Reveal(_) => {
                    if !self.answer_reveal(out, input)? {
                        return Ok(());
                    }
                    continue;
                }
                InputRequest::NoInputRequired => {}
            }
            let remaining = until.map_or(u128::MAX, |t| t - now);
            let chunk = if self.pvm.internal_state() == InternalState::Padding {
                remaining
            } else {
                remaining.min(RUN_CHUNK)
            };
            self.pvm.run(chunk)?;
            self.flush_debug(out)?;
        }
    }

    /// Refuses to run when the PVM waits for input (or, unless allowed, a
    /// reveal).
    fn require_running(&self, allow_reveal: bool) -> Result<(), DebuggerError> {
        match self.pvm.input_request() {
            InputRequest::NoInputRequired => Ok(()),
            InputRequest::Reveal(_) if allow_reveal => Ok(()),
            InputRequest::Reveal(r) => Err(refused(format!(
                "The PVM is waiting for a reveal ({}): answer it with `reveal preimage` or `reveal metadata`.",
                describe_reveal(&r)
            ))),
            _ => match self.pvm.internal_state() {
                InternalState::Stuck(reason) => Err(refused(format!(
                    "The PVM is stuck ({reason}): it only consumes inputs. Use `load inputs` or `step inbox`."
                ))),
                _ => Err(refused(
                    "The PVM is waiting for inputs. Use `load inputs` to load the next inbox, or `step inbox`.",
                )),
            },
        }
    }

    fn step(&mut self, kind: StepKind, out: &mut dyn Write, input: &mut dyn LineSource) -> Result<(), DebuggerError> {
        let start = self.pvm.current_tick();
        match kind {
            StepKind::Tick => {
                self.require_running(false)?;
                self.pvm.run(1)?;
                self.flush_debug(out)?;
            }
            StepKind::KernelRun => {
                self.require_running(true)?;
                let end = self.pvm.current_tick() + self.pvm.ticks_left_in_cycle();
                self.drive(Some(end), out, input)?;
            }
            StepKind::Inbox => {
                if waiting_for_input(&self.pvm.input_request()) {
                    self.load_inputs(out)?;
                }
                self.drive(None, out, input)?;
            }
            StepKind::Result => {
                self.require_running(true)?;
                self.step_result(out, input)?;
            }
        }
        writeln!(out, "Evaluation took {} ticks so far", self.pvm.current_tick() - start)?;
        write!(out, "{}", self.status())?;
        Ok(())
    }

    /// Runs until the next tick would end the evaluation of kernel code
    /// (a return from `kernel_run`, a trap, a stack exhaustion), so that the
    /// memory can still be inspected. Where that tick is, is found by a dry
    /// run on a copy of the state within the current cycle.
    fn step_result(&mut self, out: &mut dyn Write, input: &mut dyn LineSource) -> Result<(), DebuggerError> {
        if self
            .result_point
            .as_ref()
            .is_some_and(|(tick, _)| *tick == self.pvm.current_tick())
        {
            // Already there: end this evaluation and go to the next one.
            self.pvm.run(1)?;
            self.flush_debug(out)?;
        }
        loop {
            match self.pvm.input_request() {
                InputRequest::Initial | InputRequest::FirstAfter { .. } => return Ok(()),
                InputRequest::Reveal(_) => {
                    if !self.answer_reveal(out, input)? {
                        return Ok(());
                    }
                    continue;
                }
                InputRequest::NoInputRequired => {}
            }
            let left = self.pvm.ticks_left_in_cycle();
            if left <= 1 {
                // The cycle's last tick: reboot, yield or get stuck.
                self.pvm.run(1)?;
                self.flush_debug(out)?;
                continue;
            }
            let mut copy = Pvm::from_tree(self.pvm.to_tree()?)?;
            let before = copy.current_tick();
            copy.run(left - 1)?;
            let dry = copy.current_tick() - before;
            let kernel_ticks = copy.stats().interpreter_ticks;
            if matches!(copy.input_request(), InputRequest::Reveal(_)) {
                // A reveal comes first: go there, answer it, look again.
                self.run_exact(dry, out)?;
                continue;
            }
            let label = match copy.internal_state() {
                InternalState::Padding if kernel_ticks > 0 => {
                    if copy.durable_read(STUCK_FLAG)?.is_some() {
                        "Evaluation failed (the next tick traps)".to_string()
                    } else {
                        "Evaluation succeeded".to_string()
                    }
                }
                InternalState::Stuck(reason) if kernel_ticks > 0 => {
                    format!("Evaluation failed (the next tick leaves the PVM stuck: {reason})")
                }
                InternalState::Padding => {
                    // No kernel code ran (a failed upgrade fell back, or the
                    // run was already over): on to the next cycle.
                    self.run_exact(dry, out)?;
                    continue;
                }
                _ => {
                    // Still loading or running at the end of the cycle, or
                    // stuck while loading: run to where the copy stopped, then
                    // the cycle's last tick.
                    self.run_exact(dry, out)?;
                    if self.pvm.ticks_left_in_cycle() == 1 {
                        self.pvm.run(1)?;
                        self.flush_debug(out)?;
                    }
                    return Ok(());
                }
            };
            let base = self.pvm.stats().interpreter_ticks;
            loop {
                let done = self.pvm.stats().interpreter_ticks - base;
                if done + 1 < kernel_ticks {
                    self.pvm.run(kernel_ticks - 1 - done)?;
                } else if !self.pvm.at_interpreter_tick() {
                    self.pvm.run(1)?;
                } else {
                    break;
                }
                self.flush_debug(out)?;
            }
            self.result_point = Some((self.pvm.current_tick(), label));
            return Ok(());
        }
    }

    // ------------------------------------------------------------ reveals

    /// Gives `data` to the PVM, recording it for `crosscheck`; the error is
    /// the message to show.
    fn reveal(&mut self, data: &[u8]) -> Result<(), String> {
        let request = self.pvm.input_request();
        match self.pvm.reveal(data) {
            Ok(()) => {
                if let InputRequest::Reveal(answered) = &request {
                    self.record.reveals.push((answered.clone(), data.to_vec()));
                }
                Ok(())
            }
            Err(PvmError::WrongPreimage) => {
                let wanted = match request {
                    InputRequest::Reveal(RevealRequest::RawData(h)) => h.to_hex(),
                    _ => "?".into(),
                };
                Err(format!(
                    "the preimage's hash {} does not match the requested hash {wanted}: refused.",
                    RevealHash::of_preimage(data).to_hex()
                ))
            }
            Err(PvmError::RevealTooLarge(n)) => Err(format!("the preimage has {n} bytes, the limit is 4096: refused.")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Asks the user for the preimage of `hash`: up to three tries; an
    /// empty line or the end of input gives up.
    fn ask_preimage(
        &mut self,
        hash: RevealHash,
        out: &mut dyn Write,
        input: &mut dyn LineSource,
    ) -> Result<bool, DebuggerError> {
        writeln!(
            out,
            "Please provide the preimage of {} in hexadecimal (an empty line to stop):",
            hash.to_hex()
        )?;
        for _ in 0..PREIMAGE_TRIES {
            out.flush()?;
            let Some(line) = input.read_line("> ")? else { break };
            if input.echoes() {
                writeln!(out, "> {line}")?;
            }
            let text = line.trim();
            if text.is_empty() {
                break;
            }
            match hex::decode(text.strip_prefix("0x").unwrap_or(text)) {
                Err(_) => writeln!(out, "Error: the data is not a valid hexadecimal value.")?,
                Ok(data) => match self.reveal(&data) {
                    Ok(()) => return Ok(true),
                    Err(message) => writeln!(out, "Error: {message}")?,
                },
            }
        }
        writeln!(
            out,
            "No preimage given: the PVM still waits for the preimage of {} (answer with `reveal preimage <hex>`).",
            hash.to_hex()
        )?;
        Ok(false)
    }

    /// Answers a preimage reveal from the preimage directory, asking the
    /// user when the file is missing or does not match.
    fn reveal_preimage_builtin(
        &mut self,
        hash: RevealHash,
        out: &mut dyn Write,
        input: &mut dyn LineSource,
    ) -> Result<bool, DebuggerError> {
        let path = self.config.preimage_dir.join(hash.to_hex());
        match std::fs::read(&path) {
            Ok(data) => match self.reveal(&data) {
                Ok(()) => return Ok(true),
                Err(message) => writeln!(out, "Error: preimage file {}: {message}", path.display())?,
            },
            Err(_) => writeln!(
                out,
                "Preimage for hash {} not found in {}.",
                hash.to_hex(),
                self.config.preimage_dir.display()
            )?,
        }
        self.ask_preimage(hash, out, input)
    }

    /// Answers the reveal the PVM waits for, as the runs do: metadata at
    /// once, preimages from the directory or the user.
    fn answer_reveal(&mut self, out: &mut dyn Write, input: &mut dyn LineSource) -> Result<bool, DebuggerError> {
        match self.pvm.input_request() {
            InputRequest::Reveal(RevealRequest::Metadata) => {
                let metadata = self.metadata();
                self.reveal(&metadata).map_err(refused)?;
                Ok(true)
            }
            InputRequest::Reveal(RevealRequest::RawData(hash)) => self.reveal_preimage_builtin(hash, out, input),
            _ => Ok(false),
        }
    }

    fn reveal_preimage_command(
        &mut self,
        hex_data: Option<&str>,
        out: &mut dyn Write,
        input: &mut dyn LineSource,
    ) -> Result<(), DebuggerError> {
        let hash = match self.pvm.input_request() {
            InputRequest::Reveal(RevealRequest::RawData(hash)) => hash,
            InputRequest::Reveal(RevealRequest::Metadata) => {
                return Err(refused(
                    "The PVM is waiting for metadata, not a preimage: use `reveal metadata`.",
                ))
            }
            _ => return Err(refused("The PVM is not waiting for a reveal.")),
        };
        match hex_data {
            Some(text) => {
                let data = hex::decode(text.strip_prefix("0x").unwrap_or(text))
                    .map_err(|_| refused(format!("`{text}` is not a valid hexadecimal value")))?;
                self.reveal(&data).map_err(refused)?;
                writeln!(out, "Preimage revealed ({} bytes)", data.len())?;
            }
            None => {
                if !self.reveal_preimage_builtin(hash, out, input)? {
                    return Err(refused(format!("no preimage of {} was revealed", hash.to_hex())));
                }
                writeln!(out, "Preimage revealed")?;
            }
        }
        Ok(())
    }

    fn reveal_metadata_command(&mut self, out: &mut dyn Write) -> Result<(), DebuggerError> {
        match self.pvm.input_request() {
            InputRequest::Reveal(RevealRequest::Metadata) => {
                let metadata = self.metadata();
                self.reveal(&metadata).map_err(refused)?;
                writeln!(
                    out,
                    "Metadata revealed: rollup {}, origination level 0",
                    self.config.rollup
                )?;
                Ok(())
            }
            InputRequest::Reveal(RevealRequest::RawData(_)) => Err(refused(
                "The PVM is waiting for a preimage, not metadata: use `reveal preimage`.",
            )),
            _ => Err(refused("The PVM is not waiting for a reveal.")),
        }
    }

    // ------------------------------------------------------------ profile

    fn profile(
        &mut self,
        options: ProfileOptions,
        out: &mut dyn Write,
        input: &mut dyn LineSource,
    ) -> Result<(), DebuggerError> {
        let not_here = || {
            refused(
                "Profiling can only be done from a snapshotable state (Snapshot, Padding) or when waiting for \
                 input. You can use `step kernel_run` to go to the next snapshotable state.",
            )
        };
        match self.pvm.input_request() {
            InputRequest::Initial | InputRequest::FirstAfter { .. } => {
                if let InternalState::Stuck(reason) = self.pvm.internal_state() {
                    return Err(refused(format!(
                        "The PVM is stuck ({reason}): there is nothing to profile."
                    )));
                }
            }
            InputRequest::Reveal(_) => return Err(not_here()),
            InputRequest::NoInputRequired => match self.pvm.internal_state() {
                InternalState::Snapshot | InternalState::Padding => {}
                _ => return Err(not_here()),
            },
        }
        writeln!(
            out,
            "Starting the profiling until new messages are expected. Please note that it will take some time \
             and does not reflect a real computation time."
        )?;
        let start = self.pvm.current_tick();
        if waiting_for_input(&self.pvm.input_request()) {
            self.load_inputs(out)?;
        }
        let mut profiler = Profiler::new(options);
        loop {
            match self.pvm.input_request() {
                InputRequest::Initial | InputRequest::FirstAfter { .. } => break,
                InputRequest::Reveal(_) => {
                    let before = self.pvm.current_tick();
                    let clock = profiler.now();
                    if !self.answer_reveal(out, input)? {
                        break;
                    }
                    profiler.reveal_ticks(self.pvm.current_tick() - before, elapsed(clock));
                    continue;
                }
                InputRequest::NoInputRequired => {}
            }
            let clock = profiler.now();
            match self.pvm.internal_state() {
                InternalState::Padding => {
                    let left = self.pvm.ticks_left_in_cycle();
                    if left > 1 {
                        self.pvm.run(left - 1)?;
                    } else {
                        self.pvm.run(1)?;
                        if profiler.in_run() {
                            profiler.end_run();
                            if options.no_reboot {
                                self.flush_debug(out)?;
                                break;
                            }
                        }
                    }
                }
                state @ (InternalState::Snapshot
                | InternalState::Decode
                | InternalState::Link
                | InternalState::Init) => {
                    let phase = match state {
                        InternalState::Snapshot => LoadPhase::Snapshot,
                        InternalState::Decode => LoadPhase::Decode,
                        InternalState::Link => LoadPhase::Link,
                        _ => LoadPhase::Init,
                    };
                    let ran = self.pvm.run(1)?;
                    profiler.load_ticks(phase, ran, elapsed(clock));
                }
                InternalState::Eval => {
                    if !profiler.has_functions() {
                        let functions = self.pvm.running_functions().unwrap_or_default();
                        let names = self.kernel_names().unwrap_or_default();
                        profiler.set_functions(&functions, &names);
                    }
                    let ran = self.pvm.run_eval_with_hooks(u128::MAX, &mut profiler)?;
                    let finished = self.pvm.internal_state() != InternalState::Eval;
                    profiler.eval_ticks(ran, elapsed(clock), finished);
                }
                InternalState::Collect | InternalState::Stuck(_) => break,
            }
            self.flush_debug(out)?;
        }
        profiler.end_run();
        let total = self.pvm.current_tick() - start;
        let n = PROFILE_FILES.fetch_add(1, Ordering::Relaxed);
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let path = std::env::temp_dir().join(format!("soru-debugger-profiling-{secs}-{}-{n}.out", std::process::id()));
        match std::fs::write(&path, profiler.flamegraph()) {
            Ok(()) => writeln!(out, "Profiling result can be found in {}", path.display())?,
            Err(e) => writeln!(out, "Error: cannot write the flamegraph file {}: {e}", path.display())?,
        }
        write!(out, "{}", profiler.report(total))?;
        Ok(())
    }

    // ------------------------------------------------------------ crosscheck

    /// Two replays of the current level from its saved start state, with
    /// the same inputs and reveals:
    /// 1. on a fresh PVM instance up to the current tick, compared with the
    ///    session's state (the state, its serialization and the replay are
    ///    deterministic);
    /// 2. on the PVM alone and on the PVM with soru-fast running the
    ///    `kernel_run`s, as far as the recorded inputs and reveals go,
    ///    compared after every kernel run and at the end (DESIGN.md §5).
    fn crosscheck(&mut self, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let target = self.pvm.current_tick();
        let mut fresh = Pvm::from_tree(self.record.start.clone())?;
        let mut inputs = self.record.inputs.iter();
        let mut reveals = self.record.reveals.iter();
        let (mut fed_inputs, mut fed_reveals) = (0usize, 0usize);
        while fresh.current_tick() < target {
            match fresh.input_request() {
                InputRequest::Initial | InputRequest::FirstAfter { .. } => match inputs.next() {
                    Some(i) => {
                        fresh.set_input(i.clone())?;
                        fed_inputs += 1;
                    }
                    None => break,
                },
                InputRequest::Reveal(_) => match reveals.next() {
                    Some((_, r)) => {
                        fresh.reveal(r)?;
                        fed_reveals += 1;
                    }
                    None => break,
                },
                InputRequest::NoInputRequired => {
                    fresh.run(target - fresh.current_tick())?;
                }
            }
        }
        let what = match self.record.level {
            Some(level) => format!("level {level}"),
            None => "the session (from origination)".to_string(),
        };
        writeln!(
            out,
            "Cross-check of {what}: replayed ticks {} to {} ({} ticks, {fed_inputs} inputs, {fed_reveals} reveals) \
             on a fresh PVM instance",
            self.record.start_tick,
            fresh.current_tick(),
            fresh.current_tick() - self.record.start_tick
        )?;
        let live = self.pvm.state_hash()?;
        let replay = fresh.state_hash()?;
        writeln!(out, "State hash (debugger): {live}")?;
        writeln!(out, "State hash (replay):   {replay}")?;
        if fresh.current_tick() != target {
            return Err(refused(format!(
                "Cross-check failed: the replay stopped at tick {} instead of {target}",
                fresh.current_tick()
            )));
        }
        if live != replay {
            return Err(refused("Cross-check failed: the state hashes differ"));
        }
        self.crosscheck_fast(&what, out)?;
        writeln!(out, "Cross-check passed: the state hashes are equal")?;
        Ok(())
    }

    /// Part 2 of `crosscheck`: the PVM against soru-fast.
    fn crosscheck_fast(&mut self, what: &str, out: &mut dyn Write) -> Result<(), DebuggerError> {
        let engine = match &mut self.fast {
            Some(engine) => engine,
            None => self
                .fast
                .insert(soru_fast::FastEngine::new().map_err(|e| refused(e.to_string()))?),
        };
        let start = Pvm::from_tree(self.record.start.clone())?;
        let oracle: Arc<dyn soru_fast::RevealOracle> = Arc::new(RecordedReveals(self.record.reveals.clone()));
        let check = soru_fast::cross_check(engine, &start, &self.record.inputs, &oracle)
            .map_err(|e| refused(format!("Cross-check failed: {e}")))?;
        let stats = check.fast;
        writeln!(
            out,
            "Fast engine: replayed {what} on the PVM and on soru-fast to tick {} ({} kernel runs: {} on wasmtime, \
             {} load failures applied, {} fallbacks to the PVM, {} kernels compiled)",
            check.end.tick,
            check.kernel_runs,
            stats.fast_runs,
            stats.load_failures,
            stats.fallbacks + stats.pvm_cycles,
            stats.compiled
        )?;
        if let Some(d) = check.divergence {
            let at = match d.kernel_run {
                Some(n) => format!("after kernel run {n}"),
                None => "at the end".to_string(),
            };
            writeln!(
                out,
                "PVM:       tick {}, {:?}, state hash {}",
                d.pvm.tick, d.pvm.status, d.pvm.hash
            )?;
            writeln!(
                out,
                "soru-fast: tick {}, {:?}, state hash {}",
                d.fast.tick, d.fast.status, d.fast.hash
            )?;
            return Err(refused(format!(
                "Cross-check failed: soru-fast and the PVM differ {at}"
            )));
        }
        writeln!(out, "State hash (PVM):       {}", check.end.hash)?;
        writeln!(out, "State hash (soru-fast): {}", check.end.hash)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::DEFAULT_ROLLUP;
    use crate::repl::ScriptLines;

    fn counter_session() -> Session {
        let path = format!("{}/../../kernels/wasm/counter.wasm", env!("CARGO_MANIFEST_DIR"));
        let kernel = std::fs::read(path).unwrap();
        let external = |b: u8| vec![1, b];
        let config = Config::new(DEFAULT_ROLLUP.parse().unwrap());
        let mut s = Session::new(config, &kernel, vec![vec![external(b'a'), external(b'b')]]).unwrap();
        let mut out = Vec::new();
        s.execute_line("step inbox", &mut out, &mut ScriptLines::default())
            .unwrap();
        s
    }

    fn crosscheck(s: &mut Session) -> (String, Result<Flow, DebuggerError>) {
        let mut out = Vec::new();
        let r = s.execute_line("crosscheck", &mut out, &mut ScriptLines::default());
        (String::from_utf8(out).unwrap(), r)
    }

    #[test]
    fn crosscheck_compares_with_a_replay() {
        let mut s = counter_session();
        let (text, r) = crosscheck(&mut s);
        assert!(r.is_ok(), "{text}");
        assert!(
            text.contains("Cross-check of level 0: replayed ticks 0 to 100000000000000"),
            "{text}"
        );
        assert!(
            text.contains("Fast engine: replayed level 0 on the PVM and on soru-fast to tick 100000000000000 (1 kernel runs: 1 on wasmtime, 0 load failures applied, 0 fallbacks to the PVM, 1 kernels compiled)"),
            "{text}"
        );

        // A replay given another message ends in another state.
        let mut tampered = counter_session();
        tampered.record.inputs[2].payload = vec![0, 1];
        let (text, r) = crosscheck(&mut tampered);
        assert_eq!(
            r.unwrap_err().to_string(),
            "Cross-check failed: the state hashes differ",
            "{text}"
        );

        // A replay missing an input stops early.
        let mut short = counter_session();
        short.record.inputs.pop();
        let (_, r) = crosscheck(&mut short);
        assert!(r.unwrap_err().to_string().contains("the replay stopped at tick"));
    }

    #[test]
    fn crosscheck_before_any_level_replays_from_origination() {
        let path = format!("{}/../../kernels/wasm/echo.wasm", env!("CARGO_MANIFEST_DIR"));
        let kernel = std::fs::read(path).unwrap();
        let mut s = Session::new(Config::new(DEFAULT_ROLLUP.parse().unwrap()), &kernel, Vec::new()).unwrap();
        let (text, r) = crosscheck(&mut s);
        assert!(r.is_ok(), "{text}");
        assert!(
            text.contains("Cross-check of the session (from origination): replayed ticks 0 to 0"),
            "{text}"
        );
    }
}
