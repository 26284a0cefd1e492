//! The first login's step: the admin, logged in with the one-time password the server printed
//! on its first start, chooses their own before anything else.

use leptos::html::Input;
use leptos::prelude::*;
use shared::api::SessionInfo;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::load::{action, run};

/// The form: the one-time password, the new one twice. Once the server took it, the shell
/// shows the pages (the session it answered says no change is needed any more).
#[component]
pub fn ChangePassword(
    /// Who is logged in.
    session: SessionInfo,
) -> impl IntoView {
    set_page_title("Choose a new password");
    let shell = use_shell();
    let current: NodeRef<Input> = NodeRef::new();
    let new: NodeRef<Input> = NodeRef::new();
    let repeat: NodeRef<Input> = NodeRef::new();
    let differ = RwSignal::new(false);

    let change = action(move |(current, new): &(String, String)| {
        let asked = api::change_password(current.clone(), new.clone());
        run(async move {
            let changed = asked.await?;
            shell.session.set(Some(Ok(changed)));
            Ok::<(), ApiError>(())
        })
    });
    let pending = change.pending();

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let value = |input: NodeRef<Input>| input.get().map(|i| i.value()).unwrap_or_default();
        let (chosen, again) = (value(new), value(repeat));
        differ.set(chosen != again);
        if chosen == again {
            change.clear();
            change.dispatch((value(current), chosen));
        }
    };

    view! {
        <section class="card narrow password-card" aria-labelledby="password-heading">
            <h1 id="password-heading">"Choose a new password"</h1>
            <p class="page-intro">
                {format!(
                    "You logged in as {} with the one-time password the server printed on its \
                     first start. Choose your own password to go on: at least 8 characters. \
                     Nobody else will see it.",
                    session.username
                )}
            </p>
            <form id="password-form" on:submit=on_submit>
                <div class="form-row">
                    <label for="password-current">"One-time password"</label>
                    <input
                        id="password-current"
                        name="current-password"
                        type="password"
                        autocomplete="current-password"
                        required
                        autofocus
                        node_ref=current
                    />
                </div>
                <div class="form-row">
                    <label for="password-new">"New password"</label>
                    <input
                        id="password-new"
                        name="new-password"
                        type="password"
                        autocomplete="new-password"
                        minlength="8"
                        required
                        node_ref=new
                    />
                </div>
                <div class="form-row">
                    <label for="password-repeat">"New password, again"</label>
                    <input
                        id="password-repeat"
                        name="repeat-password"
                        type="password"
                        autocomplete="new-password"
                        minlength="8"
                        required
                        node_ref=repeat
                    />
                </div>
                {move || differ.get().then(|| view! {
                    <p id="password-differ" class="error-message" role="alert">
                        "The two new passwords differ: type the same one twice."
                    </p>
                })}
                {move || change.value().get().and_then(Result::err).map(|error| view! {
                    <ErrorDisplay error/>
                })}
                <button
                    id="password-submit"
                    type="submit"
                    class="button button-primary"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                >
                    {move || if pending.get() { "Saving…" } else { "Save and go on" }}
                </button>
            </form>
        </section>
    }
}
