//! The volume models (moby `api/types/volume`): a volume as inspect and
//! ls show it, the create body, and the list and prune answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::df::VolumeUsageData;
use crate::types::{empty_as_null, null_default};

/// One volume (moby `volume.Volume`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Volume {
    /// When it was created (RFC 3339).
    #[serde(
        rename = "CreatedAt",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub created_at: String,
    /// Its driver (`local`).
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    /// Its labels; `null` when none, as moby writes it.
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Where its data lives on the host.
    #[serde(rename = "Mountpoint", deserialize_with = "null_default")]
    pub mountpoint: String,
    /// Its name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// The driver options it was created with; `null` when none.
    #[serde(rename = "Options")]
    pub options: Option<BTreeMap<String, String>>,
    /// `local` or `global`.
    #[serde(rename = "Scope", deserialize_with = "null_default")]
    pub scope: String,
    /// Size and users, filled in by `system df` only.
    #[serde(rename = "UsageData", skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsageData>,
}

/// The body of `POST /volumes/create` (moby `volume.CreateOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeCreateRequest {
    /// The name; empty makes an anonymous volume with a random name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// The driver; empty means `local`.
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    /// Driver options (`local`: `type`, `device`, `o`).
    #[serde(rename = "DriverOpts", deserialize_with = "null_default")]
    pub driver_opts: BTreeMap<String, String>,
    /// Labels.
    #[serde(rename = "Labels", deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
}

/// What `GET /volumes` answers (moby `volume.ListResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeListResponse {
    /// The volumes the filters selected.
    #[serde(rename = "Volumes", deserialize_with = "null_default")]
    pub volumes: Vec<Volume>,
    /// Warnings, e.g. from a driver that could not list; `null` when none.
    #[serde(
        rename = "Warnings",
        deserialize_with = "null_default",
        serialize_with = "empty_as_null"
    )]
    pub warnings: Vec<String>,
}

/// What `POST /volumes/prune` answers (moby `volume.PruneReport`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumePruneReport {
    /// The names of the removed volumes; `null` when none.
    #[serde(
        rename = "VolumesDeleted",
        deserialize_with = "null_default",
        serialize_with = "empty_as_null"
    )]
    pub volumes_deleted: Vec<String>,
    /// Bytes freed.
    #[serde(rename = "SpaceReclaimed", deserialize_with = "null_default")]
    pub space_reclaimed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volume_matches_moby_shape() {
        let v = Volume {
            created_at: "2026-11-29T10:00:00Z".into(),
            driver: "local".into(),
            mountpoint: "/var/lib/berth/volumes/data/_data".into(),
            name: "data".into(),
            scope: "local".into(),
            ..Volume::default()
        };
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"CreatedAt": "2026-11-29T10:00:00Z", "Driver": "local", "Labels": null,
                   "Mountpoint": "/var/lib/berth/volumes/data/_data", "Name": "data",
                   "Options": null, "Scope": "local"})
        );
    }

    #[test]
    fn create_request_accepts_nulls_and_missing_fields() {
        let r: VolumeCreateRequest =
            serde_json::from_str(r#"{"Name":"x","Labels":null,"DriverOpts":{"o":"size=1m"}}"#)
                .unwrap();
        assert_eq!(r.name, "x");
        assert!(r.labels.is_empty());
        assert_eq!(r.driver_opts["o"], "size=1m");
        assert_eq!(r.driver, "");
    }

    #[test]
    fn empty_reports_write_null_lists() {
        let v = serde_json::to_value(VolumePruneReport::default()).unwrap();
        assert_eq!(v, json!({"VolumesDeleted": null, "SpaceReclaimed": 0}));
        let v = serde_json::to_value(VolumeListResponse::default()).unwrap();
        assert_eq!(v, json!({"Volumes": [], "Warnings": null}));
    }
}
