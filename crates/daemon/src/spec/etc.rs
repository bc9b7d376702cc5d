//! The three files Docker bind-mounts over the image's `/etc`: `hostname`,
//! `hosts` and `resolv.conf`, written into the container's directory.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Mount;

use super::defaults::mount;
use crate::error::{DaemonError, Result};
use crate::persist::write_replace;

/// Public DNS servers Docker falls back to when the host has none left after
/// filtering out loopback resolvers.
pub const FALLBACK_NAMESERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// What the `/etc` files are made from.
#[derive(Debug, Clone)]
pub struct EtcFiles<'a> {
    /// The container's hostname.
    pub hostname: &'a str,
    /// Its domain name (may be empty).
    pub domainname: &'a str,
    /// Its address, when networking has assigned one: adds the
    /// `<ip>\t<hostname>` line to `/etc/hosts`.
    pub ip: Option<IpAddr>,
    /// `HostConfig.ExtraHosts` (`name:ip`).
    pub extra_hosts: &'a [String],
    /// `HostConfig.Dns`: replaces the host's nameservers.
    pub dns: &'a [String],
    /// `HostConfig.DnsSearch`: replaces the host's search list (`.` clears it).
    pub dns_search: &'a [String],
    /// `HostConfig.DnsOptions`: replaces the host's options.
    pub dns_options: &'a [String],
    /// The host file to base `resolv.conf` on (normally `/etc/resolv.conf`).
    pub host_resolv_conf: &'a Path,
    /// The container shares the host's network: `hosts` starts from the
    /// host's `/etc/hosts`, and loopback nameservers are kept (reachable).
    pub host_network: bool,
    /// The embedded resolver answers at 127.0.0.11 (user-defined networks):
    /// it is the only nameserver, and forwards to the host's or `--dns`.
    pub embedded_dns: bool,
    /// What `host-gateway` in an extra host stands for: the default
    /// bridge's gateway, the host as containers reach it.
    pub host_gateway: Option<IpAddr>,
}

/// The host's `/etc/hosts`, the base of a host-network container's.
const HOST_HOSTS: &str = "/etc/hosts";

/// Paths of the files written by [`write_etc_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcPaths {
    /// `<dir>/hostname`.
    pub hostname: PathBuf,
    /// `<dir>/hosts`.
    pub hosts: PathBuf,
    /// `<dir>/resolv.conf`.
    pub resolv_conf: PathBuf,
}

impl EtcPaths {
    /// The three files' paths in `dir`.
    pub fn in_dir(dir: &Path) -> EtcPaths {
        EtcPaths {
            hostname: dir.join("hostname"),
            hosts: dir.join("hosts"),
            resolv_conf: dir.join("resolv.conf"),
        }
    }

    /// The bind mounts of the three files (`rbind`, `rprivate`, writable,
    /// as moby mounts them).
    pub fn mounts(&self) -> Vec<Mount> {
        [
            ("/etc/resolv.conf", &self.resolv_conf),
            ("/etc/hostname", &self.hostname),
            ("/etc/hosts", &self.hosts),
        ]
        .into_iter()
        .map(|(dst, src)| mount(dst, "bind", &src.to_string_lossy(), &["rbind", "rprivate"]))
        .collect()
    }
}

/// The `/etc/hosts` text: Docker's localhost block, the container's own
/// line when it has an address, then the extra hosts.
pub fn hosts_content(f: &EtcFiles<'_>) -> Result<String> {
    let mut s = if f.host_network {
        let mut host = std::fs::read_to_string(HOST_HOSTS).unwrap_or_default();
        if !host.is_empty() && !host.ends_with('\n') {
            host.push('\n');
        }
        host
    } else {
        String::from(
            "127.0.0.1\tlocalhost\n\
             ::1\tlocalhost ip6-localhost ip6-loopback\n\
             fe00::0\tip6-localnet\n\
             ff00::0\tip6-mcastprefix\n\
             ff02::1\tip6-allnodes\n\
             ff02::2\tip6-allrouters\n",
        )
    };
    if let Some(ip) = f.ip {
        if f.domainname.is_empty() {
            s.push_str(&format!("{ip}\t{}\n", f.hostname));
        } else {
            s.push_str(&format!(
                "{ip}\t{}.{} {}\n",
                f.hostname, f.domainname, f.hostname
            ));
        }
    }
    for eh in f.extra_hosts {
        let (host, ip) = eh
            .split_once(':')
            .or_else(|| eh.split_once('='))
            .ok_or_else(|| DaemonError::invalid(format!("bad format for add-host: {eh:?}")))?;
        let ip = ip.trim_start_matches('[').trim_end_matches(']');
        let gateway;
        let ip = if ip == "host-gateway" {
            gateway = f
                .host_gateway
                .ok_or_else(|| {
                    DaemonError::invalid("unable to derive the IP value for host-gateway")
                })?
                .to_string();
            gateway.as_str()
        } else {
            ip
        };
        if ip.parse::<IpAddr>().is_err() {
            return Err(DaemonError::invalid(format!(
                "invalid IP address in add-host: {ip:?}"
            )));
        }
        s.push_str(&format!("{ip}\t{host}\n"));
    }
    Ok(s)
}

fn is_loopback(ns: &str) -> bool {
    ns.split('%')
        .next()
        .and_then(|a| a.parse::<IpAddr>().ok())
        .is_some_and(|a| a.is_loopback())
}

/// The `resolv.conf` text: the host's file with loopback nameservers removed
/// (they are unreachable from the container's network namespace), falling
/// back to Google's public DNS when none remain; `dns`, `dns_search` and
/// `dns_options` replace the respective parts.
pub fn resolv_conf_content(host: &str, f: &EtcFiles<'_>) -> String {
    let mut nameservers = Vec::new();
    let mut search: Vec<String> = Vec::new();
    let mut options: Vec<String> = Vec::new();
    for line in host.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(ns) = words.next() {
                    if f.host_network || !is_loopback(ns) {
                        nameservers.push(ns.to_string());
                    }
                }
            }
            Some("search") | Some("domain") => search = words.map(String::from).collect(),
            Some("options") => options.extend(words.map(String::from)),
            _ => {}
        }
    }
    if f.embedded_dns {
        // The resolver forwards to the real servers; Docker's ndots:0 keeps
        // single-label names (other containers) from being search-expanded.
        nameservers = vec!["127.0.0.11".to_string()];
    } else if !f.dns.is_empty() {
        nameservers = f.dns.to_vec();
    } else if nameservers.is_empty() {
        nameservers = FALLBACK_NAMESERVERS.iter().map(|s| s.to_string()).collect();
    }
    if !f.dns_search.is_empty() {
        search = f
            .dns_search
            .iter()
            .filter(|s| s.as_str() != "." && !s.is_empty())
            .cloned()
            .collect();
    }
    if !f.dns_options.is_empty() {
        options = f
            .dns_options
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
    }
    if f.embedded_dns && !options.iter().any(|o| o.starts_with("ndots:")) {
        options.push("ndots:0".to_string());
    }
    let mut out = String::from("# Generated by Berth.\n");
    for ns in &nameservers {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// Writes `hostname`, `hosts` and `resolv.conf` into `dir` (atomically, mode
/// 0644 once renamed) and returns their paths. A missing host resolv.conf is
/// treated as empty.
pub fn write_etc_files(dir: &Path, f: &EtcFiles<'_>) -> Result<EtcPaths> {
    std::fs::create_dir_all(dir)
        .map_err(|e| DaemonError::io(format!("creating {}", dir.display()), e))?;
    let paths = EtcPaths::in_dir(dir);
    let host_resolv = match std::fs::read_to_string(f.host_resolv_conf) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(DaemonError::io(
                format!("reading {}", f.host_resolv_conf.display()),
                e,
            ))
        }
    };
    write_public(&paths.hostname, format!("{}\n", f.hostname).as_bytes())?;
    write_public(&paths.hosts, hosts_content(f)?.as_bytes())?;
    write_public(
        &paths.resolv_conf,
        resolv_conf_content(&host_resolv, f).as_bytes(),
    )?;
    Ok(paths)
}

fn write_public(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write_replace(path, bytes)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| DaemonError::io(format!("chmod {}", path.display()), e))
}
