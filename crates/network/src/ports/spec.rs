//! Turning a container's `PortBindings` and exposed ports into publication
//! requests, with moby's validation and wording.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{NetworkError, Result};

/// A transport protocol a port can be published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP: the host port is held by a bound, non-listening socket.
    Tcp,
    /// UDP: the host port is held by a bound socket.
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

impl FromStr for Proto {
    type Err = NetworkError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            // docker/cli's wording for a protocol it does not know.
            other => Err(NetworkError::InvalidParameter(format!(
                "invalid proto: {other}"
            ))),
        }
    }
}

/// One requested publication, from `HostConfig.PortBindings` or `-P`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    /// The protocol published.
    pub proto: Proto,
    /// The port inside the container traffic is forwarded to.
    pub container_port: u16,
    /// The host address to publish on; `None` means every address.
    pub host_ip: Option<IpAddr>,
    /// The host port, or an inclusive range of which the first free one is
    /// taken; `None` asks for an ephemeral port.
    pub host_ports: Option<(u16, u16)>,
}

/// One granted publication: what `docker port` and `NetworkSettings.Ports`
/// show, and what the NAT rules forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    /// The protocol published.
    pub proto: Proto,
    /// The host address published on (`0.0.0.0` for every address).
    pub host_ip: IpAddr,
    /// The host port held for the container.
    pub host_port: u16,
    /// The port inside the container.
    pub container_port: u16,
}

impl PortMapping {
    /// Whether this mapping and `other` would need the same host socket:
    /// same protocol and port, and addresses that are equal or where either
    /// one is the wildcard.
    pub fn overlaps(&self, other: &PortMapping) -> bool {
        self.proto == other.proto
            && self.host_port == other.host_port
            && (self.host_ip == other.host_ip
                || self.host_ip.is_unspecified()
                || other.host_ip.is_unspecified())
    }
}

/// `0.0.0.0:8080->80/tcp`, as `docker ps` shows a published port.
impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}->{}/{}",
            std::net::SocketAddr::new(self.host_ip, self.host_port),
            self.container_port,
            self.proto
        )
    }
}

/// Builds the publication requests of a container.
///
/// `bindings` is Docker's `PortBindings` (`"80/tcp"` -> `[(HostIp, HostPort)]`);
/// `exposed` are the exposed port keys (`"80/tcp"`, from the image and
/// `--expose`). With `publish_all` (`-P`) every exposed or bound port without
/// an explicit binding gets an ephemeral host port on every address. Requests
/// come out ordered by container port, then protocol.
pub fn port_requests(
    bindings: &BTreeMap<String, Vec<(String, String)>>,
    exposed: &[String],
    publish_all: bool,
) -> Result<Vec<PortRequest>> {
    // Keyed by parsed port so "80" and "80/tcp" are the same port.
    let mut ports: BTreeMap<(u16, Proto), Vec<(String, String)>> = BTreeMap::new();
    for (key, list) in bindings {
        let (port, proto) = parse_port_key(key)?;
        ports
            .entry((port, proto))
            .or_default()
            .extend(list.iter().cloned());
    }
    if publish_all {
        for key in exposed {
            let (port, proto) = parse_port_key(key)?;
            ports.entry((port, proto)).or_default();
        }
    }

    let mut reqs = Vec::new();
    for ((container_port, proto), list) in ports {
        if list.is_empty() {
            // moby publishes a port without bindings only under -P.
            if publish_all {
                reqs.push(PortRequest {
                    proto,
                    container_port,
                    host_ip: None,
                    host_ports: None,
                });
            }
            continue;
        }
        for (host_ip, host_port) in list {
            reqs.push(PortRequest {
                proto,
                container_port,
                host_ip: parse_host_ip(&host_ip)?,
                host_ports: parse_host_ports(&host_port)?,
            });
        }
    }
    Ok(reqs)
}

/// The address a request without a host IP is published on.
pub(crate) const ANY_V4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// Parses a `"80/tcp"` key (the protocol defaults to tcp, as in moby).
fn parse_port_key(key: &str) -> Result<(u16, Proto)> {
    let (port, proto) = match key.split_once('/') {
        Some((port, proto)) => (port, proto),
        None => (key, "tcp"),
    };
    let proto: Proto = proto.parse()?;
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok((p, proto)),
        _ => Err(invalid_spec(port)),
    }
}

/// Parses a binding's `HostIp`; empty means every address.
fn parse_host_ip(s: &str) -> Result<Option<IpAddr>> {
    if s.is_empty() {
        return Ok(None);
    }
    let ip: IpAddr = s
        .parse()
        .map_err(|_| NetworkError::InvalidParameter(format!("invalid host IP address: {s:?}")))?;
    if ip.is_ipv6() {
        // The NAT rules are IPv4 only; refusing beats publishing nothing.
        return Err(NetworkError::InvalidParameter(format!(
            "publishing ports on an IPv6 host address is not supported: {s:?}"
        )));
    }
    Ok(Some(ip))
}

/// Parses a binding's `HostPort`: empty or `0` is ephemeral, `N` one port,
/// `N-M` a range.
fn parse_host_ports(s: &str) -> Result<Option<(u16, u16)>> {
    if s.is_empty() {
        return Ok(None);
    }
    let parse = |p: &str| p.parse::<u16>().map_err(|_| invalid_spec(s));
    let (lo, hi) = match s.split_once('-') {
        Some((lo, hi)) => (parse(lo)?, parse(hi)?),
        None => {
            let p = parse(s)?;
            (p, p)
        }
    };
    if lo == 0 && hi == 0 {
        return Ok(None);
    }
    if lo == 0 || hi < lo {
        return Err(invalid_spec(s));
    }
    Ok(Some((lo, hi)))
}

/// moby's `validatePortBindings` error.
fn invalid_spec(s: &str) -> NetworkError {
    NetworkError::InvalidParameter(format!("invalid port specification: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bindings(items: &[(&str, &[(&str, &str)])]) -> BTreeMap<String, Vec<(String, String)>> {
        items
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.iter()
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    fn req(proto: Proto, cport: u16, ip: Option<&str>, ports: Option<(u16, u16)>) -> PortRequest {
        PortRequest {
            proto,
            container_port: cport,
            host_ip: ip.map(|s| s.parse().unwrap()),
            host_ports: ports,
        }
    }

    fn err(r: Result<Vec<PortRequest>>) -> String {
        match r {
            Err(NetworkError::InvalidParameter(m)) => m,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn proto_round_trips() {
        assert_eq!("tcp".parse::<Proto>().unwrap(), Proto::Tcp);
        assert_eq!("udp".parse::<Proto>().unwrap(), Proto::Udp);
        assert_eq!(Proto::Udp.to_string(), "udp");
        assert_eq!(
            "sctp".parse::<Proto>().unwrap_err().to_string(),
            "invalid proto: sctp"
        );
    }

    #[test]
    fn explicit_bindings_ranges_and_udp() {
        let b = bindings(&[
            ("80/tcp", &[("", "8080"), ("127.0.0.1", "8081")]),
            ("53/udp", &[("", "5353")]),
            ("443", &[("10.0.0.1", "8000-8010")]),
            ("9000/tcp", &[("", ""), ("", "0")]),
        ]);
        let got = port_requests(&b, &[], false).unwrap();
        assert_eq!(
            got,
            vec![
                req(Proto::Udp, 53, None, Some((5353, 5353))),
                req(Proto::Tcp, 80, None, Some((8080, 8080))),
                req(Proto::Tcp, 80, Some("127.0.0.1"), Some((8081, 8081))),
                req(Proto::Tcp, 443, Some("10.0.0.1"), Some((8000, 8010))),
                req(Proto::Tcp, 9000, None, None),
                req(Proto::Tcp, 9000, None, None),
            ]
        );
    }

    #[test]
    fn publish_all_adds_ephemeral_for_unbound_exposed_ports() {
        let b = bindings(&[("80/tcp", &[("", "8080")]), ("81/tcp", &[])]);
        let exposed = vec!["80/tcp".to_string(), "53/udp".to_string(), "82".to_string()];
        let got = port_requests(&b, &exposed, true).unwrap();
        assert_eq!(
            got,
            vec![
                req(Proto::Udp, 53, None, None),
                req(Proto::Tcp, 80, None, Some((8080, 8080))),
                req(Proto::Tcp, 81, None, None),
                req(Proto::Tcp, 82, None, None),
            ]
        );
    }

    #[test]
    fn without_publish_all_exposed_and_empty_bindings_are_not_published() {
        let b = bindings(&[("81/tcp", &[])]);
        let exposed = vec!["80/tcp".to_string()];
        assert!(port_requests(&b, &exposed, false).unwrap().is_empty());
    }

    #[test]
    fn bad_input_uses_moby_wording() {
        assert_eq!(
            err(port_requests(&bindings(&[("http/tcp", &[])]), &[], false)),
            r#"invalid port specification: "http""#
        );
        assert_eq!(
            err(port_requests(&bindings(&[("0/tcp", &[])]), &[], false)),
            r#"invalid port specification: "0""#
        );
        assert_eq!(
            err(port_requests(&bindings(&[("70000", &[])]), &[], false)),
            r#"invalid port specification: "70000""#
        );
        assert_eq!(
            err(port_requests(&bindings(&[("80/sctp", &[])]), &[], false)),
            "invalid proto: sctp"
        );
        assert_eq!(
            err(port_requests(
                &bindings(&[("80/tcp", &[("", "80a")])]),
                &[],
                false
            )),
            r#"invalid port specification: "80a""#
        );
        assert_eq!(
            err(port_requests(
                &bindings(&[("80/tcp", &[("", "90-80")])]),
                &[],
                false
            )),
            r#"invalid port specification: "90-80""#
        );
        assert_eq!(
            err(port_requests(
                &bindings(&[("80/tcp", &[("nope", "80")])]),
                &[],
                false
            )),
            r#"invalid host IP address: "nope""#
        );
        assert!(err(port_requests(
            &bindings(&[("80/tcp", &[("::1", "80")])]),
            &[],
            false
        ))
        .contains("IPv6"));
        assert_eq!(
            err(port_requests(
                &BTreeMap::new(),
                &["x/tcp".to_string()],
                true
            )),
            r#"invalid port specification: "x""#
        );
    }

    #[test]
    fn overlap_treats_the_wildcard_as_every_address() {
        let m = |ip: &str, port, proto| PortMapping {
            proto,
            host_ip: ip.parse().unwrap(),
            host_port: port,
            container_port: 80,
        };
        assert!(m("0.0.0.0", 80, Proto::Tcp).overlaps(&m("127.0.0.1", 80, Proto::Tcp)));
        assert!(m("127.0.0.1", 80, Proto::Tcp).overlaps(&m("127.0.0.1", 80, Proto::Tcp)));
        assert!(!m("127.0.0.1", 80, Proto::Tcp).overlaps(&m("10.0.0.1", 80, Proto::Tcp)));
        assert!(!m("0.0.0.0", 80, Proto::Tcp).overlaps(&m("0.0.0.0", 80, Proto::Udp)));
        assert!(!m("0.0.0.0", 80, Proto::Tcp).overlaps(&m("0.0.0.0", 81, Proto::Tcp)));
    }

    #[test]
    fn mapping_serializes_with_lowercase_proto() {
        let m = PortMapping {
            proto: Proto::Udp,
            host_ip: "0.0.0.0".parse().unwrap(),
            host_port: 5353,
            container_port: 53,
        };
        let s = serde_json::to_string(&m).unwrap();
        assert_eq!(
            s,
            r#"{"proto":"udp","host_ip":"0.0.0.0","host_port":5353,"container_port":53}"#
        );
        assert_eq!(serde_json::from_str::<PortMapping>(&s).unwrap(), m);
        assert_eq!(m.to_string(), "0.0.0.0:5353->53/udp");
    }
}
