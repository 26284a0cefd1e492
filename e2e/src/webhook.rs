//! A webhook receiver for the notification tests: an HTTP server on a loopback port that keeps
//! every request it gets (method, path, headers, body) and answers `200 OK`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub path: String,
    /// Header names in lower case; a header sent twice keeps its last value.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    /// The header `name` (lower case), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// The receiver; it stops when dropped.
pub struct WebhookReceiver {
    /// Where to send: `http://127.0.0.1:PORT/hooks/sms`.
    pub url: String,
    received: Log,
    server: JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts listening on a free loopback port.
    pub async fn start() -> anyhow::Result<WebhookReceiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hooks/sms", listener.local_addr()?);
        let received = Log::default();
        let router = axum::Router::new()
            .fallback(record)
            .with_state(received.clone());
        let server = tokio::spawn(async move {
            // It ends only when the test is over (the task is aborted then).
            let _ = axum::serve(listener, router).await;
        });
        Ok(WebhookReceiver {
            url,
            received,
            server,
        })
    }

    /// Every request so far, oldest first.
    pub async fn received(&self) -> Vec<Received> {
        self.received.lock().await.clone()
    }

    /// Waits for the first request (failing after the browser tests' wait).
    pub async fn first(&self) -> anyhow::Result<Received> {
        crate::check::until("the webhook receiver to get a request", || async {
            self.received
                .lock()
                .await
                .first()
                .cloned()
                .ok_or_else(|| "nothing received yet".to_owned())
        })
        .await
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Keeps the request and answers 200.
async fn record(
    State(received): State<Log>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let headers = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    received.lock().await.push(Received {
        method,
        path: uri.path().to_owned(),
        headers,
        body: body.to_vec(),
    });
    StatusCode::OK
}
