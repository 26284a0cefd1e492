//! The Update wizard's last steps: confirm an install (`/admin/patches/install/{id}`) or a
//! rollback (`/admin/patches/rollback`), saying what will happen, then follow the job's stages
//! live, through the server's restart or reboot.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use shared::PatchId;
use shared::effects::Restart;
use shared::panel::{AvailablePatch, JobInfo, JobKind, JobState, PatchState, stage_in_words};

use crate::api::{self, ApiError};
use crate::components::error::{ErrorDisplay, ErrorList};
use crate::components::loading::Loading;
use crate::components::set_page_title;
use crate::components::shell::use_shell;
use crate::live::use_live;
use crate::navigation::{HOME, ROLLBACK, install_patch, replace_history};

/// The job a confirmation page follows, from its `?job=` (kept in the address so that a reload,
/// e.g. to load the server's new client, comes back to it).
/// A job that cannot be fetched (e.g. the server is restarting right then) is simply not shown:
/// the page's own job, once started, is followed live anyway.
fn followed_job() -> LocalResource<Option<JobInfo>> {
    let query = use_query_map();
    let id = move || query.read().get("job").and_then(|j| j.parse::<i64>().ok());
    LocalResource::new(move || {
        let id = id();
        async move {
            match id {
                Some(id) => api::get_job(id).await.ok(),
                None => None,
            }
        }
    })
}

/// Confirm and follow the install of one patch.
#[component]
pub fn InstallPage() -> impl IntoView {
    set_page_title("Install a patch");
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let patch = LocalResource::new(move || {
        let id = id();
        async move {
            let id: PatchId = id.parse().map_err(|err| ApiError {
                status: None,
                code: "invalid_patch_id".into(),
                message: format!("`{id}` is not a patch id like 6.4.0.3 ({err})."),
            })?;
            api::get_patch(id).await
        }
    });
    let job = RwSignal::new(None::<JobInfo>);
    let followed = followed_job();
    view! {
        <div id="install-page" class="page">
            <Breadcrumb here="Install"/>
            <Transition fallback=|| view! { <div class="card"><Loading what="the patch"/></div> }>
                <ErrorBoundary fallback=|errors| view! { <div class="card"><ErrorList errors/></div> }>
                    {move || Suspend::new(async move {
                        let found = patch.await?;
                        let resumed = followed.await;
                        Ok::<_, ApiError>(move || match job.get().or_else(|| resumed.clone()) {
                            None => view! { <ConfirmInstall found=found.clone() job/> }.into_any(),
                            Some(started) => view! {
                                <h1>{format!("Installing {}", found.patch.display_name)}</h1>
                                <JobProgress started what=found.patch.display_name.clone()/>
                            }
                            .into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

#[component]
fn Breadcrumb(here: &'static str) -> impl IntoView {
    view! {
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <A href=HOME>"General"</A>
            <span aria-hidden="true">" › "</span>
            <span aria-current="page">{here}</span>
        </nav>
    }
}

/// What installing `found` will do, and the Install button.
#[component]
fn ConfirmInstall(found: AvailablePatch, job: RwSignal<Option<JobInfo>>) -> impl IntoView {
    let p = found.patch.clone();
    let id = p.id;
    let blocker = match &found.state {
        PatchState::Installed => Some("This patch is installed already.".to_owned()),
        PatchState::NotApplicable { .. } => Some(format!(
            "This patch cannot be installed on this server: {}.",
            crate::components::patch_details::state_in_words(&found.state)
        )),
        _ if !found.in_repository => Some(
            "The patch is not downloaded yet. Download it from the SMS Patches panel or the \
             Update wizard first."
                .to_owned(),
        ),
        _ => None,
    };
    // The HA rule, shown before anyone clicks Install.
    let cluster = use_shell().cluster;
    let changes_database = p.database_changes;
    let ha_blocked = move || {
        let enabled = cluster
            .get()
            .and_then(Result::ok)
            .is_some_and(|info| info.configured && info.enabled);
        shared::cluster::ha_refuses(changes_database, enabled)
    };
    let navigate = use_navigate();
    let install = Action::new_unsync(move |_: &()| {
        let navigate = navigate.clone();
        async move {
            let started = api::install_patch(id).await?;
            navigate(
                &format!("{}?job={}", install_patch(id), started.id),
                replace_history(),
            );
            job.set(Some(started));
            Ok::<(), ApiError>(())
        }
    });
    let pending = install.pending();
    let error = move || install.value().get().and_then(Result::err);
    let restart = match p.restart {
        Restart::Application => view! {
            <li data-effect="restart">
                <strong>"The SMS server application restarts."</strong>
                " It is unavailable for a few seconds."
            </li>
        }
        .into_any(),
        Restart::Reboot => view! {
            <li data-effect="reboot">
                <strong>"The SMS server reboots."</strong>
                " It is unavailable for several minutes."
            </li>
        }
        .into_any(),
    };
    let client = p.updates.updates_client().then(|| {
        let version = p
            .client_version
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        view! {
            <li data-effect="client-upgrade">
                <strong>{format!("Every SMS client must upgrade to version{version}.")}</strong>
                " The patch updates the client: each client is asked to upgrade when it reconnects."
            </li>
        }
    });
    let database = p.database_changes.then(|| {
        view! {
            <li data-effect="database">
                "The patch changes the database. Back up the SMS database before you install."
            </li>
        }
    });
    let no_rollback = (!p.rollback).then(|| {
        view! {
            <li data-effect="no-rollback">
                <strong>"This patch cannot be rolled back."</strong>
            </li>
        }
    });
    view! {
        <h1 id="install-title">{format!("Install {}", p.display_name)}</h1>
        <section class="card" aria-labelledby="effects-heading">
            <h2 id="effects-heading">"What will happen"</h2>
            <ul id="install-effects" class="effects">
                {restart}
                <li data-effect="clients">
                    <strong>"All client connections are stopped."</strong>
                    " Every open SMS client, this one included, is disconnected and reconnects by itself afterwards."
                </li>
                {client}
                <li data-effect="devices">
                    "Managed devices keep running and inspecting traffic the whole time."
                </li>
                {database}
                {no_rollback}
            </ul>
            {blocker.clone().map(|why| view! { <p id="install-blocked" class="notice" role="status">{why}</p> })}
            {move || ha_blocked().then(|| view! {
                <div id="install-ha-blocked" class="notice notice-warning" role="alert">
                    <p>
                        <strong>"This patch changes the database, so it cannot be installed while HA clustering is enabled."</strong>
                    </p>
                    <p>{shared::cluster::HA_PROCEDURE}</p>
                    <p><A href="/admin/cluster" attr:id="install-ha-cluster-link">"Go to the HA cluster panel"</A></p>
                </div>
            })}
            <div class="actions">
                <button
                    id="install-confirm"
                    type="button"
                    class="button button-primary"
                    disabled=move || pending.get() || blocker.is_some() || ha_blocked()
                    aria-busy=move || pending.get().to_string()
                    on:click=move |_| { install.dispatch(()); }
                >
                    {move || if pending.get() { "Starting…" } else { "Install" }}
                </button>
                <A href=HOME attr:class="button button-secondary" attr:id="install-cancel">"Cancel"</A>
            </div>
            {move || error().map(|error| view! { <ErrorDisplay error/> })}
        </section>
    }
}

/// Confirm and follow a rollback to level 0.
#[component]
pub fn RollbackPage() -> impl IntoView {
    set_page_title("Roll back");
    let patches = use_shell().patches;
    let job = RwSignal::new(None::<JobInfo>);
    let followed = followed_job();
    view! {
        <div id="rollback-page" class="page">
            <Breadcrumb here="Roll back"/>
            <Transition fallback=|| view! { <div class="card"><Loading what="the installed patch"/></div> }>
                <ErrorBoundary fallback=|errors| view! { <div class="card"><ErrorList errors/></div> }>
                    {move || Suspend::new(async move {
                        let resumed = followed.await;
                        let view = patches.await?;
                        Ok::<_, ApiError>(move || match job.get().or_else(|| resumed.clone()) {
                            None => view! { <ConfirmRollback view=view.clone() job/> }.into_any(),
                            Some(started) => view! {
                                <h1>"Rolling back"</h1>
                                <JobProgress started what=String::new()/>
                            }
                            .into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

#[component]
fn ConfirmRollback(
    view: shared::panel::PatchesView,
    job: RwSignal<Option<JobInfo>>,
) -> impl IntoView {
    let installed = view.installed.clone();
    let level = installed.patch_level;
    let installed_patch = view
        .available
        .iter()
        .find(|a| a.state == PatchState::Installed)
        .map(|a| a.patch.clone());
    let blocker = if level.is_none() {
        Some("No patch is installed, so there is nothing to roll back.".to_owned())
    } else if installed_patch.as_ref().is_some_and(|p| !p.rollback) {
        Some(format!(
            "SMS {} {} cannot be rolled back (its vendor says so). To leave it, install a newer patch when one is released.",
            installed.product_version, level
        ))
    } else {
        None
    };
    let navigate = use_navigate();
    let rollback = Action::new_unsync(move |_: &()| {
        let navigate = navigate.clone();
        async move {
            let started = api::rollback().await?;
            navigate(&format!("{ROLLBACK}?job={}", started.id), replace_history());
            job.set(Some(started));
            Ok::<(), ApiError>(())
        }
    });
    let pending = rollback.pending();
    let error = move || rollback.value().get().and_then(Result::err);
    let client = installed_patch
        .as_ref()
        .filter(|p| p.updates.updates_client())
        .map(|_| {
            view! {
                <li data-effect="client-switch">
                    "The installed patch updated the SMS client: every client is asked to switch back to the base release's client when it reconnects."
                </li>
            }
        });
    view! {
        <h1 id="rollback-title">{format!("Roll back SMS {} {}", installed.product_version, level)}</h1>
        <section class="card" aria-labelledby="effects-heading">
            <h2 id="effects-heading">"What will happen"</h2>
            <ul id="rollback-effects" class="effects">
                <li data-effect="level-0">
                    <strong>{format!("The whole patch is removed: the server goes back to the SMS {} base release, with no patch.", installed.product_version)}</strong>
                    " A rollback always returns to level 0, never to an earlier patch."
                </li>
                <li data-effect="restart">
                    <strong>"The SMS server application restarts."</strong>
                    " It is unavailable for a few seconds."
                </li>
                <li data-effect="clients">
                    <strong>"All client connections are stopped."</strong>
                    " Every open SMS client, this one included, is disconnected and reconnects by itself afterwards."
                </li>
                {client}
                <li data-effect="devices">
                    "Managed devices keep running and inspecting traffic the whole time."
                </li>
            </ul>
            {blocker.clone().map(|why| view! { <p id="rollback-blocked" class="notice" role="status">{why}</p> })}
            <div class="actions">
                <button
                    id="rollback-confirm"
                    type="button"
                    class="button button-primary"
                    disabled=move || pending.get() || blocker.is_some()
                    aria-busy=move || pending.get().to_string()
                    on:click=move |_| { rollback.dispatch(()); }
                >
                    {move || if pending.get() { "Starting…" } else { "Roll back" }}
                </button>
                <A href=HOME attr:class="button button-secondary" attr:id="rollback-cancel">"Cancel"</A>
            </div>
            {move || error().map(|error| view! { <ErrorDisplay error/> })}
        </section>
    }
}

/// How far a job got: ended jobs first, then by stages ended and started.
fn progress(job: &JobInfo) -> (bool, usize, usize) {
    (
        job.state.is_final(),
        job.stages.iter().filter(|s| s.ended_at.is_some()).count(),
        job.stages.iter().filter(|s| s.started_at.is_some()).count(),
    )
}

/// The stages of a running install or rollback, live: from the event stream while it is open,
/// and fetched again whenever the page reconnects after the restart.
#[component]
fn JobProgress(
    /// The job as the server answered when it started.
    started: JobInfo,
    /// The patch's name (installs), for the outcome's words.
    what: String,
) -> impl IntoView {
    let live = use_live();
    let id = started.id;
    let fetched = LocalResource::new(move || {
        live.patches_changed.track();
        async move { api::get_job(id).await.ok() }
    });
    let job = Memo::new(move |_| {
        let mut best = started.clone();
        let candidates = [
            live.jobs.with(|jobs| jobs.get(&id).cloned()),
            fetched.get().flatten(),
        ];
        for candidate in candidates.into_iter().flatten() {
            if progress(&candidate) > progress(&best) {
                best = candidate;
            }
        }
        best
    });
    let outcome = move || {
        let job = job.get();
        let (class, words) = match (job.kind, job.state) {
            (_, JobState::Running) => (
                "job-outcome-running",
                match job.kind {
                    JobKind::Rollback => "Rolling back…".to_owned(),
                    _ => format!("Installing {what}…"),
                },
            ),
            (JobKind::Rollback, JobState::Succeeded) => (
                "job-outcome-ok",
                "Rolled back: the server runs the base release (no patch).".to_owned(),
            ),
            (_, JobState::Succeeded) => (
                "job-outcome-ok",
                format!("Installed: {what} runs on this server."),
            ),
            (kind, _) => (
                "job-outcome-failed",
                format!(
                    "The {} failed: {}",
                    kind.as_str(),
                    job.error.map(|e| e.message).unwrap_or_default()
                ),
            ),
        };
        view! {
            <p id="job-status" class=class data-state=job.state.as_str() role="status" aria-live="polite">
                {words}
            </p>
        }
    };
    view! {
        <section class="card" aria-labelledby="stages-heading">
            <h2 id="stages-heading">"Progress"</h2>
            {outcome}
            <ol id="job-stages" class="job-stages">
                {move || job.get().stages.into_iter().map(|stage| {
                    let status = match (&stage.started_at, &stage.ended_at, stage.outcome.as_deref()) {
                        (_, Some(_), Some("ok")) => "ok",
                        (_, Some(_), _) => "failed",
                        (Some(_), None, _) => "running",
                        (None, None, _) => "pending",
                    };
                    let mark = match status {
                        "ok" => "✓",
                        "failed" => "✗",
                        "running" => "…",
                        _ => "·",
                    };
                    view! {
                        <li data-stage=stage.name.clone() data-status=status>
                            <span class="mark" aria-hidden="true">{mark}</span>
                            <span>{stage_in_words(&stage.name)}</span>
                            <span class="visually-hidden">{format!(" ({status})")}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || job.get().state.is_final().then(|| view! {
                <A href=HOME attr:id="job-done-link" attr:class="button">"Back to General"</A>
            })}
        </section>
    }
}
