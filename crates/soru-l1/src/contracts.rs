//! Contracts on the L1: origination, calls, the internal operations
//! scripts emit (run depth-first, as Octez's `apply_internal_operations`),
//! transfers to smart rollups (internal `Transfer` inbox messages) and
//! outbox transactions (calls whose sender is a rollup). After every call
//! the contract's tickets are accounted as Octez's `ticket_accounting.ml`
//! does: a contract may keep or send only tickets it minted or received.
//!
//! Everything goes through the group's [`Scratch`], so a failure anywhere
//! (a `FAILWITH` deep in an internal call included) undoes the whole
//! content.

use std::collections::BTreeMap;
use std::sync::Arc;

use num_bigint::BigInt;
use serde_json::{json, Value as Json};
use soru_core::base58::{ContractKt1Hash, OperationHash, SmartRollupAddress};
use soru_core::encoding::Encode;
use soru_core::inbox::{InboxMessage, InternalMessage, MAX_MESSAGE_SIZE};
use soru_core::micheline::Micheline;
use soru_core::PublicKeyHash;
use soru_michelson::{
    run_script, unparse, Address, ChainView, Checker, Destination, Env, Form, Gas, RuntimeError, ScriptError, Transfer,
    Type, Value,
};

use crate::apply::BlockEnv;
use crate::error::L1Error;
use crate::gas;
use crate::ledger::{Ledger, OriginatedContract, Scratch};
use crate::tickets::{receipt_item, TicketAmounts, TicketToken};

/// An internal operation waiting to run: its sender, the transfer, and
/// the parameter as written when the sender wrote it (outbox messages).
pub(crate) type PendingOperation = (Sender, Transfer, Option<Micheline>);

/// Where a contract sends units of one token.
type TicketSends = Vec<(Destination, BigInt)>;

/// Milligas per value node walked to count tickets.
const TICKET_SCAN_NODE: u64 = 10;

/// Milligas of a storage write (Octez: 200 gas plus 4 per byte).
const STORAGE_WRITE_BASE: u64 = 200_000;

/// The chain as scripts see it (`CONTRACT`, `contract` literals).
#[derive(Debug, Clone, Copy)]
pub struct LedgerView<'l>(pub &'l Ledger);

/// The type a rollup takes, if it exists.
fn rollup_type(ledger: &Ledger, rollup: &SmartRollupAddress) -> Option<Type> {
    ledger
        .rollup(rollup)
        .and_then(|r| Type::parse(&r.state.parameters_ty).ok())
}

impl ChainView for LedgerView<'_> {
    fn accepts(&self, destination: &Destination, entrypoint: &str, ty: &Type) -> bool {
        match destination {
            Destination::Implicit(_) => entrypoint.is_empty() && matches!(ty, Type::Unit | Type::Ticket(_)),
            Destination::Originated(kt1) => self
                .0
                .contract(kt1)
                .and_then(|c| c.script.entrypoints.find(entrypoint))
                .is_some_and(|(_, t)| t == ty),
            Destination::SmartRollup(sr1) => {
                entrypoint.is_empty() && rollup_type(self.0, sr1).is_some_and(|t| &t == ty)
            }
        }
    }
}

/// Who makes a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
    /// The manager operation's source.
    Implicit(PublicKeyHash),
    /// A contract, through `TRANSFER_TOKENS`.
    Originated(ContractKt1Hash),
    /// A rollup, through an executed outbox message.
    Rollup(SmartRollupAddress),
}

impl Sender {
    fn destination(self) -> Destination {
        match self {
            Sender::Implicit(pkh) => Destination::Implicit(pkh),
            Sender::Originated(kt1) => Destination::Originated(kt1),
            Sender::Rollup(sr1) => Destination::SmartRollup(sr1),
        }
    }

    fn address(self) -> Address {
        Address {
            destination: self.destination(),
            entrypoint: String::new(),
        }
    }
}

/// A call's argument: Micheline to read against the entrypoint's type, or
/// a value already typed (internal calls).
pub(crate) enum Argument {
    /// Read against the entrypoint; ticket literals only from rollups.
    Untyped { value: Micheline, forged_tickets: bool },
    /// Typed by the sender; the type must be the entrypoint's.
    Typed { ty: Type, value: Value },
}

fn contract_json(destination: &Destination, change: i64) -> Json {
    json!({
        "kind": "contract",
        "contract": Address { destination: *destination, entrypoint: String::new() }.to_text(),
        "change": change.to_string(),
        "origin": "block",
    })
}

fn entrypoint_name(entrypoint: &str) -> &str {
    if entrypoint.is_empty() {
        "default"
    } else {
        entrypoint
    }
}

fn runtime_error(contract: ContractKt1Hash, error: RuntimeError) -> L1Error {
    match error {
        RuntimeError::Failwith(with) => L1Error::ScriptRejected { contract, with },
        error => L1Error::ScriptRuntime { contract, error },
    }
}

/// Bytes a script takes in storage: code and storage (Optimized), each
/// with its 4-byte length prefix.
fn used_bytes(code_size: u64, storage_size: u64) -> u64 {
    4 + code_size + 4 + storage_size
}

/// Runs calls for one manager content: its gas, the payer of storage,
/// and the receipts of the internal operations.
pub(crate) struct Calls<'s, 'a, 'e> {
    pub(crate) scratch: &'s mut Scratch<'a>,
    env: &'e BlockEnv<'e>,
    /// The manager operation's source: `SOURCE`, and who pays storage.
    payer: PublicKeyHash,
    /// What is left of the content's gas.
    pub(crate) gas: Gas,
    /// Receipts of the internal operations, in execution order.
    pub(crate) internal_results: Vec<Json>,
    /// Milligas the internal operations consumed.
    pub(crate) internal_milligas: u64,
    /// Bytes of new storage to burn from the payer.
    pub(crate) storage_bytes: u64,
    /// Implicit accounts allocated (each burns `origination_size`).
    pub(crate) allocations: u64,
}

impl<'s, 'a, 'e> Calls<'s, 'a, 'e> {
    pub(crate) fn new(scratch: &'s mut Scratch<'a>, env: &'e BlockEnv<'e>, payer: PublicKeyHash, gas: Gas) -> Self {
        Self {
            scratch,
            env,
            payer,
            gas,
            internal_results: Vec::new(),
            internal_milligas: 0,
            storage_bytes: 0,
            allocations: 0,
        }
    }

    fn charge(&mut self, milligas: u64) -> Result<(), L1Error> {
        let limit = self.gas.remaining();
        self.gas.consume(milligas).map_err(|_| L1Error::GasExhausted {
            limit: u128::from(limit),
            needed: u128::from(milligas),
        })
    }

    /// Moves `amount` mutez from `sender` to `to`.
    fn move_tez(&mut self, sender: Sender, to: &Destination, amount: u64) -> Result<Vec<Json>, L1Error> {
        if amount == 0 {
            return Ok(Vec::new());
        }
        match sender {
            Sender::Implicit(pkh) => self.scratch.debit(&pkh, amount)?,
            Sender::Originated(kt1) => {
                let contract = self.scratch.contract_mut(&kt1)?;
                contract.balance = contract
                    .balance
                    .checked_sub(amount)
                    .ok_or(L1Error::ContractBalanceTooLow {
                        contract: kt1,
                        balance: contract.balance,
                        amount,
                    })?;
            }
            Sender::Rollup(_) => return Err(L1Error::RollupInvalidTransactionAmount),
        }
        match to {
            Destination::Implicit(pkh) => {
                if self.scratch.ledger().account(pkh).is_none() {
                    self.allocations += 1;
                }
                self.scratch
                    .credit(pkh, i64::try_from(amount).map_err(|_| L1Error::TezOverflow)?)?;
            }
            Destination::Originated(kt1) => {
                let contract = self.scratch.contract_mut(kt1)?;
                contract.balance = contract.balance.checked_add(amount).ok_or(L1Error::TezOverflow)?;
            }
            Destination::SmartRollup(_) => return Err(L1Error::RollupInvalidTransactionAmount),
        }
        // Tez amounts are int64 in Tezos, so a paid amount fits one.
        let signed = i64::try_from(amount).map_err(|_| L1Error::TezOverflow)?;
        Ok(vec![
            contract_json(&sender.destination(), -signed),
            contract_json(to, signed),
        ])
    }

    /// Calls `kt1`: moves the tez, reads the argument, runs the script,
    /// accounts its tickets and stores its new storage. Returns the result
    /// fields and the operations it emitted.
    pub(crate) fn call(
        &mut self,
        sender: Sender,
        kt1: ContractKt1Hash,
        amount: u64,
        entrypoint: &str,
        argument: Argument,
    ) -> Result<(Json, Vec<Transfer>), L1Error> {
        let (script, old_storage, code_size) = {
            let contract = self
                .scratch
                .ledger()
                .contract(&kt1)
                .ok_or(L1Error::NonExistingContract(kt1))?;
            (
                Arc::clone(&contract.script),
                contract.storage.clone(),
                contract.code_size,
            )
        };
        let balance_updates = self.move_tez(sender, &Destination::Originated(kt1), amount)?;
        let bad_parameter = |reason: String| L1Error::BadContractParameter {
            contract: kt1.to_base58(),
            reason,
        };
        let (_, entrypoint_ty) = script
            .entrypoints
            .find(entrypoint)
            .ok_or_else(|| bad_parameter(format!("no_such_entrypoint: {}", entrypoint_name(entrypoint))))?;
        let entrypoint_ty = entrypoint_ty.clone();
        let parameter = match argument {
            Argument::Untyped { value, forged_tickets } => {
                let view = LedgerView(self.scratch.ledger());
                let mut checker = Checker::new(&mut self.gas).with_chain(&view);
                if forged_tickets {
                    checker = checker.with_forged_tickets();
                }
                checker.parse_value(&entrypoint_ty, &value).map_err(|e| match e {
                    ScriptError::OutOfGas => L1Error::ScriptRuntime {
                        contract: kt1,
                        error: RuntimeError::OutOfGas,
                    },
                    ScriptError::Data(soru_michelson::DataError::ForbiddenZeroTicket) => L1Error::ForbiddenZeroTicket,
                    other => bad_parameter(other.to_string()),
                })?
            }
            Argument::Typed { ty, value } => {
                if ty != entrypoint_ty {
                    return Err(bad_parameter(format!(
                        "inconsistent_types: {ty} is not the entrypoint's {entrypoint_ty}"
                    )));
                }
                value
            }
        };
        let argument_tickets = TicketAmounts::of_value(&entrypoint_ty, &parameter);

        let balance = self.scratch.ledger().contract(&kt1).map_or(0, |c| c.balance);
        let sender_address = sender.address();
        let view = LedgerView(self.scratch.ledger());
        let env = Env {
            self_address: kt1,
            sender: &sender_address,
            source: self.payer,
            amount,
            balance,
            now: self.env.timestamp.seconds,
            level: self.env.level,
            chain_id: self.env.chain_id,
            chain: &view,
        };
        let outcome = run_script(&script, entrypoint, parameter, old_storage.clone(), &env, &mut self.gas)
            .map_err(|e| runtime_error(kt1, e))?;

        let ticket_updates = self.account_tickets(kt1, &script.storage, &old_storage, &outcome, &argument_tickets)?;

        // The new storage, written Optimized; growth is paid by the payer.
        let stored = unparse(&script.storage, &outcome.storage, Form::Optimized);
        let stored_len = stored.to_bytes().len() as u64;
        self.charge(STORAGE_WRITE_BASE + 4 * stored_len)?;
        let used = used_bytes(code_size, stored_len);
        let contract = self.scratch.contract_mut(&kt1)?;
        contract.storage = outcome.storage;
        contract.used_bytes = used;
        let paid_diff = used.saturating_sub(contract.paid_bytes);
        contract.paid_bytes = contract.paid_bytes.max(used);
        let ticket_bytes = self.scratch.ticket_bytes_to_pay();
        self.storage_bytes += paid_diff + ticket_bytes;

        let mut fields = json!({
            "storage": stored.to_json(),
            "storage_size": used.to_string(),
        });
        if !balance_updates.is_empty() {
            fields["balance_updates"] = json!(balance_updates);
        }
        if !ticket_updates.is_empty() {
            fields["ticket_updates"] = json!(ticket_updates);
        }
        if paid_diff + ticket_bytes > 0 {
            fields["paid_storage_size_diff"] = json!((paid_diff + ticket_bytes).to_string());
        }
        Ok((fields, outcome.operations))
    }

    /// Octez's ticket accounting after `kt1` ran: what it keeps beyond
    /// what it had and received must be its own tickets, what it sends of
    /// others' tickets must come from what it held; the table follows.
    /// Returns the receipt (the contract's own changes).
    fn account_tickets(
        &mut self,
        kt1: ContractKt1Hash,
        storage_ty: &Type,
        old_storage: &Value,
        outcome: &soru_michelson::Outcome,
        received: &TicketAmounts,
    ) -> Result<Vec<Json>, L1Error> {
        let old = TicketAmounts::of_value(storage_ty, old_storage);
        let new = TicketAmounts::of_value(storage_ty, &outcome.storage);
        // Counting walks every ticket-holding part of the storage: paid
        // per node, so a large storage costs its callers, not the chain.
        self.charge(TICKET_SCAN_NODE * (old.visited() + new.visited() + received.visited()))?;
        let mut sent: BTreeMap<Vec<u8>, (TicketToken, TicketSends)> = BTreeMap::new();
        for operation in &outcome.operations {
            let tickets = TicketAmounts::of_value(&operation.parameter_ty, &operation.parameter);
            for (id, (token, amount)) in tickets.iter() {
                sent.entry(id.clone())
                    .or_insert_with(|| (token.clone(), Vec::new()))
                    .1
                    .push((operation.destination.destination, amount.clone()));
            }
        }
        let mut tokens: BTreeMap<Vec<u8>, TicketToken> = BTreeMap::new();
        for amounts in [&old, &new, received] {
            for (id, (token, _)) in amounts.iter() {
                tokens.entry(id.clone()).or_insert_with(|| token.clone());
            }
        }
        for (id, (token, _)) in &sent {
            tokens.entry(id.clone()).or_insert_with(|| token.clone());
        }
        let own = Destination::Originated(kt1);
        let mut receipt = Vec::new();
        for (id, token) in tokens {
            let kept = new.get(&id) - old.get(&id);
            let diff = &kept - received.get(&id);
            let minted_here = token.ticketer.destination == own;
            let sends = sent.get(&id).map(|(_, s)| s.as_slice()).unwrap_or(&[]);
            let total_sent: BigInt = sends.iter().map(|(_, a)| a).sum();
            let zero = BigInt::default();
            if !minted_here && (diff > zero || total_sent > -&diff) {
                return Err(L1Error::InvalidTicketTransfer {
                    ticketer: token.ticketer.to_text(),
                    amount: if diff > zero { diff } else { total_sent + &diff },
                });
            }
            self.charge(80)?;
            self.scratch.adjust_ticket(&token, &own, &diff)?;
            for (destination, amount) in sends {
                self.scratch.adjust_ticket(&token, destination, amount)?;
            }
            if kept != zero {
                receipt.push(receipt_item(&token, &[(own, kept)]));
            }
        }
        Ok(receipt)
    }

    /// Runs the operations `sender` emitted (see [`Calls::run_operations`]).
    pub(crate) fn run_emitted(&mut self, sender: ContractKt1Hash, operations: Vec<Transfer>) -> Result<(), L1Error> {
        self.run_operations(
            operations
                .into_iter()
                .map(|op| (Sender::Originated(sender), op, None))
                .collect(),
        )
    }

    /// Runs operations in order, each one's own emitted operations before
    /// the next (depth-first, as Octez), with a list of pending operations
    /// rather than recursion, however long a chain of calls gets.
    pub(crate) fn run_operations(&mut self, operations: Vec<PendingOperation>) -> Result<(), L1Error> {
        let mut pending: Vec<PendingOperation> = operations.into_iter().rev().collect();
        while let Some((sender, operation, written)) = pending.pop() {
            let destination = operation.destination.destination;
            let emitted = self.run_internal(sender, operation, written)?;
            if let Destination::Originated(kt1) = destination {
                pending.extend(emitted.into_iter().rev().map(|op| (Sender::Originated(kt1), op, None)));
            }
        }
        Ok(())
    }

    /// Applies one internal operation, records its receipt and returns the
    /// operations it emitted; `written` is the parameter as the sender wrote
    /// it (outbox messages), else it is unparsed Optimized.
    fn run_internal(
        &mut self,
        sender: Sender,
        operation: Transfer,
        written: Option<Micheline>,
    ) -> Result<Vec<Transfer>, L1Error> {
        let nonce = self.scratch.next_nonce()?;
        let before = self.gas.remaining();
        self.charge(gas::MANAGER_OPERATION as u64)?;
        let destination = operation.destination.destination;
        let entrypoint = operation.destination.entrypoint.clone();
        let value = written.unwrap_or_else(|| unparse(&operation.parameter_ty, &operation.parameter, Form::Optimized));
        let mut receipt = json!({
            "kind": "transaction",
            "source": sender.address().to_text(),
            "nonce": nonce,
            "amount": operation.amount.to_string(),
            "destination": Address { destination, entrypoint: String::new() }.to_text(),
        });
        if !(entrypoint.is_empty() && value.is_unit()) {
            receipt["parameters"] = json!({"entrypoint": entrypoint_name(&entrypoint), "value": value.to_json()});
        }
        let tickets = TicketAmounts::of_value(&operation.parameter_ty, &operation.parameter);
        let ticket_receipt: Vec<Json> = tickets
            .iter()
            .map(|(_, (token, amount))| receipt_item(token, &[(destination, amount.clone())]))
            .collect();
        let mut emitted = Vec::new();
        let mut result = match destination {
            Destination::Implicit(pkh) => {
                self.charge(gas::TRANSFER_OPERATION as u64)?;
                if operation.amount == 0 && tickets.is_empty() {
                    return Err(L1Error::EmptyTransaction(pkh));
                }
                let allocated_before = self.allocations;
                let updates = self.move_tez(sender, &destination, operation.amount)?;
                let mut result = json!({"status": "applied"});
                if !updates.is_empty() {
                    result["balance_updates"] = json!(updates);
                }
                if self.allocations > allocated_before {
                    result["allocated_destination_contract"] = json!(true);
                }
                result
            }
            Destination::Originated(kt1) => {
                let (mut fields, operations) = self.call(
                    sender,
                    kt1,
                    operation.amount,
                    &entrypoint,
                    Argument::Typed {
                        ty: operation.parameter_ty.clone(),
                        value: operation.parameter.clone(),
                    },
                )?;
                emitted = operations;
                // Internal results name the ticket changes `ticket_receipt`.
                if let Some(updates) = fields.as_object_mut().and_then(|o| o.remove("ticket_updates")) {
                    fields["ticket_receipt"] = updates;
                }
                fields["status"] = json!("applied");
                fields
            }
            Destination::SmartRollup(rollup) => {
                self.send_to_rollup(sender, rollup, &entrypoint, operation.amount, value)?;
                json!({"status": "applied"})
            }
        };
        if !matches!(destination, Destination::Originated(_)) {
            result["ticket_receipt"] = json!(ticket_receipt);
        }
        let consumed = before - self.gas.remaining();
        self.internal_milligas += consumed;
        result["consumed_milligas"] = json!(consumed.to_string());
        receipt["result"] = result;
        self.internal_results.push(receipt);
        Ok(emitted)
    }

    /// A contract's transfer to a rollup: an internal `Transfer` message
    /// in the inbox, now.
    fn send_to_rollup(
        &mut self,
        sender: Sender,
        rollup: SmartRollupAddress,
        entrypoint: &str,
        amount: u64,
        payload: Micheline,
    ) -> Result<(), L1Error> {
        if amount != 0 {
            return Err(L1Error::RollupInvalidTransactionAmount);
        }
        if !entrypoint.is_empty() {
            return Err(L1Error::RollupInvalidEntrypoint);
        }
        let Sender::Originated(kt1) = sender else {
            return Err(L1Error::BadContractParameter {
                contract: rollup.to_base58(),
                reason: "invalid_transfer_to_smart_rollup_from_implicit_account".into(),
            });
        };
        if self.scratch.ledger().rollup(&rollup).is_none() {
            return Err(L1Error::SmartRollupDoesNotExist(rollup));
        }
        let message = InboxMessage::Internal(InternalMessage::Transfer(soru_core::inbox::Transfer {
            payload,
            sender: kt1,
            source: self.payer,
            destination: rollup,
        }))
        .to_bytes();
        if message.len() > MAX_MESSAGE_SIZE {
            return Err(L1Error::Inbox(soru_protocol::inbox::InboxError::MessageTooLarge(
                message.len(),
            )));
        }
        // SOL and Info_per_level come first; EOL is added at the end.
        let index = self.scratch.messages.len() as u64 + 3;
        if index > u64::from(self.env.params.smart_rollup.max_number_of_messages_per_level) {
            return Err(L1Error::Inbox(
                soru_protocol::inbox::InboxError::LevelReachedMessagesLimit,
            ));
        }
        self.charge(gas::inbox_message(message.len()) as u64)?;
        self.scratch.messages.push(message);
        Ok(())
    }
}

/// The address of the `index`-th origination of operation `hash`, as for
/// rollups.
pub fn contract_address(hash: &OperationHash, index: u32) -> ContractKt1Hash {
    ContractKt1Hash(soru_core::hash::origination_hash(&hash.0, index))
}

/// What an origination stored.
pub(crate) struct Originated {
    pub(crate) used_bytes: u64,
    pub(crate) balance_updates: Vec<Json>,
}

/// Originates a contract: typechecks the script and storage, moves the
/// initial balance and stores it. The caller burns the storage.
pub(crate) fn originate(
    calls: &mut Calls<'_, '_, '_>,
    address: ContractKt1Hash,
    balance: u64,
    code: &Micheline,
    storage: &Micheline,
) -> Result<Originated, L1Error> {
    let out_of_gas = |_| L1Error::ScriptRuntime {
        contract: address,
        error: RuntimeError::OutOfGas,
    };
    let script = Checker::new(&mut calls.gas).check_script(code).map_err(|e| match e {
        ScriptError::OutOfGas => out_of_gas(()),
        other => L1Error::IllTypedContract(other.to_string()),
    })?;
    let storage = Checker::new(&mut calls.gas)
        .parse_value(&script.storage, storage)
        .map_err(|e| match e {
            ScriptError::OutOfGas => out_of_gas(()),
            other => L1Error::IllTypedData(other.to_string()),
        })?;
    // Stored as Octez stores it: `PUSH` constants in Optimized form.
    let code = soru_michelson::normalize_code(code, Form::Optimized);
    let code_size = code.to_bytes().len() as u64;
    let storage_size = unparse(&script.storage, &storage, Form::Optimized).to_bytes().len() as u64;
    let used = used_bytes(code_size, storage_size);
    calls.charge(2 * STORAGE_WRITE_BASE + 4 * used)?;
    calls.scratch.insert_contract(
        address,
        OriginatedContract {
            balance: 0,
            code,
            code_size,
            script: Arc::new(script),
            storage,
            used_bytes: used,
            paid_bytes: used,
        },
    );
    let payer = calls.payer;
    let balance_updates = calls.move_tez(Sender::Implicit(payer), &Destination::Originated(address), balance)?;
    Ok(Originated {
        used_bytes: used,
        balance_updates,
    })
}

/// What executing an outbox message's transactions did.
pub(crate) struct OutboxCalls {
    /// The rollup's ticket debits, Octez's `ticket_updates`.
    pub(crate) ticket_updates: Vec<Json>,
}

/// Runs an outbox message's transactions: each is read against its
/// destination (untyped) or its given type (typed), the tickets they carry
/// move from the rollup to the destinations before any runs, then each
/// runs as an internal call from the rollup.
pub(crate) fn execute_outbox_transactions(
    calls: &mut Calls<'_, '_, '_>,
    rollup: SmartRollupAddress,
    transactions: Vec<(soru_core::outbox::OutboxTransaction, Option<Micheline>)>,
) -> Result<OutboxCalls, L1Error> {
    let mut prepared = Vec::with_capacity(transactions.len());
    for (transaction, given_ty) in transactions {
        let kt1 = transaction.destination;
        let entrypoint = if transaction.entrypoint == "default" {
            String::new()
        } else {
            transaction.entrypoint.clone()
        };
        let ty = match &given_ty {
            Some(ty) => Type::parse(ty).map_err(|e| L1Error::InvalidOutboxParametersType(e.to_string()))?,
            None => {
                let contract = calls
                    .scratch
                    .ledger()
                    .contract(&kt1)
                    .ok_or(L1Error::InvalidOutboxDestination(kt1))?;
                let (_, ty) =
                    contract
                        .script
                        .entrypoints
                        .find(&entrypoint)
                        .ok_or_else(|| L1Error::BadContractParameter {
                            contract: kt1.to_base58(),
                            reason: format!("no_such_entrypoint: {}", entrypoint_name(&entrypoint)),
                        })?;
                ty.clone()
            }
        };
        soru_protocol::rollup::validate_parameters_ty(&ty.to_micheline())
            .map_err(|e| L1Error::InvalidOutboxParametersType(e.to_string()))?;
        let view = LedgerView(calls.scratch.ledger());
        let value = Checker::new(&mut calls.gas)
            .with_chain(&view)
            .with_forged_tickets()
            .parse_value(&ty, &transaction.parameters)
            .map_err(|e| match e {
                ScriptError::Data(soru_michelson::DataError::ForbiddenZeroTicket) => L1Error::ForbiddenZeroTicket,
                other => L1Error::BadContractParameter {
                    contract: kt1.to_base58(),
                    reason: other.to_string(),
                },
            })?;
        prepared.push((kt1, entrypoint, ty, value, transaction.parameters));
    }

    // Tickets move before any transaction runs.
    let own = Destination::SmartRollup(rollup);
    let mut debited = TicketAmounts::default();
    for (kt1, _, ty, value, _) in &prepared {
        let tickets = TicketAmounts::of_value(ty, value);
        for (_, (token, amount)) in tickets.iter() {
            calls.scratch.adjust_ticket(token, &own, &-amount)?;
            calls
                .scratch
                .adjust_ticket(token, &Destination::Originated(*kt1), amount)?;
            debited.add(token.clone(), amount);
        }
    }
    let ticket_updates = debited
        .iter()
        .map(|(_, (token, amount))| receipt_item(token, &[(own, -amount)]))
        .collect();
    calls.storage_bytes += calls.scratch.ticket_bytes_to_pay();

    let operations = prepared
        .into_iter()
        .map(|(kt1, entrypoint, ty, value, written)| {
            let transfer = Transfer {
                destination: Address {
                    destination: Destination::Originated(kt1),
                    entrypoint,
                },
                amount: 0,
                parameter_ty: ty,
                parameter: value,
            };
            (Sender::Rollup(rollup), transfer, Some(written))
        })
        .collect();
    calls.run_operations(operations)?;
    Ok(OutboxCalls { ticket_updates })
}
