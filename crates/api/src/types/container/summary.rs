//! `GET /containers/json` (`docker ps`): one [`ContainerSummary`] per
//! container (moby `container.Summary`, API v1.49).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{EndpointSettings, MountPoint};
use crate::types::null_default;

/// One row of `docker ps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerSummary {
    /// The full container ID.
    #[serde(rename = "Id", deserialize_with = "null_default")]
    pub id: String,
    /// Its names, each with a leading `/`.
    #[serde(rename = "Names", deserialize_with = "null_default")]
    pub names: Vec<String>,
    /// The image as the user named it (or its ID when the name is gone).
    #[serde(rename = "Image", deserialize_with = "null_default")]
    pub image: String,
    /// The image ID (`sha256:...`).
    #[serde(rename = "ImageID", deserialize_with = "null_default")]
    pub image_id: String,
    /// The platform-specific manifest of the image (OCI descriptor).
    #[serde(
        rename = "ImageManifestDescriptor",
        skip_serializing_if = "Option::is_none"
    )]
    pub image_manifest_descriptor: Option<serde_json::Value>,
    /// The command line, space-joined.
    #[serde(rename = "Command", deserialize_with = "null_default")]
    pub command: String,
    /// Creation time, Unix seconds.
    #[serde(rename = "Created", deserialize_with = "null_default")]
    pub created: i64,
    /// Exposed and published ports.
    #[serde(rename = "Ports", deserialize_with = "null_default")]
    pub ports: Vec<Port>,
    /// Size of the writable layer (only with `size=true`).
    #[serde(
        rename = "SizeRw",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub size_rw: i64,
    /// Size of the whole root filesystem (only with `size=true`).
    #[serde(
        rename = "SizeRootFs",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub size_root_fs: i64,
    /// Labels.
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// One of the [`super::status`] words.
    #[serde(rename = "State", deserialize_with = "null_default")]
    pub state: String,
    /// The human status (`Up 5 minutes`, `Exited (0) 2 hours ago`).
    #[serde(rename = "Status", deserialize_with = "null_default")]
    pub status: String,
    /// The parts of the host configuration `docker ps` shows.
    #[serde(rename = "HostConfig", deserialize_with = "null_default")]
    pub host_config: SummaryHostConfig,
    /// Networks the container is attached to.
    #[serde(rename = "NetworkSettings")]
    pub network_settings: Option<NetworkSettingsSummary>,
    /// Its mounts.
    #[serde(rename = "Mounts", deserialize_with = "null_default")]
    pub mounts: Vec<MountPoint>,
}

/// `HostConfig` of a [`ContainerSummary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SummaryHostConfig {
    /// The network mode.
    #[serde(
        rename = "NetworkMode",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub network_mode: String,
    /// Runtime annotations.
    #[serde(rename = "Annotations", skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// `NetworkSettings` of a [`ContainerSummary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSettingsSummary {
    /// Endpoints by network name.
    #[serde(rename = "Networks")]
    pub networks: Option<BTreeMap<String, EndpointSettings>>,
}

/// A port of a [`ContainerSummary`] (moby `container.Port`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Port {
    /// The host IP it is published on.
    #[serde(
        rename = "IP",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub ip: String,
    /// The port in the container.
    #[serde(rename = "PrivatePort", deserialize_with = "null_default")]
    pub private_port: u16,
    /// The port on the host (absent when not published).
    #[serde(
        rename = "PublicPort",
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u16"
    )]
    pub public_port: u16,
    /// `tcp`, `udp` or `sctp`.
    #[serde(rename = "Type", deserialize_with = "null_default")]
    pub kind: String,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A `docker ps` row as Docker 28 sends it re-encodes to the same JSON.
    #[test]
    fn docker_28_row_round_trips() {
        let row = json!({
            "Id": "8dfafdbc3a40", "Names": ["/boring_feynman"], "Image": "busybox",
            "ImageID": "sha256:2d6a", "Command": "sleep 1000", "Created": 1748772000,
            "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                      {"PrivatePort": 443, "Type": "tcp"}],
            "Labels": {}, "State": "running", "Status": "Up 2 minutes",
            "HostConfig": {"NetworkMode": "bridge"},
            "NetworkSettings": {"Networks": {}},
            "Mounts": []
        });
        let s: ContainerSummary = serde_json::from_value(row.clone()).unwrap();
        assert_eq!(s.ports[1].public_port, 0);
        assert_eq!(serde_json::to_value(&s).unwrap(), row);
    }

    #[test]
    fn empty_row_shape() {
        let v = serde_json::to_value(ContainerSummary::default()).unwrap();
        assert_eq!(v["Labels"], serde_json::Value::Null);
        assert_eq!(v["Ports"], json!([]));
        assert_eq!(v["HostConfig"], json!({}));
        assert!(v.get("SizeRw").is_none() && v.get("SizeRootFs").is_none());
    }
}
