//! The `bridge` driver (libnetwork's bridge): a Linux bridge per network
//! holding the gateway address, and per container a veth pair with one end
//! on the bridge and the other as `ethN` in the container's namespace.
//! Forwarding and NAT rules come from [`crate::iptables`].

use std::path::Path;

use crate::driver::{EndpointSpec, NetworkDriver};
use crate::error::{NetworkError, Result};
use crate::iptables::Iptables;
use crate::netlink::{LinkChange, Netlink};
use crate::netns;
use crate::store::NetworkRecord;

/// The bridge driver. Without iptables (tests of the plumbing alone) it
/// still connects containers to each other and to the host.
pub struct BridgeDriver {
    iptables: Option<Iptables>,
}

impl BridgeDriver {
    /// A driver programming NAT and forwarding with `iptables`.
    pub fn new(iptables: Option<Iptables>) -> BridgeDriver {
        BridgeDriver { iptables }
    }
}

/// The host-side veth name of an endpoint: short enough for IFNAMSIZ and
/// recognisably Berth's (`vb` + 12 hex of the endpoint ID).
pub fn host_veth_name(endpoint_id: &str) -> String {
    format!("vb{}", &endpoint_id[..endpoint_id.len().min(12)])
}

/// Docker's MAC scheme: `02:42` then the four bytes of the IPv4 address,
/// unique on a network because the address is.
pub fn mac_for(ip: std::net::Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let bad = || NetworkError::InvalidParameter(format!("invalid MAC address: {s}"));
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut mac = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        if p.len() != 2 {
            return Err(bad());
        }
        mac[i] = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(mac)
}

fn pool(network: &NetworkRecord) -> Result<&crate::ipam::Pool> {
    network.pool.as_ref().ok_or_else(|| {
        NetworkError::System(format!(
            "bridge network {} has no address pool",
            network.name
        ))
    })
}

impl NetworkDriver for BridgeDriver {
    fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        let pool = pool(network)?;
        let gateway = ipnet::Ipv4Net::new(pool.gateway, pool.subnet.prefix_len())
            .map_err(|e| NetworkError::System(e.to_string()))?;
        let mut nl = Netlink::open()?;
        let index = match nl.link_index(&network.bridge)? {
            Some(i) => i,
            None => nl.add_bridge(&network.bridge, network.mtu)?,
        };
        nl.add_address(index, gateway)?;
        nl.set_link(
            index,
            &LinkChange {
                up: true,
                ..Default::default()
            },
        )?;
        if let Some(ipt) = &self.iptables {
            ipt.ensure_base()?;
            ipt.setup_bridge(&network.bridge, pool.subnet, network.internal)?;
        }
        Ok(())
    }

    fn delete_network(&self, network: &NetworkRecord) -> Result<()> {
        if let (Some(ipt), Some(pool)) = (&self.iptables, &network.pool) {
            ipt.teardown_bridge(&network.bridge, pool.subnet, network.internal)?;
        }
        Netlink::open()?.del_link_named(&network.bridge)
    }

    fn join(&self, network: &NetworkRecord, ep: &EndpointSpec<'_>) -> Result<()> {
        let host_name = host_veth_name(ep.id);
        let ns = std::fs::File::open(ep.sandbox)
            .map_err(|e| NetworkError::io(format!("opening {}", ep.sandbox.display()), e))?;
        let mut nl = Netlink::open()?;
        let bridge = nl.require_link(&network.bridge)?;
        let host = {
            use std::os::fd::AsRawFd;
            nl.add_veth(&host_name, ep.ifname, ns.as_raw_fd(), network.mtu)?
        };
        let result = (|| -> Result<()> {
            nl.set_link(
                host,
                &LinkChange {
                    up: true,
                    master: Some(bridge),
                    ..Default::default()
                },
            )?;
            // Lets a container reach its own published ports through the host.
            nl.set_hairpin(host)?;
            configure_inside(ep.sandbox, ep)
        })();
        if result.is_err() {
            let _ = nl.del_link(host);
        }
        result
    }

    fn leave(&self, _network: &NetworkRecord, endpoint_id: &str) -> Result<()> {
        Netlink::open()?.del_link_named(&host_veth_name(endpoint_id))
    }
}

/// Inside the container's namespace: MAC, address, up, default route.
fn configure_inside(sandbox: &Path, ep: &EndpointSpec<'_>) -> Result<()> {
    netns::run_in(sandbox, || {
        let mut nl = Netlink::open()?;
        let index = nl.require_link(ep.ifname)?;
        nl.set_link(
            index,
            &LinkChange {
                mac: Some(ep.mac),
                ..Default::default()
            },
        )?;
        nl.add_address(index, ep.address)?;
        nl.set_link(
            index,
            &LinkChange {
                up: true,
                ..Default::default()
            },
        )?;
        if let Some(gw) = ep.default_gateway {
            nl.add_default_route(index, gw)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_macs() {
        assert_eq!(host_veth_name(&"ab".repeat(32)), "vbabababababab");
        assert!(host_veth_name(&"f".repeat(64)).len() <= 15);
        let mac = mac_for("172.17.0.2".parse().unwrap());
        assert_eq!(format_mac(&mac), "02:42:ac:11:00:02");
        assert_eq!(parse_mac("02:42:AC:11:00:02").unwrap(), mac);
        assert!(parse_mac("02:42:ac:11:00").is_err());
        assert!(parse_mac("zz:42:ac:11:00:02").is_err());
    }
}
