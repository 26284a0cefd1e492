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
        value: flags(args)?,
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
fn flags(args: &ServeArgs) -> anyhow::Result<Value> {
    let mut value = json!({});
    let storage = &args.storage;
    let keys = &args.packages.trust_keys;
    let given: [(&[&str], Option<Value>); 17] = [
        (&["data_dir"], to_value(&storage.data_dir)?),
        (&["database_url"], to_value(&storage.database_url)?),
        (&["listen"], to_value(&args.listen)?),
        (&["log_format"], to_value(&args.log_format)?),
        (&["demo"], to_value(&args.demo.then_some(true))?),
        (&["static_dir"], to_value(&args.static_dir)?),
        (&["node_name"], to_value(&args.node_name)?),
        (
            &["trust_keys"],
            to_value(&(!keys.is_empty()).then_some(keys))?,
        ),
        (&["tmc", "url"], to_value(&args.tmc.tmc_url)?),
        (&["tmc", "interval"], to_value(&args.tmc.tmc_interval)?),
        (&["tmc", "ca_file"], to_value(&args.tmc.tmc_ca_file)?),
        (&["tmc", "trust_root"], to_value(&args.tmc.trust_root)?),
        (&["cluster", "peer"], to_value(&args.cluster.cluster_peer)?),
        (
            &["cluster", "secret_file"],
            to_value(&args.cluster.cluster_secret_file)?,
        ),
        (&["tls", "cert"], to_value(&args.tls.tls_cert)?),
        (&["tls", "key"], to_value(&args.tls.tls_key)?),
        (
            &["tls", "insecure_http"],
            to_value(&args.tls.insecure_http.then_some(true))?,
        ),
    ];
    for (path, given) in given {
        if let Some(given) = given {
            set(&mut value, path, given);
        }
    }
    Ok(value)
}

/// A flag's value as the file would write it; a path that is not UTF-8 is an error.
fn to_value<T: Serialize>(given: &Option<T>) -> anyhow::Result<Option<Value>> {
    given
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .context("a flag's value cannot be read as text (a path that is not UTF-8?)")
}

/// Puts `given` at `path` in `value`.
fn set(value: &mut Value, path: &[&str], given: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = value;
    for key in parents {
        at = &mut at[*key];
        if !at.is_object() {
            *at = json!({});
        }
    }
    at[*last] = given;
}
