//! The notification targets, each with "Send a test" and Remove (admins).

use leptos::prelude::*;
use shared::notify::{Delivery, Target};
use web_core::notify::{kind_in_words, remove_label, target_state_in_words, test_label};

use super::Lists;
use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::local_time::LocalTime;
use crate::components::table::DataTable;
use crate::load::{action, run};

/// The targets, each with "Send a test" and Remove (admins).
#[component]
pub fn TargetsTable(
    targets: Vec<Target>,
    lists: Lists,
    #[prop(into)] is_admin: Signal<bool>,
) -> impl IntoView {
    if targets.is_empty() {
        return view! {
            <p id="no-targets" class="muted">
                "No targets yet: nobody outside the console is told anything."
            </p>
        }
        .into_any();
    }
    view! {
        <DataTable
            label="Notification targets"
            id="notification-targets"
            columns=&["Kind", "Destination", "State", "Added", ""]
        >
            {targets
                .into_iter()
                .map(|target| view! { <TargetRow target lists is_admin/> })
                .collect_view()}
        </DataTable>
    }
    .into_any()
}

/// One target: its kind, destination, state and when it was added, with its buttons.
#[component]
fn TargetRow(target: Target, lists: Lists, is_admin: Signal<bool>) -> impl IntoView {
    let id = target.id;
    let destination = target.destination.clone();
    let test = action(move |_: &()| {
        run(async move {
            let queued = api::test_target(id).await?;
            // Shown at once, then followed by the page's refresh.
            lists.reload();
            Ok::<Delivery, ApiError>(queued)
        })
    });
    let remove = action(move |_: &()| {
        run(async move {
            api::remove_target(id).await?;
            lists.reload();
            Ok::<(), ApiError>(())
        })
    });
    let kind = kind_in_words(target.kind);
    let state = target_state_in_words(&target);
    let busy = move || test.pending().get() || remove.pending().get();
    let error = move || {
        test.value()
            .get()
            .and_then(Result::err)
            .or_else(|| remove.value().get().and_then(Result::err))
    };
    let test_label = test_label(&destination);
    let remove_label = remove_label(&destination);
    view! {
        <tr
            data-target=id.to_string()
            data-kind=target.kind.as_str()
            data-enabled=target.enabled.to_string()
        >
            <td class="target-kind">{kind}</td>
            <td class="target-destination"><code>{target.destination.clone()}</code></td>
            <td class="target-state">{state}</td>
            <td class="target-added">
                <LocalTime at=target.created_at/>
                {format!(" by {}", target.created_by)}
            </td>
            <td>
                {move || is_admin.get().then(|| view! {
                    <div class="actions">
                        <button
                            type="button"
                            class="button target-test"
                            aria-label=test_label.clone()
                            disabled=busy
                            aria-busy=move || test.pending().get().to_string()
                            on:click=move |_| {
                                remove.clear();
                                test.dispatch(());
                            }
                        >
                            {move || if test.pending().get() { "Sending…" } else { "Send a test" }}
                        </button>
                        <button
                            type="button"
                            class="button button-secondary target-remove"
                            aria-label=remove_label.clone()
                            disabled=busy
                            aria-busy=move || remove.pending().get().to_string()
                            on:click=move |_| {
                                test.clear();
                                remove.dispatch(());
                            }
                        >
                            {move || if remove.pending().get() { "Removing…" } else { "Remove" }}
                        </button>
                    </div>
                })}
                {move || matches!(test.value().get(), Some(Ok(_))).then(|| view! {
                    <p class="target-test-queued small" role="status">
                        "Test queued: see the delivery log below."
                    </p>
                })}
                {move || error().map(|error| view! { <ErrorDisplay error/> })}
            </td>
        </tr>
    }
}
