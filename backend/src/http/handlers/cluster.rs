//! The HA cluster: `GET /api/v1/cluster` and its actions for admins, and the node-to-node
//! endpoints under `/cluster/v1` that accept only the cluster secret.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use shared::api::ErrorResponse;
use shared::cluster::{ClusterAction, ClusterInfo, NodeInfo};
use shared::panel::JobInfo;

use crate::http::error::{ApiError, Json, Path};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;
use crate::service::cluster::PeerInstall;

/// This node, its peer and the cluster's state.
#[utoipa::path(
    get,
    path = "/api/v1/cluster",
    operation_id = "cluster",
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
    Ok(Json(state.cluster_actions.info().await?))
}

/// Disables clustering (both nodes then serve on their own, to be patched separately),
/// re-establishes it (only when both nodes run the same version and patch level), or swaps the
/// roles (on the active node). Audited as `cluster_disable`, `cluster_establish`,
/// `cluster_swap`.
#[utoipa::path(
    post,
    path = "/api/v1/cluster/{action}",
    operation_id = "cluster_action",
    tag = "cluster",
    params(("action" = inline(ClusterAction), Path, description = "`disable`, `establish` or `swap`")),
    responses(
        (status = 200, description = "Done: the cluster as it is now", body = ClusterInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
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
    Ok(Json(
        state
            .cluster_actions
            .act(action, &admin.username, source)
            .await?,
    ))
}

/// `GET /cluster/v1/node`: what this node says of itself.
pub async fn node(State(state): State<AppState>) -> Result<Json<NodeInfo>, ApiError> {
    Ok(Json(state.cluster_actions.node_info().await?))
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
    let new = state.imports.from_peer(body.into_data_stream()).await?;
    Ok(if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

/// `POST /cluster/v1/install`: the active node asks this one to install a patch it sent.
pub async fn install(
    State(state): State<AppState>,
    Json(body): Json<PeerInstall>,
) -> Result<(StatusCode, Json<JobInfo>), ApiError> {
    let id = super::patches::parse_id(&body.patch)?;
    let actor = format!("{} (from the active node)", body.actor);
    let job = state.patching.start_install(id, &actor, None).await?;
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
