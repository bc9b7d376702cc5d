//! A container as `docker inspect` and `docker ps` show it, built from
//! the daemon's record (moby's `containerInspectCurrent` and
//! `refreshImage`/`Snapshot`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use berth_api::types::container::{
    ContainerInspectResponse, ContainerState, ContainerSummary, GraphDriverData, MountPoint,
    NetworkSettings, NetworkSettingsSummary, Port, SummaryHostConfig,
};

use crate::daemon::Daemon;
use crate::error::Result;
use crate::persist::ContainerRecord;

/// The storage driver name Docker reports for overlay snapshots.
const DRIVER: &str = "overlay2";

/// `(Path, Args)`: the process the container runs.
fn command(r: &ContainerRecord) -> (String, Vec<String>) {
    let argv = crate::spec::resolve_command(&r.config).unwrap_or_default();
    match argv.split_first() {
        Some((path, args)) => (path.clone(), args.to_vec()),
        None => (String::new(), Vec::new()),
    }
}

fn state(r: &ContainerRecord) -> ContainerState {
    let s = &r.state;
    ContainerState {
        status: s.status().to_string(),
        running: s.running,
        paused: s.paused,
        restarting: s.restarting,
        oom_killed: s.oom_killed,
        dead: s.dead,
        pid: s.pid.into(),
        exit_code: s.exit_code.into(),
        error: s.error.clone(),
        started_at: s.started_at.clone(),
        finished_at: s.finished_at.clone(),
        health: s.health.clone(),
    }
}

/// `GET /containers/{name}/json`.
pub(crate) fn inspect(daemon: &Daemon, name: &str, size: bool) -> Result<ContainerInspectResponse> {
    let container = daemon.get(name)?;
    let r = container.record();
    let dir = container.dir();
    let (path, args) = command(&r);
    let etc = |f: &str| {
        // The files exist once the container has been started.
        let p = dir.join(f);
        if p.exists() {
            p.display().to_string()
        } else {
            String::new()
        }
    };
    let graph = daemon.images().rootfs(&r.id).ok().map(|s| {
        let lower: Vec<String> = s
            .lower_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        BTreeMap::from([
            ("LowerDir".to_string(), lower.join(":")),
            ("MergedDir".to_string(), s.merged_dir.display().to_string()),
            ("UpperDir".to_string(), s.upper_dir.display().to_string()),
            ("WorkDir".to_string(), s.work_dir.display().to_string()),
        ])
    });
    let (size_rw, size_root_fs) = if size {
        let (rw, root) = sizes(daemon, &r);
        (Some(rw), Some(root))
    } else {
        (None, None)
    };
    Ok(ContainerInspectResponse {
        id: r.id.clone(),
        created: r.created.clone(),
        path,
        args,
        state: Some(state(&r)),
        image: r.image.clone(),
        resolv_conf_path: etc("resolv.conf"),
        hostname_path: etc("hostname"),
        hosts_path: etc("hosts"),
        log_path: container.log_path().display().to_string(),
        name: r.name.clone(),
        restart_count: r.restart_count.into(),
        driver: DRIVER.into(),
        platform: "linux".into(),
        exec_ids: Some(daemon.exec_ids_of(&r.id)).filter(|ids| !ids.is_empty()),
        host_config: Some(container.host_config()),
        graph_driver: GraphDriverData {
            data: graph,
            name: DRIVER.into(),
        },
        size_rw,
        size_root_fs,
        config: Some(r.config.clone()),
        network_settings: Some(inspect_network_settings(&r)),
        mounts: mounts(&r, &container.host_config()),
        ..ContainerInspectResponse::default()
    })
}

/// `Mounts`: the binds and volumes, then `--mount type=tmpfs` ones (moby
/// lists those too, without a source; `--tmpfs` ones it does not).
fn mounts(r: &ContainerRecord, h: &crate::config::HostConfig) -> Vec<MountPoint> {
    let mut out: Vec<MountPoint> = r.mount_points.values().map(|m| m.to_api()).collect();
    out.extend(
        h.mounts
            .iter()
            .flatten()
            .filter(|m| m.kind == "tmpfs")
            .map(|m| MountPoint {
                kind: "tmpfs".into(),
                destination: m.target.clone(),
                rw: !m.read_only,
                ..MountPoint::default()
            }),
    );
    out
}

/// `(SizeRw, SizeRootFs)`: the writable layer, and it plus the image.
pub(crate) fn sizes(daemon: &Daemon, r: &ContainerRecord) -> (i64, i64) {
    let rw = daemon
        .images()
        .rootfs(&r.id)
        .map(|s| crate::daemon::dir_size(&s.upper_dir) as i64)
        .unwrap_or(0);
    let image = daemon
        .images()
        .inspect(&r.image)
        .map(|i| i.size)
        .unwrap_or(0);
    (rw, rw + image)
}

/// `NetworkSettings` as inspect shows it: the record's, with `Ports` an
/// empty map rather than null, as moby sends it.
fn inspect_network_settings(r: &ContainerRecord) -> NetworkSettings {
    let mut ns = r.network_settings.clone();
    ns.ports.get_or_insert_with(Default::default);
    ns.networks.get_or_insert_with(Default::default);
    ns
}

/// `Ports` of a `docker ps` row: published ports with their host side,
/// exposed ones without (moby's order: by private port, then type).
fn summary_ports(r: &ContainerRecord) -> Vec<Port> {
    let mut out = Vec::new();
    for (key, bindings) in r.network_settings.ports.iter().flatten() {
        let (port, kind) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let Ok(private_port) = port.parse::<u16>() else {
            continue;
        };
        match bindings {
            Some(list) if !list.is_empty() => {
                for b in list {
                    out.push(Port {
                        ip: b.host_ip.clone(),
                        private_port,
                        public_port: b.host_port.parse().unwrap_or(0),
                        kind: kind.to_string(),
                    });
                }
            }
            _ => out.push(Port {
                ip: String::new(),
                private_port,
                public_port: 0,
                kind: kind.to_string(),
            }),
        }
    }
    out.sort_by(|a, b| (a.private_port, &a.kind).cmp(&(b.private_port, &b.kind)));
    out
}

/// One row of `GET /containers/json`.
pub(crate) fn summary(daemon: &Daemon, r: &ContainerRecord, now: SystemTime) -> ContainerSummary {
    let (path, args) = command(r);
    let command = if args.is_empty() {
        path
    } else {
        format!("{path} {}", args.join(" "))
    };
    let created = humantime::parse_rfc3339(&r.created)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    let network_mode = daemon
        .get(&r.id)
        .map(|c| c.host_config().network_mode.clone())
        .ok()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "default".into());
    ContainerSummary {
        id: r.id.clone(),
        names: vec![r.name.clone()],
        image: r.config.image.clone(),
        image_id: r.image.clone(),
        command,
        created,
        labels: Some(r.config.labels.clone().unwrap_or_default()),
        state: r.state.status().to_string(),
        status: r.state.describe(now),
        host_config: SummaryHostConfig {
            network_mode,
            ..SummaryHostConfig::default()
        },
        ports: summary_ports(r),
        mounts: r.mount_points.values().map(|m| m.to_api()).collect(),
        network_settings: Some(NetworkSettingsSummary {
            networks: Some(r.network_settings.networks.clone().unwrap_or_default()),
        }),
        ..ContainerSummary::default()
    }
}
