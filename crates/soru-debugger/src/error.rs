//! The debugger's errors. Every one but [`DebuggerError::Io`] is reported
//! to the user and the session goes on.

use crate::command::CommandError;
use crate::inputs::InputsError;
use crate::kernel::KernelError;

/// What went wrong with a command or at start-up.
#[derive(Debug, thiserror::Error)]
pub enum DebuggerError {
    /// A kernel that cannot be read or is not a valid kernel.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// An inputs file that cannot be read or parsed.
    #[error(transparent)]
    Inputs(#[from] InputsError),
    /// A line that is not a command.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A command that cannot be carried out now or with these arguments.
    #[error("{0}")]
    Refused(String),
    /// A bad option at start-up.
    #[error("{0}")]
    Option(String),
    /// The PVM refused an operation or its state is broken.
    #[error("PVM: {0}")]
    Pvm(#[from] soru_pvm::PvmError),
    /// Writing the output or reading the commands failed: the session ends.
    #[error("input/output: {0}")]
    Io(#[from] std::io::Error),
}

/// A refusal with this message.
pub(crate) fn refused(message: impl Into<String>) -> DebuggerError {
    DebuggerError::Refused(message.into())
}
