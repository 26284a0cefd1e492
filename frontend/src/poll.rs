//! Timers that belong to a page or component: do something every few seconds while it is shown,
//! and gather a burst of calls into one run. Both stop when their owner is cleaned up.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;

/// Calls `tick` every `period` until the current owner (the page or component calling this) is
/// cleaned up. The future `tick` returns, if any, runs on its own task; `None` skips this turn.
pub fn every<Fut>(period: Duration, tick: impl Fn() -> Option<Fut> + 'static)
where
    Fut: Future<Output = ()> + 'static,
{
    let interval = set_interval_with_handle(
        move || {
            if let Some(work) = tick() {
                leptos::task::spawn_local(work);
            }
        },
        period,
    );
    if let Ok(handle) = interval {
        on_cleanup(move || handle.clear());
    }
}

/// Calls gathered into one run, made by [`gathered`].
#[derive(Clone, Copy)]
pub struct Gathered {
    call: StoredValue<Rc<dyn Fn()>, LocalStorage>,
}

impl Gathered {
    /// Asks for the run: the first call of a burst schedules it, the calls until it runs join
    /// it. Does nothing once the owner is cleaned up.
    pub fn call(&self) {
        if let Some(call) = self.call.try_get_value() {
            call();
        }
    }
}

/// Gathers bursts of calls into one run of `run`, `wait` after the first call of each burst.
///
/// Unlike a debounce (which waits for the calls to pause), a steady stream of calls still runs
/// `run` every `wait`. Nothing runs once the current owner is cleaned up.
pub fn gathered(wait: Duration, run: impl Fn() + 'static) -> Gathered {
    let pending = Rc::new(Cell::new(false));
    let stopped = Rc::new(Cell::new(false));
    let run: Rc<dyn Fn()> = Rc::new(run);
    let on_stop = send_wrapper::SendWrapper::new(Rc::clone(&stopped));
    on_cleanup(move || on_stop.set(true));
    let call: Rc<dyn Fn()> = Rc::new(move || {
        if stopped.get() || pending.replace(true) {
            return;
        }
        let (pending, stopped, run) = (pending.clone(), stopped.clone(), run.clone());
        set_timeout(
            move || {
                pending.set(false);
                if !stopped.get() {
                    run();
                }
            },
            wait,
        );
    });
    Gathered {
        call: StoredValue::new_local(call),
    }
}
