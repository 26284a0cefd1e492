//! The live event stream (`GET /api/v1/events`): one `EventSource` per open client, reconnected
//! with backoff, turned into signals the pages read. While the server restarts or reboots the
//! stream is retried often, so the page is back as soon as the server is.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use shared::api::ServerState;
use shared::panel::{JobInfo, JobState, TmcStatus};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_core::jobs::Jobs;
use web_sys::{EventSource, MessageEvent, js_sys};

use crate::poll::{self, Gathered};

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: u32 = 1_000;
const MAX_BACKOFF_MS: u32 = 30_000;
/// The wait between tries while the server said it restarts or reboots.
const RESTART_RETRY_MS: u32 = 100;

/// How long news is gathered before the page's data is fetched again.
const BUMP_GATHER_MS: u64 = 40;

/// Whether this page is in touch with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The event stream is open (or being opened for the first time).
    Up,
    /// The server said it restarts or reboots; the stream is gone until it is back.
    Down(ServerState),
    /// The stream broke without notice (network, server stopped).
    Lost,
}

/// What the event stream tells, as signals (provided as context by the shell).
#[derive(Clone, Copy)]
pub struct Live {
    /// Whether the stream is open.
    pub connected: RwSignal<bool>,
    /// The TMC status, as last reported.
    pub tmc: RwSignal<Option<TmcStatus>>,
    /// The latest state of each job seen since the page loaded.
    pub jobs: RwSignal<Jobs>,
    /// Bumped whenever the panel's data changed: resources that depend on it fetch again.
    pub patches_changed: RwSignal<u64>,
    /// Whether the server is there, restarting, rebooting or out of reach.
    pub link: RwSignal<Link>,
    /// Bumped whenever the managed devices' status was polled.
    pub devices_changed: RwSignal<u64>,
    /// Bumped whenever the HA cluster changed (a role, enabled or disabled, a level).
    pub cluster_changed: RwSignal<u64>,
    /// Bumped whenever the maintenance windows or the automatic install policy changed.
    pub maintenance_changed: RwSignal<u64>,
    /// Bumped whenever the notification delivery log changed.
    pub deliveries_changed: RwSignal<u64>,
    /// Gathers the calls of [`Live::bump`] into one fetch.
    bumps: Gathered,
}

impl Live {
    fn new() -> Self {
        let patches_changed = RwSignal::new(0);
        let devices_changed = RwSignal::new(0);
        let cluster_changed = RwSignal::new(0);
        let maintenance_changed = RwSignal::new(0);
        let deliveries_changed = RwSignal::new(0);
        let bumps = poll::gathered(Duration::from_millis(BUMP_GATHER_MS), move || {
            patches_changed.update(|n| *n += 1);
            devices_changed.update(|n| *n += 1);
            cluster_changed.update(|n| *n += 1);
            maintenance_changed.update(|n| *n += 1);
            deliveries_changed.update(|n| *n += 1);
        });
        Self {
            connected: RwSignal::new(false),
            tmc: RwSignal::new(None),
            jobs: RwSignal::new(Jobs::default()),
            patches_changed,
            link: RwSignal::new(Link::Up),
            devices_changed,
            cluster_changed,
            maintenance_changed,
            deliveries_changed,
            bumps,
        }
    }

    /// Makes every resource that depends on the server's data fetch again. News often comes in
    /// bursts (a check ends, the panel changed, a notice, the answer to Check now): they are
    /// gathered into one fetch, so a page is not rebuilt several times over in a few
    /// milliseconds.
    pub fn bump(&self) {
        self.bumps.call();
    }

    fn handle(&self, name: &str, data: &str) {
        match name {
            "tmc" => {
                if let Ok(status) = crate::api::decode::<TmcStatus>(data) {
                    let finished_check = self
                        .tmc
                        .get_untracked()
                        .is_some_and(|old| old.checking && !status.checking);
                    self.tmc.set(Some(status));
                    if finished_check {
                        self.bump();
                    }
                }
            }
            "job" => {
                if let Ok(job) = crate::api::decode::<JobInfo>(data) {
                    let ended = job.state.is_final();
                    // A job scheduled for a window, or one leaving its wait, changes the
                    // panel's history and the maintenance page as much as an ended one.
                    let was_scheduled = self.jobs.with_untracked(|jobs| {
                        jobs.get(job.id)
                            .is_some_and(|seen| seen.state == JobState::Scheduled)
                    });
                    let scheduled = job.state == JobState::Scheduled;
                    self.jobs.update(|jobs| {
                        jobs.insert(job);
                    });
                    if ended || scheduled || was_scheduled {
                        self.bump();
                    }
                }
            }
            "patch_notice" | "patches_changed" => self.bump(),
            "devices_changed" => self.devices_changed.update(|n| *n += 1),
            "cluster_changed" => self.cluster_changed.update(|n| *n += 1),
            "maintenance_changed" => self.maintenance_changed.update(|n| *n += 1),
            "deliveries_changed" => self.deliveries_changed.update(|n| *n += 1),
            "server" => {
                #[derive(serde::Deserialize)]
                struct Server {
                    state: ServerState,
                }
                if let Ok(Server { state }) = crate::api::decode::<Server>(data) {
                    match state {
                        ServerState::Running => self.link.set(Link::Up),
                        down => self.link.set(Link::Down(down)),
                    }
                }
            }
            _ => {}
        }
    }
}

/// The live signals, for components inside the shell.
pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// The stream of one shell: the open `EventSource`, and whether the shell is gone.
#[derive(Clone, Default)]
struct Connection {
    source: Rc<RefCell<Option<EventSource>>>,
    stopped: Rc<Cell<bool>>,
    /// During this outage, whether the server was asked if it is back (see `on_error`).
    probed: Rc<Cell<bool>>,
    /// The open stream's listeners: dropped when the stream is replaced, so reconnecting every
    /// 100 ms through a reboot leaks nothing.
    listeners: Rc<RefCell<Listeners>>,
}

#[derive(Default)]
struct Listeners {
    on_message: Vec<Closure<dyn Fn(MessageEvent)>>,
    on_state: Vec<Closure<dyn Fn()>>,
}

/// Opens the stream, provides [`Live`] as context, and keeps the stream open for the shell's
/// lifetime (it is closed when the shell goes away, e.g. at logout).
pub fn provide_live() -> Live {
    let live = Live::new();
    provide_context(live);
    let connection = Connection::default();
    connect(live, connection.clone(), FIRST_BACKOFF_MS);
    // A page the browser keeps in its back-forward cache would keep its stream open, and a
    // browser opens only six connections to one server: after a few pages nothing else would
    // load. The stream closes when the page is left and opens again if the page comes back.
    let left = connection.clone();
    let on_leave = window_event_listener_untyped("pagehide", move |_| {
        if let Some(source) = left.source.borrow_mut().take() {
            source.close();
        }
        live.connected.set(false);
    });
    let back = connection.clone();
    let on_back = window_event_listener_untyped("pageshow", move |event| {
        let from_cache = js_sys::Reflect::get(&event, &"persisted".into())
            .ok()
            .and_then(|persisted| persisted.as_bool())
            .unwrap_or(false);
        if from_cache && back.source.borrow().is_none() {
            connect(live, back.clone(), FIRST_BACKOFF_MS);
        }
    });
    let connection = send_wrapper::SendWrapper::new(connection);
    let listeners = send_wrapper::SendWrapper::new((on_leave, on_back));
    on_cleanup(move || {
        connection.stopped.set(true);
        if let Some(source) = connection.source.borrow_mut().take() {
            source.close();
        }
        let (on_leave, on_back) = listeners.take();
        on_leave.remove();
        on_back.remove();
    });
    live
}

fn connect(live: Live, connection: Connection, backoff_ms: u32) {
    if connection.stopped.get() {
        return;
    }
    // The previous stream was closed before this reconnect was scheduled: its listeners go
    // (this runs from a timer, never inside one of them).
    *connection.listeners.borrow_mut() = Listeners::default();
    let Ok(source) = crate::api::open_events() else {
        retry(live, connection, backoff_ms);
        return;
    };
    *connection.source.borrow_mut() = Some(source.clone());
    for name in [
        "tmc",
        "job",
        "patch_notice",
        "patches_changed",
        "server",
        "devices_changed",
        "cluster_changed",
        "maintenance_changed",
        "deliveries_changed",
    ] {
        let on_event = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data().as_string().unwrap_or_default();
            live.handle(name, &data);
        });
        // Fails only for an invalid event name, and the names are ours.
        let _ = source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
        connection.listeners.borrow_mut().on_message.push(on_event);
    }
    let opened = connection.clone();
    let on_open = Closure::<dyn Fn()>::new(move || {
        let was_connected = live.connected.get_untracked();
        live.connected.set(true);
        live.link.set(Link::Up);
        opened.probed.set(false);
        if !was_connected {
            // Whatever happened while the stream was down, fetch it.
            live.bump();
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    connection.listeners.borrow_mut().on_state.push(on_open);
    let reopened = source.clone();
    let owner = connection.clone();
    let on_error = Closure::<dyn Fn()>::new(move || {
        if connection.stopped.get() || crate::api::client_mismatch().get_untracked().is_some() {
            // Stopped, or this client's version is refused: only a reload helps now.
            reopened.close();
            return;
        }
        if live.link.get_untracked() != Link::Up && !connection.probed.get() {
            // The stream may be refused while the server itself is back (this client's version
            // no longer matches, or the session ended): once it answers, fetch the page's data,
            // whose answer says why (the upgrade prompt, or the login page).
            let probed = connection.probed.clone();
            leptos::task::spawn_local(async move {
                if crate::api::health().await.is_ok() && !probed.get() {
                    probed.set(true);
                    live.bump();
                }
            });
        }
        // The browser retries by itself only sometimes; close and reconnect with our backoff,
        // from the start when the stream had been open.
        reopened.close();
        let was_connected = live.connected.get_untracked();
        if was_connected && live.link.get_untracked() == Link::Up {
            live.link.set(Link::Lost);
        }
        let wait = if matches!(live.link.get_untracked(), Link::Down(_)) {
            RESTART_RETRY_MS
        } else if was_connected {
            FIRST_BACKOFF_MS
        } else {
            backoff_ms
        };
        live.connected.set(false);
        retry(live, connection.clone(), wait);
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    owner.listeners.borrow_mut().on_state.push(on_error);
}

fn retry(live: Live, connection: Connection, backoff_ms: u32) {
    let next = if matches!(live.link.get_untracked(), Link::Down(_)) {
        RESTART_RETRY_MS
    } else {
        (backoff_ms * 2).min(MAX_BACKOFF_MS)
    };
    set_timeout(
        move || connect(live, connection, next),
        Duration::from_millis(u64::from(backoff_ms)),
    );
}
