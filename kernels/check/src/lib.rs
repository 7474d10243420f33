//! Host-side checks of soru's example kernels.
//!
//! This crate is what `cargo test` runs in `kernels/`. It provides:
//! - [`decode`]: soru's own decoder in PVM mode (no floats, no SIMD);
//! - [`Emu`]: a small, *unofficial* emulation of the `wasm_2_0_0` PVM at the
//!   level of whole `kernel_run`s (no ticks, no proofs): durable storage as a
//!   sorted map, inbox levels with SOL / Info_per_level / EOL, the outbox
//!   limit, reboots (at most 1 001 runs per level), traps, the stuck flag, the
//!   upgrade fallback, reveals from a preimage map, and every host function
//!   of `smart_rollup_core` with the argument checks and error codes of
//!   Octez's `host_funcs.ml` / `durable.ml` (PROTOCOL-FACTS §7.4–7.5).
//!
//! The emulator exists to test the kernels before soru's PVM does; it is not
//! the PVM and its child order for `store_get_nth_key` and its subtree hashes
//! are its own.
#![cfg(not(target_arch = "wasm32"))]

use soru_wasm::exec::{Machine, Outcome, Trap};
use soru_wasm::store::{Extern, Store};
use soru_wasm::types::{ExportKind, ExternKind, FuncType, ValType};
use soru_wasm::{Decoder, Mode, Module};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

/// The `kernels/` directory.
pub fn kernels_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed binary `kernels/wasm/<name>.wasm`.
pub fn kernel(name: &str) -> Vec<u8> {
    let path = kernels_dir().join("wasm").join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run kernels/build.sh)", path.display()))
}

/// A WAT file of `kernels/wat/`, assembled.
pub fn wat_kernel(name: &str) -> Vec<u8> {
    let path = kernels_dir().join("wat").join(format!("{name}.wat"));
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes and validates `bytes` as soru's PVM does (floats forbidden).
pub fn decode(bytes: &[u8]) -> Result<Module, soru_wasm::DecodeError> {
    Decoder::decode(Mode::Pvm, bytes)
}

/// Sizes of the sections of a WebAssembly binary, by section id (custom
/// sections summed under 0).
pub fn section_sizes(bytes: &[u8]) -> BTreeMap<u8, usize> {
    fn leb(bytes: &[u8], pos: &mut usize) -> usize {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let b = bytes[*pos];
            *pos += 1;
            value |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                return value;
            }
        }
    }
    let mut sizes = BTreeMap::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        pos += 1;
        let len = leb(bytes, &mut pos);
        *sizes.entry(id).or_insert(0) += len;
        pos += len;
    }
    sizes
}

/// Every host function of `smart_rollup_core` (2.0.0-r6 without NDS) with its
/// type: (name, params, results).
pub const HOST_FUNCTIONS: &[(&str, &[ValType], &[ValType])] = {
    use ValType::{I32, I64};
    &[
        ("read_input", &[I32, I32, I32], &[I32]),
        ("write_output", &[I32, I32], &[I32]),
        ("write_debug", &[I32, I32], &[]),
        ("store_has", &[I32, I32], &[I32]),
        ("store_list_size", &[I32, I32], &[I64]),
        ("store_get_nth_key", &[I32, I32, I64, I32, I32], &[I32]),
        ("store_delete", &[I32, I32], &[I32]),
        ("store_delete_value", &[I32, I32], &[I32]),
        ("store_copy", &[I32, I32, I32, I32], &[I32]),
        ("store_move", &[I32, I32, I32, I32], &[I32]),
        ("store_value_size", &[I32, I32], &[I32]),
        ("store_read", &[I32, I32, I32, I32, I32], &[I32]),
        ("store_write", &[I32, I32, I32, I32, I32], &[I32]),
        ("store_create", &[I32, I32, I32], &[I32]),
        ("store_exists", &[I32, I32], &[I32]),
        ("__internal_store_get_hash", &[I32, I32, I32, I32], &[I32]),
        ("reveal_preimage", &[I32, I32, I32, I32], &[I32]),
        ("reveal_metadata", &[I32, I32], &[I32]),
        ("reveal", &[I32, I32, I32, I32], &[I32]),
    ]
};

/// How one `kernel_run` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// `kernel_run` returned.
    Returned,
    /// A WebAssembly trap: the stuck flag is set, durable changes are kept.
    Trapped(Trap),
    /// Stuck: call stack exhausted, too many ticks, bad module, host crash.
    Stuck(String),
    /// The new kernel failed to decode/link/init and the fallback was
    /// restored (`upgrade_error` set).
    UpgradeFailed(String),
}

/// Error codes (PROTOCOL-FACTS §7.5).
pub mod code {
    /// Key longer than 240 bytes.
    pub const KEY_TOO_LARGE: i32 = -1;
    /// Malformed key.
    pub const INVALID_KEY: i32 = -2;
    /// No value under the key.
    pub const NOT_A_VALUE: i32 = -3;
    /// Offset outside the value.
    pub const INVALID_ACCESS: i32 = -4;
    /// Value size over 2^31 − 1.
    pub const VALUE_SIZE_EXCEEDED: i32 = -5;
    /// Memory out of bounds.
    pub const MEMORY_INVALID_ACCESS: i32 = -6;
    /// Input/output too large.
    pub const INPUT_OUTPUT_TOO_LARGE: i32 = -7;
    /// Read-only key.
    pub const READONLY: i32 = -9;
    /// No subtree under the key.
    pub const NOT_A_NODE: i32 = -10;
    /// Outbox full.
    pub const FULL_OUTBOX: i32 = -11;
    /// Child index out of range.
    pub const INVALID_SUBKEY_INDEX: i32 = -12;
    /// Value already exists.
    pub const VALUE_ALREADY_EXISTS: i32 = -13;
}

const MAX_KEY_LENGTH: usize = 240;
const IO_MAX: i64 = 4096;
const STORE_IO_MAX: i64 = 2048;
const OUTBOX_LIMIT: usize = 100;
const MAX_RUNS_PER_LEVEL: u32 = 1001;

type Key = Vec<String>;

/// A durable key: its steps, and whether the kernel may modify it.
#[derive(Debug, Clone)]
struct DKey {
    steps: Key,
    readonly: bool,
}

/// Octez's `key_of_string_exn`.
fn parse_key(bytes: &[u8]) -> Result<DKey, i32> {
    let s = std::str::from_utf8(bytes).map_err(|_| code::INVALID_KEY)?;
    let mut parts = s.split('/');
    if parts.next() != Some("") {
        return Err(code::INVALID_KEY);
    }
    let steps: Key = if s.is_empty() {
        vec![]
    } else {
        parts.map(str::to_string).collect()
    };
    for step in &steps {
        if step.is_empty()
            || !step
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b'_')
        {
            return Err(code::INVALID_KEY);
        }
    }
    let readonly = steps.first().is_none_or(|s| s == "readonly");
    Ok(DKey { steps, readonly })
}

/// Durable storage: values by key steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Durable {
    values: BTreeMap<Key, Vec<u8>>,
}

fn steps(path: &str) -> Key {
    path.split('/').skip(1).map(str::to_string).collect()
}

impl Durable {
    /// The value at `path` (e.g. `"/counter"`).
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.values.get(&steps(path)).map(Vec::as_slice)
    }

    /// Sets the value at `path`.
    pub fn set(&mut self, path: &str, value: &[u8]) {
        self.values.insert(steps(path), value.to_vec());
    }

    /// Removes the value and subtree at `path`.
    pub fn remove(&mut self, path: &str) {
        self.delete_tree(&steps(path));
    }

    /// Whether `path` has a value or a subtree.
    pub fn exists(&self, path: &str) -> bool {
        self.tree_exists(&steps(path))
    }

    /// Little-endian u32 at `path`.
    pub fn u32(&self, path: &str) -> Option<u32> {
        self.get(path)
            .map(|v| u32::from_le_bytes(v.try_into().expect("4 bytes")))
    }

    /// Little-endian u64 at `path`.
    pub fn u64(&self, path: &str) -> Option<u64> {
        self.get(path)
            .map(|v| u64::from_le_bytes(v.try_into().expect("8 bytes")))
    }

    /// Little-endian i64 at `path`.
    pub fn i64(&self, path: &str) -> Option<i64> {
        self.get(path)
            .map(|v| i64::from_le_bytes(v.try_into().expect("8 bytes")))
    }

    /// Every key with a value, as `/a/b`.
    pub fn keys(&self) -> Vec<String> {
        self.values.keys().map(|k| format!("/{}", k.join("/"))).collect()
    }

    fn under<'a>(&'a self, prefix: &'a [String]) -> impl Iterator<Item = (&'a Key, &'a Vec<u8>)> + 'a {
        self.values
            .range(prefix.to_vec()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
    }

    fn tree_exists(&self, key: &[String]) -> bool {
        self.under(key).next().is_some()
    }

    /// Child names: "" for the value, then subtree names, sorted.
    fn children(&self, key: &[String]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        if self.values.contains_key(key) {
            names.push(String::new());
        }
        for (k, _) in self.under(key) {
            if k.len() > key.len() && names.last() != Some(&k[key.len()]) {
                names.push(k[key.len()].clone());
            }
        }
        names
    }

    fn delete_tree(&mut self, key: &[String]) {
        let doomed: Vec<Key> = self.under(key).map(|(k, _)| k.clone()).collect();
        for k in doomed {
            self.values.remove(&k);
        }
    }

    fn subtree(&self, key: &[String]) -> Vec<(Key, Vec<u8>)> {
        self.under(key)
            .map(|(k, v)| (k[key.len()..].to_vec(), v.clone()))
            .collect()
    }

    fn graft(&mut self, key: &[String], tree: Vec<(Key, Vec<u8>)>) {
        self.delete_tree(key);
        for (suffix, v) in tree {
            let mut k = key.to_vec();
            k.extend(suffix);
            self.values.insert(k, v);
        }
    }

    fn hash(&self, key: &[String]) -> [u8; 32] {
        let mut bytes = Vec::new();
        for (suffix, v) in self.subtree(key) {
            bytes.extend_from_slice(suffix.join("/").as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(&(v.len() as u64).to_le_bytes());
            bytes.extend_from_slice(&v);
        }
        pages::reveal_hash(&bytes)[1..].try_into().expect("32 bytes")
    }
}

/// One input: (level, message id, bytes).
pub type Input = (u32, u32, Vec<u8>);

/// The emulated rollup: durable storage, inbox, outbox, reveal data.
#[derive(Debug, Clone)]
pub struct Emu {
    /// Durable storage.
    pub durable: Durable,
    /// Unread inputs of the current level.
    pub inbox: VecDeque<Input>,
    /// Outbox messages per level.
    pub outbox: BTreeMap<u32, Vec<Vec<u8>>>,
    /// Current inbox level.
    pub level: u32,
    /// Preimages by reveal hash.
    pub preimages: HashMap<[u8; 33], Vec<u8>>,
    /// `reveal_metadata` answer: rollup address (20) ‖ origination level (i32 BE).
    pub metadata: [u8; 24],
    /// Everything written with `write_debug`.
    pub debug: Vec<u8>,
    /// Ticks (WebAssembly instructions) allowed per `kernel_run`.
    pub fuel: u64,
    /// The PVM is stuck for good.
    pub stuck: Option<String>,
    /// `kernel_run`s in the current level.
    pub runs_this_level: u32,
}

/// `00 ‖ blake2b-256("")`.
pub fn empty_preimage_hash() -> [u8; 33] {
    pages::reveal_hash(b"")
}

impl Emu {
    /// A rollup originated with `kernel` (PVM version 2.0.0-r6), before its
    /// first level.
    pub fn new(kernel: &[u8]) -> Self {
        let mut durable = Durable::default();
        durable.set("/readonly/wasm_version", b"2.0.0-r6");
        durable.set("/kernel/env/reboot", b"");
        durable.set("/kernel/boot.wasm", kernel);
        let mut metadata = [0u8; 24];
        metadata[..20].copy_from_slice(&[0x5a; 20]);
        metadata[20..].copy_from_slice(&7i32.to_be_bytes());
        let mut preimages = HashMap::new();
        preimages.insert(empty_preimage_hash(), Vec::new());
        Emu {
            durable,
            inbox: VecDeque::new(),
            outbox: BTreeMap::new(),
            level: 0,
            preimages,
            metadata,
            debug: Vec::new(),
            fuel: 20_000_000_000,
            stuck: None,
            runs_this_level: 0,
        }
    }

    /// Runs one inbox level: SOL, Info_per_level, the given external payloads
    /// (each gets the `0x01` tag), EOL; then `kernel_run` until the kernel
    /// yields (at most 1 001 runs). Returns how each run ended.
    pub fn level(&mut self, externals: &[&[u8]]) -> Vec<RunEnd> {
        let mut messages: Vec<Vec<u8>> = externals.iter().map(|p| [&[0x01u8][..], p].concat()).collect();
        messages.insert(0, vec![0x00, 0x01]);
        let mut ipl = vec![0x00, 0x03];
        ipl.extend_from_slice(&[0u8; 40]);
        messages.insert(1, ipl);
        messages.push(vec![0x00, 0x02]);
        self.level_raw(messages)
    }

    /// [`Emu::level`] with raw inbox messages (tags included).
    pub fn level_raw(&mut self, messages: Vec<Vec<u8>>) -> Vec<RunEnd> {
        self.level += 1;
        self.outbox.entry(self.level).or_default();
        self.inbox = messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| (self.level, i as u32, m))
            .collect();
        self.runs_this_level = 0;
        let mut ends = Vec::new();
        if self.stuck.is_some() {
            self.inbox.clear();
            return ends;
        }
        // The previous yield left the reboot flag set: the level starts with a run.
        self.durable.set("/kernel/env/reboot", b"");
        while self.durable.exists("/kernel/env/reboot") {
            if self.runs_this_level == MAX_RUNS_PER_LEVEL {
                self.durable.set("/readonly/kernel/env/too_many_reboot", b"");
                break;
            }
            self.durable.remove("/kernel/env/reboot");
            self.runs_this_level += 1;
            let end = self.run();
            let stuck = matches!(end, RunEnd::Stuck(_));
            ends.push(end);
            if stuck {
                break;
            }
            if self.runs_this_level < MAX_RUNS_PER_LEVEL && !self.durable.exists("/kernel/env/reboot") {
                self.durable.remove("/readonly/kernel/env/too_many_reboot");
            }
        }
        self.inbox.clear();
        ends
    }

    /// One `kernel_run` of `/kernel/boot.wasm`.
    pub fn run(&mut self) -> RunEnd {
        let boot = self
            .durable
            .get("/kernel/boot.wasm")
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let (mut store, inst, entry) = match self.instantiate(&boot) {
            Ok(x) => x,
            Err(e) => {
                let fallback = self.durable.get("/readonly/kernel/boot.wasm").map(<[u8]>::to_vec);
                return match fallback {
                    Some(f) if f != boot => {
                        self.durable.set("/kernel/boot.wasm", &f);
                        self.durable.set("/readonly/kernel/env/upgrade_error", b"");
                        RunEnd::UpgradeFailed(e)
                    }
                    _ => {
                        self.stuck = Some(e.clone());
                        RunEnd::Stuck(e)
                    }
                };
            }
        };
        self.durable.set("/readonly/kernel/boot.wasm", &boot);
        let mut machine = Machine::invoke(&store, entry, &[]).expect("kernel_run takes no argument");
        let mut fuel = self.fuel;
        loop {
            match machine.run(&mut store, &mut fuel).expect("runnable") {
                Outcome::Returned(_) => {
                    self.durable.remove("/readonly/kernel/env/stuck");
                    self.durable.remove("/readonly/kernel/env/upgrade_error");
                    return RunEnd::Returned;
                }
                Outcome::HostCall { host_id, args, .. } => {
                    let mem = store.instances[inst as usize].memories[0];
                    let memory = &mut store.memories[mem as usize].data;
                    match self.host_call(host_id, &args, memory) {
                        Ok(results) => machine.resume_host(&results).expect("host results"),
                        Err(e) => {
                            self.stuck = Some(e.clone());
                            return RunEnd::Stuck(e);
                        }
                    }
                }
                Outcome::Trap(trap) => {
                    self.durable.set("/readonly/kernel/env/stuck", b"");
                    return RunEnd::Trapped(trap);
                }
                Outcome::Exhausted => {
                    let e = "call stack exhausted".to_string();
                    self.stuck = Some(e.clone());
                    return RunEnd::Stuck(e);
                }
                Outcome::OutOfTicks => {
                    let e = "too many ticks".to_string();
                    self.stuck = Some(e.clone());
                    return RunEnd::Stuck(e);
                }
                Outcome::Missing(m) => panic!("no verifier here: {m:?}"),
            }
        }
    }

    /// Decode, link, init; returns the store, the instance and `kernel_run`.
    fn instantiate(&mut self, boot: &[u8]) -> Result<(Store, u32, u32), String> {
        let module = Arc::new(decode(boot).map_err(|e| format!("decode: {e}"))?);
        let mut store = Store::default();
        let mut imports = Vec::new();
        for import in &module.imports {
            let known = HOST_FUNCTIONS.iter().position(|(name, _, _)| *name == import.name);
            match (&import.kind, known) {
                (ExternKind::Func(_), Some(id)) if import.module == "smart_rollup_core" => {
                    let (_, params, results) = HOST_FUNCTIONS[id];
                    let ty = FuncType {
                        params: params.to_vec(),
                        results: results.to_vec(),
                    };
                    imports.push(Extern::Func(store.add_host_func(&ty, id as u32)));
                }
                _ => return Err(format!("link: unknown import {}.{}", import.module, import.name)),
            }
        }
        let inst = store
            .allocate(module.clone(), &imports)
            .map_err(|e| format!("link: {e}"))?;
        if module.memories.len() != 1
            || !module
                .exports
                .iter()
                .any(|e| e.name == "memory" && e.kind == ExportKind::Memory && e.index == 0)
        {
            return Err("init: memory 0 must be exported as \"memory\"".into());
        }
        Machine::initialize(&mut store, inst).map_err(|e| format!("init: {e}"))?;
        if let Some(start) = module.start {
            let func = store.instances[inst as usize].funcs[start as usize];
            let mut machine = Machine::invoke(&store, func, &[]).map_err(|e| format!("init: {e}"))?;
            let mut fuel = self.fuel;
            match machine.run(&mut store, &mut fuel).expect("runnable") {
                Outcome::Returned(_) => {}
                Outcome::HostCall { .. } => {
                    return Err("init: host functions must not be called during initialisation".into())
                }
                other => return Err(format!("init: start function: {other:?}")),
            }
        }
        match store.export(inst, "kernel_run") {
            Some(Extern::Func(f)) if store.func_type(f).params.is_empty() => Ok((store, inst, f)),
            _ => Err("init: no kernel_run export".into()),
        }
    }

    /// Implements host function `id` of [`HOST_FUNCTIONS`]; `Err` is a host crash.
    fn host_call(&mut self, id: u32, args: &[u64], memory: &mut [u8]) -> Result<Vec<u64>, String> {
        let a = |i: usize| args[i] as u32;
        let i32r = |r: i32| Ok(vec![u64::from(r as u32)]);
        let name = HOST_FUNCTIONS[id as usize].0;
        match name {
            "read_input" => i32r(self.read_input(memory, a(0), a(1), a(2) as i32)),
            "write_output" => i32r(self.write_output(memory, a(0), a(1) as i32)),
            "write_debug" => {
                if let Ok(bytes) = load(memory, a(0), i64::from(a(1))) {
                    self.debug.extend_from_slice(&bytes);
                }
                Ok(vec![])
            }
            "store_has" => i32r(flat(self.with_key(memory, a(0), a(1), |d, k| {
                let value = d.values.contains_key(&k.steps);
                Ok(match (value, d.children(&k.steps).len()) {
                    (false, 0) => 0,
                    (true, 1) => 1,
                    (false, _) => 2,
                    _ => 3,
                })
            }))),
            "store_exists" => {
                i32r(flat(self.with_key(memory, a(0), a(1), |d, k| {
                    Ok(i32::from(d.tree_exists(&k.steps)))
                })))
            }
            "store_list_size" => {
                let r = flat(self.with_key(memory, a(0), a(1), |d, k| Ok(d.children(&k.steps).len() as i32)));
                Ok(vec![i64::from(r) as u64])
            }
            "store_get_nth_key" => i32r(self.get_nth_key(memory, a(0), a(1), args[2] as i64, a(3), a(4) as i32)),
            "store_delete" | "store_delete_value" => {
                let value_only = name == "store_delete_value";
                i32r(self.with_key_mut(memory, a(0), a(1), |d, k| {
                    if k.readonly {
                        return Err(code::READONLY);
                    }
                    if value_only {
                        d.values.remove(&k.steps);
                    } else {
                        d.delete_tree(&k.steps);
                    }
                    Ok(0)
                }))
            }
            "store_copy" | "store_move" => i32r(self.copy_move(memory, a(0), a(1), a(2), a(3), name == "store_move")),
            "store_value_size" => i32r(flat(self.with_key(memory, a(0), a(1), |d, k| {
                d.values.get(&k.steps).map(|v| v.len() as i32).ok_or(code::NOT_A_VALUE)
            }))),
            "store_read" => i32r(self.store_read(memory, a(0), a(1), a(2) as i32, a(3), a(4) as i32)),
            "store_write" => i32r(self.store_write(memory, a(0), a(1), a(2) as i32, a(3), a(4) as i32)),
            "store_create" => {
                let size = a(2) as i32;
                i32r(self.with_key_mut(memory, a(0), a(1), |d, k| {
                    if size < 0 {
                        return Err(code::VALUE_SIZE_EXCEEDED);
                    }
                    if k.readonly {
                        return Err(code::READONLY);
                    }
                    if d.values.contains_key(&k.steps) {
                        return Err(code::VALUE_ALREADY_EXISTS);
                    }
                    d.values.insert(k.steps.clone(), vec![0; size as usize]);
                    Ok(0)
                }))
            }
            "__internal_store_get_hash" => {
                let (dst, max) = (a(2), a(3) as i32);
                let r = self.with_key(memory, a(0), a(1), |d, k| {
                    if d.tree_exists(&k.steps) {
                        Ok(d.hash(&k.steps).to_vec())
                    } else {
                        Err(code::NOT_A_NODE)
                    }
                });
                i32r(match r {
                    Ok(hash) => {
                        let hash = &hash[..hash.len().min(max.max(0) as usize)];
                        store(memory, dst, hash)
                            .map(|()| hash.len() as i32)
                            .unwrap_or_else(|e| e)
                    }
                    Err(e) => e,
                })
            }
            "reveal_preimage" => {
                let r = match load_io(memory, a(0), a(1) as i32) {
                    Ok(hash) => {
                        let hash: [u8; 33] = hash
                            .try_into()
                            .map_err(|_| "reveal_preimage: hash of the wrong size".to_string())?;
                        let data = self
                            .preimages
                            .get(&hash)
                            .cloned()
                            .ok_or_else(|| format!("no preimage for {}", pages::to_hex(&hash)))?;
                        reveal_answer(memory, a(2), a(3) as i32, &data)
                    }
                    Err(e) => e,
                };
                i32r(r)
            }
            "reveal_metadata" => {
                let metadata = self.metadata;
                i32r(reveal_answer(memory, a(0), a(1) as i32, &metadata))
            }
            "reveal" => {
                let r = match load_io(memory, a(0), a(1) as i32) {
                    Ok(request) => {
                        let data = match request.split_first() {
                            Some((0x00, hash)) if hash.len() == 33 => {
                                let hash: [u8; 33] = hash.try_into().expect("33");
                                self.preimages
                                    .get(&hash)
                                    .cloned()
                                    .ok_or_else(|| format!("no preimage for {}", pages::to_hex(&hash)))?
                            }
                            Some((0x01, [])) => self.metadata.to_vec(),
                            // Undecodable or inactive: the preimage of blake2b("").
                            _ => Vec::new(),
                        };
                        reveal_answer(memory, a(2), a(3) as i32, &data)
                    }
                    Err(e) => e,
                };
                i32r(r)
            }
            other => Err(format!("unknown host function {other}")),
        }
    }

    fn with_key<T>(
        &self,
        memory: &[u8],
        ptr: u32,
        len: u32,
        f: impl FnOnce(&Durable, &DKey) -> Result<T, i32>,
    ) -> Result<T, i32> {
        let key = load_key(memory, ptr, len)?;
        f(&self.durable, &key)
    }

    fn with_key_mut(
        &mut self,
        memory: &[u8],
        ptr: u32,
        len: u32,
        f: impl FnOnce(&mut Durable, &DKey) -> Result<i32, i32>,
    ) -> i32 {
        match load_key(memory, ptr, len) {
            Ok(key) => f(&mut self.durable, &key).unwrap_or_else(|e| e),
            Err(e) => e,
        }
    }

    fn read_input(&mut self, memory: &mut [u8], info: u32, dst: u32, max_bytes: i32) -> i32 {
        let size = memory.len() as i64;
        // Octez's check_address: strict `address + length < memory size`.
        let check = |addr: u32, len: i32| len >= 0 && i64::from(addr) + i64::from(len) < size;
        if !check(info, 8) {
            return code::MEMORY_INVALID_ACCESS;
        }
        let max_bytes = max_bytes.min(IO_MAX as i32);
        if !check(dst, max_bytes) {
            return code::MEMORY_INVALID_ACCESS;
        }
        let Some((level, id, payload)) = self.inbox.pop_front() else {
            return 0;
        };
        let n = payload.len().min(max_bytes as usize);
        memory[dst as usize..dst as usize + n].copy_from_slice(&payload[..n]);
        memory[info as usize..info as usize + 4].copy_from_slice(&(level as i32).to_le_bytes());
        memory[info as usize + 4..info as usize + 8].copy_from_slice(&(id as i32).to_le_bytes());
        n as i32
    }

    fn write_output(&mut self, memory: &[u8], src: u32, len: i32) -> i32 {
        if i64::from(len) > IO_MAX {
            return code::INPUT_OUTPUT_TOO_LARGE;
        }
        let bytes = match load(memory, src, i64::from(len)) {
            Ok(b) => b,
            Err(e) => return e,
        };
        let outbox = self.outbox.entry(self.level).or_default();
        if outbox.len() >= OUTBOX_LIMIT {
            return code::FULL_OUTBOX;
        }
        outbox.push(bytes);
        0
    }

    fn get_nth_key(&mut self, memory: &mut [u8], ptr: u32, len: u32, index: i64, dst: u32, max: i32) -> i32 {
        let key = match load_key(memory, ptr, len) {
            Ok(k) => k,
            Err(e) => return e,
        };
        if !self.durable.tree_exists(&key.steps) {
            return code::NOT_A_NODE;
        }
        let children = self.durable.children(&key.steps);
        let Some(name) = usize::try_from(index).ok().and_then(|i| children.get(i)) else {
            return code::INVALID_SUBKEY_INDEX;
        };
        let name = &name.as_bytes()[..name.len().min(max.max(0) as usize)];
        if name.is_empty() {
            return 0;
        }
        match store(memory, dst, name) {
            Ok(()) => name.len() as i32,
            Err(e) => e,
        }
    }

    fn copy_move(&mut self, memory: &[u8], from: u32, from_len: u32, to: u32, to_len: u32, is_move: bool) -> i32 {
        let from = match load_key(memory, from, from_len) {
            Ok(k) => k,
            Err(e) => return e,
        };
        let to = match load_key(memory, to, to_len) {
            Ok(k) => k,
            Err(e) => return e,
        };
        if (is_move && from.readonly) || to.readonly {
            return code::READONLY;
        }
        if !self.durable.tree_exists(&from.steps) {
            return code::NOT_A_NODE;
        }
        let tree = self.durable.subtree(&from.steps);
        if is_move {
            self.durable.delete_tree(&from.steps);
        }
        self.durable.graft(&to.steps, tree);
        0
    }

    fn store_read(&mut self, memory: &mut [u8], ptr: u32, len: u32, offset: i32, dst: u32, max: i32) -> i32 {
        let key = match load_key(memory, ptr, len) {
            Ok(k) => k,
            Err(e) => return e,
        };
        if i64::from(max) > STORE_IO_MAX {
            return code::INPUT_OUTPUT_TOO_LARGE;
        }
        let Some(value) = self.durable.values.get(&key.steps) else {
            return code::NOT_A_VALUE;
        };
        let (offset, length) = (i64::from(offset), value.len() as i64);
        if offset < 0 || offset >= length {
            return code::INVALID_ACCESS;
        }
        let end = (offset + i64::from(max)).min(length);
        let bytes = value[offset as usize..end.max(offset) as usize].to_vec();
        match store(memory, dst, &bytes) {
            Ok(()) => bytes.len() as i32,
            Err(e) => e,
        }
    }

    fn store_write(&mut self, memory: &[u8], ptr: u32, len: u32, offset: i32, src: u32, num: i32) -> i32 {
        let key = match load_key(memory, ptr, len) {
            Ok(k) => k,
            Err(e) => return e,
        };
        let size = self.durable.values.get(&key.steps).map_or(0, |v| v.len() as i32);
        if size > size.wrapping_add(num) {
            return code::VALUE_SIZE_EXCEEDED;
        }
        let bytes = match load(memory, src, i64::from(num)) {
            Ok(b) => b,
            Err(e) => return e,
        };
        if key.readonly {
            return code::READONLY;
        }
        if bytes.len() as i64 > STORE_IO_MAX {
            return code::INPUT_OUTPUT_TOO_LARGE;
        }
        let value = self.durable.values.entry(key.steps).or_default();
        let offset = i64::from(offset);
        if offset < 0 || offset > value.len() as i64 {
            return code::INVALID_ACCESS;
        }
        let end = offset as usize + bytes.len();
        if end > value.len() {
            value.resize(end, 0);
        }
        value[offset as usize..end].copy_from_slice(&bytes);
        0
    }
}

fn flat(r: Result<i32, i32>) -> i32 {
    r.unwrap_or_else(|e| e)
}

/// Memory bytes `[addr, addr + len)`, or −6.
fn load(memory: &[u8], addr: u32, len: i64) -> Result<Vec<u8>, i32> {
    let end = i64::from(addr) + len;
    if len < 0 || end > memory.len() as i64 {
        return Err(code::MEMORY_INVALID_ACCESS);
    }
    Ok(memory[addr as usize..end as usize].to_vec())
}

/// Like [`load`] but at most 4 096 bytes (−7 beyond).
fn load_io(memory: &[u8], addr: u32, len: i32) -> Result<Vec<u8>, i32> {
    if i64::from(len) > IO_MAX {
        return Err(code::INPUT_OUTPUT_TOO_LARGE);
    }
    load(memory, addr, i64::from(len))
}

fn store(memory: &mut [u8], addr: u32, bytes: &[u8]) -> Result<(), i32> {
    let end = u64::from(addr) + bytes.len() as u64;
    if end > memory.len() as u64 {
        return Err(code::MEMORY_INVALID_ACCESS);
    }
    memory[addr as usize..end as usize].copy_from_slice(bytes);
    Ok(())
}

fn load_key(memory: &[u8], ptr: u32, len: u32) -> Result<DKey, i32> {
    if len as i32 as i64 > MAX_KEY_LENGTH as i64 {
        return Err(code::KEY_TOO_LARGE);
    }
    let bytes = load(memory, ptr, i64::from(len as i32))?;
    parse_key(&bytes)
}

fn reveal_answer(memory: &mut [u8], dst: u32, max: i32, data: &[u8]) -> i32 {
    let n = data.len().min(max.max(0) as usize);
    match store(memory, dst, &data[..n]) {
        Ok(()) => n as i32,
        Err(e) => e,
    }
}
