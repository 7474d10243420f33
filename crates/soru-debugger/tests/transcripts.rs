//! Transcript tests: scripted sessions on the example kernels of `kernels/`
//! and small WAT kernels, checked against the output seed 003 documents.

use std::path::{Path, PathBuf};

use soru_core::RevealHash;
use soru_debugger::{start, DebuggerError, Options, ScriptLines, Session, Summary};
use soru_pvm::{InputRequest, RevealRequest};

const TPS: u128 = 50_000_000_000_000;

fn kernel(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../kernels/wasm/{name}.wasm"))
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn preimages(&self) -> PathBuf {
        let path = self.dir.path().join("preimages");
        std::fs::create_dir_all(&path).unwrap();
        path
    }
}

fn options(kernel: PathBuf, inputs: Option<PathBuf>) -> Options {
    Options {
        kernel,
        inputs,
        rollup: None,
        preimage_dir: None,
        kernel_debug: true,
    }
}

/// Runs `script` and returns the transcript and the summary.
fn run(session: &mut Session, script: &str) -> (String, Summary) {
    let mut out = Vec::new();
    let mut lines = ScriptLines::new(script);
    let summary = soru_debugger::run(session, &mut lines, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), summary)
}

/// The output of one command (the transcript without the echoed command).
fn command(session: &mut Session, line: &str) -> String {
    let (text, _) = run(session, line);
    text.strip_prefix(&format!("> {line}\n")).unwrap().to_string()
}

/// An outbox message: one transaction of `0x6869` to a KT1, entrypoint `default`.
const ECHO_MESSAGE: &str = "00000000280a0000000268690115edad279f55e2fe4011de6d2c24fdf51bf225c5000000000764656661756c74";

fn echo_inputs(f: &Fixture) -> PathBuf {
    f.file(
        "inputs.json",
        format!(r#"[ [ {{ "external": "{ECHO_MESSAGE}" }} ], [ {{ "payload": "Pair Unit False" }} ] ]"#).as_bytes(),
    )
}

#[test]
fn echo_follows_seed_003() {
    let f = Fixture::new();
    let mut s = start(&options(kernel("echo"), Some(echo_inputs(&f)))).unwrap();
    assert_eq!(
        command(&mut s, "show status"),
        "Status: Waiting for input\nInternal state: Collect\n"
    );
    assert_eq!(command(&mut s, "load inputs"), "Loaded 1 inputs at level 0\n");
    assert_eq!(
        command(&mut s, "show status"),
        "Status: Evaluating\nInternal state: Padding\n"
    );
    assert_eq!(
        command(&mut s, "show inbox"),
        format!(
            "Inbox has 4 messages:\n\
             {{ raw_level: 0;\n  counter: 0\n  payload: Start_of_level }}\n\
             {{ raw_level: 0;\n  counter: 1\n  payload: Info_per_level {{predecessor_timestamp = \
             1970-01-01T00:00:00-00:00; predecessor = BKiHLREqU3JkXfzEDYAkmmfX48gBDtYhMrpA98s7Aq4SzbUAB6M}} }}\n\
             {{ raw_level: 0;\n  counter: 2\n  payload: {ECHO_MESSAGE} }}\n\
             {{ raw_level: 0;\n  counter: 3\n  payload: End_of_level }}\n"
        )
    );
    // The input cycle ends (4 input ticks were spent in it), then the
    // kernel_run cycle: a whole level is exactly two cycles.
    assert_eq!(
        command(&mut s, "step kernel_run"),
        format!(
            "Evaluation took {} ticks so far\nStatus: Evaluating\nInternal state: Snapshot\n",
            TPS - 4
        )
    );
    assert_eq!(
        command(&mut s, "step inbox"),
        format!("Evaluation took {TPS} ticks so far\nStatus: Waiting for input\nInternal state: Collect\n")
    );
    assert_eq!(s.pvm().current_tick(), 2 * TPS);
    assert_eq!(command(&mut s, "show inbox"), "Inbox has 0 messages:\n");
    assert_eq!(
        command(&mut s, "show outbox at level 0"),
        "Outbox has 1 messages:\nAtomic_transaction_batch [ { unparsed_parameters: 0x6869; \
         destination: KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y; entrypoint: default; } ]\n"
    );
    // The next inbox: a transfer with the default sender, source and rollup.
    let (text, summary) = run(&mut s, "load inputs\nshow inbox\nstep inbox\nshow outbox at level 1\n");
    assert_eq!(summary.failed, 0, "{text}");
    assert!(text.contains("Loaded 1 inputs at level 1\n"), "{text}");
    assert!(
        text.contains(
            "payload: Transfer {payload = Pair Unit False; sender = KT18amZmM5W7qDWVt2pH6uj7sCEd3kbzLrHT; \
             source = tz1Ke2h7sDdakHJQh8WX4Z372du1KChsksyU; destination = sr163Lv22CdE8QagCwf48PWDTquk6isQwv57} }"
        ),
        "{text}"
    );
    assert!(text.contains("Outbox has 0 messages:\n"), "{text}");
    // Past the end of the file: empty inboxes at the next levels.
    let text = command(&mut s, "step inbox");
    assert!(text.starts_with("Loaded 0 inputs at level 2\n"), "{text}");
    assert!(
        text.contains(&format!("Evaluation took {} ticks so far\n", 2 * TPS)),
        "{text}"
    );
    assert_eq!(s.pvm().current_tick(), 6 * TPS);
    assert_eq!(
        s.pvm().current_tick() % TPS,
        0,
        "totals are multiples of ticks_per_snapshot"
    );
}

#[test]
fn durable_storage_commands() {
    let f = Fixture::new();
    let inputs = f.file("in.yaml", b"- - external: \"61\"\n  - external: \"62\"\n");
    let mut s = start(&options(kernel("counter"), Some(inputs))).unwrap();
    let (text, summary) = run(&mut s, "step inbox\n");
    assert_eq!(summary.failed, 0, "{text}");
    assert_eq!(command(&mut s, "show key /counter"), "0200000000000000\n");
    assert_eq!(command(&mut s, "show key /counter as u64"), "2\n");
    assert_eq!(command(&mut s, "show key /counter as int"), "2\n");
    assert_eq!(command(&mut s, "show key /level as u32"), "0\n");
    assert_eq!(
        command(&mut s, "show key /counter as i32"),
        "Error: i32 values must be 4 bytes long. Defaulting to hexadecimal value\n0200000000000000\n"
    );
    assert_eq!(
        command(&mut s, "show key /readonly/wasm_version as string"),
        "2.0.0-r6\n"
    );
    assert_eq!(command(&mut s, "show key /nothing"), "Key not found\n");
    assert_eq!(command(&mut s, "show key nothing"), "Error: Invalid key nothing\n");
    assert_eq!(command(&mut s, "ls"), "/counter\n/kernel\n/level\n/readonly\n");
    assert_eq!(command(&mut s, "show subkeys /"), command(&mut s, "ls"));
    assert_eq!(command(&mut s, "show keys /kernel"), "/boot.wasm\n/env\n");
    assert_eq!(command(&mut s, "ls /kernel/"), "/boot.wasm\n/env\n");
    assert_eq!(
        command(&mut s, "ls /nothing"),
        "The path /nothing is not available in the durable storage\n"
    );
    assert_eq!(
        command(&mut s, "ls kernel"),
        "Error: Invalid path, it must start with '/'\n"
    );
    let storage = command(&mut s, "show durable storage");
    assert!(storage.starts_with("/counter\n  0200000000000000\n"), "{storage}");
    assert!(storage.contains("/kernel/boot.wasm\n  0061736d01000000"), "{storage}");
    assert!(storage.contains("… (10382 bytes)\n"), "{storage}");
    assert!(
        storage.contains("/readonly/wasm_version\n  322e302e302d7236\n"),
        "{storage}"
    );
}

/// Stores "hello" at 100 in a helper, prints a debug line, returns.
const MEMORY_KERNEL: &str = r#"
(module
  (import "smart_rollup_core" "write_debug" (func $debug (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "hi from wat\n")
  (func $store_hello (i64.store (i32.const 100) (i64.const 0x6f6c6c6568)))
  (func (export "kernel_run")
    (call $store_hello)
    (call $debug (i32.const 200) (i32.const 12))))
"#;

#[test]
fn step_result_keeps_the_memory_and_step_tick_steps() {
    let f = Fixture::new();
    let wat = f.file("memory.wat", MEMORY_KERNEL.as_bytes());
    let mut s = start(&options(wat.clone(), None)).unwrap();
    assert_eq!(
        command(&mut s, "step tick"),
        "Error: The PVM is waiting for inputs. Use `load inputs` to load the next inbox, or `step inbox`.\n"
    );
    let (text, summary) = run(&mut s, "load inputs\nstep kernel_run\nstep tick\nshow status\n");
    assert_eq!(summary.failed, 0, "{text}");
    assert!(text.contains("Loaded 0 inputs at level 0\n"), "{text}");
    assert!(
        text.ends_with(
            "> step tick\nEvaluation took 1 ticks so far\nStatus: Evaluating\nInternal state: Decode\n\
             > show status\nStatus: Evaluating\nInternal state: Decode\n"
        ),
        "{text}"
    );
    assert!(command(&mut s, "show memory at 0 for 1 bytes")
        .starts_with("Error: Cannot inspect memory during internal state Decode"));
    // To one tick before the end of kernel_run: the debug line is printed,
    // the memory is still there.
    let text = command(&mut s, "step result");
    assert!(text.starts_with("hi from wat\nEvaluation took "), "{text}");
    assert!(
        text.ends_with("Status: Evaluating\nInternal state: Evaluation succeeded\n"),
        "{text}"
    );
    assert_eq!(command(&mut s, "show memory at 100 for 5 bytes as string"), "hello\n");
    assert_eq!(command(&mut s, "show memory at 100 for 5 bytes"), "68656c6c6f\n");
    assert_eq!(
        command(&mut s, "show memory at 0x64 as i64"),
        format!("{}\n", 0x6f6c6c6568i64)
    );
    assert!(command(&mut s, "show memory at 65535 for 2 bytes").contains("outside the memory (65536 bytes)"));
    // The next tick returns from kernel_run: the memory is gone.
    let text = command(&mut s, "step tick");
    assert!(
        text.ends_with("Status: Evaluating\nInternal state: Padding\n"),
        "{text}"
    );
    assert!(command(&mut s, "show memory at 100 for 5 bytes").starts_with("Error: Cannot inspect memory"));
    let text = command(&mut s, "step kernel_run");
    assert!(
        text.ends_with("Status: Waiting for input\nInternal state: Collect\n"),
        "{text}"
    );
    assert_eq!(s.pvm().current_tick(), 2 * TPS);

    // Without kernel debug output.
    let mut quiet = start(&Options {
        kernel_debug: false,
        ..options(wat, None)
    })
    .unwrap();
    let (text, _) = run(&mut quiet, "step inbox\n");
    assert!(!text.contains("hi from wat"), "{text}");
}

#[test]
fn step_result_on_a_trap() {
    let f = Fixture::new();
    let inputs = f.file("in.json", br#"[[{"external": "74726170"}]]"#);
    let mut s = start(&options(kernel("trap"), Some(inputs))).unwrap();
    let (text, summary) = run(&mut s, "load inputs\nstep kernel_run\nstep result\n");
    assert_eq!(summary.failed, 0, "{text}");
    assert!(
        text.ends_with("Status: Evaluating\nInternal state: Evaluation failed (the next tick traps)\n"),
        "{text}"
    );
    assert_eq!(command(&mut s, "show key /trap/before as string"), "1\n");
    let text = command(&mut s, "step tick");
    assert!(text.ends_with("Internal state: Padding\n"), "{text}");
    assert_eq!(command(&mut s, "show key /readonly/kernel/env/stuck"), "\n");
}

/// Splits `kernel` into installer pages (kernels/README.md): contents pages
/// of 4 095 bytes, then hashes pages of at most 124 hashes. Returns the
/// root hash and every page with its hash, root first.
fn pages(kernel: &[u8]) -> (RevealHash, Vec<(RevealHash, Vec<u8>)>) {
    let mut all = Vec::new();
    let mut level: Vec<RevealHash> = kernel
        .chunks(4095)
        .map(|chunk| {
            let page = [&[0u8][..], chunk].concat();
            let hash = RevealHash::of_preimage(&page);
            all.push((hash, page));
            hash
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(124)
            .map(|group| {
                let mut page = vec![1u8];
                for h in group {
                    page.extend_from_slice(&h.to_tagged_bytes());
                }
                let hash = RevealHash::of_preimage(&page);
                all.push((hash, page));
                hash
            })
            .collect();
    }
    all.reverse();
    (level[0], all)
}

/// The installer patched to install `target`, its pages in a preimage
/// directory; returns (installer path, preimage dir, pages root first).
fn installer(f: &Fixture, target: &[u8]) -> (PathBuf, PathBuf, Vec<(RevealHash, Vec<u8>)>) {
    let (root, pages) = pages(target);
    let mut installer = std::fs::read(kernel("installer")).unwrap();
    let marker = b"SORU-INSTALLER-ROOT-HASH:";
    let at = installer.windows(marker.len()).position(|w| w == marker).unwrap() + marker.len();
    installer[at..at + 33].copy_from_slice(&root.to_tagged_bytes());
    let dir = f.preimages();
    for (hash, page) in &pages {
        std::fs::write(dir.join(hash.to_hex()), page).unwrap();
    }
    (f.file("installer.wasm", &installer), dir, pages)
}

fn counter_inputs(f: &Fixture) -> PathBuf {
    f.file("in.json", br#"[[{"external": "61"}, {"external": "62"}]]"#)
}

#[test]
fn installer_reads_pages_from_the_preimage_directory() {
    let f = Fixture::new();
    let counter = std::fs::read(kernel("counter")).unwrap();
    let (installer, dir, pages) = installer(&f, &counter);
    assert_eq!(pages.len(), 4, "3 contents pages under a hashes page");
    let mut s = start(&Options {
        preimage_dir: Some(dir),
        ..options(installer, Some(counter_inputs(&f)))
    })
    .unwrap();
    let (text, summary) = run(
        &mut s,
        "step inbox\nshow key /counter as u64\nshow key /installer/size as u32\ncrosscheck\n",
    );
    assert_eq!(summary.failed, 0, "{text}");
    assert!(!text.contains("not found"), "{text}");
    assert!(
        text.contains(&format!("Evaluation took {} ticks so far\n", 3 * TPS)),
        "input cycle, installer run, reboot into counter: {text}"
    );
    assert!(text.contains("> show key /counter as u64\n2\n"), "{text}");
    assert!(
        text.contains(&format!("> show key /installer/size as u32\n{}\n", counter.len())),
        "{text}"
    );
    assert!(text.contains("(150000000000000 ticks, 5 inputs, 4 reveals)"), "{text}");
    // The installer's run (its reveals answered from the recording) and the
    // counter's, both on wasmtime.
    assert!(
        text.contains("on soru-fast to tick 150000000000000 (2 kernel runs: 2 on wasmtime, 0 load failures applied, 0 fallbacks to the PVM, 2 kernels compiled)"),
        "{text}"
    );
    assert!(
        text.contains("Cross-check passed: the state hashes are equal\n"),
        "{text}"
    );
    assert_eq!(s.pvm_mut().durable_read("/kernel/boot.wasm").unwrap(), Some(counter));
}

#[test]
fn a_missing_page_is_asked_for_and_a_wrong_one_refused() {
    let f = Fixture::new();
    let counter = std::fs::read(kernel("counter")).unwrap();
    let (installer, dir, pages) = installer(&f, &counter);
    let (missing, page) = &pages[2];
    std::fs::remove_file(dir.join(missing.to_hex())).unwrap();
    let mut s = start(&Options {
        preimage_dir: Some(dir.clone()),
        ..options(installer, Some(counter_inputs(&f)))
    })
    .unwrap();
    let wrong = "00aabb";
    let script = format!(
        "step inbox\n{wrong}\nzz\n{}\nshow key /counter as u64\ncrosscheck\n",
        hex::encode(page)
    );
    let (text, summary) = run(&mut s, &script);
    assert_eq!(summary.failed, 0, "{text}");
    assert!(
        text.contains(&format!(
            "Preimage for hash {} not found in {}.\nPlease provide the preimage of {} in hexadecimal (an empty \
             line to stop):\n> {wrong}\nError: the preimage's hash {} does not match the requested hash {}: \
             refused.\n> zz\nError: the data is not a valid hexadecimal value.\n> {}\n",
            missing.to_hex(),
            dir.display(),
            missing.to_hex(),
            RevealHash::of_preimage(&hex::decode(wrong).unwrap()).to_hex(),
            missing.to_hex(),
            hex::encode(page)
        )),
        "{text}"
    );
    assert!(text.contains("> show key /counter as u64\n2\n"), "{text}");
    assert!(text.contains("Cross-check passed"), "{text}");
}

#[test]
fn giving_up_leaves_the_reveal_to_the_reveal_commands() {
    let f = Fixture::new();
    let counter = std::fs::read(kernel("counter")).unwrap();
    let (installer, dir, pages) = installer(&f, &counter);
    let (missing, page) = &pages[1];
    std::fs::remove_file(dir.join(missing.to_hex())).unwrap();
    let mut s = start(&Options {
        preimage_dir: Some(dir.clone()),
        ..options(installer, Some(counter_inputs(&f)))
    })
    .unwrap();
    let (text, summary) = run(&mut s, "step inbox\n\nshow status\n");
    assert_eq!(summary.failed, 0, "{text}");
    assert!(
        text.contains("No preimage given: the PVM still waits for the preimage of"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "Status: Waiting for reveal: preimage of {}\nInternal state: Eval\n",
            missing.to_hex()
        )),
        "{text}"
    );
    assert_eq!(
        command(&mut s, "load inputs"),
        format!(
            "Error: The PVM is waiting for a reveal (preimage of {}): answer it with `reveal preimage` or \
             `reveal metadata`.\n",
            missing.to_hex()
        )
    );
    assert_eq!(
        command(&mut s, "reveal metadata"),
        "Error: The PVM is waiting for a preimage, not metadata: use `reveal preimage`.\n"
    );
    let refused = command(&mut s, "reveal preimage of 0102");
    assert!(
        refused.starts_with("Error: the preimage's hash") && refused.ends_with("refused.\n"),
        "{refused}"
    );
    assert!(command(&mut s, "reveal preimage nothex").contains("not a valid hexadecimal value"));
    // The file is back: `reveal preimage` reads it.
    std::fs::write(dir.join(missing.to_hex()), page).unwrap();
    assert_eq!(command(&mut s, "reveal preimage"), "Preimage revealed\n");
    assert_eq!(
        command(&mut s, "reveal preimage 00"),
        "Error: The PVM is not waiting for a reveal.\n"
    );
    let (text, summary) = run(&mut s, "step inbox\nshow key /counter as u64\ncrosscheck\n");
    assert_eq!(summary.failed, 0, "{text}");
    assert!(text.contains("> show key /counter as u64\n2\n"), "{text}");
    assert!(text.contains("Cross-check passed"), "{text}");
    assert_eq!(s.pvm().current_tick(), 3 * TPS);
}

const METADATA_KERNEL: &str = r#"
(module
  (import "smart_rollup_core" "reveal_metadata" (func $meta (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "kernel_run")
    (i32.store (i32.const 64) (call $meta (i32.const 0) (i32.const 24)))))
"#;

#[test]
fn metadata_reveal_by_hand() {
    let f = Fixture::new();
    let wat = f.file("meta.wat", METADATA_KERNEL.as_bytes());
    let rollup = "sr1RYurGZtN8KNSpkMcCt9CgWeUaNkzsAfXf";
    let mut s = start(&Options {
        rollup: Some(rollup.into()),
        ..options(wat, None)
    })
    .unwrap();
    run(&mut s, "load inputs\nstep kernel_run\n");
    let mut ticks = 0;
    while !matches!(s.pvm().input_request(), InputRequest::Reveal(RevealRequest::Metadata)) {
        command(&mut s, "step tick");
        ticks += 1;
        assert!(ticks < 1000, "no reveal");
    }
    assert_eq!(
        command(&mut s, "show status"),
        "Status: Waiting for reveal: metadata\nInternal state: Eval\n"
    );
    assert!(command(&mut s, "step tick").starts_with("Error: The PVM is waiting for a reveal (metadata)"));
    assert_eq!(
        command(&mut s, "reveal preimage 00"),
        "Error: The PVM is waiting for metadata, not a preimage: use `reveal metadata`.\n"
    );
    assert_eq!(
        command(&mut s, "reveal metadata"),
        format!("Metadata revealed: rollup {rollup}, origination level 0\n")
    );
    command(&mut s, "step result");
    let address: soru_core::SmartRollupAddress = rollup.parse().unwrap();
    assert_eq!(
        command(&mut s, "show memory at 0 for 24 bytes"),
        format!("{}00000000\n", hex::encode(address.0))
    );
    assert_eq!(command(&mut s, "show memory at 64 as i32"), "24\n");
    // Runs answer metadata reveals by themselves.
    let mut auto = start(&options(f.file("meta2.wat", METADATA_KERNEL.as_bytes()), None)).unwrap();
    let (text, summary) = run(&mut auto, "step inbox\ncrosscheck\n");
    assert_eq!(summary.failed, 0, "{text}");
    assert!(text.contains("1 reveals"), "{text}");
}

#[test]
fn profile_reports_phases_and_functions() {
    let f = Fixture::new();
    let mut s = start(&options(kernel("echo"), Some(echo_inputs(&f)))).unwrap();
    let text = command(&mut s, "profile --collapsed");
    assert!(
        text.starts_with("Starting the profiling until new messages are expected."),
        "{text}"
    );
    assert!(text.contains("Loaded 1 inputs at level 0\n"), "{text}");
    for line in [
        "Detailed results for a `kernel_run`:\n%interpreter(snapshot): 1 ticks (",
        "%interpreter(decode): ",
        "%interpreter(link): 3 ticks (",
        "kernel_run: ",
        "tezos_smart_rollup_core::smart_rollup_core::write_output\n",
        &format!("Full execution with padding: {} ticks\n", 2 * TPS),
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    assert_eq!(text.matches("Detailed results").count(), 1, "echo runs once per level");
    let path = text
        .lines()
        .find_map(|l| l.strip_prefix("Profiling result can be found in "))
        .unwrap();
    let graph = std::fs::read_to_string(path).unwrap();
    std::fs::remove_file(path).unwrap();
    assert!(graph.lines().any(|l| l.starts_with("%interpreter(decode) ")), "{graph}");
    assert!(
        graph
            .lines()
            .any(|l| l.starts_with("kernel_run;tezos_smart_rollup_core::smart_rollup_core::read_input ")),
        "{graph}"
    );
    // The ticks of the report add up to the run's ticks.
    let ticks: u128 = graph
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u128>().unwrap())
        .sum();
    assert!(
        text.contains(&format!("Full execution: {ticks} ticks (")),
        "{ticks} in {text}"
    );
    assert!(text.ends_with(&format!("Full execution with padding: {} ticks\n", 2 * TPS)));
    assert_eq!(
        command(&mut s, "show status"),
        "Status: Waiting for input\nInternal state: Collect\n"
    );
    // Without time, one kernel_run of a rebooting kernel.
    let reboot = f.file("reboot.json", br#"[[{"external": "5203000000"}]]"#);
    let mut r = start(&options(kernel("reboot"), Some(reboot))).unwrap();
    let text = command(&mut r, "profile --without-time --no-reboot");
    assert_eq!(text.matches("Detailed results").count(), 1, "{text}");
    assert!(!text.contains("µs") && !text.contains("ms)"), "{text}");
    assert!(
        text.contains(&format!("Full execution with padding: {} ticks\n", 2 * TPS)),
        "{text}"
    );
    assert_eq!(
        command(&mut r, "show status"),
        "Status: Evaluating\nInternal state: Snapshot\n"
    );
    assert!(command(&mut r, "step tick").contains("Internal state: Decode"));
    assert!(command(&mut r, "profile").starts_with("Error: Profiling can only be done from a snapshotable state"));
    // The rest of the level: two more runs (target 3).
    let text = command(&mut r, "step kernel_run");
    assert!(text.contains("Internal state: Snapshot"), "{text}");
    let text = command(&mut r, "profile --without-time");
    assert_eq!(text.matches("Detailed results").count(), 1, "{text}");
    assert_eq!(command(&mut r, "show key /reboot/runs as u32"), "3\n");
}

#[test]
fn bad_kernels_inputs_and_commands_keep_the_session_running() {
    let f = Fixture::new();
    let floats = f.file(
        "floats.wat",
        br#"(module (memory (export "memory") 1) (func (export "kernel_run") (drop (f64.const 1))))"#,
    );
    let bad_json = f.file("bad.json", br#"[[{"external": "0g"}]]"#);
    let good = f.file("good.yaml", b"- - external: \"61\"\n");
    let mut s = start(&options(kernel("counter"), None)).unwrap();
    let script = format!(
        "frobnicate\nshow nothing\nstep sideways\nload kernel {}\nload kernel {}\nload inputs from {}\n\
         load inputs from {}\nshow status\nload inputs from {}\nstep inbox\nshow key /counter as u64\n\
         load kernel {}\nshow status\nhelp\nstop\nshow status\n",
        f.dir.path().join("missing.wasm").display(),
        floats.display(),
        bad_json.display(),
        f.dir.path().join("missing.json").display(),
        good.display(),
        kernel("echo").display(),
    );
    let (text, summary) = run(&mut s, &script);
    assert_eq!(summary.failed, 7, "{text}");
    assert_eq!(summary.commands, 15, "stop ends the session: {text}");
    for expected in [
        "> frobnicate\nError: Unknown command `frobnicate`. Type `help` for the list of commands.\n",
        "> show nothing\nError: Unknown command `show nothing`.",
        "> step sideways\nError: usage: step tick|result|kernel_run|inbox\n",
        "missing.wasm\nError: cannot read kernel ",
        "floats.wat\nError: invalid kernel: floating-point types and instructions are not allowed in kernels",
        "bad.json\nError: inputs ",
        ": inbox 0, message 0: external is not hexadecimal",
        "missing.json\nError: cannot read inputs ",
        "> show status\nStatus: Waiting for input\nInternal state: Collect\n",
        "good.yaml\nRead 1 inboxes from ",
        "> show key /counter as u64\n1\n",
        "Loaded kernel ",
        "crosscheck: ",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    assert!(text.ends_with("> stop\n"), "{text}");
    assert_eq!(s.pvm().current_tick(), 0, "back at origination with echo");
}

#[test]
fn start_up_errors_are_clear() {
    let f = Fixture::new();
    let floats = f.file(
        "floats.wat",
        br#"(module (memory (export "memory") 1) (func (export "kernel_run") (drop (f32.const 1))))"#,
    );
    let message = |r: Result<Session, DebuggerError>| r.unwrap_err().to_string();
    assert!(message(start(&options(floats, None))).contains("floating-point"));
    let unknown = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kernels/wat/unknown-import.wat");
    assert!(message(start(&options(unknown, None))).contains("does_not_exist"));
    let bad = f.file("in.json", b"[[{\"payload\": \"Pair (\"}]]");
    assert!(message(start(&options(kernel("echo"), Some(bad)))).contains("inbox 0, message 0: payload:"));
    let mut with_rollup = options(kernel("echo"), None);
    with_rollup.rollup = Some("sr1nope".into());
    assert!(message(start(&with_rollup)).contains("invalid rollup address"));
    let mut with_dir = options(kernel("echo"), None);
    with_dir.preimage_dir = Some(f.dir.path().join("nope"));
    assert!(message(start(&with_dir)).contains("does not exist"));
}

#[test]
fn time_and_symbols() {
    let f = Fixture::new();
    let mut s = start(&options(kernel("echo"), Some(echo_inputs(&f)))).unwrap();
    let text = command(&mut s, "time step inbox");
    assert!(
        text.contains("Evaluation took 100000000000000 ticks so far\n"),
        "{text}"
    );
    assert!(text.lines().last().unwrap().starts_with("took "), "{text}");
    let symbols = command(&mut s, "dump function symbols");
    assert!(symbols.starts_with("Functions:\n - func[0] <tezos_smart_rollup_core::smart_rollup_core::read_input>\n"));
    assert!(symbols.contains(" - func[15] <kernel_run>\n"), "{symbols}");
    let wat = f.file("memory.wat", MEMORY_KERNEL.as_bytes());
    let mut w = start(&options(wat, None)).unwrap();
    assert_eq!(
        command(&mut w, "dump function symbols"),
        "Functions:\n - func[0] <debug>\n - func[1] <store_hello>\n"
    );
}

#[test]
fn profile_through_reveals_and_a_reboot() {
    let f = Fixture::new();
    let counter = std::fs::read(kernel("counter")).unwrap();
    let (installer, dir, _) = installer(&f, &counter);
    let mut s = start(&Options {
        preimage_dir: Some(dir),
        ..options(installer, Some(counter_inputs(&f)))
    })
    .unwrap();
    let text = command(&mut s, "profile --without-time");
    assert_eq!(
        text.matches("Detailed results").count(),
        2,
        "installer, then counter: {text}"
    );
    for name in [
        "installer::walk",
        "tezos_smart_rollup_core::smart_rollup_core::reveal_preimage",
    ] {
        assert!(text.contains(&format!("  {name}\n")), "{name} in {text}");
    }
    assert!(
        text.ends_with(&format!("Full execution with padding: {} ticks\n", 3 * TPS)),
        "{text}"
    );
    let path = text
        .lines()
        .find_map(|l| l.strip_prefix("Profiling result can be found in "))
        .unwrap();
    let graph = std::fs::read_to_string(path).unwrap();
    std::fs::remove_file(path).unwrap();
    let in_graph: u128 = graph
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u128>().unwrap())
        .sum();
    let in_report: u128 = text
        .lines()
        .filter_map(|l| l.strip_prefix("Full execution: "))
        .map(|l| l.trim_end_matches(" ticks").parse::<u128>().unwrap())
        .sum();
    assert_eq!(in_graph, in_report, "every tick of the runs is in the flamegraph");
    assert_eq!(command(&mut s, "show key /counter as u64"), "2\n");
}
