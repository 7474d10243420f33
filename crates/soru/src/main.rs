//! `soru`: one binary for the smart-rollup stack. Subcommands arrive with the
//! parts they drive; today: `soru l1`, `soru debugger` and `soru bench`.

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
    /// The layer 1: a Tezos-style chain hosting smart rollups, with the
    /// Octez RPC.
    L1 {
        #[command(subcommand)]
        command: L1Command,
    },
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
enum L1Command {
    /// Runs an L1 node: opens (or creates) the chain in the data directory,
    /// serves the RPC and bakes a block every `--block-time` seconds.
    Run(L1RunArgs),
    /// Asks a running node to bake a block now (or a new branch).
    Bake(L1BakeArgs),
}

#[derive(Debug, Args)]
struct L1RunArgs {
    /// Where the chain is stored.
    #[arg(long, value_name = "DIR", default_value = "soru-l1")]
    data_dir: PathBuf,
    /// RPC address (loopback by default).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:18731")]
    rpc_addr: std::net::SocketAddr,
    /// Constants: `sandbox` (1 s blocks, short rollup periods) or `mainnet`.
    /// Only read when the chain is created.
    #[arg(long, default_value = "sandbox")]
    profile: String,
    /// Seconds between blocks [default: the profile's minimal block delay].
    #[arg(long, value_name = "SECONDS")]
    block_time: Option<f64>,
    /// Bake only when asked (`soru l1 bake` or `POST /soru/bake`).
    #[arg(long)]
    manual: bool,
}

#[derive(Debug, Args)]
struct L1BakeArgs {
    /// The node's RPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:18731")]
    endpoint: String,
    /// Blocks to bake.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Start a new branch at this level (test reorgs): the chain is cut
    /// back to the level before and a new block is baked there.
    #[arg(long, value_name = "LEVEL")]
    from: Option<u32>,
}

fn l1_run(args: L1RunArgs) -> Result<ExitCode> {
    let config = soru_l1::ChainConfig::new(&args.profile, soru_l1::rpc::now().seconds).map_err(anyhow::Error::msg)?;
    let chain = soru_l1::Chain::open(&args.data_dir, config)?;
    let delay = chain.params().minimal_block_delay as f64;
    let head = chain.head().clone();
    let node = soru_l1::rpc::Node::new(chain);
    let (addr, server) = soru_l1::rpc::serve(node.clone(), args.rpc_addr)?;
    println!(
        "soru l1: chain at level {} ({}), RPC on http://{addr}",
        head.header.level, head.hash
    );
    if !args.manual {
        let interval = args.block_time.unwrap_or(delay);
        if !(interval.is_finite() && interval > 0.0) {
            anyhow::bail!("--block-time must be a positive number of seconds");
        }
        node.produce_blocks(std::time::Duration::from_secs_f64(interval));
    }
    let _ = server.join();
    Ok(ExitCode::SUCCESS)
}

fn l1_bake(args: L1BakeArgs) -> Result<ExitCode> {
    let url = format!("{}/soru/bake", args.endpoint.trim_end_matches('/'));
    for i in 0..args.count {
        let body = match (i, args.from) {
            (0, Some(level)) => format!("{{\"from_level\": {level}}}"),
            _ => "{}".to_string(),
        };
        match ureq::post(&url)
            .set("Content-Type", "application/json")
            .send_string(&body)
        {
            Ok(response) => println!("{}", response.into_string()?),
            Err(ureq::Error::Status(code, response)) => {
                eprintln!("Error: HTTP {code}: {}", response.into_string().unwrap_or_default());
                return Ok(ExitCode::FAILURE);
            }
            Err(e) => {
                eprintln!("Error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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

/// Logs to standard error, filtered by `RUST_LOG` (default: info).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Debugger(args) => return debugger(args),
        Command::L1 { command } => {
            init_logging();
            return match command {
                L1Command::Run(args) => l1_run(args),
                L1Command::Bake(args) => l1_bake(args),
            };
        }
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
