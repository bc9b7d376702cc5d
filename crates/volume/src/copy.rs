//! Pre-filling a new volume from the image (moby `copyExistingContents`):
//! the first time an empty volume is mounted over a path the image has
//! content at, that content is copied in, keeping owners, modes, times,
//! xattrs, symlinks, hard links and special files.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fchmodat, fstat, futimens, mkdirat, mknodat, utimensat};
use nix::sys::stat::{FchmodatFlags, FileStat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, linkat, symlinkat, Gid, Uid};

use crate::error::{Result, VolumeError};
use crate::fsx::{self, sys};

/// Whether `dir` has no entries (a missing directory counts as empty).
pub fn is_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut rd) => Ok(rd.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(VolumeError::io(format!("read {}", dir.display()), e)),
    }
}

/// Copies everything under `src` into `dst` (which exists), and gives
/// `dst` itself `src`'s owner and mode, as Docker does. Symlinks are copied
/// as links and never followed, so content cannot escape `dst`.
pub fn copy_dir_contents(src: &Path, dst: &Path) -> Result<()> {
    let src_fd = fsx::open_dir(src).map_err(|e| sys(format!("open {}", src.display()), e))?;
    let dst_fd = fsx::open_dir(dst).map_err(|e| sys(format!("open {}", dst.display()), e))?;
    let mut copier = Copier {
        dst_root: dst_fd.as_fd(),
        links: HashMap::new(),
        src_root: src,
    };
    copier.copy_dir(src_fd.as_fd(), dst_fd.as_fd(), Path::new(""))?;
    let st = fstat(src_fd.as_fd()).map_err(|e| sys(format!("stat {}", src.display()), e))?;
    set_owner_mode_fd(dst_fd.as_fd(), &st).map_err(|e| sys(format!("chown {}", dst.display()), e))
}

/// One copy in progress.
struct Copier<'a> {
    /// The destination root, the base of the relative paths in `links`.
    dst_root: BorrowedFd<'a>,
    /// Where each multiply-linked source inode (dev, ino) was first copied,
    /// relative to `dst_root`, so later names become hard links to it.
    links: HashMap<(u64, u64), PathBuf>,
    /// For error messages.
    src_root: &'a Path,
}

impl Copier<'_> {
    fn copy_dir(&mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>, rel: &Path) -> Result<()> {
        let names = fsx::entries(src).map_err(|e| self.err("read", rel, e))?;
        for name in names {
            let child = rel.join(&name);
            self.copy_entry(src, dst, name.as_os_str(), &child)?;
        }
        Ok(())
    }

    fn copy_entry(
        &mut self,
        src_dir: BorrowedFd<'_>,
        dst_dir: BorrowedFd<'_>,
        name: &OsStr,
        rel: &Path,
    ) -> Result<()> {
        let st = fsx::lstat_at(src_dir, name).map_err(|e| self.err("stat", rel, e))?;
        let kind = fsx::kind(&st);
        if kind != SFlag::S_IFDIR && st.st_nlink > 1 {
            if let Some(first) = self.links.get(&(st.st_dev, st.st_ino)) {
                // AtFlags::empty(): linkat never dereferences `first`.
                return linkat(
                    self.dst_root,
                    first.as_path(),
                    dst_dir,
                    name,
                    AtFlags::empty(),
                )
                .map_err(|e| self.err("link", rel, e));
            }
        }
        match kind {
            SFlag::S_IFDIR => self.copy_subdir(src_dir, dst_dir, name, rel, &st)?,
            SFlag::S_IFREG => self.copy_file(src_dir, dst_dir, name, rel, &st)?,
            SFlag::S_IFLNK => {
                let target = readlinkat(src_dir, name).map_err(|e| self.err("readlink", rel, e))?;
                symlinkat(target.as_os_str(), dst_dir, name)
                    .map_err(|e| self.err("symlink", rel, e))?;
                self.finish_at(src_dir, dst_dir, name, rel, &st, false)?;
            }
            SFlag::S_IFIFO | SFlag::S_IFCHR | SFlag::S_IFBLK => {
                let perm = Mode::from_bits_truncate(st.st_mode & 0o7777);
                mknodat(dst_dir, name, kind, perm, st.st_rdev)
                    .map_err(|e| self.err("mknod", rel, e))?;
                self.finish_at(src_dir, dst_dir, name, rel, &st, true)?;
            }
            // Sockets belong to a process that is not coming along.
            _ => return Ok(()),
        }
        if kind != SFlag::S_IFDIR && st.st_nlink > 1 {
            self.links.insert((st.st_dev, st.st_ino), rel.to_path_buf());
        }
        Ok(())
    }

    fn copy_subdir(
        &mut self,
        src_dir: BorrowedFd<'_>,
        dst_dir: BorrowedFd<'_>,
        name: &OsStr,
        rel: &Path,
        st: &FileStat,
    ) -> Result<()> {
        match mkdirat(dst_dir, name, Mode::from_bits_truncate(0o700)) {
            // An existing directory (never a symlink: opened O_NOFOLLOW
            // below) is merged into.
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(self.err("mkdir", rel, e)),
        }
        let src_fd = fsx::open_dir_at(src_dir, name).map_err(|e| self.err("open", rel, e))?;
        let dst_fd = fsx::open_dir_at(dst_dir, name).map_err(|e| self.err("open", rel, e))?;
        self.copy_dir(src_fd.as_fd(), dst_fd.as_fd(), rel)?;
        // Metadata last: the children's creation changed the mtime, and a
        // read-only mode would have stopped them being written.
        set_owner_mode_fd(dst_fd.as_fd(), st).map_err(|e| self.err("chown", rel, e))?;
        copy_xattrs_fd(&src_fd, &dst_fd)
            .map_err(|e| VolumeError::io(self.shown("xattr", rel), e))?;
        futimens(dst_fd.as_fd(), &atime(st), &mtime(st)).map_err(|e| self.err("utimes", rel, e))
    }

    fn copy_file(
        &mut self,
        src_dir: BorrowedFd<'_>,
        dst_dir: BorrowedFd<'_>,
        name: &OsStr,
        rel: &Path,
        st: &FileStat,
    ) -> Result<()> {
        let src_flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let src = openat(src_dir, name, src_flags, Mode::empty())
            .map_err(|e| self.err("open", rel, e))?;
        let dst_flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let dst = openat(dst_dir, name, dst_flags, Mode::from_bits_truncate(0o600))
            .map_err(|e| self.err("create", rel, e))?;
        let (mut src, mut dst) = (File::from(src), File::from(dst));
        // std's copy uses copy_file_range/sendfile where it can.
        std::io::copy(&mut src, &mut dst)
            .map_err(|e| VolumeError::io(self.shown("copy", rel), e))?;
        let (src, dst) = (OwnedFd::from(src), OwnedFd::from(dst));
        set_owner_mode_fd(dst.as_fd(), st).map_err(|e| self.err("chown", rel, e))?;
        copy_xattrs_fd(&src, &dst).map_err(|e| VolumeError::io(self.shown("xattr", rel), e))?;
        futimens(dst.as_fd(), &atime(st), &mtime(st)).map_err(|e| self.err("utimes", rel, e))
    }

    /// Owner, mode (not for symlinks, which have none), xattrs and times of
    /// a just-made non-regular entry, all without following it.
    fn finish_at(
        &self,
        src_dir: BorrowedFd<'_>,
        dst_dir: BorrowedFd<'_>,
        name: &OsStr,
        rel: &Path,
        st: &FileStat,
        chmod: bool,
    ) -> Result<()> {
        fchownat(
            dst_dir,
            name,
            Some(Uid::from_raw(st.st_uid)),
            Some(Gid::from_raw(st.st_gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| self.err("chown", rel, e))?;
        if chmod {
            // Not a symlink (it was just made by mknod), so following is moot;
            // Linux has no lchmod.
            let mode = Mode::from_bits_truncate(st.st_mode & 0o7777);
            fchmodat(dst_dir, name, mode, FchmodatFlags::FollowSymlink)
                .map_err(|e| self.err("chmod", rel, e))?;
        }
        copy_xattrs_path(
            &fsx::fd_path(src_dir, Some(name)),
            &fsx::fd_path(dst_dir, Some(name)),
        )
        .map_err(|e| VolumeError::io(self.shown("xattr", rel), e))?;
        utimensat(
            dst_dir,
            name,
            &atime(st),
            &mtime(st),
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|e| self.err("utimes", rel, e))
    }

    fn shown(&self, what: &str, rel: &Path) -> String {
        format!("copy {}: {what}", self.src_root.join(rel).display())
    }

    fn err(&self, what: &str, rel: &Path, e: Errno) -> VolumeError {
        sys(self.shown(what, rel), e)
    }
}

/// chown then chmod (chown clears set-id bits, so the mode goes second).
fn set_owner_mode_fd(fd: BorrowedFd<'_>, st: &FileStat) -> nix::Result<()> {
    fchown(
        fd,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    )?;
    fchmod(fd, Mode::from_bits_truncate(st.st_mode & 0o7777))
}

fn atime(st: &FileStat) -> TimeSpec {
    TimeSpec::new(st.st_atime, st.st_atime_nsec)
}

fn mtime(st: &FileStat) -> TimeSpec {
    TimeSpec::new(st.st_mtime, st.st_mtime_nsec)
}

/// Whether an xattr failure means "this filesystem or namespace does not do
/// that" (skipped) rather than a real error.
fn xattr_unsupported(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP) | Some(libc::EPERM))
}

fn copy_xattrs_fd(src: &OwnedFd, dst: &OwnedFd) -> std::io::Result<()> {
    use xattr::FileExt;
    let (src, dst) = (File::from(src.try_clone()?), File::from(dst.try_clone()?));
    let names = match src.list_xattr() {
        Ok(n) => n,
        Err(e) if xattr_unsupported(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for name in names {
        if let Some(value) = src.get_xattr(&name)? {
            match dst.set_xattr(&name, &value) {
                Err(e) if !xattr_unsupported(&e) => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// xattrs by path; the `xattr` crate's path calls are the `l*` ones, which
/// do not follow a symlink in the last component.
fn copy_xattrs_path(src: &Path, dst: &Path) -> std::io::Result<()> {
    let names = match xattr::list(src) {
        Ok(n) => n,
        Err(e) if xattr_unsupported(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for name in names {
        if let Some(value) = xattr::get(src, &name)? {
            match xattr::set(dst, &name, &value) {
                Err(e) if !xattr_unsupported(&e) => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}
