//! `run`/`create`'s endpoint flags (`--network-alias`, `--ip`, `--ip6`,
//! `--link-local-ip`, `--mac-address`) into the create request's
//! `NetworkingConfig`, as docker/cli's `parseNetworkOpts` builds it: the
//! endpoint is keyed by the `--network` given (`default` without one),
//! and a lone network without endpoint settings is left out.

use std::collections::BTreeMap;

use berth_api::types::container::{EndpointIpamConfig, EndpointSettings};
use serde_json::{json, Value};

use super::ContainerOptions;

/// `{"EndpointsConfig": {<network>: <endpoint>}}` for `opts`, or the
/// error Docker's CLI gives before calling the daemon.
pub fn networking_config(opts: &ContainerOptions) -> Result<Value, String> {
    let mut endpoints = BTreeMap::new();
    match opts.network.as_deref().filter(|n| !n.is_empty()) {
        // Docker always sends the default network's endpoint, empty or not.
        None => {
            endpoints.insert("default".to_string(), endpoint(opts, "default")?);
        }
        Some(target) => {
            let ep = endpoint(opts, target)?;
            if ep != EndpointSettings::default() {
                endpoints.insert(target.to_string(), ep);
            }
        }
    }
    let endpoints =
        serde_json::to_value(endpoints).map_err(|e| format!("encoding the endpoints: {e}"))?;
    Ok(json!({ "EndpointsConfig": endpoints }))
}

/// `container.NetworkMode.IsUserDefined` on Linux: anything but the
/// predefined modes.
pub fn is_user_defined(mode: &str) -> bool {
    !matches!(mode, "default" | "bridge" | "host" | "none") && !mode.starts_with("container:")
}

/// docker/cli's `parseNetworkAttachmentOpt` over the flags: aliases only
/// on a user-defined network, `IPAMConfig` only when an address is
/// asked for, the MAC address checked as Go's `net.ParseMAC`.
fn endpoint(opts: &ContainerOptions, target: &str) -> Result<EndpointSettings, String> {
    if !is_user_defined(target) && !opts.network_alias.is_empty() {
        return Err("network-scoped aliases are only supported for user-defined networks".into());
    }
    let ipv4 = opts.ip.clone().unwrap_or_default();
    let ipv6 = opts.ip6.clone().unwrap_or_default();
    let ipam_config = (!ipv4.is_empty() || !ipv6.is_empty() || !opts.link_local_ip.is_empty())
        .then(|| EndpointIpamConfig {
            ipv4_address: ipv4,
            ipv6_address: ipv6,
            link_local_ips: (!opts.link_local_ip.is_empty()).then(|| opts.link_local_ip.clone()),
        });
    let mac_address = opts.mac_address.clone().unwrap_or_default();
    if !mac_address.is_empty() && !is_mac(mac_address.trim()) {
        return Err(format!("{mac_address} is not a valid mac address"));
    }
    Ok(EndpointSettings {
        ipam_config,
        aliases: (!opts.network_alias.is_empty()).then(|| opts.network_alias.clone()),
        mac_address,
        ..EndpointSettings::default()
    })
}

/// Go's `net.ParseMAC` forms: 6, 8 or 20 octets as `xx:xx:..`,
/// `xx-xx-..`, or `xxxx.xxxx...` groups.
fn is_mac(s: &str) -> bool {
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
    let octets = [6, 8, 20];
    for sep in [':', '-'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() > 1 {
            return octets.contains(&parts.len()) && parts.iter().all(|p| hex(p, 2));
        }
    }
    let groups: Vec<&str> = s.split('.').collect();
    octets.contains(&(groups.len() * 2)) && groups.iter().all(|g| hex(g, 4))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;
    use serde_json::{json, Value};

    use crate::cli::{Cli, Command};

    /// The `NetworkingConfig` `berth run <args>` sends, or its error.
    fn networking(args: &[&str]) -> Result<Value, String> {
        let mut argv = vec!["berth", "run"];
        argv.extend_from_slice(args);
        argv.push("busybox");
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        let spec = run
            .options
            .to_spec("busybox", &[], true, Path::new("/"), None)?;
        let body = serde_json::to_value(spec.request).unwrap();
        Ok(body["NetworkingConfig"].clone())
    }

    #[test]
    fn the_default_network_always_gets_its_endpoint() {
        let v = networking(&[]).unwrap();
        let ep = &v["EndpointsConfig"]["default"];
        assert_eq!(ep["IPAMConfig"], Value::Null);
        assert_eq!(ep["Aliases"], Value::Null);
        assert_eq!(ep["MacAddress"], "");
        // --ip on the default network is the daemon's to refuse.
        let v = networking(&["--ip", "172.17.0.9", "--mac-address", "92:d0:c6:0a:29:33"]).unwrap();
        let ep = &v["EndpointsConfig"]["default"];
        assert_eq!(ep["IPAMConfig"], json!({"IPv4Address": "172.17.0.9"}));
        assert_eq!(ep["MacAddress"], "92:d0:c6:0a:29:33");
    }

    #[test]
    fn a_user_defined_network_gets_the_endpoint_flags() {
        let v = networking(&[
            "--network",
            "n1",
            "--network-alias",
            "db",
            "--net-alias",
            "cache",
            "--ip",
            "10.5.0.7",
            "--ip6",
            "2001:db8::7",
            "--link-local-ip",
            "169.254.1.1",
        ])
        .unwrap();
        let ep = &v["EndpointsConfig"]["n1"];
        assert_eq!(ep["Aliases"], json!(["db", "cache"]));
        assert_eq!(
            ep["IPAMConfig"],
            json!({"IPv4Address": "10.5.0.7", "IPv6Address": "2001:db8::7",
                   "LinkLocalIPs": ["169.254.1.1"]})
        );
        // A lone network without endpoint settings is left out.
        assert_eq!(
            networking(&["--network", "n1"]).unwrap(),
            json!({"EndpointsConfig": {}})
        );
        assert_eq!(
            networking(&["--network", "host"]).unwrap(),
            json!({"EndpointsConfig": {}})
        );
    }

    #[test]
    fn refusals_are_dockers() {
        assert_eq!(
            networking(&["--network-alias", "db"]).unwrap_err(),
            "network-scoped aliases are only supported for user-defined networks"
        );
        assert_eq!(
            networking(&["--network", "bridge", "--network-alias", "db"]).unwrap_err(),
            "network-scoped aliases are only supported for user-defined networks"
        );
        assert_eq!(
            networking(&["--mac-address", "92:d0:c6"]).unwrap_err(),
            "92:d0:c6 is not a valid mac address"
        );
        assert!(networking(&["--mac-address", "92-d0-c6-0a-29-33"]).is_ok());
        assert!(networking(&["--mac-address", "92d0.c60a.2933"]).is_ok());
    }
}
