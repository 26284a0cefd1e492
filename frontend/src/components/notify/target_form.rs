//! "Add a target" (admins): a webhook (its URL, and its secret or none for the server to make
//! one) or an email address, and the secret the server made, shown once.

use leptos::prelude::*;
use shared::notify::{CreatedTarget, NewTarget, SECRET_PREFIX, TargetKind};
use web_core::notify::{made_secret, typed_target};

use super::Lists;
use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::load::{action, run};

/// Adding a webhook or an email target (admins), and the secret the server made, once.
#[component]
pub fn AddTargetForm(lists: Lists) -> impl IntoView {
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
        let target = typed_target(
            kind.get_untracked(),
            &url.get_untracked(),
            &secret.get_untracked(),
            &address.get_untracked(),
        );
        add.dispatch(target);
    };
    let secret_once = move || add.value().get().and_then(Result::ok).and_then(made_secret);
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
            {move || secret_once().map(|(destination, secret)| view! {
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
