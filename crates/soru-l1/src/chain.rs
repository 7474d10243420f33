//! The chain: blocks baked from the mempool on top of the head, the ledger
//! they lead to, the mempool, block ids, restarts and test reorgs.
//!
//! Genesis (level 0) funds the bootstrap accounts and creates the global
//! inbox; every later block is baked by the chain's baker from the mempool.
//! Recent ledgers are kept so that context RPCs can answer about recent
//! blocks, and so that a new branch can start from one of them.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use soru_core::base58::{BlockHash, ChainId, ContextHash, OperationHash};
use soru_core::hash::blake2b_256;
use soru_core::inbox::{InboxMessage, InfoPerLevel, InternalMessage};
use soru_core::params::ProtocolParams;
use soru_core::time::Timestamp;
use soru_core::{Encode, PublicKey, SecretKey, Signature};
use soru_protocol::inbox::{Inbox, InboxArchive};

use crate::apply::{self, BlockEnv, CheckedOperation, Liveness, SignatureCheck};
use crate::block::{self, Header};
use crate::error::L1Error;
use crate::ledger::Ledger;
use crate::store::{Store, StoreError, StoredBlock};
use crate::{PROTOCOL_HASH, PROTOCOL_NAME};

/// The secret keys of Octez's sandbox bootstrap accounts (`bootstrap1` to
/// `bootstrap5`), so that the tutorials' commands work unchanged.
pub const BOOTSTRAP_SECRET_KEYS: [&str; 5] = [
    "edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh",
    "edsk39qAm1fiMjgmPkw1EgQYkMzkJezLNewd7PLNHTkr6w9XA2zdfo",
    "edsk4ArLQgBTLWG5FJmnGnT689VKoqhXwmDPBuGx3z4cvwU9MmrPZZ",
    "edsk2uqQB9AY4FvioK2YMdfmyMrer5R8mGFyuaLLFfSRo8EoyNdht3",
    "edsk4QLrcijEffxV31gGdN2HU7UpyJjA8drFoNcmnB28n89YjPNRFm",
];

/// Each bootstrap account's balance: 4 000 000 tez, as in Octez's sandbox.
pub const BOOTSTRAP_BALANCE: u64 = 4_000_000_000_000;

/// How many past ledgers are kept for context queries and new branches.
const RECENT_LEDGERS: usize = 64;

/// Why the chain refused something.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An operation was refused.
    #[error(transparent)]
    Operation(#[from] L1Error),
    /// The store holds another chain, or replaying it did not give the
    /// stored context.
    #[error("the store does not match: {0}")]
    Mismatch(String),
    /// A block id that names no block.
    #[error("unknown block {0}")]
    UnknownBlock(String),
    /// A context no longer kept.
    #[error("the context of block {0} is no longer kept (only the last {RECENT_LEDGERS} blocks')")]
    ContextPruned(u32),
    /// A new branch below the genesis or above the head.
    #[error("cannot start a branch at level {0}")]
    BadBranchLevel(u32),
    /// The inbox refused the level (too many messages).
    #[error("inbox: {0}")]
    Inbox(#[from] soru_protocol::inbox::InboxError),
}

/// What defines a chain: it is stored at creation and checked on reopen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainConfig {
    /// `sandbox` or `mainnet`.
    pub profile: String,
    /// The constants.
    pub params: ProtocolParams,
    /// Genesis timestamp, in seconds.
    pub genesis_timestamp: i64,
    /// Accounts funded (and revealed) at genesis.
    pub bootstrap_accounts: Vec<(PublicKey, u64)>,
    /// The baker's secret key (the chain's only block producer; it
    /// receives the fees).
    pub baker_secret_key: String,
}

impl ChainConfig {
    /// The sandbox or mainnet profile with Octez's bootstrap accounts.
    pub fn new(profile: &str, genesis_timestamp: i64) -> Result<Self, String> {
        let params = match profile {
            "sandbox" => ProtocolParams::sandbox(),
            "mainnet" => ProtocolParams::mainnet(),
            other => return Err(format!("unknown profile `{other}` (sandbox or mainnet)")),
        };
        let bootstrap_accounts = BOOTSTRAP_SECRET_KEYS
            .iter()
            .map(|sk| {
                SecretKey::from_base58(sk)
                    .map(|k| (k.public_key(), BOOTSTRAP_BALANCE))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        let baker = SecretKey::ed25519_from_seed(blake2b_256(b"soru-l1 baker"));
        Ok(Self {
            profile: profile.into(),
            params,
            genesis_timestamp,
            bootstrap_accounts,
            baker_secret_key: baker.to_base58(),
        })
    }
}

/// A block of the main chain, as kept in memory.
#[derive(Debug, Clone)]
pub struct BlockInfo {
    /// Its hash.
    pub hash: BlockHash,
    /// Its header.
    pub header: Header,
    /// Its manager operations' hashes.
    pub operations: Vec<OperationHash>,
}

/// The chain.
#[derive(Debug)]
pub struct Chain {
    store: Store,
    config: ChainConfig,
    chain_id: ChainId,
    baker: SecretKey,
    /// The main chain, by level.
    blocks: Vec<BlockInfo>,
    /// The ledger after the head.
    ledger: Arc<Ledger>,
    /// Ledgers after recent blocks, oldest first: (level, ledger).
    recent: VecDeque<(u32, Arc<Ledger>)>,
    mempool: Vec<CheckedOperation>,
}

fn genesis_inbox(genesis_timestamp: i64) -> Result<Inbox, ChainError> {
    let info = InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(genesis_timestamp),
        predecessor: BlockHash([0; 32]),
    };
    let migration = InboxMessage::Internal(InternalMessage::ProtocolMigration(PROTOCOL_NAME.into())).to_bytes();
    Ok(InboxArchive::genesis(0, info, &migration)?.inbox().clone())
}

/// soru's context digest: the ledger's accounts, rollups and inbox.
fn context_hash(ledger: &Ledger) -> ContextHash {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&ledger.global_counter.to_be_bytes());
    for (pkh, account) in ledger.accounts() {
        pkh.encode_to(&mut bytes);
        bytes.extend_from_slice(&account.balance.to_be_bytes());
        bytes.extend_from_slice(&account.counter.to_be_bytes());
        match &account.manager {
            Some(key) => key.encode_to(&mut bytes),
            None => bytes.push(0xff),
        }
        for (rollup, bond) in &account.bonds {
            bytes.extend_from_slice(&rollup.0);
            bytes.extend_from_slice(&bond.to_be_bytes());
        }
    }
    for (address, rollup) in ledger.rollups() {
        bytes.extend_from_slice(&address.0);
        bytes.extend_from_slice(&rollup.state.lcc.0);
        bytes.extend_from_slice(&rollup.boot_sector_hash);
    }
    bytes.extend_from_slice(&ledger.inbox().to_bytes());
    ContextHash(blake2b_256(&bytes))
}

impl Chain {
    /// Opens the chain stored in `dir`, creating it with `config` if the
    /// directory holds none. A stored chain is replayed from genesis.
    pub fn open(dir: &Path, config: ChainConfig) -> Result<Self, ChainError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(e.to_string()))?;
        let store = Store::open(&dir.join("l1.redb"))?;
        let config = match store.meta("config")? {
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt("config".into(), e.to_string()))?
            }
            None => {
                let bytes = serde_json::to_vec(&config).map_err(|e| StoreError::Database(e.to_string()))?;
                store.set_meta(&[("config", &bytes)])?;
                config
            }
        };
        let baker = SecretKey::from_base58(&config.baker_secret_key)
            .map_err(|e| ChainError::Mismatch(format!("baker key: {e}")))?;
        let ledger = Ledger::new(
            config.bootstrap_accounts.clone(),
            genesis_inbox(config.genesis_timestamp)?,
        );
        let mut genesis = Header {
            level: 0,
            proto: 0,
            predecessor: BlockHash([0; 32]),
            timestamp: Timestamp::from_seconds(config.genesis_timestamp),
            operations_hash: block::operations_hash(&[]),
            context: context_hash(&ledger),
            payload_hash: block::payload_hash(&BlockHash([0; 32]), &[]),
            signature: Signature::from_bytes([0; 64]),
        };
        let genesis_hash = genesis.hash();
        let chain_id = ChainId(blake2b_256(&genesis_hash.0)[..4].try_into().expect("4 of 32 bytes"));
        genesis.sign(&chain_id, &baker);
        let mut chain = Self {
            store,
            config,
            chain_id,
            baker,
            blocks: Vec::new(),
            ledger: Arc::new(ledger),
            recent: VecDeque::new(),
            mempool: Vec::new(),
        };
        let stored = chain.store.main_chain()?;
        if stored.is_empty() {
            let mut genesis_block = chain.stored_block(&genesis, Vec::new(), Vec::new());
            genesis_block.inbox = hex::encode(chain.ledger.inbox().to_bytes());
            chain.store.put_head(&genesis.hash().0, &genesis_block)?;
            chain.push_block(genesis, Vec::new(), chain.ledger.clone());
        } else {
            chain.replay(&stored, genesis)?;
        }
        Ok(chain)
    }

    fn replay(&mut self, stored: &[[u8; 32]], genesis: Header) -> Result<(), ChainError> {
        if stored[0] != genesis.hash().0 {
            return Err(ChainError::Mismatch("the stored genesis is another chain's".into()));
        }
        self.push_block(genesis, Vec::new(), self.ledger.clone());
        for hash in &stored[1..] {
            let block = self
                .store
                .block(hash)?
                .ok_or_else(|| ChainError::Mismatch(format!("block {} is missing", BlockHash(*hash))))?;
            let mut operations = Vec::with_capacity(block.operations.len());
            for op in &block.operations {
                operations.push(hex::decode(op).map_err(|e| StoreError::Corrupt("operation".into(), e.to_string()))?);
            }
            let (header, _) = self.build_block(block.header.timestamp, operations, true)?;
            if header != block.header {
                return Err(ChainError::Mismatch(format!(
                    "replaying block {} gave another block",
                    block.header.level
                )));
            }
        }
        Ok(())
    }

    fn push_block(&mut self, header: Header, operations: Vec<OperationHash>, ledger: Arc<Ledger>) {
        let level = header.level;
        self.blocks.push(BlockInfo {
            hash: header.hash(),
            header,
            operations,
        });
        self.recent.push_back((level, ledger.clone()));
        while self.recent.len() > RECENT_LEDGERS {
            self.recent.pop_front();
        }
        self.ledger = ledger;
    }

    fn stored_block(&self, header: &Header, operations: Vec<Vec<u8>>, receipts: Vec<Value>) -> StoredBlock {
        let hash = header.hash();
        let protocol = if header.level == 0 {
            "PrihK96nBAFSxVL1GLJTVhu9YnzkMFiBeuJRPA8NwuZVZCE1L6i"
        } else {
            PROTOCOL_HASH
        };
        let json = json!({
            "protocol": protocol,
            "chain_id": self.chain_id,
            "hash": hash,
            "header": header.to_json(protocol, &self.chain_id),
            "metadata": {
                "protocol": protocol,
                "next_protocol": PROTOCOL_HASH,
                "test_chain_status": {"status": "not_running"},
                "max_operations_ttl": self.config.params.max_operations_time_to_live.min(header.level),
                "max_operation_data_length": self.config.params.max_operation_data_length,
                "max_block_header_length": 289,
                "max_operation_list_length": [
                    {"max_size": 4_194_304, "max_op": 2048},
                    {"max_size": 32_768},
                    {"max_size": 135_168, "max_op": 132},
                    {"max_size": 524_288}
                ],
                "proposer": self.baker.public_key().hash(),
                "baker": self.baker.public_key().hash(),
                "level_info": {
                    "level": header.level,
                    "level_position": header.level.saturating_sub(1),
                    "cycle": header.level.saturating_sub(1) / self.config.params.blocks_per_cycle,
                    "cycle_position": header.level.saturating_sub(1) % self.config.params.blocks_per_cycle,
                    "expected_commitment": false
                },
                "balance_updates": [],
                "deactivated": [],
                "implicit_operations_results": [],
            },
            "operations": [[], [], [], receipts],
        });
        StoredBlock {
            header: header.clone(),
            operations: operations.iter().map(hex::encode).collect(),
            json,
            inbox: String::new(),
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// The constants.
    pub fn params(&self) -> &ProtocolParams {
        &self.config.params
    }

    /// The configuration.
    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The head.
    pub fn head(&self) -> &BlockInfo {
        self.blocks.last().expect("the chain always has its genesis")
    }

    /// The main chain's block at `level`.
    pub fn block_at(&self, level: u32) -> Option<&BlockInfo> {
        self.blocks.get(level as usize)
    }

    /// The ledger after the head.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// The ledger after the main chain's block at `level`, if still kept.
    pub fn ledger_at(&self, level: u32) -> Result<Arc<Ledger>, ChainError> {
        self.recent
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, ledger)| ledger.clone())
            .ok_or(ChainError::ContextPruned(level))
    }

    /// A stored block (main chain or not) by hash.
    pub fn stored(&self, hash: &BlockHash) -> Result<Option<StoredBlock>, ChainError> {
        Ok(self.store.block(&hash.0)?)
    }

    /// Resolves an Octez block id: `head`, `genesis`, a level, a hash, each
    /// optionally followed by `~N` (N blocks back) or `+N` (N forward).
    pub fn resolve(&self, id: &str) -> Result<BlockHash, ChainError> {
        let unknown = || ChainError::UnknownBlock(id.to_string());
        let (base, offset) = match id.find(['~', '-', '+']) {
            Some(i) => {
                let n: i64 = id[i + 1..].parse().map_err(|_| unknown())?;
                let sign = if &id[i..=i] == "+" { 1 } else { -1 };
                (&id[..i], sign * n)
            }
            None => (id, 0),
        };
        let base_level: i64 = match base {
            "head" => i64::from(self.head().header.level),
            "genesis" => 0,
            _ if !base.is_empty() && base.bytes().all(|b| b.is_ascii_digit()) => base.parse().map_err(|_| unknown())?,
            _ => {
                let hash = BlockHash::from_base58(base).map_err(|_| unknown())?;
                match self.blocks.iter().find(|b| b.hash == hash) {
                    Some(b) => i64::from(b.header.level),
                    None if offset == 0 && self.store.block(&hash.0)?.is_some() => return Ok(hash),
                    None => return Err(unknown()),
                }
            }
        };
        let level = base_level + offset;
        usize::try_from(level)
            .ok()
            .and_then(|l| self.blocks.get(l))
            .map(|b| b.hash)
            .ok_or_else(unknown)
    }

    /// The main chain's blocks an operation for `next_level` may branch
    /// on: the last `max_operations_time_to_live` (blocks are indexed by level).
    fn live_range(&self, next_level: u32) -> &[BlockInfo] {
        let oldest = next_level.saturating_sub(self.config.params.max_operations_time_to_live) as usize;
        &self.blocks[oldest.min(self.blocks.len())..]
    }

    fn live_blocks(&self, next_level: u32) -> BTreeSet<BlockHash> {
        self.live_range(next_level).iter().map(|b| b.hash).collect()
    }

    fn included_since(&self, next_level: u32) -> BTreeSet<OperationHash> {
        self.live_range(next_level)
            .iter()
            .flat_map(|b| b.operations.iter().copied())
            .collect()
    }

    /// Checks an operation against the head, as the next block would.
    pub fn check(&self, bytes: &[u8]) -> Result<CheckedOperation, L1Error> {
        self.check_with(bytes, SignatureCheck::Verify)
    }

    fn check_with(&self, bytes: &[u8], signature: SignatureCheck) -> Result<CheckedOperation, L1Error> {
        let next = self.head().header.level + 1;
        let live_blocks = self.live_blocks(next);
        let mut included = self.included_since(next);
        included.extend(self.mempool.iter().map(|op| op.hash));
        apply::check(
            &self.ledger,
            bytes,
            Liveness {
                live_blocks: &live_blocks,
                included: &included,
            },
            &self.config.params,
            signature,
        )
    }

    /// Applies an operation on a copy of the head's ledger, as the next
    /// block would, without keeping anything: the contents with their
    /// receipts (simulation skips the signature; preapply checks it).
    pub fn simulate(&self, bytes: &[u8], signature: SignatureCheck) -> Result<apply::Applied, L1Error> {
        let op = self.check_with(bytes, signature)?;
        let mut ledger = (*self.ledger).clone();
        ledger.start_block();
        let mut messages = Vec::new();
        let params = &self.config.params;
        let env = BlockEnv {
            chain_id: self.chain_id,
            level: self.head().header.level + 1,
            timestamp: Timestamp::from_seconds(
                self.head().header.timestamp.seconds + params.minimal_block_delay as i64,
            ),
            params,
        };
        Ok(apply::apply(&mut ledger, &mut messages, &op, &env))
    }

    /// Injects an operation into the mempool: it must pass [`Chain::check`],
    /// pay the minimal fee, and be its source's only waiting operation.
    pub fn inject(&mut self, bytes: &[u8]) -> Result<OperationHash, L1Error> {
        // Injecting a waiting operation again is not an error (as Octez).
        if let Some(waiting) = self.mempool.iter().find(|m| m.bytes == bytes) {
            return Ok(waiting.hash);
        }
        let op = self.check(bytes)?;
        if self.mempool.iter().any(|m| m.source == op.source) {
            return Err(L1Error::ManagerRestriction(op.source));
        }
        let fee: u128 = op.operation.operation.contents.iter().map(|c| c.fee.0).sum();
        let minimum = apply::minimal_fee(&op);
        if fee < u128::from(minimum) {
            return Err(L1Error::FeesTooLow {
                fee: u64::try_from(fee).unwrap_or(u64::MAX),
                minimum,
            });
        }
        let hash = op.hash;
        tracing::debug!(%hash, source = %op.source, "operation injected");
        self.mempool.push(op);
        Ok(hash)
    }

    /// The operations waiting for a block.
    pub fn mempool(&self) -> &[CheckedOperation] {
        &self.mempool
    }

    /// Applies `operations` (signed bytes) on top of the head as the next
    /// block. With `strict`, an operation that does not pass the checks is
    /// an error (replaying a stored block); otherwise it is dropped.
    /// Returns the block's header and the operations left out for a later
    /// block (another operation of their source, or no gas left).
    fn build_block(
        &mut self,
        timestamp: Timestamp,
        operations: Vec<Vec<u8>>,
        strict: bool,
    ) -> Result<(Header, Vec<CheckedOperation>), ChainError> {
        let head = self.head().clone();
        let level = head.header.level + 1;
        let params = self.config.params.clone();
        let env = BlockEnv {
            chain_id: self.chain_id,
            level,
            timestamp,
            params: &params,
        };
        let live_blocks = self.live_blocks(level);
        let mut included = self.included_since(level);
        let mut ledger = (*self.ledger).clone();
        ledger.start_block();
        let mut messages = Vec::new();
        let mut sources = BTreeSet::new();
        let mut gas = 0u128;
        let block_gas = u128::from(params.hard_gas_limit_per_block) * crate::gas::MILLIGAS_PER_GAS;
        let mut applied_bytes = Vec::new();
        let mut hashes = Vec::new();
        let mut receipts = Vec::new();
        let mut postponed = Vec::new();
        let mut block_fees = 0u64;
        for bytes in operations {
            let live = Liveness {
                live_blocks: &live_blocks,
                included: &included,
            };
            let op = match apply::check(&ledger, &bytes, live, &params, SignatureCheck::Verify) {
                Ok(op) => op,
                Err(e) if strict => return Err(e.into()),
                Err(e) => {
                    tracing::info!(error = %e, "operation dropped from the mempool");
                    continue;
                }
            };
            if sources.contains(&op.source) || gas + op.gas_limit > block_gas {
                if strict {
                    return Err(ChainError::Mismatch("a stored block breaks the block limits".into()));
                }
                postponed.push(op);
                continue;
            }
            sources.insert(op.source);
            gas += op.gas_limit;
            let applied = apply::apply(&mut ledger, &mut messages, &op, &env);
            block_fees = block_fees.saturating_add(applied.fees);
            ledger.deallocate_if_empty(&op.source);
            included.insert(op.hash);
            hashes.push(op.hash);
            receipts.push(json!({
                "protocol": PROTOCOL_HASH,
                "chain_id": self.chain_id,
                "hash": op.hash,
                "branch": op.operation.operation.branch,
                "contents": applied.contents,
                "signature": op.operation.signature.to_generic_base58(),
            }));
            applied_bytes.push(op.bytes);
        }

        // The fees go to the baker when the block is finalized.
        let baker = self.baker.public_key().hash();
        let mut block_updates = Vec::new();
        if block_fees > 0 {
            ledger.credit_baker(&baker, block_fees)?;
            block_updates = vec![
                json!({"kind": "accumulator", "category": "block fees", "change": format!("-{block_fees}"), "origin": "block"}),
                json!({"kind": "contract", "contract": baker, "change": block_fees.to_string(), "origin": "block"}),
            ];
        }

        let info = InfoPerLevel {
            predecessor_timestamp: head.header.timestamp,
            predecessor: head.hash,
        };
        let archive = InboxArchive::from_inbox(ledger.inbox.clone());
        let prepared = archive.prepare_level(info, None, &messages)?;
        ledger.inbox = prepared.inbox().clone();

        let mut header = Header {
            level,
            proto: 1,
            predecessor: head.hash,
            timestamp,
            operations_hash: block::operations_hash(&hashes),
            context: context_hash(&ledger),
            payload_hash: block::payload_hash(&head.hash, &hashes),
            signature: Signature::from_bytes([0; 64]),
        };
        header.sign(&self.chain_id, &self.baker);
        let mut stored = self.stored_block(&header, applied_bytes, receipts);
        stored.json["metadata"]["balance_updates"] = json!(block_updates);
        stored.inbox = hex::encode(ledger.inbox.to_bytes());
        if !strict {
            self.store.put_head(&header.hash().0, &stored)?;
        }
        self.push_block(header.clone(), hashes, Arc::new(ledger));
        Ok((header, postponed))
    }

    /// Bakes the next block from the mempool at `timestamp` (moved forward
    /// to the predecessor's plus the minimal block delay if needed).
    pub fn bake(&mut self, timestamp: Timestamp) -> Result<BlockHash, ChainError> {
        let earliest = self.head().header.timestamp.seconds + self.config.params.minimal_block_delay as i64;
        let timestamp = Timestamp::from_seconds(timestamp.seconds.max(earliest));
        let pending: Vec<Vec<u8>> = self.mempool.drain(..).map(|op| op.bytes).collect();
        let (header, postponed) = self.build_block(timestamp, pending, false)?;
        self.mempool = postponed;
        tracing::info!(level = header.level, hash = %header.hash(), "block baked");
        Ok(header.hash())
    }

    /// Starts a new branch: the main chain is cut back to `level − 1` and a
    /// block is baked at `level` (test reorgs). The operations of the
    /// dropped blocks go back to the mempool.
    pub fn bake_from(&mut self, level: u32, timestamp: Timestamp) -> Result<BlockHash, ChainError> {
        let head_level = self.head().header.level;
        if level == 0 || level > head_level + 1 {
            return Err(ChainError::BadBranchLevel(level));
        }
        let base = level - 1;
        let mut dropped: Vec<Vec<u8>> = Vec::new();
        for info in &self.blocks[level as usize..] {
            if let Some(block) = self.store.block(&info.hash.0)? {
                for op in block.operations {
                    if let Ok(bytes) = hex::decode(op) {
                        dropped.push(bytes);
                    }
                }
            }
        }
        let ledger = match self.ledger_at(base) {
            Ok(ledger) => ledger,
            Err(_) => {
                // Older than the kept ledgers: replay from genesis.
                let hashes: Vec<[u8; 32]> = self.blocks[..=base as usize].iter().map(|b| b.hash.0).collect();
                let genesis = self.blocks[0].header.clone();
                self.blocks.clear();
                self.recent.clear();
                self.ledger = Arc::new(Ledger::new(
                    self.config.bootstrap_accounts.clone(),
                    genesis_inbox(self.config.genesis_timestamp)?,
                ));
                self.replay(&hashes, genesis)?;
                self.ledger.clone()
            }
        };
        self.blocks.truncate(level as usize);
        self.recent.retain(|(l, _)| *l <= base);
        self.ledger = ledger;
        let mut pending = dropped;
        pending.extend(self.mempool.drain(..).map(|op| op.bytes));
        let earliest = self.head().header.timestamp.seconds + self.config.params.minimal_block_delay as i64;
        let timestamp = Timestamp::from_seconds(timestamp.seconds.max(earliest));
        // The new branch must differ from the old one even when it holds the
        // same operations: its block goes one second later.
        let timestamp = Timestamp::from_seconds(timestamp.seconds + 1);
        let (header, postponed) = self.build_block(timestamp, pending, false)?;
        self.mempool = postponed;
        tracing::info!(level = header.level, hash = %header.hash(), "new branch baked");
        Ok(header.hash())
    }

    /// The protocol hash blocks after genesis carry.
    pub fn protocol(&self) -> &'static str {
        PROTOCOL_HASH
    }
}
