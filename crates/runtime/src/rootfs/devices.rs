//! Device nodes and the standard /dev symlinks inside the rootfs.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use nix::unistd::{chown, Gid, Uid};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use super::mounts::ensure_file;
use super::secure_path::secure_join;
use crate::error::{Context, Result};

/// A device node to create: path inside the container, kind and numbers.
struct DeviceNode {
    path: String,
    kind: SFlag,
    major: u64,
    minor: u64,
    mode: u32,
    uid: u32,
    gid: u32,
}

/// The devices every container gets, as runc creates them.
const DEFAULT_DEVICES: &[(&str, u64, u64)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// Creates the default devices plus the spec's `linux.devices`. In a user
/// namespace mknod is not allowed, so host devices are bind mounted instead.
pub fn create_devices(rootfs: &Path, spec_devices: &[LinuxDevice], bind: bool) -> Result<()> {
    let mut nodes: Vec<DeviceNode> = DEFAULT_DEVICES
        .iter()
        .filter(|(p, ..)| !spec_devices.iter().any(|d| d.path() == Path::new(p)))
        .map(|&(path, major, minor)| DeviceNode {
            path: path.to_string(),
            kind: SFlag::S_IFCHR,
            major,
            minor,
            mode: 0o666,
            uid: 0,
            gid: 0,
        })
        .collect();
    nodes.extend(spec_devices.iter().map(from_spec));
    for node in &nodes {
        let dest = secure_join(rootfs, Path::new(&node.path))?;
        if bind {
            bind_device(&node.path, &dest)?;
        } else {
            make_node(node, &dest)?;
        }
    }
    Ok(())
}

fn from_spec(d: &LinuxDevice) -> DeviceNode {
    let kind = match d.typ() {
        LinuxDeviceType::B => SFlag::S_IFBLK,
        LinuxDeviceType::P => SFlag::S_IFIFO,
        _ => SFlag::S_IFCHR,
    };
    DeviceNode {
        path: d.path().to_string_lossy().into_owned(),
        kind,
        major: d.major() as u64,
        minor: d.minor() as u64,
        mode: d.file_mode().unwrap_or(0o666),
        uid: d.uid().unwrap_or(0),
        gid: d.gid().unwrap_or(0),
    }
}

fn make_node(node: &DeviceNode, dest: &Path) -> Result<()> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).context_with(|| format!("mkdir {}", parent.display()))?;
    }
    let _ = fs::remove_file(dest);
    let perm = Mode::from_bits_truncate(node.mode & 0o7777);
    mknod(dest, node.kind, perm, makedev(node.major, node.minor))
        .context_with(|| format!("mknod {}", node.path))?;
    // mknod honours the umask; set the mode the spec asked for.
    nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        dest,
        perm,
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .context_with(|| format!("chmod {}", node.path))?;
    chown(
        dest,
        Some(Uid::from_raw(node.uid)),
        Some(Gid::from_raw(node.gid)),
    )
    .context_with(|| format!("chown {}", node.path))
}

fn bind_device(host_path: &str, dest: &Path) -> Result<()> {
    ensure_file(dest)?;
    mount(
        Some(host_path),
        dest,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .context_with(|| format!("bind device {host_path}"))
}

/// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx -> pts/ptmx.
pub fn create_dev_symlinks(rootfs: &Path) -> Result<()> {
    let dev = secure_join(rootfs, Path::new("/dev"))?;
    fs::create_dir_all(&dev).context("mkdir /dev")?;
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    for (target, name) in links {
        let link = dev.join(name);
        if fs::symlink_metadata(&link).is_ok() {
            continue;
        }
        symlink(target, &link).context_with(|| format!("symlink /dev/{name}"))?;
    }
    // The pts instance's ptmx is the one that works with newinstance devpts.
    if dev.join("pts/ptmx").exists() {
        let ptmx = dev.join("ptmx");
        let _ = fs::remove_file(&ptmx);
        symlink("pts/ptmx", &ptmx).context("symlink /dev/ptmx")?;
    }
    Ok(())
}
