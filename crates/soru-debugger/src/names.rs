//! The `name` custom section of a WebAssembly module (WebAssembly 2.0,
//! appendix 7.4): the module name and the function names, which
//! `dump function symbols` prints and the profiler uses. soru-wasm's decoder
//! skips custom sections, so they are read here from the kernel's bytes.

use std::collections::BTreeMap;

/// Names found in a module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionNames {
    /// The module name (subsection 0), if any.
    pub module: Option<String>,
    /// Function index (imports first) → name (subsection 1).
    pub functions: BTreeMap<u32, String>,
}

/// A module whose sections or `name` section do not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed module at byte {offset}: {reason}")]
pub struct NameSectionError {
    /// Byte offset in the module.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, reason: &str) -> NameSectionError {
        NameSectionError {
            offset: self.pos,
            reason: reason.to_string(),
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    fn byte(&mut self) -> Result<u8, NameSectionError> {
        if self.pos >= self.end {
            return Err(self.error("unexpected end"));
        }
        self.pos += 1;
        Ok(self.bytes[self.pos - 1])
    }

    fn u32(&mut self) -> Result<u32, NameSectionError> {
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(value).map_err(|_| self.error("integer too large"));
            }
        }
        Err(self.error("integer representation too long"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], NameSectionError> {
        if n > self.end - self.pos {
            return Err(self.error("unexpected end"));
        }
        self.pos += n;
        Ok(&self.bytes[self.pos - n..self.pos])
    }

    fn name(&mut self) -> Result<String, NameSectionError> {
        let len = self.u32()? as usize;
        let start = self.pos;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| NameSectionError {
            offset: start,
            reason: "name is not UTF-8".into(),
        })
    }

    /// A reader over the next `len` bytes; this one skips them.
    fn sub(&mut self, len: usize) -> Result<Reader<'a>, NameSectionError> {
        let start = self.pos;
        self.take(len)?;
        Ok(Reader {
            bytes: self.bytes,
            pos: start,
            end: start + len,
        })
    }
}

/// Reads the `name` section of `module` (the binary format). A module
/// without one gives empty names; later `name` sections add to earlier ones.
pub fn parse_names(module: &[u8]) -> Result<FunctionNames, NameSectionError> {
    let mut r = Reader {
        bytes: module,
        pos: 0,
        end: module.len(),
    };
    if r.take(4)? != b"\0asm" {
        return Err(NameSectionError {
            offset: 0,
            reason: "not a WebAssembly binary (bad magic)".into(),
        });
    }
    if r.take(4)? != [1, 0, 0, 0] {
        return Err(NameSectionError {
            offset: 4,
            reason: "unsupported binary version".into(),
        });
    }
    let mut names = FunctionNames::default();
    while !r.at_end() {
        let id = r.byte()?;
        let size = r.u32()? as usize;
        let mut section = r.sub(size)?;
        if id != 0 {
            continue;
        }
        if section.name()? != "name" {
            continue;
        }
        while !section.at_end() {
            let sub_id = section.byte()?;
            let sub_size = section.u32()? as usize;
            let mut sub = section.sub(sub_size)?;
            match sub_id {
                0 => names.module = Some(sub.name()?),
                1 => {
                    let count = sub.u32()?;
                    for _ in 0..count {
                        let index = sub.u32()?;
                        let name = sub.name()?;
                        names.functions.insert(index, name);
                    }
                }
                // Local names and the extended subsections are not needed.
                _ => {}
            }
        }
    }
    Ok(names)
}

impl FunctionNames {
    /// The listing of `dump function symbols`: ` - func[i] <name>` per
    /// line, Rust symbols demangled (without their hash).
    pub fn listing(&self) -> String {
        let mut out = String::from("Functions:\n");
        for (index, name) in &self.functions {
            out.push_str(&format!(" - func[{index}] <{}>\n", crate::profile::demangle(name)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_module_and_function_names() {
        let wasm = wat::parse_str(
            r#"(module $kern
                 (import "smart_rollup_core" "write_debug" (func $debug (param i32 i32)))
                 (func $helper)
                 (func $kernel_run (export "kernel_run")))"#,
        )
        .unwrap();
        let names = parse_names(&wasm).unwrap();
        assert_eq!(names.module.as_deref(), Some("kern"));
        assert_eq!(names.functions.get(&0).map(String::as_str), Some("debug"));
        assert_eq!(names.functions.get(&1).map(String::as_str), Some("helper"));
        assert_eq!(names.functions.get(&2).map(String::as_str), Some("kernel_run"));
        assert_eq!(
            names.listing(),
            "Functions:\n - func[0] <debug>\n - func[1] <helper>\n - func[2] <kernel_run>\n"
        );
    }

    #[test]
    fn module_without_names_and_malformed_modules() {
        let wasm = wat::parse_str("(module (func))").unwrap();
        // `wat` names nothing here: no name section at all.
        let names = parse_names(&wasm).unwrap();
        assert!(names.functions.is_empty());
        assert_eq!(names.listing(), "Functions:\n");
        assert!(parse_names(b"\0asx\x01\0\0\0").is_err());
        assert!(parse_names(b"\0asm\x02\0\0\0").is_err());
        // A section announcing more bytes than the module has.
        let err = parse_names(b"\0asm\x01\0\0\0\x00\x10\x04name").unwrap_err();
        assert_eq!(err.reason, "unexpected end");
        // A function-names subsection cut short.
        let mut bad = b"\0asm\x01\0\0\0".to_vec();
        let payload = [&[4u8][..], b"name", &[1, 3, 1, 0, 9]].concat();
        bad.push(0);
        bad.push(payload.len() as u8);
        bad.extend_from_slice(&payload);
        assert!(parse_names(&bad).is_err());
    }

    #[test]
    fn echo_kernel_has_a_name_section() {
        let path = format!("{}/../../kernels/wasm/echo.wasm", env!("CARGO_MANIFEST_DIR"));
        let names = parse_names(&std::fs::read(path).unwrap()).unwrap();
        assert!(names.functions.values().any(|n| n == "kernel_run"), "{names:?}");
        let listing = names.listing();
        assert!(
            listing.contains("<tezos_smart_rollup_core::smart_rollup_core::read_input>"),
            "{listing}"
        );
    }
}
