//! `GET /containers/{id}/stats` (moby `container.StatsResponse`, the
//! `StatsJSON` of older API types): one sample of a container's cgroup.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ZERO_TIME;

/// One stats sample (moby `types.StatsJSON`; networks and blkio are not
/// collected yet and serialize as Docker's empty values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// The container's name, with its leading `/`.
    pub name: String,
    /// The container's full ID.
    pub id: String,
    /// When this sample was taken (RFC 3339), or the zero time for a
    /// stopped container.
    pub read: String,
    /// When the previous sample of a stream was taken, else the zero time.
    pub preread: String,
    /// Process counts.
    pub pids_stats: PidsStats,
    /// Block IO (not collected: Docker's empty value).
    pub blkio_stats: BlkioStats,
    /// Always 0 on Linux.
    pub num_procs: u32,
    /// Windows only: empty.
    pub storage_stats: BTreeMap<String, u64>,
    /// CPU usage now.
    pub cpu_stats: CpuStats,
    /// CPU usage at the previous sample of a stream (zero otherwise).
    pub precpu_stats: CpuStats,
    /// Memory usage.
    pub memory_stats: MemoryStats,
}

/// `pids_stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidsStats {
    /// Processes in the cgroup.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub current: u64,
    /// `pids.max`, 0 when unlimited.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// `blkio_stats`: every list `null`, as Docker sends when it has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioStats {
    /// `io_service_bytes_recursive`.
    pub io_service_bytes_recursive: Option<Vec<serde_json::Value>>,
    /// `io_serviced_recursive`.
    pub io_serviced_recursive: Option<Vec<serde_json::Value>>,
    /// `io_queue_recursive`.
    pub io_queue_recursive: Option<Vec<serde_json::Value>>,
    /// `io_service_time_recursive`.
    pub io_service_time_recursive: Option<Vec<serde_json::Value>>,
    /// `io_wait_time_recursive`.
    pub io_wait_time_recursive: Option<Vec<serde_json::Value>>,
    /// `io_merged_recursive`.
    pub io_merged_recursive: Option<Vec<serde_json::Value>>,
    /// `io_time_recursive`.
    pub io_time_recursive: Option<Vec<serde_json::Value>>,
    /// `sectors_recursive`.
    pub sectors_recursive: Option<Vec<serde_json::Value>>,
}

/// `cpu_stats` / `precpu_stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuStats {
    /// The container's CPU time.
    pub cpu_usage: CpuUsage,
    /// The host's CPU time (all CPUs, nanoseconds) from `/proc/stat`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub system_cpu_usage: u64,
    /// The host's online CPUs.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub online_cpus: u32,
    /// CFS throttling.
    pub throttling_data: ThrottlingData,
}

/// `cpu_usage` (nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuUsage {
    /// Total CPU time consumed.
    pub total_usage: u64,
    /// Per CPU (cgroup v1 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu_usage: Vec<u64>,
    /// Time in kernel mode.
    pub usage_in_kernelmode: u64,
    /// Time in user mode.
    pub usage_in_usermode: u64,
}

/// `throttling_data`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottlingData {
    /// Enforcement periods elapsed.
    pub periods: u64,
    /// Periods in which the container was throttled.
    pub throttled_periods: u64,
    /// Total throttled time (nanoseconds).
    pub throttled_time: u64,
}

/// `memory_stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStats {
    /// Current usage (bytes).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub usage: u64,
    /// Peak usage (cgroup v1 only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_usage: u64,
    /// `memory.stat`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stats: BTreeMap<String, u64>,
    /// Times the limit was hit (cgroup v1 only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failcnt: u64,
    /// The limit, or the host's memory when unlimited.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub limit: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

impl StatsSnapshot {
    /// The sample Docker returns for a container that is not running: name
    /// and ID, everything else zero.
    pub fn empty(name: &str, id: &str) -> Self {
        StatsSnapshot {
            name: name.to_string(),
            id: id.to_string(),
            read: ZERO_TIME.to_string(),
            preread: ZERO_TIME.to_string(),
            pids_stats: PidsStats::default(),
            blkio_stats: BlkioStats::default(),
            num_procs: 0,
            storage_stats: BTreeMap::new(),
            cpu_stats: CpuStats::default(),
            precpu_stats: CpuStats::default(),
            memory_stats: MemoryStats::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopped_sample_has_dockers_shape() {
        let v = serde_json::to_value(StatsSnapshot::empty("/web", "abc")).unwrap();
        assert_eq!(v["name"], "/web");
        assert_eq!(v["read"], ZERO_TIME);
        assert_eq!(v["pids_stats"], serde_json::json!({}));
        assert_eq!(v["memory_stats"], serde_json::json!({}));
        assert_eq!(v["cpu_stats"]["cpu_usage"]["total_usage"], 0);
        assert!(v["cpu_stats"].get("system_cpu_usage").is_none());
        assert!(v["blkio_stats"]["io_service_bytes_recursive"].is_null());
    }
}
