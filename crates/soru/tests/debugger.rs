//! `soru debugger` as a user runs it: the real binary, a kernel of
//! `kernels/`, an inputs file and a commands file, or commands on stdin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn kernel(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../kernels/wasm/{name}.wasm"))
}

const MESSAGE: &str = "00000000280a0000000268690115edad279f55e2fe4011de6d2c24fdf51bf225c5000000000764656661756c74";

fn inputs(dir: &Path) -> PathBuf {
    let path = dir.join("inputs.json");
    std::fs::write(&path, format!(r#"[[{{"external": "{MESSAGE}"}}]]"#)).unwrap();
    path
}

#[test]
fn commands_file_runs_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let commands = dir.path().join("commands.txt");
    std::fs::write(
        &commands,
        "# the seed 003 walk-through\nshow status\nload inputs\nshow inbox\nstep inbox\nshow outbox at level 0\ncrosscheck\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_soru"))
        .arg("debugger")
        .arg("--kernel")
        .arg(kernel("echo"))
        .arg("--inputs")
        .arg(inputs(dir.path()))
        .arg("--commands")
        .arg(&commands)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "> show status\nStatus: Waiting for input\nInternal state: Collect\n",
        "> load inputs\nLoaded 1 inputs at level 0\n",
        "Inbox has 4 messages:\n{ raw_level: 0;\n  counter: 0\n  payload: Start_of_level }\n",
        "> step inbox\nEvaluation took 99999999999996 ticks so far\nStatus: Waiting for input\nInternal state: Collect\n",
        "> show outbox at level 0\nOutbox has 1 messages:\nAtomic_transaction_batch [ { unparsed_parameters: 0x6869; \
         destination: KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y; entrypoint: default; } ]\n",
        "Cross-check passed: the state hashes are equal\n",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in:\n{stdout}");
    }
}

#[test]
fn stdin_commands_and_failures_set_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_soru"))
        .args(["debugger", "--no-kernel-debug", "--kernel"])
        .arg(kernel("counter"))
        .arg("--inputs")
        .arg(inputs(dir.path()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"step inbox\nfly away\nshow key /counter as u64\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "a command failed: {stdout}");
    assert!(
        stdout.contains("> fly away\nError: Unknown command `fly away`."),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("> show key /counter as u64\n1\n"),
        "the session went on: {stdout}"
    );
}

#[test]
fn an_invalid_kernel_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("floats.wat");
    std::fs::write(
        &bad,
        r#"(module (memory (export "memory") 1) (func (export "kernel_run") (drop (f32.const 1))))"#,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_soru"))
        .args(["debugger", "--kernel"])
        .arg(&bad)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("Error: invalid kernel: floating-point types and instructions are not allowed in kernels"),
        "{stderr}"
    );
}
