//! Which page an address shows. The web client's router (`frontend/src/router.rs`) keeps the
//! address, the history and the links; the page is chosen here, by one match on the path (the
//! client's `App` draws it). A table of routes would build the router's matching code once per
//! page, and the web client would be larger for it.

/// A page of the app, as its path names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// `/` and `/admin`: sent on to the home page.
    Home,
    /// `/login`.
    Login,
    /// A page inside the admin frame (the session check, the header and the navigation).
    Admin(AdminPage),
    /// Any other path.
    NotFound,
}

/// A page inside the admin frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminPage {
    /// `/admin/general`: the installed patch and the SMS Patches panel.
    General,
    /// `/admin/patches/import`.
    ImportPatch,
    /// `/admin/patches/update`.
    UpdatePatch,
    /// `/admin/patches/install/{id}`, with the id as the address has it.
    Install(String),
    /// `/admin/patches/rollback`.
    Rollback,
    /// `/admin/audit`.
    Audit,
    /// `/admin/devices`.
    Devices,
    /// `/admin/cluster`.
    Cluster,
    /// `/admin/maintenance`.
    Maintenance,
    /// `/admin/notifications`.
    Notifications,
    /// `/admin/backups`.
    Backups,
    /// `/patches/{id}`: the Software Details of a patch.
    PatchDetails(String),
}

/// Which frame a page is drawn in: the admin frame stays on the screen while its pages change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    Home,
    Login,
    Admin,
    NotFound,
}

impl Page {
    /// The frame this page is drawn in.
    pub fn frame(&self) -> Frame {
        match self {
            Page::Home => Frame::Home,
            Page::Login => Frame::Login,
            Page::Admin(_) => Frame::Admin,
            Page::NotFound => Frame::NotFound,
        }
    }

    /// The admin page, for a page in the admin frame.
    pub fn admin(&self) -> Option<&AdminPage> {
        match self {
            Page::Admin(page) => Some(page),
            _ => None,
        }
    }
}

/// The page at `path` (the address's path, without its query). One trailing `/` is ignored.
pub fn page_at(path: &str) -> Page {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => path,
    };
    match path {
        "/" | "/admin" => Page::Home,
        "/login" => Page::Login,
        _ => admin_page_at(path).map_or(Page::NotFound, Page::Admin),
    }
}

fn admin_page_at(path: &str) -> Option<AdminPage> {
    if let Some(id) = path.strip_prefix("/patches/") {
        return segment(id).map(AdminPage::PatchDetails);
    }
    let page = match path.strip_prefix("/admin/")? {
        "general" => AdminPage::General,
        "patches/import" => AdminPage::ImportPatch,
        "patches/update" => AdminPage::UpdatePatch,
        "patches/rollback" => AdminPage::Rollback,
        "audit" => AdminPage::Audit,
        "devices" => AdminPage::Devices,
        "cluster" => AdminPage::Cluster,
        "maintenance" => AdminPage::Maintenance,
        "notifications" => AdminPage::Notifications,
        "backups" => AdminPage::Backups,
        other => AdminPage::Install(segment(other.strip_prefix("patches/install/")?)?),
    };
    Some(page)
}

/// One non-empty path segment.
fn segment(text: &str) -> Option<String> {
    (!text.is_empty() && !text.contains('/')).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths;

    #[test]
    fn every_address_the_app_links_to_has_its_page() {
        let id: shared::PatchId = "6.4.0.3".parse().unwrap();
        for (path, page) in [
            (paths::HOME, AdminPage::General),
            (paths::IMPORT_PATCH, AdminPage::ImportPatch),
            (paths::UPDATE_PATCH, AdminPage::UpdatePatch),
            (
                paths::install_patch(id).as_str(),
                AdminPage::Install("6.4.0.3".into()),
            ),
            (paths::ROLLBACK, AdminPage::Rollback),
            ("/admin/audit", AdminPage::Audit),
            ("/admin/devices", AdminPage::Devices),
            ("/admin/cluster", AdminPage::Cluster),
            (paths::MAINTENANCE, AdminPage::Maintenance),
            (paths::NOTIFICATIONS, AdminPage::Notifications),
            (paths::BACKUPS, AdminPage::Backups),
            (
                paths::patch_details(id).as_str(),
                AdminPage::PatchDetails("6.4.0.3".into()),
            ),
        ] {
            assert_eq!(page_at(path), Page::Admin(page.clone()), "{path}");
            assert_eq!(page_at(&format!("{path}/")), Page::Admin(page), "{path}/");
        }
        assert_eq!(page_at(paths::LOGIN), Page::Login);
    }

    #[test]
    fn the_roots_go_home() {
        for path in ["/", "/admin", "/admin/"] {
            assert_eq!(page_at(path), Page::Home, "{path:?}");
        }
    }

    #[test]
    fn anything_else_is_not_found() {
        for path in [
            "/nope",
            "/admin/nope",
            "/admin/general/more",
            "/admin/backups/20261207-035300-manual",
            "/admin/backup",
            "/admin/patches/install",
            "/admin/patches/install/",
            "/admin/patches/install/6.4.0.3/more",
            "/patches",
            "/patches/",
            "/patches/6.4.0.3/notes",
            "/login/again",
            "//admin/general",
        ] {
            assert_eq!(page_at(path), Page::NotFound, "{path:?}");
        }
    }

    #[test]
    fn only_admin_pages_have_the_admin_frame() {
        assert_eq!(page_at("/admin/audit").frame(), Frame::Admin);
        assert_eq!(page_at("/patches/1").frame(), Frame::Admin);
        assert_eq!(page_at("/").frame(), Frame::Home);
        assert_eq!(page_at("/x").frame(), Frame::NotFound);
        assert_eq!(page_at("/x").admin(), None);
    }
}
