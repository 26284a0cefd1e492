//! The server's life between process starts: serving behind the gate, an in-process
//! application restart, and a reboot (the [`ServerLife`] the patch jobs use).
//!
//! The listener is held by a [`Gate`] that forwards every request to the current application
//! (its router and state). A restart closes the gate (API requests get `503 server_restarting`;
//! the web client's files are still served), ends every event stream, waits for in-flight
//! requests to finish (at most [`DRAIN_TIMEOUT`]; a request still running then finishes against
//! the old application), builds the application again from the database, and opens the gate at
//! the new level. A reboot stops listening altogether (connections are cut after 5 s).
//!
//! Under a supervisor (`app::supervisor`) a restart is a handover instead: the gate closes
//! the same way, then this process stops serving and ends, and the supervisor starts the
//! current level's server executable on the same socket; that server finishes the job.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::api::{ErrorBody, ErrorResponse, RunningExecutable, ServerState};
use tokio::sync::{Notify, mpsc, oneshot};
use tower::ServiceExt;

use shared::panel::ServerEvent;

use crate::http::state::AppState;
use crate::service::events::Events;
use crate::workflow::life::{LifeError, LifeFuture, ServerLife};

/// How long a restart waits for in-flight requests before it goes on without them.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// What the gate does with a request.
#[derive(Clone)]
enum Phase {
    Serving(Router),
    /// Restarting or rebooting; `Router` still serves the web client's files.
    Unavailable(ServerState, Router),
}

/// The front door: forwards to the current application, or answers 503 while there is none.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<GateInner>,
}

struct GateInner {
    phase: std::sync::RwLock<Phase>,
    in_flight: AtomicUsize,
    idle: Notify,
}

impl Gate {
    pub fn new(app: Router) -> Self {
        Self {
            inner: Arc::new(GateInner {
                phase: std::sync::RwLock::new(Phase::Serving(app)),
                in_flight: AtomicUsize::new(0),
                idle: Notify::new(),
            }),
        }
    }

    /// Serves `app` from now on.
    pub fn open(&self, app: Router) {
        self.set(Phase::Serving(app));
    }

    /// Stops forwarding API requests: they get 503 with `state` until [`Gate::open`].
    pub fn close(&self, state: ServerState) {
        let current = self.router();
        self.set(Phase::Unavailable(state, current));
    }

    fn set(&self, phase: Phase) {
        match self.inner.phase.write() {
            Ok(mut guard) => *guard = phase,
            Err(poisoned) => *poisoned.into_inner() = phase,
        }
    }

    fn phase(&self) -> Phase {
        match self.inner.phase.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn router(&self) -> Router {
        match self.phase() {
            Phase::Serving(router) | Phase::Unavailable(_, router) => router,
        }
    }

    /// Waits until no request is being handled, at most `timeout`; returns how many were still
    /// running when it gave up (0: all finished).
    pub async fn drain(&self, timeout: Duration) -> usize {
        let wait = async {
            loop {
                let idle = self.inner.idle.notified();
                if self.inner.in_flight.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        // A timeout is an answer too: the count below says how many requests are still running.
        let _ = tokio::time::timeout(timeout, wait).await;
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// The service to give the listener.
    pub fn service(&self) -> Router {
        Router::new().fallback(dispatch).with_state(self.clone())
    }
}

/// Counts a request as in flight while it is alive.
struct InFlight(Arc<GateInner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

async fn dispatch(State(gate): State<Gate>, request: Request) -> Response {
    // Counted before the phase is read, so a restart that drains after closing the gate sees
    // every request that got through it.
    gate.inner.in_flight.fetch_add(1, Ordering::AcqRel);
    let counted = InFlight(gate.inner.clone());
    match gate.phase() {
        Phase::Serving(router) => {
            let Ok(response) = router.oneshot(request).await;
            drop(counted);
            response
        }
        Phase::Unavailable(state, router) => {
            drop(counted);
            let path = request.uri().path();
            if path.starts_with("/api") || path.starts_with("/cluster/") {
                unavailable(state)
            } else {
                let Ok(response) = router.oneshot(request).await;
                response
            }
        }
    }
}

/// `503` with `server_restarting`, saying what happens and when to come back.
pub fn unavailable(state: ServerState) -> Response {
    let message = match state {
        ServerState::Rebooting => {
            "The SMS server is rebooting to finish a patch install. It will be back in a few \
             minutes; clients reconnect by themselves."
        }
        _ => {
            "The SMS server application is restarting to finish a patch install, a rollback or a restore. \
             It will be back in a few seconds; retry then."
        }
    };
    let body = ErrorResponse {
        error: ErrorBody {
            code: "server_restarting".into(),
            message: message.into(),
        },
    };
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    crate::http::middleware::harden(&mut response, true);
    response
}

/// What a job asks of the serving loop (in `app::startup`, which owns the listener and the
/// current application).
pub enum Control {
    /// Build the application again from the database and serve it; the answer says whether it
    /// serves.
    Restart(oneshot::Sender<Result<(), LifeError>>),
    /// Stop serving and end the process so the supervisor starts the current level's server
    /// (which finishes the job from its journal).
    Handover,
    /// Stop listening for the simulated reboot's window, then start afresh; the job is
    /// finished by that start, from its journal.
    Reboot,
}

/// The handle the patch jobs use to stop clients, restart or reboot; cheap to clone.
#[derive(Clone)]
pub struct Lifecycle {
    gate: Gate,
    control: mpsc::Sender<Control>,
    events: Events,
    /// Where this server listens (for the post-check's request to itself).
    addr: SocketAddr,
    reboot_command: Option<Vec<String>>,
    /// The executable this process runs; `supervised` says whether a supervisor started it
    /// (then a restart is a handover to the next process).
    executable: RunningExecutable,
}

impl Lifecycle {
    pub fn new(
        addr: SocketAddr,
        gate: Gate,
        events: Events,
        reboot_command: Option<Vec<String>>,
        executable: RunningExecutable,
    ) -> (Self, mpsc::Receiver<Control>) {
        let (control, receiver) = mpsc::channel(4);
        (
            Self {
                gate,
                control,
                events,
                addr,
                reboot_command,
                executable,
            },
            receiver,
        )
    }

    /// For tools that use the services without serving (e.g. `sms patch import`).
    pub fn offline() -> Self {
        let (lifecycle, _) = Self::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Gate::new(Router::new()),
            Events::new(),
            None,
            RunningExecutable {
                level: shared::PatchLevel::NONE,
                path: crate::app::handoff::own_executable().display().to_string(),
                pid: std::process::id(),
                supervised: false,
            },
        );
        lifecycle
    }

    /// The gate this lifecycle closes and opens.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    async fn stop(&self, state: ServerState) {
        self.events.publish(ServerEvent::Server { state });
        self.gate.close(state);
        // The event has to reach the streams before they end.
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.events.close();
        let cut = self.gate.drain(DRAIN_TIMEOUT).await;
        if cut > 0 {
            tracing::warn!(cut, "requests still running when the clients were stopped");
        }
        tracing::info!(?state, "client connections stopped");
    }

    async fn restart_now(&self) -> Result<(), LifeError> {
        if matches!(self.gate.phase(), Phase::Serving(_)) {
            self.stop(ServerState::Restarting).await;
        }
        if self.executable.supervised {
            self.control
                .send(Control::Handover)
                .await
                .map_err(|_| LifeError::Stopping)?;
            // This process ends; the next one finishes the job from its journal.
            return std::future::pending().await;
        }
        let (reply, answer) = oneshot::channel();
        self.control
            .send(Control::Restart(reply))
            .await
            .map_err(|_| LifeError::Stopping)?;
        answer.await.map_err(|_| LifeError::Stopping)?
    }

    async fn reboot_now(&self) -> Result<(), LifeError> {
        if let Some(command) = &self.reboot_command {
            let (program, args) = command
                .split_first()
                .ok_or_else(|| LifeError::Reboot("system.reboot_command is empty".to_owned()))?;
            tracing::warn!(command = %command.join(" "), "rebooting the server");
            let status = tokio::process::Command::new(program)
                .args(args)
                .status()
                .await
                .map_err(|err| {
                    LifeError::Reboot(format!("`{}` could not run: {err}", command.join(" ")))
                })?;
            if !status.success() {
                return Err(LifeError::Reboot(format!(
                    "`{}` failed ({status})",
                    command.join(" ")
                )));
            }
            return Ok(());
        }
        self.control
            .send(Control::Reboot)
            .await
            .map_err(|_| LifeError::Stopping)
    }
}

impl ServerLife for Lifecycle {
    fn executable(&self) -> RunningExecutable {
        self.executable.clone()
    }

    fn supervised(&self) -> bool {
        self.executable.supervised
    }

    fn state(&self) -> ServerState {
        match self.gate.phase() {
            Phase::Serving(_) => ServerState::Running,
            Phase::Unavailable(state, _) => state,
        }
    }

    fn local_url(&self) -> String {
        format!("http://{}", crate::app::handoff::reachable(self.addr))
    }

    fn stop_clients(&self, state: ServerState) -> LifeFuture<'_, ()> {
        Box::pin(self.stop(state))
    }

    fn resume_clients(&self) {
        if let Phase::Unavailable(_, router) = self.gate.phase() {
            self.gate.open(router);
            tracing::info!("client connections accepted again");
        }
    }

    fn restart(&self) -> LifeFuture<'_, Result<(), LifeError>> {
        Box::pin(self.restart_now())
    }

    fn reboot(&self) -> LifeFuture<'_, Result<(), LifeError>> {
        Box::pin(self.reboot_now())
    }
}

/// The in-process application restart, run by the supervisor: the application is built again
/// from the database and serves. Sessions live in the database, so they survive. Returns the
/// new application's state.
pub async fn restart_application(gate: &Gate, old: &AppState) -> Result<AppState, LifeError> {
    let started = std::time::Instant::now();
    let new = super::state::restarted(old);
    let installed = new.installed.get().await.map_err(|err| {
        LifeError::Restart(format!("the new application cannot read its level: {err}"))
    })?;
    let client = new.client.refresh().await.map_err(|err| {
        LifeError::Restart(format!(
            "the new application cannot work out its client: {err}"
        ))
    })?;
    gate.open(crate::http::router::router(new.clone()));
    new.events.publish(ServerEvent::Server {
        state: ServerState::Running,
    });
    tracing::info!(
        patch_level = installed.patch_level.0,
        build = %installed.build,
        client = %client,
        took_ms = started.elapsed().as_millis() as u64,
        "the application restarted"
    );
    Ok(new)
}
