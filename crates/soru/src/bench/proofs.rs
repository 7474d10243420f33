//! `soru bench proofs`: sizes and verification times of PVM one-step proofs.
//!
//! Classes (issue "one-step proofs", deliverable 5):
//! - (a) every tick of the first 20 000 of each example kernel (origination,
//!   a level of inputs incl. a 4 096-byte message, loading, kernel runs),
//!   then a tenth more past idle stretches (boundaries, reboots);
//! - (b) every Snapshot, Decode, Link and Init tick of `big-code` (≥ 512 KiB
//!   of code);
//! - (c) 2 000 random ticks deep inside the `compute` and `tx` kernel runs;
//! - adversarial states, each at a small and a large scale so growth shows:
//!   memory (1 MiB / 64 MiB), a `br_table` (100 / 100 000 entries),
//!   `memory.copy` (64 KiB / 16 MiB), locals (100 / 50 000), call depth
//!   (100 / 59 000), a durable directory (1 000 / 1 000 000 children), a data
//!   segment (64 KiB / 8 MiB, Init ticks) and a kernel (64 KiB / 4 MB of code,
//!   Decode ticks).
//!
//! Every proof is verified and the verdict compared with the prover's; the
//! prover follows the PVM, so a proof that verifies also proves the true
//! next state. Prints `proof bytes p50/p90/max` and `proof verify µs
//! p50/max` per class and overall, and how many proofs exceed the `refute`
//! operation's 32 768 bytes on their own. Every class is also tampered with
//! (see [`Class`]): the variants that still verify from the true start are
//! counted as `accepted` (0 expected), and one proving a false step fails
//! the run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use soru_pvm::step_proof::{verify_step, StepInput, StepProof, StepProver, StepVerdict};
use soru_pvm::{empty_preimage_hash, Input, InputRequest, InternalState, Pvm, RevealRequest};

use super::pvm::{compute_messages, tx_messages};

/// Largest `refute` operation the L1 accepts (envelope and input proof included).
const REFUTE_CAP: usize = 32_768;

/// The example kernels, as committed in `kernels/wasm/`.
const KERNELS: &[(&str, &[u8])] = &[
    ("compute", include_bytes!("../../../../kernels/wasm/compute.wasm")),
    ("counter", include_bytes!("../../../../kernels/wasm/counter.wasm")),
    (
        "deep-recursion",
        include_bytes!("../../../../kernels/wasm/deep-recursion.wasm"),
    ),
    (
        "durable-heavy",
        include_bytes!("../../../../kernels/wasm/durable-heavy.wasm"),
    ),
    ("echo", include_bytes!("../../../../kernels/wasm/echo.wasm")),
    ("hostfns", include_bytes!("../../../../kernels/wasm/hostfns.wasm")),
    ("installer", include_bytes!("../../../../kernels/wasm/installer.wasm")),
    (
        "loop-forever",
        include_bytes!("../../../../kernels/wasm/loop-forever.wasm"),
    ),
    (
        "memory-grow",
        include_bytes!("../../../../kernels/wasm/memory-grow.wasm"),
    ),
    ("reboot", include_bytes!("../../../../kernels/wasm/reboot.wasm")),
    ("trap", include_bytes!("../../../../kernels/wasm/trap.wasm")),
    ("tx", include_bytes!("../../../../kernels/wasm/tx.wasm")),
];

const BIG_CODE: &[u8] = include_bytes!("../../../../kernels/wasm/big-code.wasm");

/// Proofs per class whose every byte and tree node the tampering sweep
/// alters (set by [`run`]).
static SWEEP: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while a tampered proof is verified: its state may trip internal
    /// checks, which the verifier catches and whose panic messages are noise.
    static TAMPERING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A proof with what it proves and the input it was made with.
#[derive(Clone)]
struct Proved {
    proof: StepProof,
    verdict: StepVerdict,
    input: Option<StepInput>,
}

/// Tampered variants tried and how they fared.
#[derive(Default, Clone, Copy)]
struct TamperStats {
    /// Every byte of the sampled proofs altered, one variant per byte.
    bytes: u64,
    /// Three random bytes of every proof altered.
    flips: u64,
    /// One opened tree node blinded (the same before-hash, less state).
    dropped: u64,
    /// The proof verified with another state's input.
    other_input: u64,
    /// Variants that verified from the true start (must stay 0).
    accepted: u64,
}

/// Sizes and verification times of one class of proofs, and the tampering
/// sweep: three random flips and another state's input on every proof, and
/// every byte altered and every tree node dropped on `sweep` proofs sampled
/// evenly (reservoir sampling, deterministic).
#[derive(Default)]
struct Class {
    name: String,
    bytes: Vec<usize>,
    verify_us: Vec<f64>,
    sweep: usize,
    sampled: Vec<Proved>,
    seen: u64,
    rng: u64,
    last_input: Option<StepInput>,
    tamper: TamperStats,
}

fn percentile<T: Copy + PartialOrd>(values: &[T], p: f64) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

impl Class {
    fn new(name: impl Into<String>) -> Self {
        Class {
            name: name.into(),
            rng: 0x2545_f491_4f6c_dd1d,
            sweep: SWEEP.load(Ordering::Relaxed),
            ..Class::default()
        }
    }

    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Verifies `proof` and checks the verifier's verdict is the prover's;
    /// then tampers with it.
    fn verify(&mut self, proof: &StepProof, verdict: &StepVerdict, input: Option<StepInput>) -> Result<()> {
        let start = Instant::now();
        let verified = verify_step(proof.as_bytes(), input.clone()).context("a produced proof does not verify")?;
        let elapsed = start.elapsed();
        ensure!(&verified == verdict, "the verifier's verdict differs from the prover's");
        self.bytes.push(proof.len());
        self.verify_us.push(elapsed.as_secs_f64() * 1e6);
        let proved = Proved {
            proof: proof.clone(),
            verdict: verdict.clone(),
            input,
        };
        // Three random flips.
        let mut altered = proof.as_bytes().to_vec();
        for _ in 0..3 {
            let r = self.random();
            let at = (r % altered.len() as u64) as usize;
            altered[at] ^= (r >> 32) as u8 | 1;
        }
        self.tamper.flips += 1;
        self.try_variant(&proved, &altered, proved.input.clone())?;
        // Another state's input (or, where both need none, a stray one).
        let other = match (&self.last_input, &proved.input) {
            (Some(other), _) if Some(other) != proved.input.as_ref() => Some(other.clone()),
            (_, None) => Some(StepInput::Reveal(vec![1, 2, 3])),
            (_, Some(_)) => None,
        };
        self.tamper.other_input += 1;
        self.try_variant(&proved, proof.as_bytes(), other)?;
        if proved.input.is_some() {
            self.last_input.clone_from(&proved.input);
        }
        // Reservoir sampling of the proofs the full sweep covers.
        self.seen += 1;
        if self.sampled.len() < self.sweep {
            self.sampled.push(proved);
        } else if self.sweep > 0 {
            let slot = self.random() % self.seen;
            if let Some(kept) = self.sampled.get_mut(slot as usize) {
                *kept = proved;
            }
        }
        Ok(())
    }

    /// A tampered variant must not verify from the true start with the true
    /// input's verdict; verifying from the true start to another stop would
    /// be a false step (an error at once).
    fn try_variant(&mut self, proved: &Proved, bytes: &[u8], input: Option<StepInput>) -> Result<()> {
        let same_input = input == proved.input;
        TAMPERING.with(|t| t.set(true));
        let verified = verify_step(bytes, input);
        TAMPERING.with(|t| t.set(false));
        let Ok(v) = verified else { return Ok(()) };
        let accepted = if same_input {
            // (Random flips can cancel out into the original bytes.)
            bytes != proved.proof.as_bytes() && v.start == proved.verdict.start
        } else {
            v == proved.verdict
        };
        if accepted {
            ensure!(
                !same_input || v.stop == proved.verdict.stop,
                "a tampered proof proves a false step"
            );
            self.tamper.accepted += 1;
        }
        Ok(())
    }

    /// The full sweep on the sampled proofs: every byte altered, every
    /// opened tree node dropped.
    fn sweep(&mut self) -> Result<()> {
        for proved in std::mem::take(&mut self.sampled) {
            let bytes = proved.proof.as_bytes();
            for at in 0..bytes.len() {
                let mut altered = bytes.to_vec();
                altered[at] ^= 0x01 << (at % 8);
                self.tamper.bytes += 1;
                self.try_variant(&proved, &altered, proved.input.clone())?;
            }
            let tree_proof = soru_tree::Proof::from_bytes(bytes[1..].to_vec());
            for variant in soru_tree::with_one_node_dropped(&tree_proof)? {
                let mut altered = vec![bytes[0]];
                altered.extend_from_slice(variant.as_bytes());
                self.tamper.dropped += 1;
                self.try_variant(&proved, &altered, proved.input.clone())?;
            }
        }
        Ok(())
    }

    fn line(&self) -> String {
        if self.bytes.is_empty() {
            return format!("{}: no proofs", self.name);
        }
        let t = self.tamper;
        format!(
            "{}: {} proofs, proof bytes p50: {} p90: {} max: {}, proof verify µs p50: {:.0} max: {:.0}, over {REFUTE_CAP} B: {}; \
             tampered: {} bytes swept, {} flipped, {} nodes dropped, {} other inputs: accepted {}",
            self.name,
            self.bytes.len(),
            percentile(&self.bytes, 0.5),
            percentile(&self.bytes, 0.9),
            percentile(&self.bytes, 1.0),
            percentile(&self.verify_us, 0.5),
            percentile(&self.verify_us, 1.0),
            self.bytes.iter().filter(|&&b| b > REFUTE_CAP).count(),
            t.bytes,
            t.flips,
            t.dropped,
            t.other_input,
            t.accepted,
        )
    }
}

/// The input answering `request` in these scenarios: the next inbox message,
/// the metadata, or the empty preimage; `None` when the scenario has none.
fn answer(request: &InputRequest, inputs: &mut impl Iterator<Item = Input>) -> Option<Option<StepInput>> {
    match request {
        InputRequest::NoInputRequired => Some(None),
        InputRequest::Initial | InputRequest::FirstAfter { .. } => inputs.next().map(|i| Some(StepInput::Message(i))),
        InputRequest::Reveal(RevealRequest::Metadata) => {
            let mut metadata = vec![0x5a; 20];
            metadata.extend_from_slice(&0u32.to_be_bytes());
            Some(Some(StepInput::Reveal(metadata)))
        }
        InputRequest::Reveal(RevealRequest::RawData(hash)) if *hash == empty_preimage_hash() => {
            Some(Some(StepInput::Reveal(Vec::new())))
        }
        InputRequest::Reveal(RevealRequest::RawData(_)) => None,
    }
}

/// Proves and verifies up to `steps` consecutive steps, every one of the
/// first `strict`; after those, idle stretches are skipped. Stops early
/// when the scenario has no input to give. Returns the steps proved.
fn prove_steps(
    class: &mut Class,
    prover: &mut StepProver,
    inputs: &mut impl Iterator<Item = Input>,
    steps: usize,
    strict: usize,
) -> Result<usize> {
    for done in 0..steps {
        // Idle ticks all look alike: past the strict stretch, prove the
        // first padding ticks, then jump to the cycle's boundary and prove
        // the ticks around it; likewise for the cost ticks of a host call.
        let (phase, left, pending) = prover.position()?;
        if done >= strict && phase == InternalState::Padding && left > 3 {
            prover.skip(left - 3)?;
        } else if done >= strict && pending > 3 {
            prover.skip(pending - 2)?;
        }
        let Some(input) = answer(&prover.input_request()?, inputs) else {
            return Ok(done);
        };
        let (proof, verdict) = prover.prove(input.clone())?;
        class.verify(&proof, &verdict, input)?;
    }
    Ok(steps)
}

fn level_inputs(level: u32, messages: &[Vec<u8>]) -> Vec<Input> {
    let info = soru_core::inbox::InfoPerLevel {
        predecessor_timestamp: soru_core::time::Timestamp::from_seconds(1_700_000_000),
        predecessor: soru_core::BlockHash([7; 32]),
    };
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    soru_pvm::inbox::external_level_inputs(level, info, &refs)
}

/// The messages a kernel gets in class (a): its own workload, else a short
/// message and one of the largest size (4 095 bytes after the external tag).
fn messages_for(name: &str) -> Vec<Vec<u8>> {
    match name {
        "compute" => compute_messages(),
        "tx" => tx_messages().into_iter().take(5).collect(),
        _ => vec![b"hello".to_vec(), vec![0xab; 4095]],
    }
}

/// Class (a): every one of the first `steps` ticks of every example kernel,
/// then `steps / 10` more steps skipping idle stretches (the boundaries,
/// reboots and next inputs).
fn first_ticks(steps: usize) -> Result<Class> {
    let mut class = Class::new(format!(
        "(a) first {steps} ticks of {} kernels, then {} steps past idle stretches",
        KERNELS.len(),
        steps / 10
    ));
    for (name, kernel) in KERNELS {
        let pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), kernel)?;
        let mut prover = StepProver::new(&pvm)?;
        let mut inputs = level_inputs(1, &messages_for(name)).into_iter();
        prove_steps(&mut class, &mut prover, &mut inputs, steps + steps / 10, steps)
            .with_context(|| format!("kernel {name}"))?;
    }
    Ok(class)
}

/// Steps `pvm` (feeding `inputs`) until it reaches `phase`; returns the
/// steps taken.
fn step_until(pvm: &mut Pvm, inputs: &mut impl Iterator<Item = Input>, phase: &InternalState) -> Result<u64> {
    let mut steps = 0;
    while pvm.internal_state() != *phase {
        match pvm.input_request() {
            // Padding is skipped to the cycle's last tick in one go.
            InputRequest::NoInputRequired if pvm.internal_state() == InternalState::Padding => {
                let left = pvm.ticks_left_in_cycle();
                if left > 1 {
                    pvm.run(left - 1)?;
                } else {
                    pvm.step()?;
                }
            }
            InputRequest::NoInputRequired => pvm.step()?,
            InputRequest::Initial | InputRequest::FirstAfter { .. } => {
                pvm.set_input(inputs.next().context("inputs ran out")?)?;
            }
            other => bail!("unexpected request {other:?}"),
        }
        steps += 1;
        ensure!(steps < 50_000_000, "{phase:?} never reached");
    }
    Ok(steps)
}

/// Proves every step from the state of `pvm` while it is in one of
/// `phases` (the prover's tree advances by proving), verifying every
/// `every`-th proof into `class`. Returns the steps proved.
fn prove_phases(class: &mut Class, pvm: &Pvm, phases: &[InternalState], every: u64) -> Result<u64> {
    let mut prover = StepProver::new(pvm)?;
    let mut steps = 0u64;
    while phases.contains(&prover.position()?.0) {
        let (proof, verdict) = prover.prove(None)?;
        if steps % every == 0 {
            class.verify(&proof, &verdict, None)?;
        }
        steps += 1;
        ensure!(steps < 50_000_000, "{phases:?} never end");
    }
    Ok(steps)
}

/// Class (b): every loading tick of `kernel`: Snapshot and Decode (every
/// `decode_every`-th verified in a quick run), then every Link and Init
/// tick up to and including the one entering `kernel_run`.
fn loading_ticks(decode: &mut Class, link_init: &mut Class, kernel: &[u8], decode_every: u64) -> Result<()> {
    let mut pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), kernel)?;
    let mut inputs = level_inputs(1, &[]).into_iter();
    step_until(&mut pvm, &mut inputs, &InternalState::Snapshot)?;
    let decoded = prove_phases(
        decode,
        &pvm,
        &[InternalState::Snapshot, InternalState::Decode],
        decode_every,
    )?;
    step_until(&mut pvm, &mut inputs, &InternalState::Link)?;
    let linked = prove_phases(link_init, &pvm, &[InternalState::Link, InternalState::Init], 1)?;
    decode.name = format!("{} ({decoded} ticks)", decode.name);
    link_init.name = format!("{} ({linked} ticks)", link_init.name);
    Ok(())
}

/// A small deterministic generator (xorshift64*) for sampling ticks.
struct Sampler(u64);

impl Sampler {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Class (c): `samples` random ticks inside the kernel runs of `compute`
/// and `tx` processing a level.
fn deep_ticks(samples: usize) -> Result<Class> {
    let mut class = Class::new(format!("(c) {samples} random ticks deep in compute and tx"));
    let mut sampler = Sampler(0x9e37_79b9_7f4a_7c15);
    for (name, messages) in [("compute", compute_messages()), ("tx", tx_messages())] {
        let kernel = KERNELS.iter().find(|(n, _)| *n == name).expect("listed").1;
        let mut pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), kernel)?;
        for input in level_inputs(1, &messages) {
            pvm.set_input(input)?;
        }
        step_until(&mut pvm, &mut std::iter::empty(), &InternalState::Eval)?;
        // Length of the run, measured on a copy.
        let mut probe = Pvm::from_tree(pvm.to_tree()?)?;
        let start = probe.current_tick();
        while probe.internal_state() == InternalState::Eval {
            probe.run(100_000)?;
        }
        let span = (probe.current_tick() - start) as u64;
        let mut ticks: Vec<u64> = (0..samples / 2).map(|_| sampler.below(span)).collect();
        ticks.sort_unstable();
        for tick in ticks {
            let target = start + u128::from(tick);
            if target > pvm.current_tick() {
                pvm.run(target - pvm.current_tick())?;
            }
            if pvm.input_request() != InputRequest::NoInputRequired {
                continue;
            }
            let (proof, verdict) = StepProver::new(&pvm)?.prove(None)?;
            class.verify(&proof, &verdict, None)?;
        }
    }
    Ok(class)
}

/// An adversarial kernel: WAT text for a scale, and how many ticks into its
/// `kernel_run` the expensive part is reached.
struct Adversary {
    name: &'static str,
    small: u64,
    large: u64,
    wat: fn(u64) -> String,
    ticks_in: fn(u64) -> u64,
    /// Durable children created before the run (the directory case).
    children: bool,
}

const IMPORTS: &str = r#"
  (import "smart_rollup_core" "store_read" (func $store_read (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_write" (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_list_size" (func $store_list_size (param i32 i32) (result i64)))
"#;

fn memory_wat(mib: u64) -> String {
    let pages = mib * 16;
    format!(
        r#"(module {IMPORTS} (memory (export "memory") 1)
  (func (export "kernel_run") (local $i i32) (local $a i32)
    (drop (memory.grow (i32.const {grow})))
    (loop $l
      (local.set $a (i32.and (i32.mul (local.get $i) (i32.const 40503)) (i32.const {mask})))
      (i64.store (local.get $a) (i64.add (i64.load (local.get $a)) (i64.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))))"#,
        grow = pages - 1,
        mask = (pages * 65_536 - 8) & !7,
    )
}

fn br_table_wat(entries: u64) -> String {
    let targets = " 0".repeat(entries as usize);
    format!(
        r#"(module {IMPORTS} (memory (export "memory") 1)
  (func (export "kernel_run") (local $i i32)
    (loop $l
      (block $b (br_table{targets} 0 (i32.rem_u (i32.mul (local.get $i) (i32.const 7919)) (i32.const {entries}))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))))"#
    )
}

fn copy_wat(kib: u64) -> String {
    format!(
        r#"(module {IMPORTS} (memory (export "memory") 600)
  (func (export "kernel_run")
    (i64.store (i32.const 12345) (i64.const -1))
    (memory.copy (i32.const 20000000) (i32.const 0) (i32.const {len}))))"#,
        len = kib * 1024
    )
}

fn locals_wat(locals: u64) -> String {
    format!(
        r#"(module {IMPORTS} (memory (export "memory") 1)
  (func $many (local $i i32) (local{decl})
    (loop $l
      (local.set {last} (i64.add (local.get {last}) (i64.extend_i32_u (local.get $i))))
      (local.set 1 (local.get {last}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000)))))
  (func (export "kernel_run") (call $many)))"#,
        decl = " i64".repeat(locals as usize),
        last = locals,
    )
}

fn depth_wat(depth: u64) -> String {
    format!(
        r#"(module {IMPORTS} (memory (export "memory") 1)
  (func $down (param $n i32) (local $i i32)
    (if (i32.eqz (local.get $n))
      (then (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000)))))
      (else (call $down (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "kernel_run") (call $down (i32.const {depth}))))"#
    )
}

fn directory_wat(_children: u64) -> String {
    format!(
        r#"(module {IMPORTS} (memory (export "memory") 1)
  (data (i32.const 0) "/big/k7")
  (data (i32.const 16) "/big")
  (func (export "kernel_run") (local $i i32)
    (loop $l
      (drop (call $store_read (i32.const 0) (i32.const 7) (i32.const 0) (i32.const 64) (i32.const 8)))
      (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.const 1)))
      (drop (call $store_write (i32.const 0) (i32.const 7) (i32.const 0) (i32.const 64) (i32.const 8)))
      (drop (call $store_list_size (i32.const 16) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))))"#
    )
}

fn data_wat(kib: u64) -> String {
    format!(
        r#"(module {IMPORTS} (memory (export "memory") 200)
  (data (i32.const 0) "{bytes}")
  (func (export "kernel_run")))"#,
        bytes = "\\2a".repeat((kib * 1024) as usize)
    )
}

fn code_wat(kib: u64) -> String {
    // `i32.const 1` `drop`: 3 bytes of code.
    format!(
        r#"(module {IMPORTS} (memory (export "memory") 1)
  (func (export "kernel_run") {body}))"#,
        body = "i32.const 1 drop ".repeat((kib * 1024 / 3) as usize)
    )
}

const ADVERSARIES: &[Adversary] = &[
    Adversary {
        name: "memory MiB",
        small: 1,
        large: 64,
        wat: memory_wat,
        ticks_in: |_| 50_000,
        children: false,
    },
    Adversary {
        name: "br_table entries",
        small: 100,
        large: 100_000,
        wat: br_table_wat,
        ticks_in: |_| 50_000,
        children: false,
    },
    Adversary {
        name: "memory.copy KiB",
        small: 64,
        large: 16 * 1024,
        wat: copy_wat,
        ticks_in: |kib| kib / 4,
        children: false,
    },
    Adversary {
        name: "locals",
        small: 100,
        large: 50_000,
        wat: locals_wat,
        ticks_in: |_| 50_000,
        children: false,
    },
    Adversary {
        name: "call depth",
        small: 100,
        large: 59_000,
        wat: depth_wat,
        ticks_in: |depth| depth * 12 + 10_000,
        children: false,
    },
    Adversary {
        name: "durable children",
        small: 1_000,
        large: 1_000_000,
        wat: directory_wat,
        ticks_in: |_| 500,
        children: true,
    },
];

/// Proves `steps` consecutive Eval steps `ticks_in` ticks into the run of
/// `wat`'s kernel.
fn adversarial_eval(class: &mut Class, adversary: &Adversary, scale: u64, steps: usize) -> Result<()> {
    let kernel = wat::parse_str((adversary.wat)(scale))?;
    let mut pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), &kernel)?;
    if adversary.children {
        for i in 0..scale {
            pvm.durable_write(&format!("/big/k{i}"), &i.to_le_bytes())?;
        }
    }
    let mut inputs = level_inputs(1, &[]).into_iter();
    step_until(&mut pvm, &mut inputs, &InternalState::Eval)?;
    pvm.run(u128::from((adversary.ticks_in)(scale)))?;
    ensure!(
        pvm.internal_state() == InternalState::Eval,
        "{} {scale}: the kernel run ended early",
        adversary.name
    );
    let mut prover = StepProver::new(&pvm)?;
    // Past idle stretches (host-call cost ticks), to the ticks that touch
    // the adversarial dimension; a kernel run may end first (a short copy).
    let done = prove_steps(class, &mut prover, &mut inputs, steps, 0)?;
    ensure!(done >= steps.min(20), "{}: blocked after {done} steps", adversary.name);
    Ok(())
}

/// Proves `samples` loading ticks of a kernel built from `wat` at `scale`,
/// starting at `phase`.
fn adversarial_loading(class: &mut Class, wat: &str, phase: InternalState, samples: usize) -> Result<()> {
    let kernel = wat::parse_str(wat)?;
    let mut pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), &kernel)?;
    let mut inputs = level_inputs(1, &[]).into_iter();
    step_until(&mut pvm, &mut inputs, &phase)?;
    for _ in 0..samples {
        if pvm.internal_state() != phase {
            break;
        }
        let (proof, verdict) = StepProver::new(&pvm)?.prove(None)?;
        class.verify(&proof, &verdict, None)?;
        pvm.run(97)?;
    }
    Ok(())
}

/// Runs the benchmark and returns the report lines. `quick` shrinks every
/// class (for a smoke run).
pub fn run(quick: bool) -> Result<Vec<String>> {
    SWEEP.store(if quick { 4 } else { 200 }, Ordering::Relaxed);
    // Only the panics of tampered proofs' verification are silenced.
    let report_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !TAMPERING.with(std::cell::Cell::get) {
            report_panic(info);
        }
    }));
    let mut lines = Vec::new();
    let mut all = Class::new("overall");
    let mut report = |mut class: Class, lines: &mut Vec<String>| -> Result<()> {
        class.sweep()?;
        eprintln!("{}", class.line());
        lines.push(class.line());
        all.bytes.extend(&class.bytes);
        all.verify_us.extend(&class.verify_us);
        let (t, c) = (&mut all.tamper, class.tamper);
        t.bytes += c.bytes;
        t.flips += c.flips;
        t.dropped += c.dropped;
        t.other_input += c.other_input;
        t.accepted += c.accepted;
        Ok(())
    };
    report(first_ticks(if quick { 2_000 } else { 20_000 })?, &mut lines)?;
    let mut decode = Class::new(if quick {
        "(b) big-code Snapshot/Decode: every 50th tick"
    } else {
        "(b) big-code Snapshot/Decode: every tick"
    });
    let mut link_init = Class::new("(b) big-code Link/Init: every tick");
    loading_ticks(&mut decode, &mut link_init, BIG_CODE, if quick { 50 } else { 1 })?;
    report(decode, &mut lines)?;
    report(link_init, &mut lines)?;
    report(deep_ticks(if quick { 200 } else { 2_000 })?, &mut lines)?;
    let steps = if quick { 20 } else { 100 };
    for adversary in ADVERSARIES {
        for scale in [adversary.small, adversary.large] {
            let mut class = Class::new(format!("adversarial {} = {scale}", adversary.name));
            adversarial_eval(&mut class, adversary, scale, steps)?;
            report(class, &mut lines)?;
        }
    }
    let loading_samples = if quick { 3 } else { 10 };
    for kib in [64, 8 * 1024] {
        let every = if quick { 64 } else { 1 };
        let mut class = Class::new(format!(
            "adversarial data segment KiB = {kib} (Init ticks, every {every}th)"
        ));
        let kernel = wat::parse_str(data_wat(kib))?;
        let mut pvm = Pvm::install_boot_sector(&super::mainnet_pvm_config(), &kernel)?;
        step_until(&mut pvm, &mut level_inputs(1, &[]).into_iter(), &InternalState::Init)?;
        prove_phases(&mut class, &pvm, &[InternalState::Init], every)?;
        report(class, &mut lines)?;
    }
    for kib in [64, 4 * 1024] {
        let mut class = Class::new(format!("adversarial kernel code KiB = {kib} (Decode ticks)"));
        adversarial_loading(&mut class, &code_wat(kib), InternalState::Decode, loading_samples)?;
        report(class, &mut lines)?;
    }
    lines.push(all.line());
    for line in super::refute::run()? {
        eprintln!("{line}");
        lines.push(line);
    }
    Ok(lines)
}
