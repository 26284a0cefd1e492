//! `sms user add|passwd|list`: users straight in the database (works while the server is
//! stopped, too).

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use shared::Role;

use super::args::StorageArgs;

use crate::service::Auth;

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
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
    /// Set a user's password (also ends the user's sessions).
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

pub(super) fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|err: shared::role::UnknownRole| err.to_string())
}

/// Runs one `sms user` command.
pub(super) async fn user(command: UserCommand) -> anyhow::Result<()> {
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
            println!("{:<24} {:<9} CREATED", "NAME", "ROLE");
            for user in users {
                println!(
                    "{:<24} {:<9} {}",
                    user.username,
                    user.role.as_str(),
                    user.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                );
            }
        }
    }
    Ok(())
}

pub(super) async fn open_auth(args: &StorageArgs) -> anyhow::Result<Auth> {
    let storage = crate::config::storage(args)?;
    let db = crate::storage::db::connect(&storage).await?;
    // The built-in [auth] settings: a user command opens no session and throttles no login.
    let auth = crate::config::Config::defaults().auth;
    Ok(Auth::new(db, auth))
}

/// The password from standard input, without its trailing line break.
pub(super) fn read_password() -> anyhow::Result<String> {
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
