//! The resumable decoder and validator.
//!
//! [`Decoder`] is a small-step machine whose whole state is data: where it
//! is in the input, which section and item it is in, and, inside a function
//! body, the validator's control stack and operand-type stack. Each call to
//! [`Decoder::step`] does one bounded unit of work (one section header, one
//! import, one instruction, one slice of a data segment, …) so the PVM can
//! spread decoding a multi-megabyte kernel over many ticks. Validation is
//! done in the same pass and is complete: an invalid module is rejected,
//! never executed.
//!
//! Two modes differ only in the float gate: [`Mode::Pvm`] rejects any `f32`
//! or `f64` type or float instruction with [`DecodeError::FloatsForbidden`];
//! [`Mode::Conformance`] accepts them (used to run the spec suite).

use std::collections::BTreeSet;

use crate::code::Op;
use crate::limits;
use crate::types::*;

/// Decoding mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// No floats: the PVM's mode.
    Pvm,
    /// Floats allowed: for the spec suite only.
    Conformance,
}

/// Why a module was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not well-formed binary (the spec's "malformed").
    #[error("malformed module at byte {offset}: {message}")]
    Malformed {
        /// Byte offset.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// Well-formed but not valid (the spec's "invalid").
    #[error("invalid module at byte {offset}: {message}")]
    Invalid {
        /// Byte offset.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// A float type or instruction in PVM mode.
    #[error("floating-point types and instructions are not allowed in kernels (byte {offset}: {what})")]
    FloatsForbidden {
        /// Byte offset.
        offset: usize,
        /// The type or instruction.
        what: String,
    },
    /// SIMD (`v128`) is not supported.
    #[error("SIMD (v128) is not supported (byte {offset})")]
    SimdUnsupported {
        /// Byte offset.
        offset: usize,
    },
    /// The module exceeds one of soru's implementation limits.
    #[error("implementation limit exceeded at byte {offset}: {message}")]
    Limit {
        /// Byte offset.
        offset: usize,
        /// Which limit.
        message: String,
    },
    /// A restored decoder state is inconsistent: no decoding reaches it
    /// (it came from a corrupt or forged snapshot, not from a module).
    #[error("inconsistent decoder state: {0}")]
    CorruptState(&'static str),
}

type Result<T> = std::result::Result<T, DecodeError>;

/// What a step achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// More steps are needed.
    Continue,
    /// The module is decoded and valid; take it with [`Decoder::finish`].
    Done,
}

/// Input reader with the LEB128 rules of the binary format.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    fn malformed(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::Malformed {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn u8(&mut self) -> Result<u8> {
        if self.pos >= self.end {
            return Err(self.malformed("unexpected end"));
        }
        let b = self.data[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.end - self.pos {
            return Err(self.malformed("unexpected end"));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn leb_unsigned(&mut self, bits: u32) -> Result<u64> {
        let mut result: u64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.u8()?;
            let payload = u64::from(byte & 0x7f);
            if shift + 7 >= bits && shift < 64 {
                // Last permitted byte: the unused high bits must be zero.
                let used = bits - shift;
                if used < 7 && (payload >> used) != 0 {
                    return Err(self.malformed("integer too large"));
                }
                if byte & 0x80 != 0 {
                    return Err(self.malformed("integer representation too long"));
                }
                return Ok(result | (payload << shift));
            }
            result |= payload << shift;
            if byte & 0x80 == 0 {
                return Ok(result);
            }
            shift += 7;
        }
    }

    fn leb_signed(&mut self, bits: u32) -> Result<i64> {
        let mut result: i64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.u8()?;
            let payload = i64::from(byte & 0x7f);
            if shift + 7 >= bits {
                if byte & 0x80 != 0 {
                    return Err(self.malformed("integer representation too long"));
                }
                // The bits beyond `bits` must all equal the sign bit.
                let used = bits - shift; // 1..=7 bits of payload are significant
                if used < 7 {
                    let sign_and_unused = payload >> (used - 1);
                    let all_ones = (1i64 << (8 - used)) - 1;
                    if sign_and_unused != 0 && sign_and_unused != all_ones {
                        return Err(self.malformed("integer too large"));
                    }
                }
                result |= payload << shift;
                let total = shift + 7;
                if total < 64 {
                    result = (result << (64 - total)) >> (64 - total);
                }
                return Ok(result);
            }
            result |= payload << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 {
                    result = (result << (64 - shift)) >> (64 - shift);
                }
                return Ok(result);
            }
        }
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(self.leb_unsigned(32)? as u32)
    }

    fn s32(&mut self) -> Result<i32> {
        Ok(self.leb_signed(32)? as i32)
    }

    fn s33(&mut self) -> Result<i64> {
        self.leb_signed(33)
    }

    fn s64(&mut self) -> Result<i64> {
        self.leb_signed(64)
    }

    fn name(&mut self) -> Result<String> {
        let len = self.u32()? as usize;
        if len > limits::MAX_NAME_BYTES {
            return Err(DecodeError::Limit {
                offset: self.pos,
                message: format!("name of {len} bytes"),
            });
        }
        let bytes = self.bytes(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed("malformed UTF-8 encoding"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum CtrlKind {
    Block,
    Loop,
    If,
    Else,
    Function,
}

/// A validator control frame, with the code-generation data of its label.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Ctrl {
    kind: CtrlKind,
    params: Vec<ValType>,
    results: Vec<ValType>,
    height: usize,
    unreachable: bool,
    /// Loop: the pc branches jump to.
    loop_pc: u32,
    /// Forward branches to patch with the end pc.
    fixups: Vec<u32>,
    /// `if`: the conditional jump to patch with the else/end pc.
    else_fixup: Option<u32>,
}

/// The validator state of the function body being decoded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Body {
    end: usize,
    func_index: u32,
    locals: Vec<ValType>,
    num_params: u32,
    stack: Vec<Option<ValType>>,
    ctrls: Vec<Ctrl>,
    max_height: usize,
    start_pc: u32,
    /// Local declarations still to read.
    local_groups_left: u32,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Phase {
    Header,
    SectionHeader,
    /// Reading the items of a section.
    Items {
        id: u8,
        end: usize,
        remaining: u32,
    },
    /// Copying a data segment's bytes, one slice per step.
    DataBytes {
        end: usize,
        remaining_segments: u32,
        left: usize,
    },
    /// Reading an element segment's items, a few per step.
    ElemItems {
        end: usize,
        remaining_segments: u32,
        left: u32,
        exprs: bool,
    },
    /// Inside a function body.
    Code {
        section_end: usize,
        remaining: u32,
        body: Box<Body>,
    },
    /// Reading the entries of a `br_table`, a few per step.
    BrTable {
        section_end: usize,
        remaining: u32,
        body: Box<Body>,
        left: u32,
        arity: Option<usize>,
        default_pending: bool,
    },
    Finished,
}

/// Bytes of a data segment copied per step, entries of an element segment
/// or `br_table` read per step, local declarations read per step.
const SLICE_BYTES: usize = 4096;
const SLICE_ENTRIES: u32 = 64;

/// The resumable decoder. See the module documentation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Decoder {
    mode: Mode,
    pos: usize,
    phase: Phase,
    last_section: u8,
    module: Module,
    declared_funcs: u32,
    data_count: Option<u32>,
    /// Functions referable by `ref.func` in code (C.refs).
    refs: BTreeSet<u32>,
    export_names: BTreeSet<String>,
    code_seen: bool,
    data_seen: bool,
}

fn is_num(t: ValType) -> bool {
    !t.is_ref()
}

impl Decoder {
    /// A decoder at the start of a module.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            pos: 0,
            phase: Phase::Header,
            last_section: 0,
            module: Module::default(),
            declared_funcs: 0,
            data_count: None,
            refs: BTreeSet::new(),
            export_names: BTreeSet::new(),
            code_seen: false,
            data_seen: false,
        }
    }

    /// Decodes and validates a whole module in one call.
    pub fn decode(mode: Mode, bytes: &[u8]) -> Result<Module> {
        let mut decoder = Self::new(mode);
        while decoder.step(bytes)? == Progress::Continue {}
        Ok(decoder.finish())
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The decoded module (call after [`Progress::Done`]).
    pub fn finish(self) -> Module {
        self.module
    }

    fn invalid(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::Invalid {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn limit(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::Limit {
            offset: self.pos,
            message: message.into(),
        }
    }

    /// Does one bounded unit of work on `input` (the whole module; the
    /// decoder remembers its position).
    pub fn step(&mut self, input: &[u8]) -> Result<Progress> {
        let phase = std::mem::replace(&mut self.phase, Phase::Finished);
        let mut c = Cursor {
            data: input,
            pos: self.pos,
            end: input.len(),
        };
        let result = self.unit(&mut c, phase);
        self.pos = c.pos;
        match result {
            Ok(next) => {
                let done = matches!(next, Phase::Finished);
                self.phase = next;
                Ok(if done { Progress::Done } else { Progress::Continue })
            }
            Err(e) => {
                self.phase = Phase::Finished;
                Err(e)
            }
        }
    }

    fn unit(&mut self, c: &mut Cursor<'_>, phase: Phase) -> Result<Phase> {
        match phase {
            Phase::Header => {
                let magic = c.bytes(4).map_err(|_| c.malformed("unexpected end: magic header"))?;
                if magic != b"\0asm" {
                    return Err(c.malformed("magic header not detected"));
                }
                let version = c.bytes(4).map_err(|_| c.malformed("unexpected end: version"))?;
                if version != [1, 0, 0, 0] {
                    return Err(c.malformed("unknown binary version"));
                }
                Ok(Phase::SectionHeader)
            }
            Phase::SectionHeader => self.section_header(c),
            Phase::Items { id, end, remaining } => {
                c.end = end;
                if remaining == 0 {
                    return self.section_done(c, id, end);
                }
                self.item(c, id, end, remaining)
            }
            Phase::DataBytes {
                end,
                remaining_segments,
                left,
            } => {
                c.end = end;
                let n = left.min(SLICE_BYTES);
                let bytes = c.bytes(n)?;
                let seg = self.module.datas.last_mut().expect("a data segment is being read");
                seg.bytes.extend_from_slice(bytes);
                if left > n {
                    Ok(Phase::DataBytes {
                        end,
                        remaining_segments,
                        left: left - n,
                    })
                } else {
                    Ok(Phase::Items {
                        id: 11,
                        end,
                        remaining: remaining_segments,
                    })
                }
            }
            Phase::ElemItems {
                end,
                remaining_segments,
                left,
                exprs,
            } => {
                c.end = end;
                let n = left.min(SLICE_ENTRIES);
                for _ in 0..n {
                    let ty = self.module.elems.last().expect("an element segment is being read").ty;
                    let item = if exprs {
                        let expr = self.const_expr(c)?;
                        let t = self.const_type(&expr);
                        if t != ty {
                            return Err(self.invalid("type mismatch in element expression"));
                        }
                        expr
                    } else {
                        let f = c.u32()?;
                        if f as usize >= self.module.func_types.len() {
                            return Err(self.invalid(format!("unknown function {f}")));
                        }
                        ConstExpr::RefFunc(f)
                    };
                    if let ConstExpr::RefFunc(f) = item {
                        self.refs.insert(f);
                    }
                    self.module.elems.last_mut().expect("segment").items.push(item);
                }
                if left > n {
                    Ok(Phase::ElemItems {
                        end,
                        remaining_segments,
                        left: left - n,
                        exprs,
                    })
                } else {
                    Ok(Phase::Items {
                        id: 9,
                        end,
                        remaining: remaining_segments,
                    })
                }
            }
            Phase::Code {
                section_end,
                remaining,
                mut body,
            } => {
                c.end = body.end;
                if body.local_groups_left > 0 {
                    self.local_groups(c, &mut body)?;
                    return Ok(Phase::Code {
                        section_end,
                        remaining,
                        body,
                    });
                }
                self.instruction(c, section_end, remaining, body)
            }
            Phase::BrTable {
                section_end,
                remaining,
                body,
                left,
                arity,
                default_pending,
            } => {
                c.end = body.end;
                self.br_table_entries(c, section_end, remaining, body, left, arity, default_pending)
            }
            Phase::Finished => Err(c.malformed("decoder already finished")),
        }
    }

    fn section_header(&mut self, c: &mut Cursor<'_>) -> Result<Phase> {
        if c.pos == c.end {
            return self.finish_module(c);
        }
        let id = c.u8()?;
        let size = c.u32()? as usize;
        if size > c.end - c.pos {
            return Err(c.malformed("section size mismatch: unexpected end"));
        }
        let end = c.pos + size;
        if id == 0 {
            // Custom section: the name must be valid UTF-8; the rest is skipped.
            c.end = end;
            c.name()?;
            c.pos = end;
            return Ok(Phase::SectionHeader);
        }
        // Order: type 1, import 2, function 3, table 4, memory 5, global 6,
        // export 7, start 8, element 9, datacount 12, code 10, data 11.
        let rank = |s: u8| match s {
            1..=9 => s,
            12 => 10,
            10 => 11,
            11 => 12,
            _ => 0,
        };
        if id > 12 {
            return Err(c.malformed(format!("malformed section id {id}")));
        }
        if rank(id) <= rank(self.last_section) {
            return Err(c.malformed("unexpected content after last section / junk after last section"));
        }
        self.last_section = id;
        c.end = end;
        let remaining = match id {
            8 => {
                let f = c.u32()?;
                if f as usize >= self.module.func_types.len() {
                    return Err(self.invalid(format!("unknown function {f}")));
                }
                let ty = self.module.func_type(f);
                if !ty.params.is_empty() || !ty.results.is_empty() {
                    return Err(self.invalid("start function must have type [] -> []"));
                }
                self.module.start = Some(f);
                return self.section_done(c, id, end);
            }
            12 => {
                self.data_count = Some(c.u32()?);
                return self.section_done(c, id, end);
            }
            _ => c.u32()?,
        };
        if id == 10 {
            self.code_seen = true;
            if remaining != self.declared_funcs {
                return Err(c.malformed("function and code section have inconsistent lengths"));
            }
        }
        if id == 11 {
            self.data_seen = true;
            if let Some(n) = self.data_count {
                if n != remaining {
                    return Err(c.malformed("data count and data section have inconsistent lengths"));
                }
            }
        }
        Ok(Phase::Items { id, end, remaining })
    }

    fn section_done(&mut self, c: &mut Cursor<'_>, id: u8, end: usize) -> Result<Phase> {
        if c.pos != end {
            return Err(c.malformed("section size mismatch"));
        }
        let _ = id;
        c.end = c.data.len();
        Ok(Phase::SectionHeader)
    }

    fn finish_module(&mut self, c: &mut Cursor<'_>) -> Result<Phase> {
        if !self.code_seen && self.declared_funcs > 0 {
            return Err(c.malformed("function and code section have inconsistent lengths"));
        }
        if let Some(n) = self.data_count {
            if !self.data_seen && n > 0 {
                return Err(c.malformed("data count and data section have inconsistent lengths"));
            }
        }
        Ok(Phase::Finished)
    }

    fn valtype(&self, c: &mut Cursor<'_>) -> Result<ValType> {
        let at = c.pos;
        let t = match c.u8()? {
            0x7f => ValType::I32,
            0x7e => ValType::I64,
            0x7d => ValType::F32,
            0x7c => ValType::F64,
            0x70 => ValType::FuncRef,
            0x6f => ValType::ExternRef,
            0x7b => return Err(DecodeError::SimdUnsupported { offset: at }),
            b => {
                return Err(DecodeError::Malformed {
                    offset: at,
                    message: format!("malformed value type {b:#04x}"),
                })
            }
        };
        self.float_gate_type(at, t)?;
        Ok(t)
    }

    fn float_gate_type(&self, offset: usize, t: ValType) -> Result<()> {
        if self.mode == Mode::Pvm && t.is_float() {
            return Err(DecodeError::FloatsForbidden {
                offset,
                what: format!("{t:?} type"),
            });
        }
        Ok(())
    }

    fn reftype(&self, c: &mut Cursor<'_>) -> Result<ValType> {
        match c.u8()? {
            0x70 => Ok(ValType::FuncRef),
            0x6f => Ok(ValType::ExternRef),
            _ => Err(c.malformed("malformed reference type")),
        }
    }

    fn limits(&self, c: &mut Cursor<'_>, bound: u64, what: &str) -> Result<Limits> {
        let flag = c.u8()?;
        let (min, max) = match flag {
            0x00 => (c.leb_unsigned(32)?, None),
            0x01 => (c.leb_unsigned(32)?, Some(c.leb_unsigned(32)?)),
            _ => return Err(c.malformed("integer too large: malformed limits flags")),
        };
        if min > bound || max.is_some_and(|m| m > bound) {
            return Err(self.invalid(format!("{what} size must be at most {bound}")));
        }
        if let Some(m) = max {
            if min > m {
                return Err(self.invalid("size minimum must not be greater than maximum"));
            }
        }
        Ok(Limits {
            min: min as u32,
            max: max.map(|m| m as u32),
        })
    }

    fn table_type(&self, c: &mut Cursor<'_>) -> Result<TableType> {
        let elem = self.reftype(c)?;
        let limits = self.limits(c, u64::from(u32::MAX), "table")?;
        Ok(TableType { elem, limits })
    }

    fn memory_type(&self, c: &mut Cursor<'_>) -> Result<MemoryType> {
        let limits = self.limits(c, limits::MAX_MEMORY_PAGES, "memory")?;
        Ok(MemoryType { limits })
    }

    fn global_type(&self, c: &mut Cursor<'_>) -> Result<GlobalType> {
        let ty = self.valtype(c)?;
        let mutable = match c.u8()? {
            0 => false,
            1 => true,
            _ => return Err(c.malformed("malformed mutability")),
        };
        Ok(GlobalType { ty, mutable })
    }

    fn block_type(&self, c: &mut Cursor<'_>) -> Result<(Vec<ValType>, Vec<ValType>)> {
        let at = c.pos;
        let b = *c.data.get(c.pos).ok_or_else(|| c.malformed("unexpected end"))?;
        if b == 0x40 {
            c.pos += 1;
            return Ok((vec![], vec![]));
        }
        if matches!(b, 0x7f | 0x7e | 0x7d | 0x7c | 0x70 | 0x6f | 0x7b) {
            let t = self.valtype(c)?;
            return Ok((vec![], vec![t]));
        }
        let index = c.s33()?;
        if index < 0 || index as usize >= self.module.types.len() {
            return Err(DecodeError::Invalid {
                offset: at,
                message: format!("unknown type {index}"),
            });
        }
        let ty = &self.module.types[index as usize];
        Ok((ty.params.clone(), ty.results.clone()))
    }

    /// A constant expression (one instruction and `end`).
    fn const_expr(&self, c: &mut Cursor<'_>) -> Result<ConstExpr> {
        let at = c.pos;
        let op = c.u8()?;
        let expr = match op {
            0x41 => ConstExpr::I32(c.s32()?),
            0x42 => ConstExpr::I64(c.s64()?),
            0x43 => {
                self.float_gate_op(at, "f32.const")?;
                ConstExpr::F32(u32::from_le_bytes(c.bytes(4)?.try_into().expect("4 bytes")))
            }
            0x44 => {
                self.float_gate_op(at, "f64.const")?;
                ConstExpr::F64(u64::from_le_bytes(c.bytes(8)?.try_into().expect("8 bytes")))
            }
            0xd0 => ConstExpr::RefNull(self.reftype(c)?),
            0xd2 => {
                let f = c.u32()?;
                if f as usize >= self.module.func_types.len() {
                    return Err(self.invalid(format!("unknown function {f}")));
                }
                ConstExpr::RefFunc(f)
            }
            0x23 => {
                let g = c.u32()?;
                if g >= self.module.num_imported_globals {
                    return Err(self.invalid(format!("unknown global {g}")));
                }
                if self.module.globals[g as usize].mutable {
                    return Err(self.invalid("constant expression required"));
                }
                ConstExpr::GlobalGet(g)
            }
            0x0b => return Err(self.invalid("type mismatch: empty constant expression")),
            _ => {
                // Distinguish non-constant instructions (invalid) from garbage.
                return Err(self.invalid("constant expression required"));
            }
        };
        match c.u8()? {
            0x0b => Ok(expr),
            _ => Err(self.invalid("constant expression required")),
        }
    }

    fn const_type(&self, e: &ConstExpr) -> ValType {
        match e {
            ConstExpr::I32(_) => ValType::I32,
            ConstExpr::I64(_) => ValType::I64,
            ConstExpr::F32(_) => ValType::F32,
            ConstExpr::F64(_) => ValType::F64,
            ConstExpr::RefNull(t) => *t,
            ConstExpr::RefFunc(_) => ValType::FuncRef,
            ConstExpr::GlobalGet(g) => self.module.globals[*g as usize].ty,
        }
    }

    fn float_gate_op(&self, offset: usize, what: &str) -> Result<()> {
        if self.mode == Mode::Pvm {
            return Err(DecodeError::FloatsForbidden {
                offset,
                what: what.to_string(),
            });
        }
        Ok(())
    }

    fn item(&mut self, c: &mut Cursor<'_>, id: u8, end: usize, remaining: u32) -> Result<Phase> {
        let next = Phase::Items {
            id,
            end,
            remaining: remaining - 1,
        };
        match id {
            1 => {
                if self.module.types.len() >= limits::MAX_TYPES {
                    return Err(self.limit("too many types"));
                }
                if c.u8()? != 0x60 {
                    return Err(c.malformed("integer representation too long: malformed function type"));
                }
                let params = self.valtypes(c, limits::MAX_PARAMS, "parameters")?;
                let results = self.valtypes(c, limits::MAX_RESULTS, "results")?;
                self.module.types.push(FuncType { params, results });
            }
            2 => {
                let module = c.name()?;
                let name = c.name()?;
                let kind = match c.u8()? {
                    0x00 => {
                        let t = c.u32()?;
                        if t as usize >= self.module.types.len() {
                            return Err(self.invalid(format!("unknown type {t}")));
                        }
                        if self.module.func_types.len() >= limits::MAX_FUNCTIONS {
                            return Err(self.limit("too many functions"));
                        }
                        self.module.func_types.push(t);
                        self.module.num_imported_funcs += 1;
                        ExternKind::Func(t)
                    }
                    0x01 => {
                        let t = self.table_type(c)?;
                        self.module.tables.push(t);
                        self.module.num_imported_tables += 1;
                        ExternKind::Table(t)
                    }
                    0x02 => {
                        let t = self.memory_type(c)?;
                        self.module.memories.push(t);
                        self.module.num_imported_memories += 1;
                        if self.module.memories.len() > 1 {
                            return Err(self.invalid("multiple memories"));
                        }
                        ExternKind::Memory(t)
                    }
                    0x03 => {
                        let t = self.global_type(c)?;
                        self.module.globals.push(t);
                        self.module.num_imported_globals += 1;
                        ExternKind::Global(t)
                    }
                    _ => return Err(c.malformed("malformed import kind")),
                };
                self.module.imports.push(Import { module, name, kind });
            }
            3 => {
                let t = c.u32()?;
                if t as usize >= self.module.types.len() {
                    return Err(self.invalid(format!("unknown type {t}")));
                }
                if self.module.func_types.len() >= limits::MAX_FUNCTIONS {
                    return Err(self.limit("too many functions"));
                }
                self.module.func_types.push(t);
                self.declared_funcs += 1;
            }
            4 => {
                let t = self.table_type(c)?;
                if self.module.tables.len() >= limits::MAX_TABLES {
                    return Err(self.limit("too many tables"));
                }
                self.module.tables.push(t);
            }
            5 => {
                let t = self.memory_type(c)?;
                self.module.memories.push(t);
                if self.module.memories.len() > 1 {
                    return Err(self.invalid("multiple memories"));
                }
            }
            6 => {
                let t = self.global_type(c)?;
                let init = self.const_expr(c)?;
                if self.const_type(&init) != t.ty {
                    return Err(self.invalid("type mismatch in global initializer"));
                }
                if let ConstExpr::RefFunc(f) = init {
                    self.refs.insert(f);
                }
                if self.module.globals.len() >= limits::MAX_GLOBALS {
                    return Err(self.limit("too many globals"));
                }
                self.module.globals.push(t);
                self.module.global_inits.push(init);
            }
            7 => {
                let name = c.name()?;
                let kind = match c.u8()? {
                    0 => ExportKind::Func,
                    1 => ExportKind::Table,
                    2 => ExportKind::Memory,
                    3 => ExportKind::Global,
                    _ => return Err(c.malformed("malformed export kind")),
                };
                let index = c.u32()?;
                let bound = match kind {
                    ExportKind::Func => self.module.func_types.len(),
                    ExportKind::Table => self.module.tables.len(),
                    ExportKind::Memory => self.module.memories.len(),
                    ExportKind::Global => self.module.globals.len(),
                };
                if index as usize >= bound {
                    return Err(self.invalid(format!("unknown {kind:?} {index}")));
                }
                if kind == ExportKind::Func {
                    self.refs.insert(index);
                }
                if !self.export_names.insert(name.clone()) {
                    return Err(self.invalid("duplicate export name"));
                }
                self.module.exports.push(Export { name, kind, index });
            }
            9 => return self.elem_segment(c, end, remaining - 1),
            10 => return self.body_start(c, end, remaining - 1),
            11 => return self.data_segment(c, end, remaining - 1),
            _ => return Err(c.malformed(format!("malformed section id {id}"))),
        }
        Ok(next)
    }

    fn valtypes(&self, c: &mut Cursor<'_>, max: usize, what: &str) -> Result<Vec<ValType>> {
        let n = c.u32()? as usize;
        if n > max {
            return Err(self.limit(format!("too many {what}: {n} > {max}")));
        }
        (0..n).map(|_| self.valtype(c)).collect()
    }

    fn elem_segment(&mut self, c: &mut Cursor<'_>, end: usize, remaining_segments: u32) -> Result<Phase> {
        let flags = c.u32()?;
        if flags > 7 {
            return Err(c.malformed("malformed elements segment kind"));
        }
        let passive_or_declarative = flags & 1 != 0;
        let explicit_table = flags & 2 != 0;
        let exprs = flags & 4 != 0;
        let mode = if passive_or_declarative {
            if explicit_table {
                SegmentMode::Declarative
            } else {
                SegmentMode::Passive
            }
        } else {
            let index = if explicit_table { c.u32()? } else { 0 };
            if index as usize >= self.module.tables.len() {
                return Err(self.invalid(format!("unknown table {index}")));
            }
            let offset = self.const_expr(c)?;
            if self.const_type(&offset) != ValType::I32 {
                return Err(self.invalid("type mismatch in element offset"));
            }
            SegmentMode::Active { index, offset }
        };
        let ty = if flags & 3 == 0 {
            ValType::FuncRef
        } else if exprs {
            self.reftype(c)?
        } else {
            if c.u8()? != 0x00 {
                return Err(c.malformed("malformed element kind"));
            }
            ValType::FuncRef
        };
        if let SegmentMode::Active { index, .. } = mode {
            if self.module.tables[index as usize].elem != ty {
                return Err(self.invalid("type mismatch: element segment and table"));
            }
        }
        let count = c.u32()?;
        if count as usize > limits::MAX_SEGMENT_ITEMS {
            return Err(self.limit("element segment too long"));
        }
        if self.module.elems.len() >= limits::MAX_SEGMENTS {
            return Err(self.limit("too many element segments"));
        }
        self.module.elems.push(ElemSegment {
            mode,
            ty,
            items: Vec::new(),
        });
        Ok(Phase::ElemItems {
            end,
            remaining_segments,
            left: count,
            exprs,
        })
    }

    fn data_segment(&mut self, c: &mut Cursor<'_>, end: usize, remaining_segments: u32) -> Result<Phase> {
        let flags = c.u32()?;
        let mode = match flags {
            1 => SegmentMode::Passive,
            0 | 2 => {
                let index = if flags == 2 { c.u32()? } else { 0 };
                if index as usize >= self.module.memories.len() {
                    return Err(self.invalid(format!("unknown memory {index}")));
                }
                let offset = self.const_expr(c)?;
                if self.const_type(&offset) != ValType::I32 {
                    return Err(self.invalid("type mismatch in data offset"));
                }
                SegmentMode::Active { index, offset }
            }
            _ => return Err(c.malformed("malformed data segment kind")),
        };
        let len = c.u32()? as usize;
        if len > limits::MAX_DATA_SEGMENT_BYTES {
            return Err(self.limit("data segment too large"));
        }
        if len > c.end - c.pos {
            return Err(c.malformed("unexpected end of section or function"));
        }
        if self.module.datas.len() >= limits::MAX_SEGMENTS {
            return Err(self.limit("too many data segments"));
        }
        self.module.datas.push(DataSegment {
            mode,
            bytes: Vec::with_capacity(len.min(SLICE_BYTES)),
        });
        if len == 0 {
            return Ok(Phase::Items {
                id: 11,
                end,
                remaining: remaining_segments,
            });
        }
        Ok(Phase::DataBytes {
            end,
            remaining_segments,
            left: len,
        })
    }

    fn body_start(&mut self, c: &mut Cursor<'_>, section_end: usize, remaining: u32) -> Result<Phase> {
        let size = c.u32()? as usize;
        if size > c.end - c.pos {
            return Err(c.malformed("unexpected end of section or function"));
        }
        if size > limits::MAX_BODY_BYTES {
            return Err(self.limit("function body too large"));
        }
        let end = c.pos + size;
        let func_index = self.module.num_imported_funcs + self.module.bodies.len() as u32;
        let type_index = self.module.func_types[func_index as usize];
        let ty = self.module.types[type_index as usize].clone();
        c.end = end;
        let groups = c.u32()?;
        let start_pc = self.module.code.len() as u32;
        let body = Body {
            end,
            func_index,
            num_params: ty.params.len() as u32,
            locals: ty.params.clone(),
            stack: Vec::new(),
            ctrls: vec![Ctrl {
                kind: CtrlKind::Function,
                params: vec![],
                results: ty.results.clone(),
                height: 0,
                unreachable: false,
                loop_pc: 0,
                fixups: vec![],
                else_fixup: None,
            }],
            max_height: 0,
            start_pc,
            local_groups_left: groups,
        };
        self.module.bodies.push(FuncBody {
            type_index,
            start: start_pc,
            num_locals: 0,
            max_height: 0,
        });
        Ok(Phase::Code {
            section_end,
            remaining,
            body: Box::new(body),
        })
    }

    fn local_groups(&mut self, c: &mut Cursor<'_>, body: &mut Body) -> Result<()> {
        let n = body.local_groups_left.min(SLICE_ENTRIES);
        for _ in 0..n {
            let count = c.u32()?;
            let t = self.valtype(c)?;
            let total = body.locals.len() as u64 + u64::from(count);
            if total > u64::from(u32::MAX) {
                return Err(c.malformed("too many locals"));
            }
            if total > limits::MAX_LOCALS as u64 {
                return Err(self.limit(format!("too many locals: {total} > {}", limits::MAX_LOCALS)));
            }
            body.locals.extend(std::iter::repeat_n(t, count as usize));
        }
        body.local_groups_left -= n;
        if body.local_groups_left == 0 {
            let f = self.module.bodies.last_mut().expect("body");
            f.num_locals = body.locals.len() as u32 - body.num_params;
        }
        Ok(())
    }

    // ---- validator operand stack

    fn push(body: &mut Body, t: Option<ValType>) {
        body.stack.push(t);
        body.max_height = body.max_height.max(body.stack.len());
    }

    fn pop(&self, body: &mut Body) -> Result<Option<ValType>> {
        let ctrl = body.ctrls.last().expect("a control frame");
        if body.stack.len() == ctrl.height {
            if ctrl.unreachable {
                return Ok(None);
            }
            return Err(self.invalid("type mismatch: operand stack underflow"));
        }
        Ok(body.stack.pop().expect("checked non-empty"))
    }

    fn pop_expect(&self, body: &mut Body, expected: ValType) -> Result<()> {
        match self.pop(body)? {
            Some(t) if t != expected => Err(self.invalid(format!("type mismatch: expected {expected:?}, got {t:?}"))),
            _ => Ok(()),
        }
    }

    fn pop_many(&self, body: &mut Body, types: &[ValType]) -> Result<()> {
        for &t in types.iter().rev() {
            self.pop_expect(body, t)?;
        }
        Ok(())
    }

    fn push_many(body: &mut Body, types: &[ValType]) {
        for &t in types {
            Self::push(body, Some(t));
        }
    }

    fn push_ctrl(&self, body: &mut Body, kind: CtrlKind, params: Vec<ValType>, results: Vec<ValType>) {
        let height = body.stack.len();
        let loop_pc = self.module.code.len() as u32;
        Self::push_many(body, &params);
        body.ctrls.push(Ctrl {
            kind,
            params,
            results,
            height,
            unreachable: false,
            loop_pc,
            fixups: vec![],
            else_fixup: None,
        });
    }

    fn pop_ctrl(&self, body: &mut Body) -> Result<Ctrl> {
        let results = body
            .ctrls
            .last()
            .ok_or_else(|| self.invalid("unexpected end"))?
            .results
            .clone();
        self.pop_many(body, &results)?;
        let ctrl = body.ctrls.last().expect("checked");
        if body.stack.len() != ctrl.height {
            return Err(self.invalid("type mismatch: values remaining on stack at end of block"));
        }
        Ok(body.ctrls.pop().expect("checked"))
    }

    /// Checks that the operands on top of the stack match `types`, without
    /// consuming them.
    fn check_operands(&self, body: &Body, types: &[ValType]) -> Result<()> {
        let ctrl = body.ctrls.last().expect("a control frame");
        let available = body.stack.len() - ctrl.height;
        for (i, &t) in types.iter().rev().enumerate() {
            if i >= available {
                if ctrl.unreachable {
                    return Ok(());
                }
                return Err(self.invalid("type mismatch: operand stack underflow"));
            }
            if let Some(actual) = body.stack[body.stack.len() - 1 - i] {
                if actual != t {
                    return Err(self.invalid(format!("type mismatch: expected {t:?}, got {actual:?}")));
                }
            }
        }
        Ok(())
    }

    fn set_unreachable(body: &mut Body) {
        let ctrl = body.ctrls.last_mut().expect("a control frame");
        body.stack.truncate(ctrl.height);
        ctrl.unreachable = true;
    }

    fn label_types(ctrl: &Ctrl) -> &[ValType] {
        if ctrl.kind == CtrlKind::Loop {
            &ctrl.params
        } else {
            &ctrl.results
        }
    }

    fn emit(&mut self, op: Op) -> u32 {
        let pc = self.module.code.len() as u32;
        self.module.code.push(op);
        pc
    }

    fn patch_target(&mut self, at: u32, target: u32) -> Result<()> {
        match self.module.code.get_mut(at as usize) {
            Some(
                Op::Br { target: t, .. }
                | Op::BrIf { target: t, .. }
                | Op::BrUnless { target: t }
                | Op::BrTableEntry { target: t, .. },
            ) => {
                *t = target;
                Ok(())
            }
            _ => Err(DecodeError::CorruptState("a branch fixup does not point at a branch")),
        }
    }

    /// The branch op fields for label `depth` at the current stack height;
    /// registers a fixup when the target is not yet known.
    fn branch_to(&mut self, body: &mut Body, depth: u32, pc: u32) -> Result<(u32, u32, u32)> {
        let n = body.ctrls.len();
        if depth as usize >= n {
            return Err(self.invalid(format!("unknown label {depth}")));
        }
        let idx = n - 1 - depth as usize;
        let ctrl = &body.ctrls[idx];
        let arity = Self::label_types(ctrl).len();
        let drop = if body.ctrls.last().expect("frame").unreachable {
            0
        } else {
            body.stack.len().saturating_sub(ctrl.height + arity)
        };
        let target = if ctrl.kind == CtrlKind::Loop {
            ctrl.loop_pc
        } else {
            body.ctrls[idx].fixups.push(pc);
            u32::MAX
        };
        Ok((target, drop as u32, arity as u32))
    }

    fn memarg(&self, c: &mut Cursor<'_>, natural_align: u32) -> Result<u32> {
        let align = c.u32()?;
        let offset = c.u32()?;
        if self.module.memories.is_empty() {
            return Err(self.invalid("unknown memory 0"));
        }
        if align > natural_align {
            return Err(self.invalid("alignment must not be larger than natural"));
        }
        Ok(offset)
    }

    fn check_local(&self, body: &Body, i: u32) -> Result<ValType> {
        body.locals
            .get(i as usize)
            .copied()
            .ok_or_else(|| self.invalid(format!("unknown local {i}")))
    }

    fn check_global(&self, g: u32) -> Result<GlobalType> {
        self.module
            .globals
            .get(g as usize)
            .copied()
            .ok_or_else(|| self.invalid(format!("unknown global {g}")))
    }

    fn check_table(&self, t: u32) -> Result<TableType> {
        self.module
            .tables
            .get(t as usize)
            .copied()
            .ok_or_else(|| self.invalid(format!("unknown table {t}")))
    }

    fn check_memory(&self) -> Result<()> {
        if self.module.memories.is_empty() {
            return Err(self.invalid("unknown memory 0"));
        }
        Ok(())
    }

    fn check_data(&self, d: u32) -> Result<()> {
        match self.data_count {
            None => Err(DecodeError::Malformed {
                offset: self.pos,
                message: "data count section required".into(),
            }),
            Some(n) if d >= n => Err(self.invalid(format!("unknown data segment {d}"))),
            Some(_) => Ok(()),
        }
    }

    fn check_elem(&self, e: u32) -> Result<ValType> {
        self.module
            .elems
            .get(e as usize)
            .map(|s| s.ty)
            .ok_or_else(|| self.invalid(format!("unknown elem segment {e}")))
    }

    fn zero_byte(&self, c: &mut Cursor<'_>) -> Result<()> {
        if c.u8()? != 0 {
            return Err(c.malformed("zero byte expected"));
        }
        Ok(())
    }

    fn unop(&mut self, body: &mut Body, t: ValType, r: ValType, op: Op) -> Result<()> {
        self.pop_expect(body, t)?;
        Self::push(body, Some(r));
        self.emit(op);
        Ok(())
    }

    fn binop(&mut self, body: &mut Body, t: ValType, r: ValType, op: Op) -> Result<()> {
        self.pop_expect(body, t)?;
        self.pop_expect(body, t)?;
        Self::push(body, Some(r));
        self.emit(op);
        Ok(())
    }

    fn load(&mut self, c: &mut Cursor<'_>, body: &mut Body, align: u32, t: ValType, op: fn(u32) -> Op) -> Result<()> {
        let offset = self.memarg(c, align)?;
        self.pop_expect(body, ValType::I32)?;
        Self::push(body, Some(t));
        self.emit(op(offset));
        Ok(())
    }

    fn store(&mut self, c: &mut Cursor<'_>, body: &mut Body, align: u32, t: ValType, op: fn(u32) -> Op) -> Result<()> {
        let offset = self.memarg(c, align)?;
        self.pop_expect(body, t)?;
        self.pop_expect(body, ValType::I32)?;
        self.emit(op(offset));
        Ok(())
    }

    fn instruction(
        &mut self,
        c: &mut Cursor<'_>,
        section_end: usize,
        remaining: u32,
        mut body: Box<Body>,
    ) -> Result<Phase> {
        use ValType::*;
        let at = c.pos;
        if c.pos >= c.end {
            return Err(c.malformed("unexpected end of section or function: END opcode expected"));
        }
        let opcode = c.u8()?;
        let float = |what: &str| self.float_gate_op(at, what);
        let b = &mut *body;
        match opcode {
            0x00 => {
                self.emit(Op::Unreachable);
                Self::set_unreachable(b);
            }
            0x01 => {}
            0x02 | 0x03 => {
                let (params, results) = self.block_type(c)?;
                self.pop_many(b, &params)?;
                let kind = if opcode == 0x02 {
                    CtrlKind::Block
                } else {
                    CtrlKind::Loop
                };
                self.push_ctrl(b, kind, params, results);
            }
            0x04 => {
                let (params, results) = self.block_type(c)?;
                self.pop_expect(b, I32)?;
                self.pop_many(b, &params)?;
                let at_pc = self.emit(Op::BrUnless { target: u32::MAX });
                self.push_ctrl(b, CtrlKind::If, params, results);
                b.ctrls.last_mut().expect("pushed").else_fixup = Some(at_pc);
            }
            0x05 => {
                let ctrl = self.pop_ctrl(b)?;
                if ctrl.kind != CtrlKind::If {
                    return Err(self.invalid("else without if"));
                }
                let jump = self.emit(Op::Br {
                    target: u32::MAX,
                    drop: 0,
                    keep: 0,
                });
                let else_pc = self.module.code.len() as u32;
                if let Some(f) = ctrl.else_fixup {
                    self.patch_target(f, else_pc)?;
                }
                self.push_ctrl(b, CtrlKind::Else, ctrl.params, ctrl.results);
                let frame = b.ctrls.last_mut().expect("pushed");
                frame.fixups = ctrl.fixups;
                frame.fixups.push(jump);
            }
            0x0b => {
                let ctrl = self.pop_ctrl(b)?;
                if ctrl.kind == CtrlKind::If && ctrl.params != ctrl.results {
                    return Err(self.invalid("type mismatch: if without else must leave its parameters unchanged"));
                }
                // A branch to the function's label lands on its final `return`.
                let end_pc = self.module.code.len() as u32;
                if ctrl.kind == CtrlKind::Function {
                    self.emit(Op::Return);
                }
                if let Some(f) = ctrl.else_fixup {
                    self.patch_target(f, end_pc)?;
                }
                for f in &ctrl.fixups {
                    self.patch_target(*f, end_pc)?;
                }
                Self::push_many(b, &ctrl.results);
                if ctrl.kind == CtrlKind::Function {
                    return self.body_end(c, section_end, remaining, &body);
                }
            }
            0x0c => {
                let depth = c.u32()?;
                let pc = self.module.code.len() as u32;
                let (target, drop, keep) = self.branch_to(b, depth, pc)?;
                let types = Self::label_types(&b.ctrls[b.ctrls.len() - 1 - depth as usize]).to_vec();
                self.pop_many(b, &types)?;
                self.emit(Op::Br { target, drop, keep });
                Self::set_unreachable(b);
            }
            0x0d => {
                let depth = c.u32()?;
                self.pop_expect(b, I32)?;
                let pc = self.module.code.len() as u32;
                let (target, drop, keep) = self.branch_to(b, depth, pc)?;
                let types = Self::label_types(&b.ctrls[b.ctrls.len() - 1 - depth as usize]).to_vec();
                self.pop_many(b, &types)?;
                Self::push_many(b, &types);
                self.emit(Op::BrIf { target, drop, keep });
            }
            0x0e => {
                let len = c.u32()?;
                if len as usize > limits::MAX_BR_TABLE {
                    return Err(self.limit("br_table too large"));
                }
                self.pop_expect(b, I32)?;
                self.emit(Op::BrTable { len });
                return Ok(Phase::BrTable {
                    section_end,
                    remaining,
                    body,
                    left: len,
                    arity: None,
                    default_pending: true,
                });
            }
            0x0f => {
                let results = b.ctrls[0].results.clone();
                self.pop_many(b, &results)?;
                self.emit(Op::Return);
                Self::set_unreachable(b);
            }
            0x10 => {
                let f = c.u32()?;
                let ty = self
                    .module
                    .func_types
                    .get(f as usize)
                    .map(|t| self.module.types[*t as usize].clone())
                    .ok_or_else(|| self.invalid(format!("unknown function {f}")))?;
                self.pop_many(b, &ty.params)?;
                Self::push_many(b, &ty.results);
                self.emit(Op::Call { func: f });
            }
            0x11 => {
                let type_index = c.u32()?;
                let table = c.u32()?;
                let tt = self.check_table(table)?;
                if tt.elem != FuncRef {
                    return Err(self.invalid("type mismatch: call_indirect on a non-funcref table"));
                }
                let ty = self
                    .module
                    .types
                    .get(type_index as usize)
                    .cloned()
                    .ok_or_else(|| self.invalid(format!("unknown type {type_index}")))?;
                self.pop_expect(b, I32)?;
                self.pop_many(b, &ty.params)?;
                Self::push_many(b, &ty.results);
                self.emit(Op::CallIndirect { type_index, table });
            }
            0x1a => {
                self.pop(b)?;
                self.emit(Op::Drop);
            }
            0x1b => {
                self.pop_expect(b, I32)?;
                let t1 = self.pop(b)?;
                let t2 = self.pop(b)?;
                if t1.is_some_and(|t| !is_num(t)) || t2.is_some_and(|t| !is_num(t)) {
                    return Err(self.invalid("type mismatch: select needs numeric operands"));
                }
                if let (Some(x), Some(y)) = (t1, t2) {
                    if x != y {
                        return Err(self.invalid("type mismatch in select"));
                    }
                }
                Self::push(b, t1.or(t2));
                self.emit(Op::Select);
            }
            0x1c => {
                let n = c.u32()?;
                if n != 1 {
                    return Err(self.invalid("invalid result arity for typed select"));
                }
                let t = self.valtype(c)?;
                self.pop_expect(b, I32)?;
                self.pop_expect(b, t)?;
                self.pop_expect(b, t)?;
                Self::push(b, Some(t));
                self.emit(Op::Select);
            }
            0x20 => {
                let i = c.u32()?;
                let t = self.check_local(b, i)?;
                Self::push(b, Some(t));
                self.emit(Op::LocalGet(i));
            }
            0x21 => {
                let i = c.u32()?;
                let t = self.check_local(b, i)?;
                self.pop_expect(b, t)?;
                self.emit(Op::LocalSet(i));
            }
            0x22 => {
                let i = c.u32()?;
                let t = self.check_local(b, i)?;
                self.pop_expect(b, t)?;
                Self::push(b, Some(t));
                self.emit(Op::LocalTee(i));
            }
            0x23 => {
                let g = c.u32()?;
                let t = self.check_global(g)?;
                Self::push(b, Some(t.ty));
                self.emit(Op::GlobalGet(g));
            }
            0x24 => {
                let g = c.u32()?;
                let t = self.check_global(g)?;
                if !t.mutable {
                    return Err(self.invalid("global is immutable"));
                }
                self.pop_expect(b, t.ty)?;
                self.emit(Op::GlobalSet(g));
            }
            0x25 => {
                let t = c.u32()?;
                let tt = self.check_table(t)?;
                self.pop_expect(b, I32)?;
                Self::push(b, Some(tt.elem));
                self.emit(Op::TableGet(t));
            }
            0x26 => {
                let t = c.u32()?;
                let tt = self.check_table(t)?;
                self.pop_expect(b, tt.elem)?;
                self.pop_expect(b, I32)?;
                self.emit(Op::TableSet(t));
            }
            0x28 => self.load(c, b, 2, I32, Op::I32Load)?,
            0x29 => self.load(c, b, 3, I64, Op::I64Load)?,
            0x2a => {
                float("f32.load")?;
                self.load(c, b, 2, F32, Op::F32Load)?
            }
            0x2b => {
                float("f64.load")?;
                self.load(c, b, 3, F64, Op::F64Load)?
            }
            0x2c => self.load(c, b, 0, I32, Op::I32Load8S)?,
            0x2d => self.load(c, b, 0, I32, Op::I32Load8U)?,
            0x2e => self.load(c, b, 1, I32, Op::I32Load16S)?,
            0x2f => self.load(c, b, 1, I32, Op::I32Load16U)?,
            0x30 => self.load(c, b, 0, I64, Op::I64Load8S)?,
            0x31 => self.load(c, b, 0, I64, Op::I64Load8U)?,
            0x32 => self.load(c, b, 1, I64, Op::I64Load16S)?,
            0x33 => self.load(c, b, 1, I64, Op::I64Load16U)?,
            0x34 => self.load(c, b, 2, I64, Op::I64Load32S)?,
            0x35 => self.load(c, b, 2, I64, Op::I64Load32U)?,
            0x36 => self.store(c, b, 2, I32, Op::I32Store)?,
            0x37 => self.store(c, b, 3, I64, Op::I64Store)?,
            0x38 => {
                float("f32.store")?;
                self.store(c, b, 2, F32, Op::F32Store)?
            }
            0x39 => {
                float("f64.store")?;
                self.store(c, b, 3, F64, Op::F64Store)?
            }
            0x3a => self.store(c, b, 0, I32, Op::I32Store8)?,
            0x3b => self.store(c, b, 1, I32, Op::I32Store16)?,
            0x3c => self.store(c, b, 0, I64, Op::I64Store8)?,
            0x3d => self.store(c, b, 1, I64, Op::I64Store16)?,
            0x3e => self.store(c, b, 2, I64, Op::I64Store32)?,
            0x3f => {
                self.zero_byte(c)?;
                self.check_memory()?;
                Self::push(b, Some(I32));
                self.emit(Op::MemorySize);
            }
            0x40 => {
                self.zero_byte(c)?;
                self.check_memory()?;
                self.pop_expect(b, I32)?;
                Self::push(b, Some(I32));
                self.emit(Op::MemoryGrow);
            }
            0x41 => {
                let v = c.s32()?;
                Self::push(b, Some(I32));
                self.emit(Op::I32Const(v));
            }
            0x42 => {
                let v = c.s64()?;
                Self::push(b, Some(I64));
                self.emit(Op::I64Const(v));
            }
            0x43 => {
                float("f32.const")?;
                let v = u32::from_le_bytes(c.bytes(4)?.try_into().expect("4 bytes"));
                Self::push(b, Some(F32));
                self.emit(Op::F32Const(v));
            }
            0x44 => {
                float("f64.const")?;
                let v = u64::from_le_bytes(c.bytes(8)?.try_into().expect("8 bytes"));
                Self::push(b, Some(F64));
                self.emit(Op::F64Const(v));
            }
            0x45 => self.unop(b, I32, I32, Op::I32Eqz)?,
            0x46..=0x4f => {
                let op = [
                    Op::I32Eq,
                    Op::I32Ne,
                    Op::I32LtS,
                    Op::I32LtU,
                    Op::I32GtS,
                    Op::I32GtU,
                    Op::I32LeS,
                    Op::I32LeU,
                    Op::I32GeS,
                    Op::I32GeU,
                ][(opcode - 0x46) as usize];
                self.binop(b, I32, I32, op)?
            }
            0x50 => self.unop(b, I64, I32, Op::I64Eqz)?,
            0x51..=0x5a => {
                let op = [
                    Op::I64Eq,
                    Op::I64Ne,
                    Op::I64LtS,
                    Op::I64LtU,
                    Op::I64GtS,
                    Op::I64GtU,
                    Op::I64LeS,
                    Op::I64LeU,
                    Op::I64GeS,
                    Op::I64GeU,
                ][(opcode - 0x51) as usize];
                self.binop(b, I64, I32, op)?
            }
            0x5b..=0x60 => {
                float("f32 comparison")?;
                let op = [Op::F32Eq, Op::F32Ne, Op::F32Lt, Op::F32Gt, Op::F32Le, Op::F32Ge][(opcode - 0x5b) as usize];
                self.binop(b, F32, I32, op)?
            }
            0x61..=0x66 => {
                float("f64 comparison")?;
                let op = [Op::F64Eq, Op::F64Ne, Op::F64Lt, Op::F64Gt, Op::F64Le, Op::F64Ge][(opcode - 0x61) as usize];
                self.binop(b, F64, I32, op)?
            }
            0x67 => self.unop(b, I32, I32, Op::I32Clz)?,
            0x68 => self.unop(b, I32, I32, Op::I32Ctz)?,
            0x69 => self.unop(b, I32, I32, Op::I32Popcnt)?,
            0x6a..=0x78 => {
                let op = [
                    Op::I32Add,
                    Op::I32Sub,
                    Op::I32Mul,
                    Op::I32DivS,
                    Op::I32DivU,
                    Op::I32RemS,
                    Op::I32RemU,
                    Op::I32And,
                    Op::I32Or,
                    Op::I32Xor,
                    Op::I32Shl,
                    Op::I32ShrS,
                    Op::I32ShrU,
                    Op::I32Rotl,
                    Op::I32Rotr,
                ][(opcode - 0x6a) as usize];
                self.binop(b, I32, I32, op)?
            }
            0x79 => self.unop(b, I64, I64, Op::I64Clz)?,
            0x7a => self.unop(b, I64, I64, Op::I64Ctz)?,
            0x7b => self.unop(b, I64, I64, Op::I64Popcnt)?,
            0x7c..=0x8a => {
                let op = [
                    Op::I64Add,
                    Op::I64Sub,
                    Op::I64Mul,
                    Op::I64DivS,
                    Op::I64DivU,
                    Op::I64RemS,
                    Op::I64RemU,
                    Op::I64And,
                    Op::I64Or,
                    Op::I64Xor,
                    Op::I64Shl,
                    Op::I64ShrS,
                    Op::I64ShrU,
                    Op::I64Rotl,
                    Op::I64Rotr,
                ][(opcode - 0x7c) as usize];
                self.binop(b, I64, I64, op)?
            }
            0x8b..=0x91 => {
                float("f32 arithmetic")?;
                let op = [
                    Op::F32Abs,
                    Op::F32Neg,
                    Op::F32Ceil,
                    Op::F32Floor,
                    Op::F32Trunc,
                    Op::F32Nearest,
                    Op::F32Sqrt,
                ][(opcode - 0x8b) as usize];
                self.unop(b, F32, F32, op)?
            }
            0x92..=0x98 => {
                float("f32 arithmetic")?;
                let op = [
                    Op::F32Add,
                    Op::F32Sub,
                    Op::F32Mul,
                    Op::F32Div,
                    Op::F32Min,
                    Op::F32Max,
                    Op::F32Copysign,
                ][(opcode - 0x92) as usize];
                self.binop(b, F32, F32, op)?
            }
            0x99..=0x9f => {
                float("f64 arithmetic")?;
                let op = [
                    Op::F64Abs,
                    Op::F64Neg,
                    Op::F64Ceil,
                    Op::F64Floor,
                    Op::F64Trunc,
                    Op::F64Nearest,
                    Op::F64Sqrt,
                ][(opcode - 0x99) as usize];
                self.unop(b, F64, F64, op)?
            }
            0xa0..=0xa6 => {
                float("f64 arithmetic")?;
                let op = [
                    Op::F64Add,
                    Op::F64Sub,
                    Op::F64Mul,
                    Op::F64Div,
                    Op::F64Min,
                    Op::F64Max,
                    Op::F64Copysign,
                ][(opcode - 0xa0) as usize];
                self.binop(b, F64, F64, op)?
            }
            0xa7 => self.unop(b, I64, I32, Op::I32WrapI64)?,
            0xa8..=0xab => {
                float("float-to-int conversion")?;
                let (t, op) = [
                    (F32, Op::I32TruncF32S),
                    (F32, Op::I32TruncF32U),
                    (F64, Op::I32TruncF64S),
                    (F64, Op::I32TruncF64U),
                ][(opcode - 0xa8) as usize];
                self.unop(b, t, I32, op)?
            }
            0xac => self.unop(b, I32, I64, Op::I64ExtendI32S)?,
            0xad => self.unop(b, I32, I64, Op::I64ExtendI32U)?,
            0xae..=0xb1 => {
                float("float-to-int conversion")?;
                let (t, op) = [
                    (F32, Op::I64TruncF32S),
                    (F32, Op::I64TruncF32U),
                    (F64, Op::I64TruncF64S),
                    (F64, Op::I64TruncF64U),
                ][(opcode - 0xae) as usize];
                self.unop(b, t, I64, op)?
            }
            0xb2..=0xbf => {
                float("float conversion")?;
                let (t, r, op) = [
                    (I32, F32, Op::F32ConvertI32S),
                    (I32, F32, Op::F32ConvertI32U),
                    (I64, F32, Op::F32ConvertI64S),
                    (I64, F32, Op::F32ConvertI64U),
                    (F64, F32, Op::F32DemoteF64),
                    (I32, F64, Op::F64ConvertI32S),
                    (I32, F64, Op::F64ConvertI32U),
                    (I64, F64, Op::F64ConvertI64S),
                    (I64, F64, Op::F64ConvertI64U),
                    (F32, F64, Op::F64PromoteF32),
                    (F32, I32, Op::I32ReinterpretF32),
                    (F64, I64, Op::I64ReinterpretF64),
                    (I32, F32, Op::F32ReinterpretI32),
                    (I64, F64, Op::F64ReinterpretI64),
                ][(opcode - 0xb2) as usize];
                self.unop(b, t, r, op)?
            }
            0xc0 => self.unop(b, I32, I32, Op::I32Extend8S)?,
            0xc1 => self.unop(b, I32, I32, Op::I32Extend16S)?,
            0xc2 => self.unop(b, I64, I64, Op::I64Extend8S)?,
            0xc3 => self.unop(b, I64, I64, Op::I64Extend16S)?,
            0xc4 => self.unop(b, I64, I64, Op::I64Extend32S)?,
            0xd0 => {
                let t = self.reftype(c)?;
                Self::push(b, Some(t));
                self.emit(Op::RefNull);
            }
            0xd1 => {
                match self.pop(b)? {
                    Some(t) if !t.is_ref() => return Err(self.invalid("type mismatch: ref.is_null needs a reference")),
                    _ => {}
                }
                Self::push(b, Some(I32));
                self.emit(Op::RefIsNull);
            }
            0xd2 => {
                let f = c.u32()?;
                if f as usize >= self.module.func_types.len() {
                    return Err(self.invalid(format!("unknown function {f}")));
                }
                if !self.refs.contains(&f) {
                    return Err(self.invalid(format!("undeclared function reference {f}")));
                }
                Self::push(b, Some(FuncRef));
                self.emit(Op::RefFunc(f));
            }
            0xfc => self.prefixed(c, b, at)?,
            0xfd => return Err(DecodeError::SimdUnsupported { offset: at }),
            _ => {
                return Err(DecodeError::Malformed {
                    offset: at,
                    message: format!("illegal opcode {opcode:#04x}"),
                })
            }
        }
        if self.module.code.len() > limits::MAX_CODE_OPS {
            return Err(self.limit("too much code"));
        }
        Ok(Phase::Code {
            section_end,
            remaining,
            body,
        })
    }

    fn prefixed(&mut self, c: &mut Cursor<'_>, b: &mut Body, at: usize) -> Result<()> {
        use ValType::*;
        let sub = c.u32()?;
        match sub {
            0..=7 => {
                self.float_gate_op(at, "saturating float-to-int conversion")?;
                let (t, r, op) = [
                    (F32, I32, Op::I32TruncSatF32S),
                    (F32, I32, Op::I32TruncSatF32U),
                    (F64, I32, Op::I32TruncSatF64S),
                    (F64, I32, Op::I32TruncSatF64U),
                    (F32, I64, Op::I64TruncSatF32S),
                    (F32, I64, Op::I64TruncSatF32U),
                    (F64, I64, Op::I64TruncSatF64S),
                    (F64, I64, Op::I64TruncSatF64U),
                ][sub as usize];
                self.unop(b, t, r, op)
            }
            8 => {
                let d = c.u32()?;
                self.zero_byte(c)?;
                self.check_memory()?;
                self.check_data(d)?;
                self.pop_many(b, &[I32, I32, I32])?;
                self.emit(Op::MemoryInit(d));
                Ok(())
            }
            9 => {
                let d = c.u32()?;
                self.check_data(d)?;
                self.emit(Op::DataDrop(d));
                Ok(())
            }
            10 => {
                self.zero_byte(c)?;
                self.zero_byte(c)?;
                self.check_memory()?;
                self.pop_many(b, &[I32, I32, I32])?;
                self.emit(Op::MemoryCopy);
                Ok(())
            }
            11 => {
                self.zero_byte(c)?;
                self.check_memory()?;
                self.pop_many(b, &[I32, I32, I32])?;
                self.emit(Op::MemoryFill);
                Ok(())
            }
            12 => {
                let elem = c.u32()?;
                let table = c.u32()?;
                let tt = self.check_table(table)?;
                let et = self.check_elem(elem)?;
                if tt.elem != et {
                    return Err(self.invalid("type mismatch: table.init"));
                }
                self.pop_many(b, &[I32, I32, I32])?;
                self.emit(Op::TableInit { table, elem });
                Ok(())
            }
            13 => {
                let elem = c.u32()?;
                self.check_elem(elem)?;
                self.emit(Op::ElemDrop(elem));
                Ok(())
            }
            14 => {
                let dst = c.u32()?;
                let src = c.u32()?;
                let d = self.check_table(dst)?;
                let s = self.check_table(src)?;
                if d.elem != s.elem {
                    return Err(self.invalid("type mismatch: table.copy"));
                }
                self.pop_many(b, &[I32, I32, I32])?;
                self.emit(Op::TableCopy { dst, src });
                Ok(())
            }
            15 => {
                let t = c.u32()?;
                let tt = self.check_table(t)?;
                self.pop_expect(b, I32)?;
                self.pop_expect(b, tt.elem)?;
                Self::push(b, Some(I32));
                self.emit(Op::TableGrow(t));
                Ok(())
            }
            16 => {
                let t = c.u32()?;
                self.check_table(t)?;
                Self::push(b, Some(I32));
                self.emit(Op::TableSize(t));
                Ok(())
            }
            17 => {
                let t = c.u32()?;
                let tt = self.check_table(t)?;
                self.pop_expect(b, I32)?;
                self.pop_expect(b, tt.elem)?;
                self.pop_expect(b, I32)?;
                self.emit(Op::TableFill(t));
                Ok(())
            }
            _ => Err(DecodeError::Malformed {
                offset: at,
                message: format!("illegal opcode 0xfc {sub}"),
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn br_table_entries(
        &mut self,
        c: &mut Cursor<'_>,
        section_end: usize,
        remaining: u32,
        mut body: Box<Body>,
        left: u32,
        mut arity: Option<usize>,
        default_pending: bool,
    ) -> Result<Phase> {
        let n = left.min(SLICE_ENTRIES);
        let mut entries = Vec::with_capacity(n as usize + 1);
        for _ in 0..n {
            entries.push(c.u32()?);
        }
        let finishing = left == n;
        if finishing && default_pending {
            entries.push(c.u32()?);
        }
        for depth in entries {
            let ctrls = body.ctrls.len();
            if depth as usize >= ctrls {
                return Err(self.invalid(format!("unknown label {depth}")));
            }
            let types = Self::label_types(&body.ctrls[ctrls - 1 - depth as usize]).to_vec();
            match arity {
                None => arity = Some(types.len()),
                Some(a) if a != types.len() => return Err(self.invalid("type mismatch: br_table arity mismatch")),
                _ => {}
            }
            // Every target's types must accept the operands.
            self.check_operands(&body, &types)?;
            let pc = self.module.code.len() as u32;
            let (target, drop, keep) = self.branch_to(&mut body, depth, pc)?;
            self.emit(Op::BrTableEntry { target, drop, keep });
        }
        if finishing {
            Self::set_unreachable(&mut body);
            return Ok(Phase::Code {
                section_end,
                remaining,
                body,
            });
        }
        Ok(Phase::BrTable {
            section_end,
            remaining,
            body,
            left: left - n,
            arity,
            default_pending,
        })
    }

    fn body_end(&mut self, c: &mut Cursor<'_>, section_end: usize, remaining: u32, body: &Body) -> Result<Phase> {
        if c.pos != body.end {
            return Err(c.malformed("section size mismatch: END opcode expected before the end of the body"));
        }
        let f = self.module.bodies.last_mut().expect("body");
        f.max_height = body.max_height as u32;
        debug_assert_eq!(f.start, body.start_pc);
        let _ = body.func_index;
        c.end = section_end;
        Ok(Phase::Items {
            id: 10,
            end: section_end,
            remaining,
        })
    }
}
