//! The automatic install policy's checkboxes: whether the server schedules the recommended
//! patch by itself, and which kinds of patch it may.

use leptos::prelude::*;
use shared::maintenance::AutoInstallPolicy;

use super::Editor;

/// How one checkbox reads and sets its part of the policy.
type PolicyPart = (
    fn(&AutoInstallPolicy) -> bool,
    fn(&mut AutoInstallPolicy, bool),
);

/// The automatic install policy's checkboxes, as the page shows the policy.
#[component]
pub fn PolicyFields(editor: Editor, #[prop(into)] is_admin: Signal<bool>) -> impl IntoView {
    let locked = move || !is_admin.get();
    let checkbox = move |id: &'static str, label: &'static str, (get, set): PolicyPart| {
        let checked = move || {
            editor
                .current()
                .is_some_and(|settings| get(&settings.policy))
        };
        view! {
            <div class="check-row">
                <input
                    id=id
                    type="checkbox"
                    prop:checked=checked
                    disabled=locked
                    on:change=move |event| {
                        let on = event_target_checked(&event);
                        editor.change(|settings| set(&mut settings.policy, on));
                    }
                />
                <label for=id>{label}</label>
            </div>
        }
    };
    view! {
        <fieldset id="maintenance-policy" class="policy">
            <legend class="visually-hidden">"Automatic install policy"</legend>
            {checkbox(
                "policy-enabled",
                "Install the recommended patch in the next window by itself",
                (|policy| policy.enabled, |policy, on| policy.enabled = on),
            )}
            <div class="policy-limits">
                {checkbox(
                    "policy-allow-reboot",
                    "Also a patch that reboots the server",
                    (|policy| policy.allow_reboot, |policy, on| policy.allow_reboot = on),
                )}
                {checkbox(
                    "policy-allow-database-changes",
                    "Also a patch that changes the database",
                    (
                        |policy| policy.allow_database_changes,
                        |policy, on| policy.allow_database_changes = on,
                    ),
                )}
                {checkbox(
                    "policy-allow-no-rollback",
                    "Also a patch that cannot be rolled back",
                    (
                        |policy| policy.allow_no_rollback,
                        |policy, on| policy.allow_no_rollback = on,
                    ),
                )}
            </div>
        </fieldset>
        <p class="field-help">
            "The server looks after every TMC check and every change here. It never schedules a \
             patch while HA clustering is enabled or without a window, and never replaces a job \
             an admin scheduled. Each decision, and why a patch was left alone, is in the audit \
             log (auto_install)."
        </p>
    }
}
