//! Building the container's root filesystem inside its mount namespace:
//! propagation, the spec's mounts, devices, pivot_root, masked and
//! read-only paths, and the read-only root.

mod devices;
mod mount_options;
mod mounts;
mod pivot;
pub mod secure_path;

use std::fs;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::error::{Context, Result};
pub use mounts::ensure_file;
use mounts::{mount_entry, remount_bind, MountContext};

/// Everything needed to prepare a rootfs besides the spec.
pub struct RootfsPlan<'a> {
    /// The spec being run.
    pub spec: &'a Spec,
    /// The absolute rootfs path on the host.
    pub rootfs: &'a Path,
    /// The container's cgroup path below each hierarchy root.
    pub cgroup_path: &'a str,
    /// Whether the container runs in its own user namespace (no mknod).
    pub in_userns: bool,
}

/// Mounts everything the container sees, while the host root is still
/// reachable. Runs in the container's new mount namespace.
pub fn prepare(plan: &RootfsPlan) -> Result<()> {
    let linux = plan.spec.linux().as_ref();
    let propagation =
        mount_options::rootfs_propagation(linux.and_then(|l| l.rootfs_propagation().as_deref()))
            .unwrap_or(MsFlags::MS_SLAVE | MsFlags::MS_REC);
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        propagation | MsFlags::MS_REC,
        None::<&str>,
    )
    .context("set root propagation")?;
    make_parent_private(plan.rootfs)?;
    mount(
        Some(plan.rootfs),
        plan.rootfs,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .context_with(|| format!("bind rootfs {}", plan.rootfs.display()))?;

    let cgroupns = linux
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == LinuxNamespaceType::Cgroup));
    let ctx = MountContext {
        rootfs: plan.rootfs,
        cgroup_path: plan.cgroup_path,
        cgroupns,
    };
    for m in plan.spec.mounts().as_deref().unwrap_or(&[]) {
        mount_entry(&ctx, m)?;
    }
    let spec_devices = linux.and_then(|l| l.devices().clone()).unwrap_or_default();
    devices::create_devices(plan.rootfs, &spec_devices, plan.in_userns)?;
    devices::create_dev_symlinks(plan.rootfs)
}

/// pivot_root into the rootfs (or move + chroot when `no_pivot`).
pub fn enter(rootfs: &Path, no_pivot: bool) -> Result<()> {
    if no_pivot {
        pivot::move_into(rootfs)
    } else {
        pivot::pivot_into(rootfs)
    }
}

/// After the pivot: masked paths, read-only paths and a read-only root.
pub fn finalize(spec: &Spec) -> Result<()> {
    if let Some(linux) = spec.linux() {
        for p in linux.masked_paths().as_deref().unwrap_or(&[]) {
            mask_path(Path::new(p))?;
        }
        for p in linux.readonly_paths().as_deref().unwrap_or(&[]) {
            readonly_path(Path::new(p))?;
        }
    }
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        remount_bind(Path::new("/"), MsFlags::MS_RDONLY, MsFlags::empty())?;
    }
    Ok(())
}

/// Hides a path: /dev/null over a file, an empty read-only tmpfs over a dir.
fn mask_path(path: &Path) -> Result<()> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).context_with(|| format!("stat {}", path.display())),
    };
    let r = if meta.is_dir() {
        mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
    } else {
        mount(
            Some("/dev/null"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
    };
    r.context_with(|| format!("mask {}", path.display()))
}

/// Makes a path read-only by binding it onto itself and remounting.
fn readonly_path(path: &Path) -> Result<()> {
    match mount(
        Some(path),
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    ) {
        Err(Errno::ENOENT) => return Ok(()),
        r => r.context_with(|| format!("bind {}", path.display()))?,
    }
    remount_bind(path, MsFlags::MS_RDONLY | MsFlags::MS_REC, MsFlags::empty())
}

/// pivot_root refuses a new root whose parent mount is shared: make that
/// parent private (runc's rootfsParentMountPrivate).
fn make_parent_private(rootfs: &Path) -> Result<()> {
    let info = fs::read_to_string("/proc/self/mountinfo").context("read mountinfo")?;
    let mut best: Option<(&str, bool)> = None;
    for line in info.lines() {
        let Some((pre, _)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = pre.split_whitespace().collect();
        let Some(mp) = fields.get(4) else { continue };
        let inside = rootfs.starts_with(mp);
        if inside && best.is_none_or(|(b, _)| mp.len() >= b.len()) {
            let shared = fields[6..].iter().any(|f| f.starts_with("shared:"));
            best = Some((mp, shared));
        }
    }
    if let Some((mp, true)) = best {
        mount(
            None::<&str>,
            mp,
            None::<&str>,
            MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .context_with(|| format!("make {mp} private"))?;
    }
    Ok(())
}
