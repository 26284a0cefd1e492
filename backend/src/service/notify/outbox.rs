//! The outbox: one row per event and target, written with what caused it; the delivery loop
//! that sends what is due, retries with backoff and jitter, and gives up after the last try.
//! A row is claimed before it is sent (its next try moved ahead), so two nodes on one database
//! never send it twice at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use shared::notify::{Delivery, DeliveryState, TargetKind};
use shared::panel::ServerEvent;

use super::send::Outcome;
use super::{Notice, Notifier};
use crate::service::ServiceError;
use crate::service::backoff::Backoff;
use crate::storage::entity::{notification_outbox, notification_target};

/// Tries of one delivery before it is given up.
pub const MAX_ATTEMPTS: i32 = 12;

/// The longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// How long a claimed row is left alone by other senders.
const CLAIM: Duration = Duration::from_secs(120);

/// The loop looks at the outbox at least this often.
const IDLE: Duration = Duration::from_secs(30);

/// Writes one row per target for `notice`.
pub(super) async fn enqueue(
    db: &impl ConnectionTrait,
    notifier: &Notifier,
    notice: &Notice,
    targets: &[notification_target::Model],
) -> Result<Vec<notification_outbox::Model>, ServiceError> {
    let body = notifier.body(notice).to_string();
    let now = notifier.inner.clock.now();
    let mut rows = Vec::with_capacity(targets.len());
    for target in targets {
        rows.push(
            notification_outbox::ActiveModel {
                message_id: Set(message_id()),
                target_id: Set(target.id),
                event: Set(notice.event.as_str().to_owned()),
                summary: Set(notice.summary.clone()),
                body: Set(body.clone()),
                state: Set(DeliveryState::Pending.as_str().to_owned()),
                attempts: Set(0),
                created_at: Set(Utc::now()),
                last_attempt_at: Set(None),
                next_attempt_at: Set(Some(now)),
                last_outcome: Set(None),
                ..Default::default()
            }
            .insert(db)
            .await?,
        );
    }
    Ok(rows)
}

/// Drops the waiting deliveries of a target, saying why.
pub(super) async fn drop_pending(
    db: &impl ConnectionTrait,
    target: i32,
    why: &str,
) -> Result<(), ServiceError> {
    notification_outbox::Entity::update_many()
        .col_expr(
            notification_outbox::Column::State,
            Expr::value(DeliveryState::Dropped.as_str()),
        )
        .col_expr(
            notification_outbox::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(notification_outbox::Column::LastOutcome, Expr::value(why))
        .filter(notification_outbox::Column::TargetId.eq(target))
        .filter(notification_outbox::Column::State.eq(DeliveryState::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// The delivery log, newest first.
pub(super) async fn log(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<Delivery>, ServiceError> {
    let rows = notification_outbox::Entity::find()
        .order_by_desc(notification_outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let targets = notification_target::Entity::find().all(db).await?;
    rows.into_iter()
        .map(|row| {
            let target = targets
                .iter()
                .find(|t| t.id == row.target_id)
                .ok_or_else(|| {
                    ServiceError::Corrupt(format!("delivery {} has no target", row.id))
                })?;
            delivery_from_row(row, target)
        })
        .collect()
}

pub(super) fn delivery_from_row(
    row: notification_outbox::Model,
    target: &notification_target::Model,
) -> Result<Delivery, ServiceError> {
    let corrupt = |what: &str, err: String| {
        ServiceError::Corrupt(format!("delivery {}: {what}: {err}", row.id))
    };
    let state: DeliveryState = row.state.parse().map_err(|e| corrupt("state", e))?;
    Ok(Delivery {
        id: i64::from(row.id),
        message_id: row.message_id,
        event: row.event.parse().map_err(|e| corrupt("event", e))?,
        summary: row.summary,
        target: i64::from(row.target_id),
        destination: target.destination.clone(),
        state,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        created_at: row.created_at,
        last_attempt_at: row.last_attempt_at,
        next_attempt_at: if state == DeliveryState::Pending {
            row.next_attempt_at
        } else {
            None
        },
        last_outcome: row.last_outcome,
    })
}

/// The delivery loop: sends what is due, then sleeps until the next try is due, a new row is
/// written, or [`IDLE`] passes.
pub(super) async fn run(notifier: Notifier) {
    loop {
        let next = match deliver_due(&notifier).await {
            Ok(next) => next,
            Err(err) => {
                // A full disk or a lost database: what waits stays in the outbox, and the
                // next look (at most IDLE away) goes on with it.
                tracing::error!(
                    "cannot work through the notification outbox: {err}; trying again within \
                     {IDLE:?}"
                );
                None
            }
        };
        let clock = &notifier.inner.clock;
        let wait = next.map_or(IDLE, |at| clock.until(at).min(IDLE));
        tokio::select! {
            () = notifier.inner.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Sends every due row; answers when the next pending row is due.
async fn deliver_due(notifier: &Notifier) -> Result<Option<DateTime<Utc>>, ServiceError> {
    let db = &notifier.inner.db;
    loop {
        let now = notifier.inner.clock.now();
        let due = notification_outbox::Entity::find()
            .filter(notification_outbox::Column::State.eq(DeliveryState::Pending.as_str()))
            .filter(notification_outbox::Column::NextAttemptAt.lte(now))
            .order_by_asc(notification_outbox::Column::Id)
            .limit(20)
            .all(db)
            .await?;
        if due.is_empty() {
            break;
        }
        for row in due {
            // Claimed and tried in a task of its own: a stop that ends this loop in the middle
            // of a try lets the try finish and record how it went, instead of leaving its claim
            // to run out (`CLAIM`) before anyone tries again.
            let notifier = notifier.clone();
            tokio::spawn(async move {
                if claim(&notifier, &row, now).await? {
                    deliver(&notifier, row).await?;
                }
                Ok::<(), ServiceError>(())
            })
            .await
            .map_err(|err| ServiceError::Corrupt(format!("a delivery stopped: {err}")))??;
        }
    }
    let next = notification_outbox::Entity::find()
        .filter(notification_outbox::Column::State.eq(DeliveryState::Pending.as_str()))
        .order_by_asc(notification_outbox::Column::NextAttemptAt)
        .one(db)
        .await?;
    Ok(next.and_then(|row| row.next_attempt_at))
}

/// Moves the row's next try ahead unless someone else did first.
async fn claim(
    notifier: &Notifier,
    row: &notification_outbox::Model,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let until = now + chrono::TimeDelta::from_std(CLAIM).unwrap_or(chrono::TimeDelta::MAX);
    let claimed = notification_outbox::Entity::update_many()
        .col_expr(
            notification_outbox::Column::NextAttemptAt,
            Expr::value(until),
        )
        .filter(notification_outbox::Column::Id.eq(row.id))
        .filter(notification_outbox::Column::State.eq(DeliveryState::Pending.as_str()))
        .filter(notification_outbox::Column::NextAttemptAt.eq(row.next_attempt_at))
        .exec(&notifier.inner.db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

async fn deliver(notifier: &Notifier, row: notification_outbox::Model) -> Result<(), ServiceError> {
    let db = &notifier.inner.db;
    let Some(target) = notification_target::Entity::find_by_id(row.target_id)
        .one(db)
        .await?
    else {
        return Err(ServiceError::Corrupt(format!(
            "delivery {} has no target",
            row.id
        )));
    };
    if !target.enabled || target.removed {
        let why = target
            .disabled_reason
            .clone()
            .unwrap_or_else(|| "The target was removed.".to_owned());
        let mut active: notification_outbox::ActiveModel = row.into();
        active.state = Set(DeliveryState::Dropped.as_str().to_owned());
        active.next_attempt_at = Set(None);
        active.last_outcome = Set(Some(why));
        active.update(db).await?;
        return Ok(());
    }
    let kind: TargetKind = target
        .kind
        .parse()
        .map_err(|err: String| ServiceError::Corrupt(format!("target {}: {err}", target.id)))?;
    let outcome = match kind {
        TargetKind::Webhook => {
            let secret = target.secret.clone().unwrap_or_default();
            notifier
                .inner
                .sender
                .webhook(&target.destination, &secret, &row.message_id, &row.body)
                .await
        }
        TargetKind::Email => {
            let subject = format!("[SMS {}] {}", notifier.inner.node_name, row.summary);
            let text = email_text(notifier, &row);
            notifier
                .inner
                .sender
                .email(&target.destination, &subject, &text)
                .await
        }
    };
    let attempts = row.attempts.saturating_add(1);
    let now = notifier.inner.clock.now();
    let event = row.event.clone();
    let message_id = row.message_id.clone();
    let mut active: notification_outbox::ActiveModel = row.into();
    active.attempts = Set(attempts);
    active.last_attempt_at = Set(Some(now));
    match &outcome {
        Outcome::Delivered(answer) => {
            tracing::info!(event, message_id, to = %target.destination, "notification delivered");
            active.state = Set(DeliveryState::Delivered.as_str().to_owned());
            active.next_attempt_at = Set(None);
            active.last_outcome = Set(Some(answer.clone()));
            active.update(db).await?;
        }
        Outcome::Gone(answer) => {
            tracing::warn!(to = %target.destination, "the webhook answered 410 Gone: target disabled");
            let reason = format!(
                "The receiver answered 410 Gone on {}; nothing more is sent to it. Remove it and \
                 add it again to send to it once more.",
                now.format("%Y-%m-%d %H:%M UTC")
            );
            let txn = crate::storage::db::begin_write(db).await?;
            active.state = Set(DeliveryState::Dropped.as_str().to_owned());
            active.next_attempt_at = Set(None);
            active.last_outcome = Set(Some(answer.clone()));
            active.update(&txn).await?;
            let target_id = target.id;
            let mut disabled: notification_target::ActiveModel = target.into();
            disabled.enabled = Set(false);
            disabled.disabled_reason = Set(Some(reason.clone()));
            disabled.update(&txn).await?;
            drop_pending(&txn, target_id, &reason).await?;
            txn.commit().await?;
        }
        Outcome::Retry(why) if attempts >= MAX_ATTEMPTS => {
            tracing::warn!(event, message_id, to = %target.destination, "notification given up: {why}");
            active.state = Set(DeliveryState::Failed.as_str().to_owned());
            active.next_attempt_at = Set(None);
            active.last_outcome = Set(Some(format!("{why} (given up after {attempts} tries)")));
            active.update(db).await?;
        }
        Outcome::Retry(why) => {
            let backoff = Backoff {
                first: notifier.inner.config.retry_first,
                max: MAX_WAIT,
            };
            let wait = backoff.delay_with_jitter(
                u32::try_from(attempts).unwrap_or(u32::MAX),
                OsRng.next_u32(),
            );
            let next = now + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
            tracing::info!(event, message_id, to = %target.destination, retry_at = %next, "notification not delivered: {why}");
            active.next_attempt_at = Set(Some(next));
            active.last_outcome = Set(Some(why.clone()));
            active.update(db).await?;
        }
    }
    notifier
        .inner
        .events
        .publish(ServerEvent::DeliveriesChanged);
    Ok(())
}

/// The plain text of an email: the summary, the facts, the console's address.
fn email_text(notifier: &Notifier, row: &notification_outbox::Model) -> String {
    let mut text = format!("{}\n\n", row.summary);
    if let Ok(body) = serde_json::from_str::<serde_json::Value>(&row.body)
        && let Some(data) = body.get("data").and_then(|d| d.as_object())
    {
        for (key, value) in data {
            if key == "summary" {
                continue;
            }
            let value = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!("{key}: {value}\n"));
        }
    }
    text.push_str(&format!("event: {}\nid: {}\n", row.event, row.message_id));
    if let Some(url) = &notifier.inner.config.console_url {
        text.push_str(&format!("\nOpen the console: {url}\n"));
    }
    text
}

/// A new `webhook-id`: `msg_` and 32 random hex digits.
fn message_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    format!("msg_{}", hex::encode(bytes))
}
