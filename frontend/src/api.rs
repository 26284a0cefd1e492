//! Every HTTP call the SPA makes to the SMS server's JSON API under `/api/v1`.
//!
//! Components never build requests themselves: they call one function here and get the `shared`
//! response type or an [`ApiError`] that carries the server's own code and message.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use shared::PatchId;
use shared::api::{
    AuditPage, CLIENT_HEADER, ErrorResponse, LoginRequest, NotificationsSetting, PasswordChange,
    PatchInfo, ServerInfo, SessionInfo, Settings,
};
use shared::client::ClientMismatch;
use shared::maintenance::{
    MaintenanceSettings, MaintenanceView, RollbackRequest, ScheduleRequest, When,
};
use shared::notify::{CreatedTarget, Delivery, DeliveryLog, NewTarget, TargetList};
use shared::panel::{AvailablePatch, HistoryPage, JobInfo, PatchesView, TmcStatus};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_core::upload::{UploadProgress, is_printable_ascii};
use web_sys::{File, ProgressEvent, XmlHttpRequest, XmlHttpRequestUpload};

thread_local! {
    /// `web/<version>`: this client's version as the server stamped it into the page it served
    /// (`<meta name="sms-client-version">`), read once; `web` when the page carries none.
    static CLIENT_NAME: String = served_client_version()
        .map(shared::client::web_client_header)
        .unwrap_or_else(|| "web".to_owned());
    /// Set when the server refused this client's version (426): the page must load the
    /// server's client before anything else works.
    static MISMATCH: leptos::prelude::ArcRwSignal<Option<ClientMismatch>> =
        leptos::prelude::ArcRwSignal::new(None);
}

/// The client version in the page's `<meta name="sms-client-version">`.
pub fn served_client_version() -> Option<shared::client::ClientVersion> {
    let document = web_sys::window()?.document()?;
    let selector = format!("meta[name=\"{}\"]", shared::client::CLIENT_VERSION_META);
    let meta = document.query_selector(&selector).ok()??;
    meta.get_attribute("content")?.parse().ok()
}

/// The value of [`CLIENT_HEADER`] that this web client sends.
fn client_name() -> String {
    CLIENT_NAME.with(Clone::clone)
}

/// The server's refusal of this client's version, once one came (reactive).
pub fn client_mismatch() -> leptos::prelude::ArcRwSignal<Option<ClientMismatch>> {
    MISMATCH.with(Clone::clone)
}

/// Why an API call failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status of the answer; `None` when the server could not be reached at all.
    pub status: Option<u16>,
    /// The server's stable `snake_case` code (or a client-side one such as `network_error`).
    pub code: String,
    /// Human text: what happened and what to do.
    pub message: String,
}

impl ApiError {
    /// The code used when the request never got an answer.
    pub const NETWORK_ERROR: &'static str = web_core::codes::NETWORK_ERROR;
    /// The code used when the server's answer could not be understood.
    pub const UNEXPECTED_RESPONSE: &'static str = web_core::codes::UNEXPECTED_RESPONSE;

    /// Whether the server said the session is missing or has ended (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        self.status == Some(401)
    }

    fn network(detail: impl fmt::Display) -> Self {
        Self {
            status: None,
            code: Self::NETWORK_ERROR.to_owned(),
            message: format!(
                "Cannot reach the SMS server ({detail}). Check that it is running, then try again."
            ),
        }
    }

    /// The request could not even be built (a browser API refused it).
    fn unprepared(detail: impl fmt::Display) -> Self {
        Self {
            status: None,
            code: "bad_request_body".to_owned(),
            message: format!(
                "This page could not prepare its request ({detail}). Reload the page."
            ),
        }
    }

    fn unexpected(status: u16, detail: impl fmt::Display) -> Self {
        Self {
            status: Some(status),
            code: Self::UNEXPECTED_RESPONSE.to_owned(),
            message: format!(
                "The SMS server sent an answer this page cannot read ({detail}). \
                 Reload the page; if it keeps happening, check the server's log."
            ),
        }
    }

    /// The error for a non-success answer: the server's own code and message when it sent its
    /// JSON error body, otherwise the HTTP status in words.
    fn from_answer(status: u16, reason: &str, body: Option<ErrorResponse>) -> Self {
        match body {
            Some(body) => Self {
                status: Some(status),
                code: body.error.code,
                message: body.error.message,
            },
            None => {
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" {reason}")
                };
                Self {
                    status: Some(status),
                    code: Self::UNEXPECTED_RESPONSE.to_owned(),
                    message: format!(
                        "The SMS server answered HTTP {status}{reason} without details. \
                         Try again; if it keeps happening, check the server's log."
                    ),
                }
            }
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// Marks a request as coming from the web client (the server refuses state changes without it).
fn client(builder: RequestBuilder) -> RequestBuilder {
    builder.header(CLIENT_HEADER, &client_name())
}

/// An API call on its way: the answer, or why there is none. Boxed, so that what awaits it
/// (resources, actions: `crate::load`) is built once per answer type, not once per call.
pub type Fetch<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// Boxes an `async` block into a [`Fetch`].
pub fn fetch<T>(future: impl Future<Output = Result<T, ApiError>> + 'static) -> Fetch<T> {
    Box::pin(future)
}

/// The request with `body` as its JSON body.
fn json_body(
    builder: RequestBuilder,
    body: &impl serde::Serialize,
) -> Result<Request, gloo_net::Error> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = body
        .serialize(&serializer)
        .map_err(|err| gloo_net::Error::GlooError(err.to_string()))?;
    let text = web_sys::js_sys::JSON::stringify(&value)
        .map_err(|err| gloo_net::Error::GlooError(js_text(&err)))?;
    builder
        .header("Content-Type", "application/json")
        .body(text)
}

/// Sends the request and returns the answer if its status is a success.
fn send(request: Result<Request, gloo_net::Error>) -> Fetch<Response> {
    fetch(send_now(request))
}

async fn send_now(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    let request = request.map_err(ApiError::unprepared)?;
    let response = request.send().await.map_err(ApiError::network)?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let text = response.text().await;
    if status == 426 {
        let text = text.map_err(|e| ApiError::unexpected(status, e))?;
        let mismatch: ClientMismatch =
            decode(&text).map_err(|e| ApiError::unexpected(status, e))?;
        let error = ApiError {
            status: Some(status),
            code: mismatch.error.code.clone(),
            message: mismatch.error.message.clone(),
        };
        use leptos::prelude::Set;
        client_mismatch().set(Some(mismatch));
        Err(error)
    } else {
        // An error body that cannot be read or decoded is no body: the status says it then.
        let body = text
            .ok()
            .and_then(|text| decode::<ErrorResponse>(&text).ok());
        Err(ApiError::from_answer(status, &response.status_text(), body))
    }
}

/// Sends the request and returns the status and the body of a successful answer.
fn send_text(request: Result<Request, gloo_net::Error>) -> Fetch<(u16, String)> {
    fetch(async move {
        let response = send(request).await?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| ApiError::unexpected(status, e))?;
        Ok((status, text))
    })
}

/// Sends the request; a successful answer's body is not needed.
fn send_empty(request: Result<Request, gloo_net::Error>) -> Fetch<()> {
    fetch(async move { send(request).await.map(|_| ()) })
}

/// Decodes a JSON text: the browser parses it, the value is then read into `T`.
pub fn decode<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = web_sys::js_sys::JSON::parse(text).map_err(|err| js_text(&err))?;
    serde_wasm_bindgen::from_value(value).map_err(|err| err.to_string())
}

/// Sends the request and decodes a successful JSON answer.
///
/// Only the decoding is made once per answer type; the request and its answer's body are
/// handled by one function for all (a smaller web client).
fn send_json<T: DeserializeOwned + 'static>(request: Result<Request, gloo_net::Error>) -> Fetch<T> {
    fetch(Decoded {
        answer: send_text(request),
        into: std::marker::PhantomData,
    })
}

/// The future of [`send_json`]: the answer's body, decoded once it came. A plain future rather
/// than an `async` block, whose state machine was built again for every answer type.
struct Decoded<T> {
    answer: Fetch<(u16, String)>,
    into: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Future for Decoded<T> {
    type Output = Result<T, ApiError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.answer.as_mut().poll(cx).map(|answer| {
            let (status, text) = answer?;
            decode(&text).map_err(|e| ApiError::unexpected(status, e))
        })
    }
}

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

/// The header that names an uploaded patch file (for the audit log).
const FILE_NAME_HEADER: &str = "X-SMS-File-Name";

/// `POST /api/v1/patches/import`: uploads a patch file, which the server verifies while it
/// arrives and keeps in its patch repository (admins only).
///
/// `on_progress` is called as the upload advances. This uses `XMLHttpRequest` because `fetch`
/// reports no upload progress. Dropping the future cancels the upload.
pub fn import_patch(
    file: File,
    on_progress: impl Fn(UploadProgress) + 'static,
) -> Fetch<PatchInfo> {
    fetch(async move {
        let upload =
            Upload::start(&file, on_progress).map_err(|e| ApiError::unprepared(js_text(&e)))?;
        let xhr = upload.finished().await;
        // Status 0: no answer at all (connection refused or reset, aborted, timed out).
        let status = xhr.status().unwrap_or(0);
        if status == 0 {
            return Err(ApiError::network("the upload did not reach the server"));
        }
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        if (200..300).contains(&status) {
            decode(&text).map_err(|e| ApiError::unexpected(status, e))
        } else {
            let reason = xhr.status_text().unwrap_or_default();
            Err(ApiError::from_answer(status, &reason, decode(&text).ok()))
        }
    })
}

/// A browser API's error as text: its message, or the value as JSON. Not with `{:?}`: the
/// web client is built without Debug formatting (Makefile, `SPA_ENV`).
fn js_text(value: &wasm_bindgen::JsValue) -> String {
    value
        .dyn_ref::<web_sys::js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| value.as_string())
        .or_else(|| {
            web_sys::js_sys::JSON::stringify(value)
                .ok()
                .map(String::from)
        })
        .unwrap_or_else(|| "the browser gave no reason".to_owned())
}

/// One running upload. Its event handlers live as long as it does; dropping it before the end
/// aborts the request, so no handler runs after its closure is gone.
struct Upload {
    xhr: XmlHttpRequest,
    target: XmlHttpRequestUpload,
    ended: Rc<RefCell<Ending>>,
    _on_progress: Closure<dyn FnMut(ProgressEvent)>,
    _on_end: Closure<dyn FnMut()>,
}

/// Whether the request has ended, and who to wake when it does.
#[derive(Default)]
struct Ending {
    done: bool,
    waker: Option<Waker>,
}

impl Upload {
    fn start(
        file: &File,
        on_progress: impl Fn(UploadProgress) + 'static,
    ) -> Result<Self, wasm_bindgen::JsValue> {
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", "/api/v1/patches/import")?;
        xhr.set_request_header(CLIENT_HEADER, &client_name())?;
        xhr.set_request_header("Content-Type", "application/octet-stream")?;
        let name = file.name();
        if is_printable_ascii(&name) {
            xhr.set_request_header(FILE_NAME_HEADER, &name)?;
        }

        // Browsers report sizes as JavaScript numbers; a file's size is a whole number of bytes.
        let size = file.size() as u64;
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            let total = if event.length_computable() {
                event.total() as u64
            } else {
                size
            };
            on_progress(UploadProgress {
                sent: event.loaded() as u64,
                total,
            });
        });
        let target = xhr.upload()?;
        target.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));

        let ended = Rc::new(RefCell::new(Ending::default()));
        let on_end = Closure::<dyn FnMut()>::new({
            let ended = Rc::clone(&ended);
            move || {
                let waker = {
                    let mut ending = ended.borrow_mut();
                    ending.done = true;
                    ending.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        });
        // `loadend` comes after success, failure, abort and timeout alike.
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));

        let upload = Self {
            xhr,
            target,
            ended,
            _on_progress: on_progress,
            _on_end: on_end,
        };
        upload.xhr.send_with_opt_blob(Some(file))?;
        Ok(upload)
    }

    /// Waits for the request to end and hands back the finished request.
    async fn finished(self) -> XmlHttpRequest {
        Finished { upload: &self }.await;
        self.xhr.clone()
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        self.xhr.set_onloadend(None);
        self.target.set_onprogress(None);
        if !self.ended.borrow().done {
            // Aborting an upload that already ended does nothing worth reporting.
            let _ = self.xhr.abort();
        }
    }
}

/// The future of [`Upload::finished`]: ready once `loadend` has fired.
struct Finished<'a> {
    upload: &'a Upload,
}

impl Future for Finished<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut ending = self.upload.ended.borrow_mut();
        if ending.done {
            Poll::Ready(())
        } else {
            ending.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
