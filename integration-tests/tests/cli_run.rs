//! `berth run` driven the way a user drives it: the `berth` binary against a
//! real berthd on a [`DaemonWorld`], each flag checked from inside the
//! container where the daemon implements it (env, id, mounts, cgroup
//! files, /proc/self/status) and through `berth inspect -f` where Docker
//! only records it; exit codes (the container's, 125, 126, 127), the pull
//! policy, `--cidfile`, name conflicts, the flags the daemon refuses on
//! purpose today; and `-it` on a real pseudo-terminal: the window size at
//! start and after SIGWINCH, raw mode, and the detach keys.

use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use integration_tests::berthd::{cli, text};
use integration_tests::session::Session;

/// The line of `/proc/self/status` named `key`, seen from inside.
fn status_line(s: &Session, flags: &[&str], key: &str) -> String {
    let out = s.inside(flags, &["grep", &format!("^{key}:"), "/proc/self/status"]);
    out.split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("{key} not in {out:?}"))
        .to_string()
}

/// This process's own effective capabilities (root on the host): what a
/// privileged container gets.
fn host_cap_eff() -> String {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("CapEff:")).unwrap();
    line.split_whitespace().nth(1).unwrap().to_string()
}

#[test]
fn run_flags_take_effect_inside_the_container() {
    let s = Session::start();
    let host = tempfile::tempdir().unwrap();
    let dir = host.path().to_str().unwrap();
    fs::write(host.path().join("f"), "from the host\n").unwrap();
    let env_file = host.path().join("env.list");
    fs::write(&env_file, "# a comment\nFROM_FILE=yes\n\nPLAIN_KEY\n").unwrap();

    // Environment: -e, --env-file, and a bare name taking the CLI's value.
    let out = s.inside(
        &[
            "-e",
            "ONE=1",
            "--env",
            "TWO=two words",
            "--env-file",
            env_file.to_str().unwrap(),
        ],
        &["env"],
    );
    let env: Vec<&str> = out.lines().collect();
    for want in ["ONE=1", "TWO=two words", "FROM_FILE=yes"] {
        assert!(env.contains(&want), "{want} not in {out}");
    }

    // Working directory, user and extra groups.
    assert_eq!(s.inside(&["-w", "/usr/sbin"], &["pwd"]), "/usr/sbin\n");
    // A working directory the image lacks is created, as Docker does.
    assert_eq!(
        s.inside(&["-w", "/srv/new/app"], &["pwd"]),
        "/srv/new/app\n"
    );
    let id = s.inside(&["-u", "1000:1000", "--group-add", "1234"], &["id"]);
    // busybox's image names uid and gid 1000 `user`.
    assert!(
        id.starts_with("uid=1000(user) gid=1000(user) groups="),
        "{id}"
    );
    assert!(
        id.trim_end().rsplit(['=', ',']).any(|g| g == "1234"),
        "{id}"
    );
    assert_eq!(s.inside(&["-u", "nobody"], &["id", "-un"]), "nobody\n");

    // Host name, /etc/hosts, /etc/resolv.conf.
    assert_eq!(s.inside(&["--hostname", "box1"], &["hostname"]), "box1\n");
    let hosts = s.inside(&["--add-host", "db.local:10.1.2.3"], &["cat", "/etc/hosts"]);
    assert!(
        hosts
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["10.1.2.3", "db.local"]),
        "{hosts}"
    );
    let resolv = s.inside(
        &["--dns", "9.9.9.9", "--dns-search", "example.test"],
        &["cat", "/etc/resolv.conf"],
    );
    assert!(
        resolv.lines().any(|l| l == "nameserver 9.9.9.9"),
        "{resolv}"
    );
    assert!(resolv.contains("example.test"), "{resolv}");

    // --entrypoint: the image's command replaced, the args passed to it.
    assert_eq!(
        s.inside(&["--entrypoint", "echo"], &["via", "entrypoint"]),
        "via entrypoint\n"
    );

    // Bind mounts: -v rw (writes reach the host), -v :ro and --mount
    // readonly (writes refused).
    let v = format!("{dir}:/data");
    assert_eq!(
        s.inside(
            &["-v", &v],
            &["sh", "-c", "cat /data/f; echo back > /data/g"]
        ),
        "from the host\n"
    );
    assert_eq!(fs::read_to_string(host.path().join("g")).unwrap(), "back\n");
    let ro = format!("{dir}:/data:ro");
    let (_, err, code) = s.try_inside(&["-v", &ro], &["touch", "/data/nope"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    let m = format!("type=bind,source={dir},target=/m,readonly");
    assert_eq!(
        s.inside(&["--mount", &m], &["cat", "/m/f"]),
        "from the host\n"
    );
    let (_, err, code) = s.try_inside(&["--mount", &m], &["touch", "/m/nope"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!host.path().join("nope").exists());

    // --tmpfs, --read-only, --shm-size.
    let mounts = s.inside(&["--tmpfs", "/t"], &["grep", " /t ", "/proc/mounts"]);
    assert!(mounts.starts_with("tmpfs /t tmpfs rw,"), "{mounts}");
    let (_, err, code) = s.try_inside(&["--read-only"], &["touch", "/x"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    let shm = s.inside(
        &["--shm-size", "16m"],
        &["grep", " /dev/shm ", "/proc/mounts"],
    );
    assert!(shm.contains("size=16384k"), "{shm}");

    // --ulimit.
    assert_eq!(
        s.inside(&["--ulimit", "nofile=512:512"], &["sh", "-c", "ulimit -n"]),
        "512\n"
    );

    // Capabilities, privileged, no-new-privileges.
    assert_eq!(
        status_line(&s, &["--cap-drop", "ALL"], "CapEff"),
        "0000000000000000"
    );
    // NET_ADMIN is capability 12.
    assert_eq!(
        status_line(
            &s,
            &["--cap-drop", "ALL", "--cap-add", "NET_ADMIN"],
            "CapEff"
        ),
        "0000000000001000"
    );
    let default_caps = status_line(&s, &[], "CapEff");
    assert_ne!(default_caps, host_cap_eff());
    assert_eq!(status_line(&s, &["--privileged"], "CapEff"), host_cap_eff());
    assert_eq!(status_line(&s, &[], "NoNewPrivs"), "0");
    assert_eq!(
        status_line(&s, &["--security-opt", "no-new-privileges"], "NoNewPrivs"),
        "1"
    );

    // --sysctl: a network one and an IPC one, both namespaced.
    assert_eq!(
        s.inside(
            &["--sysctl", "net.ipv4.ip_forward=1"],
            &["cat", "/proc/sys/net/ipv4/ip_forward"]
        ),
        "1\n"
    );
    assert_eq!(
        s.inside(
            &["--sysctl", "kernel.msgmax=12345"],
            &["cat", "/proc/sys/kernel/msgmax"]
        ),
        "12345\n"
    );

    // --network none: loopback only.
    let dev = s.inside(&["--network", "none"], &["cat", "/proc/net/dev"]);
    let ifaces: Vec<&str> = dev
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.trim())
        .collect();
    assert_eq!(ifaces, ["lo"], "{dev}");

    // --device: the host's /dev/null (char 1,3) under another name.
    let dev = s.inside(
        &["--device", "/dev/null:/dev/xnull"],
        &[
            "sh",
            "-c",
            "echo gone > /dev/xnull && stat -c '%F %t,%T' /dev/xnull",
        ],
    );
    assert_eq!(dev, "character special file 1,3\n");

    // -i with piped stdin; -it without a terminal is refused.
    let o = cli(
        &s.bin,
        &s.d.sock,
        &["run", "-i", "--rm", &s.w.image, "tr", "a-z", "A-Z"],
        b"piped in\n",
    );
    assert_eq!(text(&o).0, "PIPED IN\n", "{:?}", text(&o));
    let (_, err, code) = s.try_inside(&["-it"], &["true"]);
    assert_eq!(
        (err.trim_end(), code),
        ("the input device is not a TTY", 1),
        "{err}"
    );

    assert_eq!(s.ok(&["ps", "-aq"]), "", "every --rm container is gone");
}

/// A cgroup v1 file of the container, read from inside it.
fn cgroup_file(s: &Session, flags: &[&str], file: &str) -> String {
    s.inside(flags, &["cat", &format!("/sys/fs/cgroup/{file}")])
        .trim()
        .to_string()
}

#[test]
fn run_resources_and_recorded_settings() {
    let s = Session::start();

    // Resource limits, read from the container's own cgroup.
    assert_eq!(
        cgroup_file(&s, &["--memory", "64m"], "memory/memory.limit_in_bytes"),
        "67108864"
    );
    assert_eq!(
        cgroup_file(
            &s,
            &["-m", "64m", "--memory-swap", "128m"],
            "memory/memory.memsw.limit_in_bytes"
        ),
        "134217728"
    );
    assert_eq!(
        cgroup_file(&s, &["--cpus", "0.5"], "cpu/cpu.cfs_quota_us"),
        "50000"
    );
    assert_eq!(
        cgroup_file(&s, &["--cpus", "0.5"], "cpu/cpu.cfs_period_us"),
        "100000"
    );
    assert_eq!(
        cgroup_file(&s, &["--cpu-shares", "512"], "cpu/cpu.shares"),
        "512"
    );
    assert_eq!(
        cgroup_file(&s, &["--cpuset-cpus", "0"], "cpuset/cpuset.cpus"),
        "0"
    );
    assert_eq!(
        cgroup_file(&s, &["--pids-limit", "42"], "pids/pids.max"),
        "42"
    );
    assert_eq!(
        cgroup_file(
            &s,
            &["--memory-reservation", "32m"],
            "memory/memory.soft_limit_in_bytes"
        ),
        "33554432"
    );
    assert_eq!(
        cgroup_file(
            &s,
            &["--cpu-period", "50000", "--cpu-quota", "25000"],
            "cpu/cpu.cfs_quota_us"
        ),
        "25000"
    );
    assert_eq!(
        cgroup_file(&s, &["--cpu-period", "50000"], "cpu/cpu.cfs_period_us"),
        "50000"
    );
    assert_eq!(
        cgroup_file(&s, &["--cpuset-mems", "0"], "cpuset/cpuset.mems"),
        "0"
    );
    let oom = cgroup_file(
        &s,
        &["-m", "64m", "--oom-kill-disable"],
        "memory/memory.oom_control",
    );
    assert!(oom.starts_with("oom_kill_disable 1"), "{oom}");

    // What Docker records and inspect shows in its own fields.
    let img = s.w.image.as_str();
    s.ok(&[
        "create",
        "--name",
        "recorded",
        "--stop-signal",
        "SIGUSR1",
        "--stop-timeout",
        "7",
        "--label",
        "team=berth",
        "-l",
        "tier=test",
        "--restart",
        "on-failure:2",
        "--log-opt",
        "max-size=1m",
        "--health-cmd",
        "true",
        "--health-interval",
        "5s",
        "--health-retries",
        "4",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1:9090:90/udp",
        "-m",
        "64m",
        "--memory-swap",
        "128m",
        "--cpus",
        "1.5",
        "--cpu-shares",
        "256",
        "--pids-limit",
        "42",
        "--platform",
        "linux/amd64",
        img,
        "sleep",
        "100",
    ]);
    let f = |format: &str| s.inspect(format, "recorded");
    assert_eq!(
        f("{{.Config.StopSignal}} {{.Config.StopTimeout}}"),
        "SIGUSR1 7"
    );
    assert_eq!(
        f(r#"{{index .Config.Labels "team"}} {{index .Config.Labels "tier"}}"#),
        "berth test"
    );
    assert_eq!(
        f("{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}"),
        "on-failure 2"
    );
    assert_eq!(
        f(r#"{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config "max-size"}}"#),
        "json-file 1m"
    );
    // Compared as JSON: berth's `json` orders keys by name, Go's by field.
    let health: serde_json::Value =
        serde_json::from_str(&f("{{json .Config.Healthcheck}}")).unwrap();
    assert_eq!(
        health,
        serde_json::json!({"Test": ["CMD-SHELL", "true"], "Interval": 5000000000u64, "Retries": 4})
    );
    assert_eq!(
        f("{{json .HostConfig.PortBindings}}"),
        r#"{"80/tcp":[{"HostIp":"","HostPort":"8080"}],"90/udp":[{"HostIp":"127.0.0.1","HostPort":"9090"}]}"#
    );
    assert_eq!(
        f("{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}"),
        "67108864 134217728 1500000000 256 42"
    );
    assert_eq!(f("{{.Platform}}"), "linux");
    s.ok(&["create", "--name", "all-ports", "-P", "--expose", "80", img]);
    assert_eq!(
        s.inspect(
            "{{.HostConfig.PublishAllPorts}} {{json .Config.ExposedPorts}}",
            "all-ports"
        ),
        r#"true {"80/tcp":{}}"#
    );
    s.ok(&["rm", "recorded", "all-ports"]);

    // --platform matching the image runs it.
    assert_eq!(
        s.inside(&["--platform", "linux/amd64"], &["echo", "amd64"]),
        "amd64\n"
    );
}

#[test]
fn run_exit_codes_pulls_cidfile_names_and_refusals() {
    let s = Session::start();
    let img = s.w.image.as_str();

    // The container's own status, then Docker's 127 / 126 / 125.
    let (_, _, code) = s.try_inside(&[], &["sh", "-c", "exit 3"]);
    assert_eq!(code, 3);
    let (out, err, code) = s.try_inside(&[], &["nosuchcmd"]);
    assert_eq!((out.as_str(), code), ("", 127), "{err}");
    assert!(
        err.contains(r#"exec: "nosuchcmd": executable file not found in $PATH"#),
        "{err}"
    );
    let (_, err, code) = s.try_inside(&[], &["/etc/passwd"]);
    assert_eq!(code, 126, "{err}");
    assert!(err.contains("permission denied"), "{err}");
    let (_, err, code) = s.try_inside(&["--memory", "lots"], &["true"]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("lots"), "{err}");
    let (_, err, code) = s.try_inside(&["--no-such-flag"], &["true"]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("--no-such-flag"), "{err}");
    let (_, err, code) = s.try_inside(&["--restart", "sometimes"], &["true"]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("unknown policy 'sometimes'"), "{err}");
    let (_, err, code) = s.try_inside(&["--restart", "always"], &["true"]);
    assert_eq!(
        (err.as_str(), code),
        (
            "conflicting options: cannot specify both --restart and --rm\n",
            125
        )
    );

    // --pull never on an absent image: Docker's message; always: a pull.
    let ml = format!("{}/multilayer", s.w.reg.host());
    let (_, err, code) = s.run(&["run", "--rm", "--pull", "never", &ml, "true"]);
    assert_eq!(code, 125, "{err}");
    assert_eq!(
        err,
        format!("Error response from daemon: No such image: {ml}:latest\n")
    );
    let (out, err, code) = s.try_inside(&["--pull", "always"], &["echo", "fresh"]);
    assert_eq!((out.as_str(), code), ("fresh\n", 0), "{err}");
    assert!(err.contains("latest: Pulling from busybox"), "{err}");
    assert!(
        err.contains(&format!("Status: Image is up to date for {img}")),
        "{err}"
    );
    let (_, err, code) = s.try_inside(&["--pull", "sometimes"], &["true"]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("sometimes"), "{err}");

    // --cidfile: the ID written; an existing file refused before creating.
    let tmp = tempfile::tempdir().unwrap();
    let cidfile = tmp.path().join("cid");
    let cid = cidfile.to_str().unwrap();
    let id = s.ok(&[
        "run",
        "-d",
        "--cidfile",
        cid,
        "--name",
        "dup",
        img,
        "sleep",
        "100",
    ]);
    assert_eq!(fs::read_to_string(&cidfile).unwrap(), id.trim());
    let (_, err, code) = s.run(&["run", "-d", "--cidfile", cid, img, "true"]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains(&format!(
            "container ID file found, make sure the other container isn't running or delete {cid}"
        )),
        "{err}"
    );
    assert_eq!(s.ok(&["ps", "-aq"]).lines().count(), 1);

    // --name in use: Docker's conflict message.
    let (_, err, code) = s.run(&["run", "-d", "--name", "dup", img, "true"]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains(&format!(
            r#"Conflict. The container name "/dup" is already in use by container "{}". You have to remove (or rename) that container to be able to reuse that name."#,
            id.trim()
        )),
        "{err}"
    );
    s.ok(&["rm", "-f", "dup"]);

    // Refused: a clear error, 125, nothing left behind.
    let refused: [(&[&str], &str); 4] = [
        (&["--network", "mynet"], "network mynet not found"),
        (
            &["--network", "container:nosuch"],
            "No such container: nosuch",
        ),
        (
            &["-v", "bad@name:/data"],
            "includes invalid characters for a local volume name",
        ),
        (
            &[
                "--mount",
                "type=bind,source=/nonexistent/berth,target=/data",
            ],
            "bind source path does not exist: /nonexistent/berth",
        ),
    ];
    for (flags, want) in refused {
        let (_, err, code) = s.try_inside(flags, &["true"]);
        assert_eq!(code, 125, "{flags:?}: {err}");
        assert!(err.contains(want), "{flags:?}: {err}");
    }
    assert_eq!(s.ok(&["ps", "-aq"]), "");
}

/// A `berth` process whose stdin, stdout and stderr are the slave side of
/// a pseudo-terminal it has as its controlling terminal; everything it
/// writes to the terminal collects in `seen`.
struct PtyRun {
    child: Child,
    master: OwnedFd,
    slave: Option<OwnedFd>,
    seen: Arc<Mutex<Vec<u8>>>,
}

fn winsize(rows: u16, cols: u16) -> nix::pty::Winsize {
    nix::pty::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl PtyRun {
    fn spawn(bin: &Path, sock: &Path, args: &[&str], rows: u16, cols: u16) -> PtyRun {
        let pty = nix::pty::openpty(Some(&winsize(rows, cols)), None).unwrap();
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("BERTH_HOST", format!("unix://{}", sock.display()))
            .env("DOCKER_CONFIG", sock.parent().unwrap())
            .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
            .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
            .stderr(Stdio::from(pty.slave.try_clone().unwrap()));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = fs::File::from(pty.master.try_clone().unwrap());
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once every slave descriptor is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        PtyRun {
            child,
            master: pty.master,
            slave: Some(pty.slave),
            seen,
        }
    }

    /// Types `keys` on the terminal.
    fn type_keys(&self, keys: &[u8]) {
        let mut m = fs::File::from(self.master.try_clone().unwrap());
        m.write_all(keys).unwrap();
    }

    /// The terminal output so far, lossy.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits until the output after byte `from` contains `needle`.
    fn expect(&self, from: usize, needle: &str) {
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            let seen = self.seen.lock().unwrap();
            let tail = String::from_utf8_lossy(&seen[from.min(seen.len())..]).into_owned();
            drop(seen);
            if tail.contains(needle) {
                return;
            }
            assert!(Instant::now() < end, "{needle:?} not in {tail:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many bytes have been seen: a mark for [`PtyRun::expect`].
    fn mark(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Types `line` and a return; waits until `answer` comes back.
    fn ask(&self, line: &str, answer: &str) -> String {
        let from = self.mark();
        self.type_keys(format!("{line}\r").as_bytes());
        self.expect(from, answer);
        String::from_utf8_lossy(&self.seen.lock().unwrap()[from..]).into_owned()
    }

    /// Sets the terminal's size, as a terminal emulator does, and tells
    /// berth with SIGWINCH (the kernel signals the foreground group too).
    fn resize(&self, rows: u16, cols: u16) {
        let ws = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads one winsize from a valid pointer.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGWINCH,
        )
        .unwrap();
    }

    /// Waits for berth to exit: its code.
    fn exit_code(mut self) -> (i32, String) {
        self.slave.take();
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (st.code().unwrap_or(-1), self.screen());
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("berth did not exit; terminal: {:?}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PtyRun {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Busybox sh's prompt for root in `/`.
const PROMPT: &str = "/ # ";

#[test]
fn run_it_on_a_pseudo_terminal() {
    let s = Session::start();
    let img = s.w.image.as_str();
    let t = PtyRun::spawn(
        &s.bin,
        &s.d.sock,
        &["run", "-it", "--rm", "--name", "tty", img, "sh"],
        33,
        111,
    );
    t.expect(0, PROMPT);

    // Raw: berth's side of the terminal neither echoes nor buffers lines.
    let mode = nix::sys::termios::tcgetattr(t.slave.as_ref().unwrap()).unwrap();
    use nix::sys::termios::LocalFlags;
    assert!(
        !mode
            .local_flags
            .intersects(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG),
        "{:?}",
        mode.local_flags
    );
    // The line comes back once (the container's tty echo), not twice.
    let out = t.ask("echo mark''ed", "marked\r\n");
    assert_eq!(out.matches("echo mark''ed").count(), 1, "{out:?}");

    // The size at start, then after a resize.
    t.ask("stty size", "33 111\r\n");
    t.resize(40, 120);
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let from = t.mark();
        t.type_keys(b"stty size\r");
        t.expect(from, PROMPT);
        if t.screen()[from..].contains("40 120\r\n") {
            break;
        }
        assert!(
            Instant::now() < end,
            "size never followed: {:?}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // ctrl-p ctrl-q: berth leaves, the container keeps running.
    t.type_keys(b"\x10\x11");
    let (code, screen) = t.exit_code();
    assert_eq!(code, 0, "{screen:?}");
    assert_eq!(s.inspect("{{.State.Running}}", "tty"), "true");
    assert_eq!(s.ok(&["exec", "tty", "echo", "still here"]), "still here\n");

    // --detach-keys: ctrl-p ctrl-q is plain input now, ctrl-x detaches.
    let t = PtyRun::spawn(
        &s.bin,
        &s.d.sock,
        &[
            "run",
            "-it",
            "--rm",
            "--detach-keys",
            "ctrl-x",
            "--name",
            "tty-x",
            img,
            "sh",
        ],
        24,
        80,
    );
    t.expect(0, PROMPT);
    t.ask("stty size", "24 80\r\n");
    t.type_keys(b"\x10\x11");
    std::thread::sleep(Duration::from_millis(300));
    // ctrl-c (the container's tty makes it SIGINT) drops the line.
    t.type_keys(b"\x03");
    t.ask("echo still''attached", "stillattached\r\n");
    t.type_keys(b"\x18");
    let (code, screen) = t.exit_code();
    assert_eq!(code, 0, "{screen:?}");
    assert_eq!(s.inspect("{{.State.Running}}", "tty-x"), "true");

    // A shell that exits ends the session with its status.
    let t = PtyRun::spawn(
        &s.bin,
        &s.d.sock,
        &["run", "-it", "--rm", img, "sh"],
        24,
        80,
    );
    t.expect(0, PROMPT);
    t.type_keys(b"exit 5\r");
    let (code, screen) = t.exit_code();
    assert_eq!(code, 5, "{screen:?}");

    s.ok(&["rm", "-f", "tty", "tty-x"]);
    assert_eq!(s.ok(&["ps", "-aq"]), "");
}
