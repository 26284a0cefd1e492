//! The installed state: product version, build and patch level of this server.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use shared::{Build, PatchLevel, ProductVersion};

use crate::service::ServiceError;
use crate::service::schema::{LevelMigration, MigrationReport, migrate_to};
use crate::storage::db::Db;
use crate::storage::entity::installed_state;

/// `[installed]`: the state the very first start records, `product_version` (6.4.0) and
/// `build` (6.4.0.9001 for 6.4.0, `PRODUCT_VERSION.1` for others).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(try_from = "InitialSettings")]
pub struct InitialInstall {
    pub product_version: ProductVersion,
    pub build: Build,
}

/// `[installed]` as written.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct InitialSettings {
    product_version: ProductVersion,
    build: Option<Build>,
}

impl TryFrom<InitialSettings> for InitialInstall {
    type Error = String;

    fn try_from(settings: InitialSettings) -> Result<Self, String> {
        let product_version = settings.product_version;
        let first = if product_version == ProductVersion::new(6, 4, 0) {
            9001
        } else {
            1
        };
        let build = settings.build.unwrap_or(Build {
            version: product_version,
            number: first,
        });
        if build.version != product_version {
            return Err(format!(
                "the build {build} does not belong to product version {product_version}"
            ));
        }
        Ok(Self {
            product_version,
            build,
        })
    }
}

/// What runs on this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledState {
    pub product_version: ProductVersion,
    pub build: Build,
    pub patch_level: PatchLevel,
    pub installed_at: DateTime<Utc>,
    pub installed_by: String,
}

/// Reads (and on the first start, records) the installed state.
#[derive(Debug, Clone)]
pub struct Installed {
    db: Db,
    /// This node's key: each node of a cluster has its own row.
    node: String,
}

impl Installed {
    pub fn new(db: Db, node: &str) -> Self {
        Self {
            db,
            node: node.to_owned(),
        }
    }

    async fn row(&self) -> Result<Option<installed_state::Model>, ServiceError> {
        self.row_in(&self.db).await
    }

    async fn row_in<C: ConnectionTrait>(
        &self,
        db: &C,
    ) -> Result<Option<installed_state::Model>, ServiceError> {
        Ok(installed_state::Entity::find()
            .filter(installed_state::Column::Node.eq(self.node.as_str()))
            .one(db)
            .await?)
    }

    /// On a fresh database records the base release at patch level 0; otherwise leaves it alone.
    pub async fn ensure_initialized(
        &self,
        initial: &InitialInstall,
    ) -> Result<InstalledState, ServiceError> {
        if let Some(state) = self.get_opt().await? {
            return Ok(state);
        }
        // Two nodes may start at once on a fresh database: the one whose row id was taken first
        // tries the next one.
        let mut attempts = 0;
        loop {
            let last = installed_state::Entity::find()
                .order_by_desc(installed_state::Column::Id)
                .one(&self.db)
                .await?;
            let inserted = installed_state::ActiveModel {
                id: Set(last.map_or(1, |row| row.id + 1)),
                product_version: Set(initial.product_version.to_string()),
                build: Set(initial.build.to_string()),
                patch_level: Set(0),
                installed_at: Set(Utc::now()),
                installed_by: Set("system".to_owned()),
                node: Set(self.node.clone()),
            }
            .insert(&self.db)
            .await;
            match inserted {
                Ok(_) => break,
                Err(_) if attempts < 5 => {
                    attempts += 1;
                    if let Some(state) = self.get_opt().await? {
                        return Ok(state);
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
        tracing::info!(
            product_version = %initial.product_version,
            build = %initial.build,
            "recorded the base release as installed (no patch)"
        );
        self.get().await
    }

    /// Records `level` (with its `build`) as installed and brings the database schema to the
    /// level's migrations (`migrations`, cumulative) in one transaction: either both change or
    /// neither does. `before_commit` runs just before the commit.
    pub async fn switch_level(
        &self,
        level: PatchLevel,
        build: &Build,
        by: &str,
        migrations: &[LevelMigration],
        before_commit: impl FnOnce(),
    ) -> Result<MigrationReport, ServiceError> {
        self.switch_level_undoing(level, build, by, migrations, &[], before_commit)
            .await
    }

    /// [`Installed::switch_level`], undoing first, in the same transaction, the server's own
    /// migrations `builtin_undo` (newest first): those the executable of `level` does not
    /// know (docs/schema.md).
    pub async fn switch_level_undoing(
        &self,
        level: PatchLevel,
        build: &Build,
        by: &str,
        migrations: &[LevelMigration],
        builtin_undo: &[String],
        before_commit: impl FnOnce(),
    ) -> Result<MigrationReport, ServiceError> {
        let txn = crate::storage::db::begin_write(&self.db).await?;
        let row = self.row_in(&txn).await?.ok_or_else(|| {
            ServiceError::Corrupt("the installed state was never recorded".into())
        })?;
        let mut report = migrate_to(&txn, level, migrations).await?;
        if !builtin_undo.is_empty() {
            crate::service::schema::undo_builtin(&txn, builtin_undo).await?;
            report.undone.extend(builtin_undo.iter().cloned());
        }
        let mut row: installed_state::ActiveModel = row.into();
        row.patch_level = Set(i32::try_from(level.0).unwrap_or(i32::MAX));
        row.build = Set(build.to_string());
        row.installed_at = Set(Utc::now());
        row.installed_by = Set(by.to_owned());
        row.update(&txn).await?;
        before_commit();
        txn.commit().await?;
        Ok(report)
    }

    /// The server's own migrations applied to the database, oldest first.
    pub async fn builtin_applied(&self) -> Result<Vec<String>, ServiceError> {
        Ok(crate::service::schema::applied_builtin(&self.db).await?)
    }

    /// The installed state; an error if it was never recorded.
    pub async fn get(&self) -> Result<InstalledState, ServiceError> {
        self.get_opt()
            .await?
            .ok_or_else(|| ServiceError::Corrupt("the installed state was never recorded".into()))
    }

    async fn get_opt(&self) -> Result<Option<InstalledState>, ServiceError> {
        let Some(row) = self.row().await? else {
            return Ok(None);
        };
        let corrupt = |what: &str, err: &dyn std::fmt::Display| {
            ServiceError::Corrupt(format!("installed state: {what}: {err}"))
        };
        Ok(Some(InstalledState {
            product_version: row
                .product_version
                .parse()
                .map_err(|e| corrupt("product version", &e))?,
            build: row.build.parse().map_err(|e| corrupt("build", &e))?,
            patch_level: PatchLevel(
                u32::try_from(row.patch_level).map_err(|e| corrupt("patch level", &e))?,
            ),
            installed_at: row.installed_at,
            installed_by: row.installed_by,
        }))
    }
}
