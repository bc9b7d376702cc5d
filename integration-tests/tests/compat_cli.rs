//! The real `docker` CLI and Berth's own `berth` CLI driving a real
//! `berthd` over its unix socket: run (attached, with stdin, with --rm,
//! detached), ps, logs, exec, inspect templates, cp, stop, rm, and their
//! exit codes. The image is pre-pulled into the data root.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use integration_tests::berthd::{cli, docker_cli, text, Berthd};
use integration_tests::daemon_world::DaemonWorld;
use integration_tests::workspace_bin;

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
    let d = Berthd::start(&w);
    scenario(&docker_cli(), &w, &d);
}

#[test]
fn the_berth_cli_drives_berthd() {
    let w = DaemonWorld::new();
    let d = Berthd::start(&w);
    scenario(&workspace_bin("berth"), &w, &d);
}
