//! `sms serve`: the SMS server. Started by hand (or by systemd) it is the supervisor, which
//! runs the current level's server executable as its child (`app::supervisor`); started by
//! the supervisor (the socket handed down in `SMS_LISTEN_FD`) it is that server.

use std::process::ExitCode;

use super::args::ServeArgs;
use super::init_logging;
use crate::app::handoff::{EXIT_HANDOVER, EXIT_REBOOT, Handed};
use crate::app::startup::{Application, BOOTSTRAP_PASSWORD_ENV, Exit, shutdown_signal};
use crate::app::supervisor::supervise;
use crate::config::Config;

pub(super) async fn serve(args: ServeArgs) -> ExitCode {
    match run(args).await {
        Ok(Exit::Stopped) => ExitCode::SUCCESS,
        Ok(Exit::Handover) => exit_code(EXIT_HANDOVER),
        Ok(Exit::Reboot) => exit_code(EXIT_REBOOT),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

async fn run(args: ServeArgs) -> anyhow::Result<Exit> {
    let config = Config::load(&args)?;
    init_logging(config.log_format, "info,sqlx=warn,sea_orm=warn");
    let shutdown = shutdown_signal();
    let Some(handed) = Handed::from_env()? else {
        tracing::info!(listen = %config.listen, "SMS supervisor starting");
        supervise(config, shutdown).await?;
        tracing::info!("SMS supervisor stopped");
        return Ok(Exit::Stopped);
    };
    let bootstrap = std::env::var(BOOTSTRAP_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty());
    let demo = config.demo;
    let level = handed.level;
    let scheme = config.transport.scheme();
    let insecure_http = config.tls.insecure_http;
    let (app, login) = Application::build_with(config, bootstrap.clone(), Some(handed)).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, demo, level = level.0, "SMS server listening");
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
    if let Some(fingerprint) = app.tls_fingerprint() {
        println!("  Certificate SHA-256 fingerprint: {fingerprint}");
    } else if insecure_http && !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "serving plain HTTP on a non-loopback address (--insecure-http): passwords and \
             sessions cross the network readable"
        );
    }
    // The last line of the start-up text: scripts wait for it.
    println!("SMS server ready at {scheme}://{addr}/");
    let exit = app.run_until(shutdown).await?;
    match exit {
        Exit::Stopped => tracing::info!("SMS server stopped"),
        Exit::Handover => tracing::info!("SMS server handing over to the next level's server"),
        Exit::Reboot => tracing::info!("SMS server stopping for the simulated reboot"),
    }
    Ok(exit)
}
