//! Hostile-input-safe layer unpacking (moby's `archive.Unpack`, containerd's
//! `apply` with overlay whiteouts).
//!
//! [`unpack_layer`] extracts a (gzip / zstd / plain) layer tar into a fresh
//! layer directory that will serve as an overlayfs lower dir. Whatever the
//! tar says, nothing is written outside that directory:
//!
//! - entry names are normalized (leading `/` and `./` dropped, `..` that would
//!   climb above the root refused, `.wh.` components allowed only last);
//! - every parent directory is opened component by component with
//!   `openat(O_NOFOLLOW | O_DIRECTORY)` from an fd of the layer root, so a
//!   symlink already in the layer is never followed (refused as
//!   "path goes through a symlink");
//! - hard link targets are resolved the same way, and linked with `linkat`
//!   relative to those fds;
//! - Docker whiteouts become overlayfs whiteouts (char device 0/0, and
//!   `trusted.overlay.opaque=y` for `.wh..wh..opq`).
//!
//! [`extract`] is the same machinery for `docker cp` into a container
//! (moby's `archive.Untar`): into an already opened directory, without
//! whiteout conversion, with moby's `NoOverwriteDirNonDir` and `ChownOpts`.

mod apply;
mod compression;
mod fsutil;
mod safe_path;
mod whiteout;

#[cfg(test)]
mod tests;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;

/// Why a layer could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// The tar asked for something that would escape or subvert the layer
    /// directory (path climbing out, writing through a symlink, bad whiteout).
    #[error("layer entry \"{entry}\": {reason}")]
    Unsafe {
        /// The entry name as found in the tar.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An I/O error while reading the stream or writing the layer.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (names the entry when there is one).
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An entry of a kind Berth does not unpack (e.g. GNU sparse files).
    #[error("layer entry \"{entry}\": unsupported entry type {kind}")]
    Unsupported {
        /// The entry name as found in the tar.
        entry: String,
        /// The tar entry type.
        kind: String,
    },
}

/// Counters for one unpacked layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Number of tar entries processed (including whiteouts and skipped ones).
    pub entries: u64,
    /// Bytes of regular file content written.
    pub bytes: u64,
}

/// Unpacks a (possibly compressed) layer tar stream into `dest` (an empty
/// layer directory that will be an overlay lower dir), converting Docker
/// whiteouts to overlayfs whiteouts. `dest` must exist.
///
/// Nothing is ever created outside `dest`. On error, `dest` may hold partial
/// content: the caller must discard (remove) it.
///
/// Ownership and device nodes are applied only when running as root
/// (device nodes and FIFOs are skipped with a warning otherwise); xattrs
/// that the filesystem or privileges refuse (EPERM / ENOTSUP) are skipped,
/// except the overlay opaque marker, which is required.
pub fn unpack_layer(reader: impl Read, dest: &Path) -> Result<UnpackStats, UnpackError> {
    let stream = compression::decompress_any(reader).map_err(|source| UnpackError::Io {
        context: "reading layer stream".to_string(),
        source,
    })?;
    apply::apply(stream, dest)
}

/// Unpacks an already decompressed layer tar into `dest`, with the same
/// guarantees as [`unpack_layer`]. Reads up to the tar's end-of-archive
/// marker; the caller drains whatever follows if it needs the whole stream.
pub fn unpack_tar(tar: impl Read, dest: &Path) -> Result<UnpackStats, UnpackError> {
    apply::apply(tar, dest)
}

/// Wraps a reader, sniffing gzip (`1f 8b`), zstd (`28 b5 2f fd`) or plain
/// (anything else), and returns a reader of the decompressed bytes.
pub fn decompress<'a>(reader: impl Read + 'a) -> std::io::Result<Box<dyn Read + 'a>> {
    compression::decompress_any(reader)
}

/// How [`extract`] writes (moby's `TarOptions` for `docker cp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Refuse to replace an existing directory with a non-directory, or an
    /// existing non-directory with a directory (moby's `NoOverwriteDirNonDir`).
    pub no_overwrite_dir_non_dir: bool,
    /// Owner given to every entry instead of the tar's (moby's
    /// `ChownOpts`, used by `docker cp -a`).
    pub chown: Option<(u32, u32)>,
}

/// Extracts a (gzip / zstd / plain) tar stream into the directory `dest`
/// (an open directory fd, e.g. a path resolved inside a container's root
/// filesystem), as moby's `archive.Untar` does for `docker cp`: missing
/// parents are created, existing entries replaced (a directory merged),
/// `.wh.` names are ordinary files and the archive's root entry leaves
/// `dest` itself untouched.
///
/// The same guarantees as [`unpack_layer`] hold: whatever the archive says
/// (`..`, absolute names, symlinks or hard links pointing out, entries
/// written through a symlink), nothing is created or changed outside
/// `dest`. Additionally a relative symlink target climbing above `dest` is
/// refused, as moby refuses it. On error, `dest` may hold partial content.
pub fn extract(
    reader: impl Read,
    dest: OwnedFd,
    options: ExtractOptions,
) -> Result<UnpackStats, UnpackError> {
    let stream = compression::decompress_any(reader).map_err(|source| UnpackError::Io {
        context: "reading the archive".to_string(),
        source,
    })?;
    apply::apply_at(stream, dest, apply::Mode::Copy(options))
}
