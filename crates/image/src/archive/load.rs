//! `docker load`: a docker-save archive (`manifest.json`, legacy or as
//! Docker 25+ writes it) or an OCI image layout archive (`index.json` +
//! `oci-layout`), read from an untrusted stream.
//!
//! Per image: the config is hashed (its digest is the image ID), every
//! layer is stored and verified, unpacked and committed, the config and
//! manifest blobs are written, and only then is the record stored and
//! tagged. A failure leaves no record (and at worst unreferenced blobs or
//! layers, which garbage collection removes).

use std::collections::HashMap;
use std::path::PathBuf;

use super::import::{import_layer, LayerSource};
use super::spool::Spool;
use super::{
    blob_path, ManifestItem, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, INDEX_FILE, MANIFEST_FILE,
    OCI_LAYOUT_FILE,
};
use crate::config::ImageConfigFile;
use crate::content::{ContentStore, Digest};
use crate::error::ImageError;
use crate::manifest::{
    Descriptor, ImageIndex, ImageManifest, ManifestDocument, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST,
    OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};
use crate::platform::Platform;
use crate::record::{chain_ids, ImageRecord, LayerRecord, ManifestDescriptor};
use crate::reference::{parse_normalized_named, tag_name_only, Reference};
use crate::snapshot::SnapshotStore;
use crate::store::ImageStore;

/// Largest config or manifest accepted.
const MAX_DOCUMENT: u64 = 4 << 20;
/// Largest `manifest.json` / `index.json` accepted.
const MAX_TOP_DOCUMENT: u64 = 16 << 20;
/// Nested indexes followed from `index.json`.
const MAX_INDEX_DEPTH: usize = 4;

struct Stores<'a> {
    content: &'a ContentStore,
    snapshots: &'a SnapshotStore,
    images: &'a ImageStore,
}

pub(super) fn load(
    content: &ContentStore,
    snapshots: &SnapshotStore,
    images: &ImageStore,
    input: &mut dyn std::io::Read,
) -> Result<Vec<String>, ImageError> {
    let spool = Spool::extract(&spool_parent(content), input)?;
    let stores = Stores {
        content,
        snapshots,
        images,
    };
    let mut out = Vec::new();
    if spool.has_file(MANIFEST_FILE) {
        load_docker(&stores, &spool, &mut out)?;
    } else if spool.has_file(INDEX_FILE) && spool.has_file(OCI_LAYOUT_FILE) {
        load_oci(&stores, &spool, &mut out)?;
    } else {
        return Err(ImageError::InvalidParameter(
            "invalid archive: it has neither a manifest.json nor an OCI layout (index.json and oci-layout)".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|line| seen.insert(line.clone()));
    Ok(out)
}

/// The content store's scratch directory (same filesystem as the data
/// root), where the archive is spooled.
fn spool_parent(content: &ContentStore) -> PathBuf {
    content.ingest_dir()
}

/// The digest an archive name `blobs/<alg>/<hex>` claims, if it has that
/// shape.
fn claimed_digest(name: &str) -> Option<Digest> {
    let parts: Vec<&str> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    match parts.as_slice() {
        ["blobs", alg, hex] => Digest::parse(&format!("{alg}:{hex}")).ok(),
        _ => None,
    }
}

/// A `RepoTags` entry: must be `name:tag`.
fn parse_repo_tag(tag: &str) -> Result<Reference, ImageError> {
    let r = parse_normalized_named(tag)?;
    if r.tag().is_none() || r.digest().is_some() {
        return Err(ImageError::InvalidParameter(format!("invalid tag {tag:?}")));
    }
    Ok(r)
}

/// A config read from the archive, with its ID.
struct LoadedConfig {
    id: Digest,
    bytes: Vec<u8>,
    config: ImageConfigFile,
}

fn read_config(spool: &Spool, name: &str) -> Result<LoadedConfig, ImageError> {
    let bytes = spool.read_small(name, MAX_DOCUMENT)?;
    let id = Digest::sha256_of(&bytes);
    if let Some(claimed) = claimed_digest(name) {
        if claimed != id {
            return Err(ImageError::Invalid(format!(
                "archive entry {name:?}: content has digest {id}, not the digest its name claims"
            )));
        }
    }
    let config = ImageConfigFile::parse(&bytes)
        .map_err(|e| ImageError::InvalidParameter(format!("archive entry {name:?}: {e}")))?;
    Ok(LoadedConfig { id, bytes, config })
}

/// Writes the config and manifest blobs, then the record.
fn register(
    stores: &Stores<'_>,
    cfg: LoadedConfig,
    manifest_bytes: &[u8],
    manifest_type: &str,
    layers: Vec<LayerRecord>,
) -> Result<(), ImageError> {
    stores
        .content
        .write_blob(&cfg.id, &cfg.bytes)
        .map_err(ImageError::content(format!("storing config {}", cfg.id)))?;
    let manifest_digest = Digest::sha256_of(manifest_bytes);
    stores
        .content
        .write_blob(&manifest_digest, manifest_bytes)
        .map_err(ImageError::content(format!(
            "storing manifest {manifest_digest}"
        )))?;
    stores.images.put(ImageRecord {
        id: cfg.id,
        config: cfg.config,
        manifest: ManifestDescriptor {
            digest: manifest_digest,
            media_type: manifest_type.to_string(),
            size: manifest_bytes.len() as u64,
        },
        layers,
    })?;
    Ok(())
}

/// Points `tags` at `id` and appends Docker's output lines.
fn apply_tags(
    stores: &Stores<'_>,
    id: &Digest,
    tags: &[Reference],
    out: &mut Vec<String>,
) -> Result<(), ImageError> {
    for r in tags {
        if let Some(old) = stores.images.resolve_reference(r) {
            if old != *id {
                out.push(format!(
                    "The image {} already exists, renaming the old one with ID {old} to empty string",
                    r.familiar_string()
                ));
            }
        }
        if r.digest().is_some() && r.tag().is_none() {
            stores.images.add_digest_ref(r, id)?;
        } else {
            stores.images.add_tag(r, id)?;
        }
        out.push(format!("Loaded image: {}", r.familiar_string()));
    }
    if tags.is_empty() {
        out.push(format!("Loaded image ID: {id}"));
    }
    Ok(())
}

/// Reads the blob `d` of the archive (`blobs/<alg>/<hex>`), verifying its
/// digest and size.
fn read_blob(spool: &Spool, d: &Digest, size: u64) -> Result<Vec<u8>, ImageError> {
    let name = blob_path(d);
    let bytes = spool.read_small(&name, MAX_DOCUMENT)?;
    if d.algorithm() != "sha256" {
        return Err(ImageError::InvalidParameter(format!(
            "archive entry {name:?}: unsupported digest algorithm {}",
            d.algorithm()
        )));
    }
    let actual = Digest::sha256_of(&bytes);
    if actual != *d {
        return Err(ImageError::Invalid(format!(
            "archive entry {name:?}: content has digest {actual}, not the digest its name claims"
        )));
    }
    if bytes.len() as u64 != size {
        return Err(ImageError::Invalid(format!(
            "archive entry {name:?} is {} bytes, but its descriptor says {size}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// An image manifest found in the archive.
struct ArchiveManifest {
    media_type: String,
    bytes: Vec<u8>,
    manifest: ImageManifest,
}

/// Follows an index entry down to an image manifest (the host platform's,
/// through nested indexes). `None` for entries that are not images.
fn resolve_manifest(
    spool: &Spool,
    desc: &Descriptor,
    depth: usize,
) -> Result<Option<ArchiveManifest>, ImageError> {
    match desc.media_type.as_str() {
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let bytes = read_blob(spool, &desc.digest, desc.size)?;
            match ManifestDocument::parse(&bytes, Some(&desc.media_type))? {
                ManifestDocument::Image(manifest) => Ok(Some(ArchiveManifest {
                    media_type: manifest
                        .media_type
                        .clone()
                        .unwrap_or_else(|| desc.media_type.clone()),
                    bytes,
                    manifest: *manifest,
                })),
                ManifestDocument::Index(_) => Err(ImageError::Invalid(format!(
                    "manifest {} is an index, but its descriptor says {}",
                    desc.digest, desc.media_type
                ))),
            }
        }
        OCI_INDEX | DOCKER_MANIFEST_LIST => {
            if depth >= MAX_INDEX_DEPTH {
                return Err(ImageError::InvalidParameter(format!(
                    "index {}: indexes nested too deeply",
                    desc.digest
                )));
            }
            let bytes = read_blob(spool, &desc.digest, desc.size)?;
            let ManifestDocument::Index(index) =
                ManifestDocument::parse(&bytes, Some(&desc.media_type))?
            else {
                return Err(ImageError::Invalid(format!(
                    "index {} is an image manifest, but its descriptor says {}",
                    desc.digest, desc.media_type
                )));
            };
            let host = Platform::host();
            let chosen = index.select(&host).ok_or_else(|| {
                ImageError::NotFound(format!(
                    "index {} has no image for platform {host}",
                    desc.digest
                ))
            })?;
            resolve_manifest(spool, chosen, depth + 1)
        }
        other => {
            tracing::debug!(media_type = other, digest = %desc.digest, "skipping non-image index entry");
            Ok(None)
        }
    }
}

/// The image manifests `index.json` points at (for a docker-save archive
/// that also carries an OCI layout); empty when there is none or it is
/// unreadable.
fn archive_manifests(spool: &Spool) -> Vec<ArchiveManifest> {
    let Ok(index) = read_index(spool) else {
        return Vec::new();
    };
    index
        .manifests
        .iter()
        .filter_map(|d| resolve_manifest(spool, d, 0).ok().flatten())
        .collect()
}

fn read_index(spool: &Spool) -> Result<ImageIndex, ImageError> {
    let bytes = spool.read_small(INDEX_FILE, MAX_TOP_DOCUMENT)?;
    match ManifestDocument::parse(&bytes, Some(OCI_INDEX)) {
        Ok(ManifestDocument::Index(index)) => Ok(index),
        Ok(ManifestDocument::Image(_)) => Err(ImageError::InvalidParameter(
            "invalid index.json: it is an image manifest, not an index".into(),
        )),
        Err(e) => Err(ImageError::InvalidParameter(format!(
            "invalid index.json: {e}"
        ))),
    }
}

fn load_docker(
    stores: &Stores<'_>,
    spool: &Spool,
    out: &mut Vec<String>,
) -> Result<(), ImageError> {
    let bytes = spool.read_small(MANIFEST_FILE, MAX_TOP_DOCUMENT)?;
    let items: Vec<ManifestItem> = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::InvalidParameter(format!("invalid manifest.json: {e}")))?;
    let mut known: Option<Vec<ArchiveManifest>> = None;
    for item in &items {
        let tags = item
            .repo_tags
            .iter()
            .flatten()
            .map(|t| parse_repo_tag(t))
            .collect::<Result<Vec<_>, _>>()?;
        let cfg = read_config(spool, &item.config)?;
        let diff_ids = cfg.config.rootfs.diff_ids.clone();
        if diff_ids.len() != item.layers.len() {
            return Err(ImageError::InvalidParameter(format!(
                "invalid archive: image {} lists {} layers in manifest.json, but its config has {} diff_ids",
                cfg.id,
                item.layers.len(),
                diff_ids.len()
            )));
        }
        let id = cfg.id.clone();
        if !stores.images.contains(&id) {
            let chain = chain_ids(&diff_ids);
            let mut layers = Vec::with_capacity(item.layers.len());
            for (i, name) in item.layers.iter().enumerate() {
                let src = LayerSource {
                    entry: name,
                    path: spool.path_of(name)?,
                    expected: claimed_digest(name),
                    expected_size: None,
                    media_type: None,
                };
                layers.push(import_layer(
                    stores.content,
                    stores.snapshots,
                    &src,
                    &diff_ids[i],
                    &chain[i],
                )?);
            }
            // Keep the archive's own manifest when it describes exactly
            // these blobs; otherwise describe them with a new OCI manifest.
            let known = known.get_or_insert_with(|| archive_manifests(spool));
            let matching = known.iter().find(|m| {
                m.manifest.config.digest == id
                    && m.manifest.layers.len() == layers.len()
                    && m.manifest
                        .layers
                        .iter()
                        .zip(&layers)
                        .all(|(d, l)| d.digest == l.blob && d.size == l.blob_size)
            });
            match matching {
                Some(m) => {
                    for (l, d) in layers.iter_mut().zip(&m.manifest.layers) {
                        l.media_type = d.media_type.clone();
                    }
                    register(stores, cfg, &m.bytes, &m.media_type, layers)?;
                }
                None => {
                    let bytes = build_manifest(&id, cfg.bytes.len() as u64, &layers)?;
                    register(stores, cfg, &bytes, OCI_MANIFEST, layers)?;
                }
            }
        }
        apply_tags(stores, &id, &tags, out)?;
    }
    Ok(())
}

/// An OCI manifest for layers loaded from a legacy archive.
fn build_manifest(
    config: &Digest,
    config_size: u64,
    layers: &[LayerRecord],
) -> Result<Vec<u8>, ImageError> {
    let desc = |media_type: &str, digest: &Digest, size: u64| Descriptor {
        media_type: media_type.to_string(),
        digest: digest.clone(),
        size,
        platform: None,
        urls: None,
        annotations: None,
    };
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        config: desc(OCI_CONFIG, config, config_size),
        layers: layers
            .iter()
            .map(|l| desc(&l.media_type, &l.blob, l.blob_size))
            .collect(),
        annotations: None,
    };
    serde_json::to_vec(&manifest)
        .map_err(|e| ImageError::Invalid(format!("encoding a manifest: {e}")))
}

/// The tag an `index.json` entry names: containerd's image name, else an
/// OCI ref name that is a whole reference (Docker writes just the tag
/// there, which names nothing on its own).
fn index_entry_tag(desc: &Descriptor) -> Result<Option<Reference>, ImageError> {
    let Some(ann) = &desc.annotations else {
        return Ok(None);
    };
    if let Some(name) = ann.get(ANNOTATION_IMAGE_NAME) {
        let r = parse_normalized_named(name).map_err(|e| {
            ImageError::InvalidParameter(format!(
                "invalid {ANNOTATION_IMAGE_NAME} annotation {name:?}: {e}"
            ))
        })?;
        return Ok(Some(tag_name_only(r)));
    }
    if let Some(name) = ann.get(ANNOTATION_REF_NAME) {
        if name.contains(['/', ':', '@']) {
            if let Ok(r) = parse_normalized_named(name) {
                return Ok(Some(tag_name_only(r)));
            }
        }
    }
    Ok(None)
}

fn load_oci(stores: &Stores<'_>, spool: &Spool, out: &mut Vec<String>) -> Result<(), ImageError> {
    let index = read_index(spool)?;
    let mut loaded: HashMap<Digest, Digest> = HashMap::new();
    for desc in &index.manifests {
        let tag = index_entry_tag(desc)?;
        let Some(found) = resolve_manifest(spool, desc, 0)? else {
            continue;
        };
        let manifest_digest = Digest::sha256_of(&found.bytes);
        let id = match loaded.get(&manifest_digest) {
            Some(id) => id.clone(),
            None => {
                let id = import_oci_image(stores, spool, &found)?;
                loaded.insert(manifest_digest, id.clone());
                id
            }
        };
        let tags: Vec<Reference> = tag.into_iter().collect();
        apply_tags(stores, &id, &tags, out)?;
    }
    Ok(())
}

fn import_oci_image(
    stores: &Stores<'_>,
    spool: &Spool,
    found: &ArchiveManifest,
) -> Result<Digest, ImageError> {
    let m = &found.manifest;
    let bytes = read_blob(spool, &m.config.digest, m.config.size)?;
    let config = ImageConfigFile::parse(&bytes).map_err(|e| {
        ImageError::InvalidParameter(format!(
            "archive entry {:?}: {e}",
            blob_path(&m.config.digest)
        ))
    })?;
    let cfg = LoadedConfig {
        id: m.config.digest.clone(),
        bytes,
        config,
    };
    let id = cfg.id.clone();
    let diff_ids = cfg.config.rootfs.diff_ids.clone();
    if diff_ids.len() != m.layers.len() {
        return Err(ImageError::InvalidParameter(format!(
            "invalid archive: image {id} has {} layers in its manifest, but its config has {} diff_ids",
            m.layers.len(),
            diff_ids.len()
        )));
    }
    if stores.images.contains(&id) {
        return Ok(id);
    }
    let chain = chain_ids(&diff_ids);
    let mut layers = Vec::with_capacity(m.layers.len());
    for (i, d) in m.layers.iter().enumerate() {
        let name = blob_path(&d.digest);
        let src = LayerSource {
            entry: &name,
            path: spool.path_of(&name)?,
            expected: Some(d.digest.clone()),
            expected_size: Some(d.size),
            media_type: Some(d.media_type.clone()),
        };
        layers.push(import_layer(
            stores.content,
            stores.snapshots,
            &src,
            &diff_ids[i],
            &chain[i],
        )?);
    }
    register(stores, cfg, &found.bytes, &found.media_type, layers)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimed_digests_come_from_blob_paths_only() {
        let hex = "a".repeat(64);
        assert_eq!(
            claimed_digest(&format!("blobs/sha256/{hex}"))
                .unwrap()
                .hex(),
            hex
        );
        assert_eq!(claimed_digest(&format!("{hex}/layer.tar")), None);
        assert_eq!(claimed_digest("blobs/sha256/nothex"), None);
    }

    #[test]
    fn repo_tags_must_be_tagged_names() {
        assert_eq!(
            parse_repo_tag("busybox:latest").unwrap().to_string(),
            "docker.io/library/busybox:latest"
        );
        assert!(parse_repo_tag("busybox").is_err());
        assert!(parse_repo_tag("Bad Name").is_err());
    }

    #[test]
    fn index_tags_prefer_the_containerd_name() {
        let hex = "b".repeat(64);
        let mut d = Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: Digest::parse(&format!("sha256:{hex}")).unwrap(),
            size: 1,
            platform: None,
            urls: None,
            annotations: None,
        };
        assert!(index_entry_tag(&d).unwrap().is_none());
        d.annotations = Some([(ANNOTATION_REF_NAME.to_string(), "latest".to_string())].into());
        assert!(index_entry_tag(&d).unwrap().is_none());
        d.annotations = Some([(ANNOTATION_REF_NAME.to_string(), "app:1".to_string())].into());
        assert_eq!(
            index_entry_tag(&d).unwrap().unwrap().to_string(),
            "docker.io/library/app:1"
        );
        d.annotations = Some(
            [
                (ANNOTATION_REF_NAME.to_string(), "1".to_string()),
                (
                    ANNOTATION_IMAGE_NAME.to_string(),
                    "example.com/x/y:2".to_string(),
                ),
            ]
            .into(),
        );
        assert_eq!(
            index_entry_tag(&d).unwrap().unwrap().to_string(),
            "example.com/x/y:2"
        );
    }
}
