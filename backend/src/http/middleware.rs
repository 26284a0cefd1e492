//! Middleware: web clients held to the server's client version (426), the passive node's
//! 421, the cluster secret on node-to-node calls, the browser hardening headers, the time
//! limit of a request, the answer to a handler's panic, the figures of a 507 for a full data
//! dir, and marking the views kept for clients old after a request that may have changed state.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::api::{CLIENT_HEADER, ErrorBody};
use shared::client::{ClientKind, ClientMismatch, Compatibility, client_kind, compatibility};

use crate::http::error::{ApiError, DataDirFull, INSUFFICIENT_STORAGE};
use crate::http::state::AppState;
use crate::service::cluster::AUTHORIZATION_SCHEME;

/// The API paths any client may call, whatever its version: it must be able to tell who it is
/// talking to, log in and out, and see what the server runs.
pub(crate) const EXEMPT: [&str; 4] = [
    "/api/v1/health",
    "/api/v1/session",
    "/api/v1/server",
    "/api/v1/openapi.json",
];

/// After every answer to a request that may change state (not GET, HEAD or OPTIONS): what the
/// clients see may have changed, so views kept for them are built again (`Events::generation`).
pub async fn mark_changes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let changes = !request.method().is_safe();
    let response = next.run(request).await;
    if changes {
        state.events.mark_changed();
    }
    response
}

/// On a 507 answer to a write that found the data dir full: the message says how much is free
/// there (the error that made the answer does not know the data dir).
pub async fn storage_full_figures(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.extensions().get::<DataDirFull>().is_none() {
        return response;
    }
    let dir = &state.config.storage.data_dir;
    let Ok(space) = crate::storage::space::Space::read(dir).await else {
        return response;
    };
    let body = shared::api::ErrorResponse {
        error: ErrorBody {
            code: INSUFFICIENT_STORAGE.into(),
            message: format!(
                "The data dir {} is full ({} MiB free of {} MiB): what this request would write \
                 was not recorded. Free space there, then try again.",
                dir.display(),
                space.free >> 20,
                space.total >> 20
            ),
        },
    };
    (StatusCode::INSUFFICIENT_STORAGE, axum::Json(body)).into_response()
}

/// On every answer: a Content-Security-Policy, `X-Content-Type-Options: nosniff` and
/// `Referrer-Policy: no-referrer`; on
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

/// The Content-Security-Policy of every answer: everything from this server only, WebAssembly
/// allowed to compile, no plugins, no framing, no `<base>`, images also as `data:` URLs. The
/// web client's page adds the hashes of its inline loader scripts (see
/// [`content_security_policy`]).
pub const BASE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// [`BASE_CSP`], with `script-src` also allowing the inline scripts `inline` (by their
/// SHA-256, as CSP hashes them: the exact text between `<script>` and `</script>`).
pub fn content_security_policy<'a>(inline: impl IntoIterator<Item = &'a str>) -> String {
    use base64::Engine;
    use sha2::Digest;
    let hashes: String = inline
        .into_iter()
        .map(|script| {
            let digest = sha2::Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    BASE_CSP.replacen(
        "script-src 'self' 'wasm-unsafe-eval'",
        &format!("script-src 'self' 'wasm-unsafe-eval'{hashes}"),
        1,
    )
}

/// Puts the hardening headers on `response` (`api`: it is an API answer); a
/// Content-Security-Policy already set (the web client's page) is kept.
pub fn harden(response: &mut Response, api: bool) {
    use axum::http::HeaderValue;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(BASE_CSP),
        );
    }
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

/// The requests that may take long by nature: the event stream, and uploads of packages (to
/// this node, or from the active node to the passive one). Every other request gets
/// `[http] request_timeout`.
pub(crate) const UNTIMED: [&str; 3] = [
    "/api/v1/events",
    "/api/v1/patches/import",
    "/cluster/v1/patches",
];

fn is_untimed(request: &Request) -> bool {
    UNTIMED.contains(&request.uri().path())
}

/// A request that is not a stream or an upload gets `[http] request_timeout` to be answered;
/// past it, 503 `request_timeout`.
pub async fn time_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_untimed(&request) {
        return next.run(request).await;
    }
    let limit = state.config.http.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                limit_ms = limit.as_millis() as u64,
                "a request took too long"
            );
            let mut response = ApiError::Status {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "request_timeout",
                message: "The server took too long to answer this request. Try again; if it \
                          keeps happening, the server is overloaded or its database is slow."
                    .into(),
            }
            .into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
            response
        }
    }
}

/// The answer to a handler that panicked: 500 `internal_error` in the error shape (the
/// connection stays up), with the panic's message in the log.
pub fn panic_answer(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let why = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    ApiError::Internal(format!("a handler panicked: {why}")).into_response()
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
pub(crate) const PASSIVE_EXEMPT: [&str; 6] = [
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

/// Counts every answer in the metrics, by matched route (not path), method and status, with
/// the time to the response head.
pub async fn record_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let route = match request.extensions().get::<axum::extract::MatchedPath>() {
        Some(path) => path.as_str().to_owned(),
        None if is_api_path(request.uri().path()) => "unmatched".to_owned(),
        None => "static".to_owned(),
    };
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    state.metrics.request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
