//! Networking end to end, the way users drive it: `berth` (and the real
//! `docker` CLI, in the compatibility run) against a real berthd with a real
//! bridge, veths, iptables and the embedded DNS resolver. Each scenario is
//! checked from inside containers (ping, wget, nslookup, ip) and from the
//! host (TCP to published ports), and every test ends by proving nothing
//! was left: no veth, sandbox, lease or iptables rule.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use integration_tests::berthd::{cli, docker_cli, text, Berthd};
use integration_tests::daemon_cleanup::test_network;
use integration_tests::daemon_world::{wait_for, DaemonWorld};
use integration_tests::workspace_bin;

/// A world, its berthd, and a CLI (`berth` or `docker`) pointed at it.
struct Net {
    w: DaemonWorld,
    d: Option<Berthd>,
    bin: PathBuf,
}

impl Net {
    fn start(bin: PathBuf) -> Net {
        let w = DaemonWorld::new();
        let d = Berthd::start(&w);
        Net { w, d: Some(d), bin }
    }

    fn sock(&self) -> &Path {
        &self.d.as_ref().expect("berthd running").sock
    }

    fn run(&self, args: &[&str]) -> (String, String, i32) {
        text(&cli(&self.bin, self.sock(), args, b""))
    }

    fn ok(&self, args: &[&str]) -> String {
        let (out, err, code) = self.run(args);
        assert_eq!(
            code, 0,
            "{:?} {args:?}: stdout {out:?} stderr {err:?}",
            self.bin
        );
        out.trim().to_string()
    }

    /// `run --rm <flags> busybox sh -c <script>`, which must exit 0.
    fn sh(&self, flags: &[&str], script: &str) -> String {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[&self.w.image, "sh", "-c", script]);
        self.ok(&args)
    }

    /// `run -d --name <name> <flags> busybox <cmd>`.
    fn daemon(&self, name: &str, flags: &[&str], cmd: &[&str]) -> String {
        let mut args = vec!["run", "-d", "--name", name];
        args.extend_from_slice(flags);
        args.push(&self.w.image);
        args.extend_from_slice(cmd);
        self.ok(&args)
    }

    /// `inspect <name>` as JSON.
    fn inspect(&self, name: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["inspect", name])).unwrap();
        v[0].clone()
    }

    fn ip_of(&self, name: &str, network: &str) -> String {
        let v = self.inspect(name);
        v["NetworkSettings"]["Networks"][network]["IPAddress"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn bridge(&self) -> String {
        test_network(self.w.data.path()).bridge
    }
}

/// The names of the host's links.
fn links() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The veths plugged into `bridge` (other tests' bridges are their own).
fn ports_of(bridge: &str) -> Vec<String> {
    std::fs::read_dir(format!("/sys/class/net/{bridge}/brif"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn iptables_save() -> String {
    let out = Command::new("iptables-save")
        .output()
        .expect("iptables-save");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The host's own non-loopback IPv4 address (what other hosts reach).
fn host_address() -> IpAddr {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    s.connect("192.0.2.254:9").unwrap();
    s.local_addr().unwrap().ip()
}

/// `GET path` over plain HTTP/1.0: the body.
fn http_get(addr: (IpAddr, u16), path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr.into(), Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
}

/// Nothing of this world's networking is left on the host.
fn assert_no_leaks(n: &Net) {
    wait_for("veths to go", Duration::from_secs(10), || {
        ports_of(&n.bridge()).is_empty()
    });
    let netns = n.w.exec.path().join("netns");
    let left: Vec<_> = std::fs::read_dir(&netns)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "sandboxes left: {left:?}");
    // Addresses are returned right after their veth is gone.
    let bridge_record = || {
        std::fs::read_dir(n.w.data.path().join("network/networks"))
            .unwrap()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .find(|r| r.contains("\"name\":\"bridge\""))
            .unwrap()
    };
    wait_for("leases to be returned", Duration::from_secs(10), || {
        bridge_record().contains("\"leases\":{}")
    });
    let rules = iptables_save();
    let bridge = n.bridge();
    // This world's containers are in its own /24.
    let o = test_network(n.w.data.path()).bip.unwrap().addr().octets();
    let mine = format!("--to-destination {}.{}.{}.", o[0], o[1], o[2]);
    let dnat: Vec<&str> = rules.lines().filter(|l| l.contains(&mine)).collect();
    assert!(dnat.is_empty(), "port rules left: {dnat:?}");
    assert!(
        rules.contains(&bridge),
        "the bridge rules stay while the daemon runs"
    );
}

/// Two containers on the default bridge reach each other by IP; eth0 has
/// its address, MAC and default route; `none` has only lo; `host` sees the
/// host's links; `container:` shares another's interfaces.
fn default_bridge_and_modes(n: &Net) {
    n.daemon("peer", &[], &["sleep", "300"]);
    let ip = n.ip_of("peer", "bridge");
    assert!(ip.starts_with("10."), "test bridges use 10.128/9: {ip}");
    let top = n.ok(&[
        "inspect",
        "-f",
        "{{.NetworkSettings.IPAddress}} {{.NetworkSettings.MacAddress}}",
        "peer",
    ]);
    assert!(top.starts_with(&ip) && top.contains("02:42:"), "{top}");
    let out = n.sh(
        &[],
        &format!("ping -c1 -W3 {ip} >/dev/null && echo reached; ip -o -4 addr show eth0; ip route"),
    );
    assert!(out.contains("reached"), "{out}");
    assert!(out.contains("default via"), "{out}");

    // /etc/hosts: the container's own address and name, host-gateway as
    // the bridge's gateway; /etc/resolv.conf from --dns.
    let gw = test_network(n.w.data.path())
        .bip
        .unwrap()
        .addr()
        .to_string();
    let etc = n.sh(
        &[
            "--add-host",
            "hgw:host-gateway",
            "--hostname",
            "box",
            "--dns",
            "192.0.2.53",
        ],
        "cat /etc/hosts /etc/resolv.conf; ip -o -4 addr show eth0",
    );
    assert!(etc.contains(&format!("{gw}\thgw")), "{etc}");
    assert!(etc.contains("\tbox\n"), "{etc}");
    assert!(etc.contains("nameserver 192.0.2.53"), "{etc}");

    let none = n.sh(&["--network", "none"], "ls /sys/class/net");
    assert_eq!(
        none.split_whitespace().collect::<Vec<_>>(),
        ["lo"],
        "{none}"
    );

    let host = n.sh(&["--network", "host"], "ls /sys/class/net; hostname");
    for l in links().iter().filter(|l| *l == "lo" || *l == "eth0") {
        assert!(host.contains(l.as_str()), "host mode sees {l}: {host}");
    }
    let hostname = nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(host.ends_with(&hostname), "{host}");

    let shared = n.sh(
        &["--network", "container:peer"],
        "ip -o -4 addr show eth0; hostname",
    );
    assert!(
        shared.contains(&ip),
        "container: mode shares peer's eth0: {shared}"
    );

    n.ok(&["rm", "-f", "peer"]);
    assert_no_leaks(n);
}

/// A user-defined network: containers resolve each other by name, alias
/// and short ID through the embedded resolver; `--ip` is honoured; the
/// network cannot be removed while in use; connect / disconnect change a
/// running container's interfaces; rm and prune clean up.
fn user_defined_network(n: &Net) {
    // A subnet from the world's own /24 neighbourhood cannot clash.
    let bip = test_network(n.w.data.path()).bip.unwrap();
    let o = bip.addr().octets();
    let subnet = format!("10.{}.{}.0/24", o[1] ^ 0x40, o[2]);
    let gw = format!("10.{}.{}.1", o[1] ^ 0x40, o[2]);
    let fixed = format!("10.{}.{}.50", o[1] ^ 0x40, o[2]);
    let netname = "appnet";
    n.ok(&[
        "network", "create", "--subnet", &subnet, "--label", "tier=app", netname,
    ]);
    let ls = n.ok(&[
        "network",
        "ls",
        "--filter",
        "label=tier=app",
        "--format",
        "{{.Name}} {{.Driver}}",
    ]);
    assert_eq!(ls, "appnet bridge");
    let id = n.daemon(
        "web",
        &[
            "--network",
            netname,
            "--network-alias",
            "www",
            "--ip",
            &fixed,
        ],
        &["sleep", "300"],
    );
    assert_eq!(n.ip_of("web", netname), fixed);
    let short = &id[..12];
    let script = format!(
        "for h in web www {short} web.{netname}; do ping -c1 -W3 $h >/dev/null && echo ok $h; done; \
         cat /etc/resolv.conf; nslookup web 127.0.0.11 | grep -c {fixed}"
    );
    let out = n.sh(&["--network", netname], &script);
    for h in ["web", "www", short] {
        assert!(out.contains(&format!("ok {h}\n")), "{h} resolved: {out}");
    }
    assert!(out.contains("nameserver 127.0.0.11"), "{out}");
    let inspect: serde_json::Value =
        serde_json::from_str(&n.ok(&["network", "inspect", netname])).unwrap();
    let net = &inspect[0];
    assert_eq!(net["IPAM"]["Config"][0]["Subnet"], subnet.as_str());
    assert_eq!(net["IPAM"]["Config"][0]["Gateway"], gw.as_str());
    assert_eq!(net["Containers"][&id]["Name"], "web");
    let (_, err, code) = n.run(&["network", "rm", netname]);
    assert_eq!(code, 1);
    assert!(err.contains("has active endpoints"), "{err}");

    // connect / disconnect a running container on the default bridge.
    n.daemon("side", &[], &["sleep", "300"]);
    n.ok(&["network", "connect", "--alias", "sidekick", netname, "side"]);
    let eth1 = n.ok(&["exec", "side", "ip", "-o", "-4", "addr", "show", "eth1"]);
    let side_ip = n.ip_of("side", netname);
    assert!(!side_ip.is_empty() && eth1.contains(&side_ip), "{eth1}");
    let out = n.sh(
        &["--network", netname],
        "ping -c1 -W3 sidekick >/dev/null && echo ok",
    );
    assert_eq!(out, "ok");
    n.ok(&["network", "disconnect", netname, "side"]);
    let links = n.ok(&["exec", "side", "ls", "/sys/class/net"]);
    assert!(!links.contains("eth1"), "{links}");
    assert_eq!(n.ip_of("side", netname), "");

    n.ok(&["rm", "-f", "web", "side"]);
    let pruned = n.ok(&["network", "prune", "-f"]);
    assert!(pruned.contains(netname), "{pruned}");
    // docker 20.10 words a 404 as "No such network", later ones pass the
    // daemon's "network x not found" through.
    let (_, err, code) = n.run(&["network", "inspect", netname]);
    assert!(
        code != 0 && (err.contains("not found") || err.contains("No such network")),
        "{err}"
    );
    assert_no_leaks(n);
}

/// A busybox httpd published with `-p` answers on 127.0.0.1, on the host's
/// own address and from another container (hairpin); `-P` picks a port
/// `port` reports; a port in use is a clear error that leaves nothing set
/// up.
fn published_ports(n: &Net, host_port: u16) {
    let publish = format!("{host_port}:80");
    let id = n.daemon(
        "httpd",
        &[
            "-p",
            &publish,
            "--expose",
            "8080",
            "-P",
            "--hostname",
            "webhost",
        ],
        &["httpd", "-f", "-p", "80", "-h", "/etc"],
    );
    let hostname_of = |addr: IpAddr, port: u16| {
        let mut last = String::new();
        for _ in 0..50 {
            match http_get((addr, port), "/hostname") {
                Ok(body) if !body.is_empty() => return body,
                other => last = format!("{other:?}"),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no answer on {addr}:{port}: {last}");
    };
    assert_eq!(
        hostname_of("127.0.0.1".parse().unwrap(), host_port).trim(),
        "webhost"
    );
    let host = host_address();
    assert_eq!(hostname_of(host, host_port).trim(), "webhost");
    let hairpin = n.sh(
        &[],
        &format!("wget -qO- http://{host}:{host_port}/hostname"),
    );
    assert_eq!(hairpin, "webhost");
    let port = n.ok(&["port", "httpd"]);
    assert!(
        port.contains(&format!("80/tcp -> 0.0.0.0:{host_port}")),
        "{port}"
    );
    let random: u16 = n
        .ok(&["port", "httpd", "8080"])
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("-P published 8080");
    assert!(random > 1024 && random != host_port, "{random}");
    let ps = n.ok(&["ps", "--format", "{{.Ports}}"]);
    assert!(ps.contains(&format!("0.0.0.0:{host_port}->80/tcp")), "{ps}");

    // The same host port again: refused, nothing half set up.
    let veths = ports_of(&n.bridge()).len();
    let mut args = vec!["run", "-d", "--name", "clash", "-p", &publish, &n.w.image];
    args.extend(["sleep", "300"]);
    let (_, err, code) = n.run(&args);
    assert_ne!(code, 0);
    assert!(err.contains("port is already allocated"), "{err}");
    assert_eq!(
        ports_of(&n.bridge()).len(),
        veths,
        "the failed start left a veth"
    );
    n.ok(&["rm", "-f", "clash"]);
    n.ok(&["rm", "-f", &id]);
    assert!(http_get(("127.0.0.1".parse().unwrap(), host_port), "/hostname").is_err());
    assert_no_leaks(n);
}

#[test]
fn user_defined_networks_with_dns() {
    let n = Net::start(workspace_bin("berth"));
    user_defined_network(&n);
}

#[test]
fn published_ports_reach_the_container() {
    let n = Net::start(workspace_bin("berth"));
    published_ports(&n, 18431);
}

/// berthd killed with SIGKILL and started again: the live container keeps
/// its published port and name resolution; once it is removed, nothing
/// of it is left.
#[test]
fn a_restarted_daemon_restores_and_cleans_up() {
    let mut n = Net::start(workspace_bin("berth"));
    n.daemon("dead", &[], &["sleep", "300"]);
    n.daemon(
        "live",
        &["-p", "18432:80"],
        &["httpd", "-f", "-p", "80", "-h", "/etc"],
    );
    n.d.take().unwrap().kill9();
    // "dead" dies while no daemon watches.
    let pid_dead: i32 = {
        let rec = std::fs::read_dir(n.w.data.path().join("containers"))
            .unwrap()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path().join("config.v2.json")).unwrap())
            .find(|c| c.contains("\"Name\":\"/dead\""))
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&rec).unwrap();
        v["State"]["Pid"].as_i64().unwrap() as i32
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid_dead),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    n.d = Some(Berthd::start(&n.w));
    wait_for("dead to be seen exited", Duration::from_secs(10), || {
        n.ok(&["inspect", "-f", "{{.State.Running}}", "dead"]) == "false"
    });
    let body = http_get(("127.0.0.1".parse().unwrap(), 18432), "/hostname").unwrap();
    assert!(!body.is_empty());
    n.ok(&["rm", "-f", "live", "dead"]);
    assert_no_leaks(&n);
}

/// The same scenarios through the real `docker` CLI.
#[test]
fn the_docker_cli_drives_networking() {
    let n = Net::start(docker_cli());
    default_bridge_and_modes(&n);
    user_defined_network(&n);
    published_ports(&n, 18433);
}

#[test]
fn default_bridge_and_network_modes() {
    let n = Net::start(workspace_bin("berth"));
    default_bridge_and_modes(&n);
}
