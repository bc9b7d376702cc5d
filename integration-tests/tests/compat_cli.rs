//! The real `docker` CLI and Berth's own `berth` CLI driving a real
//! `berthd` over its unix socket: run (attached, with stdin, with --rm,
//! detached), ps, logs, exec, inspect templates, cp, stop, rm, and their
//! exit codes; then the image commands: pull, images, tag, rmi, and a run
//! of an image not pulled yet. busybox is pre-pulled into the data root;
//! `multilayer` is pulled by the scenario and removed again at its end.

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

    images(bin, w, d);
}

/// The image part of the scenario.
fn images(bin: &Path, w: &DaemonWorld, d: &Berthd) {
    let run = |args: &[&str]| text(&cli(bin, &d.sock, args, b""));
    let ml = format!("{}/multilayer", w.reg.host());
    let ml_latest = format!("{ml}:latest");

    // pull, off a terminal: status lines only, then digest, status and the
    // reference; pulling again is up to date.
    let (out, err, code) = run(&["pull", &ml]);
    assert_eq!((code, err.as_str()), (0, ""), "pull: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "Using default tag: latest",
            "latest: Pulling from multilayer"
        ]
    );
    assert!(
        lines.iter().any(|l| l.ends_with(": Pull complete")),
        "{out}"
    );
    assert!(!out.contains('\x1b'), "{out:?}");
    let n = lines.len();
    assert!(lines[n - 3].starts_with("Digest: sha256:"), "{out}");
    assert_eq!(
        lines[n - 2..],
        [
            format!("Status: Downloaded newer image for {ml_latest}"),
            ml_latest.clone()
        ]
    );
    let (out, _, code) = run(&["pull", &ml]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("\nStatus: Image is up to date for {ml_latest}\n")),
        "{out}"
    );

    // images: the table, then a template; tag shows up as another row.
    let (out, _, _) = run(&["images"]);
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    );
    let (id, _, _) = run(&["image", "inspect", "-f", "{{.Id}}", &ml]);
    let short = &id.trim()["sha256:".len()..][..12];
    let row = out
        .lines()
        .find(|l| l.starts_with(&format!("{ml} ")))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        row.split_whitespace().take(3).collect::<Vec<_>>(),
        [ml.as_str(), "latest", short]
    );
    let (_, err, code) = run(&["tag", &ml, "compat/tagged:v1"]);
    assert_eq!(code, 0, "tag: {err}");
    let (out, _, _) = run(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}} {{.ID}}",
        "--filter",
        "reference=compat/*",
    ]);
    assert_eq!(out, format!("compat/tagged:v1 {short}\n"));
    let (out, _, _) = run(&[
        "image",
        "inspect",
        "-f",
        "{{.Config.Cmd}}",
        "compat/tagged:v1",
    ]);
    assert_eq!(out, "[sh]\n");

    // rmi: an untag while another name remains, then the whole image.
    let (out, err, code) = run(&["rmi", "compat/tagged:v1"]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("Untagged: compat/tagged:v1\n", "", 0)
    );
    let (out, err, code) = run(&["rmi", &ml]);
    assert_eq!(code, 0, "rmi: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("Untagged: {ml_latest}"));
    assert!(
        lines.contains(&format!("Deleted: {}", id.trim()).as_str()),
        "{out}"
    );
    let (_, err, code) = run(&["rmi", "nosuch"]);
    assert_eq!(
        (err.as_str(), code),
        (
            "Error response from daemon: No such image: nosuch:latest\n",
            1
        )
    );

    // A run of an image not pulled: the notice and the pull on stderr.
    let (out, err, code) = run(&["run", "--rm", &ml, "echo", "pulled"]);
    assert_eq!((out.as_str(), code), ("pulled\n", 0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        format!("Unable to find image '{ml_latest}' locally")
    );
    assert_eq!(lines[1], "latest: Pulling from multilayer");
    assert_eq!(
        lines.last().copied(),
        Some(format!("Status: Downloaded newer image for {ml_latest}").as_str())
    );
    let (_, err, code) = run(&["rmi", &ml]);
    assert_eq!(code, 0, "{err}");
    let (out, _, _) = run(&["images", "-q", &ml]);
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
