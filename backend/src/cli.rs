//! The `sms` command line: `serve` and the `user` commands.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shared::Role;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat, ServeArgs, StorageArgs, StorageConfig};
use crate::service::Auth;
use crate::startup::{Application, BOOTSTRAP_PASSWORD_ENV, shutdown_signal};

#[derive(Debug, Parser)]
#[command(name = "sms", version, about = "SMS server patch management")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the SMS server: the JSON API and the web client.
    Serve(ServeArgs),
    /// Manage users directly in the database (works while the server is stopped, too).
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user.
    Add {
        /// The new user's name.
        name: String,
        /// What the user may do.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Set a user's password (also lifts a login lockout and ends the user's sessions).
    Passwd {
        /// The user's name.
        name: String,
        /// Read the new password from standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse().map_err(|err: shared::role::UnknownRole| err.to_string())
}

/// Runs the command line and returns the process exit status.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::User(command) => {
            init_logging(LogFormat::Text, "warn");
            user(command).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, default_filter: &str) {
    let filter = EnvFilter::try_from_env("SMS_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args)?;
    init_logging(config.log_format, "info,sqlx=warn,sea_orm=warn");
    let bootstrap = std::env::var(BOOTSTRAP_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty());
    let demo = config.demo;
    let (app, login) = Application::build(config, bootstrap.clone()).await?;
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
    app.run_until(shutdown_signal()).await?;
    tracing::info!("SMS server stopped");
    Ok(())
}

async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            storage,
            ..
        } => {
            let password = read_password()?;
            let auth = open_auth(&storage).await?;
            auth.add_user(&name, role, &password, "cli", Some("cli".into()))
                .await?;
            println!("Created the user `{name}` with the role {role}.");
        }
        UserCommand::Passwd { name, storage, .. } => {
            let password = read_password()?;
            let auth = open_auth(&storage).await?;
            auth.set_password(&name, &password, "cli", Some("cli".into()))
                .await?;
            println!("Changed the password of `{name}`; their sessions have ended.");
        }
        UserCommand::List { storage } => {
            let auth = open_auth(&storage).await?;
            let users = auth.list_users().await?;
            println!("{:<24} {:<9} {:<26} LOCKED UNTIL", "NAME", "ROLE", "CREATED");
            for user in users {
                let locked = user
                    .locked_until
                    .filter(|until| *until > chrono::Utc::now())
                    .map(|until| until.to_rfc3339())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:<24} {:<9} {:<26} {locked}",
                    user.username,
                    user.role.as_str(),
                    user.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                );
            }
        }
    }
    Ok(())
}

async fn open_auth(args: &StorageArgs) -> anyhow::Result<Auth> {
    let storage = StorageConfig::load(args)?;
    let db = crate::db::connect(&storage).await?;
    Ok(Auth::new(db, Default::default()))
}

/// The password from standard input, without its trailing line break.
fn read_password() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the password from standard input")?;
    let password = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(password.to_owned())
}
