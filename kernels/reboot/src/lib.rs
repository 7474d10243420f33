//! `reboot`: asks for reboots until it has run `target` times in the level.
//!
//! Durable keys (all u32 little-endian):
//! - `/reboot/runs`: every `kernel_run` ever, incremented at each run;
//! - `/reboot/runs_this_level`: runs in the current inbox level;
//! - `/reboot/level`: the inbox level of the last input read;
//! - `/reboot/target`: runs wanted per level (absent = 3), set by the
//!   external message `b"R" ‖ u32 LE`.
//!
//! **Level boundary.** Every run reads *all* available inputs. The PVM keeps
//! unread inputs across a reboot and drops consumed ones, so only the first
//! run of a level sees inputs (SOL, Info_per_level, …, EOL); the reboots that
//! follow in the same level find the inbox empty. A run is the first of a
//! level exactly when the first `read_input` returns an input whose level
//! differs from `/reboot/level` (or `/reboot/level` is absent): then
//! `/reboot/runs_this_level` restarts from 0 and `/reboot/level` takes the new
//! level. A run that reads no input continues the current level.
//!
//! After counting the run, the kernel writes `/kernel/env/reboot` when
//! `runs_this_level < target`. A target message read in the first run of a
//! level applies to that level already. With `target` > 1001 the PVM forces
//! a yield after the 1001st run (`/readonly/kernel/env/too_many_reboot`).
#![cfg(target_arch = "wasm32")]

use kernel_common::{external_payload, read_u32, write_u32};
use tezos_smart_rollup::kernel_entry;
use tezos_smart_rollup::prelude::*;
use tezos_smart_rollup::storage::path::RefPath;

const RUNS: RefPath = RefPath::assert_from(b"/reboot/runs");
const RUNS_THIS_LEVEL: RefPath = RefPath::assert_from(b"/reboot/runs_this_level");
const LEVEL: RefPath = RefPath::assert_from(b"/reboot/level");
const TARGET: RefPath = RefPath::assert_from(b"/reboot/target");

/// Runs per level when `/reboot/target` is absent.
const DEFAULT_TARGET: u32 = 3;

fn run(host: &mut impl Runtime) {
    let mut runs_this_level = read_u32(host, &RUNS_THIS_LEVEL).unwrap_or(0);
    let stored_level = read_u32(host, &LEVEL);
    let mut first = true;
    while let Ok(Some(message)) = host.read_input() {
        if first {
            first = false;
            if stored_level != Some(message.level) {
                runs_this_level = 0;
                write_u32(host, &LEVEL, message.level);
            }
        }
        if let Some([b'R', a, b, c, d]) = external_payload(&message) {
            write_u32(host, &TARGET, u32::from_le_bytes([*a, *b, *c, *d]));
        }
    }
    let runs = read_u32(host, &RUNS).unwrap_or(0).wrapping_add(1);
    write_u32(host, &RUNS, runs);
    runs_this_level = runs_this_level.saturating_add(1);
    write_u32(host, &RUNS_THIS_LEVEL, runs_this_level);
    let target = read_u32(host, &TARGET).unwrap_or(DEFAULT_TARGET);
    if runs_this_level < target {
        let _ = host.mark_for_reboot();
    }
}

kernel_entry!(run);
