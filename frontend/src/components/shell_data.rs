//! What the app shell loads once for every page inside it (session, server, SMS Patches panel,
//! HA cluster), as context for the header and the pages.

use leptos::prelude::*;
use leptos::reactive::computed::ScopedFuture;
use shared::api::{ServerInfo, SessionInfo};
use shared::cluster::ClusterInfo;
use shared::panel::PatchesView;

use crate::api::ApiError;

/// What the shell loaded once for every page inside it (provided as context).
#[derive(Clone, Copy)]
pub struct ShellData {
    /// Who is logged in.
    pub session: LocalResource<Result<SessionInfo, ApiError>>,
    /// The installed state of the SMS server.
    pub server: LocalResource<Result<ServerInfo, ApiError>>,
    /// The SMS Patches panel's data; fetched again whenever the server says it changed.
    pub patches: LocalResource<Result<PatchesView, ApiError>>,
    /// The HA cluster (this node's role, its peer); fetched again when it changed.
    pub cluster: LocalResource<Result<ClusterInfo, ApiError>>,
}

impl ShellData {
    /// The installed state as the shell loaded it, waiting for it if need be, without following
    /// its later fetches: a page resource that awaits this is not fetched again with the shell's
    /// (e.g. when the server restarts during an install the page follows).
    pub async fn server_once(self) -> Result<ServerInfo, ApiError> {
        ScopedFuture::new_untracked(async move { self.server.await }).await
    }
}

/// The shell's data, for components rendered inside it.
pub fn use_shell() -> ShellData {
    expect_context::<ShellData>()
}
