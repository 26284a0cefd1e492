//! The managed devices: added by URL of their status endpoint, polled on an interval, listed
//! with their last status. The SMS only watches them: they keep inspecting traffic whatever the
//! SMS does, so their uptime and counters go on across an SMS restart or reboot.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use shared::devices::{DeviceInfo, DeviceState, DeviceStatus};
use shared::panel::ServerEvent;

use crate::service::ServiceError;
use crate::service::events::Events;
use crate::service::outbound::{CheckedResolver, UnknownHost};
pub use crate::service::outbound::{RefusedAddress, RefusedKind, refused_kind};
use crate::storage::db::Db;
use crate::storage::entity::device;

/// The largest status answer read from a device.
const MAX_STATUS_BYTES: usize = 64 * 1024;

/// How long one poll of one device may take in all.
const POLL_TIMEOUT: Duration = Duration::from_secs(3);

/// How long connecting to a device may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a device may stay silent while it answers (before and between the parts of it).
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a device cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("`{0}` is not an http:// address of a device's status endpoint")]
    BadUrl(String),
    #[error("the device address {url} is refused: {why}")]
    AddressRefused { url: String, why: RefusedAddress },
    #[error("the device at {url} does not answer with its status: {why}")]
    Unreachable { url: String, why: String },
    #[error("the device at {0} is managed already")]
    Exists(String),
    #[error("{max} devices are managed already, as many as this server manages")]
    LimitReached { max: usize },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Why a device's status was not read.
#[derive(Debug)]
enum FetchError {
    /// Its address is refused: the server did not connect.
    Refused(RefusedAddress),
    /// It did not answer with its status; the reason, in words.
    Unreachable(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Refused(why) => write!(f, "its address is refused: {why}"),
            FetchError::Unreachable(why) => f.write_str(why),
        }
    }
}

/// The refused address or unknown name behind a failed request, if that is why it failed.
fn resolver_error(err: &reqwest::Error) -> Option<FetchError> {
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(refused) = inner.downcast_ref::<RefusedAddress>() {
            return Some(FetchError::Refused(refused.clone()));
        }
        if let Some(unknown) = inner.downcast_ref::<UnknownHost>() {
            return Some(FetchError::Unreachable(unknown.to_string()));
        }
        source = inner.source();
    }
    None
}

/// Whether a failed connection was refused by the other side.
fn connection_refused(err: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if inner
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        source = inner.source();
    }
    false
}

/// The client that talks to devices: no redirects (a device answers itself), no proxy from the
/// environment, the checked resolver, and time limits on connecting, on every read and in all.
fn device_client() -> reqwest::Result<reqwest::Client> {
    crate::net::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(CheckedResolver))
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .timeout(POLL_TIMEOUT)
        .build()
}

/// Adds, lists, removes and polls managed devices; cheap to clone.
#[derive(Clone)]
pub struct Devices {
    db: Db,
    events: Events,
    http: reqwest::Client,
    interval: Duration,
    max_devices: usize,
    /// Held while a device is checked against the others and recorded, so that two adds at
    /// once cannot both pass the limit or both record the same URL.
    adding: Arc<tokio::sync::Mutex<()>>,
}

impl Devices {
    /// The devices, polled every `interval`; at most `max_devices` of them.
    pub fn new(
        db: Db,
        events: Events,
        interval: Duration,
        max_devices: usize,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            events,
            http: device_client()?,
            interval,
            max_devices,
            adding: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Every managed device, by name.
    pub async fn list(&self) -> Result<Vec<DeviceInfo>, ServiceError> {
        let rows = device::Entity::find()
            .order_by_asc(device::Column::Name)
            .all(&self.db)
            .await?;
        rows.into_iter().map(info_from_row).collect()
    }

    /// Manages the device at `url` once it answered with its status.
    pub async fn add(&self, url: &str, actor: &str) -> Result<DeviceInfo, AddError> {
        let url = url.trim();
        let parsed = reqwest::Url::parse(url).map_err(|_| AddError::BadUrl(url.to_owned()))?;
        if parsed.scheme() != "http" && parsed.scheme() != "https" {
            return Err(AddError::BadUrl(url.to_owned()));
        }
        // Full: nothing is contacted.
        self.check_room(url).await?;
        let status = self.fetch(url).await.map_err(|err| match err {
            FetchError::Refused(why) => AddError::AddressRefused {
                url: url.to_owned(),
                why,
            },
            FetchError::Unreachable(why) => AddError::Unreachable {
                url: url.to_owned(),
                why,
            },
        })?;
        let _adding = self.adding.lock().await;
        self.check_room(url).await?;
        let now = Utc::now();
        let row = device::ActiveModel {
            name: Set(status.name.clone()),
            url: Set(url.to_owned()),
            model: Set(Some(status.model.clone())),
            tos_version: Set(Some(status.tos_version.clone())),
            state: Set(state_str(DeviceState::Reachable).to_owned()),
            uptime_seconds: Set(Some(clamp(status.uptime_seconds))),
            packets_inspected: Set(Some(clamp(status.packets_inspected))),
            last_contact: Set(Some(now)),
            message: Set(None),
            added_by: Set(actor.to_owned()),
            added_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(ServiceError::from)?;
        self.events.publish(ServerEvent::DevicesChanged);
        Ok(info_from_row(row)?)
    }

    /// Refuses a device at `url` when one is managed there already or the limit is reached.
    async fn check_room(&self, url: &str) -> Result<(), AddError> {
        let same = device::Entity::find()
            .filter(device::Column::Url.eq(url))
            .count(&self.db)
            .await
            .map_err(ServiceError::from)?;
        if same > 0 {
            return Err(AddError::Exists(url.to_owned()));
        }
        let managed = device::Entity::find()
            .count(&self.db)
            .await
            .map_err(ServiceError::from)?;
        if usize::try_from(managed).unwrap_or(usize::MAX) >= self.max_devices {
            return Err(AddError::LimitReached {
                max: self.max_devices,
            });
        }
        Ok(())
    }
    /// Stops managing device `id`; false when there is none.
    pub async fn remove(&self, id: i64) -> Result<Option<DeviceInfo>, ServiceError> {
        let Ok(key) = i32::try_from(id) else {
            return Ok(None);
        };
        let Some(row) = device::Entity::find_by_id(key).one(&self.db).await? else {
            return Ok(None);
        };
        let info = info_from_row(row.clone())?;
        device::Entity::delete_by_id(key).exec(&self.db).await?;
        self.events.publish(ServerEvent::DevicesChanged);
        Ok(Some(info))
    }

    /// Polls every device once and records what each said (or why it did not).
    pub async fn poll_all(&self) -> Result<(), ServiceError> {
        let rows = device::Entity::find().all(&self.db).await?;
        let polls = rows.into_iter().map(|row| async move {
            let result = self.fetch(&row.url).await;
            (row, result)
        });
        for (row, result) in futures_util::future::join_all(polls).await {
            let mut active: device::ActiveModel = row.into();
            match result {
                Ok(status) => {
                    active.name = Set(status.name);
                    active.model = Set(Some(status.model));
                    active.tos_version = Set(Some(status.tos_version));
                    active.state = Set(state_str(DeviceState::Reachable).to_owned());
                    active.uptime_seconds = Set(Some(clamp(status.uptime_seconds)));
                    active.packets_inspected = Set(Some(clamp(status.packets_inspected)));
                    active.last_contact = Set(Some(Utc::now()));
                    active.message = Set(None);
                }
                Err(why) => {
                    active.state = Set(state_str(DeviceState::Unreachable).to_owned());
                    active.message = Set(Some(why.to_string()));
                }
            }
            // A device removed meanwhile cannot be updated: the others still are.
            if let Err(err) = active.update(&self.db).await {
                tracing::debug!("a device's status was not recorded: {err}");
            }
        }
        self.events.publish(ServerEvent::DevicesChanged);
        Ok(())
    }

    /// Polls on the interval until the task is dropped.
    pub async fn run(self) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = self.poll_all().await {
                tracing::warn!("cannot record the devices' status: {err}");
            }
        }
    }

    /// Reads the status of the device at `url`: from a literal address only when it is not
    /// refused, from a host name only when none of its addresses is (the resolver checks them).
    async fn fetch(&self, url: &str) -> Result<DeviceStatus, FetchError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|_| FetchError::Unreachable("its address is not a URL".to_owned()))?;
        // A literal address is connected to as it is: no resolver sees it.
        let host = parsed.host_str().unwrap_or_default();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>()
            && let Some(kind) = refused_kind(ip)
        {
            return Err(FetchError::Refused(RefusedAddress {
                host: host.to_owned(),
                ip,
                kind,
            }));
        }
        let mut response = self.http.get(parsed).send().await.map_err(|err| {
            if let Some(resolver) = resolver_error(&err) {
                resolver
            } else if err.is_timeout() {
                FetchError::Unreachable(format!(
                    "it did not answer within {} s",
                    POLL_TIMEOUT.as_secs()
                ))
            } else if connection_refused(&err) {
                FetchError::Unreachable("it refused the connection".to_owned())
            } else if err.is_connect() {
                FetchError::Unreachable("the server cannot connect to it".to_owned())
            } else {
                FetchError::Unreachable("its answer is not valid HTTP".to_owned())
            }
        })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(FetchError::Unreachable(format!(
                "it answered with a redirect ({status}), which the server does not follow: give \
                 the status endpoint's own address"
            )));
        }
        if !status.is_success() {
            return Err(FetchError::Unreachable(format!("it answered {status}")));
        }
        let too_large = || {
            FetchError::Unreachable(format!(
                "its answer is larger than {} KiB, too large for a device status",
                MAX_STATUS_BYTES / 1024
            ))
        };
        // The declared length refuses early; the count of what arrives is what holds.
        if response
            .content_length()
            .is_some_and(|declared| declared > MAX_STATUS_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| {
            if err.is_timeout() {
                FetchError::Unreachable(format!(
                    "its answer did not come in full within {} s",
                    POLL_TIMEOUT.as_secs()
                ))
            } else {
                FetchError::Unreachable("its answer broke off".to_owned())
            }
        })? {
            if body.len() + chunk.len() > MAX_STATUS_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice::<DeviceStatus>(&body).map_err(|_| {
            FetchError::Unreachable("its answer is not a device status (JSON)".to_owned())
        })
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn state_str(state: DeviceState) -> &'static str {
    match state {
        DeviceState::Pending => "pending",
        DeviceState::Reachable => "reachable",
        DeviceState::Unreachable => "unreachable",
    }
}

fn info_from_row(row: device::Model) -> Result<DeviceInfo, ServiceError> {
    let state = match row.state.as_str() {
        "pending" => DeviceState::Pending,
        "reachable" => DeviceState::Reachable,
        "unreachable" => DeviceState::Unreachable,
        other => {
            return Err(ServiceError::Corrupt(format!(
                "device {}: unknown state `{other}`",
                row.id
            )));
        }
    };
    Ok(DeviceInfo {
        id: i64::from(row.id),
        name: row.name,
        url: row.url,
        model: row.model,
        tos_version: row.tos_version,
        state,
        uptime_seconds: row.uptime_seconds.and_then(|n| u64::try_from(n).ok()),
        packets_inspected: row.packets_inspected.and_then(|n| u64::try_from(n).ok()),
        last_contact: row.last_contact,
        message: row.message,
        added_by: row.added_by,
        added_at: row.added_at,
    })
}
