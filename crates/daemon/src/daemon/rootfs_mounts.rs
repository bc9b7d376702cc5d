//! Who holds a container's rootfs mount (moby's `daemon.Mount` /
//! `daemon.Unmount` reference counting in the graph driver).
//!
//! The running container holds the mount from start until its runtime is
//! cleaned up; every `docker cp` / `docker export` holds a lease for as
//! long as it reads or writes the filesystem. The overlay is mounted when
//! the first holder appears and unmounted when the last one goes, so a
//! stop during a copy leaves the mount to the copy, and a start during a
//! copy of a stopped container finds it mounted and keeps it.
//!
//! Every transition happens under one mutex together with the mount or
//! unmount syscall, so a mount is never yanked from under a holder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use berth_image::snapshot::{self, RootfsSnapshot};

use crate::error::{DaemonError, Result};

#[derive(Debug, Default)]
struct Holders {
    /// The container's process uses the mount (start until cleanup).
    running: bool,
    /// Live [`RootfsLease`]s.
    leases: usize,
}

/// The mount holders of every container that has any.
#[derive(Debug, Default)]
pub(crate) struct RootfsMounts {
    holders: Mutex<HashMap<String, Holders>>,
}

impl RootfsMounts {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Holders>> {
        self.holders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The container is starting (or found running on restore): mounts the
    /// rootfs unless mounted already, and keeps it mounted until
    /// [`RootfsMounts::release_running`].
    pub(crate) fn hold_running(&self, id: &str, rootfs: &RootfsSnapshot) -> Result<()> {
        let mut holders = self.lock();
        ensure_mounted(rootfs)?;
        holders.entry(id.to_string()).or_default().running = true;
        Ok(())
    }

    /// The container's runtime is gone: unmounts the rootfs unless a lease
    /// still reads it (the last lease unmounts then). Idempotent.
    pub(crate) fn release_running(&self, id: &str, merged_dir: &Path) {
        let mut holders = self.lock();
        if let Some(h) = holders.get_mut(id) {
            h.running = false;
            if h.leases > 0 {
                return;
            }
            holders.remove(id);
        }
        if let Err(e) = snapshot::unmount(merged_dir) {
            tracing::warn!(%id, error = %e, "cannot unmount the rootfs");
        }
    }

    /// Takes a lease on the container's rootfs, mounting it if needed.
    pub(crate) fn lease(
        self: &Arc<Self>,
        id: &str,
        rootfs: &RootfsSnapshot,
    ) -> Result<RootfsLease> {
        let mut holders = self.lock();
        ensure_mounted(rootfs)?;
        holders.entry(id.to_string()).or_default().leases += 1;
        Ok(RootfsLease {
            mounts: self.clone(),
            id: id.to_string(),
            merged_dir: rootfs.merged_dir.clone(),
        })
    }

    fn release_lease(&self, id: &str, merged_dir: &Path) {
        let mut holders = self.lock();
        let Some(h) = holders.get_mut(id) else {
            return;
        };
        h.leases = h.leases.saturating_sub(1);
        if h.leases > 0 || h.running {
            return;
        }
        holders.remove(id);
        if let Err(e) = snapshot::unmount(merged_dir) {
            tracing::warn!(%id, error = %e, "cannot unmount the rootfs after a copy");
        }
    }

    /// How many leases container `id` has (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn leases(&self, id: &str) -> usize {
        self.lock().get(id).map_or(0, |h| h.leases)
    }
}

fn ensure_mounted(rootfs: &RootfsSnapshot) -> Result<()> {
    let mounted = snapshot::is_mounted(&rootfs.merged_dir).map_err(DaemonError::layer)?;
    if !mounted {
        rootfs
            .mount(&rootfs.merged_dir)
            .map_err(DaemonError::layer)?;
    }
    Ok(())
}

/// A hold on a container's mounted rootfs; dropping it releases the hold
/// (unmounting when it was the last one and the container is not running).
#[derive(Debug)]
pub(crate) struct RootfsLease {
    mounts: Arc<RootfsMounts>,
    id: String,
    merged_dir: PathBuf,
}

impl RootfsLease {
    /// Where the rootfs is mounted.
    pub(crate) fn merged_dir(&self) -> &Path {
        &self.merged_dir
    }
}

impl Drop for RootfsLease {
    fn drop(&mut self) {
        self.mounts.release_lease(&self.id, &self.merged_dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real overlay over a tempdir; `None` when not root.
    fn overlay(tmp: &Path) -> Option<RootfsSnapshot> {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipping: mounting needs root");
            return None;
        }
        let snap = RootfsSnapshot {
            lower_dirs: vec![tmp.join("lower")],
            upper_dir: tmp.join("upper"),
            work_dir: tmp.join("work"),
            merged_dir: tmp.join("merged"),
        };
        for d in ["lower", "upper", "work", "merged"] {
            std::fs::create_dir_all(tmp.join(d)).unwrap();
        }
        std::fs::write(tmp.join("lower/f"), "x").unwrap();
        Some(snap)
    }

    fn mounted(s: &RootfsSnapshot) -> bool {
        snapshot::is_mounted(&s.merged_dir).unwrap()
    }

    #[test]
    fn the_last_holder_unmounts() {
        let tmp = tempfile::tempdir().unwrap();
        let Some(s) = overlay(tmp.path()) else { return };
        let m = Arc::new(RootfsMounts::default());

        // A copy of a stopped container, during which it starts and stops.
        let lease = m.lease("c", &s).unwrap();
        assert!(mounted(&s) && tmp.path().join("merged/f").exists());
        m.hold_running("c", &s).unwrap();
        m.release_running("c", &s.merged_dir);
        assert!(mounted(&s), "stop must leave the copy's mount");
        assert_eq!(m.leases("c"), 1);
        drop(lease);
        assert!(!mounted(&s), "the last lease unmounts");

        // A copy of a running container that stops meanwhile.
        m.hold_running("c", &s).unwrap();
        let a = m.lease("c", &s).unwrap();
        let b = m.lease("c", &s).unwrap();
        drop(a);
        assert!(mounted(&s), "the container still runs");
        m.release_running("c", &s.merged_dir);
        assert!(mounted(&s), "a lease is left");
        drop(b);
        assert!(!mounted(&s));
        assert_eq!(m.leases("c"), 0);

        // Cleanup without a start (restore, failed start) still unmounts.
        s.mount(&s.merged_dir).unwrap();
        m.release_running("c", &s.merged_dir);
        assert!(!mounted(&s));
    }
}
