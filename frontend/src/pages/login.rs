//! The login page.

use leptos::html::Input;
use leptos::prelude::*;
use web_core::paths::safe_next;

use crate::api::{self, ApiError};
use crate::components::set_page_title;
use crate::load::{action, run};
use crate::router::{History, navigate, use_location};

/// Username and password; after login the app returns to `?next=` (a path on this site) or home.
#[component]
pub fn LoginPage() -> impl IntoView {
    set_page_title("Log in");
    let location = use_location();
    let username: NodeRef<Input> = NodeRef::new();
    let password: NodeRef<Input> = NodeRef::new();

    let login = action(move |(name, secret): &(String, String)| {
        let (name, secret) = (name.clone(), secret.clone());
        run(async move {
            let session = api::login(name, secret).await?;
            let next = untrack(|| safe_next(location.query("next").as_deref()).to_owned());
            navigate(&next, History::Replace);
            Ok::<_, ApiError>(session)
        })
    });
    let pending = login.pending();
    let error = move || login.value().get().and_then(Result::err);

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let value = |input: NodeRef<Input>| input.get().map(|i| i.value()).unwrap_or_default();
        login.dispatch((value(username), value(password)));
    };

    view! {
        <main class="centered-page login-page">
            <div class="card narrow">
                <div class="login-brand">
                    <span class="brand-name">"SMS"</span>
                    <span class="brand-full">"Security Management System"</span>
                </div>
                <h1>"Log in"</h1>
                <form id="login-form" on:submit=on_submit>
                    <div class="form-row">
                        <label for="login-username">"Username"</label>
                        <input
                            id="login-username"
                            name="username"
                            type="text"
                            autocomplete="username"
                            autocapitalize="none"
                            spellcheck="false"
                            required
                            autofocus
                            node_ref=username
                        />
                    </div>
                    <div class="form-row">
                        <label for="login-password">"Password"</label>
                        <input
                            id="login-password"
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            required
                            node_ref=password
                        />
                    </div>
                    {move || error().map(|error| view! {
                        <p id="login-error" class="error-message" role="alert">{error.message}</p>
                    })}
                    <button
                        id="login-submit"
                        type="submit"
                        class="button button-primary"
                        disabled=move || pending.get()
                        aria-busy=move || pending.get().to_string()
                    >
                        {move || if pending.get() { "Logging in…" } else { "Log in" }}
                    </button>
                </form>
            </div>
        </main>
    }
}
