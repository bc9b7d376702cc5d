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

/// Berth's host-side veths.
fn berth_veths() -> Vec<String> {
    links()
        .into_iter()
        .filter(|l| l.starts_with("vb"))
        .collect()
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
fn assert_no_leaks(n: &Net, veths_before: &[String]) {
    wait_for("veths to go", Duration::from_secs(10), || {
        berth_veths().iter().all(|v| veths_before.contains(v))
    });
    let netns = n.w.exec.path().join("netns");
    let left: Vec<_> = std::fs::read_dir(&netns)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "sandboxes left: {left:?}");
    let leases = std::fs::read_to_string(
        std::fs::read_dir(n.w.data.path().join("network/networks"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                std::fs::read_to_string(p)
                    .unwrap()
                    .contains("\"name\":\"bridge\"")
            })
            .unwrap(),
    )
    .unwrap();
    assert!(leases.contains("\"leases\":{}"), "leases left: {leases}");
    let rules = iptables_save();
    let bridge = n.bridge();
    let dnat: Vec<&str> = rules
        .lines()
        .filter(|l| l.contains("DNAT") && l.contains("-A BERTH "))
        .collect();
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
    let before = berth_veths();
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
    assert_no_leaks(n, &before);
}

#[test]
fn default_bridge_and_network_modes() {
    let n = Net::start(workspace_bin("berth"));
    default_bridge_and_modes(&n);
}
