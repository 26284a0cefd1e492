//! `GET /api/v1/events`: the live event stream (server-sent events).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use shared::api::ErrorResponse;
use shared::panel::ServerEvent;
use tokio::sync::broadcast::error::RecvError;

use crate::http::error::ApiError;
use crate::http::extract::CurrentUser;
use crate::http::state::AppState;

/// Job progress, TMC status, new-patch notices and server state, as they happen. Each message's
/// `event` names its kind (`job`, `tmc`, `patch_notice`, `patches_changed`, `server`) and its
/// `data` is JSON. A client that falls behind gets `patches_changed` and should reload.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    responses(
        (status = 200, description = "An endless `text/event-stream`", content_type = "text/event-stream"),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let receiver = state.events.subscribe();
    let hello = state.tmc.status().await;
    let first = futures_util::stream::iter([Ok(to_sse(&ServerEvent::Tmc(hello)))]);
    let rest = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(_)) => ServerEvent::PatchesChanged,
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(to_sse(&event)), receiver))
    });
    use futures_util::StreamExt;
    let until_stopped = first.chain(rest).take_until(state.events.closed());
    Ok(Sse::new(until_stopped).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn to_sse(event: &ServerEvent) -> Event {
    let data = serde_json::to_value(event)
        .ok()
        .and_then(|mut v| v.get_mut("data").map(std::mem::take))
        .unwrap_or(serde_json::Value::Null);
    Event::default().event(event.name()).data(data.to_string())
}
