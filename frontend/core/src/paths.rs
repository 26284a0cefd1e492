//! The addresses of the app's pages, and which address is safe to open after login.

/// The page shown after login when there is nowhere better to go.
pub const HOME: &str = "/admin/general";

/// The login page.
pub const LOGIN: &str = "/login";

/// The Update wizard's import step: upload a patch file from storage media.
pub const IMPORT_PATCH: &str = "/admin/patches/import";

/// The Update wizard: source, SMS Patch File, release notes, download.
pub const UPDATE_PATCH: &str = "/admin/patches/update";

/// The Update wizard's confirmation step for installing a patch.
pub fn install_patch(id: shared::PatchId) -> String {
    format!("/admin/patches/install/{id}")
}

/// The confirmation step of a rollback.
pub const ROLLBACK: &str = "/admin/patches/rollback";

/// Admin > Maintenance: the maintenance windows, the automatic install policy and the job
/// scheduled for a window.
pub const MAINTENANCE: &str = "/admin/maintenance";

/// Admin > Notifications: the webhook and email targets and the delivery log.
pub const NOTIFICATIONS: &str = "/admin/notifications";

/// Admin > Backups: the database's backups, "Back up now", download and delete.
pub const BACKUPS: &str = "/admin/backups";

/// The Software Details page of a patch.
pub fn patch_details(id: shared::PatchId) -> String {
    format!("/patches/{id}")
}

/// The page to open after login: `next` when it is a path on this site, otherwise [`HOME`].
///
/// Only paths that start with a single `/` are accepted; `//host`, `/\host` and anything with
/// whitespace or control characters could make the browser leave the site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path[1..].starts_with(['/', '\\'])
                && !path.chars().any(|c| c.is_whitespace() || c.is_control())
                && path != LOGIN
                && !path.starts_with("/login?") =>
        {
            path
        }
        _ => HOME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_on_this_site_are_kept() {
        assert_eq!(safe_next(Some("/admin/audit")), "/admin/audit");
        assert_eq!(
            safe_next(Some("/admin/audit?page=2")),
            "/admin/audit?page=2"
        );
    }

    #[test]
    fn anything_that_could_leave_the_site_goes_home() {
        for bad in [
            None,
            Some(""),
            Some("admin"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some("/\t/evil.example"),
            Some("https://evil.example/"),
            Some("/login"),
        ] {
            assert_eq!(safe_next(bad), HOME, "{bad:?} was accepted");
        }
    }
}
