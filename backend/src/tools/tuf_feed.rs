//! The TUF feed `sms tmc serve --tuf KEYS` publishes (docs/tmc-protocol.md, format 2): every
//! root version of the keys folder, and targets, snapshot and timestamp signed with the online
//! and targets keys the newest root names. The targets are the catalog document and every
//! package. A new package, a new root version or a timestamp past half its life signs a new
//! state, each role's version one higher (at least the Unix time in seconds, so versions also
//! grow across restarts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::package::catalog::{CatalogEntry, FEED_CATALOG_TARGET, FEED_FORMAT, FeedCatalog};
use crate::package::tuf::{self, FeedTarget, KeysFolder, Lifetimes, SignedRoles, Versions};

/// How many older snapshot and targets versions stay served, for a client that read the
/// timestamp just before a new one was signed.
const KEEP_VERSIONS: usize = 2;

/// One target's bytes: the catalog in memory, a package as its file.
#[derive(Debug, Clone)]
pub enum TargetBody {
    Memory(Bytes),
    File(PathBuf),
}

/// A signed state of the feed, ready to serve.
#[derive(Debug, Clone)]
pub struct PublishedFeed {
    /// `N.root.json`, by version.
    pub roots: BTreeMap<u64, Bytes>,
    pub timestamp: Bytes,
    /// `N.snapshot.json` and `N.targets.json`, by version (the newest and a few before).
    pub snapshots: BTreeMap<u64, Bytes>,
    pub targets_metadata: BTreeMap<u64, Bytes>,
    /// `<sha256>.<name>` of each target.
    pub targets: BTreeMap<String, TargetBody>,
    pub versions: Versions,
    pub signed_at: DateTime<Utc>,
    pub timestamp_expires: DateTime<Utc>,
    /// What was signed: the targets and the root version, to see whether anything changed.
    listed: Vec<FeedTarget>,
    root_versions: Vec<u64>,
}

/// Publishes the feed of a keys folder.
pub struct FeedPublisher {
    keys: PathBuf,
    lifetimes: Lifetimes,
    published: RwLock<Option<PublishedFeed>>,
}

impl FeedPublisher {
    pub fn new(keys: PathBuf, lifetimes: Lifetimes) -> Self {
        Self {
            keys,
            lifetimes,
            published: RwLock::new(None),
        }
    }

    pub fn keys_dir(&self) -> &Path {
        &self.keys
    }

    /// The state being served.
    pub async fn published(&self) -> Option<PublishedFeed> {
        self.published.read().await.clone()
    }

    /// Signs a new state when the packages (`(file name, entry)`, in `dir`), the keys folder's
    /// root versions or the time call for it. Returns whether it signed.
    pub async fn refresh(
        &self,
        dir: &Path,
        packages: &[(String, CatalogEntry)],
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let folder = KeysFolder::read(&self.keys)?;
        let root_versions: Vec<u64> = folder.roots.keys().copied().collect();
        let (entries, package_targets) = listing(packages);
        {
            let published = self.published.read().await;
            if let Some(p) = &*published {
                let half = (p.timestamp_expires - p.signed_at) / 2;
                let same_packages = p
                    .listed
                    .iter()
                    .filter(|t| t.name != FEED_CATALOG_TARGET)
                    .eq(package_targets.iter());
                if same_packages && p.root_versions == root_versions && now < p.signed_at + half {
                    return Ok(false);
                }
            }
        }
        self.sign_listed(dir, folder, entries, package_targets, now)
            .await?;
        Ok(true)
    }

    /// Signs a new state of the packages at `now`, whatever was signed before (each role's
    /// version one higher).
    pub async fn sign(
        &self,
        dir: &Path,
        packages: &[(String, CatalogEntry)],
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let folder = KeysFolder::read(&self.keys)?;
        let (entries, targets) = listing(packages);
        self.sign_listed(dir, folder, entries, targets, now).await
    }

    async fn sign_listed(
        &self,
        dir: &Path,
        folder: KeysFolder,
        entries: Vec<CatalogEntry>,
        package_targets: Vec<FeedTarget>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let root_versions: Vec<u64> = folder.roots.keys().copied().collect();
        let catalog = serde_json::to_vec_pretty(&FeedCatalog {
            format: FEED_FORMAT,
            generated_at: now,
            patches: entries.clone(),
        })?;
        let catalog_target = FeedTarget {
            name: FEED_CATALOG_TARGET.into(),
            length: catalog.len() as u64,
            sha256: hex::encode(Sha256::digest(&catalog)),
        };
        let mut listed = vec![catalog_target.clone()];
        listed.extend(package_targets.iter().cloned());

        let (_, root) = folder.latest_root()?;
        let mut published = self.published.write().await;
        let floor = u64::try_from(now.timestamp()).unwrap_or(1);
        let next = |last: Option<u64>| floor.max(last.map_or(1, |v| v + 1));
        let versions = Versions {
            targets: next(published.as_ref().map(|p| p.versions.targets)),
            snapshot: next(published.as_ref().map(|p| p.versions.snapshot)),
            timestamp: next(published.as_ref().map(|p| p.versions.timestamp)),
        };
        let SignedRoles {
            targets,
            snapshot,
            timestamp,
            timestamp_expires,
            ..
        } = tuf::sign_roles(
            &root.signed,
            &folder.all_keys(),
            &listed,
            versions,
            self.lifetimes,
            now,
        )
        .await?;
        let mut snapshots = published
            .as_ref()
            .map(|p| p.snapshots.clone())
            .unwrap_or_default();
        snapshots.insert(versions.snapshot, Bytes::from(snapshot));
        let mut targets_metadata = published
            .as_ref()
            .map(|p| p.targets_metadata.clone())
            .unwrap_or_default();
        targets_metadata.insert(versions.targets, Bytes::from(targets));
        for kept in [&mut snapshots, &mut targets_metadata] {
            while kept.len() > KEEP_VERSIONS {
                kept.pop_first();
            }
        }
        let mut bodies = BTreeMap::new();
        bodies.insert(
            format!("{}.{FEED_CATALOG_TARGET}", catalog_target.sha256),
            TargetBody::Memory(Bytes::from(catalog)),
        );
        for target in &package_targets {
            bodies.insert(
                format!("{}.{}", target.sha256, target.name),
                TargetBody::File(dir.join(&target.name)),
            );
        }
        tracing::info!(
            root = root.signed.version.get(),
            timestamp = versions.timestamp,
            packages = package_targets.len(),
            "signed a new state of the TUF feed"
        );
        *published = Some(PublishedFeed {
            roots: folder
                .roots
                .into_iter()
                .map(|(v, bytes)| (v, Bytes::from(bytes)))
                .collect(),
            timestamp: Bytes::from(timestamp),
            snapshots,
            targets_metadata,
            targets: bodies,
            versions,
            signed_at: now,
            timestamp_expires,
            listed,
            root_versions,
        });
        Ok(())
    }
}

/// The catalog's entries (each `url` its package's target name), newest first, and the
/// packages' targets.
fn listing(packages: &[(String, CatalogEntry)]) -> (Vec<CatalogEntry>, Vec<FeedTarget>) {
    let mut entries: Vec<CatalogEntry> = packages
        .iter()
        .map(|(name, entry)| CatalogEntry {
            url: name.clone(),
            ..entry.clone()
        })
        .collect();
    entries.sort_by_key(|p| std::cmp::Reverse((p.product_version, p.patch)));
    let targets = entries
        .iter()
        .map(|entry| FeedTarget {
            name: entry.url.clone(),
            length: entry.size,
            sha256: entry.sha256.clone(),
        })
        .collect();
    (entries, targets)
}

impl PublishedFeed {
    /// The targets this state lists, the catalog first.
    pub fn listed(&self) -> &[FeedTarget] {
        &self.listed
    }

    /// The newest root version served.
    pub fn root_version(&self) -> u64 {
        self.roots.keys().last().copied().unwrap_or(0)
    }
    /// The metadata file `name` (`N.root.json`, `timestamp.json`, `N.snapshot.json`,
    /// `N.targets.json`).
    pub fn metadata(&self, name: &str) -> Option<Bytes> {
        if name == "timestamp.json" {
            return Some(self.timestamp.clone());
        }
        let (version, role) = name.strip_suffix(".json")?.split_once('.')?;
        let version: u64 = version.parse().ok()?;
        match role {
            "root" => self.roots.get(&version).cloned(),
            "snapshot" => self.snapshots.get(&version).cloned(),
            "targets" => self.targets_metadata.get(&version).cloned(),
            _ => None,
        }
    }
}
