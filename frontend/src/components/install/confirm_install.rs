//! The install confirmation: what installing a patch will do, why the server would refuse it
//! (the shared install rule), and the choice: Install now, or in the next maintenance window.

use leptos::prelude::*;
use shared::api::ServerInfo;
use shared::effects::Restart;
use shared::maintenance::When;
use shared::panel::{AvailablePatch, JobInfo};
use shared::{InstallCandidate, InstallRefusal};
use web_core::paths::{HOME, install_patch};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::install::schedule::{NextWindowButton, ScheduleAction, ScheduleRefusal};
use crate::components::shell_data::use_shell;
use crate::load::{action, run};
use crate::router::{History, navigate};

/// Why the server would refuse to install `found` on `installed`: the rule it enforces
/// ([`shared::install_refusal`]), so the page says the same.
fn refusal(
    installed: &ServerInfo,
    found: &AvailablePatch,
    clustering_enabled: bool,
) -> Option<InstallRefusal> {
    let candidate = InstallCandidate {
        id: found.patch.id,
        display_name: &found.patch.display_name,
        in_repository: found.in_repository,
        // The server describes only a patch in its repository or offered by the TMC: one that
        // is not in the repository is offered.
        offered: !found.in_repository,
        database_changes: found.patch.changes_database(),
    };
    shared::install_refusal(
        installed.product_version,
        installed.patch_level,
        candidate,
        clustering_enabled,
    )
}

/// What installing `found` will do, and the buttons: Install now, or in the next window.
#[component]
pub fn ConfirmInstall(
    /// The patch to install.
    found: AvailablePatch,
    /// What the server runs now.
    installed: ServerInfo,
    /// Set once the install started or was scheduled.
    job: RwSignal<Option<JobInfo>>,
) -> impl IntoView {
    let p = found.patch.clone();
    let id = p.id;
    // Without the cluster: what the patch and the installed level say.
    let blocker = refusal(&installed, &found, false).map(|why| why.message());
    // The HA rule, shown before anyone clicks Install (when nothing else refuses the patch).
    let cluster = use_shell().cluster;
    let ha_blocked = Memo::new(move |_| {
        let enabled = cluster
            .get()
            .and_then(Result::ok)
            .is_some_and(|info| info.configured && info.enabled);
        matches!(
            refusal(&installed, &found, enabled),
            Some(InstallRefusal::HaClusterEnabled { .. })
        )
    });
    let install = action(move |_: &()| {
        run(async move {
            let started = api::install_patch(id).await?;
            navigate(
                &format!("{}?job={}", install_patch(id), started.id),
                History::Replace,
            );
            job.set(Some(started));
            Ok::<(), ApiError>(())
        })
    });
    let schedule: ScheduleAction = action(move |replace: &bool| {
        let replace = *replace;
        // The last answer of Install now no longer applies.
        install.clear();
        run(async move {
            let scheduled = api::schedule_install(id, When::NextWindow, replace).await?;
            // Followed like a started install: its time, then its stages once the window opens.
            navigate(
                &format!("{}?job={}", install_patch(id), scheduled.id),
                History::Replace,
            );
            job.set(Some(scheduled));
            Ok::<(), ApiError>(())
        })
    });
    let pending = install.pending();
    let busy = Signal::derive(move || pending.get() || schedule.pending().get());
    let error = move || install.value().get().and_then(Result::err);
    let refused = blocker.is_some();
    let cannot = Signal::derive(move || busy.get() || refused || ha_blocked.get());
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
    let server_migrations = p.server_migrations.clone();
    let database = p.changes_database().then(|| {
        let schema = (!server_migrations.is_empty()).then(|| {
            format!(
                " Its server brings the server schema migrations {}.",
                server_migrations.join(", ")
            )
        });
        view! {
            <li data-effect="database">
                "The patch changes the database: the install backs it up first (Admin > Backups)."
                {schema}
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
            {move || ha_blocked.get().then(|| view! {
                <div id="install-ha-blocked" class="notice notice-warning" role="alert">
                    <p>
                        <strong>"This patch changes the database, so it cannot be installed while HA clustering is enabled."</strong>
                    </p>
                    <p>{shared::cluster::HA_PROCEDURE}</p>
                    <p><a href="/admin/cluster" id="install-ha-cluster-link">"Go to the HA cluster panel"</a></p>
                </div>
            })}
            <div class="actions">
                <button
                    id="install-confirm"
                    type="button"
                    class="button button-primary"
                    disabled=move || cannot.get()
                    aria-busy=move || pending.get().to_string()
                    on:click=move |_| {
                        schedule.clear();
                        install.dispatch(());
                    }
                >
                    {move || if pending.get() { "Starting…" } else { "Install now" }}
                </button>
                <NextWindowButton what="install" disabled=cannot schedule/>
                <a href=HOME class="button button-secondary" id="install-cancel">"Cancel"</a>
            </div>
            <ScheduleRefusal what="install" schedule/>
            {move || error().map(|error| view! { <ErrorDisplay error/> })}
        </section>
    }
}
