//! Which `--sysctl` keys a container may set. `/proc/sys` is only partly
//! namespaced: a key is accepted only when the container has its own copy
//! of the namespace the key lives in, so that writing it can never change
//! the host. The rules and wording are runc's `validate.sysctl`, which is
//! where Docker refuses them; Berth checks them at create so the user gets
//! a 400 before anything is built.

use std::collections::BTreeMap;

use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use crate::error::{DaemonError, Result};

/// The IPC-namespaced keys outside `fs.mqueue.`.
const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// sysctl(8) accepts `/` as the separator when the first separator is a
/// `/` (then a `.` inside a component, as in an interface name `eno2.100`,
/// stays literal); the rules below are written for the dotted form.
fn dotted(key: &str) -> String {
    match key.find(['.', '/']) {
        Some(i) if key.as_bytes()[i] == b'/' => key
            .chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect(),
        _ => key.to_string(),
    }
}

/// Whether the container gets a namespace of kind `typ` that is not the
/// host's. A `path` names a namespace to join: a sandbox or another
/// container's, never the host's in the specs Berth builds.
fn has_own(namespaces: &[LinuxNamespace], typ: LinuxNamespaceType) -> bool {
    namespaces.iter().any(|n| n.typ() == typ)
}

/// Checks one key against the namespaces the container will have.
fn verify_one(key: &str, namespaces: &[LinuxNamespace]) -> Result<()> {
    let s = dotted(key);
    let refuse = |msg: String| Err(DaemonError::invalid(msg));
    if IPC_SYSCTLS.contains(&s.as_str()) || s.starts_with("fs.mqueue.") {
        if has_own(namespaces, LinuxNamespaceType::Ipc) {
            return Ok(());
        }
        return refuse(format!(
            "sysctl {s:?} is not allowed in the hosts ipc namespace"
        ));
    }
    if s.starts_with("net.") {
        if has_own(namespaces, LinuxNamespaceType::Network) {
            return Ok(());
        }
        return refuse(format!(
            "sysctl {s:?} not allowed in host network namespace"
        ));
    }
    if has_own(namespaces, LinuxNamespaceType::Uts) {
        match s.as_str() {
            // Namespaced, and the spec has no dedicated field to clash with.
            "kernel.domainname" => return Ok(()),
            // Namespaced, but `--hostname` owns it.
            "kernel.hostname" => {
                return refuse(format!(
                    "sysctl {s:?} is not allowed as it conflicts with the OCI \"hostname\" field"
                ))
            }
            _ => {}
        }
    }
    refuse(format!(
        "sysctl {s:?} is not in a separate kernel namespace"
    ))
}

/// Refuses the first sysctl (in key order) the container may not set given
/// the namespaces it gets (from `build_namespaces`), with runc's message.
pub fn verify_sysctls(
    sysctls: &BTreeMap<String, String>,
    namespaces: &[LinuxNamespace],
) -> Result<()> {
    sysctls.keys().try_for_each(|k| verify_one(k, namespaces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostConfig;
    use crate::spec::build_namespaces;

    fn check(key: &str, host: &HostConfig) -> std::result::Result<(), String> {
        let ns = build_namespaces(host).unwrap();
        let map = BTreeMap::from([(key.to_string(), "1".to_string())]);
        verify_sysctls(&map, &ns).map_err(|e| e.to_string())
    }

    fn mode(f: impl FnOnce(&mut HostConfig)) -> HostConfig {
        let mut h = HostConfig::default();
        f(&mut h);
        h
    }

    #[test]
    fn namespaced_keys_are_accepted_by_default() {
        let h = HostConfig::default();
        for k in IPC_SYSCTLS {
            assert_eq!(check(k, &h), Ok(()), "{k}");
        }
        for k in [
            "fs.mqueue.msg_max",
            "net.ipv4.ip_forward",
            "net.core.somaxconn",
            "kernel.domainname",
            "net/ipv4/conf/eno2.100/rp_filter",
        ] {
            assert_eq!(check(k, &h), Ok(()), "{k}");
        }
    }

    #[test]
    fn host_wide_keys_are_refused() {
        let h = HostConfig::default();
        for k in [
            "kernel.pid_max",
            "vm.swappiness",
            "fs.file-max",
            "kernel.shm_next_id_x",
            "kernel",
            "",
        ] {
            assert_eq!(
                check(k, &h),
                Err(format!(
                    "sysctl {k:?} is not in a separate kernel namespace"
                )),
                "{k}"
            );
        }
        assert_eq!(
            check("kernel/pid_max", &h),
            Err("sysctl \"kernel.pid_max\" is not in a separate kernel namespace".into())
        );
    }

    #[test]
    fn hostname_conflicts_with_the_hostname_field() {
        assert_eq!(
            check("kernel.hostname", &HostConfig::default()),
            Err("sysctl \"kernel.hostname\" is not allowed as it conflicts with the OCI \"hostname\" field".into())
        );
    }

    #[test]
    fn host_namespaces_refuse_their_keys() {
        let net = mode(|h| h.network_mode = "host".into());
        assert_eq!(
            check("net.ipv4.ip_forward", &net),
            Err("sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace".into())
        );
        assert_eq!(check("kernel.shmmax", &net), Ok(()));

        let ipc = mode(|h| h.ipc_mode = "host".into());
        assert_eq!(
            check("kernel.shmmax", &ipc),
            Err("sysctl \"kernel.shmmax\" is not allowed in the hosts ipc namespace".into())
        );
        assert_eq!(
            check("fs.mqueue.queues_max", &ipc),
            Err("sysctl \"fs.mqueue.queues_max\" is not allowed in the hosts ipc namespace".into())
        );

        let uts = mode(|h| h.uts_mode = "host".into());
        assert_eq!(
            check("kernel.domainname", &uts),
            Err("sysctl \"kernel.domainname\" is not in a separate kernel namespace".into())
        );
    }

    #[test]
    fn other_network_modes_have_their_own_namespace() {
        for m in ["none", "bridge", "default", "mynet", "container:abc"] {
            let h = mode(|h| h.network_mode = m.into());
            assert_eq!(check("net.core.somaxconn", &h), Ok(()), "{m}");
        }
    }

    #[test]
    fn slash_form_is_read_like_sysctl8() {
        assert_eq!(
            dotted("net/ipv4/conf/eno2.100/rp_filter"),
            "net.ipv4.conf.eno2/100.rp_filter"
        );
        assert_eq!(dotted("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
        assert_eq!(dotted("kernel"), "kernel");
    }
}
