//! The configuration's layers, merged by figment: the file (`--config`), then the flags with
//! their `SMS_*` variables (clap has already read those: a flag wins over its variable). The
//! built-in defaults are the lowest layer, where a setting is left out of both. Each layer is
//! named, so that an error says where a value came from.

use std::path::Path;

use anyhow::Context;
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;
use serde_json::{Value, json};

use super::{FileConfig, ServeArgs};

/// The name of the flags' layer in errors.
pub const FLAGS: &str = "the command line (or its SMS_* variable)";

/// One layer: settings shaped like the configuration file, and its name.
struct Layer {
    name: String,
    value: Value,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        figment::providers::Serialized::defaults(&self.value).data()
    }
}

/// The settings of `file` (a name and its TOML text, if any) with the flags of `args` over them,
/// and the figment that knows which layer gave each.
pub fn merged(
    args: &ServeArgs,
    file: Option<(String, &str)>,
) -> anyhow::Result<(FileConfig, Figment)> {
    let mut figment = Figment::new();
    if let Some((name, text)) = file {
        let table: toml::Table =
            toml::from_str(text).with_context(|| format!("{name} is not valid TOML"))?;
        figment = figment.merge(Layer {
            name,
            value: serde_json::to_value(table)?,
        });
    }
    figment = figment.merge(Layer {
        name: FLAGS.into(),
        value: flags(args),
    });
    let settings = figment
        .extract::<FileConfig>()
        .map_err(|err| anyhow::anyhow!("the configuration is not valid: {}", describe(&err)))?;
    Ok((settings, figment))
}

/// Reads the configuration file's text, when `--config` names one.
pub fn read(path: Option<&Path>) -> anyhow::Result<Option<(String, String)>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    Ok(Some((
        format!("the configuration file {}", path.display()),
        text,
    )))
}

/// Where `key` (`tmc.url`) came from, as words for an error: ` (from …)`, or nothing for a
/// default.
pub fn origin(figment: &Figment, key: &str) -> String {
    figment
        .find_metadata(key)
        .map(|meta| format!(" (from {})", meta.name))
        .unwrap_or_default()
}

/// A figment error in words: each error's setting and where it came from.
fn describe(err: &figment::Error) -> String {
    err.clone()
        .into_iter()
        .map(|err| {
            let key = err.path.join(".");
            let from = err
                .metadata
                .as_ref()
                .map(|meta| format!(" in {}", meta.name))
                .unwrap_or_default();
            if key.is_empty() {
                format!("{}{from}", err.kind)
            } else {
                format!("`{key}`{from}: {}", err.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The flags given, shaped like the configuration file.
fn flags(args: &ServeArgs) -> Value {
    let mut value = json!({});
    let storage = &args.storage;
    set(&mut value, &["data_dir"], &storage.data_dir);
    set(&mut value, &["database_url"], &storage.database_url);
    set(&mut value, &["listen"], &args.listen);
    set(&mut value, &["log_format"], &args.log_format);
    set(&mut value, &["demo"], &args.demo.then_some(true));
    set(&mut value, &["static_dir"], &args.static_dir);
    set(&mut value, &["node_name"], &args.node_name);
    let keys = &args.packages.trust_keys;
    set(
        &mut value,
        &["trust_keys"],
        &(!keys.is_empty()).then_some(keys),
    );
    set(&mut value, &["tmc", "url"], &args.tmc.tmc_url);
    set(&mut value, &["tmc", "interval"], &args.tmc.tmc_interval);
    set(&mut value, &["tmc", "ca_file"], &args.tmc.tmc_ca_file);
    set(&mut value, &["tmc", "trust_root"], &args.tmc.trust_root);
    set(&mut value, &["cluster", "peer"], &args.cluster.cluster_peer);
    set(
        &mut value,
        &["cluster", "secret_file"],
        &args.cluster.cluster_secret_file,
    );
    set(&mut value, &["tls", "cert"], &args.tls.tls_cert);
    set(&mut value, &["tls", "key"], &args.tls.tls_key);
    set(
        &mut value,
        &["tls", "insecure_http"],
        &args.tls.insecure_http.then_some(true),
    );
    value
}

/// Puts `given` at `path` in `value`, when it is given.
fn set<T: Serialize>(value: &mut Value, path: &[&str], given: &Option<T>) {
    let Some(given) = given else { return };
    let Ok(given) = serde_json::to_value(given) else {
        return;
    };
    let mut at = value;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
        if !at.is_object() {
            *at = json!({});
        }
    }
    at[path[path.len() - 1]] = given;
}
