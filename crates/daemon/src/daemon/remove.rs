//! `ContainerRm`: refuse a running container unless forced, then tear down
//! everything the container owns: its shim, rootfs snapshot, bundle,
//! directory and name.

use std::sync::Arc;

use crate::error::{DaemonError, Result};
use crate::events::action;

use super::{Container, Daemon};

const SIGKILL: i32 = 9;

impl Daemon {
    /// Removes the container; a running one only with `force` (killed first).
    pub async fn remove(self: &Arc<Self>, reference: &str, force: bool) -> Result<()> {
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let record = container.record();
        if record.state.running && !force {
            let what = if record.state.paused {
                "paused"
            } else {
                "running"
            };
            return Err(DaemonError::Conflict(format!(
                "cannot remove container \"{}\": container is {what}: stop the container before removing or force remove",
                record.name
            )));
        }
        if record.state.removal_in_progress && self.get(&record.id).is_ok() && !force {
            return Err(DaemonError::Conflict(format!(
                "removal of container {} is already in progress",
                record.id
            )));
        }
        container.update(self.data_root(), |r| r.state.removal_in_progress = true)?;
        if record.state.running {
            if let Err(e) = self.signal_and_wait(&container, SIGKILL, 0).await {
                container.update(self.data_root(), |r| r.state.removal_in_progress = false)?;
                return Err(e);
            }
        }
        self.destroy(&container).await
    }

    /// Removes what a stopped container owns, in the order that keeps a
    /// crash recoverable: runtime, snapshot, then the directory (whose
    /// `config.v2.json` is what `restore` finds).
    pub(crate) async fn destroy(&self, container: &Arc<Container>) -> Result<()> {
        let id = container.record().id;
        self.cleanup_runtime(container).await;
        crate::failpoint::hit("remove:after-runtime");
        self.images.remove_rootfs(&id).map_err(DaemonError::layer)?;
        crate::failpoint::hit("remove:after-snapshot");
        match std::fs::remove_dir_all(container.dir()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                container
                    .update(self.data_root(), |r| r.state.dead = true)
                    .ok();
                return Err(DaemonError::io(
                    format!("removing {}", container.dir().display()),
                    e,
                ));
            }
        }
        self.names.release_id(&id);
        self.containers.remove(&id);
        self.forget_execs_of(&id);
        self.container_event(container, action::DESTROY, &[]);
        container.notify_removed();
        Ok(())
    }
}
