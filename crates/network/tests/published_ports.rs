//! Published ports end to end, as root, against the real kernel and the
//! real `iptables`, each test inside network namespaces of its own.

mod support;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;

use berth_network::iptables::Iptables;
use berth_network::ports::{port_requests, PortAllocator, PortMapping, PortRequest, Proto};
use berth_network::NetworkError;
use support::*;

fn bindings(items: &[(&str, &str, &str)]) -> BTreeMap<String, Vec<(String, String)>> {
    let mut b: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (key, ip, port) in items {
        b.entry(key.to_string())
            .or_default()
            .push((ip.to_string(), port.to_string()));
    }
    b
}

fn tcp(host_port: u16, container_port: u16) -> PortRequest {
    PortRequest {
        proto: Proto::Tcp,
        container_port,
        host_ip: None,
        host_ports: Some((host_port, host_port)),
    }
}

fn conflict(r: Result<impl std::fmt::Debug, NetworkError>) -> String {
    match r {
        Err(NetworkError::Conflict(m)) => m,
        other => panic!("expected a Conflict, got {other:?}"),
    }
}

fn cip() -> Ipv4Addr {
    CIP.parse().unwrap()
}

/// Sets up base and bridge rules in the host namespace and publishes the
/// requests for the container.
fn publish(
    t: &Topology,
    reqs: Vec<PortRequest>,
) -> (Iptables, Arc<PortAllocator>, Vec<PortMapping>) {
    let ipt = Iptables::new().unwrap();
    let alloc = Arc::new(PortAllocator::new());
    let (ipt2, alloc2) = (ipt.clone(), alloc.clone());
    let maps = t.host.run(move || {
        ipt2.ensure_base().unwrap();
        ipt2.setup_bridge(BRIDGE, SUBNET.parse().unwrap(), false)
            .unwrap();
        let maps = alloc2.reserve("c1", &reqs).unwrap();
        for m in &maps {
            ipt2.add_port(BRIDGE, cip(), m).unwrap();
        }
        maps
    });
    (ipt, alloc, maps)
}

#[test]
fn published_tcp_port_answers_on_loopback_host_address_remote_and_hairpin() {
    let t = Topology::new();
    t.container.tcp_hello(80);
    t.container.tcp_hello(81);
    let reqs = port_requests(&bindings(&[("80/tcp", "", "8080")]), &[], false).unwrap();
    let (ipt, _alloc, maps) = publish(&t, reqs);
    assert_eq!(
        maps,
        vec![PortMapping {
            proto: Proto::Tcp,
            host_ip: "0.0.0.0".parse().unwrap(),
            host_port: 8080,
            container_port: 80,
        }]
    );

    // From the host itself, loopback and its own addresses: masqueraded
    // to the bridge's address so the container can answer.
    let from_host = t.host.run(|| {
        (
            tcp_get("127.0.0.1:8080"),
            tcp_get(&format!("{HOST_IP}:8080")),
            tcp_get("10.88.0.1:8080"),
        )
    });
    assert_eq!(from_host.0.as_deref(), Ok("hello 10.88.0.1"));
    assert_eq!(from_host.1.as_deref(), Ok("hello 10.88.0.1"));
    assert_eq!(from_host.2.as_deref(), Ok("hello 10.88.0.1"));

    // From another host: DNAT keeps the client's address.
    let remote = t.remote.run(|| tcp_get(&format!("{HOST_IP}:8080")));
    assert_eq!(remote.as_deref(), Ok(&*format!("hello {REMOTE_IP}")));

    // Hairpin: the container reaching its own published port by the
    // host's address.
    let hairpin = t.container.run(|| tcp_get(&format!("{HOST_IP}:8080")));
    assert_eq!(hairpin.as_deref(), Ok("hello 10.88.0.1"));

    // A port that is not published is not reachable by routing straight
    // to the container's address (the FORWARD policy here is DROP, but
    // Berth drops it itself).
    t.host.run(|| sh("iptables -w -P FORWARD ACCEPT"));
    let direct = t.remote.run(|| tcp_get(&format!("{CIP}:81")));
    assert!(direct.is_err(), "direct routing got through: {direct:?}");

    // The daemon's socket keeps the host port from host processes.
    let taken = t.host.run(|| TcpListener::bind("0.0.0.0:8080").map(drop));
    assert_eq!(taken.unwrap_err().kind(), std::io::ErrorKind::AddrInUse);

    // remove_port undoes exactly add_port.
    let m = maps[0];
    let ipt2 = ipt.clone();
    let (after, lines) = t.host.run(move || {
        ipt2.remove_port(BRIDGE, cip(), &m).unwrap();
        (tcp_get("127.0.0.1:8080"), iptables_save())
    });
    assert!(after.is_err(), "still published: {after:?}");
    assert!(!lines.contains("-j DNAT"), "{lines}");
    assert!(!lines.contains("10.88.0.2/32"), "{lines}");
    let remote = t.remote.run(|| tcp_get(&format!("{HOST_IP}:8080")));
    assert!(remote.is_err(), "still published: {remote:?}");

    // Teardown and remove_all leave no Berth rule at all.
    let left = t.host.run(move || {
        ipt.teardown_bridge(BRIDGE, SUBNET.parse().unwrap(), false)
            .unwrap();
        ipt.remove_all().unwrap();
        berth_lines()
    });
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
fn published_udp_port_answers_on_loopback_and_remote() {
    let t = Topology::new();
    t.container.udp_pong(53);
    let reqs = port_requests(&bindings(&[("53/udp", "", "5353")]), &[], false).unwrap();
    let (ipt, alloc, maps) = publish(&t, reqs);
    assert_eq!(maps[0].proto, Proto::Udp);

    let local = t.host.run(|| udp_ask("127.0.0.1:5353", "ping"));
    assert_eq!(local.as_deref(), Ok("pong ping"));
    let remote = t.remote.run(|| udp_ask(&format!("{HOST_IP}:5353"), "hi"));
    assert_eq!(remote.as_deref(), Ok("pong hi"));

    let left = t.host.run(move || {
        ipt.teardown_bridge(BRIDGE, SUBNET.parse().unwrap(), false)
            .unwrap();
        alloc.release("c1");
        ipt.remove_all().unwrap();
        // The port is free again once released.
        std::net::UdpSocket::bind("0.0.0.0:5353").unwrap();
        berth_lines()
    });
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
fn a_port_publishes_on_one_host_address_only() {
    let t = Topology::new();
    t.container.tcp_hello(80);
    let reqs = port_requests(&bindings(&[("80/tcp", "127.0.0.1", "8081")]), &[], false).unwrap();
    let (ipt, _alloc, _maps) = publish(&t, reqs);
    let (lo, other) = t.host.run(|| {
        (
            tcp_get("127.0.0.1:8081"),
            tcp_get(&format!("{HOST_IP}:8081")),
        )
    });
    assert_eq!(lo.as_deref(), Ok("hello 10.88.0.1"));
    assert!(other.is_err(), "published beyond 127.0.0.1: {other:?}");
    let left = t.host.run(move || {
        ipt.remove_all().unwrap();
        berth_lines()
    });
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
fn teardown_removes_ports_left_behind_and_remove_all_spares_other_rules() {
    let t = Topology::new();
    t.container.tcp_hello(80);
    let reqs = port_requests(
        &bindings(&[("80/tcp", "", "8080"), ("81/tcp", "", "8081")]),
        &[],
        false,
    )
    .unwrap();
    let (ipt, alloc, maps) = publish(&t, reqs);
    let save = t.host.run(move || {
        // Someone else's rules, which Berth must leave alone.
        sh("iptables -w -t nat -N DOCKER && iptables -w -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER \
            && iptables -w -A FORWARD -i ext0 -j ACCEPT \
            && iptables -w -A INPUT -p tcp --dport 1 -m comment --comment 'not berth' -j ACCEPT \
            && iptables -w -A INPUT -p tcp --dport 2 -m comment --comment berth -j ACCEPT");
        // Everything is idempotent: a second round adds nothing.
        ipt.ensure_base().unwrap();
        ipt.setup_bridge(BRIDGE, SUBNET.parse().unwrap(), false).unwrap();
        for m in &maps {
            ipt.add_port(BRIDGE, cip(), m).unwrap();
        }
        let before = iptables_save();

        ipt.flush_ports().unwrap();
        let flushed = iptables_save();
        for m in &maps {
            ipt.add_port(BRIDGE, cip(), m).unwrap();
        }
        // Teardown without remove_port first still takes the ports along.
        ipt.teardown_bridge(BRIDGE, SUBNET.parse().unwrap(), false).unwrap();
        let torn = iptables_save();
        ipt.remove_all().unwrap();
        alloc.release("c1");
        (before, flushed, torn, iptables_save())
    });
    let (before, flushed, torn, after) = save;
    assert_eq!(before.matches("-j DNAT").count(), 2, "{before}");
    assert_eq!(before.matches("-j BERTH-FORWARD").count(), 1, "{before}");
    assert_eq!(before.matches("MASQUERADE").count(), 3, "{before}");
    assert_eq!(flushed.matches("-j DNAT").count(), 0, "{flushed}");
    assert!(flushed.contains("-j BERTH-FORWARD"), "{flushed}");
    assert!(!torn.contains("br-t"), "{torn}");
    assert!(!torn.contains("-j DNAT"), "{torn}");
    let ours = after
        .lines()
        .filter(|l| l.to_lowercase().contains("berth") && !l.contains("not berth"))
        .count();
    assert_eq!(ours, 0, "{after}");
    assert!(
        after.contains("-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"),
        "{after}"
    );
    assert!(after.contains("-A FORWARD -i ext0 -j ACCEPT"), "{after}");
    assert!(
        after.contains("--dport 1 -m comment --comment \"not berth\""),
        "{after}"
    );
    assert!(!after.contains("--dport 2 "), "{after}");
}

#[test]
fn reserving_a_held_port_conflicts_and_reserve_is_all_or_nothing() {
    let ns = Netns::new();
    ns.run(|| {
        let alloc = PortAllocator::new();
        alloc.reserve("a", &[tcp(8080, 80)]).unwrap();

        // Held for another container: moby's portallocator wording.
        assert_eq!(
            conflict(alloc.reserve("b", &[tcp(8080, 80)])),
            "Bind for 0.0.0.0:8080 failed: port is already allocated"
        );
        let on_lo = PortRequest {
            host_ip: Some("127.0.0.1".parse().unwrap()),
            ..tcp(8080, 80)
        };
        assert_eq!(
            conflict(alloc.reserve("b", &[on_lo])),
            "Bind for 127.0.0.1:8080 failed: port is already allocated"
        );
        // The same number over UDP is another port.
        let udp = PortRequest {
            proto: Proto::Udp,
            ..tcp(8080, 80)
        };
        alloc.reserve("b", &[udp]).unwrap();

        // Held by a host process: the bind error, and nothing of the
        // request stays reserved.
        let host_process = TcpListener::bind("0.0.0.0:9090").unwrap();
        assert_eq!(
            conflict(alloc.reserve("c", &[tcp(9191, 80), tcp(9090, 81)])),
            "failed to bind host port 0.0.0.0:9090/tcp: address already in use"
        );
        assert_eq!(
            conflict(alloc.reserve_for("c", Some("172.17.0.2".parse().unwrap()), &[tcp(9090, 81)])),
            "failed to bind host port for 0.0.0.0:9090:172.17.0.2:81/tcp: address already in use"
        );
        assert!(alloc.mappings("c").is_empty());
        TcpListener::bind("0.0.0.0:9191").expect("9191 was released");
        // Two requests of one container for the same host port clash too.
        assert_eq!(
            conflict(alloc.reserve("c", &[tcp(9292, 80), tcp(9292, 81)])),
            "Bind for 0.0.0.0:9292 failed: port is already allocated"
        );
        TcpListener::bind("0.0.0.0:9292").expect("9292 was released");
        drop(host_process);

        // A range takes its first free port.
        let ranged = PortRequest {
            host_ports: Some((8080, 8082)),
            ..tcp(0, 80)
        };
        let got = alloc.reserve("d", &[ranged]).unwrap();
        assert_eq!(got[0].host_port, 8081);

        // Releasing frees the sockets; reserve_exact takes them back.
        let held = alloc.mappings("a");
        alloc.release("a");
        TcpListener::bind("0.0.0.0:8080").expect("8080 was released");
        alloc.reserve_exact("a", &held).unwrap();
        alloc.reserve_exact("a", &held).unwrap();
        assert_eq!(alloc.mappings("a"), held);
        assert_eq!(
            conflict(alloc.reserve_exact("e", &held)),
            "Bind for 0.0.0.0:8080 failed: port is already allocated"
        );
    });
}

#[test]
fn ephemeral_ports_come_from_the_kernel_range() {
    let ns = Netns::new();
    ns.run(|| {
        std::fs::write("/proc/sys/net/ipv4/ip_local_port_range", "40000 40009").unwrap();
        let alloc = PortAllocator::new();
        assert_eq!(alloc.ephemeral_range(), (40000, 40009));
        let _host_process = TcpListener::bind("0.0.0.0:40001").unwrap();

        // -P over the exposed ports.
        let exposed = ["80/tcp", "443/tcp", "53/udp"].map(String::from);
        let reqs = port_requests(&BTreeMap::new(), &exposed, true).unwrap();
        let got = alloc.reserve("a", &reqs).unwrap();
        let ports: Vec<(Proto, u16, u16)> = got
            .iter()
            .map(|m| (m.proto, m.container_port, m.host_port))
            .collect();
        assert_eq!(
            ports,
            vec![
                (Proto::Udp, 53, 40000),
                (Proto::Tcp, 80, 40002),
                (Proto::Tcp, 443, 40003)
            ]
        );

        // Seven TCP ports are left (40004-40009 and 40000): asking for
        // eight fails and reserves none of them.
        let many: Vec<PortRequest> = (0..8)
            .map(|i| PortRequest {
                proto: Proto::Tcp,
                container_port: 1000 + i,
                host_ip: None,
                host_ports: None,
            })
            .collect();
        assert_eq!(
            conflict(alloc.reserve("b", &many)),
            "all ports are allocated"
        );
        assert!(alloc.mappings("b").is_empty());
        let seven = alloc.reserve("b", &many[..7]).unwrap();
        assert!(seven.iter().all(|m| (40000..=40009).contains(&m.host_port)));
    });
}

#[test]
fn bridges_are_isolated_internal_ones_sealed_and_published_ports_stay_reachable() {
    let host = Netns::new();
    let a = Netns::new();
    let b = Netns::new();
    let internal = Netns::new();
    attach(&host, &a, "br-a", "10.90.0.1/24", "10.90.0.2/24");
    attach(&host, &b, "br-b", "10.91.0.1/24", "10.91.0.2/24");
    attach(&host, &internal, "br-i", "10.92.0.1/24", "10.92.0.2/24");
    b.tcp_hello(80);
    a.tcp_hello(80);
    internal.tcp_hello(80);

    let ipt = Iptables::new().unwrap();
    let ipt2 = ipt.clone();
    let alloc = Arc::new(PortAllocator::new());
    let alloc2 = alloc.clone();
    host.run(move || {
        // Accept by default, so every drop seen below is Berth's.
        sh("iptables -w -P FORWARD ACCEPT");
        ipt2.ensure_base().unwrap();
        ipt2.setup_bridge("br-a", "10.90.0.0/24".parse().unwrap(), false)
            .unwrap();
        ipt2.setup_bridge("br-b", "10.91.0.0/24".parse().unwrap(), false)
            .unwrap();
        ipt2.setup_bridge("br-i", "10.92.0.0/24".parse().unwrap(), true)
            .unwrap();
        let maps = alloc2.reserve("b", &[tcp(8080, 80)]).unwrap();
        ipt2.add_port("br-b", "10.91.0.2".parse().unwrap(), &maps[0])
            .unwrap();
    });

    // Across bridges only through the published port.
    let (direct, published) = a.run(|| (tcp_get("10.91.0.2:80"), tcp_get("10.90.0.1:8080")));
    assert!(direct.is_err(), "bridges not isolated: {direct:?}");
    assert_eq!(published.as_deref(), Ok("hello 10.91.0.1"));
    // Nothing crosses the border of the internal network, either way.
    let from_internal = internal.run(|| (tcp_get("10.90.0.2:80"), tcp_get("10.92.0.1:8080")));
    assert!(
        from_internal.0.is_err(),
        "internal leaks out: {from_internal:?}"
    );
    assert!(
        from_internal.1.is_err(),
        "internal reaches a published port: {from_internal:?}"
    );
    let into_internal = a.run(|| tcp_get("10.92.0.2:80"));
    assert!(
        into_internal.is_err(),
        "internal reachable: {into_internal:?}"
    );
    // The host itself still reaches everything on its bridges.
    let from_host = host.run(|| (tcp_get("10.90.0.2:80"), tcp_get("10.92.0.2:80")));
    assert_eq!(from_host.0.as_deref(), Ok("hello 10.90.0.1"));
    assert_eq!(from_host.1.as_deref(), Ok("hello 10.92.0.1"));

    let left = host.run(move || {
        ipt.teardown_bridge("br-a", "10.90.0.0/24".parse().unwrap(), false)
            .unwrap();
        ipt.teardown_bridge("br-b", "10.91.0.0/24".parse().unwrap(), false)
            .unwrap();
        ipt.teardown_bridge("br-i", "10.92.0.0/24".parse().unwrap(), true)
            .unwrap();
        let rules_left = iptables_save()
            .lines()
            .filter(|l| l.starts_with("-A BERTH") && l.contains("br-"))
            .count();
        assert_eq!(rules_left, 0);
        ipt.remove_all().unwrap();
        berth_lines()
    });
    alloc.release("b");
    assert!(left.is_empty(), "left behind: {left:#?}");
}

/// Outbound: a container reaches another host through the bridge's
/// masquerade, seen there as the host's own address (the remote has no
/// route to the bridge's subnet, so only NAT can make this work).
#[test]
fn outbound_traffic_is_masqueraded_as_the_host() {
    let t = Topology::new();
    t.remote.tcp_hello(90);
    let ipt = Iptables::new().unwrap();
    let ipt2 = ipt.clone();
    t.host.run(move || {
        ipt2.ensure_base().unwrap();
        ipt2.setup_bridge(BRIDGE, SUBNET.parse().unwrap(), false)
            .unwrap();
    });
    let got = t.container.run(|| tcp_get(&format!("{REMOTE_IP}:90")));
    assert_eq!(got.as_deref(), Ok(&*format!("hello {HOST_IP}")));

    // An internal network does not get out at all.
    let ipt3 = ipt.clone();
    t.host.run(move || {
        ipt3.teardown_bridge(BRIDGE, SUBNET.parse().unwrap(), false)
            .unwrap();
        ipt3.setup_bridge(BRIDGE, SUBNET.parse().unwrap(), true)
            .unwrap();
    });
    let sealed = t.container.run(|| tcp_get(&format!("{REMOTE_IP}:90")));
    assert!(sealed.is_err(), "an internal network got out: {sealed:?}");
    t.host.run(move || {
        ipt.teardown_bridge(BRIDGE, SUBNET.parse().unwrap(), true)
            .unwrap();
        ipt.remove_all().unwrap();
    });
}
