//! The deterministic core of a rollup node: inbox, execution, states and
//! commitments, level by level, persisted so that a restarted node goes on
//! where it stopped.
//!
//! Store (one redb file, `store.redb`): soru-tree's node store holds every
//! level's PVM state tree under the root `level/<n>`; the node's tables:
//! `soru_node_levels` (level → tick ‖ state hash ‖ inbox after the level),
//! `soru_node_inbox_levels` (level → what built its inbox, replayed at
//! start so the inbox archive can prove any message since origination),
//! `soru_node_commitments` (inbox level → commitment) and `soru_node_meta`
//! (`config`, `head`). A level is written in one transaction: a crash
//! leaves the previous head. Compiled kernels are cached in `modules/`.

use std::path::Path;
use std::sync::Arc;

use redb::{ReadableTable, TableDefinition};
use soru_core::base58::{CommitmentHash, SmartRollupAddress, StateHash};
use soru_core::commitment::NumberOfTicks;
use soru_core::encoding::{Bytes, Decode, DecodeError, Encode, Reader};
use soru_core::inbox::InfoPerLevel;
use soru_core::Commitment;
use soru_fast::{FastEngine, ModuleCache, RevealOracle};
use soru_protocol::inbox::{Inbox, InboxArchive};
use soru_protocol::rollup::{next_commitment_level, PastCommitmentPeriod};
use soru_protocol::Hash;
use soru_pvm::{Input, InputRequest, Pvm, PvmConfig, RevealRequest};
use soru_tree::NodeStore;

const LEVELS: TableDefinition<'_, u32, &[u8]> = TableDefinition::new("soru_node_levels");
const COMMITMENTS: TableDefinition<'_, u32, &[u8]> = TableDefinition::new("soru_node_commitments");
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("soru_node_meta");
/// Per level: what built its inbox (predecessor info, migration message,
/// messages), replayed at start to rebuild the inbox archive for proofs.
const INBOX_LEVELS: TableDefinition<'_, u32, &[u8]> = TableDefinition::new("soru_node_inbox_levels");

/// A level's inbox inputs: `timestamp (i64) ‖ block hash ‖ opt migration
/// ‖ list of messages` (data-encoding layouts).
fn encode_level_inputs(info: &InfoPerLevel, migration: Option<&[u8]>, messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = info.predecessor_timestamp.seconds.to_be_bytes().to_vec();
    out.extend_from_slice(&info.predecessor.0);
    migration.map(|m| Bytes(m.to_vec())).encode_to(&mut out);
    messages
        .iter()
        .map(|m| Bytes(m.clone()))
        .collect::<Vec<_>>()
        .encode_to(&mut out);
    out
}

type LevelInputs = (InfoPerLevel, Option<Vec<u8>>, Vec<Vec<u8>>);

fn decode_level_inputs(bytes: &[u8]) -> Result<LevelInputs, DecodeError> {
    let mut r = Reader::new(bytes);
    let seconds = i64::decode(&mut r)?;
    let hash = r.array::<32>()?;
    let migration = Option::<Bytes>::decode(&mut r)?.map(|b| b.0);
    let messages = Vec::<Bytes>::decode(&mut r)?.into_iter().map(|b| b.0).collect();
    r.finish()?;
    let info = InfoPerLevel {
        predecessor_timestamp: soru_core::time::Timestamp::from_seconds(seconds),
        predecessor: soru_core::BlockHash(hash),
    };
    Ok((info, migration, messages))
}

/// What the node follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// The rollup.
    pub rollup: SmartRollupAddress,
    /// The level it was originated at.
    pub origination_level: u32,
    /// Blocks between commitments (the protocol constant).
    pub commitment_period: u32,
    /// Earlier commitment periods, oldest first (the L1's
    /// `Past_commitment_periods`; appended at protocol changes).
    pub past_commitment_periods: Vec<PastCommitmentPeriod>,
    /// The PVM's configuration (ticks per snapshot, limits).
    pub pvm: PvmConfig,
}

impl CoreConfig {
    /// `rollup ‖ origination level ‖ period`: what must not change between
    /// runs on one store.
    fn identity(&self) -> Vec<u8> {
        let mut out = self.rollup.0.to_vec();
        out.extend_from_slice(&self.origination_level.to_be_bytes());
        out.extend_from_slice(&self.commitment_period.to_be_bytes());
        out.extend_from_slice(&self.pvm.ticks_per_snapshot.to_be_bytes());
        out
    }
}

/// What went wrong (a refused level changes nothing).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The level's inbox is not the one the L1 built: the node's view of
    /// the L1 block is wrong.
    #[error("level {level}: inbox hash {ours:02x?} differs from the L1's {l1:02x?}")]
    InboxMismatch {
        /// The level.
        level: u32,
        /// The hash the node computed.
        ours: Hash,
        /// The L1's.
        l1: Hash,
    },
    /// The level's messages cannot be an inbox level.
    #[error("inbox: {0}")]
    Inbox(#[from] soru_protocol::inbox::InboxError),
    /// The kernel needs reveal data nobody has.
    #[error("the kernel waits for reveal data that is not available: {0:?}")]
    MissingReveal(RevealRequest),
    /// The PVM failed.
    #[error("PVM: {0}")]
    Pvm(#[from] soru_pvm::PvmError),
    /// The fast engine failed.
    #[error("fast engine: {0}")]
    Fast(#[from] soru_fast::FastError),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// The store belongs to another rollup or configuration, or is damaged.
    #[error("store: {0}")]
    StoreMismatch(String),
}

fn store_error(e: impl std::fmt::Display) -> CoreError {
    CoreError::Store(e.to_string())
}

/// Where the rollup stood at the end of a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRecord {
    /// The L1 level.
    pub level: u32,
    /// The PVM's tick counter.
    pub tick: u128,
    /// The PVM's state hash.
    pub state: StateHash,
    /// The L1 inbox after the level.
    pub inbox: Inbox,
}

impl LevelRecord {
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.tick.to_be_bytes().to_vec();
        out.extend_from_slice(&self.state.0);
        out.extend_from_slice(&self.inbox.to_bytes());
        out
    }

    fn from_bytes(level: u32, bytes: &[u8]) -> Result<Self, CoreError> {
        let damaged = || CoreError::StoreMismatch(format!("level {level}: damaged record"));
        if bytes.len() < 48 {
            return Err(damaged());
        }
        let (tick, rest) = bytes.split_at(16);
        let (state, inbox) = rest.split_at(32);
        Ok(Self {
            level,
            tick: u128::from_be_bytes(tick.try_into().map_err(|_| damaged())?),
            state: StateHash(state.try_into().map_err(|_| damaged())?),
            inbox: Inbox::from_bytes(inbox).map_err(|_| damaged())?,
        })
    }
}

/// What processing a level produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The level's end.
    pub record: LevelRecord,
    /// The commitment, if the level ends a commitment period.
    pub commitment: Option<(CommitmentHash, Commitment)>,
}

/// The node's core for one rollup.
pub struct RollupCore {
    config: CoreConfig,
    store: NodeStore,
    archive: InboxArchive,
    pvm: Pvm,
    engine: FastEngine,
    oracle: Arc<dyn RevealOracle>,
    head: LevelRecord,
    last_commitment: (CommitmentHash, Commitment),
    /// The tick at the end of the last commitment's level.
    last_commitment_tick: u128,
}

impl std::fmt::Debug for RollupCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollupCore")
            .field("config", &self.config)
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

fn engine(dir: &Path) -> Result<FastEngine, CoreError> {
    let cache = ModuleCache::open(&dir.join("modules")).map_err(store_error)?;
    Ok(FastEngine::new()?.with_cache(cache))
}

impl RollupCore {
    /// A new node for the rollup originated with `kernel`, starting from
    /// the L1's inbox at the origination level, its store in `dir`.
    pub fn create(
        dir: &Path,
        config: CoreConfig,
        kernel: &[u8],
        l1_inbox: Inbox,
        oracle: Arc<dyn RevealOracle>,
    ) -> Result<Self, CoreError> {
        std::fs::create_dir_all(dir).map_err(store_error)?;
        let store = NodeStore::open(dir.join("store.redb")).map_err(store_error)?;
        if store.root("genesis").map_err(store_error)?.is_some() {
            return Err(CoreError::StoreMismatch(format!(
                "{} already holds a node",
                dir.display()
            )));
        }
        let pvm = Pvm::install_boot_sector(&config.pvm, kernel)?;
        let head = LevelRecord {
            level: config.origination_level,
            tick: pvm.current_tick(),
            state: pvm.state_hash()?,
            inbox: l1_inbox.clone(),
        };
        let genesis = Commitment {
            compressed_state: head.state,
            inbox_level: config.origination_level as i32,
            predecessor: CommitmentHash([0; 32]),
            number_of_ticks: NumberOfTicks::default(),
        };
        let core = Self {
            archive: InboxArchive::from_inbox(l1_inbox),
            engine: engine(dir)?,
            last_commitment: (genesis.hash(), genesis),
            last_commitment_tick: head.tick,
            config,
            store,
            pvm,
            oracle,
            head,
        };
        core.persist(&core.pvm, &core.head, Some(&core.last_commitment.1), "genesis", None)?;
        Ok(core)
    }

    /// Reopens the node whose store is in `dir`, at its last level.
    pub fn open(dir: &Path, config: CoreConfig, oracle: Arc<dyn RevealOracle>) -> Result<Self, CoreError> {
        let store = NodeStore::open(dir.join("store.redb")).map_err(store_error)?;
        let (head_level, identity) = {
            let txn = store.database().begin_read().map_err(store_error)?;
            let meta = txn.open_table(META).map_err(store_error)?;
            let get = |key: &str| -> Result<Vec<u8>, CoreError> {
                meta.get(key)
                    .map_err(store_error)?
                    .map(|v| v.value().to_vec())
                    .ok_or_else(|| CoreError::StoreMismatch(format!("no {key} in the store")))
            };
            let head: [u8; 4] = get("head")?
                .try_into()
                .map_err(|_| CoreError::StoreMismatch("damaged head".into()))?;
            (u32::from_be_bytes(head), get("config")?)
        };
        if identity != config.identity() {
            return Err(CoreError::StoreMismatch(
                "the store belongs to another rollup or configuration".into(),
            ));
        }
        let txn = store.database().begin_read().map_err(store_error)?;
        let levels = txn.open_table(LEVELS).map_err(store_error)?;
        let record = levels
            .get(head_level)
            .map_err(store_error)?
            .ok_or_else(|| CoreError::StoreMismatch(format!("no record of level {head_level}")))?;
        let head = LevelRecord::from_bytes(head_level, record.value())?;
        let commitments = txn.open_table(COMMITMENTS).map_err(store_error)?;
        let (level, bytes) = commitments
            .last()
            .map_err(store_error)?
            .ok_or_else(|| CoreError::StoreMismatch("no commitment".into()))?;
        let last =
            Commitment::from_bytes(bytes.value()).map_err(|_| CoreError::StoreMismatch("damaged commitment".into()))?;
        let last_level = level.value();
        let last_commitment_tick = match levels.get(last_level).map_err(store_error)? {
            Some(bytes) => LevelRecord::from_bytes(last_level, bytes.value())?.tick,
            None => return Err(CoreError::StoreMismatch(format!("no record of level {last_level}"))),
        };
        let tree = store
            .open_named(&format!("level/{head_level}"))
            .map_err(store_error)?
            .ok_or_else(|| CoreError::StoreMismatch(format!("no state of level {head_level}")))?;
        let pvm = Pvm::from_tree(tree)?;
        if pvm.state_hash()? != head.state {
            return Err(CoreError::StoreMismatch(
                "the stored state is not the recorded one".into(),
            ));
        }
        // The inbox archive: from the origination's, replaying every level.
        let origination = levels
            .get(config.origination_level)
            .map_err(store_error)?
            .ok_or_else(|| CoreError::StoreMismatch("no origination record".into()))?;
        let origination = LevelRecord::from_bytes(config.origination_level, origination.value())?;
        let mut archive = InboxArchive::from_inbox(origination.inbox);
        let inbox_levels = txn.open_table(INBOX_LEVELS).map_err(store_error)?;
        for entry in inbox_levels.iter().map_err(store_error)? {
            let (level, bytes) = entry.map_err(store_error)?;
            let (info, migration, messages) = decode_level_inputs(bytes.value())
                .map_err(|e| CoreError::StoreMismatch(format!("level {} inputs: {e}", level.value())))?;
            archive.add_level(info, migration.as_deref(), &messages)?;
        }
        if archive.inbox() != &head.inbox {
            return Err(CoreError::StoreMismatch(
                "the stored inbox levels do not lead to the head's inbox".into(),
            ));
        }
        Ok(Self {
            archive,
            engine: engine(dir)?,
            last_commitment: (last.hash(), last),
            last_commitment_tick,
            config,
            store,
            pvm,
            oracle,
            head,
        })
    }

    /// The last level processed.
    pub fn head(&self) -> &LevelRecord {
        &self.head
    }

    /// The last commitment built (the genesis one at first).
    pub fn last_commitment(&self) -> &(CommitmentHash, Commitment) {
        &self.last_commitment
    }

    /// The inbox archive (for inbox proofs).
    pub fn archive(&self) -> &InboxArchive {
        &self.archive
    }

    /// The PVM at the head.
    pub fn pvm(&self) -> &Pvm {
        &self.pvm
    }

    /// What the fast engine did so far.
    pub fn engine_stats(&self) -> soru_fast::FastStats {
        self.engine.stats()
    }

    /// The PVM state at the end of `level`, from the store.
    pub fn state_at(&self, level: u32) -> Result<Option<Pvm>, CoreError> {
        let name = if level == self.config.origination_level {
            "genesis".to_string()
        } else {
            format!("level/{level}")
        };
        match self.store.open_named(&name).map_err(store_error)? {
            Some(tree) => Ok(Some(Pvm::from_tree(tree)?)),
            None => Ok(None),
        }
    }

    /// The commitment built at `inbox_level`, if any.
    pub fn commitment_at(&self, inbox_level: u32) -> Result<Option<Commitment>, CoreError> {
        let txn = self.store.database().begin_read().map_err(store_error)?;
        let table = txn.open_table(COMMITMENTS).map_err(store_error)?;
        let Some(bytes) = table.get(inbox_level).map_err(store_error)? else {
            return Ok(None);
        };
        Commitment::from_bytes(bytes.value())
            .map(Some)
            .map_err(|_| CoreError::StoreMismatch("damaged commitment".into()))
    }

    /// Processes the next L1 level: its inbox (SOL, Info_per_level with
    /// `info`, the migration message if any, `messages` in operation order,
    /// EOL) must hash to `l1_inbox_hash`; it is then executed and stored,
    /// and its commitment built if it ends a period. On error nothing
    /// changes.
    pub fn process_level(
        &mut self,
        info: InfoPerLevel,
        migration_message: Option<&[u8]>,
        messages: &[Vec<u8>],
        l1_inbox_hash: Hash,
    ) -> Result<Processed, CoreError> {
        let prepared = self.archive.prepare_level(info, migration_message, messages)?;
        let level = prepared.inbox().level;
        let ours = prepared.inbox().hash();
        if ours != l1_inbox_hash {
            return Err(CoreError::InboxMismatch {
                level,
                ours,
                l1: l1_inbox_hash,
            });
        }
        // Run on a copy: a failure leaves the head as it was.
        let mut pvm = Pvm::from_tree(self.pvm.to_tree()?)?;
        for (counter, payload) in prepared.messages().iter().enumerate() {
            self.run_until_input(&mut pvm)?;
            pvm.set_input(Input {
                level,
                counter: counter as u64,
                payload: payload.clone(),
            })?;
        }
        self.run_until_input(&mut pvm)?;
        let record = LevelRecord {
            level,
            tick: pvm.current_tick(),
            state: pvm.state_hash()?,
            inbox: prepared.inbox().clone(),
        };
        let next = next_commitment_level(
            self.last_commitment.1.inbox_level.max(0) as u32,
            self.config.commitment_period,
            &self.config.past_commitment_periods,
        );
        let commitment = (level == next)
            .then(|| -> Result<Commitment, CoreError> {
                Ok(Commitment {
                    compressed_state: record.state,
                    inbox_level: level as i32,
                    predecessor: self.last_commitment.0,
                    number_of_ticks: NumberOfTicks::new(record.tick - self.last_commitment_tick)
                        .map_err(|e| CoreError::Store(e.to_string()))?,
                })
            })
            .transpose()?;
        let inputs = encode_level_inputs(&info, migration_message, messages);
        self.persist(
            &pvm,
            &record,
            commitment.as_ref(),
            &format!("level/{level}"),
            Some(&inputs),
        )?;
        self.archive.commit_level(prepared)?;
        self.pvm = pvm;
        if let Some(c) = commitment {
            self.last_commitment = (c.hash(), c);
            self.last_commitment_tick = record.tick;
        }
        self.head = record.clone();
        Ok(Processed {
            record,
            commitment: commitment.map(|c| (c.hash(), c)),
        })
    }

    /// Runs `pvm` until it waits for an input; reveals come from the oracle.
    fn run_until_input(&mut self, pvm: &mut Pvm) -> Result<(), CoreError> {
        self.engine.run_until_input(pvm, &self.oracle)?;
        match pvm.input_request() {
            InputRequest::Reveal(request) => Err(CoreError::MissingReveal(request)),
            _ => Ok(()),
        }
    }

    /// Writes a level's state, record and commitment in one transaction.
    fn persist(
        &self,
        pvm: &Pvm,
        record: &LevelRecord,
        commitment: Option<&Commitment>,
        root: &str,
        inbox_inputs: Option<&[u8]>,
    ) -> Result<(), CoreError> {
        let txn = self.store.begin_write().map_err(store_error)?;
        let written = self.store.write_tree(&txn, &pvm.to_tree()?).map_err(store_error)?;
        self.store.set_root(&txn, root, written.root).map_err(store_error)?;
        {
            let mut levels = txn.open_table(LEVELS).map_err(store_error)?;
            levels
                .insert(record.level, record.to_bytes().as_slice())
                .map_err(store_error)?;
            if let Some(c) = commitment {
                let mut commitments = txn.open_table(COMMITMENTS).map_err(store_error)?;
                commitments
                    .insert(c.inbox_level as u32, c.to_bytes().as_slice())
                    .map_err(store_error)?;
            }
            let mut inbox_levels = txn.open_table(INBOX_LEVELS).map_err(store_error)?;
            if let Some(inputs) = inbox_inputs {
                inbox_levels.insert(record.level, inputs).map_err(store_error)?;
            }
            let mut meta = txn.open_table(META).map_err(store_error)?;
            meta.insert("head", record.level.to_be_bytes().as_slice())
                .map_err(store_error)?;
            meta.insert("config", self.config.identity().as_slice())
                .map_err(store_error)?;
        }
        txn.commit().map_err(store_error)
    }
}
