//! Removing a directory tree without ever leaving it.
//!
//! Layer and snapshot trees come from untrusted images: they hold overlay
//! whiteouts (0/0 character devices), symlinks pointing anywhere, and
//! directories with hostile modes (`0000`, `0500`). [`remove_tree`] deletes
//! such a tree using only `*at` syscalls relative to directory fds opened
//! with `O_NOFOLLOW`, so no symlink is ever followed; directories lacking
//! `u+rwx` are chmodded first; and it refuses to descend into anything on
//! another mount (checked by mount ID, falling back to the device number),
//! so a still-mounted overlay or bind mount inside the tree is never emptied.
//!
//! It keeps one directory fd open at a time (climbing back up through `..`,
//! verified by device and inode), so arbitrarily deep trees need neither
//! deep recursion nor many file descriptors.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::dir::{Dir, Type};
use nix::fcntl::{open, openat, AtFlags, OFlag};
use nix::sys::stat::{fchmodat, fstat, fstatat, FchmodatFlags, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Where a directory lives: `(st_dev, st_ino)`.
type Ident = (u64, u64);

/// One directory on the way down: who it is, its name in its parent and the
/// subdirectories still to be emptied and removed.
struct Frame {
    ident: Ident,
    name: CString,
    pending: Vec<CString>,
}

/// Removes `path` and everything below it. A missing `path` is not an
/// error; a symlink or other non-directory at `path` is unlinked itself
/// (never followed). The parent of `path` is resolved normally.
pub(crate) fn remove_tree(path: &Path) -> io::Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to remove a path without a final component",
        ));
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let parent_fd = match open(
        parent,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(nix::Error::ENOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let name = cstring(name)?;
    let st = match fstatat(&parent_fd, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(nix::Error::ENOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if !is_dir_mode(st.st_mode) {
        return ignore_enoent(unlinkat(
            &parent_fd,
            name.as_c_str(),
            UnlinkatFlags::NoRemoveDir,
        ));
    }
    empty_dir(&parent_fd, name.clone())?;
    ignore_enoent(unlinkat(
        &parent_fd,
        name.as_c_str(),
        UnlinkatFlags::RemoveDir,
    ))
}

/// Empties the directory `name` under `parent` (which stays in place).
fn empty_dir(parent: &OwnedFd, name: CString) -> io::Result<()> {
    let root = open_child_dir(parent, &name)?;
    let root_mount = mount_of(&root)?;
    let mut cur = root;
    let mut stack = vec![Frame {
        ident: ident(&cur)?,
        name,
        pending: clear_files(&cur)?,
    }];
    loop {
        let top = stack
            .last_mut()
            .expect("stack never empties inside the loop");
        if let Some(child) = top.pending.pop() {
            let fd = match open_child_dir(&cur, &child) {
                Ok(fd) => fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) => return Err(e),
            };
            if mount_of(&fd)? != root_mount {
                return Err(io::Error::other(format!(
                    "refusing to remove {:?}: it is a mount point",
                    child
                )));
            }
            let frame = Frame {
                ident: ident(&fd)?,
                name: child,
                pending: clear_files(&fd)?,
            };
            stack.push(frame);
            cur = fd;
            continue;
        }
        if stack.len() == 1 {
            return Ok(());
        }
        let done = stack.pop().expect("len > 1");
        let up = openat(&cur, c"..", DIR_FLAGS, Mode::empty())?;
        let expected = stack.last().expect("len >= 1").ident;
        if ident(&up)? != expected {
            return Err(io::Error::other(
                "directory moved while it was being removed",
            ));
        }
        ignore_enoent(unlinkat(
            &up,
            done.name.as_c_str(),
            UnlinkatFlags::RemoveDir,
        ))?;
        cur = up;
    }
}

/// Unlinks every non-directory entry of `dir` and returns the names of its
/// subdirectories (which are left in place).
fn clear_files(dir: &OwnedFd) -> io::Result<Vec<CString>> {
    let mut handle = Dir::openat(dir, c".", DIR_FLAGS, Mode::empty())?;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in handle.iter() {
        let entry = entry?;
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        let is_dir = match entry.file_type() {
            Some(Type::Directory) => true,
            Some(_) => false,
            None => match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(st) => is_dir_mode(st.st_mode),
                Err(nix::Error::ENOENT) => continue,
                Err(e) => return Err(e.into()),
            },
        };
        if is_dir {
            dirs.push(name.to_owned());
        } else {
            files.push(name.to_owned());
        }
    }
    drop(handle);
    for name in files {
        ignore_enoent(unlinkat(dir, name.as_c_str(), UnlinkatFlags::NoRemoveDir))?;
    }
    Ok(dirs)
}

/// Opens the subdirectory `name` of `parent` without following symlinks,
/// first granting the owner `rwx` if it lacks any of them.
fn open_child_dir(parent: &OwnedFd, name: &CStr) -> io::Result<OwnedFd> {
    let st = fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    if !is_dir_mode(st.st_mode) {
        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    let perms = st.st_mode & 0o7777;
    if perms & 0o700 != 0o700 {
        // It is a directory (lstat above), so following is moot; the
        // O_NOFOLLOW open below re-checks that it is not a symlink.
        fchmodat(
            parent,
            name,
            Mode::from_bits_truncate(perms | 0o700),
            FchmodatFlags::FollowSymlink,
        )?;
    }
    Ok(openat(parent, name, DIR_FLAGS, Mode::empty())?)
}

fn is_dir_mode(mode: libc::mode_t) -> bool {
    SFlag::from_bits_truncate(mode & libc::S_IFMT) == SFlag::S_IFDIR
}

fn ident(fd: &OwnedFd) -> io::Result<Ident> {
    let st = fstat(fd)?;
    #[allow(clippy::unnecessary_cast)]
    Ok((st.st_dev as u64, st.st_ino as u64))
}

/// The mount a directory fd lives on: its mount ID when the kernel reports
/// one (`statx(STATX_MNT_ID)`), and its device number in any case.
fn mount_of(fd: &OwnedFd) -> io::Result<(Option<u64>, u64)> {
    let mut stx = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: valid fd, a NUL-terminated empty path with AT_EMPTY_PATH, and a
    // valid out pointer.
    let r = unsafe {
        libc::statx(
            fd.as_fd().as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_MNT_ID,
            stx.as_mut_ptr(),
        )
    };
    let dev = ident(fd)?.0;
    if r != 0 {
        return Ok((None, dev));
    }
    // SAFETY: statx succeeded and filled the buffer.
    let stx = unsafe { stx.assume_init() };
    let mnt = (stx.stx_mask & libc::STATX_MNT_ID != 0).then_some(stx.stx_mnt_id);
    Ok((mnt, dev))
}

fn cstring(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

fn ignore_enoent(r: nix::Result<()>) -> io::Result<()> {
    match r {
        Ok(()) | Err(nix::Error::ENOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn removes_hostile_tree_without_following_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("keep"), b"x").unwrap();

        let tree = tmp.path().join("tree");
        fs::create_dir_all(tree.join("a/b/c")).unwrap();
        fs::write(tree.join("a/b/c/f"), b"y").unwrap();
        symlink(&outside, tree.join("a/link")).unwrap();
        symlink(&outside, tree.join("a/b/c/link")).unwrap();
        fs::set_permissions(tree.join("a/b/c"), fs::Permissions::from_mode(0o500)).unwrap();
        fs::set_permissions(tree.join("a/b"), fs::Permissions::from_mode(0o000)).unwrap();

        remove_tree(&tree).unwrap();
        assert!(!tree.exists());
        assert!(outside.join("keep").exists());
        // Idempotent.
        remove_tree(&tree).unwrap();
    }

    #[test]
    fn symlink_at_top_is_unlinked_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("keep"), b"x").unwrap();
        let link = tmp.path().join("link");
        symlink(&outside, &link).unwrap();
        remove_tree(&link).unwrap();
        assert!(fs::symlink_metadata(&link).is_err());
        assert!(outside.join("keep").exists());
    }

    #[test]
    fn deep_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = tmp.path().join("deep");
        fs::create_dir(&tree).unwrap();
        // Build 300 levels with *at calls (the path would get long).
        let mut fd = open(&tree, DIR_FLAGS, Mode::empty()).unwrap();
        for _ in 0..300 {
            nix::sys::stat::mkdirat(&fd, c"d", Mode::from_bits_truncate(0o755)).unwrap();
            fd = openat(&fd, c"d", DIR_FLAGS, Mode::empty()).unwrap();
        }
        remove_tree(&tree).unwrap();
        assert!(!tree.exists());
    }
}
