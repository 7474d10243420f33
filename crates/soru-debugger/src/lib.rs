//! `soru-debugger`: the kernel debugger behind `soru debugger` — a REPL that
//! runs a kernel on the PVM without a node or a network, as Octez's
//! `octez-smart-rollup-wasm-debugger` does (seed 003, "Testing your
//! Kernel"). It originates the kernel (checked first: decoding in PVM mode,
//! host-function imports, exports), loads inboxes from a JSON or YAML file
//! level by level, steps tick by tick or to the end of a `kernel_run`, an
//! evaluation or an inbox, shows the inbox, outbox, durable storage and
//! memory, answers reveals from a preimage directory or from the user,
//! profiles where ticks go per phase and per function, and cross-checks a
//! level by replaying it on a fresh PVM.
//!
//! It uses the mainnet PVM parameters, so tick totals are multiples of
//! `ticks_per_snapshot` (5·10¹³) at level boundaries. It is not a node: no
//! L1, no commitments, no refutation; the levels are numbered from 0 and
//! the rollup is originated at level 0.
//!
//! Modules: [`command`] parses commands, [`session`] runs them on the PVM,
//! [`repl`] reads them (script, pipe or terminal), [`inputs`] reads inputs
//! files, [`kernel`] reads and checks kernels, [`names`] reads the `name`
//! section, [`profile`] is the profiler, [`display`] formats values.

pub mod command;
pub mod display;
mod error;
pub mod inputs;
pub mod kernel;
pub mod names;
pub mod profile;
pub mod repl;
pub mod session;

use std::path::PathBuf;

pub use command::{parse, Command, StepKind};
pub use error::DebuggerError;
pub use repl::{run, LineSource, ReaderLines, ScriptLines, Summary, Terminal};
pub use session::{Config, Flow, Session};

/// The command-line options of `soru debugger`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The kernel (`.wasm`, or `.wat`/`.wast` text).
    pub kernel: PathBuf,
    /// The inputs file (JSON or YAML), if any.
    pub inputs: Option<PathBuf>,
    /// The rollup address (`sr1…`), default [`inputs::DEFAULT_ROLLUP`].
    pub rollup: Option<String>,
    /// The preimage directory, default `preimage` (must exist when given).
    pub preimage_dir: Option<PathBuf>,
    /// Print the kernel's debug messages.
    pub kernel_debug: bool,
}

/// Reads and checks the kernel and the inputs, and starts a session right
/// after origination.
pub fn start(options: &Options) -> Result<Session, DebuggerError> {
    let text = options.rollup.as_deref().unwrap_or(inputs::DEFAULT_ROLLUP);
    let rollup = text
        .parse()
        .map_err(|e| DebuggerError::Option(format!("invalid rollup address {text:?}: {e}")))?;
    let mut config = Config::new(rollup);
    config.kernel_debug = options.kernel_debug;
    if let Some(dir) = &options.preimage_dir {
        if !dir.is_dir() {
            return Err(DebuggerError::Option(format!(
                "the preimage directory {} does not exist",
                dir.display()
            )));
        }
        config.preimage_dir = dir.clone();
    }
    let kernel = kernel::read_kernel(&options.kernel)?;
    let inboxes = match &options.inputs {
        Some(path) => inputs::read_inputs(path, &inputs::InputDefaults::new(rollup))?,
        None => Vec::new(),
    };
    Session::new(config, &kernel, inboxes)
}
