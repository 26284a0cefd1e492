//! The backups table of Admin > Backups, each row with its Download link, Restore and Delete
//! buttons (admins), and the question asked before a backup is deleted (`restore`: before one
//! is restored).

pub mod restore;

use leptos::prelude::*;
use shared::backup::{BackupInfo, BackupList};
use web_core::backups::{delete_question, deleted_words, empty_words, row_words};
use web_core::restore::{restore_button_id, restore_label};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::local_time::LocalTime;
use crate::components::table::DataTable;
use crate::focus::focus;
use crate::load::{Act, Loaded, action, run};

use self::restore::Restoring;

/// The backup asked about (awaiting confirmation) and its deletion: kept by the page, so that
/// the table can be drawn again with fresh data without losing them.
#[derive(Clone, Copy)]
pub struct Deleting {
    /// The backup whose deletion awaits confirmation.
    pub asked: RwSignal<Option<BackupInfo>>,
    /// The deletion running (or last run): the deleted backup's id, or why it was not.
    pub remove: Act<String, Result<String, ApiError>>,
}

impl Deleting {
    /// Nothing asked, nothing deleted; a deletion fetches `list` again.
    pub fn new(list: Loaded<BackupList>) -> Self {
        let asked = RwSignal::new(None::<BackupInfo>);
        let remove = action(move |id: &String| {
            let id = id.clone();
            run(async move {
                let done = api::delete_backup(&id).await;
                // Deleted or not (another admin may have been first), the list says what is
                // there now.
                list.refetch();
                done?;
                asked.try_set(None);
                // Its row and the question are gone: the focus goes to the list's heading.
                focus("backups-heading");
                Ok::<String, ApiError>(id)
            })
        });
        Self { asked, remove }
    }

    /// Asks whether to delete `info`.
    fn ask(self, info: BackupInfo) {
        self.remove.clear();
        self.asked.set(Some(info));
    }

    /// The question goes without a word (another question takes its place).
    fn dismiss(self) {
        self.asked.set(None);
        self.remove.clear();
    }

    /// Keeps the backup asked about: the question goes, and the focus back to its button.
    fn keep(self) {
        if let Some(info) = self.asked.get_untracked() {
            focus(&delete_button_id(&info.id));
        }
        self.asked.set(None);
        self.remove.clear();
    }
}

/// The id of the Delete button of backup `id`.
fn delete_button_id(id: &str) -> String {
    format!("backup-delete-{id}")
}

/// The backups, newest first; or what an empty list means.
#[component]
pub fn BackupsTable(
    backups: Vec<BackupInfo>,
    #[prop(into)] is_admin: Signal<bool>,
    deleting: Deleting,
    restoring: Restoring,
) -> impl IntoView {
    if backups.is_empty() {
        return view! {
            <p id="no-backups" class="muted">{move || empty_words(is_admin.get())}</p>
        }
        .into_any();
    }
    view! {
        <DataTable
            label="Database backups, newest first"
            id="backups-table"
            columns=&["Taken", "Why", "Level", "Size", "By"]
            actions=is_admin
        >
            {backups
                .into_iter()
                .map(|info| view! { <BackupRow info is_admin deleting restoring/> })
                .collect_view()}
        </DataTable>
    }
    .into_any()
}

#[component]
fn BackupRow(
    info: BackupInfo,
    is_admin: Signal<bool>,
    deleting: Deleting,
    restoring: Restoring,
) -> impl IntoView {
    let words = row_words(&info);
    let (download, download_label, delete_label) = (
        words.download.clone(),
        words.download_label.clone(),
        words.delete_label.clone(),
    );
    let button_id = delete_button_id(&info.id);
    let (restore_id, restore_name) = (restore_button_id(&info.id), restore_label(&info.id));
    let asked = info.clone();
    let actions = move || {
        let (asked, to_restore) = (asked.clone(), asked.clone());
        is_admin.get().then(|| {
            view! {
                <td>
                    <div class="actions backup-row-actions">
                        <a
                            class="button backup-download"
                            href=download.clone()
                            download=""
                            aria-label=download_label.clone()
                        >
                            "Download"
                        </a>
                        <button
                            type="button"
                            id=restore_id.clone()
                            class="button button-secondary backup-restore"
                            aria-label=restore_name.clone()
                            on:click=move |_| {
                                deleting.dismiss();
                                restoring.ask(to_restore.clone());
                            }
                        >
                            "Restore…"
                        </button>
                        <button
                            type="button"
                            id=button_id.clone()
                            class="button button-secondary backup-delete"
                            aria-label=delete_label.clone()
                            on:click=move |_| {
                                restoring.dismiss();
                                deleting.ask(asked.clone());
                            }
                        >
                            "Delete…"
                        </button>
                    </div>
                </td>
            }
        })
    };
    view! {
        <tr data-backup=info.id.clone() data-reason=info.reason.as_str()>
            <th scope="row" class="backup-taken">
                <LocalTime at=info.taken_at/>
                <div class="muted small">
                    <code class="backup-id" title=format!("SHA-256 {}", info.sha256)>{info.id.clone()}</code>
                </div>
            </th>
            <td class="backup-reason nowrap">{words.reason}</td>
            <td class="backup-level nowrap">
                {words.level}
                <div class="muted small">{words.database}</div>
            </td>
            <td class="backup-size nowrap" title=words.exact_size>{words.size}</td>
            <td class="backup-by">{words.who}</td>
            {actions}
        </tr>
    }
}

/// The question asked before a backup is deleted (its file goes for good), with its answer
/// and, once a backup is deleted, a word that it is.
#[component]
pub fn DeleteConfirm(deleting: Deleting) -> impl IntoView {
    let Deleting { asked, remove } = deleting;
    let pending = remove.pending();
    let yes = NodeRef::<leptos::html::Button>::new();
    // The question takes the focus as it appears, so keyboard users answer it next.
    Effect::new(move || {
        if let Some(button) = yes.get() {
            let _ = button.focus();
        }
    });
    let question = move || {
        asked.get().map(|info| {
            let (title, what) = delete_question(&info);
            let id = info.id.clone();
            view! {
                <div
                    id="backup-confirm"
                    class="notice confirm"
                    role="alertdialog"
                    aria-labelledby="backup-confirm-title"
                    aria-describedby="backup-confirm-what"
                    data-backup=info.id.clone()
                    on:keydown=move |event| {
                        if event.key() == "Escape" && !pending.get_untracked() {
                            deleting.keep();
                        }
                    }
                >
                    <p><strong id="backup-confirm-title">{title}</strong></p>
                    <p id="backup-confirm-what">{what}</p>
                    <div class="actions">
                        <button
                            id="backup-confirm-yes"
                            type="button"
                            class="button button-danger"
                            node_ref=yes
                            disabled=move || pending.get()
                            aria-busy=move || pending.get().to_string()
                            on:click=move |_| remove.dispatch(id.clone())
                        >
                            {move || if pending.get() { "Deleting…" } else { "Delete for good" }}
                        </button>
                        <button
                            id="backup-confirm-no"
                            type="button"
                            class="button button-secondary"
                            disabled=move || pending.get()
                            on:click=move |_| deleting.keep()
                        >
                            "Keep it"
                        </button>
                    </div>
                    {move || remove.value().get().and_then(Result::err).map(|error| view! {
                        <div id="backup-delete-error"><ErrorDisplay error/></div>
                    })}
                </div>
            }
        })
    };
    let deleted = move || {
        remove.value().get().and_then(Result::ok).map(|id| {
            view! { <p id="backup-deleted" class="ok">{deleted_words(&id)}</p> }
        })
    };
    view! {
        {question}
        <div id="backup-delete-announcer" role="status" aria-live="polite">{deleted}</div>
    }
}
