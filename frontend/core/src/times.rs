//! Times in UTC, written the same in every browser: the fallback and the tooltip of the times
//! the web client shows in the browser's own zone, and the times a table gives in UTC. Written
//! with integer formatting, so neither chrono's strftime nor the float printer is needed.

use chrono::{DateTime, Timelike, Utc};

/// `2027-05-04 02:00 UTC`.
pub fn in_utc(at: DateTime<Utc>) -> String {
    format!(
        "{} {:02}:{:02} UTC",
        at.date_naive(),
        at.hour(),
        at.minute()
    )
}

/// `2027-05-04 02:00:07 UTC`.
pub fn in_utc_seconds(at: DateTime<Utc>) -> String {
    format!("{} {} UTC", at.date_naive(), clock(at))
}

/// `02:00:07`: the time of day in UTC, to the second.
pub fn clock(at: DateTime<Utc>) -> String {
    format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::{clock, in_utc, in_utc_seconds};

    #[test]
    fn utc_times_read_the_same_everywhere() {
        let at = Utc.with_ymd_and_hms(2027, 5, 4, 2, 0, 7).unwrap();
        assert_eq!(in_utc(at), "2027-05-04 02:00 UTC");
        assert_eq!(in_utc_seconds(at), "2027-05-04 02:00:07 UTC");
        assert_eq!(clock(at), "02:00:07");
        let late = Utc.with_ymd_and_hms(999, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(in_utc(late), "0999-12-31 23:59 UTC");
    }
}
