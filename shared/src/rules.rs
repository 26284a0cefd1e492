//! Why an install or a rollback is refused, and what a level is called in words: one home for
//! the rules the server enforces and the web client shows.

use std::fmt;

use crate::{Applicability, PatchId, PatchLevel, ProductVersion};

pub use crate::version::level_in_words;

/// Why a patch cannot be installed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallRefusal {
    /// The patch does not apply to the installed version and level ([`crate::Applicability`]
    /// other than `Applicable`).
    NotApplicable(Applicability),
    /// The patch is offered by the TMC but not in the patch repository.
    NotDownloaded {
        /// The patch asked for.
        patch: PatchId,
    },
    /// The patch is neither in the patch repository nor offered by the TMC.
    Unknown {
        /// The patch asked for.
        patch: PatchId,
    },
    /// The patch changes the database while HA clustering is enabled.
    HaClusterEnabled {
        /// The patch's full name, e.g. `SMS 6.4.0 Patch 3 (build 6.4.0.9203)`.
        display_name: String,
    },
}

impl InstallRefusal {
    /// The stable `snake_case` code the API's error carries for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            InstallRefusal::NotApplicable(Applicability::AlreadyInstalled) => "already_installed",
            InstallRefusal::NotApplicable(Applicability::OlderThanInstalled { .. }) => {
                "older_than_installed"
            }
            // `Applicable` is never a refusal; it is named like the other mismatches.
            InstallRefusal::NotApplicable(
                Applicability::WrongProductVersion { .. } | Applicability::Applicable,
            ) => "not_applicable",
            InstallRefusal::NotDownloaded { .. } => "patch_not_downloaded",
            InstallRefusal::Unknown { .. } => "patch_not_found",
            InstallRefusal::HaClusterEnabled { .. } => "ha_cluster_enabled",
        }
    }

    /// Human text: why, and what to do.
    pub fn message(&self) -> String {
        match self {
            InstallRefusal::NotApplicable(applicability) => applicability.message(),
            InstallRefusal::NotDownloaded { patch } => format!(
                "Patch {patch} is offered by the TMC but not downloaded yet. Download it first, \
                 then install it."
            ),
            InstallRefusal::Unknown { patch } => format!(
                "Patch {patch} is neither in the patch repository nor offered by the TMC. \
                 Import its package file, or check the TMC."
            ),
            InstallRefusal::HaClusterEnabled { display_name } => format!(
                "{display_name} changes the database, and this server is in an HA cluster with \
                 clustering enabled, so it cannot be installed now. {}",
                crate::cluster::HA_PROCEDURE
            ),
        }
    }
}

impl fmt::Display for InstallRefusal {
    /// The same text as [`InstallRefusal::message`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// What the install rule needs to know of one patch.
#[derive(Debug, Clone, Copy)]
pub struct InstallCandidate<'a> {
    /// The patch.
    pub id: PatchId,
    /// Its full name, for the words of a refusal.
    pub display_name: &'a str,
    /// Whether its package is in the patch repository (downloaded or imported).
    pub in_repository: bool,
    /// Whether the TMC offers it.
    pub offered: bool,
    /// Whether it changes the database (its manifest says so).
    pub database_changes: bool,
}

/// Why `candidate` cannot be installed on a server at `installed_version`, `installed_level`
/// (`clustering_enabled`: the server is in an HA cluster with clustering enabled); `None` when it
/// may be installed.
///
/// The checks, in order: the patch is known (in the repository or offered), else
/// [`InstallRefusal::Unknown`]; it applies ([`crate::applicability`]), else
/// [`InstallRefusal::NotApplicable`]; it is in the repository, else
/// [`InstallRefusal::NotDownloaded`]; the HA rule ([`crate::cluster::ha_refuses`]) lets it
/// through, else [`InstallRefusal::HaClusterEnabled`].
pub fn install_refusal(
    installed_version: ProductVersion,
    installed_level: PatchLevel,
    candidate: InstallCandidate<'_>,
    clustering_enabled: bool,
) -> Option<InstallRefusal> {
    let patch = candidate.id;
    if !candidate.in_repository && !candidate.offered {
        return Some(InstallRefusal::Unknown { patch });
    }
    let applicability = crate::applicability(installed_version, installed_level, patch);
    if !applicability.is_applicable() {
        return Some(InstallRefusal::NotApplicable(applicability));
    }
    if !candidate.in_repository {
        return Some(InstallRefusal::NotDownloaded { patch });
    }
    if crate::cluster::ha_refuses(candidate.database_changes, clustering_enabled) {
        return Some(InstallRefusal::HaClusterEnabled {
            display_name: candidate.display_name.to_owned(),
        });
    }
    None
}

/// Why the installed patch cannot be rolled back now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackRefusal {
    /// The server is at level 0: there is no patch to remove.
    NothingInstalled,
    /// The installed patch's manifest says it cannot be rolled back.
    NotSupported {
        /// The installed patch's full name, e.g. `SMS 6.4.0 Patch 3 (build 6.4.0.9203)`.
        display_name: String,
    },
}

impl RollbackRefusal {
    /// The stable `snake_case` code the API's error carries for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            RollbackRefusal::NothingInstalled => "no_patch_installed",
            RollbackRefusal::NotSupported { .. } => "rollback_not_supported",
        }
    }

    /// Human text: why, and what to do.
    pub fn message(&self) -> String {
        match self {
            RollbackRefusal::NothingInstalled => {
                "No patch is installed, so there is nothing to roll back.".to_owned()
            }
            RollbackRefusal::NotSupported { display_name } => format!(
                "{display_name} cannot be rolled back (its vendor says so). To leave it, install \
                 a newer patch when one is released."
            ),
        }
    }
}

impl fmt::Display for RollbackRefusal {
    /// The same text as [`RollbackRefusal::message`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Why a rollback from `installed_level` is refused; `None` when it may run.
///
/// `installed_patch`: the installed patch's display name and whether its manifest allows
/// rollback, when it is known (`None` when not known: then only the level-0 rule applies).
pub fn rollback_refusal(
    installed_level: PatchLevel,
    installed_patch: Option<(&str, bool)>,
) -> Option<RollbackRefusal> {
    if installed_level.is_none() {
        return Some(RollbackRefusal::NothingInstalled);
    }
    match installed_patch {
        Some((display_name, false)) => Some(RollbackRefusal::NotSupported {
            display_name: display_name.to_owned(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "SMS 6.4.0 Patch 3 (build 6.4.0.9203)";

    fn version() -> ProductVersion {
        "6.4.0".parse().unwrap()
    }

    fn patch(id: &str) -> PatchId {
        id.parse().unwrap()
    }

    /// Patch 6.4.0.3, downloaded, without database changes.
    fn candidate(id: &str) -> InstallCandidate<'static> {
        InstallCandidate {
            id: patch(id),
            display_name: NAME,
            in_repository: true,
            offered: true,
            database_changes: false,
        }
    }

    fn refusal(
        level: u32,
        candidate: InstallCandidate<'_>,
        clustering: bool,
    ) -> Option<InstallRefusal> {
        install_refusal(version(), PatchLevel(level), candidate, clustering)
    }

    #[test]
    fn levels_are_named_for_sentences() {
        assert_eq!(level_in_words(PatchLevel(0)), "level 0 (no patch)");
        assert_eq!(level_in_words(PatchLevel(3)), "Patch 3");
    }

    #[test]
    fn a_newer_downloaded_patch_may_be_installed() {
        assert_eq!(refusal(1, candidate("6.4.0.3"), false), None);
        // Without database changes even on an enabled cluster.
        assert_eq!(refusal(1, candidate("6.4.0.3"), true), None);
    }

    #[test]
    fn each_install_refusal_has_its_code() {
        let cases = [
            (
                InstallRefusal::NotApplicable(Applicability::WrongProductVersion {
                    patch_for: "6.5.0".parse().unwrap(),
                    installed: version(),
                }),
                "not_applicable",
            ),
            (
                InstallRefusal::NotApplicable(Applicability::AlreadyInstalled),
                "already_installed",
            ),
            (
                InstallRefusal::NotApplicable(Applicability::OlderThanInstalled {
                    installed: PatchLevel(3),
                }),
                "older_than_installed",
            ),
            (
                InstallRefusal::NotApplicable(Applicability::Applicable),
                "not_applicable",
            ),
            (
                InstallRefusal::NotDownloaded {
                    patch: patch("6.4.0.3"),
                },
                "patch_not_downloaded",
            ),
            (
                InstallRefusal::Unknown {
                    patch: patch("6.4.0.3"),
                },
                "patch_not_found",
            ),
            (
                InstallRefusal::HaClusterEnabled {
                    display_name: NAME.to_owned(),
                },
                "ha_cluster_enabled",
            ),
        ];
        for (refusal, code) in cases {
            assert_eq!(refusal.code(), code, "{refusal:?}");
            assert_eq!(refusal.to_string(), refusal.message());
        }
    }

    #[test]
    fn install_refusals_say_what_to_do() {
        let not_downloaded = InstallRefusal::NotDownloaded {
            patch: patch("6.4.0.3"),
        };
        assert_eq!(
            not_downloaded.message(),
            "Patch 6.4.0.3 is offered by the TMC but not downloaded yet. Download it first, then \
             install it."
        );
        let unknown = InstallRefusal::Unknown {
            patch: patch("6.4.0.3"),
        };
        assert_eq!(
            unknown.message(),
            "Patch 6.4.0.3 is neither in the patch repository nor offered by the TMC. Import its \
             package file, or check the TMC."
        );
        let ha = InstallRefusal::HaClusterEnabled {
            display_name: NAME.to_owned(),
        };
        assert!(
            ha.message().starts_with(&format!(
                "{NAME} changes the database, and this server is in an HA cluster"
            )),
            "{ha}"
        );
        assert!(ha.message().ends_with(crate::cluster::HA_PROCEDURE), "{ha}");
        let installed = InstallRefusal::NotApplicable(Applicability::AlreadyInstalled);
        assert_eq!(
            installed.message(),
            Applicability::AlreadyInstalled.message()
        );
    }

    #[test]
    fn an_unknown_patch_is_unknown_before_anything_else() {
        let unknown = InstallCandidate {
            in_repository: false,
            offered: false,
            database_changes: true,
            ..candidate("6.5.0.1")
        };
        assert_eq!(
            refusal(0, unknown, true),
            Some(InstallRefusal::Unknown {
                patch: patch("6.5.0.1")
            })
        );
    }

    #[test]
    fn applicability_comes_before_the_download() {
        let offered = InstallCandidate {
            in_repository: false,
            ..candidate("6.4.0.2")
        };
        assert_eq!(
            refusal(3, offered, false),
            Some(InstallRefusal::NotApplicable(
                Applicability::OlderThanInstalled {
                    installed: PatchLevel(3)
                }
            ))
        );
        assert_eq!(
            refusal(3, candidate("6.4.0.3"), false).map(|r| r.code()),
            Some("already_installed")
        );
        assert_eq!(
            refusal(0, candidate("6.5.0.1"), false).map(|r| r.code()),
            Some("not_applicable")
        );
    }

    #[test]
    fn the_download_comes_before_the_ha_rule() {
        let offered = InstallCandidate {
            in_repository: false,
            database_changes: true,
            ..candidate("6.4.0.3")
        };
        assert_eq!(
            refusal(0, offered, true),
            Some(InstallRefusal::NotDownloaded {
                patch: patch("6.4.0.3")
            })
        );
        // Imported only (not offered): known, so it may be installed.
        let imported = InstallCandidate {
            offered: false,
            ..candidate("6.4.0.3")
        };
        assert_eq!(refusal(0, imported, false), None);
    }

    #[test]
    fn the_ha_rule_comes_last() {
        let database = InstallCandidate {
            database_changes: true,
            ..candidate("6.4.0.3")
        };
        assert_eq!(
            refusal(0, database, true),
            Some(InstallRefusal::HaClusterEnabled {
                display_name: NAME.to_owned()
            })
        );
        assert_eq!(refusal(0, database, false), None);
    }

    #[test]
    fn each_rollback_refusal_has_its_code_and_words() {
        let nothing = RollbackRefusal::NothingInstalled;
        assert_eq!(nothing.code(), "no_patch_installed");
        assert_eq!(
            nothing.to_string(),
            "No patch is installed, so there is nothing to roll back."
        );
        let vendor = RollbackRefusal::NotSupported {
            display_name: NAME.to_owned(),
        };
        assert_eq!(vendor.code(), "rollback_not_supported");
        assert_eq!(
            vendor.to_string(),
            format!(
                "{NAME} cannot be rolled back (its vendor says so). To leave it, install a newer \
                 patch when one is released."
            )
        );
    }

    #[test]
    fn level_0_is_refused_before_the_manifest_is_asked() {
        assert_eq!(
            rollback_refusal(PatchLevel(0), Some((NAME, false))),
            Some(RollbackRefusal::NothingInstalled)
        );
        assert_eq!(
            rollback_refusal(PatchLevel(0), None),
            Some(RollbackRefusal::NothingInstalled)
        );
    }

    #[test]
    fn the_manifest_decides_a_rollback_when_it_is_known() {
        assert_eq!(
            rollback_refusal(PatchLevel(3), Some((NAME, false))),
            Some(RollbackRefusal::NotSupported {
                display_name: NAME.to_owned()
            })
        );
        assert_eq!(rollback_refusal(PatchLevel(3), Some((NAME, true))), None);
        assert_eq!(rollback_refusal(PatchLevel(3), None), None);
    }
}
