//! Switching the process's root to the prepared rootfs.

use std::path::Path;

use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, chroot, fchdir, pivot_root};

use crate::error::{Context, Result};

/// pivot_root into `rootfs` and detach the old root (runc's way: pivot onto
/// itself, so no directory for the old root is needed inside the rootfs).
pub fn pivot_into(rootfs: &Path) -> Result<()> {
    let flags = OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let old_root = open("/", flags, Mode::empty()).context("open /")?;
    let new_root = open(rootfs, flags, Mode::empty()).context("open rootfs")?;
    fchdir(&new_root).context("chdir rootfs")?;
    pivot_root(".", ".").context("pivot_root")?;
    fchdir(&old_root).context("chdir old root")?;
    // Keep the unmount from propagating back to the host.
    mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .context("make old root rslave")?;
    umount2(".", MntFlags::MNT_DETACH).context("unmount old root")?;
    chdir("/").context("chdir /")
}

/// The fallback when pivot_root is not possible (e.g. an initramfs root):
/// move the rootfs over `/` and chroot into it. Used only when asked.
pub fn move_into(rootfs: &Path) -> Result<()> {
    chdir(rootfs).context("chdir rootfs")?;
    mount(
        Some(rootfs),
        "/",
        None::<&str>,
        MsFlags::MS_MOVE,
        None::<&str>,
    )
    .context("move rootfs to /")?;
    chroot(".").context("chroot")?;
    chdir("/").context("chdir /")
}
