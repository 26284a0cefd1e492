//! Restoring a backup from Admin > Backups (admins): the question asked first (what returns,
//! what is lost and what is kept, the switch of level, the restart), "Restore now", and the
//! restore job followed to its end through the server's restart.

use leptos::prelude::*;
use shared::backup::BackupInfo;
use shared::panel::{JobInfo, JobKind};
use web_core::paths::BACKUPS;
use web_core::restore::{restore_button_id, restore_effects, restore_title};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::install::JobProgress;
use crate::components::local_time::local_time;
use crate::components::shell_data::use_shell;
use crate::load::{Act, Loaded, action, run};
use crate::router::{History, navigate};

use crate::focus::focus;

/// The backup asked about (awaiting confirmation), the request that starts its restore, and
/// the restore job started: kept by the page, so that the table can be drawn again with fresh
/// data without losing them.
#[derive(Clone, Copy)]
pub struct Restoring {
    /// The backup whose restore awaits confirmation.
    pub asked: RwSignal<Option<BackupInfo>>,
    /// "Restore now": why the restore did not start, if it did not.
    pub start: Act<String, Result<(), ApiError>>,
    /// The restore job this page started.
    pub job: RwSignal<Option<JobInfo>>,
}

impl Default for Restoring {
    /// Nothing asked, nothing started.
    fn default() -> Self {
        let asked = RwSignal::new(None::<BackupInfo>);
        let job = RwSignal::new(None::<JobInfo>);
        let start = action(move |id: &String| {
            let id = id.clone();
            run(async move {
                let started = api::restore_backup(&id).await?;
                // The address keeps the job, so that a reload (e.g. to load the client of the
                // level the server switched to) follows it on.
                navigate(&format!("{BACKUPS}?job={}", started.id), History::Replace);
                asked.try_set(None);
                job.try_set(Some(started));
                Ok::<(), ApiError>(())
            })
        });
        Self { asked, start, job }
    }
}

impl Restoring {
    /// Asks whether to restore `info`.
    pub fn ask(self, info: BackupInfo) {
        self.start.clear();
        self.asked.set(Some(info));
    }

    /// Restores nothing: the question goes, and the focus back to its button.
    pub fn keep(self) {
        if let Some(info) = self.asked.get_untracked() {
            focus(&restore_button_id(&info.id));
        }
        self.asked.set(None);
        self.start.clear();
    }

    /// The question goes without a word (another question takes its place).
    pub fn dismiss(self) {
        self.asked.set(None);
        self.start.clear();
    }
}

/// The question asked before a backup is restored: what happens, "Restore now" and "Cancel".
#[component]
pub fn RestoreConfirm(restoring: Restoring) -> impl IntoView {
    let Restoring { asked, start, .. } = restoring;
    let pending = start.pending();
    let server = use_shell().server;
    let cancel = NodeRef::<leptos::html::Button>::new();
    // The question takes the focus as it appears, on its harmless answer: a restore loses data.
    Effect::new(move || {
        if let Some(button) = cancel.get() {
            let _ = button.focus();
        }
    });
    move || {
        asked.get().map(|info| {
            let id = info.id.clone();
            let taken = local_time(info.taken_at);
            // Drawn again when the installed level is known or changes, without the rest of
            // the question (whose focus stays where it is).
            let effects = move || {
                let installed = server
                    .get()
                    .and_then(Result::ok)
                    .map(|server| server.patch_level);
                restore_effects(&info, installed, &taken)
                    .into_iter()
                    .map(|effect| {
                        view! {
                            <li data-effect=effect.key>
                                {(!effect.head.is_empty())
                                    .then(|| view! { <strong>{effect.head}</strong> })}
                                {(!effect.more.is_empty()).then(|| format!(" {}", effect.more))}
                            </li>
                        }
                    })
                    .collect_view()
            };
            view! {
                <div
                    id="restore-dialog"
                    class="notice confirm"
                    role="alertdialog"
                    aria-labelledby="restore-title"
                    aria-describedby="restore-effects"
                    data-backup=id.clone()
                    on:keydown=move |event| {
                        if event.key() == "Escape" && !pending.get_untracked() {
                            restoring.keep();
                        }
                    }
                >
                    <p><strong id="restore-title">{restore_title(&id)}</strong></p>
                    <ul id="restore-effects" class="effects">{effects}</ul>
                    <div class="actions">
                        <button
                            id="restore-confirm"
                            type="button"
                            class="button button-danger"
                            disabled=move || pending.get()
                            aria-busy=move || pending.get().to_string()
                            on:click={
                                let id = id.clone();
                                move |_| start.dispatch(id.clone())
                            }
                        >
                            {move || if pending.get() { "Starting…" } else { "Restore now" }}
                        </button>
                        <button
                            id="restore-cancel"
                            type="button"
                            class="button button-secondary"
                            node_ref=cancel
                            disabled=move || pending.get()
                            on:click=move |_| restoring.keep()
                        >
                            "Cancel"
                        </button>
                    </div>
                    {move || start.value().get().and_then(Result::err).map(|error| view! {
                        <div id="restore-error"><ErrorDisplay error/></div>
                    })}
                </div>
            }
        })
    }
}

/// The restore job followed: the one this page started, or the one its address names (after a
/// reload); its stages live, then how it ended.
#[component]
pub fn RestoreProgress(
    restoring: Restoring,
    /// The job the address names (`?job=`), if any.
    followed: Loaded<Option<JobInfo>>,
) -> impl IntoView {
    let job = Memo::new(move |_| {
        restoring.job.get().or_else(|| {
            followed
                .get()
                .and_then(Result::ok)
                .flatten()
                .filter(|job| job.kind == JobKind::Restore)
        })
    });
    // Drawn again only for another job: JobProgress follows the job's news itself.
    let id = Memo::new(move |_| job.with(|job| job.as_ref().map(|job| job.id)));
    let heading = NodeRef::<leptos::html::H2>::new();
    // The question went away: the focus goes to what follows the restore.
    Effect::new(move || {
        if let Some(heading) = heading.get() {
            let _ = heading.focus();
        }
    });
    move || {
        id.get()?;
        let started = job.get_untracked()?;
        let job_id = started.id.to_string();
        let title = match &started.backup {
            Some(backup) => format!("Restore of the backup {backup}"),
            None => "Restore of a backup".to_owned(),
        };
        Some(view! {
            <div id="restore-progress" data-job=job_id>
                <h2 id="restore-heading" tabindex="-1" node_ref=heading>{title}</h2>
                <JobProgress started what=String::new()/>
            </div>
        })
    }
}
