//! The SMS Patches panel: what the TMC catalog and the patch repository hold, with each patch's
//! state at the installed level (`GET /api/v1/patches`, `GET /api/v1/patches/{id}`, notices).

use shared::api::{PatchInfo, ServerInfo};
use shared::panel::{
    AvailablePatch, CatalogPatch, HistoryEntry, JobKind, PatchNotice, PatchPresence, PatchState,
    PatchesView, panel_states,
};
use shared::{PatchId, PatchLevel};

use std::sync::Arc;

use crate::service::events::Events;
use crate::service::jobs::Jobs;
use crate::service::repository::decode_facts;
use crate::service::tmc::{CheckOutcome, TmcSync, row_id};
use crate::service::{Installed, PatchRepository, ServiceError, SettingsService};
use crate::storage::entity::tmc_patch;
use crate::workflow::life::ServerLife;

/// How many installs and rollbacks the panel's history shows.
const HISTORY_LENGTH: u64 = 50;

/// What the panel is made of.
#[derive(Clone)]
pub struct Panel {
    pub installed: Installed,
    pub repository: PatchRepository,
    pub tmc: Arc<TmcSync>,
    pub jobs: Jobs,
    pub settings: SettingsService,
    pub events: Events,
    pub life: Arc<dyn ServerLife>,
    pub node_name: String,
    /// Told of a newer patch (`patch.available`).
    pub notifier: crate::service::notify::Notifier,
}

use crate::service::notify::Notice;
use shared::notify::EventType;

impl Panel {
    /// The whole panel (`GET /api/v1/patches`).
    pub async fn view(&self) -> Result<PatchesView, ServiceError> {
        build_view(self).await
    }

    /// One patch as the panel would show it (`GET /api/v1/patches/{id}`).
    pub async fn describe(&self, id: PatchId) -> Result<Option<AvailablePatch>, ServiceError> {
        describe(self, id).await
    }

    /// After a successful TMC check: every client fetches the panel again, and while
    /// notifications are enabled, a new patch newer than the installed one is announced.
    pub async fn after_tmc_check(&self, outcome: CheckOutcome) {
        use shared::panel::ServerEvent;
        self.events.publish(ServerEvent::PatchesChanged);
        if outcome.new_patches.is_empty() {
            return;
        }
        match self.view().await {
            Ok(view) => {
                if let Some(notice) = view.newer_patch
                    && outcome.new_patches.contains(&notice.id)
                {
                    self.notifier
                        .emit(
                            Notice::new(
                                EventType::PatchAvailable,
                                format!(
                                    "{} is available for SMS server {} (installed: level {}).",
                                    notice.display_name,
                                    self.node_name,
                                    view.installed.patch_level.0
                                ),
                            )
                            .with("patch", notice.id.to_string())
                            .with("display_name", notice.display_name.clone())
                            .with("installed_level", view.installed.patch_level.0),
                        )
                        .await;
                    if view.notifications_enabled {
                        tracing::info!(patch = %notice.id, "announcing a newer patch to open clients");
                        self.events.publish(ServerEvent::PatchNotice(notice));
                    }
                }
            }
            Err(err) => tracing::error!("cannot work out the patch notice: {err}"),
        }
    }
}

/// The whole panel.
async fn build_view(state: &Panel) -> Result<PatchesView, ServiceError> {
    let installed = state.installed.get().await?;
    let catalog = state.tmc.catalog().await?;
    let repository = state.repository.list().await?;
    let running = state.jobs.running().await;

    let mut facts: Vec<CatalogPatch> = Vec::new();
    for patch in &repository {
        facts.push(from_repository(patch));
    }
    for row in &catalog {
        let Some(id) = row_id(row) else { continue };
        if !facts.iter().any(|f| f.id == id) {
            facts.push(from_catalog(row)?);
        }
    }
    let presences: Vec<PatchPresence> = facts
        .iter()
        .map(|f| PatchPresence {
            id: f.id,
            in_repository: repository.iter().any(|p| p.id == f.id),
            downloading: running
                .iter()
                .find(|job| job.kind == JobKind::Download && job.patch == Some(f.id))
                .map(|job| (job.id, job.percent())),
        })
        .collect();
    let mut states = panel_states(installed.product_version, installed.patch_level, &presences);
    // Patches for another product version come last, under the ones that apply here.
    states.sort_by_key(|(_, state, _)| matches!(state, PatchState::NotApplicable { .. }));
    let available: Vec<AvailablePatch> = states
        .into_iter()
        .filter_map(|(presence, state, recommended)| {
            let patch = facts.iter().find(|f| f.id == presence.id)?.clone();
            Some(AvailablePatch {
                patch,
                state,
                recommended,
                in_repository: presence.in_repository,
            })
        })
        .collect();
    let newer_patch = available
        .iter()
        .find(|a| a.recommended && a.state != PatchState::Installed)
        .map(|a| PatchNotice {
            id: a.patch.id,
            display_name: a.patch.display_name.clone(),
        });
    let settings = state.settings.get().await?;
    Ok(PatchesView {
        installed: ServerInfo {
            product_version: installed.product_version,
            build: installed.build,
            patch_level: installed.patch_level,
            node_name: state.node_name.clone(),
            state: state.life.state(),
            installed_at: installed.installed_at,
            installed_by: installed.installed_by,
            executable: state.life.executable(),
        },
        history: state
            .jobs
            .history(HISTORY_LENGTH)
            .await?
            .into_iter()
            .map(|job| HistoryEntry {
                job: job.id,
                kind: job.kind,
                patch: job.patch,
                from_level: job.from_level.unwrap_or(PatchLevel::NONE),
                to_level: job.to_level.unwrap_or(PatchLevel::NONE),
                by: job.started_by,
                started_at: job.started_at,
                finished_at: job.finished_at,
                state: job.state,
                message: job.error.map(|e| e.message).or(job.schedule_note),
                scheduled_for: job.scheduled_for,
            })
            .collect(),
        available,
        tmc: state.tmc.status().await,
        notifications_enabled: settings.notifications_enabled,
        newer_patch,
    })
}

/// One patch as the panel would show it; a patch older than the installed level (not offered)
/// is still described, as not applicable. `None`: neither in the catalog nor in the repository.
async fn describe(state: &Panel, id: PatchId) -> Result<Option<AvailablePatch>, ServiceError> {
    let view = build_view(state).await?;
    if let Some(found) = view.available.into_iter().find(|a| a.patch.id == id) {
        return Ok(Some(found));
    }
    let installed = state.installed.get().await?;
    let reason = shared::applicability(installed.product_version, installed.patch_level, id);
    let in_repository = state.repository.find(id).await?;
    let patch = match &in_repository {
        Some(info) => Some(from_repository(info)),
        None => match state
            .tmc
            .catalog()
            .await?
            .iter()
            .find(|row| row_id(row) == Some(id))
        {
            Some(row) => Some(from_catalog(row)?),
            None => None,
        },
    };
    Ok(patch.map(|patch| AvailablePatch {
        patch,
        state: PatchState::NotApplicable { reason },
        recommended: false,
        in_repository: in_repository.is_some(),
    }))
}

fn from_repository(p: &PatchInfo) -> CatalogPatch {
    CatalogPatch {
        id: p.id,
        display_name: p.display_name.clone(),
        product_version: p.product_version,
        patch: p.patch,
        build: p.build,
        title: p.title.clone(),
        released: p.released,
        updates: p.updates,
        client_version: p.client_version,
        restart: p.restart,
        database_changes: p.database_changes,
        rollback: p.rollback,
        changes: p.changes,
        key_id: p.key_id.clone(),
        release_notes_html: p.release_notes_html.clone(),
        size: p.size,
        sha256: p.sha256.clone(),
    }
}

fn from_catalog(row: &tmc_patch::Model) -> Result<CatalogPatch, ServiceError> {
    let corrupt = |what: &str, err: &dyn std::fmt::Display| {
        ServiceError::Corrupt(format!("TMC catalog row {}: {what}: {err}", row.id))
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
    Ok(CatalogPatch {
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
        // The catalog does not list a package's files: known once it is in the repository.
        changes: None,
        key_id: row.key_id.clone(),
        release_notes_html: crate::package::notes::render(&row.release_notes),
        size: u64::try_from(row.size).map_err(|e| corrupt("size", &e))?,
        sha256: row.sha256.clone(),
    })
}
