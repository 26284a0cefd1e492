//! Importing a package file into the patch repository: checked against the installed level,
//! verified while it streams to disk, audited (an upload refused for its size too).

use bytes::Bytes;
use futures_util::Stream;
use shared::api::{PatchInfo, PatchSource};

use crate::package::verify::InstalledLevel;
use crate::package::{PackageError, RejectCode};
use crate::service::repository::{ImportContext, ImportError};
use crate::service::{Audit, AuditEvent, Installed, PatchRepository};
use crate::storage::space::Purpose;

/// Who imports what, for the audit log.
#[derive(Debug, Clone)]
pub struct Upload {
    pub actor: String,
    pub source: Option<String>,
    pub file_name: Option<String>,
}

/// What an import uses.
#[derive(Clone)]
pub struct Importer {
    pub installed: Installed,
    pub repository: PatchRepository,
    pub audit: Audit,
}

impl Importer {
    /// The largest package the repository takes, in bytes.
    pub fn max_package_bytes(&self) -> u64 {
        self.repository.limits().max_package_bytes
    }

    /// Refuses an upload that says it is over the limit before reading it; audited.
    pub async fn refuse_oversize(&self, length: u64, upload: Upload) -> ImportError {
        let limit = self.max_package_bytes();
        let rejection = PackageError::new(
            RejectCode::TooLarge,
            format!("the upload has {length} bytes; the limit is {limit}"),
        );
        let event = AuditEvent::failure("patch_import", &upload.actor)
            .source(upload.source)
            .details(format!(
                "{}, {length} bytes: {}",
                upload.file_name.as_deref().unwrap_or("(unnamed upload)"),
                rejection.message
            ));
        if let Err(err) = self.audit.record(event).await {
            return err.into();
        }
        ImportError::Rejected(rejection)
    }

    /// Refuses an upload whose declared size does not fit in the data dir, before reading it;
    /// audited. `Ok` when it fits.
    pub async fn ensure_room(&self, length: u64, upload: &Upload) -> Result<(), ImportError> {
        let Err(shortfall) = self.repository.ensure_room(length, Purpose::Import).await else {
            return Ok(());
        };
        let event = AuditEvent::failure("patch_import", &upload.actor)
            .source(upload.source.clone())
            .details(format!(
                "{}, {length} bytes: {}",
                upload.file_name.as_deref().unwrap_or("(unnamed upload)"),
                shortfall.message()
            ));
        self.audit.record(event).await?;
        Err(ImportError::NoRoom(shortfall))
    }

    /// Imports a package an admin uploads.
    pub async fn import<S, E>(&self, body: S, upload: Upload) -> Result<PatchInfo, ImportError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let installed = self.installed_level().await?;
        self.repository
            .import(
                body,
                installed,
                ImportContext {
                    actor: upload.actor,
                    source: upload.source,
                    file_name: upload.file_name,
                    origin: PatchSource::Import,
                    expected: None,
                },
            )
            .await
    }

    /// Takes a package the active cluster node pushed; `false` when it was already here.
    pub async fn from_peer<S, E>(&self, body: S) -> Result<bool, ImportError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let installed = self.installed_level().await?;
        let imported = self
            .repository
            .import(
                body,
                installed,
                ImportContext {
                    actor: "peer node".into(),
                    source: None,
                    file_name: Some("sent by the active cluster node".into()),
                    origin: PatchSource::Import,
                    expected: None,
                },
            )
            .await;
        match imported {
            Ok(_) => Ok(true),
            Err(ImportError::Exists(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }

    async fn installed_level(&self) -> Result<InstalledLevel, ImportError> {
        let installed = self.installed.get().await?;
        Ok(InstalledLevel {
            product_version: installed.product_version,
            patch_level: installed.patch_level,
        })
    }
}
