//! Health checks (moby's `daemon/health.go`): while a container runs and
//! is not paused, a monitor task runs its `HEALTHCHECK` command as an exec
//! every interval and keeps `State.Health` (status, failing streak, the last
//! five results) with Docker's rules and `health_status` events.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::config::{Config, HealthConfig};

use super::exec::ExecConfig;
use super::{now_rfc3339, Container, Daemon};

/// No result yet: the start period, or before the first success.
pub const HEALTH_STARTING: &str = "starting";
/// The last probe passed.
pub const HEALTH_HEALTHY: &str = "healthy";
/// `Retries` probes in a row failed.
pub const HEALTH_UNHEALTHY: &str = "unhealthy";

/// Longest probe output kept; more is cut and marked with `...`.
const MAX_OUTPUT: usize = 4096;
/// Results kept in `Health.Log`.
const MAX_LOG_ENTRIES: usize = 5;
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: i64 = 3;
/// How long starting the probe's exec may take before it counts as failed
/// (not part of the probe's own timeout, as in moby).
const EXEC_START_TIMEOUT: Duration = Duration::from_secs(30);

pub use berth_api::types::container::{Health, HealthcheckResult};

/// The stop switch of a container's running monitor: dropping the sender
/// stops it.
#[derive(Debug, Default)]
pub(crate) struct MonitorSlot(Mutex<Option<watch::Sender<()>>>);

impl MonitorSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<watch::Sender<()>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The command a container's health check runs, or `None` when it has
/// none (no `Test`, `NONE`, or an unknown kind). `CMD-SHELL` runs through
/// the container's `Shell` (default `/bin/sh -c`).
pub fn probe_command(config: &Config) -> Option<Vec<String>> {
    let test = config.healthcheck.as_ref()?.test.as_ref()?;
    let (kind, rest) = test.split_first()?;
    match kind.as_str() {
        "CMD" if !rest.is_empty() => Some(rest.to_vec()),
        "CMD-SHELL" if !rest.is_empty() => {
            let mut cmd: Vec<String> = match &config.shell {
                Some(shell) if !shell.is_empty() => shell.0.clone(),
                _ => vec!["/bin/sh".into(), "-c".into()],
            };
            cmd.extend(rest.iter().cloned());
            Some(cmd)
        }
        "NONE" | "CMD" | "CMD-SHELL" => None,
        other => {
            tracing::warn!(kind = other, "unknown health check type (expected CMD)");
            None
        }
    }
}

/// A health check's timings, with Docker's defaults for zero values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timings {
    interval: Duration,
    timeout: Duration,
    start_period: Duration,
    start_interval: Duration,
    retries: i64,
}

impl Timings {
    fn of(h: &HealthConfig) -> Timings {
        let or = |ns: i64, default: Duration| {
            if ns > 0 {
                Duration::from_nanos(ns as u64)
            } else {
                default
            }
        };
        Timings {
            interval: or(h.interval, DEFAULT_INTERVAL),
            timeout: or(h.timeout, DEFAULT_TIMEOUT),
            start_period: or(h.start_period, Duration::ZERO),
            start_interval: or(h.start_interval, DEFAULT_START_INTERVAL),
            retries: if h.retries > 0 {
                h.retries
            } else {
                DEFAULT_RETRIES
            },
        }
    }

    /// The wait before the next probe: the start interval while starting
    /// inside the start period, but never past the period's end.
    fn next_wait(&self, since_start: Duration, status: &str) -> Duration {
        if since_start >= self.start_period {
            return self.interval;
        }
        let remaining = self.start_period - since_start;
        if remaining < self.interval {
            return remaining;
        }
        if status == HEALTH_STARTING {
            self.start_interval
        } else {
            self.interval
        }
    }
}

/// Folds one probe result into `health` (moby's `handleProbeResult`).
/// `since_start` is how long after the container's start the probe began.
fn apply_result(
    health: &mut Health,
    result: HealthcheckResult,
    timings: &Timings,
    since_start: Duration,
) {
    if health.log.len() >= MAX_LOG_ENTRIES {
        health.log.drain(..health.log.len() + 1 - MAX_LOG_ENTRIES);
    }
    let passed = result.exit_code == 0;
    health.log.push(result);
    if passed {
        health.failing_streak = 0;
        health.status = HEALTH_HEALTHY.into();
        return;
    }
    // Failures inside the start period do not count until a probe passed.
    if health.status == HEALTH_STARTING && since_start < timings.start_period {
        return;
    }
    health.failing_streak += 1;
    if health.failing_streak >= timings.retries {
        health.status = HEALTH_UNHEALTHY.into();
    }
}

/// Go's `time.Duration` string for the whole-millisecond values a timeout
/// has in practice (`30s`, `1.5s`, `500ms`, `1m30s`).
fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m) = (ms / 3_600_000, (ms / 60_000) % 60);
    let s = (ms % 60_000) as f64 / 1000.0;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{s}s"));
    out
}

/// Probe output kept up to [`MAX_OUTPUT`] bytes.
#[derive(Default)]
struct LimitedOutput {
    buf: Vec<u8>,
    truncated: bool,
}

impl LimitedOutput {
    fn push(&mut self, data: &[u8]) {
        let keep = MAX_OUTPUT.saturating_sub(self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..keep]);
        self.truncated |= keep < data.len();
    }

    fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.buf).into_owned();
        if self.truncated {
            s.push_str("...");
        }
        s
    }
}

/// SIGKILLs a probe's process unless disarmed: a probe that timed out,
/// or whose monitor was stopped mid-run, must not linger.
struct KillOnDrop(Option<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn failed(start: String, output: String) -> HealthcheckResult {
    HealthcheckResult {
        start,
        end: now_rfc3339(),
        exit_code: -1,
        output,
    }
}

impl Daemon {
    /// Resets the health state of a container that just started (or was
    /// restored running) and starts its monitor. No-op without a check.
    pub(crate) fn init_health_monitor(self: &Arc<Self>, container: &Arc<Container>) {
        if probe_command(&container.record().config).is_none() {
            return;
        }
        stop_health_monitor(container);
        let reset = container.update(self.data_root(), |r| {
            let h = r.state.health.get_or_insert_with(Health::default);
            h.status = HEALTH_STARTING.into();
            h.failing_streak = 0;
        });
        if let Err(e) = reset {
            tracing::warn!(error = %e, "cannot record the health state");
        }
        self.update_health_monitor(container);
    }

    /// Runs the monitor exactly when the container runs, is not paused
    /// and has a check.
    pub(crate) fn update_health_monitor(self: &Arc<Self>, container: &Arc<Container>) {
        let record = container.record();
        let cmd = probe_command(&record.config);
        let want = record.state.running && !record.state.paused && record.state.health.is_some();
        match cmd {
            Some(cmd) if want => {
                let mut slot = container.health_monitor.lock();
                if slot.is_none() {
                    let (tx, rx) = watch::channel(());
                    *slot = Some(tx);
                    let (daemon, container) = (self.clone(), container.clone());
                    tokio::spawn(async move { daemon.monitor_health(container, rx, cmd).await });
                }
            }
            _ => stop_health_monitor(container),
        }
    }

    async fn monitor_health(
        self: Arc<Self>,
        container: Arc<Container>,
        mut stop: watch::Receiver<()>,
        cmd: Vec<String>,
    ) {
        let record = container.record();
        let timings = Timings::of(&record.config.healthcheck.clone().unwrap_or_default());
        let started = humantime::parse_rfc3339(&record.state.started_at)
            .unwrap_or_else(|_| SystemTime::now());
        let since_start = |at: SystemTime| at.duration_since(started).unwrap_or_default();
        loop {
            let status = container
                .record()
                .state
                .health
                .map(|h| h.status)
                .unwrap_or_default();
            let wait = timings.next_wait(since_start(SystemTime::now()), &status);
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            let began = SystemTime::now();
            let result = tokio::select! {
                _ = stop.changed() => return,
                r = self.run_probe(&container, &cmd, timings.timeout) => r,
            };
            // Stopped while the result came in: the container has moved on.
            if stop.has_changed().is_err() {
                return;
            }
            let changed = container.update(self.data_root(), |r| {
                let h = r.state.health.get_or_insert_with(Health::default);
                let old = h.status.clone();
                apply_result(h, result, &timings, since_start(began));
                (old != h.status).then(|| h.status.clone())
            });
            match changed {
                Ok(Some(status)) => {
                    let action = format!("{}: {status}", crate::events::action::HEALTH_STATUS);
                    self.container_event(&container, &action, &[]);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot record a health result"),
            }
        }
    }

    /// Runs one probe as an exec (visible as one, with its events, as in
    /// moby) and collects its result.
    async fn run_probe(
        &self,
        container: &Container,
        cmd: &[String],
        timeout: Duration,
    ) -> HealthcheckResult {
        let start = now_rfc3339();
        let record = container.record();
        let config = ExecConfig {
            cmd: Some(cmd.to_vec()),
            attach_stdout: true,
            attach_stderr: true,
            user: record.config.user.clone(),
            working_dir: record.config.working_dir.clone(),
            ..ExecConfig::default()
        };
        let exec_id = match self.exec_create(&record.id, config) {
            Ok(id) => id,
            Err(e) => return failed(start, e.to_string()),
        };
        let result = self.probe_exec(&exec_id, start, timeout).await;
        self.exec_forget(&exec_id);
        result
    }

    async fn probe_exec(
        &self,
        exec_id: &str,
        start: String,
        timeout: Duration,
    ) -> HealthcheckResult {
        let started =
            match tokio::time::timeout(EXEC_START_TIMEOUT, self.exec_start(exec_id, false)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return failed(start, e.to_string()),
                Err(_) => return failed(start, "timed out starting health check".into()),
            };
        let mut guard = KillOnDrop(Some(started.pid));
        let mut output = LimitedOutput::default();
        if let Some(mut attach) = started.attach {
            let read = async {
                while let Some((_, data)) = attach.output.next().await {
                    output.push(&data);
                }
            };
            if tokio::time::timeout(timeout, read).await.is_err() {
                drop(guard);
                let _ = self.exec_wait(exec_id).await;
                let mut msg = format!("Health check exceeded timeout ({})", go_duration(timeout));
                let out = output.text();
                if !out.is_empty() {
                    msg = format!("{msg}: {out}");
                }
                return failed(start, msg);
            }
        }
        let code = self.exec_wait(exec_id).await;
        guard.0 = None;
        match code {
            Ok(code) => HealthcheckResult {
                start,
                end: now_rfc3339(),
                exit_code: code.into(),
                output: output.text(),
            },
            Err(e) => failed(start, e.to_string()),
        }
    }
}

/// Stops the container's monitor, if one runs (a probe in flight is killed).
pub(crate) fn stop_health_monitor(container: &Container) {
    container.health_monitor.lock().take();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StrSlice;

    fn config(test: &[&str], shell: Option<&[&str]>) -> Config {
        Config {
            healthcheck: Some(HealthConfig {
                test: Some(test.iter().map(|s| s.to_string()).collect()),
                ..HealthConfig::default()
            }),
            shell: shell.map(StrSlice::from),
            ..Config::default()
        }
    }

    #[test]
    fn probe_commands_follow_the_test_kind() {
        assert_eq!(
            probe_command(&config(&["CMD", "true", "x"], None)),
            Some(vec!["true".into(), "x".into()])
        );
        assert_eq!(
            probe_command(&config(&["CMD-SHELL", "exit 1"], None)),
            Some(vec!["/bin/sh".into(), "-c".into(), "exit 1".into()])
        );
        assert_eq!(
            probe_command(&config(&["CMD-SHELL", "x"], Some(&["/bin/ash", "-ec"]))),
            Some(vec!["/bin/ash".into(), "-ec".into(), "x".into()])
        );
        assert_eq!(probe_command(&config(&["NONE"], None)), None);
        assert_eq!(probe_command(&config(&["BOGUS", "x"], None)), None);
        assert_eq!(probe_command(&config(&[], None)), None);
        assert_eq!(probe_command(&Config::default()), None);
    }

    fn result(code: i64) -> HealthcheckResult {
        HealthcheckResult {
            exit_code: code,
            ..HealthcheckResult::default()
        }
    }

    fn timings(start_period: u64, retries: i64) -> Timings {
        Timings::of(&HealthConfig {
            start_period: Duration::from_secs(start_period).as_nanos() as i64,
            retries,
            ..HealthConfig::default()
        })
    }

    #[test]
    fn failures_count_after_the_start_period_and_reset_on_success() {
        let t = timings(10, 2);
        let mut h = Health {
            status: HEALTH_STARTING.into(),
            ..Health::default()
        };
        apply_result(&mut h, result(1), &t, Duration::from_secs(1));
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTH_STARTING, 0));
        apply_result(&mut h, result(1), &t, Duration::from_secs(11));
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTH_STARTING, 1));
        apply_result(&mut h, result(2), &t, Duration::from_secs(12));
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTH_UNHEALTHY, 2));
        apply_result(&mut h, result(0), &t, Duration::from_secs(13));
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTH_HEALTHY, 0));
        // Once healthy, the start period no longer shields failures.
        let mut h = Health {
            status: HEALTH_HEALTHY.into(),
            ..Health::default()
        };
        apply_result(&mut h, result(1), &t, Duration::from_secs(1));
        assert_eq!(h.failing_streak, 1);
    }

    #[test]
    fn the_log_keeps_the_last_five() {
        let t = timings(0, 3);
        let mut h = Health::default();
        for code in 0..8 {
            apply_result(&mut h, result(code), &t, Duration::ZERO);
        }
        let codes: Vec<i64> = h.log.iter().map(|r| r.exit_code).collect();
        assert_eq!(codes, vec![3, 4, 5, 6, 7]);
    }

    #[test]
    fn waits_use_the_start_interval_inside_the_start_period() {
        let t = Timings::of(&HealthConfig {
            interval: Duration::from_secs(30).as_nanos() as i64,
            start_period: Duration::from_secs(60).as_nanos() as i64,
            start_interval: Duration::from_secs(2).as_nanos() as i64,
            ..HealthConfig::default()
        });
        assert_eq!(
            t.next_wait(Duration::ZERO, HEALTH_STARTING),
            Duration::from_secs(2)
        );
        assert_eq!(
            t.next_wait(Duration::ZERO, HEALTH_HEALTHY),
            Duration::from_secs(30)
        );
        assert_eq!(
            t.next_wait(Duration::from_secs(50), HEALTH_STARTING),
            Duration::from_secs(10)
        );
        assert_eq!(
            t.next_wait(Duration::from_secs(61), HEALTH_STARTING),
            Duration::from_secs(30)
        );
        let d = Timings::of(&HealthConfig::default());
        assert_eq!(
            (d.interval, d.timeout, d.retries),
            (DEFAULT_INTERVAL, DEFAULT_TIMEOUT, 3)
        );
    }

    #[test]
    fn output_is_capped_and_marked() {
        let mut o = LimitedOutput::default();
        o.push(&[b'a'; 4000]);
        o.push(&[b'b'; 200]);
        let text = o.text();
        assert_eq!(text.len(), MAX_OUTPUT + 3);
        assert!(text.ends_with("bbb..."));
    }

    #[test]
    fn durations_print_as_go_does() {
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    }
}
