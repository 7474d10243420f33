//! Why a type, a value or a script is refused (Octez's error names where
//! it has one).

/// A type that is not well formed or not allowed where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// Not a primitive application.
    #[error("not a type: {0}")]
    NotAType(String),
    /// A primitive that is not a type.
    #[error("unknown type `{0}`")]
    UnknownType(String),
    /// Wrong number of arguments.
    #[error("`{prim}` takes {expected} argument(s), not {found}")]
    Arity {
        /// The type constructor.
        prim: String,
        /// Arguments it takes.
        expected: usize,
        /// Arguments given.
        found: usize,
    },
    /// A set element, map key or ticket content that is not comparable.
    #[error("comparable_type_expected: `{0}` is not comparable")]
    NotComparable(String),
    /// A type where it may not be.
    #[error("`{ty}` is not allowed in {context}")]
    NotAllowed {
        /// The type.
        ty: String,
        /// Where.
        context: &'static str,
    },
    /// Over [`MAX_TYPE_SIZE`](crate::ty::MAX_TYPE_SIZE) nodes.
    #[error("type_too_large")]
    TooLarge,
}

/// A value that does not have the type it should.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// The expression is not a value of the type.
    #[error("invalid_constant: {value} is not a value of type {ty}")]
    InvalidConstant {
        /// The expression.
        value: String,
        /// The type.
        ty: String,
    },
    /// A set or map whose elements are not in strictly increasing order.
    #[error("unordered_{0}_literal")]
    Unordered(&'static str),
    /// A set or map with an element twice.
    #[error("duplicate_{0}_keys")]
    Duplicate(&'static str),
    /// A value of a type that has no literals (tickets, operations, big
    /// maps by value are refused here).
    #[error("unexpected_forged_value: no literal of type {0}")]
    NoLiteral(String),
    /// A type problem met while reading the value.
    #[error(transparent)]
    Type(#[from] TypeError),
    /// Nesting beyond the Micheline limit.
    #[error("value nested too deeply")]
    TooDeep,
    /// A ticket literal of zero units (`forbidden_zero_amount_ticket`).
    #[error("forbidden_zero_amount_ticket")]
    ForbiddenZeroTicket,
    /// A lambda literal whose code does not typecheck.
    #[error("ill-typed lambda: {0}")]
    Lambda(Box<ScriptError>),
    /// A `contract` literal naming no contract of that type.
    #[error("invalid_contract: {address} has no entrypoint of type {ty}")]
    NoSuchContract {
        /// The address written.
        address: String,
        /// The type expected.
        ty: String,
    },
}

/// Why code or a script does not typecheck (Octez's `ill_typed_*` and
/// friends).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// A bad type.
    #[error(transparent)]
    Type(#[from] TypeError),
    /// A bad constant.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Not an instruction.
    #[error("invalid_primitive: `{0}` is not an instruction")]
    UnknownInstruction(String),
    /// An instruction applied to a stack it does not fit.
    #[error("bad_stack: `{instr}` cannot apply to stack [{stack}]")]
    BadStack {
        /// The instruction.
        instr: String,
        /// The stack, top first.
        stack: String,
    },
    /// Wrong arguments to an instruction.
    #[error("invalid arguments to `{0}`")]
    BadArguments(String),
    /// Two branches (or a loop body and its entry) leave different stacks.
    #[error("unmatched_branches: [{left}] versus [{right}]")]
    UnmatchedBranches {
        /// One stack, top first.
        left: String,
        /// The other.
        right: String,
    },
    /// Code after an instruction that always fails.
    #[error("fail_not_in_tail_position: code follows a failing instruction")]
    FailNotInTail,
    /// Code that ends with the wrong stack.
    #[error("bad_return: expected [{expected}], got [{found}]")]
    BadReturn {
        /// The expected stack.
        expected: String,
        /// The stack the code leaves.
        found: String,
    },
    /// `SELF` inside a lambda.
    #[error("self_in_lambda: SELF cannot be used in a lambda")]
    SelfInLambda,
    /// An entrypoint that does not exist.
    #[error("no_such_entrypoint: {0}")]
    NoSuchEntrypoint(String),
    /// Two entrypoints with one name, or a name over 31 bytes.
    #[error("bad entrypoint name: {0}")]
    BadEntrypoint(String),
    /// A script missing a section or with one twice.
    #[error("ill-formed script: {0}")]
    BadScript(String),
    /// Part of Michelson soru does not implement (listed in docs).
    #[error("unsupported in soru's Michelson: {0}")]
    Unsupported(String),
    /// Gas ran out while typechecking.
    #[error("gas_exhausted.operation")]
    OutOfGas,
    /// Code nested deeper than soru accepts.
    #[error("code nested too deeply")]
    TooDeep,
}

/// Why running a script stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// `FAILWITH` (the value as Octez shows it, Optimized).
    #[error("script_rejected: failed with {0}")]
    Failwith(soru_core::micheline::Micheline),
    /// Arithmetic overflow (mutez, shifts, timestamps).
    #[error("script_overflow")]
    Overflow,
    /// Gas ran out.
    #[error("gas_exhausted.operation")]
    OutOfGas,
    /// A value too large to handle (Octez bounds them by gas; soru also by
    /// size so that one call cannot exhaust memory).
    #[error("value too large")]
    TooLarge,
    /// Code nested deeper than soru accepts (lambdas calling lambdas).
    #[error("stack nested too deeply")]
    TooDeep,
    /// A value of a type soru cannot unpack inside (lambda typechecking
    /// ran out of gas, for one).
    #[error(transparent)]
    Script(#[from] Box<ScriptError>),
}
