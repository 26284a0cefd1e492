//! The SMS Patches panel (`GET /api/v1/patches`), the TMC status, jobs (`GET /api/v1/jobs/{id}`)
//! and the live events of `GET /api/v1/events`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::api::{ServerInfo, ServerState};
use crate::effects::{PatchChanges, Restart, Updates};
use crate::{Applicability, Build, PatchId, PatchLevel, ProductVersion};

pub use crate::job::{
    JobInfo, JobKind, JobState, ROLLBACK_STAGES, Stage, StageInfo, StageOutcome,
    clustered_install_stages, install_stages, restore_stages, with_backup,
};

/// How the server's link to the TMC is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TmcConnection {
    /// No TMC is configured (`--tmc-url`): patches come only from imported files.
    NotConfigured,
    /// Configured; the first check has not finished yet.
    Pending,
    /// The last check fetched a valid, signed catalog.
    Connected,
    /// The last check could not reach the TMC (refused, timeout, HTTP error).
    Unreachable,
    /// The TMC's HTTPS certificate did not pass (untrusted issuer, expired, other names):
    /// `message` says why. Give its CA with `--tmc-ca-file`, or check the address.
    CertificateInvalid,
    /// The TMC answered, but not with a catalog this server accepts (bad signature, expired,
    /// older serial, malformed).
    Invalid,
}

/// The TMC status, as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TmcStatus {
    pub connection: TmcConnection,
    /// The TMC's base URL, when configured.
    pub url: Option<String>,
    /// When the last check ended, whatever its outcome.
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub last_check: Option<DateTime<Utc>>,
    /// When a check last succeeded.
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub last_success: Option<DateTime<Utc>>,
    /// The serial of the catalog in use.
    pub serial: Option<u64>,
    /// Why the last check failed, in words.
    pub message: Option<String>,
    /// When the next check is due.
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub next_check: Option<DateTime<Utc>>,
    /// Whether a check is running now.
    pub checking: bool,
    /// The stable code of the last check's failure: `metadata_expired`, `rollback_detected`,
    /// `root_rotation_failed`, `threshold_not_met`, `target_hash_mismatch`, ...
    /// (docs/tmc-protocol.md); none after a success.
    #[serde(default)]
    pub code: Option<String>,
    /// The TUF feed's facts (format 2), from the last accepted metadata.
    #[serde(default)]
    pub feed: Option<FeedInfo>,
    /// This server's clock and the TMC's, when they disagree by more than a few minutes or the
    /// feed's metadata looks expired: check the server's clock.
    #[serde(default)]
    pub clock: Option<ClockCheck>,
}

/// What the server knows of the TMC feed's TUF metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedInfo {
    /// The trusted root metadata's version (it grows with every key rotation).
    pub root_version: u64,
    /// The timestamp role's version in use.
    pub timestamp_version: u64,
    /// When this server first saw that timestamp version: the feed's age.
    #[serde(deserialize_with = "crate::time::utc")]
    pub timestamp_seen: DateTime<Utc>,
    /// When that timestamp expires; after it, the feed is refused until the TMC signs a new one.
    #[serde(deserialize_with = "crate::time::utc")]
    pub timestamp_expires: DateTime<Utc>,
}

/// Two clocks that disagree: this server's and the TMC's (its HTTP `Date` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClockCheck {
    #[serde(deserialize_with = "crate::time::utc")]
    pub server_time: DateTime<Utc>,
    #[serde(deserialize_with = "crate::time::utc")]
    pub tmc_time: DateTime<Utc>,
}

impl TmcStatus {
    /// Whether the TMC is reached over plain HTTP: what it sends can be read and changed on
    /// the way (the catalog's and packages' signatures still hold).
    pub fn unencrypted(&self) -> bool {
        self.url.as_deref().is_some_and(|url| {
            url.get(..7)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
        })
    }

    /// The status of a server without a TMC.
    pub fn not_configured() -> Self {
        Self {
            connection: TmcConnection::NotConfigured,
            url: None,
            last_check: None,
            last_success: None,
            serial: None,
            message: None,
            next_check: None,
            code: None,
            feed: None,
            clock: None,
            checking: false,
        }
    }
}

/// A patch the TMC offers: the facts of its catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogPatch {
    /// Short form, e.g. `6.4.0.3`.
    pub id: PatchId,
    /// E.g. `SMS 6.4.0 Patch 3 (build 6.4.0.9203)`.
    pub display_name: String,
    pub product_version: ProductVersion,
    pub patch: u32,
    pub build: Build,
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[serde(deserialize_with = "crate::time::date")]
    pub released: NaiveDate,
    pub updates: Updates,
    pub client_version: Option<Build>,
    pub restart: Restart,
    pub database_changes: bool,
    pub rollback: bool,
    /// What the package's payload changes (server executable, web client, database
    /// migrations); `None` while the package is not in the patch repository (the TMC catalog
    /// does not say), or for a package stored before the server recorded it.
    pub changes: Option<PatchChanges>,
    pub key_id: String,
    /// Release notes rendered to HTML and sanitized: safe to insert into a page.
    pub release_notes_html: String,
    /// Package size in bytes.
    pub size: u64,
    /// SHA-256 of the package file, lowercase hex.
    pub sha256: String,
    /// The server schema migrations its executable brings (a later release's; docs/schema.md),
    /// once it is in the patch repository: its install changes the database whatever
    /// `database_changes` says.
    #[serde(default)]
    pub server_migrations: Vec<String>,
}

impl CatalogPatch {
    /// Whether installing it changes the database (`shared::effects::changes_database`).
    pub fn changes_database(&self) -> bool {
        crate::effects::changes_database(self.database_changes, &self.server_migrations)
    }

    /// "Yes", "No", or "Yes (server schema: ...)".
    pub fn database_changes_in_words(&self) -> String {
        crate::effects::database_changes_in_words(self.database_changes, &self.server_migrations)
    }
}

/// Where an available patch stands on this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "state", rename_all = "snake_case", try_from = "PatchStateWire")]
pub enum PatchState {
    /// Offered by the TMC, not downloaded.
    Available,
    /// Being downloaded by job `job`.
    Downloading { job: i64, percent: u8 },
    /// In the patch repository, ready to install.
    Downloaded,
    /// A higher applicable patch contains it.
    Superseded { by: u32 },
    /// This is the installed level.
    Installed,
    /// Cannot be installed here, for this reason.
    NotApplicable { reason: Applicability },
}

/// The JSON of a [`PatchState`], read as one flat object: the same object the tagged enum
/// writes, decoded without the buffering a tagged enum's derived decoder needs (which made the
/// web client noticeably larger, the panel's rows being decoded there).
#[derive(Deserialize)]
struct PatchStateWire {
    state: PatchStateTag,
    job: Option<i64>,
    percent: Option<u8>,
    by: Option<u32>,
    reason: Option<Applicability>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum PatchStateTag {
    Available,
    Downloading,
    Downloaded,
    Superseded,
    Installed,
    NotApplicable,
}

impl TryFrom<PatchStateWire> for PatchState {
    type Error = String;

    fn try_from(wire: PatchStateWire) -> Result<Self, Self::Error> {
        fn needs<T>(value: Option<T>, field: &str, state: &str) -> Result<T, String> {
            value.ok_or_else(|| format!("missing field `{field}` for state `{state}`"))
        }
        Ok(match wire.state {
            PatchStateTag::Available => PatchState::Available,
            PatchStateTag::Downloading => PatchState::Downloading {
                job: needs(wire.job, "job", "downloading")?,
                percent: needs(wire.percent, "percent", "downloading")?,
            },
            PatchStateTag::Downloaded => PatchState::Downloaded,
            PatchStateTag::Superseded => PatchState::Superseded {
                by: needs(wire.by, "by", "superseded")?,
            },
            PatchStateTag::Installed => PatchState::Installed,
            PatchStateTag::NotApplicable => PatchState::NotApplicable {
                reason: needs(wire.reason, "reason", "not_applicable")?,
            },
        })
    }
}

/// One row of the panel's list of patches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AvailablePatch {
    pub patch: CatalogPatch,
    pub state: PatchState,
    /// The highest applicable patch: the one to install.
    pub recommended: bool,
    /// Whether the package is in the patch repository (downloaded or imported).
    pub in_repository: bool,
}

impl AvailablePatch {
    /// Whether the Update wizard offers it: not the installed one, and applicable here.
    pub fn can_be_chosen(&self) -> bool {
        !matches!(
            self.state,
            PatchState::Installed | PatchState::NotApplicable { .. }
        )
    }
}

/// A patch newer than the installed level: what the notification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PatchNotice {
    pub id: PatchId,
    pub display_name: String,
}

/// One install or rollback, for the panel's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HistoryEntry {
    pub job: i64,
    pub kind: JobKind,
    /// The patch installed (none for a rollback).
    pub patch: Option<PatchId>,
    pub from_level: PatchLevel,
    pub to_level: PatchLevel,
    pub by: String,
    #[serde(deserialize_with = "crate::time::utc")]
    pub started_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub finished_at: Option<DateTime<Utc>>,
    pub state: JobState,
    /// Why it failed.
    pub message: Option<String>,
    /// A scheduled job: when it starts.
    #[serde(default)]
    #[serde(deserialize_with = "crate::time::utc_opt")]
    pub scheduled_for: Option<DateTime<Utc>>,
    /// A restore, or a rollback that restored a backup: the backup's id.
    #[serde(default)]
    pub backup: Option<String>,
}

/// `GET /api/v1/patches/history?page=&per_page=`: installs and rollbacks, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HistoryPage {
    /// The entries of this page, newest first.
    pub entries: Vec<HistoryEntry>,
    /// This page's number, from 1.
    pub page: u64,
    /// Entries per page.
    pub per_page: u64,
    /// Number of installs and rollbacks in all.
    pub total: u64,
}

/// How many installs and rollbacks the panel shows at first, and each further page holds.
pub const HISTORY_PER_PAGE: u64 = 20;

/// `GET /api/v1/patches`: the whole SMS Patches panel in one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PatchesView {
    /// What is installed.
    pub installed: ServerInfo,
    /// The newest installs and rollbacks, newest first: the first page of
    /// `GET /api/v1/patches/history`.
    pub history: Vec<HistoryEntry>,
    /// How many installs and rollbacks there are in all (older ones: the next pages).
    #[serde(default)]
    pub history_total: u64,
    /// The patches of the TMC catalog and of the patch repository, newest first.
    pub available: Vec<AvailablePatch>,
    pub tmc: TmcStatus,
    pub notifications_enabled: bool,
    /// The recommended patch when it is newer than the installed level (shown as a notice while
    /// notifications are enabled).
    pub newer_patch: Option<PatchNotice>,
    /// The data dir's free space (none when it cannot be read).
    #[serde(default)]
    pub storage: Option<StorageStatus>,
}

/// The file system of the server's data dir: what is free, and whether that is below the
/// warning threshold (`[storage] warn_free_mb`; by default 2 GiB or 10 %, whichever is less).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StorageStatus {
    /// The data dir, as the server was configured.
    pub data_dir: String,
    /// Bytes free for the server.
    pub free_bytes: u64,
    /// The file system's size in bytes.
    pub total_bytes: u64,
    /// The server warns below this many free bytes.
    pub warn_below_bytes: u64,
    /// Whether `free_bytes` is below `warn_below_bytes`.
    pub low: bool,
}

/// One message of the live event stream (`GET /api/v1/events`). On the wire each is an SSE
/// message whose `event:` is the variant's name and whose `data:` is the JSON of its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum ServerEvent {
    /// A job started, progressed or ended.
    Job(JobInfo),
    /// The TMC status changed.
    Tmc(TmcStatus),
    /// A patch newer than the installed one became known.
    PatchNotice(PatchNotice),
    /// The panel's data changed (catalog, repository, installed level): fetch it again.
    PatchesChanged,
    /// The server's state changed.
    Server { state: ServerState },
    /// The managed devices' status was polled, or a device was added or removed.
    DevicesChanged,
    /// The HA cluster changed: a role, clustering enabled or disabled, a node's level.
    ClusterChanged,
    /// The notification delivery log changed: fetch it again.
    DeliveriesChanged,
    /// The maintenance settings changed: fetch them again.
    MaintenanceChanged,
}

impl ServerEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            ServerEvent::Job(_) => "job",
            ServerEvent::Tmc(_) => "tmc",
            ServerEvent::PatchNotice(_) => "patch_notice",
            ServerEvent::PatchesChanged => "patches_changed",
            ServerEvent::Server { .. } => "server",
            ServerEvent::DevicesChanged => "devices_changed",
            ServerEvent::ClusterChanged => "cluster_changed",
            ServerEvent::DeliveriesChanged => "deliveries_changed",
            ServerEvent::MaintenanceChanged => "maintenance_changed",
        }
    }
}

/// What the panel knows of one patch before deciding its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchPresence {
    pub id: PatchId,
    /// The package is in the patch repository.
    pub in_repository: bool,
    /// A download job runs for it: (job id, percent).
    pub downloading: Option<(i64, u8)>,
}

/// The panel's states for the known patches at the installed level, newest first, with whether
/// each is the recommended one. Patches older than the installed level are not offered and left
/// out; the installed one shows as installed; another product version's as not applicable.
pub fn panel_states(
    installed_version: ProductVersion,
    installed_level: crate::PatchLevel,
    patches: &[PatchPresence],
) -> Vec<(PatchPresence, PatchState, bool)> {
    let ids: Vec<PatchId> = patches.iter().map(|p| p.id).collect();
    crate::offers(installed_version, installed_level, &ids)
        .into_iter()
        .filter_map(|(id, offer)| {
            let presence = *patches.iter().find(|p| p.id == id)?;
            let downloading = presence
                .downloading
                .map(|(job, percent)| PatchState::Downloading { job, percent });
            let (state, recommended) = match offer {
                crate::OfferState::Recommended => (
                    downloading.unwrap_or(if presence.in_repository {
                        PatchState::Downloaded
                    } else {
                        PatchState::Available
                    }),
                    true,
                ),
                crate::OfferState::SupersededBy(by) => {
                    (downloading.unwrap_or(PatchState::Superseded { by }), false)
                }
                crate::OfferState::NotApplicable(Applicability::AlreadyInstalled) => {
                    (PatchState::Installed, false)
                }
                crate::OfferState::NotApplicable(Applicability::OlderThanInstalled { .. }) => {
                    return None;
                }
                crate::OfferState::NotApplicable(reason) => {
                    (PatchState::NotApplicable { reason }, false)
                }
            };
            Some((presence, state, recommended))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_patch_state_reads_back_as_written() {
        let version = "6.4.0".parse().unwrap();
        for state in [
            PatchState::Available,
            PatchState::Downloading {
                job: 7,
                percent: 40,
            },
            PatchState::Downloaded,
            PatchState::Superseded { by: 5 },
            PatchState::Installed,
            PatchState::NotApplicable {
                reason: Applicability::AlreadyInstalled,
            },
            PatchState::NotApplicable {
                reason: Applicability::WrongProductVersion {
                    patch_for: "6.5.0".parse().unwrap(),
                    installed: version,
                },
            },
            PatchState::NotApplicable {
                reason: Applicability::OlderThanInstalled {
                    installed: crate::PatchLevel(3),
                },
            },
        ] {
            let json = serde_json::to_string(&state).unwrap();
            let back: PatchState = serde_json::from_str(&json).unwrap();
            assert_eq!(back, state, "{json}");
        }
    }

    #[test]
    fn a_patch_state_is_read_as_its_object_says() {
        let read = |json: &str| serde_json::from_str::<PatchState>(json).map_err(|e| e.to_string());
        assert_eq!(
            read(r#"{"percent":3,"state":"downloading","job":9,"other":1}"#),
            Ok(PatchState::Downloading { job: 9, percent: 3 })
        );
        assert_eq!(
            read(r#"{"state":"not_applicable","reason":{"code":"already_installed"}}"#),
            Ok(PatchState::NotApplicable {
                reason: Applicability::AlreadyInstalled
            })
        );
        let missing = read(r#"{"state":"superseded"}"#).unwrap_err();
        assert!(missing.contains("missing field `by`"), "{missing}");
        let unknown = read(r#"{"state":"lost"}"#).unwrap_err();
        assert!(unknown.contains("unknown variant `lost`"), "{unknown}");
        assert!(read(r#"{"job":1}"#).is_err());
    }

    fn presence(patch: u32, in_repository: bool, downloading: Option<(i64, u8)>) -> PatchPresence {
        PatchPresence {
            id: PatchId::new("6.4.0".parse().unwrap(), patch).unwrap(),
            in_repository,
            downloading,
        }
    }

    #[test]
    fn the_panel_recommends_the_highest_and_hides_older_ones() {
        let other = PatchPresence {
            id: PatchId::new("6.5.0".parse().unwrap(), 1).unwrap(),
            in_repository: false,
            downloading: None,
        };
        let patches = [
            presence(1, false, None),
            presence(2, true, None),
            presence(3, false, Some((7, 40))),
            presence(4, true, None),
            presence(5, false, None),
            other,
        ];
        let states = panel_states("6.4.0".parse().unwrap(), crate::PatchLevel(2), &patches);
        let shown: Vec<(u32, PatchState, bool)> = states
            .iter()
            .filter(|(p, _, _)| p.id.product_version() == "6.4.0".parse().unwrap())
            .map(|(p, s, r)| (p.id.patch(), s.clone(), *r))
            .collect();
        assert_eq!(
            shown,
            vec![
                (5, PatchState::Available, true),
                (4, PatchState::Superseded { by: 5 }, false),
                (
                    3,
                    PatchState::Downloading {
                        job: 7,
                        percent: 40
                    },
                    false
                ),
                (2, PatchState::Installed, false),
            ]
        );
        assert!(
            states
                .iter()
                .any(|(p, s, _)| p.id == other.id && matches!(s, PatchState::NotApplicable { .. }))
        );
        // Patch 1 is older than the installed level 2: not offered at all.
        assert!(!states.iter().any(|(p, _, _)| p.id == patches[0].id));
    }

    #[test]
    fn the_wizard_offers_neither_the_installed_nor_an_inapplicable_patch() {
        let row = |state| AvailablePatch {
            patch: CatalogPatch {
                id: PatchId::new("6.4.0".parse().unwrap(), 2).unwrap(),
                display_name: String::new(),
                product_version: "6.4.0".parse().unwrap(),
                patch: 2,
                build: "6.4.0.9102".parse().unwrap(),
                title: String::new(),
                released: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                updates: Updates::Server,
                client_version: None,
                restart: Restart::Application,
                database_changes: false,
                server_migrations: Vec::new(),
                rollback: true,
                changes: None,
                key_id: String::new(),
                release_notes_html: String::new(),
                size: 0,
                sha256: String::new(),
            },
            state,
            recommended: false,
            in_repository: false,
        };
        assert!(row(PatchState::Available).can_be_chosen());
        assert!(row(PatchState::Superseded { by: 3 }).can_be_chosen());
        assert!(row(PatchState::Downloaded).can_be_chosen());
        assert!(!row(PatchState::Installed).can_be_chosen());
        assert!(
            !row(PatchState::NotApplicable {
                reason: Applicability::AlreadyInstalled
            })
            .can_be_chosen()
        );
    }

    #[test]
    fn a_downloaded_recommended_patch_is_ready_to_install() {
        let states = panel_states(
            "6.4.0".parse().unwrap(),
            crate::PatchLevel(0),
            &[presence(3, true, None)],
        );
        assert_eq!(states[0].1, PatchState::Downloaded);
        assert!(states[0].2);
    }

    fn job(done: u64, total: u64, state: JobState) -> JobInfo {
        JobInfo {
            id: 1,
            kind: JobKind::Download,
            patch: None,
            state,
            stage: None,
            done_bytes: done,
            total_bytes: total,
            error: None,
            started_by: "admin".into(),
            started_at: DateTime::<Utc>::UNIX_EPOCH,
            finished_at: None,
            from_level: None,
            to_level: None,
            stages: Vec::new(),
            scheduled_for: None,
            window_end: None,
            schedule_note: None,
            backup: None,
        }
    }

    #[test]
    fn a_reboot_takes_the_place_of_the_restart() {
        assert_eq!(install_stages(Restart::Application)[5], Stage::Restart);
        assert_eq!(install_stages(Restart::Reboot)[5], Stage::Reboot);
        assert!(!install_stages(Restart::Reboot).contains(&Stage::Restart));
        let clustered = clustered_install_stages(Restart::Application);
        assert_eq!(
            clustered[..3],
            [Stage::Verify, Stage::Precheck, Stage::PeerPush]
        );
        assert_eq!(
            clustered[clustered.len() - 2..],
            [Stage::PeerInstall, Stage::Done]
        );
        assert_eq!(ROLLBACK_STAGES.first(), Some(&Stage::Precheck));
        assert_eq!(ROLLBACK_STAGES.last(), Some(&Stage::Done));
    }

    #[test]
    fn percent_is_whole_and_bounded() {
        assert_eq!(job(0, 0, JobState::Running).percent(), 0);
        assert_eq!(job(1, 3, JobState::Running).percent(), 33);
        assert_eq!(job(5, 3, JobState::Running).percent(), 100);
        assert_eq!(job(0, 0, JobState::Succeeded).percent(), 100);
    }

    #[test]
    fn kinds_and_states_round_trip_as_text() {
        for kind in [JobKind::Download, JobKind::Install, JobKind::Rollback] {
            assert_eq!(kind.as_str().parse::<JobKind>(), Ok(kind));
        }
        for state in [
            JobState::Running,
            JobState::Succeeded,
            JobState::Failed,
            JobState::Cancelled,
        ] {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
        }
        assert!("paused".parse::<JobState>().is_err());
    }

    #[test]
    fn events_name_themselves_as_on_the_wire() {
        let event = ServerEvent::PatchesChanged;
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event"], event.name());
    }
}
