//! `tmc_patches`: the patches of the last accepted TMC catalog.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tmc_patches")]
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
    #[sea_orm(column_type = "Text")]
    pub url: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
