//! One layer of a pull: download the blob, and in the same pass store it in
//! the content store, decompress it, hash the tar (DiffID) and unpack it into
//! a pending snapshot, which is committed under its ChainID only when the
//! blob digest, size and DiffID all check out.

use std::io::Read;
use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::pipe::{Chunk, ChunkReader};
use super::registry::RegistrySession;
use crate::content::{ContentStore, Digest};
use crate::error::ImageError;
use crate::manifest::Descriptor;
use crate::progress::{LayerStatus, Progress};
use crate::snapshot::{PendingLayer, SnapshotStore};
use crate::stream::{HashingReader, TeeReader};
use crate::unpack;

/// Chunks buffered between the network and the unpacker.
const PIPE_DEPTH: usize = 64;
/// Downloading events are sent at most once per this many bytes.
const PROGRESS_STEP: u64 = 512 * 1024;

/// What a layer needs to become a committed snapshot.
#[derive(Debug, Clone)]
pub(crate) struct LayerJob {
    /// The blob as the manifest describes it.
    pub desc: Descriptor,
    /// The DiffID the config promises for it.
    pub diff_id: Digest,
    /// The snapshot key.
    pub chain_id: Digest,
}

impl LayerJob {
    /// The 12-hex ID Docker prints for the layer.
    pub(crate) fn short_id(&self) -> String {
        self.desc.digest.hex()[..12].to_string()
    }
}

/// Where layers go.
#[derive(Clone)]
pub(crate) struct LayerStores {
    pub content: Arc<ContentStore>,
    pub snapshots: Arc<SnapshotStore>,
}

/// Whether the layer is already stored (blob and snapshot both present).
pub(crate) fn is_present(stores: &LayerStores, job: &LayerJob) -> bool {
    stores.content.contains(&job.desc.digest) && stores.snapshots.has_layer(&job.chain_id)
}

/// Downloads (or reuses a stored blob), unpacks and commits one layer.
/// Returns the unpacked size in bytes.
pub(crate) async fn fetch_layer(
    session: &RegistrySession,
    stores: &LayerStores,
    job: &LayerJob,
    progress: &Progress,
) -> Result<u64, ImageError> {
    let id = job.short_id();
    if stores.content.contains(&job.desc.digest) {
        // The blob survived (an earlier pull, a removed snapshot): unpack it
        // from disk instead of downloading it again.
        progress.layer(
            &id,
            LayerStatus::Extracting {
                current: 0,
                total: job.desc.size,
            },
        );
        let (stores, job2) = (stores.clone(), job.clone());
        let size = tokio::task::spawn_blocking(move || unpack_stored(&stores, &job2))
            .await
            .map_err(|e| ImageError::Invalid(format!("unpack task failed: {e}")))??;
        progress.layer(&id, LayerStatus::PullComplete);
        return Ok(size);
    }

    let mut download = session.blob_stream(&job.desc).await?;
    let (tx, rx) = mpsc::channel(PIPE_DEPTH);
    let unpacker = {
        let (stores, job) = (stores.clone(), job.clone());
        tokio::task::spawn_blocking(move || unpack_download(&stores, &job, ChunkReader::new(rx)))
    };
    // If this future is dropped (the pull is cancelled), `tx` is dropped
    // with it, the unpacker reads "download cancelled" and discards its work.
    let total = job.desc.size;
    let (mut received, mut reported) = (0u64, 0u64);
    progress.layer(&id, LayerStatus::Downloading { current: 0, total });
    while let Some(chunk) = download.stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Chunk::Failed(e.to_string())).await;
                break;
            }
        };
        received += chunk.len() as u64;
        if received > total {
            let _ = tx
                .send(Chunk::Failed(format!(
                    "blob {} is longer than its descriptor's {total} bytes",
                    job.desc.digest
                )))
                .await;
            break;
        }
        if tx.send(Chunk::Data(chunk)).await.is_err() {
            break; // the unpacker failed; its error is reported below
        }
        if received - reported >= PROGRESS_STEP || received == total {
            reported = received;
            progress.layer(
                &id,
                LayerStatus::Downloading {
                    current: received,
                    total,
                },
            );
        }
    }
    let _ = tx.send(Chunk::End).await;
    drop(tx);
    progress.layer(&id, LayerStatus::VerifyingChecksum);
    let size = unpacker
        .await
        .map_err(|e| ImageError::Invalid(format!("unpack task failed: {e}")))??;
    progress.layer(&id, LayerStatus::DownloadComplete);
    progress.layer(
        &id,
        LayerStatus::Extracting {
            current: total,
            total,
        },
    );
    progress.layer(&id, LayerStatus::PullComplete);
    Ok(size)
}

/// Blocking half of a download: tee into the content store, unpack, verify,
/// commit.
fn unpack_download(
    stores: &LayerStores,
    job: &LayerJob,
    chunks: ChunkReader,
) -> Result<u64, ImageError> {
    let writer = stores
        .content
        .writer(&job.desc.digest, Some(job.desc.size))
        .map_err(ImageError::content(format!(
            "storing layer {}",
            job.desc.digest
        )))?;
    let mut tee = TeeReader::new(chunks, writer);
    let unpacked = unpack_verified(&mut tee, stores, job);
    // The blob is verified whether or not the unpack worked: a corrupt blob
    // usually breaks decompression first, and the digest error is the real
    // cause to report.
    let verified = match tee.drain() {
        Ok(_) => tee
            .into_sink()
            .commit()
            .map_err(ImageError::content(format!(
                "filesystem layer verification failed for digest {}",
                job.desc.digest
            ))),
        Err(e) => Err(ImageError::Unavailable(format!(
            "downloading layer {}: {e}",
            job.desc.digest
        ))),
    };
    match (verified, unpacked) {
        (Err(e), _) if unpacked_is_secondary(&e) => Err(e),
        (_, Err(e)) => Err(e),
        (Err(e), Ok(_)) => Err(e),
        // Only a verified blob's snapshot is committed.
        (Ok(_), Ok((pending, size))) => commit(pending, job).map(|()| size),
    }
}

/// Whether a blob error explains (and so outranks) an unpack error.
fn unpacked_is_secondary(e: &ImageError) -> bool {
    !matches!(e, ImageError::Io { .. })
}

fn commit(pending: PendingLayer, job: &LayerJob) -> Result<(), ImageError> {
    pending
        .commit(&job.chain_id)
        .map_err(|e| ImageError::Invalid(format!("committing layer {}: {e}", job.desc.digest)))
}

/// Unpacks a blob already in the content store (verifying it on the way).
fn unpack_stored(stores: &LayerStores, job: &LayerJob) -> Result<u64, ImageError> {
    let file = stores
        .content
        .read(&job.desc.digest)
        .map_err(ImageError::content(format!(
            "reading layer {}",
            job.desc.digest
        )))?;
    let (pending, size) = unpack_verified(&mut std::io::BufReader::new(file), stores, job)?;
    commit(pending, job).map(|()| size)
}

/// Decompresses, hashes and unpacks `compressed` into a pending snapshot,
/// returned (uncommitted) with the unpacked size if the DiffID matches.
fn unpack_verified(
    compressed: &mut dyn Read,
    stores: &LayerStores,
    job: &LayerJob,
) -> Result<(PendingLayer, u64), ImageError> {
    let layer = job.desc.digest.to_string();
    let pending = stores
        .snapshots
        .begin_layer()
        .map_err(|e| ImageError::Invalid(format!("preparing layer {layer}: {e}")))?;
    let tar = unpack::decompress(compressed)
        .map_err(ImageError::io(format!("decompressing layer {layer}")))?;
    let mut hashing = HashingReader::new(tar);
    let stats = unpack::unpack_tar(&mut hashing, pending.diff_dir()).map_err(|source| {
        ImageError::Unpack {
            layer: layer.clone(),
            source,
        }
    })?;
    let diff_id = hashing
        .finish()
        .map_err(ImageError::io(format!("decompressing layer {layer}")))?;
    if diff_id != job.diff_id {
        return Err(ImageError::Invalid(format!(
            "layer {layer}: uncompressed content has digest {diff_id}, but the image config says {}",
            job.diff_id
        )));
    }
    Ok((pending, stats.bytes))
}
