//! The SMS Patches panel: what the TMC catalog and the patch repository hold, with each patch's
//! state at the installed level (`GET /api/v1/patches`, `GET /api/v1/patches/{id}`, notices).

use shared::api::{PatchInfo, ServerInfo};
use shared::notify::EventType;
use shared::panel::{
    AvailablePatch, CatalogPatch, HISTORY_PER_PAGE, HistoryEntry, HistoryPage, JobInfo, JobKind,
    PatchNotice, PatchPresence, PatchState, PatchesView, panel_states,
};
use shared::{PatchId, PatchLevel};

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::service::events::Events;
use crate::service::jobs::Jobs;
use crate::service::notify::Notice;
use crate::service::repository::decode_facts;
use crate::service::tmc::{CheckOutcome, TmcSync, row_id};
use crate::service::{Installed, PatchRepository, ServiceError, SettingsService};
use crate::storage::entity::tmc_patch;
use crate::workflow::life::ServerLife;

/// How long the panel's answer is kept at most while nothing says it changed: what another
/// process changes in the data dir (`sms patch import`) shows within this time.
const VIEW_MAX_AGE: Duration = Duration::from_secs(1);

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
    /// The data dir's free space.
    pub disk: crate::service::disk::Disk,
    /// The last answer of `GET /api/v1/patches`.
    pub cache: Arc<ViewCache>,
}

/// The panel's JSON answer, kept until an event or a state-changing request says that what it
/// shows may have changed (`Events::generation`), and at most [`VIEW_MAX_AGE`]: a panel asked
/// for by many clients at once is built once.
#[derive(Debug, Default)]
pub struct ViewCache {
    kept: RwLock<Option<KeptView>>,
    /// Held while the view is built, so that the requests waiting for it do not build it too.
    building: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct KeptView {
    generation: u64,
    built: Instant,
    json: Bytes,
}

impl ViewCache {
    /// The kept answer, when it was built at `generation` and is young enough.
    fn current(&self, generation: u64) -> Option<Bytes> {
        let kept = self.kept.read().unwrap_or_else(PoisonError::into_inner);
        kept.as_ref()
            .filter(|kept| kept.generation == generation && kept.built.elapsed() < VIEW_MAX_AGE)
            .map(|kept| kept.json.clone())
    }

    fn keep(&self, generation: u64, json: Bytes) {
        *self.kept.write().unwrap_or_else(PoisonError::into_inner) = Some(KeptView {
            generation,
            built: Instant::now(),
            json,
        });
    }
}

impl Panel {
    /// The whole panel.
    pub async fn view(&self) -> Result<PatchesView, ServiceError> {
        build_view(self).await
    }

    /// The whole panel as the JSON of `GET /api/v1/patches`, built again only when something
    /// it shows may have changed.
    pub async fn view_json(&self) -> Result<Bytes, ServiceError> {
        if let Some(json) = self.cache.current(self.events.generation()) {
            return Ok(json);
        }
        let _building = self.cache.building.lock().await;
        // Read before building: a change during the build leaves a view that is already old.
        let generation = self.events.generation();
        if let Some(json) = self.cache.current(generation) {
            return Ok(json);
        }
        let view = build_view(self).await?;
        let json = serde_json::to_vec(&view).map_err(|err| {
            ServiceError::Corrupt(format!("cannot write the panel as JSON: {err}"))
        })?;
        let json = Bytes::from(json);
        self.cache.keep(generation, json.clone());
        Ok(json)
    }

    /// One page (from 1) of the installs and rollbacks, newest first
    /// (`GET /api/v1/patches/history`).
    pub async fn history(&self, page: u64, per_page: u64) -> Result<HistoryPage, ServiceError> {
        let (jobs, total) = self.jobs.history(page, per_page).await?;
        Ok(HistoryPage {
            entries: jobs.into_iter().map(history_entry).collect(),
            page,
            per_page,
            total,
        })
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
    let (history, history_total) = state.jobs.history(1, HISTORY_PER_PAGE).await?;
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
        history: history.into_iter().map(history_entry).collect(),
        history_total,
        storage: state.disk.status().await,
        available,
        tmc: state.tmc.status().await,
        notifications_enabled: settings.notifications_enabled,
        newer_patch,
    })
}

fn history_entry(job: JobInfo) -> HistoryEntry {
    HistoryEntry {
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
        backup: job.backup,
    }
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
        server_migrations: p.server_migrations.clone(),
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
        // Known once the package's executable can be asked, in the repository.
        server_migrations: Vec::new(),
    })
}
