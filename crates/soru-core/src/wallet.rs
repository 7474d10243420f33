//! The `octez-client` wallet in a base directory: the JSON alias files
//! `secret_keys`, `public_keys`, `public_key_hashs` and `contracts`, each a
//! list of `{"name": …, "value": …}`. soru's client and node read and write
//! the same files, so one base directory serves both (and Octez's tools).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contract::Contract;
use crate::keys::{KeyError, PublicKey, PublicKeyHash, SecretKey};

/// Why a wallet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// Reading or writing a wallet file.
    #[error("wallet file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A wallet file that is not the expected JSON.
    #[error("wallet file {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Adding an alias that exists, without `force`.
    #[error("the {kind} alias {name:?} already exists (use --force to overwrite)")]
    AliasExists {
        /// Which file.
        kind: &'static str,
        /// The alias.
        name: String,
    },
    /// No such alias.
    #[error("no {kind} alias {name:?}")]
    NotFound {
        /// Which file.
        kind: &'static str,
        /// The alias.
        name: String,
    },
    /// A stored key that does not parse.
    #[error("key of alias {name:?}: {source}")]
    Key {
        /// The alias.
        name: String,
        /// The error.
        source: KeyError,
    },
}

/// One line of an alias file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Alias {
    name: String,
    value: Value,
}

/// The alias files soru knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasKind {
    /// `secret_keys`: `"unencrypted:edsk…"` or `"encrypted:edesk…"`.
    SecretKey,
    /// `public_keys`: `{"locator":"unencrypted:edpk…","key":"edpk…"}`.
    PublicKey,
    /// `public_key_hashs`: `"tz1…"`.
    PublicKeyHash,
    /// `contracts`: `"KT1…"` or `"tz1…"`.
    Contract,
}

impl AliasKind {
    fn file_name(self) -> &'static str {
        match self {
            AliasKind::SecretKey => "secret_keys",
            AliasKind::PublicKey => "public_keys",
            AliasKind::PublicKeyHash => "public_key_hashs",
            AliasKind::Contract => "contracts",
        }
    }

    fn label(self) -> &'static str {
        match self {
            AliasKind::SecretKey => "secret key",
            AliasKind::PublicKey => "public key",
            AliasKind::PublicKeyHash => "public key hash",
            AliasKind::Contract => "contract",
        }
    }
}

/// A wallet in a base directory (e.g. `~/.tezos-client`).
#[derive(Debug, Clone)]
pub struct Wallet {
    dir: PathBuf,
}

impl Wallet {
    /// The wallet in `dir` (created on first write).
    pub fn open(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The base directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn read(&self, kind: AliasKind) -> Result<Vec<Alias>, WalletError> {
        let path = self.dir.join(kind.file_name());
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
            Err(source) => return Err(WalletError::Io { path, source }),
        };
        serde_json::from_str(&text).map_err(|e| WalletError::Malformed {
            path,
            reason: e.to_string(),
        })
    }

    fn write(&self, kind: AliasKind, aliases: &[Alias]) -> Result<(), WalletError> {
        let path = self.dir.join(kind.file_name());
        let io_err = |source| WalletError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(io_err)?;
        let text = serde_json::to_string_pretty(aliases).expect("aliases serialize");
        // Write beside, then rename: a crash never leaves a half-written wallet.
        let tmp = self.dir.join(format!(".{}.tmp", kind.file_name()));
        fs::write(&tmp, text).map_err(io_err)?;
        #[cfg(unix)]
        if kind == AliasKind::SecretKey {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600)).map_err(io_err)?;
        }
        fs::rename(&tmp, &path).map_err(io_err)
    }

    fn set(&self, kind: AliasKind, name: &str, value: Value, force: bool) -> Result<(), WalletError> {
        let mut aliases = self.read(kind)?;
        match aliases.iter_mut().find(|a| a.name == name) {
            Some(_) if !force => {
                return Err(WalletError::AliasExists {
                    kind: kind.label(),
                    name: name.into(),
                })
            }
            Some(existing) => existing.value = value,
            None => aliases.push(Alias {
                name: name.into(),
                value,
            }),
        }
        self.write(kind, &aliases)
    }

    fn get(&self, kind: AliasKind, name: &str) -> Result<Value, WalletError> {
        self.read(kind)?
            .into_iter()
            .find(|a| a.name == name)
            .map(|a| a.value)
            .ok_or_else(|| WalletError::NotFound {
                kind: kind.label(),
                name: name.into(),
            })
    }

    /// The alias names of one file, in file order.
    pub fn names(&self, kind: AliasKind) -> Result<Vec<String>, WalletError> {
        Ok(self.read(kind)?.into_iter().map(|a| a.name).collect())
    }

    /// Stores a secret key and its public key and hash under `name`, as
    /// `octez-client import secret key NAME unencrypted:edsk…` does.
    pub fn import_secret_key(&self, name: &str, key: &SecretKey, force: bool) -> Result<(), WalletError> {
        if !force {
            for kind in [AliasKind::SecretKey, AliasKind::PublicKey, AliasKind::PublicKeyHash] {
                if self.names(kind)?.iter().any(|n| n == name) {
                    return Err(WalletError::AliasExists {
                        kind: kind.label(),
                        name: name.into(),
                    });
                }
            }
        }
        let pk = key.public_key();
        self.set(
            AliasKind::SecretKey,
            name,
            Value::String(format!("unencrypted:{}", key.to_base58())),
            true,
        )?;
        self.add_public_key(name, &pk, true)
    }

    /// Stores a public key and its hash under `name`.
    pub fn add_public_key(&self, name: &str, pk: &PublicKey, force: bool) -> Result<(), WalletError> {
        let value = serde_json::json!({
            "locator": format!("unencrypted:{}", pk.to_base58()),
            "key": pk.to_base58(),
        });
        self.set(AliasKind::PublicKey, name, value, force)?;
        self.set(
            AliasKind::PublicKeyHash,
            name,
            Value::String(pk.hash().to_base58()),
            force,
        )
    }

    /// Stores a contract alias.
    pub fn add_contract(&self, name: &str, contract: &Contract, force: bool) -> Result<(), WalletError> {
        self.set(AliasKind::Contract, name, Value::String(contract.to_base58()), force)
    }

    /// The secret key of alias `name`.
    pub fn secret_key(&self, name: &str) -> Result<SecretKey, WalletError> {
        let value = self.get(AliasKind::SecretKey, name)?;
        let text = value
            .as_str()
            .ok_or_else(|| self.malformed(AliasKind::SecretKey, name))?;
        SecretKey::from_base58(text).map_err(|source| WalletError::Key {
            name: name.into(),
            source,
        })
    }

    /// The public key of alias `name` (either stored form).
    pub fn public_key(&self, name: &str) -> Result<PublicKey, WalletError> {
        let value = self.get(AliasKind::PublicKey, name)?;
        let text = match &value {
            Value::String(locator) => locator.as_str(),
            Value::Object(obj) => obj
                .get("key")
                .or_else(|| obj.get("locator"))
                .and_then(Value::as_str)
                .ok_or_else(|| self.malformed(AliasKind::PublicKey, name))?,
            _ => return Err(self.malformed(AliasKind::PublicKey, name)),
        };
        let text = text.strip_prefix("unencrypted:").unwrap_or(text);
        PublicKey::from_base58(text).map_err(|source| WalletError::Key {
            name: name.into(),
            source,
        })
    }

    /// The public key hash of alias `name`.
    pub fn public_key_hash(&self, name: &str) -> Result<PublicKeyHash, WalletError> {
        let value = self.get(AliasKind::PublicKeyHash, name)?;
        let text = value
            .as_str()
            .ok_or_else(|| self.malformed(AliasKind::PublicKeyHash, name))?;
        PublicKeyHash::from_base58(text).map_err(|source| WalletError::Key {
            name: name.into(),
            source,
        })
    }

    /// The contract of alias `name`: a `contracts` entry, else an implicit
    /// account from `public_key_hashs`.
    pub fn contract(&self, name: &str) -> Result<Contract, WalletError> {
        match self.get(AliasKind::Contract, name) {
            Ok(value) => {
                let text = value
                    .as_str()
                    .ok_or_else(|| self.malformed(AliasKind::Contract, name))?;
                Contract::from_base58(text).map_err(|source| WalletError::Key {
                    name: name.into(),
                    source,
                })
            }
            Err(WalletError::NotFound { .. }) => self.public_key_hash(name).map(Contract::Implicit),
            Err(e) => Err(e),
        }
    }

    fn malformed(&self, kind: AliasKind, name: &str) -> WalletError {
        WalletError::Malformed {
            path: self.dir.join(kind.file_name()),
            reason: format!("unexpected value for alias {name:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("soru-wallet-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn octez_client_files_are_read_and_written() {
        let dir = temp_dir("rw");
        fs::create_dir_all(&dir).unwrap();
        // Files as octez-client writes them, including the bare-locator form.
        fs::write(
            dir.join("secret_keys"),
            r#"[ { "name": "bootstrap1", "value": "unencrypted:edsk3gUfUPyBSfrS9CCgmCiQsTCHGkviBDusMxDJstFtojtc1zcpsh" } ]"#,
        )
        .unwrap();
        fs::write(
            dir.join("public_keys"),
            r#"[ { "name": "bootstrap1", "value": { "locator": "unencrypted:edpkuBknW28nW72KG6RoHtYW7p12T6GKc7nAbwYX5m8Wd9sDVC9yav", "key": "edpkuBknW28nW72KG6RoHtYW7p12T6GKc7nAbwYX5m8Wd9sDVC9yav" } },
                  { "name": "old", "value": "unencrypted:edpkuBknW28nW72KG6RoHtYW7p12T6GKc7nAbwYX5m8Wd9sDVC9yav" } ]"#,
        )
        .unwrap();
        fs::write(
            dir.join("public_key_hashs"),
            r#"[ { "name": "bootstrap1", "value": "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx" } ]"#,
        )
        .unwrap();
        let wallet = Wallet::open(&dir);
        let sk = wallet.secret_key("bootstrap1").unwrap();
        assert_eq!(wallet.public_key("bootstrap1").unwrap(), sk.public_key());
        assert_eq!(wallet.public_key("old").unwrap(), sk.public_key());
        assert_eq!(
            wallet.public_key_hash("bootstrap1").unwrap().to_string(),
            "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx"
        );

        let fresh = SecretKey::generate(crate::keys::Curve::Ed25519).unwrap();
        wallet.import_secret_key("alice", &fresh, false).unwrap();
        assert!(matches!(
            wallet.import_secret_key("alice", &fresh, false),
            Err(WalletError::AliasExists { .. })
        ));
        assert_eq!(wallet.public_key_hash("alice").unwrap(), fresh.public_key().hash());
        assert_eq!(
            wallet.contract("alice").unwrap(),
            Contract::Implicit(fresh.public_key().hash())
        );
        let kt1: Contract = "KT1AaiUqbT3NmQts2w7ofY4vJviVchztiW4y".parse().unwrap();
        wallet.add_contract("bridge", &kt1, false).unwrap();
        assert_eq!(wallet.contract("bridge").unwrap(), kt1);
        assert!(matches!(wallet.secret_key("nobody"), Err(WalletError::NotFound { .. })));
        assert_eq!(wallet.names(AliasKind::SecretKey).unwrap(), ["bootstrap1", "alice"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_files_are_reported() {
        let dir = temp_dir("bad");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("secret_keys"), "{ not json").unwrap();
        let wallet = Wallet::open(&dir);
        assert!(matches!(wallet.secret_key("x"), Err(WalletError::Malformed { .. })));
        fs::remove_dir_all(&dir).unwrap();
    }
}
