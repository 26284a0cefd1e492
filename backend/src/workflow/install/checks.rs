//! The checks before an install or a rollback changes anything: known, downloaded, applicable,
//! the HA rule, disk space, the stored package verifies again, the level did not change.

use std::path::PathBuf;

use shared::api::PatchInfo;
use shared::{
    InstallCandidate, PatchId, PatchLevel, install_refusal, level_in_words, rollback_refusal,
};

use crate::package::verify::{InstalledLevel, Verifier};
use crate::service::installed::InstalledState;

use super::engine::{InstallEngine, blocking};
use super::error::PatchJobError;
use super::schema::{BuiltinChange, of_package};

/// What an install works from.
#[derive(Debug, Clone)]
pub(super) struct InstallPlan {
    pub(super) patch: PatchInfo,
    pub(super) package: PathBuf,
    pub(super) from: InstalledState,
    /// What the level's executable asks of the server's own schema (docs/schema.md).
    pub(super) builtin: BuiltinChange,
}

impl InstallPlan {
    /// Whether the install changes the database: the patch's migrations, or the built-in ones
    /// its executable brings.
    pub(super) fn changes_database(&self) -> bool {
        self.patch.database_changes || !self.builtin.brings.is_empty()
    }
}

/// The checks that need no reading of the package: known, applicable, downloaded, the HA
/// rule (`shared::install_refusal`).
pub(super) async fn plan_install(
    engine: &InstallEngine,
    id: PatchId,
) -> Result<InstallPlan, PatchJobError> {
    let from = engine.installed.get().await?;
    let patch = engine.repository.find(id).await?;
    let offered = match &patch {
        Some(_) => false,
        None => engine
            .tmc
            .catalog()
            .await?
            .iter()
            .any(|row| crate::service::tmc::row_id(row) == Some(id)),
    };
    let package = match &patch {
        Some(_) => engine.repository.package_path(id).await?,
        None => None,
    };
    let builtin = match (&patch, &package) {
        (Some(patch), Some(package)) => of_package(engine, package, &patch.sha256).await?,
        _ => BuiltinChange::default(),
    };
    if !builtin.brings.is_empty() {
        tracing::info!(
            patch = %id,
            brings = %builtin.brings.join(", "),
            "the patch's server brings schema migrations: it changes the database"
        );
    }
    let database_changes =
        patch.as_ref().is_some_and(|p| p.database_changes) || !builtin.brings.is_empty();
    let clustering = database_changes && engine.cluster.enabled().await?;
    let candidate = InstallCandidate {
        id,
        display_name: patch.as_ref().map_or("", |p| p.display_name.as_str()),
        in_repository: patch.is_some(),
        offered,
        database_changes,
    };
    if let Some(refusal) = install_refusal(
        from.product_version,
        from.patch_level,
        candidate,
        clustering,
    ) {
        return Err(refusal.into());
    }
    let (Some(patch), Some(package)) = (patch, package) else {
        return Err(PatchJobError::not_downloaded(format!(
            "The package of Patch {id} is missing from the patch repository; download or import \
             it again."
        )));
    };
    Ok(InstallPlan {
        patch,
        package,
        from,
        builtin,
    })
}

/// The install rules again, at the pre-check: the level may have changed, clustering may
/// have been enabled since the job was planned.
pub(super) async fn still_installable(
    engine: &InstallEngine,
    plan: &InstallPlan,
    current: &InstalledState,
) -> Result<(), PatchJobError> {
    let patch = &plan.patch;
    let clustering = plan.changes_database() && engine.cluster.enabled().await?;
    let candidate = InstallCandidate {
        id: patch.id,
        display_name: &patch.display_name,
        in_repository: true,
        offered: false,
        database_changes: plan.changes_database(),
    };
    match install_refusal(
        current.product_version,
        current.patch_level,
        candidate,
        clustering,
    ) {
        Some(refusal) => Err(refusal.into()),
        None => Ok(()),
    }
}

/// The rollback rules (`shared::rollback_refusal`): a patch is installed, and its manifest
/// allows a rollback.
pub(super) async fn rollback_allowed(
    engine: &InstallEngine,
    from: &InstalledState,
) -> Result<(), PatchJobError> {
    let installed_patch = match PatchId::new(from.product_version, from.patch_level.0) {
        Ok(id) => engine.repository.find(id).await?,
        // Level 0 names no patch.
        Err(_) => None,
    };
    match rollback_refusal(
        from.patch_level,
        installed_patch
            .as_ref()
            .map(|p| (p.display_name.as_str(), p.rollback)),
    ) {
        Some(refusal) => Err(refusal.into()),
        None => Ok(()),
    }
}

/// The level the job was planned from must still be the installed one.
pub(super) fn level_unchanged(planned: PatchLevel, now: PatchLevel) -> Result<(), PatchJobError> {
    if planned == now {
        return Ok(());
    }
    Err(PatchJobError::conflict(
        "level_changed",
        format!(
            "The installed level changed from {} to {} since the job was started. Start it again.",
            level_in_words(planned),
            level_in_words(now)
        ),
    ))
}

/// Reads the stored package again through the verifier (signature and every file's hash), and
/// returns the payload's size.
pub(super) async fn verify(
    engine: &InstallEngine,
    plan: &InstallPlan,
) -> Result<u64, PatchJobError> {
    let keys = engine.repository.keys();
    let limits = engine.repository.limits();
    let path = plan.package.clone();
    let installed = InstalledLevel {
        product_version: plan.from.product_version,
        patch_level: plan.from.patch_level,
    };
    let verified = blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(&path)?;
        let mut verifier = Verifier::new(&keys, limits, None);
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            if let Err(err) = verifier.update(&buffer[..n]) {
                return Ok(Err(err));
            }
        }
        Ok(verifier.finish())
    })
    .await
    .map_err(|err| {
        PatchJobError::precondition(
            "package_unreadable",
            format!("The package could not be read from the patch repository: {err}. Download or import it again."),
        )
    })?
    .map_err(|err| {
        PatchJobError::precondition(
            "package_invalid",
            format!(
                "The stored package no longer verifies ({}: {}). Delete it, then download or import it again.",
                err.code.as_str(),
                err.message
            ),
        )
    })?;
    if verified.sha256 != plan.patch.sha256 {
        return Err(PatchJobError::precondition(
            "package_invalid",
            "The stored package changed since it was verified. Download or import it again.",
        ));
    }
    crate::package::verify::check_applicable(&verified.manifest, installed).map_err(|err| {
        PatchJobError::precondition(err.code.as_str(), format!("{}.", err.message))
    })?;
    Ok(verified.manifest.files.iter().map(|f| f.size).sum())
}

/// Room for the payload twice (staging and the level itself) and the backup taken first (a
/// patch that changes the database), by the rule every write of a known size follows
/// (`storage::space`): a shortfall fails the job with `insufficient_storage`.
pub(super) async fn enough_disk(
    engine: &InstallEngine,
    payload: u64,
    backup: u64,
) -> Result<(), PatchJobError> {
    crate::storage::space::ensure_room(
        engine.install_root.dir(),
        payload.saturating_mul(2).saturating_add(backup),
        crate::storage::space::Purpose::Install,
    )
    .await
    .map_err(PatchJobError::from)
}
