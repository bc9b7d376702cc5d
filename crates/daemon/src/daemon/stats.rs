//! `docker stats` (moby `daemon/stats.go`, `stats_unix.go`,
//! `stats_collector.go`): a snapshot of the container's cgroup (memory, CPU,
//! pids) in Docker's `StatsJSON` shape, one-shot or streamed once per
//! interval.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::error::Result;

use super::cgroupfs::{read_keyed, read_u64, ContainerCgroup};
use super::{now_rfc3339, Container, Daemon, ZERO_TIME};

/// Linux's `USER_HZ`: the unit of `/proc/stat` and `cpuacct.stat`.
const CLOCK_TICKS: u64 = 100;
const NANOS_PER_SEC: u64 = 1_000_000_000;

pub use berth_api::types::container::{
    BlkioStats, CpuStats, CpuUsage, MemoryStats, PidsStats, StatsSnapshot, ThrottlingData,
};

impl Daemon {
    /// One stats sample of the container (`docker stats --no-stream`). A
    /// container that is not running (or is restarting) gets the zeroed
    /// sample, as Docker sends it, not an error.
    pub async fn stats(&self, reference: &str) -> Result<StatsSnapshot> {
        let container = self.get(reference)?;
        Ok(sample(&container).await)
    }

    /// Streams a sample every `interval` (Docker: one second), the first
    /// at once, `precpu_stats` / `preread` carrying the previous one. Ends
    /// when the container stops (after a last zeroed sample, or the only
    /// one if it was not running) or is removed, or when the receiver is
    /// dropped.
    pub fn stats_stream(
        self: &Arc<Self>,
        reference: &str,
        interval: Duration,
    ) -> Result<mpsc::Receiver<StatsSnapshot>> {
        let container = self.get(reference)?;
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(async move {
            let mut lifecycle = container.subscribe();
            let mut previous: Option<StatsSnapshot> = None;
            loop {
                let mut s = sample(&container).await;
                let stopped = s.read == ZERO_TIME;
                if let Some(p) = previous.take() {
                    s.preread = p.read;
                    s.precpu_stats = p.cpu_stats;
                }
                previous = Some(s.clone());
                if tx.send(s).await.is_err() || stopped {
                    return;
                }
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = tokio::time::sleep(interval) => {}
                    changed = lifecycle.changed() => {
                        if changed.is_err() || lifecycle.borrow().removed {
                            return;
                        }
                        // An exit: the next sample is the zeroed last one.
                    }
                }
            }
        });
        Ok(rx)
    }
}

/// Reads the container's cgroup (off the async threads).
async fn sample(container: &Arc<Container>) -> StatsSnapshot {
    let record = container.record();
    if !record.state.running || record.state.restarting {
        return StatsSnapshot::empty(&record.name, &record.id);
    }
    let cgroup = ContainerCgroup::locate(&container.host_config(), &record.id);
    let (name, id) = (record.name, record.id);
    let read = tokio::task::spawn_blocking(move || read_cgroup(&cgroup, &name, &id)).await;
    match read {
        Ok(s) => s,
        Err(_) => {
            let r = container.record();
            StatsSnapshot::empty(&r.name, &r.id)
        }
    }
}

/// Builds a sample from the cgroup files and `/proc`.
fn read_cgroup(cgroup: &ContainerCgroup, name: &str, id: &str) -> StatsSnapshot {
    let mut s = StatsSnapshot::empty(name, id);
    s.read = now_rfc3339();
    let machine_memory = machine_memory();
    if let Some(dir) = cgroup.v2_dir() {
        read_v2(dir, &mut s);
    } else {
        read_v1(cgroup, &mut s);
    }
    if s.memory_stats.limit == 0 || s.memory_stats.limit > machine_memory && machine_memory > 0 {
        s.memory_stats.limit = machine_memory;
    }
    let (system, cpus) = system_cpu();
    s.cpu_stats.system_cpu_usage = system;
    s.cpu_stats.online_cpus = cpus;
    s
}

fn read_v1(cgroup: &ContainerCgroup, s: &mut StatsSnapshot) {
    if let Some(dir) = cgroup.v1_dir("memory") {
        s.memory_stats.usage = read_u64(&dir.join("memory.usage_in_bytes")).unwrap_or(0);
        s.memory_stats.max_usage = read_u64(&dir.join("memory.max_usage_in_bytes")).unwrap_or(0);
        s.memory_stats.failcnt = read_u64(&dir.join("memory.failcnt")).unwrap_or(0);
        s.memory_stats.limit = read_u64(&dir.join("memory.limit_in_bytes")).unwrap_or(0);
        s.memory_stats.stats = read_keyed(&dir.join("memory.stat")).into_iter().collect();
    }
    if let Some(dir) = cgroup.v1_dir("cpuacct") {
        let usage = &mut s.cpu_stats.cpu_usage;
        usage.total_usage = read_u64(&dir.join("cpuacct.usage")).unwrap_or(0);
        usage.percpu_usage = std::fs::read_to_string(dir.join("cpuacct.usage_percpu"))
            .unwrap_or_default()
            .split_ascii_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        for (k, v) in read_keyed(&dir.join("cpuacct.stat")) {
            let ns = v * (NANOS_PER_SEC / CLOCK_TICKS);
            match k.as_str() {
                "user" => usage.usage_in_usermode = ns,
                "system" => usage.usage_in_kernelmode = ns,
                _ => {}
            }
        }
    }
    if let Some(dir) = cgroup.v1_dir("cpu") {
        let t = &mut s.cpu_stats.throttling_data;
        for (k, v) in read_keyed(&dir.join("cpu.stat")) {
            match k.as_str() {
                "nr_periods" => t.periods = v,
                "nr_throttled" => t.throttled_periods = v,
                "throttled_time" => t.throttled_time = v,
                _ => {}
            }
        }
    }
    if let Some(dir) = cgroup.v1_dir("pids") {
        s.pids_stats.current = read_u64(&dir.join("pids.current")).unwrap_or(0);
        s.pids_stats.limit = read_u64(&dir.join("pids.max")).unwrap_or(0);
    }
}

fn read_v2(dir: &Path, s: &mut StatsSnapshot) {
    s.memory_stats.usage = read_u64(&dir.join("memory.current")).unwrap_or(0);
    s.memory_stats.limit = read_u64(&dir.join("memory.max")).unwrap_or(0);
    s.memory_stats.stats = read_keyed(&dir.join("memory.stat")).into_iter().collect();
    let usage = &mut s.cpu_stats.cpu_usage;
    let t = &mut s.cpu_stats.throttling_data;
    for (k, v) in read_keyed(&dir.join("cpu.stat")) {
        match k.as_str() {
            "usage_usec" => usage.total_usage = v * 1000,
            "user_usec" => usage.usage_in_usermode = v * 1000,
            "system_usec" => usage.usage_in_kernelmode = v * 1000,
            "nr_periods" => t.periods = v,
            "nr_throttled" => t.throttled_periods = v,
            "throttled_usec" => t.throttled_time = v * 1000,
            _ => {}
        }
    }
    s.pids_stats.current = read_u64(&dir.join("pids.current")).unwrap_or(0);
    s.pids_stats.limit = read_u64(&dir.join("pids.max")).unwrap_or(0);
}

/// The host's memory (`MemTotal`), which Docker reports as the limit of an
/// unlimited container.
fn machine_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("MemTotal:")?;
            let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0)
}

/// The host's CPU time in nanoseconds (the first seven fields of the
/// `cpu` line of `/proc/stat`) and its online CPUs (the `cpuN` lines), as
/// moby's `getSystemCPUUsage` computes them.
fn system_cpu() -> (u64, u32) {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").unwrap_or_default())
}

fn parse_proc_stat(text: &str) -> (u64, u32) {
    let mut total = 0;
    let mut cpus = 0;
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        match fields.next() {
            Some("cpu") => {
                let ticks: u64 = fields.take(7).filter_map(|f| f.parse::<u64>().ok()).sum();
                total = ticks * (NANOS_PER_SEC / CLOCK_TICKS);
            }
            Some(f) if f.starts_with("cpu") => cpus += 1,
            _ => {}
        }
    }
    (total, cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat() {
        let text = "cpu  10 0 5 100 1 0 0 0 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\ncpu1 5 0 3 50 1 0 0 0 0 0\nintr 1\n";
        assert_eq!(parse_proc_stat(text), (116 * 10_000_000, 2));
    }

    #[test]
    fn zero_time_is_the_api_s() {
        assert_eq!(ZERO_TIME, berth_api::types::container::ZERO_TIME);
    }
}
