//! The few kernel switches the NAT rules depend on.

use crate::error::{NetworkError, Result};

/// Writes `value` to `/proc/sys/<key>` unless it already holds it (so a
/// read-only /proc with the right value is not an error).
pub fn ensure(key: &str, value: &str) -> Result<()> {
    let path = format!("/proc/sys/{key}");
    if std::fs::read_to_string(&path).is_ok_and(|cur| cur.trim() == value) {
        return Ok(());
    }
    std::fs::write(&path, value).map_err(|e| NetworkError::io(format!("setting {path}"), e))
}

/// Lets packets with a loopback source be routed out of `iface`: the DNAT
/// of 127.0.0.1:port into a container needs it on the bridge.
pub fn route_localnet(iface: &str) -> Result<()> {
    ensure(&format!("net/ipv4/conf/{iface}/route_localnet"), "1")
}

/// Turns on IPv4 forwarding between interfaces.
pub fn ip_forward() -> Result<()> {
    ensure("net/ipv4/ip_forward", "1")
}
