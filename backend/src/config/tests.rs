//! Resolving the configuration: flags over the file over the defaults, and what is refused.

use super::*;

#[test]
fn defaults_follow_the_documentation() {
    let config = Config::resolve(&ServeArgs::default(), FileConfig::default()).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.storage.data_dir, PathBuf::from("data"));
    assert_eq!(config.storage.database_url, "sqlite://data/sms.db?mode=rwc");
    assert_eq!(config.initial.product_version.to_string(), "6.4.0");
    assert_eq!(config.log_format, LogFormat::Text);
    assert!(!config.demo);
}

#[test]
fn flags_win_over_the_file() {
    let file: FileConfig = toml::from_str(
        r#"
        listen = "0.0.0.0:9000"
        data_dir = "/var/lib/sms"
        demo = true
        [installed]
        product_version = "6.5.0"
        "#,
    )
    .unwrap();
    let args = ServeArgs {
        listen: Some("127.0.0.1:9100".parse().unwrap()),
        ..ServeArgs::default()
    };
    let config = Config::resolve(&args, file).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:9100");
    assert_eq!(config.storage.data_dir, PathBuf::from("/var/lib/sms"));
    assert!(config.demo);
    assert_eq!(config.initial.build.to_string(), "6.5.0.1");
}

#[test]
fn unknown_keys_and_bad_versions_are_refused() {
    assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    let file: FileConfig = toml::from_str("[installed]\nproduct_version = \"6.4\"").unwrap();
    assert!(Config::resolve(&ServeArgs::default(), file).is_err());
    let file: FileConfig =
        toml::from_str("[installed]\nproduct_version = \"6.4.0\"\nbuild = \"6.5.0.1\"").unwrap();
    assert!(Config::resolve(&ServeArgs::default(), file).is_err());
}
