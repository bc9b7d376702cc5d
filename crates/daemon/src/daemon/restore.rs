//! Loading the containers at start-up and reconnecting to their shims
//! (moby's `daemon.restore` with live restore): a container whose shim is
//! alive keeps running; one that exited meanwhile gets its real exit code
//! from the shim; one whose shim is gone is marked exited (255). Half-done
//! creates and removes from a crash are finished.

use std::collections::HashSet;
use std::sync::Arc;

use berth_shim::Status;

use crate::error::{DaemonError, Result};
use crate::persist;

use super::restart::start_on_daemon_start;
use super::{now_rfc3339, Container, Daemon};

pub(super) async fn restore(daemon: &Arc<Daemon>) -> Result<()> {
    let live: HashSet<String> = daemon
        .shims
        .restore()
        .await
        .map_err(DaemonError::layer)?
        .into_iter()
        .collect();
    let mut known = HashSet::new();
    for id in persist::list_ids(daemon.data_root())? {
        let dir = persist::container_dir(daemon.data_root(), &id)?;
        let (record, host_config) = match persist::load(daemon.data_root(), &id) {
            Ok(loaded) => loaded,
            Err(DaemonError::NotFound(_)) => {
                // A create that crashed before writing its config.
                tracing::info!(%id, "removing a half-created container");
                let _ = daemon.images.remove_rootfs(&id);
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
            Err(e) => {
                tracing::warn!(%id, error = %e, "skipping a container that cannot be loaded");
                continue;
            }
        };
        if let Err(e) = daemon.names.reserve(&record.name, &id) {
            tracing::warn!(%id, error = %e, "name clash on restore; keeping the name anyway");
        }
        let removing = record.state.removal_in_progress;
        let was_running = record.state.running;
        // Volume references live in memory only: the records rebuild them.
        for p in record.mount_points.values().filter(|p| p.is_volume()) {
            if let Err(e) = daemon.volumes.add_ref(&p.name, &id) {
                tracing::warn!(%id, volume = %p.name, error = %e, "a container's volume is gone");
            }
        }
        let container = Arc::new(Container::new(record, host_config, dir));
        daemon.containers.add(container.clone());
        known.insert(id.clone());

        if live.contains(&id) {
            match daemon.shims.state(&id).await {
                // A shim whose container never started: a start that crashed
                // half way. Undo it; the container stays created.
                Ok(state) if state.status == Status::Created => {
                    daemon.cleanup_runtime(&container).await;
                }
                Ok(state) if state.status != Status::Stopped && !removing => {
                    container.update(daemon.data_root(), |r| {
                        r.state.running = true;
                        r.state.paused = state.status == Status::Paused;
                        r.state.pid = state.pid;
                    })?;
                    // Its volumes count it as mounted again (the driver
                    // adopts a mount still in place rather than stacking).
                    for p in container.record().mount_points.values() {
                        if p.is_volume() {
                            if let Err(e) = daemon.volumes.mount(&p.name, &id) {
                                tracing::warn!(%id, volume = %p.name, error = %e, "cannot re-mount a running container's volume");
                            }
                        }
                    }
                    // It holds its rootfs mount, as if started by us.
                    if let Ok(rootfs) = daemon.images.rootfs(&id) {
                        if let Err(e) = daemon.rootfs_mounts.hold_running(&id, &rootfs) {
                            tracing::warn!(%id, error = %e, "cannot remount a running container's rootfs");
                        }
                    }
                    daemon.spawn_monitor(container.clone());
                    daemon.init_health_monitor(&container);
                    continue;
                }
                Ok(state) => {
                    let exit = state.exit.ok_or_else(|| {
                        DaemonError::System("the shim reported no exit status".into())
                    });
                    daemon.handle_exit(&container, exit).await;
                }
                Err(e) => {
                    daemon
                        .handle_exit(&container, Err(DaemonError::layer(e)))
                        .await
                }
            }
        } else {
            // No shim: nothing may stay mounted or half set up.
            daemon.cleanup_runtime(&container).await;
            if was_running {
                container.update(daemon.data_root(), |r| {
                    r.state.set_stopped(255, false, now_rfc3339())
                })?;
            }
        }
        if removing {
            if let Err(e) = daemon.destroy(&container, false).await {
                tracing::warn!(%id, error = %e, "cannot finish an interrupted removal");
            }
        }
    }
    // Networking of the live containers comes back; the rest is undone.
    let running: HashSet<String> = daemon
        .containers
        .list()
        .iter()
        .map(|c| c.record())
        .filter(|r| r.state.running)
        .map(|r| r.id)
        .collect();
    let ctl = daemon.network.clone();
    tokio::task::spawn_blocking(move || ctl.reconcile(|id| running.contains(id)))
        .await
        .map_err(|e| DaemonError::System(format!("network task: {e}")))?;
    // `always` and `unless-stopped` containers come back with the daemon.
    for container in daemon.containers.list() {
        let record = container.record();
        if !record.state.running
            && !record.state.removal_in_progress
            && start_on_daemon_start(&container.host_config().restart_policy, &record)
        {
            if let Err(e) = daemon.start(&record.id).await {
                tracing::warn!(id = %record.id, error = %e, "cannot restart on daemon start");
            }
        }
    }
    // Shims whose container is gone (a crash in the middle of a remove).
    for id in live.difference(&known) {
        tracing::info!(%id, "deleting an orphaned shim");
        let _ = daemon.shims.kill(id, 9, true).await;
        let _ = daemon.shims.delete(id).await;
    }
    Ok(())
}
