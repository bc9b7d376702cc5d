//! The typed values the daemon and the shim exchange: what to create, how
//! to wire stdio, and how a process ended.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// What [`crate::ContainerdClient::create`] needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateRequest {
    /// The container id (also the shim's state dir name).
    pub id: String,
    /// The OCI bundle dir holding `config.json` and the rootfs.
    pub bundle: PathBuf,
    /// How the container's stdio is wired.
    pub stdio: StdioOptions,
}

/// How the init's stdio is wired and logged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StdioOptions {
    /// A pty instead of pipes; must match `process.terminal` in config.json.
    pub terminal: bool,
    /// Keep a stdin the attached clients can write to (else /dev/null).
    pub open_stdin: bool,
    /// Where the json-file log goes (Docker's `<id>-json.log`).
    pub log_path: PathBuf,
    /// Rotate the log once it reaches this many bytes (`max-size`).
    pub log_max_size: Option<u64>,
    /// How many log files to keep, the live one included (`max-file`, at least 1).
    pub log_max_files: u32,
}

/// How an exec'd process's stdio is wired (its output is not logged).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ExecStdio {
    /// A pty instead of pipes (sets `process.terminal`).
    pub terminal: bool,
    /// Keep a stdin the attached clients can write to (else /dev/null).
    pub open_stdin: bool,
}

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    /// The exit code, Docker style: 128 + signal when killed by one.
    pub code: i32,
    /// The signal that killed the process, if one did.
    pub signal: Option<i32>,
    /// When the shim reaped the process (RFC 3339 on the wire and on disk).
    #[serde(with = "rfc3339")]
    pub exited_at: SystemTime,
    /// Whether the container's cgroup recorded an OOM kill.
    pub oom_killed: bool,
}

/// A container's status as the shim sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, waiting for start.
    Created,
    /// The user's process runs.
    Running,
    /// Frozen.
    Paused,
    /// The init has exited.
    Stopped,
}

/// What [`crate::ContainerdClient::state`] reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShimState {
    /// The container id.
    pub id: String,
    /// The container's status.
    pub status: Status,
    /// The init's pid on the host (0 once reaped).
    pub pid: u32,
    /// The shim's own pid.
    pub shim_pid: u32,
    /// How the init ended, once it has.
    pub exit: Option<ExitStatus>,
}

/// `SystemTime` as an RFC 3339 string with nanoseconds.
mod rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_nanos(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn exit_status_times_are_rfc3339() {
        let exit = ExitStatus {
            code: 137,
            signal: Some(9),
            exited_at: UNIX_EPOCH + Duration::new(1_700_000_000, 42),
            oom_killed: false,
        };
        let v = serde_json::to_value(&exit).unwrap();
        assert_eq!(v["exited_at"], "2023-11-14T22:13:20.000000042Z");
        let back: ExitStatus = serde_json::from_value(v).unwrap();
        assert_eq!(back, exit);
    }
}
