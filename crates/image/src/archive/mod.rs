//! `docker save` / `docker load` archives.
//!
//! [`save`] writes what Docker 25+ writes: one uncompressed tar holding an
//! OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) and,
//! next to it, the legacy docker-save files (`manifest.json`,
//! `repositories`) whose paths point into the same `blobs/` directory.
//!
//! [`load`] reads either format from an untrusted stream: the tar is first
//! spooled into a private directory next to the content store ([`spool`]),
//! accepting only regular files, directories and links that stay inside the
//! archive; then every blob is verified against its digest, every layer is
//! unpacked and its DiffID checked before the image record is stored.

mod import;
mod load;
mod save;
mod spool;

use std::io::{Read, Write};

use crate::content::ContentStore;
use crate::error::ImageError;
use crate::record::ImageRecord;
use crate::snapshot::SnapshotStore;
use crate::store::ImageStore;

/// Writes `images` (each with the name the user gave) as one tar.
pub fn save(
    content: &ContentStore,
    images: &ImageStore,
    selected: &[(String, ImageRecord)],
    out: &mut dyn Write,
) -> Result<(), ImageError> {
    save::save(content, images, selected, out)
}

/// Reads a docker-save or OCI archive into the stores.
pub fn load(
    content: &ContentStore,
    snapshots: &SnapshotStore,
    images: &ImageStore,
    input: &mut dyn Read,
) -> Result<Vec<String>, ImageError> {
    load::load(content, snapshots, images, input)
}

/// `oci-layout` file name.
const OCI_LAYOUT_FILE: &str = "oci-layout";
/// What `oci-layout` holds.
const OCI_LAYOUT_CONTENT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;
/// The OCI index file name.
const INDEX_FILE: &str = "index.json";
/// The docker-save manifest file name.
const MANIFEST_FILE: &str = "manifest.json";
/// The legacy repositories file name.
const REPOSITORIES_FILE: &str = "repositories";
/// containerd's image name annotation.
const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
/// OCI's reference name annotation (the tag, for Docker).
const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// One entry of `manifest.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ManifestItem {
    /// Path of the config blob inside the archive.
    #[serde(rename = "Config")]
    config: String,
    /// Familiar `name:tag` strings (null when saved by ID).
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    /// Paths of the layer tars (possibly compressed), bottom first.
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// The archive path of a blob: `blobs/<alg>/<hex>`.
fn blob_path(d: &crate::content::Digest) -> String {
    format!("blobs/{}/{}", d.algorithm(), d.hex())
}
