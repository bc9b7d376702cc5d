//! [`SystemBackend`] over the daemon: version, info (from the host and the
//! daemon's state), the event stream, and disk usage.

use std::time::SystemTime;

use async_trait::async_trait;
use berth_api::server::{ApiError, BoxStream, EventsOptions, SystemBackend};
use berth_api::types::df::{DiskUsage, DiskUsageOptions, VolumeUsage, VolumeUsageData};
use berth_api::types::events::Message;
use berth_api::types::system::{
    ComponentVersion, PlatformInfo, SystemInfo, SystemVersion, API_VERSION, MIN_API_VERSION,
};

use super::{api_error, inspect, ApiBackend};
use crate::events::{parse_event_time, EventFilter};

/// Berth's version, reported as the engine's.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Go's name for this machine's architecture (`amd64`, `arm64`, ...).
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

fn kernel_version() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `PRETTY_NAME` and `VERSION_ID` of /etc/os-release.
fn operating_system() -> (String, String) {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    (get("PRETTY_NAME"), get("VERSION_ID"))
}

fn mem_total() -> i64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn cgroup_version() -> &'static str {
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2"
    } else {
        "1"
    }
}

#[async_trait]
impl SystemBackend for ApiBackend {
    async fn version(&self) -> Result<SystemVersion, ApiError> {
        let engine = ComponentVersion {
            name: "Engine".into(),
            version: VERSION.into(),
            details: Some(
                [
                    ("ApiVersion", API_VERSION),
                    ("MinAPIVersion", MIN_API_VERSION),
                    ("Os", "linux"),
                    ("Arch", go_arch()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .chain([("KernelVersion".to_string(), kernel_version())])
                .collect(),
            ),
        };
        Ok(SystemVersion {
            platform: PlatformInfo {
                name: "Berth Engine".into(),
            },
            components: Some(vec![engine]),
            version: VERSION.into(),
            api_version: API_VERSION.into(),
            min_api_version: MIN_API_VERSION.into(),
            os: "linux".into(),
            arch: go_arch().into(),
            kernel_version: kernel_version(),
            ..SystemVersion::default()
        })
    }

    async fn info(&self) -> Result<SystemInfo, ApiError> {
        let d = &self.daemon;
        let records: Vec<_> = d.list().iter().map(|c| c.record()).collect();
        let running = records
            .iter()
            .filter(|r| r.state.running && !r.state.paused)
            .count();
        let paused = records.iter().filter(|r| r.state.paused).count();
        let (os, os_version) = operating_system();
        Ok(SystemInfo {
            containers: records.len() as i64,
            containers_running: running as i64,
            containers_paused: paused as i64,
            containers_stopped: (records.len() - running - paused) as i64,
            images: d.images().list_images().len() as i64,
            driver: "overlay2".into(),
            memory_limit: true,
            swap_limit: true,
            cpu_cfs_period: true,
            cpu_cfs_quota: true,
            cpu_shares: true,
            cpu_set: true,
            pids_limit: true,
            oom_kill_disable: cgroup_version() == "1",
            system_time: crate::daemon::now_rfc3339(),
            logging_driver: "json-file".into(),
            cgroup_driver: "cgroupfs".into(),
            cgroup_version: cgroup_version().into(),
            n_events_listener: d.events().subscriber_count() as i64,
            kernel_version: kernel_version(),
            operating_system: os,
            os_version,
            os_type: "linux".into(),
            architecture: std::env::consts::ARCH.into(),
            ncpu: std::thread::available_parallelism().map_or(1, |n| n.get() as i64),
            mem_total: mem_total(),
            docker_root_dir: d.data_root().display().to_string(),
            name: hostname(),
            server_version: VERSION.into(),
            default_runtime: "berth".into(),
            ..SystemInfo::default()
        })
    }

    async fn events(&self, options: EventsOptions) -> Result<BoxStream<Message>, ApiError> {
        let now = SystemTime::now();
        let since = parse_event_time(&options.since, now).map_err(api_error)?;
        let until = parse_event_time(&options.until, now).map_err(api_error)?;
        if let (Some(s), Some(u)) = (since, until) {
            if u < s {
                return Err(ApiError::invalid(format!(
                    "`since` time ({}) cannot be after `until` time ({})",
                    options.since, options.until
                )));
            }
        }
        let filter = EventFilter::from_filters(options.filters).map_err(api_error)?;
        let (replay, sub) = self.daemon.events().subscribe(filter, since, until);
        let live = futures_util::stream::unfold(sub, |mut sub| async move {
            sub.next().await.map(|m| (m, sub))
        });
        Ok(Box::pin(futures_util::StreamExt::chain(
            futures_util::stream::iter(replay),
            live,
        )))
    }

    async fn disk_usage(&self, options: DiskUsageOptions) -> Result<DiskUsage, ApiError> {
        let d = &self.daemon;
        let mut du = DiskUsage::default();
        if options.images {
            let images = d.images_disk_usage();
            du.layers_size = images.layers_size;
            du.images = Some(images.images);
        }
        if options.containers {
            let now = SystemTime::now();
            let mut rows: Vec<_> = d
                .list()
                .iter()
                .map(|c| {
                    let r = c.record();
                    let mut row = inspect::summary(d, &r, now);
                    (row.size_rw, row.size_root_fs) = inspect::sizes(d, &r);
                    row
                })
                .collect();
            rows.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
            du.containers = Some(rows);
        }
        if options.volumes {
            let usage = d.volumes_usage().await.map_err(api_error)?;
            du.volumes = Some(
                usage
                    .into_iter()
                    .map(|u| VolumeUsage {
                        name: u.volume.name,
                        driver: u.volume.driver,
                        mountpoint: u.volume.mountpoint.to_string_lossy().into_owned(),
                        labels: Some(u.volume.labels).filter(|l| !l.is_empty()),
                        scope: "local".into(),
                        usage_data: Some(VolumeUsageData {
                            size: u.size as i64,
                            ref_count: u.ref_count as i64,
                        }),
                    })
                    .collect(),
            );
        }
        // No builder yet: no build cache on disk.
        if options.build_cache {
            du.build_cache = Some(Vec::new());
        }
        Ok(du)
    }
}
