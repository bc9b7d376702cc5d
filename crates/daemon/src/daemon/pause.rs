//! `ContainerPause` / `ContainerUnpause`: freeze and thaw every process of
//! a running container (through the shim's cgroup freezer).

use std::sync::Arc;

use crate::error::{DaemonError, Result};
use crate::events::action;

use super::Daemon;

impl Daemon {
    /// Freezes the container. Errors as moby's: not running, already
    /// paused, restarting (all Conflict).
    pub async fn pause(self: &Arc<Self>, reference: &str) -> Result<()> {
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let record = container.record();
        let id = &record.id;
        if !record.state.running {
            return Err(DaemonError::Conflict(format!(
                "Container {id} is not running"
            )));
        }
        if record.state.paused {
            return Err(DaemonError::Conflict(format!(
                "Container {id} is already paused"
            )));
        }
        if record.state.restarting {
            return Err(DaemonError::Conflict(format!(
                "Container {id} is restarting, wait until the container is running"
            )));
        }
        self.shims.pause(id).await.map_err(DaemonError::layer)?;
        container.update(self.data_root(), |r| r.state.paused = true)?;
        self.update_health_monitor(&container);
        self.container_event(&container, action::PAUSE, &[]);
        Ok(())
    }

    /// Thaws the container. Not paused is a Conflict.
    pub async fn unpause(self: &Arc<Self>, reference: &str) -> Result<()> {
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let record = container.record();
        if !record.state.paused {
            return Err(DaemonError::Conflict(format!(
                "Container {} is not paused",
                record.id
            )));
        }
        self.shims
            .resume(&record.id)
            .await
            .map_err(DaemonError::layer)?;
        container.update(self.data_root(), |r| r.state.paused = false)?;
        self.update_health_monitor(&container);
        self.container_event(&container, action::UNPAUSE, &[]);
        Ok(())
    }
}
