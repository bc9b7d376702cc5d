//! Manifests, image indexes and descriptors: the OCI image spec's JSON and
//! Docker's schema 2 equivalents (same shapes, other media types).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::content::Digest;
use crate::platform::Platform;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker schema 1 (unsigned), no longer supported.
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Docker schema 1 (signed), no longer supported.
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Uncompressed OCI layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// gzip OCI layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Every manifest media type a pull asks for, in order of preference.
pub const ACCEPTED_MANIFEST_TYPES: [&str; 4] = [
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
];

/// Layer media types Berth unpacks (compression is sniffed from the bytes).
const LAYER_TYPES: [&str; 9] = [
    OCI_LAYER_TAR,
    OCI_LAYER_GZIP,
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
];

/// Whether `media_type` is a layer Berth can unpack.
pub fn is_layer_type(media_type: &str) -> bool {
    LAYER_TYPES.contains(&media_type)
}

/// Whether `media_type` is an image config.
pub fn is_config_type(media_type: &str) -> bool {
    media_type == OCI_CONFIG || media_type == DOCKER_CONFIG
}

/// A content descriptor: what a manifest or index says about a blob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The blob's media type.
    pub media_type: String,
    /// The blob's digest.
    pub digest: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// The platform (index entries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<DescriptorPlatform>,
    /// Alternative download locations (foreign layers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// The platform object of an index entry, as written on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescriptorPlatform {
    /// CPU architecture.
    pub architecture: String,
    /// Operating system.
    pub os: String,
    /// Variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// OS version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

impl DescriptorPlatform {
    /// The normalized platform.
    pub fn platform(&self) -> Platform {
        Platform::from_parts(&self.os, &self.architecture, self.variant.as_deref())
    }
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type, when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layer blobs, bottom first.
    pub layers: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An image index (OCI) or manifest list (Docker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index's own media type, when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The entries.
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A parsed manifest document: either an image or an index.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestDocument {
    /// A single-platform image.
    Image(Box<ImageManifest>),
    /// A multi-platform index.
    Index(ImageIndex),
}

/// Why a manifest document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Docker image manifest v2 schema 1, which Docker itself no longer pulls.
    #[error("Docker Image manifest version 2, schema 1 is not supported; the image must be rebuilt as an OCI image or Docker Image manifest v2, schema 2")]
    Schema1,
    /// A media type that is neither an image manifest nor an index.
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    /// A layer or config of a kind Berth does not handle.
    #[error("unsupported {what} media type {media_type:?}")]
    UnsupportedBlob {
        /// `layer` or `config`.
        what: &'static str,
        /// The offending media type.
        media_type: String,
    },
    /// Not valid JSON of the expected shape.
    #[error("invalid manifest: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Versioned {
    schema_version: Option<u32>,
    media_type: Option<String>,
    manifests: Option<serde_json::Value>,
}

impl ManifestDocument {
    /// Parses manifest bytes. `content_type` is the HTTP Content-Type (or
    /// the descriptor's media type), used when the document does not name
    /// its own media type.
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Self, ManifestError> {
        let v: Versioned =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Invalid(e.to_string()))?;
        let content_type = content_type.map(|c| c.split(';').next().unwrap_or(c).trim());
        let media_type = v
            .media_type
            .as_deref()
            .or(content_type.filter(|c| *c != "application/json" && !c.is_empty()));
        if v.schema_version == Some(1)
            || matches!(media_type, Some(DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED))
        {
            return Err(ManifestError::Schema1);
        }
        let is_index = match media_type {
            Some(OCI_INDEX | DOCKER_MANIFEST_LIST) => true,
            Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
            Some(other) => return Err(ManifestError::UnsupportedMediaType(other.to_string())),
            None => v.manifests.is_some(),
        };
        let invalid = |e: serde_json::Error| ManifestError::Invalid(e.to_string());
        if is_index {
            Ok(ManifestDocument::Index(
                serde_json::from_slice(bytes).map_err(invalid)?,
            ))
        } else {
            let m: ImageManifest = serde_json::from_slice(bytes).map_err(invalid)?;
            if !is_config_type(&m.config.media_type) {
                return Err(ManifestError::UnsupportedBlob {
                    what: "config",
                    media_type: m.config.media_type,
                });
            }
            if let Some(l) = m.layers.iter().find(|l| !is_layer_type(&l.media_type)) {
                return Err(ManifestError::UnsupportedBlob {
                    what: "layer",
                    media_type: l.media_type.clone(),
                });
            }
            Ok(ManifestDocument::Image(Box::new(m)))
        }
    }
}

impl ImageIndex {
    /// The entry for `want`, as moby picks it: the first image-manifest entry
    /// whose platform matches. Entries without a platform are skipped.
    pub fn select(&self, want: &Platform) -> Option<&Descriptor> {
        self.manifests.iter().find(|d| {
            (d.media_type == OCI_MANIFEST || d.media_type == DOCKER_MANIFEST)
                && d.platform
                    .as_ref()
                    .is_some_and(|p| want.matches(&p.platform()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn manifest(media: &str, layer: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{media}","config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{D}","size":2}},"layers":[{{"mediaType":"{layer}","digest":"{D}","size":3}}]}}"#
        )
    }

    #[test]
    fn parses_docker_and_oci_manifests() {
        for media in [DOCKER_MANIFEST, OCI_MANIFEST] {
            let doc =
                ManifestDocument::parse(manifest(media, OCI_LAYER_GZIP).as_bytes(), None).unwrap();
            let ManifestDocument::Image(m) = doc else {
                panic!("not an image")
            };
            assert_eq!(m.layers[0].size, 3);
        }
    }

    #[test]
    fn refuses_schema1_and_unknown_types() {
        let s1 = br#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#;
        assert_eq!(
            ManifestDocument::parse(s1, None),
            Err(ManifestError::Schema1)
        );
        let err =
            ManifestDocument::parse(b"{\"schemaVersion\":2}", Some("text/weird")).unwrap_err();
        assert_eq!(
            err,
            ManifestError::UnsupportedMediaType("text/weird".into())
        );
        let bad_layer = manifest(OCI_MANIFEST, "application/x-helm");
        let err = ManifestDocument::parse(bad_layer.as_bytes(), None).unwrap_err();
        assert!(
            err.to_string().contains("unsupported layer media type"),
            "{err}"
        );
    }

    #[test]
    fn selects_the_platform_from_an_index() {
        let idx = format!(
            r#"{{"schemaVersion":2,"manifests":[
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D}","size":1,"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{}","size":2,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
            "a".repeat(64)
        );
        let ManifestDocument::Index(index) =
            ManifestDocument::parse(idx.as_bytes(), Some(OCI_INDEX)).unwrap()
        else {
            panic!("not an index")
        };
        let amd = index
            .select(&Platform::parse("linux/amd64").unwrap())
            .unwrap();
        assert_eq!(amd.size, 2);
        let arm = index
            .select(&Platform::parse("linux/arm64").unwrap())
            .unwrap();
        assert_eq!(arm.size, 1);
        assert!(index
            .select(&Platform::parse("linux/s390x").unwrap())
            .is_none());
    }
}
