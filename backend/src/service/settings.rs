//! Server settings stored as key and JSON value.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};
use shared::api::Settings;

use crate::service::ServiceError;
use crate::service::audit::{self, AuditEvent};
use crate::storage::db::Db;
use crate::storage::entity::setting;

/// The key of the patch-notifications switch.
pub const NOTIFICATIONS_ENABLED: &str = "notifications_enabled";

/// Reads and changes settings; every change is audited in the same transaction.
#[derive(Debug, Clone)]
pub struct SettingsService {
    db: Db,
}

impl SettingsService {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// All settings, with defaults for those never set.
    pub async fn get(&self) -> Result<Settings, ServiceError> {
        Ok(Settings {
            notifications_enabled: self.get_bool(NOTIFICATIONS_ENABLED, true).await?,
        })
    }

    /// Turns patch notifications on or off.
    pub async fn set_notifications(
        &self,
        enabled: bool,
        actor: &str,
        source: Option<String>,
    ) -> Result<Settings, ServiceError> {
        let before = self.get_bool(NOTIFICATIONS_ENABLED, true).await?;
        let txn = crate::storage::db::begin_write(&self.db).await?;
        store(
            &txn,
            NOTIFICATIONS_ENABLED,
            serde_json::Value::Bool(enabled).to_string(),
            actor,
        )
        .await?;
        audit::record_with(
            &txn,
            AuditEvent::success("setting_change", actor)
                .target(NOTIFICATIONS_ENABLED)
                .source(source)
                .details(format!("{before} -> {enabled}")),
        )
        .await?;
        txn.commit().await?;
        self.get().await
    }

    /// A setting kept as JSON, or `None` when it was never set.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ServiceError> {
        let Some(row) = setting::Entity::find_by_id(key.to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        serde_json::from_str(&row.value)
            .map(Some)
            .map_err(|err| ServiceError::Corrupt(format!("setting `{key}`: {err}")))
    }

    /// Keeps `value` as JSON under `key`; with `audit`, records `setting_change` with those
    /// details in the same transaction.
    pub async fn set_json<T: serde::Serialize>(
        &self,
        key: &str,
        value: &T,
        actor: &str,
        audit: Option<(&'static str, String, Option<String>)>,
    ) -> Result<(), ServiceError> {
        let text = serde_json::to_string(value)
            .map_err(|err| ServiceError::Corrupt(format!("setting `{key}`: {err}")))?;
        let txn = crate::storage::db::begin_write(&self.db).await?;
        store(&txn, key, text, actor).await?;
        if let Some((action, details, source)) = audit {
            audit::record_with(
                &txn,
                AuditEvent::success(action, actor)
                    .target(key)
                    .source(source)
                    .details(details),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Keeps `value` as JSON under `key` inside the caller's transaction.
    pub async fn set_json_in<T: serde::Serialize>(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        key: &str,
        value: &T,
        actor: &str,
    ) -> Result<(), ServiceError> {
        let text = serde_json::to_string(value)
            .map_err(|err| ServiceError::Corrupt(format!("setting `{key}`: {err}")))?;
        store(txn, key, text, actor).await
    }

    async fn get_bool(&self, key: &str, default: bool) -> Result<bool, ServiceError> {
        let Some(row) = setting::Entity::find_by_id(key.to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(default);
        };
        serde_json::from_str(&row.value)
            .map_err(|err| ServiceError::Corrupt(format!("setting `{key}`: {err}")))
    }
}

/// Inserts or replaces the setting `key`.
async fn store(
    db: &impl sea_orm::ConnectionTrait,
    key: &str,
    text: String,
    actor: &str,
) -> Result<(), ServiceError> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(text),
        updated_at: Set(Utc::now()),
        updated_by: Set(Some(actor.to_owned())),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_columns([
                setting::Column::Value,
                setting::Column::UpdatedAt,
                setting::Column::UpdatedBy,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
