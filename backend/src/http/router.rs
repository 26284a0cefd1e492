//! The route table: every route of the server, in one place.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post, put};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::handlers::{
    audit, backups, cluster, devices, events, fallback, health, import, install, jobs, maintenance,
    metrics, notifications, patches, server, session, settings, tls, tmc,
};
use crate::http::middleware;
use crate::http::openapi::CommonAnswers;
use crate::http::state::AppState;
use crate::http::static_files;

/// The OpenAPI document's header; the paths come from the routes themselves.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "SMS patch management API",
        description = "The JSON API of the SMS server. Errors are always \
            `{\"error\": {\"code\", \"message\"}}`. State-changing requests need an admin session \
            and the `X-SMS-Client` header."
    ),
    tags(
        (name = "server", description = "What runs on this SMS server"),
        (name = "session", description = "Logging in and out"),
        (name = "settings", description = "Server settings"),
        (name = "audit", description = "The audit log"),
        (name = "patches", description = "The SMS Patches panel and the patch repository"),
        (name = "tmc", description = "The TMC link: status and Check now"),
        (name = "jobs", description = "Downloads and other long-running work"),
        (name = "events", description = "Live events (server-sent events)"),
        (name = "devices", description = "The managed IPS devices"),
        (name = "cluster", description = "The HA cluster: roles, peer, enable and disable"),
        (name = "maintenance", description = "Maintenance windows, scheduled installs, the automatic policy"),
        (name = "notifications", description = "Email and webhook notifications and their delivery log"),
        (name = "backups", description = "Database backups: take, list, download, remove"),
    )
)]
struct ApiDoc;

/// Every API route with its OpenAPI description: a route cannot exist without being documented.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::get))
        .routes(routes!(session::get, session::login, session::logout))
        .routes(routes!(session::change_password))
        .routes(routes!(server::get))
        .routes(routes!(audit::list))
        .routes(routes!(settings::get))
        .routes(routes!(settings::set_notifications))
        .routes(routes!(tls::get, tls::replace))
        .routes(routes!(import::import))
        .routes(routes!(patches::view))
        .routes(routes!(patches::history))
        .routes(routes!(patches::details))
        .routes(routes!(patches::download))
        .routes(routes!(install::install))
        .routes(routes!(install::rollback))
        .routes(routes!(tmc::status))
        .routes(routes!(tmc::check))
        .routes(routes!(jobs::get))
        .routes(routes!(jobs::cancel))
        .routes(routes!(events::stream))
        .routes(routes!(devices::list, devices::add))
        .routes(routes!(devices::remove))
        .routes(routes!(cluster::get))
        .routes(routes!(cluster::act))
        .routes(routes!(maintenance::get, maintenance::set))
        .routes(routes!(notifications::list, notifications::add))
        .routes(routes!(notifications::remove))
        .routes(routes!(notifications::test))
        .routes(routes!(notifications::deliveries))
        .routes(routes!(backups::list, backups::take))
        .routes(routes!(backups::get, backups::delete))
        .routes(routes!(backups::download))
        .routes(routes!(backups::restore))
        .split_for_parts();
    // After the routes: `modifiers(...)` on `ApiDoc` would run before they are added.
    CommonAnswers.modify(&mut doc);
    (api, doc)
}

/// The whole application: the API, its OpenAPI document, and the web client's files.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api();
    // Web clients of another version get 426 from the API (health, session and server info
    // excepted); the web client's files are always served.
    let api = api
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::hold_web_clients,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::hold_on_passive,
        ));
    // Node-to-node calls: the cluster secret and nothing else (no session, no client header).
    let nodes = Router::new()
        .route("/cluster/v1/node", get(cluster::node))
        .route("/cluster/v1/patches", put(cluster::receive_package))
        .route("/cluster/v1/install", post(cluster::install))
        .route("/cluster/v1/refresh", post(cluster::refresh))
        .route("/cluster/v1/jobs/{id}", get(cluster::job))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::require_secret,
        ))
        .route("/cluster", any(fallback::api_not_found))
        .route("/cluster/{*rest}", any(fallback::api_not_found));
    let openapi = std::sync::Arc::new(openapi);
    api.route(
        "/api/v1/openapi.json",
        get(move || {
            let doc = openapi.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    .merge(nodes)
    .route("/metrics", get(metrics::get))
    .route("/api", any(fallback::api_not_found))
    .route("/api/{*rest}", any(fallback::api_not_found))
    .method_not_allowed_fallback(fallback::method_not_allowed)
    .fallback(static_files::serve)
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        middleware::storage_full_figures,
    ))
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        middleware::record_metrics,
    ))
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        middleware::mark_changes,
    ))
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        middleware::time_limit,
    ))
    .layer(DefaultBodyLimit::max(state.config.http.max_body_bytes))
    .layer(CatchPanicLayer::custom(middleware::panic_answer))
    .layer(axum::middleware::from_fn(middleware::security_headers))
    .layer(CompressionLayer::new())
    .layer(TraceLayer::new_for_http())
    .with_state(state)
}
