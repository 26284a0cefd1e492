//! The `sms` command line, one file per command group: `serve`, `user`, `patch` (those that
//! talk to a running server follow its jobs here; the HTTP side is in `remote`), `backup`,
//! `migrations`, `tmc`, `tuf`, `device`, `doctor` (checks an installation), and the package
//! tools (`keygen`, `pack`, `verify`). `args` holds the flags that are configuration settings.

pub mod args;
mod backup;
mod device;
mod doctor;
mod migrations;
mod package;
mod patch;
pub mod remote;
mod serve;
mod tmc;
mod tuf;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use args::ServeArgs;
use backup::{BackupCommand, backup};
use device::{DeviceCommand, device_simulate};
use migrations::{MigrationsCommand, migrations};
use package::{keygen, pack, verify};
use patch::{PatchCommand, patch_import, patch_job, patch_list};
use serve::serve;
use tmc::{TmcCommand, tmc_serve};
use tuf::{TufCommand, tuf_command};
use user::{UserCommand, user};

#[derive(Debug, Parser)]
#[command(name = "sms", version, about = "SMS server patch management")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the SMS server: the JSON API and the web client.
    Serve(Box<ServeArgs>),
    /// Check this installation (configuration, data dir, database, install root, certificate,
    /// TMC, clock, the running server) and say how to fix what is wrong; exit status 1 when
    /// something is. Takes the same flags, environment and configuration file as `serve`.
    Doctor(Box<ServeArgs>),
    /// Manage users directly in the database (works while the server is stopped, too).
    #[command(subcommand)]
    User(UserCommand),
    /// Work with the patch repository.
    #[command(subcommand)]
    Patch(PatchCommand),
    /// Database backups (straight on the database: works while the server is stopped, too).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// This executable's own schema migrations (answers without a database).
    #[command(subcommand)]
    Migrations(MigrationsCommand),
    /// Development and test TMC.
    #[command(subcommand)]
    Tmc(TmcCommand),
    /// The TMC feed's TUF keys and metadata, for the vendor (docs/tmc-protocol.md).
    #[command(subcommand)]
    Tuf(TufCommand),
    /// Simulated managed devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Create a package signing key pair: PREFIX.key (private, mode 0600) and PREFIX.pub.
    Keygen {
        /// The id packages name in their manifest's `key_id`.
        #[arg(long, value_name = "ID")]
        key_id: String,
        /// Path prefix of the two files.
        #[arg(long, value_name = "PREFIX")]
        out: PathBuf,
    },
    /// Build and sign a patch package (docs/package-format.md).
    Pack {
        /// The private key file (PREFIX.key).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The manifest without `files` (filled in from --payload) as JSON.
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
        /// Folder whose files become the payload.
        #[arg(long, value_name = "DIR")]
        payload: PathBuf,
        /// The package to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Check a patch package: prints its facts, or the rejection's code and message.
    Verify {
        /// The package file.
        file: PathBuf,
        /// A trusted public key (PREFIX.pub); repeat for several.
        #[arg(long = "trust-key", value_name = "FILE")]
        trust_keys: Vec<PathBuf>,
    },
}

/// Runs the command line and returns the process exit status.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => return serve(*args).await,
        Command::Doctor(args) => {
            init_logging(LogFormat::Text, "error");
            return doctor::doctor(*args).await;
        }
        Command::User(command) => {
            init_logging(LogFormat::Text, "warn");
            user(command).await
        }
        Command::Patch(PatchCommand::Import {
            file,
            storage,
            packages,
        }) => {
            init_logging(LogFormat::Text, "warn");
            patch_import(&file, storage, packages).await
        }
        Command::Patch(PatchCommand::List { server }) => {
            init_logging(LogFormat::Text, "warn");
            patch_list(&server).await
        }
        Command::Patch(PatchCommand::Install { id, server }) => {
            init_logging(LogFormat::Text, "warn");
            patch_job(&server, Some(id)).await
        }
        Command::Patch(PatchCommand::Rollback { server }) => {
            init_logging(LogFormat::Text, "warn");
            patch_job(&server, None).await
        }
        Command::Backup(command) => {
            init_logging(LogFormat::Text, "warn");
            backup(command).await
        }
        Command::Migrations(command) => {
            init_logging(LogFormat::Text, "warn");
            migrations(command).await
        }
        Command::Device(DeviceCommand::Simulate {
            count,
            listen,
            prefix,
        }) => {
            init_logging(LogFormat::Text, "info");
            device_simulate(count, listen, &prefix).await
        }
        Command::Tuf(command) => {
            init_logging(LogFormat::Text, "warn");
            tuf_command(command).await
        }
        Command::Tmc(TmcCommand::Serve {
            dir,
            key,
            tuf,
            listen,
            expires_in,
            rate_kib,
            tls_cert,
            tls_key,
        }) => {
            init_logging(LogFormat::Text, "info");
            let options = tmc::TmcServeOptions {
                listen,
                expires_in,
                rate: rate_kib.map(|kib| kib.saturating_mul(1024).max(1024)),
                tls: tls_cert.zip(tls_key),
            };
            tmc_serve(dir, key.as_deref(), tuf, options).await
        }
        Command::Keygen { key_id, out } => keygen(&key_id, &out),
        Command::Pack {
            key,
            manifest,
            payload,
            out,
        } => pack(&key, &manifest, &payload, &out),
        Command::Verify { file, trust_keys } => return verify(&file, &trust_keys),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn init_logging(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_env("SMS_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Fails only when a logger is already installed (the first one stays).
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
