//! The live event stream (`GET /api/v1/events`): one `EventSource` per open client, reconnected
//! with backoff, turned into signals the pages read.

use std::collections::HashMap;

use leptos::prelude::*;
use shared::panel::{JobInfo, TmcStatus};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: u32 = 1_000;
const MAX_BACKOFF_MS: u32 = 30_000;

/// What the event stream tells, as signals (provided as context by the shell).
#[derive(Clone, Copy)]
pub struct Live {
    /// Whether the stream is open.
    pub connected: RwSignal<bool>,
    /// The TMC status, as last reported.
    pub tmc: RwSignal<Option<TmcStatus>>,
    /// The latest state of each job seen since the page loaded.
    pub jobs: RwSignal<HashMap<i64, JobInfo>>,
    /// Bumped whenever the panel's data changed: resources that depend on it fetch again.
    pub patches_changed: RwSignal<u64>,
}

impl Live {
    fn new() -> Self {
        Self {
            connected: RwSignal::new(false),
            tmc: RwSignal::new(None),
            jobs: RwSignal::new(HashMap::new()),
            patches_changed: RwSignal::new(0),
        }
    }

    fn bump(&self) {
        self.patches_changed.update(|n| *n += 1);
    }

    fn handle(&self, name: &str, data: &str) {
        match name {
            "tmc" => {
                if let Ok(status) = serde_json::from_str::<TmcStatus>(data) {
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
                if let Ok(job) = serde_json::from_str::<JobInfo>(data) {
                    let ended = job.state.is_final();
                    self.jobs.update(|jobs| {
                        jobs.insert(job.id, job);
                    });
                    if ended {
                        self.bump();
                    }
                }
            }
            "patch_notice" | "patches_changed" => self.bump(),
            _ => {}
        }
    }
}

/// The live signals, for components inside the shell.
pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// Opens the stream, provides [`Live`] as context, and keeps the stream open for the shell's
/// lifetime.
pub fn provide_live() -> Live {
    let live = Live::new();
    provide_context(live);
    connect(live, FIRST_BACKOFF_MS);
    live
}

fn connect(live: Live, backoff_ms: u32) {
    let Ok(source) = EventSource::new("/api/v1/events") else {
        retry(live, backoff_ms);
        return;
    };
    for name in ["tmc", "job", "patch_notice", "patches_changed", "server"] {
        let on_event = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data().as_string().unwrap_or_default();
            live.handle(name, &data);
        });
        let _ = source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
        // The listener lives as long as the page: the stream is reopened, never dropped.
        on_event.forget();
    }
    let on_open = Closure::<dyn Fn()>::new(move || {
        let was_connected = live.connected.get_untracked();
        live.connected.set(true);
        if !was_connected {
            // Whatever happened while the stream was down, fetch it.
            live.bump();
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();
    let reopened = source.clone();
    let on_error = Closure::<dyn Fn()>::new(move || {
        // The browser retries by itself only sometimes; close and reconnect with our backoff,
        // from the start when the stream had been open.
        reopened.close();
        let wait = if live.connected.get_untracked() {
            FIRST_BACKOFF_MS
        } else {
            backoff_ms
        };
        live.connected.set(false);
        retry(live, wait);
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
}

fn retry(live: Live, backoff_ms: u32) {
    let next = (backoff_ms * 2).min(MAX_BACKOFF_MS);
    set_timeout(
        move || connect(live, next),
        std::time::Duration::from_millis(u64::from(backoff_ms)),
    );
}
