//! The API's endpoints, one function each: the request, and the `shared` type of its answer.

#[allow(clippy::wildcard_imports)]
use super::*;

/// `GET /api/v1/session`: who is logged in (401 `not_logged_in` when nobody is).
pub fn get_session() -> Fetch<SessionInfo> {
    send_json(client(Request::get("/api/v1/session")).build())
}

/// `POST /api/v1/session`: log in; the server sets the session cookie.
pub fn login(username: String, password: String) -> Fetch<SessionInfo> {
    let body = LoginRequest { username, password };
    send_json(json_body(client(Request::post("/api/v1/session")), &body))
}

/// `PUT /api/v1/session/password`: the logged-in user changes their own password; the session
/// as it is then (no change needed any more).
pub fn change_password(current_password: String, new_password: String) -> Fetch<SessionInfo> {
    let body = PasswordChange {
        current_password,
        new_password,
    };
    send_json(json_body(
        client(Request::put("/api/v1/session/password")),
        &body,
    ))
}

/// `DELETE /api/v1/session`: log out.
pub fn logout() -> Fetch<()> {
    send_empty(client(Request::delete("/api/v1/session")).build())
}

/// `GET /api/v1/server`: the installed version, build and patch level of this SMS server.
pub fn get_server() -> Fetch<ServerInfo> {
    send_json(client(Request::get("/api/v1/server")).build())
}

/// `GET /api/v1/settings`: the server's settings.
pub fn get_settings() -> Fetch<Settings> {
    send_json(client(Request::get("/api/v1/settings")).build())
}

/// `PUT /api/v1/settings/notifications`: turn SMS patch notifications on or off (admins only).
pub fn set_notifications(enabled: bool) -> Fetch<Settings> {
    let body = NotificationsSetting { enabled };
    send_json(json_body(
        client(Request::put("/api/v1/settings/notifications")),
        &body,
    ))
}

/// `GET /api/v1/tls`: whether the server serves HTTPS, and its certificate.
pub fn get_tls() -> Fetch<shared::tls::TlsStatus> {
    send_json(client(Request::get("/api/v1/tls")).build())
}

/// `PUT /api/v1/tls`: replace the server's certificate (admins only); the one now served.
pub fn replace_certificate(
    certificate: String,
    key: String,
) -> Fetch<shared::tls::CertificateInfo> {
    let body = shared::tls::CertificateUpload { certificate, key };
    send_json(json_body(client(Request::put("/api/v1/tls")), &body))
}

/// `GET /api/v1/audit?page=&per_page=`: one page of the audit log, newest first.
pub fn get_audit(page: u64, per_page: u64) -> Fetch<AuditPage> {
    let url = format!("/api/v1/audit?page={page}&per_page={per_page}");
    send_json(client(Request::get(&url)).build())
}

/// `GET /api/v1/patches`: the whole SMS Patches panel.
pub fn get_patches() -> Fetch<PatchesView> {
    send_json(client(Request::get("/api/v1/patches")).build())
}

/// `GET /api/v1/patches/history?page=&per_page=`: one page of installs and rollbacks.
pub fn get_history(page: u64, per_page: u64) -> Fetch<HistoryPage> {
    let url = format!("/api/v1/patches/history?page={page}&per_page={per_page}");
    send_json(client(Request::get(&url)).build())
}

/// The patch id an address holds (`6.4.0.3`), or why it is none.
pub fn patch_id(id: &str) -> Result<PatchId, ApiError> {
    id.parse().map_err(|err| ApiError {
        status: None,
        code: "invalid_patch_id".into(),
        message: format!("`{id}` is not a patch id like 6.4.0.3 ({err})."),
    })
}

/// `GET /api/v1/patches/{id}`: one patch's facts, state and release notes.
pub fn get_patch(id: PatchId) -> Fetch<AvailablePatch> {
    let url = format!("/api/v1/patches/{id}");
    send_json(client(Request::get(&url)).build())
}

/// `POST /api/v1/tmc/check`: Check now; the TMC status after the check.
pub fn check_tmc() -> Fetch<TmcStatus> {
    send_json(client(Request::post("/api/v1/tmc/check")).build())
}

/// `POST /api/v1/patches/{id}/download`: starts downloading a patch from the TMC.
pub fn download_patch(id: PatchId) -> Fetch<JobInfo> {
    let url = format!("/api/v1/patches/{id}/download");
    send_json(client(Request::post(&url)).build())
}

/// `GET /api/v1/devices`: the managed devices with their last status.
pub fn get_devices() -> Fetch<Vec<shared::devices::DeviceInfo>> {
    send_json(client(Request::get("/api/v1/devices")).build())
}

/// `POST /api/v1/devices`: manage the device whose status endpoint is `url`.
pub fn add_device(url: String) -> Fetch<shared::devices::DeviceInfo> {
    let body = shared::devices::AddDevice { url };
    send_json(json_body(client(Request::post("/api/v1/devices")), &body))
}

/// `DELETE /api/v1/devices/{id}`: stop managing a device.
pub fn remove_device(id: i64) -> Fetch<()> {
    let url = format!("/api/v1/devices/{id}");
    send_empty(client(Request::delete(&url)).build())
}

/// `GET /api/v1/cluster`: this node, its peer, and the HA cluster's state.
pub fn get_cluster() -> Fetch<shared::cluster::ClusterInfo> {
    send_json(client(Request::get("/api/v1/cluster")).build())
}

/// `POST /api/v1/cluster/{action}`: disable clustering, re-establish it, or swap the roles.
pub fn cluster_action(
    action: shared::cluster::ClusterAction,
) -> Fetch<shared::cluster::ClusterInfo> {
    let url = format!("/api/v1/cluster/{}", action.as_str());
    send_json(client(Request::post(&url)).build())
}

/// `GET /api/v1/health`: whether the server answers (never refused for the client's version).
pub fn health() -> Fetch<()> {
    send_empty(client(Request::get("/api/v1/health")).build())
}

/// `POST /api/v1/patches/{id}/install`: starts installing a downloaded patch.
pub fn install_patch(id: PatchId) -> Fetch<JobInfo> {
    let url = format!("/api/v1/patches/{id}/install");
    send_json(client(Request::post(&url)).build())
}

/// `POST /api/v1/rollback`: starts rolling the installed patch back to level 0.
pub fn rollback() -> Fetch<JobInfo> {
    send_json(client(Request::post("/api/v1/rollback")).build())
}

/// `POST /api/v1/rollback` with `{"restore_backup": true}`: starts rolling the installed patch
/// back now by restoring the database backup taken before its install, instead of undoing its
/// migrations (412 `no_rollback_backup` when none is kept).
pub fn rollback_restoring() -> Fetch<JobInfo> {
    let body = RollbackRequest {
        schedule: ScheduleRequest::default(),
        restore_backup: true,
    };
    send_json(json_body(client(Request::post("/api/v1/rollback")), &body))
}

/// `POST /api/v1/patches/{id}/install` with `{"when", "replace"}`: installs a downloaded patch
/// `when` says (e.g. in the next maintenance window); the answer is the job, in state
/// `scheduled` unless it starts now. `replace` replaces the job already scheduled (without it
/// the server refuses a second one with `job_already_scheduled`).
pub fn schedule_install(id: PatchId, when: When, replace: bool) -> Fetch<JobInfo> {
    let url = format!("/api/v1/patches/{id}/install");
    let body = ScheduleRequest { when, replace };
    send_json(json_body(client(Request::post(&url)), &body))
}

/// `POST /api/v1/rollback` with `{"when", "replace"}`: rolls back to level 0 when `when` says,
/// as [`schedule_install`] does for an install.
pub fn schedule_rollback(when: When, replace: bool) -> Fetch<JobInfo> {
    let body = ScheduleRequest { when, replace };
    send_json(json_body(client(Request::post("/api/v1/rollback")), &body))
}

/// `GET /api/v1/maintenance`: the maintenance windows and the automatic install policy, the
/// next openings, and the install or rollback scheduled, if one is.
pub fn get_maintenance() -> Fetch<MaintenanceView> {
    send_json(client(Request::get("/api/v1/maintenance")).build())
}

/// `PUT /api/v1/maintenance`: replaces the windows and the policy (admins only); the new view.
pub fn put_maintenance(settings: MaintenanceSettings) -> Fetch<MaintenanceView> {
    send_json(json_body(
        client(Request::put("/api/v1/maintenance")),
        &settings,
    ))
}

/// `GET /api/v1/notifications/targets`: the webhooks and mailboxes notified, and whether email
/// can be sent at all.
pub fn list_targets() -> Fetch<TargetList> {
    send_json(client(Request::get("/api/v1/notifications/targets")).build())
}

/// `POST /api/v1/notifications/targets`: adds a webhook or an email target (admins only). The
/// answer holds the secret the server made for a webhook given none, this once.
pub fn add_target(target: NewTarget) -> Fetch<CreatedTarget> {
    send_json(json_body(
        client(Request::post("/api/v1/notifications/targets")),
        &target,
    ))
}

/// `DELETE /api/v1/notifications/targets/{id}`: removes a target and drops what still waits
/// for it (admins only).
pub fn remove_target(id: i64) -> Fetch<()> {
    let url = format!("/api/v1/notifications/targets/{id}");
    send_empty(client(Request::delete(&url)).build())
}

/// `POST /api/v1/notifications/targets/{id}/test`: queues a `test` event for one target
/// (admins only); the queued delivery.
pub fn test_target(id: i64) -> Fetch<Delivery> {
    let url = format!("/api/v1/notifications/targets/{id}/test");
    send_json(client(Request::post(&url)).build())
}

/// `GET /api/v1/notifications/deliveries`: the delivery log, newest first.
pub fn deliveries() -> Fetch<DeliveryLog> {
    send_json(client(Request::get("/api/v1/notifications/deliveries")).build())
}

/// `GET /api/v1/backups`: the database's backups, newest first, and where they are kept.
pub fn list_backups() -> Fetch<shared::backup::BackupList> {
    send_json(client(Request::get("/api/v1/backups")).build())
}

/// `POST /api/v1/backups`: starts a backup of the database (admins only); the job.
pub fn take_backup() -> Fetch<JobInfo> {
    send_json(client(Request::post("/api/v1/backups")).build())
}

/// `DELETE /api/v1/backups/{id}`: removes a backup's file for good (admins only).
pub fn delete_backup(id: &str) -> Fetch<()> {
    let url = web_core::backups::backup_path(id);
    send_empty(client(Request::delete(&url)).build())
}

/// `POST /api/v1/backups/{id}/restore`: starts restoring a backup (admins only); the job, during
/// which the server restarts.
pub fn restore_backup(id: &str) -> Fetch<JobInfo> {
    let url = web_core::restore::restore_path(id);
    send_json(client(Request::post(&url)).build())
}

/// `GET /api/v1/jobs/{id}`: a job's state and stages.
pub fn get_job(id: i64) -> Fetch<JobInfo> {
    let url = format!("/api/v1/jobs/{id}");
    send_json(client(Request::get(&url)).build())
}

/// `POST /api/v1/jobs/{id}/cancel`: stops a running download, or cancels a scheduled install
/// or rollback until it starts.
pub fn cancel_job(id: i64) -> Fetch<JobInfo> {
    let url = format!("/api/v1/jobs/{id}/cancel");
    send_json(client(Request::post(&url)).build())
}

/// `GET /api/v1/events`: opens the live event stream (the browser sends the session cookie).
pub fn open_events() -> Result<web_sys::EventSource, ApiError> {
    // An EventSource cannot send headers: the client's version travels in the query.
    let url = format!(
        "/api/v1/events?client={}",
        String::from(web_sys::js_sys::encode_uri_component(&client_name()))
    );
    web_sys::EventSource::new(&url).map_err(|err| ApiError::unprepared(js_text(&err)))
}
