//! Disk usage of a volume's data (moby `directory.Size`): apparent sizes of
//! everything but directories, each hard-linked inode counted once, walked
//! through descriptors so no symlink is followed.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::SFlag;

use crate::error::Result;
use crate::fsx::{self, sys};

/// Bytes under `dir`, counting each inode with several links once.
pub(crate) fn dir_size(dir: &Path) -> Result<u64> {
    let fd = fsx::open_dir(dir).map_err(|e| sys(format!("open {}", dir.display()), e))?;
    let mut seen = HashSet::new();
    walk(fd.as_fd(), dir, &mut seen)
}

fn walk(dir: BorrowedFd<'_>, shown: &Path, seen: &mut HashSet<(u64, u64)>) -> Result<u64> {
    let names = fsx::entries(dir).map_err(|e| sys(format!("read {}", shown.display()), e))?;
    let mut total = 0u64;
    for name in names {
        let st = match fsx::lstat_at(dir, &name) {
            Ok(st) => st,
            // Deleted by a running container while we walk: not ours to count.
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(sys(format!("stat {}", shown.join(&name).display()), e)),
        };
        if fsx::kind(&st) == SFlag::S_IFDIR {
            total += walk_child(dir, &name, shown, seen)?;
            continue;
        }
        if st.st_nlink > 1 && !seen.insert((st.st_dev, st.st_ino)) {
            continue;
        }
        total += st.st_size.max(0) as u64;
    }
    Ok(total)
}

fn walk_child(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    shown: &Path,
    seen: &mut HashSet<(u64, u64)>,
) -> Result<u64> {
    let child = shown.join(name);
    match fsx::open_dir_at(dir, name) {
        Ok(fd) => walk(fd.as_fd(), &child, seen),
        // Replaced by a non-directory (or removed) since the stat.
        Err(Errno::ENOENT) | Err(Errno::ENOTDIR) | Err(Errno::ELOOP) => Ok(0),
        Err(e) => Err(sys(format!("open {}", child.display()), e)),
    }
}
