//! Serving the web client: client routes fall back to index.html; caching and compression.

use testkit::{TestApp, spawn_app};

const INDEX: &str =
    "<!doctype html><html><head><title>SMS</title></head><body>client</body></html>";

/// The page as served: the client version the server requires stamped into its head.
const SERVED: &str = "<!doctype html><html><head><title>SMS</title><meta name=\"sms-client-version\" content=\"6.4.0.0\" />\n  </head><body>client</body></html>";

async fn app_with_client_files() -> TestApp {
    let app = spawn_app().await;
    let dist = &app.config.static_dir;
    std::fs::create_dir_all(dist).unwrap();
    std::fs::write(dist.join("index.html"), INDEX).unwrap();
    std::fs::write(
        dist.join("frontend-4f3c2a1b9d8e7f60_bg.wasm"),
        vec![b'a'; 64 * 1024],
    )
    .unwrap();
    std::fs::write(dist.join("robots.txt"), "User-agent: *\nDisallow: /\n").unwrap();
    app
}

#[tokio::test]
async fn client_routes_get_index_html_uncached() {
    let app = app_with_client_files().await;
    for path in [
        "/",
        "/index.html",
        "/login",
        "/admin/general",
        "/admin/audit?page=2",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(response.text().await.unwrap(), SERVED, "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_compressed() {
    let app = app_with_client_files().await;

    let response = app
        .client
        .get(app.url("/frontend-4f3c2a1b9d8e7f60_bg.wasm"))
        .header("Accept-Encoding", "br")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(response.headers()["content-type"], "application/wasm");
    let compressed = response.bytes().await.unwrap();
    assert!(compressed.len() < 1024, "64 KiB of one byte compress well");
}

#[tokio::test]
async fn precompressed_assets_are_sent_as_they_are_to_clients_that_accept_them() {
    let app = app_with_client_files().await;
    let dist = &app.config.static_dir;
    let js = "frontend-4f3c2a1b9d8e7f60.js";
    std::fs::write(dist.join(js), "export default 1;\n".repeat(100)).unwrap();
    // Marked contents: the answer must be these files' bytes, not a compression made now.
    std::fs::write(dist.join(format!("{js}.br")), b"brotli file as built").unwrap();
    std::fs::write(dist.join(format!("{js}.gz")), b"gzip file as built").unwrap();
    let get = |encoding: &'static str| {
        app.client
            .get(app.url(&format!("/{js}")))
            .header("Accept-Encoding", encoding)
            .send()
    };

    let br = get("gzip, br").await.unwrap();
    assert_eq!(br.status(), 200);
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(
        br.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        br.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(br.bytes().await.unwrap().as_ref(), b"brotli file as built");

    let gz = get("gzip").await.unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.bytes().await.unwrap().as_ref(), b"gzip file as built");

    let plain = get("identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(
        plain.text().await.unwrap(),
        "export default 1;\n".repeat(100)
    );
}

#[tokio::test]
async fn unhashed_files_are_revalidated_and_missing_files_are_404() {
    let app = app_with_client_files().await;

    let robots = app.get("/robots.txt").await;
    assert_eq!(robots.status(), 200);
    assert_eq!(robots.headers()["cache-control"], "no-cache");

    let missing = app.get("/frontend-missing.js").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_server_without_a_built_client_says_how_to_build_it() {
    let app = spawn_app().await;
    let response = app.get("/admin/general").await;
    assert_eq!(response.status(), 503);
    assert!(response.text().await.unwrap().contains("make run"));
}
