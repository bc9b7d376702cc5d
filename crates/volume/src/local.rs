//! The `local` driver (moby `volume/local`): a directory per volume,
//! `<root>/<name>/_data`, optionally mounted from a device with the
//! `type`, `device` and `o` options (`--opt type=tmpfs --opt device=tmpfs
//! --opt o=size=64m`), with the options kept in `<root>/<name>/opts.json`.

use std::path::{Path, PathBuf};

use crate::error::Result;

/// The local driver over one root directory.
pub struct LocalDriver {
    _root: PathBuf,
}

impl LocalDriver {
    /// The driver keeping volumes under `root` (created if missing).
    pub fn open(root: &Path) -> Result<Self> {
        let _ = root;
        todo!()
    }
}
