//! `sms`: the SMS server and its command-line tools.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    backend::net::install_tls_provider();
    backend::cli::run().await
}
