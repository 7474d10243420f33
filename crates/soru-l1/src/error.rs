//! Why the L1 refuses an operation or fails one of its contents, with the
//! identifier and kind Octez gives the same error, so that clients written
//! for Octez recognise them (`[{"kind":"temporary","id":"proto…counter_in_the_future",…}]`).

use serde_json::{json, Value};
use soru_core::base58::{BlockHash, ContractKt1Hash, OperationHash, SmartRollupAddress};
use soru_core::operation::OperationError;
use soru_core::PublicKeyHash;
use soru_protocol::game::GameError;
use soru_protocol::inbox::InboxError;
use soru_protocol::outbox::OutboxError;
use soru_protocol::rollup::RollupError;

use crate::PROTOCOL_ERROR_PREFIX;

/// Octez's error kinds: whether retrying later may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Never valid.
    Permanent,
    /// May become valid (a counter in the future, a full block).
    Temporary,
    /// Valid on another branch.
    Branch,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Permanent => "permanent",
            Self::Temporary => "temporary",
            Self::Branch => "branch",
        }
    }
}

/// An operation refused (validation) or a content that failed (application).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum L1Error {
    /// Bytes that are not an operation.
    #[error("cannot parse the operation: {0}")]
    ParseError(String),
    /// Over the size limit.
    #[error("operation of {size} bytes is over the {limit}-byte limit")]
    OversizedOperation {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The branch is not one of the live blocks (unknown or older than the
    /// operations' time to live).
    #[error("the operation's branch {0} is unknown or older than the operations' time to live")]
    OutdatedOperation(BlockHash),
    /// The operation is already in a live block or in the mempool.
    #[error("operation {0} was already injected")]
    OperationAlreadyIncluded(OperationHash),
    /// Another operation of the same manager is already waiting or in the block.
    #[error("{0} already has an operation in this block or the mempool")]
    ManagerRestriction(PublicKeyHash),
    /// Contents from several sources in one group.
    #[error("the contents of an operation group must share one source")]
    InconsistentSources,
    /// The source does not exist (never funded or emptied).
    #[error("{0} is an empty implicit account")]
    EmptyImplicitContract(PublicKeyHash),
    /// An operation before the source revealed its key.
    #[error("{0} has not revealed its public key")]
    UnrevealedKey(PublicKeyHash),
    /// A reveal of a key that does not hash to the source.
    #[error("the revealed key hashes to {found}, not to the source {expected}")]
    InconsistentHash {
        /// The source.
        expected: PublicKeyHash,
        /// The key's hash.
        found: PublicKeyHash,
    },
    /// A reveal of an already revealed key.
    #[error("{0} has already revealed its key")]
    PreviouslyRevealedKey(PublicKeyHash),
    /// A reveal that is not the group's first content.
    #[error("a reveal must be the first content of its group")]
    IncorrectRevealPosition,
    /// A signature that does not check against the source's key and
    /// watermark `0x03`.
    #[error("the signature does not match the source's key")]
    InvalidSignature,
    /// A counter already used.
    #[error("counter {found} of {contract} is in the past (expected {expected})")]
    CounterInThePast {
        /// The source.
        contract: PublicKeyHash,
        /// The next counter.
        expected: u128,
        /// The operation's.
        found: u128,
    },
    /// A counter beyond the next one.
    #[error("counter {found} of {contract} is in the future (expected {expected})")]
    CounterInTheFuture {
        /// The source.
        contract: PublicKeyHash,
        /// The next counter.
        expected: u128,
        /// The operation's.
        found: u128,
    },
    /// Not enough tez for the fees or the amount.
    #[error("balance of {contract} is too low ({balance} mutez) to spend {amount} mutez")]
    BalanceTooLow {
        /// The account.
        contract: PublicKeyHash,
        /// Its balance.
        balance: u64,
        /// What it had to spend.
        amount: u64,
    },
    /// Fees under the mempool's minimum.
    #[error("fee {fee} mutez is below the minimum {minimum} mutez")]
    FeesTooLow {
        /// The fee paid.
        fee: u64,
        /// The minimum for this operation's size and gas limit.
        minimum: u64,
    },
    /// A gas limit below the fixed cost of a content.
    #[error("gas limit {limit} is below the content's fixed cost of {needed} milligas")]
    InsufficientGasForManager {
        /// The limit, in milligas.
        limit: u128,
        /// The fixed cost, in milligas.
        needed: u128,
    },
    /// A gas limit over the per-operation limit.
    #[error("gas limit {0} is over the per-operation limit")]
    GasLimitTooHigh(u128),
    /// A storage limit over the per-operation limit.
    #[error("storage limit {0} is over the per-operation limit")]
    StorageLimitTooHigh(u128),
    /// The block has no gas left for the operation.
    #[error("the block's gas limit is reached")]
    BlockQuotaExceeded,
    /// The content needs more gas than its limit.
    #[error("the operation ran out of gas (limit {limit}, needed {needed} milligas)")]
    GasExhausted {
        /// The limit in milligas.
        limit: u128,
        /// What it needed in milligas.
        needed: u128,
    },
    /// The content stores more bytes than its storage limit.
    #[error("the operation needs {needed} bytes of storage, over its limit of {limit}")]
    StorageExhausted {
        /// The limit in bytes.
        limit: u128,
        /// What it needed.
        needed: u64,
    },
    /// The source cannot pay the storage burn.
    #[error("{contract} cannot pay {amount} mutez of storage fees")]
    CannotPayStorageFee {
        /// The payer.
        contract: PublicKeyHash,
        /// The burn.
        amount: u64,
    },
    /// A zero transfer to an implicit account.
    #[error("transfer of 0 tez to the implicit account {0}")]
    EmptyTransaction(PublicKeyHash),
    /// A rollup this chain does not know.
    #[error("no smart rollup {0}")]
    SmartRollupDoesNotExist(SmartRollupAddress),
    /// A PVM kind that is disabled.
    #[error("the {0} PVM is disabled")]
    PvmDisabled(&'static str),
    /// The boot sector does not install (the PVM refused it).
    #[error("the boot sector cannot be installed: {0}")]
    InvalidBootSector(String),
    /// A contract that does not exist.
    #[error("contract {0} does not exist")]
    NonExistingContract(ContractKt1Hash),
    /// A contract's balance cannot pay a transfer.
    #[error("contract {contract} holds {balance} mutez, not {amount}")]
    ContractBalanceTooLow {
        /// The contract.
        contract: ContractKt1Hash,
        /// Its balance.
        balance: u64,
        /// The amount asked.
        amount: u64,
    },
    /// A call's parameter does not fit the entrypoint (or there is no such
    /// entrypoint).
    #[error("bad parameter for {contract}: {reason}")]
    BadContractParameter {
        /// The contract called.
        contract: String,
        /// Why.
        reason: String,
    },
    /// A script that does not typecheck.
    #[error("ill-typed script: {0}")]
    IllTypedContract(String),
    /// A storage or constant that does not typecheck.
    #[error("ill-typed data: {0}")]
    IllTypedData(String),
    /// The script ran `FAILWITH`.
    #[error("{contract} failed with {with}")]
    ScriptRejected {
        /// The contract.
        contract: ContractKt1Hash,
        /// The value, Optimized.
        with: soru_core::micheline::Micheline,
    },
    /// The script stopped on an overflow, gas exhaustion or an internal
    /// limit.
    #[error("{contract}: {error}")]
    ScriptRuntime {
        /// The contract.
        contract: ContractKt1Hash,
        /// What stopped it.
        error: soru_michelson::RuntimeError,
    },
    /// A contract holds or sends tickets it neither minted nor received.
    #[error("invalid ticket transfer: {amount} of a ticket from {ticketer}")]
    InvalidTicketTransfer {
        /// The ticket's ticketer.
        ticketer: String,
        /// The amount over what the contract may move.
        amount: num_bigint::BigInt,
    },
    /// A ticket balance would go below zero.
    #[error("negative ticket balance {balance} for row {key}")]
    NegativeTicketBalance {
        /// The row key.
        key: soru_core::base58::ScriptExprHash,
        /// The balance it would have.
        balance: num_bigint::BigInt,
    },
    /// A ticket of zero units in an outbox transaction.
    #[error("tickets of zero units are forbidden")]
    ForbiddenZeroTicket,
    /// More than 65 535 internal operations in a block.
    #[error("too many internal operations")]
    TooManyInternalOperations,
    /// Tez sent to a smart rollup.
    #[error("transfers to smart rollups must carry 0 tez")]
    RollupInvalidTransactionAmount,
    /// A named entrypoint of a smart rollup.
    #[error("smart rollups only have the default entrypoint")]
    RollupInvalidEntrypoint,
    /// An outbox transaction to something that is not a contract with a
    /// script.
    #[error("outbox destination {0} is not a contract")]
    InvalidOutboxDestination(ContractKt1Hash),
    /// An outbox transaction's type a rollup may not use.
    #[error("outbox parameter type not allowed: {0}")]
    InvalidOutboxParametersType(String),
    /// Delegation: this L1 has no delegates (blocks come from its baker).
    #[error("{0} is not a registered delegate")]
    UnregisteredDelegate(PublicKeyHash),
    /// An earlier content of the group failed.
    #[error("a smart rollup rule: {0}")]
    Rollup(#[from] RollupError),
    /// A refutation-game rule.
    #[error("a refutation game rule: {0}")]
    Game(#[from] GameError),
    /// An outbox-execution rule.
    #[error("an outbox rule: {0}")]
    Outbox(#[from] OutboxError),
    /// An inbox rule.
    #[error("an inbox rule: {0}")]
    Inbox(#[from] InboxError),
    /// Arithmetic overflow on balances (a bug or a hostile amount).
    #[error("tez overflow")]
    TezOverflow,
}

impl From<OperationError> for L1Error {
    fn from(e: OperationError) -> Self {
        match e {
            OperationError::TooLarge(size) => Self::OversizedOperation {
                size,
                limit: soru_core::operation::MAX_OPERATION_SIZE,
            },
            OperationError::BadSignature(_) => Self::InvalidSignature,
            other => Self::ParseError(other.to_string()),
        }
    }
}

/// The Octez name a soru-protocol error's message starts with
/// (`smart_rollup_no_game: …`); errors Octez has no name for get
/// `smart_rollup_` and their variant's name.
fn octez_name(display: &str, debug: &str) -> String {
    let head: String = display
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if head.starts_with("smart_rollup_") {
        return head;
    }
    let name: String = debug.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let mut out = String::from("smart_rollup");
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl L1Error {
    /// Octez's kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::CounterInTheFuture { .. }
            | Self::BlockQuotaExceeded
            | Self::ManagerRestriction(_)
            | Self::BalanceTooLow { .. }
            | Self::GasExhausted { .. }
            | Self::StorageExhausted { .. }
            | Self::CannotPayStorageFee { .. }
            | Self::ContractBalanceTooLow { .. }
            | Self::ScriptRejected { .. }
            | Self::ScriptRuntime { .. } => ErrorKind::Temporary,
            Self::OutdatedOperation(_)
            | Self::CounterInThePast { .. }
            | Self::OperationAlreadyIncluded(_)
            | Self::EmptyImplicitContract(_)
            | Self::UnrevealedKey(_)
            | Self::PreviouslyRevealedKey(_)
            | Self::EmptyTransaction(_) => ErrorKind::Branch,
            _ => ErrorKind::Permanent,
        }
    }

    /// Octez's identifier of this error.
    pub fn id(&self) -> String {
        let p = PROTOCOL_ERROR_PREFIX;
        match self {
            Self::ParseError(_) => "node.prevalidation.parse_error".into(),
            Self::OversizedOperation { .. } => "node.prevalidation.oversized_operation".into(),
            Self::OperationAlreadyIncluded(_) => "node.prevalidation.operation_already_included".into(),
            Self::ManagerRestriction(_) => format!("{p}.validate.operation.manager_restriction"),
            Self::InconsistentSources => format!("{p}.validate.operation.inconsistent_sources"),
            Self::EmptyImplicitContract(_) => format!("{p}.implicit.empty_implicit_contract"),
            Self::OutdatedOperation(_) => "node.prevalidation.outdated_operation".into(),
            Self::UnrevealedKey(_) => format!("{p}.contract.unrevealed_key"),
            Self::InconsistentHash { .. } => format!("{p}.contract.manager.inconsistent_hash"),
            Self::PreviouslyRevealedKey(_) => format!("{p}.contract.previously_revealed_key"),
            Self::IncorrectRevealPosition => format!("{p}.validate.operation.incorrect_reveal_position"),
            Self::InvalidSignature => format!("{p}.operation.invalid_signature"),
            Self::CounterInThePast { .. } => format!("{p}.contract.counter_in_the_past"),
            Self::CounterInTheFuture { .. } => format!("{p}.contract.counter_in_the_future"),
            Self::BalanceTooLow { .. } => format!("{p}.contract.balance_too_low"),
            Self::FeesTooLow { .. } => format!("{p}.prefilter.fees_too_low"),
            Self::GasLimitTooHigh(_) => format!("{p}.gas_limit_too_high"),
            Self::InsufficientGasForManager { .. } => format!("{p}.validate.operation.insufficient_gas_for_manager"),
            Self::StorageLimitTooHigh(_) => format!("{p}.storage_limit_too_high"),
            Self::BlockQuotaExceeded => format!("{p}.gas_exhausted.block"),
            Self::GasExhausted { .. } => format!("{p}.gas_exhausted.operation"),
            Self::StorageExhausted { .. } => format!("{p}.storage_exhausted.operation"),
            Self::CannotPayStorageFee { .. } => format!("{p}.contract.cannot_pay_storage_fee"),
            Self::EmptyTransaction(_) => format!("{p}.contract.empty_transaction"),
            Self::SmartRollupDoesNotExist(_) => format!("{p}.smart_rollup_does_not_exist"),
            Self::PvmDisabled(_) => format!("{p}.smart_rollup_pvm_disabled"),
            Self::InvalidBootSector(_) => format!("{p}.smart_rollup_invalid_boot_sector"),
            Self::NonExistingContract(_) => format!("{p}.contract.non_existing_contract"),
            Self::ContractBalanceTooLow { .. } => format!("{p}.contract.balance_too_low"),
            Self::BadContractParameter { .. } => format!("{p}.michelson_v1.bad_contract_parameter"),
            Self::IllTypedContract(_) => format!("{p}.michelson_v1.ill_typed_contract"),
            Self::IllTypedData(_) => format!("{p}.michelson_v1.ill_typed_data"),
            Self::ScriptRejected { .. } => format!("{p}.michelson_v1.script_rejected"),
            Self::ScriptRuntime { error, .. } => match error {
                soru_michelson::RuntimeError::Overflow => format!("{p}.michelson_v1.script_overflow"),
                soru_michelson::RuntimeError::OutOfGas => format!("{p}.gas_exhausted.operation"),
                _ => format!("{p}.michelson_v1.runtime_error"),
            },
            Self::InvalidTicketTransfer { .. } => format!("{p}.invalid_ticket_transfer"),
            Self::NegativeTicketBalance { .. } => format!("{p}.Negative_ticket_balance"),
            Self::ForbiddenZeroTicket => format!("{p}.michelson_v1.forbidden_zero_amount_ticket"),
            Self::TooManyInternalOperations => format!("{p}.too_many_internal_operations"),
            Self::RollupInvalidTransactionAmount => format!("{p}.operation.rollup_invalid_transaction_amount"),
            Self::RollupInvalidEntrypoint => format!("{p}.operation.rollup_invalid_entrypoint"),
            Self::InvalidOutboxDestination(_) => {
                format!("{p}.smart_rollup_management_protocol_invalid_destination")
            }
            Self::InvalidOutboxParametersType(_) => format!("{p}.smart_rollup_invalid_parameters_type"),
            Self::UnregisteredDelegate(_) => format!("{p}.contract.manager.unregistered_delegate"),
            Self::Rollup(e) => format!("{p}.{}", octez_name(&e.to_string(), &format!("{e:?}"))),
            Self::Game(e) => format!("{p}.{}", octez_name(&e.to_string(), &format!("{e:?}"))),
            Self::Outbox(e) => format!("{p}.{}", octez_name(&e.to_string(), &format!("{e:?}"))),
            Self::Inbox(e) => format!("{p}.{}", octez_name(&e.to_string(), &format!("{e:?}"))),
            Self::TezOverflow => format!("{p}.tez.addition_overflow"),
        }
    }

    /// The error trace of a failed content, outermost first: a script's
    /// failure is wrapped in `runtime_error` naming the contract, as
    /// Octez reports it.
    pub fn to_json_trace(&self) -> Vec<Value> {
        match self {
            Self::ScriptRejected { contract, .. } | Self::ScriptRuntime { contract, .. } => vec![
                json!({
                    "kind": "temporary",
                    "id": format!("{PROTOCOL_ERROR_PREFIX}.michelson_v1.runtime_error"),
                    "contract_handle": contract,
                    "contract_code": "Deprecated",
                }),
                self.to_json(),
            ],
            _ => vec![self.to_json()],
        }
    }

    /// The error as Octez's RPC writes it: `{"kind", "id", …fields}`,
    /// plus a readable `msg`.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "kind": self.kind().as_str(),
            "id": self.id(),
            "msg": self.to_string(),
        });
        let fields = match self {
            Self::CounterInThePast {
                contract,
                expected,
                found,
            }
            | Self::CounterInTheFuture {
                contract,
                expected,
                found,
            } => json!({"contract": contract, "expected": expected.to_string(), "found": found.to_string()}),
            Self::BalanceTooLow {
                contract,
                balance,
                amount,
            } => json!({"contract": contract, "balance": balance.to_string(), "amount": amount.to_string()}),
            Self::UnrevealedKey(pkh) | Self::PreviouslyRevealedKey(pkh) | Self::EmptyImplicitContract(pkh) => {
                json!({"contract": pkh})
            }
            Self::InconsistentHash { expected, found } => {
                json!({"expected_hash": expected, "provided_hash": found})
            }
            Self::OperationAlreadyIncluded(hash) => json!({"operation": hash}),
            Self::NonExistingContract(kt1) | Self::InvalidOutboxDestination(kt1) => json!({"contract": kt1}),
            Self::BadContractParameter { contract, .. } => json!({"contract": contract}),
            Self::ScriptRejected { with, .. } => json!({"with": with.to_json()}),
            Self::InvalidTicketTransfer { ticketer, amount } => {
                json!({"ticketer": ticketer, "amount": amount.to_string()})
            }
            Self::NegativeTicketBalance { key, balance } => json!({"key": key, "balance": balance.to_string()}),
            Self::OutdatedOperation(branch) => json!({"branch": branch}),
            _ => json!({}),
        };
        if let (Some(target), Some(extra)) = (value.as_object_mut(), fields.as_object()) {
            for (k, v) in extra {
                target.insert(k.clone(), v.clone());
            }
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_error_ids_follow_octez_names() {
        let e = L1Error::Rollup(RollupError::StakerFundsTooLow { balance: 1, stake: 2 });
        assert!(e.id().ends_with(".smart_rollup_staker_funds_too_low"), "{}", e.id());
        let e = L1Error::Game(GameError::TimeoutLevelNotReached {
            blocks_left: 3,
            staker: "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap(),
        });
        assert!(
            e.id().ends_with(".smart_rollup_timeout_level_not_reached"),
            "{}",
            e.id()
        );
        let e = L1Error::Game(GameError::ProofOnMultiTickSection(3));
        assert!(
            e.id().ends_with(".smart_rollup_proof_on_multi_tick_section"),
            "{}",
            e.id()
        );
        let json = L1Error::CounterInTheFuture {
            contract: "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap(),
            expected: 2,
            found: 5,
        }
        .to_json();
        assert_eq!(json["kind"], "temporary");
        assert_eq!(json["found"], "5");
    }
}
