//! Jobs: downloads, installs and rollbacks (`GET /api/v1/jobs/{id}`), their stages and how
//! each ended.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::api::ErrorBody;
use crate::effects::Restart;
use crate::{PatchId, PatchLevel};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Download,
    Install,
    Rollback,
    /// A database backup taken on demand (docs/backups.md).
    Backup,
    /// A database backup restored from the console (docs/backups.md).
    Restore,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Download => "download",
            JobKind::Install => "install",
            JobKind::Rollback => "rollback",
            JobKind::Backup => "backup",
            JobKind::Restore => "restore",
        }
    }

    /// Installs, rollbacks and restores: they run alone, stop the clients, restart the server,
    /// and make the patch history.
    pub fn is_patch_job(self) -> bool {
        matches!(
            self,
            JobKind::Install | JobKind::Rollback | JobKind::Restore
        )
    }
}

impl std::str::FromStr for JobKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "download" => Ok(JobKind::Download),
            "install" => Ok(JobKind::Install),
            "rollback" => Ok(JobKind::Rollback),
            "backup" => Ok(JobKind::Backup),
            "restore" => Ok(JobKind::Restore),
            other => Err(format!("unknown job kind `{other}`")),
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its time (`scheduled_for`): an install or rollback scheduled for a window.
    Scheduled,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Scheduled => "scheduled",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        !matches!(self, JobState::Running | JobState::Scheduled)
    }
}

impl std::str::FromStr for JobState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "scheduled" => Ok(JobState::Scheduled),
            "running" => Ok(JobState::Running),
            "succeeded" => Ok(JobState::Succeeded),
            "failed" => Ok(JobState::Failed),
            "cancelled" => Ok(JobState::Cancelled),
            other => Err(format!("unknown job state `{other}`")),
        }
    }
}

/// `GET /api/v1/jobs/{id}`, and the `job` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct JobInfo {
    pub id: i64,
    pub kind: JobKind,
    pub patch: Option<PatchId>,
    pub state: JobState,
    /// The stage running now, or the last one.
    pub stage: Option<Stage>,
    /// Bytes done and expected (downloads).
    pub done_bytes: u64,
    pub total_bytes: u64,
    /// Why it failed.
    pub error: Option<ErrorBody>,
    pub started_by: String,
    #[serde(deserialize_with = "crate::time::utc")]
    pub started_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Installs and rollbacks: the patch level before and the one aimed at.
    #[serde(default)]
    pub from_level: Option<PatchLevel>,
    #[serde(default)]
    pub to_level: Option<PatchLevel>,
    /// Installs and rollbacks: every stage in order, as journaled.
    #[serde(default)]
    pub stages: Vec<StageInfo>,
    /// A scheduled job: when it starts (the opening of its window, or the time asked for).
    #[serde(default)]
    #[serde(deserialize_with = "crate::time::utc_opt")]
    pub scheduled_for: Option<DateTime<Utc>>,
    /// A scheduled job: the end of the window it must start in.
    #[serde(default)]
    #[serde(deserialize_with = "crate::time::utc_opt")]
    pub window_end: Option<DateTime<Utc>>,
    /// A scheduled job: what it waits for, in words (e.g. that it missed a window).
    #[serde(default)]
    pub schedule_note: Option<String>,
    /// A restore, or a rollback that restores a backup: the backup's id (docs/backups.md).
    #[serde(default)]
    pub backup: Option<String>,
}

/// One stage of an install or rollback, as journaled when it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StageInfo {
    /// Which stage.
    pub name: Stage,
    /// Not started yet: none.
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended, once it did.
    pub outcome: Option<StageOutcome>,
}

/// A stage of a job, as journaled; on the wire and in the database its `snake_case` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A download's one stage.
    Download,
    Verify,
    Precheck,
    /// The active node of a cluster sends the patch to the passive node and starts it there.
    PeerPush,
    /// A backup of the database, before a patch that changes it (docs/backups.md).
    Backup,
    StopClients,
    StagePayload,
    /// A restore puts the backup's database in place of the running one, in one transaction.
    RestoreDatabase,
    Switch,
    Restart,
    Reboot,
    Postcheck,
    /// The active node waits for the passive node's install.
    PeerInstall,
    Done,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 14] = [
        Stage::Download,
        Stage::Verify,
        Stage::Precheck,
        Stage::PeerPush,
        Stage::Backup,
        Stage::StopClients,
        Stage::StagePayload,
        Stage::RestoreDatabase,
        Stage::Switch,
        Stage::Restart,
        Stage::Reboot,
        Stage::Postcheck,
        Stage::PeerInstall,
        Stage::Done,
    ];

    /// The `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Download => "download",
            Stage::Verify => "verify",
            Stage::Precheck => "precheck",
            Stage::PeerPush => "peer_push",
            Stage::Backup => "backup",
            Stage::StopClients => "stop_clients",
            Stage::StagePayload => "stage_payload",
            Stage::RestoreDatabase => "restore_database",
            Stage::Switch => "switch",
            Stage::Restart => "restart",
            Stage::Reboot => "reboot",
            Stage::Postcheck => "postcheck",
            Stage::PeerInstall => "peer_install",
            Stage::Done => "done",
        }
    }

    /// The stage in words, for people.
    pub fn in_words(self) -> &'static str {
        match self {
            Stage::Verify => "Verify the package",
            Stage::Precheck => "Check the server can take it",
            Stage::StopClients => "Stop client connections",
            Stage::StagePayload => "Stage the patch files",
            Stage::Switch => "Switch to the new level",
            Stage::Restart => "Restart the SMS server application",
            Stage::Reboot => "Reboot the SMS server",
            Stage::Postcheck => "Check the server at the new level",
            Stage::Done => "Done",
            Stage::PeerPush => "Send the patch to the passive node and start its install",
            Stage::PeerInstall => "Wait for the passive node to install it",
            Stage::Download => "Download",
            Stage::Backup => "Back up the database",
            Stage::RestoreDatabase => "Put the backup's database in place",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == s)
            .ok_or_else(|| format!("unknown stage `{s}`"))
    }
}

/// How a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StageOutcome {
    Ok,
    Failed,
}

impl StageOutcome {
    /// `ok` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StageOutcome::Ok => "ok",
            StageOutcome::Failed => "failed",
        }
    }

    /// `Ok` when `ok`.
    pub fn of(ok: bool) -> Self {
        if ok {
            StageOutcome::Ok
        } else {
            StageOutcome::Failed
        }
    }
}

impl FromStr for StageOutcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ok" => Ok(StageOutcome::Ok),
            "failed" => Ok(StageOutcome::Failed),
            other => Err(format!("unknown stage outcome `{other}`")),
        }
    }
}

/// The stages of an install, in order; `reboot` takes the place of `restart` when the patch
/// needs a reboot.
pub fn install_stages(restart: Restart) -> [Stage; 8] {
    let restart = match restart {
        Restart::Application => Stage::Restart,
        Restart::Reboot => Stage::Reboot,
    };
    [
        Stage::Verify,
        Stage::Precheck,
        Stage::StopClients,
        Stage::StagePayload,
        Stage::Switch,
        restart,
        Stage::Postcheck,
        Stage::Done,
    ]
}

/// The stages of an install started on the active node of an enabled HA cluster: the package
/// goes to the passive node, which installs it too, and the job ends when both have.
pub fn clustered_install_stages(restart: Restart) -> Vec<Stage> {
    let mut stages = install_stages(restart).to_vec();
    stages.insert(2, Stage::PeerPush);
    stages.insert(stages.len() - 1, Stage::PeerInstall);
    stages
}

/// The stages of the install of a patch that changes the database: `stages` with a backup of
/// the database right after the pre-checks, before anything changes.
pub fn with_backup(mut stages: Vec<Stage>) -> Vec<Stage> {
    let at = stages
        .iter()
        .position(|stage| *stage == Stage::Precheck)
        .map_or(0, |precheck| precheck + 1);
    stages.insert(at, Stage::Backup);
    stages
}

/// The stages of a rollback, in order.
pub const ROLLBACK_STAGES: [Stage; 6] = [
    Stage::Precheck,
    Stage::StopClients,
    Stage::Switch,
    Stage::Restart,
    Stage::Postcheck,
    Stage::Done,
];

/// The stages of a restore (and of a rollback that restores the backup taken before its
/// patch): the payload of the backup's level is staged only when that level is neither the
/// running one nor the base, and the install root switches only when the level differs.
pub fn restore_stages(stage_level: bool, switch: bool) -> Vec<Stage> {
    let mut stages = vec![Stage::Verify, Stage::Precheck, Stage::StopClients];
    if stage_level {
        stages.push(Stage::StagePayload);
    }
    stages.push(Stage::RestoreDatabase);
    if switch {
        stages.push(Stage::Switch);
    }
    stages.extend([Stage::Restart, Stage::Postcheck, Stage::Done]);
    stages
}

impl JobInfo {
    /// Progress in whole percent (0 to 100).
    pub fn percent(&self) -> u8 {
        if self.state == JobState::Succeeded {
            return 100;
        }
        if self.total_bytes == 0 {
            return 0;
        }
        let percent = self.done_bytes.min(self.total_bytes) * 100 / self.total_bytes;
        u8::try_from(percent).unwrap_or(100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_travel_as_their_snake_case_names() {
        for stage in Stage::ALL {
            let json = serde_json::to_string(&stage).unwrap();
            assert_eq!(json, format!("\"{}\"", stage.as_str()));
            assert_eq!(stage.as_str().parse::<Stage>(), Ok(stage));
        }
        assert!("reboot_now".parse::<Stage>().is_err());
        assert_eq!(
            serde_json::to_string(&StageOutcome::Failed).unwrap(),
            "\"failed\""
        );
        assert_eq!("ok".parse::<StageOutcome>(), Ok(StageOutcome::Ok));
    }

    #[test]
    fn a_clustered_install_sends_the_patch_after_the_precheck_and_waits_before_done() {
        let stages = clustered_install_stages(Restart::Application);
        assert_eq!(stages[2], Stage::PeerPush);
        assert_eq!(stages[stages.len() - 2], Stage::PeerInstall);
        assert_eq!(install_stages(Restart::Reboot)[5], Stage::Reboot);
    }

    #[test]
    fn a_restore_swaps_the_database_after_stopping_clients_and_switches_only_when_the_level_differs()
     {
        let same = restore_stages(false, false);
        assert_eq!(
            same,
            [
                Stage::Verify,
                Stage::Precheck,
                Stage::StopClients,
                Stage::RestoreDatabase,
                Stage::Restart,
                Stage::Postcheck,
                Stage::Done
            ]
        );
        let other = restore_stages(true, true);
        assert_eq!(other[3], Stage::StagePayload);
        assert_eq!(other[5], Stage::Switch);
    }
}
