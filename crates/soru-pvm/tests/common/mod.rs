//! Helpers shared by the PVM tests.

#![allow(dead_code)]

use soru_core::inbox::InfoPerLevel;
use soru_core::time::Timestamp;
use soru_core::BlockHash;
use soru_pvm::{Pvm, PvmConfig};

/// The predecessor info every test level uses.
pub(crate) fn info() -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(1_700_000_000),
        predecessor: BlockHash([7; 32]),
    }
}

/// A PVM configuration with mainnet limits and `tps` ticks per cycle.
pub(crate) fn config(tps: u128) -> PvmConfig {
    PvmConfig {
        ticks_per_snapshot: tps,
        ..PvmConfig::from_params(&soru_core::params::ProtocolParams::mainnet().smart_rollup.pvm)
    }
}

/// Feeds a standard level with these external payloads.
pub(crate) fn feed(pvm: &mut Pvm, level: u32, payloads: &[&[u8]]) {
    for input in soru_pvm::inbox::external_level_inputs(level, info(), payloads) {
        pvm.set_input(input).expect("input accepted");
    }
}

/// The example kernel `name` from `kernels/wasm/`.
pub(crate) fn example_kernel(name: &str) -> Vec<u8> {
    let path = format!("{}/../../kernels/wasm/{name}.wasm", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Imports of the host functions the WAT test kernels use.
pub(crate) const HOST_IMPORTS: &str = r#"
  (import "smart_rollup_core" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "write_output" (func $write_output (param i32 i32) (result i32)))
  (import "smart_rollup_core" "store_write" (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_read" (func $store_read (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "reveal_preimage" (func $reveal_preimage (param i32 i32 i32 i32) (result i32)))
"#;

/// Echo: every external message (tag 01) goes to the outbox without its tag;
/// counts kernel runs in /runs (u32 LE).
pub(crate) fn echo_wat() -> String {
    format!(
        r#"(module {HOST_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 0) "/runs")
  (func (export "kernel_run")
    (local $n i32)
    (drop (call $store_read (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 16) (i32.const 4)))
    (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (i32.const 1)))
    (drop (call $store_write (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 16) (i32.const 4)))
    (block $done
      (loop $next
        (local.set $n (call $read_input (i32.const 100) (i32.const 200) (i32.const 4096)))
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.eq (i32.load8_u (i32.const 200)) (i32.const 1))
          (then (drop (call $write_output (i32.const 201) (i32.sub (local.get $n) (i32.const 1))))))
        (br $next)))))"#
    )
}

/// Deterministic pseudo-random bytes (xorshift64*) for seeding generators.
pub(crate) fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// wasm-smith settings for modules the PVM accepts: no floats or proposals
/// beyond WebAssembly 2.0, one memory of at most 16 pages, bounded tables.
pub(crate) fn pvm_smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        allow_floats: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        saturating_float_to_int_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        memory64_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        max_memories: 1,
        max_memory32_bytes: 16 * 65_536,
        memory_max_size_required: true,
        table_max_size_required: true,
        max_table_elements: 1_000,
        ..wasm_smith::Config::default()
    }
}

/// A random kernel: a float-free wasm-smith module exporting `kernel_run`
/// and `memory`, free to call the host functions `imports` (a WAT module of
/// imports) declares with random arguments.
pub(crate) fn smith_kernel(seed: u64, imports: &str, max_imports: usize, max_instructions: usize) -> Option<Vec<u8>> {
    let imports = wat::parse_str(imports).expect("valid wat");
    let exports =
        wat::parse_str(r#"(module (func (export "kernel_run")) (memory (export "memory") 1 16))"#).expect("valid wat");
    let config = wasm_smith::Config {
        available_imports: Some(imports),
        exports: Some(exports),
        max_imports,
        max_funcs: 12,
        max_instructions,
        ..pvm_smith_config()
    };
    let data = random_bytes(seed, 8 * 1024);
    let mut u = arbitrary::Unstructured::new(&data);
    wasm_smith::Module::new(config, &mut u).ok().map(|m| m.to_bytes())
}

/// The host imports random kernels may call (`reveal_preimage` optional:
/// a random hash has no preimage anyone could answer with).
pub(crate) fn smith_imports(reveal_preimage: bool) -> String {
    let mut imports = String::from(
        r#"(module
          (import "smart_rollup_core" "read_input" (func (param i32 i32 i32) (result i32)))
          (import "smart_rollup_core" "write_output" (func (param i32 i32) (result i32)))
          (import "smart_rollup_core" "write_debug" (func (param i32 i32)))
          (import "smart_rollup_core" "store_has" (func (param i32 i32) (result i32)))
          (import "smart_rollup_core" "store_read" (func (param i32 i32 i32 i32 i32) (result i32)))
          (import "smart_rollup_core" "store_write" (func (param i32 i32 i32 i32 i32) (result i32)))
          (import "smart_rollup_core" "store_list_size" (func (param i32 i32) (result i64)))
          (import "smart_rollup_core" "store_delete" (func (param i32 i32) (result i32)))
          (import "smart_rollup_core" "reveal_metadata" (func (param i32 i32) (result i32)))"#,
    );
    if reveal_preimage {
        imports
            .push_str(r#"(import "smart_rollup_core" "reveal_preimage" (func (param i32 i32 i32 i32) (result i32)))"#);
    }
    imports.push(')');
    imports
}

/// A `tx` kernel transfer (kernels/tx): `amount` from the key of `secret`
/// to `to`, signed.
pub(crate) fn signed_transfer(secret: [u8; 32], nonce: u64, to: &[u8; 32], amount: u64) -> Vec<u8> {
    use ed25519_dalek::{Signer, SigningKey};
    let key = SigningKey::from_bytes(&secret);
    let mut signed = nonce.to_le_bytes().to_vec();
    signed.extend_from_slice(to);
    signed.extend_from_slice(&amount.to_le_bytes());
    [
        &b"T"[..],
        key.verifying_key().as_bytes(),
        &key.sign(&signed).to_bytes(),
        &signed,
    ]
    .concat()
}

/// Splits `kernel` into reveal pages (kernels/README.md, installer): the
/// root page's hash and every page by hash.
pub(crate) fn reveal_pages(kernel: &[u8]) -> (soru_core::RevealHash, std::collections::BTreeMap<[u8; 32], Vec<u8>>) {
    let mut preimages = std::collections::BTreeMap::new();
    let mut add = |page: Vec<u8>| {
        let hash = soru_core::RevealHash::of_preimage(&page);
        preimages.insert(hash.0, page);
        hash
    };
    if kernel.len() <= 4095 {
        let root = add([&[0u8][..], kernel].concat());
        return (root, preimages);
    }
    let mut level: Vec<[u8; 33]> = kernel
        .chunks(4095)
        .map(|chunk| add([&[0u8][..], chunk].concat()).to_tagged_bytes())
        .collect();
    while level.len() > 1 {
        let mut next = Vec::new();
        for group in level.chunks(124) {
            let mut page = vec![1u8];
            for h in group {
                page.extend_from_slice(h);
            }
            next.push(add(page).to_tagged_bytes());
        }
        level = next;
    }
    let root = soru_core::RevealHash::from_tagged_bytes(&level[0]).expect("a tagged hash");
    (root, preimages)
}

/// The installer kernel set to install the kernel of `root`.
pub(crate) fn installer_for(root: soru_core::RevealHash) -> Vec<u8> {
    let mut installer = example_kernel("installer");
    let marker = b"SORU-INSTALLER-ROOT-HASH:";
    let at = installer
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("root-hash slot present")
        + marker.len();
    installer[at..at + 33].copy_from_slice(&root.to_tagged_bytes());
    installer
}
