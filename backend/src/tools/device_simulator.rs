//! Simulated IPS devices, served over HTTP: each has a status endpoint
//! (`GET /v1/devices/{name}/status`) with its name, model, TOS version, uptime and a counter of
//! inspected packets that keeps rising while the device runs. They run on their own: whatever
//! the SMS does (patch, restart, reboot), their uptime and counters go on.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shared::devices::DeviceStatus;

/// Models the simulated devices cycle through.
const MODELS: [&str; 3] = [
    "TippingPoint 8200TX",
    "TippingPoint 8400TX",
    "TippingPoint 1100TX",
];
const TOS_VERSION: &str = "6.4.0.5031";

/// One simulated device.
#[derive(Debug, Clone)]
struct Device {
    name: String,
    model: &'static str,
    started: Instant,
    /// Packets inspected per second.
    rate: u64,
}

/// A set of simulated devices.
#[derive(Debug, Clone)]
pub struct Simulator {
    devices: Arc<Vec<Device>>,
}

impl Simulator {
    /// `count` devices named `{prefix}-01`, `{prefix}-02`, ...
    pub fn new(prefix: &str, count: usize) -> Self {
        let started = Instant::now();
        let devices = (1..=count)
            .map(|n| Device {
                name: format!("{prefix}-{n:02}"),
                model: MODELS[(n - 1) % MODELS.len()],
                started,
                rate: 40_000 + 7_919 * n as u64,
            })
            .collect();
        Self {
            devices: Arc::new(devices),
        }
    }

    /// The devices' names.
    pub fn names(&self) -> Vec<String> {
        self.devices.iter().map(|d| d.name.clone()).collect()
    }

    /// The status path of device `name`, below the simulator's base URL.
    pub fn status_path(name: &str) -> String {
        format!("/v1/devices/{name}/status")
    }

    /// `GET /v1/devices` (the names) and `GET /v1/devices/{name}/status`.
    pub fn router(self) -> Router {
        Router::new()
            .route("/v1/devices", get(list))
            .route("/v1/devices/{name}/status", get(status))
            .with_state(self)
    }
}

async fn list(State(simulator): State<Simulator>) -> axum::Json<Vec<String>> {
    axum::Json(simulator.names())
}

async fn status(State(simulator): State<Simulator>, Path(name): Path<String>) -> Response {
    let Some(device) = simulator.devices.iter().find(|d| d.name == name) else {
        return (StatusCode::NOT_FOUND, format!("no device named {name}\n")).into_response();
    };
    let elapsed = device.started.elapsed();
    let packets = elapsed.as_millis() as u64 * device.rate / 1000;
    axum::Json(DeviceStatus {
        name: device.name.clone(),
        model: device.model.to_owned(),
        tos_version: TOS_VERSION.to_owned(),
        uptime_seconds: elapsed.as_secs(),
        packets_inspected: packets,
    })
    .into_response()
}
