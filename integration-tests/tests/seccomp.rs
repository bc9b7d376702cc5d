//! Seccomp as a user meets it: `berth run` (and the real `docker` CLI)
//! against a real berthd, each container showing from inside what its
//! filter lets through. The default profile is on unless the container is
//! privileged or asks for `seccomp=unconfined`; `seccomp=<file>` sends the
//! file's JSON in Docker's profile format; `no-new-privileges` sets the
//! process flag. The kernel's own answers are the oracle: `Seccomp:` and
//! `NoNewPrivs:` in /proc/self/status, and busybox's error messages.
//!
//! `keyctl` (blocked by the default profile) is not checked here: busybox
//! has no applet that calls it; the unit tests check the profile leaves it out.

use std::fs;
use std::path::{Path, PathBuf};

use integration_tests::berthd::docker_cli;
use integration_tests::session::Session;
use integration_tests::workspace_bin;

/// What every CLI must see in a default container: the filter is on and
/// stops user namespaces and mounts.
fn default_container_is_filtered(s: &Session) {
    assert_eq!(s.status(&[], "Seccomp"), "2");
    // unshare(CLONE_NEWUSER) needs no capability, so only the filter refuses it.
    denied(s, &[], &["unshare", "-U", "true"]);
    let (out, err, code) = s.try_inside(&[], &["sh", "-c", MOUNT_TMPFS]);
    assert_eq!(code, 1, "stdout {out:?} stderr {err:?}");
    assert!(
        err.contains("mount: permission denied (are you root?)"),
        "stdout {out:?} stderr {err:?}"
    );
}

/// Mounts a tmpfs on /mnt (the busybox image has no /mnt).
const MOUNT_TMPFS: &str = "mkdir -p /mnt && mount -t tmpfs none /mnt";

/// Writes `body` as a profile file in `dir`.
fn profile_file(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_string()
}

/// Allows everything but mkdir, which fails with EPERM.
const NO_MKDIR: &str = r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
  ]
}
"#;

/// A session driven by the CLI binary `bin`.
fn session(bin: PathBuf) -> Session {
    let mut s = Session::start();
    s.with_cli(bin);
    s
}

/// "Operation not permitted" from the command itself (exit 1, not the
/// CLI's 125).
fn denied(s: &Session, flags: &[&str], cmd: &[&str]) {
    let (out, err, code) = s.try_inside(flags, cmd);
    assert_eq!(code, 1, "{flags:?} {cmd:?}: stdout {out:?} stderr {err:?}");
    assert!(
        err.contains("Operation not permitted"),
        "{flags:?} {cmd:?}: stderr {err:?}"
    );
}

#[test]
fn the_default_profile_applies_unless_privileged_or_unconfined() {
    let s = session(workspace_bin("berth"));
    default_container_is_filtered(&s);
    // Same filter under an explicit `builtin`.
    denied(
        &s,
        &["--security-opt", "seccomp=builtin"],
        &["unshare", "-U", "true"],
    );

    // Privileged: no filter at all.
    assert_eq!(s.status(&["--privileged"], "Seccomp"), "0");
    s.inside(&["--privileged"], &["unshare", "-U", "true"]);

    // Unconfined: no filter, the default capabilities stay.
    let unconfined = ["--security-opt", "seccomp=unconfined"];
    assert_eq!(s.status(&unconfined, "Seccomp"), "0");
    s.inside(&unconfined, &["unshare", "-U", "true"]);
    let out = s.inside(
        &[
            "--security-opt",
            "seccomp=unconfined",
            "--cap-add",
            "SYS_ADMIN",
        ],
        &[
            "sh",
            "-c",
            &format!("{MOUNT_TMPFS} && grep ' /mnt ' /proc/mounts"),
        ],
    );
    assert!(out.starts_with("none /mnt tmpfs "), "{out}");

    // The default profile opens mount and unshare to CAP_SYS_ADMIN holders.
    let out = s.inside(
        &["--cap-add", "SYS_ADMIN"],
        &[
            "sh",
            "-c",
            &format!(
                "grep ^Seccomp: /proc/self/status && {MOUNT_TMPFS} && unshare -m true && echo ok"
            ),
        ],
    );
    assert_eq!(out, "Seccomp:\t2\nok\n");

    // no-new-privileges reaches the process, with or without the filter.
    assert_eq!(s.status(&[], "NoNewPrivs"), "0");
    assert_eq!(
        s.status(&["--security-opt", "no-new-privileges"], "NoNewPrivs"),
        "1"
    );
    assert_eq!(
        s.status(
            &[
                "--security-opt",
                "no-new-privileges=true",
                "--security-opt",
                "seccomp=unconfined"
            ],
            "NoNewPrivs"
        ),
        "1"
    );

    // An exec'd process gets the container's filter too.
    let (id, err, code) = s.run(&["run", "-d", &s.w.image, "sleep", "300"]);
    assert_eq!(code, 0, "{err}");
    let id = id.trim();
    let (out, err, code) = s.run(&["exec", id, "grep", "^Seccomp:", "/proc/self/status"]);
    assert_eq!((out.as_str(), code), ("Seccomp:\t2\n", 0), "{err}");
    let (_, err, code) = s.run(&["exec", id, "unshare", "-U", "true"]);
    assert_eq!(code, 1);
    assert!(err.contains("Operation not permitted"), "{err}");
    let (_, err, code) = s.run(&["rm", "-f", id]);
    assert_eq!(code, 0, "{err}");
    s.assert_no_containers();
}

#[test]
fn custom_profiles_are_read_from_files_and_checked() {
    let s = session(workspace_bin("berth"));
    let dir = tempfile::tempdir().unwrap();
    let no_mkdir = profile_file(dir.path(), "no-mkdir.json", NO_MKDIR);
    let opt = format!("seccomp={no_mkdir}");
    denied(&s, &["--security-opt", &opt], &["mkdir", "/x"]);
    // Everything else is allowed, user namespaces included.
    assert_eq!(s.status(&["--security-opt", &opt], "Seccomp"), "2");
    s.inside(&["--security-opt", &opt], &["unshare", "-U", "true"]);
    // A privileged container still gets the profile it names.
    denied(
        &s,
        &["--privileged", "--security-opt", &opt],
        &["mkdir", "/x"],
    );

    // Valid JSON that is not a profile: the daemon refuses the create.
    let bad = profile_file(
        dir.path(),
        "bad.json",
        r#"{"defaultAction": "SCMP_ACT_SOMETIMES"}"#,
    );
    let (out, err, code) = s.try_inside(&["--security-opt", &format!("seccomp={bad}")], &["true"]);
    assert_eq!(code, 125, "stdout {out:?} stderr {err:?}");
    assert!(
        err.contains("Error response from daemon: Decoding seccomp profile failed: "),
        "{err}"
    );
    // Not JSON at all, or no file: the CLI refuses before asking the daemon.
    let not_json = profile_file(dir.path(), "not.json", "defaultAction: allow\n");
    let (_, err, code) = s.try_inside(
        &["--security-opt", &format!("seccomp={not_json}")],
        &["true"],
    );
    assert_eq!(code, 125);
    assert!(
        err.contains(&format!(
            "compacting json for seccomp profile ({not_json}) failed"
        )),
        "{err}"
    );
    let (_, err, code) = s.try_inside(
        &["--security-opt", "seccomp=/nonexistent/profile.json"],
        &["true"],
    );
    assert_eq!(code, 125);
    assert!(
        err.contains("opening seccomp profile (/nonexistent/profile.json) failed"),
        "{err}"
    );
    s.assert_no_containers();
}

#[test]
fn the_docker_cli_gets_the_same_filters() {
    let s = session(docker_cli());
    default_container_is_filtered(&s);
    s.inside(&["--privileged"], &["unshare", "-U", "true"]);
    assert_eq!(
        s.status(&["--security-opt", "seccomp=unconfined"], "Seccomp"),
        "0"
    );
    let dir = tempfile::tempdir().unwrap();
    let no_mkdir = profile_file(dir.path(), "no-mkdir.json", NO_MKDIR);
    denied(
        &s,
        &["--security-opt", &format!("seccomp={no_mkdir}")],
        &["mkdir", "/x"],
    );
    s.assert_no_containers();
}
