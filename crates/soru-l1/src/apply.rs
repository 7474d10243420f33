//! Checking and applying operation groups, as Octez's `validate.ml` and
//! `apply.ml` do for manager operations.
//!
//! [`check`] refuses what must never enter a block (bad bytes, an expired
//! branch, a replay, a wrong counter, a bad signature, fees the source
//! cannot pay…): the ledger is not touched. [`apply`] then takes the fees
//! and counters of every content, and applies the contents in order; if one
//! fails, the earlier ones are backtracked and the later ones skipped, and
//! only the fees stay paid. The receipt is the Octez JSON of each content
//! with its `metadata`.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use soru_core::base58::{BlockHash, OperationHash};
use soru_core::encoding::Encode;
use soru_core::hash::blake2b_256;
use soru_core::inbox::{InboxMessage, MAX_MESSAGE_SIZE};
use soru_core::operation::{ManagerOperation, OperationKind, PvmKind, Refutation, SignedOperation};
use soru_core::params::ProtocolParams;
use soru_core::time::Timestamp;
use soru_core::{Contract, PublicKey, PublicKeyHash};
use soru_protocol::game::{GameContext, GameResult, MoveOutcome, Reason};
use soru_protocol::outbox::{execute_outbox_message, Execution};
use soru_protocol::rollup::{BalanceUpdate, Context, RollupState};

use crate::contracts::{self, Argument, Calls, Sender};
use crate::error::L1Error;
use crate::gas;
use crate::ledger::{Ledger, Rollup, Scratch};

/// What a block's application reads of the chain.
#[derive(Debug, Clone, Copy)]
pub struct BlockEnv<'a> {
    /// The chain (scripts read it with `CHAIN_ID`).
    pub chain_id: soru_core::base58::ChainId,
    /// The level of the block being built.
    pub level: u32,
    /// Its timestamp.
    pub timestamp: Timestamp,
    /// The chain's constants.
    pub params: &'a ProtocolParams,
}

/// What [`check`] needs of the chain besides the ledger.
#[derive(Debug, Clone, Copy)]
pub struct Liveness<'a> {
    /// Blocks an operation may use as its branch.
    pub live_blocks: &'a BTreeSet<BlockHash>,
    /// Operations in live blocks (a replay is refused).
    pub included: &'a BTreeSet<OperationHash>,
}

/// An operation that passed [`check`].
#[derive(Debug, Clone)]
pub struct CheckedOperation {
    /// The decoded operation.
    pub operation: SignedOperation,
    /// Its signed bytes.
    pub bytes: Vec<u8>,
    /// Its hash.
    pub hash: OperationHash,
    /// Its source.
    pub source: PublicKeyHash,
    /// The sum of its contents' gas limits, in milligas.
    pub gas_limit: u128,
    /// What checking its signature costs, in milligas (the first
    /// content pays it).
    pub signature_gas: u128,
}

fn nat_u64(value: u128, what: &'static str) -> Result<u64, L1Error> {
    u64::try_from(value).map_err(|_| L1Error::ParseError(format!("{what} {value} is out of range")))
}

/// Whether [`check`] verifies the signature (simulations do not: their
/// operations carry a zero signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Verify it.
    Verify,
    /// Accept any.
    Skip,
}

/// Checks `bytes` as an operation to include on top of `ledger`.
pub fn check(
    ledger: &Ledger,
    bytes: &[u8],
    live: Liveness<'_>,
    params: &ProtocolParams,
    signature: SignatureCheck,
) -> Result<CheckedOperation, L1Error> {
    let limit = params.max_operation_data_length as usize;
    if bytes.len() > limit {
        return Err(L1Error::OversizedOperation {
            size: bytes.len(),
            limit,
        });
    }
    let operation = SignedOperation::from_bytes(bytes)?;
    let hash = operation.hash();
    if !live.live_blocks.contains(&operation.operation.branch) {
        return Err(L1Error::OutdatedOperation(operation.operation.branch));
    }
    if live.included.contains(&hash) {
        return Err(L1Error::OperationAlreadyIncluded(hash));
    }
    let contents = &operation.operation.contents;
    let source = contents[0].source;
    if contents.iter().any(|c| c.source != source) {
        return Err(L1Error::InconsistentSources);
    }
    let account = ledger.account(&source).ok_or(L1Error::EmptyImplicitContract(source))?;

    // The key that must have signed: the stored one, or the one revealed
    // by the first content.
    let mut key: Option<&PublicKey> = account.manager.as_ref();
    for (i, content) in contents.iter().enumerate() {
        if let OperationKind::Reveal { public_key, .. } = &content.kind {
            if i != 0 {
                return Err(L1Error::IncorrectRevealPosition);
            }
            if account.manager.is_some() {
                return Err(L1Error::PreviouslyRevealedKey(source));
            }
            if public_key.hash() != source {
                return Err(L1Error::InconsistentHash {
                    expected: source,
                    found: public_key.hash(),
                });
            }
            key = Some(public_key);
        }
    }
    let key = key.ok_or(L1Error::UnrevealedKey(source))?;

    let mut gas_limit = 0u128;
    let mut fees = 0u64;
    let signature_gas = gas::signature_cost(key.curve(), bytes.len() - 64);
    for (i, content) in contents.iter().enumerate() {
        let content_gas = content.gas_limit.0.saturating_mul(gas::MILLIGAS_PER_GAS);
        if content_gas > u128::from(params.hard_gas_limit_per_operation) * gas::MILLIGAS_PER_GAS {
            return Err(L1Error::GasLimitTooHigh(content.gas_limit.0));
        }
        let fixed = gas::MANAGER_OPERATION + if i == 0 { signature_gas } else { 0 };
        if content_gas < fixed {
            return Err(L1Error::InsufficientGasForManager {
                limit: content_gas,
                needed: fixed,
            });
        }
        if content.storage_limit.0 > u128::from(params.hard_storage_limit_per_operation) {
            return Err(L1Error::StorageLimitTooHigh(content.storage_limit.0));
        }
        gas_limit += content_gas;
        let expected = account.counter + 1 + i as u128;
        let found = content.counter.0;
        if found < expected {
            return Err(L1Error::CounterInThePast {
                contract: source,
                expected,
                found,
            });
        }
        if found > expected {
            return Err(L1Error::CounterInTheFuture {
                contract: source,
                expected,
                found,
            });
        }
        fees = fees
            .checked_add(nat_u64(content.fee.0, "fee")?)
            .ok_or(L1Error::TezOverflow)?;
    }
    if fees > account.balance {
        return Err(L1Error::BalanceTooLow {
            contract: source,
            balance: account.balance,
            amount: fees,
        });
    }
    if signature == SignatureCheck::Verify {
        operation.verify(key).map_err(|_| L1Error::InvalidSignature)?;
    }
    Ok(CheckedOperation {
        bytes: bytes.to_vec(),
        hash,
        source,
        gas_limit,
        signature_gas,
        operation,
    })
}

/// The smallest fee the mempool takes (Octez's defaults: 100 mutez, plus
/// 0.1 mutez per gas unit of the limit and 1 mutez per byte).
pub fn minimal_fee(op: &CheckedOperation) -> u64 {
    let gas_units = op.gas_limit.div_ceil(gas::MILLIGAS_PER_GAS);
    let by_gas = gas_units.div_ceil(10);
    (100 + by_gas + op.bytes.len() as u128).min(u128::from(u64::MAX)) as u64
}

fn contract_update(contract: &PublicKeyHash, change: i64) -> Value {
    json!({"kind": "contract", "contract": contract, "change": change.to_string(), "origin": "block"})
}

/// Octez's JSON of a rollup balance update.
fn rollup_update(update: &BalanceUpdate) -> Value {
    match update {
        BalanceUpdate::Contract(pkh, change) => contract_update(pkh, *change),
        BalanceUpdate::FrozenBonds(pkh, rollup, change) => json!({
            "kind": "freezer", "category": "bonds", "contract": pkh,
            "bond_id": {"smart_rollup": rollup}, "change": change.to_string(), "origin": "block"
        }),
        BalanceUpdate::RefutationPunishments(change) => json!({
            "kind": "burned", "category": "smart_rollup_refutation_punishments",
            "change": change.to_string(), "origin": "block"
        }),
        BalanceUpdate::RefutationRewards(change) => json!({
            "kind": "minted", "category": "smart_rollup_refutation_rewards",
            "change": change.to_string(), "origin": "block"
        }),
    }
}

/// Moves the money a rollup rule decided.
fn apply_rollup_updates(scratch: &mut Scratch<'_>, updates: &[BalanceUpdate]) -> Result<Vec<Value>, L1Error> {
    for update in updates {
        match update {
            BalanceUpdate::Contract(pkh, change) => scratch.credit(pkh, *change)?,
            BalanceUpdate::FrozenBonds(pkh, rollup, change) => scratch.change_bond(pkh, rollup, *change)?,
            BalanceUpdate::RefutationPunishments(_) | BalanceUpdate::RefutationRewards(_) => {}
        }
    }
    Ok(updates.iter().map(rollup_update).collect())
}

/// A content's result before the status is known.
struct Outcome {
    fields: Value,
    balance_updates: Vec<Value>,
    consumed_milligas: u128,
    paid_storage: u64,
    /// Receipts of the internal operations the content caused.
    internal: Vec<Value>,
    /// Milligas those internal operations consumed.
    internal_milligas: u128,
}

/// Burns `bytes` of storage from `payer`, within the content's limit.
fn burn_storage(
    scratch: &mut Scratch<'_>,
    payer: &PublicKeyHash,
    bytes: u64,
    content: &ManagerOperation,
    params: &ProtocolParams,
) -> Result<Vec<Value>, L1Error> {
    if bytes == 0 {
        return Ok(Vec::new());
    }
    if u128::from(bytes) > content.storage_limit.0 {
        return Err(L1Error::StorageExhausted {
            limit: content.storage_limit.0,
            needed: bytes,
        });
    }
    let amount = bytes.checked_mul(params.cost_per_byte).ok_or(L1Error::TezOverflow)?;
    let balance = scratch.ledger().account(payer).map_or(0, |a| a.balance);
    if balance < amount {
        return Err(L1Error::CannotPayStorageFee {
            contract: *payer,
            amount,
        });
    }
    scratch.credit(payer, -(amount as i64))?;
    Ok(vec![
        contract_update(payer, -(amount as i64)),
        json!({"kind": "burned", "category": "storage fees", "change": amount.to_string(), "origin": "block"}),
    ])
}

fn rules<'a>(env: &'a BlockEnv<'a>) -> Context<'a> {
    Context {
        current_level: env.level,
        params: &env.params.smart_rollup,
        past_periods: &[],
    }
}

/// Bytes Octez counts for a rollup's origination: the constant
/// `origination_size`, plus what is stored: kind, addresses, parameter
/// type, genesis info and commitment, whitelist.
fn rollup_storage_size(params: &ProtocolParams, parameters_ty_len: usize, whitelist_len: usize) -> u64 {
    let stored_kind = 2;
    let addresses = 40;
    let parameters_ty = 4 + parameters_ty_len as u64;
    let pvm_kind = 1;
    let genesis_info = 4 + 32;
    let lcc = 32;
    let commitment = 77;
    let commitment_added = 4;
    let first_publication = 4;
    let commitments_per_level = 4 + 32;
    let whitelist = if whitelist_len == 0 {
        0
    } else {
        4 + 21 * whitelist_len as u64
    };
    u64::from(params.smart_rollup.origination_size)
        + stored_kind
        + addresses
        + parameters_ty
        + pvm_kind
        + genesis_info
        + lcc
        + commitment
        + commitment_added
        + first_publication
        + commitments_per_level
        + whitelist
}

/// Applies one content to the scratch ledger.
fn apply_content(
    scratch: &mut Scratch<'_>,
    content: &ManagerOperation,
    env: &BlockEnv<'_>,
    op_hash: &OperationHash,
    origination_index: &mut u32,
    signature_gas: u128,
) -> Result<Outcome, L1Error> {
    let params = env.params;
    let source = content.source;
    let consumed_milligas = gas::cost(&content.kind) + signature_gas;
    let limit = content.gas_limit.0.saturating_mul(gas::MILLIGAS_PER_GAS);
    if consumed_milligas > limit {
        return Err(L1Error::GasExhausted {
            limit,
            needed: consumed_milligas,
        });
    }
    let mut outcome = Outcome {
        fields: json!({}),
        balance_updates: Vec::new(),
        consumed_milligas,
        paid_storage: 0,
        internal: Vec::new(),
        internal_milligas: 0,
    };
    // What is left of the content's gas once its fixed costs are paid.
    let budget = u64::try_from(limit - consumed_milligas).unwrap_or(u64::MAX);
    match &content.kind {
        OperationKind::Reveal { public_key, .. } => {
            let account = scratch
                .account_mut(&source)
                .ok_or(L1Error::EmptyImplicitContract(source))?;
            account.manager = Some(public_key.clone());
        }
        OperationKind::Transaction {
            amount,
            destination,
            parameters,
        } => {
            let amount = nat_u64(amount.0, "amount")?;
            match destination {
                Contract::Implicit(to) => {
                    if amount == 0 {
                        return Err(L1Error::EmptyTransaction(*to));
                    }
                    if let Some(p) = parameters {
                        let unit_default = p.entrypoint == "default" && p.value.is_unit();
                        if !unit_default {
                            return Err(L1Error::BadContractParameter {
                                contract: to.to_base58(),
                                reason: "implicit accounts take only Unit on their default entrypoint".into(),
                            });
                        }
                    }
                    let balance = scratch.ledger().account(&source).map_or(0, |a| a.balance);
                    if balance < amount {
                        return Err(L1Error::BalanceTooLow {
                            contract: source,
                            balance,
                            amount,
                        });
                    }
                    let allocated = scratch.ledger().account(to).is_none();
                    scratch.credit(&source, -(amount as i64))?;
                    scratch.credit(to, amount as i64)?;
                    outcome.balance_updates = vec![
                        contract_update(&source, -(amount as i64)),
                        contract_update(to, amount as i64),
                    ];
                    if allocated {
                        let bytes = u64::from(params.origination_size);
                        let burn = burn_storage(scratch, &source, bytes, content, params)?;
                        outcome.balance_updates.extend(burn);
                        outcome.fields = json!({"allocated_destination_contract": true});
                    }
                }
                Contract::Originated(kt1) => {
                    let (entrypoint, value) = match parameters {
                        Some(p) if p.entrypoint != "default" => (p.entrypoint.clone(), p.value.clone()),
                        Some(p) => (String::new(), p.value.clone()),
                        None => (
                            String::new(),
                            soru_core::micheline::Micheline::prim0("Unit")
                                .map_err(|e| L1Error::ParseError(e.to_string()))?,
                        ),
                    };
                    let mut calls = Calls::new(scratch, env, source, soru_michelson::Gas::new(budget));
                    let (fields, emitted) = calls.call(
                        Sender::Implicit(source),
                        *kt1,
                        amount,
                        &entrypoint,
                        Argument::Untyped {
                            value,
                            forged_tickets: false,
                        },
                    )?;
                    let own = budget - calls.gas.remaining();
                    calls.run_emitted(*kt1, emitted)?;
                    finish_calls(calls, &mut outcome, fields, own, content, params)?;
                }
            }
        }
        OperationKind::Origination {
            balance,
            delegate,
            script,
        } => {
            if let Some(delegate) = delegate {
                return Err(L1Error::UnregisteredDelegate(*delegate));
            }
            let address = contracts::contract_address(op_hash, *origination_index);
            *origination_index += 1;
            let balance = nat_u64(balance.0, "balance")?;
            let mut calls = Calls::new(scratch, env, source, soru_michelson::Gas::new(budget));
            let originated = contracts::originate(&mut calls, address, balance, &script.code, &script.storage)?;
            let own = budget - calls.gas.remaining();
            calls.storage_bytes += originated.used_bytes;
            let transfer = originated.balance_updates;
            let fields = json!({
                "originated_contracts": [address],
                "storage_size": originated.used_bytes.to_string(),
            });
            // The allocation of the new contract is burnt like an account's.
            calls.allocations += 1;
            finish_calls(calls, &mut outcome, fields, own, content, params)?;
            outcome.balance_updates.extend(transfer);
        }
        OperationKind::Delegation { delegate } => {
            return Err(L1Error::UnregisteredDelegate(delegate.unwrap_or(source)));
        }
        OperationKind::SmartRollupOriginate {
            pvm_kind,
            kernel,
            parameters_ty,
            whitelist,
        } => {
            match pvm_kind {
                PvmKind::Wasm => {}
                PvmKind::Arith => return Err(L1Error::PvmDisabled("arith")),
                PvmKind::Riscv => return Err(L1Error::PvmDisabled("riscv")),
            }
            let pvm = soru_pvm::Pvm::install_boot_sector(
                &soru_pvm::PvmConfig::from_params(&params.smart_rollup.pvm),
                &kernel.0,
            )
            .map_err(|e| L1Error::InvalidBootSector(e.to_string()))?;
            let genesis_state = pvm
                .state_hash()
                .map_err(|e| L1Error::InvalidBootSector(e.to_string()))?;
            let origination = RollupState::originate(
                &rules(env),
                &op_hash.0,
                *origination_index,
                genesis_state,
                parameters_ty.clone(),
                whitelist.clone(),
            )?;
            *origination_index += 1;
            let address = origination.rollup.address;
            let genesis_hash = origination.rollup.genesis_commitment;
            let size = rollup_storage_size(
                params,
                parameters_ty.to_bytes().len(),
                whitelist.as_ref().map_or(0, Vec::len),
            );
            scratch.insert_rollup(Rollup {
                state: origination.rollup,
                kind: *pvm_kind,
                boot_sector_hash: blake2b_256(&kernel.0),
                origination_operation: *op_hash,
            });
            outcome.balance_updates = burn_storage(scratch, &source, size, content, params)?;
            outcome.paid_storage = size;
            outcome.fields = json!({
                "address": address,
                "genesis_commitment_hash": genesis_hash,
                "size": size.to_string(),
            });
        }
        OperationKind::SmartRollupAddMessages { messages } => {
            if messages.is_empty() {
                return Err(L1Error::Inbox(soru_protocol::inbox::InboxError::TriedToAddZeroMessages));
            }
            let mut serialized = Vec::with_capacity(messages.len());
            for message in messages {
                let bytes = InboxMessage::External(message.0.clone()).to_bytes();
                if bytes.len() > MAX_MESSAGE_SIZE {
                    return Err(L1Error::Inbox(soru_protocol::inbox::InboxError::MessageTooLarge(
                        bytes.len(),
                    )));
                }
                serialized.push(bytes);
            }
            // SOL and Info_per_level come first; EOL is added at the end.
            let index = scratch.messages.len() as u64 + 2 + serialized.len() as u64;
            if index > u64::from(params.smart_rollup.max_number_of_messages_per_level) {
                return Err(L1Error::Inbox(
                    soru_protocol::inbox::InboxError::LevelReachedMessagesLimit,
                ));
            }
            scratch.messages.extend(serialized);
        }
        OperationKind::SmartRollupCement { rollup } => {
            let ctx = rules(env);
            let (hash, level) = scratch.rollup_mut(rollup)?.state.cement(&ctx)?;
            outcome.fields = json!({"commitment_hash": hash, "inbox_level": level});
        }
        OperationKind::SmartRollupPublish { rollup, commitment } => {
            let ctx = rules(env);
            let balance = scratch.ledger().account(&source).map_or(0, |a| a.balance);
            let published = scratch
                .rollup_mut(rollup)?
                .state
                .publish(&ctx, source, balance, *commitment)?;
            outcome.balance_updates = apply_rollup_updates(scratch, &published.balance_updates)?;
            outcome.fields = json!({
                "staked_hash": published.staked_hash,
                "published_at_level": published.published_at_level,
            });
        }
        OperationKind::SmartRollupRefute {
            rollup,
            opponent,
            refutation,
        } => {
            let game_ctx = GameContext {
                rules: rules(env),
                ticks_per_snapshot: params.smart_rollup.pvm.ticks_per_snapshot,
            };
            let inbox = scratch.ledger().inbox.clone();
            let state = &mut scratch.rollup_mut(rollup)?.state;
            let (status, updates) = match refutation {
                Refutation::Start {
                    player_commitment_hash,
                    opponent_commitment_hash,
                } => {
                    state.start_game(
                        &game_ctx,
                        &inbox,
                        source,
                        *player_commitment_hash,
                        *opponent,
                        *opponent_commitment_hash,
                    )?;
                    (json!("ongoing"), Vec::new())
                }
                Refutation::Move { choice, step } => {
                    match state.game_move(&game_ctx, source, *opponent, choice.0, step.clone())? {
                        MoveOutcome::Ongoing => (json!("ongoing"), Vec::new()),
                        MoveOutcome::Ended(result, updates) => (game_result_json(&result), updates),
                    }
                }
            };
            outcome.balance_updates = apply_rollup_updates(scratch, &updates)?;
            outcome.fields = json!({"game_status": status});
        }
        OperationKind::SmartRollupTimeout { rollup, stakers } => {
            let game_ctx = GameContext {
                rules: rules(env),
                ticks_per_snapshot: params.smart_rollup.pvm.ticks_per_snapshot,
            };
            let (result, updates) = scratch
                .rollup_mut(rollup)?
                .state
                .timeout(&game_ctx, stakers.alice, stakers.bob)?;
            outcome.balance_updates = apply_rollup_updates(scratch, &updates)?;
            outcome.fields = json!({"game_status": game_result_json(&result)});
        }
        OperationKind::SmartRollupExecuteOutboxMessage {
            rollup,
            cemented_commitment,
            output_proof,
        } => {
            let execution = execute_outbox_message(
                &params.smart_rollup,
                &mut scratch.rollup_mut(rollup)?.state,
                cemented_commitment,
                &output_proof.0,
            )?;
            match execution {
                Execution::AccessChanged(access) => {
                    let whitelist = match access {
                        soru_protocol::outbox::Access::Public => Value::Null,
                        soru_protocol::outbox::Access::Private { whitelist, .. } => json!(whitelist),
                    };
                    outcome.fields = json!({
                        "whitelist_update": {"kind": if whitelist.is_null() { "public" } else { "private" }, "whitelist": whitelist},
                        "paid_storage_size_diff": "0",
                    });
                }
                Execution::Transactions(transactions) => {
                    let batch = transactions.into_iter().map(|t| (t, None)).collect();
                    run_outbox(scratch, env, source, *rollup, batch, budget, &mut outcome, content)?;
                }
                Execution::TypedTransactions(transactions) => {
                    let batch = transactions
                        .into_iter()
                        .map(|t| (t.transaction, Some(t.parameters_ty)))
                        .collect();
                    run_outbox(scratch, env, source, *rollup, batch, budget, &mut outcome, content)?;
                }
            }
        }
        OperationKind::SmartRollupRecoverBond { rollup, staker } => {
            let ctx = rules(env);
            let updates = scratch.rollup_mut(rollup)?.state.recover_bond(&ctx, *staker)?;
            outcome.balance_updates = apply_rollup_updates(scratch, &updates)?;
        }
    }
    Ok(outcome)
}

/// Ends a content that ran calls: its own gas and fields, the internal
/// receipts, and the storage burns (new storage and ticket rows, then one
/// `origination_size` per allocated account or contract), all from the
/// source within the content's storage limit.
fn finish_calls(
    calls: Calls<'_, '_, '_>,
    outcome: &mut Outcome,
    mut fields: Value,
    own_milligas: u64,
    content: &ManagerOperation,
    params: &ProtocolParams,
) -> Result<(), L1Error> {
    let storage = calls.storage_bytes;
    let allocation = calls.allocations * u64::from(params.origination_size);
    let internal = calls.internal_results;
    let internal_milligas = u128::from(calls.internal_milligas);
    let scratch = calls.scratch;
    if u128::from(storage + allocation) > content.storage_limit.0 {
        return Err(L1Error::StorageExhausted {
            limit: content.storage_limit.0,
            needed: storage + allocation,
        });
    }
    let mut burns = burn_storage(scratch, &content.source, storage, content, params)?;
    burns.extend(burn_storage(scratch, &content.source, allocation, content, params)?);
    if let Some(updates) = fields.as_object_mut().and_then(|o| o.remove("balance_updates")) {
        if let Some(list) = updates.as_array() {
            burns.extend(list.iter().cloned());
        }
    }
    outcome.balance_updates = burns;
    outcome.consumed_milligas += u128::from(own_milligas);
    outcome.paid_storage = storage;
    outcome.fields = fields;
    outcome.internal = internal;
    // The content's total, for the block's gas count.
    outcome.internal_milligas = internal_milligas;
    Ok(())
}

/// Executes an outbox message's transactions for `execute_outbox_message`.
#[allow(clippy::too_many_arguments)]
fn run_outbox(
    scratch: &mut Scratch<'_>,
    env: &BlockEnv<'_>,
    source: PublicKeyHash,
    rollup: soru_core::base58::SmartRollupAddress,
    batch: Vec<(
        soru_core::outbox::OutboxTransaction,
        Option<soru_core::micheline::Micheline>,
    )>,
    budget: u64,
    outcome: &mut Outcome,
    content: &ManagerOperation,
) -> Result<(), L1Error> {
    let mut calls = Calls::new(scratch, env, source, soru_michelson::Gas::new(budget));
    let executed = contracts::execute_outbox_transactions(&mut calls, rollup, batch)?;
    let own = budget - calls.gas.remaining();
    let internal_own = calls.internal_milligas;
    let fields = json!({"ticket_updates": executed.ticket_updates});
    finish_calls(
        calls,
        outcome,
        fields,
        own.saturating_sub(internal_own),
        content,
        env.params,
    )
}

/// Octez's JSON of a finished game.
fn game_result_json(result: &GameResult) -> Value {
    let result = match result {
        GameResult::Loser { reason, loser } => json!({
            "kind": "loser",
            "reason": match reason { Reason::ConflictResolved => "conflict_resolved", Reason::Timeout => "timeout" },
            "player": loser,
        }),
        GameResult::Draw => json!({"kind": "draw"}),
    };
    json!({"result": result})
}

/// What applying an operation gave.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The contents with their `metadata`, in Octez's JSON.
    pub contents: Vec<Value>,
    /// Whether every content applied.
    pub success: bool,
    /// Milligas consumed by the contents that ran.
    pub consumed_milligas: u128,
    /// The fees paid, in mutez (they go to the block's baker).
    pub fees: u64,
}

fn result_json(kind: &OperationKind, status: &str, outcome: &Outcome) -> Value {
    let mut result = json!({
        "status": status,
        "consumed_milligas": outcome.consumed_milligas.to_string(),
    });
    if !outcome.balance_updates.is_empty() {
        result["balance_updates"] = json!(outcome.balance_updates);
    }
    if outcome.paid_storage > 0 {
        result["paid_storage_size_diff"] = json!(outcome.paid_storage.to_string());
    }
    if let (Some(target), Some(fields)) = (result.as_object_mut(), outcome.fields.as_object()) {
        for (k, v) in fields {
            target.insert(k.clone(), v.clone());
        }
    }
    if let OperationKind::SmartRollupOriginate { .. } = kind {
        // Octez writes `size` as the stored bytes and nothing else here.
        if let Some(target) = result.as_object_mut() {
            target.remove("paid_storage_size_diff");
        }
    }
    result
}

/// Applies a checked operation on `ledger`, adding its inbox messages to
/// `messages`. Runs on a thread with the stack Michelson's typechecker and
/// interpreter need for the deepest scripts ([`soru_michelson::STACK_SIZE`]),
/// whatever thread calls it.
pub fn apply(ledger: &mut Ledger, messages: &mut Vec<Vec<u8>>, op: &CheckedOperation, env: &BlockEnv<'_>) -> Applied {
    soru_michelson::with_stack(|| apply_here(ledger, messages, op, env))
}

fn apply_here(ledger: &mut Ledger, messages: &mut Vec<Vec<u8>>, op: &CheckedOperation, env: &BlockEnv<'_>) -> Applied {
    let source = op.source;
    let contents = &op.operation.operation.contents;
    // Fees and counters first; they stay whatever happens next.
    let mut fee_updates = Vec::with_capacity(contents.len());
    let mut fees_paid = 0u64;
    {
        let mut fees = Scratch::new(ledger, messages);
        for content in contents {
            let fee = u64::try_from(content.fee.0).unwrap_or(u64::MAX);
            fees_paid = fees_paid.saturating_add(fee);
            // `check` made sure the balance covers every fee.
            let _ = fees.credit(&source, -(fee as i64));
            if let Some(account) = fees.account_mut(&source) {
                account.counter = content.counter.0;
            }
            fee_updates.push(json!([
                contract_update(&source, -(fee as i64)),
                {"kind": "accumulator", "category": "block fees", "change": fee.to_string(), "origin": "block"}
            ]));
        }
        fees.commit();
    }

    let mut scratch = Scratch::new(ledger, messages);
    let mut results: Vec<Value> = Vec::with_capacity(contents.len());
    let mut internal_results: Vec<Vec<Value>> = Vec::with_capacity(contents.len());
    let mut failed = false;
    let mut origination_index = 0u32;
    let mut consumed = 0u128;
    for (i, content) in contents.iter().enumerate() {
        if failed {
            results.push(json!({"status": "skipped"}));
            continue;
        }
        let signature_gas = if i == 0 { op.signature_gas } else { 0 };
        match apply_content(
            &mut scratch,
            content,
            env,
            &op.hash,
            &mut origination_index,
            signature_gas,
        ) {
            Ok(outcome) => {
                consumed += outcome.consumed_milligas + outcome.internal_milligas;
                results.push(result_json(&content.kind, "applied", &outcome));
                internal_results.push(outcome.internal);
            }
            Err(error) => {
                failed = true;
                for earlier in results.iter_mut() {
                    earlier["status"] = json!("backtracked");
                }
                results.push(json!({"status": "failed", "errors": error.to_json_trace()}));
            }
        }
    }
    if failed {
        scratch.rollback();
    } else {
        scratch.commit();
    }

    // A failed group keeps no internal receipts: nothing they did stayed.
    if failed {
        internal_results.clear();
    }
    internal_results.resize(contents.len(), Vec::new());
    let contents_json = contents
        .iter()
        .zip(results)
        .zip(fee_updates)
        .zip(internal_results)
        .map(|(((content, result), fees), internal)| {
            let mut value = serde_json::to_value(content).unwrap_or(Value::Null);
            value["metadata"] = json!({
                "balance_updates": fees,
                "operation_result": result,
                "internal_operation_results": internal,
            });
            value
        })
        .collect();
    Applied {
        contents: contents_json,
        success: !failed,
        consumed_milligas: consumed,
        fees: fees_paid,
    }
}
