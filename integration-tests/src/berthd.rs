//! A real `berthd` process on a [`DaemonWorld`]'s roots, serving the Engine
//! API on a unix socket, and the CLIs (`berth`, the real `docker`) that
//! drive it: what the CLI, compatibility and API-abuse suites share.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::daemon_world::DaemonWorld;
use crate::{target_dir, workspace_bin};

/// A berthd process on the world's roots, SIGTERMed (containers keep running, the
/// world's cleanup removes them) and reaped on drop.
pub struct Berthd {
    child: Child,
    /// The unix socket it serves the Engine API on.
    pub sock: PathBuf,
    _dir: tempfile::TempDir,
    killed: bool,
}

impl Drop for Berthd {
    fn drop(&mut self) {
        if self.killed {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Berthd {
    /// Ends berthd with SIGKILL, as a crash would: nothing is cleaned up,
    /// containers (and their shims) keep running.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.killed = true;
    }

    /// Starts berthd on `w`'s data and exec roots; returns once its socket exists.
    pub fn start(w: &DaemonWorld) -> Berthd {
        Berthd::start_with(w, &[])
    }

    /// [`Berthd::start`] with more berthd flags (e.g. `--init-path`).
    pub fn start_with(w: &DaemonWorld, flags: &[&str]) -> Berthd {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("berth.sock");
        let child = Command::new(workspace_bin("berthd"))
            .arg("--data-root")
            .arg(w.data.path())
            .arg("--exec-root")
            .arg(w.exec.path())
            .arg("--pidfile")
            .arg(dir.path().join("berthd.pid"))
            .args(network_flags(w.data.path()))
            .args(flags)
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .env("BERTH_SHIM", workspace_bin("berth-shim"))
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.path().join("out.log")).unwrap())
            .stderr(fs::File::create(dir.path().join("err.log")).unwrap())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(20);
        while !sock.exists() {
            assert!(Instant::now() < end, "berthd did not open its socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        Berthd {
            child,
            sock,
            _dir: dir,
            killed: false,
        }
    }

    /// Whether the process is still alive (it must be after any bad request).
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }

    /// `unix://<sock>`, for DOCKER_HOST / BERTH_HOST.
    pub fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }
}

/// The docker CLI: on PATH, else Debian's docker.io unpacked under
/// `target/bench-tools/docker` (what `.ci/run` prepares).
pub fn docker_cli() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("docker"))
            .find(|p| p.is_file())
    });
    let unpacked = target_dir()
        .parent()
        .map(|t| t.join("bench-tools/docker/usr/bin/docker"))
        .filter(|p| p.is_file());
    on_path.or(unpacked).expect(
        "the docker CLI is needed for the compatibility suite: apt-get install docker.io, \
         or unpack it under target/bench-tools/docker as .ci/run does",
    )
}

/// Runs `cli args` against the daemon, feeding `stdin`.
pub fn cli(bin: &Path, sock: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .env("BERTH_HOST", format!("unix://{}", sock.display()))
        .env("DOCKER_CONFIG", sock.parent().unwrap())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut i = child.stdin.take().unwrap();
        i.write_all(stdin).unwrap();
    }
    wait_timeout(child, Duration::from_secs(60))
}

/// Waits for `child` at most `limit`, killing it and panicking past that.
pub fn wait_timeout(mut child: Child, limit: Duration) -> Output {
    let end = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "CLI timed out; stdout {:?} stderr {:?}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// stdout, stderr (lossy) and the exit code (-1 for a signal).
pub fn text(o: &Output) -> (String, String, i32) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

/// berthd's `--bridge` / `--bip` for a test daemon on `data` (see
/// [`crate::daemon_cleanup::test_network`]).
pub fn network_flags(data: &std::path::Path) -> Vec<String> {
    let n = crate::daemon_cleanup::test_network(data);
    let mut flags = vec!["--bridge".to_string(), n.bridge];
    if let Some(bip) = n.bip {
        flags.push("--bip".into());
        flags.push(bip.to_string());
    }
    flags
}
