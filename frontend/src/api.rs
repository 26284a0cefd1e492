//! Every HTTP call the SPA makes to the SMS server's JSON API under `/api/v1`.
//!
//! Components never build requests themselves: they call one function here and get the `shared`
//! response type or an [`ApiError`] that carries the server's own code and message.

use std::fmt;

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use shared::api::{
    AuditPage, CLIENT_HEADER, ErrorResponse, LoginRequest, NotificationsSetting, ServerInfo,
    SessionInfo, Settings,
};

/// The value of [`CLIENT_HEADER`] that marks requests from this web client.
const CLIENT_NAME: &str = "web";

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
    pub const NETWORK_ERROR: &'static str = "network_error";
    /// The code used when the server's answer could not be understood.
    pub const UNEXPECTED_RESPONSE: &'static str = "unexpected_response";

    /// Whether the server said the session is missing or has ended (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        self.status == Some(401)
    }

    fn network(error: &gloo_net::Error) -> Self {
        Self {
            status: None,
            code: Self::NETWORK_ERROR.to_owned(),
            message: format!(
                "Cannot reach the SMS server ({error}). Check that it is running, then try again."
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

    /// Builds the error from a non-success answer, preferring the server's JSON error body.
    async fn from_response(response: &Response) -> Self {
        let status = response.status();
        match response.json::<ErrorResponse>().await {
            Ok(body) => Self {
                status: Some(status),
                code: body.error.code,
                message: body.error.message,
            },
            Err(_) => {
                let reason = response.status_text();
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
    builder.header(CLIENT_HEADER, CLIENT_NAME)
}

/// Sends the request and returns the answer if its status is a success.
async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    let request = request.map_err(|e| ApiError {
        status: None,
        code: "bad_request_body".to_owned(),
        message: format!("This page could not prepare its request ({e}). Reload the page."),
    })?;
    let response = request.send().await.map_err(|e| ApiError::network(&e))?;
    if response.ok() {
        Ok(response)
    } else {
        Err(ApiError::from_response(&response).await)
    }
}

/// Sends the request and decodes a successful JSON answer.
async fn send_json<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    let response = send(request).await?;
    let status = response.status();
    response
        .json::<T>()
        .await
        .map_err(|e| ApiError::unexpected(status, e))
}

/// `GET /api/v1/session`: who is logged in (401 `not_logged_in` when nobody is).
pub async fn get_session() -> Result<SessionInfo, ApiError> {
    send_json(client(Request::get("/api/v1/session")).build()).await
}

/// `POST /api/v1/session`: log in; the server sets the session cookie.
pub async fn login(username: String, password: String) -> Result<SessionInfo, ApiError> {
    let body = LoginRequest { username, password };
    send_json(client(Request::post("/api/v1/session")).json(&body)).await
}

/// `DELETE /api/v1/session`: log out.
pub async fn logout() -> Result<(), ApiError> {
    send(client(Request::delete("/api/v1/session")).build())
        .await
        .map(|_| ())
}

/// `GET /api/v1/server`: the installed version, build and patch level of this SMS server.
pub async fn get_server() -> Result<ServerInfo, ApiError> {
    send_json(client(Request::get("/api/v1/server")).build()).await
}

/// `GET /api/v1/settings`: the server's settings.
pub async fn get_settings() -> Result<Settings, ApiError> {
    send_json(client(Request::get("/api/v1/settings")).build()).await
}

/// `PUT /api/v1/settings/notifications`: turn SMS patch notifications on or off (admins only).
pub async fn set_notifications(enabled: bool) -> Result<Settings, ApiError> {
    let body = NotificationsSetting { enabled };
    send_json(client(Request::put("/api/v1/settings/notifications")).json(&body)).await
}

/// `GET /api/v1/audit?page=&per_page=`: one page of the audit log, newest first.
pub async fn get_audit(page: u64, per_page: u64) -> Result<AuditPage, ApiError> {
    let url = format!("/api/v1/audit?page={page}&per_page={per_page}");
    send_json(client(Request::get(&url)).build()).await
}
