//! What the image store keeps for each image: the config digest (its ID), the
//! parsed config, the manifest it came from and, per layer, the compressed
//! blob, the DiffID and the ChainID its snapshot is keyed by.

use crate::config::ImageConfigFile;
use crate::content::Digest;
use serde::{Deserialize, Serialize};

/// One image in the store; persisted as `image/images/<id hex>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The image ID: the digest of the config blob.
    pub id: Digest,
    /// The parsed config blob (the blob itself stays in the content store).
    pub config: ImageConfigFile,
    /// The platform manifest this image was pulled or loaded as.
    pub manifest: ManifestDescriptor,
    /// The layers, bottom first; `layers[i].diff_id == config.rootfs.diff_ids[i]`.
    pub layers: Vec<LayerRecord>,
}

/// A manifest blob kept in the content store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestDescriptor {
    /// Digest of the manifest bytes.
    pub digest: Digest,
    /// Its media type (OCI manifest or Docker schema 2).
    pub media_type: String,
    /// Its length in bytes.
    pub size: u64,
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// Digest of the (usually compressed) blob as the registry serves it.
    pub blob: Digest,
    /// The blob's media type (`...tar+gzip`, `...tar+zstd`, `...tar`).
    pub media_type: String,
    /// The blob's length in bytes.
    pub blob_size: u64,
    /// Digest of the uncompressed tar (the config's DiffID).
    pub diff_id: Digest,
    /// The ChainID: identifies this layer together with everything below it.
    pub chain_id: Digest,
    /// Bytes of file content the layer holds once unpacked.
    pub unpacked_size: u64,
}

impl ImageRecord {
    /// The image's size as `docker images` shows it: the sum of its layers'
    /// unpacked sizes.
    pub fn size(&self) -> u64 {
        self.layers.iter().map(|l| l.unpacked_size).sum()
    }

    /// The ChainIDs of the layers, bottom first: the snapshot keys the
    /// image's rootfs is stacked from.
    pub fn chain(&self) -> Vec<Digest> {
        self.layers.iter().map(|l| l.chain_id.clone()).collect()
    }
}

/// ChainIDs for a stack of DiffIDs (bottom first), as the OCI image spec
/// defines them: `ChainID(L0) = DiffID(L0)`, and
/// `ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln))`.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut chain: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff in diff_ids {
        let next = match chain.last() {
            None => diff.clone(),
            Some(parent) => Digest::sha256_of(format!("{parent} {diff}").as_bytes()),
        };
        chain.push(next);
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(hexchar: char) -> Digest {
        Digest::parse(&format!("sha256:{}", hexchar.to_string().repeat(64))).unwrap()
    }

    #[test]
    fn chain_ids_follow_the_oci_definition() {
        let diffs = [d('a'), d('b'), d('c')];
        let chain = chain_ids(&diffs);
        assert_eq!(chain[0], diffs[0]);
        let expect1 = Digest::sha256_of(format!("{} {}", diffs[0], diffs[1]).as_bytes());
        assert_eq!(chain[1], expect1);
        let expect2 = Digest::sha256_of(format!("{} {}", expect1, diffs[2]).as_bytes());
        assert_eq!(chain[2], expect2);
        assert!(chain_ids(&[]).is_empty());
    }
}
