//! The `berth-shim` binary on its own: how it refuses to start without
//! what its client prepares. (Also makes `cargo test --workspace` build the
//! binary the integration tests launch.)

use std::process::Command;

#[test]
fn without_a_state_dir_it_prints_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_berth-shim"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: berth-shim <state dir>"));
}

#[test]
fn without_a_launch_file_it_reports_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_berth-shim"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let line = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(report["kind"], "system");
    assert!(
        report["message"].as_str().unwrap().contains("launch.json"),
        "{report}"
    );
    let log = std::fs::read_to_string(dir.path().join("shim.log")).unwrap();
    assert!(log.contains("read launch.json"), "{log}");
}
