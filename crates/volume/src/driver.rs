//! The `VolumeDriver` trait (moby `volume.Driver`): what a volume backend
//! must do. The store owns names, labels and references; a driver only
//! owns where a volume's data lives and how it is mounted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::Result;

/// A volume backend. Calls are synchronous and may block on the
/// filesystem; the daemon calls them off its async threads.
pub trait VolumeDriver: Send + Sync {
    /// The driver's name as the API shows it (`local`).
    fn name(&self) -> &str;

    /// Creates the volume `name` with driver options `opts` and returns its
    /// mountpoint (the path containers see through a bind mount). Unknown
    /// options are InvalidParameter. Creating an existing volume is an error
    /// here; the store decides what "create again" means.
    fn create(&self, name: &str, opts: &BTreeMap<String, String>) -> Result<PathBuf>;

    /// Removes the volume and its data. NotFound when it does not exist.
    fn remove(&self, name: &str) -> Result<()>;

    /// The names of every volume the driver holds (found on disk).
    fn list(&self) -> Result<Vec<String>>;

    /// The volume's mountpoint, whether or not it is mounted now.
    fn path(&self, name: &str) -> Result<PathBuf>;

    /// The driver options the volume was created with.
    fn options(&self, name: &str) -> Result<BTreeMap<String, String>>;

    /// Makes the volume's data available at its mountpoint for `ref_id` (a
    /// container ID) and returns the mountpoint. A driver that mounts
    /// something (local with `type`/`device`/`o` options) mounts on the
    /// first reference and keeps a count.
    fn mount(&self, name: &str, ref_id: &str) -> Result<PathBuf>;

    /// Drops `ref_id`'s use; the last one unmounts what `mount` mounted.
    /// Unknown references are ignored, so a retry is harmless.
    fn unmount(&self, name: &str, ref_id: &str) -> Result<()>;
}
