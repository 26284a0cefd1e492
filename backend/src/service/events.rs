//! The live events every open client receives (`GET /api/v1/events`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shared::panel::ServerEvent;
use tokio::sync::{broadcast, watch};

/// How many events a slow client may fall behind before it misses some (it then reloads).
const BACKLOG: usize = 256;

/// Publishes [`ServerEvent`]s to every subscriber; cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    sender: broadcast::Sender<ServerEvent>,
    /// Bumped when the server stops or restarts: every stream open at that moment ends.
    closed: watch::Sender<u64>,
    /// Bumped by every event and every [`Events::mark_changed`]: what the clients see may have
    /// changed since a smaller number was read.
    generation: Arc<AtomicU64>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(BACKLOG);
        let (closed, _) = watch::channel(0);
        Self {
            sender,
            closed,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Ends every event stream open now (the server is stopping or restarting); streams
    /// opened afterwards live on.
    pub fn close(&self) {
        self.closed.send_modify(|generation| *generation += 1);
    }

    /// Completes at the next [`Events::close`] after this call.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static + use<> {
        let mut receiver = self.closed.subscribe();
        let now = *receiver.borrow_and_update();
        async move {
            // A closed hub ends the stream just as a new generation does.
            let _ = receiver.wait_for(|generation| *generation != now).await;
        }
    }

    /// Sends to whoever listens now; nobody listening is fine.
    pub fn publish(&self, event: ServerEvent) {
        self.mark_changed();
        // No subscriber (no open event stream) is not an error: nobody is told.
        let _ = self.sender.send(event);
    }

    /// Says that what the clients see may have changed, without an event: a state-changing
    /// request was answered.
    pub fn mark_changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The number of changes so far: views built from the data of generation `g` are current
    /// for as long as this still reads `g`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.sender.subscribe()
    }
}
