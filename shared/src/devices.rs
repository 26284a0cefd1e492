//! Managed devices: the IPS devices this SMS manages. They inspect traffic on their own; the SMS
//! polls their status. Patching, restarting or rebooting the SMS does not touch them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What a device reports at its status endpoint (`GET <device url>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceStatus {
    pub name: String,
    /// E.g. `TippingPoint 8200TX`.
    pub model: String,
    /// The device's operating system version, e.g. `6.4.0.5031`.
    pub tos_version: String,
    /// Seconds since the device started.
    pub uptime_seconds: u64,
    /// Packets inspected since the device started: rises while the device runs.
    pub packets_inspected: u64,
}

/// Whether the SMS reaches a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Not polled yet.
    Pending,
    /// The last poll got its status.
    Reachable,
    /// The last poll failed (`message` says why); the device itself may well be running.
    Unreachable,
}

/// One managed device as the SMS knows it (`GET /api/v1/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceInfo {
    pub id: i64,
    pub name: String,
    /// The device's status endpoint.
    pub url: String,
    pub model: Option<String>,
    pub tos_version: Option<String>,
    pub state: DeviceState,
    /// As last reported.
    pub uptime_seconds: Option<u64>,
    pub packets_inspected: Option<u64>,
    /// When the SMS last got the device's status.
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub last_contact: Option<DateTime<Utc>>,
    /// Why the last poll failed.
    pub message: Option<String>,
    pub added_by: String,
    #[serde(deserialize_with = "crate::time::utc")]
    pub added_at: DateTime<Utc>,
}

/// `POST /api/v1/devices`: manage the device whose status endpoint is `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AddDevice {
    /// The device's status endpoint, an `http://` (or `https://`) URL, e.g.
    /// `http://10.0.0.5:8443/v1/devices/ips-01/status`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^https?://"))]
    pub url: String,
}

/// `1 d 2 h`, `3 h 4 min`, `5 min 6 s`: an uptime for people.
pub fn uptime_in_words(seconds: u64) -> String {
    let (days, hours, minutes, secs) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes} min")
    } else if minutes > 0 {
        format!("{minutes} min {secs} s")
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptimes_read_naturally() {
        assert_eq!(uptime_in_words(5), "5 s");
        assert_eq!(uptime_in_words(65), "1 min 5 s");
        assert_eq!(uptime_in_words(3 * 3600 + 4 * 60 + 9), "3 h 4 min");
        assert_eq!(uptime_in_words(86_400 + 2 * 3600), "1 d 2 h");
    }
}
