//! `docker logs` (moby's `daemon/logs.go`): validates the request against
//! the container's log driver and starts a reader over its json-file log.

use std::sync::Arc;

use super::Daemon;
use crate::error::{DaemonError, Result};
use crate::logs::{spawn_reader, LogStream, LogsOptions, ERR_READ_LOGS_NOT_SUPPORTED};

impl Daemon {
    /// The log of container `reference`, as `docker logs` reads it. Follow
    /// only applies while the container runs (as in moby), and then ends
    /// when it exits or is removed, when `until` passes, or when the
    /// returned stream is dropped.
    ///
    /// Errors: no such container (NotFound); neither stream selected
    /// (InvalidParameter, `You must choose at least one stream`); a log
    /// driver other than `json-file` (moby's
    /// "configured logging driver does not support reading").
    pub async fn logs(
        self: &Arc<Self>,
        reference: &str,
        options: LogsOptions,
    ) -> Result<LogStream> {
        if !(options.stdout || options.stderr) {
            return Err(DaemonError::invalid("You must choose at least one stream"));
        }
        let container = self.get(reference)?;
        let host = container.host_config();
        let driver = host.log_config.kind.as_str();
        if !matches!(driver, "" | "json-file") {
            // moby classifies this as NotImplemented (501).
            return Err(DaemonError::NotImplemented(
                ERR_READ_LOGS_NOT_SUPPORTED.into(),
            ));
        }
        // Subscribe before looking at the state, so an exit in between
        // still ends the follow.
        let lifecycle = container.subscribe();
        let running = container.record().state.running;
        let options = LogsOptions {
            follow: options.follow && running,
            ..options
        };
        Ok(spawn_reader(container.log_path(), options, Some(lifecycle)))
    }
}
