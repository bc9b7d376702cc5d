//! The embedded DNS resolver, Docker's 127.0.0.11: containers on a
//! user-defined network resolve each other by name, alias and short ID
//! through it, and every other name is forwarded to the host's resolvers.
//!
//! One [`Resolver`] serves one container. The caller binds its sockets
//! inside the container's network namespace and passes them in; the
//! resolver's own upstream sockets are opened by the runtime's threads, so
//! forwarding happens from the daemon's namespace (which is why loopback
//! nameservers from the host's resolv.conf work as upstreams).
//!
//! What it answers, as Docker does: A for a known name (TTL 600, one
//! record per address); AAAA for a known name with NOERROR and no answer;
//! PTR under in-addr.arpa for a known address. Everything else is sent
//! verbatim to the upstreams in turn (UDP queries over UDP, TCP over TCP,
//! 2 s each; SERVFAIL and REFUSED move on to the next) and the first
//! usable reply relayed with the client's ID; when none answers, SERVFAIL.
//! Malformed packets are dropped. UDP replies are cut to 512 bytes (or
//! the query's EDNS size) with TC set. At most 100 forwarded queries are
//! in flight per resolver; past that the client gets SERVFAIL at once.
//!
//! Test alone: `cargo test -p berth-network dns` (loopback sockets only;
//! the busybox nslookup test also binds 127.0.0.1:53 when it is free).

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
