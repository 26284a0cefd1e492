//! `installed_state`: the one row (id 1) saying which version, build and patch level run here.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "installed_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub product_version: String,
    pub build: String,
    pub patch_level: i32,
    pub installed_at: DateTimeUtc,
    pub installed_by: String,
    /// The node the row belongs to ('' on a single server).
    pub node: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
