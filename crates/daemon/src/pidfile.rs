//! The pidfile, held with an exclusive `flock` for the daemon's lifetime:
//! it records the PID and keeps a second daemon off the same data root
//! (the stores assume one owner: they clean up temp state on open).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// A locked pidfile; removed on drop.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    _lock: Flock<File>,
}

impl PidFile {
    /// Creates (or takes over a stale) pidfile at `path`, writes our PID and
    /// keeps it locked. Fails when another live process holds it.
    pub fn acquire(path: &Path) -> Result<PidFile, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| format!("cannot open pidfile {}: {e}", path.display()))?;
        let mut lock = Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, _)| {
            let other = std::fs::read_to_string(path).unwrap_or_default();
            format!(
                "pid file found, ensure berthd is not running or delete {} (held by pid {})",
                path.display(),
                other.trim()
            )
        })?;
        lock.set_len(0)
            .and_then(|()| write!(lock, "{}", std::process::id()))
            .and_then(|()| lock.sync_all())
            .map_err(|e| format!("cannot write pidfile {}: {e}", path.display()))?;
        Ok(PidFile {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_drop_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/berthd.pid");
        let first = PidFile::acquire(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            std::process::id().to_string()
        );
        let err = PidFile::acquire(&path).unwrap_err();
        assert!(err.contains("pid file found"), "{err}");
        drop(first);
        assert!(!path.exists());
        // A stale file (no holder) is taken over.
        std::fs::write(&path, "999999").unwrap();
        let again = PidFile::acquire(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            std::process::id().to_string()
        );
        drop(again);
    }
}
