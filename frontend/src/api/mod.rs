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

mod endpoints;
mod upload;

pub use endpoints::*;
pub use upload::import_patch;

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
