//! Host ports held for containers, one socket per granted mapping.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

use nix::errno::Errno;
use nix::sys::socket::{bind, socket, AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrIn6};

use super::spec::{PortMapping, PortRequest, Proto, ANY_V4};
use crate::error::{NetworkError, Result};

/// Where the kernel keeps the ephemeral port range Docker also draws from.
const LOCAL_PORT_RANGE: &str = "/proc/sys/net/ipv4/ip_local_port_range";

/// Docker's ephemeral range when the kernel's cannot be read.
const FALLBACK_RANGE: (u16, u16) = (49153, 65535);

/// Host ports held for containers: one socket per mapping, so a port used
/// by a host process is refused, and nothing can take a published port
/// while its container holds it. TCP sockets are bound but never listen
/// (the DNAT rules carry the traffic); UDP sockets are bound.
pub struct PortAllocator {
    /// The inclusive range ephemeral ports are picked from.
    range: (u16, u16),
    state: Mutex<State>,
}

struct State {
    /// Sockets by owner (a container ID).
    held: BTreeMap<String, Vec<Held>>,
    /// Where the next ephemeral search starts, so freed ports are not
    /// handed out again at once (as moby's allocator does).
    next_ephemeral: u16,
}

/// A granted mapping and the socket keeping its host port.
struct Held {
    mapping: PortMapping,
    _socket: OwnedFd,
}

impl Default for PortAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl PortAllocator {
    /// An allocator drawing ephemeral ports from the kernel's
    /// `ip_local_port_range` (Docker's 49153-65535 when unreadable).
    pub fn new() -> Self {
        let range = std::fs::read_to_string(LOCAL_PORT_RANGE)
            .ok()
            .and_then(|s| parse_range(&s))
            .unwrap_or(FALLBACK_RANGE);
        Self::with_range(range.0, range.1)
    }

    /// An allocator drawing ephemeral ports from `lo..=hi`.
    pub fn with_range(lo: u16, hi: u16) -> Self {
        let (lo, hi) = if lo <= hi && lo != 0 {
            (lo, hi)
        } else {
            FALLBACK_RANGE
        };
        PortAllocator {
            range: (lo, hi),
            state: Mutex::new(State {
                held: BTreeMap::new(),
                next_ephemeral: lo,
            }),
        }
    }

    /// The inclusive range ephemeral ports come from.
    pub fn ephemeral_range(&self) -> (u16, u16) {
        self.range
    }

    /// Reserves every request for `owner`, or none: on an error whatever
    /// this call reserved is released. A port held for another mapping
    /// gives moby's `Bind for 0.0.0.0:8080 failed: port is already
    /// allocated`; a port a host process holds gives the bind error.
    pub fn reserve(&self, owner: &str, reqs: &[PortRequest]) -> Result<Vec<PortMapping>> {
        self.reserve_for(owner, None, reqs)
    }

    /// As [`PortAllocator::reserve`], naming the container's address in a
    /// bind error the way moby 28 does (`failed to bind host port for
    /// 0.0.0.0:8080:172.17.0.2:80/tcp: address already in use`).
    pub fn reserve_for(
        &self,
        owner: &str,
        container_ip: Option<Ipv4Addr>,
        reqs: &[PortRequest],
    ) -> Result<Vec<PortMapping>> {
        let mut state = self.lock();
        let mut granted: Vec<Held> = Vec::with_capacity(reqs.len());
        for req in reqs {
            // An early return drops `granted`, closing its sockets.
            let held = self.grant(&mut state, &granted, req, container_ip)?;
            granted.push(held);
        }
        let maps = granted.iter().map(|h| h.mapping).collect();
        state
            .held
            .entry(owner.to_string())
            .or_default()
            .extend(granted);
        Ok(maps)
    }

    /// Re-reserves exactly `maps` for `owner` (after a daemon restart),
    /// all or none. Mappings `owner` already holds are left as they are.
    pub fn reserve_exact(&self, owner: &str, maps: &[PortMapping]) -> Result<()> {
        let mut state = self.lock();
        let mut granted: Vec<Held> = Vec::with_capacity(maps.len());
        for m in maps {
            let own = state.held.get(owner).map(Vec::as_slice).unwrap_or(&[]);
            if own.iter().any(|h| h.mapping == *m) || granted.iter().any(|h| h.mapping == *m) {
                continue;
            }
            if state.overlaps(m) || granted.iter().any(|h| h.mapping.overlaps(m)) {
                return Err(already_allocated(m));
            }
            let socket = bind_host_port(m).map_err(|e| bind_error(m, None, e))?;
            granted.push(Held {
                mapping: *m,
                _socket: socket,
            });
        }
        state
            .held
            .entry(owner.to_string())
            .or_default()
            .extend(granted);
        Ok(())
    }

    /// Releases every host port held for `owner`.
    pub fn release(&self, owner: &str) {
        self.lock().held.remove(owner);
    }

    /// The mappings held for `owner`, in the order they were granted.
    pub fn mappings(&self, owner: &str) -> Vec<PortMapping> {
        self.lock()
            .held
            .get(owner)
            .map(|v| v.iter().map(|h| h.mapping).collect())
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves the map consistent (every
        // change is a single insert or remove), so poisoning is ignored.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Grants one request, trying each candidate port in turn.
    fn grant(
        &self,
        state: &mut State,
        granted: &[Held],
        req: &PortRequest,
        container_ip: Option<Ipv4Addr>,
    ) -> Result<Held> {
        let host_ip = req.host_ip.unwrap_or(ANY_V4);
        let mapping = |host_port| PortMapping {
            proto: req.proto,
            host_ip,
            host_port,
            container_port: req.container_port,
        };
        let taken =
            |m: &PortMapping| state.overlaps(m) || granted.iter().any(|h| h.mapping.overlaps(m));

        if let Some((lo, hi)) = req.host_ports {
            // A fixed port or a range: the first free one wins, and when
            // none is, the error of the last one tried is the answer.
            let mut last = None;
            for port in lo..=hi {
                let m = mapping(port);
                if taken(&m) {
                    last = Some(already_allocated(&m));
                    continue;
                }
                match bind_host_port(&m) {
                    Ok(socket) => {
                        return Ok(Held {
                            mapping: m,
                            _socket: socket,
                        })
                    }
                    Err(Errno::EADDRINUSE) => {
                        last = Some(bind_error(&m, container_ip, Errno::EADDRINUSE))
                    }
                    Err(e) => return Err(bind_error(&m, container_ip, e)),
                }
            }
            return Err(last.expect("a range holds at least one port"));
        }

        let (lo, hi) = self.range;
        let span = u32::from(hi - lo) + 1;
        let start = state.next_ephemeral.clamp(lo, hi);
        for i in 0..span {
            let port = lo + ((u32::from(start - lo) + i) % span) as u16;
            let m = mapping(port);
            if taken(&m) {
                continue;
            }
            match bind_host_port(&m) {
                Ok(socket) => {
                    state.next_ephemeral = if port == hi { lo } else { port + 1 };
                    return Ok(Held {
                        mapping: m,
                        _socket: socket,
                    });
                }
                Err(Errno::EADDRINUSE) => continue,
                Err(e) => return Err(bind_error(&m, container_ip, e)),
            }
        }
        // moby's portallocator wording once the range is exhausted.
        Err(NetworkError::Conflict(
            "all ports are allocated".to_string(),
        ))
    }
}

impl State {
    /// Whether any held mapping needs the same host socket as `m`.
    fn overlaps(&self, m: &PortMapping) -> bool {
        self.held.values().flatten().any(|h| h.mapping.overlaps(m))
    }
}

/// Opens the socket that holds `m`'s host port.
fn bind_host_port(m: &PortMapping) -> std::result::Result<OwnedFd, Errno> {
    let family = match m.host_ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    let ty = match m.proto {
        Proto::Tcp => SockType::Stream,
        Proto::Udp => SockType::Datagram,
    };
    // CLOEXEC: a socket leaking into a child would keep the port after the
    // daemon releases it.
    let fd = socket(family, ty, SockFlag::SOCK_CLOEXEC, None)?;
    match SocketAddr::new(m.host_ip, m.host_port) {
        SocketAddr::V4(a) => bind(fd.as_raw_fd(), &SockaddrIn::from(a))?,
        SocketAddr::V6(a) => bind(fd.as_raw_fd(), &SockaddrIn6::from(a))?,
    }
    Ok(fd)
}

/// moby's portallocator error for a port another mapping holds.
fn already_allocated(m: &PortMapping) -> NetworkError {
    NetworkError::Conflict(format!(
        "Bind for {} failed: port is already allocated",
        SocketAddr::new(m.host_ip, m.host_port)
    ))
}

/// moby 28's error for a host port that cannot be bound.
fn bind_error(m: &PortMapping, container_ip: Option<Ipv4Addr>, e: Errno) -> NetworkError {
    let host = SocketAddr::new(m.host_ip, m.host_port);
    let why = go_errno_text(e);
    let msg = match container_ip {
        Some(cip) => format!(
            "failed to bind host port for {host}:{cip}:{}/{}: {why}",
            m.container_port, m.proto
        ),
        None => format!("failed to bind host port {host}/{}: {why}", m.proto),
    };
    match e {
        Errno::EADDRINUSE => NetworkError::Conflict(msg),
        Errno::EADDRNOTAVAIL => NetworkError::InvalidParameter(msg),
        _ => NetworkError::System(msg),
    }
}

/// An errno as Go prints it (strerror with a lower-case first letter),
/// which is what Docker users see and search for.
fn go_errno_text(e: Errno) -> String {
    let desc = e.desc();
    let mut chars = desc.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => e.to_string(),
    }
}

/// Parses `ip_local_port_range` ("32768\t60999").
fn parse_range(s: &str) -> Option<(u16, u16)> {
    let mut it = s.split_whitespace().map(|p| p.parse::<u16>().ok());
    let lo = it.next()??;
    let hi = it.next()??;
    (lo != 0 && lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_parsing() {
        assert_eq!(parse_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_range("5 4"), None);
        assert_eq!(parse_range("junk"), None);
    }

    #[test]
    fn errno_text_matches_go() {
        assert_eq!(go_errno_text(Errno::EADDRINUSE), "address already in use");
        assert_eq!(
            go_errno_text(Errno::EADDRNOTAVAIL),
            "cannot assign requested address"
        );
    }
}
