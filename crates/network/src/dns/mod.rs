//! The embedded DNS resolver, Docker's 127.0.0.11: containers on a
//! user-defined network resolve each other by name, alias and short ID
//! through it, and every other name is forwarded to the host's resolvers.
//!
//! One [`Resolver`] serves one container. The caller binds its sockets
//! inside the container's network namespace and passes them in; the
//! resolver's own upstream sockets are opened by the runtime's threads, so
//! forwarding happens from the daemon's namespace (which is why loopback
//! nameservers from the host's resolv.conf work as upstreams).

mod forward;
mod local;
mod message;
mod resolv_conf;
mod server;

#[cfg(test)]
mod tests;

pub use resolv_conf::upstreams_from_resolv_conf;
pub use server::Resolver;

/// What the resolver answers from: one container's view of its networks.
pub trait NameLookup: Send + Sync + 'static {
    /// IPv4 addresses `name` has on the container's networks (name is
    /// lowercase, no trailing dot); empty when unknown here.
    fn lookup_v4(&self, name: &str) -> Vec<std::net::Ipv4Addr>;
    /// The name for an address on those networks (PTR), if any.
    fn lookup_ptr(&self, ip: std::net::Ipv4Addr) -> Option<String>;
}
