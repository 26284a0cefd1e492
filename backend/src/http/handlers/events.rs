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
/// `data` is JSON. A client that falls behind gets `patches_changed` and should reload. The
/// stream ends within seconds when its session ends.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "events",
    tag = "events",
    responses(
        (status = 200, description = "An endless `text/event-stream`", content_type = "text/event-stream"),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let receiver = state.events.subscribe();
    // Counted as open while the stream lives.
    let open = state.metrics.stream_opened();
    let hello = state.tmc.status().await;
    let first = futures_util::stream::iter([Ok(to_sse(&ServerEvent::Tmc(hello)))]);
    let rest = futures_util::stream::unfold((receiver, open), |(mut receiver, open)| async move {
        let event = match receiver.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(_)) => ServerEvent::PatchesChanged,
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(to_sse(&event)), (receiver, open)))
    });
    use futures_util::StreamExt;
    let auth = state.auth.clone();
    let session_ended = async move {
        let mut every = tokio::time::interval(SESSION_CHECK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match auth.session_alive(&user.session_id).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!(user = %user.username, "event stream ended with its session");
                    return;
                }
                // A database hiccup does not end the stream; the next check decides.
                Err(err) => tracing::warn!("cannot check an event stream's session: {err}"),
            }
        }
    };
    let until_stopped = first
        .chain(rest)
        .take_until(state.events.closed())
        .take_until(Box::pin(session_ended));
    Ok(Sse::new(until_stopped).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// How often an open stream checks that its session is still valid: it ends within this long
/// after a logout, an expiry, a password change or the user's removal.
const SESSION_CHECK: Duration = Duration::from_secs(2);

fn to_sse(event: &ServerEvent) -> Event {
    let data = serde_json::to_value(event)
        .ok()
        .and_then(|mut v| v.get_mut("data").map(std::mem::take))
        .unwrap_or(serde_json::Value::Null);
    Event::default().event(event.name()).data(data.to_string())
}
