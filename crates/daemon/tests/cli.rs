//! The `berthd` binary's command line: dockerd's flags, and clear errors
//! for bad ones before anything is touched. (Also makes `cargo test
//! --workspace` build the binary the integration tests start.)

use std::process::Command;

fn berthd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_berthd"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn help_lists_dockerds_flags() {
    let out = berthd(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--data-root",
        "--exec-root",
        "--host",
        "--pidfile",
        "--insecure-registry",
        "--log-level",
        "--config-file",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn bad_settings_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("p.pid");
    let pid = pidfile.to_str().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["-H", "http://x:1"],
            "Invalid bind address format: http://x:1",
        ),
        (
            &["--log-level", "loud"],
            "unable to parse logging level: loud",
        ),
        (
            &["--config-file", "/nonexistent/berth.json"],
            "unable to configure the daemon with file /nonexistent/berth.json",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["--pidfile", pid];
        all.extend_from_slice(args);
        let out = berthd(&all);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!pidfile.exists(), "nothing is touched on a bad flag");
    }
}
