//! Berth's NAT and forwarding rules, through the `iptables` tool (as
//! dockerd does), in chains of its own so it never touches other rules or
//! Docker's chains on the same host.
//!
//! Layout (all rules outside `BERTH*` chains are jumps tagged
//! `--comment berth`):
//!
//! - nat `PREROUTING`/`OUTPUT` (to a local address) -> `BERTH`: one DNAT per
//!   published port.
//! - nat `POSTROUTING` -> `BERTH-POSTROUTING`: per bridge, masquerade for
//!   outbound traffic, for the host reaching a container, and for hairpin.
//! - filter `FORWARD` -> `BERTH-FORWARD` -> `BERTH-ISOLATION-STAGE-1/2`
//!   (no traffic between different Berth bridges, nothing in or out of an
//!   internal one) and `BERTH` (accepts for the published ports), then per
//!   bridge: established inbound, all outbound, intra-bridge, and a drop of
//!   anything else inbound.

mod cmd;
mod rules;
mod sysctl;

use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;

use crate::error::{NetworkError, Result};
use crate::ports::PortMapping;
use cmd::{Rule, Tool};
use rules::{CHAINS, CHAIN_PREFIX, FILTER_PORTS, NAT_PORTS};

/// The built-in chains Berth may put its tagged jumps in.
const BUILTIN_CHAINS: &[(&str, &str)] = &[
    ("nat", "PREROUTING"),
    ("nat", "INPUT"),
    ("nat", "OUTPUT"),
    ("nat", "POSTROUTING"),
    ("filter", "INPUT"),
    ("filter", "FORWARD"),
    ("filter", "OUTPUT"),
];

/// Serialises Berth's check-then-add sequences across threads and
/// processes (several daemons, or tests, on one host): `iptables -w` locks
/// each command only, and two `-C` then `-I` could both insert.
fn rules_lock() -> Result<nix::fcntl::Flock<std::fs::File>> {
    let path = if std::path::Path::new("/run").is_dir() {
        "/run/berth-iptables.lock"
    } else {
        "/tmp/berth-iptables.lock"
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| NetworkError::io(format!("opening {path}"), e))?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| NetworkError::System(format!("locking {path}: {e}")))
}

/// Berth's iptables rule set. Every method is idempotent.
#[derive(Debug, Clone)]
pub struct Iptables {
    tool: Tool,
}

impl Iptables {
    /// Uses the `iptables` found on `PATH` (or in /usr/sbin, /sbin).
    pub fn new() -> Result<Self> {
        Ok(Iptables {
            tool: Tool::find()?,
        })
    }

    /// Uses the `iptables` binary at `bin`.
    pub fn with_binary(bin: impl AsRef<std::path::Path>) -> Self {
        Iptables {
            tool: Tool::at(bin),
        }
    }

    /// Enables IPv4 forwarding, creates Berth's chains and the tagged jumps
    /// into them from the built-in chains, inserted first.
    pub fn ensure_base(&self) -> Result<()> {
        let _lock = rules_lock()?;
        sysctl::ip_forward()?;
        for (table, chain) in CHAINS {
            self.tool.new_chain(table, chain)?;
        }
        for (rule, pos) in rules::base_rules() {
            self.tool.insert(&rule, pos)?;
        }
        for jump in rules::jumps() {
            self.tool.insert(&jump, 1)?;
        }
        Ok(())
    }

    /// Installs the rules of the bridge network `bridge` with `subnet`:
    /// masquerade and forwarding, or for an `internal` network a drop of
    /// anything crossing its border; isolation from other Berth bridges;
    /// `route_localnet` on the bridge so 127.0.0.1 reaches published ports.
    /// Needs [`Iptables::ensure_base`] first.
    pub fn setup_bridge(&self, bridge: &str, subnet: Ipv4Net, internal: bool) -> Result<()> {
        let _lock = rules_lock()?;
        let set = rules::bridge_rules(bridge, subnet, internal);
        for rule in set.first.iter().rev() {
            self.tool.insert(rule, 1)?;
        }
        for rule in &set.last {
            self.tool.append(rule)?;
        }
        if !internal {
            sysctl::route_localnet(bridge)?;
        }
        Ok(())
    }

    /// Removes what [`Iptables::setup_bridge`] added for `bridge`, and any
    /// published port still forwarded into it.
    pub fn teardown_bridge(&self, bridge: &str, subnet: Ipv4Net, internal: bool) -> Result<()> {
        let _lock = rules_lock()?;
        self.remove_ports_into(bridge, subnet)?;
        for rule in rules::bridge_rules(bridge, subnet, internal).all() {
            self.tool.delete(rule)?;
        }
        Ok(())
    }

    /// Publishes `m` for the container at `container_ip` on `bridge`: the
    /// DNAT from the host port and the filter accept for it.
    pub fn add_port(&self, bridge: &str, container_ip: Ipv4Addr, m: &PortMapping) -> Result<()> {
        let _lock = rules_lock()?;
        for rule in port_rules(bridge, container_ip, m)? {
            self.tool.append(&rule)?;
        }
        Ok(())
    }

    /// Undoes exactly [`Iptables::add_port`].
    pub fn remove_port(&self, bridge: &str, container_ip: Ipv4Addr, m: &PortMapping) -> Result<()> {
        let _lock = rules_lock()?;
        for rule in port_rules(bridge, container_ip, m)? {
            self.tool.delete(&rule)?;
        }
        Ok(())
    }

    /// Removes every per-port rule (at daemon start, before the live
    /// containers' ports are added again).
    pub fn flush_ports(&self) -> Result<()> {
        self.tool.flush("nat", NAT_PORTS)?;
        self.tool.flush("filter", FILTER_PORTS)
    }

    /// Removes every rule and chain Berth added: the tagged jumps, then the
    /// `BERTH*` chains of the nat and filter tables.
    pub fn remove_all(&self) -> Result<()> {
        for jump in rules::jumps() {
            self.tool.delete(&jump)?;
        }
        // Any other tagged rule in a built-in chain, e.g. one an older
        // Berth wrote with a different match, goes too.
        for (table, chain) in BUILTIN_CHAINS {
            for args in self.tool.rules(table, chain)? {
                if value_after(&args, "--comment") == Some(rules::TAG) {
                    self.tool.delete(&Rule { table, chain, args })?;
                }
            }
        }
        for table in ["nat", "filter"] {
            let chains = self.tool.chains_with_prefix(table, CHAIN_PREFIX)?;
            // Flush all before deleting any: the chains jump to each other.
            for chain in &chains {
                self.tool.flush(table, chain)?;
            }
            for chain in &chains {
                self.tool.delete_chain(table, chain)?;
            }
        }
        Ok(())
    }

    /// Deletes the per-port rules forwarding into `bridge` (`subnet`).
    fn remove_ports_into(&self, bridge: &str, subnet: Ipv4Net) -> Result<()> {
        for args in self.tool.rules("nat", NAT_PORTS)? {
            let into_subnet = value_after(&args, "--to-destination")
                .and_then(|to| to.split(':').next()?.parse::<Ipv4Addr>().ok())
                .is_some_and(|ip| subnet.contains(&ip));
            if into_subnet {
                self.tool.delete(&Rule {
                    table: "nat",
                    chain: NAT_PORTS,
                    args,
                })?;
            }
        }
        for args in self.tool.rules("filter", FILTER_PORTS)? {
            if value_after(&args, "-o") == Some(bridge) {
                self.tool.delete(&Rule {
                    table: "filter",
                    chain: FILTER_PORTS,
                    args,
                })?;
            }
        }
        Ok(())
    }
}

/// The per-port rules, refusing what the IPv4 rules cannot express.
fn port_rules(bridge: &str, cip: Ipv4Addr, m: &PortMapping) -> Result<Vec<Rule>> {
    if let IpAddr::V6(ip) = m.host_ip {
        return Err(NetworkError::InvalidParameter(format!(
            "publishing ports on an IPv6 host address is not supported: {ip}"
        )));
    }
    Ok(rules::port_rules(bridge, cip, m))
}

/// The argument following `flag` in a rule.
fn value_after<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}
