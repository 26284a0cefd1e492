//! Building the application state: every service and flow from the configuration and the
//! database, once per start, and again (the per-application part) after an in-process restart.

use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::http::state::AppState;
use crate::package::TrustedKeys;
use crate::service::backups::Backups;
use crate::service::certificate::ServerCertificate;
use crate::service::cluster::Cluster;
use crate::service::devices::Devices;
use crate::service::disk::Disk;
use crate::service::events::Events;
use crate::service::jobs::Jobs;
use crate::service::metrics::Metrics;
use crate::service::notify::Notifier;
use crate::service::tmc::TmcSync;
use crate::service::{Audit, Auth, Installed, PatchRepository, SettingsService};
use crate::storage::db::Db;
use crate::storage::install_root::InstallRoot;
use crate::workflow::client_version::ClientVersions;
use crate::workflow::cluster::ClusterActions;
use crate::workflow::download::Downloader;
use crate::workflow::import::Importer;
use crate::workflow::install::InstallEngine;
use crate::workflow::life::ServerLife;
use crate::workflow::maintenance::Maintenance;
use crate::workflow::panel::Panel;

/// What lives as long as the process, whatever the application restarts: the event hub, the
/// jobs, the TMC link, the devices, the cluster and the server's life carry over.
struct Process {
    config: Arc<Config>,
    db: Db,
    keys: Arc<TrustedKeys>,
    install_root: InstallRoot,
    life: Arc<dyn ServerLife>,
    devices: Devices,
    cluster: Cluster,
    jobs: Jobs,
    events: Events,
    tmc: Arc<TmcSync>,
    certificate: Option<ServerCertificate>,
    notifier: Notifier,
    metrics: Metrics,
    /// Wakes the maintenance loop (a job scheduled, the settings changed).
    schedule_wake: Arc<tokio::sync::Notify>,
}

/// Everything a fresh start needs; opens the install root (made on the first start).
pub fn new_state(
    config: Config,
    db: Db,
    keys: TrustedKeys,
    events: Events,
    life: Arc<dyn ServerLife>,
    cluster: Cluster,
    certificate: Option<ServerCertificate>,
) -> anyhow::Result<AppState> {
    let keys = Arc::new(keys);
    let install_root = InstallRoot::open(&config.storage.data_dir, &config.initial.build)
        .with_context(|| {
            format!(
                "cannot open the install root in {}",
                config.storage.data_dir.display()
            )
        })?;
    let tmc = TmcSync::new(
        db.clone(),
        keys.clone(),
        events.clone(),
        &config.tmc,
        config
            .storage
            .data_dir
            .join(crate::service::tmc::feed::CACHE_DIR),
    )?;
    let metrics = Metrics::new();
    tmc.count_in(metrics.clone());
    let notifier = Notifier::new(
        db.clone(),
        events.clone(),
        config.clock.clone(),
        config.notify.clone(),
        config.smtp.as_ref(),
        &config.node_name,
    )?;
    let process = Process {
        devices: Devices::new(
            db.clone(),
            events.clone(),
            config.devices.poll_interval,
            config.devices.max_devices,
        )?,
        jobs: Jobs::new(db.clone(), events.clone(), config.node_key())
            .with_notifier(notifier.clone())
            .with_metrics(metrics.clone()),
        notifier,
        metrics,
        schedule_wake: Arc::new(tokio::sync::Notify::new()),
        keys,
        install_root,
        life,
        cluster,
        events,
        tmc,
        certificate,
        config: Arc::new(config),
        db,
    };
    Ok(application(&process))
}

/// The application built again after an in-process restart: every service anew from the
/// configuration and the database; what belongs to the process carries over.
pub fn restarted(old: &AppState) -> AppState {
    let process = Process {
        config: old.config.clone(),
        db: old.db.clone(),
        keys: old.keys.clone(),
        install_root: old.install_root.clone(),
        life: old.life.clone(),
        devices: old.devices.clone(),
        cluster: old.cluster.clone(),
        jobs: old.jobs.clone(),
        events: old.events.clone(),
        tmc: old.tmc.clone(),
        certificate: old.certificate.clone(),
        notifier: old.notifier.clone(),
        metrics: old.metrics.clone(),
        schedule_wake: old.maintenance.wake.clone(),
    };
    application(&process)
}

/// The per-application services and flows over the process's parts.
fn application(process: &Process) -> AppState {
    let Process {
        config,
        db,
        keys,
        install_root,
        life,
        devices,
        cluster,
        jobs,
        events,
        tmc,
        certificate,
        notifier,
        metrics,
        schedule_wake,
    } = process;
    let repository = PatchRepository::new(
        db.clone(),
        &config.storage.data_dir,
        keys.clone(),
        config.package_limits,
        config.node_key(),
    );
    let installed = Installed::new(db.clone(), config.node_key());
    let audit = Audit::new(db.clone());
    let settings = SettingsService::new(db.clone());
    let client = ClientVersions::new(
        installed.clone(),
        repository.clone(),
        tmc.clone(),
        config.initial.product_version,
    );
    let disk = Disk::new(
        config.storage.data_dir.clone(),
        config.storage.warn_free_bytes,
        db.clone(),
        settings.clone(),
        notifier.clone(),
        events.clone(),
        config.node_name.clone(),
    );
    let panel = Panel {
        installed: installed.clone(),
        repository: repository.clone(),
        tmc: tmc.clone(),
        jobs: jobs.clone(),
        settings: settings.clone(),
        events: events.clone(),
        life: life.clone(),
        node_name: config.node_name.clone(),
        notifier: notifier.clone(),
        disk: disk.clone(),
        cache: Default::default(),
    };
    let downloads = Downloader {
        tmc: tmc.clone(),
        repository: repository.clone(),
        jobs: jobs.clone(),
        events: events.clone(),
    };
    let imports = Importer {
        installed: installed.clone(),
        repository: repository.clone(),
        audit: audit.clone(),
    };
    let cluster_actions = ClusterActions {
        cluster: cluster.clone(),
        installed: installed.clone(),
        jobs: jobs.clone(),
        audit: audit.clone(),
        events: events.clone(),
        node_name: config.node_name.clone(),
    };
    let backups = Backups::new(
        db.clone(),
        config.storage.database_url.clone(),
        &config.backups,
        installed.clone(),
        audit.clone(),
        notifier.clone(),
        jobs.clone(),
        config.node_name.clone(),
    );
    let patching = InstallEngine {
        installed: installed.clone(),
        repository: repository.clone(),
        tmc: tmc.clone(),
        jobs: jobs.clone(),
        events: events.clone(),
        cluster: cluster.clone(),
        install_root: install_root.clone(),
        life: life.clone(),
        client: client.clone(),
        base_build: config.initial.build,
        node_name: config.node_name.clone(),
        fail_postcheck: config.fail_postcheck,
        start_timeout: config.install.start_timeout,
        backups: backups.clone(),
    };
    let maintenance = Maintenance {
        settings: settings.clone(),
        jobs: jobs.clone(),
        patching: patching.clone(),
        downloads: downloads.clone(),
        panel: panel.clone(),
        tmc: tmc.clone(),
        audit: audit.clone(),
        notifier: notifier.clone(),
        clock: config.clock.clone(),
        node_name: config.node_name.clone(),
        wake: schedule_wake.clone(),
    };
    // The current level's web client when its package carries one, else the built-in one.
    let client_dir = install_root
        .current()
        .ok()
        .and_then(|level| install_root.client_dir(level))
        .unwrap_or_else(|| config.static_dir.clone());
    AppState {
        client_dir,
        auth: Auth::new(db.clone(), config.auth.clone()),
        config: config.clone(),
        db: db.clone(),
        keys: keys.clone(),
        audit,
        installed,
        settings,
        repository,
        events: events.clone(),
        jobs: jobs.clone(),
        tmc: tmc.clone(),
        install_root: install_root.clone(),
        life: life.clone(),
        devices: devices.clone(),
        cluster: cluster.clone(),
        certificate: certificate.clone(),
        client,
        panel,
        downloads,
        imports,
        patching,
        cluster_actions,
        maintenance,
        notifier: notifier.clone(),
        metrics: metrics.clone(),
        disk,
        backups,
    }
}
