//! The HA cluster: `GET /api/v1/cluster` and its actions for admins, and the node-to-node
//! endpoints under `/cluster/v1` that accept only the cluster secret.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::api::ErrorResponse;
use shared::cluster::{ClusterAction, ClusterInfo, NodeInfo};
use shared::panel::JobInfo;

use crate::error::{ApiError, Json};
use crate::extract::{Admin, CurrentUser, Source};
use crate::package::verify::InstalledLevel;
use crate::service::cluster::{AUTHORIZATION_SCHEME, PeerInstall};
use crate::service::repository::{ImportContext, ImportError};
use crate::state::AppState;

/// This node, its peer and the cluster's state.
#[utoipa::path(
    get,
    path = "/api/v1/cluster",
    tag = "cluster",
    responses(
        (status = 200, description = "This node, its peer (what it answered, or why not), clustering enabled or disabled, and what differs between the nodes", body = ClusterInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<ClusterInfo>, ApiError> {
    Ok(Json(state.cluster.info(&state).await?))
}

/// Disables clustering (both nodes then serve on their own, to be patched separately),
/// re-establishes it (only when both nodes run the same version and patch level), or swaps the
/// roles (on the active node). Audited as `cluster_disable`, `cluster_establish`,
/// `cluster_swap`.
#[utoipa::path(
    post,
    path = "/api/v1/cluster/{action}",
    tag = "cluster",
    params(("action" = String, Path, description = "`disable`, `establish` or `swap`")),
    responses(
        (status = 200, description = "Done: the cluster as it is now", body = ClusterInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "Not an action (`unknown_cluster_action`)", body = ErrorResponse),
        (status = 409, description = "Not in a cluster (`cluster_not_configured`), already so (`cluster_disabled`, `cluster_enabled`), swap asked of the passive node (`not_active_node`), a job runs (`job_running`)", body = ErrorResponse),
        (status = 412, description = "The nodes run different versions or patch levels (`cluster_mismatch`)", body = ErrorResponse),
        (status = 502, description = "The peer does not answer (`peer_unreachable`)", body = ErrorResponse),
    )
)]
pub async fn act(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(action): Path<String>,
) -> Result<Json<ClusterInfo>, ApiError> {
    let action = match action.as_str() {
        "disable" => ClusterAction::Disable,
        "establish" => ClusterAction::Establish,
        "swap" => ClusterAction::Swap,
        other => {
            return Err(ApiError::NotFound {
                code: "unknown_cluster_action",
                message: format!(
                    "`{other}` is not a cluster action: use disable, establish or swap."
                ),
            });
        }
    };
    let cluster = state.cluster.clone();
    Ok(Json(
        cluster.act(&state, action, &admin.username, source).await?,
    ))
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

/// `GET /cluster/v1/node`: what this node says of itself.
pub async fn node(State(state): State<AppState>) -> Result<Json<NodeInfo>, ApiError> {
    Ok(Json(state.cluster.node_info(&state).await?))
}

/// `POST /cluster/v1/refresh`: the peer changed the cluster; look at the lease now and tell
/// this node's clients.
pub async fn refresh(State(state): State<AppState>) -> StatusCode {
    state.cluster.tick().await;
    state
        .events
        .publish(shared::panel::ServerEvent::ClusterChanged);
    StatusCode::NO_CONTENT
}

/// `PUT /cluster/v1/patches`: a package pushed by the active node, into this node's patch
/// repository through the verifier (already there: fine).
pub async fn receive_package(
    State(state): State<AppState>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let installed = state.installed.get().await?;
    let imported = state
        .repository
        .import(
            body.into_data_stream(),
            InstalledLevel {
                product_version: installed.product_version,
                patch_level: installed.patch_level,
            },
            ImportContext {
                actor: "peer node".into(),
                source: None,
                file_name: Some("sent by the active cluster node".into()),
                origin: shared::api::PatchSource::Import,
                expected: None,
            },
        )
        .await;
    match imported {
        Ok(_) => Ok(StatusCode::CREATED),
        Err(ImportError::Exists(_)) => Ok(StatusCode::OK),
        Err(err) => Err(err.into()),
    }
}

/// `POST /cluster/v1/install`: the active node asks this one to install a patch it sent.
pub async fn install(
    State(state): State<AppState>,
    Json(body): Json<PeerInstall>,
) -> Result<(StatusCode, Json<JobInfo>), ApiError> {
    let id = super::panel::parse_id(&body.patch)?;
    let actor = format!("{} (from the active node)", body.actor);
    let job = crate::service::patching::start_install(&state, id, &actor, None).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// `GET /cluster/v1/jobs/{id}`: how an install the active node started here goes.
pub async fn job(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<JobInfo>, ApiError> {
    state
        .jobs
        .get(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound {
            code: "job_not_found",
            message: format!("There is no job {id} on this node."),
        })
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
