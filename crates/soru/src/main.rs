//! `soru`: one binary for the smart-rollup stack. Subcommands arrive with the
//! parts they drive; today: `soru debugger` and `soru bench`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "soru", version, about = "Tezos smart optimistic rollups, in Rust")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The kernel debugger: runs a kernel on the PVM without a node, tick by
    /// tick, with inspection, reveals and profiling (`help` lists the commands).
    Debugger(DebuggerArgs),
    /// Benchmarks that print ratios against a baseline measured in the same run.
    Bench {
        #[command(subcommand)]
        scenario: BenchScenario,
    },
}

#[derive(Debug, Args)]
struct DebuggerArgs {
    /// The kernel: a .wasm binary or a .wat text file.
    #[arg(long, value_name = "FILE")]
    kernel: PathBuf,
    /// Inboxes to load, level by level from 0: a JSON or YAML file.
    #[arg(long, value_name = "FILE")]
    inputs: Option<PathBuf>,
    /// The rollup address (metadata reveals, default destination of transfers).
    #[arg(long, value_name = "sr1…")]
    rollup: Option<String>,
    /// Directory of preimages, files named by the hex of their reveal hash
    /// [default: preimage].
    #[arg(long, value_name = "DIR")]
    preimage_dir: Option<PathBuf>,
    /// Do not print the kernel's debug messages.
    #[arg(long)]
    no_kernel_debug: bool,
    /// Run the commands of this file (one per line, or a JSON list) instead
    /// of reading them from the terminal; exits with status 1 if one fails.
    #[arg(long, value_name = "FILE")]
    commands: Option<PathBuf>,
}

/// `soru debugger`: reads commands from the file, the terminal (with line
/// editing and history) or standard input when it is not a terminal.
fn debugger(args: DebuggerArgs) -> Result<ExitCode> {
    let options = soru_debugger::Options {
        kernel: args.kernel,
        inputs: args.inputs,
        rollup: args.rollup,
        preimage_dir: args.preimage_dir,
        kernel_debug: !args.no_kernel_debug,
    };
    let mut session = match soru_debugger::start(&options) {
        Ok(session) => session,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let summary = if let Some(path) = &args.commands {
        let mut script = match soru_debugger::ScriptLines::from_file(path) {
            Ok(script) => script,
            Err(e) => {
                eprintln!("Error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        soru_debugger::run(&mut session, &mut script, &mut out)?
    } else if std::io::stdin().is_terminal() {
        let mut terminal = soru_debugger::Terminal::new()?;
        soru_debugger::run(&mut session, &mut terminal, &mut out)?;
        terminal.save_history();
        // Interactively, errors were seen and answered by the user.
        return Ok(ExitCode::SUCCESS);
    } else {
        let mut lines = soru_debugger::ReaderLines::new(std::io::stdin().lock());
        soru_debugger::run(&mut session, &mut lines, &mut out)?
    };
    Ok(if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, Subcommand)]
enum BenchScenario {
    /// soru-wasm against wasmi on CPU-bound programs.
    Wasm {
        /// Runs per program (the best is kept).
        #[arg(long, default_value_t = 5)]
        repeats: u32,
    },
    /// The full PVM against bare soru-wasm on the compute and tx kernels.
    Pvm,
    /// The state tree: proof sizes, write throughput, store commit and GC speed.
    Tree {
        /// Small sizes (seconds instead of minutes).
        #[arg(long)]
        quick: bool,
    },
    /// The fast engine against raw wasmtime and the PVM, per kernel.
    Fast {
        /// Smaller levels (a smoke run).
        #[arg(long)]
        quick: bool,
        /// Runs of soru-fast and raw wasmtime per kernel (the best is kept).
        #[arg(long, default_value_t = 5)]
        repeats: u32,
    },
    /// One-step proofs: sizes and verification times per class of ticks,
    /// on the example kernels and adversarial states.
    Proofs {
        /// Fewer ticks per class (a smoke run).
        #[arg(long)]
        quick: bool,
    },
}

fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Debugger(args) => return debugger(args),
        Command::Bench { scenario } => match scenario {
            BenchScenario::Wasm { repeats } => {
                for line in soru::bench::wasm::run(repeats)? {
                    println!("{line}");
                }
            }
            BenchScenario::Pvm => {
                for line in soru::bench::pvm::run()? {
                    println!("{line}");
                }
            }
            BenchScenario::Tree { quick } => {
                for line in soru_tree::bench::run(quick)? {
                    println!("{line}");
                }
            }
            BenchScenario::Fast { quick, repeats } => {
                for line in soru::bench::fast::run(quick, repeats)? {
                    println!("{line}");
                }
            }
            BenchScenario::Proofs { quick } => {
                for line in soru::bench::proofs::run(quick)? {
                    println!("{line}");
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
