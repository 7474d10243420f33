//! The profiler behind `profile`: where the ticks (and the time) of each
//! `kernel_run` cycle go — the loading phases (snapshot, decode, link, init)
//! and, inside the evaluation, every function of the kernel, named from its
//! `name` section (demangled). Interpreter ticks, calls and returns come
//! from soru-wasm's hooks; the ticks a host call costs on top of its call
//! tick (and a reveal's answer) are charged to the host function.
//!
//! The stacks are also written as a flamegraph file (`frame;frame;… ticks`
//! per line, the format of `flamegraph.pl` and `inferno`): in time order, or
//! merged per stack with `--collapsed`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use soru_pvm::{PvmHooks, RunningFunction};
use soru_wasm::hooks::Hooks;

use crate::names::FunctionNames;

/// Options of `profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileOptions {
    /// Merge identical stacks in the flamegraph file (`--collapsed`).
    pub collapsed: bool,
    /// Measure time as well as ticks (off with `--without-time`).
    pub with_time: bool,
    /// Profile one `kernel_run` only (`--no-reboot`).
    pub no_reboot: bool,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        Self {
            collapsed: false,
            with_time: true,
            no_reboot: false,
        }
    }
}

/// A loading phase of a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadPhase {
    /// The snapshot tick (reading `/kernel/boot.wasm`).
    Snapshot,
    /// Decoding and validating.
    Decode,
    /// Linking imports.
    Link,
    /// Instantiating.
    Init,
}

impl LoadPhase {
    const ALL: [LoadPhase; 4] = [LoadPhase::Snapshot, LoadPhase::Decode, LoadPhase::Link, LoadPhase::Init];

    fn label(self) -> &'static str {
        match self {
            LoadPhase::Snapshot => "%interpreter(snapshot)",
            LoadPhase::Decode => "%interpreter(decode)",
            LoadPhase::Link => "%interpreter(link)",
            LoadPhase::Init => "%interpreter(init)",
        }
    }
}

/// Ticks and time of one function in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionStats {
    /// The function's name.
    pub name: String,
    /// Times it was entered.
    pub calls: u64,
    /// Ticks in the function itself.
    pub self_ticks: u128,
    /// Ticks in the function and its callees (outermost activations).
    pub total_ticks: u128,
    /// Time in the function itself.
    pub self_time: Duration,
    /// Time in the function and its callees.
    pub total_time: Duration,
    active: u32,
}

/// The profile of one `kernel_run` cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Ticks and time of each loading phase, in [`LoadPhase`] order.
    pub load: [(u128, Duration); 4],
    /// Ticks and time of the evaluation (kernel code and host calls).
    pub eval: (u128, Duration),
    /// The functions that were called, most ticks (with callees) first.
    pub functions: Vec<FunctionStats>,
}

impl RunReport {
    /// Ticks of the run without its padding.
    pub fn ticks(&self) -> u128 {
        self.load.iter().map(|l| l.0).sum::<u128>() + self.eval.0
    }

    fn time(&self) -> Duration {
        self.load.iter().map(|l| l.1).sum::<Duration>() + self.eval.1
    }
}

struct Frame {
    func: usize,
    node: u32,
    start_ticks: u128,
    start: Option<Instant>,
    child_time: Duration,
}

/// The run being profiled.
#[derive(Default)]
struct Current {
    report: RunReport,
    /// Store address → function index.
    by_address: HashMap<u32, usize>,
    stats: Vec<FunctionStats>,
    frame_ids: Vec<u32>,
    is_host: Vec<bool>,
    stack: Vec<Frame>,
    host_on_top: bool,
    now: u128,
}

/// Collects a profile; give it to the PVM as hooks during evaluations.
pub struct Profiler {
    options: ProfileOptions,
    frame_names: Vec<String>,
    frame_index: HashMap<String, u32>,
    /// Stack nodes: (parent, frame); node 0 is the root.
    nodes: Vec<(u32, u32)>,
    node_index: HashMap<(u32, u32), u32>,
    node_ticks: Vec<u128>,
    sequence: Vec<(u32, u128)>,
    current: Option<Current>,
    /// Finished runs.
    pub runs: Vec<RunReport>,
}

impl std::fmt::Debug for Profiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiler")
            .field("options", &self.options)
            .field("runs", &self.runs.len())
            .finish()
    }
}

/// A demangled function name without the hash suffix.
pub fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

fn elapsed(start: Option<Instant>) -> Duration {
    start.map(|s| s.elapsed()).unwrap_or_default()
}

impl Profiler {
    /// A profiler with no run yet.
    pub fn new(options: ProfileOptions) -> Self {
        Self {
            options,
            frame_names: Vec::new(),
            frame_index: HashMap::new(),
            nodes: vec![(0, u32::MAX)],
            node_index: HashMap::new(),
            node_ticks: vec![0],
            sequence: Vec::new(),
            current: None,
            runs: Vec::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> ProfileOptions {
        self.options
    }

    /// A clock reading when time is measured.
    pub fn now(&self) -> Option<Instant> {
        self.options.with_time.then(Instant::now)
    }

    fn frame(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.frame_index.get(name) {
            return id;
        }
        let id = self.frame_names.len() as u32;
        self.frame_names.push(name.to_string());
        self.frame_index.insert(name.to_string(), id);
        id
    }

    fn node(&mut self, parent: u32, frame: u32) -> u32 {
        if let Some(&n) = self.node_index.get(&(parent, frame)) {
            return n;
        }
        let n = self.nodes.len() as u32;
        self.nodes.push((parent, frame));
        self.node_ticks.push(0);
        self.node_index.insert((parent, frame), n);
        n
    }

    fn add_ticks(&mut self, node: u32, ticks: u128) {
        self.node_ticks[node as usize] += ticks;
        if !self.options.collapsed {
            match self.sequence.last_mut() {
                Some((n, t)) if *n == node => *t += ticks,
                _ => self.sequence.push((node, ticks)),
            }
        }
    }

    fn current(&mut self) -> &mut Current {
        self.current.get_or_insert_with(Current::default)
    }

    /// Whether a run has started and not ended.
    pub fn in_run(&self) -> bool {
        self.current.is_some()
    }

    /// `ticks` ticks (taking `time`) of a loading phase.
    pub fn load_ticks(&mut self, phase: LoadPhase, ticks: u128, time: Duration) {
        let i = LoadPhase::ALL.iter().position(|p| *p == phase).expect("a phase");
        let entry = &mut self.current().report.load[i];
        entry.0 += ticks;
        entry.1 += time;
        let frame = self.frame(phase.label());
        let node = self.node(0, frame);
        self.add_ticks(node, ticks);
    }

    /// Whether the functions of the current evaluation are known.
    pub fn has_functions(&self) -> bool {
        self.current.as_ref().is_some_and(|c| !c.stats.is_empty())
    }

    /// Names the functions of the evaluation about to run.
    pub fn set_functions(&mut self, functions: &[RunningFunction], names: &FunctionNames) {
        let mut by_address = HashMap::new();
        let mut stats = Vec::with_capacity(functions.len());
        let mut frame_ids = Vec::with_capacity(functions.len());
        let mut is_host = Vec::with_capacity(functions.len());
        for (i, f) in functions.iter().enumerate() {
            let name = match (names.functions.get(&f.index), &f.import) {
                (Some(n), _) => demangle(n),
                (None, Some((module, name))) => format!("{module}.{name}"),
                (None, None) => format!("func[{}]", f.index),
            };
            by_address.insert(f.address, i);
            frame_ids.push(self.frame(&name));
            is_host.push(f.import.is_some());
            stats.push(FunctionStats {
                name,
                ..FunctionStats::default()
            });
        }
        let c = self.current();
        c.by_address = by_address;
        c.stats = stats;
        c.frame_ids = frame_ids;
        c.is_host = is_host;
    }

    /// Charges `ticks` to the function on top of the stack.
    fn charge(&mut self, ticks: u128) {
        let Some(c) = self.current.as_mut() else { return };
        c.now += ticks;
        let node = match c.stack.last() {
            Some(f) => {
                c.stats[f.func].self_ticks += ticks;
                f.node
            }
            None => {
                let frame = self.frame("(outside any function)");
                self.node(0, frame)
            }
        };
        self.add_ticks(node, ticks);
    }

    fn pop(&mut self) {
        let Some(c) = self.current.as_mut() else { return };
        let Some(f) = c.stack.pop() else { return };
        c.host_on_top = false;
        let time = elapsed(f.start);
        let s = &mut c.stats[f.func];
        s.active -= 1;
        s.self_time += time.saturating_sub(f.child_time);
        if s.active == 0 {
            s.total_ticks += c.now - f.start_ticks;
            s.total_time += time;
        }
        if let Some(parent) = c.stack.last_mut() {
            parent.child_time += time;
        }
    }

    fn pop_host(&mut self) {
        if self.current.as_ref().is_some_and(|c| c.host_on_top) {
            self.pop();
        }
    }

    /// Ticks spent answering a reveal during an evaluation (charged to the
    /// reveal host function).
    pub fn reveal_ticks(&mut self, ticks: u128, time: Duration) {
        let c = self.current();
        c.report.eval.0 += ticks;
        c.report.eval.1 += time;
        self.charge(ticks);
    }

    /// The evaluation phase ended (or paused) after `ticks` ticks taking
    /// `time`; `finished` closes every open frame (a return, a trap, a
    /// stuck PVM).
    pub fn eval_ticks(&mut self, ticks: u128, time: Duration, finished: bool) {
        let c = self.current();
        c.report.eval.0 += ticks;
        c.report.eval.1 += time;
        if finished {
            while self.current.as_ref().is_some_and(|c| !c.stack.is_empty()) {
                self.pop();
            }
        }
    }

    /// The cycle ended: its report is kept.
    pub fn end_run(&mut self) {
        while self.current.as_ref().is_some_and(|c| !c.stack.is_empty()) {
            self.pop();
        }
        if let Some(mut c) = self.current.take() {
            let mut functions: Vec<FunctionStats> = c.stats.drain(..).filter(|s| s.calls > 0).collect();
            functions.sort_by(|a, b| b.total_ticks.cmp(&a.total_ticks).then(b.self_ticks.cmp(&a.self_ticks)));
            c.report.functions = functions;
            self.runs.push(c.report);
        }
    }

    fn stack_name(&self, mut node: u32) -> String {
        let mut frames = Vec::new();
        while node != 0 {
            let (parent, frame) = self.nodes[node as usize];
            frames.push(self.frame_names[frame as usize].replace(';', ":"));
            node = parent;
        }
        frames.reverse();
        frames.join(";")
    }

    /// The flamegraph file's contents.
    pub fn flamegraph(&self) -> String {
        let mut out = String::new();
        if self.options.collapsed {
            let mut lines: Vec<(String, u128)> = (1..self.nodes.len() as u32)
                .filter(|&n| self.node_ticks[n as usize] > 0)
                .map(|n| (self.stack_name(n), self.node_ticks[n as usize]))
                .collect();
            lines.sort();
            for (stack, ticks) in lines {
                let _ = writeln!(out, "{stack} {ticks}");
            }
        } else {
            for &(node, ticks) in &self.sequence {
                let _ = writeln!(out, "{} {ticks}", self.stack_name(node));
            }
        }
        out
    }

    /// The printed report of every run, then the total.
    pub fn report(&self, total_ticks: u128) -> String {
        let time = |d: Duration| {
            if self.options.with_time {
                format!(" ({d:?})")
            } else {
                String::new()
            }
        };
        let mut out = String::new();
        for run in &self.runs {
            out.push_str("----------------------\nDetailed results for a `kernel_run`:\n");
            for (phase, (ticks, d)) in LoadPhase::ALL.iter().zip(run.load) {
                let _ = writeln!(out, "{}: {ticks} ticks{}", phase.label(), time(d));
            }
            let _ = writeln!(out, "kernel_run: {} ticks{}", run.eval.0, time(run.eval.1));
            if !run.functions.is_empty() {
                let shown = run.functions.len().min(20);
                let _ = writeln!(
                    out,
                    "\nFunctions ({shown} of {} called, by ticks with callees; self = in the function itself):",
                    run.functions.len()
                );
                if self.options.with_time {
                    let _ = writeln!(
                        out,
                        "{:>14} {:>14} {:>8} {:>12} {:>12}  name",
                        "ticks", "self", "calls", "time", "self time"
                    );
                } else {
                    let _ = writeln!(out, "{:>14} {:>14} {:>8}  name", "ticks", "self", "calls");
                }
                for f in &run.functions[..shown] {
                    if self.options.with_time {
                        let _ = writeln!(
                            out,
                            "{:>14} {:>14} {:>8} {:>12} {:>12}  {}",
                            f.total_ticks,
                            f.self_ticks,
                            f.calls,
                            format!("{:?}", f.total_time),
                            format!("{:?}", f.self_time),
                            f.name
                        );
                    } else {
                        let _ = writeln!(
                            out,
                            "{:>14} {:>14} {:>8}  {}",
                            f.total_ticks, f.self_ticks, f.calls, f.name
                        );
                    }
                }
            }
            let _ = writeln!(out, "\nFull execution: {} ticks{}", run.ticks(), time(run.time()));
        }
        let _ = writeln!(
            out,
            "----------------------\nFull execution with padding: {total_ticks} ticks"
        );
        out
    }
}

impl Hooks for Profiler {
    const ENABLED: bool = true;

    fn tick(&mut self) {
        self.pop_host();
        self.charge(1);
    }

    fn call(&mut self, func: u32) {
        self.pop_host();
        let start = self.now();
        let Some(c) = self.current.as_mut() else { return };
        let Some(&i) = c.by_address.get(&func) else { return };
        let parent = c.stack.last().map_or(0, |f| f.node);
        let frame = c.frame_ids[i];
        let host = c.is_host[i];
        let node = self.node(parent, frame);
        let c = self.current.as_mut().expect("checked above");
        c.stats[i].calls += 1;
        c.stats[i].active += 1;
        c.stack.push(Frame {
            func: i,
            node,
            start_ticks: c.now,
            start,
            child_time: Duration::ZERO,
        });
        c.host_on_top = host;
    }

    fn ret(&mut self) {
        self.pop_host();
        self.pop();
    }
}

impl PvmHooks for Profiler {
    fn host_ticks(&mut self, ticks: u128) {
        self.charge(ticks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn functions() -> Vec<RunningFunction> {
        vec![
            RunningFunction {
                address: 0,
                index: 0,
                import: Some(("smart_rollup_core".into(), "write_debug".into())),
            },
            RunningFunction {
                address: 1,
                index: 1,
                import: None,
            },
            RunningFunction {
                address: 2,
                index: 2,
                import: None,
            },
        ]
    }

    #[test]
    fn attributes_ticks_to_stacks() {
        let mut names = FunctionNames::default();
        names.functions.insert(2, "kernel_run".into());
        names
            .functions
            .insert(1, "_ZN4core3fmt5write17h0123456789abcdefE".into());
        let mut p = Profiler::new(ProfileOptions {
            collapsed: true,
            with_time: false,
            no_reboot: false,
        });
        p.load_ticks(LoadPhase::Decode, 10, Duration::ZERO);
        p.set_functions(&functions(), &names);
        // kernel_run: 2 ticks, calls helper (1 tick), which calls the host
        // function (call tick + 5 cost ticks), returns; 1 more tick.
        p.call(2);
        p.tick();
        p.tick();
        p.call(1);
        p.tick();
        p.call(0);
        p.host_ticks(5);
        p.tick();
        p.ret();
        p.tick();
        p.ret();
        p.eval_ticks(10, Duration::ZERO, true);
        p.end_run();
        let run = &p.runs[0];
        assert_eq!(run.ticks(), 20);
        let by_name: HashMap<&str, &FunctionStats> = run.functions.iter().map(|f| (f.name.as_str(), f)).collect();
        assert_eq!(by_name["kernel_run"].total_ticks, 10);
        assert_eq!(by_name["kernel_run"].self_ticks, 3);
        assert_eq!(by_name["core::fmt::write"].total_ticks, 7);
        assert_eq!(by_name["core::fmt::write"].self_ticks, 2);
        assert_eq!(by_name["smart_rollup_core.write_debug"].self_ticks, 5);
        assert_eq!(run.functions[0].name, "kernel_run");
        let graph = p.flamegraph();
        assert_eq!(
            graph,
            "%interpreter(decode) 10\nkernel_run 3\nkernel_run;core::fmt::write 2\n\
             kernel_run;core::fmt::write;smart_rollup_core.write_debug 5\n"
        );
        let report = p.report(100);
        assert!(report.contains("%interpreter(decode): 10 ticks\n"), "{report}");
        assert!(report.contains("kernel_run: 10 ticks\n"), "{report}");
        assert!(report.contains("Full execution: 20 ticks\n"), "{report}");
        assert!(report.ends_with("Full execution with padding: 100 ticks\n"), "{report}");
    }

    #[test]
    fn recursion_and_time_ordered_stacks() {
        let names = FunctionNames::default();
        let mut p = Profiler::new(ProfileOptions::default());
        p.set_functions(&functions(), &names);
        p.call(2);
        p.tick();
        p.call(2);
        p.tick();
        p.ret();
        p.tick();
        p.ret();
        p.eval_ticks(3, Duration::ZERO, true);
        p.end_run();
        let f = &p.runs[0].functions[0];
        assert_eq!(f.name, "func[2]");
        assert_eq!(
            (f.calls, f.self_ticks, f.total_ticks),
            (2, 3, 3),
            "recursion counted once"
        );
        assert_eq!(p.flamegraph(), "func[2] 1\nfunc[2];func[2] 1\nfunc[2] 1\n");
        assert!(p.report(3).contains("time"));
    }
}
