//! The image views of the Engine API: `ImageInspect`
//! (`GET /images/{name}/json`), `ImageSummary` (`GET /images/json`),
//! `HistoryResponseItem` (`GET /images/{name}/history`), the
//! `DELETE /images/{name}` items and the `POST /images/prune` report, with
//! Docker's field names and rendered as Docker 28 (API v1.49) renders them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::GraphDriverData;
use crate::types::container::ZERO_TIME;

/// `GET /images/{name}/json`: Docker's `ImageInspect`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageInspect {
    /// The image ID, `sha256:<hex>`.
    pub id: String,
    /// Tags naming the image, familiar form (`busybox:latest`).
    pub repo_tags: Vec<String>,
    /// Digest references, familiar form (`busybox@sha256:…`).
    pub repo_digests: Vec<String>,
    /// The parent image (only for images built locally by the legacy
    /// builder; empty otherwise).
    pub parent: String,
    /// The config's `comment`, else the last history entry's comment.
    pub comment: String,
    /// When the image was built, RFC 3339 with nanoseconds; omitted when
    /// unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The Docker version that built the image, if recorded.
    pub docker_version: String,
    /// The image's author.
    pub author: String,
    /// The container defaults the image carries.
    pub config: ImageInspectConfig,
    /// CPU architecture.
    pub architecture: String,
    /// Architecture variant; omitted when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Operating system.
    pub os: String,
    /// OS version (Windows images); omitted when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// Total unpacked size of the layers, in bytes.
    pub size: i64,
    /// The storage driver and where the image's top layer lives.
    pub graph_driver: GraphDriverData,
    /// The layer chain.
    #[serde(rename = "RootFS")]
    pub root_fs: InspectRootFs,
    /// Local metadata.
    pub metadata: ImageMetadata,
    /// The manifest the image was pulled or loaded as (API v1.48+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<Descriptor>,
}

/// `ImageInspect.Config` as API v1.49 renders it: the deprecated container
/// fields (`Hostname`, `AttachStdin`, `Image`, ...) always present and
/// empty, `Env`/`Cmd`/`Entrypoint`/`Volumes`/`OnBuild`/`Labels` `null` when
/// unset, and `ExposedPorts`, `Healthcheck`, `ArgsEscaped`, `StopSignal`,
/// `Shell` omitted when unset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageInspectConfig {
    /// Always empty (deprecated).
    pub hostname: String,
    /// Always empty (deprecated).
    pub domainname: String,
    /// `user[:group]` commands run as.
    pub user: String,
    /// Always false (deprecated).
    pub attach_stdin: bool,
    /// Always false (deprecated).
    pub attach_stdout: bool,
    /// Always false (deprecated).
    pub attach_stderr: bool,
    /// Exposed ports (`80/tcp` -> `{}`); omitted when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// Always false (deprecated).
    pub tty: bool,
    /// Always false (deprecated).
    pub open_stdin: bool,
    /// Always false (deprecated).
    pub stdin_once: bool,
    /// `KEY=value` environment; `null` when none.
    pub env: Option<Vec<String>>,
    /// Default command; `null` when none.
    pub cmd: Option<Vec<String>>,
    /// The health check (`Test`, `Interval`, ... in nanoseconds); omitted
    /// when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    /// Windows-only; omitted unless true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// Always empty (deprecated).
    pub image: String,
    /// Anonymous volume paths (`/data` -> `{}`); `null` when none.
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// Working directory.
    pub working_dir: String,
    /// Entrypoint; `null` when none.
    pub entrypoint: Option<Vec<String>>,
    /// ONBUILD triggers; `null` when none.
    pub on_build: Option<Vec<String>>,
    /// Labels; `null` when none.
    pub labels: Option<BTreeMap<String, String>>,
    /// The stop signal; omitted when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Shell for the shell form of RUN/CMD/ENTRYPOINT; omitted when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// `RootFS`: the layer chain by DiffID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InspectRootFs {
    /// `layers`.
    #[serde(rename = "Type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The DiffIDs, bottom first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
}

/// `Metadata`: local, non-content data about the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageMetadata {
    /// When the image was last tagged with `docker tag`; Go's zero time
    /// (`0001-01-01T00:00:00Z`) when never.
    pub last_tag_time: String,
}

impl Default for ImageMetadata {
    fn default() -> Self {
        ImageMetadata {
            last_tag_time: ZERO_TIME.to_string(),
        }
    }
}

/// An OCI content descriptor (`mediaType`, `digest`, `size`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Descriptor {
    /// The media type of the referenced content.
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: i64,
}

/// One entry of `GET /images/json` (Docker's `ImageSummary`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageSummary {
    /// Containers using the image; -1 when not computed (always, below API
    /// v1.51).
    #[serde(rename = "Containers")]
    pub containers: i64,
    /// Creation time, Unix seconds (0 when unknown).
    #[serde(rename = "Created")]
    pub created: i64,
    /// The image ID, `sha256:<hex>`.
    #[serde(rename = "Id")]
    pub id: String,
    /// The image's labels; `null` when none.
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The parent image ID (locally built images only; empty otherwise).
    #[serde(rename = "ParentId")]
    pub parent_id: String,
    /// Digest references, familiar form.
    #[serde(rename = "RepoDigests")]
    pub repo_digests: Vec<String>,
    /// Tags, familiar form.
    #[serde(rename = "RepoTags")]
    pub repo_tags: Vec<String>,
    /// Bytes shared with other images; -1 when not computed.
    #[serde(rename = "SharedSize")]
    pub shared_size: i64,
    /// Total unpacked size of the layers.
    #[serde(rename = "Size")]
    pub size: i64,
}

/// One entry of `GET /images/{name}/history` (Docker's
/// `HistoryResponseItem`), newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryResponseItem {
    /// The comment of the step.
    #[serde(rename = "Comment")]
    pub comment: String,
    /// When the step ran, Unix seconds (0 when unknown).
    #[serde(rename = "Created")]
    pub created: i64,
    /// The command that ran.
    #[serde(rename = "CreatedBy")]
    pub created_by: String,
    /// The image ID for the newest entry, `<missing>` for the others.
    #[serde(rename = "Id")]
    pub id: String,
    /// Bytes the step's layer adds (0 for steps without a layer).
    #[serde(rename = "Size")]
    pub size: i64,
    /// The image's tags on the newest entry; `null` elsewhere or when none.
    #[serde(rename = "Tags")]
    pub tags: Option<Vec<String>>,
}

/// One item of `DELETE /images/{name}` and of a prune report (moby
/// `image.DeleteResponse`): `{"Untagged": ref}` or `{"Deleted": id}`
/// (Go leaves the other field out, `omitempty`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteItem {
    /// A reference that was removed (familiar form).
    Untagged(String),
    /// An image ID or layer ChainID that was deleted.
    Deleted(String),
}

/// The `POST /images/prune` response (moby `image.PruneReport`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PruneReport {
    /// What was untagged and deleted; `null` when nothing was (Go's nil
    /// slice).
    #[serde(rename = "ImagesDeleted")]
    pub images_deleted: Option<Vec<DeleteItem>>,
    /// Bytes freed (the deleted layers' sizes).
    #[serde(rename = "SpaceReclaimed")]
    pub space_reclaimed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delete_items_and_prune_report_are_dockers_shapes() {
        let items = vec![
            DeleteItem::Untagged("busybox:latest".into()),
            DeleteItem::Deleted("sha256:abc".into()),
        ];
        assert_eq!(
            serde_json::to_string(&items).unwrap(),
            r#"[{"Untagged":"busybox:latest"},{"Deleted":"sha256:abc"}]"#
        );
        assert_eq!(
            serde_json::to_value(PruneReport::default()).unwrap(),
            json!({"ImagesDeleted": null, "SpaceReclaimed": 0})
        );
        let r = PruneReport {
            images_deleted: Some(items),
            space_reclaimed: 7,
        };
        let back: PruneReport = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn summary_and_history_field_names() {
        let v = serde_json::to_value(ImageSummary::default()).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "Containers",
                "Created",
                "Id",
                "Labels",
                "ParentId",
                "RepoDigests",
                "RepoTags",
                "SharedSize",
                "Size"
            ]
        );
        assert_eq!(
            serde_json::to_value(HistoryResponseItem::default()).unwrap(),
            json!({"Comment": "", "Created": 0, "CreatedBy": "", "Id": "", "Size": 0, "Tags": null})
        );
        assert_eq!(
            serde_json::to_value(ImageMetadata::default()).unwrap(),
            json!({"LastTagTime": "0001-01-01T00:00:00Z"})
        );
    }
}
