//! Crash safety: the daemon is killed (aborted, as `kill -9` would) at each
//! step of create, start and remove, in a separate process; a new daemon on
//! the same roots must find every container consistent and nothing
//! orphaned: no half-created container, no mount, no shim, no cgroup.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use integration_tests::daemon_world::{mounts_under, DaemonWorld};
use integration_tests::workspace_bin;

type World = DaemonWorld;

fn world() -> World {
    World::new()
}

/// Runs `op` on container `name` in a driver process, crashing at
/// `crash_at` if given; returns whether it was killed by the crash.
fn drive(w: &World, op: &str, name: &str, crash_at: Option<&str>) -> bool {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth-daemon-driver"));
    cmd.arg(w.data.path())
        .arg(w.exec.path())
        .arg(workspace_bin("berth-shim"))
        .arg(&w.image)
        .arg(op)
        .arg(name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(w.exec.path().join("driver.err")).unwrap());
    if let Some(point) = crash_at {
        cmd.env("BERTH_CRASH_AT", point);
    }
    let status = cmd.status().unwrap();
    match crash_at {
        Some(point) => {
            assert_eq!(
                status.signal(),
                Some(6),
                "{op} did not crash at {point}: {status}"
            );
            true
        }
        None => {
            let err = std::fs::read_to_string(w.exec.path().join("driver.err")).unwrap_or_default();
            assert!(status.success(), "{op} {name} failed: {status}: {err}");
            false
        }
    }
}

fn live_shims_under(exec: &Path) -> usize {
    let marker = exec.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'));
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            !zombie && cmdline.contains("berth-shim") && cmdline.contains(&marker)
        })
        .count()
}

fn active_snapshots(data: &Path) -> usize {
    std::fs::read_dir(data.join("overlay/active"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn a_create_killed_at_any_step_leaves_no_half_container() {
    let w = world();
    for point in ["create:after-dir", "create:after-snapshot"] {
        drive(&w, "create", "cc", Some(point));
        let d = w.daemon();
        assert!(
            d.list().is_empty(),
            "{point}: a half-created container survived"
        );
        assert_eq!(active_snapshots(w.data.path()), 0, "{point}");
        assert_eq!(
            std::fs::read_dir(w.data.path().join("containers"))
                .unwrap()
                .count(),
            0,
            "{point}"
        );
        // The name is free again.
        drop(d);
        drive(&w, "create", "cc", None);
        let d = w.daemon();
        assert_eq!(d.get("cc").unwrap().record().state.status(), "created");
        w.rt.block_on(d.remove("cc", true)).unwrap();
    }
}

#[test]
fn a_start_killed_at_any_step_is_consistent_after_restart() {
    let w = world();
    drive(&w, "create", "ss", None);
    for point in ["start:after-mount", "start:after-shim-create"] {
        drive(&w, "start", "ss", Some(point));
        let d = w.daemon();
        let state = d.get("ss").unwrap().record().state;
        assert_eq!(state.status(), "created", "{point}");
        assert_eq!(
            mounts_under(w.data.path()),
            0,
            "{point}: rootfs left mounted"
        );
        assert_eq!(live_shims_under(w.exec.path()), 0, "{point}: shim orphaned");
    }
    // Crashing right after the container started: it is running, and the
    // new daemon knows it.
    drive(&w, "start", "ss", Some("start:after-shim-start"));
    let d = w.daemon();
    let state = d.get("ss").unwrap().record().state;
    assert_eq!(state.status(), "running");
    assert!(state.pid > 0);
    w.rt.block_on(d.stop("ss", Some(0))).unwrap();
    assert_eq!(d.get("ss").unwrap().record().state.exit_code, 137);
    w.rt.block_on(d.remove("ss", false)).unwrap();
    assert_eq!(mounts_under(w.data.path()), 0);
    assert_eq!(live_shims_under(w.exec.path()), 0);
}

#[test]
fn a_remove_killed_at_any_step_is_finished_by_the_next_daemon() {
    let w = world();
    for point in ["remove:after-runtime", "remove:after-snapshot"] {
        drive(&w, "create", "rr", None);
        drive(&w, "start", "rr", None);
        drive(&w, "remove", "rr", Some(point));
        let d = w.daemon();
        assert!(
            d.get("rr").is_err(),
            "{point}: the removal was not finished"
        );
        assert_eq!(active_snapshots(w.data.path()), 0, "{point}");
        assert_eq!(mounts_under(w.data.path()), 0, "{point}");
        assert_eq!(live_shims_under(w.exec.path()), 0, "{point}");
    }
}
