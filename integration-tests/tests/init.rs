//! `--init`, seen the way a user sees it: the `berth` CLI (and the real
//! `docker` CLI) against a real berthd given the static berth-init, with
//! busybox containers (no C library in the image). pid 1 is the init and
//! the command its child; exit statuses propagate; orphans are reaped
//! (and stay zombies without the init, so the check can fail); `stop`'s
//! SIGTERM reaches a command that would ignore it as pid 1; berthd's own
//! `--init`; and a missing or dynamically linked init is refused with a
//! message naming the path and the fix.

use std::time::Duration;

use integration_tests::berthd::{cli, docker_cli, text, Berthd};
use integration_tests::daemon_world::{wait_for, DaemonWorld};
use integration_tests::init_binary::static_init;
use integration_tests::session::Session;
use integration_tests::workspace_bin;

/// `/proc/1/cmdline` of a container run with `flags`, NULs as spaces.
fn pid1_cmdline(s: &Session, flags: &[&str]) -> String {
    s.inside(flags, &["cat", "/proc/1/cmdline"])
        .replace('\0', " ")
}

/// The `(pid, ppid, comm)` rows of `ps -o pid,ppid,comm` output.
fn ps_rows(out: &str) -> Vec<(u32, u32, String)> {
    out.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let pid = f.next()?.parse().ok()?;
            let ppid = f.next()?.parse().ok()?;
            Some((pid, ppid, f.next()?.to_string()))
        })
        .collect()
}

/// berthd with the static init and extra `flags`.
fn start(flags: &[&str]) -> Session {
    let init = static_init().to_string_lossy().into_owned();
    let mut all = vec!["--init-path", init.as_str()];
    all.extend_from_slice(flags);
    Session::start_with(&all)
}

#[test]
fn the_command_runs_as_the_inits_child_and_its_status_propagates() {
    let mut s = start(&[]);
    assert_eq!(
        pid1_cmdline(&s, &["--init"]),
        "/sbin/docker-init -- cat /proc/1/cmdline "
    );
    // Without --init the command itself is pid 1.
    assert_eq!(pid1_cmdline(&s, &[]), "cat /proc/1/cmdline ");

    let rows = ps_rows(&s.inside(&["--init"], &["ps", "-o", "pid,ppid,comm"]));
    assert!(rows.contains(&(1, 0, "docker-init".into())), "{rows:?}");
    assert!(
        rows.iter()
            .any(|(_, ppid, comm)| *ppid == 1 && comm == "ps"),
        "{rows:?}"
    );

    let (_, err, code) = s.try_inside(&["--init"], &["sh", "-c", "echo oops >&2; exit 7"]);
    assert_eq!((code, err.as_str()), (7, "oops\n"));
    let (_, _, code) = s.try_inside(&["--init"], &["sh", "-c", "kill -KILL $$"]);
    assert_eq!(code, 137);

    // With a terminal the command is its foreground process group (so ^C
    // reaches it, not the init): pid, pgrp and the tty's pgrp agree.
    let out = s.inside(
        &["-t", "--init"],
        &["sh", "-c", "echo $$ $(cut -d' ' -f5,8 /proc/$$/stat)"],
    );
    let ids: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(ids.len(), 3, "{out:?}");
    assert!(ids[0] != "1" && ids.iter().all(|i| *i == ids[0]), "{out:?}");

    // The init's exec failure: its message, a shell's codes.
    let (_, err, code) = s.try_inside(&["--init"], &["no-such-command"]);
    assert_eq!(code, 127, "{err}");
    assert!(
        err.contains("berth-init: exec: no-such-command: executable file not found in $PATH"),
        "{err}"
    );
    let (_, err, code) = s.try_inside(&["--init"], &["/etc/passwd"]);
    assert_eq!(code, 126, "{err}");
    assert!(
        err.contains("berth-init: exec: /etc/passwd: Permission denied"),
        "{err}"
    );

    // The container's config is the user's command; Init is recorded.
    let id = s.detached(&["--init"], &["true"]);
    wait_for("the container to exit", Duration::from_secs(10), || {
        s.ok(&["inspect", "-f", "{{.State.Status}}", &id]).trim() == "exited"
    });
    assert_eq!(
        s.ok(&[
            "inspect",
            "-f",
            "{{.Path}} {{json .Args}} {{.HostConfig.Init}}",
            &id
        ])
        .trim(),
        "true [] true"
    );
    s.ok(&["rm", &id]);

    // The real docker CLI's --init gets the same.
    s.bin = docker_cli();
    assert_eq!(
        pid1_cmdline(&s, &["--init"]),
        "/sbin/docker-init -- cat /proc/1/cmdline "
    );
    let (_, _, code) = s.try_inside(&["--init"], &["sh", "-c", "exit 7"]);
    assert_eq!(code, 7);
    assert!(s.d.alive());
    s.assert_no_containers();
}

/// Leaves an orphan that exits after 0.2s (and says so in /tmp/done) while
/// pid 1 — the command exec'd as `sleep`, or the init above it — never
/// waits for it; then returns the `STAT COMMAND` rows seen by `ps` once
/// a zombie shows up or 5s passed.
fn zombies_after_an_orphan_exits(s: &Session, flags: &[&str]) -> Vec<String> {
    let id = s.detached(
        flags,
        &[
            "sh",
            "-c",
            "(sh -c 'sleep 0.2; touch /tmp/done; exit 0' &); exec sleep 100",
        ],
    );
    wait_for("the orphan to finish", Duration::from_secs(10), || {
        s.run(&["exec", &id, "test", "-e", "/tmp/done"]).2 == 0
    });
    let zombies = || -> Vec<String> {
        let out = s.ok(&["exec", &id, "ps", "-o", "stat,comm"]);
        out.lines()
            .filter(|l| l.trim_start().starts_with('Z'))
            .map(str::to_string)
            .collect()
    };
    let mut seen = zombies();
    for _ in 0..50 {
        if !seen.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        seen = zombies();
    }
    s.ok(&["rm", "-f", &id]);
    seen
}

#[test]
fn orphans_are_reaped_by_the_init() {
    let s = start(&[]);
    // Without the init, `sleep` as pid 1 never reaps: the zombie stays.
    let without = zombies_after_an_orphan_exits(&s, &[]);
    assert!(!without.is_empty(), "no zombie without --init");
    let with = zombies_after_an_orphan_exits(&s, &["--init"]);
    assert!(with.is_empty(), "zombies under --init: {with:?}");
    s.assert_no_containers();
}

#[test]
fn signals_reach_the_command_through_the_init() {
    let s = start(&[]);
    // pid-1 `sleep` has no handler, so the kernel drops SIGTERM: stop has
    // to SIGKILL it after the grace period (137).
    let bare = s.detached(&[], &["sleep", "1000"]);
    s.ok(&["stop", "-t", "1", &bare]);
    assert_eq!(s.exit_code(&bare), 137);
    // Under the init, SIGTERM is forwarded and `sleep` dies of it (143).
    let id = s.detached(&["--init"], &["sleep", "1000"]);
    s.ok(&["stop", "-t", "30", &id]);
    assert_eq!(s.exit_code(&id), 143);
    // Any signal: USR1 kills sleep (128+10); the init survives to report it.
    let id2 = s.detached(&["--init"], &["sleep", "1000"]);
    s.ok(&["kill", "-s", "USR1", &id2]);
    assert_eq!(s.ok(&["wait", &id2]).trim(), "138");
    // A command that handles the signal keeps running under the init.
    let id3 = s.detached(
        &["--init"],
        &[
            "sh",
            "-c",
            "trap 'echo got HUP; exit 5' HUP; touch /tmp/ready; while true; do sleep 0.1; done",
        ],
    );
    wait_for("the trap to be set", Duration::from_secs(10), || {
        s.run(&["exec", &id3, "test", "-e", "/tmp/ready"]).2 == 0
    });
    s.ok(&["kill", "-s", "HUP", &id3]);
    assert_eq!(s.ok(&["wait", &id3]).trim(), "5");
    assert_eq!(s.ok(&["logs", &id3]), "got HUP\n");
    s.ok(&["rm", &bare, &id, &id2, &id3]);
    s.assert_no_containers();
}

#[test]
fn berthd_init_is_the_default_for_containers() {
    let s = start(&["--init"]);
    assert_eq!(
        pid1_cmdline(&s, &[]),
        "/sbin/docker-init -- cat /proc/1/cmdline "
    );
    let id = s.detached(&[], &["sleep", "1000"]);
    s.ok(&["stop", "-t", "30", &id]);
    assert_eq!(s.exit_code(&id), 143);
    s.ok(&["rm", &id]);
    s.assert_no_containers();
}

#[test]
fn a_missing_or_dynamic_init_is_refused_with_the_fix() {
    let w = DaemonWorld::new();
    let dynamic = workspace_bin("berth");
    let dynamic = dynamic.to_string_lossy();
    let cases = [
        ("/nonexistent/berth-init", "does not exist"),
        (
            &*dynamic,
            "is dynamically linked (it names an ELF interpreter) and cannot run in images \
             without a C library",
        ),
    ];
    for (path, why) in cases {
        let d = Berthd::start_with(&w, &["--init-path", path]);
        let s = |args: &[&str]| text(&cli(&workspace_bin("berth"), &d.sock, args, b""));
        let (_, err, code) = s(&["run", "--rm", "--init", &w.image, "true"]);
        assert_eq!(code, 125, "{path}: {err}");
        let want = format!(
            "the --init binary {path} {why}: build the static berth-init with \
             `cargo xtask build-init` and start berthd with --init-path pointing at it"
        );
        assert!(err.contains(&want), "{path}: {err}");
        // Containers without --init are not affected.
        let (out, err, code) = s(&["run", "--rm", &w.image, "echo", "fine"]);
        assert_eq!((code, out.as_str()), (0, "fine\n"), "{err}");
        wait_for("no container left", Duration::from_secs(10), || {
            s(&["ps", "-a", "-q"]).0.is_empty()
        });
    }
}
