//! Where command lines come from — a script (`--commands FILE`), a pipe
//! (standard input that is not a terminal) or a terminal with line editing
//! and history — and the loop that runs them.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use crate::error::DebuggerError;
use crate::session::{Flow, Session};

/// A source of lines: commands, and answers when the debugger asks for a
/// preimage.
pub trait LineSource {
    /// The next line without its end of line, `None` at the end of input.
    fn read_line(&mut self, prompt: &str) -> std::io::Result<Option<String>>;

    /// Whether the debugger prints the lines it reads (`> line`), so that a
    /// non-interactive transcript shows them as a terminal would.
    fn echoes(&self) -> bool;
}

/// Lines given in advance: a commands file, or a test's script. Lines
/// starting with `#` are comments.
#[derive(Debug, Clone, Default)]
pub struct ScriptLines {
    lines: VecDeque<String>,
}

impl ScriptLines {
    /// From text: a JSON array of strings, or one line per command.
    pub fn new(text: &str) -> Self {
        let lines: Vec<String> = match serde_json::from_str::<Vec<String>>(text) {
            Ok(list) => list,
            Err(_) => text.lines().map(str::to_string).collect(),
        };
        Self {
            lines: lines.into_iter().filter(|l| !l.trim_start().starts_with('#')).collect(),
        }
    }

    /// From a file.
    pub fn from_file(path: &Path) -> Result<Self, DebuggerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DebuggerError::Option(format!("cannot read commands {}: {e}", path.display())))?;
        Ok(Self::new(&text))
    }
}

impl LineSource for ScriptLines {
    fn read_line(&mut self, _prompt: &str) -> std::io::Result<Option<String>> {
        Ok(self.lines.pop_front())
    }

    fn echoes(&self) -> bool {
        true
    }
}

/// Lines read from a pipe or file as they come (standard input that is not
/// a terminal). Lines starting with `#` are comments.
#[derive(Debug)]
pub struct ReaderLines<R> {
    reader: R,
}

impl<R: BufRead> ReaderLines<R> {
    /// Reads lines from `reader`.
    pub fn new(reader: R) -> Self {
        Self { reader }
    }
}

impl<R: BufRead> LineSource for ReaderLines<R> {
    fn read_line(&mut self, _prompt: &str) -> std::io::Result<Option<String>> {
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Ok(None);
            }
            let line = line.trim_end_matches(['\n', '\r']);
            if !line.trim_start().starts_with('#') {
                return Ok(Some(line.to_string()));
            }
        }
    }

    fn echoes(&self) -> bool {
        true
    }
}

/// A terminal: line editing and history (kept in `~/.soru_debugger_history`).
pub struct Terminal {
    editor: rustyline::DefaultEditor,
    history: Option<PathBuf>,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal").field("history", &self.history).finish()
    }
}

impl Terminal {
    /// Opens the terminal and loads the history.
    pub fn new() -> std::io::Result<Self> {
        let mut editor = rustyline::DefaultEditor::new().map_err(std::io::Error::other)?;
        let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".soru_debugger_history"));
        if let Some(path) = &history {
            // A missing history file is normal on first use.
            let _ = editor.load_history(path);
        }
        Ok(Self { editor, history })
    }

    /// Saves the history.
    pub fn save_history(&mut self) {
        if let Some(path) = &self.history {
            let _ = self.editor.save_history(path);
        }
    }
}

impl LineSource for Terminal {
    fn read_line(&mut self, prompt: &str) -> std::io::Result<Option<String>> {
        match self.editor.readline(prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = self.editor.add_history_entry(line.as_str());
                }
                Ok(Some(line))
            }
            // Ctrl-C abandons the line being typed.
            Err(rustyline::error::ReadlineError::Interrupted) => Ok(Some(String::new())),
            Err(rustyline::error::ReadlineError::Eof) => Ok(None),
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    fn echoes(&self) -> bool {
        false
    }
}

/// What a session did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Commands run.
    pub commands: usize,
    /// Commands that failed (each reported as `Error: …`).
    pub failed: usize,
}

/// Runs commands from `input` until `stop` or the end of input, printing
/// to `out`. A failing command prints `Error: …` and the session goes on;
/// only an input/output error ends it early.
pub fn run(session: &mut Session, input: &mut dyn LineSource, out: &mut dyn Write) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    while let Some(line) = input.read_line("> ")? {
        if input.echoes() {
            writeln!(out, "> {line}")?;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        summary.commands += 1;
        match session.execute_line(line, out, input) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => break,
            Err(DebuggerError::Io(e)) => return Err(e),
            Err(e) => {
                summary.failed += 1;
                writeln!(out, "Error: {e}")?;
            }
        }
        out.flush()?;
    }
    out.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_as_lines_or_json() {
        let mut s = ScriptLines::new("show status\n# a comment\n\nstep tick\n");
        assert_eq!(s.read_line("> ").unwrap().as_deref(), Some("show status"));
        assert_eq!(s.read_line("> ").unwrap().as_deref(), Some(""));
        assert_eq!(s.read_line("> ").unwrap().as_deref(), Some("step tick"));
        assert_eq!(s.read_line("> ").unwrap(), None);
        let mut j = ScriptLines::new(r#"["load inputs", "step inbox"]"#);
        assert_eq!(j.read_line("> ").unwrap().as_deref(), Some("load inputs"));
        assert_eq!(j.read_line("> ").unwrap().as_deref(), Some("step inbox"));
        assert!(j.echoes());
        let mut r = ReaderLines::new(std::io::Cursor::new("a\r\n# c\nb"));
        assert_eq!(r.read_line("> ").unwrap().as_deref(), Some("a"));
        assert_eq!(r.read_line("> ").unwrap().as_deref(), Some("b"));
        assert_eq!(r.read_line("> ").unwrap(), None);
    }
}
