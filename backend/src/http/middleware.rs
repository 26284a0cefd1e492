//! Middleware: web clients held to the server's client version (426), the passive node's
//! 421, the cluster secret on node-to-node calls, and the browser hardening headers.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::api::{CLIENT_HEADER, ErrorBody};
use shared::client::{ClientKind, ClientMismatch, Compatibility, client_kind, compatibility};

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::service::cluster::AUTHORIZATION_SCHEME;

/// The API paths any client may call, whatever its version: it must be able to tell who it is
/// talking to, log in and out, and see what the server runs.
const EXEMPT: [&str; 4] = [
    "/api/v1/health",
    "/api/v1/session",
    "/api/v1/server",
    "/api/v1/openapi.json",
];

/// On every answer: `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`; on
/// the API's and the nodes' answers also `Cache-Control: no-store` (unless one is set).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let api = is_api_path(request.uri().path());
    let mut response = next.run(request).await;
    harden(&mut response, api);
    response
}

/// Whether `path` is the JSON API's or the node-to-node calls' (never cached).
pub fn is_api_path(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || path == "/cluster"
        || path.starts_with("/cluster/")
}

/// Puts the hardening headers on `response` (`api`: it is an API answer).
pub fn harden(response: &mut Response, api: bool) {
    use axum::http::HeaderValue;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Middleware on the API: a web client whose version does not match gets 426.
pub async fn hold_web_clients(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/") || EXEMPT.contains(&path) {
        return next.run(request).await;
    }
    let from_header = request
        .headers()
        .get(CLIENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // An EventSource cannot send headers: the event stream takes `?client=` instead.
    let from_query = || {
        axum::extract::Query::<ClientQuery>::try_from_uri(request.uri())
            .ok()
            .and_then(|query| query.0.client)
    };
    let Some(header) = from_header.or_else(from_query) else {
        return next.run(request).await;
    };
    let ClientKind::Web(version) = client_kind(&header) else {
        return next.run(request).await;
    };
    let required = state.required_client();
    let verdict = match version {
        Some(version) => compatibility(required, version),
        None => Compatibility::UpgradeRequired { required },
    };
    let current = version.map_or_else(|| "unknown".to_owned(), |v| v.to_string());
    let (code, message) = match verdict {
        Compatibility::Compatible => return next.run(request).await,
        Compatibility::UpgradeRequired { required } => (
            "client_upgrade_required",
            format!(
                "This SMS client is version {current}, but the server requires {required}: a \
                 patch updated the client. Load the server's client (reload the page) to go on."
            ),
        ),
        Compatibility::SwitchRequired { required } => (
            "client_switch_required",
            format!(
                "This SMS client is version {current}, newer than the {required} the server \
                 requires (a patch was rolled back). Switch to the server's client (reload the \
                 page) to go on."
            ),
        ),
    };
    let body = ClientMismatch {
        error: ErrorBody {
            code: code.to_owned(),
            message,
        },
        required: required.to_string(),
        current,
    };
    (StatusCode::UPGRADE_REQUIRED, axum::Json(body)).into_response()
}

#[derive(serde::Deserialize)]
struct ClientQuery {
    client: Option<String>,
}

/// Node-to-node calls: `Authorization: Bearer <cluster secret>`, nothing else.
pub async fn require_secret(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !state.cluster.is_configured() {
        return ApiError::NotFound {
            code: "cluster_not_configured",
            message: "This server is not part of an HA cluster.".into(),
        }
        .into_response();
    }
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix(AUTHORIZATION_SCHEME));
    match token {
        None => ApiError::Status {
            status: StatusCode::UNAUTHORIZED,
            code: "cluster_secret_required",
            message: "Calls between cluster nodes must carry the cluster secret \
                      (`Authorization: Bearer <secret>`)."
                .into(),
        }
        .into_response(),
        Some(token) if !state.cluster.secret_matches(token) => {
            tracing::warn!("refused a node-to-node call with a wrong cluster secret");
            ApiError::Status {
                status: StatusCode::FORBIDDEN,
                code: "cluster_secret_invalid",
                message: "The cluster secret does not match this node's: both nodes need the \
                          same secret file."
                    .into(),
            }
            .into_response()
        }
        Some(_) => next.run(request).await,
    }
}

/// What a passive node still answers: enough for the web client to log in, learn that this
/// node is passive, and follow the link to the active one.
const PASSIVE_EXEMPT: [&str; 6] = [
    "/api/v1/health",
    "/api/v1/session",
    "/api/v1/server",
    "/api/v1/cluster",
    "/api/v1/events",
    "/api/v1/openapi.json",
];

/// On the passive node of an enabled cluster, the API answers `421 node_passive` with the
/// active node's address (`active_url`): clients use the active node.
pub async fn hold_on_passive(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let Some(active_url) = state.cluster.active_url() else {
        return next.run(request).await;
    };
    if !path.starts_with("/api/") || PASSIVE_EXEMPT.contains(&path) {
        return next.run(request).await;
    }
    let body = serde_json::json!({
        "error": {
            "code": "node_passive",
            "message": format!(
                "This is the passive node {} of an HA cluster: it takes over only if the active \
                 node stops. Use the active node at {active_url}.",
                state.config.node_name
            ),
            "active_url": active_url,
        }
    });
    (StatusCode::MISDIRECTED_REQUEST, axum::Json(body)).into_response()
}
