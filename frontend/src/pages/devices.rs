//! Admin > Devices: the managed IPS devices, their state, uptime and last contact, live; and
//! the notice that they keep operating while the SMS is patched.

use leptos::prelude::*;
use shared::devices::{DeviceInfo, DeviceState, uptime_in_words};
use web_core::times::in_utc_seconds;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::loaded::{Place, loaded};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::components::table::DataTable;
use crate::live::use_live;
use crate::load::{action, resource, run};

#[component]
pub fn DevicesPage() -> impl IntoView {
    set_page_title("Devices");
    let live = use_live();
    let shell = use_shell();
    let devices = resource(move || {
        live.devices_changed.track();
        api::get_devices()
    });
    view! {
        <div id="devices-page" class="page">
            <h1>"Devices"</h1>
            <p id="devices-notice" class="notice" role="note">
                "Managed devices keep inspecting traffic while the SMS server is patched, \
                 restarted or rebooted: they do not depend on it. The SMS only watches them."
            </p>
            <section class="card" aria-labelledby="devices-heading">
                <h2 id="devices-heading">"Managed devices"</h2>
                {loaded(move || devices.get(), Place::Bare, "the devices", |list| {
                    view! { <DevicesTable devices=list/> }.into_any()
                })}
            </section>
            {move || {
                let admin = shell.session.get().is_some_and(|s| s.is_ok_and(|s| s.role.is_admin()));
                admin.then(|| view! { <AddDeviceForm/> })
            }}
        </div>
    }
}

#[component]
fn DevicesTable(devices: Vec<DeviceInfo>) -> impl IntoView {
    if devices.is_empty() {
        return view! {
            <p id="no-devices" class="muted">"No devices are managed yet. Add one by its status address."</p>
        }
        .into_any();
    }
    view! {
        <DataTable
            label="Managed devices"
            id="devices-table"
            columns=&["Name", "Model", "TOS version", "State", "Uptime", "Packets inspected", "Last contact"]
        >
            {devices.into_iter().map(|d| view! { <DeviceRow device=d/> }).collect_view()}
        </DataTable>
    }
    .into_any()
}

#[component]
fn DeviceRow(device: DeviceInfo) -> impl IntoView {
    let (state, words) = match device.state {
        DeviceState::Pending => ("pending", "Not polled yet".to_owned()),
        DeviceState::Reachable => ("reachable", "Running".to_owned()),
        DeviceState::Unreachable => (
            "unreachable",
            format!(
                "Not reachable from the SMS: {}",
                device.message.clone().unwrap_or_default()
            ),
        ),
    };
    let uptime = device.uptime_seconds;
    let packets = device.packets_inspected;
    let contact = device
        .last_contact
        .map(in_utc_seconds)
        .unwrap_or_else(|| "never".to_owned());
    view! {
        <tr data-device=device.name.clone() data-state=state>
            <th scope="row" title=device.url.clone()>{device.name.clone()}</th>
            <td>{device.model.clone().unwrap_or_default()}</td>
            <td>{device.tos_version.clone().unwrap_or_default()}</td>
            <td class="device-state">{words}</td>
            <td class="device-uptime" data-seconds=uptime.map(|u| u.to_string())>
                {uptime.map(uptime_in_words).unwrap_or_default()}
            </td>
            <td class="device-packets" data-count=packets.map(|p| p.to_string())>
                {packets.map(group_thousands).unwrap_or_default()}
            </td>
            <td class="device-contact">{contact}</td>
        </tr>
    }
}

/// `12 345 678`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

#[component]
fn AddDeviceForm() -> impl IntoView {
    let url = RwSignal::new(String::new());
    let add = action(move |address: &String| {
        let address = address.clone();
        run(async move {
            api::add_device(address).await?;
            url.set(String::new());
            Ok::<(), ApiError>(())
        })
    });
    let pending = add.pending();
    view! {
        <section class="card" aria-labelledby="add-device-heading">
            <h2 id="add-device-heading">"Add a device"</h2>
            <form
                id="add-device"
                on:submit=move |ev| {
                    ev.prevent_default();
                    add.dispatch(url.get_untracked());
                }
            >
                <label for="device-url">"Status address"</label>
                <input
                    id="device-url"
                    type="url"
                    required
                    placeholder="http://10.0.0.5:8090/v1/devices/ips-01/status"
                    prop:value=move || url.get()
                    on:input=move |ev| url.set(event_target_value(&ev))
                />
                <button id="device-add" type="submit" class="button button-primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Adding…" } else { "Add" }}
                </button>
            </form>
            {move || add.value().get().and_then(Result::err).map(|error| view! { <ErrorDisplay error/> })}
        </section>
    }
}
