//! The built `berth` binary: help lists the commands, bad flags exit 125
//! with clap's message, and a missing daemon is Docker's connect error
//! (125 for `run`, 1 for other commands).

use std::process::Command;

fn berth() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
    c.env_remove("DOCKER_HOST");
    c
}

#[test]
fn help_lists_the_commands() {
    let out = berth().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in [
        "run",
        "create",
        "start",
        "stop",
        "restart",
        "kill",
        "rm",
        "wait",
        "pause",
        "unpause",
        "rename",
        "logs",
        "exec",
        "attach",
        "top",
        "inspect",
        "ps",
        "port",
        "stats",
        "version",
        "info",
        "events",
        "container",
        "system",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "{cmd} missing from:\n{text}"
        );
    }
    // `run --help` works although -h is --hostname there.
    let out = berth().args(["run", "--help"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("--hostname"));
}

#[test]
fn missing_daemon_is_a_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("none.sock");
    let host = format!("unix://{}", sock.display());
    let expect = format!("Cannot connect to the Berth daemon at {host}. Is the daemon running?\n");

    let out = berth()
        .env("BERTH_HOST", &host)
        .args(["run", "busybox"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(String::from_utf8(out.stderr).unwrap(), expect);

    let out = berth().args(["-H", &host, "ps"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stderr).unwrap(), expect);

    let out = berth()
        .args(["-H", &host, "create", "busybox"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn bad_flags_exit_125() {
    let out = berth()
        .args(["run", "--bogus", "busybox"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unexpected argument '--bogus'"), "{err}");

    let out = berth().args(["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8(out.stderr).unwrap().contains("<IMAGE>"));

    let out = berth()
        .args(["stop", "--time", "soon", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("invalid value 'soon'"));

    let out = berth().args(["nosuchcommand"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
}
