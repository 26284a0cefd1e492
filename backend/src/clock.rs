//! The clock the schedules run on: the system clock, or, for tests, one that starts at a given
//! time and may run faster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};

/// The time the schedules (maintenance windows, scheduled jobs, retries) run on: the system
/// clock, or, for tests, a clock that starts at a given time and may run faster.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    test: Option<Arc<TestClock>>,
}

#[derive(Debug)]
struct TestClock {
    start: DateTime<Utc>,
    began: Instant,
    rate: u32,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that reads `start` now and runs `rate` times as fast as real time.
    pub fn starting_at(start: DateTime<Utc>, rate: u32) -> Self {
        Self {
            test: Some(Arc::new(TestClock {
                start,
                began: Instant::now(),
                rate: rate.max(1),
            })),
        }
    }

    /// `SMS_TEST_CLOCK=<RFC 3339 time>[@rate]` (fault-injection builds only).
    pub fn from_env() -> anyhow::Result<Self> {
        let Ok(text) = std::env::var("SMS_TEST_CLOCK") else {
            return Ok(Self::system());
        };
        let (start, rate) = text.split_once('@').unwrap_or((&text, "1"));
        let start = DateTime::parse_from_rfc3339(start)
            .with_context(|| format!("SMS_TEST_CLOCK `{text}`: not an RFC 3339 time"))?;
        let rate = rate
            .parse()
            .with_context(|| format!("SMS_TEST_CLOCK `{text}`: the rate is not a number"))?;
        Ok(Self::starting_at(start.with_timezone(&Utc), rate))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.test {
            None => Utc::now(),
            Some(clock) => {
                let elapsed = clock.began.elapsed().saturating_mul(clock.rate);
                clock.start + chrono::TimeDelta::from_std(elapsed).unwrap_or(chrono::TimeDelta::MAX)
            }
        }
    }

    /// The real time to wait until the clock reads `at` (zero when it has passed).
    pub fn until(&self, at: DateTime<Utc>) -> Duration {
        let left = (at - self.now()).to_std().unwrap_or(Duration::ZERO);
        match &self.test {
            None => left,
            Some(clock) => left / clock.rate,
        }
    }

    /// The real time `duration` of this clock's time takes.
    pub fn real(&self, duration: Duration) -> Duration {
        match &self.test {
            None => duration,
            Some(clock) => duration / clock.rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_starts_where_it_is_told_and_runs_fast() {
        let start = DateTime::parse_from_rfc3339("2027-03-28T00:59:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::starting_at(start, 60);
        let now = clock.now();
        assert!(now >= start && now - start < chrono::TimeDelta::seconds(30));
        let later = start + chrono::TimeDelta::minutes(2);
        assert!(clock.until(later) <= Duration::from_secs(2));
        assert_eq!(clock.real(Duration::from_secs(60)), Duration::from_secs(1));
    }
}
