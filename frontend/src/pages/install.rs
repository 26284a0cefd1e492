//! The Update wizard's last steps: confirm an install (`/admin/patches/install/{id}`) or a
//! rollback (`/admin/patches/rollback`), saying what will happen, now or in the next
//! maintenance window, then follow the job (its time while it waits, then its stages live,
//! through the server's restart or reboot).

use leptos::prelude::*;
use shared::panel::{JobInfo, JobState};
use web_core::paths::HOME;

use crate::api;
use crate::components::install::job_progress::followed_job;
use crate::components::install::{ConfirmInstall, ConfirmRollback, JobProgress};
use crate::components::loaded::{Place, loaded};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::load::{both, fetch, first, resource};

/// Confirm and follow the install of one patch.
#[component]
pub fn InstallPage(
    /// The patch id as the address has it (checked here).
    id: String,
) -> impl IntoView {
    set_page_title("Install a patch");
    let shell = use_shell();
    let patch = resource(move || match api::patch_id(&id) {
        Ok(id) => api::get_patch(id),
        Err(error) => fetch(async move { Err(error) }),
    });
    // What the server runs, for the install rule; its first answer only, so that the page is
    // not drawn again while it follows the job.
    let installed = first(move || shell.server.get());
    let job = RwSignal::new(None::<JobInfo>);
    let followed = followed_job();
    view! {
        <div id="install-page" class="page">
            <Breadcrumb here="Install"/>
            {loaded(
                move || {
                    let found = both(patch.get(), followed.get())?;
                    let installed = installed.get()?;
                    Some(found.and_then(|(found, resumed)| Ok((found, resumed, installed?))))
                },
                Place::Card,
                "the patch",
                move |(found, resumed, installed)| {
                    (move || match job.get().or_else(|| resumed.clone()) {
                        None => view! {
                            <ConfirmInstall found=found.clone() installed=installed.clone() job/>
                        }
                        .into_any(),
                        Some(started) => view! {
                            <h1>{if started.state == JobState::Scheduled {
                                format!("Install {}", found.patch.display_name)
                            } else {
                                format!("Installing {}", found.patch.display_name)
                            }}</h1>
                            <JobProgress started what=found.patch.display_name.clone()/>
                        }
                        .into_any(),
                    })
                    .into_any()
                },
            )}
        </div>
    }
}

#[component]
fn Breadcrumb(here: &'static str) -> impl IntoView {
    view! {
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href=HOME>"General"</a>
            <span aria-hidden="true">" › "</span>
            <span aria-current="page">{here}</span>
        </nav>
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
            {loaded(
                move || both(followed.get(), patches.get()),
                Place::Card,
                "the installed patch",
                move |(resumed, view)| {
                    (move || match job.get().or_else(|| resumed.clone()) {
                        None => view! { <ConfirmRollback view=view.clone() job/> }.into_any(),
                        Some(started) => view! {
                            <h1>{if started.state == JobState::Scheduled {
                                "Roll back"
                            } else {
                                "Rolling back"
                            }}</h1>
                            <JobProgress started what=String::new()/>
                        }
                        .into_any(),
                    })
                    .into_any()
                },
            )}
        </div>
    }
}
