//! `docker restart` (moby `daemon/restart.go` `ContainerRestart`): stop
//! the container if it is running, start it, log `restart`.

use std::sync::Arc;

use berth_errdefs::{ErrorKind, HasKind};

use crate::error::{DaemonError, Result};
use crate::events::action;

use super::Daemon;

impl Daemon {
    /// Restarts the container: [`Daemon::stop`] with `timeout` (seconds;
    /// the container's StopTimeout, else 10, when `None`) unless it is
    /// already stopped, then [`Daemon::start`], then a `restart` event.
    /// Errors keep their kind and read `Cannot restart container <ref>:
    /// <why>`, as moby words them.
    pub async fn restart(self: &Arc<Self>, reference: &str, timeout: Option<i64>) -> Result<()> {
        let container = self.get(reference)?;
        let id = container.record().id;
        let result = async {
            match self.stop(&id, timeout).await {
                Err(e) if e.kind() != ErrorKind::NotModified => return Err(e),
                _ => {}
            }
            self.start(&id).await
        }
        .await;
        if let Err(e) = result {
            return Err(DaemonError::Layer {
                kind: e.kind(),
                message: format!("Cannot restart container {reference}: {e}"),
            });
        }
        self.container_event(&container, action::RESTART, &[]);
        Ok(())
    }
}
