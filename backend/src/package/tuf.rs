//! The vendor's side of the TMC feed's TUF metadata (docs/tmc-protocol.md, format 2): the keys
//! folder (`sms tuf init`, `rotate-root`, `rotate-key`, `add-key`) and the signing of a
//! repository's targets, snapshot and timestamp roles. The metadata types, their canonical JSON
//! and every check a client makes are `tough`'s; this module only decides what goes in them.
//!
//! A keys folder holds the signing keys as `PREFIX.key` / `PREFIX.pub` files of this product
//! (their `key_id` is the key's TUF key id), every root version as `N.root.json`, and the keys a
//! rotation replaced under `retired/`.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_lc_rs::rand::SecureRandom;
use chrono::{DateTime, Utc};
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::key::{Ed25519Key, Ed25519Scheme, Key};
use tough::schema::{
    Hashes, KeyHolder, Metafile, RoleKeys, RoleType, Root, Signed, Snapshot, Target, Targets,
    Timestamp,
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

    fn name(self) -> &'static str {
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

/// A keys folder: its root versions and its signing keys.
pub struct KeysFolder {
    pub dir: PathBuf,
    /// Every `N.root.json`, by version, as its bytes.
    pub roots: BTreeMap<u64, Vec<u8>>,
    /// Every key file directly in the folder.
    pub keys: Vec<(PathBuf, TufKey)>,
}

impl KeysFolder {
    /// Reads `dir`'s root versions and keys.
    pub fn read(dir: &Path) -> Result<Self, TufError> {
        let mut roots = BTreeMap::new();
        let mut keys = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(io(format!(
            "cannot read the keys folder {} (make one with `sms tuf init --dir {}`)",
            dir.display(),
            dir.display()
        )))?;
        for entry in entries {
            let entry = entry.map_err(io(format!("cannot read {}", dir.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if let Some(version) = name
                .strip_suffix(".root.json")
                .and_then(|n| n.parse::<u64>().ok())
            {
                let bytes =
                    std::fs::read(&path).map_err(io(format!("cannot read {}", path.display())))?;
                roots.insert(version, bytes);
            } else if name.ends_with(".key") && path.is_file() {
                keys.push((path.clone(), TufKey::load(&path)?));
            }
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self {
            dir: dir.to_owned(),
            roots,
            keys,
        })
    }

    /// The newest root version, parsed.
    pub fn latest_root(&self) -> Result<(u64, Signed<Root>), TufError> {
        let (version, bytes) = self.roots.last_key_value().ok_or_else(|| {
            TufError::Folder(format!(
                "{} has no N.root.json: make the keys with `sms tuf init --dir {}`",
                self.dir.display(),
                self.dir.display()
            ))
        })?;
        let root = parse_root(&self.dir.join(format!("{version}.root.json")), bytes)?;
        Ok((*version, root))
    }

    /// The keys of this folder that `role` names in `root`.
    pub fn keys_of(&self, root: &Root, role: RoleType) -> Vec<TufKey> {
        let Some(role_keys) = root.roles.get(&role) else {
            return Vec::new();
        };
        self.keys
            .iter()
            .filter(|(_, key)| {
                key.id().is_ok_and(|id| {
                    role_keys
                        .keyids
                        .iter()
                        .any(|k| hex::encode(k.as_ref()) == id)
                })
            })
            .map(|(_, key)| key.clone())
            .collect()
    }

    /// Every key of the folder (signing picks those each role names).
    pub fn all_keys(&self) -> Vec<TufKey> {
        self.keys.iter().map(|(_, key)| key.clone()).collect()
    }
}

/// Parses root metadata and checks that it is signed by its own threshold.
pub fn parse_root(path: &Path, bytes: &[u8]) -> Result<Signed<Root>, TufError> {
    let root: Signed<Root> = serde_json::from_slice(bytes)
        .map_err(|err| TufError::BadRoot(path.to_owned(), err.to_string()))?;
    root.signed
        .verify_role(&root)
        .map_err(|err| TufError::BadRoot(path.to_owned(), err.to_string()))?;
    Ok(root)
}

/// The role's keys and threshold as root metadata lists them.
fn role_keys(keys: &[TufKey], threshold: u64) -> Result<RoleKeys, TufError> {
    let mut keyids = Vec::new();
    for key in keys {
        keyids.push(decoded_id(&key.id()?)?);
    }
    Ok(RoleKeys {
        keyids,
        threshold: nonzero(threshold),
        _extra: HashMap::new(),
    })
}

fn decoded_id(id: &str) -> Result<Decoded<Hex>, TufError> {
    hex::decode(id)
        .map(Decoded::from)
        .map_err(|err| TufError::Folder(format!("bad key id {id}: {err}")))
}

/// Writes a new key as `dir/NAME.key` and `.pub`, moving a key of that name to `retired/` first.
fn write_key(dir: &Path, name: &str, key: &TufKey, retired_as: &str) -> Result<(), TufError> {
    let retired = dir.join(RETIRED);
    for suffix in ["key", "pub"] {
        let path = dir.join(format!("{name}.{suffix}"));
        if path.exists() {
            std::fs::create_dir_all(&retired)
                .map_err(io(format!("cannot create {}", retired.display())))?;
            let to = retired.join(format!("{name}-{retired_as}.{suffix}"));
            std::fs::rename(&path, &to).map_err(io(format!(
                "cannot move {} to {}",
                path.display(),
                to.display()
            )))?;
        }
    }
    key.signer().write(&dir.join(name))?;
    Ok(())
}

/// Writes `N.root.json` (refusing to replace one), durably.
fn write_root(dir: &Path, version: u64, bytes: &[u8]) -> Result<PathBuf, TufError> {
    use std::io::Write;
    let path = dir.join(format!("{version}.root.json"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io(format!("cannot create {}", path.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io(format!("cannot write {}", path.display())))?;
    Ok(path)
}

/// `sms tuf init`: three root keys (threshold 2), two targets keys (threshold 1), one online
/// key for snapshot and timestamp, and `1.root.json` signed by the root keys.
pub async fn init(dir: &Path, now: DateTime<Utc>) -> Result<PathBuf, TufError> {
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    if let Ok(folder) = KeysFolder::read(dir)
        && (!folder.roots.is_empty() || !folder.keys.is_empty())
    {
        return Err(TufError::Folder(format!(
            "{} already holds TUF keys or metadata; choose an empty folder",
            dir.display()
        )));
    }
    let generate = |n: usize| {
        (0..n)
            .map(|_| TufKey::generate())
            .collect::<Result<Vec<_>, _>>()
    };
    let root_keys = generate(3)?;
    let targets_keys = generate(2)?;
    let online = TufKey::generate()?;
    for (i, key) in root_keys.iter().enumerate() {
        write_key(dir, &format!("root-{}", i + 1), key, "")?;
    }
    for (i, key) in targets_keys.iter().enumerate() {
        write_key(dir, &format!("targets-{}", i + 1), key, "")?;
    }
    write_key(dir, "online", &online, "")?;
    let mut keys = HashMap::new();
    for key in root_keys.iter().chain(&targets_keys).chain([&online]) {
        keys.insert(decoded_id(&key.id()?)?, key.public());
    }
    let online_role = role_keys(std::slice::from_ref(&online), 1)?;
    let root = Root {
        spec_version: SPEC_VERSION.into(),
        consistent_snapshot: true,
        version: NonZeroU64::MIN,
        expires: tuf_time(now + chrono::Duration::days(365)),
        keys,
        roles: HashMap::from([
            (RoleType::Root, role_keys(&root_keys, 2)?),
            (RoleType::Targets, role_keys(&targets_keys, 1)?),
            (RoleType::Snapshot, online_role.clone()),
            (RoleType::Timestamp, online_role),
        ]),
        _extra: HashMap::new(),
    };
    let bytes = sign_root(&root, &root_keys, None).await?;
    write_root(dir, 1, &bytes)
}

/// What a new root version changes.
enum Change {
    /// New keys for `role` (as many as it has now), replacing the old ones.
    Replace(KeyRole),
    /// One more key for `role`, its threshold unchanged.
    Add(KeyRole),
}

/// `sms tuf rotate-root`: a new set of root keys; the new version is signed by the old root
/// keys' threshold and the new ones'.
pub async fn rotate_root(dir: &Path, now: DateTime<Utc>) -> Result<PathBuf, TufError> {
    change_root(dir, Change::Replace(KeyRole::Root), now).await
}

/// `sms tuf rotate-key --role R`: new keys for a role, through a new root version.
pub async fn rotate_key(
    dir: &Path,
    role: KeyRole,
    now: DateTime<Utc>,
) -> Result<PathBuf, TufError> {
    change_root(dir, Change::Replace(role), now).await
}

/// `sms tuf add-key --role R`: one more key for a role, through a new root version.
pub async fn add_key(dir: &Path, role: KeyRole, now: DateTime<Utc>) -> Result<PathBuf, TufError> {
    change_root(dir, Change::Add(role), now).await
}

async fn change_root(dir: &Path, change: Change, now: DateTime<Utc>) -> Result<PathBuf, TufError> {
    let folder = KeysFolder::read(dir)?;
    let (version, current) = folder.latest_root()?;
    let old_root_keys = folder.keys_of(&current.signed, RoleType::Root);
    let threshold = current
        .signed
        .roles
        .get(&RoleType::Root)
        .map_or(1, |r| r.threshold.get());
    if (old_root_keys.len() as u64) < threshold {
        return Err(TufError::Folder(format!(
            "{} has {} of the root keys {version}.root.json names, and a new root version needs \
             {threshold} of them to sign it",
            dir.display(),
            old_root_keys.len()
        )));
    }
    let mut root = current.signed.clone();
    let next = version + 1;
    root.version = nonzero(next);
    root.expires = tuf_time(now + chrono::Duration::days(365));
    let (role, replace) = match change {
        Change::Replace(role) => (role, true),
        Change::Add(role) => (role, false),
    };
    let role_type = role.role_type();
    let existing = root.roles.get(&role_type).cloned().ok_or_else(|| {
        TufError::Folder(format!("{version}.root.json has no {} role", role.name()))
    })?;
    let count = if replace {
        existing.keyids.len().max(1)
    } else {
        1
    };
    let new_keys = (0..count)
        .map(|_| TufKey::generate())
        .collect::<Result<Vec<_>, _>>()?;
    let mut keyids: Vec<Decoded<Hex>> = if replace {
        Vec::new()
    } else {
        existing.keyids.clone()
    };
    for key in &new_keys {
        let id = decoded_id(&key.id()?)?;
        root.keys.insert(id.clone(), key.public());
        keyids.push(id);
    }
    root.roles.insert(
        role_type,
        RoleKeys {
            keyids,
            threshold: existing.threshold,
            _extra: HashMap::new(),
        },
    );
    // Keys no role names any more leave the root.
    let named: Vec<Decoded<Hex>> = root
        .roles
        .values()
        .flat_map(|r| r.keyids.iter().cloned())
        .collect();
    root.keys.retain(|id, _| named.contains(id));

    let new_root_keys: Vec<TufKey> = if role == KeyRole::Root {
        new_keys.clone()
    } else {
        old_root_keys.clone()
    };
    let cross = (role == KeyRole::Root).then_some((&current.signed, old_root_keys.as_slice()));
    let bytes = sign_root(&root, &new_root_keys, cross).await?;
    // The keys are written before the root that names them, so that a failure in between leaves
    // unused keys, never a root whose keys are lost.
    let retired_as = format!("v{version}");
    for (i, key) in new_keys.iter().enumerate() {
        let name = if replace {
            key_file_name(&folder, &current.signed, role, i)
        } else {
            format!("{}-{}", role.name(), existing.keyids.len() + i + 1)
        };
        write_key(dir, &name, key, &retired_as)?;
    }
    write_root(dir, next, &bytes)
}

/// The file name a replacing key takes: that of the `i`-th key it replaces when the folder has
/// it, else `<role>-<i+1>`.
fn key_file_name(folder: &KeysFolder, root: &Root, role: KeyRole, i: usize) -> String {
    let replaced: Vec<&PathBuf> = folder
        .keys
        .iter()
        .filter(|(_, key)| {
            root.roles.get(&role.role_type()).is_some_and(|r| {
                key.id()
                    .is_ok_and(|id| r.keyids.iter().any(|k| hex::encode(k.as_ref()) == id))
            })
        })
        .map(|(path, _)| path)
        .collect();
    let shared = replaced.get(i).is_some_and(|path| {
        // The online key signs snapshot and timestamp: a rotation of one keeps its file.
        path.file_stem().is_some_and(|s| s == "online")
    });
    match replaced.get(i).and_then(|p| p.file_stem()) {
        Some(stem) if !shared => stem.to_string_lossy().into_owned(),
        _ => format!("{}-{}", role.name(), i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn init_then_rotations_give_a_chain_each_step_signed_by_old_and_new() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        init(dir.path(), now).await.unwrap();
        rotate_root(dir.path(), now).await.unwrap();
        rotate_key(dir.path(), KeyRole::Targets, now).await.unwrap();
        rotate_key(dir.path(), KeyRole::Timestamp, now)
            .await
            .unwrap();
        let folder = KeysFolder::read(dir.path()).unwrap();
        assert_eq!(
            folder.roots.keys().copied().collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        let mut previous: Option<Signed<Root>> = None;
        for (version, bytes) in &folder.roots {
            let root = parse_root(Path::new("x"), bytes).unwrap();
            assert_eq!(root.signed.version.get(), *version);
            if let Some(previous) = &previous {
                previous.signed.verify_role(&root).unwrap();
            }
            previous = Some(root);
        }
        let (_, latest) = folder.latest_root().unwrap();
        // Every role can sign with the folder's current keys.
        for role in [
            RoleType::Root,
            RoleType::Targets,
            RoleType::Snapshot,
            RoleType::Timestamp,
        ] {
            assert!(!folder.keys_of(&latest.signed, role).is_empty(), "{role:?}");
        }
        // The snapshot key was the online key; rotating the timestamp left it alone.
        let snapshot = &latest.signed.roles[&RoleType::Snapshot].keyids;
        let timestamp = &latest.signed.roles[&RoleType::Timestamp].keyids;
        assert_ne!(snapshot, timestamp);
        assert!(dir.path().join("online.key").exists());
        assert!(dir.path().join(RETIRED).join("root-1-v1.key").exists());
    }

    #[tokio::test]
    async fn a_root_that_is_not_signed_by_its_threshold_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = init(dir.path(), Utc::now()).await.unwrap();
        let mut root: Signed<Root> =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        root.signatures.truncate(1);
        let bytes = serde_json::to_vec(&root).unwrap();
        assert!(matches!(
            parse_root(&path, &bytes),
            Err(TufError::BadRoot(..))
        ));
    }

    #[tokio::test]
    async fn signed_roles_name_each_other_by_version_length_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), Utc::now()).await.unwrap();
        let folder = KeysFolder::read(dir.path()).unwrap();
        let (_, root) = folder.latest_root().unwrap();
        let target = FeedTarget {
            name: "catalog.json".into(),
            length: 2,
            sha256: hex::encode([7u8; 32]),
        };
        let roles = sign_roles(
            &root.signed,
            &folder.all_keys(),
            &[target],
            Versions {
                targets: 5,
                snapshot: 6,
                timestamp: 7,
            },
            Lifetimes::default(),
            Utc::now(),
        )
        .await
        .unwrap();
        let timestamp: Signed<Timestamp> = serde_json::from_slice(&roles.timestamp).unwrap();
        root.signed.verify_role(&timestamp).unwrap();
        let meta = &timestamp.signed.meta["snapshot.json"];
        assert_eq!(meta.version.get(), 6);
        assert_eq!(meta.length, Some(roles.snapshot.len() as u64));
        let snapshot: Signed<Snapshot> = serde_json::from_slice(&roles.snapshot).unwrap();
        assert_eq!(snapshot.signed.meta["targets.json"].version.get(), 5);
        let text = String::from_utf8(roles.timestamp.clone()).unwrap();
        assert!(text.contains("\"expires\": \""), "{text}");
        assert!(!text.contains(".000"), "whole seconds: {text}");
    }
}
