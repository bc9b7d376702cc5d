//! A real, local container registry for tests and benches: Debian's `docker-registry`
//! (the CNCF distribution registry v2) on a free 127.0.0.1 port with its own
//! temporary storage, plus `skopeo` to push the xtask fixture image layouts
//! into it and a minimal HTTP/1.1 client to look at what it serves.
//!
//! Needs `apt-get install docker-registry skopeo`. Nothing leaves 127.0.0.1.

use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use tempfile::TempDir;

use crate::fixtures::Fixtures;

/// The registry binary (Debian's `docker-registry` package).
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// How long [`LocalRegistry::start`] waits for `GET /v2/` to answer 200.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`Drop`] waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The fixture images [`LocalRegistry::seed_fixtures`] pushes.
pub const FIXTURE_IMAGES: [&str; 4] = ["busybox", "multilayer", "multiplatform", "volumes"];

/// A docker-registry (distribution v2) on a free 127.0.0.1 port with its own
/// temp storage, stopped (by PID, SIGTERM then SIGKILL) and cleaned up on drop.
pub struct LocalRegistry {
    child: Child,
    port: u16,
    // Removed after Drop has stopped the child.
    dir: TempDir,
}

/// Why one start attempt failed.
enum StartError {
    /// The port was taken between picking it and the registry binding it.
    PortTaken(anyhow::Error),
    /// Anything else.
    Fatal(anyhow::Error),
}

impl From<anyhow::Error> for StartError {
    fn from(err: anyhow::Error) -> Self {
        StartError::Fatal(err)
    }
}

impl LocalRegistry {
    /// Starts the registry and waits until `GET /v2/` answers 200 (polling
    /// with a plain `TcpStream` HTTP/1.1 request; times out after 10 s with
    /// a panic naming the log file). If the free port picked is taken before
    /// the registry binds it, retries once with another port.
    pub fn start() -> LocalRegistry {
        Self::try_start().unwrap_or_else(|err| panic!("{err:#}"))
    }

    /// [`LocalRegistry::start`], returning an error instead of panicking.
    pub fn try_start() -> Result<LocalRegistry> {
        check_tools()?;
        match Self::start_once() {
            Ok(r) => Ok(r),
            Err(StartError::PortTaken(first)) => match Self::start_once() {
                Ok(r) => Ok(r),
                Err(StartError::PortTaken(err)) | Err(StartError::Fatal(err)) => {
                    Err(err.context(format!("(first attempt: {first:#})")))
                }
            },
            Err(StartError::Fatal(err)) => Err(err),
        }
    }

    fn start_once() -> Result<LocalRegistry, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-")
            .tempdir()
            .context("creating the registry's temp dir")?;
        let data = dir.path().join("data");
        fs::create_dir_all(&data).context("creating the registry storage dir")?;
        let config = dir.path().join("config.yml");
        let log_path = dir.path().join("registry.log");

        // Pick a free port: bind :0, read the port, release it just before
        // the registry starts.
        let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
        let port = listener
            .local_addr()
            .context("reading the local address")?
            .port();
        fs::write(&config, config_yaml(&data, port)).context("writing the registry config")?;
        let log = fs::File::create(&log_path).context("creating the registry log")?;
        drop(listener);

        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicating the registry log")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawning {REGISTRY_BIN}"))?;
        let mut reg = LocalRegistry { child, port, dir };

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = reg.child.try_wait().context("waiting for the registry")? {
                let text = fs::read_to_string(&log_path).unwrap_or_default();
                let err = anyhow!(
                    "docker-registry exited before it was ready ({status}) on port {port}; \
                     log {}:\n{text}",
                    log_path.display()
                );
                // The child is reaped: dropping `reg` only removes its dir.
                drop(reg);
                return Err(if text.contains("address already in use") {
                    StartError::PortTaken(err)
                } else {
                    StartError::Fatal(err)
                });
            }
            if let Ok((200, _)) = http_get(port, "/v2/", &[], Duration::from_millis(500)) {
                return Ok(reg);
            }
            if Instant::now() >= deadline {
                let text = fs::read_to_string(&log_path).unwrap_or_default();
                // `reg` is dropped on return, which stops the child.
                return Err(StartError::Fatal(anyhow!(
                    "docker-registry on 127.0.0.1:{port} did not answer GET /v2/ with 200 \
                     within {START_TIMEOUT:?}; see its log {}:\n{text}",
                    log_path.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The registry process's PID (it is this process's child).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The registry's log file (its stdout and stderr).
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    /// The registry's storage dir (so tests can corrupt a blob:
    /// `<storage>/docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data`).
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The path of a blob's data file in [`LocalRegistry::storage`], for
    /// `sha256:<hex>` (the file exists once the blob is pushed).
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2.min(hex.len())])
            .join(hex)
            .join("data")
    }

    /// Pushes the `latest` tag of an OCI image layout (all platforms for an
    /// index: `skopeo copy --all`) to `<host>/<repo>:<tag>` with skopeo
    /// (`--dest-tls-verify=false`, `--preserve-digests`), and returns the
    /// manifest (or index) digest as pushed, from `--digestfile`. Panics on
    /// failure.
    pub fn push_layout(&self, layout: &Path, repo: &str, tag: &str) -> String {
        self.try_push_layout(layout, repo, tag)
            .unwrap_or_else(|err| panic!("{err:#}"))
    }

    /// [`LocalRegistry::push_layout`], returning an error instead of panicking.
    pub fn try_push_layout(&self, layout: &Path, repo: &str, tag: &str) -> Result<String> {
        check_tools()?;
        let layout = std::path::absolute(layout)
            .with_context(|| format!("resolving {}", layout.display()))?;
        let digestfile = self.dir.path().join(format!(
            "digest-{}-{}",
            repo.replace('/', "_"),
            unique("push")
        ));
        let src = format!("oci:{}:latest", layout.display());
        let dest = format!("docker://{}/{repo}:{tag}", self.host());
        let out = Command::new("skopeo")
            .args([
                "--insecure-policy",
                "copy",
                "--all",
                "--preserve-digests",
                "--dest-tls-verify=false",
                "--dest-no-creds",
                "--retry-times",
                "2",
                "--digestfile",
            ])
            .arg(&digestfile)
            .arg(&src)
            .arg(&dest)
            .stdin(Stdio::null())
            .output()
            .context("running skopeo copy")?;
        ensure!(
            out.status.success(),
            "skopeo copy {src} {dest} failed: {}\nstdout:\n{}\nstderr:\n{}\nregistry log {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_file().display(),
            fs::read_to_string(self.log_file()).unwrap_or_default()
        );
        let digest = fs::read_to_string(&digestfile)
            .with_context(|| format!("reading skopeo --digestfile {}", digestfile.display()))?
            .trim()
            .to_string();
        let _ = fs::remove_file(&digestfile);
        ensure!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "skopeo wrote an unexpected digest {digest:?} for {dest}"
        );
        Ok(digest)
    }

    /// Pushes every fixture image (busybox, multilayer, multiplatform,
    /// volumes) as
    /// `<name>:latest`; returns (name, digest) pairs in that order.
    pub fn seed_fixtures(&self) -> Vec<(String, String)> {
        let fixtures = Fixtures::ensure_default().expect("build fixtures");
        FIXTURE_IMAGES
            .iter()
            .map(|name| {
                let digest = self.push_layout(&fixtures.image_layout(name), name, "latest");
                (name.to_string(), digest)
            })
            .collect()
    }

    /// `GET <path>` (e.g. `/v2/_catalog`): (status, body). A minimal HTTP/1.1
    /// client over `TcpStream` with `Connection: close`.
    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        self.get_with_headers(path, &[])
    }

    /// [`LocalRegistry::get`] with extra request headers, e.g.
    /// `("Accept", "application/vnd.oci.image.manifest.v1+json")`.
    pub fn get_with_headers(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
        http_get(self.port, path, headers, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("GET http://{}{path}: {e}", self.host()))
    }
}

impl Drop for LocalRegistry {
    /// SIGTERM the registry (our own child, by PID), wait up to 2 s, then
    /// SIGKILL and wait. The temp dir is removed afterwards.
    fn drop(&mut self) {
        // Already reaped (e.g. it exited during start): nothing to signal,
        // and the PID may belong to someone else by now.
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let Ok(pid) = libc::pid_t::try_from(self.child.id()) else {
            return;
        };
        // SAFETY: kill has no memory-safety preconditions; `pid` is our
        // unreaped child, so it cannot have been reused by another process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Child::kill sends SIGKILL to this child only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An error with an install hint if docker-registry or skopeo is missing.
fn check_tools() -> Result<()> {
    let missing: Vec<&str> = [
        (Path::new(REGISTRY_BIN).is_file(), "docker-registry"),
        (crate::find_on_path("skopeo").is_some(), "skopeo"),
    ]
    .into_iter()
    .filter(|(found, _)| !found)
    .map(|(_, name)| name)
    .collect();
    ensure!(
        missing.is_empty(),
        "{} not installed: the local registry needs them (apt-get install docker-registry skopeo)",
        missing.join(" and ")
    );
    Ok(())
}

/// A name unique within this process: `<prefix>-<pid>-<n>`.
fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The registry config: filesystem storage under `data`, deletes enabled,
/// plain HTTP on 127.0.0.1:`port`, no auth, warn logs, health checks off.
fn config_yaml(data: &Path, port: u16) -> String {
    format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n\
         health:\n  storagedriver:\n    enabled: false\n",
        data = data.display()
    )
}

/// A minimal HTTP/1.1 GET against 127.0.0.1:`port` with `Connection: close`:
/// (status, body), de-chunking a chunked body.
fn http_get(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> std::io::Result<(u16, Vec<u8>)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    let _ = s.shutdown(Shutdown::Write);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of HTTP headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| bad("bad HTTP status line"))?;
    let mut chunked = false;
    let mut length = None;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        } else if k == "content-length" {
            length = v.parse::<usize>().ok();
        }
    }
    let body = &raw[end + 4..];
    let body = if chunked {
        dechunk(body).ok_or_else(|| bad("bad chunked body"))?
    } else if let Some(n) = length {
        if body.len() < n {
            return Err(bad("short HTTP body"));
        }
        body[..n].to_vec()
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(&body[..eol]).ok()?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        body = &body[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// `sha256:<hex>` of `data`, so tests can check what the registry serves
/// against pushed digests.
pub fn sha256_digest(data: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answers() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_digest(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            sha256_digest(&long),
            "sha256:41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }

    #[test]
    fn parses_chunked_and_sized_responses() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(parse_response(r).unwrap(), (200, b"abc".to_vec()));
        let r = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(r).unwrap(), (404, b"abcde".to_vec()));
    }

    #[test]
    fn config_has_no_auth_and_binds_loopback() {
        let y = config_yaml(Path::new("/tmp/x/data"), 5000);
        assert!(y.contains("addr: 127.0.0.1:5000"));
        assert!(y.contains("rootdirectory: /tmp/x/data"));
        assert!(!y.contains("auth"));
    }
}
