//! Crash injection for tests: `BERTH_CRASH_AT=<point>` makes the process
//! abort (no destructors, no cleanup: what `kill -9` leaves) when it reaches
//! that point, so the crash-safety tests can stop the daemon at every step
//! of create, start and remove. Unset, a point costs one env lookup.

/// Aborts the process if `BERTH_CRASH_AT` names `point`.
pub fn hit(point: &str) {
    if std::env::var_os("BERTH_CRASH_AT").is_some_and(|v| v == point) {
        eprintln!("berth: crash injected at {point}");
        std::process::abort();
    }
}
