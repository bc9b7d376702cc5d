//! The overlay snapshot store (containerd's overlayfs snapshotter, moby's
//! overlay2 graph driver, simplified).
//!
//! Layout under the store's root (`<data-root>/overlay`):
//!
//! ```text
//! <root>/layers/<chainid hex>/diff/     a committed layer: only that layer's own
//!                                       changes, with overlay whiteouts; immutable
//! <root>/active/<key>/upper/            a container's writable layer
//! <root>/active/<key>/work/             overlayfs' work dir
//! <root>/active/<key>/merged/           where the rootfs is mounted
//! <root>/active/<key>/parent            JSON array of the lower ChainIDs, bottom first
//! <root>/empty/                         the lower dir of an image with no layers
//! <root>/tmp/<unique>/                  layers being unpacked, snapshots being
//!                                       prepared or removed (same filesystem)
//! ```
//!
//! Everything appears and disappears by a single `rename`: a layer is
//! unpacked into `tmp/<unique>/diff` ([`SnapshotStore::begin_layer`]) and
//! renamed into `layers/` on [`PendingLayer::commit`]; an active snapshot is
//! assembled in `tmp/` and renamed into `active/`; removal renames into
//! `tmp/` first and deletes afterwards. [`SnapshotStore::open`] empties
//! `tmp/`, so a layer half-unpacked (or half-deleted) when the process died
//! is never seen as committed.
//!
//! Committed layers are keyed by ChainID, so two pulls sharing a layer
//! unpack it at most twice and store it once: the second commit finds the
//! name taken (`RENAME_NOREPLACE`) and drops its copy. A layer referenced by
//! an active snapshot's parent chain cannot be removed
//! ([`SnapshotStore::layers_in_use`], [`SnapshotStore::gc_layers`]).
//!
//! The store assumes it is the only process using its root (as the daemon
//! is); within the process, methods take `&self` and are safe to call
//! concurrently.

mod active;
mod error;
mod layers;
mod mount;
mod remove;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

pub use error::SnapshotError;
pub use layers::PendingLayer;
pub use mount::{is_mounted, unmount, RootfsSnapshot, MAX_LOWER_LAYERS};

use error::io_err;

/// Longest accepted active snapshot key.
pub const MAX_KEY_LEN: usize = 128;

/// Distinguishes temp dirs created by this process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The overlay snapshot store rooted at `<data-root>/overlay`: committed
/// read-only layers keyed by ChainID and active read-write container
/// snapshots keyed by container ID. See the [module docs](self) for the
/// on-disk layout.
#[derive(Debug)]
pub struct SnapshotStore {
    root: PathBuf,
    /// Serializes "is this layer in use?" checks against creating and
    /// removing active snapshots, and mount checks against mounting.
    lock: Mutex<()>,
}

impl SnapshotStore {
    /// Opens (creating if needed) the store at `root`, and removes whatever
    /// was left in `tmp/` by a previous run (unmounting anything mounted
    /// there first).
    ///
    /// The canonical root path must be UTF-8 and free of `,`, `:` and `\`,
    /// since it ends up in overlay mount options.
    pub fn open(root: &Path) -> Result<SnapshotStore, SnapshotError> {
        fs::create_dir_all(root).map_err(io_err("creating", root))?;
        let root = fs::canonicalize(root).map_err(io_err("resolving", root))?;
        mount::check_overlay_path(&root)?;
        let store = SnapshotStore {
            root,
            lock: Mutex::new(()),
        };
        for dir in [
            store.layers_root(),
            store.active_root(),
            store.tmp_root(),
            store.empty_dir(),
        ] {
            fs::create_dir_all(&dir).map_err(io_err("creating", &dir))?;
        }
        store.clean_tmp()?;
        Ok(store)
    }

    /// The store's (canonical) root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn layers_root(&self) -> PathBuf {
        self.root.join("layers")
    }

    fn active_root(&self) -> PathBuf {
        self.root.join("active")
    }

    fn tmp_root(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The always-empty directory used as the lower dir of an image
    /// without layers.
    fn empty_dir(&self) -> PathBuf {
        self.root.join("empty")
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a fresh, uniquely named directory `tmp/<prefix>-<unique>`.
    fn make_tmp_dir(&self, prefix: &str) -> Result<PathBuf, SnapshotError> {
        loop {
            let path = self.tmp_path(prefix);
            match fs::create_dir(&path) {
                Ok(()) => return Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err("creating", &path)(e)),
            }
        }
    }

    /// A uniquely named (not yet existing) path under `tmp/`.
    fn tmp_path(&self, prefix: &str) -> PathBuf {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        self.tmp_root()
            .join(format!("{prefix}-{}-{n}-{nanos}", std::process::id()))
    }

    /// Crash recovery: unmounts and deletes everything under `tmp/`.
    fn clean_tmp(&self) -> Result<(), SnapshotError> {
        let tmp = self.tmp_root();
        mount::unmount_all_under(&tmp)?;
        let entries = fs::read_dir(&tmp).map_err(io_err("listing", &tmp))?;
        for entry in entries {
            let entry = entry.map_err(io_err("listing", &tmp))?;
            let path = entry.path();
            tracing::info!(path = %path.display(), "removing leftover snapshot temp dir");
            remove::remove_tree(&path).map_err(io_err("removing", &path))?;
        }
        Ok(())
    }
}

/// `renameat2(RENAME_NOREPLACE)`: renames `from` to `to` unless `to`
/// exists (then fails with `EEXIST`). Made as a raw syscall so it does not
/// depend on the C library's wrapper. On filesystems without
/// `RENAME_NOREPLACE` (`EINVAL`), falls back to checking and a plain rename,
/// which still cannot replace a non-empty directory.
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::io::{Error, ErrorKind};
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| Error::new(ErrorKind::InvalidInput, "NUL in path"))
    };
    let (c_from, c_to) = (c(from)?, c(to)?);
    // SAFETY: two valid NUL-terminated paths relative to the cwd; the
    // syscall only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            c_from.as_ptr(),
            libc::AT_FDCWD,
            c_to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let exists = || Err(Error::from_raw_os_error(libc::EEXIST));
    let e = Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EEXIST | libc::ENOTEMPTY) => exists(),
        Some(libc::EINVAL | libc::ENOSYS) => {
            if fs::symlink_metadata(to).is_ok() {
                return exists();
            }
            match fs::rename(from, to) {
                Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENOTEMPTY)) => {
                    exists()
                }
                other => other,
            }
        }
        _ => Err(e),
    }
}

/// Checks an active snapshot key (a container ID):
/// `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most [`MAX_KEY_LEN`] characters.
pub fn validate_key(key: &str) -> Result<(), SnapshotError> {
    let mut bytes = key.bytes();
    let ok = key.len() <= MAX_KEY_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SnapshotError::InvalidKey(key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_errdefs::{ErrorKind, HasKind};

    #[test]
    fn key_validation() {
        for good in ["a", "0", "abc_DEF.1-2", &"a".repeat(128)] {
            validate_key(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "",
            ".a",
            "-a",
            "_a",
            "a/b",
            "..",
            "a b",
            "a:b",
            "ä",
            &"a".repeat(129),
        ] {
            let e = validate_key(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{bad}");
        }
    }

    #[test]
    fn open_creates_layout_and_cleans_tmp() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("overlay");
        let store = SnapshotStore::open(&root).unwrap();
        for d in ["layers", "active", "tmp", "empty"] {
            assert!(root.join(d).is_dir(), "{d}");
        }
        let leftover = store.make_tmp_dir("layer").unwrap();
        fs::create_dir(leftover.join("diff")).unwrap();
        fs::write(leftover.join("diff/f"), b"half").unwrap();
        drop(store);
        SnapshotStore::open(&root).unwrap();
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn open_refuses_overlay_separators() {
        let tmp = tempfile::tempdir().unwrap();
        let e = SnapshotStore::open(&tmp.path().join("a,b")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    }
}
