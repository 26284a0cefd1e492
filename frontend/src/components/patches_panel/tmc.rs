//! The TMC field of the SMS Patches panel: the connection's status, live, with the last
//! failure's code, the vendor feed's signed metadata, the clock warning, and Check now.

use std::time::Duration;

use leptos::prelude::*;
use shared::panel::{TmcConnection, TmcStatus};
use web_core::tmc::{
    clock_warning, connection_class, failure_code, feed_details, feed_expiry_warning,
    feed_in_words, status_in_words,
};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::local_time::now;
use crate::live::use_live;
use crate::load::{action, run};
use crate::poll;

/// How often the feed's age and expiry are worked out again while the panel is shown.
const FEED_CLOCK_MS: u64 = 60_000;

/// "Connected · last check …" or "Unreachable: … · next retry …" (with the failure's code),
/// the feed's facts and warnings, and Check now.
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
    // Drawn again only when they change, not with every live status (a check starting, ...).
    let code = Memo::new(move |_| failure_code(&status.get()).map(str::to_owned));
    let clock = Memo::new(move |_| status.get().clock);
    view! {
        <div class="field" role="group" aria-labelledby="tmc-label">
            <span class="field-label" id="tmc-label">"TMC"</span>
            <div class="field-value">
                <span
                    id="tmc-status"
                    class=move || format!("status tmc-{}", connection_class(status.get().connection))
                    data-connection=move || connection_class(status.get().connection)
                >
                    {move || status_in_words(&status.get())}
                </span>
                {move || code.get().map(|code| view! {
                    // Beside the message, to look up in the documentation.
                    <span class="tmc-code">"Error code "<code id="tmc-code">{code}</code></span>
                })}
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
            <FeedFacts status/>
            {move || clock.get().map(|clock| view! {
                // A status, not an alert: it is drawn again after each check (the times move on),
                // and an alert would be read out anew each time.
                <p
                    id="tmc-clock"
                    class="warning tmc-warning"
                    role="status"
                    data-server-time=clock.server_time.to_rfc3339()
                    data-tmc-time=clock.tmc_time.to_rfc3339()
                >
                    {clock_warning(&clock)}
                </p>
            })}
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

/// "Feed: signed metadata (TUF), root version 2; timestamp 3 hours old, expires in 21 hours",
/// and a warning when the timestamp expires within 2 hours; nothing without a TUF feed. The
/// ages are worked out again every minute by the browser's clock.
#[component]
fn FeedFacts(status: Signal<TmcStatus>) -> impl IntoView {
    let clock = RwSignal::new(now());
    poll::every(Duration::from_millis(FEED_CLOCK_MS), move || {
        clock.set(now());
        None::<std::future::Ready<()>>
    });
    // Drawn again only when the words change: each hour, each minute near the expiry.
    let words = Memo::new(move |_| {
        let feed = status.get().feed?;
        let at = clock.get();
        Some((
            feed_in_words(&feed, at),
            feed_expiry_warning(&feed, at),
            feed,
        ))
    });
    move || {
        words.get().map(|(line, warning, feed)| {
            view! {
                <p
                    id="tmc-feed"
                    class="field-help tmc-feed"
                    title=feed_details(&feed)
                    data-root-version=feed.root_version.to_string()
                    data-timestamp-version=feed.timestamp_version.to_string()
                    data-timestamp-expires=feed.timestamp_expires.to_rfc3339()
                >
                    {line}
                </p>
                {warning.map(|text| view! {
                    <p id="tmc-feed-expiry" class="warning tmc-warning" role="status">{text}</p>
                })}
            }
        })
    }
}
