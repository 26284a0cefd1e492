//! Recording what a check accepted or why it failed: the catalog's patches, the TMC state
//! and the trusted root, each in one transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use shared::PatchId;
use shared::panel::{FeedInfo, TmcConnection};

use super::feed::FeedCheck;
use super::{CheckError, CheckOutcome, ROW_ID, TmcSync, row_id};
use crate::package::catalog::{Catalog, CatalogEntry};
use crate::storage::entity::{tmc_patch, tmc_state, tuf_root};

impl TmcSync {
    /// Replaces the recorded catalog with `catalog`, in one transaction.
    pub(super) async fn record(&self, catalog: &Catalog) -> Result<CheckOutcome, CheckError> {
        let txn = crate::storage::db::begin_write(&self.db).await?;
        let outcome = replace_catalog(&txn, &catalog.patches).await?;
        let now = Utc::now();
        let serial = i64::try_from(catalog.serial)
            .map_err(|_| CheckError::Invalid("the catalog's serial is too large".into()))?;
        let state = tmc_state::ActiveModel {
            id: Set(ROW_ID),
            serial: Set(Some(serial)),
            connection: Set("connected".into()),
            message: Set(None),
            last_check: Set(Some(now)),
            last_success: Set(Some(now)),
            code: Set(None),
            timestamp_version: Set(None),
            timestamp_seen: Set(None),
            timestamp_expires: Set(None),
        };
        save_state(&txn, state).await?;
        txn.commit().await?;
        Ok(outcome)
    }

    /// Records what a check of the TUF feed accepted, in one transaction: the catalog, the
    /// timestamp's facts, and the newest verified root (the trust of every later check).
    pub(super) async fn record_feed(
        &self,
        checked: &FeedCheck,
        trusted: &[u8],
    ) -> Result<(CheckOutcome, FeedInfo), CheckError> {
        let too_large = || CheckError::Invalid("a TUF version number is too large".into());
        let txn = crate::storage::db::begin_write(&self.db).await?;
        let outcome = replace_catalog(&txn, &checked.patches).await?;
        let now = Utc::now();
        let previous = tmc_state::Entity::find_by_id(ROW_ID).one(&txn).await?;
        let version = i64::try_from(checked.timestamp_version).map_err(|_| too_large())?;
        // The feed's age: when this server first saw the timestamp version in use.
        let seen = previous
            .as_ref()
            .filter(|row| row.timestamp_version == Some(version))
            .and_then(|row| row.timestamp_seen)
            .unwrap_or(now);
        let state = tmc_state::ActiveModel {
            id: Set(ROW_ID),
            serial: Set(Some(version)),
            connection: Set("connected".into()),
            message: Set(None),
            last_check: Set(Some(now)),
            last_success: Set(Some(now)),
            code: Set(None),
            timestamp_version: Set(Some(version)),
            timestamp_seen: Set(Some(seen)),
            timestamp_expires: Set(Some(checked.timestamp_expires)),
        };
        save_state(&txn, state).await?;
        let stored = tuf_root::Entity::find_by_id(ROW_ID).one(&txn).await?;
        let root = checked.new_root.as_deref().unwrap_or(trusted);
        let root_version = i64::try_from(checked.root_version).map_err(|_| too_large())?;
        if stored.as_ref().is_none_or(|row| row.version < root_version) {
            let text = String::from_utf8(root.to_vec())
                .map_err(|_| CheckError::Invalid("the root metadata is not UTF-8".into()))?;
            let row = tuf_root::ActiveModel {
                id: Set(ROW_ID),
                version: Set(root_version),
                root: Set(text),
                updated_at: Set(now),
            };
            if stored.is_some() {
                row.update(&txn).await?;
            } else {
                row.insert(&txn).await?;
            }
            tracing::info!(
                "this server now trusts version {} of the TMC feed's root metadata",
                checked.root_version
            );
        }
        txn.commit().await?;
        Ok((
            outcome,
            FeedInfo {
                root_version: checked.root_version,
                timestamp_version: checked.timestamp_version,
                timestamp_seen: seen,
                timestamp_expires: checked.timestamp_expires,
            },
        ))
    }

    pub(super) async fn record_failure(
        &self,
        connection: TmcConnection,
        code: &str,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let row = tmc_state::Entity::find_by_id(ROW_ID).one(&self.db).await?;
        let state = tmc_state::ActiveModel {
            id: Set(ROW_ID),
            serial: Set(row.as_ref().and_then(|r| r.serial)),
            connection: Set(match connection {
                TmcConnection::Unreachable => "unreachable".into(),
                TmcConnection::CertificateInvalid => "certificate_invalid".into(),
                _ => "invalid".into(),
            }),
            message: Set(Some(message.to_owned())),
            last_check: Set(Some(at)),
            last_success: Set(row.as_ref().and_then(|r| r.last_success)),
            code: Set(Some(code.to_owned())),
            timestamp_version: Set(row.as_ref().and_then(|r| r.timestamp_version)),
            timestamp_seen: Set(row.as_ref().and_then(|r| r.timestamp_seen)),
            timestamp_expires: Set(row.and_then(|r| r.timestamp_expires)),
        };
        save_state(&self.db, state).await
    }
}

/// The feed's facts as the database keeps them.
pub(super) fn feed_info(
    row: &tmc_state::Model,
    root: Option<&tuf_root::Model>,
) -> Option<FeedInfo> {
    Some(FeedInfo {
        root_version: u64::try_from(root?.version).ok()?,
        timestamp_version: u64::try_from(row.timestamp_version?).ok()?,
        timestamp_seen: row.timestamp_seen?,
        timestamp_expires: row.timestamp_expires?,
    })
}

/// Replaces the recorded catalog's patches with `patches`; returns those that are new.
async fn replace_catalog<C: sea_orm::ConnectionTrait>(
    txn: &C,
    patches: &[CatalogEntry],
) -> Result<CheckOutcome, sea_orm::DbErr> {
    let before: Vec<PatchId> = tmc_patch::Entity::find()
        .all(txn)
        .await?
        .iter()
        .filter_map(row_id)
        .collect();
    tmc_patch::Entity::delete_many().exec(txn).await?;
    let mut new_patches = Vec::new();
    for entry in patches {
        let Ok(id) = entry.id() else { continue };
        if !before.contains(&id) {
            new_patches.push(id);
        }
        entry_row(entry).insert(txn).await?;
    }
    Ok(CheckOutcome { new_patches })
}

async fn save_state<C: sea_orm::ConnectionTrait>(
    db: &C,
    state: tmc_state::ActiveModel,
) -> Result<(), sea_orm::DbErr> {
    if tmc_state::Entity::find_by_id(ROW_ID)
        .one(db)
        .await?
        .is_some()
    {
        state.update(db).await?;
    } else {
        state.insert(db).await?;
    }
    Ok(())
}

fn entry_row(entry: &CatalogEntry) -> tmc_patch::ActiveModel {
    tmc_patch::ActiveModel {
        product_version: Set(entry.product_version.to_string()),
        patch: Set(i32::try_from(entry.patch).unwrap_or(i32::MAX)),
        build: Set(entry.build.to_string()),
        title: Set(entry.title.clone()),
        released: Set(entry.released.to_string()),
        updates: Set(entry.updates.as_str().to_owned()),
        client_version: Set(entry.client_version.map(|c| c.to_string())),
        restart: Set(entry.restart.as_str().to_owned()),
        database_changes: Set(entry.database_changes),
        rollback: Set(entry.rollback),
        key_id: Set(entry.key_id.clone()),
        release_notes: Set(entry.release_notes.clone()),
        size: Set(i64::try_from(entry.size).unwrap_or(i64::MAX)),
        sha256: Set(entry.sha256.clone()),
        url: Set(entry.url.clone()),
        ..Default::default()
    }
}
