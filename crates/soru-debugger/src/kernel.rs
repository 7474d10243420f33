//! Reading and checking a kernel before it is originated in the debugger:
//! `.wasm` (binary) or `.wat`/`.wast` (text) files, decoded and validated by
//! soru-wasm in PVM mode (so floats and SIMD are refused), imports linked
//! against the host functions of the current PVM version, and the
//! `kernel_run` and `memory` exports checked — what the PVM would otherwise
//! only discover at the first `kernel_run`, as Octez's debugger does too.

use std::path::Path;

use soru_pvm::host::{HostFn, HOST_MODULE, VERSIONS};
use soru_wasm::types::{ExportKind, ExternKind};
use soru_wasm::{Decoder, Mode, Module};

/// Why a kernel cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The file cannot be read.
    #[error("cannot read kernel {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text format does not parse.
    #[error("kernel {path} is not valid WebAssembly text: {reason}")]
    Text {
        /// The file.
        path: String,
        /// The parser's message.
        reason: String,
    },
    /// The binary does not decode or validate (floats, SIMD, malformed,
    /// invalid, over a limit).
    #[error("invalid kernel: {0}")]
    Invalid(#[from] soru_wasm::DecodeError),
    /// An import the PVM cannot link.
    #[error("invalid kernel: {0}")]
    Link(String),
    /// A missing or ill-typed export.
    #[error("invalid kernel: {0}")]
    Export(String),
}

/// Reads a kernel file: text (`.wat`, `.wast`, or anything not starting with
/// the binary magic) is converted to the binary format.
pub fn read_kernel(path: &Path) -> Result<Vec<u8>, KernelError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| KernelError::Read {
        path: name.clone(),
        source,
    })?;
    let text_extension = matches!(path.extension().and_then(|e| e.to_str()), Some("wat") | Some("wast"));
    if text_extension || !bytes.starts_with(b"\0asm") {
        return wat::parse_bytes(&bytes)
            .map(|b| b.into_owned())
            .map_err(|e| KernelError::Text {
                path: name,
                reason: e.to_string(),
            });
    }
    Ok(bytes)
}

/// Decodes and validates `bytes` as a kernel for the newest PVM version:
/// the module decodes in PVM mode, imports only host functions of
/// `smart_rollup_core` with their exact types, and exports `kernel_run`
/// (`[] -> []`) and its memory as `memory`.
pub fn check_kernel(bytes: &[u8]) -> Result<Module, KernelError> {
    let module = Decoder::decode(Mode::Pvm, bytes)?;
    let version = (VERSIONS.len() - 1) as u8;
    for import in &module.imports {
        let what = format!("import {}.{}", import.module, import.name);
        if import.module != HOST_MODULE {
            return Err(KernelError::Link(format!(
                "{what}: only the module {HOST_MODULE:?} can be imported"
            )));
        }
        let ExternKind::Func(ty) = &import.kind else {
            return Err(KernelError::Link(format!("{what}: only functions can be imported")));
        };
        let Some(f) = HostFn::lookup(&import.name, version) else {
            return Err(KernelError::Link(format!(
                "{what}: no such host function in PVM {}",
                VERSIONS[version as usize]
            )));
        };
        if module.types[*ty as usize] != f.signature() {
            return Err(KernelError::Link(format!(
                "{what}: imported with type {:?}, the host function has type {:?}",
                module.types[*ty as usize],
                f.signature()
            )));
        }
    }
    match module.export("kernel_run") {
        Some(e) if e.kind == ExportKind::Func => {
            let ty = module.func_type(e.index);
            if !ty.params.is_empty() || !ty.results.is_empty() {
                return Err(KernelError::Export(format!(
                    "kernel_run must have type [] -> [], it has {ty:?}"
                )));
            }
        }
        _ => return Err(KernelError::Export("no exported function kernel_run".into())),
    }
    if !matches!(module.export("memory"), Some(e) if e.kind == ExportKind::Memory) {
        return Err(KernelError::Export("the memory is not exported as \"memory\"".into()));
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernels() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kernels")
    }

    #[test]
    fn example_kernels_are_accepted() {
        for name in ["echo", "counter", "installer", "reboot", "tx"] {
            let bytes = read_kernel(&kernels().join(format!("wasm/{name}.wasm"))).unwrap();
            check_kernel(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn bad_kernels_get_clear_errors() {
        let err = |wat: &str| check_kernel(&wat::parse_str(wat).unwrap()).unwrap_err().to_string();
        let floats = err(r#"(module (memory (export "memory") 1)
            (func (export "kernel_run") (drop (f32.const 1))))"#);
        assert!(floats.contains("floating-point"), "{floats}");
        let import = err(r#"(module (import "env" "f" (func)) (memory (export "memory") 1)
            (func (export "kernel_run")))"#);
        assert!(import.contains("import env.f"), "{import}");
        let unknown = read_kernel(&kernels().join("wat/unknown-import.wat")).unwrap();
        assert!(check_kernel(&unknown)
            .unwrap_err()
            .to_string()
            .contains("no such host function"));
        let wrong = read_kernel(&kernels().join("wat/wrong-signature.wat")).unwrap();
        assert!(check_kernel(&wrong)
            .unwrap_err()
            .to_string()
            .contains("imported with type"));
        let no_run = read_kernel(&kernels().join("wat/no-kernel-run.wat")).unwrap();
        assert!(check_kernel(&no_run).unwrap_err().to_string().contains("kernel_run"));
        let no_mem = read_kernel(&kernels().join("wat/no-memory-export.wat")).unwrap();
        assert!(check_kernel(&no_mem).unwrap_err().to_string().contains("memory"));
        assert!(matches!(check_kernel(b"\0asm\x01\0\0"), Err(KernelError::Invalid(_))));
    }

    #[test]
    fn unreadable_and_unparsable_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_kernel(&dir.path().join("nope.wasm")).unwrap_err();
        assert!(matches!(missing, KernelError::Read { .. }), "{missing}");
        let text = dir.path().join("bad.wat");
        std::fs::write(&text, "(module (func (i32.bogus)))").unwrap();
        let e = read_kernel(&text).unwrap_err();
        assert!(
            matches!(e, KernelError::Text { .. }) && e.to_string().contains("bad.wat"),
            "{e}"
        );
    }
}
