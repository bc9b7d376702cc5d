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

pub mod dns;
pub mod error;
pub mod iptables;
pub mod netlink;
pub mod netns;
pub mod ports;

pub use error::{NetworkError, Result};
