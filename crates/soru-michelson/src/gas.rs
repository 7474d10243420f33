//! Gas: a budget in milligas that typechecking and every interpreter step
//! draw from. The costs follow the shape of Octez's
//! `michelson_v1_gas_costs` (a constant per instruction, plus terms in the
//! size of the operands: bytes of numbers and strings, log₂ of map sizes),
//! with soru's own constants; they are deterministic functions of the
//! code and values, never of time.

/// A gas budget, in milligas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gas {
    remaining: u64,
}

/// The budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfGas;

impl Gas {
    /// A budget of `milligas`.
    pub fn new(milligas: u64) -> Self {
        Self { remaining: milligas }
    }

    /// Takes `milligas`, or fails (and keeps nothing) when less is left.
    pub fn consume(&mut self, milligas: u64) -> Result<(), OutOfGas> {
        match self.remaining.checked_sub(milligas) {
            Some(left) => {
                self.remaining = left;
                Ok(())
            }
            None => {
                self.remaining = 0;
                Err(OutOfGas)
            }
        }
    }

    /// Milligas left.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

/// Cost constants and formulas, in milligas.
pub mod cost {
    /// Typechecking one instruction or type node.
    pub const TYPECHECK_NODE: u64 = 60;
    /// Reading one node of a data constant.
    pub const PARSE_DATA_NODE: u64 = 40;
    /// Writing one node of data (unparsing, packing).
    pub const UNPARSE_DATA_NODE: u64 = 30;
    /// The interpreter's step on instructions that only move the stack.
    pub const STACK_STEP: u64 = 10;
    /// Pushing a constant, building a pair, option or or.
    pub const DATA_STEP: u64 = 15;
    /// A branch or loop iteration.
    pub const CONTROL_STEP: u64 = 15;
    /// Reading a chain fact (`NOW`, `SENDER`, `AMOUNT`…).
    pub const CHAIN_STEP: u64 = 20;
    /// Arithmetic on numbers: base.
    pub const ARITH_BASE: u64 = 35;
    /// `MUL`/`EDIV`: base.
    pub const MUL_BASE: u64 = 80;
    /// A comparison: base.
    pub const COMPARE_BASE: u64 = 35;
    /// A map or set access: base, plus `MAP_LOG` per level of the tree.
    pub const MAP_BASE: u64 = 80;
    /// Per level of a map or set's tree, times the key's size.
    pub const MAP_LOG: u64 = 10;
    /// Hashing, per byte (BLAKE2B, SHA256); SHA512 costs the same.
    pub const HASH_PER_BYTE: u64 = 2;
    /// Hashing: base.
    pub const HASH_BASE: u64 = 400;
    /// `CHECK_SIGNATURE` (ed25519 in Octez: about 65 gas).
    pub const CHECK_SIGNATURE: u64 = 65_000;
    /// `CONTRACT`: looking a contract up.
    pub const CONTRACT_LOOKUP: u64 = 30_000;
    /// `TRANSFER_TOKENS`.
    pub const TRANSFER_TOKENS: u64 = 60;
    /// Ticket instructions.
    pub const TICKET_STEP: u64 = 80;

    /// Bytes of an integer's magnitude (at least 1).
    pub fn int_size(i: &num_bigint::BigInt) -> u64 {
        (i.bits().div_ceil(8)).max(1)
    }

    /// ⌊log₂ n⌋ + 1, the depth of a balanced tree of `n` elements.
    pub fn log2(n: usize) -> u64 {
        u64::from(usize::BITS - n.leading_zeros())
    }
}
