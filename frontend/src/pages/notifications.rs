//! Admin > Notifications: who outside the console is told what happens (signed webhooks and
//! email), "Send a test", and the delivery log: fetched again when the server says it changed,
//! and looked at every few seconds while the page is open.

use std::time::Duration;

use leptos::prelude::*;
use shared::notify::{
    CreatedTarget, Delivery, DeliveryLog, DeliveryState, NewTarget, SECRET_PREFIX, Target,
    TargetKind, TargetList,
};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::loaded::{Place, loaded};
use crate::components::local_time::LocalTime;
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::live::{Live, use_live};
use crate::load::{Loaded, action, resource, run};
use crate::poll;

/// How often the page looks at the delivery log and the targets again, besides the server's
/// `deliveries_changed` events (while the event stream is down, none come).
const REFRESH_MS: u64 = 3000;

/// The page's two resources, for the parts that change them.
#[derive(Clone, Copy)]
struct Lists {
    targets: Loaded<TargetList>,
    deliveries: Loaded<DeliveryLog>,
    /// Counts the fetches an action asked for: a look started before one is older than its
    /// answer, and is dropped.
    generation: StoredValue<u64>,
}

impl Lists {
    fn new(live: Live) -> Self {
        let generation = StoredValue::new(0);
        Self {
            targets: resource(api::list_targets),
            deliveries: resource(move || {
                live.deliveries_changed.track();
                generation.update_value(|n| *n += 1);
                api::deliveries()
            }),
            generation,
        }
    }

    /// Fetches both again at once (after an action changed them).
    fn reload(self) {
        self.generation.update_value(|n| *n += 1);
        self.targets.refetch();
        // Counted again by the fetch itself.
        self.deliveries.refetch();
    }

    /// Looks at both again, and shows them only when they changed (so nothing is drawn again
    /// under the admin's cursor for nothing).
    async fn refresh(self) {
        let started = self.generation.get_value();
        let current = move || self.generation.try_get_value() == Some(started);
        let deliveries = api::deliveries().await;
        // A receiver that answered 410 Gone disables its target.
        let targets = api::list_targets().await;
        if !current() {
            return;
        }
        if let Ok(fresh) = deliveries {
            let shown = self.deliveries.get_untracked().and_then(Result::ok);
            if shown.as_ref() != Some(&fresh) {
                self.deliveries.set(Some(Ok(fresh)));
            }
        }
        if let Ok(fresh) = targets {
            let shown = self.targets.get_untracked().and_then(Result::ok);
            if shown.as_ref() != Some(&fresh) {
                self.targets.set(Some(Ok(fresh)));
            }
        }
    }
}

/// The Notifications page.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    set_page_title("Notifications");
    let shell = use_shell();
    let lists = Lists::new(use_live());
    let is_admin = Signal::derive(move || {
        shell
            .session
            .get()
            .and_then(Result::ok)
            .is_some_and(|session| session.role.is_admin())
    });
    poll::every(Duration::from_millis(REFRESH_MS), move || {
        Some(run(lists.refresh()))
    });

    view! {
        <div id="notifications-page" class="page">
            <h1>"Notifications"</h1>
            <p class="page-intro">
                "Tell people outside the console what happens on this server: when a patch \
                 appears, when a download, install or rollback ends (and how), when a scheduled \
                 job is about to start, and when the TMC has been unreachable too long. Webhooks \
                 are signed the Standard Webhooks way; email goes through the server's mail \
                 server."
            </p>

            <section class="card" aria-labelledby="targets-heading">
                <h2 id="targets-heading">"Targets"</h2>
                {loaded(move || lists.targets.get(), Place::Bare, "the notification targets", move |list| {
                    view! { <TargetsTable targets=list.targets lists is_admin/> }.into_any()
                })}
            </section>

            {move || if is_admin.get() {
                view! { <AddTargetForm lists/> }.into_any()
            } else {
                view! { <p class="note">"Only admins can add or change targets."</p> }.into_any()
            }}

            <section class="card" aria-labelledby="deliveries-heading">
                <h2 id="deliveries-heading">"Delivery log"</h2>
                <p class="field-help">
                    "Newest first. A delivery that fails is tried again after 10 seconds, then \
                     ever later up to an hour apart, 12 tries in all."
                </p>
                {loaded(move || lists.deliveries.get(), Place::Bare, "the delivery log", |log| {
                    view! { <DeliveriesTable deliveries=log.deliveries/> }.into_any()
                })}
            </section>
        </div>
    }
}

/// The targets, each with "Send a test" and Remove (admins).
#[component]
fn TargetsTable(
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
        <div class="table-scroll" tabindex="0" role="region" aria-label="Notification targets">
            <table id="notification-targets" class="table">
                <caption class="visually-hidden">"Notification targets"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Destination"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Added"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {targets
                        .into_iter()
                        .map(|target| view! { <TargetRow target lists is_admin/> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

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
    let kind = match target.kind {
        TargetKind::Webhook => "Webhook",
        TargetKind::Email => "Email",
    };
    let state = if target.enabled {
        "Enabled".to_owned()
    } else {
        match &target.disabled_reason {
            Some(reason) => format!("Disabled: {reason}"),
            None => "Disabled".to_owned(),
        }
    };
    let busy = move || test.pending().get() || remove.pending().get();
    let error = move || {
        test.value()
            .get()
            .and_then(Result::err)
            .or_else(|| remove.value().get().and_then(Result::err))
    };
    let test_label = format!("Send a test to {destination}");
    let remove_label = format!("Remove the target {destination}");
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

/// Adding a webhook or an email target (admins), and the secret the server made, once.
#[component]
fn AddTargetForm(lists: Lists) -> impl IntoView {
    let kind = RwSignal::new(TargetKind::Webhook);
    let url = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let email_configured = Signal::derive(move || {
        lists
            .targets
            .get()
            .and_then(Result::ok)
            .is_some_and(|list| list.email_configured)
    });
    let add = action(move |target: &NewTarget| {
        let target = target.clone();
        run(async move {
            let created = api::add_target(target).await?;
            url.set(String::new());
            secret.set(String::new());
            address.set(String::new());
            lists.reload();
            Ok::<CreatedTarget, ApiError>(created)
        })
    });
    let pending = add.pending();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let target = match kind.get_untracked() {
            TargetKind::Webhook => {
                let typed = secret.get_untracked().trim().to_owned();
                NewTarget::Webhook {
                    url: url.get_untracked().trim().to_owned(),
                    secret: (!typed.is_empty()).then_some(typed),
                }
            }
            TargetKind::Email => NewTarget::Email {
                address: address.get_untracked().trim().to_owned(),
            },
        };
        add.dispatch(target);
    };
    let made_secret = move || {
        add.value()
            .get()
            .and_then(Result::ok)
            .and_then(|created| Some((created.target.destination, created.secret?)))
    };
    view! {
        <section class="card" aria-labelledby="add-target-heading">
            <h2 id="add-target-heading">"Add a target"</h2>
            <form id="target-form" class="target-form" on:submit=on_submit>
                <div class="form-row">
                    <label for="target-kind">"Kind"</label>
                    <select
                        id="target-kind"
                        aria-describedby="target-kind-help"
                        on:change=move |event| {
                            let chosen = event_target_value(&event).parse().unwrap_or(TargetKind::Webhook);
                            kind.set(chosen);
                        }
                    >
                        <option value="webhook" selected=move || kind.get() == TargetKind::Webhook>
                            "Webhook (a signed HTTP POST)"
                        </option>
                        <option
                            value="email"
                            selected=move || kind.get() == TargetKind::Email
                            disabled=move || !email_configured.get()
                        >
                            {move || if email_configured.get() {
                                "Email"
                            } else {
                                "Email (no mail server is configured)"
                            }}
                        </option>
                    </select>
                    <p id="target-kind-help" class="field-help">
                        {move || if email_configured.get() {
                            "Email goes through the mail server of the server's [smtp] settings."
                        } else {
                            "Email needs a mail server: this server has no [smtp] section in its \
                             configuration, so email targets cannot be added yet."
                        }}
                    </p>
                </div>
                {move || match kind.get() {
                    TargetKind::Webhook => view! {
                        <div class="form-row">
                            <label for="target-url">"URL"</label>
                            <input
                                id="target-url"
                                type="url"
                                required
                                placeholder="https://hooks.example.com/sms"
                                autocomplete="off"
                                prop:value=move || url.get()
                                on:input=move |event| url.set(event_target_value(&event))
                            />
                        </div>
                        <div class="form-row">
                            <label for="target-secret">"Secret (optional)"</label>
                            <input
                                id="target-secret"
                                type="password"
                                autocomplete="new-password"
                                placeholder=format!("{SECRET_PREFIX}…")
                                aria-describedby="target-secret-help"
                                prop:value=move || secret.get()
                                on:input=move |event| secret.set(event_target_value(&event))
                            />
                            <p id="target-secret-help" class="field-help">
                                {format!(
                                    "The key the receiver checks the signatures with: \
                                     {SECRET_PREFIX} and 24 to 64 bytes in base64. Leave it \
                                     empty and the server makes one, shown once after adding."
                                )}
                            </p>
                        </div>
                    }
                    .into_any(),
                    TargetKind::Email => view! {
                        <div class="form-row">
                            <label for="target-address">"Email address"</label>
                            <input
                                id="target-address"
                                type="email"
                                required
                                placeholder="ops@example.com"
                                autocomplete="email"
                                prop:value=move || address.get()
                                on:input=move |event| address.set(event_target_value(&event))
                            />
                        </div>
                    }
                    .into_any(),
                }}
                <button
                    id="target-add"
                    type="submit"
                    class="button button-primary"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                >
                    {move || if pending.get() { "Adding…" } else { "Add target" }}
                </button>
            </form>
            {move || made_secret().map(|(destination, secret)| view! {
                <div id="target-secret-once" class="warning" role="status">
                    <p>
                        <strong>{format!("The secret of {destination}:")}</strong>
                    </p>
                    <p><code id="target-secret-value" class="fingerprint">{secret}</code></p>
                    <p>
                        "Copy it into the receiver's configuration now: it will not be shown \
                         again. Without it the receiver cannot check the signatures."
                    </p>
                </div>
            })}
            {move || add.value().get().and_then(Result::err).map(|error| view! {
                <div id="target-add-error"><ErrorDisplay error/></div>
            })}
        </section>
    }
}

/// The delivery log: one row per event and target.
#[component]
fn DeliveriesTable(deliveries: Vec<Delivery>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! {
            <p id="no-deliveries" class="muted">"Nothing has been sent yet."</p>
        }
        .into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Notification deliveries, newest first">
            <table id="notification-deliveries" class="table">
                <caption class="visually-hidden">"Notification deliveries, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Destination"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Tries"</th>
                        <th scope="col">"Last outcome"</th>
                        <th scope="col">"Next try"</th>
                    </tr>
                </thead>
                <tbody>
                    {deliveries
                        .into_iter()
                        .map(|delivery| view! { <DeliveryRow delivery/> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn DeliveryRow(delivery: Delivery) -> impl IntoView {
    let state = match delivery.state {
        DeliveryState::Pending => "Waiting",
        DeliveryState::Delivered => "Delivered",
        DeliveryState::Failed => "Failed (given up)",
        DeliveryState::Dropped => "Dropped (target disabled or removed)",
    };
    view! {
        <tr
            data-delivery=delivery.id.to_string()
            data-event=delivery.event.as_str()
            data-state=delivery.state.as_str()
            data-target=delivery.target.to_string()
        >
            <td class="delivery-time nowrap"><LocalTime at=delivery.created_at/></td>
            <td class="delivery-event">
                <code>{delivery.event.as_str()}</code>
                <div class="muted small">{delivery.summary.clone()}</div>
            </td>
            <td class="delivery-destination"><code>{delivery.destination.clone()}</code></td>
            <td class="delivery-state">{state}</td>
            <td class="delivery-tries">{delivery.attempts.to_string()}</td>
            <td class="delivery-outcome">{delivery.last_outcome.clone().unwrap_or_else(|| "—".to_owned())}</td>
            <td class="delivery-next nowrap">
                {match delivery.next_attempt_at {
                    Some(at) => view! { <LocalTime at/> }.into_any(),
                    None => "—".into_any(),
                }}
            </td>
        </tr>
    }
}
