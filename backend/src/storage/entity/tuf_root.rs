//! `tuf_root`: the one row (id 1) with the newest verified root metadata of the TMC feed, the
//! trust every check starts from (docs/tmc-protocol.md, format 2).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tuf_root")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub version: i64,
    /// The root metadata's bytes exactly as the TMC served them (or as `--trust-root` gave them).
    #[sea_orm(column_type = "Text")]
    pub root: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
