//! `docker export` (moby's `daemon/export.go`): a tar of the container's
//! whole root filesystem, streamed from a blocking thread while the rootfs
//! is held mounted.

use crate::error::{DaemonError, Result};
use crate::events::action;

use super::archive::spawn_tar;
use super::container_fs::{ContainerFs, Node};
use super::tar_stream::TarStream;
use super::Daemon;

impl Daemon {
    /// `GET /containers/{id}/export`: the root filesystem as a tar, names
    /// relative to `/` (`bin/`, `bin/busybox`, ...), as it is on disk (the
    /// `/etc` files Docker bind-mounts are the rootfs' own, as in moby).
    /// Works on a running or a stopped container. Logs `export`.
    pub async fn export(&self, reference: &str) -> Result<TarStream> {
        let container = self.get(reference)?;
        let failed = |e: &dyn std::fmt::Display| {
            DaemonError::System(format!("Error exporting container {reference}: {e}"))
        };
        let lease = self.lease_rootfs(&container).map_err(|e| failed(&e))?;
        let fs = ContainerFs::open(lease.merged_dir(), None).map_err(|e| failed(&e))?;
        let stream = spawn_tar(lease, move |out| {
            fs.write_tar(&Node::Rootfs(Vec::new()), None, out)
        });
        self.container_event(&container, action::EXPORT, &[]);
        Ok(stream)
    }
}
