//! `tmc_state`: the one row (id 1) with the accepted catalog's serial, the last check, and the
//! feed's timestamp.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tmc_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub serial: Option<i64>,
    pub connection: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
    pub last_check: Option<DateTimeUtc>,
    pub last_success: Option<DateTimeUtc>,
    /// The stable code of the last check's failure (`metadata_expired`, ...), if it failed.
    pub code: Option<String>,
    /// The accepted feed's timestamp role: its version, when this server first saw that
    /// version, and when it expires (format 2).
    pub timestamp_version: Option<i64>,
    pub timestamp_seen: Option<DateTimeUtc>,
    pub timestamp_expires: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
