//! Pulling an image from a registry (moby's `distribution/`): resolve the
//! manifest (choosing a platform from an index), fetch the config, then
//! download every missing layer concurrently, each decompressed and unpacked
//! while it streams. Storing the result in the image store is the caller's
//! job ([`crate::service`]).
//!
//! Dropping the future returned by [`pull_image`] cancels the pull: open
//! connections close, unpacking threads see the stream end with an error,
//! and their temp files and pending snapshots are removed.

mod layer;
mod pipe;
mod registry;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};

pub use registry::{Credentials, RegistryOptions};

use self::layer::{fetch_layer, is_present, LayerJob, LayerStores};
use self::registry::RegistrySession;
use crate::config::ImageConfigFile;
use crate::content::{ContentStore, Digest};
use crate::error::ImageError;
use crate::manifest::{Descriptor, ImageManifest, ManifestDocument};
use crate::platform::Platform;
use crate::progress::{LayerStatus, Progress};
use crate::record::{chain_ids, ImageRecord, LayerRecord, ManifestDescriptor};
use crate::reference::Reference;
use crate::snapshot::SnapshotStore;

/// Manifests, indexes and configs bigger than this are refused unread.
pub const MAX_METADATA_SIZE: u64 = 4 * 1024 * 1024;

/// One pull's parameters.
#[derive(Debug, Clone)]
pub struct PullSpec {
    /// The (normalized) reference: tagged or digested.
    pub reference: Reference,
    /// The platform to pick from an index.
    pub platform: Platform,
    /// Credentials for the registry.
    pub credentials: Credentials,
    /// How many layers download at once.
    pub max_concurrent_downloads: usize,
}

/// What a pull produced: the image, ready to be recorded.
#[derive(Debug, Clone)]
pub struct PulledImage {
    /// The image record (ID, config, manifest, layers).
    pub record: ImageRecord,
    /// The digest the repository knows the image by: the index's when the
    /// reference resolved to one (as Docker records RepoDigests), else the
    /// manifest's.
    pub repo_digest: Digest,
}

/// The stores a pull writes into.
#[derive(Clone)]
pub struct PullStores {
    /// Blobs: manifests, configs, compressed layers.
    pub content: Arc<ContentStore>,
    /// Unpacked layers by ChainID.
    pub snapshots: Arc<SnapshotStore>,
}

/// Pulls `spec.reference` into the stores. See the module docs.
pub async fn pull_image(
    stores: &PullStores,
    registries: &RegistryOptions,
    spec: &PullSpec,
    progress: &Progress,
) -> Result<PulledImage, ImageError> {
    let reference = &spec.reference;
    let target = reference
        .digest()
        .or(reference.tag())
        .unwrap_or("latest")
        .to_string();
    let session = RegistrySession::connect(reference, &spec.credentials, registries).await?;
    let (bytes, content_type) = session.manifest(&target, MAX_METADATA_SIZE).await?;
    // After the manifest, as moby's `pullTag`: a missing image fails before
    // any progress, so the API can still answer it with a plain error.
    progress.status(Some(&target), format!("Pulling from {}", reference.path()));
    let top_digest = Digest::sha256_of(&bytes);
    if let Some(want) = reference.digest() {
        if top_digest.to_string() != want {
            return Err(ImageError::Invalid(format!(
                "manifest verification failed for digest {want}: got {top_digest}"
            )));
        }
    }
    let top = ManifestDocument::parse(&bytes, content_type.as_deref())?;
    let (manifest, manifest_desc, manifest_bytes) = match top {
        ManifestDocument::Image(m) => {
            let desc = ManifestDescriptor {
                digest: top_digest.clone(),
                media_type: m.media_type.clone().unwrap_or_else(|| {
                    content_type
                        .clone()
                        .unwrap_or_else(|| crate::manifest::OCI_MANIFEST.into())
                }),
                size: bytes.len() as u64,
            };
            (*m, desc, bytes)
        }
        ManifestDocument::Index(index) => {
            let entry = index.select(&spec.platform).ok_or_else(|| {
                ImageError::NotFound(format!(
                    "no matching manifest for {} in the manifest list entries",
                    spec.platform
                ))
            })?;
            let (m, b) = fetch_platform_manifest(&session, entry).await?;
            let desc = ManifestDescriptor {
                digest: entry.digest.clone(),
                media_type: entry.media_type.clone(),
                size: entry.size,
            };
            (m, desc, b)
        }
    };

    let config_bytes = fetch_config(&session, &stores.content, &manifest.config).await?;
    let config = ImageConfigFile::parse(&config_bytes).map_err(ImageError::Invalid)?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(ImageError::Invalid(format!(
            "image config lists {} layers but the manifest has {}",
            config.rootfs.diff_ids.len(),
            manifest.layers.len()
        )));
    }
    let chain = chain_ids(&config.rootfs.diff_ids);
    let jobs: Vec<LayerJob> = manifest
        .layers
        .iter()
        .zip(config.rootfs.diff_ids.iter().zip(&chain))
        .map(|(desc, (diff, chain_id))| LayerJob {
            desc: desc.clone(),
            diff_id: diff.clone(),
            chain_id: chain_id.clone(),
        })
        .collect();
    let layer_sizes = fetch_layers(
        &session,
        stores,
        &jobs,
        spec.max_concurrent_downloads,
        progress,
    )
    .await?;

    stores
        .content
        .write_blob(&manifest.config.digest, &config_bytes)
        .map_err(ImageError::content(format!(
            "storing config {}",
            manifest.config.digest
        )))?;
    // Only the platform manifest is kept: the index is not needed to run,
    // save or identify the image (its digest lives on in the RepoDigest).
    stores
        .content
        .write_blob(&manifest_desc.digest, &manifest_bytes)
        .map_err(ImageError::content(format!(
            "storing manifest {}",
            manifest_desc.digest
        )))?;
    let layers = jobs
        .into_iter()
        .zip(layer_sizes)
        .map(|(job, unpacked_size)| LayerRecord {
            blob: job.desc.digest,
            media_type: job.desc.media_type,
            blob_size: job.desc.size,
            diff_id: job.diff_id,
            chain_id: job.chain_id,
            unpacked_size,
        })
        .collect();
    Ok(PulledImage {
        record: ImageRecord {
            id: manifest.config.digest.clone(),
            config,
            manifest: manifest_desc,
            layers,
        },
        repo_digest: top_digest,
    })
}

/// Fetches the image manifest an index entry points at, verifying it.
async fn fetch_platform_manifest(
    session: &RegistrySession,
    entry: &Descriptor,
) -> Result<(ImageManifest, Bytes), ImageError> {
    if entry.size > MAX_METADATA_SIZE {
        return Err(ImageError::InvalidParameter(format!(
            "manifest {} is larger than the {MAX_METADATA_SIZE}-byte limit; refusing to read it",
            entry.digest
        )));
    }
    let (bytes, _) = session
        .manifest(&entry.digest.to_string(), MAX_METADATA_SIZE)
        .await?;
    let got = Digest::sha256_of(&bytes);
    if got != entry.digest || bytes.len() as u64 != entry.size {
        return Err(ImageError::Invalid(format!(
            "manifest verification failed for digest {}: got {got} ({} bytes)",
            entry.digest,
            bytes.len()
        )));
    }
    match ManifestDocument::parse(&bytes, Some(&entry.media_type))? {
        ManifestDocument::Image(m) => Ok((*m, bytes)),
        ManifestDocument::Index(_) => Err(ImageError::Invalid(format!(
            "manifest {} is an index inside an index, which is not supported",
            entry.digest
        ))),
    }
}

/// The config blob: from the content store when present, else downloaded
/// (bounded). It is stored with the manifest once every layer is in.
async fn fetch_config(
    session: &RegistrySession,
    content: &ContentStore,
    desc: &Descriptor,
) -> Result<Bytes, ImageError> {
    if content.contains(&desc.digest) {
        return content
            .read_all(&desc.digest, MAX_METADATA_SIZE)
            .map(Bytes::from)
            .map_err(ImageError::content(format!(
                "reading config {}",
                desc.digest
            )));
    }
    let bytes = session.small_blob(desc, MAX_METADATA_SIZE).await?;
    let got = Digest::sha256_of(&bytes);
    if got != desc.digest {
        return Err(ImageError::Invalid(format!(
            "config verification failed for digest {}: got {got}",
            desc.digest
        )));
    }
    Ok(bytes)
}

/// Fetches every missing layer, at most `max` at once, and returns each
/// layer's unpacked size (in `jobs` order).
async fn fetch_layers(
    session: &RegistrySession,
    stores: &PullStores,
    jobs: &[LayerJob],
    max: usize,
    progress: &Progress,
) -> Result<Vec<u64>, ImageError> {
    let layer_stores = LayerStores {
        content: stores.content.clone(),
        snapshots: stores.snapshots.clone(),
    };
    let max = max.max(1);
    let mut missing = 0usize;
    for job in jobs {
        if is_present(&layer_stores, job) {
            progress.layer(&job.short_id(), LayerStatus::AlreadyExists);
        } else {
            progress.layer(&job.short_id(), LayerStatus::PullingFsLayer);
            if missing >= max {
                progress.layer(&job.short_id(), LayerStatus::Waiting);
            }
            missing += 1;
        }
    }
    let layer_stores = &layer_stores;
    // Futures built up front (not in a `Stream::map` closure): a closure
    // returning a borrowing future defeats the `Send` proof of callers.
    let fetches: Vec<_> = jobs
        .iter()
        .enumerate()
        .map(|(i, job)| async move {
            let size = if is_present(layer_stores, job) {
                stores.snapshots.layer_size(&job.chain_id).map_err(|e| {
                    ImageError::Invalid(format!("measuring layer {}: {e}", job.chain_id))
                })?
            } else {
                fetch_layer(session, layer_stores, job, progress).await?
            };
            Ok::<_, ImageError>((i, size))
        })
        .collect();
    futures_util::stream::iter(fetches)
        .buffer_unordered(max)
        .try_fold(vec![0u64; jobs.len()], |mut sizes, (i, size)| async move {
            sizes[i] = size;
            Ok(sizes)
        })
        .await
}
