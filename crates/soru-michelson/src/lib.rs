//! Michelson for soru's L1: types, values (read from Micheline against a
//! type, written back in Octez's Readable or Optimized form, compared as
//! `COMPARE` does), the typechecker that turns code into typed
//! instructions, and the gas-metered interpreter that runs them against a
//! view of the chain. Micheline's syntaxes (binary, JSON, concrete) are
//! soru-core's; what contracts do to balances, tickets and the inbox is
//! soru-l1's.

pub mod entrypoints;
pub mod error;
pub mod gas;
pub mod instr;
pub mod interp;
pub mod ty;
pub mod typecheck;
pub mod value;

pub use entrypoints::Entrypoints;
pub use error::{DataError, RuntimeError, ScriptError, TypeError};
pub use gas::Gas;
pub use interp::{run_script, ChainView, Env, Outcome};
pub use ty::Type;
pub use typecheck::{Checker, Script, Stack, TypeMap};
pub use value::{
    normalize_code, parse_data, parse_data_in, unparse, Address, DataContext, Destination, Form, Lambda, LambdaCode,
    Ticket, Transfer, Value,
};

/// The stack the typechecker and interpreter need for the deepest code
/// and values Micheline allows (they recurse on nesting): callers that run
/// scripts on threads of their own give them this much (it is reserved,
/// not committed).
pub const STACK_SIZE: usize = 256 * 1024 * 1024;

/// Runs `f` on a thread with [`STACK_SIZE`] of stack and returns its
/// result (a panic in `f` is resumed here).
pub fn with_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, f)
            .unwrap_or_else(|e| panic!("cannot start a script thread: {e}"));
        match handle.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Reads a script written as in a `.tz` file: its sections with or
/// without the enclosing braces (`parameter …; storage …; code …`).
pub fn script_from_text(text: &str) -> Result<soru_core::micheline::Micheline, soru_core::micheline::MichelineError> {
    let trimmed = text.trim_start();
    // A file may open with comments: the braces are added whenever the
    // text does not parse as one expression.
    if trimmed.starts_with('{') {
        if let Ok(expr) = trimmed.parse() {
            return Ok(expr);
        }
    }
    format!("{{ {text}\n}}").parse()
}
