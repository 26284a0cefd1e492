//! The managed devices: added by URL of their status endpoint, polled on an interval, listed
//! with their last status. The SMS only watches them: they keep inspecting traffic whatever the
//! SMS does, so their uptime and counters go on across an SMS restart or reboot.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, QueryOrder};
use shared::devices::{DeviceInfo, DeviceState, DeviceStatus};
use shared::panel::ServerEvent;

use crate::service::ServiceError;
use crate::service::events::Events;
use crate::storage::entity::device;

/// The largest status answer read from a device.
const MAX_STATUS_BYTES: usize = 64 * 1024;

/// How long one poll of one device may take.
const POLL_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a device cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("`{0}` is not an http:// address of a device's status endpoint")]
    BadUrl(String),
    #[error("the device at {url} does not answer with its status: {why}")]
    Unreachable { url: String, why: String },
    #[error("the device at {0} is managed already")]
    Exists(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Adds, lists, removes and polls managed devices; cheap to clone.
#[derive(Clone)]
pub struct Devices {
    db: DatabaseConnection,
    events: Events,
    http: reqwest::Client,
    interval: Duration,
}

impl Devices {
    pub fn new(db: DatabaseConnection, events: Events, interval: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            events,
            http: reqwest::Client::builder().timeout(POLL_TIMEOUT).build()?,
            interval,
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
        let status = self.fetch(url).await.map_err(|why| AddError::Unreachable {
            url: url.to_owned(),
            why,
        })?;
        let exists = device::Entity::find()
            .all(&self.db)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .any(|row| row.url == url);
        if exists {
            return Err(AddError::Exists(url.to_owned()));
        }
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
                    active.message = Set(Some(why));
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

    async fn fetch(&self, url: &str) -> Result<DeviceStatus, String> {
        let response = self.http.get(url).send().await.map_err(|err| {
            if err.is_timeout() {
                format!("no answer within {} s", POLL_TIMEOUT.as_secs())
            } else {
                "cannot connect".to_owned()
            }
        })?;
        if !response.status().is_success() {
            return Err(format!("it answered {}", response.status()));
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| "its answer broke off".to_owned())?
        {
            if body.len() + chunk.len() > MAX_STATUS_BYTES {
                return Err("its answer is too large for a device status".to_owned());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice::<DeviceStatus>(&body)
            .map_err(|_| "its answer is not a device status".to_owned())
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
