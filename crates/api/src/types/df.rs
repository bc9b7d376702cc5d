//! `GET /system/df` (moby `types.DiskUsage`): what the images, containers,
//! volumes and build cache hold on disk, as `docker system df` shows it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::container::ContainerSummary;
use crate::types::image::ImageSummary;
use crate::types::null_default;

/// The object kinds `GET /system/df?type=` selects (all when none is given).
pub const DISK_USAGE_TYPES: &[&str] = &["container", "image", "volume", "build-cache"];

/// The body of `GET /system/df`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiskUsage {
    /// Bytes of every image layer, each counted once.
    #[serde(rename = "LayersSize", deserialize_with = "null_default")]
    pub layers_size: i64,
    /// Every image, with `Containers` (users) and `SharedSize` computed;
    /// `null` when images were not asked for.
    #[serde(rename = "Images")]
    pub images: Option<Vec<ImageSummary>>,
    /// Every container, with `SizeRw` and `SizeRootFs`; `null` when not
    /// asked for.
    #[serde(rename = "Containers")]
    pub containers: Option<Vec<ContainerSummary>>,
    /// Every volume with its usage; `null` when not asked for.
    #[serde(rename = "Volumes")]
    pub volumes: Option<Vec<VolumeUsage>>,
    /// Build cache records; `null` when not asked for.
    #[serde(rename = "BuildCache")]
    pub build_cache: Option<Vec<BuildCacheRecord>>,
}

/// A volume as `system df` lists it (the fields of moby's `volume.Volume`
/// the CLI reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeUsage {
    /// The volume's name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// Its driver (`local`).
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    /// Where it lives on the host.
    #[serde(rename = "Mountpoint", deserialize_with = "null_default")]
    pub mountpoint: String,
    /// Its labels.
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// `local` or `global`.
    #[serde(rename = "Scope", deserialize_with = "null_default")]
    pub scope: String,
    /// Size and users; `None` when not computed.
    #[serde(rename = "UsageData", skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsageData>,
}

/// `UsageData` of a volume: bytes and containers using it (-1: unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeUsageData {
    /// Bytes the volume holds.
    #[serde(rename = "Size", deserialize_with = "null_default")]
    pub size: i64,
    /// Containers referencing it.
    #[serde(rename = "RefCount", deserialize_with = "null_default")]
    pub ref_count: i64,
}

/// One build cache record (moby `build.CacheRecord`, the fields the CLI
/// reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BuildCacheRecord {
    /// The record's ID.
    #[serde(rename = "ID", deserialize_with = "null_default")]
    pub id: String,
    /// `regular`, `source.local`, `exec.cachemount`, ...
    #[serde(rename = "Type", deserialize_with = "null_default")]
    pub kind: String,
    /// What it is for.
    #[serde(rename = "Description", deserialize_with = "null_default")]
    pub description: String,
    /// Used by a running build.
    #[serde(rename = "InUse", deserialize_with = "null_default")]
    pub in_use: bool,
    /// Shared with other records.
    #[serde(rename = "Shared", deserialize_with = "null_default")]
    pub shared: bool,
    /// Bytes.
    #[serde(rename = "Size", deserialize_with = "null_default")]
    pub size: i64,
    /// When it was made (RFC 3339).
    #[serde(rename = "CreatedAt", deserialize_with = "null_default")]
    pub created_at: String,
    /// When it was last used (RFC 3339), if ever.
    #[serde(rename = "LastUsedAt")]
    pub last_used_at: Option<String>,
    /// Times used.
    #[serde(rename = "UsageCount", deserialize_with = "null_default")]
    pub usage_count: i64,
}

/// Which parts of [`DiskUsage`] a request wants (`?type=` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskUsageOptions {
    /// Containers.
    pub containers: bool,
    /// Images.
    pub images: bool,
    /// Volumes.
    pub volumes: bool,
    /// Build cache.
    pub build_cache: bool,
}

impl Default for DiskUsageOptions {
    /// Everything, as a request without `type` asks.
    fn default() -> Self {
        DiskUsageOptions {
            containers: true,
            images: true,
            volumes: true,
            build_cache: true,
        }
    }
}

impl DiskUsageOptions {
    /// From the `type` values of the query: none means all; an unknown one
    /// is an error with moby's message.
    pub fn from_types(types: &[String]) -> Result<Self, String> {
        if types.is_empty() {
            return Ok(Self::default());
        }
        let mut o = DiskUsageOptions {
            containers: false,
            images: false,
            volumes: false,
            build_cache: false,
        };
        for t in types {
            match t.as_str() {
                "container" => o.containers = true,
                "image" => o.images = true,
                "volume" => o.volumes = true,
                "build-cache" => o.build_cache = true,
                other => return Err(format!("unknown object type: {other}")),
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_dockers() {
        let du = DiskUsage {
            layers_size: 4_300_000,
            images: Some(vec![]),
            containers: Some(vec![]),
            volumes: Some(vec![]),
            build_cache: Some(vec![]),
        };
        let v = serde_json::to_value(&du).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"LayersSize": 4_300_000, "Images": [], "Containers": [],
                "Volumes": [], "BuildCache": []})
        );
        let back: DiskUsage = serde_json::from_value(v).unwrap();
        assert_eq!(back, du);
        let only: DiskUsage =
            serde_json::from_str(r#"{"LayersSize":0,"Images":null,"Volumes":[{"Name":"v","UsageData":{"Size":12,"RefCount":1}}]}"#)
                .unwrap();
        assert_eq!(only.images, None);
        let vols = only.volumes.unwrap();
        assert_eq!(
            vols[0].usage_data,
            Some(VolumeUsageData {
                size: 12,
                ref_count: 1
            })
        );
    }

    #[test]
    fn types_select_parts() {
        assert_eq!(
            DiskUsageOptions::from_types(&[]).unwrap(),
            DiskUsageOptions::default()
        );
        let o = DiskUsageOptions::from_types(&["image".into(), "container".into()]).unwrap();
        assert!(o.images && o.containers && !o.volumes && !o.build_cache);
        assert_eq!(
            DiskUsageOptions::from_types(&["disk".into()]).unwrap_err(),
            "unknown object type: disk"
        );
    }
}
