//! `sms patch import|list|install|rollback`: the patch repository from the command line (import
//! works on the data dir directly; the others talk to a running server through `remote`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use shared::panel::{JobInfo, JobState, Stage};
use shared::{PatchId, PatchLevel, level_in_words};

use super::args::{PackageArgs, ServeArgs, StorageArgs};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub(super) enum PatchCommand {
    /// Verify a package file and store it in the patch repository (as the import API does).
    Import {
        /// The package file.
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
        #[command(flatten)]
        packages: PackageArgs,
    },
    /// List the installed level and the known patches of a running server.
    List {
        #[command(flatten)]
        server: crate::cli::remote::ServerArgs,
    },
    /// Install a downloaded or imported patch on a running server, following every stage.
    Install {
        /// The patch, e.g. `6.4.0.3`.
        id: PatchId,
        #[command(flatten)]
        server: crate::cli::remote::ServerArgs,
    },
    /// Roll the installed patch back to level 0 on a running server, following every stage.
    Rollback {
        #[command(flatten)]
        server: crate::cli::remote::ServerArgs,
    },
}

/// How long `sms patch install` and `rollback` follow a job before giving up.
pub(super) const FOLLOW_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

pub(super) async fn patch_list(args: &crate::cli::remote::ServerArgs) -> anyhow::Result<()> {
    let password = crate::cli::remote::password(args)?;
    let remote = crate::cli::remote::Remote::login(args, &password).await?;
    let view = remote.patches().await?;
    print!("{}", crate::cli::remote::render_patches(&view));
    Ok(())
}

/// `sms patch install ID` (`Some(id)`) or `sms patch rollback` (`None`): starts the job, prints
/// its stages as they start and end, and fails with the job's `code: message` when it fails.
pub(super) async fn patch_job(
    args: &crate::cli::remote::ServerArgs,
    install: Option<PatchId>,
) -> anyhow::Result<()> {
    let password = crate::cli::remote::password(args)?;
    let remote = crate::cli::remote::Remote::login(args, &password).await?;
    let job = match install {
        Some(id) => remote.install(id).await?,
        None => remote.rollback().await?,
    };
    let from = job.from_level.unwrap_or(PatchLevel::NONE);
    let to = job.to_level.unwrap_or(PatchLevel::NONE);
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
pub(super) struct JobProgress {
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
    fn show(&mut self, seen: crate::cli::remote::Followed<'_>) {
        use crate::cli::remote::Followed;
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
        // Progress output only: a terminal that cannot be flushed loses nothing else.
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
                self.begin_line(at, count, stage.name);
                self.printed[at].0 = true;
            }
            if ended && !end_printed {
                if self.open != Some(at) {
                    // A notice cut the line: print it again, whole.
                    self.begin_line(at, count, stage.name);
                }
                println!(
                    " {}",
                    stage.outcome.map_or("ended", |outcome| outcome.as_str())
                );
                self.open = None;
                self.printed[at].1 = true;
            }
        }
    }

    fn begin_line(&mut self, at: usize, count: usize, name: Stage) {
        self.close_line();
        print!("[{}/{count}] {name}: {} ...", at + 1, name.in_words());
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
                .any(|s| s.name == Stage::Reboot && s.ended_at.is_none())
        });
        if rebooting { "rebooting" } else { "restarting" }
    }
}

pub(super) async fn patch_import(
    file: &Path,
    storage: StorageArgs,
    packages: PackageArgs,
) -> anyhow::Result<()> {
    use futures_util::StreamExt;
    use std::io::IsTerminal;

    let config = Config::load(&ServeArgs {
        storage,
        packages,
        ..ServeArgs::default()
    })?;
    let db = crate::storage::db::connect(&config.storage).await?;
    let keys = std::sync::Arc::new(crate::app::startup::trusted_keys(&config)?);
    let installed = crate::service::Installed::new(db.clone(), config.node_key());
    installed.ensure_initialized(&config.initial).await?;
    let importer = crate::workflow::import::Importer {
        installed,
        repository: crate::service::PatchRepository::new(
            db.clone(),
            &config.storage.data_dir,
            keys,
            config.package_limits,
            config.node_key(),
        ),
        audit: crate::service::Audit::new(db),
    };
    let input = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot read {}", file.display()))?;
    let total = input.metadata().await?.len();
    let show = std::io::stderr().is_terminal();
    let mut done = 0u64;
    let chunks =
        tokio_util::io::ReaderStream::with_capacity(input, 256 * 1024).inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                done += chunk.len() as u64;
                if show {
                    draw_progress(done, total);
                    if done >= total {
                        eprintln!();
                    }
                }
            }
        });
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let result = importer
        .import(
            Box::pin(chunks),
            crate::workflow::import::Upload {
                actor: "cli".into(),
                source: Some("cli".into()),
                file_name: name,
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
pub(super) fn draw_progress(done: u64, total: u64) {
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
