//! Serving the web client: the current level's (`levels/N/client/`) when its patch carries
//! one, else the built-in one (the static dir); `index.html` for client routes.
//!
//! Hashed assets (the web client's build names them `name-<16 hex>.ext`) are cached for a year as immutable;
//! `index.html` and unhashed files are revalidated on every load, so a new client is picked up.
//! The build writes `.br` (quality 11) and `.gz` files beside the assets
//! (`scripts/precompress.mjs`); they are sent as they are to a client that accepts them, and
//! only what has none (`index.html`, a patch's client without them) is compressed on the fly.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::http::middleware::content_security_policy;
use crate::http::state::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Serves a file of the web client, or `index.html` for a client route such as `/admin/general`.
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let dir = state.client_dir.clone();

    if path != "/" && path != "/index.html" {
        let served = ServeDir::new(&dir)
            .append_index_html_on_directories(false)
            .precompressed_br()
            .precompressed_gzip()
            .oneshot(request)
            .await;
        let Ok(mut response) = served;
        if response.status() != StatusCode::NOT_FOUND {
            let cache = if is_hashed_asset(&path) {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            return response.map(Body::new);
        }
        if looks_like_file(&path) {
            return (StatusCode::NOT_FOUND, format!("{path} does not exist.\n")).into_response();
        }
    }
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    index(&dir, state.required_client()).await
}

/// The contents of the page's inline `<script>` elements (the app's loader), whose hashes the
/// page's Content-Security-Policy allows.
fn inline_scripts(page: &str) -> Vec<&str> {
    let lower = page.to_ascii_lowercase();
    let mut scripts = Vec::new();
    let mut from = 0;
    while let Some(open) = lower[from..].find("<script").map(|at| from + at) {
        let Some(tag_end) = lower[open..].find('>').map(|at| open + at + 1) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|at| tag_end + at) else {
            break;
        };
        let tag = &lower[open..tag_end];
        if !tag.contains(" src=") && !lower[tag_end..close].trim().is_empty() {
            scripts.push(&page[tag_end..close]);
        }
        from = close;
    }
    scripts
}

/// `index.html`, with the version of the client it loads stamped in:
/// `<meta name="sms-client-version" content="6.4.0.3">`.
async fn index(dir: &std::path::Path, client: shared::client::ClientVersion) -> Response {
    match tokio::fs::read_to_string(dir.join("index.html")).await {
        Ok(page) => {
            let policy = content_security_policy(inline_scripts(&page));
            let mut response = (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, REVALIDATE),
                ],
                stamp_client_version(&page, client),
            )
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&policy) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, value);
            }
            response
        }
        Err(err) => {
            tracing::error!(dir = %dir.display(), error = %err, "the web client is not built");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!(
                    "The SMS web client is not available: {}/index.html cannot be read ({err}).\n\
                     Build it with `make run` (or `make spa`), or point \
                     --static-dir at the built client.\n",
                    dir.display()
                ),
            )
                .into_response()
        }
    }
}

/// Puts the client version's `<meta>` tag at the end of the page's `<head>`.
fn stamp_client_version(page: &str, client: shared::client::ClientVersion) -> String {
    let meta = format!(
        "<meta name=\"{}\" content=\"{client}\" />",
        shared::client::CLIENT_VERSION_META
    );
    match page.find("</head>") {
        Some(at) => format!("{}{meta}\n  {}", &page[..at], &page[at..]),
        None => format!("{meta}\n{page}"),
    }
}

/// `frontend-4f3c2a1b9d8e7f60_bg.wasm` and the like: the web client's build (xtask/src/web.rs)
/// puts 16 hex digits of the file's SHA-256 in its name; 12 to 16 are taken, as a 64-bit hash
/// written without leading zeros would have them.
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A path whose last segment has an extension (with a letter: `.js`, `.wasm`, `.png`) names a
/// file, not a client route; `/patches/6.4.0.3` is a route.
fn looks_like_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .is_some_and(|(_, extension)| extension.chars().any(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_and_external_ones_skipped() {
        let page = "<head><script type=\"module\" src=\"/a.js\"></script>\
            <SCRIPT type=\"module\">import init from '/f.js';\n await init();</SCRIPT>\
            <script></script></head>";
        assert_eq!(
            inline_scripts(page),
            vec!["import init from '/f.js';\n await init();"]
        );
        let policy = content_security_policy(inline_scripts(page));
        assert!(
            policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed_asset("/frontend-4f3c2a1b9d8e7f60_bg.wasm"));
        assert!(is_hashed_asset("/frontend-4f3c2a1b9d8e7f60.js"));
        assert!(is_hashed_asset("/style-0123456789abcdef.css"));
        assert!(is_hashed_asset("/frontend-41846209509559e.js"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/favicon.ico"));
        assert!(!is_hashed_asset("/my-file.css"));
    }

    #[test]
    fn the_client_version_is_stamped_into_the_head() {
        let page = "<html><head><title>SMS</title></head><body></body></html>";
        let stamped = stamp_client_version(page, "6.4.0.3".parse().unwrap());
        assert!(
            stamped.contains("<meta name=\"sms-client-version\" content=\"6.4.0.3\" />\n  </head>")
        );
        assert!(stamped.ends_with("<body></body></html>"));
    }

    #[test]
    fn client_routes_are_not_files() {
        assert!(looks_like_file("/missing.js"));
        assert!(!looks_like_file("/admin/general"));
        assert!(!looks_like_file("/patches/6.4.0.3"));
        assert!(looks_like_file("/favicon.ico"));
    }
}
