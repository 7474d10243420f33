//! WebAssembly-level metering, applied before compilation (as Arbitrum Nitro
//! does), so that compiled code counts PVM ticks exactly.
//!
//! **Ticks.** soru's interpreter spends one tick per decoded op
//! (`soru_wasm::code`): every instruction is one op except `nop`, `block`,
//! `loop` and the `end` of a block, which emit none; a function's final
//! `end` is a `return` op; a branch to the function's label is a `br` to
//! that `return`, so it costs two. Bulk operations cost one tick plus one
//! per chunk moved.
//!
//! **Segments.** A function is cut into straight-line *metering segments*:
//! a segment ends after every branch, `if`, `else`, `loop` header, call and
//! bulk operation, and at every `end` something may branch to. Each segment
//! starts by subtracting its static cost from the `ticks` global (the ticks
//! left in the run); bulk operations then charge their chunks from their
//! runtime length. When the ticks left are fewer than a segment's cost the
//! run stops: exactly "too many ticks" when none were left (the PVM would
//! hit the boundary before the segment's first op), "crosses the limit"
//! otherwise (the caller re-runs the kernel on the PVM, which alone knows
//! whether an op of the segment traps first).
//!
//! **Stack limits.** Every function's prologue checks the PVM's call-depth
//! limit (60 000 frames) and value-slot limit (4 Mi slots: the caller's
//! stack height, the callee's parameters, locals and maximum operand
//! height), with the caller's height passed in the `sp` global, so "call
//! stack exhausted" happens at the same call as on the PVM.
//!
//! Function, type, global and local indices of the kernel are unchanged:
//! what is added (types, three helper functions, four globals and their
//! exports, a few locals per function) comes after the kernel's own.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{BlockType, Function, Instruction, ValType};
use wasmparser::{
    FuncValidator, Operator, OperatorsReader, Parser, Payload, Validator, ValidatorResources, WasmFeatures,
    WasmModuleResources,
};

/// Export name of the `i64` global holding the ticks left in the run.
pub(crate) const TICKS_EXPORT: &str = "\u{0}soru:ticks";
/// Export name of the `i32` global saying why metering stopped the run.
pub(crate) const EXIT_EXPORT: &str = "\u{0}soru:exit";
/// Export name of the `i32` global passing a callee its stack base.
pub(crate) const SP_EXPORT: &str = "\u{0}soru:sp";
/// Export name of the `i32` global holding the call depth.
pub(crate) const DEPTH_EXPORT: &str = "\u{0}soru:depth";
/// Prefix no kernel export may use.
const RESERVED_PREFIX: &str = "\u{0}soru:";

/// Why metering stopped a run (the value of the exit global).
pub(crate) mod exit {
    /// The cycle's ticks ran out exactly: "too many ticks".
    pub(crate) const TOO_MANY_TICKS: i32 = 1;
    /// A segment needs more ticks than are left but some were left.
    pub(crate) const CROSSES_LIMIT: i32 = 2;
    /// The call-depth or value-slot limit was hit.
    pub(crate) const EXHAUSTED: i32 = 3;
}

/// The WebAssembly features of the PVM (soru-wasm's `Mode::Pvm` accepts
/// no floats at all; wasmparser checks the rest).
pub(crate) fn features() -> WasmFeatures {
    WasmFeatures::WASM2.difference(WasmFeatures::SIMD)
}

/// Chunk sizes of the bulk operations, as shifts.
const MEMORY_CHUNK_SHIFT: i64 = soru_wasm::exec::BULK_MEMORY_CHUNK.trailing_zeros() as i64;
const TABLE_CHUNK_SHIFT: i64 = soru_wasm::exec::BULK_TABLE_CHUNK.trailing_zeros() as i64;
const MAX_FRAMES: i32 = soru_wasm::limits::MAX_FRAMES as i32;
const MAX_STACK_SLOTS: i32 = soru_wasm::limits::MAX_STACK_SLOTS as i32;
const _: () = assert!(soru_wasm::exec::BULK_MEMORY_CHUNK.is_power_of_two());
const _: () = assert!(soru_wasm::exec::BULK_TABLE_CHUNK.is_power_of_two());

/// Why a module could not be instrumented (it then runs on the PVM only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    /// wasmparser refused the module (beyond one of its own limits).
    #[error("module refused by wasmparser: {0}")]
    Invalid(String),
    /// The module exports a name soru's metering reserves.
    #[error("the module exports the reserved name {0:?}")]
    ReservedName(String),
    /// Re-encoding failed.
    #[error("re-encoding the module: {0}")]
    Encode(String),
    /// A function body larger than [`MAX_FUNCTION_BODY_BYTES`]: Cranelift's
    /// time grows faster than linearly in one function's size, so such a
    /// kernel runs on the PVM rather than stall the node compiling it.
    #[error("function body of {0} bytes (at most {MAX_FUNCTION_BODY_BYTES} are compiled)")]
    FunctionTooLarge(usize),
}

/// The largest function body compiled (bytes of the original body). rustc's
/// kernels have bodies of a few KiB; the largest seen is under 100 KiB.
pub const MAX_FUNCTION_BODY_BYTES: usize = 1 << 20;

impl From<wasmparser::BinaryReaderError> for InstrumentError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        InstrumentError::Invalid(e.to_string())
    }
}

impl<E: std::fmt::Display> From<wasm_encoder::reencode::Error<E>> for InstrumentError {
    fn from(e: wasm_encoder::reencode::Error<E>) -> Self {
        InstrumentError::Encode(e.to_string())
    }
}

/// Whether `op` can trap.
fn can_trap(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Unreachable
            | Operator::I32DivS { .. }
            | Operator::I32DivU { .. }
            | Operator::I32RemS { .. }
            | Operator::I32RemU { .. }
            | Operator::I64DivS { .. }
            | Operator::I64DivU { .. }
            | Operator::I64RemS { .. }
            | Operator::I64RemU { .. }
            | Operator::I32Load { .. }
            | Operator::I64Load { .. }
            | Operator::I32Load8S { .. }
            | Operator::I32Load8U { .. }
            | Operator::I32Load16S { .. }
            | Operator::I32Load16U { .. }
            | Operator::I64Load8S { .. }
            | Operator::I64Load8U { .. }
            | Operator::I64Load16S { .. }
            | Operator::I64Load16U { .. }
            | Operator::I64Load32S { .. }
            | Operator::I64Load32U { .. }
            | Operator::I32Store { .. }
            | Operator::I64Store { .. }
            | Operator::I32Store8 { .. }
            | Operator::I32Store16 { .. }
            | Operator::I64Store8 { .. }
            | Operator::I64Store16 { .. }
            | Operator::I64Store32 { .. }
            | Operator::MemoryFill { .. }
            | Operator::MemoryCopy { .. }
            | Operator::MemoryInit { .. }
            | Operator::TableGet { .. }
            | Operator::TableSet { .. }
            | Operator::TableFill { .. }
            | Operator::TableCopy { .. }
            | Operator::TableInit { .. }
            | Operator::CallIndirect { .. }
    )
}

/// Indices of what instrumentation adds.
#[derive(Debug, Clone, Copy)]
struct Added {
    ticks: u32,
    exit: u32,
    sp: u32,
    depth: u32,
    out_of_ticks: u32,
    out_of_ticks_exact: u32,
    exhausted: u32,
}

/// How finely code is cut into segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Metering {
    /// Segments as long as control flow allows: the fast default.
    Coarse,
    /// Every instruction that can trap also gets a segment of its own, so a
    /// segment crossing the tick limit never hides a trap: running out of
    /// ticks is always decided exactly. For re-running a kernel run that
    /// coarse metering could not decide.
    Precise,
}

/// Instruments `wasm`.
pub(crate) fn instrument(wasm: &[u8], metering: Metering) -> Result<Vec<u8>, InstrumentError> {
    Instrumenter {
        precise: metering == Metering::Precise,
        ..Instrumenter::default()
    }
    .run(wasm)
}

#[derive(Default)]
struct Instrumenter {
    module: wasm_encoder::Module,
    /// Sections of ours emitted so far (types, functions, globals, exports, code).
    done: [bool; 5],
    /// Type index of `[] -> results` for every type with parameters and
    /// several results (the block wrapping a function body).
    result_block_types: Vec<(u32, u32)>,
    func_imports: u32,
    defined_funcs: u32,
    globals: u32,
    added: Option<Added>,
    helper_types: (u32, u32),
    code: Option<(wasm_encoder::CodeSection, u32)>,
    precise: bool,
}

const TYPES: usize = 0;
const FUNCS: usize = 1;
const GLOBALS: usize = 2;
const EXPORTS: usize = 3;
const CODE: usize = 4;

/// Order of the known sections (custom ones are dropped).
fn rank(id: u8) -> u8 {
    match id {
        1 => 1,   // type
        2 => 2,   // import
        3 => 3,   // function
        4 => 4,   // table
        5 => 5,   // memory
        13 => 6,  // tag
        6 => 7,   // global
        7 => 8,   // export
        8 => 9,   // start
        9 => 10,  // element
        12 => 11, // data count
        10 => 12, // code
        11 => 13, // data
        _ => 0,
    }
}

/// Rank of the section each of ours replaces or is inserted as.
const OURS: [u8; 5] = [1, 3, 7, 8, 12];

impl Instrumenter {
    fn run(mut self, wasm: &[u8]) -> Result<Vec<u8>, InstrumentError> {
        let mut validator = Validator::new_with_features(features());
        let mut rc = RoundtripReencoder;
        for payload in Parser::new(0).parse_all(wasm) {
            let payload = payload?;
            let valid = validator.payload(&payload)?;
            if let Some((id, _)) = payload.as_section() {
                self.insert_missing_before(rank(id))?;
            }
            match payload {
                Payload::TypeSection(reader) => {
                    let mut types = wasm_encoder::TypeSection::new();
                    let mut multi_results = Vec::new();
                    for (i, group) in reader.clone().into_iter().enumerate() {
                        for sub in group?.into_types() {
                            if let wasmparser::CompositeInnerType::Func(f) = &sub.composite_type.inner {
                                if !f.params().is_empty() && f.results().len() > 1 {
                                    multi_results.push((i as u32, f.results().to_vec()));
                                }
                            }
                        }
                    }
                    rc.parse_type_section(&mut types, reader)?;
                    self.add_types(&mut types, &multi_results)?;
                    self.module.section(&types);
                    self.done[TYPES] = true;
                }
                Payload::ImportSection(reader) => {
                    let mut imports = wasm_encoder::ImportSection::new();
                    for import in reader.clone().into_imports() {
                        match import?.ty {
                            wasmparser::TypeRef::Func(_) => self.func_imports += 1,
                            wasmparser::TypeRef::Global(_) => self.globals += 1,
                            _ => {}
                        }
                    }
                    rc.parse_import_section(&mut imports, reader)?;
                    self.module.section(&imports);
                }
                Payload::FunctionSection(reader) => {
                    let mut funcs = wasm_encoder::FunctionSection::new();
                    self.defined_funcs = reader.count();
                    rc.parse_function_section(&mut funcs, reader)?;
                    self.add_functions(&mut funcs);
                    self.module.section(&funcs);
                    self.done[FUNCS] = true;
                }
                Payload::TableSection(reader) => {
                    let mut s = wasm_encoder::TableSection::new();
                    rc.parse_table_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::MemorySection(reader) => {
                    let mut s = wasm_encoder::MemorySection::new();
                    rc.parse_memory_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::GlobalSection(reader) => {
                    let mut s = wasm_encoder::GlobalSection::new();
                    self.globals += reader.count();
                    rc.parse_global_section(&mut s, reader)?;
                    self.add_globals(&mut s);
                    self.module.section(&s);
                    self.done[GLOBALS] = true;
                }
                Payload::ExportSection(reader) => {
                    let mut s = wasm_encoder::ExportSection::new();
                    for export in reader.clone() {
                        let export = export?;
                        if export.name.starts_with(RESERVED_PREFIX) {
                            return Err(InstrumentError::ReservedName(export.name.to_string()));
                        }
                    }
                    rc.parse_export_section(&mut s, reader)?;
                    self.add_exports(&mut s);
                    self.module.section(&s);
                    self.done[EXPORTS] = true;
                }
                Payload::StartSection { func, .. } => {
                    self.module
                        .section(&wasm_encoder::StartSection { function_index: func });
                }
                Payload::ElementSection(reader) => {
                    let mut s = wasm_encoder::ElementSection::new();
                    rc.parse_element_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::DataCountSection { count, .. } => {
                    self.module.section(&wasm_encoder::DataCountSection { count });
                }
                Payload::DataSection(reader) => {
                    let mut s = wasm_encoder::DataSection::new();
                    rc.parse_data_section(&mut s, reader)?;
                    self.module.section(&s);
                }
                Payload::CodeSectionStart { count, .. } => {
                    self.code = Some((wasm_encoder::CodeSection::new(), count));
                }
                Payload::CodeSectionEntry(body) => {
                    if body.range().len() > MAX_FUNCTION_BODY_BYTES {
                        return Err(InstrumentError::FunctionTooLarge(body.range().len()));
                    }
                    let wasmparser::ValidPayload::Func(func, _) = valid else {
                        return Err(InstrumentError::Invalid("a function body without its validator".into()));
                    };
                    let validator = func.into_validator(Default::default());
                    let function = self.function(validator, &body)?;
                    let Some((codes, left)) = self.code.as_mut() else {
                        return Err(InstrumentError::Invalid(
                            "a function body outside the code section".into(),
                        ));
                    };
                    codes.function(&function);
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        self.finish_code();
                    }
                }
                Payload::End(_) => self.insert_missing_before(u8::MAX)?,
                // Custom sections are dropped; anything else was refused by
                // the validator above.
                _ => {}
            }
        }
        Ok(self.module.finish())
    }

    /// Emits each of our sections the module lacks whose place comes before
    /// a section of rank `next`.
    fn insert_missing_before(&mut self, next: u8) -> Result<(), InstrumentError> {
        for (which, &place) in OURS.iter().enumerate() {
            if self.done[which] || place >= next {
                continue;
            }
            match which {
                TYPES => {
                    let mut s = wasm_encoder::TypeSection::new();
                    self.add_types(&mut s, &[])?;
                    self.module.section(&s);
                }
                FUNCS => {
                    let mut s = wasm_encoder::FunctionSection::new();
                    self.add_functions(&mut s);
                    self.module.section(&s);
                }
                GLOBALS => {
                    let mut s = wasm_encoder::GlobalSection::new();
                    self.add_globals(&mut s);
                    self.module.section(&s);
                }
                EXPORTS => {
                    let mut s = wasm_encoder::ExportSection::new();
                    self.add_exports(&mut s);
                    self.module.section(&s);
                }
                _ => {
                    // A module without code: only the helpers.
                    self.finish_code();
                }
            }
            self.done[which] = true;
        }
        Ok(())
    }

    fn add_types(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        multi_results: &[(u32, Vec<wasmparser::ValType>)],
    ) -> Result<(), InstrumentError> {
        let mut rc = RoundtripReencoder;
        let base = types.len();
        types.ty().function([ValType::I64, ValType::I64], []);
        types.ty().function([], []);
        self.helper_types = (base, base + 1);
        for (original, results) in multi_results {
            let results = results.iter().map(|&t| rc.val_type(t)).collect::<Result<Vec<_>, _>>()?;
            self.result_block_types.push((*original, types.len()));
            types.ty().function([], results);
        }
        Ok(())
    }

    fn add_functions(&mut self, funcs: &mut wasm_encoder::FunctionSection) {
        let (with_cost, plain) = self.helper_types;
        funcs.function(with_cost);
        funcs.function(plain);
        funcs.function(plain);
    }

    fn added(&mut self) -> Added {
        if let Some(a) = self.added {
            return a;
        }
        let funcs = self.func_imports + self.defined_funcs;
        let a = Added {
            ticks: self.globals,
            exit: self.globals + 1,
            sp: self.globals + 2,
            depth: self.globals + 3,
            out_of_ticks: funcs,
            out_of_ticks_exact: funcs + 1,
            exhausted: funcs + 2,
        };
        self.added = Some(a);
        a
    }

    fn add_globals(&mut self, globals: &mut wasm_encoder::GlobalSection) {
        let ty = |val_type| wasm_encoder::GlobalType {
            val_type,
            mutable: true,
            shared: false,
        };
        // The start function runs unmetered: it is part of the load, whose
        // ticks the PVM's loading code counts.
        globals.global(ty(ValType::I64), &wasm_encoder::ConstExpr::i64_const(i64::MAX));
        for _ in 0..3 {
            globals.global(ty(ValType::I32), &wasm_encoder::ConstExpr::i32_const(0));
        }
    }

    fn add_exports(&mut self, exports: &mut wasm_encoder::ExportSection) {
        let a = self.added();
        for (name, index) in [
            (TICKS_EXPORT, a.ticks),
            (EXIT_EXPORT, a.exit),
            (SP_EXPORT, a.sp),
            (DEPTH_EXPORT, a.depth),
        ] {
            exports.export(name, wasm_encoder::ExportKind::Global, index);
        }
    }

    /// Appends the helpers' bodies and emits the code section.
    fn finish_code(&mut self) {
        let a = self.added();
        let (mut codes, _) = self.code.take().unwrap_or_default();
        // out_of_ticks(cost, safe): put the ticks back; the PVM would run
        // the ticks left of the segment and stop at the boundary, which is
        // certain if none of them can trap (they are within the `safe`
        // ticks before the segment's first instruction that can).
        let mut f = Function::new_with_locals_types([ValType::I64]);
        for i in [
            Instruction::GlobalGet(a.ticks),
            Instruction::LocalGet(0),
            Instruction::I64Add,
            Instruction::LocalTee(2),
            Instruction::GlobalSet(a.ticks),
            Instruction::I32Const(exit::TOO_MANY_TICKS),
            Instruction::I32Const(exit::CROSSES_LIMIT),
            Instruction::LocalGet(2),
            Instruction::LocalGet(1),
            Instruction::I64LeS,
            Instruction::Select,
            Instruction::GlobalSet(a.exit),
            Instruction::Unreachable,
            Instruction::End,
        ] {
            f.instruction(&i);
        }
        codes.function(&f);
        for code in [exit::TOO_MANY_TICKS, exit::EXHAUSTED] {
            let mut f = Function::new([]);
            for i in [
                Instruction::I32Const(code),
                Instruction::GlobalSet(a.exit),
                Instruction::Unreachable,
                Instruction::End,
            ] {
                f.instruction(&i);
            }
            codes.function(&f);
        }
        self.module.section(&codes);
        self.done[CODE] = true;
    }

    /// Instruments one function body.
    fn function(
        &mut self,
        mut validator: FuncValidator<ValidatorResources>,
        body: &wasmparser::FunctionBody<'_>,
    ) -> Result<Function, InstrumentError> {
        let a = self.added();
        let mut rc = RoundtripReencoder;
        let index = validator.index();
        let resources = validator.resources();
        let type_index = resources
            .type_index_of_function(index)
            .ok_or_else(|| InstrumentError::Invalid(format!("function {index} has no type")))?;
        let func_type = resources
            .sub_type_at(type_index)
            .and_then(|t| match &t.composite_type.inner {
                wasmparser::CompositeInnerType::Func(f) => Some(f.clone()),
                _ => None,
            })
            .ok_or_else(|| InstrumentError::Invalid(format!("type {type_index} is not a function type")))?;
        let num_params = func_type.params().len() as u32;

        // Locals, copied.
        let mut locals = Vec::new();
        let mut declared = 0u32;
        for local in body.get_locals_reader()? {
            let (count, ty) = local?;
            declared += count;
            locals.push((count, rc.val_type(ty)?));
        }

        // Pre-pass: validate, record the operand height before every op, the
        // maximum height, which blocks are branched to, and what is used.
        let mut reader = body.get_binary_reader();
        validator.read_locals(&mut reader)?;
        let mut ops: Vec<(Operator<'_>, u32)> = Vec::new();
        let mut max_height = 0u32;
        // Per block ordinal (0 = the function): branched to?
        let mut targeted = vec![false];
        let mut open: Vec<usize> = vec![0];
        let (mut calls, mut bulk, mut table_grows) = (false, false, false);
        let mut reader = OperatorsReader::new(reader);
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset()?;
            let height = validator.operand_stack_height();
            validator.op(offset, &op)?;
            max_height = max_height.max(validator.operand_stack_height());
            let mut mark = |depth: u32| {
                if let Some(&block) = open.len().checked_sub(1 + depth as usize).and_then(|i| open.get(i)) {
                    targeted[block] = true;
                }
            };
            match &op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    open.push(targeted.len());
                    targeted.push(false);
                }
                Operator::End => {
                    open.pop();
                }
                Operator::Br { relative_depth } | Operator::BrIf { relative_depth } => mark(*relative_depth),
                Operator::BrTable { targets } => {
                    for t in targets.targets() {
                        mark(t?);
                    }
                    mark(targets.default());
                }
                Operator::Call { .. } | Operator::CallIndirect { .. } => calls = true,
                Operator::TableGrow { .. } => table_grows = true,
                Operator::MemoryFill { .. }
                | Operator::MemoryCopy { .. }
                | Operator::MemoryInit { .. }
                | Operator::TableFill { .. }
                | Operator::TableCopy { .. }
                | Operator::TableInit { .. } => bulk = true,
                _ => {}
            }
            ops.push((op, height));
        }
        reader.finish()?;

        // Our locals, after the kernel's.
        let first = num_params + declared;
        let tmp = first; // i64
        let mut next = first + 1;
        locals.push((1, ValType::I64));
        let (base, my_depth) = (next, next + 1);
        if calls {
            locals.push((2, ValType::I32));
            next += 2;
        }
        let len = next;
        if bulk || table_grows {
            locals.push((1, ValType::I32));
            next += 1;
        }
        let (grow_result, init_func, init_extern) = (next, next + 1, next + 2);
        if table_grows {
            locals.push((1, ValType::I32));
            locals.push((1, ValType::Ref(wasm_encoder::RefType::FUNCREF)));
            locals.push((1, ValType::Ref(wasm_encoder::RefType::EXTERNREF)));
        }
        let mut emit = Emitter {
            f: Function::new(locals),
            a,
            tmp,
            segment: Vec::new(),
            precise: self.precise,
        };
        // Coarsely metered, the tick counter lives in `tmp` (a register)
        // between calls; the global is current across calls and exits.
        let ticks_in = emit.ticks_in();
        let ticks_out = emit.ticks_out();
        let wrap = targeted[0];

        // Prologue: the PVM's stack checks at entry. `sp + frame > MAX` is
        // compared as `sp > MAX - frame` (sp never exceeds MAX).
        let frame = i64::from(declared) + i64::from(max_height);
        match i32::try_from(frame).ok().and_then(|f| MAX_STACK_SLOTS.checked_sub(f)) {
            Some(room) => emit.raw(&[
                Instruction::GlobalGet(a.sp),
                Instruction::I32Const(room),
                Instruction::I32GtU,
                Instruction::If(BlockType::Empty),
                Instruction::Call(a.exhausted),
                Instruction::End,
            ]),
            None => emit.raw(&[Instruction::Call(a.exhausted)]),
        }
        if calls {
            emit.raw(&[
                Instruction::GlobalGet(a.depth),
                Instruction::I32Const(1),
                Instruction::I32Add,
                Instruction::LocalTee(my_depth),
                Instruction::GlobalSet(a.depth),
                Instruction::LocalGet(my_depth),
                Instruction::GlobalGet(a.sp),
                Instruction::I32Const(declared as i32),
                Instruction::I32Add,
                Instruction::LocalSet(base),
                Instruction::I32Const(MAX_FRAMES),
            ]);
        } else {
            // A leaf calls nobody: its depth need not be stored (its caller
            // restores its own after the call).
            emit.raw(&[Instruction::GlobalGet(a.depth), Instruction::I32Const(MAX_FRAMES - 1)]);
        }
        emit.raw(&[
            Instruction::I32GtU,
            Instruction::If(BlockType::Empty),
            Instruction::Call(a.exhausted),
            Instruction::End,
        ]);
        emit.raw(&ticks_in);
        if wrap {
            let results = func_type.results();
            let block = match results.len() {
                0 => BlockType::Empty,
                1 => BlockType::Result(rc.val_type(results[0])?),
                _ if num_params == 0 => BlockType::FunctionType(type_index),
                _ => {
                    let (_, t) = self
                        .result_block_types
                        .iter()
                        .find(|(original, _)| *original == type_index)
                        .ok_or_else(|| InstrumentError::Encode("no block type for a multi-value body".into()))?;
                    BlockType::FunctionType(*t)
                }
            };
            emit.segment.push(Pending::Added(Instruction::Block(block)));
        }

        // Blocks still open, innermost last: (kind, branched to).
        let mut blocks: Vec<(u8, bool)> = Vec::new();
        let mut ordinal = 0usize;
        let last = ops.len() - 1;
        for (i, (op, height)) in ops.into_iter().enumerate() {
            const BLOCK: u8 = 0;
            const LOOP: u8 = 1;
            const IF: u8 = 2;
            match &op {
                Operator::Nop => {}
                Operator::Block { .. } => {
                    ordinal += 1;
                    blocks.push((BLOCK, targeted[ordinal]));
                    emit.push(op, 0)?;
                }
                Operator::Loop { .. } => {
                    ordinal += 1;
                    blocks.push((LOOP, false));
                    emit.push(op, 0)?;
                    emit.flush()?;
                }
                Operator::If { .. } => {
                    ordinal += 1;
                    blocks.push((IF, true));
                    emit.push(op, 1)?;
                    emit.flush()?;
                }
                Operator::Else => {
                    emit.push(op, 1)?;
                    emit.flush()?;
                }
                Operator::End if i == last => {
                    if wrap {
                        emit.segment.push(Pending::Added(Instruction::End));
                        emit.flush()?;
                    }
                    emit.added(&ticks_out);
                    emit.push(op, 1)?;
                    emit.flush()?;
                }
                Operator::End => {
                    let (_, join) = blocks.pop().unwrap_or((BLOCK, false));
                    emit.push(op, 0)?;
                    if join {
                        emit.flush()?;
                    }
                }
                Operator::Return => {
                    emit.added(&ticks_out);
                    emit.push(op, 1)?;
                    emit.flush()?;
                }
                Operator::Br { .. } | Operator::BrIf { .. } | Operator::BrTable { .. } | Operator::Unreachable => {
                    emit.push(op, 1)?;
                    emit.flush()?;
                }
                Operator::Call { function_index } => {
                    let host = *function_index < self.func_imports;
                    if !host {
                        emit.segment.push(Pending::Added(Instruction::LocalGet(base)));
                        emit.segment.push(Pending::Added(Instruction::I32Const(height as i32)));
                        emit.segment.push(Pending::Added(Instruction::I32Add));
                        emit.segment.push(Pending::Added(Instruction::GlobalSet(a.sp)));
                    }
                    emit.added(&ticks_out);
                    emit.push(op, 1)?;
                    emit.added(&ticks_in);
                    if !host {
                        emit.segment.push(Pending::Added(Instruction::LocalGet(my_depth)));
                        emit.segment.push(Pending::Added(Instruction::GlobalSet(a.depth)));
                    }
                    emit.flush()?;
                }
                Operator::CallIndirect { .. } => {
                    // The table index is popped before the callee is entered.
                    for added in [
                        Instruction::LocalGet(base),
                        Instruction::I32Const(height as i32 - 1),
                        Instruction::I32Add,
                        Instruction::GlobalSet(a.sp),
                    ] {
                        emit.segment.push(Pending::Added(added));
                    }
                    emit.added(&ticks_out);
                    emit.push(op, 1)?;
                    emit.added(&ticks_in);
                    emit.segment.push(Pending::Added(Instruction::LocalGet(my_depth)));
                    emit.segment.push(Pending::Added(Instruction::GlobalSet(a.depth)));
                    emit.flush()?;
                }
                Operator::MemoryFill { .. }
                | Operator::MemoryCopy { .. }
                | Operator::MemoryInit { .. }
                | Operator::TableFill { .. }
                | Operator::TableCopy { .. }
                | Operator::TableInit { .. } => {
                    let shift = match op {
                        Operator::MemoryFill { .. } | Operator::MemoryCopy { .. } | Operator::MemoryInit { .. } => {
                            MEMORY_CHUNK_SHIFT
                        }
                        _ => TABLE_CHUNK_SHIFT,
                    };
                    // The length is the top operand: keep a copy as i64.
                    emit.segment.push(Pending::Added(Instruction::LocalTee(len)));
                    emit.push(op, 1)?;
                    emit.chunk_charge(len, shift);
                    emit.flush()?;
                }
                Operator::TableGrow { table } => {
                    let funcref = validator
                        .resources()
                        .table_at(*table)
                        .is_some_and(|t| t.element_type.is_func_ref());
                    let init = if funcref { init_func } else { init_extern };
                    for added in [
                        Instruction::LocalSet(len),
                        Instruction::LocalTee(init),
                        Instruction::LocalGet(len),
                    ] {
                        emit.segment.push(Pending::Added(added));
                    }
                    emit.push(op, 1)?;
                    // A grow that succeeded with a non-null value fills the
                    // new elements, a chunk per tick.
                    for added in [
                        Instruction::LocalTee(grow_result),
                        Instruction::LocalGet(grow_result),
                        Instruction::I32Const(-1),
                        Instruction::I32Ne,
                        Instruction::LocalGet(init),
                        Instruction::RefIsNull,
                        Instruction::I32Eqz,
                        Instruction::I32And,
                        Instruction::If(BlockType::Empty),
                    ] {
                        emit.segment.push(Pending::Added(added));
                    }
                    emit.chunk_charge(len, TABLE_CHUNK_SHIFT);
                    emit.segment.push(Pending::Added(Instruction::End));
                    emit.flush()?;
                }
                _ => emit.push(op, 1)?,
            }
        }
        emit.flush()?;
        Ok(emit.f)
    }
}

/// An instruction waiting for its segment's charge: the kernel's (with its
/// cost) or ours.
enum Pending<'a> {
    Original(Operator<'a>, u8),
    Added(Instruction<'static>),
}

/// Writes one function: segments are buffered until they end, then
/// written after the charge of their static cost.
struct Emitter<'a> {
    f: Function,
    a: Added,
    tmp: u32,
    segment: Vec<Pending<'a>>,
    precise: bool,
}

impl<'a> Emitter<'a> {
    fn push(&mut self, op: Operator<'a>, cost: u8) -> Result<(), InstrumentError> {
        let isolate = self.precise && can_trap(&op);
        if isolate {
            self.flush()?;
        }
        self.segment.push(Pending::Original(op, cost));
        if isolate {
            self.flush()?;
        }
        Ok(())
    }

    fn raw(&mut self, instructions: &[Instruction<'_>]) {
        for i in instructions {
            self.f.instruction(i);
        }
    }

    /// Appends our instructions to the segment (after its charge).
    fn added(&mut self, instructions: &[Instruction<'static>]) {
        self.segment
            .extend(instructions.iter().map(|i| Pending::Added(i.clone())));
    }

    /// Loads the tick counter into its register copy (coarse metering).
    fn ticks_in(&self) -> Vec<Instruction<'static>> {
        if self.precise {
            Vec::new()
        } else {
            vec![Instruction::GlobalGet(self.a.ticks), Instruction::LocalSet(self.tmp)]
        }
    }

    /// Stores the register copy of the tick counter (coarse metering), for
    /// a call, the host or the end of the run to see.
    fn ticks_out(&self) -> Vec<Instruction<'static>> {
        if self.precise {
            Vec::new()
        } else {
            vec![Instruction::LocalGet(self.tmp), Instruction::GlobalSet(self.a.ticks)]
        }
    }

    /// Subtracts the cost the instructions `cost` push (an i64) from the
    /// tick counter; below zero, stores it and runs `slow`.
    fn charge(&mut self, cost: &[Instruction<'static>], slow: &[Instruction<'static>]) -> Vec<Instruction<'static>> {
        let a = self.a;
        let mut out = vec![if self.precise {
            Instruction::GlobalGet(a.ticks)
        } else {
            Instruction::LocalGet(self.tmp)
        }];
        out.extend_from_slice(cost);
        out.push(Instruction::I64Sub);
        out.push(Instruction::LocalTee(self.tmp));
        if self.precise {
            out.extend([Instruction::GlobalSet(a.ticks), Instruction::LocalGet(self.tmp)]);
        }
        out.extend([
            Instruction::I64Const(0),
            Instruction::I64LtS,
            Instruction::If(BlockType::Empty),
        ]);
        out.extend(self.ticks_out());
        out.extend_from_slice(slow);
        out.push(Instruction::End);
        out
    }

    /// Charges `⌈len / 2^shift⌉` ticks (the chunks of a bulk operation whose
    /// length is in local `len`). Nothing of the segment follows, so running
    /// out here is exactly "too many ticks".
    fn chunk_charge(&mut self, len: u32, shift: i64) {
        let charge = self.charge(
            &[
                Instruction::LocalGet(len),
                Instruction::I64ExtendI32U,
                Instruction::I64Const((1 << shift) - 1),
                Instruction::I64Add,
                Instruction::I64Const(shift),
                Instruction::I64ShrU,
            ],
            &[Instruction::Call(self.a.out_of_ticks_exact)],
        );
        self.added(&charge);
    }

    /// Ends the segment: its charge, then its instructions.
    fn flush(&mut self) -> Result<(), InstrumentError> {
        let (mut cost, mut safe) = (0u64, None);
        for p in &self.segment {
            if let Pending::Original(op, c) = p {
                if safe.is_none() && can_trap(op) {
                    safe = Some(cost);
                }
                cost += u64::from(*c);
            }
        }
        let safe = safe.unwrap_or(cost);
        if self.segment.is_empty() {
            return Ok(());
        }
        if cost > 0 {
            let cost = cost as i64;
            let charge = self.charge(
                &[Instruction::I64Const(cost)],
                &[
                    Instruction::I64Const(cost),
                    Instruction::I64Const(safe as i64),
                    Instruction::Call(self.a.out_of_ticks),
                ],
            );
            self.raw(&charge);
        }
        let mut rc = RoundtripReencoder;
        for p in std::mem::take(&mut self.segment) {
            match p {
                Pending::Original(op, _) => {
                    let i = rc.instruction(op)?;
                    self.f.instruction(&i);
                }
                Pending::Added(i) => {
                    self.f.instruction(&i);
                }
            }
        }
        Ok(())
    }
}
