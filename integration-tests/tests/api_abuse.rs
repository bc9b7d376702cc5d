//! Bad requests against a live `berthd`, spoken as raw HTTP/1.1 over its
//! unix socket so the test controls every byte: malformed and mistyped
//! JSON, absurd values, oversize bodies, unknown IDs, routes, methods and
//! API versions, and bytes that are not HTTP at all. Each must get a 4xx
//! whose `{"message": ...}` says what is wrong (never a 500, never a
//! crash), and the daemon must still run containers afterwards. Then 200
//! clients at once.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use integration_tests::berthd::Berthd;
use integration_tests::daemon_world::DaemonWorld;
use serde_json::{json, Value};

/// One parsed HTTP response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The `message` of a JSON error body, if it is one.
    fn message(&self) -> Option<String> {
        self.json()["message"].as_str().map(str::to_string)
    }
}

/// Connects with generous timeouts: a hung daemon fails the test instead
/// of hanging it.
fn connect(sock: &Path) -> UnixStream {
    let s = UnixStream::connect(sock).expect("connect to berthd");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    s
}

/// Reads until EOF; a reset after some bytes still returns those bytes.
fn read_all(s: &mut UnixStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                panic!(
                    "berthd did not answer within 60 s (got {:?})",
                    String::from_utf8_lossy(&out)
                )
            }
            Err(_) => return out,
        }
    }
}

/// Writes `raw` (tolerating the daemon closing early) and returns every
/// byte the daemon sent back. The request must say `Connection: close`.
fn exchange(sock: &Path, raw: &[u8]) -> Vec<u8> {
    let mut s = connect(sock);
    let _ = s.write_all(raw);
    read_all(&mut s)
}

/// [`exchange`] for bytes that are not a complete request: half-closes
/// after writing, so the daemon sees the end of them. (hyper drops a
/// request whose client half-closes, so complete ones must not.)
fn exchange_truncated(sock: &Path, raw: &[u8]) -> Vec<u8> {
    let mut s = connect(sock);
    let _ = s.write_all(raw);
    let _ = s.shutdown(std::net::Shutdown::Write);
    read_all(&mut s)
}

/// Decodes a chunked body (what is complete of it).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else {
            return out;
        };
        let start = eol + 2;
        let end = (start + size).min(raw.len());
        out.extend_from_slice(&raw[start..end]);
        raw = &raw[(end + 2).min(raw.len())..];
    }
}

/// Parses a response; `None` when the daemon sent nothing.
fn parse(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    reply.body = if reply
        .header("Transfer-Encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)
    } else if let Some(n) = reply.header("Content-Length").and_then(|v| v.parse().ok()) {
        rest[..usize::min(n, rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Some(reply)
}

/// One request on its own connection (`Connection: close`).
fn request(sock: &Path, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n");
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    let answer = exchange(sock, &raw);
    parse(&answer).unwrap_or_else(|| {
        panic!(
            "{method} {path}: no HTTP answer, got {:?}",
            String::from_utf8_lossy(&answer)
        )
    })
}

fn get(sock: &Path, path: &str) -> Reply {
    request(sock, "GET", path, &[], b"")
}

fn post_json(sock: &Path, path: &str, body: &str) -> Reply {
    request(
        sock,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// Percent-encodes a query value.
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The failures of one run, reported together at the end.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    /// `reply` must be `status` with a JSON `{"message"}` containing `needle`.
    fn error(&mut self, what: &str, reply: &Reply, status: u16, needle: &str) {
        let json = reply
            .header("Content-Type")
            .is_some_and(|c| c.starts_with("application/json"));
        match reply.message() {
            Some(m) if reply.status == status && json && m.contains(needle) => {}
            _ => self.0.push(format!(
                "{what}: wanted {status} {{\"message\": ~{needle:?}}}, got {} {:?} {:?}",
                reply.status,
                reply.header("Content-Type"),
                reply.text()
            )),
        }
    }

    /// `reply` must have status `status`.
    fn status(&mut self, what: &str, reply: &Reply, status: u16) {
        if reply.status != status {
            self.0.push(format!(
                "{what}: wanted {status}, got {} {:?}",
                reply.status,
                reply.text()
            ));
        }
    }

    fn fail(&mut self, what: String) {
        self.0.push(what);
    }
}

/// berthd's PID: the process whose command line names this socket.
fn berthd_pid(sock: &Path) -> u32 {
    let needle = sock.display().to_string();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let cmd = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            cmd.split('\0')
                .next()
                .is_some_and(|a| a.ends_with("berthd"))
                && cmd.contains(&needle)
        })
        .expect("berthd's process")
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// berthd's stderr log (next to its pidfile).
fn berthd_log(pid: u32) -> PathBuf {
    let cmd = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let args: Vec<String> = String::from_utf8_lossy(&cmd)
        .split('\0')
        .map(str::to_string)
        .collect();
    let pidfile = args
        .iter()
        .position(|a| a == "--pidfile")
        .and_then(|i| args.get(i + 1))
        .expect("berthd --pidfile");
    Path::new(pidfile).parent().unwrap().join("err.log")
}

/// Creates a container running `cmd`; returns its ID.
fn create(sock: &Path, image: &str, name: &str, cmd: &[&str]) -> String {
    let r = post_json(
        sock,
        &format!("/containers/create?name={name}"),
        &json!({"Image": image, "Cmd": cmd}).to_string(),
    );
    assert_eq!(r.status, 201, "create {name}: {}", r.text());
    r.json()["Id"].as_str().unwrap().to_string()
}

fn remove(sock: &Path, id: &str) {
    let r = request(
        sock,
        "DELETE",
        &format!("/containers/{id}?force=1"),
        &[],
        b"",
    );
    assert_eq!(r.status, 204, "remove {id}: {}", r.text());
}

/// The daemon still does its main job: create, start, wait (exit code), rm.
fn still_runs_containers(sock: &Path, image: &str) {
    let ping = get(sock, "/_ping");
    assert_eq!((ping.status, ping.text().as_str()), (200, "OK"));
    let id = create(sock, image, "after-abuse", &["sh", "-c", "exit 7"]);
    let r = post_json(sock, &format!("/containers/{id}/start"), "");
    assert_eq!(r.status, 204, "start: {}", r.text());
    let r = post_json(sock, &format!("/containers/{id}/wait"), "");
    assert_eq!(r.status, 200, "wait: {}", r.text());
    assert_eq!(r.json()["StatusCode"], 7, "wait: {}", r.text());
    remove(sock, &id);
}

/// Malformed JSON, wrong types, and bodies that are not JSON at all.
fn bad_bodies(f: &mut Findings, sock: &Path, image: &str, running: &str) {
    let create = "/containers/create";
    let exec = format!("/containers/{running}/exec");
    let update = format!("/containers/{running}/update");
    for (what, path, body, needle) in [
        (
            "truncated update",
            update.as_str(),
            r#"{"Memory": 1"#,
            "invalid JSON",
        ),
        (
            "truncated create",
            create,
            r#"{"Image": "x","#,
            "invalid JSON",
        ),
        ("create not JSON", create, "hello", "invalid JSON"),
        ("create array", create, "[1, 2]", "invalid JSON"),
        (
            "create empty",
            create,
            "",
            "invalid JSON: got EOF while reading request body",
        ),
        (
            "truncated exec",
            &exec,
            r#"{"Cmd": ["true""#,
            "invalid JSON",
        ),
        (
            "exec start garbage",
            "/exec/x/start",
            "{Detach}",
            "invalid JSON",
        ),
    ] {
        f.error(what, &post_json(sock, path, body), 400, needle);
    }
    let r = request(
        sock,
        "POST",
        create,
        &[("Content-Type", "text/plain")],
        json!({"Image": image}).to_string().as_bytes(),
    );
    f.error(
        "create as text/plain",
        &r,
        400,
        "unsupported Content-Type header (text/plain): must be 'application/json'",
    );

    for (what, path, body, needle) in [
        ("Cmd: 5", create, json!({"Image": image, "Cmd": 5}), "Cmd"),
        (
            "Memory: lots",
            create,
            json!({"Image": image, "HostConfig": {"Memory": "lots"}}),
            "HostConfig.Memory",
        ),
        ("Env: {}", create, json!({"Image": image, "Env": {}}), "Env"),
        ("Image: 7", create, json!({"Image": 7}), "Image"),
        ("exec Cmd: 5", &exec, json!({"Cmd": 5}), "Cmd"),
        (
            "update Memory: lots",
            &update,
            json!({"Memory": "lots"}),
            "Memory",
        ),
        (
            "exec AttachStdout: yes",
            &exec,
            json!({"Cmd": ["true"], "AttachStdout": "yes"}),
            "AttachStdout",
        ),
    ] {
        let r = post_json(sock, path, &body.to_string());
        f.error(what, &r, 400, "invalid JSON");
        f.error(what, &r, 400, needle);
    }
}

/// Values of the right type that make no sense.
fn absurd_values(f: &mut Findings, sock: &Path, image: &str, running: &str, idle: &str) {
    let r = post_json(
        sock,
        "/containers/create",
        &json!({"Image": image, "HostConfig": {"Memory": -1}}).to_string(),
    );
    f.error(
        "negative Memory",
        &r,
        400,
        "Minimum memory limit allowed is 6MB",
    );

    // A live update gets the same checks, and an unknown container 404.
    let r = post_json(
        sock,
        &format!("/containers/{running}/update"),
        &json!({"Memory": 1024}).to_string(),
    );
    f.error(
        "update Memory: 1024",
        &r,
        400,
        "Minimum memory limit allowed is 6MB",
    );
    let r = post_json(sock, "/containers/nosuch/update", "{}");
    f.error("update nosuch", &r, 404, "No such container: nosuch");

    // Docker takes any share count at create and the kernel clamps it;
    // what matters is an answer that is not a 500.
    let r = post_json(
        sock,
        "/containers/create?name=huge-shares",
        &json!({"Image": image, "HostConfig": {"CpuShares": 1i64 << 62}}).to_string(),
    );
    match r.status {
        201 => remove(sock, "huge-shares"),
        400 if r.message().is_some() => {}
        _ => f.fail(format!("huge CpuShares: {} {}", r.status, r.text())),
    }

    // 100k variables (about 1.2 MB of JSON) are legal and kept.
    let env: Vec<String> = (0..100_000).map(|i| format!("V{i}=x")).collect();
    let r = post_json(
        sock,
        "/containers/create?name=big-env",
        &json!({"Image": image, "Env": env}).to_string(),
    );
    if r.status == 201 {
        let i = get(sock, "/containers/big-env/json");
        let n = i.json()["Config"]["Env"].as_array().map_or(0, Vec::len);
        if n < 100_000 {
            f.fail(format!("big Env: inspect shows {n} variables"));
        }
        remove(sock, "big-env");
    } else {
        f.fail(format!("big Env: {} {}", r.status, r.text()));
    }

    let body = json!({"Image": image}).to_string();
    let r = post_json(sock, "/containers/create?name=a%2Fb", &body);
    f.error(
        "name with a slash",
        &r,
        400,
        "Invalid container name (a/b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
    );
    let long = "a".repeat(10_000);
    let r = post_json(sock, &format!("/containers/create?name={long}"), &body);
    match r.status {
        201 => remove(sock, &long),
        400 if r.message().is_some() => {}
        _ => f.fail(format!(
            "10k-character name: {} {}",
            r.status,
            r.text().chars().take(300).collect::<String>()
        )),
    }
    let r = post_json(sock, "/containers/create?platform=bogus", &body);
    let platform = "\"bogus\": unknown operating system or architecture: invalid argument";
    f.error("create platform=bogus", &r, 400, platform);
    let r = post_json(
        sock,
        &format!("/images/create?fromImage={}&platform=bogus", enc(image)),
        "",
    );
    f.error("pull platform=bogus", &r, 400, platform);

    let r = post_json(
        sock,
        &format!("/containers/{running}/kill?signal=SIGBOGUS"),
        "",
    );
    f.error("kill SIGBOGUS", &r, 400, "Invalid signal: SIGBOGUS");
    let r = post_json(sock, &format!("/containers/{running}/kill?signal=0"), "");
    f.error("kill signal 0", &r, 400, "Invalid signal: 0");

    let r = post_json(sock, &format!("/containers/{idle}/stop?t=abc"), "");
    f.error("stop t=abc", &r, 400, "abc");
    // A negative timeout is Docker's "wait forever"; a container that is not
    // running has nothing to wait for.
    let r = post_json(sock, &format!("/containers/{idle}/stop?t=-5"), "");
    f.status("stop t=-5 when not running", &r, 304);

    let r = post_json(
        sock,
        &format!("/containers/{idle}/wait?condition=bogus"),
        "",
    );
    f.error(
        "wait condition=bogus",
        &r,
        400,
        "invalid condition: \"bogus\"",
    );

    // Docker: "Passing a negative number or a non-integer to --tail is
    // invalid and the value is set to all in that case."
    let r = get(
        sock,
        &format!("/containers/{running}/logs?stdout=1&tail=xyz"),
    );
    f.status("logs tail=xyz", &r, 200);

    let r = get(sock, &format!("/containers/json?filters={}", enc("{bad")));
    f.error("list filters={bad", &r, 400, "invalid filter");
    let r = get(
        sock,
        &format!("/containers/json?filters={}", enc(r#"{"bogus":["x"]}"#)),
    );
    f.error("list filters={bogus}", &r, 400, "bogus");
    let r = get(sock, "/containers/json?limit=lots");
    f.error("list limit=lots", &r, 400, "limit");
    let r = post_json(sock, &format!("/containers/{running}/resize?h=abc&w=1"), "");
    f.error("resize h=abc", &r, 400, "h");
    let r = get(sock, "/containers/json?%zz=1");
    f.error(
        "query with bad escape",
        &r,
        400,
        "invalid URL escape \"%zz\"",
    );
}

/// Oversize bodies are refused without the daemon buffering them.
fn oversize(f: &mut Findings, sock: &Path) {
    let pid = berthd_pid(sock);
    let before = rss_kib(pid);
    let size = 64usize << 20;
    // Stream 64 MiB (Content-Length set) from another thread while this one
    // reads the answer: the daemon may answer before it has read it all.
    let mut s = connect(sock);
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let head = format!(
            "POST /containers/create HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        );
        if w.write_all(head.as_bytes()).is_err() {
            return;
        }
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..size >> 20 {
            if w.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let answer = read_all(&mut s);
    drop(s);
    writer.join().unwrap();
    match parse(&answer) {
        Some(r) if r.status == 413 || r.status == 400 => {
            f.error("64 MiB create", &r, r.status, "too large")
        }
        other => f.fail(format!("64 MiB create: {other:?}")),
    }

    // The same without a length: chunked, to exec create.
    let mut raw = b"POST /containers/x/exec HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\
        Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..8 {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(&chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    match parse(&exchange(sock, &raw)) {
        Some(r) if r.status == 413 => f.error("8 MiB chunked exec", &r, 413, "too large"),
        other => f.fail(format!("8 MiB chunked exec: {other:?}")),
    }
    let after = rss_kib(pid);
    println!("berthd VmRSS: {before} KiB before the oversize bodies, {after} KiB after");
    if after > before + 32 * 1024 {
        f.fail(format!(
            "berthd grew from {before} KiB to {after} KiB on oversize bodies"
        ));
    }
}

/// Unknown objects, routes, methods and versions.
fn unknowns(f: &mut Findings, sock: &Path) {
    for (what, method, path, body, needle) in [
        (
            "inspect",
            "GET",
            "/containers/nosuch/json",
            "",
            "No such container: nosuch",
        ),
        (
            "start",
            "POST",
            "/containers/nosuch/start",
            "",
            "No such container: nosuch",
        ),
        (
            "rm",
            "DELETE",
            "/containers/nosuch",
            "",
            "No such container: nosuch",
        ),
        (
            "exec create",
            "POST",
            "/containers/nosuch/exec",
            r#"{"Cmd":["true"]}"#,
            "No such container: nosuch",
        ),
        (
            "exec inspect",
            "GET",
            "/exec/nosuch/json",
            "",
            "No such exec instance: nosuch",
        ),
        (
            "exec start",
            "POST",
            "/exec/nosuch/start",
            "{}",
            "No such exec instance: nosuch",
        ),
        (
            "image inspect",
            "GET",
            "/images/nosuch/json",
            "",
            "No such image: nosuch",
        ),
        (
            "rmi",
            "DELETE",
            "/images/nosuch",
            "",
            "No such image: nosuch",
        ),
        ("unknown route", "GET", "/nope", "", "page not found"),
        (
            "unknown sub-route",
            "GET",
            "/v1.49/containers/x/bogus",
            "",
            "page not found",
        ),
        (
            "bad version prefix",
            "GET",
            "/vabc/_ping",
            "",
            "page not found",
        ),
        (
            "GET create",
            "GET",
            "/containers/create",
            "",
            "page not found",
        ),
        ("DELETE _ping", "DELETE", "/_ping", "", "page not found"),
        ("PUT list", "PUT", "/containers/json", "", "page not found"),
        (
            "POST inspect",
            "POST",
            "/containers/nosuch/json",
            "",
            "page not found",
        ),
    ] {
        let headers: &[(&str, &str)] = if body.is_empty() {
            &[]
        } else {
            &[("Content-Type", "application/json")]
        };
        let r = request(sock, method, path, headers, body.as_bytes());
        f.error(&format!("{what} ({method} {path})"), &r, 404, needle);
    }

    let r = get(sock, "/v9.99/version");
    f.error(
        "/v9.99",
        &r,
        400,
        "client version 9.99 is too new. Maximum supported API version is 1.49",
    );
    // Below the minimum moby answers in plain text: such old clients print
    // the body as is.
    let r = get(sock, "/v1.2/version");
    let want = "client version 1.2 is too old. Minimum supported API version is 1.24, \
                please upgrade your client to a newer version\n";
    if (r.status, r.text().as_str()) != (400, want) {
        f.fail(format!("/v1.2: {} {:?}", r.status, r.text()));
    }
    let r = get(sock, "/v1.24/_ping");
    f.status("/v1.24/_ping", &r, 200);
}

/// Bytes that are not (complete) HTTP: the connection may be answered with
/// a 4xx or closed, and the daemon must not notice.
fn garbage(f: &mut Findings, sock: &Path) {
    let not_5xx = |f: &mut Findings, what: &str, answer: &[u8]| {
        if let Some(r) = parse(answer) {
            if !(400..500).contains(&r.status) {
                f.fail(format!("{what}: {} {:?}", r.status, r.text()));
            }
        } else if !answer.is_empty() {
            f.fail(format!(
                "{what}: not HTTP: {:?}",
                String::from_utf8_lossy(answer)
            ));
        }
    };
    let binary: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
    let big_header = format!(
        "GET /_ping HTTP/1.1\r\nHost: berth\r\nX-Big: {}\r\n\r\n",
        "x".repeat(200 * 1024)
    );
    let cases: Vec<(&str, Vec<u8>)> =
        vec![
        ("binary bytes", binary),
        ("text that is not HTTP", b"HELLO THERE\r\n\r\n".to_vec()),
        ("request line only", b"GET /_ping HTTP/1.1\r\n".to_vec()),
        ("half a request line", b"GET /_pi".to_vec()),
        (
            "body shorter than its length",
            b"POST /containers/create HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"Image\":"
                .to_vec(),
        ),
        (
            "broken chunked body",
            b"POST /containers/create HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n\
              Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n"
                .to_vec(),
        ),
        ("bad HTTP version", b"GET /_ping HTTP/9.9\r\nHost: b\r\n\r\n".to_vec()),
        ("200 KiB header", big_header.into_bytes()),
        ("nothing", Vec::new()),
    ];
    for (what, raw) in cases {
        let answer = exchange_truncated(sock, &raw);
        not_5xx(f, what, &answer);
    }
    // Connections dropped without a word, and one dropped mid-body.
    for _ in 0..50 {
        drop(connect(sock));
    }
    let mut s = connect(sock);
    let _ = s.write_all(
        b"POST /containers/create HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n\
          Content-Length: 100000\r\n\r\n{\"Image\": \"busy",
    );
    drop(s);
    let r = get(sock, "/_ping");
    f.status("ping after garbage", &r, 200);
}

#[test]
fn bad_requests_get_4xx_with_a_message_and_the_daemon_survives() {
    let w = DaemonWorld::new();
    let mut d = Berthd::start(&w);
    let sock = d.sock.clone();
    let image = w.image.as_str();
    let running = create(&sock, image, "running", &["sleep", "1000"]);
    let r = post_json(&sock, &format!("/containers/{running}/start"), "");
    assert_eq!(r.status, 204, "start: {}", r.text());
    let idle = create(&sock, image, "idle", &["true"]);

    let mut f = Findings::default();
    bad_bodies(&mut f, &sock, image, &running);
    absurd_values(&mut f, &sock, image, &running, &idle);
    oversize(&mut f, &sock);
    unknowns(&mut f, &sock);
    garbage(&mut f, &sock);

    assert!(d.alive(), "berthd died");
    let log = fs::read_to_string(berthd_log(berthd_pid(&sock))).unwrap_or_default();
    if log.contains("panicked") {
        f.fail(format!("berthd panicked:\n{log}"));
    }
    assert!(
        f.0.is_empty(),
        "{} bad answers:\n{}",
        f.0.len(),
        f.0.join("\n")
    );

    still_runs_containers(&sock, image);
    remove(&sock, &running);
    remove(&sock, &idle);
    let list = get(&sock, "/containers/json?all=1");
    assert_eq!(list.json(), json!([]), "containers left: {}", list.text());
}

/// What one of the concurrent clients does.
#[derive(Clone, Copy, Debug)]
enum Job {
    Ping,
    List,
    Version,
    Info,
    Inspect,
    InspectMissing,
    CreateRemove,
}

const JOBS: [Job; 7] = [
    Job::Ping,
    Job::List,
    Job::Version,
    Job::Info,
    Job::Inspect,
    Job::InspectMissing,
    Job::CreateRemove,
];

/// Runs `job` (client number `n`); `Err` says what went wrong.
fn run_job(sock: &Path, job: Job, n: usize, image: &str, real: &str) -> Result<(), String> {
    let want = |r: &Reply, status: u16, ok: bool| {
        if r.status == status && ok {
            Ok(())
        } else {
            Err(format!("{job:?} #{n}: {} {}", r.status, r.text()))
        }
    };
    match job {
        Job::Ping => {
            let r = get(sock, "/_ping");
            want(&r, 200, r.text() == "OK")
        }
        Job::List => {
            let r = get(sock, "/containers/json?all=1");
            want(&r, 200, r.json().is_array())
        }
        Job::Version => {
            let r = get(sock, "/version");
            want(&r, 200, r.json()["ApiVersion"] == "1.49")
        }
        Job::Info => {
            let r = get(sock, "/info");
            want(&r, 200, r.json()["Containers"].is_number())
        }
        Job::Inspect => {
            let r = get(sock, &format!("/containers/{real}/json"));
            want(&r, 200, r.json()["Id"] == real)
        }
        Job::InspectMissing => {
            let r = get(sock, &format!("/containers/missing-{n}/json"));
            want(
                &r,
                404,
                r.message() == Some(format!("No such container: missing-{n}")),
            )
        }
        Job::CreateRemove => {
            let r = post_json(
                sock,
                &format!("/containers/create?name=conc-{n}"),
                &json!({"Image": image, "Cmd": ["true"]}).to_string(),
            );
            want(&r, 201, r.json()["Id"].is_string())?;
            let r = request(sock, "DELETE", &format!("/containers/conc-{n}"), &[], b"");
            want(&r, 204, true)
        }
    }
}

#[test]
fn two_hundred_clients_at_once() {
    let w = DaemonWorld::new();
    let mut d = Berthd::start(&w);
    let sock = d.sock.clone();
    let image = w.image.clone();
    let real = create(&sock, &image, "real", &["true"]);

    let clients = 200;
    let barrier = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|n| {
            let (sock, image, real, barrier) =
                (sock.clone(), image.clone(), real.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                run_job(&sock, JOBS[n % JOBS.len()], n, &image, &real)
            })
        })
        .collect();
    let failures: Vec<String> = threads
        .into_iter()
        .filter_map(|t| t.join().expect("client thread").err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {clients} requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    assert!(d.alive(), "berthd died");
    let r = get(&sock, "/_ping");
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let list = get(&sock, "/containers/json?all=1");
    let ids: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        ids,
        std::slice::from_ref(&real),
        "containers left: {}",
        list.text()
    );
    remove(&sock, &real);
}
