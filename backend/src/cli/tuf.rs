//! `sms tuf`: the vendor's keys folder of the TMC feed's TUF metadata (docs/tmc-protocol.md,
//! format 2): make the keys and the first root, rotate the root or a role's keys, add a key,
//! and sign a static copy of the feed.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use crate::package::tuf::{self, KeyRole};

#[derive(Debug, Subcommand)]
pub(super) enum TufCommand {
    /// Make the keys (root 3, threshold 2; targets 2, threshold 1; one online key for snapshot
    /// and timestamp) and `KEYS/1.root.json`. Give `1.root.json` to every SMS (`--trust-root`).
    Init {
        #[arg(long, value_name = "KEYS")]
        dir: PathBuf,
    },
    /// A new set of root keys: `N+1.root.json`, signed by the old root keys and the new ones.
    /// The old root keys move to `KEYS/retired/`.
    RotateRoot {
        #[arg(long, value_name = "KEYS")]
        dir: PathBuf,
    },
    /// New keys for a role (after a leak), through a new root version signed by the root keys.
    /// The replaced keys move to `KEYS/retired/`.
    RotateKey {
        #[arg(long, value_name = "KEYS")]
        dir: PathBuf,
        #[arg(long, value_enum)]
        role: KeyRole,
    },
    /// One more key for a role (its threshold unchanged), through a new root version.
    AddKey {
        #[arg(long, value_name = "KEYS")]
        dir: PathBuf,
        #[arg(long, value_enum)]
        role: KeyRole,
    },
    /// Sign the feed of a folder of packages into OUT (`metadata/`, `targets/`), for any static
    /// web server: what `sms tmc serve --tuf` serves under `v2/`.
    Sign {
        #[arg(long, value_name = "KEYS")]
        dir: PathBuf,
        /// The folder of `*.pkg` files.
        #[arg(long, value_name = "DIR")]
        packages: PathBuf,
        #[arg(long, value_name = "OUT")]
        out: PathBuf,
    },
}

pub(super) async fn tuf_command(command: TufCommand) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    match command {
        TufCommand::Init { dir } => {
            let root = tuf::init(&dir, now).await?;
            println!("Made the feed's keys in {}", dir.display());
            println!("  Trusted root: {}", root.display());
            print_roles(&dir)?;
            println!(
                "Keep the root-*.key files offline. Every SMS starts its trust from {} \
                 (--trust-root).",
                root.display()
            );
        }
        TufCommand::RotateRoot { dir } => {
            let root = tuf::rotate_root(&dir, now).await?;
            println!(
                "New root keys; {} is signed by the old and the new root keys",
                root.display()
            );
            print_roles(&dir)?;
        }
        TufCommand::RotateKey { dir, role } => {
            let root = match role {
                KeyRole::Root => tuf::rotate_root(&dir, now).await?,
                role => tuf::rotate_key(&dir, role, now).await?,
            };
            println!("New {} keys, named by {}", role.name(), root.display());
            print_roles(&dir)?;
        }
        TufCommand::AddKey { dir, role } => {
            let root = tuf::add_key(&dir, role, now).await?;
            println!("One more {} key, named by {}", role.name(), root.display());
            print_roles(&dir)?;
        }
        TufCommand::Sign { dir, packages, out } => sign(&dir, &packages, &out).await?,
    }
    Ok(())
}

/// Prints each role's threshold and key files.
fn print_roles(dir: &Path) -> anyhow::Result<()> {
    let folder = tuf::KeysFolder::read(dir)?;
    let (version, root) = folder.latest_root()?;
    println!("  Root version {version}:");
    for (name, role) in [
        ("root", tough::schema::RoleType::Root),
        ("targets", tough::schema::RoleType::Targets),
        ("snapshot", tough::schema::RoleType::Snapshot),
        ("timestamp", tough::schema::RoleType::Timestamp),
    ] {
        let threshold = root
            .signed
            .roles
            .get(&role)
            .map_or(0, |r| r.threshold.get());
        let files: Vec<String> = folder
            .keys
            .iter()
            .filter(|(_, key)| {
                folder
                    .keys_of(&root.signed, role)
                    .iter()
                    .any(|k| k.id().ok() == key.id().ok())
            })
            .filter_map(|(path, _)| path.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        println!(
            "    {name:<9} threshold {threshold}, keys: {}",
            files.join(", ")
        );
    }
    Ok(())
}

/// Writes the signed feed of `packages` into `out`.
async fn sign(dir: &Path, packages: &Path, out: &Path) -> anyhow::Result<()> {
    use crate::tools::tmc_server::TmcServer;
    use crate::tools::tuf_feed::{FeedPublisher, TargetBody};
    let feed = FeedPublisher::new(dir.to_owned(), tuf::Lifetimes::default());
    let tmc = TmcServer::serving(
        packages.to_owned(),
        None,
        Some(feed),
        crate::tools::tmc_server::DEFAULT_EXPIRY,
        None,
    );
    tmc.refresh().await?;
    let published = tmc
        .feed()
        .context("no feed")?
        .published()
        .await
        .context("nothing was signed")?;
    let metadata = out.join("metadata");
    let targets = out.join("targets");
    for folder in [&metadata, &targets] {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let mut files: Vec<(PathBuf, bytes::Bytes)> = Vec::new();
    for (version, bytes) in &published.roots {
        files.push((metadata.join(format!("{version}.root.json")), bytes.clone()));
    }
    for (version, bytes) in &published.targets_metadata {
        files.push((
            metadata.join(format!("{version}.targets.json")),
            bytes.clone(),
        ));
    }
    for (version, bytes) in &published.snapshots {
        files.push((
            metadata.join(format!("{version}.snapshot.json")),
            bytes.clone(),
        ));
    }
    files.push((metadata.join("timestamp.json"), published.timestamp.clone()));
    for (name, body) in &published.targets {
        let path = targets.join(name);
        match body {
            TargetBody::Memory(bytes) => files.push((path, bytes.clone())),
            TargetBody::File(from) => {
                std::fs::copy(from, &path).with_context(|| {
                    format!("cannot copy {} to {}", from.display(), path.display())
                })?;
            }
        }
    }
    for (path, bytes) in files {
        std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "Signed the feed of {} package(s) into {} (timestamp version {}, expires {})",
        published.targets.len().saturating_sub(1),
        out.display(),
        published.versions.timestamp,
        published.timestamp_expires.format("%Y-%m-%d %H:%M UTC")
    );
    Ok(())
}
