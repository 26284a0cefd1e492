//! The `sms` command line: `serve`, the `user` commands, and the `patch` commands (those that
//! talk to a running server follow its jobs here; the HTTP side is in `remote`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shared::panel::{JobInfo, JobState};
use shared::{PatchId, PatchLevel, Role};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat, ServeArgs, StorageArgs, StorageConfig};
use crate::package::{self, Limits, PackageSigner, TrustedKeys, Verifier};
use crate::service::Auth;
use crate::service::patching::level_in_words;
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
    /// Work with the patch repository.
    #[command(subcommand)]
    Patch(PatchCommand),
    /// Development and test TMC.
    #[command(subcommand)]
    Tmc(TmcCommand),
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

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Run simulated IPS devices, each with a status endpoint
    /// (`GET http://ADDR/v1/devices/NAME/status`) whose uptime and packet counter keep rising.
    Simulate {
        /// How many devices.
        #[arg(long, default_value_t = 3)]
        count: usize,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// The devices are named PREFIX-01, PREFIX-02, ...
        #[arg(long, default_value = "ips")]
        prefix: String,
    },
}

#[derive(Debug, Subcommand)]
enum TmcCommand {
    /// Serve a folder of packages and a signed catalog of them (docs/tmc-protocol.md).
    Serve {
        /// The folder whose `*.pkg` files are served (looked at again every 2 seconds).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The key that signs the catalog (PREFIX.key); SMS servers must trust its PREFIX.pub.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        /// How long a catalog stays valid: `7d`, `12h`, ...
        #[arg(long, value_name = "DURATION", default_value = "7d")]
        expires_in: String,
        /// Serve packages at most this many KiB per second (to watch download progress).
        #[arg(long, value_name = "KIB")]
        rate_kib: Option<u64>,
    },
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

#[derive(Debug, Subcommand)]
enum PatchCommand {
    /// Verify a package file and store it in the patch repository (as the import API does).
    Import {
        /// The package file.
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
        #[command(flatten)]
        packages: crate::config::PackageArgs,
    },
    /// List the installed level and the known patches of a running server.
    List {
        #[command(flatten)]
        server: crate::remote::ServerArgs,
    },
    /// Install a downloaded or imported patch on a running server, following every stage.
    Install {
        /// The patch, e.g. `6.4.0.3`.
        id: PatchId,
        #[command(flatten)]
        server: crate::remote::ServerArgs,
    },
    /// Roll the installed patch back to level 0 on a running server, following every stage.
    Rollback {
        #[command(flatten)]
        server: crate::remote::ServerArgs,
    },
}

/// How long `sms patch install` and `rollback` follow a job before giving up.
const FOLLOW_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|err: shared::role::UnknownRole| err.to_string())
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
        Command::Device(DeviceCommand::Simulate {
            count,
            listen,
            prefix,
        }) => {
            init_logging(LogFormat::Text, "info");
            device_simulate(count, listen, &prefix).await
        }
        Command::Tmc(TmcCommand::Serve {
            dir,
            key,
            listen,
            expires_in,
            rate_kib,
        }) => {
            init_logging(LogFormat::Text, "info");
            let rate = rate_kib.map(|kib| kib.saturating_mul(1024).max(1024));
            tmc_serve(dir, &key, listen, &expires_in, rate).await
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

fn init_logging(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_env("SMS_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn patch_list(args: &crate::remote::ServerArgs) -> anyhow::Result<()> {
    let password = crate::remote::password(args)?;
    let remote = crate::remote::Remote::login(args, &password).await?;
    let view = remote.patches().await?;
    print!("{}", crate::remote::render_patches(&view));
    Ok(())
}

/// `sms patch install ID` (`Some(id)`) or `sms patch rollback` (`None`): starts the job, prints
/// its stages as they start and end, and fails with the job's `code: message` when it fails.
async fn patch_job(
    args: &crate::remote::ServerArgs,
    install: Option<PatchId>,
) -> anyhow::Result<()> {
    let password = crate::remote::password(args)?;
    let remote = crate::remote::Remote::login(args, &password).await?;
    let job = match install {
        Some(id) => remote.install(id).await?,
        None => remote.rollback().await?,
    };
    let from = PatchLevel(job.from_level.unwrap_or_default());
    let to = PatchLevel(job.to_level.unwrap_or_default());
    match install {
        Some(id) => println!(
            "Installing {id} (job {}): from {} to {}.",
            job.id,
            level_in_words(from),
            level_in_words(to)
        ),
        None => println!(
            "Rolling back (job {}): from {} to {}.",
            job.id,
            level_in_words(from),
            level_in_words(to)
        ),
    }
    let mut progress = JobProgress::default();
    let job = remote
        .follow_job(job, FOLLOW_TIMEOUT, |seen| progress.show(seen))
        .await?;
    progress.close_line();
    if job.state != JobState::Succeeded {
        match job.error {
            Some(error) => anyhow::bail!("{}: {}", error.code, error.message),
            None => anyhow::bail!("job {} ended {}", job.id, job.state.as_str()),
        }
    }
    match install {
        Some(id) => println!(
            "Installed SMS {} Patch {}: the server runs level {}.",
            id.product_version(),
            id.patch(),
            to.0
        ),
        None => println!(
            "Rolled back {}: the server runs level {} (no patch).",
            level_in_words(from),
            to.0
        ),
    }
    Ok(())
}

/// Prints a followed job as lines: `[3/8] stop_clients: Stop client connections ... ok`, each
/// begun when its stage starts and ended when it ends, and once per outage that the server is
/// restarting or rebooting.
#[derive(Default)]
struct JobProgress {
    /// Per stage: whether its start and its end were printed.
    printed: Vec<(bool, bool)>,
    /// The stage whose line is begun and not ended.
    open: Option<usize>,
    /// Whether the server's outage was told (until it answers again).
    told_outage: bool,
    /// The job as last seen.
    last: Option<JobInfo>,
}

impl JobProgress {
    fn show(&mut self, seen: crate::remote::Followed<'_>) {
        use crate::remote::Followed;
        match seen {
            Followed::Job(job) => {
                self.told_outage = false;
                self.stages(job);
                self.last = Some(job.clone());
            }
            Followed::Restarting | Followed::Unreachable => {
                if !self.told_outage {
                    self.told_outage = true;
                    self.close_line();
                    println!("SMS server {}, waiting...", self.outage_in_words());
                }
            }
        }
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }

    fn stages(&mut self, job: &JobInfo) {
        let count = job.stages.len();
        self.printed.resize(count, (false, false));
        for (at, stage) in job.stages.iter().enumerate() {
            let ended = stage.ended_at.is_some();
            let started = ended || stage.started_at.is_some();
            let (start_printed, end_printed) = self.printed[at];
            if started && !start_printed {
                self.begin_line(at, count, &stage.name);
                self.printed[at].0 = true;
            }
            if ended && !end_printed {
                if self.open != Some(at) {
                    // A notice cut the line: print it again, whole.
                    self.begin_line(at, count, &stage.name);
                }
                println!(" {}", stage.outcome.as_deref().unwrap_or("ended"));
                self.open = None;
                self.printed[at].1 = true;
            }
        }
    }

    fn begin_line(&mut self, at: usize, count: usize, name: &str) {
        self.close_line();
        print!(
            "[{}/{count}] {name}: {} ...",
            at + 1,
            shared::panel::stage_in_words(name)
        );
        self.open = Some(at);
    }

    /// Ends a begun line, so that the next output starts on its own.
    fn close_line(&mut self) {
        if self.open.take().is_some() {
            println!();
        }
    }

    /// `rebooting` while a reboot patch is being installed and its reboot has not ended, else
    /// `restarting`.
    fn outage_in_words(&self) -> &'static str {
        let rebooting = self.last.as_ref().is_some_and(|job| {
            job.stages
                .iter()
                .any(|s| s.name == "reboot" && s.ended_at.is_none())
        });
        if rebooting { "rebooting" } else { "restarting" }
    }
}

async fn device_simulate(
    count: usize,
    listen: std::net::SocketAddr,
    prefix: &str,
) -> anyhow::Result<()> {
    use crate::devices::simulator::Simulator;
    anyhow::ensure!(
        (1..=1000).contains(&count),
        "--count must be between 1 and 1000"
    );
    let simulator = Simulator::new(prefix, count);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("simulating {count} IPS device(s); add them to the SMS by these status URLs:");
    for name in simulator.names() {
        println!("  http://{addr}{}", Simulator::status_path(&name));
    }
    println!("devices ready at http://{addr}/v1/devices");
    axum::serve(listener, simulator.router())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn tmc_serve(
    dir: PathBuf,
    key: &std::path::Path,
    listen: std::net::SocketAddr,
    expires_in: &str,
    rate: Option<u64>,
) -> anyhow::Result<()> {
    use crate::tmc::server::TmcServer;
    let signer = PackageSigner::load(key)
        .with_context(|| format!("cannot read the signing key {}", key.display()))?;
    let expires_in = crate::config::parse_interval(expires_in).context("invalid --expires-in")?;
    anyhow::ensure!(
        dir.is_dir(),
        "{} is not a folder: create it and put .pkg files in it",
        dir.display()
    );
    let tmc = TmcServer::with_rate(dir, signer, expires_in, rate);
    tmc.refresh().await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let count = tmc
        .published()
        .await
        .map(|p| p.catalog.patches.len())
        .unwrap_or(0);
    println!(
        "TMC serving {count} package(s) from {}",
        tmc.dir().display()
    );
    println!("TMC ready at http://{addr}/");
    let watcher = tokio::spawn(tmc.clone().watch());
    let served = axum::serve(listener, tmc.router())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    watcher.abort();
    served?;
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
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
            println!(
                "{:<24} {:<9} {:<26} LOCKED UNTIL",
                "NAME", "ROLE", "CREATED"
            );
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

fn keygen(key_id: &str, out: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(!key_id.trim().is_empty(), "the key id must not be empty");
    let signer = PackageSigner::generate(key_id);
    let (secret, public) = signer.write(out)?;
    println!(
        "Wrote the private key {} (keep it secret) and the public key {} (give it to servers with --trust-key).",
        secret.display(),
        public.display()
    );
    Ok(())
}

fn pack(key: &Path, manifest: &Path, payload: &Path, out: &Path) -> anyhow::Result<()> {
    let signer = PackageSigner::load(key)?;
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read the manifest {}", manifest.display()))?;
    let template: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("the manifest {} is not JSON", manifest.display()))?;
    let packed = package::pack::pack(&signer, &template, payload, out)?;
    println!(
        "Wrote {}: {} with {} payload file(s), signed with `{}`.",
        out.display(),
        shared::patch::display_name(packed.product_version, packed.patch, &packed.build),
        packed.files.len(),
        signer.key_id
    );
    Ok(())
}

/// `sms verify`: exit 0 with the facts, or 1 with `code: message`.
fn verify(file: &Path, trust_keys: &[PathBuf]) -> ExitCode {
    let mut keys = TrustedKeys::new();
    for path in trust_keys {
        if let Err(err) = keys.add_file(path) {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    }
    let mut input = match std::fs::File::open(file) {
        Ok(input) => input,
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let mut verifier = Verifier::new(&keys, Limits::default(), None);
    let mut buffer = vec![0u8; 256 * 1024];
    let verdict = loop {
        match input.read(&mut buffer) {
            Ok(0) => break verifier.finish(),
            Ok(n) => {
                if let Err(err) = verifier.update(&buffer[..n]) {
                    break Err(err);
                }
            }
            Err(err) => {
                eprintln!("error: cannot read {}: {err}", file.display());
                return ExitCode::FAILURE;
            }
        }
    };
    match verdict {
        Ok(verified) => {
            let m = &verified.manifest;
            println!(
                "OK {}",
                shared::patch::display_name(m.product_version, m.patch, &m.build)
            );
            println!("  title:            {}", m.title);
            println!("  released:         {}", m.released);
            println!("  updates:          {:?}", m.updates);
            if let Some(client) = m.client_version {
                println!("  client version:   {client}");
            }
            println!("  restart:          {:?}", m.restart);
            println!("  database changes: {}", m.database_changes);
            println!("  rollback:         {}", m.rollback);
            println!("  signed by:        {}", m.key_id);
            println!(
                "  payload:          {} file(s), {} bytes",
                m.files.len(),
                m.payload_size()
            );
            println!(
                "  package:          {} bytes, sha256 {}",
                verified.size, verified.sha256
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("rejected: {}: {}", err.code, err.message);
            ExitCode::FAILURE
        }
    }
}

async fn patch_import(
    file: &Path,
    storage: StorageArgs,
    packages: crate::config::PackageArgs,
) -> anyhow::Result<()> {
    use futures_util::stream;
    use std::io::IsTerminal;
    use tokio::io::AsyncReadExt;

    let config = Config::load(&ServeArgs {
        storage,
        packages,
        ..ServeArgs::default()
    })?;
    let db = crate::db::connect(&config.storage).await?;
    let keys = crate::startup::trusted_keys(&config)?;
    let state = crate::AppState::new(
        config,
        db,
        keys,
        crate::lifecycle::Lifecycle::offline(),
        crate::service::cluster::Cluster::single(),
    )?;
    let installed = state
        .installed
        .ensure_initialized(&state.config.initial)
        .await?;
    let input = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot read {}", file.display()))?;
    let total = input.metadata().await?.len();
    let show = std::io::stderr().is_terminal();
    let chunks = stream::unfold((input, 0u64), move |(mut input, done)| async move {
        let mut buffer = vec![0u8; 256 * 1024];
        match input.read(&mut buffer).await {
            Ok(0) => {
                if show {
                    eprintln!();
                }
                None
            }
            Ok(n) => {
                buffer.truncate(n);
                let done = done + n as u64;
                if show {
                    draw_progress(done, total);
                }
                Some((
                    Ok::<_, std::io::Error>(bytes::Bytes::from(buffer)),
                    (input, done),
                ))
            }
            Err(err) => Some((Err(err), (input, done))),
        }
    });
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let result = state
        .repository
        .import(
            Box::pin(chunks),
            package::verify::InstalledLevel {
                product_version: installed.product_version,
                patch_level: installed.patch_level,
            },
            crate::service::repository::ImportContext {
                actor: "cli".into(),
                source: Some("cli".into()),
                file_name: name,
                origin: shared::api::PatchSource::Import,
                expected: None,
            },
        )
        .await;
    match result {
        Ok(info) => {
            println!(
                "Imported {} ({} bytes) into the patch repository.",
                info.display_name, info.size
            );
            Ok(())
        }
        Err(crate::service::repository::ImportError::Rejected(err)) => {
            anyhow::bail!("rejected: {}: {}", err.code, err.message)
        }
        Err(err) => Err(err.into()),
    }
}

/// `[#########...........]  45%  120.0/260.0 MiB` on one line of standard error.
fn draw_progress(done: u64, total: u64) {
    const WIDTH: u64 = 30;
    let total = total.max(1);
    let filled = (done.min(total) * WIDTH / total) as usize;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    eprint!(
        "\r[{}{}] {:>3}%  {:.1}/{:.1} MiB",
        "#".repeat(filled),
        ".".repeat(WIDTH as usize - filled),
        done.min(total) * 100 / total,
        mib(done),
        mib(total)
    );
}
