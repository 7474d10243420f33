//! L1 manager operations as Tezos forges and signs them (protocol T024
//! layouts, `operation_repr.ml`): reveal, transaction, origination,
//! delegation and the eight smart rollup operations (tags 200–207), grouped
//! under one branch and signed with watermark `0x03`.
//!
//! Binary: `branch (32) ‖ contents… ‖ signature (64)`; each content is
//! `tag ‖ source (21) ‖ fee n ‖ counter n ‖ gas_limit n ‖ storage_limit n ‖
//! fields`. JSON: the Octez RPC shape (`{"kind":"transaction",…}`).

use serde::{Deserialize, Serialize};

use crate::base58::{prefix, BlockHash, CommitmentHash, OperationHash, SmartRollupAddress, StateHash};
use crate::commitment::Commitment;
use crate::contract::Contract;
use crate::encoding::{Bytes, Decode, DecodeError, DecodeResult, Encode, Nat, Reader};
use crate::hash::blake2b_256;
use crate::keys::{watermark, KeyError, PublicKey, PublicKeyHash, SecretKey, Signature};
use crate::micheline::Micheline;

/// Largest signed operation the L1 accepts, in bytes.
pub const MAX_OPERATION_SIZE: usize = 32_768;

crate::base58_hash!(
    /// A BLS12-381 signature (`BLsig…`), as in a tz4 reveal's proof of possession.
    BlsSignature, 96, prefix::BLSIG
);

/// A manager operation: the header every manager operation carries, and
/// what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerOperation {
    /// The implicit account that pays and signs.
    pub source: PublicKeyHash,
    /// Fee in mutez.
    pub fee: Nat,
    /// The source's next counter.
    pub counter: Nat,
    /// Gas limit.
    pub gas_limit: Nat,
    /// Storage limit in bytes.
    pub storage_limit: Nat,
    /// What the operation does.
    #[serde(flatten)]
    pub kind: OperationKind,
}

/// The operation-specific part of a manager operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OperationKind {
    /// 107: publish the source's public key.
    Reveal {
        /// The key whose hash is the source.
        public_key: PublicKey,
        /// BLS proof of possession, required for tz4 keys only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proof: Option<BlsSignature>,
    },
    /// 108: transfer tez, optionally calling a contract.
    Transaction {
        /// Amount in mutez.
        amount: Nat,
        /// The receiver.
        destination: Contract,
        /// Entrypoint and argument; absent means `default` with `Unit`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parameters: Option<Parameters>,
    },
    /// 109: originate a contract.
    Origination {
        /// Initial balance in mutez.
        balance: Nat,
        /// Optional delegate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delegate: Option<PublicKeyHash>,
        /// Code and initial storage.
        script: Script,
    },
    /// 110: set or withdraw the source's delegate.
    Delegation {
        /// The new delegate, or none to withdraw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delegate: Option<PublicKeyHash>,
    },
    /// 200: originate a smart rollup.
    SmartRollupOriginate {
        /// The PVM.
        pvm_kind: PvmKind,
        /// The boot sector (kernel or installer).
        kernel: Bytes,
        /// The type of the messages contracts may send it.
        parameters_ty: Micheline,
        /// Allowed committers of a private rollup.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        whitelist: Option<Vec<PublicKeyHash>>,
    },
    /// 201: add external messages to the shared inbox.
    SmartRollupAddMessages {
        /// The messages (without the `01` external tag, which the L1 adds).
        #[serde(rename = "message")]
        messages: Vec<Bytes>,
    },
    /// 202: cement the next commitment.
    SmartRollupCement {
        /// The rollup.
        rollup: SmartRollupAddress,
    },
    /// 203: publish a commitment and stake on it.
    SmartRollupPublish {
        /// The rollup.
        rollup: SmartRollupAddress,
        /// The commitment.
        commitment: Commitment,
    },
    /// 204: start or play a refutation game.
    SmartRollupRefute {
        /// The rollup.
        rollup: SmartRollupAddress,
        /// The other player.
        opponent: PublicKeyHash,
        /// The move.
        refutation: Refutation,
    },
    /// 205: end a game whose player to move ran out of time.
    SmartRollupTimeout {
        /// The rollup.
        rollup: SmartRollupAddress,
        /// The two players, `alice < bob`.
        stakers: Stakers,
    },
    /// 206: execute an outbox message of a cemented commitment.
    SmartRollupExecuteOutboxMessage {
        /// The rollup.
        rollup: SmartRollupAddress,
        /// The cemented commitment whose state holds the message.
        cemented_commitment: CommitmentHash,
        /// Proof that the message is in that state's outbox.
        output_proof: Bytes,
    },
    /// 207: recover the stake of a staker with no pending commitment.
    SmartRollupRecoverBond {
        /// The rollup.
        rollup: SmartRollupAddress,
        /// The staker.
        staker: PublicKeyHash,
    },
}

/// A contract call: entrypoint and argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameters {
    /// Entrypoint name without `%`.
    pub entrypoint: String,
    /// The argument.
    pub value: Micheline,
}

/// A contract's code and initial storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// `{ parameter … ; storage … ; code … }`.
    pub code: Micheline,
    /// The initial storage.
    pub storage: Micheline,
}

/// The two players of a game in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stakers {
    /// The smaller key hash.
    pub alice: PublicKeyHash,
    /// The larger key hash.
    pub bob: PublicKeyHash,
}

impl Stakers {
    /// The pair in canonical order.
    pub fn new(a: PublicKeyHash, b: PublicKeyHash) -> Self {
        if a.to_bytes() <= b.to_bytes() {
            Self { alice: a, bob: b }
        } else {
            Self { alice: b, bob: a }
        }
    }
}

/// A rollup's proof-generating virtual machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PvmKind {
    /// The arithmetic PVM (tests only; disabled on mainnet).
    #[serde(rename = "arith")]
    Arith,
    /// The WebAssembly PVM.
    #[serde(rename = "wasm_2_0_0")]
    Wasm,
    /// The RISC-V PVM (disabled on mainnet).
    #[serde(rename = "riscv")]
    Riscv,
}

/// A refutation game move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "refutation_kind", rename_all = "snake_case")]
pub enum Refutation {
    /// Open a game between two conflicting commitments.
    Start {
        /// The refuter's commitment.
        player_commitment_hash: CommitmentHash,
        /// The defender's commitment.
        opponent_commitment_hash: CommitmentHash,
    },
    /// Dissect a section or prove a tick.
    Move {
        /// The start tick of the chosen section.
        choice: Nat,
        /// A dissection or a proof.
        step: RefutationStep,
    },
}

/// The content of a move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RefutationStep {
    /// Split the section into smaller ones.
    Dissection(Vec<DissectionChunk>),
    /// Prove one tick.
    Proof(RefutationProof),
}

/// One point of a dissection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DissectionChunk {
    /// The claimed state at `tick` (none: the PVM is blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StateHash>,
    /// The tick.
    pub tick: Nat,
}

/// A one-tick proof and the input it consumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefutationProof {
    /// The PVM step proof (soru's proof format).
    pub pvm_step: Bytes,
    /// The input read by that tick, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_proof: Option<InputProof>,
}

/// Proof of the input a tick reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input_proof_kind", rename_all = "snake_case")]
pub enum InputProof {
    /// The next inbox message after `(level, message_counter)`.
    InboxProof {
        /// Inbox level.
        level: i32,
        /// Index of the last message read.
        message_counter: Nat,
        /// The inbox inclusion proof.
        serialized_proof: Bytes,
    },
    /// Data revealed to the PVM.
    RevealProof {
        /// What was revealed.
        reveal_proof: RevealProof,
    },
    /// The first message after origination.
    FirstInput,
}

/// A revealed value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reveal_proof_kind", rename_all = "snake_case")]
pub enum RevealProof {
    /// A preimage (at most 4096 bytes; the hash is checked by the verifier).
    RawDataProof {
        /// The preimage.
        raw_data: Bytes,
    },
    /// The rollup metadata.
    MetadataProof,
    /// A DAL page and its history proof.
    DalPageProof {
        /// The page.
        dal_page_id: DalPageId,
        /// The DAL slots-history proof.
        dal_proof: Bytes,
    },
    /// The DAL parameters.
    DalParametersProof,
}

/// A DAL page identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DalPageId {
    /// Level at which the slot was published.
    pub published_level: i32,
    /// Slot index.
    pub slot_index: u8,
    /// Page index in the slot.
    pub page_index: i16,
}

crate::binary_struct! {
    /// The binary form of a [`DalPageId`].
    struct DalPageIdBinary {
        published_level: i32,
        slot_index: u8,
        page_index: i16,
    }
}

// ---------------------------------------------------------------- binary

fn unknown(what: &'static str, tag: u8) -> DecodeError {
    DecodeError::UnknownTag { what, tag: tag.into() }
}

/// Transaction entrypoints with a one-byte tag (`entrypoint_repr.ml`).
const NAMED_ENTRYPOINTS: [&str; 10] = [
    "default",
    "root",
    "do",
    "set_delegate",
    "remove_delegate",
    "deposit",
    "stake",
    "unstake",
    "finalize_unstake",
    "set_delegate_parameters",
];

fn encode_entrypoint(name: &str, out: &mut Vec<u8>) {
    match NAMED_ENTRYPOINTS.iter().position(|n| *n == name) {
        Some(tag) => out.push(tag as u8),
        None => {
            out.push(255);
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
        }
    }
}

fn decode_entrypoint(r: &mut Reader<'_>) -> DecodeResult<String> {
    let tag = r.u8()?;
    if let Some(name) = NAMED_ENTRYPOINTS.get(tag as usize) {
        return Ok(name.to_string());
    }
    if tag != 255 {
        return Err(unknown("entrypoint", tag));
    }
    let len = r.u8()? as usize;
    let name = String::from_utf8(r.take(len)?.to_vec()).map_err(|_| DecodeError::Invalid {
        what: "entrypoint",
        reason: "not UTF-8".into(),
    })?;
    crate::outbox::validate_entrypoint(&name).map_err(|reason| DecodeError::Invalid {
        what: "entrypoint",
        reason,
    })?;
    Ok(name)
}

/// `lazy_expr`: a u32 length, then Micheline.
fn encode_lazy_expr(expr: &Micheline, out: &mut Vec<u8>) {
    crate::encoding::write_dynamic(out, |out| expr.encode_to(out));
}

fn decode_lazy_expr(r: &mut Reader<'_>) -> DecodeResult<Micheline> {
    r.dynamic(Micheline::decode)
}

impl OperationKind {
    /// The content tag.
    pub fn tag(&self) -> u8 {
        match self {
            OperationKind::Reveal { .. } => 107,
            OperationKind::Transaction { .. } => 108,
            OperationKind::Origination { .. } => 109,
            OperationKind::Delegation { .. } => 110,
            OperationKind::SmartRollupOriginate { .. } => 200,
            OperationKind::SmartRollupAddMessages { .. } => 201,
            OperationKind::SmartRollupCement { .. } => 202,
            OperationKind::SmartRollupPublish { .. } => 203,
            OperationKind::SmartRollupRefute { .. } => 204,
            OperationKind::SmartRollupTimeout { .. } => 205,
            OperationKind::SmartRollupExecuteOutboxMessage { .. } => 206,
            OperationKind::SmartRollupRecoverBond { .. } => 207,
        }
    }

    fn encode_fields(&self, out: &mut Vec<u8>) {
        match self {
            OperationKind::Reveal { public_key, proof } => {
                public_key.encode_to(out);
                match proof {
                    None => out.push(0),
                    Some(sig) => {
                        out.push(0xff);
                        Bytes(sig.0.to_vec()).encode_to(out);
                    }
                }
            }
            OperationKind::Transaction {
                amount,
                destination,
                parameters,
            } => {
                amount.encode_to(out);
                destination.encode_to(out);
                match parameters {
                    // Octez elides a call of `default` with `Unit`: it is a plain transfer.
                    None => out.push(0),
                    Some(p) if p.entrypoint == "default" && p.value.is_unit() => out.push(0),
                    Some(p) => {
                        out.push(0xff);
                        encode_entrypoint(&p.entrypoint, out);
                        encode_lazy_expr(&p.value, out);
                    }
                }
            }
            OperationKind::Origination {
                balance,
                delegate,
                script,
            } => {
                balance.encode_to(out);
                delegate.encode_to(out);
                encode_lazy_expr(&script.code, out);
                encode_lazy_expr(&script.storage, out);
            }
            OperationKind::Delegation { delegate } => delegate.encode_to(out),
            OperationKind::SmartRollupOriginate {
                pvm_kind,
                kernel,
                parameters_ty,
                whitelist,
            } => {
                out.push(match pvm_kind {
                    PvmKind::Arith => 0,
                    PvmKind::Wasm => 1,
                    PvmKind::Riscv => 2,
                });
                kernel.encode_to(out);
                encode_lazy_expr(parameters_ty, out);
                whitelist.encode_to(out);
            }
            OperationKind::SmartRollupAddMessages { messages } => messages.encode_to(out),
            OperationKind::SmartRollupCement { rollup } => rollup.encode_to(out),
            OperationKind::SmartRollupPublish { rollup, commitment } => {
                rollup.encode_to(out);
                commitment.encode_to(out);
            }
            OperationKind::SmartRollupRefute {
                rollup,
                opponent,
                refutation,
            } => {
                rollup.encode_to(out);
                opponent.encode_to(out);
                refutation.encode_to(out);
            }
            OperationKind::SmartRollupTimeout { rollup, stakers } => {
                rollup.encode_to(out);
                stakers.alice.encode_to(out);
                stakers.bob.encode_to(out);
            }
            OperationKind::SmartRollupExecuteOutboxMessage {
                rollup,
                cemented_commitment,
                output_proof,
            } => {
                rollup.encode_to(out);
                cemented_commitment.encode_to(out);
                output_proof.encode_to(out);
            }
            OperationKind::SmartRollupRecoverBond { rollup, staker } => {
                rollup.encode_to(out);
                staker.encode_to(out);
            }
        }
    }

    fn decode_fields(tag: u8, r: &mut Reader<'_>) -> DecodeResult<Self> {
        Ok(match tag {
            107 => OperationKind::Reveal {
                public_key: PublicKey::decode(r)?,
                proof: match r.u8()? {
                    0 => None,
                    0xff => {
                        let bytes = r.dynamic(|r| r.array::<96>())?;
                        Some(BlsSignature(bytes))
                    }
                    t => return Err(unknown("option", t)),
                },
            },
            108 => OperationKind::Transaction {
                amount: Nat::decode(r)?,
                destination: Contract::decode(r)?,
                parameters: match r.u8()? {
                    0 => None,
                    0xff => Some(Parameters {
                        entrypoint: decode_entrypoint(r)?,
                        value: decode_lazy_expr(r)?,
                    }),
                    t => return Err(unknown("option", t)),
                },
            },
            109 => OperationKind::Origination {
                balance: Nat::decode(r)?,
                delegate: Option::decode(r)?,
                script: Script {
                    code: decode_lazy_expr(r)?,
                    storage: decode_lazy_expr(r)?,
                },
            },
            110 => OperationKind::Delegation {
                delegate: Option::decode(r)?,
            },
            200 => OperationKind::SmartRollupOriginate {
                pvm_kind: match r.u8()? {
                    0 => PvmKind::Arith,
                    1 => PvmKind::Wasm,
                    2 => PvmKind::Riscv,
                    t => return Err(unknown("PVM kind", t)),
                },
                kernel: Bytes::decode(r)?,
                parameters_ty: decode_lazy_expr(r)?,
                whitelist: Option::decode(r)?,
            },
            201 => OperationKind::SmartRollupAddMessages {
                messages: Vec::decode(r)?,
            },
            202 => OperationKind::SmartRollupCement {
                rollup: SmartRollupAddress::decode(r)?,
            },
            203 => OperationKind::SmartRollupPublish {
                rollup: SmartRollupAddress::decode(r)?,
                commitment: Commitment::decode(r)?,
            },
            204 => OperationKind::SmartRollupRefute {
                rollup: SmartRollupAddress::decode(r)?,
                opponent: PublicKeyHash::decode(r)?,
                refutation: Refutation::decode(r)?,
            },
            205 => OperationKind::SmartRollupTimeout {
                rollup: SmartRollupAddress::decode(r)?,
                stakers: Stakers {
                    alice: PublicKeyHash::decode(r)?,
                    bob: PublicKeyHash::decode(r)?,
                },
            },
            206 => OperationKind::SmartRollupExecuteOutboxMessage {
                rollup: SmartRollupAddress::decode(r)?,
                cemented_commitment: CommitmentHash::decode(r)?,
                output_proof: Bytes::decode(r)?,
            },
            207 => OperationKind::SmartRollupRecoverBond {
                rollup: SmartRollupAddress::decode(r)?,
                staker: PublicKeyHash::decode(r)?,
            },
            t => return Err(unknown("manager operation", t)),
        })
    }
}

impl Encode for ManagerOperation {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.kind.tag());
        self.source.encode_to(out);
        self.fee.encode_to(out);
        self.counter.encode_to(out);
        self.gas_limit.encode_to(out);
        self.storage_limit.encode_to(out);
        self.kind.encode_fields(out);
    }
}

impl Decode for ManagerOperation {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let tag = r.u8()?;
        if !matches!(tag, 107..=110 | 200..=207) {
            return Err(unknown("manager operation", tag));
        }
        Ok(ManagerOperation {
            source: PublicKeyHash::decode(r)?,
            fee: Nat::decode(r)?,
            counter: Nat::decode(r)?,
            gas_limit: Nat::decode(r)?,
            storage_limit: Nat::decode(r)?,
            kind: OperationKind::decode_fields(tag, r)?,
        })
    }
}

impl Encode for Refutation {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Refutation::Start {
                player_commitment_hash,
                opponent_commitment_hash,
            } => {
                out.push(0);
                player_commitment_hash.encode_to(out);
                opponent_commitment_hash.encode_to(out);
            }
            Refutation::Move { choice, step } => {
                out.push(1);
                choice.encode_to(out);
                match step {
                    RefutationStep::Dissection(chunks) => {
                        out.push(0);
                        chunks.encode_to(out);
                    }
                    RefutationStep::Proof(proof) => {
                        out.push(1);
                        proof.pvm_step.encode_to(out);
                        proof.input_proof.encode_to(out);
                    }
                }
            }
        }
    }
}

impl Decode for Refutation {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        match r.u8()? {
            0 => Ok(Refutation::Start {
                player_commitment_hash: CommitmentHash::decode(r)?,
                opponent_commitment_hash: CommitmentHash::decode(r)?,
            }),
            1 => Ok(Refutation::Move {
                choice: Nat::decode(r)?,
                step: match r.u8()? {
                    0 => RefutationStep::Dissection(Vec::decode(r)?),
                    1 => RefutationStep::Proof(RefutationProof {
                        pvm_step: Bytes::decode(r)?,
                        input_proof: Option::decode(r)?,
                    }),
                    t => return Err(unknown("refutation step", t)),
                },
            }),
            t => Err(unknown("refutation", t)),
        }
    }
}

impl Encode for DissectionChunk {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.state.encode_to(out);
        self.tick.encode_to(out);
    }
}

impl Decode for DissectionChunk {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        Ok(Self {
            state: Option::decode(r)?,
            tick: Nat::decode(r)?,
        })
    }
}

/// Largest revealed preimage in a proof.
const MAX_RAW_DATA: usize = 4096;

impl Encode for InputProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            InputProof::InboxProof {
                level,
                message_counter,
                serialized_proof,
            } => {
                out.push(0);
                level.encode_to(out);
                message_counter.encode_to(out);
                serialized_proof.encode_to(out);
            }
            InputProof::RevealProof { reveal_proof } => {
                out.push(1);
                match reveal_proof {
                    RevealProof::RawDataProof { raw_data } => {
                        out.push(0);
                        // Bounded string with a u16 length.
                        (raw_data.len() as u16).encode_to(out);
                        out.extend_from_slice(raw_data);
                    }
                    RevealProof::MetadataProof => out.push(1),
                    RevealProof::DalPageProof { dal_page_id, dal_proof } => {
                        out.push(2);
                        DalPageIdBinary {
                            published_level: dal_page_id.published_level,
                            slot_index: dal_page_id.slot_index,
                            page_index: dal_page_id.page_index,
                        }
                        .encode_to(out);
                        dal_proof.encode_to(out);
                    }
                    RevealProof::DalParametersProof => out.push(3),
                }
            }
            InputProof::FirstInput => out.push(2),
        }
    }
}

impl Decode for InputProof {
    fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        Ok(match r.u8()? {
            0 => InputProof::InboxProof {
                level: i32::decode(r)?,
                message_counter: Nat::decode(r)?,
                serialized_proof: Bytes::decode(r)?,
            },
            1 => InputProof::RevealProof {
                reveal_proof: match r.u8()? {
                    0 => {
                        let len = u16::decode(r)? as usize;
                        if len > MAX_RAW_DATA {
                            return Err(DecodeError::Invalid {
                                what: "raw data proof",
                                reason: format!("{len} bytes, the limit is {MAX_RAW_DATA}"),
                            });
                        }
                        RevealProof::RawDataProof {
                            raw_data: Bytes(r.take(len)?.to_vec()),
                        }
                    }
                    1 => RevealProof::MetadataProof,
                    2 => {
                        let id = DalPageIdBinary::decode(r)?;
                        RevealProof::DalPageProof {
                            dal_page_id: DalPageId {
                                published_level: id.published_level,
                                slot_index: id.slot_index,
                                page_index: id.page_index,
                            },
                            dal_proof: Bytes::decode(r)?,
                        }
                    }
                    3 => RevealProof::DalParametersProof,
                    t => return Err(unknown("reveal proof", t)),
                },
            },
            2 => InputProof::FirstInput,
            t => return Err(unknown("input proof", t)),
        })
    }
}

// ---------------------------------------------------------------- groups and signatures

/// Why an operation cannot be built, signed or checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    /// Bad bytes.
    #[error("malformed operation: {0}")]
    Decode(#[from] DecodeError),
    /// A key problem.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An operation group must hold at least one content.
    #[error("an operation must contain at least one manager operation")]
    Empty,
    /// Over [`MAX_OPERATION_SIZE`].
    #[error("operation of {0} bytes exceeds the {MAX_OPERATION_SIZE}-byte limit")]
    TooLarge(usize),
    /// The signature does not match the source's key.
    #[error("invalid signature for {0}")]
    BadSignature(PublicKeyHash),
}

/// An unsigned operation group: a branch and one or more manager operations
/// from the same source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsignedOperation {
    /// A recent block hash (the operation expires some levels after it).
    pub branch: BlockHash,
    /// The operations, applied in order, all or nothing.
    pub contents: Vec<ManagerOperation>,
}

impl UnsignedOperation {
    /// The forged bytes: `branch ‖ contents`. These are what gets signed.
    pub fn forge(&self) -> Vec<u8> {
        let mut out = self.branch.to_bytes();
        for content in &self.contents {
            content.encode_to(&mut out);
        }
        out
    }

    /// Parses forged bytes (no signature).
    pub fn unforge(bytes: &[u8]) -> Result<Self, OperationError> {
        let mut r = Reader::new(bytes);
        let branch = BlockHash::decode(&mut r)?;
        let mut contents = Vec::new();
        while !r.is_empty() {
            contents.push(ManagerOperation::decode(&mut r)?);
        }
        if contents.is_empty() {
            return Err(OperationError::Empty);
        }
        Ok(Self { branch, contents })
    }

    /// Signs with watermark `0x03`.
    pub fn sign(self, key: &SecretKey) -> Result<SignedOperation, OperationError> {
        if self.contents.is_empty() {
            return Err(OperationError::Empty);
        }
        let signature = key.sign(watermark::GENERIC_OPERATION, &self.forge());
        let signed = SignedOperation {
            operation: self,
            signature,
        };
        let size = signed.to_bytes().len();
        if size > MAX_OPERATION_SIZE {
            return Err(OperationError::TooLarge(size));
        }
        Ok(signed)
    }
}

/// A signed operation group, as injected into the L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOperation {
    /// The operation.
    #[serde(flatten)]
    pub operation: UnsignedOperation,
    /// Signature of `0x03 ‖ forged bytes` by the source.
    pub signature: Signature,
}

impl SignedOperation {
    /// `branch ‖ contents ‖ signature`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.operation.forge();
        self.signature.encode_to(&mut out);
        out
    }

    /// Parses injected bytes: everything between the branch and the last 64
    /// bytes is contents.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, OperationError> {
        if bytes.len() > MAX_OPERATION_SIZE {
            return Err(OperationError::TooLarge(bytes.len()));
        }
        if bytes.len() < 32 + 64 {
            return Err(DecodeError::UnexpectedEnd {
                needed: 96,
                available: bytes.len(),
            }
            .into());
        }
        let (body, sig) = bytes.split_at(bytes.len() - 64);
        Ok(Self {
            operation: UnsignedOperation::unforge(body)?,
            signature: Signature::from_bytes(sig.try_into().map_err(|_| OperationError::Empty)?),
        })
    }

    /// The operation hash (`o…`): blake2b-256 of the signed bytes.
    pub fn hash(&self) -> OperationHash {
        OperationHash(blake2b_256(&self.to_bytes()))
    }

    /// Checks the signature against `key`, which must hash to every
    /// content's source.
    pub fn verify(&self, key: &PublicKey) -> Result<(), OperationError> {
        let pkh = key.hash();
        if let Some(other) = self.operation.contents.iter().find(|c| c.source != pkh) {
            return Err(OperationError::BadSignature(other.source));
        }
        if key.verify(watermark::GENERIC_OPERATION, &self.operation.forge(), &self.signature)? {
            Ok(())
        } else {
            Err(OperationError::BadSignature(pkh))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: OperationKind) -> ManagerOperation {
        ManagerOperation {
            source: "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap(),
            fee: Nat(1000),
            counter: Nat(7),
            gas_limit: Nat(10_000),
            storage_limit: Nat(0),
            kind,
        }
    }

    pub(crate) fn one_of_each() -> Vec<ManagerOperation> {
        let rollup: SmartRollupAddress = "sr1Ghq66tYK9y3r8CC1Tf8i8m5nxh8nTvZEf".parse().unwrap();
        let tz1: PublicKeyHash = "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx".parse().unwrap();
        let tz2: PublicKeyHash = "tz1gjaF81ZRRvdzjobyfVNsAeSC6PScjfQwN".parse().unwrap();
        let commitment = Commitment {
            compressed_state: StateHash([1; 32]),
            inbox_level: 5,
            predecessor: CommitmentHash([2; 32]),
            number_of_ticks: crate::commitment::NumberOfTicks::new(3).unwrap(),
        };
        vec![
            header(OperationKind::Delegation { delegate: Some(tz2) }),
            header(OperationKind::SmartRollupOriginate {
                pvm_kind: PvmKind::Wasm,
                kernel: Bytes(vec![0, 0x61, 0x73, 0x6d]),
                parameters_ty: "bytes".parse().unwrap(),
                whitelist: Some(vec![tz1, tz2]),
            }),
            header(OperationKind::SmartRollupCement { rollup }),
            header(OperationKind::SmartRollupPublish { rollup, commitment }),
            header(OperationKind::SmartRollupRefute {
                rollup,
                opponent: tz2,
                refutation: Refutation::Start {
                    player_commitment_hash: commitment.hash(),
                    opponent_commitment_hash: CommitmentHash([3; 32]),
                },
            }),
            header(OperationKind::SmartRollupRefute {
                rollup,
                opponent: tz2,
                refutation: Refutation::Move {
                    choice: Nat(0),
                    step: RefutationStep::Dissection(vec![
                        DissectionChunk {
                            state: Some(StateHash([4; 32])),
                            tick: Nat(0),
                        },
                        DissectionChunk {
                            state: None,
                            tick: Nat(1 << 100),
                        },
                    ]),
                },
            }),
            header(OperationKind::SmartRollupRefute {
                rollup,
                opponent: tz2,
                refutation: Refutation::Move {
                    choice: Nat(12),
                    step: RefutationStep::Proof(RefutationProof {
                        pvm_step: Bytes(vec![9; 40]),
                        input_proof: Some(InputProof::RevealProof {
                            reveal_proof: RevealProof::RawDataProof {
                                raw_data: Bytes(b"data".to_vec()),
                            },
                        }),
                    }),
                },
            }),
            header(OperationKind::SmartRollupRefute {
                rollup,
                opponent: tz2,
                refutation: Refutation::Move {
                    choice: Nat(13),
                    step: RefutationStep::Proof(RefutationProof {
                        pvm_step: Bytes(vec![]),
                        input_proof: Some(InputProof::InboxProof {
                            level: 9,
                            message_counter: Nat(3),
                            serialized_proof: Bytes(vec![1, 2]),
                        }),
                    }),
                },
            }),
            header(OperationKind::SmartRollupTimeout {
                rollup,
                stakers: Stakers::new(tz2, tz1),
            }),
            header(OperationKind::SmartRollupRecoverBond { rollup, staker: tz1 }),
        ]
    }

    #[test]
    fn every_kind_round_trips_in_binary_and_json() {
        for op in one_of_each() {
            let bytes = op.to_bytes();
            assert_eq!(ManagerOperation::from_bytes(&bytes).unwrap(), op, "{}", op.kind.tag());
            let json = serde_json::to_value(&op).unwrap();
            let back: ManagerOperation = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(back, op, "{json}");
        }
    }

    #[test]
    fn truncation_and_garbage_are_refused() {
        for op in one_of_each() {
            let bytes = op.to_bytes();
            for cut in 0..bytes.len() {
                assert!(ManagerOperation::from_bytes(&bytes[..cut]).is_err());
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(ManagerOperation::from_bytes(&longer).is_err());
        }
    }

    #[test]
    fn sign_and_verify_a_group() {
        let key = SecretKey::from_base58("edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh").unwrap();
        let op = UnsignedOperation {
            branch: "BLockGenesisGenesisGenesisGenesisGenesisf79b5d1CoW2".parse().unwrap(),
            contents: one_of_each(),
        };
        let signed = op.sign(&key).unwrap();
        signed.verify(&key.public_key()).unwrap();
        let bytes = signed.to_bytes();
        assert_eq!(SignedOperation::from_bytes(&bytes).unwrap(), signed);
        let mut tampered = bytes.clone();
        tampered[40] ^= 1;
        if let Ok(t) = SignedOperation::from_bytes(&tampered) {
            assert!(t.verify(&key.public_key()).is_err());
        }
        let other = SecretKey::generate(crate::keys::Curve::Ed25519).unwrap();
        assert!(signed.verify(&other.public_key()).is_err());
        assert!(UnsignedOperation {
            branch: BlockHash([0; 32]),
            contents: vec![]
        }
        .sign(&key)
        .is_err());
    }
}
