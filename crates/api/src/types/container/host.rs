//! `HostConfig`: the host-dependent part of a container's configuration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::StrSlice;
use crate::types::null_default;

/// Docker's `HostConfig` (Engine API field names), including the resource
/// limits (`container.Resources`) that Go embeds flat in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostConfig {
    /// Bind mounts, `src:dst[:opts]`.
    #[serde(rename = "Binds")]
    pub binds: Option<Vec<String>>,
    /// File the CLI writes the container ID to.
    #[serde(rename = "ContainerIDFile", deserialize_with = "null_default")]
    pub container_id_file: String,
    /// The log driver and its options.
    #[serde(rename = "LogConfig", deserialize_with = "null_default")]
    pub log_config: LogConfig,
    /// `bridge`, `host`, `none`, `container:<id>` or a network name.
    #[serde(rename = "NetworkMode", deserialize_with = "null_default")]
    pub network_mode: String,
    /// Published ports: `"80/tcp": [{"HostIp": "", "HostPort": "8080"}]`.
    #[serde(rename = "PortBindings")]
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    /// What to do when the container exits.
    #[serde(rename = "RestartPolicy", deserialize_with = "null_default")]
    pub restart_policy: RestartPolicy,
    /// Remove the container when it exits.
    #[serde(rename = "AutoRemove", deserialize_with = "null_default")]
    pub auto_remove: bool,
    /// The default volume driver.
    #[serde(rename = "VolumeDriver", deserialize_with = "null_default")]
    pub volume_driver: String,
    /// Containers to take volumes from, `name[:ro|rw]`.
    #[serde(rename = "VolumesFrom")]
    pub volumes_from: Option<Vec<String>>,
    /// Initial console size `[height, width]`.
    #[serde(rename = "ConsoleSize", deserialize_with = "null_default")]
    pub console_size: [u64; 2],
    /// Arbitrary annotations passed to the runtime.
    #[serde(rename = "Annotations", skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Capabilities to add (`NET_ADMIN`, `CAP_NET_ADMIN` or `ALL`).
    #[serde(rename = "CapAdd")]
    pub cap_add: Option<StrSlice>,
    /// Capabilities to drop (`MKNOD` or `ALL`).
    #[serde(rename = "CapDrop")]
    pub cap_drop: Option<StrSlice>,
    /// `private` or `host` cgroup namespace.
    #[serde(rename = "CgroupnsMode", deserialize_with = "null_default")]
    pub cgroupns_mode: String,
    /// DNS servers.
    #[serde(rename = "Dns")]
    pub dns: Option<Vec<String>>,
    /// DNS options.
    #[serde(rename = "DnsOptions")]
    pub dns_options: Option<Vec<String>>,
    /// DNS search domains.
    #[serde(rename = "DnsSearch")]
    pub dns_search: Option<Vec<String>>,
    /// Extra `/etc/hosts` lines, `host:ip`.
    #[serde(rename = "ExtraHosts")]
    pub extra_hosts: Option<Vec<String>>,
    /// Additional groups (names or GIDs) the process joins.
    #[serde(rename = "GroupAdd")]
    pub group_add: Option<Vec<String>>,
    /// IPC namespace mode: `private`, `shareable`, `host`, `container:<id>`, `none`.
    #[serde(rename = "IpcMode", deserialize_with = "null_default")]
    pub ipc_mode: String,
    /// Cgroup of another container to use.
    #[serde(rename = "Cgroup", deserialize_with = "null_default")]
    pub cgroup: String,
    /// Legacy links, `name:alias`.
    #[serde(rename = "Links")]
    pub links: Option<Vec<String>>,
    /// OOM score adjustment (-1000..=1000).
    #[serde(rename = "OomScoreAdj", deserialize_with = "null_default")]
    pub oom_score_adj: i64,
    /// PID namespace mode: `` (private), `host`, `container:<id>`.
    #[serde(rename = "PidMode", deserialize_with = "null_default")]
    pub pid_mode: String,
    /// Give the container full access to the host.
    #[serde(rename = "Privileged", deserialize_with = "null_default")]
    pub privileged: bool,
    /// Publish every exposed port on a random host port.
    #[serde(rename = "PublishAllPorts", deserialize_with = "null_default")]
    pub publish_all_ports: bool,
    /// Mount the root filesystem read-only.
    #[serde(rename = "ReadonlyRootfs", deserialize_with = "null_default")]
    pub readonly_rootfs: bool,
    /// Security options (`no-new-privileges`, `seccomp=...`, `apparmor=...`).
    #[serde(rename = "SecurityOpt")]
    pub security_opt: Option<Vec<String>>,
    /// Storage driver options.
    #[serde(rename = "StorageOpt", skip_serializing_if = "Option::is_none")]
    pub storage_opt: Option<BTreeMap<String, String>>,
    /// tmpfs mounts: path -> options.
    #[serde(rename = "Tmpfs", skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// UTS namespace mode: `` or `host`.
    #[serde(rename = "UTSMode", deserialize_with = "null_default")]
    pub uts_mode: String,
    /// User namespace mode: `` or `host`.
    #[serde(rename = "UsernsMode", deserialize_with = "null_default")]
    pub userns_mode: String,
    /// Size of /dev/shm in bytes (0: 64 MiB).
    #[serde(rename = "ShmSize", deserialize_with = "null_default")]
    pub shm_size: i64,
    /// Namespaced kernel parameters.
    #[serde(rename = "Sysctls", skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<BTreeMap<String, String>>,
    /// The OCI runtime to use.
    #[serde(
        rename = "Runtime",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub runtime: String,
    /// Windows isolation technology (ignored on Linux).
    #[serde(rename = "Isolation", deserialize_with = "null_default")]
    pub isolation: String,
    // Resource limits: Go embeds `container.Resources` here, so its fields
    // sit flat in the object; they are flat here too.
    /// Relative CPU weight (cgroup v1 shares).
    #[serde(rename = "CpuShares", deserialize_with = "null_default")]
    pub cpu_shares: i64,
    /// Memory limit in bytes.
    #[serde(rename = "Memory", deserialize_with = "null_default")]
    pub memory: i64,
    /// CPU quota in units of 1e-9 CPUs.
    #[serde(rename = "NanoCpus", deserialize_with = "null_default")]
    pub nano_cpus: i64,
    /// Parent cgroup.
    #[serde(rename = "CgroupParent", deserialize_with = "null_default")]
    pub cgroup_parent: String,
    /// Block IO weight (10..=1000).
    #[serde(rename = "BlkioWeight", deserialize_with = "null_default")]
    pub blkio_weight: u16,
    /// Per-device block IO weights.
    #[serde(rename = "BlkioWeightDevice")]
    pub blkio_weight_device: Option<Vec<WeightDevice>>,
    /// CFS period in microseconds.
    #[serde(rename = "CpuPeriod", deserialize_with = "null_default")]
    pub cpu_period: i64,
    /// CFS quota in microseconds.
    #[serde(rename = "CpuQuota", deserialize_with = "null_default")]
    pub cpu_quota: i64,
    /// CPUs allowed (`0-3,5`).
    #[serde(rename = "CpusetCpus", deserialize_with = "null_default")]
    pub cpuset_cpus: String,
    /// Memory nodes allowed.
    #[serde(rename = "CpusetMems", deserialize_with = "null_default")]
    pub cpuset_mems: String,
    /// Host devices to add.
    #[serde(rename = "Devices")]
    pub devices: Option<Vec<DeviceMapping>>,
    /// Device cgroup rules (`c 1:3 mr`).
    #[serde(rename = "DeviceCgroupRules")]
    pub device_cgroup_rules: Option<Vec<String>>,
    /// Soft memory limit in bytes.
    #[serde(rename = "MemoryReservation", deserialize_with = "null_default")]
    pub memory_reservation: i64,
    /// Memory plus swap in bytes; -1 unlimited swap.
    #[serde(rename = "MemorySwap", deserialize_with = "null_default")]
    pub memory_swap: i64,
    /// Swappiness (0..=100).
    #[serde(rename = "MemorySwappiness")]
    pub memory_swappiness: Option<i64>,
    /// Disable the OOM killer.
    #[serde(rename = "OomKillDisable")]
    pub oom_kill_disable: Option<bool>,
    /// Max PIDs; 0 or -1 unlimited.
    #[serde(rename = "PidsLimit")]
    pub pids_limit: Option<i64>,
    /// Resource limits (`nofile`, ...).
    #[serde(rename = "Ulimits")]
    pub ulimits: Option<Vec<Ulimit>>,
    /// Mounts in the structured (`--mount`) form.
    #[serde(rename = "Mounts", skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<Mount>>,
    /// Paths to mask; `None` means the defaults.
    #[serde(rename = "MaskedPaths")]
    pub masked_paths: Option<Vec<String>>,
    /// Paths to make read-only; `None` means the defaults.
    #[serde(rename = "ReadonlyPaths")]
    pub readonly_paths: Option<Vec<String>>,
    /// Run an init process as PID 1.
    #[serde(rename = "Init", skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
}

/// The log driver (`json-file`, `none`, ...) and its options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// The driver name.
    #[serde(rename = "Type", deserialize_with = "null_default")]
    pub kind: String,
    /// Driver options.
    #[serde(rename = "Config")]
    pub config: Option<BTreeMap<String, String>>,
}

/// One host binding of a published port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortBinding {
    /// Host IP to bind (empty: all).
    #[serde(rename = "HostIp", deserialize_with = "null_default")]
    pub host_ip: String,
    /// Host port (empty: ephemeral).
    #[serde(rename = "HostPort", deserialize_with = "null_default")]
    pub host_port: String,
}

/// The restart policy: `""`/`no`, `always`, `unless-stopped`, `on-failure`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestartPolicy {
    /// The policy name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// Retries for `on-failure`.
    #[serde(rename = "MaximumRetryCount", deserialize_with = "null_default")]
    pub maximum_retry_count: i64,
}

/// A per-device block IO weight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeightDevice {
    /// The device path.
    #[serde(rename = "Path", deserialize_with = "null_default")]
    pub path: String,
    /// Its weight.
    #[serde(rename = "Weight", deserialize_with = "null_default")]
    pub weight: u16,
}

/// A host device made available in the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceMapping {
    /// The device on the host.
    #[serde(rename = "PathOnHost", deserialize_with = "null_default")]
    pub path_on_host: String,
    /// Where it appears in the container (default: the host path).
    #[serde(rename = "PathInContainer", deserialize_with = "null_default")]
    pub path_in_container: String,
    /// `rwm` subset (default `rwm`).
    #[serde(rename = "CgroupPermissions", deserialize_with = "null_default")]
    pub cgroup_permissions: String,
}

/// One rlimit: `{"Name": "nofile", "Soft": 1024, "Hard": 2048}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ulimit {
    /// The limit name without `RLIMIT_` (`nofile`, `nproc`, ...).
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// Hard limit.
    #[serde(rename = "Hard", deserialize_with = "null_default")]
    pub hard: i64,
    /// Soft limit.
    #[serde(rename = "Soft", deserialize_with = "null_default")]
    pub soft: i64,
}

/// A structured mount (`mount.Mount`); options are kept verbatim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mount {
    /// `bind`, `volume`, `tmpfs`, `npipe`, `cluster`.
    #[serde(rename = "Type", deserialize_with = "null_default")]
    pub kind: String,
    /// The source (host path or volume name).
    #[serde(
        rename = "Source",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub source: String,
    /// The path in the container.
    #[serde(
        rename = "Target",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub target: String,
    /// Mount read-only.
    #[serde(
        rename = "ReadOnly",
        deserialize_with = "null_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub read_only: bool,
    /// Consistency requirement (ignored on Linux).
    #[serde(
        rename = "Consistency",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub consistency: String,
    /// Bind options.
    #[serde(rename = "BindOptions", skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<serde_json::Value>,
    /// Volume options.
    #[serde(rename = "VolumeOptions", skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<serde_json::Value>,
    /// tmpfs options.
    #[serde(rename = "TmpfsOptions", skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<serde_json::Value>,
}
