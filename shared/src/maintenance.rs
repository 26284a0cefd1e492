//! Scheduled installs and rollbacks, the maintenance settings (`GET/PUT /api/v1/maintenance`)
//! and the automatic install policy's rule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::effects::Restart;
use crate::job::JobInfo;
use crate::window::{MaintenanceWindow, Opening};

/// When an install or rollback runs: on the wire `"now"`, `"next_window"` or an RFC 3339 time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum When {
    #[default]
    Now,
    /// In the next maintenance window (the open one, when one is open).
    NextWindow,
    /// At this time.
    At(DateTime<Utc>),
}

impl Serialize for When {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            When::Now => serializer.serialize_str("now"),
            When::NextWindow => serializer.serialize_str("next_window"),
            When::At(at) => serializer.serialize_str(&at.to_rfc3339()),
        }
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "now" => Ok(When::Now),
            "next_window" => Ok(When::NextWindow),
            other => DateTime::parse_from_rfc3339(other)
                .map(|at| When::At(at.with_timezone(&Utc)))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "`when` is \"now\", \"next_window\" or an RFC 3339 time such as \
                         \"2027-05-01T02:00:00Z\", not \"{other}\""
                    ))
                }),
        }
    }
}

/// `POST /api/v1/patches/{id}/install` and `POST /api/v1/rollback` (the body is optional: none
/// means now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScheduleRequest {
    /// `"now"` (the default), `"next_window"` or an RFC 3339 time.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = String,
            example = "next_window",
            pattern = r"^(now|next_window|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))$"
        )
    )]
    pub when: When,
    /// Replace the job already scheduled (only one waits at a time); without it, scheduling a
    /// second one is refused with `job_already_scheduled`.
    #[serde(default)]
    pub replace: bool,
}

/// `POST /api/v1/rollback`'s body: when, like an install, and whether to restore the backup
/// taken before the installed patch's install instead of undoing its migrations
/// (docs/backups.md; only now, not scheduled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RollbackRequest {
    #[serde(flatten)]
    pub schedule: ScheduleRequest,
    /// Restore the backup taken before the patch was installed: the database returns to that
    /// moment (everything written since is lost, the server's own records stay).
    #[serde(default)]
    pub restore_backup: bool,
}

/// The automatic install policy: off by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(default)]
pub struct AutoInstallPolicy {
    /// Install the recommended patch in the next window.
    pub enabled: bool,
    /// Also a patch that reboots the server.
    pub allow_reboot: bool,
    /// Also a patch that changes the database.
    pub allow_database_changes: bool,
    /// Also a patch that cannot be rolled back.
    pub allow_no_rollback: bool,
}

/// What the policy needs to know of a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyFacts {
    pub restart: Restart,
    pub database_changes: bool,
    pub rollback: bool,
}

/// Why the policy leaves a patch alone, with its code for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySkip {
    Disabled,
    Clustering,
    NoWindow,
    Reboot,
    DatabaseChanges,
    NoRollback,
}

impl PolicySkip {
    pub fn code(self) -> &'static str {
        match self {
            PolicySkip::Disabled => "policy_disabled",
            PolicySkip::Clustering => "ha_clustering_enabled",
            PolicySkip::NoWindow => "no_maintenance_window",
            PolicySkip::Reboot => "reboot_not_allowed",
            PolicySkip::DatabaseChanges => "database_changes_not_allowed",
            PolicySkip::NoRollback => "rollback_not_supported",
        }
    }

    /// The reason in words.
    pub fn reason(self) -> &'static str {
        match self {
            PolicySkip::Disabled => "the automatic install policy is off",
            PolicySkip::Clustering => {
                "HA clustering is enabled: patches are installed on a cluster by hand"
            }
            PolicySkip::NoWindow => "no maintenance window is set",
            PolicySkip::Reboot => "it reboots the server, and the policy does not allow reboots",
            PolicySkip::DatabaseChanges => {
                "it changes the database, and the policy does not allow database changes"
            }
            PolicySkip::NoRollback => {
                "it cannot be rolled back, and the policy does not allow such patches"
            }
        }
    }
}

/// The automatic install rule: whether the recommended patch with these facts is scheduled
/// for the next window, or why not.
pub fn auto_install_skip(
    policy: &AutoInstallPolicy,
    facts: PolicyFacts,
    clustering: bool,
    has_window: bool,
) -> Option<PolicySkip> {
    if !policy.enabled {
        Some(PolicySkip::Disabled)
    } else if clustering {
        Some(PolicySkip::Clustering)
    } else if !has_window {
        Some(PolicySkip::NoWindow)
    } else if facts.restart == Restart::Reboot && !policy.allow_reboot {
        Some(PolicySkip::Reboot)
    } else if facts.database_changes && !policy.allow_database_changes {
        Some(PolicySkip::DatabaseChanges)
    } else if !facts.rollback && !policy.allow_no_rollback {
        Some(PolicySkip::NoRollback)
    } else {
        None
    }
}

/// `PUT /api/v1/maintenance`: the windows and the policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceSettings {
    #[serde(default)]
    pub windows: Vec<MaintenanceWindow>,
    #[serde(default)]
    pub policy: AutoInstallPolicy,
}

/// `GET /api/v1/maintenance`: the settings, the next openings and the job waiting for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceView {
    pub settings: MaintenanceSettings,
    /// The window open now, or the next one (what "In the next window" means).
    pub next_window: Option<Opening>,
    /// The next openings of all windows, soonest first.
    pub openings: Vec<Opening>,
    /// The install or rollback scheduled, if one is.
    pub scheduled: Option<JobInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_reads_and_writes_its_three_forms() {
        let read = |text: &str| serde_json::from_str::<When>(text);
        assert_eq!(read("\"now\"").unwrap(), When::Now);
        assert_eq!(read("\"next_window\"").unwrap(), When::NextWindow);
        let at = read("\"2027-05-01T04:00:00+02:00\"").unwrap();
        assert_eq!(
            serde_json::to_string(&at).unwrap(),
            "\"2027-05-01T02:00:00+00:00\""
        );
        assert!(read("\"tonight\"").is_err());
        let request: ScheduleRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(request.when, When::Now);
    }

    #[test]
    fn the_policy_skips_what_it_does_not_allow() {
        let plain = PolicyFacts {
            restart: Restart::Application,
            database_changes: false,
            rollback: true,
        };
        let on = AutoInstallPolicy {
            enabled: true,
            ..Default::default()
        };
        assert_eq!(auto_install_skip(&on, plain, false, true), None);
        assert_eq!(
            auto_install_skip(&AutoInstallPolicy::default(), plain, false, true),
            Some(PolicySkip::Disabled)
        );
        assert_eq!(
            auto_install_skip(&on, plain, true, true),
            Some(PolicySkip::Clustering)
        );
        assert_eq!(
            auto_install_skip(&on, plain, false, false),
            Some(PolicySkip::NoWindow)
        );
        let reboot = PolicyFacts {
            restart: Restart::Reboot,
            ..plain
        };
        assert_eq!(
            auto_install_skip(&on, reboot, false, true),
            Some(PolicySkip::Reboot)
        );
        let allowed = AutoInstallPolicy {
            allow_reboot: true,
            ..on
        };
        assert_eq!(auto_install_skip(&allowed, reboot, false, true), None);
        let database = PolicyFacts {
            database_changes: true,
            ..plain
        };
        assert_eq!(
            auto_install_skip(&on, database, false, true),
            Some(PolicySkip::DatabaseChanges)
        );
        let one_way = PolicyFacts {
            rollback: false,
            ..plain
        };
        assert_eq!(
            auto_install_skip(&on, one_way, false, true),
            Some(PolicySkip::NoRollback)
        );
    }
}
