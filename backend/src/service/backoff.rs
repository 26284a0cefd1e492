//! Waits between retries: a first delay, doubling, capped, with optional jitter. Used by the
//! TMC sync, a download's resumes and the listener's rebinding after a simulated reboot.

use std::time::Duration;

/// A doubling wait between retries, from `first` up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// The same wait before every retry.
    pub const fn constant(wait: Duration) -> Self {
        Self {
            first: wait,
            max: wait,
        }
    }

    /// The wait before retry number `retry` (1 is the first): `first`, doubling, at most `max`.
    pub fn delay(&self, retry: u32) -> Duration {
        let doubling = self
            .first
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        doubling.min(self.max.max(self.first))
    }

    /// [`Backoff::delay`] plus up to 20 % jitter taken from `random`, so that many clients do
    /// not retry together.
    pub fn delay_with_jitter(&self, retry: u32, random: u32) -> Duration {
        let base = self.delay(retry);
        base + base.mul_f64(f64::from(random % 1000) / 5000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_the_cap() {
        let backoff = Backoff {
            first: Duration::from_millis(500),
            max: Duration::from_secs(8),
        };
        let waits: Vec<u64> = (1..=7)
            .map(|n| backoff.delay(n).as_millis() as u64)
            .collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(8));
    }

    #[test]
    fn jitter_adds_at_most_a_fifth() {
        let backoff = Backoff::constant(Duration::from_secs(10));
        assert_eq!(backoff.delay_with_jitter(3, 0), Duration::from_secs(10));
        assert_eq!(
            backoff.delay_with_jitter(3, 999),
            Duration::from_millis(11_998)
        );
    }
}
