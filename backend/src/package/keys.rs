//! Ed25519 signing keys in small JSON files: `PREFIX.key` (private) and `PREFIX.pub` (public).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

/// The only algorithm of format 1.
pub const ALGORITHM: &str = "ed25519";

/// Problems with key files.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid key file: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{0} already exists; remove it or choose another --out prefix")]
    Exists(PathBuf),
    #[error("two trusted keys have the id `{0}`")]
    DuplicateId(String),
}

/// `PREFIX.pub`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyFile {
    pub key_id: String,
    pub algorithm: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
}

/// `PREFIX.key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyFile {
    pub key_id: String,
    pub algorithm: String,
    /// Base64 of the 32-byte Ed25519 secret key (seed).
    pub private_key: String,
}

/// A signing key with its id.
#[derive(Clone)]
pub struct PackageSigner {
    pub key_id: String,
    key: SigningKey,
}

impl PackageSigner {
    /// A new random key.
    pub fn generate(key_id: &str) -> Self {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        Self {
            key_id: key_id.to_owned(),
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The same key under another id.
    pub fn with_key_id(self, key_id: &str) -> Self {
        Self {
            key_id: key_id.to_owned(),
            key: self.key,
        }
    }

    /// The 64-byte signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    pub fn public_file(&self) -> PublicKeyFile {
        PublicKeyFile {
            key_id: self.key_id.clone(),
            algorithm: ALGORITHM.into(),
            public_key: STANDARD.encode(self.key.verifying_key().to_bytes()),
        }
    }

    pub fn secret_file(&self) -> SecretKeyFile {
        SecretKeyFile {
            key_id: self.key_id.clone(),
            algorithm: ALGORITHM.into(),
            private_key: STANDARD.encode(self.key.to_bytes()),
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Reads `PREFIX.key`.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let file: SecretKeyFile = read_json(path)?;
        let bytes = key_bytes(path, &file.algorithm, &file.private_key, "private_key")?;
        Ok(Self {
            key_id: file.key_id,
            key: SigningKey::from_bytes(&bytes),
        })
    }

    /// Writes `PREFIX.key` (mode 0600) and `PREFIX.pub`; refuses to overwrite either.
    pub fn write(&self, prefix: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
        let secret = with_suffix(prefix, "key");
        let public = with_suffix(prefix, "pub");
        for path in [&secret, &public] {
            if path.exists() {
                return Err(KeyError::Exists(path.clone()));
            }
        }
        write_json(&secret, &self.secret_file(), true)?;
        write_json(&public, &self.public_file(), false)?;
        Ok((secret, public))
    }
}

/// The keys whose signatures this server accepts, by key id.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: HashMap<String, VerifyingKey>,
    /// Ids of keys trusted only because the server runs in demo mode.
    demo: HashSet<String>,
    /// The keys the TMC feed's trusted TUF root names for its targets role: they change with
    /// the feed's key rotations, for every holder of these keys at once.
    feed: std::sync::Arc<std::sync::RwLock<HashMap<String, VerifyingKey>>>,
}

impl TrustedKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; two keys with one id are an error.
    pub fn add(&mut self, key_id: &str, key: VerifyingKey) -> Result<(), KeyError> {
        if self.keys.insert(key_id.to_owned(), key).is_some() {
            return Err(KeyError::DuplicateId(key_id.to_owned()));
        }
        Ok(())
    }

    /// Reads and adds a `PREFIX.pub` file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), KeyError> {
        let (key_id, key) = read_public_key(path)?;
        self.add(&key_id, key)
    }

    /// Reads and adds the demo vendor key's `PREFIX.pub`, marked as trusted for demo mode only.
    pub fn add_demo_file(&mut self, path: &Path) -> Result<(), KeyError> {
        let (key_id, key) = read_public_key(path)?;
        self.add(&key_id, key)?;
        self.demo.insert(key_id);
        Ok(())
    }

    /// Whether `key_id` is the demo vendor key (trusted only because the server runs in demo mode).
    pub fn is_demo(&self, key_id: &str) -> bool {
        self.demo.contains(key_id)
    }

    /// Replaces the keys the feed's targets role names (after a check that verified a root).
    pub fn set_feed_keys(&self, keys: impl IntoIterator<Item = (String, VerifyingKey)>) {
        if let Ok(mut feed) = self.feed.write() {
            *feed = keys.into_iter().collect();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.feed.read().map_or(true, |feed| feed.is_empty())
    }

    pub fn contains(&self, key_id: &str) -> bool {
        self.key(key_id).is_some()
    }

    fn key(&self, key_id: &str) -> Option<VerifyingKey> {
        if let Some(key) = self.keys.get(key_id) {
            return Some(*key);
        }
        self.feed.read().ok()?.get(key_id).copied()
    }

    /// Whether `signature` is the key's signature of `message`; `None` for an unknown key.
    pub fn verify(&self, key_id: &str, message: &[u8], signature: &[u8; 64]) -> Option<bool> {
        let key = self.key(key_id)?;
        let signature = Signature::from_bytes(signature);
        Some(key.verify_strict(message, &signature).is_ok())
    }
}

/// A `PREFIX.pub` file's key id and key.
fn read_public_key(path: &Path) -> Result<(String, VerifyingKey), KeyError> {
    let file: PublicKeyFile = read_json(path)?;
    let bytes = key_bytes(path, &file.algorithm, &file.public_key, "public_key")?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Invalid {
        path: path.to_owned(),
        reason: "`public_key` is not a valid Ed25519 public key".into(),
    })?;
    Ok((file.key_id, key))
}

/// The 32 key bytes of a key file's base64 `field`, after checking its algorithm.
fn key_bytes(
    path: &Path,
    algorithm: &str,
    base64: &str,
    field: &str,
) -> Result<[u8; 32], KeyError> {
    let invalid = |reason: String| KeyError::Invalid {
        path: path.to_owned(),
        reason,
    };
    if algorithm != ALGORITHM {
        return Err(invalid(format!(
            "the algorithm must be {ALGORITHM}, not `{algorithm}`"
        )));
    }
    STANDARD
        .decode(base64.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| invalid(format!("`{field}` must be 32 bytes in base64")))
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|err| KeyError::Invalid {
        path: path.to_owned(),
        reason: err.to_string(),
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T, private: bool) -> Result<(), KeyError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;

    let wrap = |source| KeyError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(if private { 0o600 } else { 0o644 });
    let mut file = options.open(path).map_err(wrap)?;
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| wrap(std::io::Error::other(e)))?;
    text.push('\n');
    file.write_all(text.as_bytes()).map_err(wrap)?;
    file.sync_all().map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_written_to_files_sign_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("vendor");
        let signer = PackageSigner::generate("vendor-1");
        let (secret, public) = signer.write(&prefix).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(matches!(signer.write(&prefix), Err(KeyError::Exists(_))));

        let loaded = PackageSigner::load(&secret).unwrap();
        let mut trusted = TrustedKeys::new();
        trusted.add_file(&public).unwrap();
        let signature = loaded.sign(b"hello");
        assert_eq!(trusted.verify("vendor-1", b"hello", &signature), Some(true));
        assert_eq!(
            trusted.verify("vendor-1", b"hellO", &signature),
            Some(false)
        );
        assert_eq!(trusted.verify("other", b"hello", &signature), None);
    }
}
