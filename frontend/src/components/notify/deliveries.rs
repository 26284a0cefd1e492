//! The delivery log of Admin > Notifications: one row per event and target, newest first.

use leptos::prelude::*;
use shared::notify::Delivery;
use web_core::notify::delivery_state_in_words;

use crate::components::local_time::LocalTime;
use crate::components::table::DataTable;

/// The delivery log: one row per event and target.
#[component]
pub fn DeliveriesTable(deliveries: Vec<Delivery>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! {
            <p id="no-deliveries" class="muted">"Nothing has been sent yet."</p>
        }
        .into_any();
    }
    view! {
        <DataTable
            label="Notification deliveries, newest first"
            id="notification-deliveries"
            columns=&["Time", "Event", "Destination", "State", "Tries", "Last outcome", "Next try"]
        >
            {deliveries
                .into_iter()
                .map(|delivery| view! { <DeliveryRow delivery/> })
                .collect_view()}
        </DataTable>
    }
    .into_any()
}

/// One delivery: when, what, to whom, where it stands, its tries and the next one.
#[component]
fn DeliveryRow(delivery: Delivery) -> impl IntoView {
    let state = delivery_state_in_words(delivery.state);
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
