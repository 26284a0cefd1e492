//! The automatic install policy (docs/maintenance.md): in the next window, the recommended
//! patch, within the limits the admin set; each new decision audited once.

use super::*;

impl Maintenance {
    /// The automatic install policy: schedules the recommended patch for the next window, or
    /// says why not; each new decision is audited once.
    pub(super) async fn run_policy(&self) -> Result<(), ServiceError> {
        let settings = self.settings().await?;
        let policy: AutoInstallPolicy = settings.policy;
        if !policy.enabled {
            return Ok(());
        }
        let view = self.panel.view().await?;
        let Some(recommended) = view
            .available
            .iter()
            .find(|p| p.recommended && p.patch.patch > view.installed.patch_level.0)
        else {
            return Ok(());
        };
        let patch = &recommended.patch;
        if let Some(waiting) = self.jobs.scheduled().await? {
            if waiting.patch != Some(patch.id) {
                self.decide(
                    patch.id,
                    "already_scheduled",
                    format!(
                        "{} is already scheduled (job {}); the policy does not replace it.",
                        describe(&waiting),
                        waiting.id
                    ),
                    false,
                )
                .await?;
            }
            return Ok(());
        }
        let now = self.clock.now();
        let windows = parsed(&settings, now);
        let clustering = self.patching.cluster.enabled().await?;
        let facts = PolicyFacts {
            restart: patch.restart,
            database_changes: patch.changes_database(),
            rollback: patch.rollback,
        };
        if let Some(skip) = auto_install_skip(&policy, facts, clustering, !windows.is_empty()) {
            return self
                .decide(
                    patch.id,
                    skip.code(),
                    format!(
                        "Patch {} is not installed automatically: {}.",
                        patch.id,
                        skip.reason()
                    ),
                    false,
                )
                .await;
        }
        match self
            .schedule_install(patch.id, Later::NextWindow, false, "policy", None)
            .await
        {
            Ok(job) => {
                self.decide(
                    patch.id,
                    "scheduled",
                    format!(
                        "Patch {} (the recommended patch) is scheduled for the next window, {} \
                         (job {}).",
                        patch.id,
                        job.scheduled_for.map_or_else(String::new, |at| at
                            .format("%Y-%m-%d %H:%M UTC")
                            .to_string()),
                        job.id
                    ),
                    true,
                )
                .await
            }
            Err(ScheduleError::Refused(err)) => {
                self.decide(
                    patch.id,
                    err.code,
                    format!("Patch {}: {err}", patch.id),
                    false,
                )
                .await
            }
            Err(ScheduleError::Service(err)) if err.is_refusal() => {
                self.decide(patch.id, err.code(), err.to_string(), false)
                    .await
            }
            Err(ScheduleError::Service(err)) => Err(err),
        }
    }

    /// Audits a policy decision when it differs from the last one.
    async fn decide(
        &self,
        patch: PatchId,
        code: &str,
        reason: String,
        scheduled: bool,
    ) -> Result<(), ServiceError> {
        let key = format!("{patch}:{code}");
        let last = self
            .settings
            .get_json::<Option<String>>(DECISION_KEY)
            .await?;
        if last.flatten().as_deref() == Some(key.as_str()) {
            return Ok(());
        }
        self.settings
            .set_json(DECISION_KEY, &Some(key), "policy", None)
            .await?;
        tracing::info!(patch = %patch, code, "automatic install: {reason}");
        let event = if scheduled {
            AuditEvent::success("auto_install", "policy")
        } else {
            AuditEvent::failure("auto_install", "policy")
        };
        self.audit
            .record(
                event
                    .target(patch.to_string())
                    .details(format!("{code}: {reason}")),
            )
            .await
    }
}
