//! Login throttling that cannot be turned against the admin: failures are counted per source
//! address and per (user name, address), never per user alone, so guesses from one address
//! throttle that address only and a correct password from anywhere else still logs in.
//!
//! An attempt is counted when it starts, before its password is checked, under one lock: a
//! burst of parallel guesses is counted in full, and the attempt that reaches a limit is the
//! last one let through. A login that succeeds takes its own attempt back. Known and unknown
//! names are counted the same way, so a 429 says nothing about which names exist. IPv6
//! addresses count by their /64 (one subscriber's network), so rotating addresses inside it
//! does not help.
//!
//! The counts live in memory: they start afresh with the server process, which an attacker
//! without a session cannot restart.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The login throttle's limits (`[auth]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Failed logins for one name from one address before that pair is throttled.
    pub per_user_and_address: u32,
    /// Failed logins from one address (any names) before the address is throttled.
    pub per_address: u32,
    /// How long a throttle lasts.
    pub block: Duration,
    /// Failures older than this no longer count.
    pub window: Duration,
}

/// The most addresses and (name, address) pairs tracked at once; past it the oldest entry that
/// throttles nothing is forgotten first.
const MAX_ENTRIES: usize = 100_000;

/// Where an attempt comes from: an address, or its IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Origin {
    V4([u8; 4]),
    V6Net([u8; 8]),
    Unknown,
}

impl Origin {
    fn of(address: Option<IpAddr>) -> Self {
        match address.map(|a| a.to_canonical()) {
            Some(IpAddr::V4(v4)) => Origin::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let octets = v6.octets();
                let mut net = [0u8; 8];
                net.copy_from_slice(&octets[..8]);
                Origin::V6Net(net)
            }
            None => Origin::Unknown,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(Origin),
    Pair(String, Origin),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// When the first failure still counted happened.
    since: Instant,
    blocked_until: Option<Instant>,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            since: now,
            blocked_until: None,
        }
    }

    /// Drops what no longer counts at `now`: an ended block, failures older than the window.
    fn refresh(&mut self, now: Instant, window: Duration) {
        if let Some(until) = self.blocked_until
            && until <= now
        {
            *self = Entry::new(now);
        }
        if self.blocked_until.is_none() && now.duration_since(self.since) > window {
            *self = Entry::new(now);
        }
    }

    fn retry_after(&self, now: Instant) -> Option<Duration> {
        self.blocked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn is_idle(&self, now: Instant, window: Duration) -> bool {
        self.retry_after(now).is_none() && now.duration_since(self.since) > window
    }
}

/// The counts; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    limits: ThrottleLimits,
    entries: Arc<Mutex<HashMap<Key, Entry>>>,
}

/// A counted attempt, handed back with [`LoginThrottle::succeeded`] when its password was right.
#[derive(Debug)]
pub struct Attempt {
    pair: Key,
    address: Key,
}

/// Refused: throttled for this long yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            entries: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Counts a login attempt for `username` from `address`, or refuses it while the pair or
    /// the address is throttled (then nothing is counted).
    pub fn begin(&self, username: &str, address: Option<IpAddr>) -> Result<Attempt, Throttled> {
        let origin = Origin::of(address);
        let pair = Key::Pair(username.to_lowercase(), origin);
        let address = Key::Address(origin);
        let now = Instant::now();
        let limits = self.limits;
        let mut entries = self.lock();
        let mut blocked = None::<Duration>;
        for key in [&pair, &address] {
            if let Some(entry) = entries.get_mut(key) {
                entry.refresh(now, limits.window);
                if let Some(wait) = entry.retry_after(now) {
                    blocked = Some(blocked.map_or(wait, |b| b.max(wait)));
                }
            }
        }
        if let Some(retry_after) = blocked {
            return Err(Throttled { retry_after });
        }
        make_room(&mut entries, now, limits.window);
        for (key, limit) in [
            (&pair, limits.per_user_and_address),
            (&address, limits.per_address),
        ] {
            let entry = entries
                .entry(key.clone())
                .or_insert_with(|| Entry::new(now));
            if entry.failures == 0 {
                entry.since = now;
            }
            entry.failures = entry.failures.saturating_add(1);
            if entry.failures >= limit.max(1) {
                entry.blocked_until = Some(now + limits.block);
            }
        }
        Ok(Attempt { pair, address })
    }

    /// The password was right: the pair's failures are forgotten and the attempt is taken
    /// back from the address's count.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut entries = self.lock();
        entries.remove(&attempt.pair);
        if let Some(entry) = entries.get_mut(&attempt.address) {
            entry.failures = entry.failures.saturating_sub(1);
            if entry.failures == 0 && entry.blocked_until.is_none() {
                entries.remove(&attempt.address);
            }
        }
    }

    /// The attempt was not judged (the server was busy): it does not count.
    pub fn not_judged(&self, attempt: Attempt) {
        let mut entries = self.lock();
        for key in [&attempt.pair, &attempt.address] {
            if let Some(entry) = entries.get_mut(key)
                && entry.blocked_until.is_none()
            {
                entry.failures = entry.failures.saturating_sub(1);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // The map stays consistent at every step, so a panic elsewhere cannot poison it badly.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Keeps the map under [`MAX_ENTRIES`]: forgets idle entries, then the oldest unblocked ones.
fn make_room(entries: &mut HashMap<Key, Entry>, now: Instant, window: Duration) {
    if entries.len() + 2 <= MAX_ENTRIES {
        return;
    }
    entries.retain(|_, entry| !entry.is_idle(now, window));
    while entries.len() + 2 > MAX_ENTRIES {
        let oldest = entries
            .iter()
            .filter(|(_, entry)| entry.retry_after(now).is_none())
            .min_by_key(|(_, entry)| entry.since)
            .map(|(key, _)| key.clone());
        match oldest {
            Some(key) => {
                entries.remove(&key);
            }
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottleLimits {
            per_user_and_address: 3,
            per_address: 5,
            block: Duration::from_secs(60),
            window: Duration::from_secs(600),
        })
    }

    #[test]
    fn a_pair_is_throttled_after_its_limit_and_other_addresses_are_not() {
        let t = throttle();
        for _ in 0..3 {
            t.begin("admin", ip("10.0.0.1")).unwrap();
        }
        let refused = t.begin("admin", ip("10.0.0.1")).unwrap_err();
        assert!(refused.retry_after > Duration::from_secs(50));
        assert!(t.begin("admin", ip("10.0.0.2")).is_ok());
        assert!(
            t.begin("Admin", ip("10.0.0.1")).is_err(),
            "names count case-blind"
        );
    }

    #[test]
    fn an_address_is_throttled_whatever_names_it_tries() {
        let t = throttle();
        for n in 0..5 {
            t.begin(&format!("user{n}"), ip("10.0.0.1")).unwrap();
        }
        assert!(t.begin("someone-else", ip("10.0.0.1")).is_err());
        assert!(t.begin("someone-else", ip("10.0.0.9")).is_ok());
    }

    #[test]
    fn a_success_forgets_the_pair_and_takes_its_attempt_back() {
        let t = throttle();
        t.begin("admin", ip("10.0.0.1")).unwrap();
        t.begin("admin", ip("10.0.0.1")).unwrap();
        let good = t.begin("admin", ip("10.0.0.1")).unwrap();
        t.succeeded(good);
        for _ in 0..3 {
            t.begin("admin", ip("10.0.0.1")).unwrap();
        }
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let t = throttle();
        for n in 1..=5 {
            t.begin(&format!("x{n}"), ip(&format!("2001:db8:1:2::{n}")))
                .unwrap();
        }
        assert!(t.begin("y", ip("2001:db8:1:2:ffff::1")).is_err());
        assert!(t.begin("y", ip("2001:db8:1:3::1")).is_ok());
        // An IPv4-mapped address is the IPv4 address.
        for _ in 0..3 {
            t.begin("z", ip("192.0.2.1")).unwrap();
        }
        assert!(t.begin("z", ip("::ffff:192.0.2.1")).is_err());
    }

    #[test]
    fn the_map_stays_bounded() {
        let t = throttle();
        let now = Instant::now();
        let mut entries = t.lock();
        for n in 0..MAX_ENTRIES as u32 {
            entries.insert(
                Key::Address(Origin::V4(n.to_be_bytes())),
                Entry {
                    failures: 1,
                    since: now,
                    blocked_until: None,
                },
            );
        }
        make_room(&mut entries, now, Duration::from_secs(600));
        assert!(entries.len() + 2 <= MAX_ENTRIES);
    }
}
