//! Selectors: the only place that knows how the page is built.

use fantoccini::Locator;

pub const LOGIN_FORM: Locator<'static> = Locator::Css("#login-form");
pub const LOGIN_USERNAME: Locator<'static> = Locator::Css("#login-username");
pub const LOGIN_PASSWORD: Locator<'static> = Locator::Css("#login-password");
pub const LOGIN_SUBMIT: Locator<'static> = Locator::Css("#login-submit");
pub const LOGIN_ERROR: Locator<'static> = Locator::Css("#login-error");

pub const HEADER: Locator<'static> = Locator::Css("#app-header");
pub const SERVER_VERSION: Locator<'static> = Locator::Css("#server-version");
pub const SERVER_PATCH_LEVEL: Locator<'static> = Locator::Css("#server-patch-level");
pub const CURRENT_USER: Locator<'static> = Locator::Css("#current-user");
pub const LOGOUT: Locator<'static> = Locator::Css("#logout");
pub const NAV_GENERAL: Locator<'static> = Locator::Css("#nav-general");
pub const NAV_AUDIT: Locator<'static> = Locator::Css("#nav-audit");

pub const GENERAL_PAGE: Locator<'static> = Locator::Css("#general-page");
pub const NOTIFICATIONS_STATUS: Locator<'static> = Locator::Css("#notifications-status");
pub const NOTIFICATIONS_TOGGLE: Locator<'static> = Locator::Css("#notifications-toggle");

pub const AUDIT_PAGE: Locator<'static> = Locator::Css("#audit-page");
pub const AUDIT_ROWS: Locator<'static> = Locator::Css("#audit-table tbody tr.audit-row");
pub const AUDIT_TOTAL: Locator<'static> = Locator::Css("#audit-total");
