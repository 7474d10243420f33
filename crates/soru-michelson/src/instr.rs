//! Typed instructions: what the typechecker makes of Michelson code and
//! what the interpreter runs. Overloads that share a runtime behaviour
//! (`ADD` on `int`/`nat`) share a variant, because values carry their kind;
//! where the type decides what happens (`PACK`, `CONTRACT`, `MAP` on lists
//! or maps) the variant carries it.

use crate::ty::Type;
use crate::value::Value;

/// A sequence of typed instructions.
pub type Block = Vec<Instr>;

/// A typed Michelson instruction.
#[derive(Debug, Clone, PartialEq)]
pub enum Instr {
    // ------------------------------------------------------------ stack
    /// `DROP n`.
    Drop(usize),
    /// `DUP n` (1-based).
    Dup(usize),
    /// `SWAP`.
    Swap,
    /// `DIG n`.
    Dig(usize),
    /// `DUG n`.
    Dug(usize),
    /// `PUSH t v`.
    Push(Value),
    /// `DIP n { … }`.
    Dip(usize, Block),
    // ------------------------------------------------------------ data
    /// `UNIT`.
    Unit,
    /// `SOME`.
    Some,
    /// `NONE t`.
    None,
    /// `LEFT t`.
    Left,
    /// `RIGHT t`.
    Right,
    /// `NIL t`.
    Nil,
    /// `CONS`.
    Cons,
    /// `PAIR n` (`PAIR` is `PAIR 2`).
    Pair(usize),
    /// `UNPAIR n`.
    Unpair(usize),
    /// `CAR`.
    Car,
    /// `CDR`.
    Cdr,
    /// `GET n` on a right comb.
    GetComb(usize),
    /// `UPDATE n` on a right comb.
    UpdateComb(usize),
    /// `EMPTY_SET`.
    EmptySet,
    /// `EMPTY_MAP` and `EMPTY_BIG_MAP`.
    EmptyMap,
    /// `SIZE`.
    Size,
    /// `MEM`.
    Mem,
    /// `GET` on a map.
    Get,
    /// `UPDATE` on a set or map.
    Update,
    /// `GET_AND_UPDATE`.
    GetAndUpdate,
    /// `CONCAT` of two strings or byte sequences.
    Concat,
    /// `CONCAT` of a list of strings (`false`) or byte sequences (`true`).
    ConcatList(bool),
    /// `SLICE`.
    Slice,
    /// `PACK` of a value of the type.
    Pack(Type),
    /// `UNPACK t`.
    Unpack(Type),
    // ------------------------------------------------------------ control
    /// `IF`.
    If(Block, Block),
    /// `IF_NONE`.
    IfNone(Block, Block),
    /// `IF_LEFT`.
    IfLeft(Block, Block),
    /// `IF_CONS`.
    IfCons(Block, Block),
    /// `LOOP`.
    Loop(Block),
    /// `LOOP_LEFT`.
    LoopLeft(Block),
    /// `ITER` over a list, set or map.
    Iter(Block),
    /// `MAP` over a list or map.
    Map(Block),
    /// `LAMBDA` (the value pushed).
    Lambda(Value),
    /// `EXEC`.
    Exec,
    /// `APPLY`, with the type of the captured value (it is written into
    /// the new lambda's code).
    Apply(Type),
    /// A block shared with another lambda (the body of a lambda `APPLY`
    /// made, after its `PUSH ; PAIR`).
    Shared(std::sync::Arc<[Instr]>),
    /// `FAILWITH` of a value of the type.
    Failwith(Type),
    /// `NEVER`.
    Never,
    // ------------------------------------------------------------ arithmetic
    /// `ADD`.
    Add,
    /// `SUB` (not on mutez).
    Sub,
    /// `SUB_MUTEZ`.
    SubMutez,
    /// `MUL`.
    Mul,
    /// `EDIV`.
    Ediv,
    /// `ABS`.
    Abs,
    /// `ISNAT`.
    IsNat,
    /// `INT`.
    Int,
    /// `NEG`.
    Neg,
    /// `LSL`.
    Lsl,
    /// `LSR`.
    Lsr,
    /// `OR`.
    Or,
    /// `AND`.
    And,
    /// `XOR`.
    Xor,
    /// `NOT`.
    Not,
    /// `COMPARE`.
    Compare,
    /// `EQ`.
    Eq,
    /// `NEQ`.
    Neq,
    /// `LT`.
    Lt,
    /// `GT`.
    Gt,
    /// `LE`.
    Le,
    /// `GE`.
    Ge,
    // ------------------------------------------------------------ crypto
    /// `BLAKE2B`.
    Blake2b,
    /// `SHA256`.
    Sha256,
    /// `SHA512`.
    Sha512,
    /// `HASH_KEY`.
    HashKey,
    /// `CHECK_SIGNATURE`.
    CheckSignature,
    // ------------------------------------------------------------ chain
    /// `SELF %ep`: the entrypoint (empty for default).
    SelfContract(String),
    /// `SELF_ADDRESS`.
    SelfAddress,
    /// `CONTRACT %ep t`.
    Contract(Type, String),
    /// `IMPLICIT_ACCOUNT`.
    ImplicitAccount,
    /// `ADDRESS`.
    Address,
    /// `TRANSFER_TOKENS` with the parameter's type.
    TransferTokens(Type),
    /// `SENDER`.
    Sender,
    /// `SOURCE`.
    Source,
    /// `AMOUNT`.
    Amount,
    /// `BALANCE`.
    Balance,
    /// `NOW`.
    Now,
    /// `LEVEL`.
    Level,
    /// `CHAIN_ID`.
    ChainId,
    // ------------------------------------------------------------ tickets
    /// `TICKET`.
    Ticket,
    /// `READ_TICKET`.
    ReadTicket,
    /// `SPLIT_TICKET`.
    SplitTicket,
    /// `JOIN_TICKETS`.
    JoinTickets,
}
