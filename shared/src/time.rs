//! How the API's times and dates are read: an RFC 3339 time (`2027-05-04T02:00:00Z`) and a
//! `YYYY-MM-DD` date, both with chrono's own RFC 3339 reader.
//!
//! chrono's `Deserialize` goes through its general format parser (every strftime item), which
//! the web client, reading every time the API sends, would carry for nothing. Fields of type
//! `DateTime<Utc>` use `#[serde(deserialize_with = "crate::time::utc")]`, optional ones
//! `#[serde(default, deserialize_with = "crate::time::utc_opt")]`, dates
//! `crate::time::date`. They are written as chrono writes them.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserializer;
use serde::de::{Error, Visitor};

/// An RFC 3339 time, in UTC.
pub fn utc<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Rfc3339)
}

/// An RFC 3339 time, in UTC, or `null`.
pub fn utc_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_option(Optional)
}

/// A date, `YYYY-MM-DD`.
pub fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    deserializer.deserialize_str(Date)
}

/// Reads an RFC 3339 time from a string.
struct Rfc3339;

impl Visitor<'_> for Rfc3339 {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 time such as 2027-05-04T02:00:00Z")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Self::Value, E> {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|err| E::custom(format_args!("`{text}` is not an RFC 3339 time: {err}")))
    }
}

/// Reads an RFC 3339 time or `null`.
struct Optional;

impl<'de> Visitor<'de> for Optional {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 time such as 2027-05-04T02:00:00Z, or null")
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        utc(deserializer).map(Some)
    }
}

/// Reads a `YYYY-MM-DD` date from a string.
struct Date;

impl Visitor<'_> for Date {
    type Value = NaiveDate;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date such as 2027-05-04")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Self::Value, E> {
        // The date part of an RFC 3339 time, and nothing else.
        let midnight = format!("{text}T00:00:00Z");
        match DateTime::parse_from_rfc3339(&midnight) {
            Ok(at) if text.len() == 10 => Ok(at.date_naive()),
            _ => Err(E::custom(format_args!(
                "`{text}` is not a date such as 2027-05-04"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Times {
        #[serde(deserialize_with = "super::utc")]
        at: DateTime<Utc>,
        #[serde(default, deserialize_with = "super::utc_opt")]
        until: Option<DateTime<Utc>>,
        #[serde(deserialize_with = "super::date")]
        released: NaiveDate,
    }

    fn read(json: &str) -> Result<Times, String> {
        serde_json::from_str(json).map_err(|err| err.to_string())
    }

    #[test]
    fn times_and_dates_read_as_chrono_writes_them() {
        let at = Utc.with_ymd_and_hms(2027, 5, 4, 2, 0, 7).unwrap();
        let until = at + chrono::Duration::milliseconds(1500);
        let written = serde_json::json!({
            "at": at,
            "until": until,
            "released": NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
        });
        assert_eq!(
            read(&written.to_string()),
            Ok(Times {
                at,
                until: Some(until),
                released: NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
            })
        );
    }

    #[test]
    fn an_offset_is_turned_into_utc_and_a_missing_time_is_none() {
        let times = read(r#"{"at": "2027-05-04T04:00:00+02:00", "released": "2027-05-04"}"#);
        assert_eq!(
            times.map(|t| (t.at, t.until)),
            Ok((Utc.with_ymd_and_hms(2027, 5, 4, 2, 0, 0).unwrap(), None))
        );
        let null =
            read(r#"{"at": "2027-05-04T02:00:00Z", "until": null, "released": "2027-05-04"}"#);
        assert_eq!(null.map(|t| t.until), Ok(None));
    }

    #[test]
    fn anything_else_is_refused_with_the_text_given() {
        for (json, says) in [
            (
                r#"{"at": "2027-05-04", "released": "2027-05-04"}"#,
                "`2027-05-04` is not an RFC 3339 time",
            ),
            (
                r#"{"at": "yesterday", "released": "2027-05-04"}"#,
                "`yesterday` is not",
            ),
            (
                r#"{"at": 1, "released": "2027-05-04"}"#,
                "an RFC 3339 time such as",
            ),
            (
                r#"{"at": "2027-05-04T02:00:00Z", "released": "2027-02-30"}"#,
                "`2027-02-30` is not a date",
            ),
            (
                r#"{"at": "2027-05-04T02:00:00Z", "released": "2027-05-04T00:00:00Z"}"#,
                "is not a date",
            ),
            (
                r#"{"at": "2027-05-04T02:00:00Z", "released": "27-5-4"}"#,
                "is not a date",
            ),
        ] {
            let err = read(json).unwrap_err();
            assert!(err.contains(says), "{json}: {err}");
        }
    }
}
