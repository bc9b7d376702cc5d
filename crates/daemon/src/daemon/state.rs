//! A container's run state, as Docker records it in `config.v2.json` and
//! shows it in `docker inspect` (`State`), and the rules that derive the
//! `Status` string from it.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Go's zero time, which Docker prints for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The `State` object of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct State {
    /// The init process is alive (also while paused).
    pub running: bool,
    /// Frozen.
    pub paused: bool,
    /// Waiting for a restart-policy restart.
    pub restarting: bool,
    /// The last exit was the OOM killer's.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// Being removed.
    pub removal_in_progress: bool,
    /// Removal failed half-way.
    pub dead: bool,
    /// The init's host PID (0 when not running).
    pub pid: u32,
    /// The last exit code (128 + signal for a signal; 128 when start failed).
    pub exit_code: i32,
    /// Why the last start failed, if it did.
    pub error: String,
    /// When it last started (RFC 3339), or [`ZERO_TIME`].
    pub started_at: String,
    /// When it last stopped (RFC 3339), or [`ZERO_TIME`].
    pub finished_at: String,
    /// The health check's state, for a container that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<super::Health>,
}

impl Default for State {
    fn default() -> Self {
        State {
            running: false,
            paused: false,
            restarting: false,
            oom_killed: false,
            removal_in_progress: false,
            dead: false,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: ZERO_TIME.to_string(),
            finished_at: ZERO_TIME.to_string(),
            health: None,
        }
    }
}

impl State {
    /// Docker's status word: `created`, `running`, `paused`, `restarting`,
    /// `removing`, `exited` or `dead` (moby's `State.StateString`).
    pub fn status(&self) -> &'static str {
        if self.running {
            if self.paused {
                return "paused";
            }
            if self.restarting {
                return "restarting";
            }
            return "running";
        }
        if self.removal_in_progress {
            return "removing";
        }
        if self.dead {
            return "dead";
        }
        if self.started_at == ZERO_TIME {
            return "created";
        }
        "exited"
    }

    /// The `Status` column of `docker ps` at time `now` (moby's
    /// `State.String`): `Up 5 seconds (healthy)`, `Exited (0) 2 minutes
    /// ago`, `Created`, ...
    pub fn describe(&self, now: SystemTime) -> String {
        let since = |t: &str| {
            humantime::parse_rfc3339(t)
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default()
        };
        if self.running {
            if self.paused {
                return format!("Up {} (Paused)", human_duration(since(&self.started_at)));
            }
            if self.restarting {
                return format!(
                    "Restarting ({}) {} ago",
                    self.exit_code,
                    human_duration(since(&self.finished_at))
                );
            }
            let up = human_duration(since(&self.started_at));
            return match &self.health {
                Some(h) if h.status == super::HEALTH_STARTING => {
                    format!("Up {up} (health: starting)")
                }
                Some(h) => format!("Up {up} ({})", h.status),
                None => format!("Up {up}"),
            };
        }
        if self.removal_in_progress {
            return "Removal In Progress".into();
        }
        if self.dead {
            return "Dead".into();
        }
        if self.started_at == ZERO_TIME {
            return "Created".into();
        }
        if self.finished_at == ZERO_TIME {
            return String::new();
        }
        format!(
            "Exited ({}) {} ago",
            self.exit_code,
            human_duration(since(&self.finished_at))
        )
    }

    /// Records a successful start.
    pub fn set_running(&mut self, pid: u32, now: String) {
        self.running = true;
        self.paused = false;
        self.restarting = false;
        self.oom_killed = false;
        self.pid = pid;
        self.exit_code = 0;
        self.error.clear();
        self.started_at = now;
    }

    /// Records an exit.
    pub fn set_stopped(&mut self, exit_code: i32, oom_killed: bool, now: String) {
        self.running = false;
        self.paused = false;
        self.restarting = false;
        self.pid = 0;
        self.exit_code = exit_code;
        self.oom_killed = oom_killed;
        self.finished_at = now;
    }

    /// Records a failed start (moby's `SetError` plus exit code 128 when
    /// none was set).
    pub fn set_start_error(&mut self, error: String, now: String) {
        self.running = false;
        self.pid = 0;
        self.error = error;
        if self.exit_code == 0 {
            self.exit_code = 128;
        }
        self.finished_at = now;
    }
}

pub use berth_api::units::human_duration;

/// Now, as Docker formats times (RFC 3339 with nanoseconds, UTC).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn status_follows_moby() {
        let mut s = State::default();
        assert_eq!(s.status(), "created");
        s.set_running(42, now_rfc3339());
        assert_eq!(s.status(), "running");
        s.paused = true;
        assert_eq!(s.status(), "paused");
        s.set_stopped(137, false, now_rfc3339());
        assert_eq!((s.status(), s.exit_code, s.pid), ("exited", 137, 0));
        s.removal_in_progress = true;
        assert_eq!(s.status(), "removing");
        let mut failed = State::default();
        failed.set_start_error("boom".into(), now_rfc3339());
        assert_eq!(failed.exit_code, 128);
    }

    #[test]
    fn describes_like_docker_ps() {
        let t0 = humantime::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let mut s = State::default();
        assert_eq!(s.describe(t0), "Created");
        s.set_running(7, "2026-01-01T00:00:00Z".into());
        assert_eq!(s.describe(t0 + Duration::from_secs(5)), "Up 5 seconds");
        s.health = Some(super::super::Health {
            status: super::super::HEALTH_STARTING.into(),
            ..Default::default()
        });
        assert_eq!(
            s.describe(t0 + Duration::from_secs(5)),
            "Up 5 seconds (health: starting)"
        );
        s.health.as_mut().unwrap().status = "healthy".into();
        assert_eq!(
            s.describe(t0 + Duration::from_secs(120)),
            "Up 2 minutes (healthy)"
        );
        s.paused = true;
        assert_eq!(
            s.describe(t0 + Duration::from_secs(120)),
            "Up 2 minutes (Paused)"
        );
        s.set_stopped(137, false, "2026-01-01T00:10:00Z".into());
        assert_eq!(
            s.describe(t0 + Duration::from_secs(660)),
            "Exited (137) About a minute ago"
        );
    }

    #[test]
    fn serializes_with_dockers_field_names() {
        let v = serde_json::to_value(State::default()).unwrap();
        for key in [
            "Running",
            "Paused",
            "OOMKilled",
            "Pid",
            "ExitCode",
            "StartedAt",
            "FinishedAt",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
    }
}
