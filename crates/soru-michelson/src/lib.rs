//! Michelson for soru's L1: the types of values and contracts, values read
//! from Micheline against a type, written back in Octez's Readable or
//! Optimized form (the form of rollup Transfer payloads), and compared as
//! `COMPARE` does.
//!
//! What it is not yet: the instruction typechecker and interpreter, which
//! build on these types and values (issue 10). Micheline's syntaxes
//! (binary, JSON, concrete) are soru-core's.

pub mod error;
pub mod ty;
pub mod value;

pub use error::{DataError, TypeError};
pub use ty::Type;
pub use value::{parse_data, unparse, Address, Destination, Form, Value};
