//! The node's view in a refutation game ([`soru_protocol::strategy::Claims`]):
//! the PVM recomputed from the disputed commitment's predecessor state over
//! the node's inbox — the state at any tick of the disputed period and the
//! proof of any step, with its input proof (inbox message against the
//! game's snapshot, first message, preimage or metadata).
//!
//! States are recomputed from the nearest earlier checkpoint; every state
//! computed is kept as one (the PVM's state is a persistent tree, so a
//! checkpoint shares everything but what changed), and padding is crossed
//! in one step, so the dozen moves of a game at 5·10¹³ ticks per snapshot
//! each cost a few kernel runs at most.

use std::collections::BTreeMap;
use std::sync::Arc;

use soru_core::base58::{SmartRollupAddress, StateHash};
use soru_core::encoding::{Bytes, Nat};
use soru_core::operation::{InputProof, RefutationProof, RevealProof};
use soru_fast::RevealOracle;
use soru_protocol::game::Tick;
use soru_protocol::inbox::{HistoryCell, InboxArchive};
use soru_protocol::inbox_proof::produce;
use soru_protocol::refutation_proof::metadata;
use soru_protocol::strategy::Claims;
use soru_pvm::step_proof::{prove_step, StepInput};
use soru_pvm::{Input, InputRequest, Pvm, RevealRequest};

/// The PVM's view of a disputed commitment period.
pub struct PvmClaims {
    archive: InboxArchive,
    snapshot: HistoryCell,
    origination_level: u32,
    commit_level: u32,
    rollup: SmartRollupAddress,
    oracle: Arc<dyn RevealOracle>,
    /// PVMs at ticks computed so far (tick 0 = the predecessor's state).
    checkpoints: BTreeMap<Tick, Pvm>,
    /// The tick at which the PVM waits for an input past the period.
    blocked_at: Option<Tick>,
    /// The absolute tick of tick 0.
    base_tick: u128,
}

impl std::fmt::Debug for PvmClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PvmClaims")
            .field("commit_level", &self.commit_level)
            .field("checkpoints", &self.checkpoints.len())
            .finish_non_exhaustive()
    }
}

fn copy(pvm: &Pvm) -> Result<Pvm, String> {
    pvm.to_tree().and_then(Pvm::from_tree).map_err(|e| e.to_string())
}

impl PvmClaims {
    /// The view from `start` (the state of the disputed commitment's
    /// predecessor) over `archive`'s inbox, proving inputs against
    /// `snapshot` (the game's), up to the end of `commit_level`.
    pub fn new(
        start: Pvm,
        archive: InboxArchive,
        snapshot: HistoryCell,
        origination_level: u32,
        commit_level: u32,
        rollup: SmartRollupAddress,
        oracle: Arc<dyn RevealOracle>,
    ) -> Self {
        let base_tick = start.current_tick();
        Self {
            archive,
            snapshot,
            origination_level,
            commit_level,
            rollup,
            oracle,
            checkpoints: BTreeMap::from([(0, start)]),
            blocked_at: None,
            base_tick,
        }
    }

    /// The input after the one `request` names, if it belongs to the period.
    fn next_input(&self, request: &InputRequest) -> Option<Input> {
        let (level, counter) = match request {
            InputRequest::Initial => (self.origination_level + 1, 0),
            InputRequest::FirstAfter { level, counter } => {
                let len = self.archive.level_messages(*level).map_or(0, |m| m.len() as u64);
                if counter + 1 < len {
                    (*level, counter + 1)
                } else {
                    (level + 1, 0)
                }
            }
            _ => return None,
        };
        if level > self.commit_level {
            return None;
        }
        let payload = self.archive.level_messages(level)?.get(counter as usize)?.clone();
        Some(Input {
            level,
            counter,
            payload,
        })
    }

    /// The answer to a reveal.
    fn reveal_data(&self, request: &RevealRequest) -> Option<Vec<u8>> {
        match request {
            RevealRequest::Metadata => Some(metadata(&self.rollup, self.origination_level)),
            raw => self.oracle.reveal(raw),
        }
    }

    /// The PVM at `tick`, or `None` past the point where it blocks.
    pub fn pvm_at(&mut self, tick: Tick) -> Result<Option<Pvm>, String> {
        if self.blocked_at.is_some_and(|b| tick > b) {
            return Ok(None);
        }
        let (&from, nearest) = self
            .checkpoints
            .range(..=tick)
            .next_back()
            .ok_or("no state before the tick")?;
        let mut pvm = copy(nearest)?;
        let mut at = from;
        while at < tick {
            let request = pvm.input_request();
            match &request {
                InputRequest::NoInputRequired => {
                    let ran = pvm.run(tick - at).map_err(|e| e.to_string())?;
                    if ran == 0 {
                        return Err("the PVM does not advance".into());
                    }
                    at += ran;
                    continue;
                }
                InputRequest::Reveal(reveal) => {
                    let data = self
                        .reveal_data(reveal)
                        .ok_or_else(|| format!("no data for {reveal:?}"))?;
                    pvm.reveal(&data).map_err(|e| e.to_string())?;
                }
                _ => match self.next_input(&request) {
                    Some(input) => pvm.set_input(input).map_err(|e| e.to_string())?,
                    None => {
                        self.blocked_at = Some(at);
                        self.checkpoints.insert(at, copy(&pvm)?);
                        return Ok(None);
                    }
                },
            }
            at += 1;
        }
        if pvm.current_tick() != self.base_tick + tick {
            return Err(format!(
                "the PVM is at tick {}, not {}",
                pvm.current_tick(),
                self.base_tick + tick
            ));
        }
        self.checkpoints.insert(tick, copy(&pvm)?);
        Ok(Some(pvm))
    }

    /// The tick at which the period ends: the PVM waits for an input past
    /// the commitment's level (a commitment's `number_of_ticks`).
    pub fn end(&mut self) -> Result<Tick, String> {
        let mut tick = 0;
        loop {
            if let Some(end) = self.blocked_at {
                return Ok(end);
            }
            let pvm = self.pvm_at(tick)?.ok_or("blocked before its end")?;
            let step = if pvm.input_request() == InputRequest::NoInputRequired {
                copy(&pvm)?
                    .run_until_input(u128::MAX)
                    .map_err(|e| e.to_string())?
                    .max(1)
            } else {
                1
            };
            tick += step;
            // Looking past the block records where it is.
            self.pvm_at(tick)?;
        }
    }
}

impl Claims for PvmClaims {
    fn state_at(&mut self, tick: Tick) -> Result<Option<StateHash>, String> {
        match self.pvm_at(tick)? {
            Some(pvm) => pvm.state_hash().map(Some).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }

    fn proof_at(&mut self, tick: Tick) -> Result<RefutationProof, String> {
        let pvm = self.pvm_at(tick)?.ok_or("no state to prove from")?;
        let request = pvm.input_request();
        let (input, input_proof) = match &request {
            InputRequest::NoInputRequired => (None, None),
            InputRequest::Initial => (
                self.next_input(&request).map(StepInput::Message),
                Some(InputProof::FirstInput),
            ),
            InputRequest::FirstAfter { level, counter } => {
                let (inbox, _) =
                    produce(&self.archive, &self.snapshot, *level, counter + 1).map_err(|e| e.to_string())?;
                let proof = InputProof::InboxProof {
                    level: *level as i32,
                    message_counter: Nat(u128::from(*counter)),
                    serialized_proof: Bytes(inbox.to_bytes()),
                };
                (self.next_input(&request).map(StepInput::Message), Some(proof))
            }
            InputRequest::Reveal(reveal) => {
                let data = self
                    .reveal_data(reveal)
                    .ok_or_else(|| format!("no data for {reveal:?}"))?;
                let reveal_proof = match reveal {
                    RevealRequest::Metadata => RevealProof::MetadataProof,
                    RevealRequest::RawData(_) => RevealProof::RawDataProof {
                        raw_data: Bytes(data.clone()),
                    },
                };
                (
                    Some(StepInput::Reveal(data)),
                    Some(InputProof::RevealProof { reveal_proof }),
                )
            }
        };
        let (step, _) = prove_step(&pvm, input).map_err(|e| e.to_string())?;
        Ok(RefutationProof {
            pvm_step: Bytes(step.as_bytes().to_vec()),
            input_proof,
        })
    }
}
