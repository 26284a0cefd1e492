//! `jobs`: downloads, installs and rollbacks, with their progress and outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub kind: String,
    pub patch: Option<String>,
    pub state: String,
    pub stage: Option<String>,
    pub done_bytes: i64,
    pub total_bytes: i64,
    pub error_code: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error_message: Option<String>,
    pub started_by: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub from_level: Option<i32>,
    pub to_level: Option<i32>,
    /// The node the row belongs to ('' on a single server).
    pub node: String,
    /// A scheduled job: when it starts, and the end of the window it must start in.
    pub scheduled_for: Option<DateTimeUtc>,
    pub window_end: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub schedule_note: Option<String>,
    /// Whether `job.upcoming` was sent for it.
    pub upcoming_sent: bool,
    /// A restore, or a rollback that restores a backup: the backup's id.
    pub backup: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
