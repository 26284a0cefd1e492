//! Maintenance windows: the times at which patches may be installed with no one watching.
//!
//! A window is a cron schedule of five fields (minute, hour, day of month, month, day of week)
//! read on the wall clock of an IANA time zone, and a duration. The rule here is pure and generic
//! over [`chrono::TimeZone`]: the server passes `chrono_tz` zones, and the web client, which
//! carries no time-zone data, shows what the server computed.
//!
//! Daylight-saving changes (docs/maintenance.md):
//! - a start that falls in a gap (the clock jumps from 02:00 to 03:00) opens at the first wall
//!   clock minute after the gap, 03:00;
//! - a start in a repeated hour (the clock goes back from 03:00 to 02:00) opens once, at the
//!   first of the two instants;
//! - the duration is elapsed time: a two-hour window from 01:30 on the night the clock goes back
//!   closes at the second 02:30.

use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The longest window: a week.
pub const MAX_DURATION_MINUTES: u32 = 7 * 24 * 60;

/// How far ahead a schedule must fire at least once to be accepted: a window that opens less
/// often than every four years (29 February is the rarest day) is not a window.
const MUST_OPEN_WITHIN_DAYS: i64 = 4 * 366 + 1;

/// The longest wall-clock jump forward a time zone has made (Samoa skipped a day in 2011).
const LONGEST_GAP: TimeDelta = TimeDelta::hours(26);

/// The longest hour repeated when clocks go back (double summer time ended two hours at once).
const LONGEST_REPEAT: TimeDelta = TimeDelta::hours(3);

/// One maintenance window as an admin enters it and the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MaintenanceWindow {
    /// Five cron fields, e.g. `0 2 * * SAT` (every Saturday at 02:00).
    pub schedule: String,
    /// How long the window stays open, in minutes (1 to 10080).
    pub duration_minutes: u32,
    /// The IANA time zone the schedule is read in, e.g. `Europe/Berlin`.
    pub time_zone: String,
}

/// When a window opens and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Opening {
    #[serde(deserialize_with = "crate::time::utc")]
    pub start: DateTime<Utc>,
    #[serde(deserialize_with = "crate::time::utc")]
    pub end: DateTime<Utc>,
}

impl Opening {
    /// Whether `t` is inside it (the end is not).
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// Why a window was refused, each with its API code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(
        "The schedule `{pattern}` has {fields} fields; a window's schedule has five: minute, \
         hour, day of month, month, day of week (e.g. `0 2 * * SAT`)."
    )]
    FieldCount { pattern: String, fields: usize },
    #[error("The schedule `{pattern}` is not a cron schedule: {reason}.")]
    Schedule { pattern: String, reason: String },
    #[error("The schedule `{pattern}` never opens a window (no such day in four years).")]
    NeverOpens { pattern: String },
    #[error(
        "A window lasts from 1 minute to {MAX_DURATION_MINUTES} minutes (a week), not {minutes}."
    )]
    Duration { minutes: u32 },
    #[error("`{name}` is not an IANA time zone; use a name such as `Europe/Berlin` or `UTC`.")]
    TimeZone { name: String },
}

impl WindowError {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            WindowError::FieldCount { .. } | WindowError::Schedule { .. } => "invalid_schedule",
            WindowError::NeverOpens { .. } => "window_never_opens",
            WindowError::Duration { .. } => "invalid_duration",
            WindowError::TimeZone { .. } => "invalid_time_zone",
        }
    }
}

/// A parsed window in its time zone.
#[derive(Debug, Clone)]
pub struct Window<Tz: TimeZone> {
    cron: Cron,
    duration: TimeDelta,
    zone: Tz,
}

impl<Tz: TimeZone> Window<Tz> {
    /// Parses `schedule` (five fields) with `duration_minutes` in `zone`; refuses a schedule that
    /// does not open within four years of `now`.
    pub fn new(
        schedule: &str,
        duration_minutes: u32,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Self, WindowError> {
        let fields = schedule.split_whitespace().count();
        if fields != 5 {
            return Err(WindowError::FieldCount {
                pattern: schedule.to_owned(),
                fields,
            });
        }
        if duration_minutes == 0 || duration_minutes > MAX_DURATION_MINUTES {
            return Err(WindowError::Duration {
                minutes: duration_minutes,
            });
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(schedule)
            .map_err(|err| WindowError::Schedule {
                pattern: schedule.to_owned(),
                reason: err.to_string(),
            })?;
        let window = Self {
            cron,
            duration: TimeDelta::minutes(i64::from(duration_minutes)),
            zone,
        };
        let opens = window.next_start_after(now);
        if opens.is_none_or(|start| start - now > TimeDelta::days(MUST_OPEN_WITHIN_DAYS)) {
            return Err(WindowError::NeverOpens {
                pattern: schedule.to_owned(),
            });
        }
        Ok(window)
    }

    /// The window open at `t`: the latest start at or before `t`, when `t` is before its end.
    pub fn open_at(&self, t: DateTime<Utc>) -> Option<Opening> {
        let start = self.latest_start_at_or_before(t)?;
        let opening = self.opening(start);
        opening.contains(t).then_some(opening)
    }

    /// The first window that opens after `t` (strictly).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<Opening> {
        self.next_start_after(t).map(|start| self.opening(start))
    }

    /// The window open at `t`, or else the next one.
    pub fn current_or_next(&self, t: DateTime<Utc>) -> Option<Opening> {
        self.open_at(t).or_else(|| self.next_after(t))
    }

    /// The next `count` openings from `t` (the open one first, when one is).
    pub fn openings(&self, t: DateTime<Utc>, count: usize) -> Vec<Opening> {
        let mut found: Vec<Opening> = Vec::with_capacity(count);
        let mut next = self.current_or_next(t);
        while let Some(opening) = next {
            if found.len() == count {
                break;
            }
            found.push(opening);
            next = self.next_after(opening.start);
        }
        found
    }

    fn opening(&self, start: DateTime<Utc>) -> Opening {
        Opening {
            start,
            end: start + self.duration,
        }
    }

    fn wall_clock(&self, t: DateTime<Utc>) -> NaiveDateTime {
        self.zone.from_utc_datetime(&t.naive_utc()).naive_local()
    }

    /// The first start after `t`. A wall-clock time later than `t`'s own can only map to a
    /// later instant (the mapping below never goes back), so the search walks the wall clock
    /// forward from `t`'s and skips the starts a repeated hour maps before `t`.
    fn next_start_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut cursor = self.wall_clock(t);
        loop {
            let local = self.cron.find_next_occurrence(&cursor, false).ok()?;
            let start = instant_of(&self.zone, local)?;
            if start > t {
                return Some(start);
            }
            cursor = local;
        }
    }

    /// The latest start at or before `t`. In a repeated hour a wall-clock time up to the length
    /// of the repeat after `t`'s maps before `t`, so the search walks back from beyond it.
    fn latest_start_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut cursor = self.wall_clock(t) + LONGEST_REPEAT;
        // The search only has to go back one window's length (and a gap).
        let floor = t - self.duration - LONGEST_GAP;
        loop {
            let local = self.cron.find_previous_occurrence(&cursor, false).ok()?;
            let start = instant_of(&self.zone, local)?;
            if start <= t {
                return Some(start);
            }
            if start < floor {
                return None;
            }
            cursor = local;
        }
    }
}

/// The earliest of several windows: the one open at `t` (the one that stays open longest when
/// several are), or else the one that opens first.
pub fn current_or_next<'a, Tz: TimeZone + 'a>(
    windows: impl IntoIterator<Item = &'a Window<Tz>>,
    t: DateTime<Utc>,
) -> Option<Opening> {
    let mut open: Option<Opening> = None;
    let mut next: Option<Opening> = None;
    for window in windows {
        if let Some(now) = window.open_at(t) {
            if open.is_none_or(|best| now.end > best.end) {
                open = Some(now);
            }
        } else if let Some(later) = window.next_after(t)
            && next.is_none_or(|best| later.start < best.start)
        {
            next = Some(later);
        }
    }
    open.or(next)
}

/// The first window of several that opens after `t` (strictly).
pub fn next_after<'a, Tz: TimeZone + 'a>(
    windows: impl IntoIterator<Item = &'a Window<Tz>>,
    t: DateTime<Utc>,
) -> Option<Opening> {
    windows
        .into_iter()
        .filter_map(|window| window.next_after(t))
        .min_by_key(|opening| opening.start)
}

/// The instant a wall-clock start opens at: the rule for daylight-saving changes above.
fn instant_of<Tz: TimeZone>(zone: &Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // In a gap: the first whole minute after it.
            let mut probe = local.with_second(0)?.with_nanosecond(0)?;
            let last = local + LONGEST_GAP;
            while probe < last {
                probe += TimeDelta::minutes(1);
                if let Some(at) = zone.from_local_datetime(&probe).earliest() {
                    return Some(at.with_timezone(&Utc));
                }
            }
            None
        }
    }
}

/// Parses the text an admin entered: a helper for callers that hold a `FromStr` zone.
pub fn parse_window<Tz: TimeZone + FromStr>(
    window: &MaintenanceWindow,
    now: DateTime<Utc>,
) -> Result<Window<Tz>, WindowError> {
    let zone = window
        .time_zone
        .parse::<Tz>()
        .map_err(|_| WindowError::TimeZone {
            name: window.time_zone.clone(),
        })?;
    Window::new(&window.schedule, window.duration_minutes, zone, now)
}

#[cfg(test)]
mod tests {
    use chrono_tz::Tz;

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn window(schedule: &str, minutes: u32, zone: &str) -> Window<Tz> {
        Window::new(
            schedule,
            minutes,
            zone.parse().unwrap(),
            utc("2027-01-01T00:00:00Z"),
        )
        .unwrap()
    }

    #[test]
    fn a_nightly_window_is_open_inside_and_closed_outside() {
        let w = window("0 2 * * *", 120, "UTC");
        let open = w.open_at(utc("2027-05-04T03:59:59Z")).unwrap();
        assert_eq!(open.start, utc("2027-05-04T02:00:00Z"));
        assert_eq!(open.end, utc("2027-05-04T04:00:00Z"));
        assert!(w.open_at(utc("2027-05-04T04:00:00Z")).is_none());
        assert!(w.open_at(utc("2027-05-04T01:59:59Z")).is_none());
        assert_eq!(
            w.next_after(utc("2027-05-04T02:00:00Z")).unwrap().start,
            utc("2027-05-05T02:00:00Z")
        );
        assert_eq!(
            w.current_or_next(utc("2027-05-04T02:30:00Z"))
                .unwrap()
                .start,
            utc("2027-05-04T02:00:00Z")
        );
    }

    #[test]
    fn a_window_over_midnight_is_open_on_both_days() {
        // Saturdays at 23:00 for three hours, in New York.
        let w = window("0 23 * * SAT", 180, "America/New_York");
        // Sunday 01:30 local (EDT, UTC-4) is 05:30 UTC.
        let open = w.open_at(utc("2027-05-09T05:30:00Z")).unwrap();
        assert_eq!(open.start, utc("2027-05-09T03:00:00Z"));
        assert_eq!(open.end, utc("2027-05-09T06:00:00Z"));
        // Sunday 02:00 local: closed, and the next one is the following Saturday.
        assert!(w.open_at(utc("2027-05-09T06:00:00Z")).is_none());
        assert_eq!(
            w.next_after(utc("2027-05-09T06:00:00Z")).unwrap().start,
            utc("2027-05-16T03:00:00Z")
        );
    }

    #[test]
    fn a_start_in_the_spring_forward_gap_opens_when_the_gap_ends() {
        // Europe/Berlin, 28 March 2027: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let w = window("30 2 * * *", 60, "Europe/Berlin");
        let opening = w.next_after(utc("2027-03-27T12:00:00Z")).unwrap();
        assert_eq!(opening.start, utc("2027-03-28T01:00:00Z"), "03:00 CEST");
        assert_eq!(opening.end, utc("2027-03-28T02:00:00Z"), "an hour later");
        assert!(w.open_at(utc("2027-03-28T01:30:00Z")).is_some());
        // The day before and after open at 02:30 local as usual.
        assert_eq!(
            w.next_after(utc("2027-03-26T12:00:00Z")).unwrap().start,
            utc("2027-03-27T01:30:00Z"),
            "02:30 CET"
        );
        assert_eq!(
            w.next_after(opening.start).unwrap().start,
            utc("2027-03-29T00:30:00Z"),
            "02:30 CEST"
        );
    }

    #[test]
    fn a_start_in_the_repeated_autumn_hour_opens_once() {
        // Europe/Berlin, 31 October 2027: 03:00 CEST goes back to 02:00 CET; 02:30 happens at
        // 00:30 UTC and again at 01:30 UTC.
        let w = window("30 2 * * *", 20, "Europe/Berlin");
        let first = w.next_after(utc("2027-10-30T12:00:00Z")).unwrap();
        assert_eq!(first.start, utc("2027-10-31T00:30:00Z"));
        // Not again at the second 02:30: the next one is the next day's.
        let second = w.next_after(first.start).unwrap();
        assert_eq!(second.start, utc("2027-11-01T01:30:00Z"), "02:30 CET");
        assert!(w.open_at(utc("2027-10-31T01:35:00Z")).is_none());
        assert_eq!(
            w.openings(utc("2027-10-30T12:00:00Z"), 2),
            vec![first, second]
        );
    }

    #[test]
    fn a_window_that_spans_the_autumn_repeat_lasts_its_elapsed_time() {
        // From 01:30 CEST for two hours: through the repeated hour, closing at the second
        // 02:30 (CET), i.e. 01:30 UTC.
        let w = window("30 1 * * *", 120, "Europe/Berlin");
        let opening = w.next_after(utc("2027-10-30T12:00:00Z")).unwrap();
        assert_eq!(opening.start, utc("2027-10-30T23:30:00Z"));
        assert_eq!(opening.end, utc("2027-10-31T01:30:00Z"));
        // The first and the second 02:15 are both inside.
        assert!(w.open_at(utc("2027-10-31T00:15:00Z")).is_some());
        assert!(w.open_at(utc("2027-10-31T01:15:00Z")).is_some());
        assert!(w.open_at(utc("2027-10-31T01:30:00Z")).is_none());
    }

    #[test]
    fn a_start_in_the_repeated_hour_is_found_from_its_second_pass() {
        // At the second 02:40 (01:40 UTC) the window that opened at the first 02:30 (00:30 UTC)
        // for 90 minutes is still open, though 02:30 is "before" 02:40 only on the first pass.
        let w = window("30 2 * * *", 90, "Europe/Berlin");
        let open = w.open_at(utc("2027-10-31T01:40:00Z")).unwrap();
        assert_eq!(open.start, utc("2027-10-31T00:30:00Z"));
        // And at the second 02:20 (01:20 UTC) too, wall-clock before its start.
        assert_eq!(
            w.open_at(utc("2027-10-31T01:20:00Z")).unwrap().start,
            utc("2027-10-31T00:30:00Z")
        );
    }

    #[test]
    fn a_schedule_that_never_fires_is_refused() {
        let now = utc("2027-01-01T00:00:00Z");
        let got = Window::new("0 0 30 2 *", 60, Tz::UTC, now).unwrap_err();
        assert_eq!(got.code(), "window_never_opens");
        // 29 February fires every four years, and is accepted.
        let leap = Window::new("0 0 29 2 *", 60, Tz::UTC, now).unwrap();
        assert_eq!(
            leap.next_after(now).unwrap().start,
            utc("2028-02-29T00:00:00Z")
        );
    }

    #[test]
    fn bad_windows_are_refused_with_their_codes() {
        let now = utc("2027-01-01T00:00:00Z");
        let code = |schedule: &str, minutes: u32| {
            Window::new(schedule, minutes, Tz::UTC, now)
                .unwrap_err()
                .code()
        };
        assert_eq!(code("0 2 * *", 60), "invalid_schedule");
        assert_eq!(code("0 0 2 * * *", 60), "invalid_schedule");
        assert_eq!(code("61 2 * * *", 60), "invalid_schedule");
        assert_eq!(code("0 2 * * FUNDAY", 60), "invalid_schedule");
        assert_eq!(code("0 2 * * *", 0), "invalid_duration");
        assert_eq!(
            code("0 2 * * *", MAX_DURATION_MINUTES + 1),
            "invalid_duration"
        );
        let zone = MaintenanceWindow {
            schedule: "0 2 * * *".into(),
            duration_minutes: 60,
            time_zone: "Mars/Olympus".into(),
        };
        assert_eq!(
            parse_window::<Tz>(&zone, now).unwrap_err().code(),
            "invalid_time_zone"
        );
    }

    #[test]
    fn of_several_windows_the_open_one_or_else_the_first_to_open_is_taken() {
        let nightly = window("0 2 * * *", 60, "UTC");
        let weekly = window("0 22 * * SUN", 300, "UTC");
        let both = [nightly.clone(), weekly.clone()];
        // Sunday 2 May 2027 at 12:00: the weekly opens at 22:00, before the nightly's 02:00.
        let t = utc("2027-05-02T12:00:00Z");
        assert_eq!(
            current_or_next(&both, t).unwrap().start,
            utc("2027-05-02T22:00:00Z")
        );
        // Monday 02:30: both are open; the weekly stays open longer (until 03:00).
        let t = utc("2027-05-03T02:30:00Z");
        let open = current_or_next(&both, t).unwrap();
        assert_eq!(open.end, utc("2027-05-03T03:00:00Z"));
        assert_eq!(
            next_after(&both, t).unwrap().start,
            utc("2027-05-04T02:00:00Z")
        );
        let none: [Window<Tz>; 0] = [];
        assert!(current_or_next(&none, t).is_none());
    }

    #[test]
    fn an_every_minute_window_is_always_open() {
        let w = window("* * * * *", 1, "Asia/Kolkata");
        let t = utc("2027-06-01T10:10:30Z");
        assert_eq!(w.open_at(t).unwrap().start, utc("2027-06-01T10:10:00Z"));
        assert_eq!(w.openings(t, 3).len(), 3);
    }
}
