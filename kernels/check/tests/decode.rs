//! Every committed kernel decodes in soru's PVM mode (no floats), exports
//! `kernel_run` and `memory`, and imports only host functions of
//! `smart_rollup_core` with their exact types.

use check::{decode, kernel, kernels_dir, section_sizes, HOST_FUNCTIONS};
use soru_wasm::types::{ExportKind, ExternKind};

const KERNELS: &[&str] = &[
    "echo",
    "counter",
    "reboot",
    "installer",
    "hostfns",
    "trap",
    "loop-forever",
    "deep-recursion",
    "memory-grow",
    "tx",
    "compute",
    "durable-heavy",
    "big-code",
    "bridge",
];

#[test]
fn the_committed_set_is_exactly_the_kernel_list() {
    let mut found: Vec<String> = std::fs::read_dir(kernels_dir().join("wasm"))
        .expect("kernels/wasm")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    found.sort();
    let mut expected: Vec<String> = KERNELS.iter().map(|k| format!("{k}.wasm")).collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn every_kernel_decodes_in_pvm_mode_with_the_right_imports_and_exports() {
    for name in KERNELS {
        let bytes = kernel(name);
        let module = decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let export = |n: &str, kind: ExportKind| module.exports.iter().any(|e| e.name == n && e.kind == kind);
        assert!(export("kernel_run", ExportKind::Func), "{name}: no kernel_run");
        assert!(export("memory", ExportKind::Memory), "{name}: no memory export");
        assert_eq!(module.memories.len(), 1, "{name}: exactly one memory");
        let kernel_run = module
            .exports
            .iter()
            .find(|e| e.name == "kernel_run")
            .expect("kernel_run");
        let ty = module.func_type(kernel_run.index);
        assert!(
            ty.params.is_empty() && ty.results.is_empty(),
            "{name}: kernel_run: {ty:?}"
        );
        assert!(module.start.is_none(), "{name}: no start function");
        for import in &module.imports {
            assert_eq!(import.module, "smart_rollup_core", "{name}: import {}", import.name);
            let (_, params, results) = HOST_FUNCTIONS
                .iter()
                .find(|(n, _, _)| *n == import.name)
                .unwrap_or_else(|| panic!("{name}: unknown host function {}", import.name));
            let ExternKind::Func(t) = import.kind else {
                panic!("{name}: {} is not a function", import.name)
            };
            let ty = &module.types[t as usize];
            assert_eq!(
                (&ty.params[..], &ty.results[..]),
                (*params, *results),
                "{name}: type of {}",
                import.name
            );
        }
    }
}

#[test]
fn big_code_has_a_code_section_of_at_least_512_kib() {
    let sizes = section_sizes(&kernel("big-code"));
    assert!(sizes[&10] >= 512 * 1024, "code section {} bytes", sizes[&10]);
}

#[test]
fn hostfns_imports_every_host_function() {
    let module = decode(&kernel("hostfns")).expect("decodes");
    for (name, _, _) in HOST_FUNCTIONS {
        assert!(
            module.imports.iter().any(|i| i.name == *name),
            "hostfns does not import {name}"
        );
    }
}

#[test]
fn the_installer_has_one_root_hash_slot() {
    let bytes = kernel("installer");
    let at: Vec<usize> = bytes
        .windows(pages::MARKER.len())
        .enumerate()
        .filter(|(_, w)| *w == pages::MARKER)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1);
    let hash = &bytes[at[0] + pages::MARKER.len()..][..33];
    assert!(hash.iter().all(|b| *b == 0), "the committed installer is unpatched");
}

#[test]
fn the_wat_kernels_decode_in_pvm_mode() {
    for name in [
        "unknown-import",
        "wrong-signature",
        "start-calls-host",
        "no-kernel-run",
        "no-memory-export",
    ] {
        decode(&check::wat_kernel(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn rustc_version_is_recorded() {
    let v = std::fs::read_to_string(kernels_dir().join("RUSTC_VERSION")).expect("RUSTC_VERSION");
    assert!(v.starts_with("rustc "), "{v}");
}

#[test]
#[ignore = "prints a summary; run with --ignored --nocapture"]
fn summary() {
    for name in KERNELS {
        let bytes = kernel(name);
        let module = decode(&bytes).expect("decodes");
        let sizes = section_sizes(&bytes);
        println!(
            "{name:15} {:7} bytes, code {:6}, memory min {} pages, {} imports, {} functions",
            bytes.len(),
            sizes.get(&10).copied().unwrap_or(0),
            module.memories[0].limits.min,
            module.imports.len(),
            module.bodies.len()
        );
    }
}
