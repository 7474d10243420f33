//! Michelson types: read from Micheline, with the properties the
//! typechecker asks of them (comparable, passable, storable, packable,
//! duplicable, allowed in a big map) and the field and entrypoint
//! annotations a parameter type carries.

use soru_core::micheline::Micheline;

use crate::error::TypeError;

/// A Michelson type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `unit`.
    Unit,
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `nat`.
    Nat,
    /// `mutez`.
    Mutez,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
    /// `timestamp`.
    Timestamp,
    /// `address`.
    Address,
    /// `key_hash`.
    KeyHash,
    /// `key`.
    Key,
    /// `signature`.
    Signature,
    /// `chain_id`.
    ChainId,
    /// `operation`.
    Operation,
    /// `never`.
    Never,
    /// `option t`.
    Option(Box<Type>),
    /// `list t`.
    List(Box<Type>),
    /// `set t`.
    Set(Box<Type>),
    /// `map k v`.
    Map(Box<Type>, Box<Type>),
    /// `big_map k v`.
    BigMap(Box<Type>, Box<Type>),
    /// `pair l r` (combs are nested pairs).
    Pair(Box<Type>, Box<Type>),
    /// `or l r`.
    Or(Box<Type>, Box<Type>),
    /// `lambda arg ret`.
    Lambda(Box<Type>, Box<Type>),
    /// `contract t`.
    Contract(Box<Type>),
    /// `ticket t`.
    Ticket(Box<Type>),
}

/// Deepest type soru accepts (Octez bounds type size by
/// `michelson_maximum_type_size` = 2001 nodes).
pub const MAX_TYPE_SIZE: usize = 2_001;

fn args_exactly<'a>(name: &str, args: &'a [Micheline], n: usize) -> Result<&'a [Micheline], TypeError> {
    if args.len() == n {
        Ok(args)
    } else {
        Err(TypeError::Arity {
            prim: name.to_string(),
            expected: n,
            found: args.len(),
        })
    }
}

impl Type {
    /// Reads a type (annotations are ignored here; see
    /// [`entrypoints`](crate::entrypoints)).
    pub fn parse(expr: &Micheline) -> Result<Self, TypeError> {
        let mut size = 0;
        Self::parse_sized(expr, &mut size)
    }

    fn parse_sized(expr: &Micheline, size: &mut usize) -> Result<Self, TypeError> {
        *size += 1;
        if *size > MAX_TYPE_SIZE {
            return Err(TypeError::TooLarge);
        }
        let Micheline::Prim { prim, args, .. } = expr else {
            return Err(TypeError::NotAType(expr.to_string()));
        };
        let name = prim.name();
        let ty = match name {
            "unit" | "bool" | "int" | "nat" | "mutez" | "string" | "bytes" | "timestamp" | "address" | "key_hash"
            | "key" | "signature" | "chain_id" | "operation" | "never" => {
                args_exactly(name, args, 0)?;
                match name {
                    "unit" => Type::Unit,
                    "bool" => Type::Bool,
                    "int" => Type::Int,
                    "nat" => Type::Nat,
                    "mutez" => Type::Mutez,
                    "string" => Type::String,
                    "bytes" => Type::Bytes,
                    "timestamp" => Type::Timestamp,
                    "address" => Type::Address,
                    "key_hash" => Type::KeyHash,
                    "key" => Type::Key,
                    "signature" => Type::Signature,
                    "chain_id" => Type::ChainId,
                    "operation" => Type::Operation,
                    _ => Type::Never,
                }
            }
            "option" | "list" | "set" | "contract" | "ticket" => {
                let args = args_exactly(name, args, 1)?;
                let inner = Box::new(Self::parse_sized(&args[0], size)?);
                match name {
                    "option" => Type::Option(inner),
                    "list" => Type::List(inner),
                    "set" => {
                        if !inner.is_comparable() {
                            return Err(TypeError::NotComparable(inner.to_string()));
                        }
                        Type::Set(inner)
                    }
                    "contract" => Type::Contract(inner),
                    _ => {
                        if !inner.is_comparable() {
                            return Err(TypeError::NotComparable(inner.to_string()));
                        }
                        Type::Ticket(inner)
                    }
                }
            }
            "map" | "big_map" | "or" | "lambda" => {
                let args = args_exactly(name, args, 2)?;
                let a = Box::new(Self::parse_sized(&args[0], size)?);
                let b = Box::new(Self::parse_sized(&args[1], size)?);
                match name {
                    "map" | "big_map" => {
                        if !a.is_comparable() {
                            return Err(TypeError::NotComparable(a.to_string()));
                        }
                        if name == "map" {
                            Type::Map(a, b)
                        } else {
                            if !b.is_big_map_value() {
                                return Err(TypeError::NotAllowed {
                                    ty: b.to_string(),
                                    context: "a big_map value",
                                });
                            }
                            Type::BigMap(a, b)
                        }
                    }
                    "or" => Type::Or(a, b),
                    _ => Type::Lambda(a, b),
                }
            }
            "pair" => {
                // `pair a b c` is `pair a (pair b c)`.
                if args.len() < 2 {
                    return Err(TypeError::Arity {
                        prim: name.into(),
                        expected: 2,
                        found: args.len(),
                    });
                }
                let mut parsed = Vec::with_capacity(args.len());
                for a in args {
                    parsed.push(Self::parse_sized(a, size)?);
                }
                Self::comb(parsed)
            }
            other => return Err(TypeError::UnknownType(other.to_string())),
        };
        Ok(ty)
    }

    /// The right comb of `types` (at least two).
    pub fn comb(mut types: Vec<Type>) -> Type {
        let mut acc = types.pop().unwrap_or(Type::Unit);
        while let Some(t) = types.pop() {
            acc = Type::Pair(Box::new(t), Box::new(acc));
        }
        acc
    }

    /// Whether values of this type can be compared (and be set elements
    /// and map keys).
    pub fn is_comparable(&self) -> bool {
        match self {
            Type::Unit
            | Type::Bool
            | Type::Int
            | Type::Nat
            | Type::Mutez
            | Type::String
            | Type::Bytes
            | Type::Timestamp
            | Type::Address
            | Type::KeyHash
            | Type::Key
            | Type::Signature
            | Type::ChainId
            | Type::Never => true,
            Type::Option(t) => t.is_comparable(),
            Type::Pair(a, b) | Type::Or(a, b) => a.is_comparable() && b.is_comparable(),
            _ => false,
        }
    }

    fn all(&self, ok: &dyn Fn(&Type) -> bool) -> bool {
        if !ok(self) {
            return false;
        }
        match self {
            Type::Option(t) | Type::List(t) | Type::Set(t) | Type::Ticket(t) => t.all(ok),
            Type::Map(a, b) | Type::BigMap(a, b) | Type::Pair(a, b) | Type::Or(a, b) => a.all(ok) && b.all(ok),
            // A lambda's and a contract's inner types are not values held.
            Type::Lambda(..) | Type::Contract(_) => true,
            _ => true,
        }
    }

    /// Whether a value of this type may be stored (no operation, no contract).
    pub fn is_storable(&self) -> bool {
        self.all(&|t| !matches!(t, Type::Operation | Type::Contract(_)))
    }

    /// Whether it may be a parameter (no operation).
    pub fn is_passable(&self) -> bool {
        self.all(&|t| !matches!(t, Type::Operation))
    }

    /// Whether `PACK` accepts it (no operation, big map or ticket).
    pub fn is_packable(&self) -> bool {
        self.all(&|t| !matches!(t, Type::Operation | Type::BigMap(..) | Type::Ticket(_)))
    }

    /// Whether `PUSH` and `FAILWITH` accept it (packable, and no contract).
    pub fn is_pushable(&self) -> bool {
        self.is_packable() && self.all(&|t| !matches!(t, Type::Contract(_)))
    }

    /// Whether `DUP` may copy it (no ticket).
    pub fn is_duplicable(&self) -> bool {
        self.all(&|t| !matches!(t, Type::Ticket(_)))
    }

    /// Whether it may be a big map's value (no operation, contract or big map).
    pub fn is_big_map_value(&self) -> bool {
        self.all(&|t| !matches!(t, Type::Operation | Type::Contract(_) | Type::BigMap(..)))
    }

    /// The type as Micheline (no annotations).
    pub fn to_micheline(&self) -> Micheline {
        let p = |name: &str, args: Vec<Micheline>| Micheline::prim(name, args).expect("a Michelson type name");
        match self {
            Type::Unit => p("unit", vec![]),
            Type::Bool => p("bool", vec![]),
            Type::Int => p("int", vec![]),
            Type::Nat => p("nat", vec![]),
            Type::Mutez => p("mutez", vec![]),
            Type::String => p("string", vec![]),
            Type::Bytes => p("bytes", vec![]),
            Type::Timestamp => p("timestamp", vec![]),
            Type::Address => p("address", vec![]),
            Type::KeyHash => p("key_hash", vec![]),
            Type::Key => p("key", vec![]),
            Type::Signature => p("signature", vec![]),
            Type::ChainId => p("chain_id", vec![]),
            Type::Operation => p("operation", vec![]),
            Type::Never => p("never", vec![]),
            Type::Option(t) => p("option", vec![t.to_micheline()]),
            Type::List(t) => p("list", vec![t.to_micheline()]),
            Type::Set(t) => p("set", vec![t.to_micheline()]),
            Type::Contract(t) => p("contract", vec![t.to_micheline()]),
            Type::Ticket(t) => p("ticket", vec![t.to_micheline()]),
            Type::Map(a, b) => p("map", vec![a.to_micheline(), b.to_micheline()]),
            Type::BigMap(a, b) => p("big_map", vec![a.to_micheline(), b.to_micheline()]),
            Type::Pair(a, b) => p("pair", vec![a.to_micheline(), b.to_micheline()]),
            Type::Or(a, b) => p("or", vec![a.to_micheline(), b.to_micheline()]),
            Type::Lambda(a, b) => p("lambda", vec![a.to_micheline(), b.to_micheline()]),
        }
    }
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_micheline())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> Result<Type, TypeError> {
        Type::parse(&text.parse::<Micheline>().unwrap())
    }

    #[test]
    fn types_and_their_properties() {
        let t = ty("pair nat string (option bytes)").unwrap();
        assert_eq!(t.to_string(), "pair nat (pair string (option bytes))");
        assert!(t.is_comparable() && t.is_packable());
        assert!(ty("set (list nat)").is_err(), "set elements are comparable");
        assert!(ty("map (set nat) nat").is_err());
        assert!(ty("big_map nat (big_map nat nat)").is_err());
        assert!(ty("ticket (list nat)").is_err());
        assert!(ty("pair nat").is_err());
        assert!(ty("nat int").is_err());
        assert_eq!(ty("CAR"), Err(TypeError::UnknownType("CAR".into())));
        let ticket = ty("pair (ticket nat) nat").unwrap();
        assert!(!ticket.is_duplicable() && !ticket.is_packable() && ticket.is_storable());
        assert!(!ty("list operation").unwrap().is_storable());
        assert!(ty("lambda operation nat").unwrap().is_storable());
        assert!(!ty("contract nat").unwrap().is_storable());
        assert!(ty("contract nat").unwrap().is_passable());
    }
}
