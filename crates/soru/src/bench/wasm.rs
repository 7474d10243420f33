//! `soru bench wasm`: CPU-bound programs run on soru-wasm and on `wasmi` in
//! the same process. Per program and as a geometric mean it reports soru's
//! ticks per second and `R = wasmi wall time ÷ soru wall time`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::store::Extern;
use soru_wasm::{Decoder, Mode, Store};

/// A benchmark program: WebAssembly text exporting `run`.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    /// Short name.
    pub name: &'static str,
    /// The module in text form.
    pub wat: &'static str,
}

/// The programs: a hash loop, a sort, big-integer arithmetic and calls.
pub const PROGRAMS: [Program; 4] = [
    Program {
        name: "hash",
        wat: include_str!("../../../soru-wasm/benches/programs/hash.wat"),
    },
    Program {
        name: "sort",
        wat: include_str!("../../../soru-wasm/benches/programs/sort.wat"),
    },
    Program {
        name: "bigint",
        wat: include_str!("../../../soru-wasm/benches/programs/bigint.wat"),
    },
    Program {
        name: "fib",
        wat: include_str!("../../../soru-wasm/benches/programs/fib.wat"),
    },
];

/// A program compiled for both engines.
pub struct Prepared {
    /// The program.
    pub program: Program,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prepared({})", self.program.name)
    }
}

impl Prepared {
    /// Assembles the program.
    pub fn new(program: Program) -> Result<Self> {
        let bytes = wat::parse_str(program.wat).with_context(|| format!("assembling {}", program.name))?;
        Ok(Self { program, bytes })
    }

    /// Runs on soru-wasm (PVM mode): the result, ticks and execution time.
    pub fn run_soru(&self) -> Result<(u64, u64, Duration)> {
        let module = Arc::new(Decoder::decode(Mode::Pvm, &self.bytes)?);
        let mut store = Store::default();
        let inst = store.allocate(module, &[])?;
        Machine::initialize(&mut store, inst).map_err(|t| anyhow::anyhow!("init trap {t}"))?;
        let Some(Extern::Func(f)) = store.export(inst, "run") else {
            bail!("no run export")
        };
        let mut machine = Machine::invoke(&store, f, &[])?;
        let budget = u64::MAX;
        let mut fuel = budget;
        let start = Instant::now();
        let outcome = machine.run(&mut store, &mut fuel)?;
        let elapsed = start.elapsed();
        match outcome {
            Outcome::Returned(v) if v.len() == 1 => Ok((v[0], budget - fuel, elapsed)),
            other => bail!("{}: unexpected outcome {other:?}", self.program.name),
        }
    }

    /// Runs on wasmi: the result and execution time.
    pub fn run_wasmi(&self) -> Result<(u64, Duration)> {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, &self.bytes[..])?;
        let mut store = wasmi::Store::new(&engine, ());
        let linker = wasmi::Linker::<()>::new(&engine);
        let instance = linker.instantiate(&mut store, &module)?.start(&mut store)?;
        let run = instance.get_func(&store, "run").context("no run export")?;
        let result_type = run.ty(&store).results()[0];
        let mut results = [wasmi::Val::default(result_type)];
        let start = Instant::now();
        run.call(&mut store, &[], &mut results)?;
        let elapsed = start.elapsed();
        let value = match results[0] {
            wasmi::Val::I32(v) => u64::from(v as u32),
            wasmi::Val::I64(v) => v as u64,
            ref other => bail!("unexpected result {other:?}"),
        };
        Ok((value, elapsed))
    }
}

/// One program's measurement.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Program name.
    pub name: &'static str,
    /// Ticks one run takes.
    pub ticks: u64,
    /// Best soru time.
    pub soru: Duration,
    /// Best wasmi time.
    pub wasmi: Duration,
}

impl Measurement {
    /// soru's ticks per second.
    pub fn ticks_per_second(&self) -> f64 {
        self.ticks as f64 / self.soru.as_secs_f64()
    }

    /// wasmi time ÷ soru time.
    pub fn ratio(&self) -> f64 {
        self.wasmi.as_secs_f64() / self.soru.as_secs_f64()
    }
}

/// Measures every program, best of `repeats` runs each, checking both
/// engines compute the same result.
pub fn measure(repeats: u32) -> Result<Vec<Measurement>> {
    let mut out = Vec::new();
    for program in PROGRAMS {
        let p = Prepared::new(program)?;
        let (mut soru_best, mut wasmi_best) = (Duration::MAX, Duration::MAX);
        let mut ticks = 0;
        for _ in 0..repeats.max(1) {
            let (a, t, d) = p.run_soru()?;
            let (b, e) = p.run_wasmi()?;
            if a != b {
                bail!("{}: soru computed {a:#x}, wasmi {b:#x}", program.name);
            }
            ticks = t;
            soru_best = soru_best.min(d);
            wasmi_best = wasmi_best.min(e);
        }
        out.push(Measurement {
            name: program.name,
            ticks,
            soru: soru_best,
            wasmi: wasmi_best,
        });
    }
    Ok(out)
}

/// Runs the scenario and returns the report lines.
pub fn run(repeats: u32) -> Result<Vec<String>> {
    let results = measure(repeats)?;
    let mut lines = Vec::new();
    for m in &results {
        lines.push(format!(
            "{}: {} ticks, soru {:.1} ms, wasmi {:.1} ms, wasm ticks/s: {:.3e}, wasm speed vs wasmi: {:.2}",
            m.name,
            m.ticks,
            m.soru.as_secs_f64() * 1e3,
            m.wasmi.as_secs_f64() * 1e3,
            m.ticks_per_second(),
            m.ratio()
        ));
    }
    let tps: Vec<f64> = results.iter().map(Measurement::ticks_per_second).collect();
    let ratios: Vec<f64> = results.iter().map(Measurement::ratio).collect();
    lines.push(format!("wasm ticks/s: {:.3e}", super::geometric_mean(&tps)));
    lines.push(format!("wasm speed vs wasmi: {:.2}", super::geometric_mean(&ratios)));
    Ok(lines)
}
