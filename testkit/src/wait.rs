//! Waiting for a condition, never for time: [`eventually`] probes until the condition holds and
//! fails with a message saying what never became true and what the last probe saw.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

/// How often [`eventually`] probes.
pub const POLL: Duration = Duration::from_millis(20);

/// Probes every [`POLL`] until `probe` returns `Ok`, and returns its value.
///
/// `probe` answers `Err(what it saw)` while the condition does not hold yet. After `timeout` the
/// wait fails with `what` (the condition, e.g. "the job to end") and the last thing seen; a probe
/// still running then is given up.
pub async fn eventually<T, E, F, Fut>(what: &str, timeout: Duration, probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Display,
{
    eventually_every(what, timeout, POLL, probe).await
}

/// [`eventually`], probing every `every` (e.g. slower for a browser, faster for a measurement).
pub async fn eventually_every<T, E, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut probe: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Display,
{
    let deadline = Instant::now() + timeout;
    let mut last = String::from("nothing checked yet");
    loop {
        match tokio::time::timeout_at(deadline, probe()).await {
            Ok(Ok(found)) => return Ok(found),
            Ok(Err(seen)) => last = seen.to_string(),
            Err(_) => {
                bail!(
                    "waited {timeout:?} for {what}, but it never happened (the last check did \
                     not finish in time; before it: {last})"
                )
            }
        }
        let now = Instant::now();
        if now >= deadline {
            bail!("waited {timeout:?} for {what}, but it never happened (last seen: {last})");
        }
        tokio::time::sleep(every.min(deadline - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_condition_that_comes_true_returns_the_probes_value() {
        let probes = AtomicU32::new(0);
        let found = eventually("the third probe", Duration::from_secs(5), || async {
            match probes.fetch_add(1, Ordering::Relaxed) {
                n if n >= 2 => Ok(n),
                n => Err(format!("probe {n}")),
            }
        })
        .await
        .unwrap();
        assert_eq!(found, 2);
    }

    #[tokio::test]
    async fn a_condition_that_never_comes_true_says_what_and_the_last_thing_seen() {
        let err = eventually("the sky to fall", Duration::from_millis(100), || async {
            Err::<(), _>("a blue sky")
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("the sky to fall"), "{err}");
        assert!(err.contains("last seen: a blue sky"), "{err}");
    }

    #[tokio::test]
    async fn a_probe_that_hangs_is_given_up_at_the_deadline() {
        let err = eventually("an answer", Duration::from_millis(100), || async {
            std::future::pending::<Result<(), String>>().await
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("did not finish in time"), "{err}");
    }
}
