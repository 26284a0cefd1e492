//! Admin > General: what is installed on this SMS server, the SMS Patch Notifications field,
//! (for admins) the way into importing a patch file, and the server's HTTPS certificate.

use leptos::prelude::*;
use shared::api::ServerInfo;
use web_core::paths::IMPORT_PATCH;
use web_core::times::in_utc;

use crate::components::certificate::ServerCertificate;
use crate::components::loaded::{Place, loaded};
use crate::components::notifications::NotificationsField;
use crate::components::patches_panel::{PatchesPanel, installed_level_in_words};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::load::both;

/// The General page: the "Server" section and the "SMS Patches" section.
#[component]
pub fn GeneralPage() -> impl IntoView {
    set_page_title("General");
    let shell = use_shell();

    view! {
        <div id="general-page" class="page">
            <h1>"General"</h1>

            <section class="card" aria-labelledby="server-heading">
                <h2 id="server-heading">"Server"</h2>
                {loaded(move || shell.server.get(), Place::Bare, "server details", |info| {
                    view! { <ServerFacts info/> }.into_any()
                })}
            </section>

            <section class="card" aria-labelledby="patches-heading">
                <h2 id="patches-heading">"SMS Patches"</h2>
                {loaded(
                    move || both(shell.patches.get(), shell.session.get()),
                    Place::Bare,
                    "the patches",
                    |(view, session)| {
                        let is_admin = session.role.is_admin();
                        view! {
                            <PatchesPanel view=view.clone() is_admin/>
                            <NotificationsField
                                enabled=view.notifications_enabled
                                can_change=is_admin
                            />
                            {is_admin.then(|| view! { <ImportField/> })}
                        }
                        .into_any()
                    },
                )}
            </section>

            <section class="card" aria-labelledby="certificate-heading">
                <h2 id="certificate-heading">"Server certificate"</h2>
                {loaded(move || shell.session.get(), Place::Bare, "the certificate", |session| {
                    view! { <ServerCertificate is_admin=session.role.is_admin()/> }.into_any()
                })}
            </section>
        </div>
    }
}

/// "Patch files": the way to the import step of the Update wizard (admins only).
#[component]
fn ImportField() -> impl IntoView {
    view! {
        <div class="field">
            <span class="field-label" id="patch-files-label">"Patch files"</span>
            <div class="field-value">
                <a
                    href=IMPORT_PATCH
                    id="import-link"
                    class="button"
                    aria-describedby="patch-files-help"
                >
                    "Import a patch file"
                </a>
            </div>
            <p class="field-help" id="patch-files-help">
                "Import a patch file from storage media (USB drive, hard drive): it is verified \
                 before it is kept."
            </p>
        </div>
    }
}

/// The installed version, build and patch level, and who installed it when.
#[component]
fn ServerFacts(
    /// The installed state of the server.
    info: ServerInfo,
) -> impl IntoView {
    let installed_on = in_utc(info.installed_at);
    view! {
        <dl class="facts">
            <dt>"Product version"</dt>
            <dd>{format!("SMS {}", info.product_version)}</dd>
            <dt>"Build"</dt>
            <dd>{info.build.to_string()}</dd>
            <dt>"Patch level"</dt>
            <dd>{installed_level_in_words(info.patch_level)}</dd>
            <dt>"Node name"</dt>
            <dd>{info.node_name}</dd>
            <dt>"Installed on"</dt>
            <dd><time datetime=info.installed_at.to_rfc3339()>{installed_on}</time></dd>
            <dt>"Installed by"</dt>
            <dd>{info.installed_by}</dd>
        </dl>
    }
}
