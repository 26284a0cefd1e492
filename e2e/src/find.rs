//! Selectors: the only place that knows how the page is built.

use fantoccini::Locator;

pub const LOGIN_FORM: Locator<'static> = Locator::Css("#login-form");
pub const LOGIN_USERNAME: Locator<'static> = Locator::Css("#login-username");
pub const LOGIN_PASSWORD: Locator<'static> = Locator::Css("#login-password");
pub const LOGIN_SUBMIT: Locator<'static> = Locator::Css("#login-submit");
pub const LOGIN_ERROR: Locator<'static> = Locator::Css("#login-error");
/// The notice the page shows when the web client stopped on an internal fault.
pub const CLIENT_FAULT: Locator<'static> = Locator::Css("#client-fault");
pub const PASSWORD_FORM: Locator<'static> = Locator::Css("#password-form");
pub const PASSWORD_CURRENT: Locator<'static> = Locator::Css("#password-current");
pub const PASSWORD_NEW: Locator<'static> = Locator::Css("#password-new");
pub const PASSWORD_REPEAT: Locator<'static> = Locator::Css("#password-repeat");
pub const PASSWORD_SUBMIT: Locator<'static> = Locator::Css("#password-submit");
pub const PASSWORD_DIFFER: Locator<'static> = Locator::Css("#password-differ");

pub const HEADER: Locator<'static> = Locator::Css("#app-header");
pub const SERVER_VERSION: Locator<'static> = Locator::Css("#server-version");
pub const SERVER_PATCH_LEVEL: Locator<'static> = Locator::Css("#server-patch-level");
pub const CURRENT_USER: Locator<'static> = Locator::Css("#current-user");
pub const LOGOUT: Locator<'static> = Locator::Css("#logout");
pub const NAV_GENERAL: Locator<'static> = Locator::Css("#nav-general");
pub const NAV_AUDIT: Locator<'static> = Locator::Css("#nav-audit");
pub const NAV_DEVICES: Locator<'static> = Locator::Css("#nav-devices");
pub const DEVICES_NOTICE: Locator<'static> = Locator::Css("#devices-notice");

pub const GENERAL_PAGE: Locator<'static> = Locator::Css("#general-page");
pub const NOTIFICATIONS_STATUS: Locator<'static> = Locator::Css("#notifications-status");
pub const NOTIFICATIONS_TOGGLE: Locator<'static> = Locator::Css("#notifications-toggle");
pub const IMPORT_LINK: Locator<'static> = Locator::Css("#import-link");
pub const CERTIFICATE_FINGERPRINT: Locator<'static> = Locator::Css("#certificate-fingerprint");
pub const CERTIFICATE_ISSUER: Locator<'static> = Locator::Css("#certificate-issuer");
pub const CERTIFICATE_EXPIRY_WARNING: Locator<'static> =
    Locator::Css("#certificate-expiry-warning");
pub const CERTIFICATE_CHAIN_FILE: Locator<'static> = Locator::Css("#certificate-chain-file");
pub const CERTIFICATE_KEY_FILE: Locator<'static> = Locator::Css("#certificate-key-file");
pub const CERTIFICATE_SUBMIT: Locator<'static> = Locator::Css("#certificate-submit");
pub const CERTIFICATE_REPLACED: Locator<'static> = Locator::Css("#certificate-replaced");
pub const CERTIFICATE_FORM_ERROR: Locator<'static> =
    Locator::Css("#certificate-form .error-message");

pub const IMPORT_PAGE: Locator<'static> = Locator::Css("#import-page");
pub const IMPORT_ADMINS_ONLY: Locator<'static> = Locator::Css("#import-admins-only");
pub const IMPORT_FILE: Locator<'static> = Locator::Css("#import-file");
pub const IMPORT_SUBMIT: Locator<'static> = Locator::Css("#import-submit");
pub const IMPORT_PROGRESS: Locator<'static> = Locator::Css("#import-progress");
pub const IMPORT_RESULT: Locator<'static> = Locator::Css("#import-result");
pub const IMPORT_PATCH_NAME: Locator<'static> = Locator::Css("#import-patch-name");
pub const IMPORT_FACTS: Locator<'static> = Locator::Css("#patch-facts");
/// The "Demo key" badge beside the signing key of a patch signed with the demo vendor key.
pub const PATCH_DEMO_KEY: Locator<'static> = Locator::Css("#patch-demo-key");
pub const IMPORT_ERROR: Locator<'static> = Locator::Css("#import-error");
pub const IMPORT_ERROR_CODE: Locator<'static> = Locator::Css("#import-error-code");
pub const RELEASE_NOTES: Locator<'static> = Locator::Css("#release-notes");
pub const RELEASE_NOTES_HEADINGS: Locator<'static> = Locator::Css("#release-notes h2");
/// Anything in the release notes that could run code: it must never be there.
pub const RELEASE_NOTES_ACTIVE_CONTENT: Locator<'static> = Locator::Css(
    "#release-notes script, #release-notes iframe, #release-notes [onerror], #release-notes [onload], #release-notes [onclick]",
);

pub const AUDIT_PAGE: Locator<'static> = Locator::Css("#audit-page");
pub const AUDIT_ROWS: Locator<'static> = Locator::Css("#audit-table tbody tr.audit-row");
pub const AUDIT_TOTAL: Locator<'static> = Locator::Css("#audit-total");

/// The SMS Patches panel (Admin > General).
pub const TMC_STATUS: Locator<'static> = Locator::Css("#tmc-status");
/// The note that the TMC is reached over plain HTTP.
pub const TMC_UNENCRYPTED: Locator<'static> = Locator::Css("#tmc-unencrypted");
pub const TMC_CONNECTED: Locator<'static> =
    Locator::Css("#tmc-status[data-connection='connected']");
pub const TMC_CHECK: Locator<'static> = Locator::Css("#tmc-check");
/// The TUF feed's line: root version, the timestamp's age and expiry.
pub const TMC_FEED: Locator<'static> = Locator::Css("#tmc-feed");
/// The stable code of a failed check.
pub const TMC_CODE: Locator<'static> = Locator::Css("#tmc-code");
/// "Check the server's clock", with both clocks.
pub const TMC_CLOCK: Locator<'static> = Locator::Css("#tmc-clock");
pub const PATCHES_TABLE: Locator<'static> = Locator::Css("#patches-table");
pub const PATCH_HISTORY: Locator<'static> = Locator::Css("#patch-history");
/// The rows of the panel's history (CSS, for counting).
pub const HISTORY_ROWS: &str = "#patch-history tbody tr";
/// "20 of 30 shown" under the history.
pub const HISTORY_COUNT: Locator<'static> = Locator::Css("#history-count");
/// "Show older (N more)".
pub const HISTORY_OLDER: Locator<'static> = Locator::Css("#history-older");
pub const INSTALLED_PATCH: Locator<'static> = Locator::Css("#installed-patch");
/// "Data dir …: … free of …" in the panel.
pub const STORAGE_FREE: Locator<'static> = Locator::Css("#storage-free");
/// The panel's warning that the data dir's free space is low.
pub const STORAGE_LOW: Locator<'static> = Locator::Css("#storage-low");
/// The "A newer patch is available" notice under the header.
pub const PATCH_NOTICE: Locator<'static> = Locator::Css("#patch-notice");

/// The state cell of patch `id` (e.g. `6.4.0.3`) in the panel.
pub fn patch_state(id: &str) -> String {
    format!("#patches-table tr[data-patch='{id}'] .patch-state .state")
}

/// The Download button of patch `id`.
pub fn patch_download(id: &str) -> String {
    format!("#patches-table tr[data-patch='{id}'] button.download")
}

/// The row header (name and badges) of patch `id`.
pub fn patch_name(id: &str) -> String {
    format!("#patches-table tr[data-patch='{id}'] th")
}

/// What patch `id` changes, under its name in the panel.
pub fn patch_changes(id: &str) -> String {
    format!("#patches-table tr[data-patch='{id}'] .patch-changes")
}

/// The Software Details page.
pub const DETAILS_NAME: Locator<'static> = Locator::Css("#details-name");
pub const DETAILS_STATE: Locator<'static> = Locator::Css("#details-state");
pub const DETAILS_CHANGES: Locator<'static> = Locator::Css("#details-changes");

/// The Update wizard.
pub const UPDATE_LINK: Locator<'static> = Locator::Css("#update-link");
pub const UPDATE_PATCH_FILE: Locator<'static> = Locator::Css("#patch-file");
pub const UPDATE_DOWNLOAD: Locator<'static> = Locator::Css("#update-download");
pub const UPDATE_DOWNLOAD_STATUS: Locator<'static> = Locator::Css("#update-download-status");
pub const UPDATE_DOWNLOAD_PROGRESS: Locator<'static> = Locator::Css("#update-download-progress");
pub const UPDATE_PATCH_FACTS: Locator<'static> = Locator::Css("#update-patch-facts");
pub const UPDATE_INSTALL: Locator<'static> = Locator::Css("#update-install");

/// The Install… link of patch `id` in the panel (downloaded patches).
pub fn patch_install(id: &str) -> String {
    format!("#patches-table tr[data-patch='{id}'] a.install")
}

/// The install and rollback confirmation steps and the job's live stages.
pub const INSTALL_EFFECTS: Locator<'static> = Locator::Css("#install-effects");
pub const INSTALL_CONFIRM: Locator<'static> = Locator::Css("#install-confirm");
pub const ROLLBACK_LINK: Locator<'static> = Locator::Css("#rollback-link");
pub const ROLLBACK_EFFECTS: Locator<'static> = Locator::Css("#rollback-effects");
pub const ROLLBACK_CONFIRM: Locator<'static> = Locator::Css("#rollback-confirm");
/// The rollback's "In the next window (opens …)".
pub const ROLLBACK_NEXT_WINDOW: Locator<'static> = Locator::Css("#rollback-next-window");
/// The rollback's offer to restore the backup taken before the installed patch's install (its
/// checkbox, label and what it means), or the note that no such backup is kept.
pub const ROLLBACK_RESTORE: Locator<'static> = Locator::Css("#rollback-restore");
pub const ROLLBACK_RESTORE_BACKUP: Locator<'static> = Locator::Css("#rollback-restore-backup");
pub const ROLLBACK_RESTORE_NONE: Locator<'static> = Locator::Css("#rollback-restore-none");
pub const JOB_STATUS: Locator<'static> = Locator::Css("#job-status");
pub const JOB_DONE_LINK: Locator<'static> = Locator::Css("#job-done-link");

/// A stage of the running job, once it ended well.
pub fn stage_ok(stage: &str) -> String {
    format!("#job-stages li[data-stage='{stage}'][data-status='ok']")
}

/// A history row of the panel: `kind` install or rollback, `state` succeeded or failed.
pub fn history_row(kind: &str, state: &str) -> String {
    format!("#patch-history tr[data-kind='{kind}'][data-state='{state}']")
}

/// The "SMS server restarting / rebooting" bar.
pub const SERVER_LINK: Locator<'static> = Locator::Css("#server-link");

/// The client version prompt and its parts.
pub const CLIENT_MISMATCH: Locator<'static> = Locator::Css("#client-mismatch");
pub const CLIENT_UPGRADE_PROMPT: Locator<'static> =
    Locator::Css("#client-mismatch[data-kind='upgrade']");
pub const CLIENT_SWITCH_PROMPT: Locator<'static> =
    Locator::Css("#client-mismatch[data-kind='switch']");
pub const CLIENT_REQUIRED: Locator<'static> = Locator::Css("#client-required");
pub const CLIENT_CURRENT: Locator<'static> = Locator::Css("#client-current");
pub const CLIENT_RELOAD: Locator<'static> = Locator::Css("#client-reload");

/// The HA cluster panel (Admin > HA cluster).
pub const NAV_CLUSTER: Locator<'static> = Locator::Css("#nav-cluster");
pub const CLUSTER_ENABLED: Locator<'static> = Locator::Css("#cluster-enabled[data-enabled='true']");
pub const CLUSTER_DISABLED: Locator<'static> =
    Locator::Css("#cluster-enabled[data-enabled='false']");
pub const CLUSTER_NODE: Locator<'static> = Locator::Css("#cluster-node");
pub const CLUSTER_PEER: Locator<'static> = Locator::Css("#cluster-peer");
pub const CLUSTER_MISMATCH: Locator<'static> = Locator::Css("#cluster-mismatch");
pub const CLUSTER_PROCEDURE: Locator<'static> = Locator::Css("#cluster-procedure");
pub const CLUSTER_DISABLE: Locator<'static> = Locator::Css("#cluster-disable");
pub const CLUSTER_ESTABLISH: Locator<'static> = Locator::Css("#cluster-establish");
pub const CLUSTER_CONFIRM: Locator<'static> = Locator::Css("#cluster-confirm");
pub const CLUSTER_CONFIRM_YES: Locator<'static> = Locator::Css("#cluster-confirm-yes");
pub const CLUSTER_ERROR: Locator<'static> = Locator::Css("#cluster-error");
/// The install page's notice that the HA rule refuses the patch.
pub const INSTALL_HA_BLOCKED: Locator<'static> = Locator::Css("#install-ha-blocked");
/// The passive node's banner and its link to the active node.
pub const PASSIVE_NODE: Locator<'static> = Locator::Css("#passive-node");
pub const ACTIVE_NODE_LINK: Locator<'static> = Locator::Css("#active-node-link");

/// A node card (`#cluster-node` or `#cluster-peer`) showing `role` and patch level `level`.
pub fn cluster_card(card: &str, role: &str, level: u32) -> String {
    format!("{card}[data-role='{role}'] .node-level[data-level='{level}']")
}

/// Admin > Maintenance: the windows, the form that adds one, Save, the next openings and the
/// job scheduled for a window.
pub const NAV_MAINTENANCE: Locator<'static> = Locator::Css("#nav-maintenance");
pub const MAINTENANCE_PAGE: Locator<'static> = Locator::Css("#maintenance-page");
pub const NO_WINDOWS: Locator<'static> = Locator::Css("#no-windows");
pub const MAINTENANCE_WINDOWS: Locator<'static> = Locator::Css("#maintenance-windows");
pub const WINDOW_SCHEDULE: Locator<'static> = Locator::Css("#window-schedule");
pub const WINDOW_DURATION: Locator<'static> = Locator::Css("#window-duration");
pub const WINDOW_TIME_ZONE: Locator<'static> = Locator::Css("#window-time-zone");
pub const WINDOW_ADD: Locator<'static> = Locator::Css("#window-add");
pub const MAINTENANCE_SAVE: Locator<'static> = Locator::Css("#maintenance-save");
pub const MAINTENANCE_SAVED: Locator<'static> = Locator::Css("#maintenance-saved");
pub const MAINTENANCE_ERROR: Locator<'static> = Locator::Css("#maintenance-error");
/// Each of the next openings, soonest first (`data-start` and `data-end` in RFC 3339).
pub const MAINTENANCE_OPENINGS: Locator<'static> = Locator::Css("#maintenance-openings li");
pub const FIRST_OPENING: Locator<'static> = Locator::Css("#maintenance-openings li:first-child");
pub const MAINTENANCE_SCHEDULED: Locator<'static> = Locator::Css("#maintenance-scheduled");
pub const SCHEDULED_FOR: Locator<'static> = Locator::Css("#scheduled-for");
pub const SCHEDULED_CANCEL: Locator<'static> = Locator::Css("#scheduled-cancel");
pub const SCHEDULED_NONE: Locator<'static> = Locator::Css("#scheduled-none");

/// The install page's "In the next window (opens …)", what it says once the install is
/// scheduled, and the question whether to replace the job already scheduled.
pub const INSTALL_NEXT_WINDOW: Locator<'static> = Locator::Css("#install-next-window");
pub const INSTALL_SCHEDULED: Locator<'static> = Locator::Css("#install-scheduled");
pub const REPLACE_SCHEDULED_CONFIRM: Locator<'static> = Locator::Css("#replace-scheduled-confirm");

/// The Cancel button of the scheduled `kind` (install or rollback) in the panel's history.
pub fn history_cancel(kind: &str) -> String {
    format!("#patch-history tr[data-kind='{kind}'][data-state='scheduled'] button.history-cancel")
}

/// Admin > Notifications: the targets, the form that adds one, the secret shown once, and the
/// delivery log.
pub const NAV_NOTIFICATIONS: Locator<'static> = Locator::Css("#nav-notifications");
pub const NOTIFICATIONS_PAGE: Locator<'static> = Locator::Css("#notifications-page");
pub const NOTIFICATION_TARGETS: Locator<'static> = Locator::Css("#notification-targets");
pub const TARGET_KIND: Locator<'static> = Locator::Css("#target-kind");
pub const TARGET_URL: Locator<'static> = Locator::Css("#target-url");
pub const TARGET_SECRET: Locator<'static> = Locator::Css("#target-secret");
pub const TARGET_ADDRESS: Locator<'static> = Locator::Css("#target-address");
pub const TARGET_ADD: Locator<'static> = Locator::Css("#target-add");
pub const TARGET_SECRET_ONCE: Locator<'static> = Locator::Css("#target-secret-once");
pub const TARGET_SECRET_VALUE: Locator<'static> = Locator::Css("#target-secret-value");
pub const NOTIFICATION_DELIVERIES: Locator<'static> = Locator::Css("#notification-deliveries");

/// The "Send a test" button of the target whose destination is `destination`.
pub fn target_test(destination: &str) -> String {
    format!("#notification-targets button.target-test[aria-label='Send a test to {destination}']")
}

/// A row of the delivery log: `event` e.g. `test`, `state` e.g. `delivered`.
pub fn delivery_row(event: &str, state: &str) -> String {
    format!("#notification-deliveries tr[data-event='{event}'][data-state='{state}']")
}

/// Everything of the page but the client-version prompt (made inert while the prompt shows).
pub const APP_FRAME: Locator<'static> = Locator::Css("body > .app");

/// Admin > Backups: where the backups are kept, "Back up now" and how it went, the table, and
/// the question asked before a backup is deleted.
pub const NAV_BACKUPS: Locator<'static> = Locator::Css("#nav-backups");
pub const BACKUPS_PAGE: Locator<'static> = Locator::Css("#backups-page");
/// The list's heading, which takes the focus once a backup is deleted.
pub const BACKUPS_HEADING: Locator<'static> = Locator::Css("#backups-heading");
pub const BACKUPS_DIR: Locator<'static> = Locator::Css("#backups-dir");
/// How a backup is put back (with the server stopped, from the command line).
pub const BACKUPS_RESTORE_HOW: Locator<'static> = Locator::Css("#backups-restore-how");
pub const NO_BACKUPS: Locator<'static> = Locator::Css("#no-backups");
pub const BACKUP_NOW: Locator<'static> = Locator::Css("#backup-now");
pub const BACKUP_STATUS: Locator<'static> = Locator::Css("#backup-status");
/// What operators read in place of the buttons.
pub const BACKUPS_ADMINS_ONLY: Locator<'static> = Locator::Css("#backups-admins-only");
pub const BACKUPS_TABLE: Locator<'static> = Locator::Css("#backups-table");
/// Every Download link, Restore and Delete button of the table (CSS, for counting).
pub const BACKUP_CONTROLS: Locator<'static> = Locator::Css(
    "#backups-table a.backup-download, #backups-table button.backup-restore, \
     #backups-table button.backup-delete",
);
pub const BACKUP_CONFIRM: Locator<'static> = Locator::Css("#backup-confirm");
pub const BACKUP_CONFIRM_YES: Locator<'static> = Locator::Css("#backup-confirm-yes");
pub const BACKUP_DELETED: Locator<'static> = Locator::Css("#backup-deleted");
/// The question asked before a backup is restored, what it says will happen, and its answers.
pub const RESTORE_DIALOG: Locator<'static> = Locator::Css("#restore-dialog");
pub const RESTORE_EFFECTS: Locator<'static> = Locator::Css("#restore-effects");
/// The effect that the server switches to the backup's level (only when it differs).
pub const RESTORE_SWITCH: Locator<'static> =
    Locator::Css("#restore-effects li[data-effect='switch']");
pub const RESTORE_CONFIRM: Locator<'static> = Locator::Css("#restore-confirm");
pub const RESTORE_CANCEL: Locator<'static> = Locator::Css("#restore-cancel");

/// The Restore button of the backup named `id`.
pub fn backup_restore(id: &str) -> String {
    format!("#backup-restore-{id}")
}

/// The row of the backup taken for `reason` (`manual`, `before_install`, `scheduled`).
pub fn backup_row(reason: &str) -> String {
    format!("#backups-table tr[data-reason='{reason}']")
}

/// Why the backup of [`backup_row`] was taken, in words.
pub fn backup_reason(reason: &str) -> String {
    format!("{} .backup-reason", backup_row(reason))
}

/// The Download link of the backup of [`backup_row`].
pub fn backup_download(reason: &str) -> String {
    format!("{} a.backup-download", backup_row(reason))
}

/// The Delete button of the backup of [`backup_row`].
pub fn backup_delete(reason: &str) -> String {
    format!("{} button.backup-delete", backup_row(reason))
}
