//! The SMS Patches panel: what is installed, the TMC status with Check now, the available
//! patches with their states (live), and the history of installs and rollbacks.

use leptos::prelude::*;
use shared::PatchId;
use shared::panel::{
    AvailablePatch, HistoryEntry, JobKind, JobState, PatchState, PatchesView, TmcConnection,
    TmcStatus,
};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::patch_details::{size_in_mb, state_in_words};
use crate::live::use_live;
use crate::navigation::{ROLLBACK, UPDATE_PATCH, install_patch, patch_details};
use leptos_router::components::A;

/// The panel's content once the view is loaded.
#[component]
pub fn PatchesPanel(
    /// The panel's data (fetched again whenever the server says it changed).
    view: PatchesView,
    /// Whether the user may act (admins).
    is_admin: bool,
) -> impl IntoView {
    let installed = view.installed.clone();
    let installed_on = installed
        .installed_at
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    let level = if installed.patch_level.is_none() {
        "No patch installed (base version)".to_owned()
    } else {
        format!("{} installed", installed.patch_level)
    };
    view! {
        <div class="field">
            <span class="field-label">"Installed"</span>
            <div class="field-value" id="installed-patch">
                <strong>{format!("SMS {} ", installed.product_version)}</strong>
                {level}
                <span class="muted">
                    {format!(" · build {} · installed on ", installed.build)}
                    <time datetime=installed.installed_at.to_rfc3339()>{installed_on}</time>
                    {format!(" by {}", installed.installed_by)}
                </span>
                {(is_admin && !installed.patch_level.is_none()).then(|| view! {
                    " "
                    <A href=ROLLBACK attr:id="rollback-link" attr:class="button">"Roll back…"</A>
                })}
            </div>
        </div>
        <TmcField status=view.tmc.clone() is_admin/>
        {is_admin.then(|| view! {
            <div class="field">
                <span class="field-label">"Update"</span>
                <div class="field-value">
                    <A href=UPDATE_PATCH attr:id="update-link" attr:class="button button-primary">"Update…"</A>
                    <span class="muted">" Download a patch from the TMC or import a patch file."</span>
                </div>
            </div>
        })}
        <AvailableTable patches=view.available.clone() is_admin/>
        <History entries=view.history.clone()/>
    }
}

/// "Connected · last check …" or "Unreachable: … · next retry …", with Check now.
#[component]
fn TmcField(status: TmcStatus, is_admin: bool) -> impl IntoView {
    let live = use_live();
    // The live status wins over the one the view was loaded with.
    let status = Signal::derive(move || live.tmc.get().unwrap_or_else(|| status.clone()));
    let check = Action::new_unsync(move |_: &()| async move {
        let status = api::check_tmc().await?;
        live.tmc.set(Some(status));
        // The event stream says so too, unless it is reconnecting right now: fetch anyway.
        live.bump();
        Ok::<(), ApiError>(())
    });
    let pending = check.pending();
    let error = move || check.value().get().and_then(Result::err);
    view! {
        <div class="field">
            <span class="field-label" id="tmc-label">"TMC"</span>
            <div class="field-value">
                <span
                    id="tmc-status"
                    class=move || format!("status tmc-{}", connection_class(status.get().connection))
                    data-connection=move || connection_class(status.get().connection)
                >
                    {move || tmc_in_words(&status.get())}
                </span>
                {(is_admin).then(|| view! {
                    <button
                        id="tmc-check"
                        type="button"
                        class="button"
                        aria-describedby="tmc-label"
                        disabled=move || pending.get() || status.get().connection == TmcConnection::NotConfigured
                        aria-busy=move || (pending.get() || status.get().checking).to_string()
                        on:click=move |_| { check.dispatch(()); }
                    >
                        {move || if pending.get() || status.get().checking { "Checking…" } else { "Check now" }}
                    </button>
                })}
            </div>
            {move || error().map(|error| view! { <ErrorDisplay error/> })}
        </div>
    }
}

fn connection_class(connection: TmcConnection) -> &'static str {
    match connection {
        TmcConnection::NotConfigured => "not_configured",
        TmcConnection::Pending => "pending",
        TmcConnection::Connected => "connected",
        TmcConnection::Unreachable => "unreachable",
        TmcConnection::Invalid => "invalid",
    }
}

fn tmc_in_words(status: &TmcStatus) -> String {
    let time = |t: &chrono::DateTime<chrono::Utc>| t.format("%H:%M:%S UTC").to_string();
    let last = status
        .last_check
        .as_ref()
        .map(|t| format!(" · last check {}", time(t)))
        .unwrap_or_default();
    let next = status
        .next_check
        .as_ref()
        .map(|t| format!(" · next try {}", time(t)))
        .unwrap_or_default();
    match status.connection {
        TmcConnection::NotConfigured => {
            "Not configured: patches come only from imported files".to_owned()
        }
        TmcConnection::Pending => "Connecting…".to_owned(),
        TmcConnection::Connected => format!("Connected{last}"),
        TmcConnection::Unreachable => format!(
            "Unreachable: {}{last}{next}",
            status.message.clone().unwrap_or_default()
        ),
        TmcConnection::Invalid => format!(
            "Refused the TMC's answer: {}{last}{next}",
            status.message.clone().unwrap_or_default()
        ),
    }
}

/// The available patches, newest first.
#[component]
fn AvailableTable(patches: Vec<AvailablePatch>, is_admin: bool) -> impl IntoView {
    if patches.is_empty() {
        return view! {
            <p id="no-patches" class="muted">
                "No patches are known yet: the TMC has none for this server, or it was not \
                 reached yet. Imported patch files show here too."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="table-scroll">
            <table id="patches-table" class="table">
                <caption class="visually-hidden">"Available patches, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Patch"</th>
                        <th scope="col">"Released"</th>
                        <th scope="col">"Size"</th>
                        <th scope="col">"Updates client"</th>
                        <th scope="col">"Reboot required"</th>
                        <th scope="col">"Database changes"</th>
                        <th scope="col">"State"</th>
                    </tr>
                </thead>
                <tbody>
                    {patches
                        .into_iter()
                        .map(|patch| view! { <PatchRow patch is_admin/> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn PatchRow(patch: AvailablePatch, is_admin: bool) -> impl IntoView {
    let live = use_live();
    let id = patch.patch.id;
    let facts = patch.patch.clone();
    let state = patch.state.clone();
    // Live download progress overrides the state the view was loaded with; when the job ends
    // the view is fetched again.
    let live_state = Signal::derive(move || {
        let jobs = live.jobs.get();
        let running = jobs
            .values()
            .filter(|j| {
                j.patch == Some(id) && j.kind == JobKind::Download && j.state == JobState::Running
            })
            .max_by_key(|j| j.id);
        match (running, &state) {
            (
                Some(job),
                PatchState::Available
                | PatchState::Superseded { .. }
                | PatchState::Downloading { .. },
            ) => PatchState::Downloading {
                job: job.id,
                percent: job.percent(),
            },
            _ => state.clone(),
        }
    });
    let download = Action::new_unsync(move |id: &PatchId| {
        let id = *id;
        async move {
            let job = api::download_patch(id).await?;
            // The event stream may already have told more (even the end): keep its news.
            live.jobs.update(|jobs| {
                jobs.entry(job.id).or_insert(job);
            });
            Ok::<(), ApiError>(())
        }
    });
    let cancel = Action::new_unsync(move |job: &i64| {
        let job = *job;
        async move { api::cancel_job(job).await.map(|_| ()) }
    });
    let error = move || {
        download
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| cancel.value().get().and_then(Result::err))
    };
    let failed = move || {
        live.jobs
            .get()
            .values()
            .filter(|j| j.patch == Some(id) && j.state == JobState::Failed)
            .max_by_key(|j| j.id)
            .and_then(|j| j.error.clone())
    };
    let released = facts.released.format("%Y-%m-%d").to_string();
    let name = facts.display_name.clone();
    view! {
        <tr data-patch=id.to_string() class:recommended=patch.recommended>
            <th scope="row">
                <A href=patch_details(id) attr:class="patch-name">{name.clone()}</A>
                {patch.recommended.then(|| view! { <span class="badge badge-recommended">"Recommended"</span> })}
                <div class="muted small">{facts.title.clone()}</div>
            </th>
            <td><time datetime=released.clone()>{released.clone()}</time></td>
            <td title=format!("{} bytes", facts.size)>{size_in_mb(facts.size)}</td>
            <td class="updates-client">{yes_no(facts.updates.updates_client())}</td>
            <td class="reboot-required">{yes_no(facts.restart == shared::effects::Restart::Reboot)}</td>
            <td class="database-changes">{yes_no(facts.database_changes)}</td>
            <td class="patch-state">
                {move || state_view(&live_state.get())}
                {move || failed().map(|e| view! {
                    <div class="download-error small" role="alert">{e.message}</div>
                })}
                {move || error().map(|error| view! { <ErrorDisplay error/> })}
            {is_admin.then(|| view! {
                <div class="actions">
                    {move || match live_state.get() {
                        PatchState::Available | PatchState::Superseded { .. } if !patch.in_repository => view! {
                            <button
                                type="button"
                                class="button download"
                                disabled=move || download.pending().get()
                                on:click=move |_| { download.dispatch(id); }
                                aria-label=format!("Download {}", facts.display_name)
                            >
                                "Download"
                            </button>
                        }.into_any(),
                        PatchState::Downloaded | PatchState::Superseded { .. } if patch.in_repository => view! {
                            <A
                                href=install_patch(id)
                                attr:class="button button-primary install"
                                attr:aria-label=format!("Install {}", facts.display_name)
                            >
                                "Install…"
                            </A>
                        }.into_any(),
                        PatchState::Downloading { job, .. } => view! {
                            <button
                                type="button"
                                class="button cancel"
                                on:click=move |_| { cancel.dispatch(job); }
                                aria-label=format!("Cancel the download of {}", facts.display_name)
                            >
                                "Cancel"
                            </button>
                        }.into_any(),
                        _ => ().into_any(),
                    }}
                </div>
            })}
            </td>
        </tr>
    }
}

fn state_view(state: &PatchState) -> AnyView {
    let words = state_in_words(state);
    match state {
        PatchState::Downloading { percent, .. } => {
            let percent = *percent;
            view! {
                <span class="state">{words}</span>
                <progress class="download-progress" max="100" value=percent.to_string()
                    aria-label="Download progress">{format!("{percent}%")}</progress>
            }
            .into_any()
        }
        PatchState::NotApplicable { .. } => {
            view! { <span class="state muted">{words}</span> }.into_any()
        }
        _ => view! { <span class="state">{words}</span> }.into_any(),
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "Yes" } else { "No" }
}

/// Installs and rollbacks, newest first: when, what, who, from and to which level, how it
/// ended and how long it took.
#[component]
fn History(entries: Vec<HistoryEntry>) -> impl IntoView {
    view! {
        <div class="field">
            <span class="field-label">"History"</span>
            <div class="field-value" id="patch-history">
                {if entries.is_empty() {
                    view! { <span class="muted">"No installs or rollbacks yet."</span> }.into_any()
                } else {
                    view! {
                        <div class="table-scroll">
                            <table class="table history-table">
                                <caption class="visually-hidden">"Installs and rollbacks, newest first"</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Started"</th>
                                        <th scope="col">"Action"</th>
                                        <th scope="col">"By"</th>
                                        <th scope="col">"Levels"</th>
                                        <th scope="col">"Outcome"</th>
                                        <th scope="col">"Took"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {entries.into_iter().map(|e| view! { <HistoryRow entry=e/> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </div>
        </div>
    }
}

#[component]
fn HistoryRow(entry: HistoryEntry) -> impl IntoView {
    let level = |n: u32| match n {
        0 => "no patch".to_owned(),
        n => format!("Patch {n}"),
    };
    let action = match (entry.kind, entry.patch) {
        (JobKind::Rollback, _) => "Rollback".to_owned(),
        (_, Some(patch)) => format!("Install Patch {}", patch.patch()),
        (kind, None) => kind.as_str().to_owned(),
    };
    let outcome = match entry.state {
        JobState::Running => "Running".to_owned(),
        JobState::Succeeded => "Succeeded".to_owned(),
        JobState::Cancelled => "Cancelled".to_owned(),
        JobState::Failed => format!("Failed: {}", entry.message.clone().unwrap_or_default()),
    };
    let took = entry
        .finished_at
        .map(|end| {
            let ms = (end - entry.started_at).num_milliseconds().max(0);
            format!("{:.1} s", ms as f64 / 1000.0)
        })
        .unwrap_or_default();
    let started = entry.started_at.format("%Y-%m-%d %H:%M UTC").to_string();
    view! {
        <tr data-job=entry.job.to_string() data-kind=entry.kind.as_str() data-state=entry.state.as_str()>
            <td><time datetime=entry.started_at.to_rfc3339()>{started}</time></td>
            <td class="history-action">{action}</td>
            <td class="history-by">{entry.by.clone()}</td>
            <td class="history-levels">{format!("{} → {}", level(entry.from_level), level(entry.to_level))}</td>
            <td class="history-message">{outcome}</td>
            <td class="history-took">{took}</td>
        </tr>
    }
}
