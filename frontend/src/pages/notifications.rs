//! Admin > Notifications: who outside the console is told what happens (signed webhooks and
//! email), "Send a test", and the delivery log: fetched again when the server says it changed,
//! and looked at every few seconds while the page is open.

use std::time::Duration;

use leptos::prelude::*;

use crate::components::loaded::{Place, loaded};
use crate::components::notify::{AddTargetForm, DeliveriesTable, Lists, TargetsTable};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::live::use_live;
use crate::load::run;
use crate::poll;

/// How often the page looks at the delivery log and the targets again, besides the server's
/// `deliveries_changed` events (while the event stream is down, none come).
const REFRESH_MS: u64 = 3000;

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
