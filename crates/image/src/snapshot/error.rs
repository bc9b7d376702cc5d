//! [`SnapshotError`]: why a snapshot store operation failed.

use std::io;
use std::path::{Path, PathBuf};

use berth_errdefs::{ErrorKind, HasKind};

use crate::content::Digest;

/// Why a snapshot store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// An active snapshot key (container ID) that is not
    /// `[A-Za-z0-9][A-Za-z0-9_.-]*` of at most 128 characters.
    #[error("invalid snapshot key {0:?}: must match [A-Za-z0-9][A-Za-z0-9_.-]* and be at most 128 characters")]
    InvalidKey(String),
    /// A path that cannot be passed to overlayfs (it contains `,`, `:` or
    /// `\`, which separate or escape mount options), or a store root that is
    /// not usable.
    #[error("unusable path {path:?}: {reason}")]
    InvalidPath {
        /// The offending path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A layer named in a chain is not committed.
    #[error("layer {0} not found in the snapshot store")]
    LayerNotFound(Digest),
    /// No active snapshot with this key exists.
    #[error("snapshot {0:?} not found")]
    SnapshotNotFound(String),
    /// An active snapshot with this key already exists.
    #[error("snapshot {0:?} already exists")]
    SnapshotExists(String),
    /// The layer is part of the lower chain of at least one active snapshot.
    #[error("layer {layer} is in use by snapshot(s) {}", users.join(", "))]
    LayerInUse {
        /// The layer that was to be removed.
        layer: Digest,
        /// Keys of the active snapshots using it.
        users: Vec<String>,
    },
    /// The overlay mount would exceed a kernel limit (the mount data must fit
    /// in one page; overlayfs stacks at most 500 lower layers).
    #[error("cannot mount overlay: {0}")]
    MountLimit(String),
    /// The overlay mount or unmount syscall failed.
    #[error("{context}: {source}")]
    Mount {
        /// What was being done, with the target path.
        context: String,
        /// The errno.
        #[source]
        source: nix::Error,
    },
    /// Store metadata (an active snapshot's `parent` file) is unreadable.
    #[error("corrupt snapshot metadata {path:?}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl HasKind for SnapshotError {
    fn kind(&self) -> ErrorKind {
        match self {
            SnapshotError::InvalidKey(_) | SnapshotError::InvalidPath { .. } => {
                ErrorKind::InvalidParameter
            }
            SnapshotError::LayerNotFound(_) | SnapshotError::SnapshotNotFound(_) => {
                ErrorKind::NotFound
            }
            SnapshotError::SnapshotExists(_) | SnapshotError::LayerInUse { .. } => {
                ErrorKind::Conflict
            }
            SnapshotError::MountLimit(_)
            | SnapshotError::Mount { .. }
            | SnapshotError::Corrupt { .. }
            | SnapshotError::Io { .. } => ErrorKind::System,
        }
    }
}

/// A `map_err` adapter wrapping an [`io::Error`] with `what` and the path.
pub(crate) fn io_err(what: &str, path: &Path) -> impl FnOnce(io::Error) -> SnapshotError {
    let context = format!("{what} {}", path.display());
    move |source| SnapshotError::Io { context, source }
}
