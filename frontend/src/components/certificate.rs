//! Admin > General > Server certificate: the certificate this server serves HTTPS with, a
//! warning when it expires soon, and (for admins) replacing it with an uploaded chain and key.

use leptos::html::Input;
use leptos::prelude::*;
use shared::tls::{CertificateInfo, TlsStatus};
use web_core::times::in_utc;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::loaded::{Place, loaded};
use crate::load::{action, resource, run};

/// The "Server certificate" section's content.
#[component]
pub fn ServerCertificate(
    /// Whether the logged-in user may replace it.
    is_admin: bool,
) -> impl IntoView {
    let status = resource(api::get_tls);
    loaded(
        move || status.get(),
        Place::Bare,
        "the certificate",
        move |status| view! { <CertificateView status is_admin/> }.into_any(),
    )
}

#[component]
fn CertificateView(status: TlsStatus, is_admin: bool) -> impl IntoView {
    let Some(certificate) = status.certificate else {
        return view! {
            <p id="certificate-none" class="note">
                "This server serves plain HTTP: it listens on a loopback address, or a proxy in \
                 front of it serves HTTPS. Start it with a certificate (--tls-cert and --tls-key) \
                 or on a network address to serve HTTPS itself."
            </p>
        }
        .into_any();
    };
    let served = RwSignal::new(certificate);
    view! {
        {move || view! { <CertificateFacts certificate=served.get()/> }}
        {is_admin.then(|| view! { <ReplaceForm served/> })}
    }
    .into_any()
}

/// Subject, names, issuer, validity and fingerprint, with the expiry warning.
#[component]
fn CertificateFacts(certificate: CertificateInfo) -> impl IntoView {
    let day = in_utc;
    let days_left = certificate.days_left;
    let warning = certificate.expires_soon.then(|| {
        let text = if days_left < 0 {
            "This certificate has expired: browsers refuse it. Replace it now.".to_owned()
        } else {
            format!(
                "This certificate expires in {days_left} day{}: replace it before then, or \
                 browsers will refuse this console.",
                if days_left == 1 { "" } else { "s" }
            )
        };
        view! { <p id="certificate-expiry-warning" class="warning" role="status">{text}</p> }
    });
    let issuer = if certificate.self_signed {
        format!(
            "{} (self-signed: browsers warn until it is trusted)",
            certificate.issuer
        )
    } else {
        certificate.issuer.clone()
    };
    let names = if certificate.names.is_empty() {
        "none".to_owned()
    } else {
        certificate.names.join(", ")
    };
    view! {
        {warning}
        <dl class="facts" id="certificate-facts">
            <dt>"Subject"</dt>
            <dd id="certificate-subject">{certificate.subject.clone()}</dd>
            <dt>"Names"</dt>
            <dd id="certificate-names">{names}</dd>
            <dt>"Issuer"</dt>
            <dd id="certificate-issuer">{issuer}</dd>
            <dt>"Valid from"</dt>
            <dd>
                <time datetime=certificate.not_before.to_rfc3339()>{day(certificate.not_before)}</time>
            </dd>
            <dt>"Valid until"</dt>
            <dd id="certificate-expiry">
                <time datetime=certificate.not_after.to_rfc3339()>{day(certificate.not_after)}</time>
                {format!(" ({days_left} days left)")}
            </dd>
            <dt>"SHA-256 fingerprint"</dt>
            <dd><code id="certificate-fingerprint" class="fingerprint">{certificate.fingerprint_sha256.clone()}</code></dd>
        </dl>
    }
}

/// Pasting or choosing the new chain and key, then replacing the served certificate.
#[component]
fn ReplaceForm(served: RwSignal<CertificateInfo>) -> impl IntoView {
    let chain = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let replaced = RwSignal::new(false);
    let replace = action(move |(chain, key): &(String, String)| {
        let (chain, key) = (chain.clone(), key.clone());
        run(async move {
            let info = api::replace_certificate(chain, key).await?;
            served.set(info);
            Ok::<(), ApiError>(())
        })
    });
    let pending = replace.pending();
    Effect::new(move || {
        if let Some(Ok(())) = replace.value().get() {
            chain.set(String::new());
            key.set(String::new());
            replaced.set(true);
        }
    });
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        replaced.set(false);
        replace.dispatch((chain.get_untracked(), key.get_untracked()));
    };
    view! {
        <form id="certificate-form" class="certificate-form" on:submit=on_submit>
            <h3>"Replace the certificate"</h3>
            <p class="field-help">
                "The new certificate is checked (the key belongs to it, it is valid now, it holds \
                 the name you reach this console by) and served to new connections at once; \
                 no restart. HA peers that pin this server's fingerprint need the new one."
            </p>
            <PemField
                id="certificate-chain"
                label="Certificate chain (PEM, this server's certificate first)"
                accept=".pem,.crt,.cer"
                text=chain
            />
            <PemField
                id="certificate-key"
                label="Private key (PEM, unencrypted)"
                accept=".pem,.key"
                text=key
            />
            <button
                id="certificate-submit"
                type="submit"
                class="button button-primary"
                disabled=move || {
                    pending.get() || chain.get().trim().is_empty() || key.get().trim().is_empty()
                }
                aria-busy=move || pending.get().to_string()
            >
                {move || if pending.get() { "Checking…" } else { "Replace certificate" }}
            </button>
            {move || replaced.get().then(|| view! {
                <p id="certificate-replaced" class="notice" role="status">
                    "The new certificate is served. Reload the page to use it in this browser."
                </p>
            })}
            {move || replace.value().get().and_then(Result::err).map(|error| view! {
                <ErrorDisplay error/>
            })}
        </form>
    }
}

/// A PEM text area, filled by pasting or from a chosen file.
#[component]
fn PemField(
    id: &'static str,
    label: &'static str,
    accept: &'static str,
    text: RwSignal<String>,
) -> impl IntoView {
    let file: NodeRef<Input> = NodeRef::new();
    let unreadable = RwSignal::new(None::<String>);
    let load = action(move |chosen: &web_sys::File| {
        let chosen = chosen.clone();
        run(async move {
            match wasm_bindgen_futures::JsFuture::from(chosen.text()).await {
                Ok(value) => {
                    unreadable.set(None);
                    text.set(value.as_string().unwrap_or_default());
                }
                Err(_) => unreadable.set(Some(format!(
                    "{} cannot be read: choose a PEM text file.",
                    chosen.name()
                ))),
            }
        })
    });
    let on_change = move |_| {
        if let Some(chosen) = file.get().and_then(|i| i.files()).and_then(|f| f.get(0)) {
            load.dispatch(chosen);
        }
    };
    let file_id = format!("{id}-file");
    let input_id = file_id.clone();
    view! {
        <div class="form-row">
            <label for=id>{label}</label>
            <textarea
                id=id
                class="pem"
                rows="6"
                spellcheck="false"
                autocomplete="off"
                placeholder="-----BEGIN …-----"
                prop:value=move || text.get()
                on:input=move |event| text.set(event_target_value(&event))
            ></textarea>
            <label class="file-choice" for=file_id.clone()>
                "or choose a file: "
                <input id=input_id type="file" accept=accept node_ref=file on:change=on_change/>
            </label>
            {move || unreadable.get().map(|message| view! {
                <p class="error-message" role="alert">{message}</p>
            })}
        </div>
    }
}
