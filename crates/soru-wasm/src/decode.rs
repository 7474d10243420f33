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
//! Everything that grows with the module — the module being built, the
//! validator's stacks, the set of export names — is held in
//! [`crate::region`]s, in memory when running, or in a [`DecodeStore`] (the
//! PVM's state tree) for a one-step proof: [`Decoder::step_stored`] then
//! reads the input and the state record by record, so a step opens what it
//! touches. Forward branches are chained through their own target fields and
//! resolved a few per step, so no step's work grows with the module.
//!
//! Two modes differ only in the float gate: [`Mode::Pvm`] rejects any `f32`
//! or `f64` type or float instruction with [`DecodeError::FloatsForbidden`];
//! [`Mode::Conformance`] accepts them (used to run the spec suite).

use std::collections::BTreeMap;

use crate::code::Op;
use crate::limits;
use crate::region::{
    BlockType, Ctrl, CtrlKind, DataHeader, DecodeStore, ElemHeader, NoStore, Region, RegionId, StoredModule, VarRegion,
};
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
    /// The [`DecodeStore`] failed (a proof lacks what the step reads): not a
    /// verdict on the module.
    #[error("decoder store: {0}")]
    Store(String),
}

impl DecodeError {
    /// Whether this is a verdict on the module (as opposed to a fault of the
    /// decoder's store).
    pub fn is_verdict(&self) -> bool {
        !matches!(self, DecodeError::Store(_))
    }
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

/// The current function body's validator registers (its stacks are
/// regions of the decoder).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Body {
    end: usize,
    type_index: u32,
    num_params: u32,
    max_height: u64,
    start_pc: u32,
    /// Local declarations still to read.
    local_groups_left: u32,
    /// Locals of the current declaration still to add, and their type.
    pending_locals: u32,
    pending_type: Option<ValType>,
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
    },
    /// Reading the entries of a `br_table`, a few per step.
    BrTable {
        section_end: usize,
        remaining: u32,
        left: u32,
        arity: Option<u32>,
        default_pending: bool,
    },
    /// Resolving a chain of forward branches to `target`, a few per step.
    Patch {
        head: u32,
        target: u32,
        then: AfterPatch,
    },
    Finished,
}

/// Where decoding resumes once a chain of branches is resolved (flat, so a
/// restored phase never nests).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
enum AfterPatch {
    /// The rest of the body.
    Code { section_end: usize, remaining: u32 },
    /// The next body of the code section.
    Bodies { section_end: usize, remaining: u32 },
}

impl AfterPatch {
    fn phase(self) -> Phase {
        match self {
            AfterPatch::Code { section_end, remaining } => Phase::Code { section_end, remaining },
            AfterPatch::Bodies { section_end, remaining } => Phase::Items {
                id: 10,
                end: section_end,
                remaining,
            },
        }
    }
}

/// Bytes of a data segment copied per step; locals added per step.
const SLICE_BYTES: usize = 4096;
/// Local declarations read per step.
const SLICE_ENTRIES: u32 = 64;
/// `br_table` entries or element-segment items read per step (each may
/// touch a different control frame or function record).
const SLICE_TARGETS: u32 = 8;
/// Forward branches resolved per step.
const PATCHES_PER_STEP: u32 = 8;
/// Granularity of input reads from a store.
const INPUT_WINDOW: usize = 512;
/// No chained branch.
const NO_FIXUP: u32 = u32::MAX;

/// The resumable decoder. See the module documentation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Decoder {
    mode: Mode,
    pos: usize,
    phase: Phase,
    last_section: u8,
    declared_funcs: u32,
    data_count: Option<u32>,
    code_seen: bool,
    data_seen: bool,
    num_imported_funcs: u32,
    num_imported_tables: u32,
    num_imported_memories: u32,
    num_imported_globals: u32,
    /// At most one once valid (multiple memories are rejected).
    memories: Vec<MemoryType>,
    start: Option<u32>,
    body: Body,
    types: VarRegion<FuncType>,
    imports: VarRegion<Import>,
    func_types: Region<u32>,
    tables: Region<TableType>,
    globals: Region<GlobalType>,
    global_inits: Region<ConstExpr>,
    exports: VarRegion<Export>,
    /// Export names seen and the export each names, in memory (`None`: in
    /// the store).
    #[serde(skip)]
    export_names: Option<BTreeMap<Vec<u8>, u32>>,
    elems: Region<ElemHeader>,
    elem_items: Region<ConstExpr>,
    datas: Region<DataHeader>,
    data_bytes: Region<u8>,
    bodies: Region<FuncBody>,
    code: Region<Op>,
    /// Functions referable by `ref.func` in code (C.refs), one bit each.
    refs: Region<u8>,
    locals: Region<ValType>,
    stack: Region<Option<ValType>>,
    ctrls: Region<Ctrl>,
}

fn is_num(t: ValType) -> bool {
    !t.is_ref()
}

fn float_gate(mode: Mode, offset: usize, what: &str) -> Result<()> {
    if mode == Mode::Pvm {
        return Err(DecodeError::FloatsForbidden {
            offset,
            what: what.to_string(),
        });
    }
    Ok(())
}

fn corrupt(what: &'static str) -> DecodeError {
    DecodeError::CorruptState(what)
}

impl Decoder {
    /// A decoder at the start of a module, its state in memory.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            pos: 0,
            phase: Phase::Header,
            last_section: 0,
            declared_funcs: 0,
            data_count: None,
            code_seen: false,
            data_seen: false,
            num_imported_funcs: 0,
            num_imported_tables: 0,
            num_imported_memories: 0,
            num_imported_globals: 0,
            memories: Vec::new(),
            start: None,
            body: Body::default(),
            types: VarRegion::new(RegionId::TypeEnds, RegionId::TypeBytes),
            imports: VarRegion::new(RegionId::ImportEnds, RegionId::ImportBytes),
            func_types: Region::new(RegionId::FuncTypes),
            tables: Region::new(RegionId::Tables),
            globals: Region::new(RegionId::Globals),
            global_inits: Region::new(RegionId::GlobalInits),
            exports: VarRegion::new(RegionId::ExportEnds, RegionId::ExportBytes),
            export_names: Some(BTreeMap::new()),
            elems: Region::new(RegionId::Elems),
            elem_items: Region::new(RegionId::ElemItems),
            datas: Region::new(RegionId::Datas),
            data_bytes: Region::new(RegionId::DataBytes),
            bodies: Region::new(RegionId::Bodies),
            code: Region::new(RegionId::Code),
            refs: Region::new(RegionId::Refs),
            locals: Region::new(RegionId::Locals),
            stack: Region::new(RegionId::Stack),
            ctrls: Region::new(RegionId::Ctrls),
        }
    }

    /// Decodes and validates a whole module in one call.
    pub fn decode(mode: Mode, bytes: &[u8]) -> Result<Module> {
        let mut decoder = Self::new(mode);
        while decoder.run(bytes, u64::MAX).1? == Progress::Continue {}
        Ok(decoder.finish())
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether the state is in a store (read back from its serialized form)
    /// rather than in memory.
    pub fn is_stored(&self) -> bool {
        self.export_names.is_none()
    }

    /// The decoded module (call after [`Progress::Done`]).
    ///
    /// # Panics
    /// If the decoder's state is in a store: use [`Decoder::finish_stored`].
    pub fn finish(self) -> Module {
        self.finish_stored(&mut NoStore(&[]))
            .expect("an in-memory decoder builds its module without a store")
    }

    /// The decoded module, reading a stored state from `store`.
    pub fn finish_stored(self, s: &mut dyn DecodeStore) -> Result<Module> {
        let elem_items = self.elem_items.into_owned(s)?;
        let elems = self
            .elems
            .into_owned(s)?
            .into_iter()
            .map(|h| {
                let items = usize::try_from(h.start)
                    .ok()
                    .zip(usize::try_from(h.start.saturating_add(h.len)).ok())
                    .and_then(|(a, b)| elem_items.get(a..b))
                    .ok_or_else(|| corrupt("an element segment is outside the items"))?;
                Ok(ElemSegment {
                    mode: h.mode,
                    ty: h.ty,
                    items: items.to_vec(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let data_bytes = self.data_bytes.into_owned(s)?;
        let datas = self
            .datas
            .into_owned(s)?
            .into_iter()
            .map(|h| {
                let bytes = usize::try_from(h.start)
                    .ok()
                    .zip(usize::try_from(h.start.saturating_add(h.len)).ok())
                    .and_then(|(a, b)| data_bytes.get(a..b))
                    .ok_or_else(|| corrupt("a data segment is outside the bytes"))?;
                Ok(DataSegment {
                    mode: h.mode,
                    bytes: bytes.to_vec(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Module {
            types: self.types.into_vec(s)?,
            imports: self.imports.into_vec(s)?,
            func_types: self.func_types.into_owned(s)?,
            num_imported_funcs: self.num_imported_funcs,
            tables: self.tables.into_owned(s)?,
            num_imported_tables: self.num_imported_tables,
            memories: self.memories,
            num_imported_memories: self.num_imported_memories,
            globals: self.globals.into_owned(s)?,
            num_imported_globals: self.num_imported_globals,
            global_inits: self.global_inits.into_owned(s)?,
            exports: self.exports.into_vec(s)?,
            start: self.start,
            elems,
            datas,
            bodies: self.bodies.into_owned(s)?,
            code: self.code.into_owned(s)?,
        })
    }

    /// The decoded module left in the decoder's regions (call after
    /// [`Progress::Done`]): an in-memory decoder first writes them into
    /// `s`, whose regions must be empty; the validator's scratch regions
    /// are emptied. The module is then read record by record, so
    /// instantiating it can be sliced like decoding was.
    pub fn into_stored_module(self, s: &mut dyn DecodeStore) -> Result<StoredModule> {
        if !matches!(self.phase, Phase::Finished) {
            return Err(corrupt("the module is not decoded yet"));
        }
        self.save_export_names(s)?;
        for scratch in [RegionId::Refs, RegionId::Locals, RegionId::Stack, RegionId::Ctrls] {
            s.resize(scratch, 0).map_err(DecodeError::Store)?;
        }
        Ok(StoredModule {
            types: self.types.into_stored(s)?,
            imports: self.imports.into_stored(s)?,
            func_types: self.func_types.into_stored(s)?,
            num_imported_funcs: self.num_imported_funcs,
            tables: self.tables.into_stored(s)?,
            num_imported_tables: self.num_imported_tables,
            memories: self.memories,
            num_imported_memories: self.num_imported_memories,
            globals: self.globals.into_stored(s)?,
            num_imported_globals: self.num_imported_globals,
            global_inits: self.global_inits.into_stored(s)?,
            exports: self.exports.into_stored(s)?,
            start: self.start,
            elems: self.elems.into_stored(s)?,
            elem_items: self.elem_items.into_stored(s)?,
            datas: self.datas.into_stored(s)?,
            data_bytes: self.data_bytes.into_stored(s)?,
            bodies: self.bodies.into_stored(s)?,
            code: self.code.into_stored(s)?,
        })
    }

    /// Writes an in-memory decoder's regions and export names into an
    /// empty store (the serialized decoder then describes them).
    pub fn save(&self, s: &mut dyn DecodeStore) -> Result<()> {
        self.types.save(s)?;
        self.imports.save(s)?;
        self.func_types.save(s)?;
        self.tables.save(s)?;
        self.globals.save(s)?;
        self.global_inits.save(s)?;
        self.exports.save(s)?;
        self.elems.save(s)?;
        self.elem_items.save(s)?;
        self.datas.save(s)?;
        self.data_bytes.save(s)?;
        self.bodies.save(s)?;
        self.code.save(s)?;
        self.refs.save(s)?;
        self.locals.save(s)?;
        self.stack.save(s)?;
        self.ctrls.save(s)?;
        self.save_export_names(s)
    }

    /// Writes an in-memory decoder's export names into a store.
    fn save_export_names(&self, s: &mut dyn DecodeStore) -> Result<()> {
        for (name, &index) in self.export_names.iter().flatten() {
            s.insert_name(name, index).map_err(DecodeError::Store)?;
        }
        Ok(())
    }

    /// Reads a stored decoder's regions into memory (the export names are
    /// those of the exports).
    pub fn load(&mut self, s: &mut dyn DecodeStore) -> Result<()> {
        self.types.load(s)?;
        self.imports.load(s)?;
        self.func_types.load(s)?;
        self.tables.load(s)?;
        self.globals.load(s)?;
        self.global_inits.load(s)?;
        self.exports.load(s)?;
        self.elems.load(s)?;
        self.elem_items.load(s)?;
        self.datas.load(s)?;
        self.data_bytes.load(s)?;
        self.bodies.load(s)?;
        self.code.load(s)?;
        self.refs.load(s)?;
        self.locals.load(s)?;
        self.stack.load(s)?;
        self.ctrls.load(s)?;
        if self.export_names.is_none() {
            let names = self
                .exports
                .to_vec(s)?
                .into_iter()
                .enumerate()
                .map(|(i, e)| (e.name.into_bytes(), i as u32))
                .collect();
            self.export_names = Some(names);
        }
        Ok(())
    }

    /// Does one bounded unit of work on `input` (the whole module; the
    /// decoder remembers its position). The state must be in memory.
    pub fn step(&mut self, input: &[u8]) -> Result<Progress> {
        let mut store = NoStore(input);
        self.step_with(&mut store, Some(input))
    }

    /// Does one bounded unit of work with the state and the module in
    /// `store`, reading only what the unit needs.
    pub fn step_stored(&mut self, store: &mut dyn DecodeStore) -> Result<Progress> {
        self.step_with(store, None)
    }

    /// Runs up to `max_steps` units on `input` (the whole module, the state
    /// in memory), stopping when the module is done or rejected. Returns the
    /// units taken (the rejecting one included) and how the last one ended:
    /// the same as that many calls to [`Decoder::step`], without their
    /// per-call overhead.
    pub fn run(&mut self, input: &[u8], max_steps: u64) -> (u64, Result<Progress>) {
        let mut store = NoStore(input);
        self.run_with(&mut store, Some(input), max_steps)
    }

    fn step_with(&mut self, s: &mut dyn DecodeStore, whole: Option<&[u8]>) -> Result<Progress> {
        self.run_with(s, whole, 1).1
    }

    fn run_with(&mut self, s: &mut dyn DecodeStore, whole: Option<&[u8]>, max_steps: u64) -> (u64, Result<Progress>) {
        let total = match whole {
            Some(bytes) => bytes.len(),
            None => match s.input_len() {
                Ok(n) => match usize::try_from(n) {
                    Ok(n) => n,
                    Err(_) => return (1, Err(corrupt("the module does not fit in memory"))),
                },
                Err(e) => return (1, Err(DecodeError::Store(e))),
            },
        };
        let mut phase = std::mem::replace(&mut self.phase, Phase::Finished);
        let mut steps = 0;
        let mut unit = Unit {
            d: self,
            s,
            whole,
            window: Vec::new(),
            window_at: 0,
            total,
            start: 0,
            pos: 0,
            end: total,
        };
        let outcome = loop {
            unit.start = unit.d.pos;
            unit.pos = unit.d.pos;
            unit.end = total;
            let result = unit.unit(phase);
            unit.d.pos = unit.pos;
            steps += 1;
            match result {
                Ok(Phase::Finished) => {
                    phase = Phase::Finished;
                    break Ok(Progress::Done);
                }
                Ok(next) => {
                    phase = next;
                    if steps == max_steps {
                        break Ok(Progress::Continue);
                    }
                }
                Err(e) => {
                    phase = Phase::Finished;
                    break Err(e);
                }
            }
        };
        self.phase = phase;
        (steps, outcome)
    }
}

/// One step's view: the decoder, its store and a cursor over the input.
struct Unit<'a> {
    d: &'a mut Decoder,
    s: &'a mut dyn DecodeStore,
    /// The whole input, when it is in memory.
    whole: Option<&'a [u8]>,
    /// Input bytes `[window_at, window_at + window.len())`, when read from the store.
    window: Vec<u8>,
    window_at: usize,
    total: usize,
    /// Position at the start of the step (offset of validation errors).
    start: usize,
    pos: usize,
    end: usize,
}

impl Unit<'_> {
    // ---- input

    fn malformed(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::Malformed {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn invalid(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::Invalid {
            offset: self.start,
            message: message.into(),
        }
    }

    fn limit(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::Limit {
            offset: self.start,
            message: message.into(),
        }
    }

    /// The byte at `pos < total`.
    #[inline]
    fn byte_at(&mut self, pos: usize) -> Result<u8> {
        match self.whole {
            // `total` is the input's length here.
            Some(bytes) => Ok(bytes[pos]),
            None => self.stored_byte(pos),
        }
    }

    fn stored_byte(&mut self, pos: usize) -> Result<u8> {
        if pos < self.window_at || pos >= self.window_at + self.window.len() {
            let at = pos - pos % INPUT_WINDOW;
            self.window = self.s.input(at as u64, INPUT_WINDOW).map_err(DecodeError::Store)?;
            self.window_at = at;
            if pos >= at + self.window.len() {
                return Err(corrupt("the input is shorter than its length"));
            }
        }
        Ok(self.window[pos - self.window_at])
    }

    #[inline]
    fn u8(&mut self) -> Result<u8> {
        if self.pos >= self.end.min(self.total) {
            return Err(self.malformed("unexpected end"));
        }
        let b = self.byte_at(self.pos)?;
        self.pos += 1;
        Ok(b)
    }

    fn peek(&mut self) -> Result<u8> {
        if self.pos >= self.end.min(self.total) {
            return Err(self.malformed("unexpected end"));
        }
        self.byte_at(self.pos)
    }

    fn bytes(&mut self, n: usize) -> Result<Vec<u8>> {
        if n > self.end.min(self.total).saturating_sub(self.pos) {
            return Err(self.malformed("unexpected end"));
        }
        let out = match self.whole {
            Some(bytes) => bytes[self.pos..self.pos + n].to_vec(),
            None => (self.pos..self.pos + n)
                .map(|p| self.byte_at(p))
                .collect::<Result<Vec<u8>>>()?,
        };
        self.pos += n;
        Ok(out)
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
        String::from_utf8(bytes).map_err(|_| self.malformed("malformed UTF-8 encoding"))
    }

    // ---- phases

    fn unit(&mut self, phase: Phase) -> Result<Phase> {
        match phase {
            Phase::Header => {
                let magic = self
                    .bytes(4)
                    .map_err(|_| self.malformed("unexpected end: magic header"))?;
                if magic != b"\0asm" {
                    return Err(self.malformed("magic header not detected"));
                }
                let version = self.bytes(4).map_err(|_| self.malformed("unexpected end: version"))?;
                if version != [1, 0, 0, 0] {
                    return Err(self.malformed("unknown binary version"));
                }
                Ok(Phase::SectionHeader)
            }
            Phase::SectionHeader => self.section_header(),
            Phase::Items { id, end, remaining } => {
                self.end = end;
                if remaining == 0 {
                    return self.section_done(end);
                }
                self.item(id, end, remaining)
            }
            Phase::DataBytes {
                end,
                remaining_segments,
                left,
            } => {
                self.end = end;
                let n = left.min(SLICE_BYTES);
                let bytes = self.bytes(n)?;
                self.d.data_bytes.append(self.s, &bytes)?;
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
                self.end = end;
                let n = left.min(SLICE_TARGETS);
                let ty = self
                    .d
                    .elems
                    .last(self.s)?
                    .ok_or_else(|| corrupt("element items without a segment"))?
                    .ty;
                for _ in 0..n {
                    let item = if exprs {
                        let expr = self.const_expr()?;
                        let t = self.const_type(&expr)?;
                        if t != ty {
                            return Err(self.invalid("type mismatch in element expression"));
                        }
                        expr
                    } else {
                        let f = self.u32()?;
                        if u64::from(f) >= self.d.func_types.len() {
                            return Err(self.invalid(format!("unknown function {f}")));
                        }
                        ConstExpr::RefFunc(f)
                    };
                    if let ConstExpr::RefFunc(f) = item {
                        self.declare_ref(f)?;
                    }
                    self.d.elem_items.push(self.s, item)?;
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
            Phase::Code { section_end, remaining } => {
                self.end = self.d.body.end;
                if self.d.body.local_groups_left > 0 || self.d.body.pending_locals > 0 {
                    self.local_groups()?;
                    return Ok(Phase::Code { section_end, remaining });
                }
                self.instruction(section_end, remaining)
            }
            Phase::BrTable {
                section_end,
                remaining,
                left,
                arity,
                default_pending,
            } => {
                self.end = self.d.body.end;
                self.br_table_entries(section_end, remaining, left, arity, default_pending)
            }
            Phase::Patch { head, target, then } => self.patch_chain(head, target, then),
            Phase::Finished => Err(self.malformed("decoder already finished")),
        }
    }

    fn section_header(&mut self) -> Result<Phase> {
        if self.pos == self.end {
            return self.finish_module();
        }
        let id = self.u8()?;
        let size = self.u32()? as usize;
        if size > self.end - self.pos {
            return Err(self.malformed("section size mismatch: unexpected end"));
        }
        let end = self.pos + size;
        if id == 0 {
            // Custom section: the name must be valid UTF-8; the rest is skipped.
            self.end = end;
            self.name()?;
            self.pos = end;
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
            return Err(self.malformed(format!("malformed section id {id}")));
        }
        if rank(id) <= rank(self.d.last_section) {
            return Err(self.malformed("unexpected content after last section / junk after last section"));
        }
        self.d.last_section = id;
        self.end = end;
        let remaining = match id {
            8 => {
                let f = self.u32()?;
                if u64::from(f) >= self.d.func_types.len() {
                    return Err(self.invalid(format!("unknown function {f}")));
                }
                let ty = self.func_type(f)?;
                if !ty.params.is_empty() || !ty.results.is_empty() {
                    return Err(self.invalid("start function must have type [] -> []"));
                }
                self.d.start = Some(f);
                return self.section_done(end);
            }
            12 => {
                self.d.data_count = Some(self.u32()?);
                return self.section_done(end);
            }
            _ => self.u32()?,
        };
        if id == 10 {
            self.d.code_seen = true;
            if remaining != self.d.declared_funcs {
                return Err(self.malformed("function and code section have inconsistent lengths"));
            }
        }
        if id == 11 {
            self.d.data_seen = true;
            if let Some(n) = self.d.data_count {
                if n != remaining {
                    return Err(self.malformed("data count and data section have inconsistent lengths"));
                }
            }
        }
        Ok(Phase::Items { id, end, remaining })
    }

    fn section_done(&mut self, end: usize) -> Result<Phase> {
        if self.pos != end {
            return Err(self.malformed("section size mismatch"));
        }
        self.end = self.total;
        Ok(Phase::SectionHeader)
    }

    fn finish_module(&mut self) -> Result<Phase> {
        if !self.d.code_seen && self.d.declared_funcs > 0 {
            return Err(self.malformed("function and code section have inconsistent lengths"));
        }
        if let Some(n) = self.d.data_count {
            if !self.d.data_seen && n > 0 {
                return Err(self.malformed("data count and data section have inconsistent lengths"));
            }
        }
        Ok(Phase::Finished)
    }

    // ---- module records

    fn func_type(&mut self, f: u32) -> Result<FuncType> {
        let t = self.d.func_types.get(self.s, u64::from(f))?;
        self.d.types.get(self.s, u64::from(t))
    }

    fn declare_ref(&mut self, f: u32) -> Result<()> {
        let byte = u64::from(f / 8);
        self.d.refs.grow_zeroed(self.s, byte + 1, 0)?;
        let b = self.d.refs.get(self.s, byte)?;
        if b & (1 << (f % 8)) == 0 {
            self.d.refs.set(self.s, byte, b | (1 << (f % 8)))?;
        }
        Ok(())
    }

    fn is_declared_ref(&mut self, f: u32) -> Result<bool> {
        let byte = u64::from(f / 8);
        if byte >= self.d.refs.len() {
            return Ok(false);
        }
        Ok(self.d.refs.get(self.s, byte)? & (1 << (f % 8)) != 0)
    }

    fn insert_export_name(&mut self, name: &str, index: u32) -> Result<bool> {
        match &mut self.d.export_names {
            Some(names) => match names.entry(name.as_bytes().to_vec()) {
                std::collections::btree_map::Entry::Occupied(_) => Ok(false),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(index);
                    Ok(true)
                }
            },
            None => self.s.insert_name(name.as_bytes(), index).map_err(DecodeError::Store),
        }
    }

    fn valtype(&mut self) -> Result<ValType> {
        let at = self.pos;
        let t = match self.u8()? {
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
        if self.d.mode == Mode::Pvm && t.is_float() {
            return Err(DecodeError::FloatsForbidden {
                offset,
                what: format!("{t:?} type"),
            });
        }
        Ok(())
    }

    fn reftype(&mut self) -> Result<ValType> {
        match self.u8()? {
            0x70 => Ok(ValType::FuncRef),
            0x6f => Ok(ValType::ExternRef),
            _ => Err(self.malformed("malformed reference type")),
        }
    }

    fn limits(&mut self, bound: u64, what: &str) -> Result<Limits> {
        let flag = self.u8()?;
        let (min, max) = match flag {
            0x00 => (self.leb_unsigned(32)?, None),
            0x01 => (self.leb_unsigned(32)?, Some(self.leb_unsigned(32)?)),
            _ => return Err(self.malformed("integer too large: malformed limits flags")),
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

    fn table_type(&mut self) -> Result<TableType> {
        let elem = self.reftype()?;
        let limits = self.limits(u64::from(u32::MAX), "table")?;
        Ok(TableType { elem, limits })
    }

    fn memory_type(&mut self) -> Result<MemoryType> {
        let limits = self.limits(limits::MAX_MEMORY_PAGES, "memory")?;
        Ok(MemoryType { limits })
    }

    fn global_type(&mut self) -> Result<GlobalType> {
        let ty = self.valtype()?;
        let mutable = match self.u8()? {
            0 => false,
            1 => true,
            _ => return Err(self.malformed("malformed mutability")),
        };
        Ok(GlobalType { ty, mutable })
    }

    fn block_type(&mut self) -> Result<BlockType> {
        let at = self.pos;
        let b = self.peek()?;
        if b == 0x40 {
            self.pos += 1;
            return Ok(BlockType::Empty);
        }
        if matches!(b, 0x7f | 0x7e | 0x7d | 0x7c | 0x70 | 0x6f | 0x7b) {
            return Ok(BlockType::Value(self.valtype()?));
        }
        let index = self.s33()?;
        if index < 0 || index as u64 >= self.d.types.len() {
            return Err(DecodeError::Invalid {
                offset: at,
                message: format!("unknown type {index}"),
            });
        }
        Ok(BlockType::Index(index as u32))
    }

    /// The parameter and result types of a block type.
    fn block_signature(&mut self, block: BlockType) -> Result<(Vec<ValType>, Vec<ValType>)> {
        Ok(match block {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Value(t) => (vec![], vec![t]),
            BlockType::Index(i) => {
                let ty = self.d.types.get(self.s, u64::from(i))?;
                (ty.params, ty.results)
            }
            BlockType::Results(i) => (vec![], self.d.types.get(self.s, u64::from(i))?.results),
        })
    }

    /// A constant expression (one instruction and `end`).
    fn const_expr(&mut self) -> Result<ConstExpr> {
        let at = self.pos;
        let op = self.u8()?;
        let expr = match op {
            0x41 => ConstExpr::I32(self.s32()?),
            0x42 => ConstExpr::I64(self.s64()?),
            0x43 => {
                self.float_gate_op(at, "f32.const")?;
                ConstExpr::F32(u32::from_le_bytes(self.bytes(4)?.try_into().expect("4 bytes")))
            }
            0x44 => {
                self.float_gate_op(at, "f64.const")?;
                ConstExpr::F64(u64::from_le_bytes(self.bytes(8)?.try_into().expect("8 bytes")))
            }
            0xd0 => ConstExpr::RefNull(self.reftype()?),
            0xd2 => {
                let f = self.u32()?;
                if f as usize >= (self.d.func_types.len() as usize) {
                    return Err(self.invalid(format!("unknown function {f}")));
                }
                ConstExpr::RefFunc(f)
            }
            0x23 => {
                let g = self.u32()?;
                if g >= self.d.num_imported_globals {
                    return Err(self.invalid(format!("unknown global {g}")));
                }
                if self.d.globals.get(self.s, u64::from(g))?.mutable {
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
        match self.u8()? {
            0x0b => Ok(expr),
            _ => Err(self.invalid("constant expression required")),
        }
    }

    fn const_type(&mut self, e: &ConstExpr) -> Result<ValType> {
        Ok(match e {
            ConstExpr::I32(_) => ValType::I32,
            ConstExpr::I64(_) => ValType::I64,
            ConstExpr::F32(_) => ValType::F32,
            ConstExpr::F64(_) => ValType::F64,
            ConstExpr::RefNull(t) => *t,
            ConstExpr::RefFunc(_) => ValType::FuncRef,
            ConstExpr::GlobalGet(g) => self.d.globals.get(self.s, u64::from(*g))?.ty,
        })
    }

    fn float_gate_op(&self, offset: usize, what: &str) -> Result<()> {
        float_gate(self.d.mode, offset, what)
    }

    fn item(&mut self, id: u8, end: usize, remaining: u32) -> Result<Phase> {
        let next = Phase::Items {
            id,
            end,
            remaining: remaining - 1,
        };
        match id {
            1 => {
                if (self.d.types.len() as usize) >= limits::MAX_TYPES {
                    return Err(self.limit("too many types"));
                }
                if self.u8()? != 0x60 {
                    return Err(self.malformed("integer representation too long: malformed function type"));
                }
                let params = self.valtypes(limits::MAX_PARAMS, "parameters")?;
                let results = self.valtypes(limits::MAX_RESULTS, "results")?;
                self.d.types.push(self.s, FuncType { params, results })?;
            }
            2 => {
                if self.d.imports.len() >= limits::MAX_IMPORTS as u64 {
                    return Err(self.limit("too many imports"));
                }
                let module = self.name()?;
                let name = self.name()?;
                let kind = match self.u8()? {
                    0x00 => {
                        let t = self.u32()?;
                        if t as usize >= (self.d.types.len() as usize) {
                            return Err(self.invalid(format!("unknown type {t}")));
                        }
                        if (self.d.func_types.len() as usize) >= limits::MAX_FUNCTIONS {
                            return Err(self.limit("too many functions"));
                        }
                        self.d.func_types.push(self.s, t)?;
                        self.d.num_imported_funcs += 1;
                        ExternKind::Func(t)
                    }
                    0x01 => {
                        let t = self.table_type()?;
                        self.d.tables.push(self.s, t)?;
                        self.d.num_imported_tables += 1;
                        ExternKind::Table(t)
                    }
                    0x02 => {
                        let t = self.memory_type()?;
                        self.d.memories.push(t);
                        self.d.num_imported_memories += 1;
                        if self.d.memories.len() > 1 {
                            return Err(self.invalid("multiple memories"));
                        }
                        ExternKind::Memory(t)
                    }
                    0x03 => {
                        let t = self.global_type()?;
                        self.d.globals.push(self.s, t)?;
                        self.d.num_imported_globals += 1;
                        ExternKind::Global(t)
                    }
                    _ => return Err(self.malformed("malformed import kind")),
                };
                self.d.imports.push(self.s, Import { module, name, kind })?;
            }
            3 => {
                let t = self.u32()?;
                if t as usize >= (self.d.types.len() as usize) {
                    return Err(self.invalid(format!("unknown type {t}")));
                }
                if (self.d.func_types.len() as usize) >= limits::MAX_FUNCTIONS {
                    return Err(self.limit("too many functions"));
                }
                self.d.func_types.push(self.s, t)?;
                self.d.declared_funcs += 1;
            }
            4 => {
                let t = self.table_type()?;
                if (self.d.tables.len() as usize) >= limits::MAX_TABLES {
                    return Err(self.limit("too many tables"));
                }
                self.d.tables.push(self.s, t)?;
            }
            5 => {
                let t = self.memory_type()?;
                self.d.memories.push(t);
                if self.d.memories.len() > 1 {
                    return Err(self.invalid("multiple memories"));
                }
            }
            6 => {
                let t = self.global_type()?;
                let init = self.const_expr()?;
                if self.const_type(&init)? != t.ty {
                    return Err(self.invalid("type mismatch in global initializer"));
                }
                if let ConstExpr::RefFunc(f) = init {
                    self.declare_ref(f)?;
                }
                if (self.d.globals.len() as usize) >= limits::MAX_GLOBALS {
                    return Err(self.limit("too many globals"));
                }
                self.d.globals.push(self.s, t)?;
                self.d.global_inits.push(self.s, init)?;
            }
            7 => {
                let name = self.name()?;
                let kind = match self.u8()? {
                    0 => ExportKind::Func,
                    1 => ExportKind::Table,
                    2 => ExportKind::Memory,
                    3 => ExportKind::Global,
                    _ => return Err(self.malformed("malformed export kind")),
                };
                let index = self.u32()?;
                let bound = match kind {
                    ExportKind::Func => self.d.func_types.len() as usize,
                    ExportKind::Table => self.d.tables.len() as usize,
                    ExportKind::Memory => self.d.memories.len(),
                    ExportKind::Global => self.d.globals.len() as usize,
                };
                if index as usize >= bound {
                    return Err(self.invalid(format!("unknown {kind:?} {index}")));
                }
                if kind == ExportKind::Func {
                    self.declare_ref(index)?;
                }
                let export_index = u32::try_from(self.d.exports.len()).map_err(|_| corrupt("export count"))?;
                if !self.insert_export_name(&name, export_index)? {
                    return Err(self.invalid("duplicate export name"));
                }
                self.d.exports.push(self.s, Export { name, kind, index })?;
            }
            9 => return self.elem_segment(end, remaining - 1),
            10 => return self.body_start(end, remaining - 1),
            11 => return self.data_segment(end, remaining - 1),
            _ => return Err(self.malformed(format!("malformed section id {id}"))),
        }
        Ok(next)
    }

    fn valtypes(&mut self, max: usize, what: &str) -> Result<Vec<ValType>> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(self.limit(format!("too many {what}: {n} > {max}")));
        }
        (0..n).map(|_| self.valtype()).collect()
    }

    fn elem_segment(&mut self, end: usize, remaining_segments: u32) -> Result<Phase> {
        let flags = self.u32()?;
        if flags > 7 {
            return Err(self.malformed("malformed elements segment kind"));
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
            let index = if explicit_table { self.u32()? } else { 0 };
            if index as usize >= (self.d.tables.len() as usize) {
                return Err(self.invalid(format!("unknown table {index}")));
            }
            let offset = self.const_expr()?;
            if self.const_type(&offset)? != ValType::I32 {
                return Err(self.invalid("type mismatch in element offset"));
            }
            SegmentMode::Active { index, offset }
        };
        let ty = if flags & 3 == 0 {
            ValType::FuncRef
        } else if exprs {
            self.reftype()?
        } else {
            if self.u8()? != 0x00 {
                return Err(self.malformed("malformed element kind"));
            }
            ValType::FuncRef
        };
        if let SegmentMode::Active { index, .. } = mode {
            if self.d.tables.get(self.s, u64::from(index))?.elem != ty {
                return Err(self.invalid("type mismatch: element segment and table"));
            }
        }
        let count = self.u32()?;
        if count as usize > limits::MAX_SEGMENT_ITEMS {
            return Err(self.limit("element segment too long"));
        }
        if (self.d.elems.len() as usize) >= limits::MAX_SEGMENTS {
            return Err(self.limit("too many element segments"));
        }
        let start = self.d.elem_items.len();
        self.d.elems.push(
            self.s,
            ElemHeader {
                mode,
                ty,
                start,
                len: u64::from(count),
            },
        )?;
        Ok(Phase::ElemItems {
            end,
            remaining_segments,
            left: count,
            exprs,
        })
    }

    fn data_segment(&mut self, end: usize, remaining_segments: u32) -> Result<Phase> {
        let flags = self.u32()?;
        let mode = match flags {
            1 => SegmentMode::Passive,
            0 | 2 => {
                let index = if flags == 2 { self.u32()? } else { 0 };
                if index as usize >= self.d.memories.len() {
                    return Err(self.invalid(format!("unknown memory {index}")));
                }
                let offset = self.const_expr()?;
                if self.const_type(&offset)? != ValType::I32 {
                    return Err(self.invalid("type mismatch in data offset"));
                }
                SegmentMode::Active { index, offset }
            }
            _ => return Err(self.malformed("malformed data segment kind")),
        };
        let len = self.u32()? as usize;
        if len > limits::MAX_DATA_SEGMENT_BYTES {
            return Err(self.limit("data segment too large"));
        }
        if len > self.end - self.pos {
            return Err(self.malformed("unexpected end of section or function"));
        }
        if self.d.datas.len() >= limits::MAX_SEGMENTS as u64 {
            return Err(self.limit("too many data segments"));
        }
        let start = self.d.data_bytes.len();
        self.d.datas.push(
            self.s,
            DataHeader {
                mode,
                start,
                len: len as u64,
            },
        )?;
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

    fn body_start(&mut self, section_end: usize, remaining: u32) -> Result<Phase> {
        let size = self.u32()? as usize;
        if size > self.end - self.pos {
            return Err(self.malformed("unexpected end of section or function"));
        }
        if size > limits::MAX_BODY_BYTES {
            return Err(self.limit("function body too large"));
        }
        let end = self.pos + size;
        let func_index = u64::from(self.d.num_imported_funcs) + self.d.bodies.len();
        let type_index = self.d.func_types.get(self.s, func_index)?;
        let ty = self.d.types.get(self.s, u64::from(type_index))?;
        self.end = end;
        let groups = self.u32()?;
        let start_pc = self.d.code.len() as u32;
        self.d.locals.truncate(self.s, 0)?;
        self.d.stack.truncate(self.s, 0)?;
        self.d.ctrls.truncate(self.s, 0)?;
        for &t in &ty.params {
            self.d.locals.push(self.s, t)?;
        }
        self.d.ctrls.push(
            self.s,
            Ctrl {
                kind: CtrlKind::Function,
                block: BlockType::Results(type_index),
                height: 0,
                unreachable: false,
                loop_pc: 0,
                fixups: NO_FIXUP,
                else_fixup: None,
            },
        )?;
        self.d.body = Body {
            end,
            type_index,
            num_params: ty.params.len() as u32,
            max_height: 0,
            start_pc,
            local_groups_left: groups,
            pending_locals: 0,
            pending_type: None,
        };
        self.d.bodies.push(
            self.s,
            FuncBody {
                type_index,
                start: start_pc,
                num_locals: 0,
                max_height: 0,
            },
        )?;
        Ok(Phase::Code { section_end, remaining })
    }

    /// Reads local declarations and adds their locals, a bounded number per
    /// step.
    fn local_groups(&mut self) -> Result<()> {
        let mut groups = 0;
        let mut added = 0u32;
        loop {
            if self.d.body.pending_locals == 0 {
                if self.d.body.local_groups_left == 0 || groups == SLICE_ENTRIES {
                    break;
                }
                let count = self.u32()?;
                let t = self.valtype()?;
                let total = self.d.locals.len() + u64::from(count);
                if total > u64::from(u32::MAX) {
                    return Err(self.malformed("too many locals"));
                }
                if total > limits::MAX_LOCALS as u64 {
                    return Err(self.limit(format!("too many locals: {total} > {}", limits::MAX_LOCALS)));
                }
                self.d.body.pending_locals = count;
                self.d.body.pending_type = Some(t);
                self.d.body.local_groups_left -= 1;
                groups += 1;
            }
            let room = SLICE_BYTES as u32 - added;
            if room == 0 {
                break;
            }
            let n = self.d.body.pending_locals.min(room);
            let t = self
                .d
                .body
                .pending_type
                .ok_or_else(|| corrupt("locals pending without a type"))?;
            self.d.locals.extend_with(self.s, t, u64::from(n))?;
            self.d.body.pending_locals -= n;
            added += n;
        }
        if self.d.body.local_groups_left == 0 && self.d.body.pending_locals == 0 {
            let index = self
                .d
                .bodies
                .len()
                .checked_sub(1)
                .ok_or_else(|| corrupt("locals without a body"))?;
            let mut f = self.d.bodies.get(self.s, index)?;
            f.num_locals = self.d.locals.len() as u32 - self.d.body.num_params;
            self.d.bodies.set(self.s, index, f)?;
        }
        Ok(())
    }

    // ---- validator operand stack

    fn push(&mut self, t: Option<ValType>) -> Result<()> {
        self.d.stack.push(self.s, t)?;
        self.d.body.max_height = self.d.body.max_height.max(self.d.stack.len());
        Ok(())
    }

    fn top_ctrl(&mut self) -> Result<Ctrl> {
        self.d.ctrls.last(self.s)?.ok_or_else(|| corrupt("no control frame"))
    }

    fn pop(&mut self) -> Result<Option<ValType>> {
        let ctrl = self.top_ctrl()?;
        if self.d.stack.len() == ctrl.height {
            if ctrl.unreachable {
                return Ok(None);
            }
            return Err(self.invalid("type mismatch: operand stack underflow"));
        }
        self.d
            .stack
            .pop(self.s)?
            .ok_or_else(|| corrupt("operand stack below its frame"))
    }

    fn pop_expect(&mut self, expected: ValType) -> Result<()> {
        match self.pop()? {
            Some(t) if t != expected => Err(self.invalid(format!("type mismatch: expected {expected:?}, got {t:?}"))),
            _ => Ok(()),
        }
    }

    fn pop_many(&mut self, types: &[ValType]) -> Result<()> {
        for &t in types.iter().rev() {
            self.pop_expect(t)?;
        }
        Ok(())
    }

    fn push_many(&mut self, types: &[ValType]) -> Result<()> {
        for &t in types {
            self.push(Some(t))?;
        }
        Ok(())
    }

    fn push_ctrl(&mut self, kind: CtrlKind, block: BlockType, params: &[ValType]) -> Result<()> {
        let height = self.d.stack.len();
        let loop_pc = self.d.code.len() as u32;
        self.push_many(params)?;
        self.d.ctrls.push(
            self.s,
            Ctrl {
                kind,
                block,
                height,
                unreachable: false,
                loop_pc,
                fixups: NO_FIXUP,
                else_fixup: None,
            },
        )
    }

    fn pop_ctrl(&mut self) -> Result<Ctrl> {
        let ctrl = self
            .d
            .ctrls
            .last(self.s)?
            .ok_or_else(|| self.invalid("unexpected end"))?;
        let (_, results) = self.block_signature(ctrl.block)?;
        self.pop_many(&results)?;
        if self.d.stack.len() != ctrl.height {
            return Err(self.invalid("type mismatch: values remaining on stack at end of block"));
        }
        self.d.ctrls.pop(self.s)?;
        Ok(ctrl)
    }

    /// Checks that the operands on top of the stack match `types`, without
    /// consuming them.
    fn check_operands(&mut self, types: &[ValType]) -> Result<()> {
        let ctrl = self.top_ctrl()?;
        let len = self.d.stack.len();
        let available = len
            .checked_sub(ctrl.height)
            .ok_or_else(|| corrupt("operand stack below its frame"))?;
        for (i, &t) in types.iter().rev().enumerate() {
            let i = i as u64;
            if i >= available {
                if ctrl.unreachable {
                    return Ok(());
                }
                return Err(self.invalid("type mismatch: operand stack underflow"));
            }
            if let Some(actual) = self.d.stack.get(self.s, len - 1 - i)? {
                if actual != t {
                    return Err(self.invalid(format!("type mismatch: expected {t:?}, got {actual:?}")));
                }
            }
        }
        Ok(())
    }

    fn set_unreachable(&mut self) -> Result<()> {
        let index = self
            .d
            .ctrls
            .len()
            .checked_sub(1)
            .ok_or_else(|| corrupt("no control frame"))?;
        let mut ctrl = self.d.ctrls.get(self.s, index)?;
        self.d.stack.truncate(self.s, ctrl.height)?;
        if !ctrl.unreachable {
            ctrl.unreachable = true;
            self.d.ctrls.set(self.s, index, ctrl)?;
        }
        Ok(())
    }

    /// The types a branch to `ctrl`'s label carries.
    fn label_types(&mut self, ctrl: &Ctrl) -> Result<Vec<ValType>> {
        let (params, results) = self.block_signature(ctrl.block)?;
        Ok(if ctrl.kind == CtrlKind::Loop { params } else { results })
    }

    fn emit(&mut self, op: Op) -> Result<u32> {
        let pc = self.d.code.len() as u32;
        self.d.code.push(self.s, op)?;
        Ok(pc)
    }

    /// Sets the target of the branch at `at`, returning the target it had
    /// (the next link of a fixup chain).
    fn patch_target(&mut self, at: u32, target: u32) -> Result<u32> {
        let mut op = self.d.code.get(self.s, u64::from(at))?;
        let old = match &mut op {
            Op::Br { target: t, .. }
            | Op::BrIf { target: t, .. }
            | Op::BrUnless { target: t }
            | Op::BrTableEntry { target: t, .. } => std::mem::replace(t, target),
            _ => return Err(corrupt("a branch fixup does not point at a branch")),
        };
        self.d.code.set(self.s, u64::from(at), op)?;
        Ok(old)
    }

    /// Resolves up to [`PATCHES_PER_STEP`] branches of a fixup chain, then
    /// continues with `then` (or with the rest of the chain).
    fn patch_chain(&mut self, mut head: u32, target: u32, then: AfterPatch) -> Result<Phase> {
        for _ in 0..PATCHES_PER_STEP {
            if head == NO_FIXUP {
                break;
            }
            head = self.patch_target(head, target)?;
        }
        if head == NO_FIXUP {
            return Ok(then.phase());
        }
        Ok(Phase::Patch { head, target, then })
    }

    /// The branch op fields for label `depth` at the current stack height;
    /// chains the branch at `pc` to the label's fixups when the target is
    /// not yet known. Returns the label's types too.
    fn branch_to(&mut self, depth: u32, pc: u32) -> Result<(u32, u32, u32, Vec<ValType>)> {
        let n = self.d.ctrls.len();
        if u64::from(depth) >= n {
            return Err(self.invalid(format!("unknown label {depth}")));
        }
        let idx = n - 1 - u64::from(depth);
        let mut ctrl = self.d.ctrls.get(self.s, idx)?;
        let types = self.label_types(&ctrl)?;
        let arity = types.len() as u64;
        let drop = if self.top_ctrl()?.unreachable {
            0
        } else {
            self.d.stack.len().saturating_sub(ctrl.height + arity)
        };
        let target = if ctrl.kind == CtrlKind::Loop {
            ctrl.loop_pc
        } else {
            let link = ctrl.fixups;
            ctrl.fixups = pc;
            self.d.ctrls.set(self.s, idx, ctrl)?;
            link
        };
        Ok((target, drop as u32, arity as u32, types))
    }

    fn memarg(&mut self, natural_align: u32) -> Result<u32> {
        let align = self.u32()?;
        let offset = self.u32()?;
        if self.d.memories.is_empty() {
            return Err(self.invalid("unknown memory 0"));
        }
        if align > natural_align {
            return Err(self.invalid("alignment must not be larger than natural"));
        }
        Ok(offset)
    }

    fn check_local(&mut self, i: u32) -> Result<ValType> {
        if u64::from(i) >= self.d.locals.len() {
            return Err(self.invalid(format!("unknown local {i}")));
        }
        self.d.locals.get(self.s, u64::from(i))
    }

    fn check_global(&mut self, g: u32) -> Result<GlobalType> {
        if u64::from(g) >= self.d.globals.len() {
            return Err(self.invalid(format!("unknown global {g}")));
        }
        self.d.globals.get(self.s, u64::from(g))
    }

    fn check_table(&mut self, t: u32) -> Result<TableType> {
        if u64::from(t) >= self.d.tables.len() {
            return Err(self.invalid(format!("unknown table {t}")));
        }
        self.d.tables.get(self.s, u64::from(t))
    }

    fn check_memory(&self) -> Result<()> {
        if self.d.memories.is_empty() {
            return Err(self.invalid("unknown memory 0"));
        }
        Ok(())
    }

    fn check_data(&self, d: u32) -> Result<()> {
        match self.d.data_count {
            None => Err(DecodeError::Malformed {
                offset: self.start,
                message: "data count section required".into(),
            }),
            Some(n) if d >= n => Err(self.invalid(format!("unknown data segment {d}"))),
            Some(_) => Ok(()),
        }
    }

    fn check_elem(&mut self, e: u32) -> Result<ValType> {
        if u64::from(e) >= self.d.elems.len() {
            return Err(self.invalid(format!("unknown elem segment {e}")));
        }
        Ok(self.d.elems.get(self.s, u64::from(e))?.ty)
    }

    fn zero_byte(&mut self) -> Result<()> {
        if self.u8()? != 0 {
            return Err(self.malformed("zero byte expected"));
        }
        Ok(())
    }

    fn unop(&mut self, t: ValType, r: ValType, op: Op) -> Result<()> {
        self.pop_expect(t)?;
        self.push(Some(r))?;
        self.emit(op)?;
        Ok(())
    }

    fn binop(&mut self, t: ValType, r: ValType, op: Op) -> Result<()> {
        self.pop_expect(t)?;
        self.pop_expect(t)?;
        self.push(Some(r))?;
        self.emit(op)?;
        Ok(())
    }

    fn load(&mut self, align: u32, t: ValType, op: fn(u32) -> Op) -> Result<()> {
        let offset = self.memarg(align)?;
        self.pop_expect(ValType::I32)?;
        self.push(Some(t))?;
        self.emit(op(offset))?;
        Ok(())
    }

    fn store(&mut self, align: u32, t: ValType, op: fn(u32) -> Op) -> Result<()> {
        let offset = self.memarg(align)?;
        self.pop_expect(t)?;
        self.pop_expect(ValType::I32)?;
        self.emit(op(offset))?;
        Ok(())
    }

    fn instruction(&mut self, section_end: usize, remaining: u32) -> Result<Phase> {
        use ValType::*;
        let at = self.pos;
        if self.pos >= self.end {
            return Err(self.malformed("unexpected end of section or function: END opcode expected"));
        }
        let opcode = self.u8()?;
        let mode = self.d.mode;
        let float = |what: &str| float_gate(mode, at, what);
        match opcode {
            0x00 => {
                self.emit(Op::Unreachable)?;
                self.set_unreachable()?;
            }
            0x01 => {}
            0x02 | 0x03 => {
                let block = self.block_type()?;
                let (params, _) = self.block_signature(block)?;
                self.pop_many(&params)?;
                let kind = if opcode == 0x02 {
                    CtrlKind::Block
                } else {
                    CtrlKind::Loop
                };
                self.push_ctrl(kind, block, &params)?;
            }
            0x04 => {
                let block = self.block_type()?;
                let (params, _) = self.block_signature(block)?;
                self.pop_expect(I32)?;
                self.pop_many(&params)?;
                let at_pc = self.emit(Op::BrUnless { target: NO_FIXUP })?;
                self.push_ctrl(CtrlKind::If, block, &params)?;
                self.update_top(|ctrl| ctrl.else_fixup = Some(at_pc))?;
            }
            0x05 => {
                let ctrl = self.pop_ctrl()?;
                if ctrl.kind != CtrlKind::If {
                    return Err(self.invalid("else without if"));
                }
                // The then-branch's exit joins the chain of the if's forward branches.
                let jump = self.emit(Op::Br {
                    target: ctrl.fixups,
                    drop: 0,
                    keep: 0,
                })?;
                let else_pc = self.d.code.len() as u32;
                if let Some(f) = ctrl.else_fixup {
                    self.patch_target(f, else_pc)?;
                }
                let (params, _) = self.block_signature(ctrl.block)?;
                self.push_ctrl(CtrlKind::Else, ctrl.block, &params)?;
                self.update_top(|frame| frame.fixups = jump)?;
            }
            0x0b => {
                let ctrl = self.pop_ctrl()?;
                let (params, results) = self.block_signature(ctrl.block)?;
                if ctrl.kind == CtrlKind::If && params != results {
                    return Err(self.invalid("type mismatch: if without else must leave its parameters unchanged"));
                }
                // A branch to the function's label lands on its final `return`.
                let end_pc = self.d.code.len() as u32;
                if ctrl.kind == CtrlKind::Function {
                    self.emit(Op::Return)?;
                }
                if let Some(f) = ctrl.else_fixup {
                    self.patch_target(f, end_pc)?;
                }
                self.push_many(&results)?;
                let then = if ctrl.kind == CtrlKind::Function {
                    self.body_end(section_end, remaining)?
                } else {
                    AfterPatch::Code { section_end, remaining }
                };
                return self.patch_chain(ctrl.fixups, end_pc, then);
            }
            0x0c => {
                let depth = self.u32()?;
                let pc = self.d.code.len() as u32;
                let (target, drop, keep, types) = self.branch_to(depth, pc)?;
                self.pop_many(&types)?;
                self.emit(Op::Br { target, drop, keep })?;
                self.set_unreachable()?;
            }
            0x0d => {
                let depth = self.u32()?;
                self.pop_expect(I32)?;
                let pc = self.d.code.len() as u32;
                let (target, drop, keep, types) = self.branch_to(depth, pc)?;
                self.pop_many(&types)?;
                self.push_many(&types)?;
                self.emit(Op::BrIf { target, drop, keep })?;
            }
            0x0e => {
                let len = self.u32()?;
                if len as usize > limits::MAX_BR_TABLE {
                    return Err(self.limit("br_table too large"));
                }
                self.pop_expect(I32)?;
                self.emit(Op::BrTable { len })?;
                return Ok(Phase::BrTable {
                    section_end,
                    remaining,
                    left: len,
                    arity: None,
                    default_pending: true,
                });
            }
            0x0f => {
                let function = self.d.ctrls.get(self.s, 0)?;
                let (_, results) = self.block_signature(function.block)?;
                self.pop_many(&results)?;
                self.emit(Op::Return)?;
                self.set_unreachable()?;
            }
            0x10 => {
                let f = self.u32()?;
                if u64::from(f) >= self.d.func_types.len() {
                    return Err(self.invalid(format!("unknown function {f}")));
                }
                let ty = self.func_type(f)?;
                self.pop_many(&ty.params)?;
                self.push_many(&ty.results)?;
                self.emit(Op::Call { func: f })?;
            }
            0x11 => {
                let type_index = self.u32()?;
                let table = self.u32()?;
                let tt = self.check_table(table)?;
                if tt.elem != FuncRef {
                    return Err(self.invalid("type mismatch: call_indirect on a non-funcref table"));
                }
                if u64::from(type_index) >= self.d.types.len() {
                    return Err(self.invalid(format!("unknown type {type_index}")));
                }
                let ty = self.d.types.get(self.s, u64::from(type_index))?;
                self.pop_expect(I32)?;
                self.pop_many(&ty.params)?;
                self.push_many(&ty.results)?;
                self.emit(Op::CallIndirect { type_index, table })?;
            }
            0x1a => {
                self.pop()?;
                self.emit(Op::Drop)?;
            }
            0x1b => {
                self.pop_expect(I32)?;
                let t1 = self.pop()?;
                let t2 = self.pop()?;
                if t1.is_some_and(|t| !is_num(t)) || t2.is_some_and(|t| !is_num(t)) {
                    return Err(self.invalid("type mismatch: select needs numeric operands"));
                }
                if let (Some(x), Some(y)) = (t1, t2) {
                    if x != y {
                        return Err(self.invalid("type mismatch in select"));
                    }
                }
                self.push(t1.or(t2))?;
                self.emit(Op::Select)?;
            }
            0x1c => {
                let n = self.u32()?;
                if n != 1 {
                    return Err(self.invalid("invalid result arity for typed select"));
                }
                let t = self.valtype()?;
                self.pop_expect(I32)?;
                self.pop_expect(t)?;
                self.pop_expect(t)?;
                self.push(Some(t))?;
                self.emit(Op::Select)?;
            }
            0x20 => {
                let i = self.u32()?;
                let t = self.check_local(i)?;
                self.push(Some(t))?;
                self.emit(Op::LocalGet(i))?;
            }
            0x21 => {
                let i = self.u32()?;
                let t = self.check_local(i)?;
                self.pop_expect(t)?;
                self.emit(Op::LocalSet(i))?;
            }
            0x22 => {
                let i = self.u32()?;
                let t = self.check_local(i)?;
                self.pop_expect(t)?;
                self.push(Some(t))?;
                self.emit(Op::LocalTee(i))?;
            }
            0x23 => {
                let g = self.u32()?;
                let t = self.check_global(g)?;
                self.push(Some(t.ty))?;
                self.emit(Op::GlobalGet(g))?;
            }
            0x24 => {
                let g = self.u32()?;
                let t = self.check_global(g)?;
                if !t.mutable {
                    return Err(self.invalid("global is immutable"));
                }
                self.pop_expect(t.ty)?;
                self.emit(Op::GlobalSet(g))?;
            }
            0x25 => {
                let t = self.u32()?;
                let tt = self.check_table(t)?;
                self.pop_expect(I32)?;
                self.push(Some(tt.elem))?;
                self.emit(Op::TableGet(t))?;
            }
            0x26 => {
                let t = self.u32()?;
                let tt = self.check_table(t)?;
                self.pop_expect(tt.elem)?;
                self.pop_expect(I32)?;
                self.emit(Op::TableSet(t))?;
            }
            0x28 => self.load(2, I32, Op::I32Load)?,
            0x29 => self.load(3, I64, Op::I64Load)?,
            0x2a => {
                float("f32.load")?;
                self.load(2, F32, Op::F32Load)?
            }
            0x2b => {
                float("f64.load")?;
                self.load(3, F64, Op::F64Load)?
            }
            0x2c => self.load(0, I32, Op::I32Load8S)?,
            0x2d => self.load(0, I32, Op::I32Load8U)?,
            0x2e => self.load(1, I32, Op::I32Load16S)?,
            0x2f => self.load(1, I32, Op::I32Load16U)?,
            0x30 => self.load(0, I64, Op::I64Load8S)?,
            0x31 => self.load(0, I64, Op::I64Load8U)?,
            0x32 => self.load(1, I64, Op::I64Load16S)?,
            0x33 => self.load(1, I64, Op::I64Load16U)?,
            0x34 => self.load(2, I64, Op::I64Load32S)?,
            0x35 => self.load(2, I64, Op::I64Load32U)?,
            0x36 => self.store(2, I32, Op::I32Store)?,
            0x37 => self.store(3, I64, Op::I64Store)?,
            0x38 => {
                float("f32.store")?;
                self.store(2, F32, Op::F32Store)?
            }
            0x39 => {
                float("f64.store")?;
                self.store(3, F64, Op::F64Store)?
            }
            0x3a => self.store(0, I32, Op::I32Store8)?,
            0x3b => self.store(1, I32, Op::I32Store16)?,
            0x3c => self.store(0, I64, Op::I64Store8)?,
            0x3d => self.store(1, I64, Op::I64Store16)?,
            0x3e => self.store(2, I64, Op::I64Store32)?,
            0x3f => {
                self.zero_byte()?;
                self.check_memory()?;
                self.push(Some(I32))?;
                self.emit(Op::MemorySize)?;
            }
            0x40 => {
                self.zero_byte()?;
                self.check_memory()?;
                self.pop_expect(I32)?;
                self.push(Some(I32))?;
                self.emit(Op::MemoryGrow)?;
            }
            0x41 => {
                let v = self.s32()?;
                self.push(Some(I32))?;
                self.emit(Op::I32Const(v))?;
            }
            0x42 => {
                let v = self.s64()?;
                self.push(Some(I64))?;
                self.emit(Op::I64Const(v))?;
            }
            0x43 => {
                float("f32.const")?;
                let v = u32::from_le_bytes(self.bytes(4)?.try_into().expect("4 bytes"));
                self.push(Some(F32))?;
                self.emit(Op::F32Const(v))?;
            }
            0x44 => {
                float("f64.const")?;
                let v = u64::from_le_bytes(self.bytes(8)?.try_into().expect("8 bytes"));
                self.push(Some(F64))?;
                self.emit(Op::F64Const(v))?;
            }
            0x45 => self.unop(I32, I32, Op::I32Eqz)?,
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
                self.binop(I32, I32, op)?
            }
            0x50 => self.unop(I64, I32, Op::I64Eqz)?,
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
                self.binop(I64, I32, op)?
            }
            0x5b..=0x60 => {
                float("f32 comparison")?;
                let op = [Op::F32Eq, Op::F32Ne, Op::F32Lt, Op::F32Gt, Op::F32Le, Op::F32Ge][(opcode - 0x5b) as usize];
                self.binop(F32, I32, op)?
            }
            0x61..=0x66 => {
                float("f64 comparison")?;
                let op = [Op::F64Eq, Op::F64Ne, Op::F64Lt, Op::F64Gt, Op::F64Le, Op::F64Ge][(opcode - 0x61) as usize];
                self.binop(F64, I32, op)?
            }
            0x67 => self.unop(I32, I32, Op::I32Clz)?,
            0x68 => self.unop(I32, I32, Op::I32Ctz)?,
            0x69 => self.unop(I32, I32, Op::I32Popcnt)?,
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
                self.binop(I32, I32, op)?
            }
            0x79 => self.unop(I64, I64, Op::I64Clz)?,
            0x7a => self.unop(I64, I64, Op::I64Ctz)?,
            0x7b => self.unop(I64, I64, Op::I64Popcnt)?,
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
                self.binop(I64, I64, op)?
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
                self.unop(F32, F32, op)?
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
                self.binop(F32, F32, op)?
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
                self.unop(F64, F64, op)?
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
                self.binop(F64, F64, op)?
            }
            0xa7 => self.unop(I64, I32, Op::I32WrapI64)?,
            0xa8..=0xab => {
                float("float-to-int conversion")?;
                let (t, op) = [
                    (F32, Op::I32TruncF32S),
                    (F32, Op::I32TruncF32U),
                    (F64, Op::I32TruncF64S),
                    (F64, Op::I32TruncF64U),
                ][(opcode - 0xa8) as usize];
                self.unop(t, I32, op)?
            }
            0xac => self.unop(I32, I64, Op::I64ExtendI32S)?,
            0xad => self.unop(I32, I64, Op::I64ExtendI32U)?,
            0xae..=0xb1 => {
                float("float-to-int conversion")?;
                let (t, op) = [
                    (F32, Op::I64TruncF32S),
                    (F32, Op::I64TruncF32U),
                    (F64, Op::I64TruncF64S),
                    (F64, Op::I64TruncF64U),
                ][(opcode - 0xae) as usize];
                self.unop(t, I64, op)?
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
                self.unop(t, r, op)?
            }
            0xc0 => self.unop(I32, I32, Op::I32Extend8S)?,
            0xc1 => self.unop(I32, I32, Op::I32Extend16S)?,
            0xc2 => self.unop(I64, I64, Op::I64Extend8S)?,
            0xc3 => self.unop(I64, I64, Op::I64Extend16S)?,
            0xc4 => self.unop(I64, I64, Op::I64Extend32S)?,
            0xd0 => {
                let t = self.reftype()?;
                self.push(Some(t))?;
                self.emit(Op::RefNull)?;
            }
            0xd1 => {
                match self.pop()? {
                    Some(t) if !t.is_ref() => return Err(self.invalid("type mismatch: ref.is_null needs a reference")),
                    _ => {}
                }
                self.push(Some(I32))?;
                self.emit(Op::RefIsNull)?;
            }
            0xd2 => {
                let f = self.u32()?;
                if u64::from(f) >= self.d.func_types.len() {
                    return Err(self.invalid(format!("unknown function {f}")));
                }
                if !self.is_declared_ref(f)? {
                    return Err(self.invalid(format!("undeclared function reference {f}")));
                }
                self.push(Some(FuncRef))?;
                self.emit(Op::RefFunc(f))?;
            }
            0xfc => self.prefixed(at)?,
            0xfd => return Err(DecodeError::SimdUnsupported { offset: at }),
            _ => {
                return Err(DecodeError::Malformed {
                    offset: at,
                    message: format!("illegal opcode {opcode:#04x}"),
                })
            }
        }
        if self.d.code.len() > limits::MAX_CODE_OPS as u64 {
            return Err(self.limit("too much code"));
        }
        Ok(Phase::Code { section_end, remaining })
    }

    fn prefixed(&mut self, at: usize) -> Result<()> {
        use ValType::*;
        let sub = self.u32()?;
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
                self.unop(t, r, op)
            }
            8 => {
                let d = self.u32()?;
                self.zero_byte()?;
                self.check_memory()?;
                self.check_data(d)?;
                self.pop_many(&[I32, I32, I32])?;
                self.emit(Op::MemoryInit(d))?;
                Ok(())
            }
            9 => {
                let d = self.u32()?;
                self.check_data(d)?;
                self.emit(Op::DataDrop(d))?;
                Ok(())
            }
            10 => {
                self.zero_byte()?;
                self.zero_byte()?;
                self.check_memory()?;
                self.pop_many(&[I32, I32, I32])?;
                self.emit(Op::MemoryCopy)?;
                Ok(())
            }
            11 => {
                self.zero_byte()?;
                self.check_memory()?;
                self.pop_many(&[I32, I32, I32])?;
                self.emit(Op::MemoryFill)?;
                Ok(())
            }
            12 => {
                let elem = self.u32()?;
                let table = self.u32()?;
                let tt = self.check_table(table)?;
                let et = self.check_elem(elem)?;
                if tt.elem != et {
                    return Err(self.invalid("type mismatch: table.init"));
                }
                self.pop_many(&[I32, I32, I32])?;
                self.emit(Op::TableInit { table, elem })?;
                Ok(())
            }
            13 => {
                let elem = self.u32()?;
                self.check_elem(elem)?;
                self.emit(Op::ElemDrop(elem))?;
                Ok(())
            }
            14 => {
                let dst = self.u32()?;
                let src = self.u32()?;
                let d = self.check_table(dst)?;
                let s = self.check_table(src)?;
                if d.elem != s.elem {
                    return Err(self.invalid("type mismatch: table.copy"));
                }
                self.pop_many(&[I32, I32, I32])?;
                self.emit(Op::TableCopy { dst, src })?;
                Ok(())
            }
            15 => {
                let t = self.u32()?;
                let tt = self.check_table(t)?;
                self.pop_expect(I32)?;
                self.pop_expect(tt.elem)?;
                self.push(Some(I32))?;
                self.emit(Op::TableGrow(t))?;
                Ok(())
            }
            16 => {
                let t = self.u32()?;
                self.check_table(t)?;
                self.push(Some(I32))?;
                self.emit(Op::TableSize(t))?;
                Ok(())
            }
            17 => {
                let t = self.u32()?;
                let tt = self.check_table(t)?;
                self.pop_expect(I32)?;
                self.pop_expect(tt.elem)?;
                self.pop_expect(I32)?;
                self.emit(Op::TableFill(t))?;
                Ok(())
            }
            _ => Err(DecodeError::Malformed {
                offset: at,
                message: format!("illegal opcode 0xfc {sub}"),
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update_top(&mut self, change: impl FnOnce(&mut Ctrl)) -> Result<()> {
        let index = self
            .d
            .ctrls
            .len()
            .checked_sub(1)
            .ok_or_else(|| corrupt("no control frame"))?;
        let mut ctrl = self.d.ctrls.get(self.s, index)?;
        change(&mut ctrl);
        self.d.ctrls.set(self.s, index, ctrl)
    }

    fn br_table_entries(
        &mut self,
        section_end: usize,
        remaining: u32,
        left: u32,
        mut arity: Option<u32>,
        default_pending: bool,
    ) -> Result<Phase> {
        let n = left.min(SLICE_TARGETS);
        let mut entries = Vec::with_capacity(n as usize + 1);
        for _ in 0..n {
            entries.push(self.u32()?);
        }
        let finishing = left == n;
        if finishing && default_pending {
            entries.push(self.u32()?);
        }
        for depth in entries {
            let ctrls = self.d.ctrls.len();
            if u64::from(depth) >= ctrls {
                return Err(self.invalid(format!("unknown label {depth}")));
            }
            let ctrl = self.d.ctrls.get(self.s, ctrls - 1 - u64::from(depth))?;
            let types = self.label_types(&ctrl)?;
            match arity {
                None => arity = Some(types.len() as u32),
                Some(a) if a as usize != types.len() => {
                    return Err(self.invalid("type mismatch: br_table arity mismatch"))
                }
                _ => {}
            }
            // Every target's types must accept the operands.
            self.check_operands(&types)?;
            let pc = self.d.code.len() as u32;
            let (target, drop, keep, _) = self.branch_to(depth, pc)?;
            self.emit(Op::BrTableEntry { target, drop, keep })?;
        }
        if finishing {
            self.set_unreachable()?;
            return Ok(Phase::Code { section_end, remaining });
        }
        Ok(Phase::BrTable {
            section_end,
            remaining,
            left: left - n,
            arity,
            default_pending,
        })
    }

    fn body_end(&mut self, section_end: usize, remaining: u32) -> Result<AfterPatch> {
        if self.pos != self.d.body.end {
            return Err(self.malformed("section size mismatch: END opcode expected before the end of the body"));
        }
        let index = self
            .d
            .bodies
            .len()
            .checked_sub(1)
            .ok_or_else(|| corrupt("a body end without a body"))?;
        let mut f = self.d.bodies.get(self.s, index)?;
        f.max_height = self.d.body.max_height as u32;
        self.d.bodies.set(self.s, index, f)?;
        self.end = section_end;
        Ok(AfterPatch::Bodies { section_end, remaining })
    }
}
