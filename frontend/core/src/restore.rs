//! Restoring a database backup in words (docs/backups.md): what a restore from Admin > Backups
//! puts back and what it keeps, the offer of the rollback confirmation to restore the backup
//! taken before the installed patch, and the restore job's outcome. (The times are the
//! browser's to write, in its zone: they come in as text.)

use shared::PatchLevel;
use shared::backup::BackupInfo;

use crate::backups::backup_path;

/// `/api/v1/backups/{id}/restore`: restores the backup.
pub fn restore_path(id: &str) -> String {
    format!("{}/restore", backup_path(id))
}

/// A level in short words: "SMS 6.4.0 Patch 3", or "the base release" for level 0.
pub fn short_level(product_version: &str, level: PatchLevel) -> String {
    if level.is_none() {
        "the base release".to_owned()
    } else {
        format!("SMS {product_version} Patch {}", level.0)
    }
}

/// The id of backup `id`'s Restore button.
pub fn restore_button_id(id: &str) -> String {
    format!("backup-restore-{id}")
}

/// The Restore button's accessible name.
pub fn restore_label(id: &str) -> String {
    format!("Restore the backup {id}")
}

/// The title of the question asked before a restore.
pub fn restore_title(id: &str) -> String {
    format!("Restore the backup {id}?")
}

/// One thing a restore does: `key` for the item's `data-effect`, `head` in bold, then `more`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub key: &'static str,
    pub head: String,
    pub more: String,
}

fn effect(key: &'static str, head: impl Into<String>, more: impl Into<String>) -> Effect {
    Effect {
        key,
        head: head.into(),
        more: more.into(),
    }
}

/// What is lost by a restore: everything written to the database since the backup.
pub const LOST: &str = "Everything written to the database since is lost: the settings, the \
                        managed devices, the installed patch level and the patches' database \
                        changes.";

/// What a restore keeps as it is (the server's own records).
pub const KEPT: &str = "Kept as they are: accounts and sessions, the audit log, the job \
                        history, the notification targets, the patch repository and the TMC \
                        catalog, and the HA cluster settings.";

/// What restoring `info` (taken at `taken`, in the browser's words) does to a server at
/// `installed` (`None` when it is not known yet).
pub fn restore_effects(
    info: &BackupInfo,
    installed: Option<PatchLevel>,
    taken: &str,
) -> Vec<Effect> {
    let level = PatchLevel(info.patch_level);
    let words = short_level(&info.product_version, level);
    let mut effects = vec![
        effect(
            "database",
            format!("The database returns to the moment the backup was taken ({taken})."),
            format!("It was taken at {words}."),
        ),
        effect("lost", LOST, ""),
        effect("kept", KEPT, ""),
    ];
    let switch = match installed {
        Some(installed) if installed == level => None,
        Some(installed) => Some(format!(
            "This server runs {}: it switches to {words}, the backup's level.",
            short_level(&info.product_version, installed)
        )),
        None => Some(format!(
            "When this server runs another level, it switches to {words}, the backup's level."
        )),
    };
    if let Some(switch) = switch {
        effects.push(effect("switch", switch, ""));
    }
    effects.extend([
        effect(
            "restart",
            "The SMS server application restarts.",
            "It is unavailable for a few seconds.",
        ),
        effect(
            "clients",
            "All client connections are stopped.",
            "Every open SMS client, this one included, is disconnected and reconnects by itself \
             afterwards.",
        ),
        effect(
            "devices",
            "",
            "Managed devices keep running and inspecting traffic the whole time.",
        ),
    ]);
    effects
}

/// The rollback confirmation's offer to restore the backup taken before `installed` (the
/// patch level) was installed, at `taken` (in the browser's words).
pub fn rollback_restore_label(installed: PatchLevel, taken: &str) -> String {
    format!(
        "Restore the database backup taken before Patch {} was installed ({taken})",
        installed.0
    )
}

/// What the offer means, and what happens without it.
pub const ROLLBACK_RESTORE_HELP: &str = "The database returns to the moment of that backup: \
     everything written to it since is lost (the settings, the managed devices). Kept as they \
     are: accounts and sessions, the audit log, the job history, the notification targets, the \
     patch repository and the TMC catalog, and the HA cluster settings. A rollback that restores \
     the backup runs now only. Without it, the patch's database migrations are undone and the \
     data stays.";

/// What the rollback confirmation says when no backup taken before `installed` (the patch
/// level) was installed is kept.
pub fn no_rollback_backup(installed: PatchLevel) -> String {
    format!(
        "No database backup taken before Patch {} was installed is kept, so the rollback \
         cannot restore one: it undoes the patch's database changes, if it made any, and the \
         data stays.",
        installed.0
    )
}

/// The restore job running, in words.
pub const RESTORING: &str = "Restoring the database backup…";

/// The restore job done: "The backup 20261207-035300-manual was restored."
pub fn restored_words(backup: Option<&str>) -> String {
    match backup {
        Some(id) => format!("The backup {id} was restored."),
        None => "The backup was restored.".to_owned(),
    }
}

/// A restore in the history: "Restore of backup 20261207-035300-manual".
pub fn restore_in_history(backup: Option<&str>) -> String {
    match backup {
        Some(id) => format!("Restore of backup {id}"),
        None => "Restore of a database backup".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use shared::backup::{BackupInfo, BackupReason, DatabaseKind};

    use super::*;

    fn backup(level: u32) -> BackupInfo {
        BackupInfo {
            id: "20261207-035300-manual".into(),
            database: DatabaseKind::Sqlite,
            product_version: "6.4.0".into(),
            patch_level: level,
            build: format!("6.4.0.{}", 9100 + level),
            migrations: Vec::new(),
            size: 1,
            sha256: String::new(),
            taken_at: "2026-12-07T03:53:00Z".parse().unwrap(),
            reason: BackupReason::Manual,
            taken_by: "admin".into(),
            patch: None,
        }
    }

    fn keys(effects: &[Effect]) -> Vec<&str> {
        effects.iter().map(|e| e.key).collect()
    }

    #[test]
    fn levels_read_short() {
        assert_eq!(short_level("6.4.0", PatchLevel(3)), "SMS 6.4.0 Patch 3");
        assert_eq!(short_level("6.4.0", PatchLevel::NONE), "the base release");
    }

    #[test]
    fn a_restore_at_the_installed_level_says_what_returns_what_is_lost_and_kept() {
        let effects = restore_effects(&backup(3), Some(PatchLevel(3)), "Mon, Dec 7");
        assert_eq!(
            keys(&effects),
            ["database", "lost", "kept", "restart", "clients", "devices"]
        );
        assert_eq!(
            effects[0].head,
            "The database returns to the moment the backup was taken (Mon, Dec 7)."
        );
        assert_eq!(effects[0].more, "It was taken at SMS 6.4.0 Patch 3.");
        assert!(effects[1].head.contains("the installed patch level"));
        assert!(
            effects[2]
                .head
                .contains("accounts and sessions, the audit log")
        );
        assert!(effects[2].head.contains("the TMC catalog"));
    }

    #[test]
    fn a_restore_of_another_level_says_the_server_switches_to_it() {
        let effects = restore_effects(&backup(0), Some(PatchLevel(3)), "then");
        let switch = effects.iter().find(|e| e.key == "switch").unwrap();
        assert_eq!(
            switch.head,
            "This server runs SMS 6.4.0 Patch 3: it switches to the base release, the backup's \
             level."
        );
        let unknown = restore_effects(&backup(2), None, "then");
        let switch = unknown.iter().find(|e| e.key == "switch").unwrap();
        assert!(
            switch
                .head
                .starts_with("When this server runs another level")
        );
    }

    #[test]
    fn the_restore_words_name_the_backup() {
        assert_eq!(restore_path("a b"), "/api/v1/backups/a%20b/restore");
        assert_eq!(restore_button_id("x"), "backup-restore-x");
        assert_eq!(restore_title("x"), "Restore the backup x?");
        assert_eq!(restored_words(Some("x")), "The backup x was restored.");
        assert_eq!(restore_in_history(Some("x")), "Restore of backup x");
        assert_eq!(restore_in_history(None), "Restore of a database backup");
        assert!(
            no_rollback_backup(PatchLevel(2))
                .starts_with("No database backup taken before Patch 2 was installed is kept")
        );
        assert_eq!(
            rollback_restore_label(PatchLevel(3), "Mon, Dec 7"),
            "Restore the database backup taken before Patch 3 was installed (Mon, Dec 7)"
        );
    }
}
