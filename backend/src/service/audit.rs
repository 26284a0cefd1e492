//! The audit log: who did what, when, from where, and how it ended.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use shared::api::{AuditEntry, AuditOutcome, AuditPage};

use crate::service::ServiceError;
use crate::storage::db::Db;
use crate::storage::entity::audit_log;

/// `[audit]`: how much of the audit log is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Entries older than this many days are removed (at least 1).
    pub keep_days: u32,
    /// At most this many entries are kept, the oldest go first (at least 100).
    pub max_entries: u64,
}

impl AuditConfig {
    /// Brings the limits into their ranges.
    pub fn settle(&mut self) {
        self.keep_days = self.keep_days.max(1);
        self.max_entries = self.max_entries.max(100);
    }
}

/// One thing worth recording.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor: Option<String>,
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub source: Option<String>,
    pub details: Option<String>,
}

impl AuditEvent {
    /// A successful `action` by `actor`.
    pub fn success(action: &'static str, actor: impl Into<String>) -> Self {
        Self {
            actor: Some(actor.into()),
            action,
            target: None,
            outcome: AuditOutcome::Success,
            source: None,
            details: None,
        }
    }

    /// A failed `action` by `actor`.
    pub fn failure(action: &'static str, actor: impl Into<String>) -> Self {
        Self {
            outcome: AuditOutcome::Failure,
            ..Self::success(action, actor)
        }
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn source(mut self, source: Option<String>) -> Self {
        self.source = source;
        self
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }
}

/// Writes and reads the audit log.
#[derive(Debug, Clone)]
pub struct Audit {
    db: Db,
}

/// Entries per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: u64 = 50;

impl Audit {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Records `event` now.
    pub async fn record(&self, event: AuditEvent) -> Result<(), ServiceError> {
        record_with(&self.db, event).await
    }

    /// Removes the entries older than `keep.keep_days`, then the oldest past
    /// `keep.max_entries`. Returns how many went.
    pub async fn prune(&self, keep: AuditConfig) -> Result<u64, ServiceError> {
        let cutoff = Utc::now() - chrono::Duration::days(keep.keep_days.into());
        let mut removed = audit_log::Entity::delete_many()
            .filter(audit_log::Column::At.lt(cutoff))
            .exec(&self.db)
            .await?
            .rows_affected;
        let newest_dropped = audit_log::Entity::find()
            .order_by_desc(audit_log::Column::Id)
            .offset(keep.max_entries)
            .limit(1)
            .one(&self.db)
            .await?;
        if let Some(row) = newest_dropped {
            removed += audit_log::Entity::delete_many()
                .filter(audit_log::Column::Id.lte(row.id))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        Ok(removed)
    }

    /// One page of the log, newest first. `page` counts from 1.
    pub async fn list(&self, page: u64, per_page: u64) -> Result<AuditPage, ServiceError> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, shared::api::MAX_PER_PAGE);
        let total = audit_log::Entity::find().count(&self.db).await?;
        let rows = audit_log::Entity::find()
            .order_by_desc(audit_log::Column::Id)
            .offset((page - 1).saturating_mul(per_page))
            .limit(per_page)
            .all(&self.db)
            .await?;
        let entries = rows
            .into_iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AuditPage {
            entries,
            page,
            per_page,
            total,
        })
    }
}

/// The longest actor and source kept, in characters (longer ones are cut, marked with `…`).
pub const MAX_ACTOR_CHARS: usize = 64;
/// The longest target kept, in characters.
pub const MAX_TARGET_CHARS: usize = 256;
/// The longest details kept, in characters.
pub const MAX_DETAILS_CHARS: usize = 2000;

/// `text` cut to at most `max` characters, the cut marked with `…`.
fn bounded(text: Option<String>, max: usize) -> Option<String> {
    text.map(
        |text| match text.char_indices().nth(max.saturating_sub(1)) {
            Some((at, _)) if text.chars().count() > max => format!("{}…", &text[..at]),
            _ => text,
        },
    )
}

/// Records `event` on `db`, which may be a transaction so the entry commits with the change.
/// Over-long fields (a user name or URL an attacker made up) are cut to sane lengths.
pub async fn record_with(db: &impl ConnectionTrait, event: AuditEvent) -> Result<(), ServiceError> {
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(bounded(event.actor, MAX_ACTOR_CHARS)),
        action: Set(event.action.to_owned()),
        target: Set(bounded(event.target, MAX_TARGET_CHARS)),
        outcome: Set(event.outcome.as_str().to_owned()),
        source: Set(bounded(event.source, MAX_ACTOR_CHARS)),
        details: Set(bounded(event.details, MAX_DETAILS_CHARS)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn entry_from_row(row: audit_log::Model) -> Result<AuditEntry, ServiceError> {
    let outcome = match row.outcome.as_str() {
        "success" => AuditOutcome::Success,
        "failure" => AuditOutcome::Failure,
        other => {
            return Err(ServiceError::Corrupt(format!(
                "audit entry {} has the unknown outcome `{other}`",
                row.id
            )));
        }
    };
    Ok(AuditEntry {
        id: row.id.into(),
        at: row.at,
        actor: row.actor,
        action: row.action,
        target: row.target,
        outcome,
        source: row.source,
        details: row.details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_fields_are_cut_on_a_character_boundary() {
        assert_eq!(bounded(Some("short".into()), 8), Some("short".into()));
        assert_eq!(bounded(Some("exactly8".into()), 8), Some("exactly8".into()));
        assert_eq!(bounded(Some("ééééééééé".into()), 4), Some("ééé…".into()));
        assert_eq!(bounded(None, 4), None);
    }
}
