//! Fault injection for the crash-safety tests (only in builds with the `fault-injection`
//! feature; other builds ignore these variables).

/// `SMS_CRASH_AT=<stage>`: the process aborts at the start of that stage, as a power cut would
/// stop it.
pub const CRASH_AT_ENV: &str = "SMS_CRASH_AT";

/// `SMS_FAIL_POSTCHECK=1` (or a node's name): the post-check fails, to exercise the automatic
/// switch back.
pub const FAIL_POSTCHECK_ENV: &str = "SMS_FAIL_POSTCHECK";

/// `SMS_FREE_BYTES=<n>` pretends the disk has `n` bytes free.
pub const FREE_BYTES_ENV: &str = "SMS_FREE_BYTES";

/// Aborts the process here when `SMS_CRASH_AT` names `stage` (fault-injection builds only).
#[cfg(feature = "fault-injection")]
pub fn crash_point(stage: shared::panel::Stage) {
    if std::env::var(CRASH_AT_ENV).is_ok_and(|wanted| wanted == stage.as_str()) {
        eprintln!("fault injection: aborting at the start of stage `{stage}`");
        std::process::abort();
    }
}

/// Aborts the process here when `SMS_CRASH_AT` names `stage` (fault-injection builds only).
#[cfg(not(feature = "fault-injection"))]
pub fn crash_point(_stage: shared::panel::Stage) {}

/// Whether the post-check must fail on purpose (fault-injection builds only): `1` on every
/// node, or the name of the one node that fails (an HA cluster's tests).
pub fn postcheck_fault(node: &str) -> bool {
    cfg!(feature = "fault-injection")
        && std::env::var(FAIL_POSTCHECK_ENV).is_ok_and(|v| v == "1" || v == node)
}

/// The free bytes `SMS_FREE_BYTES` pretends (fault-injection builds only).
pub fn pretended_free_bytes() -> Option<u64> {
    if !cfg!(feature = "fault-injection") {
        return None;
    }
    std::env::var(FREE_BYTES_ENV).ok()?.parse().ok()
}
