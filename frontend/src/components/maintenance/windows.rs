//! The maintenance windows as the page shows them, each with Remove (admins).

use leptos::prelude::*;
use web_core::maintenance::{remove_window, remove_window_label};
use web_core::words::duration_in_words;

use crate::components::table::DataTable;

use super::Editor;

/// The windows as the page shows them, each with Remove (admins).
#[component]
pub fn WindowList(editor: Editor, #[prop(into)] is_admin: Signal<bool>) -> impl IntoView {
    move || {
        let windows = editor
            .current()
            .map(|settings| settings.windows)
            .unwrap_or_default();
        if windows.is_empty() {
            return view! {
                <p id="no-windows" class="muted">
                    "No maintenance window is set: installs and rollbacks start only when an \
                     admin starts them."
                </p>
            }
            .into_any();
        }
        view! {
            <DataTable
                label="Maintenance windows"
                id="maintenance-windows"
                columns=&["Schedule", "Duration", "Time zone", ""]
            >
                {windows
                    .into_iter()
                    .enumerate()
                    .map(|(index, window)| {
                        let label = remove_window_label(&window.schedule);
                        view! {
                            <tr data-window=index.to_string()>
                                <td class="window-schedule"><code>{window.schedule.clone()}</code></td>
                                <td class="window-duration">{duration_in_words(window.duration_minutes)}</td>
                                <td class="window-time-zone">{window.time_zone.clone()}</td>
                                <td>
                                    {move || is_admin.get().then(|| view! {
                                        <button
                                            type="button"
                                            class="button button-secondary window-remove"
                                            aria-label=label.clone()
                                            on:click=move |_| {
                                                editor.change(|settings| remove_window(settings, index));
                                            }
                                        >
                                            "Remove"
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </DataTable>
        }
        .into_any()
    }
}
