//! The cross-check: a level replayed from one state on the PVM alone and on
//! the PVM with soru-fast taking the `kernel_run`s, compared (tick, status,
//! state hash) after every kernel run and at the end. How an operator, or
//! `soru debugger`'s `crosscheck`, sees that the fast engine reaches the
//! state the PVM defines on their kernel and inbox.

use std::sync::Arc;

use soru_core::StateHash;
use soru_pvm::{Input, InputRequest, Pvm, Status};

use crate::engine::{FastEngine, FastStats, Handled};
use crate::run::RevealOracle;
use crate::FastError;

/// One engine's state at a comparison point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineState {
    /// The tick counter.
    pub tick: u128,
    /// The PVM's status.
    pub status: Status,
    /// The state hash.
    pub hash: StateHash,
}

impl EngineState {
    fn of(pvm: &Pvm) -> Result<Self, FastError> {
        Ok(Self {
            tick: pvm.current_tick(),
            status: pvm.status(),
            hash: pvm.state_hash()?,
        })
    }
}

/// Where and how the engines first disagreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// After which kernel run (1 = the first of the replay); `None`: at
    /// the end of the replay.
    pub kernel_run: Option<u64>,
    /// The PVM alone.
    pub pvm: EngineState,
    /// The PVM with soru-fast.
    pub fast: EngineState,
}

/// What [`cross_check`] found.
#[derive(Debug)]
pub struct CrossCheck {
    /// Kernel runs replayed (each one compared).
    pub kernel_runs: u64,
    /// Inputs given (the rest were not needed yet).
    pub inputs_fed: usize,
    /// The state both reached, or the PVM's at the divergence.
    pub end: EngineState,
    /// The first disagreement, if any.
    pub divergence: Option<Divergence>,
    /// What the fast engine did during the replay.
    pub fast: FastStats,
    /// The PVM's state at the end (to continue from).
    pub pvm: Pvm,
}

/// Replays from `start`, giving `inputs` in order as the PVM asks for them
/// and answering reveals from `oracle`, until the PVM needs an input past
/// `inputs` or reveal data `oracle` lacks — on the PVM alone and on the PVM
/// with `engine`, compared after every kernel run and at the end. Stops at
/// the first disagreement.
pub fn cross_check(
    engine: &mut FastEngine,
    start: &Pvm,
    inputs: &[Input],
    oracle: &Arc<dyn RevealOracle>,
) -> Result<CrossCheck, FastError> {
    let before = engine.stats();
    let mut reference = Pvm::from_tree(start.to_tree()?)?;
    let mut fast = Pvm::from_tree(start.to_tree()?)?;
    let (mut fed, mut kernel_runs) = (0usize, 0u64);
    let mut divergence = None;
    loop {
        if reference.input_request() != fast.input_request() {
            divergence = compare(&reference, &fast, Some(kernel_runs))?;
            break;
        }
        match reference.input_request() {
            InputRequest::Initial | InputRequest::FirstAfter { .. } => match inputs.get(fed) {
                Some(input) => {
                    reference.set_input(input.clone())?;
                    fast.set_input(input.clone())?;
                    fed += 1;
                    continue;
                }
                None => break,
            },
            InputRequest::Reveal(request) => match oracle.reveal(&request) {
                Some(data) => {
                    reference.reveal(&data)?;
                    fast.reveal(&data)?;
                    continue;
                }
                None => break,
            },
            InputRequest::NoInputRequired => {}
        }
        if reference.kernel_load()?.is_some() {
            run_load_on_pvm(&mut reference, oracle)?;
            if engine.take_kernel_load(&mut fast, oracle)? == Handled::Declined {
                run_load_on_pvm(&mut fast, oracle)?;
            }
            kernel_runs += 1;
            divergence = compare(&reference, &fast, Some(kernel_runs))?;
            if divergence.is_some() {
                break;
            }
            continue;
        }
        reference.run_to_kernel_load(u128::MAX)?;
        fast.run_to_kernel_load(u128::MAX)?;
    }
    if divergence.is_none() {
        divergence = compare(&reference, &fast, None)?;
    }
    Ok(CrossCheck {
        kernel_runs,
        inputs_fed: fed,
        end: EngineState::of(&reference)?,
        divergence,
        fast: engine.stats().since(&before),
        pvm: reference,
    })
}

/// The kernel load and run the PVM is at, on the PVM, reveals answered
/// while `oracle` has the data.
fn run_load_on_pvm(pvm: &mut Pvm, oracle: &Arc<dyn RevealOracle>) -> Result<(), FastError> {
    loop {
        pvm.run_kernel_load(u128::MAX)?;
        let InputRequest::Reveal(request) = pvm.input_request() else {
            return Ok(());
        };
        match oracle.reveal(&request) {
            Some(data) => pvm.reveal(&data)?,
            None => return Ok(()),
        }
    }
}

fn compare(reference: &Pvm, fast: &Pvm, kernel_run: Option<u64>) -> Result<Option<Divergence>, FastError> {
    let (pvm, fast) = (EngineState::of(reference)?, EngineState::of(fast)?);
    Ok((pvm != fast).then_some(Divergence { kernel_run, pvm, fast }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pvm(kernel_wat: &str) -> Pvm {
        let config = soru_pvm::PvmConfig::from_params(&soru_core::params::ProtocolParams::mainnet().smart_rollup.pvm);
        Pvm::install_boot_sector(&config, &wat::parse_str(kernel_wat).expect("wat")).expect("genesis")
    }

    const KERNEL: &str = r#"(module (memory (export "memory") 1) (func (export "kernel_run")))"#;

    #[test]
    fn states_that_differ_are_a_divergence() {
        let a = pvm(KERNEL);
        let mut b = pvm(KERNEL);
        assert_eq!(compare(&a, &b, Some(1)).expect("compare"), None);
        b.durable_write("/x", b"1").expect("write");
        let divergence = compare(&a, &b, Some(1)).expect("compare").expect("a divergence");
        assert_eq!(divergence.kernel_run, Some(1));
        assert_ne!(divergence.pvm.hash, divergence.fast.hash);
        assert_eq!(divergence.pvm.tick, divergence.fast.tick);
    }

    #[test]
    fn a_replay_stops_where_inputs_run_out() {
        let start = pvm(KERNEL);
        let mut engine = FastEngine::new().expect("engine");
        let oracle: Arc<dyn RevealOracle> = Arc::new(crate::NoReveals);
        let info = soru_core::inbox::InfoPerLevel {
            predecessor_timestamp: soru_core::time::Timestamp::from_seconds(0),
            predecessor: soru_core::BlockHash([0; 32]),
        };
        let inputs = soru_pvm::inbox::external_level_inputs(1, info, &[b"a".as_slice()]);
        let check = cross_check(&mut engine, &start, &inputs, &oracle).expect("cross-check");
        assert_eq!(check.divergence, None);
        assert_eq!(check.inputs_fed, inputs.len());
        assert_eq!((check.kernel_runs, check.fast.fast_runs), (1, 1), "{check:?}");
        // Only part of the level: the replay waits for the rest.
        let check = cross_check(&mut engine, &start, &inputs[..2], &oracle).expect("cross-check");
        assert_eq!((check.inputs_fed, check.kernel_runs), (2, 0));
        assert_eq!(check.divergence, None);
    }
}
