//! The flags of `run` and `create` ([`ContainerOptions`], docker/cli's
//! `containerOptions`) and their conversion into the create request
//! (docker/cli's `parse`): `Config`, `HostConfig`, the container name and
//! the platform.

pub mod mounts;
pub mod network;
pub mod parse;

use std::collections::BTreeMap;
use std::path::Path;

use berth_api::types::container::{
    Config, ContainerCreateRequest, HealthConfig, HostConfig, LogConfig, RestartPolicy, StrSlice,
};
use clap::Args;

use crate::format::units::ram_in_bytes;

/// The flags `run` and `create` share, named as Docker names them.
#[derive(Debug, Clone, Default, Args)]
pub struct ContainerOptions {
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    pub env_file: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "list")]
    pub volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "mount")]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long = "tmpfs", value_name = "list")]
    pub tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from", value_name = "list")]
    pub volumes_from: Vec<String>,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish", value_name = "list")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long = "expose", value_name = "list")]
    pub expose: Vec<String>,
    /// Connect a container to a network
    #[arg(long = "network", visible_alias = "net", value_name = "network")]
    pub network: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias", value_name = "list")]
    pub network_alias: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long, value_name = "string")]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33)
    #[arg(long, value_name = "string")]
    pub ip6: Option<String>,
    /// Container IPv4/IPv6 link-local addresses
    #[arg(long = "link-local-ip", value_name = "list")]
    pub link_local_ip: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address", value_name = "string")]
    pub mac_address: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Container NIS domain name
    #[arg(long)]
    pub domainname: Option<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "list")]
    pub add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long = "dns", value_name = "list")]
    pub dns: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", value_name = "list")]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "list")]
    pub dns_search: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "string")]
    pub entrypoint: Option<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label", value_name = "list")]
    pub label: Vec<String>,
    /// Restart policy to apply when a container exits
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Memory limit
    #[arg(short = 'm', long, value_name = "bytes")]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", value_name = "bytes", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_name = "bytes")]
    pub memory_reservation: Option<String>,
    /// Number of CPUs
    #[arg(long, value_name = "decimal")]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", value_name = "int")]
    pub cpu_shares: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period", value_name = "int")]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", value_name = "int", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus", value_name = "string")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems", value_name = "string")]
    pub cpuset_mems: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_name = "int", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Ulimit options
    #[arg(long = "ulimit", value_name = "ulimit")]
    pub ulimit: Vec<String>,
    /// Size of /dev/shm
    #[arg(long = "shm-size", value_name = "bytes")]
    pub shm_size: Option<String>,
    /// Add Linux capabilities
    #[arg(long = "cap-add", value_name = "list")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop", value_name = "list")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Security Options
    #[arg(long = "security-opt", value_name = "list")]
    pub security_opt: Vec<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Signal to stop the container
    #[arg(long = "stop-signal", value_name = "string")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout", value_name = "int", allow_hyphen_values = true)]
    pub stop_timeout: Option<i64>,
    /// Command to run to check health
    #[arg(long = "health-cmd", value_name = "string")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h)
    #[arg(
        long = "health-interval",
        value_name = "duration",
        allow_hyphen_values = true
    )]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h)
    #[arg(
        long = "health-timeout",
        value_name = "duration",
        allow_hyphen_values = true
    )]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(
        long = "health-retries",
        value_name = "int",
        allow_hyphen_values = true
    )]
    pub health_retries: Option<i64>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)
    #[arg(
        long = "health-start-period",
        value_name = "duration",
        allow_hyphen_values = true
    )]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h)
    #[arg(
        long = "health-start-interval",
        value_name = "duration",
        allow_hyphen_values = true
    )]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string")]
    pub platform: Option<String>,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, default_value = "missing", value_parser = ["always", "missing", "never"])]
    pub pull: String,
    /// Logging driver for the container
    #[arg(long = "log-driver", value_name = "string")]
    pub log_driver: Option<String>,
    /// Log driver options
    #[arg(long = "log-opt", value_name = "list")]
    pub log_opt: Vec<String>,
    /// Sysctl options
    #[arg(long = "sysctl", value_name = "map")]
    pub sysctl: Vec<String>,
    /// Add a host device to the container
    #[arg(long = "device", value_name = "list")]
    pub device: Vec<String>,
    /// Add additional groups to join
    #[arg(long = "group-add", value_name = "list")]
    pub group_add: Vec<String>,
    /// PID namespace to use
    #[arg(long, value_name = "string")]
    pub pid: Option<String>,
    /// IPC mode to use
    #[arg(long, value_name = "string")]
    pub ipc: Option<String>,
    /// UTS namespace to use
    #[arg(long, value_name = "string")]
    pub uts: Option<String>,
    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long = "oom-score-adj", value_name = "int", allow_hyphen_values = true)]
    pub oom_score_adj: Option<i64>,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)
    #[arg(long = "blkio-weight", value_name = "uint16")]
    pub blkio_weight: Option<u16>,
    /// Write the container ID to the file
    #[arg(long, value_name = "string")]
    pub cidfile: Option<String>,
}

/// A create request and what travels beside it (query parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSpec {
    /// The body of `POST /containers/create`.
    pub request: ContainerCreateRequest,
    /// `?name=`.
    pub name: Option<String>,
    /// `?platform=`.
    pub platform: Option<String>,
}

/// A flag value that does not parse: pflag's message.
fn invalid(flag: &str, value: &str, why: impl std::fmt::Display) -> String {
    format!("invalid argument \"{value}\" for \"{flag}\" flag: {why}")
}

fn each<T>(
    flag: &str,
    values: &[String],
    f: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    values
        .iter()
        .map(|v| f(v).map_err(|e| invalid(flag, v, e)))
        .collect()
}

fn size(flag: &str, v: &Option<String>) -> Result<i64, String> {
    match v {
        None => Ok(0),
        Some(s) => ram_in_bytes(s).map_err(|e| invalid(flag, s, e)),
    }
}

fn duration(flag: &str, v: &Option<String>) -> Result<i64, String> {
    match v {
        None => Ok(0),
        Some(s) => {
            let d = parse::go_duration(s).map_err(|e| invalid(flag, s, e))?;
            if d < 0 {
                return Err(format!("{flag} cannot be negative"));
            }
            Ok(d)
        }
    }
}

fn non_empty(v: Vec<String>) -> Option<Vec<String>> {
    (!v.is_empty()).then_some(v)
}

impl ContainerOptions {
    /// Docker's `parse`: the create request for `image` and `command`,
    /// with `attach` saying whether the client will attach (`run` without
    /// `-d`: stdout and stderr, plus stdin with `-i`). `cwd` resolves
    /// relative `-v` host paths; `console_size` is the terminal's
    /// `[height, width]` for `-t`.
    pub fn to_spec(
        &self,
        image: &str,
        command: &[String],
        attach: bool,
        cwd: &Path,
        console_size: Option<[u64; 2]>,
    ) -> Result<CreateSpec, String> {
        // Environment: env files first, then -e, as Docker does.
        let mut env = Vec::new();
        for file in &self.env_file {
            let content = std::fs::read_to_string(file)
                .map_err(|e| format!("open {file}: {}", io_reason(&e)))?;
            env.extend(parse::env_file(&content, file)?);
        }
        env.extend(each("--env", &self.env, parse::env)?);

        let mut ports = parse::PortMap::new();
        for p in &self.publish {
            parse::publish(p, &mut ports).map_err(|e| invalid("--publish", p, e))?;
        }
        let mut exposed: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        for e in &self.expose {
            for key in parse::expose(e).map_err(|why| invalid("--expose", e, why))? {
                exposed.insert(key, serde_json::json!({}));
            }
        }
        for key in ports.keys() {
            exposed.insert(key.clone(), serde_json::json!({}));
        }

        let vols = mounts::volumes(&self.volume, cwd)?;
        let mounts = each("--mount", &self.mount, mounts::mount)?;
        let tmpfs = mounts::tmpfs(&self.tmpfs)?;

        let labels: BTreeMap<String, String> = self.label.iter().map(|l| parse::label(l)).collect();
        let log_opts: BTreeMap<String, String> =
            each("--log-opt", &self.log_opt, parse::key_value)?
                .into_iter()
                .collect();
        let sysctls: BTreeMap<String, String> = each("--sysctl", &self.sysctl, parse::key_value)?
            .into_iter()
            .collect();

        let (policy, retries) = parse::restart_policy(&self.restart)
            .map_err(|e| invalid("--restart", &self.restart, e))?;
        if self.rm && !matches!(policy.as_str(), "" | "no") {
            return Err("conflicting options: cannot specify both --restart and --rm".into());
        }

        let memory = size("--memory", &self.memory)?;
        let memory_swap = match self.memory_swap.as_deref() {
            Some("-1") => -1,
            _ => size("--memory-swap", &self.memory_swap)?,
        };
        let nano_cpus = match &self.cpus {
            None => 0,
            Some(s) => parse::nano_cpus(s).map_err(|e| invalid("--cpus", s, e))?,
        };

        let healthcheck = self.healthcheck()?;
        let security_opt = self.security_opts()?;

        let entrypoint = self.entrypoint.as_ref().map(|e| {
            // An empty --entrypoint resets the image's.
            StrSlice(vec![e.clone()])
        });
        let attach_stdin = attach && self.interactive;

        let config = Config {
            hostname: self.hostname.clone().unwrap_or_default(),
            domainname: self.domainname.clone().unwrap_or_default(),
            user: self.user.clone().unwrap_or_default(),
            attach_stdin,
            attach_stdout: attach,
            attach_stderr: attach,
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            tty: self.tty,
            open_stdin: self.interactive,
            stdin_once: attach_stdin,
            env: Some(env),
            cmd: (!command.is_empty()).then(|| StrSlice(command.to_vec())),
            healthcheck,
            image: image.to_string(),
            volumes: (!vols.anonymous.is_empty()).then(|| {
                vols.anonymous
                    .iter()
                    .map(|v| (v.clone(), serde_json::json!({})))
                    .collect()
            }),
            working_dir: self.workdir.clone().unwrap_or_default(),
            entrypoint,
            labels: Some(labels),
            stop_signal: self.stop_signal.clone().unwrap_or_default(),
            stop_timeout: self.stop_timeout,
            ..Config::default()
        };

        let host_config = HostConfig {
            binds: non_empty(vols.binds),
            container_id_file: self.cidfile.clone().unwrap_or_default(),
            log_config: LogConfig {
                kind: self.log_driver.clone().unwrap_or_default(),
                config: Some(log_opts),
            },
            network_mode: self.network.clone().unwrap_or_default(),
            port_bindings: Some(ports.into_iter().map(|(k, v)| (k, Some(v))).collect()),
            restart_policy: RestartPolicy {
                name: policy,
                maximum_retry_count: retries,
            },
            auto_remove: self.rm,
            volumes_from: non_empty(self.volumes_from.clone()),
            console_size: if self.tty {
                console_size.unwrap_or([0, 0])
            } else {
                [0, 0]
            },
            cap_add: non_empty(self.cap_add.clone()).map(StrSlice),
            cap_drop: non_empty(self.cap_drop.clone()).map(StrSlice),
            dns: non_empty(each("--dns", &self.dns, parse::ip_address)?),
            dns_options: non_empty(self.dns_option.clone()),
            dns_search: non_empty(self.dns_search.clone()),
            extra_hosts: non_empty(each("--add-host", &self.add_host, parse::extra_host)?),
            group_add: non_empty(self.group_add.clone()),
            ipc_mode: self.ipc.clone().unwrap_or_default(),
            oom_score_adj: self.oom_score_adj.unwrap_or(0),
            oom_kill_disable: self.oom_kill_disable.then_some(true),
            blkio_weight: self.blkio_weight.unwrap_or(0),
            pid_mode: self.pid.clone().unwrap_or_default(),
            privileged: self.privileged,
            publish_all_ports: self.publish_all,
            readonly_rootfs: self.read_only,
            security_opt: non_empty(security_opt),
            tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
            uts_mode: self.uts.clone().unwrap_or_default(),
            shm_size: size("--shm-size", &self.shm_size)?,
            sysctls: (!sysctls.is_empty()).then_some(sysctls),
            cpu_shares: self.cpu_shares.unwrap_or(0),
            memory,
            nano_cpus,
            cpu_period: self.cpu_period.unwrap_or(0),
            cpu_quota: self.cpu_quota.unwrap_or(0),
            cpuset_cpus: self.cpuset_cpus.clone().unwrap_or_default(),
            cpuset_mems: self.cpuset_mems.clone().unwrap_or_default(),
            devices: non_empty_devices(each("--device", &self.device, parse::device)?),
            memory_reservation: size("--memory-reservation", &self.memory_reservation)?,
            memory_swap,
            pids_limit: self.pids_limit,
            ulimits: {
                let u = each("--ulimit", &self.ulimit, parse::ulimit)?;
                (!u.is_empty()).then_some(u)
            },
            mounts: (!mounts.is_empty()).then_some(mounts),
            init: self.init.then_some(true),
            ..HostConfig::default()
        };

        Ok(CreateSpec {
            request: ContainerCreateRequest {
                config,
                host_config: Some(host_config),
                networking_config: Some(network::networking_config(self)?),
            },
            name: self.name.clone().filter(|n| !n.is_empty()),
            platform: self.platform.clone().filter(|p| !p.is_empty()),
        })
    }

    /// `--health-*` / `--no-healthcheck` into a `HealthConfig`.
    fn healthcheck(&self) -> Result<Option<HealthConfig>, String> {
        let any_health = self.health_cmd.is_some()
            || self.health_interval.is_some()
            || self.health_timeout.is_some()
            || self.health_retries.is_some()
            || self.health_start_period.is_some()
            || self.health_start_interval.is_some();
        if self.no_healthcheck {
            if any_health {
                return Err("--no-healthcheck conflicts with --health-* options".into());
            }
            return Ok(Some(HealthConfig {
                test: Some(vec!["NONE".into()]),
                ..HealthConfig::default()
            }));
        }
        if !any_health {
            return Ok(None);
        }
        let retries = self.health_retries.unwrap_or(0);
        if retries < 0 {
            return Err("--health-retries cannot be negative".into());
        }
        Ok(Some(HealthConfig {
            test: self
                .health_cmd
                .as_ref()
                .map(|c| vec!["CMD-SHELL".to_string(), c.clone()]),
            interval: duration("--health-interval", &self.health_interval)?,
            timeout: duration("--health-timeout", &self.health_timeout)?,
            start_period: duration("--health-start-period", &self.health_start_period)?,
            start_interval: duration("--health-start-interval", &self.health_start_interval)?,
            retries,
        }))
    }

    /// `parseSecurityOpts`: `seccomp=<file>` carries the profile's JSON
    /// (compacted), `key:value` is accepted for `key=value`.
    fn security_opts(&self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for opt in &self.security_opt {
            if opt == "systempaths=unconfined" || opt == "no-new-privileges" {
                out.push(opt.clone());
                continue;
            }
            let (k, v) = opt
                .split_once('=')
                .or_else(|| opt.split_once(':'))
                .ok_or_else(|| format!("Invalid --security-opt: {opt:?}"))?;
            if k == "seccomp" && v != "unconfined" && v != "builtin" {
                let data = std::fs::read(v).map_err(|e| {
                    format!("opening seccomp profile ({v}) failed: {}", io_reason(&e))
                })?;
                let json: serde_json::Value = serde_json::from_slice(&data).map_err(|e| {
                    format!("compacting json for seccomp profile ({v}) failed: {e}")
                })?;
                out.push(format!("seccomp={json}"));
            } else {
                out.push(format!("{k}={v}"));
            }
        }
        Ok(out)
    }
}

fn non_empty_devices<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// An io error as Go words it (`no such file or directory`).
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests;
