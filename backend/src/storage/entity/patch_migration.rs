//! `patch_migrations`: the database migrations of patches that ran on this database.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patch_migrations")]
pub struct Model {
    /// The migration's number (`NNNN` of `NNNN-name.up.sql`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i32,
    pub name: String,
    /// SHA-256 of the up migration's SQL, lowercase hex.
    pub sha256: String,
    /// The patch level whose switch ran it.
    pub level: i32,
    pub applied_at: DateTimeUtc,
    /// The SQL that undoes it (absent when the patch cannot be rolled back).
    #[sea_orm(column_type = "Text", nullable)]
    pub down_sql: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
