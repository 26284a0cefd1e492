//! `tmc_state`: the one row (id 1) with the accepted catalog's serial and the last check.

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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
