//! The query parameters of the container endpoints, as typed options
//! (moby `api/types/container` `*Options` and `backend` configs). The router
//! parses them; a client builds its query string from them.

use crate::types::filters::Filters;

/// `POST /containers/{id}/stop` and `/restart`: `signal`, `t`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopOptions {
    /// The signal to send first (default: the container's `StopSignal`).
    pub signal: Option<String>,
    /// Seconds to wait before killing (default: the container's
    /// `StopTimeout`, else 10); -1 waits forever.
    pub timeout: Option<i64>,
}

/// `DELETE /containers/{id}`: `force`, `v`, `link`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveOptions {
    /// Kill a running container first.
    pub force: bool,
    /// Remove its anonymous volumes too.
    pub remove_volumes: bool,
    /// Remove a legacy link instead of the container.
    pub remove_link: bool,
}

/// `GET /containers/json`: `all`, `limit`, `size`, `filters`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Include stopped containers.
    pub all: bool,
    /// Only the `limit` most recently created (implies `all`); `None`: no limit.
    pub limit: Option<usize>,
    /// Compute `SizeRw` / `SizeRootFs`.
    pub size: bool,
    /// `id`, `name`, `label`, `status`, `exited`, `ancestor`, ...
    pub filters: Filters,
}

/// `GET /containers/{id}/logs` (moby `container.LogsOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsOptions {
    /// Include stdout.
    pub stdout: bool,
    /// Include stderr.
    pub stderr: bool,
    /// Only entries after this time (Unix seconds with optional fraction,
    /// RFC 3339, or a duration such as `10m`), as given.
    pub since: String,
    /// Only entries before this time, same forms.
    pub until: String,
    /// Prefix each line with its RFC 3339 timestamp.
    pub timestamps: bool,
    /// Keep streaming until the container stops.
    pub follow: bool,
    /// `all` or the number of lines from the end.
    pub tail: String,
    /// Include the log driver's extra attributes.
    pub details: bool,
}

/// `POST /containers/{id}/attach` (moby `backend.ContainerAttachConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachOptions {
    /// Attach the stdin.
    pub stdin: bool,
    /// Attach the stdout.
    pub stdout: bool,
    /// Attach the stderr.
    pub stderr: bool,
    /// Replay the logs first.
    pub logs: bool,
    /// Stream live output.
    pub stream: bool,
    /// The key sequence that detaches (`ctrl-p,ctrl-q` by default).
    pub detach_keys: String,
}

/// `GET /containers/{id}/stats`: `stream`, `one-shot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsOptions {
    /// Stream a sample every second (the default) rather than one.
    pub stream: bool,
    /// With `stream=false`: answer at once, without the second sample that
    /// fills `precpu_stats`.
    pub one_shot: bool,
}

impl Default for StatsOptions {
    fn default() -> Self {
        StatsOptions {
            stream: true,
            one_shot: false,
        }
    }
}

/// The `condition` of `POST /containers/{id}/wait`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum WaitCondition {
    /// Until the container is not running (`not-running`, the default).
    #[default]
    NotRunning,
    /// Until its next exit (`next-exit`).
    NextExit,
    /// Until it is removed (`removed`).
    Removed,
}

impl WaitCondition {
    /// Parses the query value; empty is [`WaitCondition::NotRunning`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "not-running" => Some(WaitCondition::NotRunning),
            "next-exit" => Some(WaitCondition::NextExit),
            "removed" => Some(WaitCondition::Removed),
            _ => None,
        }
    }

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitCondition::NotRunning => "not-running",
            WaitCondition::NextExit => "next-exit",
            WaitCondition::Removed => "removed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_conditions_round_trip() {
        for c in [
            WaitCondition::NotRunning,
            WaitCondition::NextExit,
            WaitCondition::Removed,
        ] {
            assert_eq!(WaitCondition::parse(c.as_str()), Some(c));
        }
        assert_eq!(WaitCondition::parse(""), Some(WaitCondition::NotRunning));
        assert_eq!(WaitCondition::parse("whenever"), None);
    }
}
