//! How the settings write values that are not plain TOML types: durations, base URLs, proxies,
//! time zones. Each reader is a serde `deserialize_with` of a section's field (in `config` or in
//! the service that owns the section), so that figment's error names the setting and where its
//! value came from.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{Deserialize, Deserializer, Error};

/// The shortest and longest durations most settings take.
pub const SHORT: RangeInclusive<Duration> = Duration::ZERO..=Duration::from_secs(3600);
pub const LONG: RangeInclusive<Duration> =
    Duration::from_secs(5)..=Duration::from_secs(10 * 365 * 86_400);

/// A duration as the configuration and the flags write it, one way everywhere: `500ms`, `90s`,
/// `30m`, `1h`, `2d`, `1h 30m` (humantime's words) or a number of seconds, within `range`;
/// an error names the `setting`.
pub fn duration(
    setting: &str,
    text: &str,
    range: RangeInclusive<Duration>,
) -> anyhow::Result<Duration> {
    within(text, range).map_err(|err| anyhow::anyhow!("{setting}: {err}"))
}

fn within(text: &str, range: RangeInclusive<Duration>) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().map(Duration::from_secs).ok()
    } else {
        humantime::parse_duration(text).ok()
    };
    let duration = parsed
        .ok_or_else(|| format!("`{text}` is not a duration like 500ms, 90s, 30m, 1h or 2d"))?;
    if !range.contains(&duration) {
        return Err(format!(
            "`{text}` must be from {} to {}",
            humantime::format_duration(*range.start()),
            humantime::format_duration(*range.end())
        ));
    }
    Ok(duration)
}

/// A duration of at most an hour (`SHORT`).
pub fn short<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(&String::deserialize(d)?, SHORT).map_err(D::Error::custom)
}

/// A duration of at least 5 seconds (`LONG`).
pub fn long<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    within(&String::deserialize(d)?, LONG).map_err(D::Error::custom)
}

/// A whole number of seconds.
pub fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    Ok(Duration::from_secs(u32::deserialize(d)?.into()))
}

/// A whole number of minutes, at least one.
pub fn minutes<'de, D: Deserializer<'de>>(d: D) -> Result<chrono::Duration, D::Error> {
    Ok(chrono::Duration::minutes(
        u32::deserialize(d)?.max(1).into(),
    ))
}

/// A whole number of hours, at least one.
pub fn hours<'de, D: Deserializer<'de>>(d: D) -> Result<chrono::Duration, D::Error> {
    Ok(chrono::Duration::hours(u32::deserialize(d)?.max(1).into()))
}

/// The base URL of a server this one calls (the TMC, the cluster peer): http:// or https://,
/// read as a folder (`v1/catalog.json` resolves below it).
pub fn base_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<reqwest::Url>, D::Error> {
    let text = String::deserialize(d)?;
    let mut url = reqwest::Url::parse(&text)
        .map_err(|err| D::Error::custom(format!("`{text}` is not a valid URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(D::Error::custom(format!(
            "`{text}` must start with https:// or http://"
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(Some(url))
}

/// A CA file to trust beside the system's roots.
pub fn ca_file<'de, D: Deserializer<'de>>(d: D) -> Result<crate::net::Trust, D::Error> {
    Ok(crate::net::Trust {
        ca_file: Some(PathBuf::deserialize(d)?),
        fingerprint: None,
    })
}

/// Proxies as the configuration writes them: a network (`10.0.0.0/8`) or one address
/// (`10.0.0.5`, the network of that address alone).
pub fn proxies<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|text| {
            let text = text.trim();
            text.parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    D::Error::custom(format!(
                        "`{text}` is neither an address nor a network like 10.0.0.0/8"
                    ))
                })
        })
        .collect()
}

/// An IANA time zone.
pub fn time_zone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let zone = String::deserialize(d)?;
    zone.parse().map_err(|_| {
        D::Error::custom(format!(
            "`{zone}` is not an IANA time zone (e.g. Europe/Berlin, UTC)"
        ))
    })
}
