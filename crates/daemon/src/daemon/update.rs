//! `docker update` (moby `daemon/update.go` and `container.UpdateContainer`):
//! check the new limits as create does, merge them into the stored host
//! config (a zero field keeps the old value), persist it, and when the
//! container is running (or paused) apply them to its live cgroup.
//!
//! moby asks containerd for `task.Update`, which runs `runc update` on the
//! cgroup. Berth's shim protocol has no update call and the daemon already
//! knows where the container's cgroup lives (`cgroupfs`), so it writes the
//! cgroup files itself, in the same order runc does. A container that is
//! not running just gets the new host config, applied at its next start.

use std::path::Path;
use std::sync::Arc;

use berth_api::types::container::{ContainerUpdateRequest, HostConfig};
use berth_errdefs::HasKind;

use super::cgroupfs::ContainerCgroup;
use super::Daemon;
use crate::error::{DaemonError, Result};
use crate::events::action;
use crate::spec::verify_resources;

/// Docker's warning when the host cannot weigh block IO.
pub const BLKIO_WEIGHT_UNSUPPORTED: &str =
    "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.";

/// The CFS period Berth uses for `--cpus` (as the spec builder does).
const NANO_CPUS_PERIOD: i64 = 100_000;

/// moby's `verifyContainerSettings(..., update=true)` for an update body:
/// the create-time resource checks (a swap limit without a memory limit is
/// allowed, the memory may already be set) and the restart policy rules.
pub fn verify_update(request: &ContainerUpdateRequest) -> Result<()> {
    let mut host = request.as_host_config();
    if host.memory == 0 {
        // "always set the Memory limit when using Memoryswap" only holds at
        // create: an update may set the swap of an existing limit.
        host.memory_swap = 0;
    }
    verify_resources(&host)?;
    let policy = &request.restart_policy;
    match policy.name.as_str() {
        "" | "no" | "always" | "unless-stopped" if policy.maximum_retry_count != 0 => {
            Err(DaemonError::invalid(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'",
            ))
        }
        "" | "no" | "always" | "unless-stopped" => Ok(()),
        "on-failure" if policy.maximum_retry_count < 0 => Err(DaemonError::invalid(
            "invalid restart policy: maximum retry count cannot be negative",
        )),
        "on-failure" => Ok(()),
        other => Err(DaemonError::invalid(format!(
            "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
        ))),
    }
}

/// The memory-plus-swap limit dockerd would hold for `host`: what was
/// given, or twice the memory when only memory was (dockerd stores that
/// at create; Berth leaves it 0), or 0 for none.
fn effective_swap(host: &HostConfig) -> i64 {
    if host.memory_swap == 0 && host.memory > 0 {
        host.memory * 2
    } else {
        host.memory_swap
    }
}

/// moby's `UpdateContainer`: `request` laid over `current`, refusing what
/// conflicts with the current settings (in moby's words). A zero field
/// keeps the current value; a `PidsLimit` of 0 or less lifts the limit.
pub fn merge(current: &HostConfig, request: &ContainerUpdateRequest) -> Result<HostConfig> {
    let conflict = |m: &str| Err(DaemonError::Conflict(m.to_string()));
    if request.nano_cpus > 0 && current.cpu_period > 0 {
        return conflict(
            "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set",
        );
    }
    if request.nano_cpus > 0 && current.cpu_quota > 0 {
        return conflict(
            "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set",
        );
    }
    if request.cpu_period > 0 && current.nano_cpus > 0 {
        return conflict(
            "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set",
        );
    }
    if request.cpu_quota > 0 && current.nano_cpus > 0 {
        return conflict(
            "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set",
        );
    }
    let mut h = current.clone();
    if request.blkio_weight != 0 {
        h.blkio_weight = request.blkio_weight;
    }
    if request.cpu_shares != 0 {
        h.cpu_shares = request.cpu_shares;
    }
    if request.nano_cpus != 0 {
        h.nano_cpus = request.nano_cpus;
    }
    if request.cpu_period != 0 {
        h.cpu_period = request.cpu_period;
    }
    if request.cpu_quota != 0 {
        h.cpu_quota = request.cpu_quota;
    }
    if !request.cpuset_cpus.is_empty() {
        h.cpuset_cpus.clone_from(&request.cpuset_cpus);
    }
    if !request.cpuset_mems.is_empty() {
        h.cpuset_mems.clone_from(&request.cpuset_mems);
    }
    if request.memory != 0 {
        if request.memory > effective_swap(current) && request.memory_swap == 0 {
            return conflict(
                "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
            );
        }
        h.memory = request.memory;
    }
    if request.memory_swap != 0 {
        h.memory_swap = request.memory_swap;
    }
    if request.memory_reservation != 0 {
        h.memory_reservation = request.memory_reservation;
    }
    if let Some(p) = request.pids_limit {
        h.pids_limit = Some(p.max(0));
    }
    if !request.restart_policy.name.is_empty() {
        if current.auto_remove && !matches!(request.restart_policy.name.as_str(), "no") {
            return conflict(
                "Restart policy cannot be updated because AutoRemove is enabled for the container",
            );
        }
        h.restart_policy = request.restart_policy.clone();
    }
    Ok(h)
}

/// Whether this host can weigh block IO (v1 `blkio.weight` or
/// `blkio.bfq.weight`, v2 `io.weight` or `io.bfq.weight`).
pub(crate) fn blkio_weight_supported() -> bool {
    [
        "/sys/fs/cgroup/blkio/blkio.weight",
        "/sys/fs/cgroup/blkio/blkio.bfq.weight",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
        || (Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
            && std::fs::read_to_string("/sys/fs/cgroup/cgroup.subtree_control")
                .is_ok_and(|c| c.split_whitespace().any(|c| c == "io")))
}

impl Daemon {
    /// `docker update`: checks `request`, merges it into the container's
    /// host config, persists it, logs `update`, and applies the new limits
    /// to the running container's cgroup. Returns Docker's warnings.
    pub async fn update_container(
        self: &Arc<Self>,
        reference: &str,
        mut request: ContainerUpdateRequest,
    ) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        if request.blkio_weight > 0 && !blkio_weight_supported() {
            warnings.push(BLKIO_WEIGHT_UNSUPPORTED.to_string());
            request.blkio_weight = 0;
        }
        verify_update(&request)?;
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let record = container.record();
        let cannot = |e: DaemonError| cannot_update(&record.id, e);
        if record.state.removal_in_progress || record.state.dead {
            return Err(cannot(DaemonError::Conflict(
                "container is marked for removal and cannot be \"update\"".into(),
            )));
        }
        let before = container.host_config();
        let after = merge(&before, &request).map_err(cannot)?;
        container
            .update_host_config(self.data_root(), |h| *h = after.clone())
            .map_err(cannot)?;
        self.container_event(&container, action::UPDATE, &[]);
        let state = container.record().state;
        if !state.running || state.restarting {
            return Ok(warnings);
        }
        let cgroup = ContainerCgroup::locate(&after, &record.id);
        if let Err(e) = apply(&cgroup, &before, &after, &request) {
            // As moby: the stored config goes back to what the cgroup has.
            let _ = container.update_host_config(self.data_root(), |h| *h = before.clone());
            return Err(cannot(e));
        }
        Ok(warnings)
    }
}

/// moby's `errCannotUpdate`: the cause under `Cannot update container
/// <id>: `, keeping its kind.
fn cannot_update(id: &str, e: DaemonError) -> DaemonError {
    DaemonError::Layer {
        kind: e.kind(),
        message: format!("Cannot update container {id}: {e}"),
    }
}

/// Writes one cgroup file, naming it in the error.
fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    let path = dir.join(file);
    std::fs::write(&path, value)
        .map_err(|e| DaemonError::System(format!("writing {value:?} to {}: {e}", path.display())))
}

/// Applies the fields `request` changed (with their merged values in
/// `after`) to the live cgroup; `before` decides the write order of the
/// memory and swap limits.
fn apply(
    cg: &ContainerCgroup,
    before: &HostConfig,
    after: &HostConfig,
    request: &ContainerUpdateRequest,
) -> Result<()> {
    match cg.v2_dir() {
        Some(dir) => apply_v2(dir, after, request),
        None => apply_v1(cg, before, after, request),
    }
}

/// The v1 files (`memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`,
/// `cpu.shares`, `cpu.cfs_*`, `cpuset.*`, `pids.max`, `blkio.weight`).
fn apply_v1(
    cg: &ContainerCgroup,
    before: &HostConfig,
    after: &HostConfig,
    request: &ContainerUpdateRequest,
) -> Result<()> {
    if let Some(dir) = cg.v1_dir("memory") {
        let memory = (request.memory != 0).then_some(after.memory);
        let swap = (request.memory_swap != 0).then_some(after.memory_swap);
        // The kernel keeps memory <= memory+swap at every step: growing,
        // the swap limit goes first; shrinking, the memory limit does.
        let grows = match (memory, swap) {
            (Some(_), Some(s)) => s == -1 || s > before.memory_swap.max(before.memory),
            _ => false,
        };
        let write_swap = |s: i64| write(dir, "memory.memsw.limit_in_bytes", &s.to_string());
        let write_memory = |m: i64| write(dir, "memory.limit_in_bytes", &m.to_string());
        if grows {
            swap.map(write_swap).transpose()?;
            memory.map(write_memory).transpose()?;
        } else {
            memory.map(write_memory).transpose()?;
            swap.map(write_swap).transpose()?;
        }
        if request.memory_reservation != 0 {
            write(
                dir,
                "memory.soft_limit_in_bytes",
                &after.memory_reservation.to_string(),
            )?;
        }
    }
    if let Some(dir) = cg.v1_dir("cpu") {
        if request.cpu_shares != 0 {
            write(dir, "cpu.shares", &after.cpu_shares.to_string())?;
        }
        let (period, quota) = cfs(after, request);
        if let Some(p) = period {
            write(dir, "cpu.cfs_period_us", &p.to_string())?;
        }
        if let Some(q) = quota {
            write(dir, "cpu.cfs_quota_us", &q.to_string())?;
        }
    }
    if let Some(dir) = cg.v1_dir("cpuset") {
        apply_cpuset(dir, after, request)?;
    }
    if let Some(dir) = cg.v1_dir("pids") {
        if request.pids_limit.is_some() {
            write(dir, "pids.max", &pids_max(after))?;
        }
    }
    if let Some(dir) = cg.v1_dir("blkio") {
        if request.blkio_weight != 0 {
            let file = if dir.join("blkio.weight").exists() {
                "blkio.weight"
            } else {
                "blkio.bfq.weight"
            };
            write(dir, file, &after.blkio_weight.to_string())?;
        }
    }
    Ok(())
}

/// The v2 files (`memory.max`, `memory.swap.max`, `memory.low`,
/// `cpu.weight`, `cpu.max`, `cpuset.*`, `pids.max`, `io.weight`), with
/// runc's conversions from the v1 numbers Docker's API speaks.
fn apply_v2(dir: &Path, after: &HostConfig, request: &ContainerUpdateRequest) -> Result<()> {
    let limit = |v: i64| {
        if v < 0 {
            "max".to_string()
        } else {
            v.to_string()
        }
    };
    if request.memory != 0 {
        write(dir, "memory.max", &limit(after.memory))?;
    }
    if request.memory_swap != 0 || request.memory != 0 {
        // v2 limits the swap alone: Docker's memory+swap minus memory.
        let swap = match after.memory_swap {
            0 => None,
            -1 => Some("max".to_string()),
            s if after.memory > 0 => Some((s - after.memory).max(0).to_string()),
            _ => None,
        };
        if let Some(s) = swap {
            write(dir, "memory.swap.max", &s)?;
        }
    }
    if request.memory_reservation != 0 {
        write(dir, "memory.low", &limit(after.memory_reservation))?;
    }
    if request.cpu_shares != 0 {
        let shares = after.cpu_shares.clamp(2, 262_144);
        let weight = 1 + ((shares - 2) * 9999) / 262_142;
        write(dir, "cpu.weight", &weight.to_string())?;
    }
    let (period, quota) = cfs(after, request);
    if period.is_some() || quota.is_some() {
        let period = period.unwrap_or(NANO_CPUS_PERIOD);
        let quota = quota
            .filter(|q| *q > 0)
            .map_or("max".into(), |q| q.to_string());
        write(dir, "cpu.max", &format!("{quota} {period}"))?;
    }
    apply_cpuset(dir, after, request)?;
    if request.pids_limit.is_some() {
        write(dir, "pids.max", &pids_max(after))?;
    }
    if request.blkio_weight != 0 {
        let w = i64::from(after.blkio_weight);
        let file = if dir.join("io.weight").exists() {
            "io.weight"
        } else {
            "io.bfq.weight"
        };
        let weight = 1 + (w - 10) * 9999 / 990;
        write(dir, file, &format!("default {weight}"))?;
    }
    Ok(())
}

/// The CFS period and quota to write, when the request touched them.
fn cfs(after: &HostConfig, request: &ContainerUpdateRequest) -> (Option<i64>, Option<i64>) {
    if request.nano_cpus != 0 {
        let quota = after.nano_cpus * NANO_CPUS_PERIOD / 1_000_000_000;
        return (Some(NANO_CPUS_PERIOD), Some(quota));
    }
    (
        (request.cpu_period != 0).then_some(after.cpu_period),
        (request.cpu_quota != 0).then_some(after.cpu_quota),
    )
}

fn apply_cpuset(dir: &Path, after: &HostConfig, request: &ContainerUpdateRequest) -> Result<()> {
    if !request.cpuset_cpus.is_empty() {
        write(dir, "cpuset.cpus", &after.cpuset_cpus)?;
    }
    if !request.cpuset_mems.is_empty() {
        write(dir, "cpuset.mems", &after.cpuset_mems)?;
    }
    Ok(())
}

/// `pids.max` for the merged limit: `max` when unlimited.
fn pids_max(after: &HostConfig) -> String {
    match after.pids_limit {
        Some(p) if p > 0 => p.to_string(),
        _ => "max".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::types::container::RestartPolicy;

    fn req(f: impl FnOnce(&mut ContainerUpdateRequest)) -> ContainerUpdateRequest {
        let mut r = ContainerUpdateRequest::default();
        f(&mut r);
        r
    }

    fn err(e: DaemonError) -> String {
        e.to_string()
    }

    #[test]
    fn verify_uses_dockers_messages() {
        verify_update(&req(|r| r.memory = 64 << 20)).unwrap();
        assert_eq!(
            err(verify_update(&req(|r| r.memory = 1 << 20)).unwrap_err()),
            "Minimum memory limit allowed is 6MB"
        );
        // A swap limit alone is fine in an update (not at create).
        verify_update(&req(|r| r.memory_swap = 128 << 20)).unwrap();
        assert_eq!(
            err(verify_update(&req(|r| {
                r.memory = 64 << 20;
                r.memory_swap = 32 << 20;
            }))
            .unwrap_err()),
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        );
        assert_eq!(
            err(verify_update(&req(|r| r.cpu_period = 10)).unwrap_err()),
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
        );
        assert_eq!(
            err(verify_update(&req(|r| r.restart_policy.name = "sometimes".into())).unwrap_err()),
            "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
        );
        assert_eq!(
            err(verify_update(&req(|r| {
                r.restart_policy = RestartPolicy {
                    name: "always".into(),
                    maximum_retry_count: 2,
                }
            }))
            .unwrap_err()),
            "invalid restart policy: maximum retry count can only be used with 'on-failure'"
        );
        assert!(matches!(
            verify_update(&req(|r| r.memory = 1)).unwrap_err().kind(),
            berth_errdefs::ErrorKind::InvalidParameter
        ));
    }

    #[test]
    fn merge_keeps_zero_fields_and_takes_the_rest() {
        let current = HostConfig {
            memory: 64 << 20,
            cpu_shares: 512,
            cpuset_cpus: "0".into(),
            pids_limit: Some(10),
            ..HostConfig::default()
        };
        let h = merge(
            &current,
            &req(|r| {
                r.memory = 100 << 20;
                r.cpu_quota = 50_000;
                r.pids_limit = Some(-1);
                r.restart_policy.name = "unless-stopped".into();
            }),
        )
        .unwrap();
        // 100M is under the 128M dockerd would have as swap (twice 64M).
        assert_eq!(h.memory, 100 << 20);
        assert_eq!(h.cpu_shares, 512);
        assert_eq!(h.cpuset_cpus, "0");
        assert_eq!(h.cpu_quota, 50_000);
        assert_eq!(h.pids_limit, Some(0));
        assert_eq!(h.restart_policy.name, "unless-stopped");
        assert_eq!(merge(&current, &req(|_| {})).unwrap(), current);
    }

    #[test]
    fn merge_refuses_what_conflicts_with_the_container() {
        let nano = HostConfig {
            nano_cpus: 500_000_000,
            ..HostConfig::default()
        };
        assert_eq!(
            err(merge(&nano, &req(|r| r.cpu_quota = 80_000)).unwrap_err()),
            "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"
        );
        // No memory limit yet: a new one needs its swap too, as in Docker.
        let free = HostConfig::default();
        assert_eq!(
            err(merge(&free, &req(|r| r.memory = 64 << 20)).unwrap_err()),
            "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"
        );
        merge(
            &free,
            &req(|r| {
                r.memory = 64 << 20;
                r.memory_swap = -1;
            }),
        )
        .unwrap();
        let rm = HostConfig {
            auto_remove: true,
            ..HostConfig::default()
        };
        let e = merge(&rm, &req(|r| r.restart_policy.name = "always".into())).unwrap_err();
        assert_eq!(
            err(e),
            "Restart policy cannot be updated because AutoRemove is enabled for the container"
        );
        merge(&rm, &req(|r| r.restart_policy.name = "no".into())).unwrap();
    }

    #[test]
    fn cgroup_v1_files_get_the_merged_values() {
        let dir = tempfile::tempdir().unwrap();
        let hier = |c: &str| {
            let d = dir.path().join(c);
            std::fs::create_dir_all(&d).unwrap();
            (vec![c.to_string()], d)
        };
        let cg = ContainerCgroup::from_v1(vec![hier("memory"), hier("cpu"), hier("pids")]);
        let before = HostConfig::default();
        let request = req(|r| {
            r.memory = 64 << 20;
            r.memory_swap = 128 << 20;
            r.nano_cpus = 1_500_000_000;
            r.pids_limit = Some(0);
        });
        let after = merge(&before, &request).unwrap();
        apply(&cg, &before, &after, &request).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(
            read("memory/memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        assert_eq!(
            read("memory/memory.memsw.limit_in_bytes"),
            (128u64 << 20).to_string()
        );
        assert_eq!(read("cpu/cpu.cfs_period_us"), "100000");
        assert_eq!(read("cpu/cpu.cfs_quota_us"), "150000");
        assert_eq!(read("pids/pids.max"), "max");
        assert!(!dir.path().join("cpu/cpu.shares").exists());
    }

    #[test]
    fn cgroup_v2_files_use_runcs_conversions() {
        let dir = tempfile::tempdir().unwrap();
        let before = HostConfig::default();
        let request = req(|r| {
            r.memory = 64 << 20;
            r.memory_swap = 96 << 20;
            r.cpu_shares = 1024;
            r.cpu_quota = 20_000;
            r.cpu_period = 50_000;
        });
        let after = merge(&before, &request).unwrap();
        apply_v2(dir.path(), &after, &request).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(read("memory.max"), (64u64 << 20).to_string());
        assert_eq!(read("memory.swap.max"), (32u64 << 20).to_string());
        assert_eq!(read("cpu.weight"), "39");
        assert_eq!(read("cpu.max"), "20000 50000");
    }
}
