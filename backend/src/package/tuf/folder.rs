//! The keys folder of `sms tuf`: its root versions and keys, the first root, and the new root
//! versions that rotate or add keys.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::{RoleKeys, RoleType, Root, Signed};

use super::{
    KeyRole, RETIRED, ROOT_EXPIRY, SPEC_VERSION, TufError, TufKey, io, nonzero, sign_root, tuf_time,
};

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
        expires: tuf_time(now + root_lifetime()),
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
    root.expires = tuf_time(now + root_lifetime());
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

/// How long a root version stays valid.
fn root_lifetime() -> chrono::Duration {
    chrono::Duration::from_std(ROOT_EXPIRY).unwrap_or(chrono::Duration::days(365))
}
