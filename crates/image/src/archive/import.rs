//! Importing one layer file of a spooled archive: store it as a blob
//! (verified against the digest its name claims, if any), decompress and
//! hash it (the DiffID), unpack it into a pending snapshot, and commit the
//! snapshot only when the DiffID is the one the config promises.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;

use crate::content::{ContentStore, Digest};
use crate::error::ImageError;
use crate::manifest::OCI_LAYER_GZIP;
use crate::manifest::OCI_LAYER_TAR;
use crate::record::LayerRecord;
use crate::snapshot::SnapshotStore;
use crate::stream::{HashingReader, TeeReader};
use crate::unpack;

/// zstd-compressed OCI layer.
const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// One layer file to import.
pub(super) struct LayerSource<'a> {
    /// The archive name, for messages.
    pub entry: &'a str,
    /// Where it was spooled.
    pub path: PathBuf,
    /// The digest its name (or descriptor) claims, verified while storing.
    pub expected: Option<Digest>,
    /// The size its descriptor claims.
    pub expected_size: Option<u64>,
    /// The media type its descriptor gives (sniffed when absent).
    pub media_type: Option<String>,
}

/// sha256 of a whole file.
pub(super) fn hash_file(path: &std::path::Path) -> io::Result<Digest> {
    HashingReader::new(File::open(path)?).finish()
}

/// The OCI layer media type matching the compression of the file's first
/// bytes.
fn sniff_media_type(path: &std::path::Path) -> io::Result<&'static str> {
    let mut head = [0u8; 4];
    let mut file = File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        let got = file.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(match &head[..n] {
        [0x1f, 0x8b, ..] => OCI_LAYER_GZIP,
        [0x28, 0xb5, 0x2f, 0xfd] => OCI_LAYER_ZSTD,
        _ => OCI_LAYER_TAR,
    })
}

/// Stores, verifies and (unless that ChainID is already committed) unpacks
/// one layer. Nothing is committed when the blob or its DiffID is wrong.
pub(super) fn import_layer(
    content: &ContentStore,
    snapshots: &SnapshotStore,
    src: &LayerSource<'_>,
    diff_id: &Digest,
    chain_id: &Digest,
) -> Result<LayerRecord, ImageError> {
    let entry = src.entry;
    let io_ctx = || format!("loading layer {entry:?}");
    let size = std::fs::metadata(&src.path)
        .map_err(ImageError::io(io_ctx()))?
        .len();
    if let Some(want) = src.expected_size {
        if want != size {
            return Err(ImageError::Invalid(format!(
                "layer {entry:?} is {size} bytes, but its descriptor says {want}"
            )));
        }
    }
    let digest = match &src.expected {
        Some(d) => d.clone(),
        None => hash_file(&src.path).map_err(ImageError::io(io_ctx()))?,
    };
    let media_type = match &src.media_type {
        Some(m) => m.clone(),
        None => sniff_media_type(&src.path)
            .map_err(ImageError::io(io_ctx()))?
            .to_string(),
    };

    let writer = content
        .writer(&digest, Some(size))
        .map_err(ImageError::content(format!("storing layer {entry:?}")))?;
    let file = File::open(&src.path).map_err(ImageError::io(io_ctx()))?;
    let mut tee = TeeReader::new(BufReader::new(file), writer);

    // Unpack only a layer not yet committed, but hash the DiffID of every
    // blob: the record must never pair a blob with a DiffID it lacks.
    let pending = if snapshots.has_layer(chain_id) {
        None
    } else {
        Some(
            snapshots
                .begin_layer()
                .map_err(|e| ImageError::Invalid(format!("preparing layer {entry:?}: {e}")))?,
        )
    };
    let (actual_diff, unpacked) = {
        let tar = unpack::decompress(&mut tee)
            .map_err(ImageError::io(format!("decompressing layer {entry:?}")))?;
        let mut hashing = HashingReader::new(tar);
        let bytes = match &pending {
            Some(p) => {
                unpack::unpack_tar(&mut hashing, p.diff_dir())
                    .map_err(|source| ImageError::Unpack {
                        layer: entry.to_string(),
                        source,
                    })?
                    .bytes
            }
            None => 0,
        };
        let d = hashing
            .finish()
            .map_err(ImageError::io(format!("decompressing layer {entry:?}")))?;
        (d, bytes)
    };
    tee.drain().map_err(ImageError::io(io_ctx()))?;
    tee.into_sink()
        .commit()
        .map_err(ImageError::content(format!(
            "layer {entry:?} does not match its digest {digest}"
        )))?;
    if actual_diff != *diff_id {
        return Err(ImageError::Invalid(format!(
            "layer {entry:?}: uncompressed content has digest {actual_diff}, but the image config says {diff_id}"
        )));
    }
    let unpacked = match pending {
        Some(p) => {
            p.commit(chain_id)
                .map_err(|e| ImageError::Invalid(format!("committing layer {entry:?}: {e}")))?;
            unpacked
        }
        None => snapshots.layer_size(chain_id)?,
    };
    Ok(LayerRecord {
        blob: digest,
        media_type,
        blob_size: size,
        diff_id: diff_id.clone(),
        chain_id: chain_id.clone(),
        unpacked_size: unpacked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_compression_and_hashes_files() {
        let dir = std::env::temp_dir().join(format!("berth-archive-sniff-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases: [(&[u8], &str); 4] = [
            (&[0x1f, 0x8b, 8, 0], OCI_LAYER_GZIP),
            (&[0x28, 0xb5, 0x2f, 0xfd, 1], OCI_LAYER_ZSTD),
            (b"plain tar", OCI_LAYER_TAR),
            (b"", OCI_LAYER_TAR),
        ];
        for (i, (bytes, want)) in cases.iter().enumerate() {
            let p = dir.join(i.to_string());
            std::fs::write(&p, bytes).unwrap();
            assert_eq!(sniff_media_type(&p).unwrap(), *want);
            assert_eq!(hash_file(&p).unwrap(), Digest::sha256_of(bytes));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
