//! `devices`: the managed IPS devices and their last polled status.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    #[sea_orm(unique)]
    pub url: String,
    pub model: Option<String>,
    pub tos_version: Option<String>,
    pub state: String,
    pub uptime_seconds: Option<i64>,
    pub packets_inspected: Option<i64>,
    pub last_contact: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
    pub added_by: String,
    pub added_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
