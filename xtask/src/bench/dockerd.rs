//! A private, throwaway `dockerd` for benches: its own data root, exec root,
//! pidfile, socket, config file and containerd namespaces; by default no
//! bridge and no iptables ([`Dockerd::start_with`] can give it a bridge the
//! caller created, with iptables on); it starts its own managed containerd
//! under its exec root.
//! Stopped by PID (SIGTERM, wait, SIGKILL) on drop, with its managed
//! containerd; leftover mounts under its temp dir are unmounted and the dir
//! removed. A system dockerd or containerd is never touched.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use tempfile::TempDir;

/// Where Debian's docker.io installs the daemon.
pub const SYSTEM_DOCKERD: &str = "/usr/sbin/dockerd";

/// How long [`Dockerd::start`] waits for `docker version` to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`Drop`] waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// Finds a dockerd binary: `explicit`, else [`SYSTEM_DOCKERD`], else
/// `dockerd` on `$PATH`, else one unpacked from Debian's `docker.io`
/// package under `<workspace>/target/bench-tools/docker` (see
/// [`unpacked_tools_dir`]).
pub fn find_dockerd(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        ensure!(path.is_file(), "dockerd {} does not exist", path.display());
        return Ok(path.to_path_buf());
    }
    let unpacked = unpacked_tools_dir().join("usr/sbin/dockerd");
    [
        Some(PathBuf::from(SYSTEM_DOCKERD)),
        crate::find_on_path("dockerd"),
        Some(unpacked),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_file())
    .context(
        "dockerd not found: install docker.io (apt-get install docker.io), pass \
             --dockerd PATH, or unpack the packages without installing them: \
             `cd target/bench-tools && apt-get download docker.io containerd && \
             for d in *.deb; do dpkg-deb -x $d docker; done`",
    )
}

/// `<workspace>/target/bench-tools/docker`: Debian's docker.io and
/// containerd packages unpacked with `dpkg-deb -x` (nothing installed).
pub fn unpacked_tools_dir() -> PathBuf {
    crate::workspace_root().join("target/bench-tools/docker")
}

/// How a private dockerd is networked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DockerdNetwork {
    /// `--bridge=none`, iptables off: only `--network none`/`host` work.
    #[default]
    None,
    /// Docker's default bridge network on this existing Linux bridge
    /// (`--bridge=<name>`), with iptables and IP masquerading on as in a
    /// stock install (IPv6 iptables and the userland proxy off). The
    /// caller owns the bridge and cleans up the iptables rules dockerd adds.
    Bridge(String),
}

/// A running private dockerd.
pub struct Dockerd {
    child: Child,
    docker: PathBuf,
    dir: TempDir,
    namespace: String,
}

impl Dockerd {
    /// Starts `dockerd` (with `containerd` looked up next to it first, then
    /// on `$PATH`) and waits until `docker version` answers on its socket.
    /// `docker` is the CLI used to talk to it. No bridge, no iptables.
    pub fn start(dockerd: &Path, docker: &Path) -> Result<Dockerd> {
        Dockerd::start_with(dockerd, docker, &DockerdNetwork::None)
    }

    /// Like [`Dockerd::start`], networked as `network` says.
    pub fn start_with(dockerd: &Path, docker: &Path, network: &DockerdNetwork) -> Result<Dockerd> {
        let dir = tempfile::Builder::new()
            .prefix("berth-bench-dockerd-")
            .tempdir()
            .context("creating the dockerd temp dir")?;
        for sub in ["data", "exec", "cli-config"] {
            fs::create_dir(dir.path().join(sub))
                .with_context(|| format!("creating {}/{sub}", dir.path().display()))?;
        }
        // An empty config file, so /etc/docker/daemon.json is not read.
        fs::write(dir.path().join("daemon.json"), "{}\n").context("writing daemon.json")?;
        let log_path = dir.path().join("dockerd.log");
        let log = fs::File::create(&log_path).context("creating the dockerd log")?;
        let help = Command::new(dockerd)
            .arg("--help")
            .output()
            .with_context(|| format!("running {} --help", dockerd.display()))?;
        let help = String::from_utf8_lossy(&help.stdout);

        let namespace = format!("berth-bench-{}", std::process::id());
        let mut command = Command::new(dockerd);
        command
            .arg(format!(
                "--config-file={}",
                dir.path().join("daemon.json").display()
            ))
            .arg(format!("--data-root={}", dir.path().join("data").display()))
            .arg(format!("--exec-root={}", dir.path().join("exec").display()))
            .arg(format!(
                "--pidfile={}",
                dir.path().join("dockerd.pid").display()
            ))
            .arg(format!(
                "--host=unix://{}",
                dir.path().join("docker.sock").display()
            ))
            .arg(format!("--containerd-namespace={namespace}"))
            .arg(format!(
                "--containerd-plugins-namespace={namespace}-plugins"
            ))
            .args(["--storage-driver=overlay2", "--log-level=warn"]);
        let (bridge, on) = match network {
            DockerdNetwork::None => ("none", false),
            DockerdNetwork::Bridge(name) => (name.as_str(), true),
        };
        command.arg(format!("--bridge={bridge}"));
        for (flag, value) in [
            ("--iptables", on),
            ("--ip-masq", on),
            ("--ip6tables", false),
            ("--userland-proxy", false),
        ] {
            if help.contains(&format!("{flag} ")) {
                command.arg(format!("{flag}={value}"));
            }
        }
        // The managed containerd is looked up on PATH: prefer the one
        // packaged next to this dockerd (e.g. an unpacked docker.io).
        let mut path = Vec::new();
        if let Some(prefix) = dockerd.parent().and_then(Path::parent) {
            path.extend([prefix.join("bin"), prefix.join("sbin")]);
        }
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        command
            .env("PATH", std::env::join_paths(path).context("joining PATH")?)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicating the dockerd log")?)
            .stderr(log);
        let child = command
            .spawn()
            .with_context(|| format!("spawning {}", dockerd.display()))?;
        let daemon = Dockerd {
            child,
            docker: docker.to_path_buf(),
            dir,
            namespace,
        };
        daemon.wait_ready(&log_path)?;
        Ok(daemon)
    }

    fn wait_ready(&self, log_path: &Path) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let out = self
                .cli()
                .arg("version")
                .output()
                .context("running docker version")?;
            if out.status.success() {
                return Ok(());
            }
            let log = || fs::read_to_string(log_path).unwrap_or_default();
            if !self.is_running() {
                bail!(
                    "dockerd exited before it was ready; log {}:\n{}",
                    log_path.display(),
                    log()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "dockerd did not answer `docker version` within {START_TIMEOUT:?}: {}\nlog {}:\n{}",
                    String::from_utf8_lossy(&out.stderr).trim(),
                    log_path.display(),
                    log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the dockerd process is still alive (not yet exited).
    fn is_running(&self) -> bool {
        // `try_wait` needs `&mut`; peek at /proc instead so `&self` works.
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.child.id()));
        stat.is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    }

    /// `docker -H unix://<sock>` with a private CLI config dir.
    pub fn cli(&self) -> Command {
        let mut command = Command::new(&self.docker);
        command
            .env("DOCKER_CONFIG", self.dir.path().join("cli-config"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .arg("-H")
            .arg(format!("unix://{}", self.socket().display()))
            .stdin(Stdio::null());
        command
    }

    /// Runs `docker <args>` and insists it succeeds; returns its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        let out = self
            .cli()
            .args(args)
            .output()
            .with_context(|| format!("running docker {}", args.join(" ")))?;
        ensure!(
            out.status.success(),
            "docker {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// The daemon's `--data-root`.
    pub fn data_root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The daemon's `--exec-root`.
    pub fn exec_root(&self) -> PathBuf {
        self.dir.path().join("exec")
    }

    /// The dockerd process's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The containerd namespace of its containers (`--containerd-namespace`).
    pub fn containerd_namespace(&self) -> &str {
        &self.namespace
    }

    /// The PID of its managed containerd, if running (see
    /// [`Dockerd::managed_containerd_pid`]).
    pub fn containerd_pid(&self) -> Option<libc::pid_t> {
        self.managed_containerd_pid()
    }

    /// The daemon's log file.
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("dockerd.log")
    }

    /// The image layers overlay2 still holds: the entries of
    /// `<data-root>/overlay2` other than `l` (its short-name links).
    pub fn overlay2_layers(&self) -> Result<Vec<String>> {
        let dir = self.data_root().join("overlay2");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
        };
        let mut layers = Vec::new();
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name != "l" {
                layers.push(name);
            }
        }
        Ok(layers)
    }

    /// The PID of the containerd dockerd started under its exec root, if it
    /// is (still) running and really is that containerd.
    fn managed_containerd_pid(&self) -> Option<libc::pid_t> {
        let exec = self.exec_root();
        for pidfile in ["containerd/containerd.pid", "containerd.pid"] {
            let Ok(text) = fs::read_to_string(exec.join(pidfile)) else {
                continue;
            };
            let Ok(pid) = text.trim().parse::<libc::pid_t>() else {
                continue;
            };
            // Only a containerd whose command line names our exec root.
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if pid > 1
                && cmdline.contains("containerd")
                && cmdline.contains(&*exec.to_string_lossy())
            {
                return Some(pid);
            }
        }
        None
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let containerd = self.managed_containerd_pid();
        stop_child(&mut self.child, STOP_GRACE);
        // dockerd stops its managed containerd on a clean shutdown; after a
        // SIGKILL it may be left behind.
        if let Some(pid) = containerd {
            if self.managed_containerd_pid() == Some(pid) {
                stop_pid(pid, Duration::from_secs(5));
            }
        }
        unmount_under(self.dir.path());
        // The TempDir removes the directory itself when dropped after this.
    }
}

/// SIGTERM our child, wait up to `grace`, then SIGKILL it and reap it.
fn stop_child(child: &mut Child, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions; `pid` is our unreaped
    // child, so it cannot have been reused.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("warning: dockerd did not stop within {grace:?}; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERM `pid` (not our child: dockerd's managed containerd, re-parented),
/// wait up to `grace` for it to go, then SIGKILL.
fn stop_pid(pid: libc::pid_t, grace: Duration) {
    let alive = || Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid);
    // SAFETY: kill has no memory-safety preconditions; the caller checked
    // that `pid` is the containerd we started (its cmdline names our dir).
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive() {
        // SAFETY: as above.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

fn is_zombie(pid: libc::pid_t) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Lazily unmounts every mount at or below `dir`, deepest first.
pub fn unmount_under(dir: &Path) {
    let prefix = dir.to_string_lossy().into_owned();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_mountinfo)
        .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    points.dedup();
    for point in points {
        let Ok(c_path) = std::ffi::CString::new(point.clone()) else {
            continue;
        };
        // SAFETY: `c_path` is a valid NUL-terminated string for the call.
        let rc = unsafe { libc::umount2(c_path.as_ptr(), libc::MNT_DETACH) };
        if rc != 0 {
            eprintln!(
                "warning: umount {point}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space, etc.).
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(digits, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The docker CLI: `docker` on `$PATH`, else the one packaged next to dockerd.
pub fn find_docker_cli(dockerd: &Path) -> Result<PathBuf> {
    let packaged = dockerd
        .parent()
        .and_then(Path::parent)
        .map(|prefix| prefix.join("bin/docker"));
    crate::find_on_path("docker")
        .or(packaged.filter(|p| p.is_file()))
        .context("the docker CLI was not found: install docker.io (or docker-cli)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_mountinfo_paths() {
        assert_eq!(unescape_mountinfo(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
        assert_eq!(unescape_mountinfo(r"/end\"), r"/end\");
    }
}
