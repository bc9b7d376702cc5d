//! The `berthd` binary: dockerd's flags and config file, the pidfile lock,
//! the API socket (`/_ping` over raw HTTP), SIGHUP reload and a
//! clean SIGTERM shutdown.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::{require_root, workspace_bin};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// A berthd process, SIGKILLed on drop if still running.
struct Berthd {
    child: Child,
    log: PathBuf,
}

impl Drop for Berthd {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn spawn(dir: &Path, extra: &[&str]) -> Berthd {
    let log = dir.join(format!("berthd-{}.log", fs::read_dir(dir).unwrap().count()));
    let child = Command::new(workspace_bin("berthd"))
        .arg("--data-root")
        .arg(dir.join("data"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("berthd.pid"))
        // No container runs here: no bridge to leave on the host.
        .args(["--bridge", "none"])
        .args(extra)
        .env("BERTH_SHIM", workspace_bin("berth-shim"))
        .stdin(Stdio::null())
        .stdout(fs::File::create(&log).unwrap())
        .stderr(fs::File::create(log.with_extension("err")).unwrap())
        .spawn()
        .unwrap();
    Berthd { child, log }
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn berthd_serves_its_socket_holds_its_pidfile_and_shuts_down_cleanly() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("berth.sock");
    let config = dir.path().join("daemon.json");
    fs::write(&config, r#"{"log-level": "info"}"#).unwrap();
    let host = format!("unix://{}", sock.display());
    let config_arg = config.display().to_string();
    let mut d = spawn(dir.path(), &["-H", &host, "--config-file", &config_arg]);
    wait_until("the API socket", Duration::from_secs(20), || sock.exists());
    let pid = d.child.id();
    assert_eq!(
        fs::read_to_string(dir.path().join("berthd.pid")).unwrap(),
        pid.to_string()
    );

    let mut s = UnixStream::connect(&sock).unwrap();
    s.write_all(b"GET /_ping HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("api-version: "),
        "{answer}"
    );
    assert!(answer.ends_with("OK"), "{answer}");

    // A second daemon on the same pidfile is refused.
    let mut second = spawn(
        dir.path(),
        &["-H", &format!("unix://{}/other.sock", dir.path().display())],
    );
    let status = second.child.wait().unwrap();
    assert!(!status.success());
    let err = fs::read_to_string(second.log.with_extension("err")).unwrap();
    assert!(err.contains("pid file found"), "{err}");

    // SIGHUP reloads and keeps serving.
    fs::write(&config, r#"{"log-level": "debug"}"#).unwrap();
    kill(Pid::from_raw(pid as i32), Signal::SIGHUP).unwrap();
    wait_until("the reload", Duration::from_secs(10), || {
        fs::read_to_string(d.log.with_extension("err"))
            .unwrap_or_default()
            .contains("configuration reloaded")
    });
    assert!(d.child.try_wait().unwrap().is_none());

    kill(Pid::from_raw(pid as i32), Signal::SIGTERM).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = d.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "berthd did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert!(!sock.exists(), "socket removed");
    assert!(!dir.path().join("berthd.pid").exists(), "pidfile removed");
}

#[test]
fn a_setting_both_as_flag_and_in_the_file_is_refused() {
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("daemon.json");
    fs::write(&config, r#"{"exec-root": "/tmp/x"}"#).unwrap();
    // spawn() passes --exec-root too.
    let mut d = spawn(
        dir.path(),
        &["--config-file", &config.display().to_string()],
    );
    assert!(!d.child.wait().unwrap().success());
    let err = fs::read_to_string(d.log.with_extension("err")).unwrap();
    assert!(
        err.contains("the following directives are specified both as a flag and in the configuration file: exec-root"),
        "{err}"
    );
}

#[test]
fn fd_listens_on_a_socket_passed_by_socket_activation() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    require_root();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("activated.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let fd = listener.as_raw_fd();
    // As systemd does: the socket as fd 3, LISTEN_PID the daemon's own PID
    // (the shell's, which `exec` keeps), LISTEN_FDS the count.
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"")
        .arg(workspace_bin("berthd"))
        .args(["-H", "fd://", "--data-root"])
        .arg(dir.path().join("data"))
        .arg("--exec-root")
        .arg(dir.path().join("exec"))
        .arg("--pidfile")
        .arg(dir.path().join("berthd.pid"))
        .args(["--bridge", "none"])
        .env("BERTH_SHIM", workspace_bin("berth-shim"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.path().join("err.log")).unwrap());
    // SAFETY: dup2 and fcntl are async-signal-safe; the fd stays open in
    // the parent until the child has it.
    unsafe {
        cmd.pre_exec(move || {
            // dup2 onto itself keeps close-on-exec: clear it by hand then.
            let ok = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0) >= 0
            } else {
                libc::dup2(fd, 3) >= 0
            };
            if !ok {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    drop(listener);
    let mut d = Berthd {
        child,
        log: dir.path().join("err.log"),
    };
    let mut answer = String::new();
    wait_until(
        "an answer on the activated socket",
        Duration::from_secs(20),
        || {
            let Ok(mut s) = UnixStream::connect(&sock) else {
                return false;
            };
            let _ = s.write_all(b"GET /_ping HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n");
            answer.clear();
            s.read_to_string(&mut answer).is_ok() && !answer.is_empty()
        },
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    kill(Pid::from_raw(d.child.id() as i32), Signal::SIGTERM).unwrap();
    let status = d.child.wait().unwrap();
    assert!(
        status.success(),
        "{status}: {}",
        fs::read_to_string(&d.log).unwrap_or_default()
    );
}
