//! The WebAssembly specification-suite runner: parses `.wast` scripts with
//! the `wast` crate, encodes every module to binary and feeds it to
//! soru-wasm's own decoder, validator and interpreter (no other engine is
//! involved), and counts every core assertion.
//!
//! In PVM mode, a module that decode rejects with the float error counts as
//! correctly handled: assertions about it pass (it can never run on the
//! PVM), and so do assertions about modules that could not link because
//! they import from such a module. Malformed `module quote` cases are
//! skipped (they test the text parser, not the engine).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::hooks::ChunkCounter;
use soru_wasm::store::{Extern, NULL_REF};
use soru_wasm::types::{ExternKind, FuncType, GlobalType, Limits, MemoryType, TableType, ValType};
use soru_wasm::{DecodeError, Decoder, Mode, Store};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// Counts for one mode.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    pub(crate) skipped: u64,
    pub(crate) failures: Vec<String>,
}

impl Tally {
    fn pass(&mut self) {
        self.passed += 1;
    }

    fn fail(&mut self, file: &str, line: usize, why: String) {
        self.failed += 1;
        if self.failures.len() < 200 {
            self.failures.push(format!("{file}:{line}: {why}"));
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.passed + self.failed + self.skipped
    }
}

/// A module slot: an instance, or a module rejected for using floats.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Instance(u32),
    FloatRejected,
}

struct Runner<'t> {
    mode: Mode,
    store: Store,
    registered: HashMap<String, Slot>,
    named: HashMap<String, Slot>,
    current: Option<Slot>,
    tally: &'t mut Tally,
    file: String,
    spectest: Vec<(String, Extern)>,
    counter: Option<&'t mut ChunkCounter>,
}

const FUEL: u64 = 50_000_000_000;

enum Instantiated {
    Ok(u32),
    Decode(DecodeError),
    Link(String),
    FloatDependency,
    Trap(String),
}

impl<'t> Runner<'t> {
    fn new(mode: Mode, tally: &'t mut Tally, file: String, counter: Option<&'t mut ChunkCounter>) -> Self {
        let mut runner = Runner {
            mode,
            store: Store::default(),
            registered: HashMap::new(),
            named: HashMap::new(),
            current: None,
            tally,
            file,
            spectest: Vec::new(),
            counter,
        };
        runner.add_spectest();
        runner
    }

    fn add_spectest(&mut self) {
        // The `spectest` module of the reference interpreter, built as a
        // tiny module that re-exports host objects.
        use ValType::*;
        let funcs: [(&str, Vec<ValType>); 7] = [
            ("print", vec![]),
            ("print_i32", vec![I32]),
            ("print_i64", vec![I64]),
            ("print_f32", vec![F32]),
            ("print_f64", vec![F64]),
            ("print_i32_f32", vec![I32, F32]),
            ("print_f64_f64", vec![F64, F64]),
        ];
        let mut exports: Vec<(String, Extern)> = Vec::new();
        for (i, (name, params)) in funcs.iter().enumerate() {
            let ty = FuncType {
                params: params.clone(),
                results: vec![],
            };
            exports.push((name.to_string(), Extern::Func(self.store.add_host_func(&ty, i as u32))));
        }
        let g = |ty| GlobalType { ty, mutable: false };
        exports.push(("global_i32".into(), Extern::Global(self.store.add_global(g(I32), 666))));
        exports.push(("global_i64".into(), Extern::Global(self.store.add_global(g(I64), 666))));
        exports.push((
            "global_f32".into(),
            Extern::Global(self.store.add_global(g(F32), u64::from(666.6f32.to_bits()))),
        ));
        exports.push((
            "global_f64".into(),
            Extern::Global(self.store.add_global(g(F64), 666.6f64.to_bits())),
        ));
        let table = self
            .store
            .add_table(
                TableType {
                    elem: FuncRef,
                    limits: Limits { min: 10, max: Some(20) },
                },
                NULL_REF,
            )
            .expect("small table");
        exports.push(("table".into(), Extern::Table(table)));
        let memory = self.store.add_memory(MemoryType {
            limits: Limits { min: 1, max: Some(2) },
        });
        exports.push(("memory".into(), Extern::Memory(memory)));
        self.spectest = exports;
    }

    fn resolve(&self, module: &str, name: &str) -> Result<Extern, String> {
        if module == "spectest" {
            return self
                .spectest
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, e)| *e)
                .ok_or_else(|| format!("unknown import spectest.{name}"));
        }
        match self.registered.get(module) {
            Some(Slot::Instance(inst)) => self
                .store
                .export(*inst, name)
                .ok_or_else(|| format!("unknown import {module}.{name}")),
            Some(Slot::FloatRejected) => Err("FLOAT-DEPENDENCY".into()),
            None => Err(format!("unknown import module {module}")),
        }
    }

    fn instantiate(&mut self, bytes: &[u8]) -> Instantiated {
        let module = match Decoder::decode(self.mode, bytes) {
            Ok(m) => Arc::new(m),
            Err(e) => return Instantiated::Decode(e),
        };
        let mut imports = Vec::new();
        for import in &module.imports {
            match self.resolve(&import.module, &import.name) {
                Ok(e) => {
                    // Extern kind mismatches are link errors, found by allocate.
                    let _ = matches!(import.kind, ExternKind::Func(_));
                    imports.push(e)
                }
                Err(e) if e == "FLOAT-DEPENDENCY" => return Instantiated::FloatDependency,
                Err(e) => return Instantiated::Link(e),
            }
        }
        let inst = match self.store.allocate(module.clone(), &imports) {
            Ok(i) => i,
            Err(e) => return Instantiated::Link(e.to_string()),
        };
        if let Err(t) = Machine::initialize(&mut self.store, inst) {
            return Instantiated::Trap(format!("trap: {t}"));
        }
        if let Some(start) = module.start {
            let addr = self.store.instances[inst as usize].funcs[start as usize];
            match self.call(addr, &[]) {
                Ok(_) => {}
                Err(e) => return Instantiated::Trap(e),
            }
        }
        Instantiated::Ok(inst)
    }

    /// Runs a function to completion; `Err` carries "trap: …" or "exhausted".
    fn call(&mut self, func: u32, args: &[u64]) -> Result<Vec<u64>, String> {
        let mut m = Machine::invoke(&self.store, func, args).map_err(|e| format!("invoke: {e}"))?;
        let mut fuel = FUEL;
        loop {
            let outcome = match self.counter.as_deref_mut() {
                Some(counter) => m.run_with(&mut self.store, &mut fuel, counter),
                None => m.run(&mut self.store, &mut fuel),
            };
            match outcome.map_err(|e| format!("machine: {e}"))? {
                Outcome::Returned(v) => return Ok(v),
                Outcome::Trap(t) => return Err(format!("trap: {t}")),
                Outcome::Exhausted => return Err("exhausted".into()),
                Outcome::OutOfTicks => return Err("out of fuel".into()),
                Outcome::Missing(m) => return Err(format!("missing state: {m}")),
                Outcome::HostCall { .. } => {
                    // spectest.print*: no results.
                    m.resume_host(&[]).map_err(|e| format!("host: {e}"))?;
                }
            }
        }
    }

    fn slot(&self, id: Option<wast::token::Id<'_>>) -> Option<Slot> {
        match id {
            Some(id) => self.named.get(id.name()).copied(),
            None => self.current,
        }
    }

    fn arg(a: &WastArg<'_>) -> Option<u64> {
        match a {
            WastArg::Core(WastArgCore::I32(v)) => Some(u64::from(*v as u32)),
            WastArg::Core(WastArgCore::I64(v)) => Some(*v as u64),
            WastArg::Core(WastArgCore::F32(v)) => Some(u64::from(v.bits)),
            WastArg::Core(WastArgCore::F64(v)) => Some(v.bits),
            WastArg::Core(WastArgCore::RefNull(_)) => Some(NULL_REF),
            WastArg::Core(WastArgCore::RefExtern(v)) => Some(u64::from(*v) + 1),
            _ => None,
        }
    }

    /// Executes an invoke; `Ok(None)` means the target module was float-rejected.
    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Option<Vec<u64>>, String> {
        let inst = match self.slot(inv.module) {
            Some(Slot::Instance(i)) => i,
            Some(Slot::FloatRejected) => return Ok(None),
            None => return Err("no module to invoke".into()),
        };
        let func = match self.store.export(inst, inv.name) {
            Some(Extern::Func(f)) => f,
            _ => return Err(format!("no exported function {}", inv.name)),
        };
        let args: Option<Vec<u64>> = inv.args.iter().map(Self::arg).collect();
        let args = args.ok_or("unsupported argument")?;
        self.call(func, &args).map(Some)
    }

    fn execute(&mut self, exec: &mut WastExecute<'_>) -> Result<Option<Vec<u64>>, String> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(inv),
            WastExecute::Get { module, global, .. } => {
                let inst = match self.slot(*module) {
                    Some(Slot::Instance(i)) => i,
                    Some(Slot::FloatRejected) => return Ok(None),
                    None => return Err("no module".into()),
                };
                match self.store.export(inst, global) {
                    Some(Extern::Global(g)) => Ok(Some(vec![self.store.globals[g as usize].value])),
                    _ => Err(format!("no exported global {global}")),
                }
            }
            WastExecute::Wat(wat) => {
                let bytes = wat.encode().map_err(|e| format!("encode: {e}"))?;
                match self.instantiate(&bytes) {
                    Instantiated::Ok(_) => Ok(Some(vec![])),
                    Instantiated::Trap(t) => Err(t),
                    Instantiated::Decode(DecodeError::FloatsForbidden { .. }) | Instantiated::FloatDependency
                        if self.mode == Mode::Pvm =>
                    {
                        Ok(None)
                    }
                    Instantiated::Decode(e) => Err(format!("decode: {e}")),
                    Instantiated::Link(e) => Err(format!("link: {e}")),
                    Instantiated::FloatDependency => Err("float dependency in conformance mode".into()),
                }
            }
        }
    }

    fn check_result(actual: u64, expected: &WastRet<'_>) -> bool {
        match expected {
            WastRet::Core(r) => Self::check_core(actual, r),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    fn check_core(actual: u64, r: &WastRetCore<'_>) -> bool {
        {
            match r {
                WastRetCore::I32(v) => actual == u64::from(*v as u32),
                WastRetCore::I64(v) => actual == *v as u64,
                WastRetCore::F32(p) => {
                    let bits = actual as u32;
                    match p {
                        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
                        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
                        NanPattern::Value(v) => bits == v.bits,
                    }
                }
                WastRetCore::F64(p) => match p {
                    NanPattern::CanonicalNan => actual & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
                    NanPattern::ArithmeticNan => actual & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
                    NanPattern::Value(v) => actual == v.bits,
                },
                WastRetCore::RefNull(_) => actual == NULL_REF,
                WastRetCore::RefExtern(Some(v)) => actual == u64::from(*v) + 1,
                WastRetCore::RefExtern(None) | WastRetCore::RefFunc(_) => actual != NULL_REF,
                WastRetCore::Either(options) => options.iter().any(|o| Self::check_core(actual, o)),
                _ => false,
            }
        }
    }

    fn module_directive(&mut self, mut wat: QuoteWat<'_>, line: usize) {
        let name = wat.name().map(|id| id.name().to_string());
        let bytes = match wat.encode() {
            Ok(b) => b,
            Err(e) => {
                // Not an assertion: a module the text tools cannot build.
                self.tally
                    .fail(&self.file.clone(), line, format!("module does not encode: {e}"));
                return;
            }
        };
        let slot = match self.instantiate(&bytes) {
            Instantiated::Ok(i) => Some(Slot::Instance(i)),
            Instantiated::Decode(DecodeError::FloatsForbidden { .. }) | Instantiated::FloatDependency
                if self.mode == Mode::Pvm =>
            {
                Some(Slot::FloatRejected)
            }
            Instantiated::Decode(e) => {
                let file = self.file.clone();
                self.tally.fail(&file, line, format!("valid module rejected: {e}"));
                None
            }
            Instantiated::Link(e) | Instantiated::Trap(e) => {
                let file = self.file.clone();
                self.tally
                    .fail(&file, line, format!("module failed to instantiate: {e}"));
                None
            }
            Instantiated::FloatDependency => None,
        };
        self.current = slot;
        if let (Some(name), Some(slot)) = (name, slot) {
            self.named.insert(name, slot);
        }
    }

    fn directive(&mut self, d: WastDirective<'_>, line: usize) {
        let file = self.file.clone();
        match d {
            WastDirective::Module(wat) => self.module_directive(wat, line),
            WastDirective::Register { name, module, .. } => {
                if let Some(slot) = self.slot(module) {
                    self.registered.insert(name.to_string(), slot);
                }
            }
            WastDirective::Invoke(inv) => match self.invoke(&inv) {
                Ok(_) => self.tally.pass(),
                Err(e) => self.tally.fail(&file, line, format!("invoke {}: {e}", inv.name)),
            },
            WastDirective::AssertReturn { mut exec, results, .. } => match self.execute(&mut exec) {
                Ok(None) => self.tally.pass(),
                Ok(Some(values)) => {
                    if values.len() == results.len()
                        && values.iter().zip(&results).all(|(v, r)| Self::check_result(*v, r))
                    {
                        self.tally.pass()
                    } else {
                        self.tally
                            .fail(&file, line, format!("wrong results {values:x?}, expected {results:?}"))
                    }
                }
                Err(e) => self.tally.fail(&file, line, format!("expected results, got {e}")),
            },
            WastDirective::AssertTrap { mut exec, message, .. } => match self.execute(&mut exec) {
                Ok(None) => self.tally.pass(),
                Err(e) if e.starts_with("trap") => self.tally.pass(),
                Ok(Some(v)) => self
                    .tally
                    .fail(&file, line, format!("expected trap {message:?}, got {v:x?}")),
                Err(e) => self
                    .tally
                    .fail(&file, line, format!("expected trap {message:?}, got {e}")),
            },
            WastDirective::AssertExhaustion { call, .. } => match self.invoke(&call) {
                Ok(None) => self.tally.pass(),
                Err(e) if e == "exhausted" => self.tally.pass(),
                other => self
                    .tally
                    .fail(&file, line, format!("expected exhaustion, got {other:?}")),
            },
            WastDirective::AssertInvalid {
                mut module, message, ..
            } => {
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(_) => {
                        self.tally.skipped += 1;
                        return;
                    }
                };
                match Decoder::decode(self.mode, &bytes) {
                    Err(_) => self.tally.pass(),
                    Ok(_) => self
                        .tally
                        .fail(&file, line, format!("invalid module accepted ({message})")),
                }
            }
            WastDirective::AssertMalformed {
                mut module, message, ..
            } => {
                let quoted = matches!(module, QuoteWat::QuoteModule(..));
                match module.encode() {
                    Err(_) if quoted => self.tally.skipped += 1,
                    Err(e) => self
                        .tally
                        .fail(&file, line, format!("binary module does not encode: {e}")),
                    Ok(bytes) => match Decoder::decode(self.mode, &bytes) {
                        Err(_) => self.tally.pass(),
                        Ok(_) if quoted => self.tally.skipped += 1,
                        Ok(_) => self
                            .tally
                            .fail(&file, line, format!("malformed module accepted ({message})")),
                    },
                }
            }
            WastDirective::AssertUnlinkable {
                mut module, message, ..
            } => {
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(e) => {
                        self.tally.fail(&file, line, format!("does not encode: {e}"));
                        return;
                    }
                };
                match self.instantiate(&bytes) {
                    Instantiated::Link(_) => self.tally.pass(),
                    Instantiated::Decode(DecodeError::FloatsForbidden { .. }) | Instantiated::FloatDependency
                        if self.mode == Mode::Pvm =>
                    {
                        self.tally.pass()
                    }
                    Instantiated::Ok(_) => self.tally.fail(&file, line, format!("linked, expected {message:?}")),
                    Instantiated::Decode(e) => self.tally.fail(&file, line, format!("decode error {e}")),
                    Instantiated::Trap(e) => self
                        .tally
                        .fail(&file, line, format!("trapped {e}, expected link error")),
                    Instantiated::FloatDependency => self.tally.fail(&file, line, "float dependency".into()),
                }
            }
            other => self.tally.fail(&file, line, format!("unsupported directive {other:?}")),
        }
    }
}

/// Runs one `.wast` file in `mode`, adding to `tally` (and, if given,
/// counting the state chunks every tick touches).
pub(crate) fn run_file(path: &Path, mode: Mode, tally: &mut Tally, counter: Option<&mut ChunkCounter>) {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            tally.fail(&file, 0, format!("cannot read: {e}"));
            return;
        }
    };
    // names.wast deliberately uses bidirectional-override characters.
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => {
            tally.fail(&file, 0, format!("cannot lex: {e}"));
            return;
        }
    };
    let wast: Wast<'_> = match parser::parse(&buf) {
        Ok(w) => w,
        Err(e) => {
            tally.fail(&file, 0, format!("cannot parse: {e}"));
            return;
        }
    };
    let mut runner = Runner::new(mode, tally, file.clone(), counter);
    for d in wast.directives {
        let (line, _) = d.span().linecol_in(&text);
        // A panic is an engine bug: count it as a failure and stop this file.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.directive(d, line + 1)));
        if outcome.is_err() {
            runner.tally.fail(&file, line + 1, "PANIC in the engine".into());
            return;
        }
    }
}

/// Runs every `.wast` file of `dir` (sorted) in `mode`.
pub(crate) fn run_dir(dir: &Path, mode: Mode, mut counter: Option<&mut ChunkCounter>) -> Tally {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the spec suite at {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    files.sort();
    let mut tally = Tally::default();
    for f in files {
        run_file(&f, mode, &mut tally, counter.as_deref_mut());
    }
    tally
}

/// The suite directory: `../shared/wasm-testsuite/core` beside the repository.
pub(crate) fn suite_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/wasm-testsuite/core")
}

/// `spec <mode>: N passed, M failed, K skipped`
pub(crate) fn summary(label: &str, t: &Tally) -> String {
    format!(
        "spec {label}: {} passed, {} failed, {} skipped",
        t.passed, t.failed, t.skipped
    )
}
