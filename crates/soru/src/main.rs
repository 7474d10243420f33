//! `soru`: one binary for the smart-rollup stack. Subcommands arrive with the
//! parts they drive; today: `soru bench`.

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "soru", version, about = "Tezos smart optimistic rollups, in Rust")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Benchmarks that print ratios against a baseline measured in the same run.
    Bench {
        #[command(subcommand)]
        scenario: BenchScenario,
    },
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
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
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
        },
    }
    Ok(())
}
