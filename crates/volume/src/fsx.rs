//! Filesystem helpers shared by the driver, the store and the copy: walking
//! directories through file descriptors so a symlink planted in a volume
//! (by a container, which owns the data) is never followed, removing such
//! trees robustly, atomic small-file writes and mount checks.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag, AT_FDCWD};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use crate::error::{Result, VolumeError};

/// Opens the directory at `path`, refusing a symlink as its last component.
pub(crate) fn open_dir(path: &Path) -> nix::Result<OwnedFd> {
    openat(AT_FDCWD, path, dir_flags(), Mode::empty())
}

/// Opens the directory `name` inside `dir`, refusing a symlink.
pub(crate) fn open_dir_at(dir: BorrowedFd<'_>, name: &OsStr) -> nix::Result<OwnedFd> {
    openat(dir, name, dir_flags(), Mode::empty())
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// `lstat` of `name` inside `dir`.
pub(crate) fn lstat_at(dir: BorrowedFd<'_>, name: &OsStr) -> nix::Result<FileStat> {
    fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
}

/// The names in the directory open as `dir`, without `.` and `..`.
pub(crate) fn entries(dir: BorrowedFd<'_>) -> nix::Result<Vec<OsString>> {
    // A fresh descriptor for the stream, so `dir`'s own offset is untouched.
    let mut stream = Dir::openat(dir, ".", dir_flags(), Mode::empty())?;
    let mut names = Vec::new();
    for entry in stream.iter() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    Ok(names)
}

/// The file type bits of a stat.
pub(crate) fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// A path naming `name` inside the directory open as `dir`, for the few
/// calls that only take paths (xattrs, chmod through an `O_PATH`-less fd).
/// `/proc/self/fd/N` resolves to the directory itself, so nothing before
/// `name` can be swapped for a symlink.
pub(crate) fn fd_path(dir: BorrowedFd<'_>, name: Option<&OsStr>) -> PathBuf {
    let mut p = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    if let Some(name) = name {
        p.push(name);
    }
    p
}

/// Removes `path` and everything under it without following symlinks and
/// without entering another mount (a mount left inside a volume is refused
/// rather than emptied: it may be a bind of a host directory). Directories
/// a non-root caller cannot enter or write are made accessible first. A
/// missing `path` is not an error.
pub(crate) fn remove_tree(path: &Path) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let name = match path.file_name() {
        Some(n) => n,
        None => {
            return Err(VolumeError::System(format!(
                "refusing to remove {}",
                path.display()
            )))
        }
    };
    let parent_fd = open_dir(parent).map_err(|e| sys(format!("open {}", parent.display()), e))?;
    let st = match lstat_at(parent_fd.as_fd(), name) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(sys(format!("stat {}", path.display()), e)),
    };
    if let Some(mp) = mount_under(path)? {
        return Err(foreign_mount(&mp));
    }
    // The mount the tree lives on: every directory entered must be on it.
    // st_dev alone misses a bind mount from the same filesystem, the mount
    // ID does not (where the kernel reports it).
    let fence = Fence {
        dev: st.st_dev,
        mnt: match open_dir_at(parent_fd.as_fd(), name) {
            Ok(fd) => mount_id(fd.as_fd()),
            Err(_) => None,
        },
    };
    remove_entry(parent_fd.as_fd(), name, &fence, path)
}

/// Where a removal may go: one filesystem, one mount.
struct Fence {
    dev: u64,
    mnt: Option<u64>,
}

impl Fence {
    fn admits(&self, dir: BorrowedFd<'_>, st: &FileStat) -> bool {
        st.st_dev == self.dev
            && match (self.mnt, mount_id(dir)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// The mount ID of the file open as `fd` (statx `STATX_MNT_ID`, Linux 5.8).
fn mount_id(fd: BorrowedFd<'_>) -> Option<u64> {
    // SAFETY: statx writes only into `stx`; the empty path with
    // AT_EMPTY_PATH names `fd` itself.
    unsafe {
        let mut stx: libc::statx = std::mem::zeroed();
        let rc = libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_MNT_ID,
            &mut stx,
        );
        (rc == 0 && stx.stx_mask & libc::STATX_MNT_ID != 0).then_some(stx.stx_mnt_id)
    }
}

/// The first mount point at or below `path`, if any.
pub(crate) fn mount_under(path: &Path) -> Result<Option<PathBuf>> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let info = std::fs::read("/proc/self/mountinfo")
        .map_err(|e| VolumeError::io("read /proc/self/mountinfo", e))?;
    Ok(info.split(|&b| b == b'\n').find_map(|line| {
        let field = line.split(|&b| b == b' ').nth(4)?;
        let mp = PathBuf::from(OsStr::from_bytes(&unescape_mountinfo(field)));
        mp.starts_with(&path).then_some(mp)
    }))
}

fn remove_entry(parent: BorrowedFd<'_>, name: &OsStr, fence: &Fence, shown: &Path) -> Result<()> {
    let st = match lstat_at(parent, name) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(sys(format!("stat {}", shown.display()), e)),
    };
    if kind(&st) != SFlag::S_IFDIR {
        return match unlinkat(parent, name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(Errno::EACCES) | Err(Errno::EPERM) => {
                make_accessible(parent)?;
                match unlinkat(parent, name, UnlinkatFlags::NoRemoveDir) {
                    Ok(()) | Err(Errno::ENOENT) => Ok(()),
                    Err(e) => Err(sys(format!("remove {}", shown.display()), e)),
                }
            }
            Err(e) => Err(sys(format!("remove {}", shown.display()), e)),
        };
    }
    if st.st_dev != fence.dev {
        return Err(foreign_mount(shown));
    }
    let dir = match open_dir_at(parent, name) {
        Ok(fd) => fd,
        Err(Errno::EACCES) => {
            chmod_entry(parent, name, 0o700, shown)?;
            open_dir_at(parent, name).map_err(|e| sys(format!("open {}", shown.display()), e))?
        }
        Err(e) => return Err(sys(format!("open {}", shown.display()), e)),
    };
    let st = fstat(dir.as_fd()).map_err(|e| sys(format!("stat {}", shown.display()), e))?;
    if !fence.admits(dir.as_fd(), &st) {
        return Err(foreign_mount(shown));
    }
    let names = match entries(dir.as_fd()) {
        Ok(n) => n,
        Err(Errno::EACCES) => {
            make_accessible(dir.as_fd())?;
            entries(dir.as_fd()).map_err(|e| sys(format!("read {}", shown.display()), e))?
        }
        Err(e) => return Err(sys(format!("read {}", shown.display()), e)),
    };
    for child in names {
        remove_entry(dir.as_fd(), &child, fence, &shown.join(&child))?;
    }
    drop(dir);
    match unlinkat(parent, name, UnlinkatFlags::RemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(Errno::EACCES) | Err(Errno::EPERM) => {
            make_accessible(parent)?;
            unlinkat(parent, name, UnlinkatFlags::RemoveDir)
                .map_err(|e| sys(format!("remove {}", shown.display()), e))
        }
        Err(e) => Err(sys(format!("remove {}", shown.display()), e)),
    }
}

/// A mount found inside a tree being removed: it may be a host directory
/// (a bind), so it is left alone and the removal fails.
pub(crate) fn foreign_mount(shown: &Path) -> VolumeError {
    VolumeError::System(format!(
        "refusing to remove {}: it is a mount point",
        shown.display()
    ))
}

/// Gives the owner full access to the directory open as `dir`.
fn make_accessible(dir: BorrowedFd<'_>) -> Result<()> {
    let st = fstat(dir).map_err(|e| sys("stat", e))?;
    nix::sys::stat::fchmod(dir, Mode::from_bits_truncate((st.st_mode & 0o7777) | 0o700))
        .map_err(|e| sys("chmod", e))
}

/// chmod of a directory we cannot open yet: through an `O_PATH` descriptor
/// opened with `O_NOFOLLOW`, so a symlink swapped in is never chmod-ed.
fn chmod_entry(parent: BorrowedFd<'_>, name: &OsStr, mode: u32, shown: &Path) -> Result<()> {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = openat(parent, name, flags, Mode::empty())
        .map_err(|e| sys(format!("open {}", shown.display()), e))?;
    std::fs::set_permissions(
        fd_path(fd.as_fd(), None),
        std::os::unix::fs::PermissionsExt::from_mode(mode),
    )
    .map_err(|e| VolumeError::io(format!("chmod {}", shown.display()), e))
}

/// Writes `data` to `path` atomically: a temporary file in the same
/// directory, fsync-ed, then renamed over `path`, then the directory
/// fsync-ed, so a crash leaves either the old or the new content.
pub(crate) fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{file_name}.tmp"));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        VolumeError::io(format!("write {}", path.display()), e)
    })
}

/// Whether something is mounted exactly at `path` (which must be canonical),
/// per /proc/self/mountinfo.
pub(crate) fn is_mounted(path: &Path) -> Result<bool> {
    let info = std::fs::read("/proc/self/mountinfo")
        .map_err(|e| VolumeError::io("read /proc/self/mountinfo", e))?;
    let want = path.as_os_str().as_bytes();
    Ok(info.split(|&b| b == b'\n').any(|line| {
        line.split(|&b| b == b' ')
            .nth(4)
            .is_some_and(|field| unescape_mountinfo(field) == want)
    }))
}

/// Undoes mountinfo's octal escapes (`\040` for a space, ...).
fn unescape_mountinfo(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' && i + 4 <= field.len() {
            let oct = &field[i + 1..i + 4];
            if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                out.push((oct[0] - b'0') * 64 + (oct[1] - b'0') * 8 + (oct[2] - b'0'));
                i += 4;
                continue;
            }
        }
        out.push(field[i]);
        i += 1;
    }
    out
}

/// A [`VolumeError::System`] for a failed syscall while doing `what`.
pub(crate) fn sys(what: impl std::fmt::Display, e: Errno) -> VolumeError {
    VolumeError::io(what, std::io::Error::from(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_id_tells_a_same_filesystem_bind_apart() {
        let top = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        let sub = top.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        nix::mount::mount(
            Some(host.path()),
            &sub,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )
        .unwrap();
        let top_fd = open_dir(top.path()).unwrap();
        let sub_fd = open_dir(&sub).unwrap();
        let (a, b) = (mount_id(top_fd.as_fd()), mount_id(sub_fd.as_fd()));
        let same_dev =
            fstat(top_fd.as_fd()).unwrap().st_dev == fstat(sub_fd.as_fd()).unwrap().st_dev;
        let fence = Fence {
            dev: fstat(top_fd.as_fd()).unwrap().st_dev,
            mnt: a,
        };
        let admitted = fence.admits(sub_fd.as_fd(), &fstat(sub_fd.as_fd()).unwrap());
        drop(sub_fd);
        nix::mount::umount2(&sub, nix::mount::MntFlags::MNT_DETACH).unwrap();
        assert!(a.is_some() && b.is_some());
        assert_ne!(a, b);
        assert!(same_dev, "both temp dirs are on one filesystem");
        assert!(!admitted);
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mountinfo(br"/a\040b\134c"), b"/a b\\c");
        assert_eq!(unescape_mountinfo(br"/x\04"), br"/x\04");
    }
}
