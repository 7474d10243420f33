//! The committed kernels in `kernels/wasm/` are exactly what their sources
//! build to: where the `wasm32-unknown-unknown` target is installed and
//! `rustc -V` equals `kernels/RUSTC_VERSION`, this rebuilds every kernel in a
//! fresh target directory (`kernels/build.sh --verify`) and compares byte for
//! byte, and checks that no kernel depends on `blst` (a C library). Elsewhere
//! it says why it skips.

use std::path::PathBuf;
use std::process::Command;

fn kernels_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kernels")
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn committed_kernels_rebuild_byte_for_byte() {
    if std::env::var_os("SORU_SKIP_KERNEL_REBUILD").is_some() {
        println!("skipping the kernel rebuild check: SORU_SKIP_KERNEL_REBUILD is set");
        return;
    }
    let dir = kernels_dir();
    let recorded = std::fs::read_to_string(dir.join("RUSTC_VERSION")).expect("kernels/RUSTC_VERSION");
    let Some(rustc) = output(Command::new("rustc").arg("-V")) else {
        println!("skipping the kernel rebuild check: rustc not found");
        return;
    };
    if rustc != recorded.trim() {
        println!("skipping the kernel rebuild check: rustc is {rustc:?}, the kernels were built with {recorded:?}");
        return;
    }
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"])).expect("sysroot");
    if !PathBuf::from(sysroot)
        .join("lib/rustlib/wasm32-unknown-unknown")
        .is_dir()
    {
        println!("skipping the kernel rebuild check: the wasm32-unknown-unknown target is not installed");
        return;
    }
    // No kernel may pull in blst (it needs a C toolchain and clang).
    let tree = Command::new("cargo")
        .args(["tree", "--locked", "-i", "blst", "--target", "wasm32-unknown-unknown"])
        .current_dir(&dir)
        .output()
        .expect("cargo tree runs");
    let text = String::from_utf8_lossy(&tree.stdout);
    assert!(
        !tree.status.success() || text.trim().is_empty(),
        "a kernel depends on blst:\n{text}"
    );
    let status = Command::new("bash")
        .arg("build.sh")
        .arg("--verify")
        .current_dir(&dir)
        .status()
        .expect("build.sh runs");
    assert!(status.success(), "kernels/wasm differs from a fresh build of kernels/");
}
