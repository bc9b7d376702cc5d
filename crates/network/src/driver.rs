//! The seam between the network controller and a network driver (moby's
//! libnetwork `driverapi.Driver`, cut down to what a local engine needs).

use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;

use crate::error::Result;
use crate::store::NetworkRecord;

/// One container's interface on one network, as the driver plumbs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec<'a> {
    /// The endpoint's ID (64 hex); drivers derive host-side names from it.
    pub id: &'a str,
    /// The pinned network namespace of the container (its sandbox).
    pub sandbox: &'a Path,
    /// The interface name inside the container (`eth0`, `eth1`, ...).
    pub ifname: &'a str,
    /// Its address and prefix.
    pub address: Ipv4Net,
    /// Its MAC address.
    pub mac: [u8; 6],
    /// The default route's gateway, when this endpoint provides it.
    pub default_gateway: Option<Ipv4Addr>,
}

/// What a network driver does to the kernel.
pub trait NetworkDriver: Send + Sync {
    /// Creates (or, after a reboot, re-creates) the network's plumbing.
    /// Idempotent.
    fn create_network(&self, network: &NetworkRecord) -> Result<()>;
    /// Removes the network's plumbing. Idempotent.
    fn delete_network(&self, network: &NetworkRecord) -> Result<()>;
    /// Plugs a container into the network.
    fn join(&self, network: &NetworkRecord, endpoint: &EndpointSpec<'_>) -> Result<()>;
    /// Unplugs it. Idempotent: an endpoint already gone is fine.
    fn leave(&self, network: &NetworkRecord, endpoint_id: &str) -> Result<()>;
}
