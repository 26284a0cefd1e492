//! The live events every open client receives (`GET /api/v1/events`).

use shared::panel::ServerEvent;
use tokio::sync::{broadcast, watch};

/// How many events a slow client may fall behind before it misses some (it then reloads).
const BACKLOG: usize = 256;

/// Publishes [`ServerEvent`]s to every subscriber; cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    sender: broadcast::Sender<ServerEvent>,
    /// Set when the server stops: every event stream ends.
    closed: watch::Sender<bool>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(BACKLOG);
        let (closed, _) = watch::channel(false);
        Self { sender, closed }
    }

    /// Ends every open event stream (the server is stopping).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Completes when [`Events::close`] was called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static + use<> {
        let mut receiver = self.closed.subscribe();
        async move {
            let _ = receiver.wait_for(|closed| *closed).await;
        }
    }

    /// Sends to whoever listens now; nobody listening is fine.
    pub fn publish(&self, event: ServerEvent) {
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.sender.subscribe()
    }
}
