//! `GET /containers/{id}/json` (moby `container.InspectResponse`, API
//! v1.49): the container's [`ContainerInspectResponse`] with its
//! [`ContainerState`], [`Health`], [`MountPoint`]s and [`NetworkSettings`].
//!
//! Null versus absent follows Go's encoder: a Go pointer, slice or map
//! without `omitempty` is `Option` here and serializes as `null` when unset;
//! an `omitempty` field is skipped when empty.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Config, HostConfig, PortBinding};
use crate::types::null_default;

/// Go's zero `time.Time` as Docker prints it, meaning "never"
/// (`StartedAt` of a container that never started, for example).
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The container status words (`State.Status`, `docker ps`'s `State`).
pub mod status {
    /// Created, never started.
    pub const CREATED: &str = "created";
    /// Running.
    pub const RUNNING: &str = "running";
    /// Frozen.
    pub const PAUSED: &str = "paused";
    /// Waiting for its restart policy to start it again.
    pub const RESTARTING: &str = "restarting";
    /// Being removed.
    pub const REMOVING: &str = "removing";
    /// Exited.
    pub const EXITED: &str = "exited";
    /// Removal failed half-way.
    pub const DEAD: &str = "dead";
}

/// The health status words (`State.Health.Status`).
pub mod health_status {
    /// No health check configured (only in `docker ps` summaries).
    pub const NONE: &str = "none";
    /// In the start period, no verdict yet.
    pub const STARTING: &str = "starting";
    /// The last checks passed.
    pub const HEALTHY: &str = "healthy";
    /// `Retries` consecutive checks failed.
    pub const UNHEALTHY: &str = "unhealthy";
}

/// The body of `GET /containers/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerInspectResponse {
    /// The full container ID.
    #[serde(rename = "Id", deserialize_with = "null_default")]
    pub id: String,
    /// When it was created (RFC 3339 with nanoseconds).
    #[serde(rename = "Created", deserialize_with = "null_default")]
    pub created: String,
    /// The command's path (`Entrypoint[0]` or `Cmd[0]`).
    #[serde(rename = "Path", deserialize_with = "null_default")]
    pub path: String,
    /// The command's arguments (`[]` when none).
    #[serde(rename = "Args", deserialize_with = "null_default")]
    pub args: Vec<String>,
    /// The run state.
    #[serde(rename = "State")]
    pub state: Option<ContainerState>,
    /// The image ID (`sha256:...`).
    #[serde(rename = "Image", deserialize_with = "null_default")]
    pub image: String,
    /// The container's `resolv.conf` on the host.
    #[serde(rename = "ResolvConfPath", deserialize_with = "null_default")]
    pub resolv_conf_path: String,
    /// The container's `hostname` file on the host.
    #[serde(rename = "HostnamePath", deserialize_with = "null_default")]
    pub hostname_path: String,
    /// The container's `hosts` file on the host.
    #[serde(rename = "HostsPath", deserialize_with = "null_default")]
    pub hosts_path: String,
    /// The json-file log on the host (empty for other log drivers).
    #[serde(rename = "LogPath", deserialize_with = "null_default")]
    pub log_path: String,
    /// The name, with its leading `/`.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// Restarts done by the restart policy.
    #[serde(rename = "RestartCount", deserialize_with = "null_default")]
    pub restart_count: i64,
    /// The storage driver (`overlay2`).
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    /// The platform (`linux`).
    #[serde(rename = "Platform", deserialize_with = "null_default")]
    pub platform: String,
    /// SELinux mount label.
    #[serde(rename = "MountLabel", deserialize_with = "null_default")]
    pub mount_label: String,
    /// SELinux process label.
    #[serde(rename = "ProcessLabel", deserialize_with = "null_default")]
    pub process_label: String,
    /// AppArmor profile.
    #[serde(rename = "AppArmorProfile", deserialize_with = "null_default")]
    pub app_armor_profile: String,
    /// IDs of the container's exec instances; `null` when none.
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    /// The host configuration.
    #[serde(rename = "HostConfig")]
    pub host_config: Option<HostConfig>,
    /// The storage driver's data (lower/upper/work dirs for overlay2).
    #[serde(rename = "GraphDriver", deserialize_with = "null_default")]
    pub graph_driver: GraphDriverData,
    /// Size of the writable layer (only with `size=true`).
    #[serde(rename = "SizeRw", skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// Size of the whole root filesystem (only with `size=true`).
    #[serde(rename = "SizeRootFs", skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    /// The mounts (`[]` when none).
    #[serde(rename = "Mounts", deserialize_with = "null_default")]
    pub mounts: Vec<MountPoint>,
    /// The container configuration (after merging the image's).
    #[serde(rename = "Config")]
    pub config: Option<Config>,
    /// The network state.
    #[serde(rename = "NetworkSettings")]
    pub network_settings: Option<NetworkSettings>,
    /// The platform-specific manifest the image was created from (OCI
    /// descriptor), when known.
    #[serde(
        rename = "ImageManifestDescriptor",
        skip_serializing_if = "Option::is_none"
    )]
    pub image_manifest_descriptor: Option<serde_json::Value>,
}

/// `State` of an inspected container (moby `container.State`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerState {
    /// One of the [`status`] words.
    #[serde(rename = "Status", deserialize_with = "null_default")]
    pub status: String,
    /// The process is alive (also while paused).
    #[serde(rename = "Running", deserialize_with = "null_default")]
    pub running: bool,
    /// Frozen.
    #[serde(rename = "Paused", deserialize_with = "null_default")]
    pub paused: bool,
    /// Waiting for a restart-policy restart.
    #[serde(rename = "Restarting", deserialize_with = "null_default")]
    pub restarting: bool,
    /// The last exit was the OOM killer's.
    #[serde(rename = "OOMKilled", deserialize_with = "null_default")]
    pub oom_killed: bool,
    /// Removal failed half-way.
    #[serde(rename = "Dead", deserialize_with = "null_default")]
    pub dead: bool,
    /// The process's host PID (0 when not running).
    #[serde(rename = "Pid", deserialize_with = "null_default")]
    pub pid: i64,
    /// The last exit code.
    #[serde(rename = "ExitCode", deserialize_with = "null_default")]
    pub exit_code: i64,
    /// Why the last start failed, if it did.
    #[serde(rename = "Error", deserialize_with = "null_default")]
    pub error: String,
    /// When it last started, or [`ZERO_TIME`].
    #[serde(rename = "StartedAt", deserialize_with = "null_default")]
    pub started_at: String,
    /// When it last stopped, or [`ZERO_TIME`].
    #[serde(rename = "FinishedAt", deserialize_with = "null_default")]
    pub finished_at: String,
    /// Health check results; absent when the container has no health check.
    #[serde(rename = "Health", skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

impl Default for ContainerState {
    fn default() -> Self {
        ContainerState {
            status: status::CREATED.to_string(),
            running: false,
            paused: false,
            restarting: false,
            oom_killed: false,
            dead: false,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: ZERO_TIME.to_string(),
            finished_at: ZERO_TIME.to_string(),
            health: None,
        }
    }
}

/// `State.Health` (moby `container.Health`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Health {
    /// One of the [`health_status`] words.
    #[serde(rename = "Status", deserialize_with = "null_default")]
    pub status: String,
    /// Consecutive failed checks.
    #[serde(rename = "FailingStreak", deserialize_with = "null_default")]
    pub failing_streak: i64,
    /// The last few results, oldest first.
    #[serde(rename = "Log", deserialize_with = "null_default")]
    pub log: Vec<HealthcheckResult>,
}

/// One health probe (moby `container.HealthcheckResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthcheckResult {
    /// When the probe started (RFC 3339 with nanoseconds).
    #[serde(rename = "Start", deserialize_with = "null_default")]
    pub start: String,
    /// When it ended.
    #[serde(rename = "End", deserialize_with = "null_default")]
    pub end: String,
    /// 0 healthy, 1 unhealthy, 2 reserved, anything else: the probe failed
    /// to run.
    #[serde(rename = "ExitCode", deserialize_with = "null_default")]
    pub exit_code: i64,
    /// The probe's output (truncated).
    #[serde(rename = "Output", deserialize_with = "null_default")]
    pub output: String,
}

/// `GraphDriver` (moby `storage.DriverData`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphDriverData {
    /// Driver-specific data (`LowerDir`, `UpperDir`, `WorkDir`, `MergedDir`).
    #[serde(rename = "Data")]
    pub data: Option<BTreeMap<String, String>>,
    /// The driver's name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
}

/// A mount as inspect and `docker ps` report it (moby `container.MountPoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MountPoint {
    /// `bind`, `volume`, `tmpfs`, ...
    #[serde(
        rename = "Type",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub kind: String,
    /// The volume's name.
    #[serde(
        rename = "Name",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// Where it comes from on the host (empty for tmpfs).
    #[serde(rename = "Source", deserialize_with = "null_default")]
    pub source: String,
    /// Where it is in the container.
    #[serde(rename = "Destination", deserialize_with = "null_default")]
    pub destination: String,
    /// The volume driver.
    #[serde(
        rename = "Driver",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub driver: String,
    /// The options the user gave (`z`, `ro`, ...).
    #[serde(rename = "Mode", deserialize_with = "null_default")]
    pub mode: String,
    /// Mounted read-write.
    #[serde(rename = "RW", deserialize_with = "null_default")]
    pub rw: bool,
    /// Mount propagation (`rprivate`, ...).
    #[serde(rename = "Propagation", deserialize_with = "null_default")]
    pub propagation: String,
}

/// `NetworkSettings` of an inspected container (moby
/// `container.NetworkSettings`: the base fields, the deprecated default
/// network fields, then `Networks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSettings {
    /// The default bridge interface when set by `--bridge`.
    #[serde(rename = "Bridge", deserialize_with = "null_default")]
    pub bridge: String,
    /// The network sandbox's ID.
    #[serde(rename = "SandboxID", deserialize_with = "null_default")]
    pub sandbox_id: String,
    /// The network namespace path.
    #[serde(rename = "SandboxKey", deserialize_with = "null_default")]
    pub sandbox_key: String,
    /// Published ports: `"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]`,
    /// `null` bindings for exposed but unpublished ports.
    #[serde(rename = "Ports")]
    pub ports: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    /// Hairpin NAT.
    #[serde(rename = "HairpinMode", deserialize_with = "null_default")]
    pub hairpin_mode: bool,
    /// Link-local IPv6 address.
    #[serde(rename = "LinkLocalIPv6Address", deserialize_with = "null_default")]
    pub link_local_ipv6_address: String,
    /// Its prefix length.
    #[serde(rename = "LinkLocalIPv6PrefixLen", deserialize_with = "null_default")]
    pub link_local_ipv6_prefix_len: i64,
    /// Deprecated, always `null`.
    #[serde(rename = "SecondaryIPAddresses")]
    pub secondary_ip_addresses: Option<Vec<serde_json::Value>>,
    /// Deprecated, always `null`.
    #[serde(rename = "SecondaryIPv6Addresses")]
    pub secondary_ipv6_addresses: Option<Vec<serde_json::Value>>,
    /// The default network's endpoint ID.
    #[serde(rename = "EndpointID", deserialize_with = "null_default")]
    pub endpoint_id: String,
    /// The default network's gateway.
    #[serde(rename = "Gateway", deserialize_with = "null_default")]
    pub gateway: String,
    /// The default network's global IPv6 address.
    #[serde(rename = "GlobalIPv6Address", deserialize_with = "null_default")]
    pub global_ipv6_address: String,
    /// Its prefix length.
    #[serde(rename = "GlobalIPv6PrefixLen", deserialize_with = "null_default")]
    pub global_ipv6_prefix_len: i64,
    /// The default network's IPv4 address.
    #[serde(rename = "IPAddress", deserialize_with = "null_default")]
    pub ip_address: String,
    /// Its prefix length.
    #[serde(rename = "IPPrefixLen", deserialize_with = "null_default")]
    pub ip_prefix_len: i64,
    /// The default network's IPv6 gateway.
    #[serde(rename = "IPv6Gateway", deserialize_with = "null_default")]
    pub ipv6_gateway: String,
    /// The default network's MAC address.
    #[serde(rename = "MacAddress", deserialize_with = "null_default")]
    pub mac_address: String,
    /// Every network the container is attached to, by name.
    #[serde(rename = "Networks")]
    pub networks: Option<BTreeMap<String, EndpointSettings>>,
}

/// A container's endpoint on one network (moby `network.EndpointSettings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointSettings {
    /// Static addresses asked for.
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    /// Legacy links.
    #[serde(rename = "Links")]
    pub links: Option<Vec<String>>,
    /// Extra DNS names.
    #[serde(rename = "Aliases")]
    pub aliases: Option<Vec<String>>,
    /// The endpoint's MAC address.
    #[serde(rename = "MacAddress", deserialize_with = "null_default")]
    pub mac_address: String,
    /// Driver options.
    #[serde(rename = "DriverOpts")]
    pub driver_opts: Option<BTreeMap<String, String>>,
    /// Priority of this network's gateway as the default route.
    #[serde(rename = "GwPriority", deserialize_with = "null_default")]
    pub gw_priority: i64,
    /// The network's ID.
    #[serde(rename = "NetworkID", deserialize_with = "null_default")]
    pub network_id: String,
    /// The endpoint's ID.
    #[serde(rename = "EndpointID", deserialize_with = "null_default")]
    pub endpoint_id: String,
    /// The IPv4 gateway.
    #[serde(rename = "Gateway", deserialize_with = "null_default")]
    pub gateway: String,
    /// The IPv4 address.
    #[serde(rename = "IPAddress", deserialize_with = "null_default")]
    pub ip_address: String,
    /// Its prefix length.
    #[serde(rename = "IPPrefixLen", deserialize_with = "null_default")]
    pub ip_prefix_len: i64,
    /// The IPv6 gateway.
    #[serde(rename = "IPv6Gateway", deserialize_with = "null_default")]
    pub ipv6_gateway: String,
    /// The global IPv6 address.
    #[serde(rename = "GlobalIPv6Address", deserialize_with = "null_default")]
    pub global_ipv6_address: String,
    /// Its prefix length.
    #[serde(rename = "GlobalIPv6PrefixLen", deserialize_with = "null_default")]
    pub global_ipv6_prefix_len: i64,
    /// The names the container resolves as on this network.
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
}

/// `IPAMConfig` of an endpoint (moby `network.EndpointIPAMConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointIpamConfig {
    /// Static IPv4 address.
    #[serde(
        rename = "IPv4Address",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv4_address: String,
    /// Static IPv6 address.
    #[serde(
        rename = "IPv6Address",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv6_address: String,
    /// Link-local addresses.
    #[serde(rename = "LinkLocalIPs", skip_serializing_if = "Option::is_none")]
    pub link_local_ips: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn nulls_and_omissions_follow_go() {
        let r = ContainerInspectResponse {
            id: "abc".into(),
            state: Some(ContainerState::default()),
            ..Default::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["Id"], "abc");
        assert_eq!(v["Args"], json!([]));
        assert_eq!(v["Mounts"], json!([]));
        assert_eq!(v["ExecIDs"], Value::Null);
        assert_eq!(v["HostConfig"], Value::Null);
        assert_eq!(v["Config"], Value::Null);
        assert_eq!(v["NetworkSettings"], Value::Null);
        assert_eq!(v["GraphDriver"], json!({"Data": null, "Name": ""}));
        for absent in ["SizeRw", "SizeRootFs", "ImageManifestDescriptor"] {
            assert!(v.get(absent).is_none(), "{absent}");
        }
        let s = &v["State"];
        assert_eq!(s["Status"], "created");
        assert_eq!(s["StartedAt"], ZERO_TIME);
        assert_eq!(s["OOMKilled"], false);
        assert!(s.get("Health").is_none());
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "Created",
            "Path",
            "Image",
            "ResolvConfPath",
            "HostnamePath",
            "HostsPath",
            "LogPath",
            "Name",
            "RestartCount",
            "Driver",
            "Platform",
            "MountLabel",
            "ProcessLabel",
            "AppArmorProfile",
        ] {
            assert!(keys.contains(&k), "{k} missing");
        }
    }

    /// Parts of `docker inspect` output from Docker 28 re-encode to the
    /// same JSON.
    #[test]
    fn docker_28_fragments_round_trip() {
        let state = json!({
            "Status": "running", "Running": true, "Paused": false, "Restarting": false,
            "OOMKilled": false, "Dead": false, "Pid": 4242, "ExitCode": 0, "Error": "",
            "StartedAt": "2025-06-01T10:00:00.123456789Z", "FinishedAt": "0001-01-01T00:00:00Z",
            "Health": {"Status": "healthy", "FailingStreak": 0, "Log": [
                {"Start": "2025-06-01T10:00:30.1Z", "End": "2025-06-01T10:00:30.2Z",
                 "ExitCode": 0, "Output": "ok\n"}]}
        });
        let s: ContainerState = serde_json::from_value(state.clone()).unwrap();
        assert_eq!(s.health.as_ref().unwrap().log[0].output, "ok\n");
        assert_eq!(serde_json::to_value(&s).unwrap(), state);

        let net = json!({
            "Bridge": "", "SandboxID": "5e1f", "SandboxKey": "/var/run/docker/netns/5e1f",
            "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": null},
            "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": null, "SecondaryIPv6Addresses": null,
            "EndpointID": "e1", "Gateway": "172.17.0.1", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "IPAddress": "172.17.0.2", "IPPrefixLen": 16,
            "IPv6Gateway": "", "MacAddress": "02:42:ac:11:00:02",
            "Networks": {"bridge": {
                "IPAMConfig": null, "Links": null, "Aliases": null,
                "MacAddress": "02:42:ac:11:00:02", "DriverOpts": null, "GwPriority": 0,
                "NetworkID": "n1", "EndpointID": "e1", "Gateway": "172.17.0.1",
                "IPAddress": "172.17.0.2", "IPPrefixLen": 16, "IPv6Gateway": "",
                "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": null}}
        });
        let n: NetworkSettings = serde_json::from_value(net.clone()).unwrap();
        assert_eq!(n.networks.as_ref().unwrap()["bridge"].ip_prefix_len, 16);
        assert_eq!(serde_json::to_value(&n).unwrap(), net);

        let mounts = json!([
            {"Type": "bind", "Source": "/tmp", "Destination": "/data", "Mode": "",
             "RW": true, "Propagation": "rprivate"},
            {"Type": "volume", "Name": "v1", "Source": "/var/lib/docker/volumes/v1/_data",
             "Destination": "/v", "Driver": "local", "Mode": "z", "RW": true, "Propagation": ""}
        ]);
        let m: Vec<MountPoint> = serde_json::from_value(mounts.clone()).unwrap();
        assert_eq!(serde_json::to_value(&m).unwrap(), mounts);

        let gd = json!({"Data": {"LowerDir": "/l", "MergedDir": "/m", "UpperDir": "/u",
                                 "WorkDir": "/w"}, "Name": "overlay2"});
        let g: GraphDriverData = serde_json::from_value(gd.clone()).unwrap();
        assert_eq!(serde_json::to_value(&g).unwrap(), gd);
    }

    #[test]
    fn wrong_types_are_errors_not_defaults() {
        let e = serde_json::from_value::<ContainerState>(json!({"Pid": "x"})).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{e}");
    }
}
