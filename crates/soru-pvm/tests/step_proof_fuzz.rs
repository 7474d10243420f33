//! Fuzzing one-step proofs: float-free wasm-smith modules exporting
//! `kernel_run` and `memory` and importing host functions are installed as
//! kernels and run through a level of inputs; at random steps (loading,
//! kernel code, host calls, inputs, padding, reboots, stuck states) the
//! step is proved, the proof verified, and its stop hash compared with the
//! PVM's own state after that step. Every proof must fit the `refute` cap,
//! loading ticks (Decode, Link, Init, the start function) included.
//!
//! `SORU_FUZZ_KERNELS` sets the number of kernels (default 2 500, eight
//! picked steps each, over 10⁴ proved); longer runs are opt-in.

mod common;

use soru_pvm::step_proof::{verify_step, StepInput, StepProver};
use soru_pvm::{empty_preimage_hash, InputRequest, Pvm, RevealRequest, Status};

/// Largest `refute` operation the L1 accepts.
const REFUTE_CAP: usize = 32_768;

/// Ticks per cycle: small, so random steps cross cycle boundaries.
const TPS: u128 = 3_000;

/// A random kernel: any float-free module with the kernel exports, free to
/// call the host functions below with random arguments.
fn kernel(seed: u64) -> Option<Vec<u8>> {
    common::smith_kernel(seed, &common::smith_imports(true), 10, 150)
}

/// The input answering `request`, if this scenario has one.
fn answer(request: &InputRequest, inputs: &mut impl Iterator<Item = soru_pvm::Input>) -> Option<Option<StepInput>> {
    match request {
        InputRequest::NoInputRequired => Some(None),
        InputRequest::Initial | InputRequest::FirstAfter { .. } => inputs.next().map(|i| Some(StepInput::Message(i))),
        InputRequest::Reveal(RevealRequest::Metadata) => Some(Some(StepInput::Reveal(vec![3; 24]))),
        InputRequest::Reveal(RevealRequest::RawData(h)) if *h == empty_preimage_hash() => {
            Some(Some(StepInput::Reveal(Vec::new())))
        }
        InputRequest::Reveal(RevealRequest::RawData(_)) => None,
    }
}

/// Applies `input` (or one tick) to the PVM itself.
fn apply(pvm: &mut Pvm, input: Option<StepInput>) {
    match input {
        None => pvm.step().expect("steps"),
        Some(StepInput::Message(m)) => pvm.set_input(m).expect("accepted"),
        Some(StepInput::Reveal(d)) => pvm.reveal(&d).expect("revealed"),
    }
}

#[test]
fn random_kernels_random_steps_prove_the_true_next_state() {
    let kernels: u64 = std::env::var("SORU_FUZZ_KERNELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_500);
    let (mut cases, mut largest, mut skipped) = (0u64, 0usize, 0u64);
    let (mut loading_largest, mut loading_cases) = (0usize, 0u64);
    let mut seed = 0u64;
    let mut made = 0;
    while made < kernels {
        seed += 1;
        let Some(bytes) = kernel(seed) else {
            skipped += 1;
            continue;
        };
        made += 1;
        let mut pvm = Pvm::install_boot_sector(&common::config(TPS), &bytes).expect("genesis");
        let payloads: [&[u8]; 2] = [b"\x01fuzz", &[0x5a; 4000]];
        let mut inputs = soru_pvm::inbox::external_level_inputs(1, common::info(), &payloads)
            .into_iter()
            .chain(soru_pvm::inbox::external_level_inputs(2, common::info(), &payloads));
        // Eight random steps among the first few thousand.
        let mut picks: Vec<u64> = common::random_bytes(seed ^ 0xabcd, 8)
            .iter()
            .map(|&b| u64::from(b) * 37 % 9_000)
            .collect();
        picks.sort_unstable();
        let mut step = 0u64;
        for pick in picks {
            // Walk to the picked step (padding jumps count as one step).
            let mut blocked = false;
            while step < pick {
                let Some(input) = answer(&pvm.input_request(), &mut inputs) else {
                    blocked = true;
                    break;
                };
                match input {
                    None => {
                        pvm.run(1).expect("runs");
                    }
                    some => apply(&mut pvm, some),
                }
                step += 1;
            }
            if blocked {
                break;
            }
            let Some(input) = answer(&pvm.input_request(), &mut inputs) else {
                break;
            };
            let (proof, verdict) = StepProver::new(&pvm)
                .expect("state")
                .prove(input.clone())
                .unwrap_or_else(|e| panic!("kernel {seed} step {step}: {e}"));
            assert!(
                proof.len() <= REFUTE_CAP,
                "kernel {seed} step {step}: {} bytes in {:?}",
                proof.len(),
                pvm.internal_state()
            );
            if pvm.status() == Status::Loading {
                loading_largest = loading_largest.max(proof.len());
                loading_cases += 1;
            } else {
                largest = largest.max(proof.len());
            }
            let verified = verify_step(proof.as_bytes(), input.clone())
                .unwrap_or_else(|e| panic!("kernel {seed} step {step}: does not verify: {e}"));
            assert_eq!(verified, verdict, "kernel {seed} step {step}");
            apply(&mut pvm, input);
            step += 1;
            assert_eq!(
                verdict.stop,
                Some(pvm.state_hash().expect("hash")),
                "kernel {seed} step {step}: the proof's stop is not the PVM's next state"
            );
            cases += 1;
        }
    }
    println!(
        "fuzz: {made} kernels ({skipped} seeds gave none), {cases} steps proved, largest proof {largest} bytes \
         (loading: {loading_cases} steps, largest {loading_largest})"
    );
    // Walks end early where a kernel asks for a preimage nobody has.
    assert!(cases >= kernels * 4, "too few cases: {cases}");
}
