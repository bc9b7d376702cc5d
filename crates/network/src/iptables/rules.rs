//! The rules Berth installs, as data: built here, applied by `mod.rs`.
//!
//! Everything lives in chains named `BERTH*`; the only rules outside them
//! are the jumps from the built-in chains, each tagged `--comment berth`.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::cmd::Rule;
use crate::ports::PortMapping;

/// The tag on every rule Berth puts in a built-in chain.
pub const TAG: &str = "berth";
/// nat: the per-port DNAT rules, reached for traffic to a local address.
pub const NAT_PORTS: &str = "BERTH";
/// nat: masquerading, reached from POSTROUTING.
pub const NAT_POSTROUTING: &str = "BERTH-POSTROUTING";
/// filter: the per-port accepts for DNATed traffic.
pub const FILTER_PORTS: &str = "BERTH";
/// filter: everything Berth decides about forwarding, reached from FORWARD.
pub const FILTER_FORWARD: &str = "BERTH-FORWARD";
/// filter: the first isolation stage (traffic leaving a Berth bridge).
pub const ISOLATION_1: &str = "BERTH-ISOLATION-STAGE-1";
/// filter: the second isolation stage (traffic entering another one).
pub const ISOLATION_2: &str = "BERTH-ISOLATION-STAGE-2";
/// The prefix all of Berth's chains share.
pub const CHAIN_PREFIX: &str = "BERTH";

/// The chains Berth owns, by table.
pub const CHAINS: &[(&str, &str)] = &[
    ("nat", NAT_PORTS),
    ("nat", NAT_POSTROUTING),
    ("filter", FILTER_PORTS),
    ("filter", FILTER_FORWARD),
    ("filter", ISOLATION_1),
    ("filter", ISOLATION_2),
];

fn rule(table: &'static str, chain: &'static str, args: &[&str]) -> Rule {
    Rule {
        table,
        chain,
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

/// The tagged jumps from the built-in chains into Berth's, each to be
/// inserted first.
///
/// nat OUTPUT covers 127.0.0.0/8 too: with no userland proxy, DNAT is the
/// only way a host-local client reaches a published port.
pub fn jumps() -> Vec<Rule> {
    let jump = |table, chain, local: bool, target| {
        let mut args = Vec::new();
        if local {
            args.extend(["-m", "addrtype", "--dst-type", "LOCAL"]);
        }
        args.extend(["-m", "comment", "--comment", TAG, "-j", target]);
        rule(table, chain, &args)
    };
    vec![
        jump("nat", "PREROUTING", true, NAT_PORTS),
        jump("nat", "OUTPUT", true, NAT_PORTS),
        jump("nat", "POSTROUTING", false, NAT_POSTROUTING),
        jump("filter", "FORWARD", false, FILTER_FORWARD),
    ]
}

/// The fixed head of Berth's own chains, with the position each takes.
pub fn base_rules() -> Vec<(Rule, usize)> {
    vec![
        // Isolation first, then the published ports, then per-bridge rules.
        (rule("filter", FILTER_FORWARD, &["-j", ISOLATION_1]), 1),
        (rule("filter", FILTER_FORWARD, &["-j", FILTER_PORTS]), 2),
        // A published port stays reachable from a container on another
        // bridge (dockerd's userland proxy allowed that too): DNATed
        // connections skip the isolation between bridges.
        (
            rule(
                "filter",
                ISOLATION_1,
                &["-m", "conntrack", "--ctstate", "DNAT", "-j", "RETURN"],
            ),
            1,
        ),
    ]
}

/// What a bridge network needs: rules to insert first (in this order) and
/// rules to append.
pub struct BridgeRules {
    /// Inserted at position 1, last one first, so they end up in order.
    pub first: Vec<Rule>,
    /// Appended.
    pub last: Vec<Rule>,
}

impl BridgeRules {
    /// Every rule, for removal.
    pub fn all(&self) -> impl Iterator<Item = &Rule> {
        self.first.iter().chain(self.last.iter())
    }
}

/// The rules of the bridge `br` with `subnet`.
pub fn bridge_rules(br: &str, subnet: Ipv4Net, internal: bool) -> BridgeRules {
    let net = subnet.trunc().to_string();
    let net = net.as_str();
    if internal {
        return BridgeRules {
            // Ahead of the DNAT exemption: nothing leaves or enters an
            // internal network, published ports included.
            first: vec![
                rule(
                    "filter",
                    ISOLATION_1,
                    &["-i", br, "!", "-d", net, "-j", "DROP"],
                ),
                rule(
                    "filter",
                    ISOLATION_1,
                    &["!", "-s", net, "-o", br, "-j", "DROP"],
                ),
            ],
            last: vec![rule(
                "filter",
                FILTER_FORWARD,
                &["-i", br, "-o", br, "-j", "ACCEPT"],
            )],
        };
    }
    BridgeRules {
        first: Vec::new(),
        last: vec![
            // Outbound: the subnet leaving by any other interface.
            rule(
                "nat",
                NAT_POSTROUTING,
                &["-s", net, "!", "-o", br, "-j", "MASQUERADE"],
            ),
            // The host (127.0.0.1 included) reaching a container: replies
            // must come back to an address the container can route to.
            rule(
                "nat",
                NAT_POSTROUTING,
                &[
                    "-o",
                    br,
                    "-m",
                    "addrtype",
                    "--src-type",
                    "LOCAL",
                    "-j",
                    "MASQUERADE",
                ],
            ),
            // Hairpin: a container reaching a published port DNATed back
            // into its own bridge; without this the reply would bypass the
            // host and never match the client's connection.
            rule(
                "nat",
                NAT_POSTROUTING,
                &[
                    "-s",
                    net,
                    "-o",
                    br,
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "DNAT",
                    "-j",
                    "MASQUERADE",
                ],
            ),
            rule(
                "filter",
                FILTER_FORWARD,
                &[
                    "-o",
                    br,
                    "-m",
                    "conntrack",
                    "--ctstate",
                    "RELATED,ESTABLISHED",
                    "-j",
                    "ACCEPT",
                ],
            ),
            rule(
                "filter",
                FILTER_FORWARD,
                &["-i", br, "!", "-o", br, "-j", "ACCEPT"],
            ),
            rule(
                "filter",
                FILTER_FORWARD,
                &["-i", br, "-o", br, "-j", "ACCEPT"],
            ),
            // Anything else arriving for the bridge was not published
            // (moby 28 drops direct routing to container addresses too).
            rule(
                "filter",
                FILTER_FORWARD,
                &["!", "-i", br, "-o", br, "-j", "DROP"],
            ),
            rule(
                "filter",
                ISOLATION_1,
                &["-i", br, "!", "-o", br, "-j", ISOLATION_2],
            ),
            rule("filter", ISOLATION_2, &["-o", br, "-j", "DROP"]),
        ],
    }
}

/// The DNAT and filter rules publishing `m` for the container at `cip` on
/// the bridge `br`.
pub fn port_rules(br: &str, cip: Ipv4Addr, m: &PortMapping) -> Vec<Rule> {
    let proto = m.proto.to_string();
    let hport = m.host_port.to_string();
    let cport = m.container_port.to_string();
    let to = format!("{cip}:{}", m.container_port);
    let cip_net = format!("{cip}/32");
    let host_net = format!("{}/32", m.host_ip);

    let mut dnat: Vec<&str> = vec!["-p", &proto];
    if !m.host_ip.is_unspecified() {
        dnat.extend(["-d", &host_net]);
    }
    dnat.extend([
        "-m",
        &proto,
        "--dport",
        &hport,
        "-j",
        "DNAT",
        "--to-destination",
        &to,
    ]);

    let accept = [
        "-d", &cip_net, "!", "-i", br, "-o", br, "-p", &proto, "-m", &proto, "--dport", &cport,
        "-j", "ACCEPT",
    ];
    vec![
        rule("nat", NAT_PORTS, &dnat),
        rule("filter", FILTER_PORTS, &accept),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Proto;

    fn joined(r: &Rule) -> String {
        format!("-t {} -A {} {}", r.table, r.chain, r.args.join(" "))
    }

    #[test]
    fn jumps_are_tagged_and_point_into_berth_chains() {
        for j in jumps() {
            let s = joined(&j);
            assert!(s.contains("--comment berth"), "{s}");
            assert!(j.args.last().unwrap().starts_with(CHAIN_PREFIX), "{s}");
        }
    }

    #[test]
    fn port_rules_for_a_specific_address() {
        let m = PortMapping {
            proto: Proto::Udp,
            host_ip: "127.0.0.1".parse().unwrap(),
            host_port: 5353,
            container_port: 53,
        };
        let r = port_rules("br0", "10.1.0.2".parse().unwrap(), &m);
        assert_eq!(
            joined(&r[0]),
            "-t nat -A BERTH -p udp -d 127.0.0.1/32 -m udp --dport 5353 -j DNAT --to-destination 10.1.0.2:53"
        );
        assert_eq!(
            joined(&r[1]),
            "-t filter -A BERTH -d 10.1.0.2/32 ! -i br0 -o br0 -p udp -m udp --dport 53 -j ACCEPT"
        );
    }

    #[test]
    fn bridge_rules_use_the_network_address() {
        let r = bridge_rules("br0", "10.1.0.1/24".parse().unwrap(), false);
        assert!(r.first.is_empty());
        assert_eq!(
            joined(&r.last[0]),
            "-t nat -A BERTH-POSTROUTING -s 10.1.0.0/24 ! -o br0 -j MASQUERADE"
        );
        let internal = bridge_rules("br0", "10.1.0.1/24".parse().unwrap(), true);
        assert!(internal.all().all(|r| r.table == "filter"));
    }
}
