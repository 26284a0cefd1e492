//! The vendor's side of the TMC feed's TUF metadata (docs/tmc-protocol.md, format 2): the keys
//! folder (`sms tuf init`, `rotate-root`, `rotate-key`, `add-key`) and the signing of a
//! repository's targets, snapshot and timestamp roles. The metadata types, their canonical JSON
//! and every check a client makes are `tough`'s; this module only decides what goes in them.
//!
//! A keys folder holds the signing keys as `PREFIX.key` / `PREFIX.pub` files of this product
//! (their `key_id` is the key's TUF key id), every root version as `N.root.json`, and the keys a
//! rotation replaced under `retired/`.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_lc_rs::rand::SecureRandom;
use chrono::{DateTime, Utc};
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::key::{Ed25519Key, Ed25519Scheme, Key};
use tough::schema::{
    Hashes, KeyHolder, Metafile, RoleType, Root, Snapshot, Target, Targets, Timestamp,
};
use tough::sign::Sign;

use super::keys::PackageSigner;

/// The TUF specification version the metadata says it follows.
pub const SPEC_VERSION: &str = "1.0.0";

/// How long each role's metadata stays valid by default.
pub const ROOT_EXPIRY: Duration = Duration::from_secs(365 * 24 * 3600);
pub const TARGETS_EXPIRY: Duration = Duration::from_secs(90 * 24 * 3600);
pub const SNAPSHOT_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
pub const TIMESTAMP_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// The folder of replaced keys, inside a keys folder.
pub const RETIRED: &str = "retired";

/// What goes wrong with a keys folder or a signing.
#[derive(Debug, thiserror::Error)]
pub enum TufError {
    #[error("{0}")]
    Folder(String),
    #[error(transparent)]
    Key(#[from] super::keys::KeyError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("cannot sign the {role} metadata: {source}")]
    Sign {
        role: &'static str,
        source: Box<tough::error::Error>,
    },
    #[error("{0} is not valid root metadata: {1}")]
    BadRoot(PathBuf, String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TufError {
    let what = what.into();
    move |source| TufError::Io { what, source }
}

/// One of the feed's roles whose keys can be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyRole {
    Root,
    Targets,
    Snapshot,
    Timestamp,
}

impl KeyRole {
    fn role_type(self) -> RoleType {
        match self {
            KeyRole::Root => RoleType::Root,
            KeyRole::Targets => RoleType::Targets,
            KeyRole::Snapshot => RoleType::Snapshot,
            KeyRole::Timestamp => RoleType::Timestamp,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyRole::Root => "root",
            KeyRole::Targets => "targets",
            KeyRole::Snapshot => "snapshot",
            KeyRole::Timestamp => "timestamp",
        }
    }
}

/// An Ed25519 signing key of the feed, in this product's key file format.
#[derive(Clone)]
pub struct TufKey(PackageSigner);

impl std::fmt::Debug for TufKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TufKey").field(&self.0.key_id).finish()
    }
}

impl TufKey {
    /// A new random key, its file's `key_id` set to its TUF key id.
    pub fn generate() -> Result<Self, TufError> {
        let signer = PackageSigner::generate("");
        let id = key_id(&public_key(&signer))?;
        Ok(Self(signer.with_key_id(&id)))
    }

    /// Reads a `PREFIX.key` file.
    pub fn load(path: &Path) -> Result<Self, TufError> {
        Ok(Self(PackageSigner::load(path)?))
    }

    /// The key's TUF key id (lowercase hex).
    pub fn id(&self) -> Result<String, TufError> {
        key_id(&public_key(&self.0))
    }

    /// The key as TUF metadata lists it.
    pub fn public(&self) -> Key {
        public_key(&self.0)
    }

    /// The key as a package signer (its `key_id` is the TUF key id).
    pub fn signer(&self) -> &PackageSigner {
        &self.0
    }
}

fn public_key(signer: &PackageSigner) -> Key {
    Key::Ed25519 {
        keyval: Ed25519Key {
            public: Decoded::from(signer.verifying_key().to_bytes().to_vec()),
            _extra: HashMap::new(),
        },
        scheme: Ed25519Scheme::Ed25519,
        _extra: HashMap::new(),
    }
}

fn key_id(key: &Key) -> Result<String, TufError> {
    key.key_id()
        .map(|id| hex::encode(id.as_ref()))
        .map_err(|err| TufError::Folder(format!("cannot compute a key id: {err}")))
}

#[tough::async_trait]
impl Sign for TufKey {
    fn tuf_key(&self) -> Key {
        self.public()
    }

    async fn sign(
        &self,
        msg: &[u8],
        _rng: &(dyn SecureRandom + Sync),
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync + 'static>> {
        Ok(self.0.sign(msg).to_vec())
    }
}

#[tough::async_trait]
impl tough::key_source::KeySource for TufKey {
    async fn as_sign(
        &self,
    ) -> Result<Box<dyn Sign>, Box<dyn std::error::Error + Send + Sync + 'static>> {
        Ok(Box::new(self.clone()))
    }

    async fn write(
        &self,
        _value: &str,
        _key_id_hex: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        Err("the feed's keys are written by `sms tuf`, not by the TUF library".into())
    }
}

fn sources(keys: &[TufKey]) -> Vec<Box<dyn tough::key_source::KeySource>> {
    keys.iter()
        .map(|k| Box::new(k.clone()) as Box<dyn tough::key_source::KeySource>)
        .collect()
}

/// A whole-second time as TUF metadata writes it (`2026-12-08T10:00:00Z`).
pub fn tuf_time(at: DateTime<Utc>) -> jiff::Timestamp {
    jiff::Timestamp::from_second(at.timestamp()).unwrap_or(jiff::Timestamp::MAX)
}

/// The chrono time of a metadata expiry.
pub fn chrono_time(at: jiff::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(at.as_second(), 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn nonzero(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN)
}

/// A root version signed with `keys` (those the root role of `holder` names), plus, for a
/// rotation, the signatures of `cross` (the previous root's keys, named by `previous`).
pub async fn sign_root(
    root: &Root,
    keys: &[TufKey],
    cross: Option<(&Root, &[TufKey])>,
) -> Result<Vec<u8>, TufError> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let failed = |source| TufError::Sign {
        role: "root",
        source: Box::new(source),
    };
    let mut signed = tough::editor::signed::SignedRole::new(
        root.clone(),
        &KeyHolder::Root(root.clone()),
        &sources(keys),
        &rng,
    )
    .await
    .map_err(failed)?;
    if let Some((previous, old_keys)) = cross {
        let old = tough::editor::signed::SignedRole::new(
            root.clone(),
            &KeyHolder::Root(previous.clone()),
            &sources(old_keys),
            &rng,
        )
        .await
        .map_err(failed)?;
        signed = signed
            .add_old_signatures(old.signed().signatures.clone())
            .map_err(failed)?;
    }
    Ok(signed.buffer().clone())
}

/// One target of the feed: its name and the facts of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedTarget {
    pub name: String,
    pub length: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

/// The versions and validity of the roles a signing makes.
#[derive(Debug, Clone, Copy)]
pub struct Versions {
    pub targets: u64,
    pub snapshot: u64,
    pub timestamp: u64,
}

/// How long the signed roles stay valid.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub targets: Duration,
    pub snapshot: Duration,
    pub timestamp: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            targets: TARGETS_EXPIRY,
            snapshot: SNAPSHOT_EXPIRY,
            timestamp: TIMESTAMP_EXPIRY,
        }
    }
}

/// The signed top-level roles of one state of the repository (the root is served as its
/// `N.root.json` files).
#[derive(Debug, Clone)]
pub struct SignedRoles {
    pub targets: Vec<u8>,
    pub snapshot: Vec<u8>,
    pub timestamp: Vec<u8>,
    pub versions: Versions,
    /// When the timestamp expires.
    pub timestamp_expires: DateTime<Utc>,
    /// When the first of the three expires.
    pub expires: DateTime<Utc>,
}

/// Signs targets (listing `targets`), snapshot and timestamp for `root` at `now`, each with the
/// `keys` its role names in `root`.
pub async fn sign_roles(
    root: &Root,
    keys: &[TufKey],
    targets: &[FeedTarget],
    versions: Versions,
    lifetimes: Lifetimes,
    now: DateTime<Utc>,
) -> Result<SignedRoles, TufError> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let holder = KeyHolder::Root(root.clone());
    let keys = sources(keys);
    let expiry =
        |d: Duration| now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(365));
    let mut role = Targets::new(
        SPEC_VERSION.into(),
        nonzero(versions.targets),
        tuf_time(expiry(lifetimes.targets)),
    );
    for target in targets {
        let name = tough::TargetName::new(target.name.clone())
            .map_err(|err| TufError::Folder(format!("bad target name {}: {err}", target.name)))?;
        let sha256 = hex::decode(&target.sha256)
            .map_err(|err| TufError::Folder(format!("bad hash of {}: {err}", target.name)))?;
        role.targets.insert(
            name,
            Target {
                length: target.length,
                hashes: Hashes {
                    sha256: Decoded::<Hex>::from(sha256),
                    _extra: HashMap::new(),
                },
                custom: HashMap::new(),
                _extra: HashMap::new(),
            },
        );
    }
    let signed_targets = tough::editor::signed::SignedRole::new(role, &holder, &keys, &rng)
        .await
        .map_err(|source| TufError::Sign {
            role: "targets",
            source: Box::new(source),
        })?;
    let mut snapshot = Snapshot::new(
        SPEC_VERSION.into(),
        nonzero(versions.snapshot),
        tuf_time(expiry(lifetimes.snapshot)),
    );
    snapshot.meta.insert(
        "targets.json".into(),
        metafile(&signed_targets, versions.targets),
    );
    let signed_snapshot = tough::editor::signed::SignedRole::new(snapshot, &holder, &keys, &rng)
        .await
        .map_err(|source| TufError::Sign {
            role: "snapshot",
            source: Box::new(source),
        })?;
    let timestamp_expires = expiry(lifetimes.timestamp);
    let mut timestamp = Timestamp::new(
        SPEC_VERSION.into(),
        nonzero(versions.timestamp),
        tuf_time(timestamp_expires),
    );
    timestamp.meta.insert(
        "snapshot.json".into(),
        metafile(&signed_snapshot, versions.snapshot),
    );
    let signed_timestamp = tough::editor::signed::SignedRole::new(timestamp, &holder, &keys, &rng)
        .await
        .map_err(|source| TufError::Sign {
            role: "timestamp",
            source: Box::new(source),
        })?;
    let expires = [
        expiry(lifetimes.targets),
        expiry(lifetimes.snapshot),
        timestamp_expires,
    ]
    .into_iter()
    .min()
    .unwrap_or(timestamp_expires);
    Ok(SignedRoles {
        targets: signed_targets.buffer().clone(),
        snapshot: signed_snapshot.buffer().clone(),
        timestamp: signed_timestamp.buffer().clone(),
        versions,
        timestamp_expires: chrono_time(tuf_time(timestamp_expires)),
        expires: chrono_time(tuf_time(expires)),
    })
}

fn metafile<T>(role: &tough::editor::signed::SignedRole<T>, version: u64) -> Metafile
where
    T: tough::schema::Role + serde::Serialize,
{
    Metafile {
        length: Some(*role.length()),
        hashes: Some(Hashes {
            sha256: Decoded::<Hex>::from(role.sha256().to_vec()),
            _extra: HashMap::new(),
        }),
        version: nonzero(version),
        _extra: HashMap::new(),
    }
}

mod folder;
pub use folder::{KeysFolder, add_key, init, parse_root, rotate_key, rotate_root};

#[cfg(test)]
mod tests;
