//! The image store (moby's `image/` store plus `reference/` store, in the
//! graphdriver flavour): the images this daemon has, and the names that
//! point at them.
//!
//! Layout under the store's root (`<data-root>/image`):
//!
//! ```text
//! <root>/images/<id hex>.json     one ImageRecord per image
//! <root>/metadata/<id hex>.json   per-image metadata (LastTagTime)
//! <root>/repositories.json        the references, Docker's refstore format
//! ```
//!
//! Every write replaces a file atomically (temp file in the same directory,
//! fsync, rename, fsync the directory). [`ImageStore::open`] removes
//! leftover temp files, skips (with a warning) record files that do not
//! parse, and drops references to images it does not have.
//!
//! The store keeps everything in memory behind one lock and writes through
//! to disk while holding it, so concurrent callers never interleave writes.
//! It is cheap to [`Clone`] (an `Arc` inside); clones share the same state.
//!
//! Lookups by user input follow moby's `GetImage`: see
//! [`ImageStore::get_image`]. [`ImageStore::inspect`],
//! [`ImageStore::summaries`] and [`ImageStore::history`] render the Engine
//! API's `ImageInspect`, `ImageSummary` and `HistoryResponseItem` shapes
//! (API v1.49, Docker 28).

mod error;
mod fsutil;
mod inspect;
mod lookup;
mod references;
#[cfg(test)]
mod tests;
mod time;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use inspect::{
    history_items, image_inspect, image_summary, inspect_config, overlay2_graph_driver, Descriptor,
    GraphDriverData, HistoryItem, ImageInspect, ImageInspectConfig, ImageMetadata, ImageSummary,
    InspectRootFs,
};

use crate::content::Digest;
use crate::record::ImageRecord;
use crate::reference::Reference;
use fsutil::{atomic_write, remove_durably, remove_temp_files};
use references::{RefFileIn, RefMap};
use time::Timestamp;

/// Per-image metadata kept next to the record (moby's
/// `imagedb/metadata/sha256/<id>/lastUpdated`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ImageMeta {
    /// When `docker tag` last tagged the image (RFC 3339), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_tag_time: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    images: BTreeMap<Digest, ImageRecord>,
    meta: BTreeMap<Digest, ImageMeta>,
    refs: RefMap,
}

#[derive(Debug)]
struct Shared {
    root: PathBuf,
    state: RwLock<State>,
}

/// The image store: image records and the references naming them. See the
/// module docs. Thread-safe; `Clone` shares the same store.
#[derive(Debug, Clone)]
pub struct ImageStore {
    shared: Arc<Shared>,
}

impl ImageStore {
    /// Opens (creating if needed) the store at `root`, loading every record
    /// and the references into memory. Leftover temp files are removed; a
    /// record that fails to parse is logged and skipped; references to
    /// images that are not stored are dropped (and the file rewritten).
    pub fn open(root: &Path) -> Result<ImageStore, StoreError> {
        let images_dir = root.join("images");
        let meta_dir = root.join("metadata");
        for dir in [root, images_dir.as_path(), meta_dir.as_path()] {
            fs::create_dir_all(dir).map_err(StoreError::io(format!("create {}", dir.display())))?;
            remove_temp_files(dir)?;
        }

        let mut state = State::default();
        for (id, bytes) in read_json_dir(&images_dir)? {
            match serde_json::from_slice::<ImageRecord>(&bytes) {
                Ok(record) if record.id == id => {
                    state.images.insert(id, record);
                }
                Ok(record) => tracing::warn!(
                    file = %images_dir.join(format!("{}.json", id.hex())).display(),
                    recorded = %record.id,
                    "skipping image record stored under another ID"
                ),
                Err(e) => tracing::warn!(
                    file = %images_dir.join(format!("{}.json", id.hex())).display(),
                    error = %e,
                    "skipping unreadable image record"
                ),
            }
        }
        for (id, bytes) in read_json_dir(&meta_dir)? {
            if !state.images.contains_key(&id) {
                continue;
            }
            match serde_json::from_slice::<ImageMeta>(&bytes) {
                Ok(meta) => {
                    state.meta.insert(id, meta);
                }
                Err(e) => {
                    tracing::warn!(image = %id, error = %e, "skipping unreadable image metadata")
                }
            }
        }

        let refs_path = root.join("repositories.json");
        let (refs, rewrite) = match fs::read(&refs_path) {
            Ok(bytes) => {
                let file: RefFileIn =
                    serde_json::from_slice(&bytes).map_err(|e| StoreError::System {
                        context: format!("parse {}", refs_path.display()),
                        source: io::Error::new(io::ErrorKind::InvalidData, e),
                    })?;
                RefMap::load(file, |id| state.images.contains_key(id))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (RefMap::default(), true),
            Err(e) => return Err(StoreError::io(format!("read {}", refs_path.display()))(e)),
        };
        state.refs = refs;
        if rewrite {
            atomic_write(&refs_path, &state.refs.to_json())?;
        }

        Ok(ImageStore {
            shared: Arc::new(Shared {
                root: root.to_path_buf(),
                state: RwLock::new(state),
            }),
        })
    }

    /// The directory the store was opened on.
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.shared
            .state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.shared
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record_path(&self, id: &Digest) -> PathBuf {
        self.shared
            .root
            .join("images")
            .join(format!("{}.json", id.hex()))
    }

    fn meta_path(&self, id: &Digest) -> PathBuf {
        self.shared
            .root
            .join("metadata")
            .join(format!("{}.json", id.hex()))
    }

    fn refs_path(&self) -> PathBuf {
        self.shared.root.join("repositories.json")
    }

    /// Writes `refs` to disk, then installs it in memory (so memory never
    /// claims what the disk does not have).
    fn commit_refs(&self, state: &mut State, refs: RefMap) -> Result<(), StoreError> {
        atomic_write(&self.refs_path(), &refs.to_json())?;
        state.refs = refs;
        Ok(())
    }

    /// Stores `record` under its ID (replacing an existing record with the
    /// same ID). Idempotent: storing an identical record again writes
    /// nothing.
    pub fn put(&self, record: ImageRecord) -> Result<(), StoreError> {
        let mut state = self.write();
        if state.images.get(&record.id) == Some(&record) {
            return Ok(());
        }
        let bytes = serde_json::to_vec(&record).map_err(|e| StoreError::System {
            context: format!("encode image record {}", record.id),
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })?;
        atomic_write(&self.record_path(&record.id), &bytes)?;
        state.images.insert(record.id.clone(), record);
        Ok(())
    }

    /// The record with this ID, if stored.
    pub fn get(&self, id: &Digest) -> Option<ImageRecord> {
        self.read().images.get(id).cloned()
    }

    /// Whether an image with this ID is stored.
    pub fn contains(&self, id: &Digest) -> bool {
        self.read().images.contains_key(id)
    }

    /// Every stored record, ordered by ID.
    pub fn list(&self) -> Vec<ImageRecord> {
        self.read().images.values().cloned().collect()
    }

    /// Removes the image `id`: first every reference to it (returned,
    /// sorted, so the caller can report `Untagged: …`), then its record and
    /// metadata. `No such image: <id>` (NotFound) when it is not stored.
    pub fn delete_record(&self, id: &Digest) -> Result<Vec<Reference>, StoreError> {
        let mut state = self.write();
        if !state.images.contains_key(id) {
            return Err(StoreError::no_such_image(id));
        }
        let mut refs = state.refs.clone();
        let removed = refs.remove_all(id);
        if !removed.is_empty() {
            self.commit_refs(&mut state, refs)?;
        }
        remove_durably(&self.record_path(id))?;
        state.images.remove(id);
        if state.meta.remove(id).is_some() {
            remove_durably(&self.meta_path(id))?;
        }
        Ok(removed)
    }

    /// Points the tag `reference` (`:latest` when it has no tag) at image
    /// `id`, moving the tag if it named another image (the reference
    /// store's `AddTag` with force, as pulls and `docker tag` use it).
    ///
    /// Errors: a reference with a digest is `refusing to create a tag with
    /// a digest reference`, a repository named `sha256` is `refusing to
    /// create an ambiguous tag using digest algorithm as name` (both
    /// InvalidParameter); an image that is not stored is `No such image:
    /// <id>` (NotFound).
    pub fn add_tag(&self, reference: &Reference, id: &Digest) -> Result<(), StoreError> {
        let mut state = self.write();
        self.add_tag_locked(&mut state, reference, id)
    }

    fn add_tag_locked(
        &self,
        state: &mut State,
        reference: &Reference,
        id: &Digest,
    ) -> Result<(), StoreError> {
        if !state.images.contains_key(id) {
            return Err(StoreError::no_such_image(id));
        }
        let mut refs = state.refs.clone();
        if refs.add_tag(reference, id)? {
            self.commit_refs(state, refs)?;
        }
        Ok(())
    }

    /// `docker tag` (moby's `TagImage`): [`add_tag`](Self::add_tag), then
    /// records now as the image's `LastTagTime`.
    pub fn tag_image(&self, reference: &Reference, id: &Digest) -> Result<(), StoreError> {
        let mut state = self.write();
        self.add_tag_locked(&mut state, reference, id)?;
        let meta = ImageMeta {
            last_tag_time: Some(Timestamp::now().to_rfc3339_nano()),
        };
        let bytes = serde_json::to_vec(&meta).unwrap_or_default();
        atomic_write(&self.meta_path(id), &bytes)?;
        state.meta.insert(id.clone(), meta);
        Ok(())
    }

    /// Points the digest reference `reference` (`name@sha256:…`; a tag
    /// next to the digest is dropped) at image `id` (the reference store's
    /// `AddDigest`). Adding the same pair again is a no-op; a digest
    /// reference that already names another image is `Cannot overwrite
    /// digest <digest>` (Conflict), as moby refuses to move digests. A
    /// reference without a digest is InvalidParameter; an image that is not
    /// stored is `No such image: <id>` (NotFound).
    pub fn add_digest_ref(&self, reference: &Reference, id: &Digest) -> Result<(), StoreError> {
        let mut state = self.write();
        if !state.images.contains_key(id) {
            return Err(StoreError::no_such_image(id));
        }
        let mut refs = state.refs.clone();
        if refs.add_digest(reference, id)? {
            self.commit_refs(&mut state, refs)?;
        }
        Ok(())
    }

    /// Removes `reference` (`:latest` when it has neither tag nor digest;
    /// by digest alone when it has both) and returns the image it pointed
    /// at. `reference does not exist` (NotFound) when it is not stored.
    pub fn remove_reference(&self, reference: &Reference) -> Result<Digest, StoreError> {
        let mut state = self.write();
        let mut refs = state.refs.clone();
        let id = refs.delete(reference)?;
        self.commit_refs(&mut state, refs)?;
        Ok(id)
    }

    /// Every reference to image `id`, sorted by full name
    /// (`docker.io/library/busybox:latest` before
    /// `docker.io/library/busybox@sha256:…`).
    pub fn references_to(&self, id: &Digest) -> Vec<Reference> {
        self.read().refs.references(id)
    }

    /// The image `reference` names (the reference store's `Get`): by digest
    /// when it has one, else by tag, `:latest` when it has neither.
    pub fn resolve_reference(&self, reference: &Reference) -> Option<Digest> {
        self.read().refs.get(reference)
    }
}

/// Reads every `<64 hex>.json` file in `dir` whose name is a valid sha256
/// hex, with the ID its name encodes. Other files are ignored.
fn read_json_dir(dir: &Path) -> Result<Vec<(Digest, Vec<u8>)>, StoreError> {
    let entries = fs::read_dir(dir).map_err(StoreError::io(format!("read {}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StoreError::io(format!("read {}", dir.display())))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(hex) = name.strip_suffix(".json") else {
            continue;
        };
        let alg = if hex.len() == 128 { "sha512" } else { "sha256" };
        let Ok(id) = Digest::parse(&format!("{alg}:{hex}")) else {
            tracing::warn!(file = %entry.path().display(), "ignoring unexpected file in image store");
            continue;
        };
        match fs::read(entry.path()) {
            Ok(bytes) => out.push((id, bytes)),
            Err(e) => {
                tracing::warn!(file = %entry.path().display(), error = %e, "skipping unreadable file")
            }
        }
    }
    Ok(out)
}
