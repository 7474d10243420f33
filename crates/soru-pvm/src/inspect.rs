//! Read-only views of a running PVM and hooked runs, for tools such as the
//! kernel debugger (`soru-debugger`): the fine-grained phase, the unread
//! inputs, the linear memory and the functions of the running kernel, and
//! runs whose interpreter ticks, calls, returns and host-call costs are
//! reported to [`PvmHooks`].
//!
//! Nothing here changes the state except the runs, which execute exactly the
//! ticks [`Pvm::run`] would.

use crate::host::HostFn;
use soru_wasm::hooks::{Hooks, NoHooks};
use soru_wasm::store::FuncInst;
use soru_wasm::Store;

use crate::pvm::{EvalState, Input, Phase, Pvm, PvmError, StuckReason};

/// Interpreter hooks (ticks, calls, returns, state chunks) plus what the PVM
/// adds around the interpreter. Hooks given to the PVM must not refuse state
/// accesses: the PVM's in-memory state has every chunk.
pub trait PvmHooks: Hooks {
    /// `ticks` ticks charged for a host call (or a reveal answer) were spent.
    /// They follow the host call's `call` hook, before the next interpreter tick.
    fn host_ticks(&mut self, _ticks: u128) {}
}

impl PvmHooks for NoHooks {}

/// The PVM's phase, finer than [`crate::Status`] (what Octez calls the
/// internal state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InternalState {
    /// Reading inputs.
    Collect,
    /// Idle until the end of the cycle.
    Padding,
    /// About to read `/kernel/boot.wasm`.
    Snapshot,
    /// Decoding and validating the kernel.
    Decode,
    /// Linking the kernel's imports.
    Link,
    /// Instantiating the kernel.
    Init,
    /// Running kernel code (the start function or `kernel_run`).
    Eval,
    /// Stuck.
    Stuck(StuckReason),
}

/// A function of the running kernel's instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningFunction {
    /// Store address (what [`Hooks::call`] reports).
    pub address: u32,
    /// Index in the module's function index space (imports first), the
    /// index the `name` section uses.
    pub index: u32,
    /// For an imported (host) function, its module and name.
    pub import: Option<(String, String)>,
}

/// Why memory could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    /// No kernel is running, so there is no memory.
    #[error("no kernel memory in the current phase ({0})")]
    NotRunning(&'static str),
    /// The running instance has no memory.
    #[error("the running kernel has no memory")]
    NoMemory,
    /// The range is outside the memory.
    #[error("{len} bytes at address {address} are outside the memory ({size} bytes)")]
    OutOfBounds {
        /// Requested address.
        address: u64,
        /// Requested length.
        len: u64,
        /// Memory size in bytes.
        size: u64,
    },
}

fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Collect => "Collect",
        Phase::Padding => "Padding",
        Phase::Snapshot => "Snapshot",
        Phase::Decode { .. } => "Decode",
        Phase::Link { .. } => "Link",
        Phase::Init { .. } => "Init",
        Phase::Eval(_) => "Eval",
        Phase::Stuck(_) => "Stuck",
    }
}

/// Memory 0 of the running instance (the exported one for `kernel_run`).
fn memory_address(e: &EvalState) -> Option<u32> {
    if e.memory != u32::MAX {
        return Some(e.memory);
    }
    e.store.instances.first().and_then(|i| i.memories.first().copied())
}

fn running_store(pvm: &Pvm) -> Option<&EvalState> {
    match &pvm.phase {
        Phase::Eval(e) => Some(e),
        _ => None,
    }
}

#[cfg(feature = "prover")]
impl Pvm {
    /// The phase, finer than [`Pvm::status`].
    pub fn internal_state(&self) -> InternalState {
        match &self.phase {
            Phase::Collect => InternalState::Collect,
            Phase::Padding => InternalState::Padding,
            Phase::Snapshot => InternalState::Snapshot,
            Phase::Decode { .. } => InternalState::Decode,
            Phase::Link { .. } => InternalState::Link,
            Phase::Init { .. } => InternalState::Init,
            Phase::Eval(_) => InternalState::Eval,
            Phase::Stuck(r) => InternalState::Stuck(r.clone()),
        }
    }

    /// Ticks left in the current cycle, its last (boundary) tick included.
    pub fn ticks_left_in_cycle(&self) -> u128 {
        self.ticks_to_boundary()
    }

    /// The ticks of one cycle (`ticks_per_snapshot`).
    pub fn ticks_per_cycle(&self) -> u128 {
        self.meta.max_nb_ticks
    }

    /// Host-call cost ticks still to spend before kernel code resumes.
    pub fn pending_host_ticks(&self) -> u128 {
        running_store(self).map_or(0, |e| e.pending_ticks)
    }

    /// Whether the next tick executes kernel code: evaluating, no reveal
    /// awaited, no host-call cost ticks left.
    pub fn at_interpreter_tick(&self) -> bool {
        running_store(self).is_some_and(|e| e.reveal.is_none() && e.pending_ticks == 0)
    }

    /// Whether the kernel code being run is a start function (during
    /// instantiation) rather than `kernel_run`.
    pub fn in_start_function(&self) -> bool {
        running_store(self).is_some_and(|e| e.in_start.is_some())
    }

    /// The inputs given to the PVM and not yet read by the kernel, in order.
    pub fn unread_inputs(&self) -> Result<Vec<Input>, PvmError> {
        self.read_unread_inputs()
    }

    /// The size in bytes of the running kernel's memory.
    pub fn memory_size(&self) -> Result<u64, MemoryError> {
        let e = running_store(self).ok_or(MemoryError::NotRunning(phase_name(&self.phase)))?;
        let mem = memory_address(e).ok_or(MemoryError::NoMemory)?;
        Ok(e.store.memories[mem as usize].data.len() as u64)
    }

    /// `len` bytes of the running kernel's memory at `address`.
    pub fn read_memory(&self, address: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
        let e = running_store(self).ok_or(MemoryError::NotRunning(phase_name(&self.phase)))?;
        let mem = memory_address(e).ok_or(MemoryError::NoMemory)?;
        let data = &e.store.memories[mem as usize].data;
        let size = data.len() as u64;
        match address.checked_add(len) {
            Some(end) if end <= size => Ok(data[address as usize..end as usize].to_vec()),
            _ => Err(MemoryError::OutOfBounds { address, len, size }),
        }
    }

    /// The functions of the running kernel's instance, by index, with their
    /// store addresses; `None` when no kernel code is running.
    pub fn running_functions(&self) -> Option<Vec<RunningFunction>> {
        let e = running_store(self)?;
        Some(instance_functions(&e.store, &e.host_fns))
    }

    /// Like [`Pvm::run_with_hooks`], but stops as soon as the PVM leaves the
    /// evaluation of kernel code or waits for a reveal: the hooks see one
    /// evaluation phase and nothing else. Returns the ticks executed.
    pub fn run_eval_with_hooks<H: PvmHooks>(&mut self, max_ticks: u128, hooks: &mut H) -> Result<u128, PvmError> {
        let start = self.meta.current_tick;
        while self.meta.current_tick - start < max_ticks {
            match &self.phase {
                Phase::Eval(e) if e.reveal.is_none() => {}
                _ => break,
            }
            let budget = max_ticks - (self.meta.current_tick - start);
            self.advance(budget, hooks)?;
        }
        Ok(self.meta.current_tick - start)
    }
}

/// The functions of instance 0 of `store` (a kernel has one instance);
/// host function `i` is the kernel's import `i`, linked to `host_fns[i]`.
fn instance_functions(store: &Store, host_fns: &[HostFn]) -> Vec<RunningFunction> {
    let Some(instance) = store.instances.first() else {
        return Vec::new();
    };
    instance
        .funcs
        .iter()
        .enumerate()
        .map(|(index, &address)| {
            let import = match store.funcs.get(address as usize) {
                Some(FuncInst::Host { host_id, .. }) => host_fns
                    .get(*host_id as usize)
                    .map(|f| (crate::host::HOST_MODULE.to_string(), f.name().to_string())),
                _ => None,
            };
            RunningFunction {
                address,
                index: index as u32,
                import,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, InputRequest, PvmConfig, Status};

    fn config() -> PvmConfig {
        PvmConfig {
            ticks_per_snapshot: 100_000,
            maximum_reboots_per_input: 10,
            outbox_validity_period: 100,
            outbox_message_limit: 100,
        }
    }

    /// A kernel that writes `abc` at address 16, then calls `write_debug`
    /// through a helper, then returns.
    const KERNEL: &str = r#"
        (module
          (import "smart_rollup_core" "write_debug" (func $debug (param i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "abc")
          (func $helper (call $debug (i32.const 16) (i32.const 3)))
          (func (export "kernel_run") (call $helper)))
    "#;

    fn at_eval() -> Pvm {
        let mut pvm = Pvm::install_boot_sector(&config(), &wat::parse_str(KERNEL).unwrap()).unwrap();
        for (counter, payload) in [vec![0u8, 1], vec![0, 2]].into_iter().enumerate() {
            pvm.set_input(Input {
                level: 0,
                counter: counter as u64,
                payload,
            })
            .unwrap();
        }
        while pvm.internal_state() != InternalState::Eval {
            pvm.run(1).unwrap();
        }
        pvm
    }

    #[derive(Default)]
    struct Recorder {
        ticks: u64,
        calls: Vec<u32>,
        rets: u32,
        host: u128,
    }

    impl Hooks for Recorder {
        const ENABLED: bool = true;
        fn tick(&mut self) {
            self.ticks += 1;
        }
        fn call(&mut self, func: u32) {
            self.calls.push(func);
        }
        fn ret(&mut self) {
            self.rets += 1;
        }
    }

    impl PvmHooks for Recorder {
        fn host_ticks(&mut self, ticks: u128) {
            self.host += ticks;
        }
    }

    #[test]
    fn memory_functions_and_states() {
        let mut pvm = at_eval();
        assert!(pvm.at_interpreter_tick());
        assert!(!pvm.in_start_function());
        assert_eq!(pvm.memory_size().unwrap(), 65_536);
        assert_eq!(pvm.read_memory(16, 3).unwrap(), b"abc");
        assert_eq!(
            pvm.read_memory(65_535, 2),
            Err(MemoryError::OutOfBounds {
                address: 65_535,
                len: 2,
                size: 65_536
            })
        );
        let funcs = pvm.running_functions().unwrap();
        assert_eq!(funcs.len(), 3);
        assert_eq!(
            funcs[0].import,
            Some(("smart_rollup_core".to_string(), "write_debug".to_string()))
        );
        assert_eq!(funcs[2].import, None);
        assert_eq!(funcs.iter().map(|f| f.index).collect::<Vec<_>>(), vec![0, 1, 2]);
        // The inputs were all read by the PVM, not by the kernel.
        assert_eq!(pvm.unread_inputs().unwrap().len(), 2);

        let mut rec = Recorder::default();
        let before = pvm.current_tick();
        let ran = pvm.run_eval_with_hooks(u128::MAX, &mut rec).unwrap();
        assert_eq!(pvm.internal_state(), InternalState::Padding);
        assert_eq!(pvm.current_tick() - before, ran);
        assert_eq!(u128::from(rec.ticks) + rec.host, ran, "every tick is reported");
        // kernel_run, $helper, write_debug; two wasm returns.
        assert_eq!(rec.calls, vec![funcs[2].address, funcs[1].address, funcs[0].address]);
        assert_eq!(rec.rets, 2);
        assert!(matches!(pvm.read_memory(0, 1), Err(MemoryError::NotRunning("Padding"))));
        assert!(pvm.running_functions().is_none());
        assert!(pvm.ticks_left_in_cycle() > 0);
        assert_eq!(pvm.ticks_per_cycle(), 100_000);
        pvm.run_until_input(u128::MAX).unwrap();
        assert_eq!(pvm.status(), Status::Collect);
        assert!(matches!(
            pvm.input_request(),
            InputRequest::FirstAfter { level: 0, counter: 1 }
        ));
    }

    #[test]
    fn hooked_runs_equal_plain_runs() {
        let mut plain = at_eval();
        let mut hooked = at_eval();
        plain.run_until_input(u128::MAX).unwrap();
        let mut rec = Recorder::default();
        while hooked.input_request() == InputRequest::NoInputRequired {
            hooked.run_with_hooks(7, &mut rec).unwrap();
        }
        assert_eq!(plain.current_tick(), hooked.current_tick());
        assert_eq!(plain.state_hash().unwrap(), hooked.state_hash().unwrap());
        assert!(rec.ticks > 0);
    }
}
