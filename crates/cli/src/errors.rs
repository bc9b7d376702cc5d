//! How a command fails and which exit status that gives, as docker/cli
//! decides: a daemon error is status 1 (125 for `run` and `create`, as
//! Docker's `StatusError`), a start failure of `run` is 126 or 127 when
//! the command cannot be executed or found, and a container's own exit
//! code passes through.

use berth_client::ClientError;

/// Docker's status for errors of `run`/`create` before the container runs.
pub const RUN_ERROR: i32 = 125;
/// The command was found but cannot be executed.
pub const CANNOT_EXECUTE: i32 = 126;
/// The command was not found.
pub const NOT_FOUND: i32 = 127;

/// A failed command: what to print (if anything) and the exit status.
#[derive(Debug)]
pub struct CliError {
    /// Printed to stderr when set.
    pub message: Option<String>,
    /// The process exit status.
    pub status: i32,
}

impl CliError {
    /// A message and status 1.
    pub fn msg(message: impl Into<String>) -> CliError {
        CliError {
            message: Some(message.into()),
            status: 1,
        }
    }

    /// Exit with `status`, printing nothing.
    pub fn status(status: i32) -> CliError {
        CliError {
            message: None,
            status,
        }
    }

    /// The same error with another status (run/create's 125).
    pub fn with_status(mut self, status: i32) -> CliError {
        self.status = status;
        self
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> CliError {
        CliError::msg(e.to_string())
    }
}

impl From<String> for CliError {
    fn from(s: String) -> CliError {
        CliError::msg(s)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::msg(e.to_string())
    }
}

/// The result of a command: its exit status.
pub type CmdResult = Result<i32, CliError>;

/// docker/cli's `toStatusError` for a failed start in `run`: 127 when the
/// executable is missing, 126 when it cannot be executed, else 125.
pub fn start_error_status(message: &str) -> i32 {
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
        || message.contains("system cannot find the file specified")
    {
        NOT_FOUND
    } else if message.contains("permission denied") || message.contains("is a directory") {
        CANNOT_EXECUTE
    } else {
        RUN_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_errors_map_like_docker() {
        assert_eq!(
            start_error_status(
                "failed to create task: exec: \"nosuch\": executable file not found in $PATH"
            ),
            127
        );
        assert_eq!(
            start_error_status("exec /bin/x: no such file or directory"),
            127
        );
        assert_eq!(start_error_status("exec /etc: permission denied"), 126);
        assert_eq!(start_error_status("exec /etc: is a directory"), 126);
        assert_eq!(start_error_status("cgroup: out of pids"), 125);
        let e: CliError = ClientError::Api {
            status: 404,
            message: "No such container: x".into(),
        }
        .into();
        assert_eq!(e.status, 1);
        assert_eq!(
            e.message.as_deref(),
            Some("Error response from daemon: No such container: x")
        );
        assert_eq!(e.with_status(RUN_ERROR).status, 125);
    }
}
