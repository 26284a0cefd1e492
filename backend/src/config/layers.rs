//! The configuration's layers, merged by figment: the built-in defaults (`defaults.toml`), the
//! file (`--config`), then the flags with their `SMS_*` variables (clap has already read those:
//! a flag wins over its variable). Each layer is named, so that an error says where a value
//! came from.

use std::path::Path;

use anyhow::Context;
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;
use serde_json::Value;

use super::Config;

/// The name of the defaults' layer in errors.
pub const DEFAULTS: &str = "the built-in defaults";
/// The name of the flags' layer in errors.
pub const FLAGS: &str = "the command line (or its SMS_* variable)";

/// A command's flags: shaped like the configuration file when serialized (a flag not given is
/// `null` or left out), and the file they name.
pub trait Flags: Serialize {
    /// `--config`.
    fn config_file(&self) -> Option<&Path>;
}

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

/// The settings of `file` (a name and its TOML text, if any) with `flags` over them, and the
/// figment that knows which layer gave each.
pub fn merged(
    flags: &impl Serialize,
    file: Option<(String, &str)>,
) -> anyhow::Result<(Config, Figment)> {
    let mut figment = Figment::new();
    let defaults = Some((DEFAULTS.to_owned(), include_str!("defaults.toml")));
    for (name, text) in defaults.into_iter().chain(file) {
        let table: toml::Table =
            toml::from_str(text).with_context(|| format!("{name} is not valid TOML"))?;
        figment = figment.merge(Layer {
            name,
            value: serde_json::to_value(table)?,
        });
    }
    let flags = serde_json::to_value(flags)
        .context("a flag's value cannot be read as text (a path that is not UTF-8?)")?;
    figment = figment.merge(Layer {
        name: FLAGS.into(),
        value: without_nulls(flags),
    });
    let settings = figment
        .extract::<Config>()
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
        .filter(|meta| meta.name != DEFAULTS)
        .map(|meta| format!(" (from {})", meta.name))
        .unwrap_or_default()
}

/// Whether `key` was given (by the file or a flag), not left to its default.
pub fn given(figment: &Figment, key: &str) -> bool {
    !origin(figment, key).is_empty()
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

/// `value` without its nulls: a flag not given is no value of its layer.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        other => other,
    }
}
