//! The `berth` CLI against a real `berthd` for the container commands the
//! compatibility suite does not drive: create + start -a/-ai, restart,
//! rename, pause/unpause, port, attach, update (down to the live cgroup),
//! diff, export, container prune, the `ps` flags, inspect -f, logs
//! --tail/-t; and system df / prune / events / info, and the volume and
//! network commands. Output is asserted as a user reads it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use integration_tests::berthd::{cli, text, Berthd};
use integration_tests::daemon_world::DaemonWorld;
use integration_tests::workspace_bin;

/// One daemon and the CLI pointed at it.
struct Cli<'a> {
    bin: PathBuf,
    d: &'a Berthd,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> (String, String, i32) {
        text(&cli(&self.bin, &self.d.sock, args, b""))
    }

    fn run_in(&self, args: &[&str], stdin: &[u8]) -> (String, String, i32) {
        text(&cli(&self.bin, &self.d.sock, args, stdin))
    }

    /// Runs and expects success; gives stdout.
    fn ok(&self, args: &[&str]) -> String {
        let (out, err, code) = self.run(args);
        assert_eq!(code, 0, "berth {args:?}: stdout {out:?} stderr {err:?}");
        out
    }

    /// `inspect -f template name`, trimmed.
    fn inspect(&self, name: &str, template: &str) -> String {
        self.ok(&["inspect", "-f", template, name])
            .trim()
            .to_string()
    }

    /// Waits until `inspect -f template name` gives `want`.
    fn wait_for(&self, name: &str, template: &str, want: &str) {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.inspect(name, template);
            if got == want {
                return;
            }
            assert!(
                Instant::now() < end,
                "{name}: {template} is {got:?}, want {want:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn start(w: &DaemonWorld) -> Berthd {
    Berthd::start(w)
}

/// The container's directory in the v1 (or v2) hierarchy of `controller`,
/// as the runtime puts it (`berth/<id>` below the hierarchy's root).
fn cgroup_file(controller: &str, id: &str, v1: &str, v2: &str) -> PathBuf {
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if unified {
        Path::new("/sys/fs/cgroup/berth").join(id).join(v2)
    } else {
        Path::new("/sys/fs/cgroup")
            .join(controller)
            .join("berth")
            .join(id)
            .join(v1)
    }
}

fn read_trim(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn lifecycle_commands_and_ps_flags() {
    let w = DaemonWorld::new();
    let d = start(&w);
    let c = Cli {
        bin: workspace_bin("berth"),
        d: &d,
    };
    let img = w.image.as_str();

    // create, then start -a: the output and the exit code come through.
    let id = c.ok(&[
        "create",
        "--name",
        "once",
        img,
        "sh",
        "-c",
        "echo a; echo b; echo c; exit 3",
    ]);
    assert_eq!(id.trim().len(), 64, "{id}");
    let (out, err, code) = c.run(&["start", "-a", "once"]);
    assert_eq!((out.as_str(), code), ("a\nb\nc\n", 3), "{err}");

    // logs --tail and -t.
    assert_eq!(c.ok(&["logs", "--tail", "1", "once"]), "c\n");
    assert_eq!(c.ok(&["logs", "-n", "2", "once"]), "b\nc\n");
    let stamped = c.ok(&["logs", "-t", "once"]);
    let lines: Vec<&str> = stamped.lines().collect();
    assert_eq!(lines.len(), 3, "{stamped}");
    for (line, want) in lines.iter().zip(["a", "b", "c"]) {
        let (ts, rest) = line.split_once(' ').unwrap();
        assert_eq!(rest, want, "{line}");
        // RFC 3339 with nanoseconds, as Docker prints it.
        let b = ts.as_bytes();
        assert!(
            ts.len() == 30 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && ts.ends_with('Z'),
            "not an RFC 3339 nano timestamp: {line}"
        );
    }

    // start -ai with piped stdin.
    // (Without StdinOnce, as `create -i` makes it, the container's stdin
    // stays open after ours ends, as in Docker: it reads one line.)
    c.ok(&[
        "create",
        "-i",
        "--name",
        "echoer",
        img,
        "sh",
        "-c",
        "read x; echo got $x",
    ]);
    let (out, err, code) = c.run_in(&["start", "-ai", "echoer"], b"piped in\n");
    assert_eq!((out.as_str(), code), ("got piped in\n", 0), "{err}");

    // inspect -f.
    assert_eq!(
        c.inspect("once", "{{.State.ExitCode}} {{.Config.Image}}"),
        format!("3 {img}")
    );

    // restart: a new start, still running; rename keeps it.
    c.ok(&["run", "-d", "--name", "svc", img, "sleep", "1000"]);
    let started = c.inspect("svc", "{{.State.StartedAt}}");
    assert_eq!(c.ok(&["restart", "-t", "0", "svc"]), "svc\n");
    assert_eq!(c.inspect("svc", "{{.State.Running}}"), "true");
    assert_ne!(c.inspect("svc", "{{.State.StartedAt}}"), started);
    c.ok(&["rename", "svc", "svc2"]);
    assert_eq!(c.inspect("svc2", "{{.Name}}"), "/svc2");
    let (_, err, code) = c.run(&["inspect", "svc"]);
    assert_eq!(code, 1);
    assert!(err.contains("No such object: svc"), "{err}");

    // pause / unpause, as ps shows it.
    assert_eq!(c.ok(&["pause", "svc2"]), "svc2\n");
    let status = c.ok(&["ps", "--filter", "name=svc2", "--format", "{{.Status}}"]);
    assert!(
        status.trim().starts_with("Up ") && status.trim().ends_with("(Paused)"),
        "{status}"
    );
    assert_eq!(c.ok(&["unpause", "svc2"]), "svc2\n");
    let status = c.ok(&["ps", "--filter", "name=svc2", "--format", "{{.Status}}"]);
    assert!(!status.contains("Paused"), "{status}");

    // port: nothing published, nothing printed.
    assert_eq!(c.ok(&["port", "svc2"]), "");

    // attach to a running container: its output until it exits.
    c.ok(&[
        "run",
        "-d",
        "--name",
        "talker",
        img,
        "sh",
        "-c",
        "sleep 1; for i in 1 2 3; do echo tick $i; sleep 0.2; done; exit 5",
    ]);
    let (out, err, code) = c.run(&["attach", "talker"]);
    assert_eq!(
        (out.as_str(), code),
        ("tick 1\ntick 2\ntick 3\n", 5),
        "{err}"
    );

    // ps flags. Newest first: talker, svc2, echoer, once.
    let out = c.ok(&["ps", "-n", "1", "--format", "{{.Names}}"]);
    assert_eq!(out, "talker\n");
    let out = c.ok(&["ps", "-l", "--format", "{{.Names}}"]);
    assert_eq!(out, "talker\n");
    let out = c.ok(&[
        "ps",
        "-a",
        "--filter",
        "status=exited",
        "--format",
        "{{.Names}}",
    ]);
    let mut exited: Vec<&str> = out.lines().collect();
    exited.sort();
    assert_eq!(exited, ["echoer", "once", "talker"], "{out}");
    let out = c.ok(&[
        "ps",
        "-a",
        "--filter",
        "name=echo",
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(out, "echoer\n");
    let out = c.ok(&["ps", "-q", "--no-trunc"]);
    let full = c.inspect("svc2", "{{.Id}}");
    assert_eq!(out.trim(), full);
    let out = c.ok(&["ps", "--format", "table {{.ID}}\t{{.Names}}"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("CONTAINER ID   NAMES"), "{out}");
    assert_eq!(lines[1], format!("{}   svc2", &full[..12]));
    // -s: a size column with the writable layer's bytes.
    c.ok(&["exec", "svc2", "sh", "-c", "head -c 20000 /dev/zero > /big"]);
    let out = c.ok(&["ps", "-s"]);
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    assert!(header.ends_with("SIZE"), "{out}");
    let row = lines.next().unwrap();
    assert!(row.contains("svc2"), "{out}");
    assert!(row.contains("kB (virtual "), "{out}");

    // container prune: the stopped ones go, the running one stays.
    let (out, err, code) = c.run(&["container", "prune", "-f"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Deleted Containers:\n"), "{out}");
    assert_eq!(out.lines().filter(|l| l.len() == 64).count(), 3, "{out}");
    assert!(out.contains("Total reclaimed space: "), "{out}");
    assert_eq!(c.ok(&["ps", "-a", "--format", "{{.Names}}"]), "svc2\n");
    c.ok(&["rm", "-f", "svc2"]);
}

#[test]
fn update_diff_and_export() {
    let w = DaemonWorld::new();
    let d = start(&w);
    let c = Cli {
        bin: workspace_bin("berth"),
        d: &d,
    };
    let img = w.image.as_str();
    let since = now_secs().saturating_sub(1).to_string();

    // update: the stored HostConfig and the live cgroup.
    let id = c
        .ok(&[
            "run", "-d", "--name", "upd", "-m", "64m", img, "sleep", "1000",
        ])
        .trim()
        .to_string();
    let limit = cgroup_file("memory", &id, "memory.limit_in_bytes", "memory.max");
    assert_eq!(read_trim(&limit), (64u64 << 20).to_string());
    assert_eq!(c.ok(&["update", "-m", "100m", "upd"]), "upd\n");
    assert_eq!(c.inspect("upd", "{{.HostConfig.Memory}}"), "104857600");
    assert_eq!(read_trim(&limit), "104857600");
    c.ok(&["update", "--cpus", "0.5", "--pids-limit", "20", "upd"]);
    assert_eq!(
        c.inspect("upd", "{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}"),
        "500000000 20"
    );
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        assert_eq!(
            read_trim(&cgroup_file("cpu", &id, "", "cpu.max")),
            "50000 100000"
        );
    } else {
        assert_eq!(
            read_trim(&cgroup_file("cpu", &id, "cpu.cfs_quota_us", "")),
            "50000"
        );
    }
    assert_eq!(
        read_trim(&cgroup_file("pids", &id, "pids.max", "pids.max")),
        "20"
    );
    c.ok(&["update", "--restart", "on-failure:2", "upd"]);
    assert_eq!(
        c.inspect(
            "upd",
            "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "on-failure:2"
    );
    // The limits hold after a restart too (they were persisted).
    c.ok(&["restart", "-t", "0", "upd"]);
    let id2 = c.inspect("upd", "{{.Id}}");
    assert_eq!(
        read_trim(&cgroup_file(
            "memory",
            &id2,
            "memory.limit_in_bytes",
            "memory.max"
        )),
        "104857600"
    );

    // Invalid updates, in Docker's words, exit 1; nothing changes.
    let (out, err, code) = c.run(&["update", "-m", "1m", "upd"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        err,
        "Error response from daemon: Minimum memory limit allowed is 6MB\n"
    );
    let (_, err, code) = c.run(&["update", "--cpu-quota", "80000", "upd"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!("Error response from daemon: Cannot update container {id}: Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set\n")
    );
    let (_, err, code) = c.run(&["update", "upd"]);
    assert_eq!(
        (err.as_str(), code),
        (
            "you must provide one or more flags when using this command\n",
            1
        )
    );
    let (_, err, code) = c.run(&["update", "-m", "32m", "nosuch"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Error response from daemon: No such container: nosuch\n"
    );
    assert_eq!(c.inspect("upd", "{{.HostConfig.Memory}}"), "104857600");
    c.ok(&["run", "-d", "--rm", "--name", "temp", img, "sleep", "1000"]);
    let (_, err, code) = c.run(&["update", "--restart", "always", "temp"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "Restart policy cannot be updated because AutoRemove is enabled for the container"
        ),
        "{err}"
    );
    c.ok(&["rm", "-f", "temp"]);
    // A stopped container takes an update, applied at its next start.
    c.ok(&["create", "--name", "later", img, "sleep", "1000"]);
    c.ok(&["update", "-m", "32m", "--memory-swap", "64m", "later"]);
    c.ok(&["start", "later"]);
    let later = c.inspect("later", "{{.Id}}");
    assert_eq!(
        read_trim(&cgroup_file(
            "memory",
            &later,
            "memory.limit_in_bytes",
            "memory.max"
        )),
        (32u64 << 20).to_string()
    );
    c.ok(&["rm", "-f", "later"]);
    // Every successful update was an `update` event.
    let until = (now_secs() + 1).to_string();
    let events = c.ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "event=update",
        "--filter",
        "container=upd",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    assert_eq!(events, "update upd\nupdate upd\nupdate upd\n");
    c.ok(&["rm", "-f", "upd"]);

    // diff: added, changed and deleted paths.
    let (_, err, code) = c.run(&[
        "run",
        "--name",
        "changed",
        img,
        "sh",
        "-c",
        "echo x > /newfile && mkdir -p /tmp/sub && echo y > /tmp/sub/y && rm /bin/ls",
    ]);
    assert_eq!(code, 0, "{err}");
    let out = c.ok(&["diff", "changed"]);
    let lines: Vec<&str> = out.lines().collect();
    for want in ["A /newfile", "C /bin", "D /bin/ls", "A /tmp/sub/y"] {
        assert!(lines.contains(&want), "{want} missing from {out}");
    }
    let (_, err, code) = c.run(&["diff", "nosuch"]);
    assert_eq!(
        (err.as_str(), code),
        ("Error response from daemon: No such container: nosuch\n", 1)
    );

    // export: to a file with -o, and to a pipe; the tar holds the rootfs.
    let dir = tempfile::tempdir().unwrap();
    let tar_path = dir.path().join("changed.tar");
    assert_eq!(
        c.ok(&["export", "-o", tar_path.to_str().unwrap(), "changed"]),
        ""
    );
    let names = tar_names(&std::fs::read(&tar_path).unwrap());
    assert!(names.iter().any(|n| n == "bin/sh"), "{names:?}");
    assert!(names.iter().any(|n| n == "newfile"), "{names:?}");
    assert!(!names.iter().any(|n| n == "bin/ls"), "{names:?}");
    // (Read while it runs: the tar is bigger than a pipe's buffer.)
    let piped = Command::new(&c.bin)
        .args(["export", "changed"])
        .env("BERTH_HOST", d.host())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(tar_names(&piped.stdout), names);
    let (_, err, code) = c.run(&["export", "-o", "/nonexistent-dir/x.tar", "changed"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "failed to export container: invalid output path: directory \"/nonexistent-dir\" does not exist\n"
    );
    // Never to a terminal.
    let tty = Command::new("script")
        .args([
            "-qec",
            &format!("{} export changed", c.bin.display()),
            "/dev/null",
        ])
        .env("BERTH_HOST", d.host())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(
        shown.contains("cowardly refusing to save to a terminal. Use the -o flag or redirect"),
        "{shown}"
    );
    assert_eq!(tty.status.code(), Some(1), "{shown}");
    c.ok(&["rm", "changed"]);
}

/// The entry names of a tar, without `./` and trailing `/`.
fn tar_names(bytes: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(bytes);
    let mut names: Vec<String> = a
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            p.trim_start_matches("./").trim_end_matches('/').to_string()
        })
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names
}

#[test]
fn system_commands_and_the_volume_and_network_stubs() {
    let w = DaemonWorld::new();
    let d = start(&w);
    let c = Cli {
        bin: workspace_bin("berth"),
        d: &d,
    };
    let img = w.image.as_str();
    let since = now_secs().saturating_sub(1).to_string();

    // A running container with a 100 kB writable layer, a stopped one.
    c.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        img,
        "sh",
        "-c",
        "head -c 100000 /dev/zero > /blob; sleep 1000",
    ]);
    c.ok(&[
        "run",
        "--name",
        "done",
        img,
        "sh",
        "-c",
        "head -c 50000 /dev/zero > /blob",
    ]);
    c.wait_for("busy", "{{.State.Running}}", "true");
    let end = Instant::now() + Duration::from_secs(10);
    let df = loop {
        let out = c.ok(&["system", "df"]);
        if out.contains("150kB") || Instant::now() > end {
            break out;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines: Vec<Vec<&str>> = df
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        lines[0],
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        "{df}"
    );
    assert_eq!(lines[1][..3], ["Images", "1", "1"], "{df}");
    assert!(lines[1][3].ends_with("MB"), "{df}");
    assert_eq!(lines[1][4], "0B (0%)", "{df}");
    assert_eq!(
        lines[2],
        ["Containers", "2", "1", "150kB", "50kB (33%)"],
        "{df}"
    );
    assert_eq!(lines[3], ["Local Volumes", "0", "0", "0B", "0B"], "{df}");
    assert_eq!(lines[4], ["Build Cache", "0", "0", "0B", "0B"], "{df}");
    let out = c.ok(&["system", "df", "--format", "{{.Type}}={{.TotalCount}}"]);
    assert_eq!(
        out,
        "Images=1\nContainers=2\nLocal Volumes=0\nBuild Cache=0\n"
    );
    let out = c.ok(&["system", "df", "-v"]);
    assert!(
        out.starts_with("Images space usage:\n\nREPOSITORY"),
        "{out}"
    );
    assert!(
        out.contains("\nContainers space usage:\n\nCONTAINER ID"),
        "{out}"
    );
    assert!(out.contains("busy") && out.contains("done"), "{out}");
    assert!(
        out.contains("\nLocal Volumes space usage:\n\nVOLUME NAME"),
        "{out}"
    );
    assert!(out.contains("\nBuild cache usage: 0B\n"), "{out}");

    // system info and events.
    let out = c.ok(&[
        "system",
        "info",
        "--format",
        "{{.Containers}} {{.ContainersRunning}} {{.Images}}",
    ]);
    assert_eq!(out.trim(), "2 1 1");
    let until = (now_secs() + 1).to_string();
    let out = c.ok(&[
        "system",
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "container=done",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(out, "create\nattach\nstart\ndie\n", "{out}");

    // system prune -f: the stopped container goes, the image (in use, not
    // dangling) stays, and the total is printed.
    let (out, err, code) = c.run(&["system", "prune", "-f"]);
    assert_eq!(code, 0, "{err}");
    let done_gone = out.starts_with("Deleted Containers:\n");
    assert!(done_gone, "{out}");
    assert!(out.ends_with("Total reclaimed space: 50kB\n"), "{out}");
    assert_eq!(c.ok(&["ps", "-a", "--format", "{{.Names}}"]), "busy\n");
    assert_eq!(
        c.ok(&["system", "info", "--format", "{{.Images}}"]).trim(),
        "1"
    );
    // Without -f it asks first; no answer, nothing removed.
    c.ok(&["create", "--name", "idle", img, "true"]);
    let (out, _, code) = c.run_in(&["system", "prune"], b"n\n");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "WARNING! This will remove:\n  - all stopped containers\n  - all dangling images\n\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(c.inspect("idle", "{{.State.Status}}"), "created");
    c.ok(&["rm", "idle"]);

    // Volumes: Docker's output for each command; a missing one is 404.
    assert_eq!(c.ok(&["volume", "create", "data"]), "data\n");
    assert_eq!(
        c.ok(&["volume", "ls"]),
        "DRIVER    VOLUME NAME\nlocal     data\n"
    );
    assert_eq!(
        c.ok(&["volume", "inspect", "-f", "{{.Driver}} {{.Scope}}", "data"]),
        "local local\n"
    );
    assert_eq!(c.ok(&["volume", "rm", "data"]), "data\n");
    let (_, err, code) = c.run(&["volume", "rm", "data"]);
    assert_eq!(
        (err.as_str(), code),
        ("Error response from daemon: get data: no such volume\n", 1)
    );
    assert_eq!(
        c.ok(&["volume", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    // Networks: the predefined three, and a missing one is Docker's 404.
    let ls = c.ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    assert_eq!(ls.trim(), "bridge bridge\nhost host\nnone null", "{ls}");
    let (_, err, code) = c.run(&["network", "inspect", "nosuch"]);
    assert_eq!(
        (err.as_str(), code),
        ("Error response from daemon: network nosuch not found\n", 1)
    );
    let out = c.ok(&["system", "prune", "-f", "--volumes"]);
    assert!(out.ends_with("Total reclaimed space: 0B\n"), "{out}");
    c.ok(&["rm", "-f", "busy"]);
}
