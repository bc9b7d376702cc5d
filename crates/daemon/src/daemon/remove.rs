//! `ContainerRm`: refuse a running container unless forced, then tear down
//! everything the container owns: its shim, rootfs snapshot, bundle,
//! directory, name and volume references (and with `-v` its anonymous
//! volumes).

use std::sync::Arc;

use crate::error::{DaemonError, Result};
use crate::events::action;

use super::{Container, Daemon};

const SIGKILL: i32 = 9;

impl Daemon {
    /// Removes the container; a running one only with `force` (killed
    /// first). Its volumes stay; see [`Daemon::remove_with_volumes`].
    pub async fn remove(self: &Arc<Self>, reference: &str, force: bool) -> Result<()> {
        self.remove_with_volumes(reference, force, false).await
    }

    /// [`Daemon::remove`], also removing the container's anonymous
    /// volumes no other container uses when `volumes` is set (`rm -v`,
    /// `--rm`).
    pub async fn remove_with_volumes(
        self: &Arc<Self>,
        reference: &str,
        force: bool,
        volumes: bool,
    ) -> Result<()> {
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
        self.destroy(&container, volumes).await
    }

    /// Removes what a stopped container owns, in the order that keeps a
    /// crash recoverable: runtime, snapshot, then the directory (whose
    /// `config.v2.json` is what `restore` finds), then the volume
    /// references (and, with `remove_volumes`, the anonymous volumes).
    pub(crate) async fn destroy(
        &self,
        container: &Arc<Container>,
        remove_volumes: bool,
    ) -> Result<()> {
        let record = container.record();
        let id = record.id;
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
        let store = self.volumes.clone();
        let (owner, points) = (id.clone(), record.mount_points);
        let _ = tokio::task::spawn_blocking(move || {
            super::mounts::release(&store, &owner, &points, remove_volumes)
        })
        .await;
        self.names.release_id(&id);
        self.containers.remove(&id);
        self.forget_execs_of(&id);
        self.container_event(container, action::DESTROY, &[]);
        container.notify_removed();
        Ok(())
    }
}
