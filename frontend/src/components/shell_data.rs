//! What the app shell loads once for every page inside it (session, server, SMS Patches panel,
//! HA cluster), as context for the header and the pages.

use crate::load::Loaded;
use leptos::prelude::*;
use shared::api::{ServerInfo, SessionInfo};
use shared::cluster::ClusterInfo;
use shared::panel::PatchesView;

/// What the shell loaded once for every page inside it (provided as context).
#[derive(Clone, Copy)]
pub struct ShellData {
    /// Who is logged in.
    pub session: Loaded<SessionInfo>,
    /// The installed state of the SMS server.
    pub server: Loaded<ServerInfo>,
    /// The SMS Patches panel's data; fetched again whenever the server says it changed.
    pub patches: Loaded<PatchesView>,
    /// The HA cluster (this node's role, its peer); fetched again when it changed.
    pub cluster: Loaded<ClusterInfo>,
}

/// The shell's data, for components rendered inside it.
pub fn use_shell() -> ShellData {
    expect_context::<ShellData>()
}
