//! berth-runc's command line without containers (runs unprivileged): the
//! flags runc users rely on parse, and bad input gets a clear error.
//! Building this test also makes `cargo test` build the berth-runc binary
//! that the root-only integration tests drive.

use std::process::Command;

fn berth_runc(args: &[&str]) -> std::process::Output {
    let root = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_berth-runc"))
        .arg("--root")
        .arg(root.path())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_runc_command_is_accepted() {
    let out = berth_runc(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "spec", "create", "start", "run", "state", "kill", "delete", "exec", "pause", "resume",
        "ps", "list",
    ] {
        assert!(help.contains(cmd), "missing {cmd} in:\n{help}");
    }
}

#[test]
fn unknown_container_is_a_clear_error() {
    let out = berth_runc(&["state", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"nope\" does not exist"));
}

#[test]
fn invalid_id_is_refused() {
    let out = berth_runc(&["state", "../etc"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid container id"));
}

#[test]
fn delete_force_of_missing_container_succeeds() {
    assert!(berth_runc(&["delete", "--force", "gone"]).status.success());
}

#[test]
fn list_of_empty_root_prints_header() {
    let out = berth_runc(&["list"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ID"));
}

#[test]
fn unknown_signal_is_refused() {
    let out = berth_runc(&["kill", "x", "SIGNOPE"]);
    assert!(!out.status.success());
}
