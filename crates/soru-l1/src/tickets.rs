//! Tickets on the L1: tokens (ticketer, content type, contents), the
//! ticket table's rows keyed as Octez keys them, and counting the tickets
//! a typed value holds — what a contract's storage, argument and emitted
//! operations are checked against after every call
//! (`ticket_accounting.ml`).

use std::collections::BTreeMap;

use num_bigint::BigInt;
use serde_json::{json, Value as Json};
use soru_core::encoding::Encode;
use soru_core::hash::blake2b_256;
use soru_core::micheline::Micheline;
use soru_michelson::{unparse, Address, Destination, Form, Type, Value};

/// Bytes a ticket table row's key takes (Octez `cost_of_key`).
pub const TICKET_ROW_KEY_BYTES: u64 = 65;

/// A kind of ticket: who minted it, of which type, with what contents.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketToken {
    /// The minting contract (no entrypoint).
    pub ticketer: Address,
    /// The contents' type.
    pub content_type: Type,
    /// The contents.
    pub contents: Value,
}

/// One row of the ticket table: how much of a token an owner holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    /// The token.
    pub token: TicketToken,
    /// The owner: an implicit account, a contract or a rollup.
    pub owner: Destination,
    /// Units held (positive).
    pub amount: BigInt,
}

fn address_node(destination: &Destination) -> Micheline {
    Micheline::Bytes(
        Address {
            destination: *destination,
            entrypoint: String::new(),
        }
        .to_bytes(),
    )
}

impl TicketToken {
    fn parts(&self) -> Vec<Micheline> {
        vec![
            address_node(&self.ticketer.destination),
            self.content_type.to_micheline(),
            unparse(&self.content_type, &self.contents, Form::OptimizedLegacy),
        ]
    }

    /// Bytes that identify the token (its three parts as Micheline).
    pub fn id(&self) -> Vec<u8> {
        Micheline::Seq(self.parts()).to_bytes()
    }

    /// Octez's row key: blake2b-256 of the Micheline sequence of ticketer,
    /// content type, contents (Optimized_legacy) and owner, without the
    /// `0x05` of `PACK`.
    pub fn row_key(&self, owner: &Destination) -> [u8; 32] {
        let mut parts = self.parts();
        parts.push(address_node(owner));
        blake2b_256(&Micheline::Seq(parts).to_bytes())
    }

    /// Octez's `ticket_token` JSON.
    pub fn to_json(&self) -> Json {
        json!({
            "ticketer": self.ticketer.to_text(),
            "content_type": self.content_type.to_micheline().to_json(),
            "content": unparse(&self.content_type, &self.contents, Form::Readable).to_json(),
        })
    }
}

/// The row key of a token written as the `ticket_balance` RPCs take it:
/// Octez hashes the posted type and contents as given.
pub fn row_key_of_posted(
    ticketer: &Destination,
    content_type: &Micheline,
    content: &Micheline,
    owner: &Destination,
) -> [u8; 32] {
    let parts = vec![
        address_node(ticketer),
        content_type.clone(),
        content.clone(),
        address_node(owner),
    ];
    blake2b_256(&Micheline::Seq(parts).to_bytes())
}

/// Units of each token, by token id, and how many value nodes were
/// visited to count them (what counting costs).
#[derive(Debug, Clone, Default)]
pub struct TicketAmounts {
    amounts: BTreeMap<Vec<u8>, (TicketToken, BigInt)>,
    visited: u64,
}

fn has_tickets(ty: &Type) -> bool {
    match ty {
        Type::Ticket(_) => true,
        Type::Option(t) | Type::List(t) | Type::Set(t) => has_tickets(t),
        Type::Map(_, v) | Type::BigMap(_, v) => has_tickets(v),
        Type::Pair(a, b) | Type::Or(a, b) => has_tickets(a) || has_tickets(b),
        _ => false,
    }
}

impl TicketAmounts {
    /// The tickets in `value` (of type `ty`).
    pub fn of_value(ty: &Type, value: &Value) -> Self {
        let mut amounts = Self::default();
        amounts.collect(ty, value);
        amounts
    }

    /// Adds the tickets in `value` (of type `ty`).
    pub fn collect(&mut self, ty: &Type, value: &Value) {
        if !has_tickets(ty) {
            return;
        }
        self.visited += 1;
        match (ty, value) {
            (Type::Ticket(content_type), Value::Ticket(ticket)) => self.add(
                TicketToken {
                    ticketer: ticket.ticketer.clone(),
                    content_type: (**content_type).clone(),
                    contents: ticket.contents.clone(),
                },
                &ticket.amount,
            ),
            (Type::Pair(a, b), Value::Pair(x, y)) => {
                self.collect(a, x);
                self.collect(b, y);
            }
            (Type::Or(a, _), Value::Left(x)) | (Type::Or(_, a), Value::Right(x)) => self.collect(a, x),
            (Type::Option(t), Value::Option(Some(x))) => self.collect(t, x),
            (Type::List(t), Value::List(items)) => {
                for item in items {
                    self.collect(t, item);
                }
            }
            (Type::Map(_, t) | Type::BigMap(_, t), Value::Map(map)) => {
                for item in map.values() {
                    self.collect(t, item);
                }
            }
            _ => {}
        }
    }

    /// Adds `amount` units of `token`.
    pub fn add(&mut self, token: TicketToken, amount: &BigInt) {
        let entry = self
            .amounts
            .entry(token.id())
            .or_insert_with(|| (token, BigInt::default()));
        entry.1 += amount;
    }

    /// Units of the token with this id.
    pub fn get(&self, id: &[u8]) -> BigInt {
        self.amounts
            .get(id)
            .map_or_else(BigInt::default, |(_, amount)| amount.clone())
    }

    /// Tokens and units, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &(TicketToken, BigInt))> {
        self.amounts.iter()
    }

    /// Value nodes visited while counting (nodes of types without tickets
    /// are skipped, not visited).
    pub fn visited(&self) -> u64 {
        self.visited
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.amounts.is_empty()
    }
}

/// Octez's ticket receipt item: a token and the changes of its owners.
pub fn receipt_item(token: &TicketToken, updates: &[(Destination, BigInt)]) -> Json {
    json!({
        "ticket_token": token.to_json(),
        "updates": updates.iter().map(|(owner, amount)| json!({
            "account": Address { destination: *owner, entrypoint: String::new() }.to_text(),
            "amount": amount.to_string(),
        })).collect::<Vec<_>>(),
    })
}
