//! A container's run state, as Docker records it in `config.v2.json` and
//! shows it in `docker inspect` (`State`), and the rules that derive the
//! `Status` string from it.

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

/// Now, as Docker formats times (RFC 3339 with nanoseconds, UTC).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
