//! The patch repository: verified packages in `DATA_DIR/patches`, recorded in the database.
//!
//! A package streams into a temporary file while the verifier checks it; only a package that
//! passed every check is fsynced, renamed into place and recorded (with its audit entry) in one
//! transaction. On any rejection or error nothing remains: no temporary file, no row.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

mod listed;
use listed::{not_listed, too_long, unlisted};
use shared::api::{AuditOutcome, PatchInfo, PatchSource};
use shared::effects::PatchChanges;
use shared::{Build, PatchId, ProductVersion};

use crate::package::verify::InstalledLevel;
use crate::package::{
    Limits, Manifest, PackageError, RejectCode, TrustedKeys, VerifiedPackage, Verifier,
    check_payload,
};
use crate::service::ServiceError;
use crate::service::audit::{self, AuditEvent};
use crate::storage::db::Db;
use crate::storage::entity::patch;

/// The folder of the repository inside the data dir.
pub const REPOSITORY_DIR: &str = "patches";

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The package was rejected by the verifier.
    #[error("{0}")]
    Rejected(PackageError),
    /// The same patch is already in the repository.
    #[error("{0} is already in the patch repository")]
    Exists(String),
    /// The upload or download broke off.
    #[error("the transfer was interrupted: {0}")]
    Interrupted(String),
    /// A downloaded package is not the one the TMC catalog described.
    #[error("{0}")]
    Mismatch(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The data dir has no room for the package (known from its declared size).
    #[error(transparent)]
    NoRoom(#[from] crate::storage::space::Shortfall),
    #[error("cannot write to the patch repository: {0}")]
    Io(#[from] std::io::Error),
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(err: sea_orm::DbErr) -> Self {
        ImportError::Service(ServiceError::Db(err))
    }
}

/// Who imports, from where, under what file name: for the audit log.
#[derive(Debug, Clone)]
pub struct ImportContext {
    pub actor: String,
    pub source: Option<String>,
    pub file_name: Option<String>,
    pub origin: PatchSource,
    /// The size and SHA-256 the package must have (a TMC download: the catalog's).
    pub expected: Option<Expected>,
}

/// What the TMC catalog says a package is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub size: u64,
    pub sha256: String,
}

impl ImportContext {
    /// The audit action: `patch_import` for files, `patch_download` for the TMC.
    fn action(&self) -> &'static str {
        match self.origin {
            PatchSource::Import => "patch_import",
            PatchSource::Tmc => "patch_download",
        }
    }
}

/// Held while a verified package is moved into place and recorded (find, rename, insert).
static COMMIT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Stores and lists verified packages.
#[derive(Debug, Clone)]
pub struct PatchRepository {
    db: Db,
    dir: PathBuf,
    keys: Arc<TrustedKeys>,
    limits: Limits,
    /// This node's key: each node of a cluster has its own repository.
    node: String,
}

impl PatchRepository {
    pub fn new(
        db: Db,
        data_dir: &Path,
        keys: Arc<TrustedKeys>,
        limits: Limits,
        node: &str,
    ) -> Self {
        Self {
            node: node.to_owned(),
            db,
            dir: data_dir.join(REPOSITORY_DIR),
            keys,
            limits,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The data dir the repository is a folder of.
    pub fn data_dir(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    /// Refuses a package of `size` bytes the data dir has no room for, before a byte of it is
    /// written (the rule of `storage::space`).
    pub async fn ensure_room(
        &self,
        size: u64,
        purpose: crate::storage::space::Purpose,
    ) -> Result<(), crate::storage::space::Shortfall> {
        crate::storage::space::ensure_room(self.data_dir(), size, purpose).await
    }

    /// Removes temporary files left by an import that was cut off by a crash.
    pub async fn clean_incomplete(&self) -> std::io::Result<usize> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            if entry.file_name().to_string_lossy().ends_with(".part") {
                tokio::fs::remove_file(entry.path()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Streams a package into the repository, verifying it on the way. Every outcome is audited.
    pub async fn import<S, E>(
        &self,
        stream: S,
        installed: InstalledLevel,
        context: ImportContext,
    ) -> Result<PatchInfo, ImportError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let result = self.import_inner(stream, installed, &context).await;
        let outcome =
            match &result {
                Ok(info) => AuditEvent::success(context.action(), &context.actor)
                    .target(info.id.to_string())
                    .details(describe(&context, Some(info.size), "imported")),
                Err(err) => AuditEvent::failure(context.action(), &context.actor)
                    .details(describe(&context, None, &err.to_string())),
            };
        // Success is audited in the same transaction as the row; only failures are recorded here.
        if outcome.outcome == AuditOutcome::Failure
            && let Err(err) =
                audit::record_with(&self.db, outcome.source(context.source.clone())).await
        {
            // The caller must still learn why the import failed; the log keeps the audit gap.
            tracing::error!(error = %err, "cannot record a failed import in the audit log");
        }
        result
    }

    async fn import_inner<S, E>(
        &self,
        mut stream: S,
        installed: InstalledLevel,
        context: &ImportContext,
    ) -> Result<PatchInfo, ImportError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        tokio::fs::create_dir_all(&self.dir).await?;
        // Removed when dropped, so a rejected or broken-off upload leaves nothing behind.
        let temp = tempfile::Builder::new()
            .prefix(".incoming-")
            .suffix(".part")
            .tempfile_in(&self.dir)?;
        let file = temp.as_file().try_clone()?;
        let mut writer = PackageWriter::start(file);
        let mut verifier = Verifier::new(&self.keys, self.limits, Some(installed));
        let mut checked_exists = false;
        // A download is also hashed on its own: when the package's checks refuse it, the rest
        // is read and hashed, and bytes that are not those the TMC listed say so first.
        let mut listed = context.expected.as_ref().map(|e| (e, Sha256::new(), 0u64));
        let received = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|err| ImportError::Interrupted(err.to_string()))?;
                if let Some((expected, hasher, seen)) = &mut listed {
                    *seen += chunk.len() as u64;
                    if *seen > expected.size {
                        return Err(too_long(expected));
                    }
                    hasher.update(&chunk);
                }
                if let Err(rejected) = verifier.update(&chunk) {
                    return Err(match listed.take() {
                        Some((expected, hasher, seen)) => {
                            unlisted(&mut stream, expected, hasher, seen)
                                .await
                                .unwrap_or(ImportError::Rejected(rejected))
                        }
                        None => ImportError::Rejected(rejected),
                    });
                }
                writer.write(chunk).await?;
                // As soon as the signed manifest is known, refuse a patch the repository has.
                if !checked_exists && let Some(m) = verifier.manifest() {
                    checked_exists = true;
                    if let Ok(id) = PatchId::new(m.product_version, m.patch)
                        && let Some(existing) = self.find(id).await?
                    {
                        return Err(ImportError::Exists(existing.display_name));
                    }
                }
            }
            Ok(())
        }
        .await;
        let verified = received
            .and_then(|()| verifier.finish().map_err(ImportError::Rejected))
            .and_then(|verified| match &context.expected {
                Some(expected)
                    if expected.size != verified.size || expected.sha256 != verified.sha256 =>
                {
                    Err(not_listed(expected, verified.size, &verified.sha256))
                }
                _ => Ok(verified),
            });
        // The writer closes the file in every case, so that a rejected upload's file can go; only
        // a verified package is made durable.
        let written = writer.finish(verified.is_ok()).await;
        let verified = verified?;
        written?;

        let m = &verified.manifest;
        let id = PatchId::new(m.product_version, m.patch).map_err(|err| {
            ImportError::Rejected(PackageError::new(
                RejectCode::ManifestInvalid,
                err.to_string(),
            ))
        })?;
        // One commit at a time: of two imports of one package, the second sees the first's row
        // and keeps its hands off the first's file.
        let _committing = COMMIT.lock().await;
        if let Some(existing) = self.find(id).await? {
            return Err(ImportError::Exists(existing.display_name));
        }
        let file_name = format!("{id}-{}.pkg", &verified.sha256[..12]);
        let final_path = self.dir.join(&file_name);
        temp.persist(&final_path).map_err(|err| err.error)?;
        sync_dir(&self.dir).await?;

        match self.record(&verified, &file_name, context).await {
            Ok(info) => Ok(info),
            Err(err) => {
                // The row did not commit: the file must not stay behind either.
                // Best effort: the record's error is what the caller hears; a file without a row
                // is never served and the next import of it replaces it.
                let _ = tokio::fs::remove_file(&final_path).await;
                Err(err)
            }
        }
    }

    async fn record(
        &self,
        verified: &VerifiedPackage,
        file_name: &str,
        context: &ImportContext,
    ) -> Result<PatchInfo, ImportError> {
        let m = &verified.manifest;
        let payload = payload_changes(m).map_err(ImportError::Rejected)?;
        let changes = serde_json::to_string(&payload).map_err(|err| {
            ServiceError::Corrupt(format!("cannot encode a patch's changes: {err}"))
        })?;
        let server_migrations = if payload.server_executable {
            crate::storage::executable::brought_by_package(
                &self.dir.join(file_name),
                &verified.sha256,
            )
            .await
        } else {
            Vec::new()
        };
        let server_migrations = (!server_migrations.is_empty())
            .then(|| serde_json::to_string(&server_migrations))
            .transpose()
            .map_err(|err| ServiceError::Corrupt(format!("cannot encode a list: {err}")))?;
        let txn = crate::storage::db::begin_write(&self.db).await?;
        let row = patch::ActiveModel {
            product_version: Set(m.product_version.to_string()),
            patch: Set(i32::try_from(m.patch).unwrap_or(i32::MAX)),
            build: Set(m.build.to_string()),
            title: Set(m.title.clone()),
            released: Set(m.released.to_string()),
            updates: Set(m.updates.as_str().to_owned()),
            client_version: Set(m.client_version.map(|c| c.to_string())),
            restart: Set(m.restart.as_str().to_owned()),
            database_changes: Set(m.database_changes),
            rollback: Set(m.rollback),
            key_id: Set(m.key_id.clone()),
            release_notes: Set(m.release_notes.clone()),
            size: Set(i64::try_from(verified.size).unwrap_or(i64::MAX)),
            sha256: Set(verified.sha256.clone()),
            file_name: Set(file_name.to_owned()),
            source: Set(context.origin.as_str().to_owned()),
            imported_at: Set(Utc::now()),
            imported_by: Set(context.actor.clone()),
            node: Set(self.node.clone()),
            changes: Set(Some(changes)),
            server_migrations: Set(server_migrations),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let info = info_from_row(row, &self.keys)?;
        audit::record_with(
            &txn,
            AuditEvent::success(context.action(), &context.actor)
                .target(info.id.to_string())
                .source(context.source.clone())
                .details(describe(context, Some(verified.size), "imported")),
        )
        .await?;
        txn.commit().await?;
        Ok(info)
    }

    /// The keys packages are verified with.
    pub fn keys(&self) -> Arc<TrustedKeys> {
        self.keys.clone()
    }

    /// Where the package of patch `id` is stored, if the repository has it.
    pub async fn package_path(&self, id: PatchId) -> Result<Option<PathBuf>, ServiceError> {
        Ok(self.row(id).await?.map(|row| self.dir.join(row.file_name)))
    }

    /// The patch with this id, if the repository has it.
    pub async fn find(&self, id: PatchId) -> Result<Option<PatchInfo>, ServiceError> {
        let row = self.row(id).await?;
        row.map(|row| info_from_row(row, &self.keys)).transpose()
    }

    /// This node's row of patch `id`, if the repository has it (a patch number past `i32`
    /// matches no row).
    async fn row(&self, id: PatchId) -> Result<Option<patch::Model>, ServiceError> {
        Ok(patch::Entity::find()
            .filter(patch::Column::Node.eq(self.node.as_str()))
            .filter(patch::Column::ProductVersion.eq(id.product_version().to_string()))
            .filter(patch::Column::Patch.eq(i32::try_from(id.patch()).unwrap_or(i32::MAX)))
            .one(&self.db)
            .await?)
    }

    /// Every package in the repository, newest first.
    pub async fn list(&self) -> Result<Vec<PatchInfo>, ServiceError> {
        let rows = patch::Entity::find()
            .filter(patch::Column::Node.eq(self.node.as_str()))
            .order_by_desc(patch::Column::ProductVersion)
            .order_by_desc(patch::Column::Patch)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| info_from_row(row, &self.keys))
            .collect()
    }
}

/// What a package's payload changes, from its signed file list (the payload's rules say where
/// the server executable, the web client and the migrations sit).
pub fn payload_changes(manifest: &Manifest) -> Result<PatchChanges, PackageError> {
    let summary = check_payload(manifest)?;
    Ok(PatchChanges {
        server_executable: summary.server_executable,
        web_client: summary.client,
        migrations: summary.migrations,
    })
}

fn describe(context: &ImportContext, size: Option<u64>, what: &str) -> String {
    let name = context.file_name.as_deref().unwrap_or("(unnamed upload)");
    match size {
        Some(size) => format!("{name}, {size} bytes: {what}"),
        None => format!("{name}: {what}"),
    }
}

fn info_from_row(row: patch::Model, keys: &TrustedKeys) -> Result<PatchInfo, ServiceError> {
    let corrupt = |what: &str, err: &dyn std::fmt::Display| {
        ServiceError::Corrupt(format!("patch row {}: {what}: {err}", row.id))
    };
    let facts = decode_facts(
        &row.product_version,
        row.patch,
        &row.build,
        &row.released,
        &row.updates,
        row.client_version.as_deref(),
        &row.restart,
        corrupt,
    )?;
    Ok(PatchInfo {
        id: facts.id,
        display_name: facts.display_name,
        product_version: facts.id.product_version(),
        patch: facts.id.patch(),
        build: facts.build,
        title: row.title.clone(),
        released: facts.released,
        updates: facts.updates,
        client_version: facts.client_version,
        restart: facts.restart,
        database_changes: row.database_changes,
        rollback: row.rollback,
        changes: row
            .changes
            .as_deref()
            .map(serde_json::from_str::<PatchChanges>)
            .transpose()
            .map_err(|e| corrupt("changes", &e))?,
        demo_key: keys.is_demo(&row.key_id),
        key_id: row.key_id.clone(),
        release_notes_html: crate::package::notes::render(&row.release_notes),
        release_notes: row.release_notes.clone(),
        size: u64::try_from(row.size).map_err(|e| corrupt("size", &e))?,
        sha256: row.sha256.clone(),
        source: match row.source.as_str() {
            "tmc" => PatchSource::Tmc,
            _ => PatchSource::Import,
        },
        imported_at: row.imported_at,
        imported_by: row.imported_by.clone(),
        server_migrations: row
            .server_migrations
            .as_deref()
            .map(serde_json::from_str::<Vec<String>>)
            .transpose()
            .map_err(|e| corrupt("server migrations", &e))?
            .unwrap_or_default(),
    })
}

/// Writes a package to its file on blocking threads while the upload goes on: small chunks are
/// gathered into large writes, and the kernel is asked to flush to disk every [`SYNC_EVERY`]
/// bytes on a second thread, so that the final fsync has little left to do. Memory stays bounded
/// by the channel: at most [`QUEUED`] chunks of at most [`GATHER`] bytes each wait.
struct PackageWriter {
    pending: bytes::BytesMut,
    /// `Some(chunk)` to write; `None`: the package is complete, make it durable.
    sender: Option<tokio::sync::mpsc::Sender<Option<Bytes>>>,
    /// The writer thread; taken once its outcome is read.
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Chunks smaller than this are gathered before they are written.
const GATHER: usize = 1 << 20;
/// Chunks waiting for the writer thread.
const QUEUED: usize = 8;
/// Bytes written between two requests to flush them to disk.
const SYNC_EVERY: u64 = 32 << 20;

impl PackageWriter {
    fn start(file: std::fs::File) -> Self {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Option<Bytes>>(QUEUED);
        let task = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut file = file;
            let flusher = Flusher::start(&file)?;
            let mut unsynced = 0u64;
            let mut complete = false;
            while let Some(message) = receiver.blocking_recv() {
                let Some(chunk) = message else {
                    complete = true;
                    break;
                };
                file.write_all(&chunk)?;
                unsynced += chunk.len() as u64;
                if unsynced >= SYNC_EVERY {
                    flusher.nudge();
                    unsynced = 0;
                }
            }
            flusher.stop();
            if complete {
                file.sync_all()?;
            }
            Ok(())
        });
        Self {
            pending: bytes::BytesMut::new(),
            sender: Some(sender),
            task: Some(task),
        }
    }

    async fn write(&mut self, chunk: Bytes) -> Result<(), ImportError> {
        if self.pending.is_empty() && chunk.len() >= GATHER {
            return self.send(chunk).await;
        }
        self.pending.extend_from_slice(&chunk);
        if self.pending.len() >= GATHER {
            let full = self.pending.split().freeze();
            self.send(full).await?;
        }
        Ok(())
    }

    async fn send(&mut self, chunk: Bytes) -> Result<(), ImportError> {
        self.send_message(Some(chunk)).await
    }

    async fn send_message(&mut self, message: Option<Bytes>) -> Result<(), ImportError> {
        let sent = match &self.sender {
            Some(sender) => sender.send(message).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The writer stopped: its error says why.
        self.sender = None;
        match self.wait().await {
            Err(err) => Err(err.into()),
            Ok(()) => Err(std::io::Error::other("the package writer stopped").into()),
        }
    }

    /// The writer thread's outcome (once; later calls find it already read).
    async fn wait(&mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }

    /// Writes what is left (when `complete`), waits for the writer and closes the file; a
    /// complete file is also fsynced.
    async fn finish(mut self, complete: bool) -> Result<(), ImportError> {
        if complete {
            if !self.pending.is_empty() {
                let rest = self.pending.split().freeze();
                self.send(rest).await?;
            }
            self.send_message(None).await?;
        }
        self.sender = None;
        self.wait().await?;
        Ok(())
    }
}

/// Asks the kernel on its own thread to write a file's data to disk, so that writeback runs
/// while the upload goes on instead of all at the end.
struct Flusher {
    nudges: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Flusher {
    fn start(file: &std::fs::File) -> std::io::Result<Self> {
        let clone = file.try_clone()?;
        let (nudges, wakeups) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("package-flush".into())
            .spawn(move || {
                while wakeups.recv().is_ok() {
                    // A failure here shows again in the final fsync, which is checked.
                    let _ = clone.sync_data();
                }
            })?;
        Ok(Self { nudges, thread })
    }

    /// Requests a flush; a request already waiting covers this one too.
    fn nudge(&self) {
        // A full queue already holds a nudge; a gone thread is reported by `finish`.
        let _ = self.nudges.try_send(());
    }

    fn stop(self) {
        drop(self.nudges);
        // The thread only syncs early; the final fsync after it is checked.
        let _ = self.thread.join();
    }
}

/// The typed manifest facts of a stored patch row (repository or TMC catalog).
pub(crate) struct StoredFacts {
    pub id: PatchId,
    pub display_name: String,
    pub build: Build,
    pub released: chrono::NaiveDate,
    pub updates: shared::effects::Updates,
    pub client_version: Option<Build>,
    pub restart: shared::effects::Restart,
}

/// Parses the text columns every patch table shares; `corrupt` names the row in the error.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_facts(
    product_version: &str,
    patch: i32,
    build: &str,
    released: &str,
    updates: &str,
    client_version: Option<&str>,
    restart: &str,
    corrupt: impl Fn(&str, &dyn std::fmt::Display) -> ServiceError,
) -> Result<StoredFacts, ServiceError> {
    let product_version: ProductVersion = product_version
        .parse()
        .map_err(|e| corrupt("product version", &e))?;
    let number = u32::try_from(patch).map_err(|e| corrupt("patch", &e))?;
    let build: Build = build.parse().map_err(|e| corrupt("build", &e))?;
    let id = PatchId::new(product_version, number).map_err(|e| corrupt("patch", &e))?;
    Ok(StoredFacts {
        id,
        display_name: shared::display_name(product_version, number, &build),
        build,
        released: released.parse().map_err(|e| corrupt("released", &e))?,
        updates: updates
            .parse()
            .map_err(|e: String| corrupt("updates", &e))?,
        client_version: client_version
            .map(str::parse)
            .transpose()
            .map_err(|e| corrupt("client version", &e))?,
        restart: restart
            .parse()
            .map_err(|e: String| corrupt("restart", &e))?,
    })
}

/// Makes a rename in `dir` durable.
async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        #[cfg(unix)]
        {
            std::fs::File::open(&dir)?.sync_all()?;
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}
