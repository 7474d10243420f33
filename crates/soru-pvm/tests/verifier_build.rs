//! The verifier build: soru-pvm without its default `prover` feature (no
//! owned-backend entry points, no recording backend, no node store) is what
//! an L1 links to check proofs, so it must keep compiling, warning-free. It
//! builds in its own target directory so the main build's artifacts stay.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_verifier_alone_builds() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "-q",
            "-p",
            "soru-pvm",
            "--no-default-features",
            "--locked",
            "--offline",
        ])
        .env("CARGO_TARGET_DIR", root.join("target/verifier-build"))
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the verifier build fails:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It must not carry the recording backend or the store.
    let tree = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "tree",
            "-q",
            "-p",
            "soru-pvm",
            "--no-default-features",
            "-e",
            "normal",
            "--locked",
            "--offline",
        ])
        .output()
        .expect("cargo runs");
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(tree.contains("soru-tree"), "cargo tree output: {tree}");
    assert!(
        !tree.contains("redb"),
        "the verifier build links the node store:\n{tree}"
    );
}
