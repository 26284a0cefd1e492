//! The TMC status in words: the connection, the vendor feed's signed metadata (its age, when it
//! expires), and the warning when this server's clock and the TMC's disagree.

use chrono::{DateTime, TimeDelta, Utc};
use shared::panel::{ClockCheck, FeedInfo, TmcConnection, TmcStatus};

use crate::times::{clock, in_utc_seconds};
use crate::words::duration_in_words;

/// From how close to its expiry the feed's timestamp is worth a warning: 2 hours.
pub const EXPIRY_WARNING: TimeDelta = TimeDelta::hours(2);

/// The connection's name in the status's class and `data-connection`: `connected`,
/// `unreachable`, ...
pub fn connection_class(connection: TmcConnection) -> &'static str {
    match connection {
        TmcConnection::NotConfigured => "not_configured",
        TmcConnection::Pending => "pending",
        TmcConnection::Connected => "connected",
        TmcConnection::Unreachable => "unreachable",
        TmcConnection::CertificateInvalid => "certificate_invalid",
        TmcConnection::Invalid => "invalid",
    }
}

/// "Connected · last check 02:00:07 UTC" or "Unreachable: … · last check … · next try …".
pub fn status_in_words(status: &TmcStatus) -> String {
    let time = |t: &DateTime<Utc>| format!("{} UTC", clock(*t));
    let last = status
        .last_check
        .as_ref()
        .map(|t| format!(" · last check {}", time(t)))
        .unwrap_or_default();
    let next = status
        .next_check
        .as_ref()
        .map(|t| format!(" · next try {}", time(t)))
        .unwrap_or_default();
    let message = status.message.as_deref().unwrap_or_default();
    match status.connection {
        TmcConnection::NotConfigured => {
            "Not configured: patches come only from imported files".to_owned()
        }
        TmcConnection::Pending => "Connecting…".to_owned(),
        TmcConnection::Connected => format!("Connected{last}"),
        TmcConnection::Unreachable => format!("Unreachable: {message}{last}{next}"),
        TmcConnection::CertificateInvalid => {
            format!("Certificate not trusted: {message}{last}{next}")
        }
        TmcConnection::Invalid => format!("Refused the TMC's answer: {message}{last}{next}"),
    }
}

/// The last check's failure code (`metadata_expired`, ...), to look up in the documentation;
/// none after a success, or when the server named none.
pub fn failure_code(status: &TmcStatus) -> Option<&str> {
    status
        .code
        .as_deref()
        .map(str::trim)
        .filter(|code| !code.is_empty())
}

/// "Feed: signed metadata (TUF), root version 2; timestamp 3 hours old, expires in 21 hours",
/// as of `now`.
pub fn feed_in_words(feed: &FeedInfo, now: DateTime<Utc>) -> String {
    format!(
        "Feed: signed metadata (TUF), root version {}; timestamp {} old, {}",
        feed.root_version,
        span_in_words(now - feed.timestamp_seen),
        expiry_in_words(feed.timestamp_expires - now),
    )
}

/// The exact facts behind [`feed_in_words`], for its tooltip: "Timestamp version 57, first seen
/// 2027-05-04 02:00:07 UTC, expires 2027-05-05 02:00:07 UTC".
pub fn feed_details(feed: &FeedInfo) -> String {
    format!(
        "Timestamp version {}, first seen {}, expires {}",
        feed.timestamp_version,
        in_utc_seconds(feed.timestamp_seen),
        in_utc_seconds(feed.timestamp_expires),
    )
}

/// The warning when the feed's timestamp expires within [`EXPIRY_WARNING`] of `now`, or has
/// expired.
pub fn feed_expiry_warning(feed: &FeedInfo, now: DateTime<Utc>) -> Option<String> {
    let left = feed.timestamp_expires - now;
    if left <= TimeDelta::zero() {
        Some(format!(
            "The feed's signed timestamp {}: this server refuses the feed until the TMC signs a \
             new one.",
            expiry_in_words(left)
        ))
    } else if left <= EXPIRY_WARNING {
        Some(format!(
            "The feed's signed timestamp {}: unless the TMC signs a new one by then, this server \
             refuses the feed.",
            expiry_in_words(left)
        ))
    } else {
        None
    }
}

/// "Check the server's clock: this server says 14:03:07 UTC, the TMC says 12:00:00 UTC (this
/// server is 2 hours 3 minutes ahead)." With the dates when the two are on different days.
pub fn clock_warning(check: &ClockCheck) -> String {
    let (server, tmc) = (check.server_time, check.tmc_time);
    let same_day = server.date_naive() == tmc.date_naive();
    let time = |at: DateTime<Utc>| {
        if same_day {
            format!("{} UTC", clock(at))
        } else {
            in_utc_seconds(at)
        }
    };
    let apart = server - tmc;
    let gap = if apart.num_minutes() == 0 {
        String::new()
    } else if apart > TimeDelta::zero() {
        format!(" (this server is {} ahead)", minutes_in_words(apart))
    } else {
        format!(" (this server is {} behind)", minutes_in_words(-apart))
    };
    format!(
        "Check the server's clock: this server says {}, the TMC says {}{gap}.",
        time(server),
        time(tmc)
    )
}

/// "expires in 21 hours", "expires in less than a minute", "expired 20 minutes ago".
fn expiry_in_words(left: TimeDelta) -> String {
    if left > TimeDelta::zero() {
        format!("expires in {}", span_in_words(left))
    } else {
        format!("expired {} ago", span_in_words(-left))
    }
}

/// A span, as precisely as it matters: to the minute under 2 hours ("1 hour 35 minutes"), in
/// whole hours above ("21 hours", "1 day 2 hours"), rounded down; "less than a minute" under
/// one (a negative span too: a browser clock a little behind the server's).
fn span_in_words(span: TimeDelta) -> String {
    let minutes = span.num_minutes();
    if minutes < 1 {
        "less than a minute".to_owned()
    } else if minutes < 120 {
        minutes_in_words(span)
    } else {
        minutes_in_words(TimeDelta::hours(span.num_hours()))
    }
}

/// Whole minutes of a non-negative span, in words ("2 hours 3 minutes").
fn minutes_in_words(span: TimeDelta) -> String {
    let minutes = u32::try_from(span.num_minutes().max(0)).unwrap_or(u32::MAX);
    duration_in_words(minutes)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, TimeZone, Utc};
    use shared::panel::{ClockCheck, FeedInfo, TmcConnection, TmcStatus};

    use super::{
        clock_warning, connection_class, failure_code, feed_details, feed_expiry_warning,
        feed_in_words, span_in_words, status_in_words,
    };

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 5, 4, h, m, s).unwrap()
    }

    fn feed(seen: DateTime<Utc>, expires: DateTime<Utc>) -> FeedInfo {
        FeedInfo {
            root_version: 2,
            timestamp_version: 57,
            timestamp_seen: seen,
            timestamp_expires: expires,
        }
    }

    #[test]
    fn spans_are_as_precise_as_they_matter() {
        let minutes = TimeDelta::minutes;
        assert_eq!(span_in_words(TimeDelta::seconds(59)), "less than a minute");
        assert_eq!(
            span_in_words(TimeDelta::seconds(-300)),
            "less than a minute"
        );
        assert_eq!(span_in_words(minutes(1)), "1 minute");
        assert_eq!(span_in_words(minutes(45)), "45 minutes");
        assert_eq!(span_in_words(minutes(95)), "1 hour 35 minutes");
        assert_eq!(span_in_words(minutes(119)), "1 hour 59 minutes");
        assert_eq!(span_in_words(minutes(120)), "2 hours");
        // Whole hours from 2 hours on, rounded down.
        assert_eq!(span_in_words(minutes(3 * 60 + 59)), "3 hours");
        assert_eq!(span_in_words(minutes(26 * 60 + 10)), "1 day 2 hours");
        assert_eq!(span_in_words(TimeDelta::days(7)), "7 days");
    }

    #[test]
    fn the_feed_says_its_root_its_age_and_its_expiry() {
        let now = at(12, 0, 0);
        let fresh = feed(at(9, 0, 0), at(9, 0, 0) + TimeDelta::hours(24));
        assert_eq!(
            feed_in_words(&fresh, now),
            "Feed: signed metadata (TUF), root version 2; timestamp 3 hours old, expires in 21 \
             hours"
        );
        assert_eq!(feed_expiry_warning(&fresh, now), None);
        assert_eq!(
            feed_details(&fresh),
            "Timestamp version 57, first seen 2027-05-04 09:00:00 UTC, expires 2027-05-05 \
             09:00:00 UTC"
        );
        // Just seen, and seen "in the future" by a browser whose clock is a little behind.
        let new = feed(at(11, 59, 30), at(18, 0, 0));
        assert_eq!(
            feed_in_words(&new, now),
            "Feed: signed metadata (TUF), root version 2; timestamp less than a minute old, \
             expires in 6 hours"
        );
        let ahead = feed(at(12, 2, 0), at(18, 0, 0));
        assert!(feed_in_words(&ahead, now).contains("timestamp less than a minute old"));
    }

    #[test]
    fn a_timestamp_expiring_within_two_hours_is_a_warning() {
        let now = at(12, 0, 0);
        let two_hours = feed(at(0, 0, 0), at(14, 0, 0));
        assert!(feed_in_words(&two_hours, now).ends_with("expires in 2 hours"));
        assert_eq!(
            feed_expiry_warning(&two_hours, now).as_deref(),
            Some(
                "The feed's signed timestamp expires in 2 hours: unless the TMC signs a new one \
                 by then, this server refuses the feed."
            )
        );
        let soon = feed(at(0, 0, 0), at(12, 35, 0));
        assert!(feed_in_words(&soon, now).ends_with("expires in 35 minutes"));
        assert!(
            feed_expiry_warning(&soon, now)
                .unwrap()
                .starts_with("The feed's signed timestamp expires in 35 minutes:")
        );
        let last_seconds = feed(at(0, 0, 0), at(12, 0, 20));
        assert!(feed_in_words(&last_seconds, now).ends_with("expires in less than a minute"));
        assert!(feed_expiry_warning(&last_seconds, now).is_some());
        // Further away, no warning.
        let later = feed(at(0, 0, 0), at(14, 1, 0));
        assert!(feed_in_words(&later, now).ends_with("expires in 2 hours"));
        assert_eq!(feed_expiry_warning(&later, now), None);
    }

    #[test]
    fn an_expired_timestamp_says_since_when() {
        let now = at(12, 0, 0);
        let expired = feed(at(0, 0, 0), at(11, 40, 0));
        assert_eq!(
            feed_in_words(&expired, now),
            "Feed: signed metadata (TUF), root version 2; timestamp 12 hours old, expired 20 \
             minutes ago"
        );
        assert_eq!(
            feed_expiry_warning(&expired, now).as_deref(),
            Some(
                "The feed's signed timestamp expired 20 minutes ago: this server refuses the \
                 feed until the TMC signs a new one."
            )
        );
        let now_exactly = feed(at(0, 0, 0), now);
        assert!(feed_in_words(&now_exactly, now).ends_with("expired less than a minute ago"));
        assert!(feed_expiry_warning(&now_exactly, now).is_some());
    }

    #[test]
    fn the_clock_warning_gives_both_times_and_how_far_apart() {
        let ahead = ClockCheck {
            server_time: at(14, 3, 7),
            tmc_time: at(12, 0, 0),
        };
        assert_eq!(
            clock_warning(&ahead),
            "Check the server's clock: this server says 14:03:07 UTC, the TMC says 12:00:00 UTC \
             (this server is 2 hours 3 minutes ahead)."
        );
        let behind = ClockCheck {
            server_time: at(12, 0, 0),
            tmc_time: at(12, 6, 30),
        };
        assert_eq!(
            clock_warning(&behind),
            "Check the server's clock: this server says 12:00:00 UTC, the TMC says 12:06:30 UTC \
             (this server is 6 minutes behind)."
        );
        // On different days: the dates too, else the two would read alike.
        let reset = ClockCheck {
            server_time: Utc.with_ymd_and_hms(2020, 1, 1, 12, 0, 0).unwrap(),
            tmc_time: Utc.with_ymd_and_hms(2020, 1, 3, 12, 0, 0).unwrap(),
        };
        assert_eq!(
            clock_warning(&reset),
            "Check the server's clock: this server says 2020-01-01 12:00:00 UTC, the TMC says \
             2020-01-03 12:00:00 UTC (this server is 2 days behind)."
        );
        // Sent for expired-looking metadata while the clocks agree: no gap to tell of.
        let agree = ClockCheck {
            server_time: at(12, 0, 0),
            tmc_time: at(12, 0, 40),
        };
        assert_eq!(
            clock_warning(&agree),
            "Check the server's clock: this server says 12:00:00 UTC, the TMC says 12:00:40 UTC."
        );
    }

    #[test]
    fn the_status_says_the_connection_and_the_failure_code() {
        let mut status = TmcStatus::not_configured();
        assert_eq!(
            status_in_words(&status),
            "Not configured: patches come only from imported files"
        );
        assert_eq!(connection_class(status.connection), "not_configured");
        status.connection = TmcConnection::Connected;
        status.last_check = Some(at(2, 0, 7));
        assert_eq!(
            status_in_words(&status),
            "Connected · last check 02:00:07 UTC"
        );
        assert_eq!(failure_code(&status), None);
        status.connection = TmcConnection::Invalid;
        status.message = Some("the timestamp metadata expired".to_owned());
        status.next_check = Some(at(2, 5, 7));
        status.code = Some("metadata_expired".to_owned());
        assert_eq!(
            status_in_words(&status),
            "Refused the TMC's answer: the timestamp metadata expired · last check 02:00:07 UTC \
             · next try 02:05:07 UTC"
        );
        assert_eq!(connection_class(status.connection), "invalid");
        assert_eq!(failure_code(&status), Some("metadata_expired"));
        status.code = Some(" ".to_owned());
        assert_eq!(failure_code(&status), None);
    }
}
