//! The client version the server requires (`shared::client`), worked out from the installed
//! level and the patches this server knows (patch repository and TMC catalog), and the check
//! that holds web clients to it: `426` with `client_upgrade_required` or `client_switch_required`
//! on every API call except health, session and server info.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::api::{CLIENT_HEADER, ErrorBody};
use shared::client::{
    ClientKind, ClientMismatch, ClientPatch, ClientVersion, Compatibility, client_kind,
    compatibility, required_client,
};

use crate::error::ServiceError;
use crate::state::AppState;

/// The API paths any client may call, whatever its version: it must be able to tell who it is
/// talking to, log in and out, and see what the server runs.
const EXEMPT: [&str; 4] = [
    "/api/v1/health",
    "/api/v1/session",
    "/api/v1/server",
    "/api/v1/openapi.json",
];

/// The client version this server requires now.
pub async fn required(state: &AppState) -> Result<ClientVersion, ServiceError> {
    let installed = state.installed.get().await?;
    let mut patches: Vec<ClientPatch> = state
        .repository
        .list()
        .await?
        .into_iter()
        .filter(|p| p.product_version == installed.product_version)
        .map(|p| ClientPatch {
            patch: p.patch,
            updates_client: p.updates.updates_client(),
        })
        .collect();
    for row in state.tmc.catalog().await? {
        let Some(id) = crate::service::tmc::row_id(&row) else {
            continue;
        };
        if id.product_version() != installed.product_version {
            continue;
        }
        let updates: Result<shared::effects::Updates, _> = row.updates.parse();
        if let Ok(updates) = updates {
            patches.push(ClientPatch {
                patch: id.patch(),
                updates_client: updates.updates_client(),
            });
        }
    }
    Ok(required_client(
        installed.product_version,
        installed.patch_level,
        &patches,
    ))
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
