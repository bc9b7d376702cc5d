//! Network namespaces pinned as files (what `ip netns` and libnetwork do):
//! a namespace bind-mounted on `<exec root>/netns/<id>` outlives the
//! thread that made it, a container's runtime joins it by that path, and
//! removing the file lets the kernel free the namespace with every link
//! still inside it.
//!
//! Entering a namespace is per thread (`setns`), so every function here
//! that works inside one runs on a short-lived thread of its own and never
//! moves the caller.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::error::{NetworkError, Result};
use crate::netlink::{LinkChange, Netlink};

/// Creates a new network namespace pinned at `path` (which must not
/// exist), with its loopback up.
pub fn create(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| NetworkError::io(format!("creating {}", dir.display()), e))?;
    }
    std::thread::scope(|s| {
        s.spawn(|| -> Result<()> {
            unshare(CloneFlags::CLONE_NEWNET)
                .map_err(|e| NetworkError::System(format!("new network namespace: {e}")))?;
            File::options()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| NetworkError::io(format!("creating {}", path.display()), e))?;
            if let Err(e) = mount(
                Some("/proc/thread-self/ns/net"),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            ) {
                let _ = std::fs::remove_file(path);
                return Err(NetworkError::System(format!(
                    "pinning the network namespace at {}: {e}",
                    path.display()
                )));
            }
            loopback_up().inspect_err(|_| {
                let _ = remove(path);
            })
        })
        .join()
        .unwrap_or_else(|_| {
            Err(NetworkError::System(
                "network namespace thread panicked".into(),
            ))
        })
    })
}

fn loopback_up() -> Result<()> {
    let mut nl = Netlink::open()?;
    let lo = nl.require_link("lo")?;
    nl.set_link(
        lo,
        &LinkChange {
            up: true,
            ..Default::default()
        },
    )
}

/// Runs `f` on a thread inside the network namespace pinned at `path`.
pub fn run_in<T: Send>(path: &Path, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    let ns =
        File::open(path).map_err(|e| NetworkError::io(format!("opening {}", path.display()), e))?;
    std::thread::scope(|s| {
        s.spawn(move || {
            setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)
                .map_err(|e| NetworkError::System(format!("entering {}: {e}", path.display())))?;
            f()
        })
        .join()
        .unwrap_or_else(|_| {
            Err(NetworkError::System(
                "network namespace thread panicked".into(),
            ))
        })
    })
}

/// Unpins the namespace at `path` and removes the file. A missing file is
/// not an error, so removal can be retried after a crash.
pub fn remove(path: &Path) -> Result<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => {
            return Err(NetworkError::System(format!(
                "unmounting {}: {e}",
                path.display()
            )))
        }
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetworkError::io(format!("removing {}", path.display()), e)),
    }
}

/// Whether `path` holds a pinned network namespace.
pub fn is_pinned(path: &Path) -> bool {
    // A pinned file is an nsfs mount: its device differs from its directory's.
    use std::os::unix::fs::MetadataExt;
    match (
        std::fs::metadata(path),
        path.parent().map(std::fs::metadata),
    ) {
        (Ok(f), Some(Ok(d))) => f.dev() != d.dev(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_enter_remove() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ns1");
        create(&path).unwrap();
        assert!(is_pinned(&path));
        // A second create on the same path refuses rather than replacing it.
        assert!(create(&path).is_err());
        assert!(is_pinned(&path), "a failed create must not unpin the first");
        let (lo_up, links) = run_in(&path, || {
            let mut nl = Netlink::open()?;
            let lo = nl.require_link("lo")?;
            let addrs = nl.addresses(lo)?;
            Ok((
                addrs.iter().any(|a| a.addr().is_loopback()),
                nl.link_index("eth0")?,
            ))
        })
        .unwrap();
        assert!(lo_up, "loopback is up with 127.0.0.1");
        assert_eq!(links, None, "a new namespace has no eth0");
        remove(&path).unwrap();
        assert!(!path.exists());
        remove(&path).unwrap();
    }
}
