//! # berth-network
//!
//! Berth's container networking, as libnetwork is Docker's: the `bridge`
//! driver (a Linux bridge, one veth pair per container, IPAM with leases
//! kept on disk), NAT and published ports through iptables, the `host`
//! and `none` modes, and the embedded DNS resolver containers on a
//! user-defined network use to find each other by name.
//!
//! Test alone: `cargo test -p berth-network` (as root: the tests make
//! their own network namespaces and never touch the host's).

pub mod bridge;
pub mod controller;
pub mod dns;
pub mod driver;
pub mod error;
pub mod ipam;
pub mod iptables;
pub mod netlink;
pub mod netns;
pub mod ports;
pub mod store;
pub mod subnet;

pub use controller::{
    Attach, Attached, ContainerRef, ControllerConfig, CreateNetwork, Endpoint, NetworkController,
    Prepared, RESOLVER_IP,
};
pub use driver::NetworkDriver;
pub use error::{NetworkError, Result};
pub use ipnet::Ipv4Net;
pub use ports::{PortMapping, PortRequest, Proto};
pub use store::NetworkRecord;
