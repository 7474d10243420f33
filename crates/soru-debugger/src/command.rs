//! The debugger's command language: the commands of Octez's
//! `octez-smart-rollup-wasm-debugger` (OCTEZ-NODE-FEATURES §4, seed 003)
//! plus `crosscheck`, `load kernel FILE` and `load inputs from FILE`.

use std::path::PathBuf;

use crate::display::{parse_number, ValueKind};
use crate::profile::ProfileOptions;

/// How far `step` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// One tick.
    Tick,
    /// Until the evaluation of `kernel_run` ends, stopping one tick before
    /// its end so that the memory can still be inspected.
    Result,
    /// To the end of the current cycle (the `kernel_run` and its padding).
    KernelRun,
    /// Until the PVM needs input; loads the next inbox first if it needs one now.
    Inbox,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Runs the command and prints how long it took.
    Time(Box<Command>),
    /// The unread inputs.
    ShowInbox,
    /// The outbox of a level.
    ShowOutbox(u32),
    /// Status and internal state.
    ShowStatus,
    /// Every durable key with its value.
    ShowDurableStorage,
    /// The direct subkeys of a path.
    ShowSubkeys(String),
    /// A durable value.
    ShowKey(String, ValueKind),
    /// Bytes of the running kernel's memory.
    ShowMemory {
        /// Address.
        address: u64,
        /// Length in bytes.
        len: u64,
        /// How to print them.
        kind: ValueKind,
    },
    /// The `name` section of the kernel.
    DumpFunctionSymbols,
    /// Runs the PVM.
    Step(StepKind),
    /// Feeds the next inbox.
    LoadInputs,
    /// Replaces the inboxes still to load by those of a file.
    LoadInputsFrom(PathBuf),
    /// Restarts from origination with another kernel.
    LoadKernel(PathBuf),
    /// Answers a preimage reveal: with these hex bytes, or from the
    /// preimage directory (asking when the file is missing).
    RevealPreimage(Option<String>),
    /// Answers a metadata reveal.
    RevealMetadata,
    /// Profiles until the PVM needs input.
    Profile(ProfileOptions),
    /// Replays the current level on a fresh PVM, then on the PVM and on
    /// soru-fast, and compares state hashes.
    Crosscheck,
    /// The list of commands.
    Help,
    /// Ends the session.
    Stop,
}

/// A line that is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No command starts like this.
    #[error("Unknown command `{0}`. Type `help` for the list of commands.")]
    Unknown(String),
    /// A known command with wrong arguments.
    #[error("{0}")]
    Usage(String),
}

/// Usage and description of every command, for `help`.
pub const HELP: &[(&str, &str)] = &[
    ("time <command>", "Executes <command> and prints the time it took."),
    (
        "show inbox",
        "Prints the inputs given to the PVM that the kernel has not read yet.",
    ),
    (
        "show outbox at level <level>",
        "Prints the outbox messages of <level>, decoded.",
    ),
    ("show status", "Shows the status and the internal state of the PVM."),
    (
        "show durable storage",
        "Prints every durable key with its value (long values shortened).",
    ),
    (
        "show subkeys [<path>] | show keys <path> | ls [<path>]",
        "Prints the direct subkeys of <path> (default `/`).",
    ),
    (
        "show key <key> [as <kind>]",
        "Prints the value of <key>: kind hex (default), string, int, nat, u8…u256, i8…i128.",
    ),
    (
        "show memory at <address> for <length> bytes [as string] | show memory at <address> as <kind>",
        "Prints bytes of the running kernel's memory (only while kernel code runs, e.g. after `step result`).",
    ),
    (
        "dump function symbols",
        "Prints the function names of the kernel's `name` section.",
    ),
    (
        "step tick|result|kernel_run|inbox",
        "tick: one tick. result: until `kernel_run` ends, stopping one tick before its end so the memory \
         can be inspected. kernel_run: to the end of the current cycle (the run and its padding). inbox: \
         until the PVM needs input, loading the next inbox first if it is waiting for one.",
    ),
    (
        "load inputs",
        "Loads the next inbox at the next level (an empty one after the last), wrapped in Start_of_level, \
         Info_per_level and End_of_level.",
    ),
    (
        "load inputs from <file>",
        "Replaces the inboxes still to load by those of <file> (JSON or YAML).",
    ),
    (
        "load kernel <file>",
        "Restarts from origination with the kernel <file> (.wasm or .wat).",
    ),
    (
        "reveal preimage [<hex>] | reveal preimage of <hex>",
        "Answers a preimage reveal with <hex>, or with the file of the preimage directory (asking for it \
         when it is missing). A preimage whose hash does not match is refused.",
    ),
    (
        "reveal metadata",
        "Answers a metadata reveal: the rollup address and origination level 0.",
    ),
    (
        "profile [--collapsed] [--without-time] [--no-reboot]",
        "Runs until the PVM needs input (loading the next inbox if it is waiting for one) and prints ticks \
         and time per phase and per function of every `kernel_run`; writes the stacks to a flamegraph file.",
    ),
    (
        "crosscheck",
        "Replays the current level from its start on a fresh PVM instance and compares the state hashes, \
         then replays it on the PVM alone and with the fast engine (soru-fast) running each `kernel_run` \
         and compares them after every kernel run.",
    ),
    ("help | man", "Prints this list."),
    ("stop", "Ends the session."),
];

/// The text of `help`.
pub fn help_text() -> String {
    let mut out = String::new();
    for (usage, doc) in HELP {
        out.push_str(&format!("  {usage}: {doc}\n"));
    }
    out
}

fn usage(text: &str) -> CommandError {
    CommandError::Usage(format!("usage: {text}"))
}

fn kind(name: &str) -> Result<ValueKind, CommandError> {
    ValueKind::parse(name)
        .ok_or_else(|| CommandError::Usage(format!("unknown value kind `{name}`; kinds: {}", ValueKind::names())))
}

fn rest_after(line: &str, words: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..words {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest.trim()
}

/// Parses one command line.
pub fn parse(line: &str) -> Result<Command, CommandError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let unknown = || CommandError::Unknown(line.trim().to_string());
    Ok(match words.as_slice() {
        ["time", ..] => {
            if words.len() == 1 {
                return Err(usage("time <command>"));
            }
            let inner = parse(rest_after(line, 1))?;
            Command::Time(Box::new(inner))
        }
        ["show", "inbox"] => Command::ShowInbox,
        ["show", "outbox", rest @ ..] => match rest {
            ["at", "level", level] => Command::ShowOutbox(
                level
                    .parse()
                    .map_err(|_| CommandError::Usage(format!("`{level}` is not a level")))?,
            ),
            _ => return Err(usage("show outbox at level <level>")),
        },
        ["show", "status"] => Command::ShowStatus,
        ["show", "durable", "storage"] => Command::ShowDurableStorage,
        ["show", "subkeys"] | ["ls"] => Command::ShowSubkeys("/".into()),
        ["show", "subkeys", path] | ["show", "keys", path] | ["ls", path] => Command::ShowSubkeys(path.to_string()),
        ["show", "keys"] => Command::ShowSubkeys("/".into()),
        ["show", "key", key] => Command::ShowKey(key.to_string(), ValueKind::Hex),
        ["show", "key", key, "as", k] => Command::ShowKey(key.to_string(), kind(k)?),
        ["show", "key", ..] => return Err(usage("show key <key> [as <kind>]")),
        ["show", "memory", rest @ ..] => {
            let number = |t: &str| parse_number(t).ok_or_else(|| CommandError::Usage(format!("`{t}` is not a number")));
            match rest {
                ["at", a, "for", n, "bytes"] => Command::ShowMemory {
                    address: number(a)?,
                    len: number(n)?,
                    kind: ValueKind::Hex,
                },
                ["at", a, "for", n, "bytes", "as", k] => Command::ShowMemory {
                    address: number(a)?,
                    len: number(n)?,
                    kind: kind(k)?,
                },
                ["at", a, "as", k] => {
                    let kind = kind(k)?;
                    let len = kind.width().ok_or_else(|| {
                        CommandError::Usage(format!(
                            "`as {k}` needs a length: show memory at <address> for <length> bytes as {k}"
                        ))
                    })?;
                    Command::ShowMemory {
                        address: number(a)?,
                        len: len as u64,
                        kind,
                    }
                }
                _ => {
                    return Err(usage(
                        "show memory at <address> for <length> bytes [as <kind>] | show memory at <address> as <kind>",
                    ))
                }
            }
        }
        ["show", ..] => return Err(unknown()),
        ["dump", "function", "symbols"] => Command::DumpFunctionSymbols,
        ["step", step] => Command::Step(match *step {
            "tick" => StepKind::Tick,
            "result" => StepKind::Result,
            "kernel_run" => StepKind::KernelRun,
            "inbox" => StepKind::Inbox,
            _ => return Err(usage("step tick|result|kernel_run|inbox")),
        }),
        ["step", ..] => return Err(usage("step tick|result|kernel_run|inbox")),
        ["load", "inputs"] => Command::LoadInputs,
        ["load", "inputs", "from", _, ..] => Command::LoadInputsFrom(PathBuf::from(rest_after(line, 3))),
        ["load", "kernel", _, ..] => Command::LoadKernel(PathBuf::from(rest_after(line, 2))),
        ["load", ..] => return Err(usage("load inputs | load inputs from <file> | load kernel <file>")),
        ["reveal", "preimage"] => Command::RevealPreimage(None),
        ["reveal", "preimage", "of", hex] | ["reveal", "preimage", hex] => {
            Command::RevealPreimage(Some(hex.to_string()))
        }
        ["reveal", "metadata"] => Command::RevealMetadata,
        ["reveal", ..] => {
            return Err(usage(
                "reveal preimage [<hex>] | reveal preimage of <hex> | reveal metadata",
            ))
        }
        ["profile", options @ ..] => {
            let mut opts = ProfileOptions::default();
            for o in options {
                match *o {
                    "--collapsed" => opts.collapsed = true,
                    "--without-time" => opts.with_time = false,
                    "--no-reboot" => opts.no_reboot = true,
                    other => {
                        return Err(CommandError::Usage(format!(
                            "unknown profile option `{other}`; options: --collapsed, --without-time, --no-reboot"
                        )))
                    }
                }
            }
            Command::Profile(opts)
        }
        ["crosscheck"] => Command::Crosscheck,
        ["help"] | ["man"] => Command::Help,
        ["stop"] => Command::Stop,
        _ => return Err(unknown()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("show status"), Ok(Command::ShowStatus));
        assert_eq!(parse("  show   inbox "), Ok(Command::ShowInbox));
        assert_eq!(parse("show outbox at level 3"), Ok(Command::ShowOutbox(3)));
        assert_eq!(parse("show durable storage"), Ok(Command::ShowDurableStorage));
        assert_eq!(parse("ls"), Ok(Command::ShowSubkeys("/".into())));
        assert_eq!(parse("ls /a"), Ok(Command::ShowSubkeys("/a".into())));
        assert_eq!(parse("show keys /a"), Ok(Command::ShowSubkeys("/a".into())));
        assert_eq!(parse("show subkeys"), Ok(Command::ShowSubkeys("/".into())));
        assert_eq!(parse("show key /k"), Ok(Command::ShowKey("/k".into(), ValueKind::Hex)));
        assert_eq!(
            parse("show key /k as string"),
            Ok(Command::ShowKey("/k".into(), ValueKind::String))
        );
        assert_eq!(
            parse("show memory at 0x10 for 4 bytes"),
            Ok(Command::ShowMemory {
                address: 16,
                len: 4,
                kind: ValueKind::Hex
            })
        );
        assert_eq!(
            parse("show memory at 8 as i64"),
            Ok(Command::ShowMemory {
                address: 8,
                len: 8,
                kind: ValueKind::parse("i64").unwrap()
            })
        );
        assert_eq!(parse("dump function symbols"), Ok(Command::DumpFunctionSymbols));
        assert_eq!(parse("step kernel_run"), Ok(Command::Step(StepKind::KernelRun)));
        assert_eq!(parse("load inputs"), Ok(Command::LoadInputs));
        assert_eq!(
            parse("load inputs from /tmp/a b.json"),
            Ok(Command::LoadInputsFrom("/tmp/a b.json".into()))
        );
        assert_eq!(parse("load kernel k.wasm"), Ok(Command::LoadKernel("k.wasm".into())));
        assert_eq!(parse("reveal preimage"), Ok(Command::RevealPreimage(None)));
        assert_eq!(
            parse("reveal preimage ab"),
            Ok(Command::RevealPreimage(Some("ab".into())))
        );
        assert_eq!(
            parse("reveal preimage of ab"),
            Ok(Command::RevealPreimage(Some("ab".into())))
        );
        assert_eq!(parse("reveal metadata"), Ok(Command::RevealMetadata));
        assert_eq!(
            parse("profile --collapsed --no-reboot --without-time"),
            Ok(Command::Profile(ProfileOptions {
                collapsed: true,
                with_time: false,
                no_reboot: true
            }))
        );
        assert_eq!(
            parse("time step tick"),
            Ok(Command::Time(Box::new(Command::Step(StepKind::Tick))))
        );
        assert_eq!(parse("crosscheck"), Ok(Command::Crosscheck));
        assert_eq!(parse("man"), Ok(Command::Help));
        assert_eq!(parse("stop"), Ok(Command::Stop));
    }

    #[test]
    fn bad_lines() {
        assert_eq!(
            parse("jump").unwrap_err().to_string(),
            "Unknown command `jump`. Type `help` for the list of commands."
        );
        assert!(matches!(parse("show nothing"), Err(CommandError::Unknown(_))));
        assert_eq!(
            parse("step far").unwrap_err().to_string(),
            "usage: step tick|result|kernel_run|inbox"
        );
        assert!(parse("show outbox at level x")
            .unwrap_err()
            .to_string()
            .contains("not a level"));
        assert!(parse("show key /k as float")
            .unwrap_err()
            .to_string()
            .contains("unknown value kind"));
        assert!(parse("show memory at x for 1 bytes")
            .unwrap_err()
            .to_string()
            .contains("not a number"));
        assert!(parse("show memory at 1 as string")
            .unwrap_err()
            .to_string()
            .contains("needs a length"));
        assert!(parse("profile --fast").unwrap_err().to_string().contains("--fast"));
        assert!(parse("time").is_err());
        assert!(matches!(parse("time nothing"), Err(CommandError::Unknown(_))));
        assert!(help_text().contains("crosscheck"));
    }
}
