//! The steps that touch what runs: the switch, the post-check, cleaning the install root.

use std::time::Duration;

use shared::api::HealthResponse;
use shared::text::capitalized;
use shared::{Build, PatchId, PatchLevel, level_in_words};

use crate::service::ServiceError;
use crate::workflow::faults::crash_point_named;

use super::engine::{InstallEngine, blocking};
use super::error::PatchJobError;

/// The switch: the install root's pointer first (atomic), then, in one database transaction,
/// the level's migrations, the undoing of the server's own migrations `builtin_undo` that the
/// level's executable does not know (docs/schema.md), and the level record. When the transaction fails (a migration's SQL,
/// a changed migration), nothing of it stays and the pointer goes back to `previous`.
pub(super) async fn switch(
    engine: &InstallEngine,
    level: PatchLevel,
    build: &Build,
    actor: &str,
    previous: PatchLevel,
    builtin_undo: &[String],
) -> Result<(), PatchJobError> {
    let root = engine.install_root.clone();
    let migrations = blocking(move || root.migrations(level))
        .await
        .map_err(|err| {
            PatchJobError::failed(
                "switch_failed",
                format!(
                    "The database migrations of {} cannot be read: {err}. Nothing was changed.",
                    level_in_words(level)
                ),
            )
        })?;
    let root = engine.install_root.clone();
    blocking(move || root.switch(level)).await.map_err(|err| {
        PatchJobError::failed(
            "switch_failed",
            format!("The switch to {} failed: {err}.", level_in_words(level)),
        )
    })?;
    let recorded = engine
        .installed
        .switch_level_undoing(level, build, actor, &migrations, builtin_undo, || {
            crash_point_named("migration_commit");
        })
        .await;
    let report = match recorded {
        Ok(report) => report,
        Err(err) => {
            // The record failed: the pointer goes back to what the database still says.
            let (code, what) = match &err {
                ServiceError::Migration(migration) => (migration.code(), migration.to_string()),
                other => (
                    "switch_failed",
                    format!("the new level could not be recorded: {other}"),
                ),
            };
            let root = engine.install_root.clone();
            if let Err(undo) = blocking(move || root.switch(previous)).await {
                tracing::error!(
                    "cannot put the install pointer back to {}: {undo}",
                    previous.0
                );
                return Err(PatchJobError::failed(
                    code,
                    format!(
                        "{} and the install pointer could not be put back ({undo}). The next \
                         start settles them; check the log.",
                        capitalized(&what)
                    ),
                ));
            }
            return Err(PatchJobError::failed(
                code,
                format!(
                    "{}. The database and the server were left unchanged.",
                    capitalized(&what)
                ),
            ));
        }
    };
    crash_point_named("migration_committed");
    if !report.kept.is_empty() {
        tracing::warn!(
            kept = %report.kept.join(", "),
            "database migrations that cannot be undone stay in the schema of {}",
            level_in_words(level)
        );
    }
    if !report.applied.is_empty() || !report.undone.is_empty() {
        tracing::info!(
            applied = %report.applied.join(", "),
            undone = %report.undone.join(", "),
            "the database schema is at {}",
            level_in_words(level)
        );
    }
    Ok(())
}

/// The build that `level` runs: the base release's, or the patch's.
pub(super) async fn build_of_level(
    engine: &InstallEngine,
    level: PatchLevel,
) -> Result<Build, PatchJobError> {
    if level == PatchLevel::NONE {
        return Ok(engine.base_build);
    }
    let installed = engine.installed.get().await?;
    let id = PatchId::new(installed.product_version, level.0)
        .map_err(|err| PatchJobError::failed("internal_error", err.to_string()))?;
    engine
        .repository
        .find(id)
        .await?
        .map(|patch| patch.build)
        .ok_or_else(|| {
            PatchJobError::failed(
                "internal_error",
                format!(
                    "the package of {} is no longer in the repository",
                    level_in_words(level)
                ),
            )
        })
}

/// Health and version at the new level, asked over HTTP as a client would; the install root
/// and the database must agree with it.
pub(super) async fn postcheck(
    engine: &InstallEngine,
    target: PatchLevel,
) -> Result<(), PatchJobError> {
    let fail = |why: String| {
        PatchJobError::failed(
            "postcheck_failed",
            format!("The check after the switch failed: {why}."),
        )
    };
    if crate::workflow::faults::postcheck_fault(&engine.node_name, engine.fail_postcheck) {
        return Err(fail(
            "the post-check was made to fail (fault injection)".into(),
        ));
    }
    let root = engine.install_root.clone();
    let current = blocking(move || root.current())
        .await
        .map_err(|err| fail(format!("the install root cannot be read: {err}")))?;
    if current != target {
        return Err(fail(format!(
            "the install root is at {}, not {}",
            level_in_words(current),
            level_in_words(target)
        )));
    }
    let url = format!("{}/api/v1/health", engine.life.local_url());
    crate::net::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .map_err(|err| fail(err.to_string()))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|err| fail(format!("the server does not answer at {url}: {err}")))?;
    if !response.status().is_success() {
        return Err(fail(format!("health answered {}", response.status())));
    }
    let health: HealthResponse = response
        .json()
        .await
        .map_err(|err| fail(format!("health answered something else: {err}")))?;
    if health.patch_level != target {
        return Err(fail(format!(
            "the server reports {} instead of {}",
            level_in_words(health.patch_level),
            level_in_words(target)
        )));
    }
    confirmed(engine, target).await.map_err(fail)
}

/// The level came up: under a supervisor, once it has confirmed the level (it does when the
/// server answers healthy at it); otherwise this process confirms it itself.
async fn confirmed(engine: &InstallEngine, target: PatchLevel) -> Result<(), String> {
    let root = engine.install_root.clone();
    if !engine.life.supervised() {
        return blocking(move || root.confirm(target))
            .await
            .map_err(|err| format!("the level cannot be confirmed: {err}"));
    }
    let deadline = tokio::time::Instant::now() + engine.start_timeout + Duration::from_secs(5);
    loop {
        let root = root.clone();
        match blocking(move || root.confirmed()).await {
            Ok(level) if level == target => return Ok(()),
            Ok(_) | Err(_) if tokio::time::Instant::now() >= deadline => {
                return Err(format!(
                    "the supervisor did not confirm {} within {} s",
                    level_in_words(target),
                    engine.start_timeout.as_secs()
                ));
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Removes what no level needs (stagings, levels that are neither current nor the base),
/// saying so in the log; not while the install root and the database disagree (the next start
/// settles them first).
pub(super) async fn clean_install_root(engine: &InstallEngine) {
    let root = engine.install_root.clone();
    let current = blocking(move || root.current()).await;
    let recorded = engine.installed.get().await.map(|s| s.patch_level);
    match (current, recorded) {
        (Ok(current), Ok(recorded)) if current == recorded => {}
        (current, recorded) => {
            tracing::error!(
                ?current,
                ?recorded,
                "the install root and the database disagree: nothing is removed until they agree"
            );
            return;
        }
    }
    let root = engine.install_root.clone();
    match blocking(move || root.reconcile()).await {
        Ok(reconciled) if !reconciled.removed.is_empty() => tracing::info!(
            removed = %reconciled.removed.join(", "),
            "removed install root folders no level needs"
        ),
        Ok(_) => {}
        Err(err) => tracing::error!("cannot clean the install root: {err}"),
    }
}
