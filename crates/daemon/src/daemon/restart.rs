//! Restart policies (moby's `restartmanager`): `no`, `on-failure[:max]`,
//! `always`, `unless-stopped`. A restart waits a back-off that starts at
//! 100 ms and doubles up to a minute, reset when the container had run for
//! ten seconds; `RestartCount` counts the restarts. A user's `stop` cancels
//! a pending restart and, for `unless-stopped`, keeps the container down
//! across daemon restarts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::RestartPolicy;
use crate::persist::ContainerRecord;

use super::{now_rfc3339, Container, Daemon};

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run at least this long resets the back-off.
const HEALTHY_RUN: Duration = Duration::from_secs(10);

/// Per-container back-off state (in memory, as in moby).
#[derive(Debug, Default)]
pub struct Backoff {
    inner: Mutex<(Duration, Option<Instant>)>,
}

impl Backoff {
    /// Marks a start.
    pub fn started(&self) {
        self.lock().1 = Some(Instant::now());
    }

    /// The delay before the next restart, doubling each time unless the
    /// last run was long enough to count as healthy.
    pub fn next_delay(&self) -> Duration {
        let mut inner = self.lock();
        let healthy = inner.1.is_some_and(|t| t.elapsed() >= HEALTHY_RUN);
        let next = if healthy || inner.0.is_zero() {
            FIRST_DELAY
        } else {
            (inner.0 * 2).min(MAX_DELAY)
        };
        inner.0 = next;
        next
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Duration, Option<Instant>)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether an exit with `exit_code` is followed by a restart.
pub fn should_restart(policy: &RestartPolicy, record: &ContainerRecord, exit_code: i32) -> bool {
    if record.manually_stopped {
        return false;
    }
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            exit_code != 0
                && (policy.maximum_retry_count == 0
                    || i64::from(record.restart_count) < policy.maximum_retry_count)
        }
        _ => false,
    }
}

/// Whether a container found stopped when the daemon starts is started
/// (moby restarts `always`, and `unless-stopped` unless the user stopped it).
pub fn start_on_daemon_start(policy: &RestartPolicy, record: &ContainerRecord) -> bool {
    match policy.name.as_str() {
        "always" => true,
        "unless-stopped" => !record.manually_stopped,
        _ => false,
    }
}

impl Daemon {
    /// Schedules a restart after the back-off; the container shows
    /// `restarting` meanwhile.
    pub(crate) fn schedule_restart(self: &Arc<Self>, container: Arc<Container>) {
        let delay = container.backoff.next_delay();
        if let Err(e) = container.update(self.data_root(), |r| {
            r.state.running = true;
            r.state.restarting = true;
        }) {
            tracing::warn!(error = %e, "cannot record a pending restart");
            return;
        }
        let daemon = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _op = container.op.lock().await;
            let record = container.record();
            // A stop or remove meanwhile cancels the restart.
            if !record.state.restarting || record.state.removal_in_progress {
                return;
            }
            let result = container.update(daemon.data_root(), |r| {
                r.restart_count += 1;
                r.state.restarting = false;
                r.state.running = false;
            });
            let result = match result {
                Ok(()) => daemon.start_locked(&container).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::warn!(id = %record.id, error = %e, "restart failed");
                daemon.cleanup_runtime(&container).await;
                let message = e.to_string();
                let _ = container.update(daemon.data_root(), |r| {
                    r.state.set_start_error(message, now_rfc3339())
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, max: i64) -> RestartPolicy {
        RestartPolicy {
            name: name.into(),
            maximum_retry_count: max,
        }
    }

    #[test]
    fn policies_follow_docker() {
        let mut r = ContainerRecord::default();
        assert!(!should_restart(&policy("no", 0), &r, 1));
        assert!(should_restart(&policy("always", 0), &r, 0));
        assert!(should_restart(&policy("unless-stopped", 0), &r, 0));
        assert!(!should_restart(&policy("on-failure", 0), &r, 0));
        assert!(should_restart(&policy("on-failure", 2), &r, 1));
        r.restart_count = 2;
        assert!(!should_restart(&policy("on-failure", 2), &r, 1));
        r.manually_stopped = true;
        assert!(!should_restart(&policy("always", 0), &r, 1));
        assert!(start_on_daemon_start(&policy("always", 0), &r));
        assert!(!start_on_daemon_start(&policy("unless-stopped", 0), &r));
    }

    #[test]
    fn backoff_doubles_to_a_minute() {
        let b = Backoff::default();
        let delays: Vec<u128> = (0..12).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(&delays[..4], &[100, 200, 400, 800]);
        assert_eq!(*delays.last().unwrap(), 60_000);
    }
}
