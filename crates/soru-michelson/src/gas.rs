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

/// Cost constants and formulas, in milligas, after Octez's
/// `michelson_v1_gas_costs_generated.ml` (the `cost_N_*` functions) and
/// the per-node charges of `script_ir_translator.ml`.
pub mod cost {
    use num_bigint::BigInt;

    /// Typechecking one instruction (`parse_instr_cycle`).
    pub const TYPECHECK_INSTR: u64 = 220;
    /// Reading one type node (`parse_type_cycle`).
    pub const PARSE_TYPE_NODE: u64 = 60;
    /// Reading one node of a data constant (`parse_data_cycle`).
    pub const PARSE_DATA_NODE: u64 = 100;
    /// Writing one node of data (`unparse_data_cycle`).
    pub const UNPARSE_DATA_NODE: u64 = 65;
    /// Serializing one Micheline node to binary.
    pub const SERIALIZE_NODE: u64 = 100;
    /// The common step: most stack, data and control instructions.
    pub const STEP: u64 = 10;
    /// The end of a script's code (`HALT`).
    pub const HALT: u64 = 15;
    /// `EMPTY_SET`, `EMPTY_MAP`, `EMPTY_BIG_MAP`.
    pub const EMPTY_COLLECTION: u64 = 300;
    /// `APPLY`.
    pub const APPLY: u64 = 140;
    /// `HASH_KEY`.
    pub const HASH_KEY: u64 = 605;
    /// `CHECK_SIGNATURE` with an ed25519 key, before the message term.
    pub const CHECK_SIGNATURE_ED25519: u64 = 65_800;
    /// `CHECK_SIGNATURE` with a secp256k1 key.
    pub const CHECK_SIGNATURE_SECP256K1: u64 = 51_600;
    /// `CHECK_SIGNATURE` with a p256 key.
    pub const CHECK_SIGNATURE_P256: u64 = 341_000;
    /// `CHECK_SIGNATURE` with a BLS key (plus 3 per message byte).
    pub const CHECK_SIGNATURE_BLS: u64 = 1_570_000;
    /// `CONTRACT`: the instruction, a typechecking cycle and a script
    /// cache lookup (Octez charges the lookup from its cache model).
    pub const CONTRACT: u64 = 30 + 220 + 600 + 200;
    /// `TRANSFER_TOKENS`, before unparsing the parameter.
    pub const TRANSFER_TOKENS: u64 = 60;

    /// Bytes of an integer's magnitude (Octez `int_bytes`).
    pub fn int_bytes(i: &BigInt) -> u64 {
        i.bits().div_ceil(8)
    }

    /// Octez `S.log2`: one more than the bit length (so `log2 0 = 1`).
    pub fn log2(n: u64) -> u64 {
        1 + u64::from(u64::BITS - n.leading_zeros())
    }

    /// `ADD`/`SUB` on integers of `a` and `b` bytes.
    pub fn add_int(a: u64, b: u64) -> u64 {
        35 + (a.max(b) >> 1)
    }

    /// `MUL` on integers.
    pub fn mul_int(a: u64, b: u64) -> u64 {
        let w = a + b;
        let v = log2(w + 1) * w;
        (v >> 1) + (v >> 2) + (v >> 4) + 55
    }

    /// `EDIV` on integers.
    pub fn ediv_int(a: u64, b: u64) -> u64 {
        let w = a.saturating_sub(b);
        12 * w + ((w >> 10) + (w >> 13)) * b + (a >> 2) + a + 150
    }

    /// One leaf of `COMPARE` on operands of `a` and `b` bytes.
    pub fn compare_leaf(a: u64, b: u64) -> u64 {
        let w = a.min(b).saturating_sub(1);
        35 + (w >> 6) + (w >> 7)
    }

    /// `MEM`/`GET` in a map of `n` entries with keys of `k` bytes.
    pub fn map_get(n: u64, k: u64) -> u64 {
        let v = log2(n + 1) * k;
        45 + (v >> 5) + (v >> 6)
    }

    /// `UPDATE` in a map.
    pub fn map_update(n: u64, k: u64) -> u64 {
        let v = log2(n + 1) * k;
        55 + (v >> 4) + (v >> 5)
    }

    /// `GET_AND_UPDATE` in a map.
    pub fn map_get_and_update(n: u64, k: u64) -> u64 {
        let v = log2(n + 1) * k;
        75 + (v >> 3) + (v >> 6)
    }

    /// `MEM` in a set.
    pub fn set_mem(n: u64, k: u64) -> u64 {
        let v = log2(n + 1) * k;
        40 + (v >> 5) + (v >> 6) + (v >> 7) + (v >> 9)
    }

    /// `UPDATE` in a set.
    pub fn set_update(n: u64, k: u64) -> u64 {
        let v = log2(n + 1) * k;
        50 + (v >> 3) + (v >> 6)
    }

    /// `BLAKE2B` of `len` bytes.
    pub fn blake2b(len: u64) -> u64 {
        430 + len + (len >> 3)
    }

    /// `SHA256` of `len` bytes.
    pub fn sha256(len: u64) -> u64 {
        600 + 4 * len + (len >> 1) + (len >> 2)
    }

    /// `SHA512` of `len` bytes.
    pub fn sha512(len: u64) -> u64 {
        680 + 3 * len
    }

    /// `DIG n` (and `DUG n`, which costs 5 more).
    pub fn dig(n: u64) -> u64 {
        30 + 6 * n + (n >> 1) + (n >> 2)
    }

    /// `DROP n`.
    pub fn drop_n(n: u64) -> u64 {
        30 + 2 * n + (n >> 1) + (n >> 3)
    }

    /// `DUP n`.
    pub fn dup_n(n: u64) -> u64 {
        20 + n + (n >> 2)
    }

    /// `DIP n`.
    pub fn dip_n(n: u64) -> u64 {
        15 + 4 * n
    }

    /// `PAIR n`.
    pub fn pair_n(n: u64) -> u64 {
        40 + 3 * (n - 2) + ((n - 2) >> 2)
    }

    /// `UNPAIR n`.
    pub fn unpair_n(n: u64) -> u64 {
        30 + 4 * (n - 2)
    }

    /// `GET n`.
    pub fn get_n(n: u64) -> u64 {
        20 + (n >> 1) + (n >> 4)
    }

    /// `UPDATE n`.
    pub fn update_n(n: u64) -> u64 {
        30 + n + (n >> 2) + (n >> 5)
    }

    /// Serializing Micheline of `nodes` nodes, `int_bytes` bytes of
    /// integers and `string_bytes` bytes of strings and bytes.
    pub fn serialize(nodes: u64, int_bytes: u64, string_bytes: u64) -> u64 {
        (100 * nodes + 25 * int_bytes + 10 * string_bytes).max(10)
    }
}
