//! The volume store (moby `volume/service`): every volume's name, driver,
//! labels and creation time, and which containers reference it.
//! References are kept in memory only; the daemon rebuilds them from its
//! container records when it opens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::Result;

/// The label moby puts on volumes made for `-v /path`, `--mount
/// type=volume` without a source and the image's VOLUMEs; `rm -v`, `--rm`
/// and a default `volume prune` remove only these.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// What the store knows of one volume.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeInfo {
    /// The volume's name (64 hex digits for an anonymous one).
    pub name: String,
    /// The driver's name (`local`).
    pub driver: String,
    /// Where its data lives on the host.
    pub mountpoint: PathBuf,
    /// When it was created.
    pub created_at: SystemTime,
    /// User labels, plus [`ANONYMOUS_LABEL`] for anonymous volumes.
    pub labels: BTreeMap<String, String>,
    /// The driver options it was created with.
    pub options: BTreeMap<String, String>,
}

impl VolumeInfo {
    /// Whether the volume was made without a name (carries [`ANONYMOUS_LABEL`]).
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// A request to create a volume (`POST /volumes/create`, or a container's
/// mount of a volume that does not exist yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateOptions {
    /// The name; `None` or empty makes an anonymous volume with a random
    /// 64-hex name and [`ANONYMOUS_LABEL`].
    pub name: Option<String>,
    /// The driver; `None` or empty means `local`.
    pub driver: Option<String>,
    /// User labels.
    pub labels: BTreeMap<String, String>,
    /// Driver options (`local`: `type`, `device`, `o`).
    pub options: BTreeMap<String, String>,
}

/// The volume store: drivers, metadata under `<root>/_meta/` (a name no
/// volume can have, as names start with an alphanumeric), and in-memory
/// references. Safe to share between threads.
pub struct VolumeStore {
    _root: PathBuf,
}

impl VolumeStore {
    /// Opens (creating if needed) the store rooted at `root` (the data
    /// root's `volumes/`), with the local driver keeping data in
    /// `<root>/<name>/_data`. Volumes found on disk without metadata are
    /// adopted with their directory's mtime as creation time.
    pub fn open(root: &Path) -> Result<Self> {
        let _ = root;
        todo!()
    }

    /// Creates a volume, or returns the existing one of that name (as moby
    /// does, ignoring the new labels and options) unless it belongs to
    /// another driver (Conflict). An invalid name is InvalidParameter with
    /// moby's message.
    pub fn create(&self, opts: CreateOptions) -> Result<VolumeInfo> {
        let _ = opts;
        todo!()
    }

    /// The volume `name`; NotFound `get <name>: no such volume`.
    pub fn get(&self, name: &str) -> Result<VolumeInfo> {
        let _ = name;
        todo!()
    }

    /// Every volume, sorted by name.
    pub fn list(&self) -> Result<Vec<VolumeInfo>> {
        todo!()
    }

    /// Removes the volume and its data. Conflict `remove <name>: volume is
    /// in use - [<ids>]` while any container references it (`force` does not
    /// override that, as in moby); with `force` a missing volume is not an
    /// error.
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        let _ = (name, force);
        todo!()
    }

    /// Records that container `ref_id` uses the volume (from create to
    /// remove of the container). NotFound for an unknown volume.
    pub fn add_ref(&self, name: &str, ref_id: &str) -> Result<()> {
        let _ = (name, ref_id);
        todo!()
    }

    /// Drops `ref_id`'s reference; unknown ones are ignored.
    pub fn remove_ref(&self, name: &str, ref_id: &str) {
        let _ = (name, ref_id);
        todo!()
    }

    /// The containers referencing the volume, sorted.
    pub fn refs(&self, name: &str) -> Vec<String> {
        let _ = name;
        todo!()
    }

    /// Mounts the volume for a starting container (driver `mount`) and
    /// returns the host path to bind into it.
    pub fn mount(&self, name: &str, ref_id: &str) -> Result<PathBuf> {
        let _ = (name, ref_id);
        todo!()
    }

    /// Undoes [`VolumeStore::mount`] when the container stops.
    pub fn unmount(&self, name: &str, ref_id: &str) -> Result<()> {
        let _ = (name, ref_id);
        todo!()
    }

    /// Bytes used by the volume's data (for `system df -v`), counting each
    /// hard-linked inode once.
    pub fn usage(&self, name: &str) -> Result<u64> {
        let _ = name;
        todo!()
    }
}
