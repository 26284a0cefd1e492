//! Notifications out of the console (docs/notifications.md): the targets (webhooks and
//! mailboxes), the events written to the outbox, and the delivery log. Delivery itself is
//! `outbox.rs` (the loop, retries, 410) over `send.rs` (the signed POST, the email).

mod outbox;
mod send;
mod settings;

pub use settings::{NotifyConfig, SmtpConfig, SmtpSettings, SmtpTls};

use std::sync::Arc;

use base64::Engine;
use chrono::Utc;
use rand_core::{OsRng, RngCore};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use serde_json::{Map, Value, json};
use shared::notify::{
    CreatedTarget, Delivery, DeliveryState, EventType, NewTarget, SECRET_PREFIX, Target, TargetKind,
};
use shared::panel::{JobInfo, JobKind, JobState, ServerEvent};

use crate::clock::Clock;
use crate::service::ServiceError;
use crate::service::audit::{self, AuditEvent};
use crate::service::events::Events;
use crate::storage::db::Db;
use crate::storage::entity::{notification_outbox, notification_target};

pub use send::sign;

/// One event to tell every target about.
#[derive(Debug, Clone)]
pub struct Notice {
    pub event: EventType,
    /// One line in words: the email's subject, the body's `data.summary`.
    pub summary: String,
    /// The event's facts (`data` of the webhook body, besides `summary` and `server`).
    pub data: Map<String, Value>,
}

impl Notice {
    pub fn new(event: EventType, summary: impl Into<String>) -> Self {
        Self {
            event,
            summary: summary.into(),
            data: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.to_owned(), value.into());
        self
    }
}

/// Targets, the outbox and the delivery loop; cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    events: Events,
    clock: Clock,
    config: NotifyConfig,
    node_name: String,
    sender: send::Sender,
    wake: tokio::sync::Notify,
}

impl Notifier {
    /// Builds the webhook client and, with an `[smtp]` server, the mail transport.
    pub fn new(
        db: Db,
        events: Events,
        clock: Clock,
        config: NotifyConfig,
        smtp: Option<&SmtpConfig>,
        node_name: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            inner: Arc::new(Inner {
                sender: send::Sender::new(smtp, node_name)?,
                db,
                events,
                clock,
                config,
                node_name: node_name.to_owned(),
                wake: tokio::sync::Notify::new(),
            }),
        })
    }

    /// The settings of `[notify]`.
    pub fn config(&self) -> &NotifyConfig {
        &self.inner.config
    }

    /// Whether email targets can be added (an `[smtp]` server is set).
    pub fn email_configured(&self) -> bool {
        self.inner.sender.has_email()
    }

    /// The targets, oldest first (removed ones not).
    pub async fn targets(&self) -> Result<Vec<Target>, ServiceError> {
        notification_target::Entity::find()
            .filter(notification_target::Column::Removed.eq(false))
            .order_by_asc(notification_target::Column::Id)
            .all(&self.inner.db)
            .await?
            .into_iter()
            .map(target_from_row)
            .collect()
    }

    /// Adds a target (audited); a webhook without a secret gets one, answered this once.
    pub async fn add_target(
        &self,
        new: NewTarget,
        actor: &str,
        source: Option<String>,
    ) -> Result<CreatedTarget, ServiceError> {
        let (kind, destination, secret, made) = match new {
            NewTarget::Webhook { url, secret } => {
                let url = check_url(&url)?;
                match secret.filter(|s| !s.trim().is_empty()) {
                    Some(secret) => {
                        send::secret_key(&secret).map_err(ServiceError::BadWebhookSecret)?;
                        (TargetKind::Webhook, url, Some(secret), false)
                    }
                    None => (TargetKind::Webhook, url, Some(new_secret()), true),
                }
            }
            NewTarget::Email { address } => {
                if !self.email_configured() {
                    return Err(ServiceError::EmailNotConfigured);
                }
                let address = address.trim().to_owned();
                send::check_address(&address).map_err(ServiceError::BadEmailAddress)?;
                (TargetKind::Email, address, None, false)
            }
        };
        let txn = crate::storage::db::begin_write(&self.inner.db).await?;
        let row = notification_target::ActiveModel {
            kind: Set(kind.as_str().to_owned()),
            destination: Set(destination.clone()),
            secret: Set(secret.clone()),
            enabled: Set(true),
            disabled_reason: Set(None),
            created_at: Set(Utc::now()),
            created_by: Set(actor.to_owned()),
            removed: Set(false),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record_with(
            &txn,
            AuditEvent::success("notification_target_add", actor)
                .target(destination)
                .details(kind.as_str())
                .source(source),
        )
        .await?;
        txn.commit().await?;
        Ok(CreatedTarget {
            target: target_from_row(row)?,
            secret: if made { secret } else { None },
        })
    }

    /// Removes a target (audited); its waiting deliveries are dropped.
    pub async fn remove_target(
        &self,
        id: i64,
        actor: &str,
        source: Option<String>,
    ) -> Result<(), ServiceError> {
        let row = self.live_target(id).await?;
        let destination = row.destination.clone();
        let txn = crate::storage::db::begin_write(&self.inner.db).await?;
        let mut active: notification_target::ActiveModel = row.into();
        active.removed = Set(true);
        active.enabled = Set(false);
        active.update(&txn).await?;
        outbox::drop_pending(&txn, id_key(id)?, "The target was removed.").await?;
        audit::record_with(
            &txn,
            AuditEvent::success("notification_target_remove", actor)
                .target(destination)
                .source(source),
        )
        .await?;
        txn.commit().await?;
        self.inner.events.publish(ServerEvent::DeliveriesChanged);
        Ok(())
    }

    /// Queues a `test` event for one target, delivered at once; audited.
    pub async fn send_test(
        &self,
        id: i64,
        actor: &str,
        source: Option<String>,
    ) -> Result<Delivery, ServiceError> {
        let row = self.live_target(id).await?;
        let notice = Notice::new(
            EventType::Test,
            format!(
                "A test from SMS server {}, sent by {actor}.",
                self.inner.node_name
            ),
        )
        .with("by", actor);
        let txn = crate::storage::db::begin_write(&self.inner.db).await?;
        let queued = outbox::enqueue(&txn, self, &notice, std::slice::from_ref(&row)).await?;
        audit::record_with(
            &txn,
            AuditEvent::success("notification_test", actor)
                .target(row.destination.clone())
                .source(source),
        )
        .await?;
        txn.commit().await?;
        self.inner.wake.notify_one();
        self.inner.events.publish(ServerEvent::DeliveriesChanged);
        let outbox_row = queued
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::Corrupt("the test delivery was not queued".into()))?;
        outbox::delivery_from_row(outbox_row, &row)
    }

    /// The delivery log, newest first.
    pub async fn deliveries(&self, limit: u64) -> Result<Vec<Delivery>, ServiceError> {
        outbox::log(&self.inner.db, limit).await
    }

    /// Deliveries waiting (pending): the outbox backlog.
    pub async fn backlog(&self) -> Result<u64, ServiceError> {
        Ok(notification_outbox::Entity::find()
            .filter(notification_outbox::Column::State.eq(DeliveryState::Pending.as_str()))
            .count(&self.inner.db)
            .await?)
    }

    /// Writes `notice` to the outbox for every enabled target and wakes the delivery loop. A
    /// failure to write is logged: what happened already happened, and the caller goes on.
    pub async fn emit(&self, notice: Notice) {
        match self.emit_with(&self.inner.db, &notice).await {
            Ok(0) => {}
            Ok(count) => {
                tracing::info!(
                    event = notice.event.as_str(),
                    targets = count,
                    "notification queued"
                );
                self.inner.wake.notify_one();
                self.inner.events.publish(ServerEvent::DeliveriesChanged);
            }
            Err(err) => tracing::error!(
                event = notice.event.as_str(),
                "cannot queue the notification `{}`: {err}",
                notice.summary
            ),
        }
    }

    /// Writes `notice` to the outbox inside the caller's transaction; the caller wakes the loop
    /// (with [`Notifier::wake`]) after committing. Answers how many deliveries were queued.
    pub async fn emit_with(
        &self,
        db: &impl ConnectionTrait,
        notice: &Notice,
    ) -> Result<usize, ServiceError> {
        let targets = notification_target::Entity::find()
            .filter(notification_target::Column::Enabled.eq(true))
            .filter(notification_target::Column::Removed.eq(false))
            .all(db)
            .await?;
        if targets.is_empty() {
            return Ok(0);
        }
        Ok(outbox::enqueue(db, self, notice, &targets).await?.len())
    }

    /// Wakes the delivery loop (after a commit that queued deliveries).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
        self.inner.events.publish(ServerEvent::DeliveriesChanged);
    }

    /// Tells the targets that an install, rollback or download started (installs and rollbacks
    /// only) or ended.
    pub async fn job_changed(&self, job: &JobInfo) {
        if let Some(notice) = job_notice(job, &self.inner.node_name) {
            self.emit(notice).await;
        }
    }

    /// The delivery loop, until its task is stopped.
    pub async fn deliver(self) {
        outbox::run(self).await
    }

    /// The webhook body of a notice: `{"type", "timestamp", "data"}`.
    fn body(&self, notice: &Notice) -> Value {
        let mut data = notice.data.clone();
        data.insert("summary".into(), notice.summary.clone().into());
        data.insert("server".into(), self.inner.node_name.clone().into());
        json!({
            "type": notice.event.as_str(),
            "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        })
    }

    async fn live_target(&self, id: i64) -> Result<notification_target::Model, ServiceError> {
        let not_found = || ServiceError::TargetNotFound(id);
        let key = i32::try_from(id).map_err(|_| not_found())?;
        notification_target::Entity::find_by_id(key)
            .filter(notification_target::Column::Removed.eq(false))
            .one(&self.inner.db)
            .await?
            .ok_or_else(not_found)
    }
}

/// The event an install, rollback or download change is, if it is one.
fn job_notice(job: &JobInfo, server: &str) -> Option<Notice> {
    let what = match (job.kind, job.patch) {
        (JobKind::Rollback, _) => "the rollback to the base release".to_owned(),
        (_, Some(patch)) => format!("Patch {patch}"),
        (_, None) => "the patch".to_owned(),
    };
    let (event, summary) = match (job.kind, job.state) {
        (JobKind::Download, JobState::Succeeded) => (
            EventType::DownloadSucceeded,
            format!("{what} was downloaded to SMS server {server}."),
        ),
        (JobKind::Download, JobState::Failed) => (
            EventType::DownloadFailed,
            format!("The download of {what} to SMS server {server} failed."),
        ),
        (JobKind::Install, JobState::Running) => (
            EventType::InstallStarted,
            format!("The install of {what} started on SMS server {server}."),
        ),
        (JobKind::Install, JobState::Succeeded) => (
            EventType::InstallSucceeded,
            format!("{what} was installed on SMS server {server}."),
        ),
        (JobKind::Install, JobState::Failed) => (
            EventType::InstallFailed,
            format!("The install of {what} on SMS server {server} failed."),
        ),
        (JobKind::Rollback, JobState::Running) => (
            EventType::RollbackStarted,
            format!("The rollback to the base release started on SMS server {server}."),
        ),
        (JobKind::Rollback, JobState::Succeeded) => (
            EventType::RollbackSucceeded,
            format!("SMS server {server} was rolled back to the base release."),
        ),
        (JobKind::Rollback, JobState::Failed) => (
            EventType::RollbackFailed,
            format!("The rollback of SMS server {server} failed."),
        ),
        _ => return None,
    };
    let mut notice = Notice::new(event, summary)
        .with("job", job.id)
        .with("by", job.started_by.clone());
    if let Some(patch) = job.patch {
        notice = notice.with("patch", patch.to_string());
    }
    if let Some(from) = job.from_level {
        notice = notice.with("from_level", from.0);
    }
    if let Some(to) = job.to_level {
        notice = notice.with("to_level", to.0);
    }
    if job.kind == JobKind::Download && job.total_bytes > 0 {
        notice = notice.with("bytes", job.total_bytes);
    }
    if let Some(error) = &job.error {
        notice.summary = format!("{} {}", notice.summary, error.message);
        notice = notice.with(
            "error",
            json!({"code": error.code, "message": error.message}),
        );
    }
    Some(notice)
}

/// A new webhook secret: `whsec_` and 32 random bytes in base64.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn check_url(text: &str) -> Result<String, ServiceError> {
    let invalid = |why: &str| ServiceError::BadWebhookUrl {
        url: text.to_owned(),
        why: why.to_owned(),
    };
    let url = reqwest::Url::parse(text.trim()).map_err(|err| invalid(&err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("it must start with https:// (or http://)"));
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(invalid("it names no host"));
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<std::net::IpAddr>()
        && let Some(kind) = crate::service::outbound::refused_kind(ip)
    {
        let refused = crate::service::outbound::RefusedAddress {
            host: host.to_owned(),
            ip,
            kind,
        };
        return Err(invalid(&format!(
            "{refused}, which the server never sends to"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it holds a user name or password; the signature authenticates the server",
        ));
    }
    Ok(url.to_string())
}

fn id_key(id: i64) -> Result<i32, ServiceError> {
    i32::try_from(id).map_err(|_| ServiceError::TargetNotFound(id))
}

fn target_from_row(row: notification_target::Model) -> Result<Target, ServiceError> {
    Ok(Target {
        id: i64::from(row.id),
        kind: row
            .kind
            .parse()
            .map_err(|err: String| ServiceError::Corrupt(format!("target {}: {err}", row.id)))?,
        destination: row.destination,
        enabled: row.enabled,
        disabled_reason: row.disabled_reason,
        created_at: row.created_at,
        created_by: row.created_by,
    })
}

/// Rows of the outbox read for the log, at most this many.
pub const LOG_LIMIT: u64 = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_install_says_why_in_its_summary_and_data() {
        let job = JobInfo {
            id: 7,
            kind: JobKind::Install,
            patch: Some("6.4.0.5".parse().unwrap()),
            state: JobState::Failed,
            stage: None,
            done_bytes: 0,
            total_bytes: 0,
            error: Some(shared::api::ErrorBody {
                code: "postcheck_failed".into(),
                message: "The new level did not come up; the server is back at level 4.".into(),
            }),
            started_by: "admin".into(),
            started_at: Utc::now(),
            finished_at: None,
            from_level: Some(shared::PatchLevel(4)),
            to_level: Some(shared::PatchLevel(5)),
            stages: Vec::new(),
            scheduled_for: None,
            window_end: None,
            schedule_note: None,
            backup: None,
        };
        let notice = job_notice(&job, "sms-1").unwrap();
        assert_eq!(notice.event, EventType::InstallFailed);
        assert!(notice.summary.contains("Patch 6.4.0.5"));
        assert!(notice.summary.contains("back at level 4"));
        assert_eq!(notice.data["error"]["code"], "postcheck_failed");
        assert_eq!(notice.data["to_level"], 5);
        let downloading = JobInfo {
            kind: JobKind::Download,
            state: JobState::Running,
            ..job
        };
        assert!(job_notice(&downloading, "sms-1").is_none());
    }

    #[test]
    fn webhook_urls_are_checked() {
        assert!(check_url("https://hooks.example.com/sms").is_ok());
        for bad in [
            "ftp://x/y",
            "not a url",
            "https://user:pw@x/",
            "http://169.254.169.254/latest",
            "http://[::ffff:169.254.169.254]/",
            "http://0.0.0.0:8080/",
        ] {
            let err = check_url(bad).unwrap_err();
            assert!(matches!(err, ServiceError::BadWebhookUrl { .. }));
        }
        assert!(new_secret().starts_with("whsec_"));
        assert!(send::secret_key(&new_secret()).is_ok());
    }
}
