//! Finding pytezos and running a Python script of the tests, shared by the
//! tests that use it (this crate's differential test, soru's L1 injection
//! test: `#[path]`-included).

use std::io::Write;
use std::process::{Command, Stdio};

/// The Python that imports pytezos: `$SORU_PYTEZOS_PYTHON`, else
/// `python3`. Without one the test says so and passes, unless
/// `$SORU_REQUIRE_PYTEZOS` is set (CI sets it), when it fails.
pub(crate) fn pytezos_python() -> Option<String> {
    let python = std::env::var("SORU_PYTEZOS_PYTHON").unwrap_or_else(|_| "python3".into());
    let found = Command::new(&python)
        .args(["-c", "import pytezos"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        Some(python)
    } else if std::env::var_os("SORU_REQUIRE_PYTEZOS").is_some() {
        panic!("{python} cannot import pytezos, and SORU_REQUIRE_PYTEZOS is set");
    } else {
        eprintln!("pytezos is not installed for {python}: not checked (set SORU_PYTEZOS_PYTHON)");
        None
    }
}

/// Runs `script` with `python`, `input` on its standard input; its standard
/// output (the test fails if the script does).
pub(crate) fn run_python(python: &str, script: &str, input: &str) -> String {
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{script} does not start: {e}"));
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(input.as_bytes())
        .expect("the script reads its input");
    let output = child.wait_with_output().expect("the script ends");
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}
