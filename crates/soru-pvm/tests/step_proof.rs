//! PVM one-step proofs through the generic path: from origination through
//! loading, kernel runs and padding, every sampled state's proof verifies
//! from that state's hash to exactly the hash of the state the PVM reaches;
//! inputs that do not answer the request are refused, missing inputs block;
//! altered proofs never prove a false step. Prints sizes per phase.

mod common;

use std::collections::BTreeMap;

use soru_pvm::step_proof::{prove_step, verify_step, StepInput, StepProofError};
use soru_pvm::{Input, InputRequest, Pvm};

const TPS: u128 = 100_000;

fn echo_pvm() -> Pvm {
    let kernel = wat::parse_str(common::echo_wat()).expect("valid wat");
    Pvm::install_boot_sector(&common::config(TPS), &kernel).expect("genesis")
}

fn inbox(levels: u32) -> Vec<Input> {
    (1..=levels)
        .flat_map(|level| {
            let payloads: Vec<Vec<u8>> = (0..level).map(|i| vec![i as u8 + 1; 3 + i as usize * 100]).collect();
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            soru_pvm::inbox::external_level_inputs(level, common::info(), &refs)
        })
        .collect()
}

fn phase_name(pvm: &Pvm) -> String {
    format!("{:?}", pvm.internal_state())
}

/// Proves the next step of `pvm` with `input`, checks the verdict against
/// the PVM itself and the verifier, and advances `pvm` by that step.
fn check_and_step(pvm: &mut Pvm, input: Option<StepInput>) -> usize {
    let start = pvm.state_hash().expect("hash");
    let (proof, verdict) = prove_step(pvm, input.clone()).expect("provable");
    assert_eq!(verdict.start, start);
    assert_eq!(verdict.request, pvm.input_request());
    match input.clone() {
        None => pvm.step().expect("steps"),
        Some(StepInput::Message(m)) => pvm.set_input(m).expect("accepted"),
        Some(StepInput::Reveal(d)) => pvm.reveal(&d).expect("revealed"),
    }
    assert_eq!(verdict.stop, Some(pvm.state_hash().expect("hash")), "stop state");
    let verified = verify_step(proof.as_bytes(), input).expect("verifies");
    assert_eq!(verified, verdict);
    proof.len()
}

#[test]
fn every_phase_proves_the_true_next_state() {
    let mut pvm = echo_pvm();
    let mut inputs = inbox(3).into_iter();
    let mut sizes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    // Ticks since the phase last changed.
    let mut in_phase = 0u32;
    let mut last_phase = String::new();
    loop {
        let phase = phase_name(&pvm);
        in_phase = if phase == last_phase { in_phase + 1 } else { 0 };
        last_phase.clone_from(&phase);
        let input = match pvm.input_request() {
            InputRequest::NoInputRequired => None,
            InputRequest::Initial | InputRequest::FirstAfter { .. } => match inputs.next() {
                Some(m) => Some(StepInput::Message(m)),
                None => break,
            },
            InputRequest::Reveal(r) => panic!("the echo kernel reveals nothing: {r:?}"),
        };
        sizes
            .entry(phase.clone())
            .or_default()
            .push(check_and_step(&mut pvm, input));
        // Prove every tick near the start of each phase, then sample.
        let same_phase = phase_name(&pvm) == phase;
        if in_phase > 300 && same_phase && pvm.input_request() == InputRequest::NoInputRequired {
            // Never across the cycle boundary, whose next ticks start a phase.
            let jump = (1 + u128::from(in_phase % 997) * 37).min(pvm.ticks_left_in_cycle().saturating_sub(3));
            pvm.run(jump).expect("runs");
        }
    }
    for phase in ["Collect", "Padding", "Snapshot", "Decode", "Link", "Init", "Eval"] {
        assert!(sizes.contains_key(phase), "phase {phase} proved: {:?}", sizes.keys());
    }
    for (phase, s) in &mut sizes {
        s.sort_unstable();
        println!(
            "step proofs {phase}: n {} p50 {} max {}",
            s.len(),
            s[s.len() / 2],
            s[s.len() - 1]
        );
    }
    assert_eq!(pvm.outbox(3).expect("outbox").len(), 3, "the kernel echoed level 3");
}

#[test]
fn inputs_must_answer_the_request() {
    let mut pvm = echo_pvm();
    let first = inbox(1).remove(0);
    // Waiting for the first input: no input means blocked.
    let (proof, verdict) = prove_step(&pvm, None).expect("provable");
    assert_eq!(verdict.request, InputRequest::Initial);
    assert_eq!(verdict.stop, None);
    assert_eq!(verify_step(proof.as_bytes(), None).expect("verifies"), verdict);
    // A proof made for one input, verified with another, proves a different stop.
    let (proof, verdict) = prove_step(&pvm, Some(StepInput::Message(first.clone()))).expect("provable");
    let mut other = first.clone();
    other.payload.push(0);
    let with_other = verify_step(proof.as_bytes(), Some(StepInput::Message(other)));
    assert!(with_other.map_or(true, |v| v.stop != verdict.stop));
    assert!(matches!(
        verify_step(proof.as_bytes(), Some(StepInput::Reveal(vec![1]))),
        Err(StepProofError::Pairing { .. })
    ));
    // Running: no input may be given.
    pvm.set_input(first).expect("accepted");
    for input in inbox(1).into_iter().skip(1) {
        pvm.set_input(input).expect("accepted");
    }
    assert_eq!(pvm.input_request(), InputRequest::NoInputRequired);
    let (proof, _) = prove_step(&pvm, None).expect("provable");
    let stray = Some(StepInput::Message(inbox(2).remove(0)));
    assert!(matches!(
        verify_step(proof.as_bytes(), stray.clone()),
        Err(StepProofError::Pairing { .. })
    ));
    assert!(matches!(prove_step(&pvm, stray), Err(StepProofError::Pairing { .. })));
}

#[test]
fn altered_proofs_never_prove_a_false_step() {
    let mut pvm = echo_pvm();
    let mut checked = 0;
    for input in inbox(1) {
        let start = pvm.state_hash().expect("hash");
        let step_input = Some(StepInput::Message(input.clone()));
        let (proof, verdict) = prove_step(&pvm, step_input.clone()).expect("provable");
        let bytes = proof.as_bytes();
        let mut verify = |altered: &[u8]| {
            if let Ok(v) = verify_step(altered, step_input.clone()) {
                // Another start is refused by the game; the same start must
                // give the true stop.
                if v.start == start {
                    assert_eq!(v.stop, verdict.stop);
                }
            }
            checked += 1;
        };
        for at in 0..bytes.len() {
            let mut altered = bytes.to_vec();
            altered[at] ^= 0x01 << (at % 8);
            verify(&altered);
        }
        for len in 0..bytes.len() {
            verify(&bytes[..len]);
        }
        pvm.set_input(input).expect("accepted");
    }
    assert!(checked > 1000);
    assert!(matches!(verify_step(&[], None), Err(StepProofError::Empty)));
    assert!(matches!(
        verify_step(&[9, 1, 2], None),
        Err(StepProofError::UnsupportedVersion(9))
    ));
}

/// Records a read of every value of `tree`: a proof that opens the whole state.
fn read_everything(tree: &mut soru_tree::RecordingTree, dir: &mut Vec<u8>) {
    use soru_tree::TreeAccess;
    let _ = tree.read(dir, 0, usize::MAX);
    let n = tree.count_children(dir).expect("listable");
    for i in 0..n {
        let Some(name) = tree.nth_child(dir, i).expect("listable") else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let len = dir.len();
        if !dir.is_empty() {
            dir.push(b'/');
        }
        dir.extend_from_slice(&name);
        read_everything(tree, dir);
        dir.truncate(len);
    }
}

#[test]
fn forged_states_are_rejected_never_crash_the_verifier() {
    use soru_tree::TreeAccess;
    let mut pvm = echo_pvm();
    for input in inbox(1) {
        pvm.set_input(input).expect("accepted");
    }
    let to_boundary = pvm.ticks_left_in_cycle() - 1;
    pvm.run(to_boundary).expect("runs");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut random = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut forged, mut rejected) = (0, 0);
    // Loading states (decoder, module, store blobs) and early Eval states.
    for _ in 0..140 {
        if pvm.input_request() != InputRequest::NoInputRequired {
            break;
        }
        let tree = pvm.to_tree().expect("tree");
        for path in [&b"pvm/phase"[..], b"pvm/meta", b"wasm/registers"] {
            let Ok(value) = tree.clone().read(path, 0, usize::MAX) else {
                continue;
            };
            for _ in 0..4 {
                let mut altered = value.clone();
                for _ in 0..3 {
                    let r = random();
                    let at = (r as usize) % altered.len();
                    altered[at] ^= (r >> 40) as u8 | 1;
                }
                let mut state = tree.clone();
                state.set_value(path, &altered).expect("writable");
                let mut recording = soru_tree::RecordingTree::new(state);
                read_everything(&mut recording, &mut Vec::new());
                let proof = [&[1u8][..], recording.proof().as_bytes()].concat();
                // Must return (accept or reject), never panic out.
                forged += 1;
                if verify_step(&proof, None).is_err() {
                    rejected += 1;
                }
            }
        }
        pvm.step().expect("steps");
    }
    println!("forged states: {forged}, rejected: {rejected}");
    assert!(forged > 1000 && rejected > 0);
}

/// A kernel whose instantiation does everything Init slices: two tables,
/// globals (one a function reference), active, passive and declarative
/// element segments, active and passive data segments, a start function;
/// `kernel_run` then uses the passive segments, calls through both tables
/// with structurally equal but distinct type indices, and reports.
const INSTANTIATION_WAT: &str = r#"(module
  (import "smart_rollup_core" "write_output" (func $out (param i32 i32) (result i32)))
  (type $t0 (func (result i32)))
  (type $t1 (func (result i32)))
  (memory (export "memory") 1)
  (table $a 4 funcref)
  (table $b 3 funcref)
  (global $g (mut i32) (i32.const 7))
  (global $f funcref (ref.func $nine))
  (func $seven (type $t0) (i32.const 7))
  (func $nine (type $t1) (i32.const 9))
  (func $start
    (global.set $g (i32.add (global.get $g) (i32.const 100)))
    (i32.store8 (i32.const 40) (i32.const 0x55)))
  (elem (table $a) (i32.const 1) func $seven $nine)
  (elem $p funcref (ref.func $nine) (ref.null func) (ref.func $seven))
  (elem declare func $start)
  (data (i32.const 16) "active")
  (data $d "passive!")
  (start $start)
  (func (export "kernel_run")
    (table.init $b $p (i32.const 0) (i32.const 0) (i32.const 3))
    (elem.drop $p)
    (memory.init $d (i32.const 200) (i32.const 0) (i32.const 8))
    (data.drop $d)
    (i32.store (i32.const 100) (call_indirect $a (type $t1) (i32.const 1)))
    (i32.store (i32.const 104) (call_indirect $a (type $t0) (i32.const 2)))
    (i32.store (i32.const 108) (call_indirect $b (type $t0) (i32.const 0)))
    (i32.store (i32.const 112) (global.get $g))
    (i32.store (i32.const 116) (call_indirect $b (type $t1) (i32.const 2)))
    (drop (call $out (i32.const 16) (i32.const 6)))
    (drop (call $out (i32.const 200) (i32.const 8)))
    (drop (call $out (i32.const 100) (i32.const 20)))
    (drop (call $out (i32.const 40) (i32.const 1)))))"#;

#[test]
fn every_loading_tick_proves_the_true_next_state() {
    let kernels = [
        ("instantiation", wat::parse_str(INSTANTIATION_WAT).expect("valid wat")),
        ("counter", common::example_kernel("counter")),
    ];
    for (name, kernel) in kernels {
        let mut pvm = Pvm::install_boot_sector(&common::config(10_000_000), &kernel).expect("genesis");
        common::feed(&mut pvm, 1, &[b"x"]);
        // Decode is proved elsewhere; from Link on, every tick is proved up
        // to and past the one entering `kernel_run`.
        while !matches!(phase_name(&pvm).as_str(), "Link") {
            pvm.step().expect("steps");
        }
        let mut sizes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut eval_ticks = 0;
        while eval_ticks < 100 {
            let phase = match pvm.status() {
                soru_pvm::Status::Loading => phase_name(&pvm),
                _ => {
                    eval_ticks += 1;
                    "kernel_run".to_string()
                }
            };
            sizes.entry(phase).or_default().push(check_and_step(&mut pvm, None));
        }
        for (phase, s) in &sizes {
            println!(
                "{name} {phase}: {} ticks, largest proof {} B",
                s.len(),
                s.iter().max().expect("some")
            );
        }
        assert!(
            sizes.contains_key("Init") && sizes.contains_key("Link"),
            "{name}: {:?}",
            sizes.keys()
        );
        if name == "instantiation" {
            assert!(sizes.contains_key("Eval"), "the start function ran on the lazy machine");
            pvm.run_until_input(u128::MAX).expect("runs");
            let outbox = pvm.outbox(1).expect("outbox");
            let report: Vec<u8> = [7u32, 9, 9, 107, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(
                outbox,
                vec![b"active".to_vec(), b"passive!".to_vec(), report, vec![0x55]],
                "segments, tables, globals and the start function as instantiated"
            );
            // An upgrade that fails to instantiate (no memory export): every
            // tick from the reboot through the failure, the fallback's
            // restoration and its whole load is proved.
            let broken = wat::parse_str(r#"(module (func (export "kernel_run")))"#).expect("valid wat");
            pvm.durable_write("/kernel/boot.wasm", &broken).expect("writes");
            common::feed(&mut pvm, 2, &[b"y"]);
            while phase_name(&pvm) != "Snapshot" {
                pvm.step().expect("steps");
            }
            let mut snapshots = 0;
            while pvm.status() == soru_pvm::Status::Loading {
                snapshots += usize::from(phase_name(&pvm) == "Snapshot");
                check_and_step(&mut pvm, None);
                if pvm.status() == soru_pvm::Status::Padding {
                    // The fallback is back: run to the (re)boot that loads it.
                    while phase_name(&pvm) != "Snapshot" {
                        if pvm.input_request() == InputRequest::NoInputRequired {
                            pvm.step().expect("steps");
                        } else {
                            common::feed(&mut pvm, 3, &[b"z"]);
                        }
                    }
                }
            }
            assert_eq!(snapshots, 2, "the broken kernel, then the fallback, were loaded");
            assert_eq!(
                pvm.durable_read("/kernel/boot.wasm").expect("reads"),
                Some(kernel.clone())
            );
        }
    }
}
