//! Notifications out of the console: targets (webhooks and email), the events they receive and
//! the delivery log (`/api/v1/notifications/...`, docs/notifications.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What a webhook secret starts with (the Standard Webhooks form: `whsec_` and base64).
pub const SECRET_PREFIX: &str = "whsec_";

/// `POST /api/v1/notifications/targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NewTarget {
    /// An HTTPS (or HTTP) endpoint that receives signed JSON posts. Without a secret the server
    /// makes one and shows it once.
    Webhook {
        #[cfg_attr(feature = "openapi", schema(pattern = "^https?://"))]
        url: String,
        /// `whsec_` and the base64 of 24 to 64 random bytes.
        #[serde(default)]
        #[cfg_attr(
            feature = "openapi",
            schema(pattern = "^whsec_([A-Za-z0-9+/]{4}){8,21}$")
        )]
        secret: Option<String>,
    },
    /// A mailbox, reached through the `[smtp]` server.
    Email { address: String },
}

/// The kind of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Webhook,
    Email,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Webhook => "webhook",
            TargetKind::Email => "email",
        }
    }
}

impl std::str::FromStr for TargetKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "webhook" => Ok(TargetKind::Webhook),
            "email" => Ok(TargetKind::Email),
            other => Err(format!("unknown target kind `{other}`")),
        }
    }
}

/// A notification target as the console shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Target {
    pub id: i64,
    pub kind: TargetKind,
    /// The webhook's URL, or the email address.
    pub destination: String,
    /// False once the receiver answered 410 Gone: nothing more is sent to it.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    #[serde(deserialize_with = "crate::time::utc")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// The answer to `POST /api/v1/notifications/targets`: the target, and the secret the server
/// made when none was given (shown this once, never again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedTarget {
    pub target: Target,
    pub secret: Option<String>,
}

/// `GET /api/v1/notifications/targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TargetList {
    pub targets: Vec<Target>,
    /// Whether an `[smtp]` server is set (email targets need one).
    pub email_configured: bool,
}

/// What happened; on the wire (the webhook body's `type`) its dotted name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum EventType {
    #[serde(rename = "patch.available")]
    PatchAvailable,
    #[serde(rename = "download.succeeded")]
    DownloadSucceeded,
    #[serde(rename = "download.failed")]
    DownloadFailed,
    #[serde(rename = "install.started")]
    InstallStarted,
    #[serde(rename = "install.succeeded")]
    InstallSucceeded,
    #[serde(rename = "install.failed")]
    InstallFailed,
    #[serde(rename = "rollback.started")]
    RollbackStarted,
    #[serde(rename = "rollback.succeeded")]
    RollbackSucceeded,
    #[serde(rename = "rollback.failed")]
    RollbackFailed,
    #[serde(rename = "job.upcoming")]
    JobUpcoming,
    #[serde(rename = "tmc.stale")]
    TmcStale,
    #[serde(rename = "disk.low")]
    DiskLow,
    #[serde(rename = "backup.succeeded")]
    BackupSucceeded,
    #[serde(rename = "backup.failed")]
    BackupFailed,
    #[serde(rename = "test")]
    Test,
}

impl EventType {
    pub const ALL: [EventType; 15] = [
        EventType::PatchAvailable,
        EventType::DownloadSucceeded,
        EventType::DownloadFailed,
        EventType::InstallStarted,
        EventType::InstallSucceeded,
        EventType::InstallFailed,
        EventType::RollbackStarted,
        EventType::RollbackSucceeded,
        EventType::RollbackFailed,
        EventType::JobUpcoming,
        EventType::TmcStale,
        EventType::DiskLow,
        EventType::BackupSucceeded,
        EventType::BackupFailed,
        EventType::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PatchAvailable => "patch.available",
            EventType::DownloadSucceeded => "download.succeeded",
            EventType::DownloadFailed => "download.failed",
            EventType::InstallStarted => "install.started",
            EventType::InstallSucceeded => "install.succeeded",
            EventType::InstallFailed => "install.failed",
            EventType::RollbackStarted => "rollback.started",
            EventType::RollbackSucceeded => "rollback.succeeded",
            EventType::RollbackFailed => "rollback.failed",
            EventType::JobUpcoming => "job.upcoming",
            EventType::TmcStale => "tmc.stale",
            EventType::DiskLow => "disk.low",
            EventType::BackupSucceeded => "backup.succeeded",
            EventType::BackupFailed => "backup.failed",
            EventType::Test => "test",
        }
    }
}

impl std::str::FromStr for EventType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|event| event.as_str() == s)
            .ok_or_else(|| format!("unknown event type `{s}`"))
    }
}

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet: tried again at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up after the last retry.
    Failed,
    /// Not sent: the target was disabled (410) or removed.
    Dropped,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Dropped => "dropped",
        }
    }
}

impl std::str::FromStr for DeliveryState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(DeliveryState::Pending),
            "delivered" => Ok(DeliveryState::Delivered),
            "failed" => Ok(DeliveryState::Failed),
            "dropped" => Ok(DeliveryState::Dropped),
            other => Err(format!("unknown delivery state `{other}`")),
        }
    }
}

/// One event for one target, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Delivery {
    pub id: i64,
    /// The `webhook-id`: the same on every retry, so a receiver can drop a repeat.
    pub message_id: String,
    pub event: EventType,
    /// The event in words (the email's subject).
    pub summary: String,
    pub target: i64,
    /// The target's URL or address.
    pub destination: String,
    pub state: DeliveryState,
    pub attempts: u32,
    #[serde(deserialize_with = "crate::time::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When it is tried again (pending only).
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// What the last try got: the HTTP status or the error.
    pub last_outcome: Option<String>,
}

/// `GET /api/v1/notifications/deliveries`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeliveryLog {
    pub deliveries: Vec<Delivery>,
}
