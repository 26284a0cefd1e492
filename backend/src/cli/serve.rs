//! `sms serve`: the SMS server.

use super::init_logging;
use crate::app::startup::{Application, BOOTSTRAP_PASSWORD_ENV, shutdown_signal};
use crate::config::{Config, ServeArgs};

pub(super) async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
    init_logging(config.log_format, "info,sqlx=warn,sea_orm=warn");
    let bootstrap = std::env::var(BOOTSTRAP_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty());
    let demo = config.demo;
    let (app, login) = Application::build(config, bootstrap.clone()).await?;
    let shutdown = shutdown_signal();
    let addr = app.local_addr()?;
    tracing::info!(%addr, demo, "SMS server listening");
    match login {
        Some(login) if demo => {
            println!("  Admin login: {} / {}", login.username, login.password);
        }
        Some(login) if bootstrap.is_none() => {
            println!(
                "  First start: created the user `{}` with the password\n\n      {}\n\n  \
                 It is shown only this once. Change it with `sms user passwd {} --password-stdin`.",
                login.username, login.password, login.username
            );
        }
        Some(login) => {
            println!(
                "  First start: created the user `{}` with the password from {BOOTSTRAP_PASSWORD_ENV}.",
                login.username
            );
        }
        None => {}
    }
    // The last line of the start-up text: scripts wait for it.
    println!("SMS server ready at http://{addr}/");
    app.run_until(shutdown).await?;
    tracing::info!("SMS server stopped");
    Ok(())
}
