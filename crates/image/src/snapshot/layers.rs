//! Committed, read-only layers keyed by ChainID: unpacking into a
//! [`PendingLayer`], committing, listing, sizing, removing and collecting.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::error::{io_err, SnapshotError};
use super::{remove, rename_noreplace, SnapshotStore};
use crate::content::Digest;

/// A layer being unpacked: a uniquely named `tmp/<unique>/diff` directory
/// on the store's filesystem. [`commit`](PendingLayer::commit) makes it a
/// committed layer; dropping it uncommitted deletes it (best-effort; a
/// crash leaves it for [`SnapshotStore::open`] to delete).
#[derive(Debug)]
pub struct PendingLayer {
    /// `tmp/<unique>`; `None` once committed.
    dir: Option<PathBuf>,
    /// `tmp/<unique>/diff`.
    diff: PathBuf,
    layers_root: PathBuf,
}

impl PendingLayer {
    /// The directory to unpack the layer into (empty, exists).
    pub fn diff_dir(&self) -> &Path {
        &self.diff
    }

    /// Commits the unpacked layer as `layers/<chain_id hex>` with one atomic
    /// rename. If that layer is already committed (another pull got there
    /// first), this copy is dropped and the commit still succeeds.
    pub fn commit(mut self, chain_id: &Digest) -> Result<(), SnapshotError> {
        let dir = self.dir.take().expect("commit consumes self");
        let target = self.layers_root.join(chain_id.hex());
        let result = match rename_noreplace(&dir, &target) {
            Ok(()) => return sync_dir(&self.layers_root),
            // Committed concurrently (or earlier): keep theirs.
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            Err(e) => Err(e),
        };
        // Not renamed: ours is a duplicate (or the rename failed); drop it.
        if let Err(e) = remove::remove_tree(&dir) {
            tracing::warn!(path = %dir.display(), error = %e, "removing duplicate layer");
        }
        result.map_err(io_err(&format!("committing layer {chain_id} as"), &target))
    }
}

impl Drop for PendingLayer {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            if let Err(e) = remove::remove_tree(&dir) {
                tracing::warn!(path = %dir.display(), error = %e, "removing abandoned layer");
            }
        }
    }
}

impl SnapshotStore {
    /// Starts a new layer: creates `tmp/<unique>/diff` for the caller to
    /// unpack into (e.g. with [`crate::unpack::unpack_layer`]).
    pub fn begin_layer(&self) -> Result<PendingLayer, SnapshotError> {
        let dir = self.make_tmp_dir("layer")?;
        // From here on the PendingLayer's Drop cleans up on error.
        let pending = PendingLayer {
            diff: dir.join("diff"),
            dir: Some(dir),
            layers_root: self.layers_root(),
        };
        let diff = pending.diff_dir();
        fs::create_dir(diff).map_err(io_err("creating", diff))?;
        Ok(pending)
    }

    /// Whether the layer with this ChainID is committed.
    pub fn has_layer(&self, chain_id: &Digest) -> bool {
        self.layer_diff_dir(chain_id).is_dir()
    }

    /// `layers/<chain_id hex>/diff`: the committed layer's contents (whether
    /// or not it exists).
    pub fn layer_diff_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layer_dir(chain_id).join("diff")
    }

    fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layers_root().join(chain_id.hex())
    }

    /// Every committed layer, sorted. Entries whose names are not digest
    /// hex are ignored.
    pub fn layers(&self) -> Result<Vec<Digest>, SnapshotError> {
        let root = self.layers_root();
        let mut out = Vec::new();
        for entry in fs::read_dir(&root).map_err(io_err("listing", &root))? {
            let entry = entry.map_err(io_err("listing", &root))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            // The hex length tells the algorithm apart.
            let alg = if name.len() == 128 {
                "sha512"
            } else {
                "sha256"
            };
            match Digest::parse(&format!("{alg}:{name}")) {
                Ok(d) => out.push(d),
                Err(_) => tracing::warn!(name, "ignoring unexpected entry in layers/"),
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes a committed layer. Refused with [`SnapshotError::LayerInUse`]
    /// (a Conflict) while an active snapshot stacks on it;
    /// [`SnapshotError::LayerNotFound`] when it is not committed.
    pub fn remove_layer(&self, chain_id: &Digest) -> Result<(), SnapshotError> {
        let dir = self.layer_dir(chain_id);
        let doomed = self.tmp_path("rm");
        {
            let _guard = self.lock();
            let users = self.users_of(chain_id)?;
            if !users.is_empty() {
                return Err(SnapshotError::LayerInUse {
                    layer: chain_id.clone(),
                    users,
                });
            }
            match fs::rename(&dir, &doomed) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(SnapshotError::LayerNotFound(chain_id.clone()))
                }
                Err(e) => return Err(io_err("moving aside", &dir)(e)),
            }
        }
        remove::remove_tree(&doomed).map_err(io_err("removing", &doomed))
    }

    /// Removes every committed layer that is neither in `keep` nor used by
    /// an active snapshot; returns the ones removed.
    pub fn gc_layers(&self, keep: &HashSet<Digest>) -> Result<Vec<Digest>, SnapshotError> {
        let mut removed = Vec::new();
        for layer in self.layers()? {
            if keep.contains(&layer) {
                continue;
            }
            match self.remove_layer(&layer) {
                Ok(()) => removed.push(layer),
                Err(SnapshotError::LayerInUse { .. }) | Err(SnapshotError::LayerNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// The apparent size of a committed layer: the sum of the sizes of
    /// every non-directory entry (symlinks not followed, hard links
    /// counted once), as moby's `directory.Size`.
    pub fn layer_size(&self, chain_id: &Digest) -> Result<u64, SnapshotError> {
        let diff = self.layer_diff_dir(chain_id);
        if !diff.is_dir() {
            return Err(SnapshotError::LayerNotFound(chain_id.clone()));
        }
        tree_size(&diff).map_err(io_err("measuring", &diff))
    }
}

/// Sum of non-directory entry sizes under `root`, not following symlinks.
fn tree_size(root: &Path) -> io::Result<u64> {
    let mut total = 0u64;
    let mut seen_links = HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let md = fs::symlink_metadata(entry.path())?;
            if md.is_dir() {
                stack.push(entry.path());
                continue;
            }
            if md.nlink() > 1 && !seen_links.insert((md.dev(), md.ino())) {
                continue;
            }
            total = total.saturating_add(md.len());
        }
    }
    Ok(total)
}

/// fsyncs a directory so a rename into it is durable.
fn sync_dir(dir: &Path) -> Result<(), SnapshotError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_err("syncing", dir))
}
