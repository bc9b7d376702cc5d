//! The real `docker` CLI and Berth's own `berth` CLI driving a real
//! `berthd` over its unix socket: run (attached, with stdin, with --rm,
//! detached), ps, logs, exec, inspect templates, cp, stop, rm, and their
//! exit codes. The image is pre-pulled into the data root.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use integration_tests::daemon_world::DaemonWorld;
use integration_tests::{target_dir, workspace_bin};

/// A berthd on the world's roots, SIGTERMed (containers keep running, the
/// world's cleanup removes them) and reaped on drop.
struct Berthd {
    child: Child,
    sock: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Berthd {
    fn drop(&mut self) {
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

fn start_berthd(w: &DaemonWorld) -> Berthd {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("berth.sock");
    let child = Command::new(workspace_bin("berthd"))
        .arg("--data-root")
        .arg(w.data.path())
        .arg("--exec-root")
        .arg(w.exec.path())
        .arg("--pidfile")
        .arg(dir.path().join("berthd.pid"))
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
    }
}

/// The docker CLI: on PATH, else Debian's docker.io unpacked under
/// `target/bench-tools/docker` (what `.ci/run` prepares).
fn docker_cli() -> PathBuf {
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
fn cli(bin: &Path, sock: &Path, args: &[&str], stdin: &[u8]) -> Output {
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

fn wait_timeout(mut child: Child, limit: Duration) -> Output {
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

fn text(o: &Output) -> (String, String, i32) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

/// The same scenario through a CLI binary.
fn scenario(bin: &Path, w: &DaemonWorld, d: &Berthd) {
    let run = |args: &[&str]| text(&cli(bin, &d.sock, args, b""));
    let img = w.image.as_str();

    let (out, err, code) = run(&["version", "--format", "{{.Server.Version}}"]);
    assert_eq!(code, 0, "version: {err}");
    assert!(!out.trim().is_empty());

    // Attached run: output and exit code.
    let (out, err, code) = run(&["run", "--rm", img, "sh", "-c", "echo hello; echo oops >&2"]);
    assert_eq!((out.as_str(), err.as_str(), code), ("hello\n", "oops\n", 0));
    let (_, _, code) = run(&["run", "--name", "three", img, "sh", "-c", "exit 3"]);
    assert_eq!(code, 3);
    let (out, _, _) = run(&[
        "inspect",
        "-f",
        "{{.State.ExitCode}} {{.State.Status}}",
        "three",
    ]);
    assert_eq!(out.trim(), "3 exited");

    // stdin through an interactive run.
    let o = cli(bin, &d.sock, &["run", "-i", "--rm", img, "cat"], b"piped\n");
    assert_eq!(text(&o).0, "piped\n", "{:?}", text(&o));

    // Detached: ID printed, shows in ps, logs, exec, cp, stop, rm.
    let (id, err, code) = run(&[
        "run",
        "-d",
        "--name",
        "bg",
        img,
        "sh",
        "-c",
        "echo started; sleep 1000",
    ]);
    assert_eq!(code, 0, "{err}");
    let id = id.trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    let (out, _, _) = run(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(out.lines().any(|l| l.starts_with("bg Up")), "{out}");
    let (out, _, _) = run(&["ps", "-a", "-q", "--no-trunc"]);
    assert!(out.lines().any(|l| l == id), "{out}");
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let (out, _, _) = run(&["logs", "bg"]);
        if out == "started\n" {
            break;
        }
        assert!(Instant::now() < end, "logs: {out:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (out, err, code) = run(&["exec", "bg", "sh", "-c", "echo in-$((6*7)); exit 4"]);
    assert_eq!((out.as_str(), code), ("in-42\n", 4), "{err}");
    let copy = tempfile::tempdir().unwrap();
    let dest = copy.path().join("hostname");
    let (_, err, code) = run(&["cp", "bg:/etc/hostname", dest.to_str().unwrap()]);
    assert_eq!(code, 0, "cp: {err}");
    assert_eq!(fs::read_to_string(&dest).unwrap().trim(), &id[..12]);
    let local = copy.path().join("in.txt");
    fs::write(&local, "copied in\n").unwrap();
    let (_, err, code) = run(&["cp", local.to_str().unwrap(), "bg:/tmp/renamed.txt"]);
    assert_eq!(code, 0, "cp in: {err}");
    let (out, err, _) = run(&["exec", "bg", "cat", "/tmp/renamed.txt"]);
    assert_eq!(out, "copied in\n", "{err}");
    let (out, err, code) = run(&["top", "bg"]);
    assert_eq!(code, 0, "top: {err}");
    assert!(out.contains("sleep 1000"), "{out}");
    let (out, err, code) = run(&["stats", "--no-stream", "--format", "{{.Name}}", "bg"]);
    assert_eq!((out.trim(), code), ("bg", 0), "stats: {err}");
    let (out, err, code) = run(&["info", "--format", "{{.ContainersRunning}}"]);
    assert_eq!((out.trim(), code), ("1", 0), "info: {err}");
    let (_, err, code) = run(&["stop", "-t", "1", "bg"]);
    assert_eq!(code, 0, "{err}");
    let (out, _, _) = run(&["inspect", "-f", "{{.State.Running}}", "bg"]);
    assert_eq!(out.trim(), "false");

    // kill and wait: the killed container's code is 137.
    let (_, err, code) = run(&["run", "-d", "--name", "victim", img, "sleep", "1000"]);
    assert_eq!(code, 0, "{err}");
    let (_, err, code) = run(&["kill", "victim"]);
    assert_eq!(code, 0, "kill: {err}");
    let (out, err, code) = run(&["wait", "victim"]);
    assert_eq!((out.trim(), code), ("137", 0), "wait: {err}");
    let since = "1970-01-01T00:00:00Z";
    // A stream ends at `until`: a second from now.
    let until = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1)
    .to_string();
    let (out, err, code) = run(&[
        "events",
        "--since",
        since,
        "--until",
        &until,
        "--filter",
        "container=victim",
        "--filter",
        "event=die",
        "--format",
        "{{.Action}} {{.Actor.Attributes.exitCode}}",
    ]);
    assert_eq!((out.trim(), code), ("die 137", 0), "events: {err}");

    // Errors in Docker's words.
    let (_, err, code) = run(&["logs", "nosuch"]);
    assert_ne!(code, 0);
    assert!(err.contains("No such container: nosuch"), "{err}");

    let (_, err, code) = run(&["rm", "-f", "bg", "three", "victim"]);
    assert_eq!(code, 0, "{err}");
    let (out, _, _) = run(&["ps", "-aq"]);
    assert_eq!(out, "");
}

#[test]
fn the_docker_cli_drives_berthd() {
    let w = DaemonWorld::new();
    let d = start_berthd(&w);
    scenario(&docker_cli(), &w, &d);
}

#[test]
fn the_berth_cli_drives_berthd() {
    let w = DaemonWorld::new();
    let d = start_berthd(&w);
    scenario(&workspace_bin("berth"), &w, &d);
}
