//! Mounting each of the spec's `mounts` into the not-yet-pivoted rootfs.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};
use oci_spec::runtime::Mount;

use super::mount_options::MountOptions;
use super::secure_path::secure_join;
use crate::error::{Context, Error, Result};

/// What mounting needs to know beyond the mount entry itself.
pub struct MountContext<'a> {
    /// The rootfs on the host side (before pivot).
    pub rootfs: &'a Path,
    /// The container's cgroup path below each hierarchy root.
    pub cgroup_path: &'a str,
    /// Whether the container has its own cgroup namespace.
    pub cgroupns: bool,
}

/// Mounts one spec entry at its destination inside the rootfs.
pub fn mount_entry(ctx: &MountContext, m: &Mount) -> Result<()> {
    let dest = secure_join(ctx.rootfs, m.destination())?;
    let typ = m.typ().as_deref().unwrap_or("none");
    let opts = MountOptions::parse(m.options().as_deref().unwrap_or(&[]));
    match typ {
        "cgroup" | "cgroup2" => mount_cgroup(ctx, &dest, &opts),
        _ if opts.is_bind() || typ == "bind" => mount_bind(m, &dest, &opts),
        _ => mount_fs(m, typ, &dest, &opts),
    }?;
    apply_propagation(&dest, &opts.propagation)
}

fn mount_bind(m: &Mount, dest: &Path, opts: &MountOptions) -> Result<()> {
    let source = m
        .source()
        .as_ref()
        .ok_or_else(|| Error::Spec(format!("bind mount {:?} has no source", m.destination())))?;
    let meta =
        fs::metadata(source).context_with(|| format!("bind mount source {}", source.display()))?;
    if meta.is_dir() {
        fs::create_dir_all(dest).context_with(|| format!("mkdir {}", dest.display()))?;
    } else {
        ensure_file(dest)?;
    }
    let rec = opts.flags & MsFlags::MS_REC;
    mount(
        Some(source.as_path()),
        dest,
        None::<&str>,
        MsFlags::MS_BIND | rec,
        None::<&str>,
    )
    .context_with(|| format!("bind mount {} on {}", source.display(), dest.display()))?;
    let extra = opts.remount_flags();
    if !extra.is_empty() {
        remount_bind(dest, extra, opts.cleared)?;
    }
    Ok(())
}

fn mount_fs(m: &Mount, typ: &str, dest: &Path, opts: &MountOptions) -> Result<()> {
    fs::create_dir_all(dest).context_with(|| format!("mkdir {}", dest.display()))?;
    let source = m.source().clone().unwrap_or_else(|| PathBuf::from(typ));
    let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
    match mount(Some(source.as_path()), dest, Some(typ), opts.flags, data) {
        // Without its own network namespace a container may not mount sysfs;
        // runc binds the host's /sys instead.
        Err(Errno::EPERM) if typ == "sysfs" => {
            mount(
                Some("/sys"),
                dest,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .context("bind /sys")?;
            remount_bind(dest, opts.flags, opts.cleared)
        }
        r => r.context_with(|| format!("mount {typ} on {}", dest.display())),
    }
}

/// Remounts a bind mount with `flags`, keeping the flags the kernel locks
/// (nosuid, nodev, noexec of the source) unless the spec cleared them.
pub fn remount_bind(dest: &Path, flags: MsFlags, cleared: MsFlags) -> Result<()> {
    let locked = existing_lock_flags(dest) - cleared;
    let all = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags | locked;
    mount(None::<&str>, dest, None::<&str>, all, None::<&str>)
        .context_with(|| format!("remount {} with {flags:?}", dest.display()))
}

/// The nosuid/nodev/noexec flags a mount already carries.
fn existing_lock_flags(path: &Path) -> MsFlags {
    let Ok(st) = statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut out = MsFlags::empty();
    if f.contains(FsFlags::ST_NOSUID) {
        out |= MsFlags::MS_NOSUID;
    }
    if f.contains(FsFlags::ST_NODEV) {
        out |= MsFlags::MS_NODEV;
    }
    if f.contains(FsFlags::ST_NOEXEC) {
        out |= MsFlags::MS_NOEXEC;
    }
    out
}

fn apply_propagation(dest: &Path, propagation: &[MsFlags]) -> Result<()> {
    for p in propagation {
        mount(None::<&str>, dest, None::<&str>, *p, None::<&str>)
            .context_with(|| format!("set propagation {p:?} on {}", dest.display()))?;
    }
    Ok(())
}

/// Creates an empty file to bind a file onto, with its parent dirs.
pub fn ensure_file(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).context_with(|| format!("mkdir {}", parent.display()))?;
    }
    if fs::symlink_metadata(path).is_err() {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .context_with(|| format!("create {}", path.display()))?;
    }
    Ok(())
}

/// A host cgroup v1 hierarchy: its mount point and its super options.
struct V1Hierarchy {
    mount_point: PathBuf,
    options: String,
}

/// The cgroup v1 hierarchies mounted on the host (from mountinfo).
fn v1_hierarchies() -> Result<Vec<V1Hierarchy>> {
    let info = fs::read_to_string("/proc/self/mountinfo").context("read mountinfo")?;
    Ok(info
        .lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            let mut post = post.split_whitespace();
            if post.next()? != "cgroup" {
                return None;
            }
            let super_opts = post.nth(1)?;
            let mount_point = PathBuf::from(pre.split_whitespace().nth(4)?);
            let options = super_opts
                .split(',')
                .filter(|o| *o != "rw" && *o != "ro")
                .collect::<Vec<_>>()
                .join(",");
            Some(V1Hierarchy {
                mount_point,
                options,
            })
        })
        .collect())
}

fn is_cgroup2_host() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// Mounts the container's view of the cgroup filesystem.
fn mount_cgroup(ctx: &MountContext, dest: &Path, opts: &MountOptions) -> Result<()> {
    fs::create_dir_all(dest).context_with(|| format!("mkdir {}", dest.display()))?;
    let flags = opts.flags - MsFlags::MS_BIND - MsFlags::MS_REC;
    if is_cgroup2_host() {
        if ctx.cgroupns {
            return mount(Some("cgroup2"), dest, Some("cgroup2"), flags, None::<&str>)
                .context("mount cgroup2");
        }
        let src = Path::new("/sys/fs/cgroup").join(ctx.cgroup_path);
        mount(
            Some(&src),
            dest,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .context("bind cgroup2")?;
        return remount_bind(dest, flags, opts.cleared);
    }
    // v1 (or hybrid): a tmpfs holding one directory per hierarchy.
    let tmpfs_flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(
        Some("tmpfs"),
        dest,
        Some("tmpfs"),
        tmpfs_flags,
        Some("mode=755"),
    )
    .context("mount cgroup tmpfs")?;
    for h in v1_hierarchies()? {
        let Some(name) = h.mount_point.file_name() else {
            continue;
        };
        let target = dest.join(name);
        fs::create_dir_all(&target).context_with(|| format!("mkdir {}", target.display()))?;
        if ctx.cgroupns {
            mount(
                Some("cgroup"),
                &target,
                Some("cgroup"),
                flags,
                Some(h.options.as_str()),
            )
            .context_with(|| format!("mount cgroup {}", h.options))?;
        } else {
            let src = h.mount_point.join(ctx.cgroup_path);
            if !src.exists() {
                continue;
            }
            mount(
                Some(&src),
                &target,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .context_with(|| format!("bind {}", src.display()))?;
            remount_bind(&target, flags, opts.cleared)?;
        }
    }
    // Like runc, the tmpfs itself stays writable; the hierarchies are ro.
    Ok(())
}
