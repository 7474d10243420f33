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
}
