//! Rows a test or a bench needs in numbers no real flow makes quickly: a long history of
//! installs and rollbacks, written straight into the server's database.

use backend::storage::db::Db;
use backend::storage::entity::job;
use chrono::{Duration, Utc};
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait};
use shared::panel::{JobKind, JobState};

/// Writes `count` finished jobs of a single server (node ''), oldest first, one a day up to
/// yesterday: an install of patch 2 (by `admin`) then its rollback, again and again.
pub async fn history(db: &Db, count: usize) -> Result<(), DbErr> {
    let now = Utc::now();
    let rows: Vec<job::ActiveModel> = (0..count)
        .map(|n| {
            let started = now - Duration::days(i64::try_from(count - n).unwrap_or(i64::MAX));
            let install = n % 2 == 0;
            let (kind, patch, from, to) = if install {
                (JobKind::Install, Some("6.4.0.2".to_owned()), 0, 2)
            } else {
                (JobKind::Rollback, None, 2, 0)
            };
            job::ActiveModel {
                kind: Set(kind.as_str().to_owned()),
                patch: Set(patch),
                state: Set(JobState::Succeeded.as_str().to_owned()),
                stage: Set(None),
                done_bytes: Set(0),
                total_bytes: Set(0),
                error_code: Set(None),
                error_message: Set(None),
                started_by: Set("admin".to_owned()),
                started_at: Set(started),
                finished_at: Set(Some(started + Duration::seconds(42))),
                from_level: Set(Some(from)),
                to_level: Set(Some(to)),
                node: Set(String::new()),
                scheduled_for: Set(None),
                window_end: Set(None),
                schedule_note: Set(None),
                upcoming_sent: Set(false),
                ..Default::default()
            }
        })
        .collect();
    for chunk in rows.chunks(200) {
        job::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok(())
}
