//! `GET /metrics`: the Prometheus metrics (docs/metrics.md), off the public API. With
//! `[metrics] token` set, a scraper sends `Authorization: Bearer <token>`; without one, only
//! clients on the server itself (loopback) may read them.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::extract::peer_address;
use crate::http::state::AppState;
use crate::service::metrics::Scraped;

/// The OpenMetrics text exposition.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn get(State(state): State<AppState>, parts: Parts) -> Result<Response, ApiError> {
    allowed(&state, &parts)?;
    let view = state.panel.view().await?;
    let scraped = Scraped {
        installed_level: view.installed.patch_level.0,
        newer_patch: view.newer_patch.is_some(),
        outbox_pending: state.notifier.backlog().await?,
        scheduled: state.jobs.scheduled().await?.is_some(),
        data_dir: view
            .storage
            .map(|storage| (storage.free_bytes, storage.total_bytes)),
    };
    let text = state
        .metrics
        .encode(scraped)
        .map_err(|err| ApiError::Internal(format!("cannot write the metrics: {err}")))?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response())
}

fn allowed(state: &AppState, parts: &Parts) -> Result<(), ApiError> {
    match &state.config.metrics.token {
        Some(token) => {
            let given = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if crate::service::auth::secrets_match(given, token) {
                Ok(())
            } else {
                Err(ApiError::Status {
                    status: axum::http::StatusCode::UNAUTHORIZED,
                    code: "metrics_token_required",
                    message: "The metrics need `Authorization: Bearer <token>` with the token \
                              of `[metrics] token`."
                        .into(),
                })
            }
        }
        None if peer_address(parts).is_some_and(|ip| ip.is_loopback()) => Ok(()),
        None => Err(ApiError::Status {
            status: axum::http::StatusCode::FORBIDDEN,
            code: "metrics_loopback_only",
            message: "Without `[metrics] token` the metrics are served to the server itself \
                      (loopback) only. Set a token to scrape them from elsewhere."
                .into(),
        }),
    }
}
