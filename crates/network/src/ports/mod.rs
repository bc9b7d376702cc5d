//! Published ports: what a container asks for (`PortBindings`, `-P`) and
//! the host ports Berth holds for it.
//!
//! Berth publishes without a userland proxy: traffic reaches the container
//! through DNAT rules (see [`crate::iptables`]), while the daemon keeps one
//! socket per mapping bound on the host port so that a port already used by
//! a host process is refused up front and nothing else can take it later.

mod allocator;
mod spec;

pub use allocator::PortAllocator;
pub use spec::{port_requests, PortMapping, PortRequest, Proto};
