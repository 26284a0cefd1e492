//! Fault injection for the crash-safety tests (only in builds with the `fault-injection`
//! feature; other builds ignore these variables).

/// `SMS_CRASH_AT=<stage>`: the process aborts at the start of that stage, as a power cut would
/// stop it.
pub const CRASH_AT_ENV: &str = "SMS_CRASH_AT";

/// `SMS_FAIL_POSTCHECK=1` (or a node's name): the post-check fails, to exercise the automatic
/// switch back.
pub const FAIL_POSTCHECK_ENV: &str = "SMS_FAIL_POSTCHECK";

/// `SMS_PANIC_IN=<handler>`: that request handler panics (`server_info`: `GET /api/v1/server`),
/// to show a panic is answered and does not drop the connection.
pub const PANIC_IN_ENV: &str = "SMS_PANIC_IN";

/// Panics here when `SMS_PANIC_IN` names `handler` (fault-injection builds only).
pub fn panic_point(handler: &str) {
    if cfg!(feature = "fault-injection")
        && std::env::var(PANIC_IN_ENV).is_ok_and(|wanted| wanted == handler)
    {
        panic!("fault injection: a panic in `{handler}`");
    }
}

/// `SMS_PAUSE_AT=<stage>:<ms>`: a patch job waits that long once that stage started, so a
/// test can stop the server while the job runs.
pub const PAUSE_AT_ENV: &str = "SMS_PAUSE_AT";

/// Waits here when `SMS_PAUSE_AT` names `stage` (fault-injection builds only).
pub async fn pause_point(stage: shared::panel::Stage) {
    if !cfg!(feature = "fault-injection") {
        return;
    }
    let Ok(wanted) = std::env::var(PAUSE_AT_ENV) else {
        return;
    };
    if let Some((name, ms)) = wanted.split_once(':')
        && name == stage.as_str()
        && let Ok(ms) = ms.parse()
    {
        eprintln!("fault injection: the job waits {ms} ms at `{name}`");
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// Stops everything here when `SMS_CRASH_AT` names `stage` (fault-injection builds only).
pub fn crash_point(stage: shared::panel::Stage) {
    crash_point_named(stage.as_str());
}

/// The points besides the stages' starts where `SMS_CRASH_AT` can stop everything:
/// `migration_commit` (the switch's migrations ran, before their commit), `migration_committed`
/// (just after it), `handover` (the old server stopped serving, before it exits),
/// `server_start` (a level on trial starts, before it serves), `start_timeout` (the supervisor
/// waits for a level on trial to come up), `restore_commit` (a restore's transaction is
/// written, before its commit) and `restore_committed` (just after it).
pub const CRASH_POINTS: [&str; 7] = [
    "migration_commit",
    "migration_committed",
    "handover",
    "server_start",
    "start_timeout",
    "restore_commit",
    "restore_committed",
];

/// Stops everything here when `SMS_CRASH_AT` names `point` (fault-injection builds only), as a
/// power cut would: the supervisor (when this is a supervised server) is killed, then this
/// process aborts.
#[cfg(feature = "fault-injection")]
pub fn crash_point_named(point: &str) {
    if std::env::var(CRASH_AT_ENV).is_ok_and(|wanted| wanted == point) {
        eprintln!("fault injection: everything stops at `{point}`");
        let supervisor = std::env::var("SMS_SUPERVISOR_PID")
            .ok()
            .and_then(|pid| pid.parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = supervisor {
            // The abort below is what matters; a supervisor already gone is fine.
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
        std::process::abort();
    }
}

/// Stops everything here when `SMS_CRASH_AT` names `point` (fault-injection builds only).
#[cfg(not(feature = "fault-injection"))]
pub fn crash_point_named(_point: &str) {}

/// Whether the post-check must fail on purpose (fault-injection builds only): `asked` by this
/// server's configuration (`Config::fail_postcheck`: one of several servers in one process), or
/// `SMS_FAIL_POSTCHECK` is `1` (every node) or names this node.
pub fn postcheck_fault(node: &str, asked: bool) -> bool {
    cfg!(feature = "fault-injection")
        && (asked || std::env::var(FAIL_POSTCHECK_ENV).is_ok_and(|v| v == "1" || v == node))
}
