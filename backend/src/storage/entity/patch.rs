//! `patches`: verified packages in the patch repository.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub product_version: String,
    pub patch: i32,
    pub build: String,
    pub title: String,
    pub released: String,
    pub updates: String,
    pub client_version: Option<String>,
    pub restart: String,
    pub database_changes: bool,
    pub rollback: bool,
    pub key_id: String,
    #[sea_orm(column_type = "Text")]
    pub release_notes: String,
    pub size: i64,
    pub sha256: String,
    pub file_name: String,
    pub source: String,
    pub imported_at: DateTimeUtc,
    pub imported_by: String,
    /// The node the row belongs to ('' on a single server).
    pub node: String,
    /// What the package's payload changes, as JSON (`shared::effects::PatchChanges`); NULL for
    /// a package recorded before the server recorded it.
    #[sea_orm(column_type = "Text", nullable)]
    pub changes: Option<String>,
    /// The server schema migrations its executable brings beyond the server that stored it, as
    /// a JSON list (docs/schema.md); NULL when it brings none.
    #[sea_orm(column_type = "Text", nullable)]
    pub server_migrations: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
