//! A stop asked while an install or rollback runs (`systemctl stop`, `systemctl restart`, a
//! SIGTERM) lets that job end first, so systemd never cuts a patch job halfway: the server goes
//! on serving and following the job's restart until it ends, at most [`PATCH_JOB_STOP_WAIT`].
//! A supervised server keeps telling its supervisor it needs the time (docs/process-model.md).

use std::time::Duration;

use shared::job::{JobInfo, JobKind};
use tokio::time::Instant;

use crate::app::handoff::{Note, SupervisorLink};
use crate::http::state::AppState;

/// The longest a stop waits for a patch job; then the job is cut, and the next start finishes
/// or undoes it, as after a crash.
pub const PATCH_JOB_STOP_WAIT: Duration = Duration::from_secs(15 * 60);
/// How often the server asks whether the job ended.
const POLL: Duration = Duration::from_millis(200);
/// How often the server renews its wait with the supervisor, and for how long each time: a
/// server that hangs stops renewing and is killed soon after.
const RENEW_EVERY: Duration = Duration::from_secs(20);
const RENEW_FOR: Duration = Duration::from_secs(60);

/// A stop waiting for a patch job to end.
pub struct Finishing {
    state: AppState,
    what: String,
    deadline: Instant,
}

impl Finishing {
    /// When an install or rollback runs: starts waiting for it, says so in the log and to the
    /// supervisor. `None`: nothing to wait for, stop now.
    pub async fn begin(state: &AppState, link: Option<&SupervisorLink>) -> Option<Self> {
        let job = state.jobs.running_patch_job().await?;
        let what = describe(&job);
        tracing::warn!(
            job = job.id,
            wait_s = PATCH_JOB_STOP_WAIT.as_secs(),
            "asked to stop while {what} runs: stopping once it ends (at most {} min)",
            PATCH_JOB_STOP_WAIT.as_secs() / 60
        );
        let finishing = Self {
            state: state.clone(),
            what,
            deadline: Instant::now() + PATCH_JOB_STOP_WAIT,
        };
        finishing.renew(link);
        Some(finishing)
    }

    /// Completes once the job ended (or the wait's bound passed), renewing the wait with the
    /// supervisor meanwhile.
    pub async fn ended(&self, link: Option<&SupervisorLink>) {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(POLL).await;
            if self.state.jobs.running_patch_job().await.is_none() {
                tracing::info!("{} ended: stopping", self.what);
                return;
            }
            if Instant::now() >= self.deadline {
                tracing::error!(
                    "{} still runs after {} min: stopping anyway; the next start finishes or \
                     undoes it",
                    self.what,
                    PATCH_JOB_STOP_WAIT.as_secs() / 60
                );
                return;
            }
            if renewed.elapsed() >= RENEW_EVERY {
                self.renew(link);
                renewed = Instant::now();
            }
        }
    }

    fn renew(&self, link: Option<&SupervisorLink>) {
        if let Some(link) = link {
            let left = self.deadline.saturating_duration_since(Instant::now());
            link.send(&Note {
                stop_wait: Some(left.min(RENEW_FOR)),
                status: Some(format!("stopping once {} ends", self.what)),
            });
        }
    }
}

/// "the install of patch 6.4.0.3 (job 7)", "the rollback from Patch 3 (job 8)".
fn describe(job: &JobInfo) -> String {
    match (job.kind, &job.patch, job.from_level) {
        (JobKind::Rollback, _, Some(from)) => {
            format!(
                "the rollback from {} (job {})",
                shared::level_in_words(from),
                job.id
            )
        }
        (kind, Some(patch), _) => {
            format!("the {} of patch {patch} (job {})", kind.as_str(), job.id)
        }
        (kind, None, _) => format!("the {} (job {})", kind.as_str(), job.id),
    }
}
