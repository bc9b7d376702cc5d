//! The host's nameservers, read from resolv.conf text.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

/// The nameservers of a resolv.conf text as port-53 socket addresses
/// (loopback ones included: forwarding happens from the host's
/// namespace), in file order without duplicates. Comments (`#`, `;`) and
/// unparsable addresses are skipped; an IPv6 link-local address keeps its
/// `%zone` (an interface index, or a name looked up in /sys/class/net).
pub fn upstreams_from_resolv_conf(text: &str) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut fields = line.split_whitespace();
        if fields.next() != Some("nameserver") {
            continue;
        }
        let Some(addr) = fields.next().and_then(parse_nameserver) else {
            continue;
        };
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    out
}

fn parse_nameserver(field: &str) -> Option<SocketAddr> {
    if let Ok(ip) = field.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 53));
    }
    let (ip, zone) = field.split_once('%')?;
    let ip: Ipv6Addr = ip.parse().ok()?;
    let scope = match zone.parse::<u32>() {
        Ok(index) => index,
        Err(_) => interface_index(zone)?,
    };
    Some(SocketAddr::V6(SocketAddrV6::new(ip, 53, 0, scope)))
}

fn interface_index(name: &str) -> Option<u32> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex")).ok()?;
    text.trim().parse().ok()
}
