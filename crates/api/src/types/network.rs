//! The network endpoints' models (moby `api/types/network`): the create
//! body and answer, a network as inspect and list show it, the connect and
//! disconnect bodies, and the prune report.
//!
//! Null versus absent follows Docker 28's Go tags: maps and slices without
//! `omitempty` are `Option`s (`null` when unset), `omitempty` fields are
//! skipped when empty; decoding is Go's (`null` is the zero value, unknown
//! fields are ignored).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::container::EndpointSettings;
use crate::types::{empty_as_null, null_default};

/// The body of `POST /networks/create` (moby `network.CreateRequest`, its
/// embedded `CreateOptions` first, as Go encodes it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkCreateRequest {
    /// The driver (`bridge` when empty, the daemon decides).
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    /// `local`, `swarm` or `global`; empty lets the driver choose.
    #[serde(rename = "Scope", deserialize_with = "null_default")]
    pub scope: String,
    /// Whether IPv4 is enabled; unset leaves the daemon's default (on).
    #[serde(rename = "EnableIPv4", skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    /// Whether IPv6 is enabled; unset leaves the daemon's default (off).
    #[serde(rename = "EnableIPv6", skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    /// Address management: the pools and their driver.
    #[serde(rename = "IPAM")]
    pub ipam: Option<Ipam>,
    /// No route out of the network.
    #[serde(rename = "Internal", deserialize_with = "null_default")]
    pub internal: bool,
    /// Containers may be attached by hand (swarm networks).
    #[serde(rename = "Attachable", deserialize_with = "null_default")]
    pub attachable: bool,
    /// The swarm routing mesh.
    #[serde(rename = "Ingress", deserialize_with = "null_default")]
    pub ingress: bool,
    /// A configuration holder other networks copy, never used directly.
    #[serde(rename = "ConfigOnly", deserialize_with = "null_default")]
    pub config_only: bool,
    /// The config-only network to take the configuration from.
    #[serde(rename = "ConfigFrom")]
    pub config_from: Option<ConfigReference>,
    /// Driver options (`com.docker.network.bridge.name`, ...).
    #[serde(rename = "Options")]
    pub options: Option<BTreeMap<String, String>>,
    /// User metadata.
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The network's name (required).
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// Deprecated since API 1.44 (duplicates are always refused); kept so
    /// that older clients' bodies decode.
    #[serde(rename = "CheckDuplicate", skip_serializing_if = "Option::is_none")]
    pub check_duplicate: Option<bool>,
}

/// A network's address management (moby `network.IPAM`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ipam {
    /// The IPAM driver (`default`).
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    /// IPAM driver options.
    #[serde(rename = "Options")]
    pub options: Option<BTreeMap<String, String>>,
    /// One entry per address pool.
    #[serde(rename = "Config")]
    pub config: Option<Vec<IpamConfig>>,
}

/// One address pool of a network (moby `network.IPAMConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpamConfig {
    /// The subnet in CIDR form (`172.20.0.0/16`).
    #[serde(
        rename = "Subnet",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub subnet: String,
    /// The sub-range containers' addresses are taken from.
    #[serde(
        rename = "IPRange",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub ip_range: String,
    /// The gateway address.
    #[serde(
        rename = "Gateway",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub gateway: String,
    /// Addresses the driver reserves, by name.
    #[serde(
        rename = "AuxiliaryAddresses",
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub aux_addresses: BTreeMap<String, String>,
}

/// A reference to a config-only network (moby `network.ConfigReference`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigReference {
    /// The config-only network's name.
    #[serde(rename = "Network", deserialize_with = "null_default")]
    pub network: String,
}

/// What `POST /networks/create` answers (201; moby
/// `network.CreateResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkCreateResponse {
    /// The new network's full ID.
    #[serde(rename = "Id", deserialize_with = "null_default")]
    pub id: String,
    /// A warning for the user; empty when none.
    #[serde(rename = "Warning", deserialize_with = "null_default")]
    pub warning: String,
}

/// A network as `GET /networks/{id}` and `GET /networks` show it (moby
/// `network.Inspect`, which `network.Summary` aliases).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkResource {
    /// The network's name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// The full ID (64 hex digits).
    #[serde(rename = "Id", deserialize_with = "null_default")]
    pub id: String,
    /// When it was created, RFC 3339 with nanoseconds.
    #[serde(rename = "Created", deserialize_with = "null_default")]
    pub created: String,
    /// `local`, `swarm` or `global`.
    #[serde(rename = "Scope", deserialize_with = "null_default")]
    pub scope: String,
    /// The driver (`bridge`, `host`, `null`, ...).
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    /// Whether IPv4 is enabled.
    #[serde(rename = "EnableIPv4", deserialize_with = "null_default")]
    pub enable_ipv4: bool,
    /// Whether IPv6 is enabled.
    #[serde(rename = "EnableIPv6", deserialize_with = "null_default")]
    pub enable_ipv6: bool,
    /// Address management.
    #[serde(rename = "IPAM", deserialize_with = "null_default")]
    pub ipam: Ipam,
    /// No route out of the network.
    #[serde(rename = "Internal", deserialize_with = "null_default")]
    pub internal: bool,
    /// Containers may be attached by hand.
    #[serde(rename = "Attachable", deserialize_with = "null_default")]
    pub attachable: bool,
    /// The swarm routing mesh.
    #[serde(rename = "Ingress", deserialize_with = "null_default")]
    pub ingress: bool,
    /// The config-only network this one took its configuration from.
    #[serde(rename = "ConfigFrom", deserialize_with = "null_default")]
    pub config_from: ConfigReference,
    /// A configuration holder, never used directly.
    #[serde(rename = "ConfigOnly", deserialize_with = "null_default")]
    pub config_only: bool,
    /// The endpoints attached, by container ID.
    #[serde(rename = "Containers")]
    pub containers: Option<BTreeMap<String, EndpointResource>>,
    /// Driver options.
    #[serde(rename = "Options")]
    pub options: Option<BTreeMap<String, String>>,
    /// User metadata.
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Peer nodes of an overlay network (absent elsewhere).
    #[serde(rename = "Peers", skip_serializing_if = "Option::is_none")]
    pub peers: Option<Vec<PeerInfo>>,
}

/// A container's endpoint as a network lists it (moby
/// `network.EndpointResource`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointResource {
    /// The container's name (without the leading `/`).
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// The endpoint's ID.
    #[serde(rename = "EndpointID", deserialize_with = "null_default")]
    pub endpoint_id: String,
    /// The endpoint's MAC address.
    #[serde(rename = "MacAddress", deserialize_with = "null_default")]
    pub mac_address: String,
    /// The IPv4 address with its prefix (`172.18.0.2/16`), or empty.
    #[serde(rename = "IPv4Address", deserialize_with = "null_default")]
    pub ipv4_address: String,
    /// The IPv6 address with its prefix, or empty.
    #[serde(rename = "IPv6Address", deserialize_with = "null_default")]
    pub ipv6_address: String,
}

/// A peer node of an overlay network (moby `network.PeerInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerInfo {
    /// The node's name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// The node's address.
    #[serde(rename = "IP", deserialize_with = "null_default")]
    pub ip: String,
}

/// The query of `GET /networks/{id}` (moby `network.InspectOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkInspectOptions {
    /// Ask for the detailed (swarm) view.
    pub verbose: bool,
    /// Look the network up in this scope only (`local`, `swarm`,
    /// `global`); empty for any.
    pub scope: String,
}

/// The body of `POST /networks/{id}/connect` (moby
/// `network.ConnectOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkConnectRequest {
    /// The container: ID, name or unique ID prefix.
    #[serde(rename = "Container", deserialize_with = "null_default")]
    pub container: String,
    /// What the endpoint should be (static addresses, aliases, ...).
    #[serde(rename = "EndpointConfig", skip_serializing_if = "Option::is_none")]
    pub endpoint_config: Option<EndpointSettings>,
}

/// The body of `POST /networks/{id}/disconnect` (moby
/// `network.DisconnectOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkDisconnectRequest {
    /// The container: ID, name or unique ID prefix.
    #[serde(rename = "Container", deserialize_with = "null_default")]
    pub container: String,
    /// Disconnect even when the container is not running or the endpoint
    /// is half gone.
    #[serde(rename = "Force", deserialize_with = "null_default")]
    pub force: bool,
}

/// What `POST /networks/prune` answers (moby `network.PruneReport`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkPruneReport {
    /// The names of the removed networks; `null` on the wire when none
    /// was (Go's nil slice).
    #[serde(
        rename = "NetworksDeleted",
        deserialize_with = "null_default",
        serialize_with = "empty_as_null"
    )]
    pub networks_deleted: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;
    use serde_json::{json, Value};

    #[test]
    fn create_request_encodes_like_the_docker_cli() {
        // What `docker network create --subnet 10.5.0.0/24 --label a=b n1`
        // sends (Docker 28): pointers unset are null or skipped.
        let req = NetworkCreateRequest {
            driver: "bridge".into(),
            ipam: Some(Ipam {
                driver: "default".into(),
                options: Some(BTreeMap::new()),
                config: Some(vec![IpamConfig {
                    subnet: "10.5.0.0/24".into(),
                    ..IpamConfig::default()
                }]),
            }),
            options: Some(BTreeMap::new()),
            labels: Some([("a".to_string(), "b".to_string())].into()),
            name: "n1".into(),
            ..NetworkCreateRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({
                "Driver": "bridge", "Scope": "",
                "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": "10.5.0.0/24"}]},
                "Internal": false, "Attachable": false, "Ingress": false, "ConfigOnly": false,
                "ConfigFrom": null, "Options": {}, "Labels": {"a": "b"}, "Name": "n1"
            })
        );
    }

    #[test]
    fn create_request_decodes_go_style() {
        let req: NetworkCreateRequest = decode(
            br#"{"Name":"n1","CheckDuplicate":true,"EnableIPv6":true,"Internal":null,
                 "IPAM":{"Config":[{"Subnet":"10.5.0.0/24","AuxiliaryAddresses":{"r":"10.5.0.9"}}]},
                 "Unknown":1}"#,
        )
        .unwrap();
        assert_eq!(req.name, "n1");
        assert_eq!(req.check_duplicate, Some(true));
        assert_eq!(req.enable_ipv6, Some(true));
        assert_eq!(req.enable_ipv4, None);
        assert!(!req.internal);
        let pool = &req.ipam.unwrap().config.unwrap()[0];
        assert_eq!(pool.aux_addresses["r"], "10.5.0.9");
        let e = decode::<NetworkCreateRequest>(br#"{"Name":5}"#).unwrap_err();
        assert!(e.to_string().contains("Name"), "{e}");
    }

    #[test]
    fn inspect_shape_matches_docker_28() {
        // A fragment of `docker network inspect bridge` on Docker 28.
        let docker = json!({
            "Name": "bridge",
            "Id": "7d86d31b1478e7cca9ebed7e73aa0fdeec46c5ca29497431d3007d2d9e15ed99",
            "Created": "2025-01-02T03:04:05.123456789Z",
            "Scope": "local", "Driver": "bridge",
            "EnableIPv4": true, "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": null,
                     "Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]},
            "Internal": false, "Attachable": false, "Ingress": false,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": false,
            "Containers": {"19a4d5d687db": {"Name": "web", "EndpointID": "628c",
                "MacAddress": "02:42:ac:11:00:02", "IPv4Address": "172.17.0.2/16", "IPv6Address": ""}},
            "Options": {"com.docker.network.bridge.default_bridge": "true"},
            "Labels": {}
        });
        let n: NetworkResource = serde_json::from_value(docker.clone()).unwrap();
        assert_eq!(n.containers.as_ref().unwrap()["19a4d5d687db"].name, "web");
        assert_eq!(serde_json::to_value(&n).unwrap(), docker);
        // Unset maps are null, as Go's nil maps; Peers is omitempty.
        let v = serde_json::to_value(NetworkResource::default()).unwrap();
        assert_eq!(v["Containers"], Value::Null);
        assert_eq!(v["Labels"], Value::Null);
        assert!(v.get("Peers").is_none());
    }

    #[test]
    fn connect_disconnect_and_prune() {
        let c = NetworkConnectRequest {
            container: "web".into(),
            endpoint_config: None,
        };
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"Container": "web"})
        );
        let c: NetworkConnectRequest = decode(
            br#"{"Container":"web","EndpointConfig":{"Aliases":["db"],"IPAMConfig":{"IPv4Address":"10.5.0.7"}}}"#,
        )
        .unwrap();
        let ep = c.endpoint_config.unwrap();
        assert_eq!(ep.aliases, Some(vec!["db".to_string()]));
        assert_eq!(ep.ipam_config.unwrap().ipv4_address, "10.5.0.7");
        let d: NetworkDisconnectRequest = decode(br#"{"Container":"web","Force":true}"#).unwrap();
        assert!(d.force);
        assert_eq!(
            serde_json::to_string(&NetworkPruneReport::default()).unwrap(),
            r#"{"NetworksDeleted":null}"#
        );
        let r: NetworkPruneReport = decode(br#"{"NetworksDeleted":["n1"]}"#).unwrap();
        assert_eq!(r.networks_deleted, ["n1"]);
    }
}
