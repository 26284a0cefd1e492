//! The TMC field of the SMS Patches panel: the connection's status, live, and Check now.

use leptos::prelude::*;
use shared::panel::{TmcConnection, TmcStatus};
use web_core::times::clock;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::live::use_live;
use crate::load::{action, run};

/// "Connected · last check …" or "Unreachable: … · next retry …", with Check now.
#[component]
pub fn TmcField(status: TmcStatus, is_admin: bool) -> impl IntoView {
    let live = use_live();
    // The live status wins over the one the view was loaded with.
    let status = Signal::derive(move || live.tmc.get().unwrap_or_else(|| status.clone()));
    let check = action(move |_: &()| {
        run(async move {
            let status = api::check_tmc().await?;
            live.tmc.set(Some(status));
            // The event stream says so too, unless it is reconnecting right now: fetch anyway.
            live.bump();
            Ok::<(), ApiError>(())
        })
    });
    let pending = check.pending();
    let error = move || check.value().get().and_then(Result::err);
    view! {
        <div class="field">
            <span class="field-label" id="tmc-label">"TMC"</span>
            <div class="field-value">
                <span
                    id="tmc-status"
                    class=move || format!("status tmc-{}", connection_class(status.get().connection))
                    data-connection=move || connection_class(status.get().connection)
                >
                    {move || tmc_in_words(&status.get())}
                </span>
                {(is_admin).then(|| view! {
                    <button
                        id="tmc-check"
                        type="button"
                        class="button"
                        aria-describedby="tmc-label"
                        disabled=move || pending.get() || status.get().connection == TmcConnection::NotConfigured
                        aria-busy=move || (pending.get() || status.get().checking).to_string()
                        on:click=move |_| { check.dispatch(()); }
                    >
                        {move || if pending.get() || status.get().checking { "Checking…" } else { "Check now" }}
                    </button>
                })}
            </div>
            {move || status.get().unencrypted().then(|| view! {
                <p id="tmc-unencrypted" class="field-help">
                    "Not encrypted: this server reaches the TMC over plain HTTP, so anyone on the \
                     way can see what it fetches. Patches are still checked against their \
                     signatures. Use an https:// TMC address where the TMC offers one."
                </p>
            })}
            {move || error().map(|error| view! { <ErrorDisplay error/> })}
        </div>
    }
}

fn connection_class(connection: TmcConnection) -> &'static str {
    match connection {
        TmcConnection::NotConfigured => "not_configured",
        TmcConnection::Pending => "pending",
        TmcConnection::Connected => "connected",
        TmcConnection::Unreachable => "unreachable",
        TmcConnection::CertificateInvalid => "certificate_invalid",
        TmcConnection::Invalid => "invalid",
    }
}

fn tmc_in_words(status: &TmcStatus) -> String {
    let time = |t: &chrono::DateTime<chrono::Utc>| format!("{} UTC", clock(*t));
    let last = status
        .last_check
        .as_ref()
        .map(|t| format!(" · last check {}", time(t)))
        .unwrap_or_default();
    let next = status
        .next_check
        .as_ref()
        .map(|t| format!(" · next try {}", time(t)))
        .unwrap_or_default();
    match status.connection {
        TmcConnection::NotConfigured => {
            "Not configured: patches come only from imported files".to_owned()
        }
        TmcConnection::Pending => "Connecting…".to_owned(),
        TmcConnection::Connected => format!("Connected{last}"),
        TmcConnection::Unreachable => format!(
            "Unreachable: {}{last}{next}",
            status.message.clone().unwrap_or_default()
        ),
        TmcConnection::CertificateInvalid => format!(
            "Certificate not trusted: {}{last}{next}",
            status.message.clone().unwrap_or_default()
        ),
        TmcConnection::Invalid => format!(
            "Refused the TMC's answer: {}{last}{next}",
            status.message.clone().unwrap_or_default()
        ),
    }
}
