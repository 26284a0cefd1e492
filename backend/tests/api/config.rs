//! Reading the configuration: flags (and their `SMS_*` variables) over the file over the
//! defaults, and what is refused.

use std::path::PathBuf;

use backend::cli::args::{PackageArgs, ServeArgs, StorageArgs, TmcArgs};
use backend::config::{Config, LogFormat};
use backend::values::{LONG, SHORT, duration};

/// The configuration of the TOML `text` (the file `sms.toml`) with the flags of `args` over it.
fn layered(args: &ServeArgs, text: &str) -> anyhow::Result<Config> {
    Config::from_layers(args, Some(("the configuration file sms.toml".into(), text)))
}

#[test]
fn defaults_follow_the_documentation() {
    let config = Config::from_layers(&ServeArgs::default(), None).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.storage.data_dir, PathBuf::from("data"));
    assert_eq!(config.storage.database_url, "sqlite://data/sms.db?mode=rwc");
    assert_eq!(config.initial.product_version.to_string(), "6.4.0");
    assert_eq!(config.log_format, LogFormat::Text);
    assert!(!config.demo);
    assert_eq!(config.backups.dir, PathBuf::from("data/backups"));
    assert_eq!(config.tmc.interval, std::time::Duration::from_secs(3600));
}

#[test]
fn defaults_that_follow_other_settings() {
    // Demo mode checks the TMC every 30 s, unless an interval is given.
    let demo = ServeArgs {
        demo: true,
        ..ServeArgs::default()
    };
    let config = layered(&demo, "").unwrap();
    assert_eq!(config.tmc.interval, std::time::Duration::from_secs(30));
    let config = layered(&demo, "[tmc]\ninterval = \"2h\"").unwrap();
    assert_eq!(config.tmc.interval, std::time::Duration::from_secs(7200));
    // The backups folder is in the data dir, wherever that is, unless one is given.
    let config = layered(&ServeArgs::default(), "data_dir = \"/srv/sms\"").unwrap();
    assert_eq!(config.backups.dir, PathBuf::from("/srv/sms/backups"));
    let config = layered(
        &ServeArgs::default(),
        "data_dir = \"/srv/sms\"\n[backups]\ndir = \"/backups\"",
    )
    .unwrap();
    assert_eq!(config.backups.dir, PathBuf::from("/backups"));
    // The first build is 6.4.0.9001 for 6.4.0 and .1 for any other product version.
    assert_eq!(Config::defaults().initial.build.to_string(), "6.4.0.9001");
    let config = layered(
        &ServeArgs::default(),
        "[installed]\nproduct_version = \"6.5.0\"",
    );
    assert_eq!(config.unwrap().initial.build.to_string(), "6.5.0.1");
}

#[test]
fn flags_win_over_the_file() {
    let file = r#"
        listen = "0.0.0.0:9000"
        data_dir = "/var/lib/sms"
        demo = true
        trust_keys = ["/etc/sms/a.pub"]
        [installed]
        product_version = "6.5.0"
        [tmc]
        url = "https://tmc.example/feed"
        interval = "2h"
        "#;
    let args = ServeArgs {
        listen: Some("127.0.0.1:9100".parse().unwrap()),
        packages: PackageArgs {
            trust_keys: vec!["/flag/b.pub".into()],
        },
        tmc: TmcArgs {
            tmc_interval: Some("90s".into()),
            ..TmcArgs::default()
        },
        ..ServeArgs::default()
    };
    let config = layered(&args, file).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:9100");
    assert_eq!(config.storage.data_dir, PathBuf::from("/var/lib/sms"));
    assert!(config.demo);
    assert_eq!(config.initial.build.to_string(), "6.5.0.1");
    assert_eq!(config.trust_keys, [PathBuf::from("/flag/b.pub")]);
    assert_eq!(config.tmc.interval, std::time::Duration::from_secs(90));
    assert_eq!(
        config.tmc.url.as_ref().map(|u| u.as_str()),
        Some("https://tmc.example/feed/")
    );
    // Without flags, the file's values.
    let config = layered(&ServeArgs::default(), file).unwrap();
    assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(config.tmc.interval, std::time::Duration::from_secs(7200));
}

#[test]
fn an_error_names_the_setting_and_where_its_value_came_from() {
    let wrong_type = layered(&ServeArgs::default(), "[http]\nmax_body_bytes = \"big\"")
        .unwrap_err()
        .to_string();
    assert!(wrong_type.contains("`http.max_body_bytes`"), "{wrong_type}");
    assert!(
        wrong_type.contains("the configuration file sms.toml"),
        "{wrong_type}"
    );
    let args = ServeArgs {
        tmc: TmcArgs {
            tmc_url: Some("ftp:/nowhere".into()),
            ..TmcArgs::default()
        },
        ..ServeArgs::default()
    };
    let bad_url = layered(&args, "").unwrap_err().to_string();
    assert!(
        bad_url.contains("`tmc.url` in the command line"),
        "{bad_url}"
    );
    // A setting that needs another names both, and where the one given came from.
    let half_tls = layered(&ServeArgs::default(), "[tls]\ncert = \"/etc/sms/cert.pem\"")
        .unwrap_err()
        .to_string();
    assert!(
        half_tls.contains("`tls.cert` (from the configuration file sms.toml) needs `tls.key`"),
        "{half_tls}"
    );
    let half_cluster = layered(
        &ServeArgs::default(),
        "database_url = \"postgres://db/sms\"\n[cluster]\npeer = \"https://sms-b:8080/\"",
    )
    .unwrap_err()
    .to_string();
    assert!(
        half_cluster.contains(
            "`cluster.peer` (from the configuration file sms.toml) needs `cluster.secret_file`"
        ),
        "{half_cluster}"
    );
}

#[test]
fn unknown_keys_and_bad_versions_are_refused() {
    let typo = layered(&ServeArgs::default(), "lisen = \"x\"")
        .unwrap_err()
        .to_string();
    assert!(typo.contains("lisen"), "{typo}");
    let version = layered(
        &ServeArgs::default(),
        "[installed]\nproduct_version = \"6.4\"",
    )
    .unwrap_err()
    .to_string();
    assert!(
        version.contains("`installed.product_version` in the configuration file sms.toml"),
        "{version}"
    );
    assert!(
        layered(
            &ServeArgs::default(),
            "[installed]\nproduct_version = \"6.4.0\"\nbuild = \"6.5.0.1\""
        )
        .is_err()
    );
}

/// The shipped configuration file (packaging/sms.toml): as shipped, and with every setting its
/// reference part lists uncommented.
fn shipped() -> (String, String) {
    let text = include_str!("../../../packaging/sms.toml").to_owned();
    let reference = text
        .split_once("# Every setting")
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| {
            line.starts_with('[')
                || line.split_once(" = ").is_some_and(|(key, _)| {
                    key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                })
        })
        .collect::<Vec<_>>()
        .join("\n");
    (text, reference)
}

#[test]
fn the_shipped_configuration_file_and_every_setting_it_documents_are_read() {
    let (text, reference) = shipped();
    let config = layered(&ServeArgs::default(), &text).unwrap();
    assert_eq!(config.listen.to_string(), "0.0.0.0:443");
    // Every documented key has its place (unknown keys are refused), with a value of its type.
    let every = backend::config::settings("sms.toml", &reference).unwrap_or_else(|err| {
        panic!("packaging/sms.toml documents a setting the server refuses: {err}")
    });
    assert!(every.tmc.trust_root.is_some(), "{reference}");
    assert_eq!(
        every.http.trusted_proxies.len(),
        2,
        "an address and a network"
    );
    assert!(every.cluster_settings.peer.is_some() && every.smtp_settings.host.is_some());
    assert!(reference.lines().count() > 60, "{reference}");
}

#[test]
fn every_documented_flag_reads_its_documented_variable() {
    use clap::Args;
    let command = ServeArgs::augment_args(clap::Command::new("serve"));
    let docs = include_str!("../../../docs/cli.md");
    let serve = docs
        .split_once("## `sms serve`")
        .and_then(|(_, rest)| rest.split_once("\n## "))
        .map(|(table, _)| table)
        .unwrap_or_default();
    let mut seen = 0;
    for row in serve.lines().filter(|l| l.starts_with("| `--")) {
        let row = row.replace("\\|", "/");
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let flag = cells[1]
            .trim_matches('`')
            .trim_start_matches("--")
            .split([' ', '`'])
            .next()
            .unwrap_or_default();
        let variable = cells[2].split('`').nth(1).unwrap_or_default();
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(flag))
            .unwrap_or_else(|| panic!("docs/cli.md documents --{flag}, which sms serve lacks"));
        assert_eq!(
            arg.get_env().and_then(|e| e.to_str()),
            Some(variable),
            "--{flag} reads another variable than docs/cli.md says"
        );
        seen += 1;
    }
    assert!(seen >= 18, "only {seen} flags found in docs/cli.md");
}

#[test]
fn durations_read_one_way_everywhere_and_errors_name_the_setting() {
    use std::time::Duration;
    let read = |text: &str| duration("`x`", text, LONG);
    assert_eq!(read("90s").unwrap(), Duration::from_secs(90));
    assert_eq!(read("30m").unwrap(), Duration::from_secs(1800));
    assert_eq!(read("2d").unwrap(), Duration::from_secs(2 * 86_400));
    assert_eq!(read("1h 30m").unwrap(), Duration::from_secs(5400));
    assert_eq!(read(" 3600 ").unwrap(), Duration::from_secs(3600));
    assert_eq!(
        duration("`y`", "500ms", SHORT).unwrap(),
        Duration::from_millis(500)
    );
    let soon = read("soon").unwrap_err().to_string();
    assert!(soon.starts_with("`x`: `soon` is not a duration"), "{soon}");
    let short = read("2s").unwrap_err().to_string();
    assert!(short.contains("must be from 5s"), "{short}");
    let long = layered(&ServeArgs::default(), "[http]\nrequest_timeout = \"2h\"")
        .unwrap_err()
        .to_string();
    assert!(long.contains("`http.request_timeout`"), "{long}");
}

#[test]
fn a_flag_that_cannot_be_read_as_text_is_refused_not_dropped() {
    use std::os::unix::ffi::OsStringExt;
    let args = ServeArgs {
        storage: StorageArgs {
            data_dir: Some(PathBuf::from(std::ffi::OsString::from_vec(vec![
                b'd', 0xff,
            ]))),
            ..StorageArgs::default()
        },
        ..ServeArgs::default()
    };
    let err = Config::from_layers(&args, None).unwrap_err().to_string();
    assert!(err.contains("not UTF-8"), "{err}");
}

#[test]
fn smtp_needs_a_sender_and_a_whole_login() {
    use backend::service::notify::SmtpTls;
    let smtp = |text: &str| layered(&ServeArgs::default(), text).map(|config| config.smtp);
    assert!(smtp("[smtp]\nhost = \"mail\"").is_err());
    assert!(smtp("[smtp]\nhost = \"mail\"\nfrom = \"a@b\"\nusername = \"u\"").is_err());
    let tls = smtp("[smtp]\nhost = \"mail\"\nfrom = \"a@b\"\ntls = \"tls\"")
        .unwrap()
        .unwrap();
    assert_eq!((tls.port, tls.tls), (465, SmtpTls::Tls));
    assert!(smtp("").unwrap().is_none());
}

#[test]
fn every_built_in_default_is_a_documented_key() {
    let docs = include_str!("../../../docs/configuration.md");
    let block = docs
        .split_once("```toml\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .unwrap_or_default();
    let documented: toml::Table = toml::from_str(block).unwrap();
    let defaults: toml::Table =
        toml::from_str(include_str!("../../src/config/defaults.toml")).unwrap();
    let mut seen = 0;
    for (key, value) in &defaults {
        let keys: Vec<(String, &toml::Value)> = match value.as_table() {
            Some(section) => section
                .iter()
                .map(|(k, v)| (format!("{key}.{k}"), v))
                .collect(),
            None => vec![(key.clone(), value)],
        };
        for (path, _) in keys {
            let (section, name) = path.split_once('.').unwrap_or(("", &path));
            let found = match section {
                "" => documented.get(name),
                section => documented.get(section).and_then(|s| s.get(name)),
            };
            assert!(
                found.is_some(),
                "defaults.toml sets `{path}`, which docs/configuration.md does not document"
            );
            seen += 1;
        }
    }
    assert!(seen > 30, "only {seen} defaults");
    // And the defaults are what a configuration without a file has.
    let config = Config::from_layers(&serde_json::json!({}), None).unwrap();
    assert_eq!(config.http.max_connections, 1024);
    assert_eq!(config.auth.session_ttl, chrono::Duration::hours(12));
    assert_eq!(config.tmc.interval, std::time::Duration::from_secs(3600));
}
