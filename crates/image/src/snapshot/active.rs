//! Active (read-write) container snapshots: `active/<key>/{upper,work,merged}`
//! plus the `parent` chain file, and their overlay mounts.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::error::{io_err, SnapshotError};
use super::mount::{self, RootfsSnapshot};
use super::{remove, rename_noreplace, validate_key, SnapshotStore};
use crate::content::Digest;

/// Name of the file holding an active snapshot's lower chain.
const PARENT_FILE: &str = "parent";

impl SnapshotStore {
    /// Creates the active snapshot `key` (a container ID) on top of `chain`
    /// (ChainIDs, **bottom first**, as [`crate::record::chain_ids`] returns
    /// them). Every layer must be committed ([`SnapshotError::LayerNotFound`]
    /// names the first missing one); the key must be new
    /// ([`SnapshotError::SnapshotExists`]). An empty chain is allowed.
    ///
    /// The snapshot appears atomically; nothing is mounted yet.
    pub fn prepare(&self, key: &str, chain: &[Digest]) -> Result<RootfsSnapshot, SnapshotError> {
        validate_key(key)?;
        let staging = self.make_tmp_dir("prep")?;
        let result = self.prepare_in(key, chain, &staging);
        if result.is_err() {
            let _ = remove::remove_tree(&staging);
        }
        result
    }

    fn prepare_in(
        &self,
        key: &str,
        chain: &[Digest],
        staging: &Path,
    ) -> Result<RootfsSnapshot, SnapshotError> {
        let mut builder = fs::DirBuilder::new();
        for (name, mode) in [("upper", 0o755), ("work", 0o700), ("merged", 0o755)] {
            let dir = staging.join(name);
            builder
                .mode(mode)
                .create(&dir)
                .map_err(io_err("creating", &dir))?;
        }
        let parent = staging.join(PARENT_FILE);
        let json = serde_json::to_vec(chain).expect("digests always serialize");
        fs::write(&parent, json).map_err(io_err("writing", &parent))?;

        let target = self.active_dir(key);
        // Under the lock: layers cannot be removed between this check and
        // the snapshot becoming visible to `layers_in_use`.
        let _guard = self.lock();
        if let Some(missing) = chain.iter().find(|c| !self.has_layer(c)) {
            return Err(SnapshotError::LayerNotFound(missing.clone()));
        }
        match rename_noreplace(staging, &target) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                return Err(SnapshotError::SnapshotExists(key.to_string()))
            }
            Err(e) => return Err(io_err("creating", &target)(e)),
        }
        Ok(self.rootfs_for(key, chain))
    }

    /// The directories of the existing active snapshot `key`.
    pub fn rootfs(&self, key: &str) -> Result<RootfsSnapshot, SnapshotError> {
        let chain = self.snapshot_parent(key)?;
        Ok(self.rootfs_for(key, &chain))
    }

    fn rootfs_for(&self, key: &str, chain: &[Digest]) -> RootfsSnapshot {
        let dir = self.active_dir(key);
        let mut lower_dirs: Vec<PathBuf> =
            chain.iter().rev().map(|c| self.layer_diff_dir(c)).collect();
        if lower_dirs.is_empty() {
            lower_dirs.push(self.empty_dir());
        }
        RootfsSnapshot {
            lower_dirs,
            upper_dir: dir.join("upper"),
            work_dir: dir.join("work"),
            merged_dir: dir.join("merged"),
        }
    }

    /// Mounts the snapshot's overlay at its `merged` dir and returns that
    /// path. Does nothing (but still returns the path) if it is already
    /// mounted.
    pub fn mount_rootfs(&self, key: &str) -> Result<PathBuf, SnapshotError> {
        let rootfs = self.rootfs(key)?;
        let _guard = self.lock();
        if !mount::is_mounted(&rootfs.merged_dir)? {
            rootfs.mount(&rootfs.merged_dir)?;
        }
        Ok(rootfs.merged_dir)
    }

    /// Unmounts the snapshot's `merged` dir (every mount stacked there).
    /// Not being mounted is fine; an unknown key is
    /// [`SnapshotError::SnapshotNotFound`].
    pub fn unmount_rootfs(&self, key: &str) -> Result<(), SnapshotError> {
        validate_key(key)?;
        let dir = self.active_dir(key);
        if !dir.is_dir() {
            return Err(SnapshotError::SnapshotNotFound(key.to_string()));
        }
        let _guard = self.lock();
        mount::unmount_all_under(&dir.join("merged"))
    }

    /// Removes the active snapshot `key`: unmounts anything mounted inside
    /// it, then deletes it (atomically gone first, deleted afterwards).
    /// Removing a snapshot that does not exist succeeds.
    pub fn remove(&self, key: &str) -> Result<(), SnapshotError> {
        validate_key(key)?;
        let dir = self.active_dir(key);
        let doomed = self.tmp_path("rm");
        {
            let _guard = self.lock();
            if fs::symlink_metadata(&dir).is_err() {
                return Ok(());
            }
            mount::unmount_all_under(&dir)?;
            match fs::rename(&dir, &doomed) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(io_err("moving aside", &dir)(e)),
            }
        }
        remove::remove_tree(&doomed).map_err(io_err("removing", &doomed))
    }

    /// The keys of all active snapshots, sorted.
    pub fn active(&self) -> Result<Vec<String>, SnapshotError> {
        let root = self.active_root();
        let mut keys = Vec::new();
        for entry in fs::read_dir(&root).map_err(io_err("listing", &root))? {
            let entry = entry.map_err(io_err("listing", &root))?;
            match entry.file_name().into_string() {
                Ok(name) if validate_key(&name).is_ok() => keys.push(name),
                Ok(name) => tracing::warn!(name, "ignoring unexpected entry in active/"),
                Err(name) => tracing::warn!(?name, "ignoring unexpected entry in active/"),
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// The lower chain (ChainIDs, bottom first) of the active snapshot `key`.
    pub fn snapshot_parent(&self, key: &str) -> Result<Vec<Digest>, SnapshotError> {
        validate_key(key)?;
        let path = self.active_dir(key).join(PARENT_FILE);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SnapshotError::SnapshotNotFound(key.to_string()))
            }
            Err(e) => return Err(io_err("reading", &path)(e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| SnapshotError::Corrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// Every ChainID that some active snapshot stacks on. Errors (rather
    /// than under-reporting) if a snapshot's chain cannot be read, so a
    /// garbage collector never deletes a layer in use.
    pub fn layers_in_use(&self) -> Result<HashSet<Digest>, SnapshotError> {
        let mut used = HashSet::new();
        for key in self.active()? {
            match self.snapshot_parent(&key) {
                Ok(chain) => used.extend(chain),
                // Removed concurrently.
                Err(SnapshotError::SnapshotNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(used)
    }

    /// Keys of the active snapshots stacked on `chain_id`.
    pub(super) fn users_of(&self, chain_id: &Digest) -> Result<Vec<String>, SnapshotError> {
        let mut users = Vec::new();
        for key in self.active()? {
            match self.snapshot_parent(&key) {
                Ok(chain) if chain.contains(chain_id) => users.push(key),
                Ok(_) | Err(SnapshotError::SnapshotNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(users)
    }

    fn active_dir(&self, key: &str) -> PathBuf {
        self.active_root().join(key)
    }
}
