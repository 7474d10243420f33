//! The L1's state at one block: implicit accounts, originated contracts,
//! the ticket table, the smart rollups and the global inbox. Operations
//! change it through a [`Scratch`], which remembers what each touched entry
//! was so that a group whose content fails can be undone (Octez backtracks
//! the group's earlier contents).

use std::collections::BTreeMap;
use std::sync::Arc;

use num_bigint::BigInt;
use soru_core::base58::{ContractKt1Hash, OperationHash, SmartRollupAddress};
use soru_core::micheline::Micheline;
use soru_core::operation::PvmKind;
use soru_core::{PublicKey, PublicKeyHash};
use soru_protocol::inbox::Inbox;
use soru_protocol::rollup::RollupState;

use crate::error::L1Error;
use crate::tickets::{TicketRow, TicketToken, TICKET_ROW_KEY_BYTES};

/// An implicit account (`tz1…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Spendable balance in mutez.
    pub balance: u64,
    /// The last counter used; the next operation carries `counter + 1`.
    pub counter: u128,
    /// The revealed public key.
    pub manager: Option<PublicKey>,
    /// Bonds frozen on rollups, in mutez.
    pub bonds: BTreeMap<SmartRollupAddress, u64>,
}

impl Account {
    /// Mutez frozen in bonds.
    pub fn frozen(&self) -> u64 {
        self.bonds.values().fold(0u64, |a, b| a.saturating_add(*b))
    }
}

/// A smart rollup the chain hosts.
#[derive(Debug, Clone)]
pub struct Rollup {
    /// The rules' state: commitments, stakers, games, outbox.
    pub state: RollupState,
    /// Its PVM.
    pub kind: PvmKind,
    /// blake2b-256 of the boot sector.
    pub boot_sector_hash: [u8; 32],
    /// The operation that originated it.
    pub origination_operation: OperationHash,
}

/// An originated contract (`KT1…`).
#[derive(Debug, Clone)]
pub struct OriginatedContract {
    /// Mutez held.
    pub balance: u64,
    /// The script as originated (`{ parameter … ; storage … ; code … }`).
    pub code: Micheline,
    /// Bytes of `code` in binary (what storing it takes).
    pub code_size: u64,
    /// The typechecked script.
    pub script: Arc<soru_michelson::Script>,
    /// The current storage.
    pub storage: soru_michelson::Value,
    /// Bytes stored (code and storage with their length prefixes).
    pub used_bytes: u64,
    /// Bytes paid for so far (the high-water mark of `used_bytes`).
    pub paid_bytes: u64,
}

/// The chain's state after a block.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub(crate) accounts: BTreeMap<PublicKeyHash, Account>,
    pub(crate) contracts: BTreeMap<ContractKt1Hash, OriginatedContract>,
    /// Ticket balances by Octez's row key (ticket and owner hashed).
    pub(crate) tickets: BTreeMap<[u8; 32], TicketRow>,
    /// Bytes the ticket table uses, and the most it ever used (paid for).
    pub(crate) ticket_used_bytes: u64,
    pub(crate) ticket_paid_bytes: u64,
    /// The block's next internal operation nonce.
    pub(crate) internal_nonce: u32,
    pub(crate) rollups: BTreeMap<SmartRollupAddress, Rollup>,
    /// The global rollup inbox, as of the last finalized level.
    pub(crate) inbox: Inbox,
    /// Counters of newly allocated accounts start here, so that an emptied
    /// and refunded account cannot see its old operations replayed.
    pub(crate) global_counter: u128,
}

impl Ledger {
    /// A ledger with `accounts` funded (and revealed) and the inbox created.
    pub fn new(accounts: impl IntoIterator<Item = (PublicKey, u64)>, inbox: Inbox) -> Self {
        let accounts = accounts
            .into_iter()
            .map(|(key, balance)| {
                (
                    key.hash(),
                    Account {
                        balance,
                        counter: 0,
                        manager: Some(key),
                        bonds: BTreeMap::new(),
                    },
                )
            })
            .collect();
        Self {
            accounts,
            contracts: BTreeMap::new(),
            tickets: BTreeMap::new(),
            ticket_used_bytes: 0,
            ticket_paid_bytes: 0,
            internal_nonce: 0,
            rollups: BTreeMap::new(),
            inbox,
            global_counter: 0,
        }
    }

    /// An account, if allocated.
    pub fn account(&self, pkh: &PublicKeyHash) -> Option<&Account> {
        self.accounts.get(pkh)
    }

    /// Every allocated account.
    pub fn accounts(&self) -> impl Iterator<Item = (&PublicKeyHash, &Account)> {
        self.accounts.iter()
    }

    /// An originated contract.
    pub fn contract(&self, address: &ContractKt1Hash) -> Option<&OriginatedContract> {
        self.contracts.get(address)
    }

    /// Every originated contract.
    pub fn contracts(&self) -> impl Iterator<Item = (&ContractKt1Hash, &OriginatedContract)> {
        self.contracts.iter()
    }

    /// The amount of `token` that `owner` holds.
    pub fn ticket_balance(&self, token: &TicketToken, owner: &soru_michelson::Destination) -> BigInt {
        self.ticket_balance_by_key(&token.row_key(owner))
    }

    /// The amount in the ticket row `key` (Octez's hash of ticket and owner).
    pub fn ticket_balance_by_key(&self, key: &[u8; 32]) -> BigInt {
        self.tickets
            .get(key)
            .map_or_else(BigInt::default, |row| row.amount.clone())
    }

    /// Every ticket row.
    pub fn ticket_rows(&self) -> impl Iterator<Item = &TicketRow> {
        self.tickets.values()
    }

    /// Starts a new block: internal operation nonces count from 0.
    pub(crate) fn start_block(&mut self) {
        self.internal_nonce = 0;
    }

    /// A rollup.
    pub fn rollup(&self, address: &SmartRollupAddress) -> Option<&Rollup> {
        self.rollups.get(address)
    }

    /// Every rollup, by address.
    pub fn rollups(&self) -> impl Iterator<Item = (&SmartRollupAddress, &Rollup)> {
        self.rollups.iter()
    }

    /// The global inbox as of the last finalized level.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// Removes `pkh` if it holds nothing (no balance, no bonds), as Tezos
    /// removes emptied implicit accounts: its key must be revealed again.
    pub(crate) fn deallocate_if_empty(&mut self, pkh: &PublicKeyHash) {
        if self
            .accounts
            .get(pkh)
            .is_some_and(|a| a.balance == 0 && a.bonds.is_empty())
        {
            self.accounts.remove(pkh);
        }
    }

    /// Pays a block's fees to its baker (allocated if needed).
    pub(crate) fn credit_baker(&mut self, baker: &PublicKeyHash, fees: u64) -> Result<(), L1Error> {
        let account = self.accounts.entry(*baker).or_insert_with(|| Account {
            balance: 0,
            counter: self.global_counter,
            manager: None,
            bonds: BTreeMap::new(),
        });
        account.balance = account.balance.checked_add(fees).ok_or(L1Error::TezOverflow)?;
        Ok(())
    }

    /// Total mutez in accounts, bonds and contracts (for supply checks in
    /// tests).
    pub fn total_mutez(&self) -> u128 {
        self.accounts
            .values()
            .map(|a| u128::from(a.balance) + u128::from(a.frozen()))
            .chain(self.contracts.values().map(|c| u128::from(c.balance)))
            .sum()
    }
}

/// Changes to a [`Ledger`] that can be undone: the first time an entry is
/// touched its old value is kept.
#[derive(Debug)]
pub(crate) struct Scratch<'a> {
    ledger: &'a mut Ledger,
    /// The block's inbox messages so far (serialized).
    pub(crate) messages: &'a mut Vec<Vec<u8>>,
    saved_accounts: BTreeMap<PublicKeyHash, Option<Account>>,
    saved_contracts: BTreeMap<ContractKt1Hash, Option<OriginatedContract>>,
    saved_tickets: BTreeMap<[u8; 32], Option<TicketRow>>,
    saved_rollups: BTreeMap<SmartRollupAddress, Option<Rollup>>,
    saved_counter: u128,
    saved_ticket_bytes: (u64, u64),
    saved_nonce: u32,
    saved_messages: usize,
}

impl<'a> Scratch<'a> {
    pub(crate) fn new(ledger: &'a mut Ledger, messages: &'a mut Vec<Vec<u8>>) -> Self {
        let saved_counter = ledger.global_counter;
        let saved_ticket_bytes = (ledger.ticket_used_bytes, ledger.ticket_paid_bytes);
        let saved_nonce = ledger.internal_nonce;
        let saved_messages = messages.len();
        Self {
            ledger,
            messages,
            saved_accounts: BTreeMap::new(),
            saved_contracts: BTreeMap::new(),
            saved_tickets: BTreeMap::new(),
            saved_rollups: BTreeMap::new(),
            saved_counter,
            saved_ticket_bytes,
            saved_nonce,
            saved_messages,
        }
    }

    pub(crate) fn ledger(&self) -> &Ledger {
        self.ledger
    }

    fn save_account(&mut self, pkh: &PublicKeyHash) {
        if !self.saved_accounts.contains_key(pkh) {
            self.saved_accounts.insert(*pkh, self.ledger.accounts.get(pkh).cloned());
        }
    }

    /// The account, for writing.
    pub(crate) fn account_mut(&mut self, pkh: &PublicKeyHash) -> Option<&mut Account> {
        self.save_account(pkh);
        self.ledger.accounts.get_mut(pkh)
    }

    /// Allocates an empty account; its counter starts at the global one.
    pub(crate) fn allocate(&mut self, pkh: &PublicKeyHash) -> &mut Account {
        self.save_account(pkh);
        self.ledger.global_counter += 1;
        let counter = self.ledger.global_counter;
        self.ledger.accounts.entry(*pkh).or_insert_with(|| Account {
            balance: 0,
            counter,
            manager: None,
            bonds: BTreeMap::new(),
        })
    }

    /// Takes `amount` from an account's balance; refuses an overdraft
    /// (`balance_too_low`), whatever the amount's size.
    pub(crate) fn debit(&mut self, pkh: &PublicKeyHash, amount: u64) -> Result<(), L1Error> {
        let account = self.account_mut(pkh).ok_or(L1Error::EmptyImplicitContract(*pkh))?;
        account.balance = account.balance.checked_sub(amount).ok_or(L1Error::BalanceTooLow {
            contract: *pkh,
            balance: account.balance,
            amount,
        })?;
        Ok(())
    }

    /// Adds `amount` (signed) to a balance; refuses underflow and overflow.
    pub(crate) fn credit(&mut self, pkh: &PublicKeyHash, amount: i64) -> Result<(), L1Error> {
        if !self.ledger.accounts.contains_key(pkh) {
            if amount < 0 {
                return Err(L1Error::EmptyImplicitContract(*pkh));
            }
            self.allocate(pkh);
        }
        let account = self.account_mut(pkh).ok_or(L1Error::EmptyImplicitContract(*pkh))?;
        let balance = account.balance;
        account.balance = if amount >= 0 {
            balance.checked_add(amount.unsigned_abs()).ok_or(L1Error::TezOverflow)?
        } else {
            balance
                .checked_sub(amount.unsigned_abs())
                .ok_or(L1Error::BalanceTooLow {
                    contract: *pkh,
                    balance,
                    amount: amount.unsigned_abs(),
                })?
        };
        Ok(())
    }

    /// Adds `amount` (signed) to the bond of `pkh` on `rollup`.
    pub(crate) fn change_bond(
        &mut self,
        pkh: &PublicKeyHash,
        rollup: &SmartRollupAddress,
        amount: i64,
    ) -> Result<(), L1Error> {
        let account = self.account_mut(pkh).ok_or(L1Error::EmptyImplicitContract(*pkh))?;
        let bond = account.bonds.get(rollup).copied().unwrap_or(0);
        let new = if amount >= 0 {
            bond.checked_add(amount.unsigned_abs()).ok_or(L1Error::TezOverflow)?
        } else {
            bond.checked_sub(amount.unsigned_abs()).ok_or(L1Error::TezOverflow)?
        };
        if new == 0 {
            account.bonds.remove(rollup);
        } else {
            account.bonds.insert(*rollup, new);
        }
        Ok(())
    }

    /// The rollup, for writing.
    pub(crate) fn rollup_mut(&mut self, address: &SmartRollupAddress) -> Result<&mut Rollup, L1Error> {
        if !self.saved_rollups.contains_key(address) {
            let old = self.ledger.rollups.get(address).cloned();
            self.saved_rollups.insert(*address, old);
        }
        self.ledger
            .rollups
            .get_mut(address)
            .ok_or(L1Error::SmartRollupDoesNotExist(*address))
    }

    /// Adds a new rollup.
    pub(crate) fn insert_rollup(&mut self, rollup: Rollup) {
        let address = rollup.state.address;
        if !self.saved_rollups.contains_key(&address) {
            let old = self.ledger.rollups.get(&address).cloned();
            self.saved_rollups.insert(address, old);
        }
        self.ledger.rollups.insert(address, rollup);
    }

    /// The contract, for writing.
    pub(crate) fn contract_mut(&mut self, address: &ContractKt1Hash) -> Result<&mut OriginatedContract, L1Error> {
        if !self.saved_contracts.contains_key(address) {
            let old = self.ledger.contracts.get(address).cloned();
            self.saved_contracts.insert(*address, old);
        }
        self.ledger
            .contracts
            .get_mut(address)
            .ok_or(L1Error::NonExistingContract(*address))
    }

    /// Adds a new contract.
    pub(crate) fn insert_contract(&mut self, address: ContractKt1Hash, contract: OriginatedContract) {
        if !self.saved_contracts.contains_key(&address) {
            let old = self.ledger.contracts.get(&address).cloned();
            self.saved_contracts.insert(address, old);
        }
        self.ledger.contracts.insert(address, contract);
    }

    /// Adds `delta` to what `owner` holds of `token`, keeping the table's
    /// byte count (a row is its 65-byte key and its amount); a row at zero
    /// is removed, a negative one refused.
    pub(crate) fn adjust_ticket(
        &mut self,
        token: &TicketToken,
        owner: &soru_michelson::Destination,
        delta: &BigInt,
    ) -> Result<(), L1Error> {
        if delta == &BigInt::default() {
            return Ok(());
        }
        let key = token.row_key(owner);
        if !self.saved_tickets.contains_key(&key) {
            let old = self.ledger.tickets.get(&key).cloned();
            self.saved_tickets.insert(key, old);
        }
        let old = self.ledger.tickets.get(&key).map(|row| row.amount.clone());
        let old_size = old.as_ref().map_or(0, |a| TICKET_ROW_KEY_BYTES + z_size(a));
        let new = old.unwrap_or_default() + delta;
        if new < BigInt::default() {
            return Err(L1Error::NegativeTicketBalance {
                key: soru_core::base58::ScriptExprHash(key),
                balance: new,
            });
        }
        let new_size = if new == BigInt::default() {
            self.ledger.tickets.remove(&key);
            0
        } else {
            let size = TICKET_ROW_KEY_BYTES + z_size(&new);
            self.ledger.tickets.insert(
                key,
                TicketRow {
                    token: token.clone(),
                    owner: *owner,
                    amount: new,
                },
            );
            size
        };
        self.ledger.ticket_used_bytes = (self.ledger.ticket_used_bytes + new_size).saturating_sub(old_size);
        Ok(())
    }

    /// Bytes of ticket table growth not yet paid for; marks them paid
    /// (Octez's high-water mark over the whole table).
    pub(crate) fn ticket_bytes_to_pay(&mut self) -> u64 {
        let ledger = &mut *self.ledger;
        let due = ledger.ticket_used_bytes.saturating_sub(ledger.ticket_paid_bytes);
        ledger.ticket_paid_bytes = ledger.ticket_paid_bytes.max(ledger.ticket_used_bytes);
        due
    }

    /// The next internal operation nonce.
    pub(crate) fn next_nonce(&mut self) -> Result<u32, L1Error> {
        let nonce = self.ledger.internal_nonce;
        if nonce > u32::from(u16::MAX) {
            return Err(L1Error::TooManyInternalOperations);
        }
        self.ledger.internal_nonce += 1;
        Ok(nonce)
    }

    /// Keeps every change.
    pub(crate) fn commit(self) {}

    /// Undoes every change made through this scratch.
    pub(crate) fn rollback(self) {
        for (pkh, old) in self.saved_accounts {
            match old {
                Some(account) => self.ledger.accounts.insert(pkh, account),
                None => self.ledger.accounts.remove(&pkh),
            };
        }
        for (address, old) in self.saved_rollups {
            match old {
                Some(rollup) => self.ledger.rollups.insert(address, rollup),
                None => self.ledger.rollups.remove(&address),
            };
        }
        for (address, old) in self.saved_contracts {
            match old {
                Some(contract) => self.ledger.contracts.insert(address, contract),
                None => self.ledger.contracts.remove(&address),
            };
        }
        for (key, old) in self.saved_tickets {
            match old {
                Some(row) => self.ledger.tickets.insert(key, row),
                None => self.ledger.tickets.remove(&key),
            };
        }
        (self.ledger.ticket_used_bytes, self.ledger.ticket_paid_bytes) = self.saved_ticket_bytes;
        self.ledger.internal_nonce = self.saved_nonce;
        self.ledger.global_counter = self.saved_counter;
        self.messages.truncate(self.saved_messages);
    }
}

/// Bytes of a `z` in Tezos's binary encoding (6 bits in the first byte,
/// 7 in each next one).
pub(crate) fn z_size(value: &BigInt) -> u64 {
    let bits = value.bits();
    if bits <= 6 {
        1
    } else {
        1 + (bits - 6).div_ceil(7)
    }
}
