//! Admin > Maintenance in words and rules: the window typed into "Add a window", the job
//! scheduled for a window, and the labels of the page's buttons. (Whether a schedule, duration
//! and zone make a window is the server's to say.)

use shared::PatchId;
use shared::job::JobKind;
use shared::maintenance::MaintenanceSettings;
use shared::window::MaintenanceWindow;

use crate::restore::restore_in_history;

/// The duration a new window is given until the admin says otherwise, in minutes.
pub const DEFAULT_DURATION_MINUTES: u32 = 120;

/// The window typed into "Add a window" (`None` when no schedule is typed), or why it cannot be
/// added (the duration is not a whole number). Each field is taken trimmed.
pub fn typed_window(
    schedule: &str,
    duration: &str,
    time_zone: &str,
) -> Result<Option<MaintenanceWindow>, String> {
    let schedule = schedule.trim().to_owned();
    if schedule.is_empty() {
        return Ok(None);
    }
    let duration_minutes = duration.trim().parse::<u32>().map_err(|_| {
        format!(
            "The duration \"{}\" is not a whole number of minutes: give e.g. 120 for two hours.",
            duration.trim()
        )
    })?;
    Ok(Some(MaintenanceWindow {
        schedule,
        duration_minutes,
        time_zone: time_zone.trim().to_owned(),
    }))
}

/// Removes the window at `index` from the settings; an index past the end (the list changed
/// meanwhile) removes nothing.
pub fn remove_window(settings: &mut MaintenanceSettings, index: usize) {
    if index < settings.windows.len() {
        settings.windows.remove(index);
    }
}

/// The accessible name of a window's Remove button.
pub fn remove_window_label(schedule: &str) -> String {
    format!("Remove the window {schedule}")
}

/// What the job waiting for its window does: "Install of Patch 3 (6.4.0.3)", "Rollback to the
/// base release (no patch)", "Restore of backup ID".
pub fn scheduled_in_words(kind: JobKind, patch: Option<PatchId>, backup: Option<&str>) -> String {
    match (kind, patch) {
        (JobKind::Rollback, _) => "Rollback to the base release (no patch)".to_owned(),
        (JobKind::Restore, _) => restore_in_history(backup),
        (JobKind::Install | JobKind::Download | JobKind::Backup, Some(patch)) => {
            format!("Install of {} ({patch})", patch.level())
        }
        (kind @ (JobKind::Install | JobKind::Download | JobKind::Backup), None) => {
            kind.as_str().to_owned()
        }
    }
}

/// The line above the next openings: which zone their times are in.
pub fn openings_zone_words(browser_zone: Option<&str>) -> String {
    match browser_zone {
        Some(zone) => format!("In your browser's time zone ({zone})."),
        None => "In your browser's time zone.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(schedule: &str, minutes: u32, zone: &str) -> MaintenanceWindow {
        MaintenanceWindow {
            schedule: schedule.to_owned(),
            duration_minutes: minutes,
            time_zone: zone.to_owned(),
        }
    }

    #[test]
    fn a_typed_window_is_trimmed() {
        assert_eq!(
            typed_window(" 0 2 * * SAT ", " 90 ", " Europe/Berlin "),
            Ok(Some(window("0 2 * * SAT", 90, "Europe/Berlin")))
        );
    }

    #[test]
    fn no_schedule_is_no_window_whatever_the_duration() {
        assert_eq!(typed_window("   ", "soon", "UTC"), Ok(None));
        assert_eq!(typed_window("", "120", "UTC"), Ok(None));
    }

    #[test]
    fn a_duration_must_be_whole_minutes() {
        for typed in ["two hours", " 1.5 ", "-5", ""] {
            let refused = typed_window("0 2 * * SAT", typed, "UTC").unwrap_err();
            assert_eq!(
                refused,
                format!(
                    "The duration \"{}\" is not a whole number of minutes: give e.g. 120 for \
                     two hours.",
                    typed.trim()
                )
            );
        }
    }

    #[test]
    fn the_zone_and_the_schedule_are_the_servers_to_check() {
        assert_eq!(
            typed_window("whenever", "0", ""),
            Ok(Some(window("whenever", 0, "")))
        );
        assert_eq!(DEFAULT_DURATION_MINUTES.to_string(), "120");
    }

    #[test]
    fn removing_a_window_past_the_end_removes_nothing() {
        let mut settings = MaintenanceSettings {
            windows: vec![window("a", 1, "UTC"), window("b", 2, "UTC")],
            ..MaintenanceSettings::default()
        };
        remove_window(&mut settings, 2);
        assert_eq!(settings.windows.len(), 2);
        remove_window(&mut settings, 0);
        assert_eq!(settings.windows, vec![window("b", 2, "UTC")]);
        assert_eq!(
            remove_window_label("0 2 * * SAT"),
            "Remove the window 0 2 * * SAT"
        );
    }

    #[test]
    fn scheduled_jobs_in_words() {
        let patch: PatchId = "6.4.0.3".parse().unwrap();
        assert_eq!(
            scheduled_in_words(JobKind::Install, Some(patch), None),
            "Install of Patch 3 (6.4.0.3)"
        );
        assert_eq!(
            scheduled_in_words(JobKind::Rollback, Some(patch), None),
            "Rollback to the base release (no patch)"
        );
        assert_eq!(
            scheduled_in_words(JobKind::Restore, None, Some("b1")),
            "Restore of backup b1"
        );
        assert_eq!(scheduled_in_words(JobKind::Install, None, None), "install");
        assert_eq!(scheduled_in_words(JobKind::Backup, None, None), "backup");
    }

    #[test]
    fn the_openings_name_the_browsers_zone() {
        assert_eq!(
            openings_zone_words(Some("Europe/Berlin")),
            "In your browser's time zone (Europe/Berlin)."
        );
        assert_eq!(openings_zone_words(None), "In your browser's time zone.");
    }
}
