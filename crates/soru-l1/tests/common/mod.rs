//! The in-process sandbox chain the L1 tests share.

#![allow(dead_code)]

use soru_core::encoding::{Bytes, Nat};
use soru_core::micheline::Micheline;
use soru_core::operation::{ManagerOperation, OperationKind, PvmKind, UnsignedOperation};
use soru_core::time::Timestamp;
use soru_core::{Contract, PublicKeyHash, SecretKey};
use soru_l1::chain::BOOTSTRAP_SECRET_KEYS;
use soru_l1::{Chain, ChainConfig};

pub(crate) const ECHO: &[u8] = include_bytes!("../../../../kernels/wasm/echo.wasm");

pub(crate) struct Sandbox {
    _dir: Option<tempfile::TempDir>,
    pub(crate) chain: Chain,
    pub(crate) clock: i64,
}

pub(crate) fn key(i: usize) -> SecretKey {
    SecretKey::from_base58(BOOTSTRAP_SECRET_KEYS[i]).unwrap()
}

impl Sandbox {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = ChainConfig::new("sandbox", 1_700_000_000).unwrap();
        let mut sandbox = Self::in_dir(dir.path(), config);
        sandbox._dir = Some(dir);
        sandbox
    }

    /// A chain stored in `dir` (opened again if it is there).
    pub(crate) fn in_dir(dir: &std::path::Path, config: ChainConfig) -> Self {
        let chain = Chain::open(dir, config).unwrap();
        let clock = chain.head().header.timestamp.seconds;
        Self {
            _dir: None,
            chain,
            clock,
        }
    }

    pub(crate) fn bake(&mut self) {
        self.clock += 1;
        self.chain.bake(Timestamp::from_seconds(self.clock)).unwrap();
    }

    pub(crate) fn counter(&self, pkh: &PublicKeyHash) -> u128 {
        self.chain.ledger().account(pkh).map_or(0, |a| a.counter)
    }

    pub(crate) fn balance(&self, pkh: &PublicKeyHash) -> u64 {
        self.chain.ledger().account(pkh).map_or(0, |a| a.balance)
    }

    /// A content from `source` with the next counter (+ `offset`).
    pub(crate) fn content(&self, source: &SecretKey, offset: u128, kind: OperationKind) -> ManagerOperation {
        let pkh = source.public_key().hash();
        ManagerOperation {
            source: pkh,
            fee: Nat(10_000),
            counter: Nat(self.counter(&pkh) + 1 + offset),
            gas_limit: Nat(20_000),
            storage_limit: Nat(10_000),
            kind,
        }
    }

    pub(crate) fn sign(&self, signer: &SecretKey, contents: Vec<ManagerOperation>) -> Vec<u8> {
        UnsignedOperation {
            branch: self.chain.head().hash,
            contents,
        }
        .sign(signer)
        .unwrap()
        .to_bytes()
    }

    /// The ledger's observable state: every account's balance, counter,
    /// key and bonds, the rollups, contracts (balance, storage, paid
    /// bytes) and ticket rows.
    pub(crate) fn state(&self) -> String {
        let ledger = self.chain.ledger();
        let accounts: Vec<String> = ledger.accounts().map(|(k, a)| format!("{k}:{a:?}")).collect();
        let rollups: Vec<String> = ledger.rollups().map(|(a, _)| a.to_string()).collect();
        let contracts: Vec<String> = ledger
            .contracts()
            .map(|(k, c)| format!("{k}:{}:{:?}:{}", c.balance, c.storage, c.paid_bytes))
            .collect();
        let tickets: Vec<String> = ledger.ticket_rows().map(|r| format!("{r:?}")).collect();
        format!("{accounts:?} {rollups:?} {contracts:?} {tickets:?}")
    }

    /// Injecting `bytes` fails with `id`, and nothing changes, even after a block.
    pub(crate) fn refused(&mut self, bytes: &[u8], id: &str) {
        let before = self.state();
        let error = self.chain.inject(bytes).unwrap_err();
        assert!(error.id().ends_with(id), "expected {id}, got {} ({error})", error.id());
        assert_eq!(self.state(), before);
        self.bake();
        let after = self.state();
        // Only the head advanced; balances, counters and keys are as they were.
        assert_eq!(after, before);
    }
}

pub(crate) fn transfer(amount: u64, to: PublicKeyHash) -> OperationKind {
    OperationKind::Transaction {
        amount: Nat(amount.into()),
        destination: Contract::Implicit(to),
        parameters: None,
    }
}

pub(crate) fn originate_echo() -> OperationKind {
    OperationKind::SmartRollupOriginate {
        pvm_kind: PvmKind::Wasm,
        kernel: Bytes(ECHO.to_vec()),
        parameters_ty: Micheline::prim0("bytes").unwrap(),
        whitelist: None,
    }
}

pub(crate) fn fresh_key(seed: u8) -> SecretKey {
    SecretKey::ed25519_from_seed([seed; 32])
}
