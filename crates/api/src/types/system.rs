//! System models (moby `api/types/system`): `GET /version`
//! ([`SystemVersion`]) and `GET /info` ([`SystemInfo`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::null_default;

/// The highest Engine API version Berth speaks (Docker 28.1's), answered in
/// the `Api-Version` header and used for requests without a `/v1.NN` prefix.
pub const API_VERSION: &str = "1.49";

/// The lowest Engine API version Berth accepts (Docker's minimum).
pub const MIN_API_VERSION: &str = "1.24";

/// The body of `GET /version` (moby `system.VersionResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemVersion {
    /// The product (`{"Name": "Berth Engine"}`).
    #[serde(rename = "Platform", deserialize_with = "null_default")]
    pub platform: PlatformInfo,
    /// The parts of the engine and their versions.
    #[serde(rename = "Components", skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<ComponentVersion>>,
    /// The daemon's version.
    #[serde(rename = "Version", deserialize_with = "null_default")]
    pub version: String,
    /// The highest API version the daemon speaks.
    #[serde(rename = "ApiVersion", deserialize_with = "null_default")]
    pub api_version: String,
    /// The lowest API version it accepts.
    #[serde(
        rename = "MinAPIVersion",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub min_api_version: String,
    /// The commit it was built from.
    #[serde(
        rename = "GitCommit",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub git_commit: String,
    /// The compiler (Docker: Go version; Berth: `rustc` version).
    #[serde(
        rename = "GoVersion",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub go_version: String,
    /// `linux`.
    #[serde(rename = "Os", deserialize_with = "null_default")]
    pub os: String,
    /// `amd64`, `arm64`, ... (Go's names).
    #[serde(rename = "Arch", deserialize_with = "null_default")]
    pub arch: String,
    /// The host kernel's release.
    #[serde(
        rename = "KernelVersion",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub kernel_version: String,
    /// Experimental features on.
    #[serde(
        rename = "Experimental",
        deserialize_with = "null_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub experimental: bool,
    /// When it was built.
    #[serde(
        rename = "BuildTime",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub build_time: String,
}

/// `Platform` of [`SystemVersion`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlatformInfo {
    /// The product name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
}

/// One component of [`SystemVersion`] (`Engine`, `berth-shim`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComponentVersion {
    /// Its name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// Its version.
    #[serde(rename = "Version", deserialize_with = "null_default")]
    pub version: String,
    /// Informational key/values (`ApiVersion`, `GitCommit`, ...).
    #[serde(rename = "Details", skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
}

/// The body of `GET /info` (moby `system.Info`, the fields Berth fills;
/// absent fields decode as Go's zero values in the CLI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemInfo {
    /// A unique ID of the daemon.
    #[serde(rename = "ID", deserialize_with = "null_default")]
    pub id: String,
    /// Containers in total.
    #[serde(rename = "Containers", deserialize_with = "null_default")]
    pub containers: i64,
    /// Running containers.
    #[serde(rename = "ContainersRunning", deserialize_with = "null_default")]
    pub containers_running: i64,
    /// Paused containers.
    #[serde(rename = "ContainersPaused", deserialize_with = "null_default")]
    pub containers_paused: i64,
    /// Stopped containers.
    #[serde(rename = "ContainersStopped", deserialize_with = "null_default")]
    pub containers_stopped: i64,
    /// Images.
    #[serde(rename = "Images", deserialize_with = "null_default")]
    pub images: i64,
    /// The storage driver.
    #[serde(rename = "Driver", deserialize_with = "null_default")]
    pub driver: String,
    /// The storage driver's `[name, value]` pairs.
    #[serde(rename = "DriverStatus")]
    pub driver_status: Option<Vec<[String; 2]>>,
    /// Plugins by kind.
    #[serde(rename = "Plugins", deserialize_with = "null_default")]
    pub plugins: PluginsInfo,
    /// Memory limits supported.
    #[serde(rename = "MemoryLimit", deserialize_with = "null_default")]
    pub memory_limit: bool,
    /// Swap limits supported.
    #[serde(rename = "SwapLimit", deserialize_with = "null_default")]
    pub swap_limit: bool,
    /// CFS period supported.
    #[serde(rename = "CpuCfsPeriod", deserialize_with = "null_default")]
    pub cpu_cfs_period: bool,
    /// CFS quota supported.
    #[serde(rename = "CpuCfsQuota", deserialize_with = "null_default")]
    pub cpu_cfs_quota: bool,
    /// CPU shares supported.
    #[serde(rename = "CPUShares", deserialize_with = "null_default")]
    pub cpu_shares: bool,
    /// cpusets supported.
    #[serde(rename = "CPUSet", deserialize_with = "null_default")]
    pub cpu_set: bool,
    /// PID limits supported.
    #[serde(rename = "PidsLimit", deserialize_with = "null_default")]
    pub pids_limit: bool,
    /// IPv4 forwarding on.
    #[serde(rename = "IPv4Forwarding", deserialize_with = "null_default")]
    pub ipv4_forwarding: bool,
    /// Debug mode on.
    #[serde(rename = "Debug", deserialize_with = "null_default")]
    pub debug: bool,
    /// Open file descriptors (debug mode).
    #[serde(rename = "NFd", deserialize_with = "null_default")]
    pub n_fd: i64,
    /// OOM-killer disabling supported.
    #[serde(rename = "OomKillDisable", deserialize_with = "null_default")]
    pub oom_kill_disable: bool,
    /// Goroutines in Docker; Berth: tasks or threads (debug mode).
    #[serde(rename = "NGoroutines", deserialize_with = "null_default")]
    pub n_goroutines: i64,
    /// The daemon's current time (RFC 3339 with nanoseconds).
    #[serde(rename = "SystemTime", deserialize_with = "null_default")]
    pub system_time: String,
    /// The default log driver.
    #[serde(rename = "LoggingDriver", deserialize_with = "null_default")]
    pub logging_driver: String,
    /// `cgroupfs` or `systemd`.
    #[serde(rename = "CgroupDriver", deserialize_with = "null_default")]
    pub cgroup_driver: String,
    /// `1` or `2`.
    #[serde(
        rename = "CgroupVersion",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub cgroup_version: String,
    /// `docker events` subscribers.
    #[serde(rename = "NEventsListener", deserialize_with = "null_default")]
    pub n_events_listener: i64,
    /// The host kernel's release.
    #[serde(rename = "KernelVersion", deserialize_with = "null_default")]
    pub kernel_version: String,
    /// The host's OS (`PRETTY_NAME` of os-release).
    #[serde(rename = "OperatingSystem", deserialize_with = "null_default")]
    pub operating_system: String,
    /// The host's OS version (`VERSION_ID`).
    #[serde(rename = "OSVersion", deserialize_with = "null_default")]
    pub os_version: String,
    /// `linux`.
    #[serde(rename = "OSType", deserialize_with = "null_default")]
    pub os_type: String,
    /// The machine (`uname -m`: `x86_64`).
    #[serde(rename = "Architecture", deserialize_with = "null_default")]
    pub architecture: String,
    /// The default registry.
    #[serde(rename = "IndexServerAddress", deserialize_with = "null_default")]
    pub index_server_address: String,
    /// Registry settings (mirrors, insecure registries), verbatim.
    #[serde(rename = "RegistryConfig")]
    pub registry_config: Option<serde_json::Value>,
    /// Online CPUs.
    #[serde(rename = "NCPU", deserialize_with = "null_default")]
    pub ncpu: i64,
    /// Host memory in bytes.
    #[serde(rename = "MemTotal", deserialize_with = "null_default")]
    pub mem_total: i64,
    /// Swarm generic resources (always `null`).
    #[serde(rename = "GenericResources")]
    pub generic_resources: Option<Vec<serde_json::Value>>,
    /// The data root.
    #[serde(rename = "DockerRootDir", deserialize_with = "null_default")]
    pub docker_root_dir: String,
    /// The daemon's HTTP proxy.
    #[serde(rename = "HttpProxy", deserialize_with = "null_default")]
    pub http_proxy: String,
    /// The daemon's HTTPS proxy.
    #[serde(rename = "HttpsProxy", deserialize_with = "null_default")]
    pub https_proxy: String,
    /// Hosts not proxied.
    #[serde(rename = "NoProxy", deserialize_with = "null_default")]
    pub no_proxy: String,
    /// The host's name.
    #[serde(rename = "Name", deserialize_with = "null_default")]
    pub name: String,
    /// Daemon labels (`key=value`).
    #[serde(rename = "Labels")]
    pub labels: Option<Vec<String>>,
    /// Experimental build.
    #[serde(rename = "ExperimentalBuild", deserialize_with = "null_default")]
    pub experimental_build: bool,
    /// The daemon's version.
    #[serde(rename = "ServerVersion", deserialize_with = "null_default")]
    pub server_version: String,
    /// OCI runtimes by name.
    #[serde(rename = "Runtimes")]
    pub runtimes: Option<BTreeMap<String, RuntimeInfo>>,
    /// The default runtime's name.
    #[serde(rename = "DefaultRuntime", deserialize_with = "null_default")]
    pub default_runtime: String,
    /// Swarm state (always inactive).
    #[serde(rename = "Swarm", deserialize_with = "null_default")]
    pub swarm: SwarmInfo,
    /// Live restore on.
    #[serde(rename = "LiveRestoreEnabled", deserialize_with = "null_default")]
    pub live_restore_enabled: bool,
    /// Windows isolation (empty on Linux).
    #[serde(rename = "Isolation", deserialize_with = "null_default")]
    pub isolation: String,
    /// The `--init` binary.
    #[serde(rename = "InitBinary", deserialize_with = "null_default")]
    pub init_binary: String,
    /// The containerd (Berth: shim) commit.
    #[serde(rename = "ContainerdCommit", deserialize_with = "null_default")]
    pub containerd_commit: Commit,
    /// The runtime commit.
    #[serde(rename = "RuncCommit", deserialize_with = "null_default")]
    pub runc_commit: Commit,
    /// The init binary's commit.
    #[serde(rename = "InitCommit", deserialize_with = "null_default")]
    pub init_commit: Commit,
    /// Security features (`name=seccomp,profile=builtin`, `name=cgroupns`).
    #[serde(rename = "SecurityOptions")]
    pub security_options: Option<Vec<String>>,
    /// CDI spec directories.
    #[serde(rename = "CDISpecDirs")]
    pub cdi_spec_dirs: Option<Vec<String>>,
    /// Things the user should know (`WARNING: No swap limit support`).
    #[serde(rename = "Warnings")]
    pub warnings: Option<Vec<String>>,
}

/// `Plugins` of [`SystemInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginsInfo {
    /// Volume drivers.
    #[serde(rename = "Volume")]
    pub volume: Option<Vec<String>>,
    /// Network drivers.
    #[serde(rename = "Network")]
    pub network: Option<Vec<String>>,
    /// Authorization plugins.
    #[serde(rename = "Authorization")]
    pub authorization: Option<Vec<String>>,
    /// Log drivers.
    #[serde(rename = "Log")]
    pub log: Option<Vec<String>>,
}

/// One entry of `Runtimes` of [`SystemInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeInfo {
    /// The runtime binary.
    #[serde(
        rename = "path",
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub path: String,
}

/// `Swarm` of [`SystemInfo`]: Berth has no swarm mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SwarmInfo {
    /// This node's ID (empty).
    #[serde(rename = "NodeID", deserialize_with = "null_default")]
    pub node_id: String,
    /// This node's address (empty).
    #[serde(rename = "NodeAddr", deserialize_with = "null_default")]
    pub node_addr: String,
    /// `inactive`.
    #[serde(rename = "LocalNodeState", deserialize_with = "null_default")]
    pub local_node_state: String,
    /// Whether this node is a manager.
    #[serde(rename = "ControlAvailable", deserialize_with = "null_default")]
    pub control_available: bool,
    /// Swarm error (empty).
    #[serde(rename = "Error", deserialize_with = "null_default")]
    pub error: String,
    /// Managers (`null`).
    #[serde(rename = "RemoteManagers")]
    pub remote_managers: Option<Vec<serde_json::Value>>,
}

impl Default for SwarmInfo {
    fn default() -> Self {
        SwarmInfo {
            node_id: String::new(),
            node_addr: String::new(),
            local_node_state: "inactive".to_string(),
            control_available: false,
            error: String::new(),
            remote_managers: None,
        }
    }
}

/// A component's commit (`{"ID": "..."}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Commit {
    /// The commit ID.
    #[serde(rename = "ID", deserialize_with = "null_default")]
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn version_shape() {
        let v = SystemVersion {
            platform: PlatformInfo {
                name: "Berth Engine".into(),
            },
            version: "0.1.0".into(),
            api_version: API_VERSION.into(),
            min_api_version: MIN_API_VERSION.into(),
            os: "linux".into(),
            arch: "amd64".into(),
            ..Default::default()
        };
        let j = serde_json::to_value(&v).unwrap();
        assert_eq!(
            j,
            json!({"Platform": {"Name": "Berth Engine"}, "Version": "0.1.0",
                   "ApiVersion": "1.49", "MinAPIVersion": "1.24", "Os": "linux",
                   "Arch": "amd64"})
        );
        // What Docker 28 sends decodes.
        let docker: SystemVersion = serde_json::from_value(json!({
            "Platform": {"Name": "Docker Engine - Community"},
            "Components": [{"Name": "Engine", "Version": "28.2.2",
                            "Details": {"ApiVersion": "1.50", "MinAPIVersion": "1.24"}}],
            "Version": "28.2.2", "ApiVersion": "1.50", "MinAPIVersion": "1.24",
            "GitCommit": "45873be", "GoVersion": "go1.24.3", "Os": "linux", "Arch": "amd64",
            "KernelVersion": "6.1.0", "BuildTime": "2025-05-30T12:08:44.000000000+00:00"
        }))
        .unwrap();
        assert_eq!(docker.components.unwrap()[0].name, "Engine");
    }

    #[test]
    fn info_defaults_say_no_swarm() {
        let j = serde_json::to_value(SystemInfo::default()).unwrap();
        assert_eq!(j["Swarm"]["LocalNodeState"], "inactive");
        assert_eq!(j["CpuCfsPeriod"], false);
        assert_eq!(j["HttpProxy"], "");
        assert!(j.get("CgroupVersion").is_none());
        assert_eq!(j["Warnings"], serde_json::Value::Null);
    }
}
