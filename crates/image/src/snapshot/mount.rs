//! The overlay mount of a container rootfs: [`RootfsSnapshot`], its mount
//! options, and `/proc/self/mountinfo` helpers.

use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::{umount2, MntFlags, MsFlags};

use super::error::{io_err, SnapshotError};

/// overlayfs refuses more lower layers than this (`OVL_MAX_STACK`).
pub const MAX_LOWER_LAYERS: usize = 500;

/// The directories an overlay rootfs is assembled from, as returned by
/// [`SnapshotStore::prepare`](super::SnapshotStore::prepare).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsSnapshot {
    /// The read-only layers' `diff` directories, **top first** (the order
    /// overlay's `lowerdir=` wants). Never empty: an image without layers
    /// gets the store's empty directory.
    pub lower_dirs: Vec<PathBuf>,
    /// The container's writable layer.
    pub upper_dir: PathBuf,
    /// overlayfs' work directory (same filesystem as `upper_dir`).
    pub work_dir: PathBuf,
    /// Where [`SnapshotStore::mount_rootfs`](super::SnapshotStore::mount_rootfs)
    /// mounts the merged view.
    pub merged_dir: PathBuf,
}

impl RootfsSnapshot {
    /// The overlay mount data:
    /// `lowerdir=<top>:...:<bottom>,upperdir=<upper>,workdir=<work>,index=off`
    /// (moby's overlay2 also mounts with `index=off`, so that a layer shared
    /// by several containers does not tie them together through the inode
    /// index).
    pub fn overlay_options(&self) -> String {
        let lower: Vec<String> = self
            .lower_dirs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        format!(
            "lowerdir={},upperdir={},workdir={},index=off",
            lower.join(":"),
            self.upper_dir.display(),
            self.work_dir.display()
        )
    }

    /// Checks that the snapshot can be mounted (paths free of overlay
    /// separators, at most [`MAX_LOWER_LAYERS`] layers, options within one
    /// page) and returns the mount options.
    pub fn checked_overlay_options(&self) -> Result<String, SnapshotError> {
        let paths = self
            .lower_dirs
            .iter()
            .chain([&self.upper_dir, &self.work_dir]);
        for p in paths {
            check_overlay_path(p)?;
        }
        if self.lower_dirs.is_empty() {
            return Err(SnapshotError::MountLimit(
                "overlay needs at least one lower directory".to_string(),
            ));
        }
        if self.lower_dirs.len() > MAX_LOWER_LAYERS {
            return Err(SnapshotError::MountLimit(format!(
                "{} layers exceed overlayfs' maximum of {MAX_LOWER_LAYERS}",
                self.lower_dirs.len()
            )));
        }
        let options = self.overlay_options();
        check_options_len(&options, self.lower_dirs.len(), page_size())?;
        Ok(options)
    }

    /// Mounts the overlay on `target` (an existing directory). Fails with
    /// [`SnapshotError::MountLimit`] rather than a bare `EINVAL` when the
    /// options would not fit in a page or there are too many layers.
    pub fn mount(&self, target: &Path) -> Result<(), SnapshotError> {
        let options = self.checked_overlay_options()?;
        nix::mount::mount(
            Some("overlay"),
            target,
            Some("overlay"),
            MsFlags::empty(),
            Some(options.as_str()),
        )
        .map_err(|source| SnapshotError::Mount {
            context: format!(
                "mounting overlay ({} lower layers) on {}",
                self.lower_dirs.len(),
                target.display()
            ),
            source,
        })
    }
}

/// Unmounts `target`; falls back to a lazy (`MNT_DETACH`) unmount when it
/// is busy. Not being mounted (or not existing) is not an error.
pub fn unmount(target: &Path) -> Result<(), SnapshotError> {
    let err = |source| SnapshotError::Mount {
        context: format!("unmounting {}", target.display()),
        source,
    };
    match umount2(target, MntFlags::empty()) {
        Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => Ok(()),
        Err(nix::Error::EBUSY) => match umount2(target, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::Error::EINVAL) => Ok(()),
            Err(e) => Err(err(e)),
        },
        Err(e) => Err(err(e)),
    }
}

/// Whether some mount's mount point is exactly `path` (per
/// `/proc/self/mountinfo`; `path` should be canonical).
pub fn is_mounted(path: &Path) -> Result<bool, SnapshotError> {
    Ok(mount_points()?.iter().any(|m| m == path))
}

/// Unmounts every mount at or below `dir`, deepest first, repeating for
/// mounts stacked on the same point.
pub(crate) fn unmount_all_under(dir: &Path) -> Result<(), SnapshotError> {
    // A bound on the number of passes, so a mount that keeps reappearing
    // cannot loop forever.
    for _ in 0..16 {
        let mut found: Vec<PathBuf> = mount_points()?
            .into_iter()
            .filter(|m| m.starts_with(dir))
            .collect();
        if found.is_empty() {
            return Ok(());
        }
        found.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
        for m in &found {
            unmount(m)?;
        }
    }
    Err(SnapshotError::Mount {
        context: format!("mounts under {} keep reappearing", dir.display()),
        source: nix::Error::EBUSY,
    })
}

/// Every mount point in `/proc/self/mountinfo`, unescaped.
pub(crate) fn mount_points() -> Result<Vec<PathBuf>, SnapshotError> {
    let path = Path::new("/proc/self/mountinfo");
    let text = fs::read_to_string(path).map_err(io_err("reading", path))?;
    Ok(parse_mount_points(&text))
}

fn parse_mount_points(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_octal(field)))
        .collect()
}

/// Undoes the kernel's `\ooo` escaping of space, tab, newline and `\`.
fn unescape_octal(s: &str) -> String {
    use std::os::unix::ffi::OsStringExt;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let oct = &b[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = (oct[0] - b'0') as u32 * 64
                    + (oct[1] - b'0') as u32 * 8
                    + (oct[2] - b'0') as u32;
                if let Ok(byte) = u8::try_from(v) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    std::ffi::OsString::from_vec(out)
        .to_string_lossy()
        .into_owned()
}

/// Refuses paths overlayfs would misparse: `,` separates mount options,
/// `:` separates lower dirs, `\` escapes; the data must also be UTF-8 text.
pub(crate) fn check_overlay_path(p: &Path) -> Result<(), SnapshotError> {
    let reason = match p.to_str() {
        None => Some("not valid UTF-8"),
        Some(s) if s.contains([',', ':', '\\']) => {
            Some("overlayfs paths must not contain ',', ':' or '\\'")
        }
        Some(_) => None,
    };
    match reason {
        Some(r) => Err(SnapshotError::InvalidPath {
            path: p.to_path_buf(),
            reason: r.to_string(),
        }),
        None => Ok(()),
    }
}

/// The kernel copies at most one page of mount data, NUL included.
fn check_options_len(options: &str, layers: usize, page: usize) -> Result<(), SnapshotError> {
    if options.len() >= page {
        return Err(SnapshotError::MountLimit(format!(
            "the overlay options for {layers} layers are {} bytes, more than the kernel's \
             limit of {} (one page); use a shorter data-root path or an image with fewer layers",
            options.len(),
            page - 1
        )));
    }
    Ok(())
}

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(v).ok().filter(|&v| v > 0).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(lowers: &[&str]) -> RootfsSnapshot {
        RootfsSnapshot {
            lower_dirs: lowers.iter().map(PathBuf::from).collect(),
            upper_dir: "/d/active/c1/upper".into(),
            work_dir: "/d/active/c1/work".into(),
            merged_dir: "/d/active/c1/merged".into(),
        }
    }

    #[test]
    fn options_string() {
        let s = snap(&["/d/layers/b/diff", "/d/layers/a/diff"]);
        assert_eq!(
            s.overlay_options(),
            "lowerdir=/d/layers/b/diff:/d/layers/a/diff,upperdir=/d/active/c1/upper,\
             workdir=/d/active/c1/work,index=off"
        );
        assert_eq!(s.checked_overlay_options().unwrap(), s.overlay_options());
    }

    #[test]
    fn page_size_limit() {
        assert!(check_options_len(&"x".repeat(4095), 1, 4096).is_ok());
        let e = check_options_len(&"x".repeat(4096), 60, 4096).unwrap_err();
        assert!(matches!(e, SnapshotError::MountLimit(_)), "{e}");
        assert!(e.to_string().contains("60 layers"), "{e}");

        let long = format!("/{}", "x".repeat(100));
        let lowers: Vec<&str> = std::iter::repeat_n(long.as_str(), 60).collect();
        let e = snap(&lowers).checked_overlay_options().unwrap_err();
        assert!(matches!(e, SnapshotError::MountLimit(_)), "{e}");
    }

    #[test]
    fn too_many_layers_and_bad_paths() {
        let lowers: Vec<&str> = std::iter::repeat_n("/l", MAX_LOWER_LAYERS + 1).collect();
        assert!(matches!(
            snap(&lowers).checked_overlay_options(),
            Err(SnapshotError::MountLimit(_))
        ));
        assert!(matches!(
            snap(&[]).checked_overlay_options(),
            Err(SnapshotError::MountLimit(_))
        ));
        for bad in ["/a,b", "/a:b", "/a\\b"] {
            assert!(matches!(
                snap(&[bad]).checked_overlay_options(),
                Err(SnapshotError::InvalidPath { .. })
            ));
        }
    }

    #[test]
    fn mountinfo_parsing() {
        let text = "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw\n\
                    37 35 0:5 / /proc rw - proc proc rw\n";
        assert_eq!(
            parse_mount_points(text),
            vec![PathBuf::from("/mnt/with space"), PathBuf::from("/proc")]
        );
        assert_eq!(unescape_octal("a\\134b\\011"), "a\\b\t");
        assert_eq!(unescape_octal("trailing\\04"), "trailing\\04");
    }
}
