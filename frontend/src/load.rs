//! The web client's async work in one shape, built once per value type.
//!
//! Leptos builds its async machinery (a resource's derived value and the task that fills it,
//! an action's task, the wrapper that carries the reactive owner into a future) once per
//! *future type*, and every `async` block and every closure is a type of its own: forty call
//! sites made forty copies of it, a fifth of the wasm. So here:
//!
//! - every API call is a [`Fetch`], a boxed future (`api`);
//! - [`resource`] and [`action`] box the function they run, so that machinery is built once per
//!   value type;
//! - `components::loaded::loaded` draws a resource's value with a plain reactive closure
//!   (loading, value or error), in place of `<Transition>`, `<ErrorBoundary>` and `Suspend`,
//!   each a future and a set of views of its own per use. Like a transition, it keeps what it
//!   drew while a later fetch is on its way.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;

use crate::api::ApiError;
pub use crate::api::{Fetch, fetch};

/// A value fetched from the server: `None` until the first answer, then the last answer (kept
/// while a later fetch is on its way). Fetched again whenever a signal its fetcher read changes,
/// and on [`Loaded::refetch`].
pub struct Loaded<T: 'static> {
    value: RwSignal<Option<Result<T, ApiError>>>,
    again: Trigger,
}

impl<T> Clone for Loaded<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Loaded<T> {}

impl<T: Clone + Send + Sync + 'static> Loaded<T> {
    /// The last answer (reactive).
    pub fn get(&self) -> Option<Result<T, ApiError>> {
        self.value.get()
    }

    /// The last answer, without following it.
    pub fn get_untracked(&self) -> Option<Result<T, ApiError>> {
        self.value.get_untracked()
    }

    /// Replaces the answer (e.g. with the one a change request returned).
    pub fn set(&self, value: Option<Result<T, ApiError>>) {
        self.value.set(value);
    }

    /// Fetches it again.
    pub fn refetch(&self) {
        self.again.notify();
    }
}

/// A resource that runs `fetcher` now, again whenever a signal it read changes, and on
/// [`Loaded::refetch`].
pub fn resource<T: Send + Sync + 'static>(fetcher: impl Fn() -> Fetch<T> + 'static) -> Loaded<T> {
    resource_when(move || Some(fetcher()))
}

/// A resource fetched only once `first` is there (e.g. the session), as [`resource`]; it takes
/// `first`'s error if `first` failed.
pub fn resource_after<S, T>(first: Loaded<S>, fetcher: impl Fn() -> Fetch<T> + 'static) -> Loaded<T>
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    resource_when(move || {
        let failed = first
            .value
            .with(|first| first.as_ref().map(|answer| answer.as_ref().err().cloned()))?;
        Some(match failed {
            Some(error) => fetch(async move { Err(error) }),
            None => fetcher(),
        })
    })
}

/// What a fetch does with its answer once it is the latest.
type Commit = Box<dyn FnOnce()>;
/// A fetch or an action on its way, with what to do with its answer.
type Task = Pin<Box<dyn Future<Output = Commit>>>;

/// The typed half of a resource: its value and the fetch that fills it. `fetcher` gives `None`
/// while there is nothing to fetch yet.
fn resource_when<T: Send + Sync + 'static>(
    fetcher: impl Fn() -> Option<Fetch<T>> + 'static,
) -> Loaded<T> {
    let value = RwSignal::new(None);
    let again = Trigger::new();
    follow(
        again,
        Box::new(move || {
            let fetch = fetcher()?;
            Some(Box::pin(async move {
                let answer = fetch.await;
                Box::new(move || {
                    value.try_set(Some(answer));
                }) as Commit
            }) as Task)
        }),
    );
    Loaded { value, again }
}

/// The untyped half of every resource: an effect that starts the next fetch whenever what it
/// read changed, and keeps only the latest fetch's answer.
fn follow(again: Trigger, next: Box<dyn Fn() -> Option<Task>>) {
    let latest = Rc::new(Cell::new(0_u64));
    Effect::new(move || {
        again.track();
        let Some(task) = next() else { return };
        let this = latest.get().wrapping_add(1);
        latest.set(this);
        let latest = Rc::clone(&latest);
        leptos::task::spawn_local(async move {
            let commit = task.await;
            if latest.get() == this {
                commit();
            }
        });
    });
}

/// What an action runs for one input.
pub type Run<O> = Pin<Box<dyn Future<Output = O>>>;

/// Boxes an `async` block into what an action runs.
pub fn run<O>(future: impl Future<Output = O> + 'static) -> Run<O> {
    Box::pin(future)
}

/// What runs an action for one input.
type Runner<I, O> = Box<dyn Fn(&I) -> Run<O>>;

/// A request made on the user's demand (a click, a form): whether one is on its way, and the
/// latest one's answer. Made by [`action`].
pub struct Act<I: 'static, O: 'static> {
    running: RwSignal<u32>,
    pending: Signal<bool>,
    dispatched: StoredValue<u64>,
    value: RwSignal<Option<O>>,
    run: StoredValue<Runner<I, O>, LocalStorage>,
}

impl<I, O> Clone for Act<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, O> Copy for Act<I, O> {}

/// An action that runs `run` for each input it is given.
pub fn action<I: 'static, O: Send + Sync + 'static>(
    run: impl Fn(&I) -> Run<O> + 'static,
) -> Act<I, O> {
    let run: Runner<I, O> = Box::new(run);
    let running = RwSignal::new(0);
    Act {
        running,
        pending: is_running(running),
        dispatched: StoredValue::new(0),
        value: RwSignal::new(None),
        run: StoredValue::new_local(run),
    }
}

impl<I: 'static, O: Send + Sync + 'static> Act<I, O> {
    /// Starts it for `input`; its answer replaces the last one unless a later one was started.
    pub fn dispatch(&self, input: I) {
        let Some(task) = self.run.try_with_value(|run| untrack(|| run(&input))) else {
            return;
        };
        let value = self.value;
        let task = Box::pin(async move {
            let answer = task.await;
            Box::new(move || {
                value.try_set(Some(answer));
            }) as Commit
        });
        start(self.running, self.dispatched, task);
    }

    /// Whether a request is on its way.
    pub fn pending(&self) -> Signal<bool> {
        self.pending
    }

    /// The latest request's answer.
    pub fn value(&self) -> RwSignal<Option<O>> {
        self.value
    }

    /// Forgets the latest answer (it no longer applies).
    pub fn clear(&self) {
        self.value.try_set(None);
    }
}

fn is_running(running: RwSignal<u32>) -> Signal<bool> {
    Signal::derive(move || running.get() > 0)
}

/// The untyped half of every action: counts what runs, and keeps only the latest answer.
fn start(running: RwSignal<u32>, dispatched: StoredValue<u64>, task: Task) {
    let this = dispatched.get_value().wrapping_add(1);
    dispatched.set_value(this);
    running.update(|n| *n += 1);
    leptos::task::spawn_local(async move {
        let commit = task.await;
        running.try_update(|n| *n = n.saturating_sub(1));
        if dispatched.try_get_value() == Some(this) {
            commit();
        }
    });
}

/// Both values once both are there; an error as soon as one failed.
pub fn both<A, B>(
    a: Option<Result<A, ApiError>>,
    b: Option<Result<B, ApiError>>,
) -> Option<Result<(A, B), ApiError>> {
    match (a, b) {
        (Some(Err(error)), _) | (_, Some(Err(error))) => Some(Err(error)),
        (Some(Ok(a)), Some(Ok(b))) => Some(Ok((a, b))),
        _ => None,
    }
}

/// The first value `value` reads, kept from then on: a page drawn from it is not drawn again
/// when it is fetched again (e.g. while the page follows a restart).
pub fn first<T>(
    value: impl Fn() -> Option<Result<T, ApiError>> + Send + Sync + 'static,
) -> Memo<Option<Result<T, ApiError>>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    Memo::new(
        move |kept: Option<&Option<Result<T, ApiError>>>| match kept {
            Some(Some(kept)) => Some(kept.clone()),
            _ => value(),
        },
    )
}
