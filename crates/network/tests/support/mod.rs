//! Test scaffolding: network namespaces of the test's own, so nothing here
//! ever changes the host's interfaces, ports or iptables rules.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nix::sched::{unshare, CloneFlags};

type Job = Box<dyn FnOnce() + Send>;

/// A fresh network namespace, owned by one thread that runs the closures
/// it is given. Threads and processes started from those closures are in
/// the namespace too; it disappears (with its veths and rules) once the
/// thread and its servers end.
pub struct Netns {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// The thread's ID, which `ip link set ... netns <tid>` accepts.
    pub tid: i32,
    /// Tells servers started in the namespace to stop.
    pub stop: Arc<AtomicBool>,
}

impl Netns {
    /// Makes a new namespace with `lo` up.
    pub fn new() -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let (tid_tx, tid_rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET)
                .expect("unshare(CLONE_NEWNET): run the tests as root");
            tid_tx.send(nix::unistd::gettid().as_raw()).unwrap();
            for job in rx {
                job();
            }
        });
        let ns = Netns {
            tx: Some(tx),
            thread: Some(thread),
            tid: tid_rx.recv().expect("netns thread started"),
            stop: Arc::new(AtomicBool::new(false)),
        };
        ns.run(|| sh("ip link set lo up"));
        ns
    }

    /// Runs `f` inside the namespace and returns its result; a panic in
    /// `f` is re-raised here.
    pub fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let (rtx, rrx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = rtx.send(catch_unwind(AssertUnwindSafe(f)));
        });
        self.tx
            .as_ref()
            .unwrap()
            .send(job)
            .expect("netns thread alive");
        match rrx.recv().expect("netns job finished") {
            Ok(r) => r,
            Err(panic) => resume_unwind(panic),
        }
    }

    /// Starts a TCP server on `port` answering each connection with
    /// `hello <peer address>` and closing it.
    pub fn tcp_hello(&self, port: u16) {
        let stop = self.stop.clone();
        self.run(move || {
            let l = TcpListener::bind(("0.0.0.0", port)).expect("bind the test server");
            l.set_nonblocking(true).unwrap();
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match l.accept() {
                        Ok((mut s, peer)) => {
                            let _ = writeln!(s, "hello {}", peer.ip());
                        }
                        Err(_) => thread::sleep(Duration::from_millis(10)),
                    }
                }
            });
        });
    }

    /// Starts a UDP server on `port` answering each datagram with
    /// `pong <datagram>`.
    pub fn udp_pong(&self, port: u16) {
        let stop = self.stop.clone();
        self.run(move || {
            let s = UdpSocket::bind(("0.0.0.0", port)).expect("bind the test server");
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            thread::spawn(move || {
                let mut buf = [0u8; 512];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok((n, peer)) = s.recv_from(&mut buf) {
                        let reply = format!("pong {}", String::from_utf8_lossy(&buf[..n]));
                        let _ = s.send_to(reply.as_bytes(), peer);
                    }
                }
            });
        });
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs a shell command in the calling thread's namespace; panics on failure.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "`{cmd}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a TCP server at `addr` says, or the connection error.
pub fn tcp_get(addr: &str) -> Result<String, String> {
    let addr: SocketAddr = addr.parse().unwrap();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(1500))
        .map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    Ok(out.trim().to_string())
}

/// Sends `msg` to `addr` over UDP and returns the answer, or the error.
pub fn udp_ask(addr: &str, msg: &str) -> Result<String, String> {
    let s = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    s.send_to(msg.as_bytes(), addr).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 512];
    let (n, _) = s.recv_from(&mut buf).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// The namespace's whole ruleset as `iptables-save` prints it.
pub fn iptables_save() -> String {
    sh("iptables-save")
}

/// The lines of `iptables-save` that are Berth's.
pub fn berth_lines() -> Vec<String> {
    iptables_save()
        .lines()
        .filter(|l| l.to_lowercase().contains("berth"))
        .map(str::to_string)
        .collect()
}

/// A host with a bridge, one container behind it and one remote peer:
///
/// ```text
///  remote (198.51.100.2) --ext-- host (198.51.100.1, br-t 10.88.0.1/24) --br-t-- container (10.88.0.2)
/// ```
pub struct Topology {
    pub host: Netns,
    pub container: Netns,
    pub remote: Netns,
}

/// The test bridge.
pub const BRIDGE: &str = "br-t";
/// Its subnet, written as the gateway address.
pub const SUBNET: &str = "10.88.0.1/24";
/// The container's address.
pub const CIP: &str = "10.88.0.2";
/// The host's non-loopback address, as a remote peer sees it.
pub const HOST_IP: &str = "198.51.100.1";
/// The remote peer's address.
pub const REMOTE_IP: &str = "198.51.100.2";

impl Topology {
    /// Builds the three namespaces and their links. The host's FORWARD
    /// policy is DROP, so forwarding works only where Berth's rules allow it.
    pub fn new() -> Self {
        let host = Netns::new();
        let container = Netns::new();
        let remote = Netns::new();
        let (ctid, rtid) = (container.tid, remote.tid);
        host.run(move || {
            sh(&format!(
                "ip link add {BRIDGE} type bridge && ip addr add {SUBNET} dev {BRIDGE} && ip link set {BRIDGE} up \
                 && ip link add veth-h type veth peer name eth0 && ip link set veth-h master {BRIDGE} up && ip link set veth-h type bridge_slave hairpin on \
                 && ip link set eth0 netns {ctid} \
                 && ip link add ext0 type veth peer name ext1 && ip addr add {HOST_IP}/24 dev ext0 && ip link set ext0 up \
                 && ip link set ext1 netns {rtid} \
                 && iptables -w -P FORWARD DROP"
            ));
        });
        container.run(|| {
            sh(&format!(
                "ip addr add {CIP}/24 dev eth0 && ip link set eth0 up && ip route add default via 10.88.0.1"
            ))
        });
        remote.run(|| {
            sh(&format!(
                "ip addr add {REMOTE_IP}/24 dev ext1 && ip link set ext1 up \
                 && ip route add 10.88.0.0/24 via {HOST_IP}"
            ))
        });
        Topology {
            host,
            container,
            remote,
        }
    }
}

/// Adds the bridge `br` with the gateway address `gw_cidr` to `host` and
/// plugs `container` into it as `eth0` with `cip_cidr`, default route via
/// the gateway.
pub fn attach(host: &Netns, container: &Netns, br: &str, gw_cidr: &str, cip_cidr: &str) {
    let ctid = container.tid;
    let port = format!("v{}", container.tid);
    let (br2, gw2) = (br.to_string(), gw_cidr.to_string());
    host.run(move || {
        sh(&format!(
            "ip link add {br2} type bridge && ip addr add {gw2} dev {br2} && ip link set {br2} up \
             && ip link add {port} type veth peer name eth0 && ip link set {port} master {br2} up \
             && ip link set {port} type bridge_slave hairpin on && ip link set eth0 netns {ctid}"
        ));
    });
    let gw = gw_cidr.split('/').next().unwrap().to_string();
    let cip = cip_cidr.to_string();
    container.run(move || {
        sh(&format!(
            "ip addr add {cip} dev eth0 && ip link set eth0 up && ip route add default via {gw}"
        ))
    });
}
