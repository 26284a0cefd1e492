//! What a patch job asks of the server's life (implemented by `app::lifecycle`): stop and
//! resume the clients, restart the application, reboot. The flows below `app` see only this
//! trait, never the router or the listener.

use std::future::Future;
use std::pin::Pin;

use shared::api::ServerState;

/// A future a [`ServerLife`] method returns.
pub type LifeFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a restart or a reboot did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LifeError {
    /// The application could not be built again or could not serve.
    #[error("{0}")]
    Restart(String),
    /// The reboot command could not run or failed.
    #[error("{0}")]
    Reboot(String),
    /// The server is stopping (or runs no supervisor, as in `sms patch import`).
    #[error("the server is stopping")]
    Stopping,
}

/// The server's life as the patch jobs use it.
pub trait ServerLife: Send + Sync {
    /// Whether the API is being served.
    fn state(&self) -> ServerState;
    /// The server executable this process runs.
    fn executable(&self) -> shared::api::RunningExecutable;
    /// Whether a supervisor runs this server: a restart then ends this process and the next
    /// one (the current level's executable) finishes the job from its journal, and the
    /// supervisor confirms a level once its server came up.
    fn supervised(&self) -> bool;
    /// The address to reach this server from inside it (the post-check asks it).
    fn local_url(&self) -> String;
    /// Stops every client: tells the open ones why, then API requests get 503, every event
    /// stream ends, and in-flight requests finish (or are cut).
    fn stop_clients(&self, state: ServerState) -> LifeFuture<'_, ()>;
    /// Serves the API again without a restart (the job stopped before its switch).
    fn resume_clients(&self);
    /// Builds the application again from the database and serves it; sessions survive. Under
    /// a supervisor it hands over to the next process instead and never returns.
    fn restart(&self) -> LifeFuture<'_, Result<(), LifeError>>;
    /// Runs the configured reboot command, or has the supervisor simulate a reboot; returns
    /// once the reboot has begun.
    fn reboot(&self) -> LifeFuture<'_, Result<(), LifeError>>;
}
