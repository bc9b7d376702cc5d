//! The init binary on the host (not pid 1, so it registers as a child
//! subreaper): exit statuses, exec failures, signal forwarding and
//! reaping of orphans, observed from outside as a user would.

use std::fs;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const INIT: &str = env!("CARGO_BIN_EXE_berth-init");

fn init(args: &[&str]) -> Output {
    Command::new(INIT)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(INIT)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The (pid, state) of every process whose parent is `ppid`.
fn children(ppid: u32) -> Vec<(u32, char)> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let state = f.next().and_then(|s| s.chars().next()).unwrap_or('?');
        if f.next().and_then(|p| p.parse::<u32>().ok()) == Some(ppid) {
            out.push((pid, state));
        }
    }
    out
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn exit_of(mut c: Child) -> i32 {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = c.try_wait().unwrap() {
            return s.code().expect("the init exits, it is not killed");
        }
        if Instant::now() > end {
            let _ = c.kill();
            panic!("the init did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
}

#[test]
fn the_commands_exit_status_is_the_inits() {
    assert_eq!(init(&["--", "sh", "-c", "exit 7"]).status.code(), Some(7));
    assert_eq!(init(&["true"]).status.code(), Some(0));
    let o = init(&["--", "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "err\n");
    // Killed by a signal: 128+N, as a shell and Docker report it.
    assert_eq!(
        init(&["--", "sh", "-c", "kill -9 $$"]).status.code(),
        Some(137)
    );
}

#[test]
fn exec_failures_are_127_and_126_with_a_clear_message() {
    let o = init(&["--", "no-such-command-here"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "berth-init: exec: no-such-command-here: executable file not found in $PATH\n"
    );
    let o = init(&["--", "/no/such/file"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "berth-init: exec: /no/such/file: No such file or directory\n"
    );
    let dir = tempfile_dir();
    let script = format!("{dir}/not-executable");
    fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let o = init(&["--", &script]);
    assert_eq!(o.status.code(), Some(126));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("berth-init: exec: {script}: Permission denied\n")
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_command_lines() {
    let o = init(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("berth-init: no command given\nUsage:"));
    let o = init(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("Usage: berth-init"));
}

#[test]
fn signals_reach_the_command_and_not_the_init() {
    // TERM, INT and USR1 kill `sleep`; the init survives each and reports it.
    for (sig, code) in [
        (libc::SIGTERM, 143),
        (libc::SIGINT, 130),
        (libc::SIGUSR1, 138),
    ] {
        let c = spawn(&["--", "sleep", "100"]);
        let pid = c.id();
        wait_until("the command to start", || !children(pid).is_empty());
        signal(pid, sig);
        assert_eq!(exit_of(c), code, "signal {sig}");
    }
    // A command that handles the signal keeps running, and so does the init.
    let c = spawn(&[
        "--",
        "sh",
        "-c",
        "trap 'echo got HUP' HUP; sleep 0.5 & wait; sleep 0.5 & wait; exit 3",
    ]);
    let pid = c.id();
    wait_until("the command to start", || !children(pid).is_empty());
    std::thread::sleep(Duration::from_millis(100));
    signal(pid, libc::SIGHUP);
    let o = c.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "got HUP\n");
}

#[test]
fn orphans_are_reaped() {
    // The subshell leaves `sleep 0.1` behind; it is re-parented to the init
    // (a subreaper here) and must not stay a zombie once it exits.
    let c = spawn(&["--", "sh", "-c", "(sleep 0.1 &); exec sleep 3"]);
    let pid = c.id();
    wait_until("the orphan to reach the init", || children(pid).len() == 2);
    let orphan_gone = || children(pid).len() == 1;
    wait_until("the orphan to be reaped", orphan_gone);
    assert!(children(pid).iter().all(|(_, st)| *st != 'Z'));
    signal(pid, libc::SIGTERM);
    assert_eq!(exit_of(c), 143);
}

fn tempfile_dir() -> String {
    let dir = std::env::temp_dir().join(format!("berth-init-test-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}
