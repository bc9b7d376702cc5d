//! `POST /containers/{id}/update` (moby `container.UpdateConfig` and
//! `container.UpdateResponse`): the resource limits and the restart
//! policy of an existing container.

use serde::{Deserialize, Serialize};

use super::{HostConfig, RestartPolicy};
use crate::types::null_default;

/// The body of `POST /containers/{id}/update`: the `Resources` part of a
/// `HostConfig` plus `RestartPolicy`. A zero (or absent) field means
/// "leave as it is", as in moby's `UpdateContainer`; `PidsLimit` is the
/// exception (absent keeps, present sets, `0`/`-1` lift the limit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerUpdateRequest {
    /// Block IO weight (10..=1000).
    #[serde(rename = "BlkioWeight", deserialize_with = "null_default")]
    pub blkio_weight: u16,
    /// Relative CPU weight.
    #[serde(rename = "CpuShares", deserialize_with = "null_default")]
    pub cpu_shares: i64,
    /// CPU quota in units of 1e-9 CPUs (`--cpus`).
    #[serde(rename = "NanoCpus", deserialize_with = "null_default")]
    pub nano_cpus: i64,
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
    /// Memory limit in bytes.
    #[serde(rename = "Memory", deserialize_with = "null_default")]
    pub memory: i64,
    /// Memory plus swap in bytes; -1 unlimited swap.
    #[serde(rename = "MemorySwap", deserialize_with = "null_default")]
    pub memory_swap: i64,
    /// Soft memory limit in bytes.
    #[serde(rename = "MemoryReservation", deserialize_with = "null_default")]
    pub memory_reservation: i64,
    /// Max PIDs; `None` keeps the current one.
    #[serde(rename = "PidsLimit", skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    /// The new restart policy; an empty name keeps the current one.
    #[serde(rename = "RestartPolicy", deserialize_with = "null_default")]
    pub restart_policy: RestartPolicy,
}

impl ContainerUpdateRequest {
    /// The request's resources laid over an empty [`HostConfig`] (what
    /// the create-time checks run on).
    pub fn as_host_config(&self) -> HostConfig {
        HostConfig {
            blkio_weight: self.blkio_weight,
            cpu_shares: self.cpu_shares,
            nano_cpus: self.nano_cpus,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            memory: self.memory,
            memory_swap: self.memory_swap,
            memory_reservation: self.memory_reservation,
            pids_limit: self.pids_limit,
            restart_policy: self.restart_policy.clone(),
            ..HostConfig::default()
        }
    }
}

/// The answer of `POST /containers/{id}/update` (moby
/// `container.UpdateResponse`): `{"Warnings": []}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerUpdateResponse {
    /// Warnings about the update (limits the kernel does not support).
    #[serde(rename = "Warnings", deserialize_with = "null_default")]
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_dockers_body_and_keeps_absent_pids_limit_apart() {
        let body = r#"{"BlkioWeight":0,"CpuShares":512,"Memory":67108864,"MemorySwap":-1,
            "CpusetCpus":"","KernelMemory":0,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}}"#;
        let r: ContainerUpdateRequest = serde_json::from_str(body).unwrap();
        assert_eq!(r.cpu_shares, 512);
        assert_eq!(r.memory, 64 << 20);
        assert_eq!(r.memory_swap, -1);
        assert_eq!(r.pids_limit, None);
        assert_eq!(r.restart_policy.name, "on-failure");
        assert_eq!(r.restart_policy.maximum_retry_count, 3);
        let r: ContainerUpdateRequest =
            serde_json::from_str(r#"{"PidsLimit":0,"RestartPolicy":null}"#).unwrap();
        assert_eq!(r.pids_limit, Some(0));
        assert_eq!(r.restart_policy, RestartPolicy::default());
        let h = r.as_host_config();
        assert_eq!(h.pids_limit, Some(0));
        assert_eq!(h.memory, 0);
    }

    #[test]
    fn answers_warnings_as_a_list() {
        assert_eq!(
            serde_json::to_string(&ContainerUpdateResponse::default()).unwrap(),
            r#"{"Warnings":[]}"#
        );
        let r: ContainerUpdateResponse = serde_json::from_str(r#"{"Warnings":null}"#).unwrap();
        assert!(r.warnings.is_empty());
    }
}
