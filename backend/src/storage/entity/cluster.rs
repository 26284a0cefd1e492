//! `cluster`: the one row (id 1) with the leadership lease and whether clustering is enabled.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cluster")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// The node holding the lease (the active one), if any.
    pub holder: Option<String>,
    /// When the lease runs out unless renewed (database time).
    pub expires_at: Option<DateTimeUtc>,
    pub enabled: bool,
    pub changed_by: Option<String>,
    pub changed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
