//! Capabilities: Docker's default set and moby's `TweakCapabilities`
//! (CapAdd/CapDrop with `ALL`, privileged = every capability the host has).

use std::collections::HashSet;

use oci_spec::runtime::Capability;

use crate::error::{DaemonError, Result};

/// The 14 capabilities a container gets by default (moby's
/// `caps.DefaultCapabilities`), with the `CAP_` prefix.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability Linux defines, indexed by its number.
pub const ALL_CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The capabilities this host can grant: those in the daemon's bounding set
/// (`CapBnd` in /proc/self/status) that the kernel knows (`cap_last_cap`).
/// Falls back to every capability when /proc cannot be read.
pub fn host_capabilities() -> Vec<String> {
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(ALL_CAPABILITIES.len() - 1);
    let bnd = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX);
    ALL_CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(i, _)| *i <= last && bnd & (1u64 << i) != 0)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// Upper-cases and `CAP_`-prefixes capability names (`ALL` stays `ALL`);
/// an unknown name is InvalidParameter `unknown capability: "CAP_X"`.
pub fn normalize_capabilities(caps: &[String]) -> Result<Vec<String>> {
    caps.iter()
        .map(|c| {
            let c = c.to_uppercase();
            if c == "ALL" {
                return Ok(c);
            }
            let c = if c.starts_with("CAP_") {
                c
            } else {
                format!("CAP_{c}")
            };
            if ALL_CAPABILITIES.contains(&c.as_str()) {
                Ok(c)
            } else {
                Err(DaemonError::invalid(format!("unknown capability: {c:?}")))
            }
        })
        .collect()
}

/// moby's `TweakCapabilities`: privileged gets `all`; `ALL` in `adds`
/// means everything in `all` but `drops`; `ALL` in `drops` means only `adds`;
/// otherwise `basics` minus `drops` plus `adds`.
pub fn tweak_capabilities(
    basics: &[&str],
    all: &[String],
    adds: &[String],
    drops: &[String],
    privileged: bool,
) -> Result<Vec<String>> {
    if privileged {
        return Ok(all.to_vec());
    }
    let adds = normalize_capabilities(adds)?;
    let drops = normalize_capabilities(drops)?;
    let has = |v: &[String], s: &str| v.iter().any(|c| c == s);
    let mut out: Vec<String> = if has(&adds, "ALL") {
        all.iter().filter(|c| !has(&drops, c)).cloned().collect()
    } else if has(&drops, "ALL") {
        adds
    } else {
        let mut v: Vec<String> = basics
            .iter()
            .filter(|c| !has(&drops, c))
            .map(|c| c.to_string())
            .collect();
        v.extend(adds);
        v
    };
    let mut seen = HashSet::new();
    out.retain(|c| seen.insert(c.clone()));
    Ok(out)
}

/// Converts `CAP_`-prefixed names into the OCI set.
pub fn to_oci(caps: &[String]) -> Result<HashSet<Capability>> {
    caps.iter()
        .map(|c| {
            c.trim_start_matches("CAP_")
                .parse::<Capability>()
                .map_err(|_| DaemonError::invalid(format!("unknown capability: {c:?}")))
        })
        .collect()
}
