//! Atomic file replacement: write a temp file in the same directory, fsync
//! it, rename it over the target, fsync the directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::StoreError;

/// Names of temp files start with this; [`remove_temp_files`] deletes them.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `data` atomically: a crash leaves either the old or
/// the new content, never a torn file.
pub(crate) fn atomic_write(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        "{TEMP_PREFIX}{name}-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(StoreError::System {
            context: format!("write {}", path.display()),
            source: e,
        });
    }
    sync_dir(dir)
}

/// Removes `path`, then fsyncs its directory; a missing file is not an error.
pub(crate) fn remove_durably(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(format!("remove {}", path.display()))(e)),
    }
    sync_dir(path.parent().unwrap_or_else(|| Path::new(".")))
}

/// Fsyncs a directory so a rename or unlink inside it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(format!("fsync {}", dir.display())))
}

/// Deletes the temp files a crashed writer left in `dir`.
pub(crate) fn remove_temp_files(dir: &Path) -> Result<(), StoreError> {
    let entries = fs::read_dir(dir).map_err(StoreError::io(format!("read {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(StoreError::io(format!("read {}", dir.display())))?;
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let path = entry.path();
        match fs::remove_file(&path) {
            Ok(()) => tracing::debug!(path = %path.display(), "removed leftover temp file"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove leftover temp file")
            }
        }
    }
    Ok(())
}
