//! The global rollup inbox (Octez `sc_rollup_inbox_repr.ml`,
//! `sc_rollup_inbox_merkelized_payload_hashes_repr.ml`; PROTOCOL-FACTS §3).
//!
//! Each L1 level's messages — SOL, Info_per_level, an optional
//! Protocol_migration, the level's messages in operation order, EOL — are
//! chained in a **level skip list** whose cell `i` holds the hash of
//! message `i` (cell hash = blake2b(message hash ‖ back pointers)). The
//! level's last (EOL) cell hash and the level number go into the
//! **history skip list**, one cell per level (cell hash = blake2b(level
//! hash ‖ the level as decimal ASCII ‖ back pointers)). The inbox is
//! `{level, last history cell}`; its hash is that cell's hash, and a
//! refutation game's inbox snapshot is that cell.
//!
//! The L1 keeps only the inbox; a rollup node keeps an [`InboxArchive`] —
//! every history cell and every level's messages — from which it produces
//! inbox proofs ([`crate::inbox_proof`]).

use std::collections::HashMap;

use serde_json::Value;
use soru_core::base58::{InboxHash, PayloadHashesHash};
use soru_core::encoding::{DecodeError, DecodeResult, Encode, Reader};
use soru_core::hash::{blake2b_256, blake2b_256_concat};
use soru_core::inbox::{InboxMessage, InfoPerLevel, InternalMessage, MAX_MESSAGE_SIZE};

use crate::skip_list::{self, Cell};
use crate::Hash;

/// Messages a level may hold besides SOL, Info_per_level and EOL: a
/// message is refused unless the index of the level's last cell is at most
/// this (Octez `sc_rollup_max_number_of_messages_per_level`).
pub const MAX_MESSAGES_PER_LEVEL: u64 = 1_000_000;

/// Why the inbox refused something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboxError {
    /// A serialized message over 4 096 bytes.
    #[error("inbox message of {0} bytes (at most {MAX_MESSAGE_SIZE})")]
    MessageTooLarge(usize),
    /// The level already holds the maximum number of messages.
    #[error("the level reached its limit of {MAX_MESSAGES_PER_LEVEL} messages")]
    LevelReachedMessagesLimit,
    /// `add_messages` with no message.
    #[error("tried to add zero messages")]
    TriedToAddZeroMessages,
    /// A prepared level built on another inbox than the archive's.
    #[error("the level was prepared on another inbox")]
    StalePreparedLevel,
    /// A level past what `int32` holds.
    #[error("inbox level {0} out of range")]
    LevelOutOfRange(u64),
}

/// SOL serialized: the first message of every level.
pub fn start_of_level() -> Vec<u8> {
    serialized(InternalMessage::StartOfLevel)
}

/// The hash of a serialized message: blake2b-256 of its bytes.
pub fn message_hash(serialized: &[u8]) -> Hash {
    blake2b_256(serialized)
}

/// A cell of a level's skip list: the hash of message `index`.
pub type PayloadCell = Cell<Hash>;

/// blake2b(message hash ‖ back pointers).
pub fn payload_cell_hash(cell: &PayloadCell) -> Hash {
    let mut parts: Vec<&[u8]> = vec![&cell.content];
    parts.extend(cell.back_pointers.iter().map(|p| p.as_slice()));
    blake2b_256_concat(&parts)
}

/// What a history cell holds: a level's last payload cell hash and the
/// level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelProof {
    /// Hash of the level's EOL cell.
    pub hash: Hash,
    /// The L1 level (an `int32`, never negative).
    pub level: u32,
}

/// A cell of the history skip list.
pub type HistoryCell = Cell<LevelProof>;

/// blake2b(level hash ‖ decimal ASCII level ‖ back pointers).
pub fn history_cell_hash(cell: &HistoryCell) -> Hash {
    let level = cell.content.level.to_string();
    let mut parts: Vec<&[u8]> = vec![&cell.content.hash, level.as_bytes()];
    parts.extend(cell.back_pointers.iter().map(|p| p.as_slice()));
    blake2b_256_concat(&parts)
}

/// One level's messages and skip list, from SOL on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelWitness {
    messages: Vec<Vec<u8>>,
    cells: Vec<PayloadCell>,
    hashes: Vec<Hash>,
}

fn serialized(message: InternalMessage) -> Vec<u8> {
    InboxMessage::Internal(message).to_bytes()
}

impl LevelWitness {
    /// A level holding SOL.
    pub fn start() -> Self {
        let sol = serialized(InternalMessage::StartOfLevel);
        let cell = Cell::genesis(message_hash(&sol));
        Self {
            hashes: vec![payload_cell_hash(&cell)],
            cells: vec![cell],
            messages: vec![sol],
        }
    }

    /// Adds a serialized message, as Octez's `add_message`: refused over
    /// 4 096 bytes or past the per-level limit.
    pub fn add_message(&mut self, message: Vec<u8>) -> Result<(), InboxError> {
        if self.last_index() > MAX_MESSAGES_PER_LEVEL {
            return Err(InboxError::LevelReachedMessagesLimit);
        }
        self.add_unchecked(message)
    }

    /// Adds the messages of one `add_messages` (or deposit), in order; none
    /// at all is refused. On error the level is as it was.
    pub fn add_messages(&mut self, messages: &[Vec<u8>]) -> Result<(), InboxError> {
        if messages.is_empty() {
            return Err(InboxError::TriedToAddZeroMessages);
        }
        // Checked first, so that a refused batch adds nothing: message k of
        // the batch is added after the cell of index `last + k`.
        if let Some(large) = messages.iter().find(|m| m.len() > MAX_MESSAGE_SIZE) {
            return Err(InboxError::MessageTooLarge(large.len()));
        }
        if self.last_index() + (messages.len() as u64 - 1) > MAX_MESSAGES_PER_LEVEL {
            return Err(InboxError::LevelReachedMessagesLimit);
        }
        for message in messages {
            self.add_unchecked(message.clone())?;
        }
        Ok(())
    }

    /// Adds a message without the counter limit (SOL, Info_per_level, the
    /// migration message and EOL are the L1's).
    fn add_unchecked(&mut self, message: Vec<u8>) -> Result<(), InboxError> {
        if message.len() > MAX_MESSAGE_SIZE {
            return Err(InboxError::MessageTooLarge(message.len()));
        }
        let (prev, prev_hash) = (self.head(), self.head_hash());
        let cell = Cell::next(prev, prev_hash, message_hash(&message));
        self.hashes.push(payload_cell_hash(&cell));
        self.cells.push(cell);
        self.messages.push(message);
        Ok(())
    }

    /// The last cell.
    pub fn head(&self) -> &PayloadCell {
        self.cells.last().expect("a level witness always holds SOL")
    }

    /// The last cell's hash (after EOL: the level's hash).
    pub fn head_hash(&self) -> Hash {
        *self.hashes.last().expect("a level witness always holds SOL")
    }

    /// The last cell's index (the last message's counter).
    pub fn last_index(&self) -> u64 {
        self.head().index
    }

    /// The serialized messages, SOL first.
    pub fn messages(&self) -> &[Vec<u8>] {
        &self.messages
    }

    /// The cell of hash `hash`, if it is one of this level's.
    pub fn cell(&self, hash: &Hash) -> Option<PayloadCell> {
        self.hashes
            .iter()
            .position(|h| h == hash)
            .map(|i| self.cells[i].clone())
    }
}

/// The inbox the L1 keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbox {
    /// The last level finalized.
    pub level: u32,
    /// The history cell of that level.
    pub old_levels_messages: HistoryCell,
}

impl Inbox {
    /// The inbox hash: the hash of its last history cell.
    pub fn hash(&self) -> Hash {
        history_cell_hash(&self.old_levels_messages)
    }

    /// What a refutation game records when it starts.
    pub fn snapshot(&self) -> HistoryCell {
        self.old_levels_messages.clone()
    }

    /// The inbox as Octez's RPC writes it: `{level, old_levels_messages:
    /// {index, content: {hash, level}, back_pointers}}`, hashes in base58.
    pub fn to_json(&self) -> Value {
        let cell = &self.old_levels_messages;
        serde_json::json!({
            "level": self.level,
            "old_levels_messages": {
                "index": cell.index.to_string(),
                "content": {
                    "hash": PayloadHashesHash(cell.content.hash).to_string(),
                    "level": cell.content.level,
                },
                "back_pointers": cell.back_pointers.iter().map(|p| InboxHash(*p).to_string()).collect::<Vec<_>>(),
            }
        })
    }

    /// The L1's inbox as the Octez RPC returns it
    /// (`GET …/context/smart_rollups/all/inbox`): `{level, old_levels_messages:
    /// {index, content: {hash, level}, back_pointers}}`, hashes in base58.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let level = |v: Option<&Value>, what: &str| -> Result<u32, String> {
            v.and_then(Value::as_u64)
                .and_then(|l| u32::try_from(l).ok())
                .ok_or_else(|| format!("no {what}"))
        };
        let cell = value
            .get("old_levels_messages")
            .ok_or_else(|| String::from("no old_levels_messages"))?;
        let index = cell
            .get("index")
            .and_then(|i| i.as_str().and_then(|s| s.parse().ok()).or_else(|| i.as_u64()))
            .ok_or_else(|| String::from("no cell index"))?;
        let content = cell.get("content").ok_or_else(|| String::from("no cell content"))?;
        let hash = content
            .get("hash")
            .and_then(Value::as_str)
            .ok_or_else(|| String::from("no level hash"))?;
        let back_pointers = cell
            .get("back_pointers")
            .and_then(Value::as_array)
            .ok_or_else(|| String::from("no back pointers"))?
            .iter()
            .map(|p| {
                p.as_str()
                    .and_then(|s| InboxHash::from_base58(s).ok())
                    .map(|h| h.0)
                    .ok_or_else(|| String::from("a back pointer that is not an inbox hash"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            level: level(value.get("level"), "inbox level")?,
            old_levels_messages: Cell {
                index,
                content: LevelProof {
                    hash: PayloadHashesHash::from_base58(hash)
                        .map_err(|e| format!("level hash: {e}"))?
                        .0,
                    level: level(content.get("level"), "cell level")?,
                },
                back_pointers,
            },
        })
    }

    /// Octez's binary `versioned_encoding`: `00 ‖ level (int32) ‖ cell`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&(self.level as i32).to_be_bytes());
        encode_history_cell(&self.old_levels_messages, &mut out);
        out
    }

    /// Reads what [`Inbox::to_bytes`] writes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        match r.u8()? {
            0 => {}
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "inbox version",
                    tag: tag.into(),
                })
            }
        }
        let level = i32::from_be_bytes(r.array::<4>()?);
        let level = u32::try_from(level).map_err(|_| DecodeError::Invalid {
            what: "inbox level",
            reason: format!("{level} is negative"),
        })?;
        let old_levels_messages = decode_history_cell(&mut r)?;
        r.finish()?;
        Ok(Self {
            level,
            old_levels_messages,
        })
    }
}

/// A level built and hashed but not yet added to an archive
/// ([`InboxArchive::prepare_level`]).
#[derive(Debug, Clone)]
pub struct PreparedLevel {
    witness: LevelWitness,
    inbox: Inbox,
    /// The inbox hash it was built on.
    parent: Hash,
}

impl PreparedLevel {
    /// The inbox once the level is added.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The level's serialized messages, SOL to EOL.
    pub fn messages(&self) -> &[Vec<u8>] {
        self.witness.messages()
    }
}

/// `index (n) ‖ level hash (32) ‖ level (int32) ‖ back pointers`.
pub(crate) fn encode_history_cell(cell: &HistoryCell, out: &mut Vec<u8>) {
    skip_list::encode_cell(cell, out, |content, out| {
        out.extend_from_slice(&content.hash);
        out.extend_from_slice(&(content.level as i32).to_be_bytes());
    });
}

/// Reads what [`encode_history_cell`] writes (a negative level is refused).
pub(crate) fn decode_history_cell(r: &mut Reader<'_>) -> DecodeResult<HistoryCell> {
    skip_list::decode_cell(r, |r| {
        let hash = r.array::<32>()?;
        let level = i32::from_be_bytes(r.array::<4>()?);
        let level = u32::try_from(level).map_err(|_| DecodeError::Invalid {
            what: "inbox level",
            reason: format!("{level} is negative"),
        })?;
        Ok(LevelProof { hash, level })
    })
}

/// `index (n) ‖ message hash (32) ‖ back pointers`.
pub(crate) fn encode_payload_cell(cell: &PayloadCell, out: &mut Vec<u8>) {
    skip_list::encode_cell(cell, out, |content, out| out.extend_from_slice(content));
}

/// Reads what [`encode_payload_cell`] writes.
pub(crate) fn decode_payload_cell(r: &mut Reader<'_>) -> DecodeResult<PayloadCell> {
    skip_list::decode_cell(r, |r| r.array::<32>())
}

/// A rollup node's inbox: the inbox and everything needed to prove any of
/// its messages — every history cell and every level's messages.
#[derive(Debug, Clone)]
pub struct InboxArchive {
    inbox: Inbox,
    history: HashMap<Hash, HistoryCell>,
    /// Per level hash (EOL cell): the level's witness.
    levels: HashMap<Hash, LevelWitness>,
    /// Level number → its EOL cell hash (levels this archive holds).
    level_hashes: HashMap<u32, Hash>,
}

impl InboxArchive {
    /// The inbox created at `level` (Octez's `genesis`): a level of SOL,
    /// Info_per_level, the protocol-migration message and EOL.
    pub fn genesis(level: u32, info: InfoPerLevel, migration_message: &[u8]) -> Result<Self, InboxError> {
        check_level(u64::from(level))?;
        let mut witness = LevelWitness::start();
        witness.add_unchecked(serialized(InternalMessage::InfoPerLevel(info)))?;
        witness.add_unchecked(migration_message.to_vec())?;
        witness.add_unchecked(serialized(InternalMessage::EndOfLevel))?;
        let cell = Cell::genesis(LevelProof {
            hash: witness.head_hash(),
            level,
        });
        let mut archive = Self {
            inbox: Inbox {
                level,
                old_levels_messages: cell.clone(),
            },
            history: HashMap::new(),
            levels: HashMap::new(),
            level_hashes: HashMap::from([(level, witness.head_hash())]),
        };
        archive.history.insert(history_cell_hash(&cell), cell);
        archive.levels.insert(witness.head_hash(), witness);
        Ok(archive)
    }

    /// The inbox as the L1 has it.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// An archive that starts from an inbox the L1 already has (a node
    /// joining at a rollup's origination): levels before it cannot be
    /// proved from this archive.
    pub fn from_inbox(inbox: Inbox) -> Self {
        let cell = inbox.old_levels_messages.clone();
        Self {
            history: HashMap::from([(history_cell_hash(&cell), cell)]),
            levels: HashMap::new(),
            level_hashes: HashMap::new(),
            inbox,
        }
    }

    /// Adds and finalizes the next level (as the L1 does in one block):
    /// SOL, Info_per_level, the migration message if the block starts a
    /// protocol, `messages` (serialized) in order, EOL. Returns the new
    /// inbox hash. On error nothing changes.
    pub fn add_level(
        &mut self,
        info: InfoPerLevel,
        migration_message: Option<&[u8]>,
        messages: &[Vec<u8>],
    ) -> Result<Hash, InboxError> {
        let prepared = self.prepare_level(info, migration_message, messages)?;
        self.commit_level(prepared)
    }

    /// Builds the next level without adding it: its messages and the inbox
    /// it leads to (to compare with the L1's before committing).
    pub fn prepare_level(
        &self,
        info: InfoPerLevel,
        migration_message: Option<&[u8]>,
        messages: &[Vec<u8>],
    ) -> Result<PreparedLevel, InboxError> {
        let level = u64::from(self.inbox.level) + 1;
        check_level(level)?;
        let mut witness = LevelWitness::start();
        witness.add_unchecked(serialized(InternalMessage::InfoPerLevel(info)))?;
        if let Some(migration) = migration_message {
            witness.add_unchecked(migration.to_vec())?;
        }
        if !messages.is_empty() {
            witness.add_messages(messages)?;
        }
        witness.add_unchecked(serialized(InternalMessage::EndOfLevel))?;
        let prev = &self.inbox.old_levels_messages;
        let cell = Cell::next(
            prev,
            history_cell_hash(prev),
            LevelProof {
                hash: witness.head_hash(),
                level: level as u32,
            },
        );
        Ok(PreparedLevel {
            witness,
            parent: self.inbox.hash(),
            inbox: Inbox {
                level: level as u32,
                old_levels_messages: cell,
            },
        })
    }

    /// Adds a level [`InboxArchive::prepare_level`] built from this
    /// archive as it is; returns the new inbox hash.
    pub fn commit_level(&mut self, prepared: PreparedLevel) -> Result<Hash, InboxError> {
        if prepared.parent != self.inbox.hash() {
            return Err(InboxError::StalePreparedLevel);
        }
        let cell = prepared.inbox.old_levels_messages.clone();
        let hash = history_cell_hash(&cell);
        self.history.insert(hash, cell);
        self.level_hashes
            .insert(prepared.inbox.level, prepared.witness.head_hash());
        self.levels.insert(prepared.witness.head_hash(), prepared.witness);
        self.inbox = prepared.inbox;
        Ok(hash)
    }

    /// The history cell of hash `hash`.
    pub fn history_cell(&self, hash: &Hash) -> Option<HistoryCell> {
        self.history.get(hash).cloned()
    }

    /// The witness of the level whose EOL cell hash is `level_hash`.
    pub fn level(&self, level_hash: &Hash) -> Option<&LevelWitness> {
        self.levels.get(level_hash)
    }

    /// The serialized messages of `level`, SOL first, if archived.
    pub fn level_messages(&self, level: u32) -> Option<&[Vec<u8>]> {
        let hash = self.level_hashes.get(&level)?;
        self.levels.get(hash).map(LevelWitness::messages)
    }
}

fn check_level(level: u64) -> Result<(), InboxError> {
    if level > i32::MAX as u64 {
        return Err(InboxError::LevelOutOfRange(level));
    }
    Ok(())
}
