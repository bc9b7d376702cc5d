//! The resolver end to end on real loopback sockets: a hand-built client
//! asks it, fake upstreams on 127.0.0.1 stand in for the host's resolvers.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::{upstreams_from_resolv_conf, NameLookup, Resolver};

const A: u16 = 1;
const PTR: u16 = 12;
const MX: u16 = 15;
const AAAA: u16 = 28;
const WEB: Ipv4Addr = Ipv4Addr::new(172, 18, 0, 2);
const UPSTREAM_ANSWER: Ipv4Addr = Ipv4Addr::new(93, 184, 216, 34);

/// A container's view: `web` (also by alias and short ID), `db` with two
/// addresses, `big` with more than a 512-byte reply holds.
struct Names(HashMap<&'static str, Vec<Ipv4Addr>>);

impl Names {
    fn new() -> Arc<Names> {
        let mut map = HashMap::new();
        map.insert("web", vec![WEB]);
        map.insert("frontend", vec![WEB]);
        map.insert("3f2a1b9c04d2", vec![WEB]);
        map.insert(
            "db",
            vec![Ipv4Addr::new(172, 18, 0, 3), Ipv4Addr::new(172, 19, 0, 3)],
        );
        map.insert(
            "big",
            (1..=60).map(|i| Ipv4Addr::new(10, 1, 0, i)).collect(),
        );
        Arc::new(Names(map))
    }
}

impl NameLookup for Names {
    fn lookup_v4(&self, name: &str) -> Vec<Ipv4Addr> {
        self.0.get(name).cloned().unwrap_or_default()
    }
    fn lookup_ptr(&self, ip: Ipv4Addr) -> Option<String> {
        (ip == WEB).then(|| "web.mynet".to_string())
    }
}

/// A query for `name`/`qtype` with ID `id`, RD set, EDNS size if given.
fn query(id: u16, name: &str, qtype: u16, edns: Option<u16>) -> Vec<u8> {
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns.is_some())]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    if let Some(size) = edns {
        q.extend_from_slice(&[0, 0, 41]);
        q.extend_from_slice(&size.to_be_bytes());
        q.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    q
}

/// What a client sees in a reply.
#[derive(Debug, Default)]
struct Reply {
    id: u16,
    flags: u16,
    rcode: u8,
    question: String,
    a: Vec<Ipv4Addr>,
    ptr: Vec<String>,
    ttls: Vec<u32>,
}

impl Reply {
    fn truncated(&self) -> bool {
        self.flags & 0x0200 != 0
    }
}

/// Reads a name the way a client would, following pointers.
fn read_name(msg: &[u8], mut pos: usize) -> (String, usize) {
    let mut labels = Vec::new();
    let mut end = None;
    loop {
        let len = msg[pos] as usize;
        if len == 0 {
            return (labels.join("."), end.unwrap_or(pos + 1));
        }
        if len & 0xC0 == 0xC0 {
            end.get_or_insert(pos + 2);
            pos = ((len & 0x3F) << 8) | msg[pos + 1] as usize;
            continue;
        }
        labels.push(String::from_utf8_lossy(&msg[pos + 1..pos + 1 + len]).into_owned());
        pos += 1 + len;
    }
}

fn decode(msg: &[u8]) -> Reply {
    let be16 = |at: usize| u16::from_be_bytes([msg[at], msg[at + 1]]);
    let mut reply = Reply {
        id: be16(0),
        flags: be16(2),
        rcode: msg[3] & 0x0F,
        ..Reply::default()
    };
    assert_eq!(be16(4), 1, "one question");
    let (question, mut pos) = read_name(msg, 12);
    reply.question = question;
    pos += 4;
    for _ in 0..be16(6) {
        let (_, at) = read_name(msg, pos);
        let rtype = be16(at);
        let ttl = u32::from_be_bytes(msg[at + 4..at + 8].try_into().unwrap());
        let rdlen = be16(at + 8) as usize;
        let rdata = at + 10;
        match rtype {
            A => reply.a.push(Ipv4Addr::new(
                msg[rdata],
                msg[rdata + 1],
                msg[rdata + 2],
                msg[rdata + 3],
            )),
            PTR => reply.ptr.push(read_name(msg, rdata).0),
            other => panic!("unexpected answer type {other}"),
        }
        reply.ttls.push(ttl);
        pos = rdata + rdlen;
    }
    reply
}

/// A resolver on ephemeral 127.0.0.1 sockets; returns its UDP and TCP
/// addresses.
fn start(upstreams: Vec<SocketAddr>) -> (Resolver, SocketAddr, SocketAddr) {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (udp_addr, tcp_addr) = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    let resolver = Resolver::spawn(udp, tcp, Names::new(), upstreams).unwrap();
    (resolver, udp_addr, tcp_addr)
}

/// Sends `packet` over UDP and waits up to `wait` for the raw reply.
async fn ask_udp_raw(server: SocketAddr, packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(packet, server).await.unwrap();
    let mut buf = vec![0u8; 65535];
    let (n, _) = tokio::time::timeout(wait, socket.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(n);
    Some(buf)
}

async fn ask_udp(server: SocketAddr, packet: &[u8]) -> Reply {
    let raw = ask_udp_raw(server, packet, Duration::from_secs(5))
        .await
        .expect("a reply within 5 s");
    decode(&raw)
}

async fn ask_tcp(stream: &mut TcpStream, packet: &[u8]) -> Reply {
    stream
        .write_all(&(packet.len() as u16).to_be_bytes())
        .await
        .unwrap();
    stream.write_all(packet).await.unwrap();
    let len = stream.read_u16().await.unwrap() as usize;
    let mut buf = vec![0u8; len];
    stream.read_exact(&mut buf).await.unwrap();
    decode(&buf)
}

/// How a fake upstream answers.
#[derive(Clone, Copy)]
enum Upstream {
    /// NOERROR with one A record, [`UPSTREAM_ANSWER`].
    Answers,
    /// SERVFAIL.
    Fails,
    /// Reads the query and never answers.
    Silent,
}

/// A fake nameserver on 127.0.0.1 (UDP and TCP on the same port, as a
/// real one), counting the queries it gets.
struct FakeUpstream {
    addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn upstream_reply(how: Upstream, q: &[u8]) -> Option<Vec<u8>> {
    let mut r = q.to_vec();
    r[2] |= 0x80; // QR
    r[3] = 0x80; // RA, NOERROR
    match how {
        Upstream::Silent => return None,
        Upstream::Fails => r[3] |= 2,
        Upstream::Answers => {
            r[7] = 1;
            r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
            r.extend_from_slice(&UPSTREAM_ANSWER.octets());
        }
    }
    Some(r)
}

impl FakeUpstream {
    async fn start(how: Upstream) -> FakeUpstream {
        // Same port for both transports: retry until a UDP port is also
        // free for TCP.
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            if let Ok(tcp) = tokio::net::TcpListener::bind(udp.local_addr().unwrap()).await {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().unwrap();
        let queries = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&queries);
        let udp_task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let (n, peer) = udp.recv_from(&mut buf).await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                if let Some(reply) = upstream_reply(how, &buf[..n]) {
                    udp.send_to(&reply, peer).await.unwrap();
                }
            }
        });
        let count = Arc::clone(&queries);
        let tcp_task = tokio::spawn(async move {
            loop {
                let (mut stream, _) = tcp.accept().await.unwrap();
                let count = Arc::clone(&count);
                tokio::spawn(async move {
                    let len = stream.read_u16().await.unwrap() as usize;
                    let mut q = vec![0u8; len];
                    stream.read_exact(&mut q).await.unwrap();
                    count.fetch_add(1, Ordering::SeqCst);
                    if let Some(reply) = upstream_reply(how, &q) {
                        stream
                            .write_all(&(reply.len() as u16).to_be_bytes())
                            .await
                            .unwrap();
                        stream.write_all(&reply).await.unwrap();
                    } else {
                        std::future::pending::<()>().await;
                    }
                });
            }
        });
        FakeUpstream {
            addr,
            queries,
            tasks: vec![udp_task, tcp_task],
        }
    }

    fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_answers_a_for_names_aliases_and_short_ids() {
    let (_resolver, udp, _) = start(vec![]);
    for name in ["web", "frontend", "3f2a1b9c04d2"] {
        let reply = ask_udp(udp, &query(0x4242, name, A, None)).await;
        assert_eq!(reply.id, 0x4242);
        assert_eq!(reply.rcode, 0);
        assert_eq!(
            reply.flags & 0x8180,
            0x8180,
            "QR RD RA: {:#06x}",
            reply.flags
        );
        assert_eq!(reply.question, name);
        assert_eq!(reply.a, vec![WEB], "{name}");
        assert_eq!(reply.ttls, vec![600]);
    }
    let reply = ask_udp(udp, &query(7, "db", A, None)).await;
    assert_eq!(
        reply.a,
        vec![Ipv4Addr::new(172, 18, 0, 3), Ipv4Addr::new(172, 19, 0, 3)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_matches_names_case_insensitively() {
    let (_resolver, udp, _) = start(vec![]);
    let reply = ask_udp(udp, &query(1, "WeB", A, None)).await;
    assert_eq!(reply.a, vec![WEB]);
    assert_eq!(
        reply.question, "WeB",
        "the question is echoed in the client's case"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_answers_aaaa_for_a_known_name_with_nothing() {
    let upstream = FakeUpstream::start(Upstream::Answers).await;
    let (_resolver, udp, _) = start(vec![upstream.addr]);
    let reply = ask_udp(udp, &query(3, "web", AAAA, None)).await;
    assert_eq!(reply.rcode, 0);
    assert!(reply.a.is_empty() && reply.ptr.is_empty());
    assert_eq!(upstream.queries(), 0, "not forwarded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_answers_ptr_for_a_known_address() {
    let upstream = FakeUpstream::start(Upstream::Answers).await;
    let (_resolver, udp, _) = start(vec![upstream.addr]);
    let reply = ask_udp(udp, &query(4, "2.0.18.172.in-addr.arpa", PTR, None)).await;
    assert_eq!(reply.rcode, 0);
    assert_eq!(reply.ptr, vec!["web.mynet".to_string()]);
    assert_eq!(reply.ttls, vec![600]);
    assert_eq!(upstream.queries(), 0);

    // An address that is not a container's goes upstream.
    let reply = ask_udp(udp, &query(5, "9.0.18.172.in-addr.arpa", PTR, None)).await;
    assert_eq!(reply.id, 5);
    assert_eq!(upstream.queries(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_forwards_unknown_names_and_other_types() {
    let upstream = FakeUpstream::start(Upstream::Answers).await;
    let (_resolver, udp, _) = start(vec![upstream.addr]);
    let reply = ask_udp(udp, &query(0xBEEF, "example.com", A, None)).await;
    assert_eq!(reply.id, 0xBEEF);
    assert_eq!(reply.rcode, 0);
    assert_eq!(reply.a, vec![UPSTREAM_ANSWER]);
    assert_eq!(reply.ttls, vec![30], "the upstream's record, relayed as is");
    assert_eq!(upstream.queries(), 1);

    // AAAA for an unknown name, and MX even for a container's name.
    ask_udp(udp, &query(9, "example.com", AAAA, None)).await;
    ask_udp(udp, &query(10, "web", MX, None)).await;
    assert_eq!(upstream.queries(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_tries_the_next_upstream_after_a_failure() {
    let failing = FakeUpstream::start(Upstream::Fails).await;
    let good = FakeUpstream::start(Upstream::Answers).await;
    let (_resolver, udp, tcp) = start(vec![failing.addr, good.addr]);
    let reply = ask_udp(udp, &query(11, "example.com", A, None)).await;
    assert_eq!((reply.rcode, reply.a.clone()), (0, vec![UPSTREAM_ANSWER]));
    let mut stream = TcpStream::connect(tcp).await.unwrap();
    let reply = ask_tcp(&mut stream, &query(12, "example.com", A, None)).await;
    assert_eq!((reply.rcode, reply.a), (0, vec![UPSTREAM_ANSWER]));
    assert_eq!((failing.queries(), good.queries()), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_answers_servfail_when_no_upstream_does() {
    let (_resolver, udp, _) = start(vec![]);
    let reply = ask_udp(udp, &query(13, "example.com", A, None)).await;
    assert_eq!((reply.id, reply.rcode), (13, 2));
    assert_eq!(reply.question, "example.com");

    let silent = FakeUpstream::start(Upstream::Silent).await;
    let (_resolver, udp, _) = start(vec![silent.addr]);
    let started = Instant::now();
    let reply = ask_udp(udp, &query(14, "example.com", A, None)).await;
    assert_eq!(reply.rcode, 2, "SERVFAIL");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(4),
        "gave the upstream about 2 s: {waited:?}"
    );
    assert_eq!(silent.queries(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_serves_tcp_local_and_forwarded_on_one_connection() {
    let upstream = FakeUpstream::start(Upstream::Answers).await;
    let (_resolver, _, tcp) = start(vec![upstream.addr]);
    let mut stream = TcpStream::connect(tcp).await.unwrap();
    let reply = ask_tcp(&mut stream, &query(20, "web", A, None)).await;
    assert_eq!((reply.id, reply.a), (20, vec![WEB]));
    let reply = ask_tcp(&mut stream, &query(21, "example.com", A, None)).await;
    assert_eq!((reply.id, reply.a), (21, vec![UPSTREAM_ANSWER]));
    assert_eq!(upstream.queries(), 1);
    let reply = ask_tcp(&mut stream, &query(22, "big", A, None)).await;
    assert_eq!(reply.a.len(), 60, "no 512-byte limit over TCP");
    assert!(!reply.truncated());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_truncates_udp_replies_unless_edns_allows_more() {
    let (_resolver, udp, _) = start(vec![]);
    let raw = ask_udp_raw(udp, &query(30, "big", A, None), Duration::from_secs(5))
        .await
        .unwrap();
    assert!(raw.len() <= 512, "{} bytes", raw.len());
    let reply = decode(&raw);
    assert!(reply.truncated(), "TC set");
    assert!(!reply.a.is_empty() && reply.a.len() < 60);

    let reply = ask_udp(udp, &query(31, "big", A, Some(4096))).await;
    assert!(!reply.truncated());
    assert_eq!(reply.a.len(), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_a_hung_upstream_does_not_delay_local_answers() {
    let silent = FakeUpstream::start(Upstream::Silent).await;
    let (_resolver, udp, tcp) = start(vec![silent.addr]);
    // Park several forwarded queries, over both transports, on the hung
    // upstream first.
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for id in 0..5u16 {
        client
            .send_to(&query(100 + id, "slow.example", A, None), udp)
            .await
            .unwrap();
    }
    let mut slow_tcp = TcpStream::connect(tcp).await.unwrap();
    let slow = query(200, "slow.example", A, None);
    slow_tcp
        .write_all(&(slow.len() as u16).to_be_bytes())
        .await
        .unwrap();
    slow_tcp.write_all(&slow).await.unwrap();
    while silent.queries() < 6 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let started = Instant::now();
    let reply = ask_udp(udp, &query(42, "web", A, None)).await;
    let mut stream = TcpStream::connect(tcp).await.unwrap();
    let tcp_reply = ask_tcp(&mut stream, &query(43, "db", A, None)).await;
    let took = started.elapsed();
    assert_eq!(reply.a, vec![WEB]);
    assert_eq!(tcp_reply.a.len(), 2);
    // Well under the 2 s a forwarded query waits, with room for a loaded machine.
    assert!(took < Duration::from_secs(1), "local answers took {took:?}");

    // The parked ones still get their SERVFAIL once the upstream times out.
    let mut buf = vec![0u8; 512];
    for _ in 0..5 {
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(decode(&buf[..n]).rcode, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_drops_malformed_packets_and_keeps_serving() {
    let upstream = FakeUpstream::start(Upstream::Answers).await;
    let (_resolver, udp, tcp) = start(vec![upstream.addr]);
    let mut response = query(50, "web", A, None);
    response[2] |= 0x80;
    let mut looping = query(51, "web", A, None);
    looping.truncate(12);
    looping.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
    for junk in [&b""[..], b"\x00\x01", &[0xFF; 40], &response, &looping] {
        let reply = ask_udp_raw(udp, junk, Duration::from_millis(300)).await;
        assert!(reply.is_none(), "no reply to {junk:02x?}");
    }
    assert_eq!(upstream.queries(), 0, "nothing malformed is forwarded");

    // A malformed message on TCP closes that connection only.
    let mut bad = TcpStream::connect(tcp).await.unwrap();
    bad.write_all(&[0, 3, 1, 2, 3]).await.unwrap();
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(5), bad.read(&mut byte)).await;
    assert!(matches!(closed, Ok(Ok(0))), "closed: {closed:?}");

    let reply = ask_udp(udp, &query(52, "web", A, None)).await;
    assert_eq!(reply.a, vec![WEB]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_stop_closes_its_sockets() {
    let (resolver, udp, tcp) = start(vec![]);
    let mut idle = TcpStream::connect(tcp).await.unwrap();
    assert_eq!(ask_udp(udp, &query(60, "web", A, None)).await.a, vec![WEB]);
    resolver.stop();

    // The idle connection is closed by the resolver's side.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "connection closed: {read:?}"
    );
    // Both ports are free again: rebinding them succeeds.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let udp_free = std::net::UdpSocket::bind(udp).is_ok();
        let tcp_free = std::net::TcpListener::bind(tcp).is_ok();
        if udp_free && tcp_free {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "udp free {udp_free}, tcp free {tcp_free}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn dns_resolver_spawn_needs_a_tokio_runtime() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(Resolver::spawn(udp, tcp, Names::new(), vec![]).is_err());
}

#[test]
fn dns_upstreams_come_from_resolv_conf_nameservers() {
    let text = "\
# Generated by NetworkManager
search example.com
nameserver 10.0.0.2
nameserver 127.0.0.53 # systemd-resolved
; nameserver 192.0.2.99
nameserver   2001:db8::1
nameserver 10.0.0.2
nameserver fe80::1%1
nameserver bogus
nameserver
options ndots:2
";
    let got: Vec<String> = upstreams_from_resolv_conf(text)
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        got,
        [
            "10.0.0.2:53",
            "127.0.0.53:53",
            "[2001:db8::1]:53",
            "[fe80::1%1]:53"
        ]
    );
    assert!(upstreams_from_resolv_conf("").is_empty());
    let lo = upstreams_from_resolv_conf("nameserver fe80::1%lo\nnameserver fe80::2%no/such");
    assert_eq!(
        lo.len(),
        1,
        "lo has an index, a bad name is skipped: {lo:?}"
    );
}

/// busybox's own resolver client against the resolver on 127.0.0.1:53,
/// when busybox is installed and the port is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_resolver_answers_busybox_nslookup() {
    let Some(busybox) = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        eprintln!("skipping: busybox is not installed");
        return;
    };
    let (udp, tcp) = match (
        std::net::UdpSocket::bind("127.0.0.1:53"),
        std::net::TcpListener::bind("127.0.0.1:53"),
    ) {
        (Ok(udp), Ok(tcp)) => (udp, tcp),
        (udp, tcp) => {
            eprintln!(
                "skipping: 127.0.0.1:53 is not free (udp {:?}, tcp {:?})",
                udp.err(),
                tcp.err()
            );
            return;
        }
    };
    let upstream = FakeUpstream::start(Upstream::Answers).await;
    let resolver = Resolver::spawn(udp, tcp, Names::new(), vec![upstream.addr]).unwrap();

    let run = |args: &'static [&'static str]| async move {
        let out = tokio::process::Command::new(busybox)
            .args(args)
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let out = run(&["nslookup", "web", "127.0.0.1"]).await;
    assert!(out.contains("Name:\tweb\nAddress: 172.18.0.2"), "{out}");
    let out = run(&["nslookup", "172.18.0.2", "127.0.0.1"]).await;
    assert!(out.contains("web.mynet"), "{out}");
    let out = run(&["nslookup", "example.com", "127.0.0.1"]).await;
    assert!(out.contains("Address: 93.184.216.34"), "{out}");
    resolver.stop();
}
