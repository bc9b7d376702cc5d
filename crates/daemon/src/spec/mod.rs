//! Building a container's OCI runtime spec, the way moby's
//! `daemon/oci_linux.go` layers its options over `oci/defaults.go`:
//! image config merged with the container's `Config`, then `HostConfig`
//! (capabilities, namespaces, mounts, resources, rlimits, sysctls, security
//! options) and the three `/etc` files from the container's directory.

pub mod caps;
pub mod defaults;
pub mod etc;
pub mod init;
pub mod seccomp;
pub mod sysctl;
pub mod user;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use berth_image::config::{ContainerConfig, ImageConfigFile};
use oci_spec::runtime::{
    LinuxBlockIo, LinuxCapabilities, LinuxCpu, LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType,
    LinuxMemory, LinuxNamespace, LinuxNamespaceType, LinuxPids, LinuxResources, Mount, PosixRlimit,
    PosixRlimitBuilder, PosixRlimitType, Process, Root, Spec,
};

use crate::config::{Config, HealthConfig, HostConfig, StrSlice};
use crate::error::{DaemonError, Result};
use crate::ids::truncate_id;

pub use etc::{EtcFiles, EtcPaths};
pub use user::ExecUser;

/// The OCI runtime-spec version the generated specs declare.
pub const OCI_VERSION: &str = "1.2.0";

/// Smallest memory limit Docker accepts (6 MiB).
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// Everything a spec is built from.
#[derive(Debug, Clone)]
pub struct SpecInput<'a> {
    /// The container's full ID.
    pub id: &'a str,
    /// The image's config blob (its `config` section supplies the defaults).
    pub image: &'a ImageConfigFile,
    /// The container's `Config` as created (merged with the image or not:
    /// merging is idempotent).
    pub config: &'a Config,
    /// The container's `HostConfig`.
    pub host_config: &'a HostConfig,
    /// The mounted root filesystem (host path).
    pub rootfs: &'a Path,
    /// The container's directory: `hostname`, `hosts` and `resolv.conf` are
    /// written here and bind-mounted.
    pub container_dir: &'a Path,
    /// The host file `resolv.conf` is derived from (default `/etc/resolv.conf`).
    pub host_resolv_conf: &'a Path,
    /// The container's IP address, if networking assigned one.
    pub ip: Option<IpAddr>,
    /// The network namespace to join (a pinned sandbox, or another
    /// container's); a new one is created when `None` and the mode wants one.
    pub netns_path: Option<&'a Path>,
    /// The embedded resolver (127.0.0.11) serves the container's DNS.
    pub embedded_dns: bool,
    /// `--network container:<x>`: the directory holding x's `hostname`,
    /// `hosts` and `resolv.conf`, bind-mounted instead of the container's own.
    pub shared_etc: Option<&'a Path>,
    /// The address `--add-host name:host-gateway` maps to.
    pub host_gateway: Option<IpAddr>,
    /// The container's binds and volumes as OCI bind mounts, made ready by
    /// the daemon from its mount points (parents first).
    pub binds: Vec<Mount>,
    /// The daemon's `--init` settings; `None` (a daemon without an init
    /// binary) refuses `HostConfig.Init: true`.
    pub init: Option<&'a init::InitOptions>,
}

impl<'a> SpecInput<'a> {
    /// An input with the host's `/etc/resolv.conf` and no IP address.
    pub fn new(
        id: &'a str,
        image: &'a ImageConfigFile,
        config: &'a Config,
        host_config: &'a HostConfig,
        rootfs: &'a Path,
        container_dir: &'a Path,
    ) -> Self {
        SpecInput {
            id,
            image,
            config,
            host_config,
            rootfs,
            container_dir,
            host_resolv_conf: Path::new("/etc/resolv.conf"),
            ip: None,
            netns_path: None,
            embedded_dns: false,
            shared_etc: None,
            host_gateway: None,
            binds: Vec::new(),
            init: None,
        }
    }
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map_or(e, |(k, _)| k)
}

/// moby's `ReplaceOrAppendEnvValues`: each override replaces the default
/// with the same key or is appended; an override without `=` unsets the key.
pub fn replace_or_append_env(defaults: &[String], overrides: &[String]) -> Vec<String> {
    let mut out: Vec<Option<String>> = defaults.iter().cloned().map(Some).collect();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, e) in defaults.iter().enumerate() {
        index.insert(env_key(e).to_string(), i);
    }
    for o in overrides {
        if !o.contains('=') {
            if let Some(&i) = index.get(o.as_str()) {
                out[i] = None;
            }
            continue;
        }
        let key = env_key(o).to_string();
        match index.get(&key) {
            Some(&i) => out[i] = Some(o.clone()),
            None => {
                index.insert(key, out.len());
                out.push(Some(o.clone()));
            }
        }
    }
    out.into_iter().flatten().collect()
}

/// The image's environment overridden, key by key, by the container's.
pub fn merge_env(image_env: &[String], container_env: &[String]) -> Vec<String> {
    replace_or_append_env(image_env, container_env)
}

/// Fills `config` from the image's defaults, as moby's `merge` does at
/// create time: User, Env (container wins per key), ExposedPorts, Volumes,
/// Labels, StopSignal, Healthcheck, WorkingDir, and Entrypoint/Cmd — when
/// the container sets no Entrypoint it inherits the image's, and the
/// image's Cmd when it sets no Cmd either; a container Entrypoint drops the
/// image's Cmd. Idempotent.
pub fn merge_image_config(config: &mut Config, image: &ContainerConfig) {
    if config.user.is_empty() {
        config.user = image.user.clone().unwrap_or_default();
    }
    if let Some(img_env) = &image.env {
        let c = config.env.take().unwrap_or_default();
        config.env = Some(merge_env(img_env, &c));
    }
    if let Some(ports) = &image.exposed_ports {
        let mine = config.exposed_ports.get_or_insert_with(BTreeMap::new);
        for (k, v) in ports {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(vols) = &image.volumes {
        let mine = config.volumes.get_or_insert_with(BTreeMap::new);
        for (k, v) in vols {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(labels) = &image.labels {
        let mine = config.labels.get_or_insert_with(BTreeMap::new);
        for (k, v) in labels {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if config.stop_signal.is_empty() {
        config.stop_signal = image.stop_signal.clone().unwrap_or_default();
    }
    if let Some(from_image) = image
        .healthcheck
        .as_ref()
        .and_then(|h| serde_json::from_value::<HealthConfig>(h.clone()).ok())
    {
        merge_healthcheck(&mut config.healthcheck, from_image);
    }
    if config.working_dir.is_empty() {
        config.working_dir = image.working_dir.clone().unwrap_or_default();
    }
    let ep_empty = config.entrypoint.as_ref().is_none_or(StrSlice::is_empty);
    if ep_empty {
        if config.cmd.as_ref().is_none_or(StrSlice::is_empty) {
            config.cmd = image.cmd.clone().map(StrSlice);
            config.args_escaped = image.args_escaped.unwrap_or(false);
        }
        if config.entrypoint.is_none() {
            config.entrypoint = image.entrypoint.clone().map(StrSlice);
        }
    }
}

/// The image's health check fills what the container's leaves unset, field
/// by field (moby's `merge`).
fn merge_healthcheck(mine: &mut Option<HealthConfig>, image: HealthConfig) {
    let Some(m) = mine else {
        *mine = Some(image);
        return;
    };
    if m.test.as_ref().is_none_or(Vec::is_empty) {
        m.test = image.test;
    }
    let fill = |v: &mut i64, from: i64| {
        if *v == 0 {
            *v = from;
        }
    };
    fill(&mut m.interval, image.interval);
    fill(&mut m.timeout, image.timeout);
    fill(&mut m.start_period, image.start_period);
    fill(&mut m.start_interval, image.start_interval);
    fill(&mut m.retries, image.retries);
}

/// The process arguments of a merged config: Entrypoint then Cmd. An
/// Entrypoint of exactly `[""]` (the CLI's `--entrypoint ""`) clears the
/// entrypoint. Nothing to run is InvalidParameter `no command specified`.
pub fn resolve_command(config: &Config) -> Result<Vec<String>> {
    let ep = config
        .entrypoint
        .as_ref()
        .map(|s| s.0.as_slice())
        .unwrap_or_default();
    let cmd = config
        .cmd
        .as_ref()
        .map(|s| s.0.as_slice())
        .unwrap_or_default();
    let mut args: Vec<String> = if ep == [String::new()] {
        Vec::new()
    } else {
        ep.to_vec()
    };
    args.extend(cmd.iter().cloned());
    if args.first().is_none_or(|a| a.is_empty()) {
        return Err(DaemonError::invalid("no command specified"));
    }
    Ok(args)
}

/// The working directory of a merged config: its `WorkingDir` cleaned, or
/// `/`. A relative one is InvalidParameter with moby's message.
pub fn resolve_working_dir(config: &Config) -> Result<String> {
    let wd = &config.working_dir;
    if wd.is_empty() {
        return Ok("/".to_string());
    }
    if !wd.starts_with('/') {
        return Err(DaemonError::invalid(format!(
            "the working directory '{wd}' is invalid, it needs to be an absolute path"
        )));
    }
    let mut parts: Vec<&str> = Vec::new();
    for p in wd.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// Creates the container's working directory `cwd` inside `rootfs` when the
/// image lacks it (mode 0755, owned by root), as moby's
/// `SetupWorkingDirectory` does at start. Symlinks resolve as inside the
/// container, so a link cannot place it outside the rootfs; an existing
/// non-directory is InvalidParameter with moby's message.
pub fn ensure_working_dir(rootfs: &Path, cwd: &str) -> Result<()> {
    let host = user::resolve_in_root(rootfs, Path::new(cwd))?;
    match std::fs::metadata(&host) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(DaemonError::invalid(format!(
            "Cannot mkdir: {cwd} is not a directory"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(&host)
                .map_err(|e| DaemonError::io(format!("creating the working directory {cwd}"), e))
        }
        Err(e) => Err(DaemonError::io(
            format!("checking the working directory {cwd}"),
            e,
        )),
    }
}

/// The hostname a container gets: `Config.Hostname`, else the host's when
/// it shares the host's network, else the first 12 characters of its ID.
pub fn resolve_hostname(id: &str, config: &Config, host_config: &HostConfig) -> String {
    if !config.hostname.is_empty() {
        return config.hostname.clone();
    }
    if host_config.network_mode == "host" {
        if let Ok(h) = nix::unistd::gethostname() {
            return h.to_string_lossy().into_owned();
        }
    }
    truncate_id(id).to_string()
}

/// Security options as moby parses `--security-opt`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityOptions {
    /// `no-new-privileges[=true]`.
    pub no_new_privileges: bool,
    /// `systempaths=unconfined`: no masked or read-only paths.
    pub unconfined_paths: bool,
    /// `seccomp=<profile>` as given: `unconfined`, `builtin` or the profile's
    /// JSON (checked to decode; applied by `build_spec`).
    pub seccomp: Option<String>,
    /// `apparmor=<profile>` as given (not applied yet).
    pub apparmor: Option<String>,
}

/// Parses `HostConfig.SecurityOpt`; bad entries are InvalidParameter with
/// moby's `invalid --security-opt ...` messages.
pub fn parse_security_opts(opts: &[String]) -> Result<SecurityOptions> {
    let mut out = SecurityOptions::default();
    for opt in opts {
        if opt == "no-new-privileges" {
            out.no_new_privileges = true;
            continue;
        }
        if opt == "disable" {
            continue;
        }
        let kv = opt.split_once('=').or_else(|| opt.split_once(':'));
        let Some((k, v)) = kv else {
            return Err(DaemonError::invalid(format!(
                "invalid --security-opt 1: {opt:?}"
            )));
        };
        match k {
            "label" => {}
            "apparmor" => out.apparmor = Some(v.to_string()),
            "seccomp" => {
                seccomp::validate_option(v)?;
                out.seccomp = Some(v.to_string());
            }
            "no-new-privileges" => {
                out.no_new_privileges = match v {
                    "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
                    "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
                    _ => {
                        return Err(DaemonError::invalid(format!(
                            "invalid --security-opt 2: {opt:?}"
                        )))
                    }
                }
            }
            "systempaths" if v == "unconfined" => out.unconfined_paths = true,
            "writable-cgroups" => {}
            _ => {
                return Err(DaemonError::invalid(format!(
                    "invalid --security-opt 2: {opt:?}"
                )))
            }
        }
    }
    Ok(out)
}

/// Checks resource settings the way moby's `verifyPlatformContainerResources`
/// does (the host-independent checks).
pub fn verify_resources(h: &HostConfig) -> Result<()> {
    let bad = |m: String| Err(DaemonError::invalid(m));
    if h.memory != 0 && h.memory < MIN_MEMORY {
        return bad("Minimum memory limit allowed is 6MB".into());
    }
    if h.memory_swap > 0 && h.memory == 0 {
        return bad(
            "You should always set the Memory limit when using Memoryswap limit, see usage".into(),
        );
    }
    if h.memory > 0 && h.memory_swap > 0 && h.memory_swap < h.memory {
        return bad(
            "Minimum memoryswap limit should be larger than memory limit, see usage".into(),
        );
    }
    if h.memory_reservation != 0 && h.memory_reservation < MIN_MEMORY {
        return bad("Minimum memory reservation allowed is 6MB".into());
    }
    if h.memory > 0 && h.memory_reservation > 0 && h.memory < h.memory_reservation {
        return bad(
            "Minimum memory limit can not be less than memory reservation limit, see usage".into(),
        );
    }
    if let Some(s) = h.memory_swappiness {
        if s != -1 && !(0..=100).contains(&s) {
            return bad(format!(
                "Invalid value: {s}, valid memory swappiness range is 0-100"
            ));
        }
    }
    if h.nano_cpus > 0 && h.cpu_period > 0 {
        return bad("Conflicting options: Nano CPUs and CPU Period cannot both be set".into());
    }
    if h.nano_cpus > 0 && h.cpu_quota > 0 {
        return bad("Conflicting options: Nano CPUs and CPU Quota cannot both be set".into());
    }
    if h.nano_cpus < 0 {
        return bad("Range of CPUs is from 0.01 to the number of CPUs available".into());
    }
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    if h.nano_cpus > ncpu * 1_000_000_000 {
        return bad(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        ));
    }
    if h.cpu_period != 0 && !(1000..=1_000_000).contains(&h.cpu_period) {
        return bad(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
                .into(),
        );
    }
    if h.cpu_quota > 0 && h.cpu_quota < 1000 {
        return bad("CPU cfs quota can not be less than 1ms (i.e. 1000)".into());
    }
    if h.cpu_shares < 0 {
        return bad(format!(
            "invalid CPU shares ({}): value must be a positive integer",
            h.cpu_shares
        ));
    }
    if h.blkio_weight > 0 && !(10..=1000).contains(&h.blkio_weight) {
        return bad("Range of blkio weight is from 10 to 1000".into());
    }
    if !(-1000..=1000).contains(&h.oom_score_adj) {
        return bad(format!(
            "Invalid value {}, range for oom score adj is [-1000, 1000]",
            h.oom_score_adj
        ));
    }
    if h.shm_size < 0 {
        return bad("SHM size can not be less than 0".into());
    }
    Ok(())
}

/// The OCI resources for a host config: memory, CPU (NanoCpus become a
/// 100ms period and the matching quota), cpuset, pids, block IO weight and
/// the device rules.
pub fn build_resources(h: &HostConfig, device_rules: Vec<LinuxDeviceCgroup>) -> LinuxResources {
    let mut r = LinuxResources::default();
    r.set_devices(Some(device_rules));

    let mut mem = LinuxMemory::default();
    let mut any_mem = false;
    if h.memory != 0 {
        mem.set_limit(Some(h.memory));
        any_mem = true;
    }
    if h.memory_reservation != 0 {
        mem.set_reservation(Some(h.memory_reservation));
        any_mem = true;
    }
    if h.memory_swap != 0 {
        mem.set_swap(Some(h.memory_swap));
        any_mem = true;
    }
    if let Some(s) = h.memory_swappiness.filter(|s| *s >= 0) {
        mem.set_swappiness(Some(s as u64));
        any_mem = true;
    }
    if let Some(d) = h.oom_kill_disable {
        mem.set_disable_oom_killer(Some(d));
        any_mem = true;
    }
    if any_mem {
        r.set_memory(Some(mem));
    }

    let mut cpu = LinuxCpu::default();
    let mut any_cpu = false;
    if h.cpu_shares != 0 {
        cpu.set_shares(Some(h.cpu_shares as u64));
        any_cpu = true;
    }
    if h.nano_cpus > 0 {
        let period: u64 = 100_000;
        cpu.set_period(Some(period));
        cpu.set_quota(Some(h.nano_cpus * period as i64 / 1_000_000_000));
        any_cpu = true;
    } else {
        if h.cpu_period != 0 {
            cpu.set_period(Some(h.cpu_period as u64));
            any_cpu = true;
        }
        if h.cpu_quota != 0 {
            cpu.set_quota(Some(h.cpu_quota));
            any_cpu = true;
        }
    }
    if !h.cpuset_cpus.is_empty() {
        cpu.set_cpus(Some(h.cpuset_cpus.clone()));
        any_cpu = true;
    }
    if !h.cpuset_mems.is_empty() {
        cpu.set_mems(Some(h.cpuset_mems.clone()));
        any_cpu = true;
    }
    if any_cpu {
        r.set_cpu(Some(cpu));
    }

    if let Some(limit) = h.pids_limit {
        let mut p = LinuxPids::default();
        p.set_limit(if limit <= 0 { -1 } else { limit });
        r.set_pids(Some(p));
    }
    if h.blkio_weight != 0 {
        let mut b = LinuxBlockIo::default();
        b.set_weight(Some(h.blkio_weight));
        r.set_block_io(Some(b));
    }
    r
}

/// `HostConfig.Ulimits` as OCI rlimits (`nofile` -> `RLIMIT_NOFILE`).
pub fn build_rlimits(h: &HostConfig) -> Result<Vec<PosixRlimit>> {
    let mut out = Vec::new();
    for u in h.ulimits.as_deref().unwrap_or_default() {
        let name = format!("RLIMIT_{}", u.name.to_uppercase());
        let typ: PosixRlimitType = name
            .parse()
            .map_err(|_| DaemonError::invalid(format!("invalid ulimit type: {}", u.name)))?;
        if u.soft > u.hard {
            return Err(DaemonError::invalid(format!(
                "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                u.soft, u.hard
            )));
        }
        let r = PosixRlimitBuilder::default()
            .typ(typ)
            .soft(u.soft as u64)
            .hard(u.hard as u64)
            .build()
            .map_err(|e| DaemonError::System(format!("building rlimit: {e}")))?;
        out.push(r);
    }
    Ok(out)
}

fn namespace(kind: LinuxNamespaceType) -> LinuxNamespace {
    let mut ns = LinuxNamespace::default();
    ns.set_typ(kind);
    ns
}

/// The namespaces a container gets: mount always; pid, ipc, uts, network and
/// cgroup unless the matching mode is `host`. Whether a named network
/// exists is the network layer's to say; `container:<x>` gets a network
/// namespace whose path the daemon fills in. Other `container:` modes are
/// not supported yet.
pub fn build_namespaces(h: &HostConfig) -> Result<Vec<LinuxNamespace>> {
    let mut out = vec![namespace(LinuxNamespaceType::Mount)];
    let unsupported = |what: &str, mode: &str| {
        Err(DaemonError::invalid(format!(
            "{what} mode {mode:?} is not supported yet"
        )))
    };
    match h.pid_mode.as_str() {
        "" | "private" => out.push(namespace(LinuxNamespaceType::Pid)),
        "host" => {}
        m => return unsupported("pid", m),
    }
    match h.ipc_mode.as_str() {
        "" | "private" | "shareable" | "none" => out.push(namespace(LinuxNamespaceType::Ipc)),
        "host" => {}
        m => return unsupported("ipc", m),
    }
    match h.uts_mode.as_str() {
        "" => out.push(namespace(LinuxNamespaceType::Uts)),
        "host" => {}
        m => return unsupported("uts", m),
    }
    match h.network_mode.as_str() {
        "host" => {}
        "container:" => {
            return Err(DaemonError::invalid(
                "invalid network mode: container: needs a container name or ID",
            ))
        }
        _ => out.push(namespace(LinuxNamespaceType::Network)),
    }
    match h.cgroupns_mode.as_str() {
        "" | "private" => out.push(namespace(LinuxNamespaceType::Cgroup)),
        "host" => {}
        m => {
            return Err(DaemonError::invalid(format!(
                "invalid cgroup namespace mode: {m}"
            )))
        }
    }
    match h.userns_mode.as_str() {
        "" | "host" => {}
        m => return unsupported("userns", m),
    }
    Ok(out)
}

fn bind_mount(src: &str, dst: &str, read_only: bool, propagation: &str) -> Mount {
    let rw = if read_only { "ro" } else { "rw" };
    defaults::mount(dst, "bind", src, &["rbind", rw, propagation])
}

fn check_target(dst: &str, kind: &str) -> Result<()> {
    crate::daemon::mounts::check_destination(dst, kind).map_err(DaemonError::invalid)
}

fn tmpfs_options(user: &str) -> Vec<String> {
    let user: Vec<&str> = user.split(',').filter(|o| !o.is_empty()).collect();
    let mut out: Vec<String> = ["noexec", "nosuid", "nodev"]
        .iter()
        .filter(|d| !user.contains(&&d[2..]))
        .map(|s| s.to_string())
        .collect();
    out.extend(user.iter().map(|s| s.to_string()));
    out
}

/// User mounts: `binds` (the container's binds and volumes, ready), then
/// tmpfs from `Mounts` and `Tmpfs`. A destination given twice is
/// InvalidParameter `Duplicate mount point: <dst>`.
pub fn build_user_mounts(h: &HostConfig, binds: &[Mount]) -> Result<Vec<Mount>> {
    let mut out: Vec<Mount> = binds.to_vec();
    for m in h.mounts.as_deref().unwrap_or_default() {
        if m.kind != "tmpfs" {
            // Binds and volumes are mount points, already in `binds`.
            continue;
        }
        check_target(&m.target, &m.kind)?;
        let mut opts = tmpfs_options("");
        if let Some(o) = &m.tmpfs_options {
            if let Some(sz) = o
                .get("SizeBytes")
                .and_then(|v| v.as_i64())
                .filter(|v| *v > 0)
            {
                opts.push(format!("size={sz}"));
            }
            if let Some(mode) = o.get("Mode").and_then(|v| v.as_u64()).filter(|v| *v > 0) {
                opts.push(format!("mode={mode:o}"));
            }
        }
        if m.read_only {
            opts.push("ro".into());
        }
        let refs: Vec<&str> = opts.iter().map(String::as_str).collect();
        out.push(defaults::mount(&m.target, "tmpfs", "tmpfs", &refs));
    }
    for (dst, opts) in h.tmpfs.iter().flatten() {
        check_target(dst, "tmpfs")?;
        let opts = tmpfs_options(opts);
        let refs: Vec<&str> = opts.iter().map(String::as_str).collect();
        out.push(defaults::mount(dst, "tmpfs", "tmpfs", &refs));
    }
    let mut seen = std::collections::HashSet::new();
    for m in &out {
        if !seen.insert(m.destination().clone()) {
            return Err(DaemonError::invalid(format!(
                "Duplicate mount point: {}",
                m.destination().display()
            )));
        }
    }
    Ok(out)
}

/// `HostConfig.Devices` as OCI devices plus the cgroup rules allowing them.
pub fn build_devices(h: &HostConfig) -> Result<(Vec<LinuxDevice>, Vec<LinuxDeviceCgroup>)> {
    use nix::sys::stat::{major, minor, stat, SFlag};
    let mut devs = Vec::new();
    let mut rules = Vec::new();
    for d in h.devices.as_deref().unwrap_or_default() {
        let fail = |e: String| {
            DaemonError::invalid(format!(
                "error gathering device information while adding custom device {:?}: {e}",
                d.path_on_host
            ))
        };
        let st = stat(d.path_on_host.as_str()).map_err(|e| fail(e.desc().to_string()))?;
        let fmt = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        let kind = if fmt == SFlag::S_IFCHR {
            LinuxDeviceType::C
        } else if fmt == SFlag::S_IFBLK {
            LinuxDeviceType::B
        } else {
            return Err(fail("not a device node".into()));
        };
        let path = if d.path_in_container.is_empty() {
            d.path_on_host.clone()
        } else {
            d.path_in_container.clone()
        };
        let perms = if d.cgroup_permissions.is_empty() {
            "rwm".to_string()
        } else {
            d.cgroup_permissions.clone()
        };
        if !perms.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
            return Err(DaemonError::invalid(format!(
                "invalid device mode: {perms}"
            )));
        }
        let (maj, min) = (major(st.st_rdev) as i64, minor(st.st_rdev) as i64);
        let mut dev = LinuxDevice::default();
        dev.set_path(PathBuf::from(path));
        dev.set_typ(kind);
        dev.set_major(maj);
        dev.set_minor(min);
        dev.set_file_mode(Some(st.st_mode & 0o777));
        dev.set_uid(Some(st.st_uid));
        dev.set_gid(Some(st.st_gid));
        devs.push(dev);
        let mut rule = LinuxDeviceCgroup::default();
        rule.set_allow(true);
        rule.set_typ(Some(kind));
        rule.set_major(Some(maj));
        rule.set_minor(Some(min));
        rule.set_access(Some(perms));
        rules.push(rule);
    }
    Ok((devs, rules))
}

/// Builds the container's OCI spec and writes its `/etc/hostname`,
/// `/etc/hosts` and `/etc/resolv.conf` into `input.container_dir`.
pub fn build_spec(input: &SpecInput<'_>) -> Result<Spec> {
    let h = input.host_config;
    let mut config = input.config.clone();
    if let Some(img) = &input.image.config {
        merge_image_config(&mut config, img);
    }

    // Validation first: nothing is written for an invalid container.
    verify_resources(h)?;
    if h.uts_mode == "host" && !config.hostname.is_empty() {
        return Err(DaemonError::invalid(
            "conflicting options: hostname and the UTS mode",
        ));
    }
    let init_binary = init::container_init(h, input.init)?;
    let mut args = resolve_command(&config)?;
    if init_binary.is_some() {
        args = init::wrap_args(args);
    }
    let cwd = resolve_working_dir(&config)?;
    let security = parse_security_opts(h.security_opt.as_deref().unwrap_or_default())?;
    let mut namespaces = build_namespaces(h)?;
    if let Some(path) = input.netns_path {
        for ns in namespaces
            .iter_mut()
            .filter(|n| n.typ() == LinuxNamespaceType::Network)
        {
            ns.set_path(Some(path.to_path_buf()));
        }
    }
    let rlimits = build_rlimits(h)?;
    let user_mounts = build_user_mounts(h, &input.binds)?;
    let (devices, device_rules) = build_devices(h)?;
    let group_add = h.group_add.as_deref().unwrap_or_default();
    let exec_user = user::resolve_user(input.rootfs, &config.user, group_add)?;
    let all_caps = caps::host_capabilities();
    let cap_list = caps::tweak_capabilities(
        &caps::DEFAULT_CAPABILITIES,
        &all_caps,
        h.cap_add
            .as_ref()
            .map(|s| s.0.as_slice())
            .unwrap_or_default(),
        h.cap_drop
            .as_ref()
            .map(|s| s.0.as_slice())
            .unwrap_or_default(),
        h.privileged,
    )?;
    let cap_set = caps::to_oci(&cap_list)?;
    let host_net = h.network_mode == "host";
    let sysctls = h.sysctls.clone().unwrap_or_default();
    sysctl::verify_sysctls(&sysctls, &namespaces)?;

    let hostname = resolve_hostname(input.id, &config, h);

    // Environment: daemon defaults, then the (merged) container env.
    let mut base = vec![
        format!("PATH={}", defaults::DEFAULT_PATH_ENV),
        format!("HOSTNAME={hostname}"),
    ];
    if config.tty {
        base.push("TERM=xterm".to_string());
    }
    let mut env = replace_or_append_env(&base, config.env.as_deref().unwrap_or_default());
    if !env.iter().any(|e| env_key(e) == "HOME") {
        env.push(format!("HOME={}", exec_user.home));
    }

    // /etc files.
    let etc = match input.shared_etc {
        Some(dir) => etc::EtcPaths::in_dir(dir),
        None => etc::write_etc_files(
            input.container_dir,
            &EtcFiles {
                hostname: &hostname,
                domainname: &config.domainname,
                ip: input.ip,
                extra_hosts: h.extra_hosts.as_deref().unwrap_or_default(),
                dns: h.dns.as_deref().unwrap_or_default(),
                dns_search: h.dns_search.as_deref().unwrap_or_default(),
                dns_options: h.dns_options.as_deref().unwrap_or_default(),
                host_resolv_conf: input.host_resolv_conf,
                host_network: host_net,
                embedded_dns: input.embedded_dns,
                host_gateway: input.host_gateway,
            },
        )?,
    };

    // Process.
    let mut process = Process::default();
    process.set_terminal(Some(config.tty));
    if config.tty && h.console_size != [0, 0] {
        let b = oci_spec::runtime::BoxBuilder::default()
            .height(h.console_size[0])
            .width(h.console_size[1])
            .build()
            .map_err(|e| DaemonError::System(format!("building console size: {e}")))?;
        process.set_console_size(Some(b));
    }
    process.set_args(Some(args));
    process.set_env(Some(env));
    process.set_cwd(PathBuf::from(cwd));
    let mut u = oci_spec::runtime::User::default();
    u.set_uid(exec_user.uid);
    u.set_gid(exec_user.gid);
    if !exec_user.additional_gids.is_empty() {
        u.set_additional_gids(Some(exec_user.additional_gids.clone()));
    }
    process.set_user(u);
    let mut pcaps = LinuxCapabilities::default();
    pcaps.set_bounding(Some(cap_set.clone()));
    pcaps.set_effective(Some(cap_set.clone()));
    pcaps.set_permitted(Some(cap_set));
    pcaps.set_inheritable(None);
    pcaps.set_ambient(None);
    process.set_capabilities(Some(pcaps));
    process.set_rlimits(if rlimits.is_empty() {
        None
    } else {
        Some(rlimits)
    });
    process.set_no_new_privileges(Some(security.no_new_privileges));
    process.set_oom_score_adj(Some(h.oom_score_adj as i32));
    process.set_apparmor_profile(None);
    process.set_selinux_label(None);

    // Mounts: defaults (adjusted), the /etc files, then the user's.
    let shm_size = if h.shm_size == 0 {
        defaults::DEFAULT_SHM_SIZE
    } else {
        h.shm_size
    };
    let mut mounts = defaults::default_mounts(shm_size);
    if h.ipc_mode == "host" {
        mounts.retain(|m| {
            m.destination() != Path::new("/dev/shm") && m.destination() != Path::new("/dev/mqueue")
        });
        mounts.push(bind_mount("/dev/shm", "/dev/shm", false, "rprivate"));
    } else if h.ipc_mode == "none" {
        mounts.retain(|m| m.destination() != Path::new("/dev/shm"));
    }
    if h.privileged {
        for m in mounts.iter_mut() {
            let d = m.destination().clone();
            if d == Path::new("/sys") || d == Path::new("/sys/fs/cgroup") {
                if let Some(o) = m.options_mut() {
                    o.retain(|x| x != "ro");
                    o.push("rw".to_string());
                }
            }
        }
    }
    let user_dests: Vec<PathBuf> = user_mounts
        .iter()
        .map(|m| m.destination().clone())
        .collect();
    mounts.retain(|m| !user_dests.contains(m.destination()));
    for m in etc.mounts() {
        if !user_dests.contains(m.destination()) {
            mounts.push(m);
        }
    }
    mounts.extend(user_mounts);
    if let Some(binary) = init_binary {
        mounts.push(init::init_mount(binary));
    }

    // Linux.
    let mut linux = oci_spec::runtime::Linux::default();
    linux.set_namespaces(Some(namespaces));
    let (masked, readonly) = if h.privileged || security.unconfined_paths {
        (Vec::new(), Vec::new())
    } else {
        (
            h.masked_paths
                .clone()
                .unwrap_or_else(defaults::masked_paths),
            h.readonly_paths.clone().unwrap_or_else(|| {
                defaults::READONLY_PATHS
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
        )
    };
    linux.set_seccomp(seccomp::container_profile(
        security.seccomp.as_deref(),
        h.privileged,
        &cap_list,
    )?);
    linux.set_masked_paths(Some(masked));
    linux.set_readonly_paths(Some(readonly));
    let mut rules = defaults::default_device_rules(h.privileged);
    rules.extend(device_rules);
    linux.set_resources(Some(build_resources(h, rules)));
    linux.set_devices(Some(devices));
    let parent = h.cgroup_parent.trim_end_matches('/');
    let parent = if parent.is_empty() { "/berth" } else { parent };
    let parent = if parent.starts_with('/') {
        parent.to_string()
    } else {
        format!("/{parent}")
    };
    linux.set_cgroups_path(Some(PathBuf::from(format!("{parent}/{}", input.id))));
    linux.set_sysctl(if sysctls.is_empty() {
        None
    } else {
        Some(sysctls.into_iter().collect())
    });
    linux.set_uid_mappings(None);
    linux.set_gid_mappings(None);
    linux.set_rootfs_propagation(None);

    let mut root = Root::default();
    root.set_path(input.rootfs.to_path_buf());
    root.set_readonly(Some(h.readonly_rootfs));

    let mut spec = Spec::default();
    spec.set_version(OCI_VERSION.to_string());
    spec.set_process(Some(process));
    spec.set_root(Some(root));
    spec.set_hostname(Some(hostname));
    spec.set_domainname(if config.domainname.is_empty() {
        None
    } else {
        Some(config.domainname.clone())
    });
    spec.set_mounts(Some(mounts));
    spec.set_linux(Some(linux));
    spec.set_annotations(h.annotations.clone().map(|a| a.into_iter().collect()));
    tracing::debug!(id = input.id, "built OCI spec");
    Ok(spec)
}

#[cfg(test)]
mod tests;
