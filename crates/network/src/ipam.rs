//! IP address management for one network: its subnet, gateway, optional
//! allocation range, and the addresses leased to endpoints. The leases are
//! part of the network's record, so they survive a daemon restart.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::error::{NetworkError, Result};

/// One network's address pool and its leases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// The network's subnet.
    pub subnet: Ipv4Net,
    /// The gateway address (the bridge's own), never leased.
    pub gateway: Ipv4Addr,
    /// Where dynamic addresses are taken from (`--ip-range`); the whole
    /// subnet when `None`.
    #[serde(default)]
    pub range: Option<Ipv4Net>,
    /// Leased address -> its owner (an endpoint ID).
    #[serde(default)]
    pub leases: BTreeMap<Ipv4Addr, String>,
}

impl Pool {
    /// A pool over `subnet`. The gateway defaults to the first host address;
    /// a gateway or range outside the subnet is refused with Docker's words.
    pub fn new(subnet: Ipv4Net, gateway: Option<Ipv4Addr>, range: Option<Ipv4Net>) -> Result<Pool> {
        let subnet = subnet.trunc();
        if subnet.prefix_len() > 30 {
            return Err(NetworkError::InvalidParameter(format!(
                "invalid subnet {subnet}: too small for a network"
            )));
        }
        let gateway = match gateway {
            Some(g) if !subnet.contains(&g) => {
                return Err(NetworkError::InvalidParameter(format!(
                    "no matching subnet for gateway {g}"
                )))
            }
            Some(g) => g,
            None => first_host(subnet),
        };
        if let Some(r) = range {
            if !subnet.contains(&r) {
                return Err(NetworkError::InvalidParameter(format!(
                    "no matching subnet for range {r}"
                )));
            }
        }
        Ok(Pool {
            subnet,
            gateway,
            range: range.map(|r| r.trunc()),
            leases: BTreeMap::new(),
        })
    }

    /// Leases an address to `owner`: `wanted` if given (it must be in the
    /// subnet and free), else the lowest free one in the range.
    pub fn allocate(&mut self, owner: &str, wanted: Option<Ipv4Addr>) -> Result<Ipv4Addr> {
        let ip = match wanted {
            Some(ip) => {
                if !self.subnet.contains(&ip) || self.reserved(ip) {
                    return Err(NetworkError::InvalidParameter(format!(
                        "invalid address {ip}: it does not belong to subnet {}",
                        self.subnet
                    )));
                }
                if self.leases.contains_key(&ip) {
                    return Err(NetworkError::Conflict(format!(
                        "Address already in use: {ip}"
                    )));
                }
                ip
            }
            None => {
                let range = self.range.unwrap_or(self.subnet);
                range
                    .hosts()
                    .find(|ip| !self.reserved(*ip) && !self.leases.contains_key(ip))
                    .ok_or_else(|| {
                        NetworkError::Unavailable(format!(
                            "no available IPv4 addresses on this network's address pools: {}",
                            self.subnet
                        ))
                    })?
            }
        };
        self.leases.insert(ip, owner.to_string());
        Ok(ip)
    }

    /// Returns `ip` to the pool.
    pub fn release(&mut self, ip: Ipv4Addr) {
        self.leases.remove(&ip);
    }

    /// Drops every lease whose owner `keep` rejects; returns how many.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) -> usize {
        let before = self.leases.len();
        self.leases.retain(|_, owner| keep(owner));
        before - self.leases.len()
    }

    fn reserved(&self, ip: Ipv4Addr) -> bool {
        ip == self.gateway || ip == self.subnet.network() || ip == self.subnet.broadcast()
    }
}

/// The first usable host address of `subnet` (the default gateway).
pub fn first_host(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn allocates_in_order_skipping_gateway() {
        let mut p = Pool::new(net("10.9.0.0/29"), None, None).unwrap();
        assert_eq!(p.gateway, Ipv4Addr::new(10, 9, 0, 1));
        let a = p.allocate("a", None).unwrap();
        let b = p.allocate("b", None).unwrap();
        assert_eq!(
            (a, b),
            (Ipv4Addr::new(10, 9, 0, 2), Ipv4Addr::new(10, 9, 0, 3))
        );
        p.release(a);
        assert_eq!(
            p.allocate("c", None).unwrap(),
            a,
            "a released address is reused"
        );
        for _ in 0..3 {
            p.allocate("x", None).unwrap();
        }
        let err = p.allocate("y", None).unwrap_err().to_string();
        assert!(err.contains("no available IPv4 addresses"), "{err}");
    }

    #[test]
    fn static_addresses_and_ranges() {
        let mut p = Pool::new(
            net("172.30.0.0/16"),
            Some(Ipv4Addr::new(172, 30, 0, 254)),
            Some(net("172.30.5.0/24")),
        )
        .unwrap();
        assert_eq!(p.allocate("a", None).unwrap(), Ipv4Addr::new(172, 30, 5, 1));
        let fixed = Ipv4Addr::new(172, 30, 0, 9);
        assert_eq!(p.allocate("b", Some(fixed)).unwrap(), fixed);
        let err = p.allocate("c", Some(fixed)).unwrap_err();
        assert!(err.to_string().contains("Address already in use"), "{err}");
        let err = p
            .allocate("c", Some(Ipv4Addr::new(10, 0, 0, 1)))
            .unwrap_err();
        assert!(
            err.to_string().contains("does not belong to subnet"),
            "{err}"
        );
        assert!(p.allocate("c", Some(p.gateway)).is_err());
        assert_eq!(p.retain(|o| o == "b"), 1);
        assert_eq!(p.leases.len(), 1);
    }

    #[test]
    fn bad_gateway_or_range() {
        assert!(Pool::new(net("10.1.0.0/24"), Some(Ipv4Addr::new(10, 2, 0, 1)), None).is_err());
        assert!(Pool::new(net("10.1.0.0/24"), None, Some(net("10.1.1.0/25"))).is_err());
        assert!(Pool::new(net("10.1.0.0/31"), None, None).is_err());
    }
}
