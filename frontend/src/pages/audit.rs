//! Admin > Audit log: who did what, when, and how it ended, newest first.

use leptos::prelude::*;
use shared::api::{AuditEntry, AuditPage as AuditPageData};
use web_core::times::clock;

use crate::api;
use crate::components::loaded::{Place, loaded};
use crate::components::set_page_title;
use crate::components::table::DataTable;
use crate::load::{fetch, resource};
use crate::router::{History, navigate, use_location};

/// Entries shown per page.
const PER_PAGE: u64 = 50;

/// This page's own address.
const PATH: &str = "/admin/audit";

/// The audit log, one page at a time (`?page=N`, from 1).
#[component]
pub fn AuditPage() -> impl IntoView {
    set_page_title("Audit log");
    let location = use_location();
    let page = Memo::new(move |_| {
        location
            .query("page")
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    });
    // Busy from a fetch's start to its answer (a new page, Refresh), so that the page says so.
    let (loading, set_loading) = signal(false);
    let audit = resource(move || {
        let asked = api::get_audit(page.get(), PER_PAGE);
        fetch(async move {
            set_loading.set(true);
            let answer = asked.await;
            set_loading.set(false);
            answer
        })
    });

    view! {
        <div id="audit-page" class="page">
            <div class="page-title">
                <h1>"Audit log"</h1>
                <button
                    type="button"
                    class="button button-secondary"
                    on:click=move |_| audit.refetch()
                    disabled=move || loading.get()
                >
                    "Refresh"
                </button>
            </div>
            <p class="page-intro">
                "Every login, setting change, download, import, install, rollback and cluster \
                 action: who did it, when, and how it ended. Newest first; times are in UTC."
            </p>
            <section class="card" aria-label="Audit entries" aria-busy=move || loading.get().to_string()>
                {loaded(move || audit.get(), Place::Bare, "the audit log", |data| {
                    view! { <AuditTable data/> }.into_any()
                })}
            </section>
        </div>
    }
}

/// The table of one page of entries, with the total and the paging buttons.
#[component]
fn AuditTable(
    /// One page of the log.
    data: AuditPageData,
) -> impl IntoView {
    let page = data.page.max(1);
    let per_page = data.per_page.max(1);
    let total = data.total;
    let first = (page - 1) * per_page + 1;
    let last = (first - 1) + data.entries.len() as u64;
    let has_newer = page > 1;
    let has_older = page * per_page < total;
    let go = |to: u64| {
        move |_: leptos::ev::MouseEvent| navigate(&format!("{PATH}?page={to}"), History::Push)
    };
    let shown = if data.entries.is_empty() {
        "No entries on this page".to_owned()
    } else {
        format!("Showing {first}–{last} of")
    };

    let rows = if data.entries.is_empty() {
        view! {
            <tr class="empty-row">
                <td colspan="7">"No entries yet."</td>
            </tr>
        }
        .into_any()
    } else {
        data.entries
            .into_iter()
            .map(|entry| view! { <AuditRow entry/> })
            .collect_view()
            .into_any()
    };

    view! {
        <DataTable
            label="Audit log entries, newest first"
            id="audit-table"
            columns=&["Time (UTC)", "User", "Action", "Target", "Outcome", "Source", "Details"]
        >
            {rows}
        </DataTable>
        <div class="pager">
            <p class="pager-summary">
                {shown} " " <strong id="audit-total">{total}</strong>
                {if total == 1 { " entry" } else { " entries" }}
            </p>
            <div class="pager-buttons">
                <button
                    id="audit-newer"
                    type="button"
                    class="button button-secondary"
                    disabled=!has_newer
                    on:click=go(page.saturating_sub(1).max(1))
                >
                    "← Newer"
                </button>
                <span class="pager-page">{format!("Page {page}")}</span>
                <button
                    id="audit-older"
                    type="button"
                    class="button button-secondary"
                    disabled=!has_older
                    on:click=go(page + 1)
                >
                    "Older →"
                </button>
            </div>
        </div>
    }
}

/// One entry of the log.
#[component]
fn AuditRow(
    /// The entry.
    entry: AuditEntry,
) -> impl IntoView {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
    let outcome = entry.outcome.as_str();
    view! {
        <tr class="audit-row">
            <td class="nowrap">
                <time datetime=entry.at.to_rfc3339()>
                    {format!("{} {}", entry.at.date_naive(), clock(entry.at))}
                </time>
            </td>
            <td>{entry.actor.unwrap_or_else(|| "system".to_owned())}</td>
            <td><code>{entry.action}</code></td>
            <td>{or_dash(entry.target)}</td>
            <td><span class=format!("badge outcome-{outcome}")>{outcome}</span></td>
            <td>{or_dash(entry.source)}</td>
            <td class="details">{or_dash(entry.details)}</td>
        </tr>
    }
}
