//! Docker's security defaults and resource limits, seen the way a user sees
//! them: the `berth` CLI (and once the real `docker` CLI) against a real
//! berthd, checked from inside busybox containers and from the host's
//! cgroup files. Capabilities (the default mask, `--cap-drop`/`--cap-add`,
//! `--privileged`), masked `/proc` paths and a read-only `/proc/sys`,
//! namespaced `--sysctl` only, a fork bomb held by `--pids-limit`, and a
//! memory hog OOM-killed under `--memory` with the daemon still serving.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use integration_tests::berthd::docker_cli;
use integration_tests::daemon_world::wait_for;
use integration_tests::session::Session;

/// Docker's default capability set (moby `oci/caps.DefaultCapabilities`)
/// as the kernel prints it: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
/// SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD,
/// AUDIT_WRITE, SETFCAP.
const DOCKER_DEFAULT_CAPS: &str = "00000000a80425fb";

/// The test process's own capability line `key` (it runs as root on the
/// host, so its bounding set is the host's).
fn own_caps(key: &str) -> String {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().to_string()
}

/// Files Docker masks that this host's kernel has (`/proc/kcore` needs
/// CONFIG_PROC_KCORE; a path the host lacks stays absent inside too).
fn masked_files() -> Vec<&'static str> {
    let files: Vec<&str> = [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/interrupts",
    ]
    .into_iter()
    .filter(|f| Path::new(f).exists())
    .collect();
    assert!(!files.is_empty(), "no maskable /proc file on this host");
    files
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A cgroup v1 controller file of container `id` (berthd's default parent
/// `/berth`), or the unified one when there is no v1 hierarchy.
fn cgroup_file(controller: &str, id: &str, v1: &str, v2: &str) -> PathBuf {
    let legacy = Path::new("/sys/fs/cgroup").join(controller);
    if legacy.is_dir() {
        legacy.join("berth").join(id).join(v1)
    } else {
        Path::new("/sys/fs/cgroup/berth").join(id).join(v2)
    }
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The count on the `max` line of a `pids.events` file.
fn pids_max_events(path: &Path) -> u64 {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("max ")?.trim().parse().ok())
        .unwrap_or(0)
}

/// Capabilities, masked and read-only `/proc` paths, and the privileged
/// escape hatch, checked the same way through `cli`.
fn check_caps_and_paths(s: &Session, privileged_too: bool) {
    assert_eq!(s.status(&[], "CapEff"), DOCKER_DEFAULT_CAPS);
    assert_eq!(s.status(&[], "CapBnd"), DOCKER_DEFAULT_CAPS);
    assert_eq!(s.status(&[], "CapInh"), "0000000000000000");
    assert_eq!(s.status(&[], "CapAmb"), "0000000000000000");

    // Masked files are the null device, and read empty.
    let masked = masked_files();
    let mut stat = vec!["stat", "-c", "%n %F %t:%T"];
    stat.extend(masked.iter().copied());
    let want: String = masked
        .iter()
        .map(|f| format!("{f} character special file 1:3\n"))
        .collect();
    assert_eq!(s.inside(&[], &stat), want);
    let cat = format!("cat {} | wc -c", masked.join(" "));
    assert_eq!(s.inside(&[], &["sh", "-c", &cat]).trim(), "0");
    // /proc/sys is read-only, even for root with the default capabilities.
    let (_, err, code) = s.try_inside(
        &[],
        &["sh", "-c", "echo 1073741824 > /proc/sys/kernel/shmmax"],
    );
    assert_ne!(code, 0, "writing /proc/sys must fail");
    assert!(err.contains("Read-only file system"), "{err}");

    if !privileged_too {
        return;
    }
    // Privileged: the host's bounding set, nothing masked, /proc/sys
    // writable (shmmax is per IPC namespace, so the host is untouched).
    let host_bnd = own_caps("CapBnd");
    assert_eq!(s.status(&["--privileged"], "CapEff"), host_bnd);
    assert_eq!(s.status(&["--privileged"], "CapBnd"), host_bnd);
    let mut stat = vec!["stat", "-c", "%F"];
    stat.extend(masked.iter().copied());
    let out = s.inside(&["--privileged"], &stat);
    assert_eq!(out.lines().count(), masked.len(), "{out}");
    assert!(
        out.lines().all(|l| l.starts_with("regular")),
        "nothing is masked when privileged: {out}"
    );
    let host_shmmax = fs::read_to_string("/proc/sys/kernel/shmmax").unwrap();
    assert_eq!(
        s.inside(
            &["--privileged"],
            &[
                "sh",
                "-c",
                "echo 1073741824 > /proc/sys/kernel/shmmax && cat /proc/sys/kernel/shmmax"
            ]
        ),
        "1073741824\n"
    );
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/shmmax").unwrap(),
        host_shmmax,
        "the host's shmmax must not change"
    );
}

#[test]
fn capabilities_masked_paths_and_sysctls() {
    let s = Session::start();
    check_caps_and_paths(&s, true);

    // Exactly one capability: NET_ADMIN is bit 12.
    assert_eq!(
        s.status(&["--cap-drop", "ALL", "--cap-add", "NET_ADMIN"], "CapEff"),
        "0000000000001000"
    );
    assert_eq!(
        s.status(&["--cap-drop", "ALL", "--cap-add", "NET_ADMIN"], "CapBnd"),
        "0000000000001000"
    );

    // Namespaced sysctls take effect inside, the host's stay.
    let host_shmmax = fs::read_to_string("/proc/sys/kernel/shmmax").unwrap();
    assert_eq!(
        s.inside(
            &["--sysctl", "kernel.shmmax=1073741824"],
            &["cat", "/proc/sys/kernel/shmmax"]
        ),
        "1073741824\n"
    );
    assert_eq!(
        s.inside(
            &[
                "--sysctl",
                "fs.mqueue.msg_max=20",
                "--sysctl",
                "net.core.somaxconn=512"
            ],
            &[
                "cat",
                "/proc/sys/fs/mqueue/msg_max",
                "/proc/sys/net/core/somaxconn"
            ]
        ),
        "20\n512\n"
    );
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/shmmax").unwrap(),
        host_shmmax
    );

    // Host-wide ones are refused at create, with runc's words, exit 125.
    for (flags, want) in [
        (
            vec!["--sysctl", "kernel.pid_max=100000"],
            r#"sysctl "kernel.pid_max" is not in a separate kernel namespace"#,
        ),
        (
            vec!["--sysctl", "vm.swappiness=10"],
            r#"sysctl "vm.swappiness" is not in a separate kernel namespace"#,
        ),
        (
            vec!["--sysctl", "kernel.hostname=x"],
            r#"sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field"#,
        ),
        (
            vec!["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
            r#"sysctl "net.ipv4.ip_forward" not allowed in host network namespace"#,
        ),
        (
            vec!["--ipc", "host", "--sysctl", "kernel.shmmax=1073741824"],
            r#"sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace"#,
        ),
    ] {
        let (out, err, code) = s.try_inside(&flags, &["true"]);
        assert_eq!((out.as_str(), code), ("", 125), "{flags:?}: {err}");
        assert!(err.contains(want), "{flags:?}: {err}");
    }
    // `create` refuses the same way and keeps nothing.
    let (_, err, code) = s.run(&[
        "create",
        "--sysctl",
        "kernel.pid_max=100000",
        &s.w.image,
        "true",
    ]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("Error response from daemon: sysctl \"kernel.pid_max\""),
        "{err}"
    );
    s.assert_no_containers();
}

#[test]
fn fork_bomb_is_held_by_the_pids_limit() {
    let s = Session::start();
    // The init keeps a child it waits for, so it outlives the bomb; each
    // bomb shell loops forever forking more of itself.
    let id = s
        .ok(&[
            "run",
            "-d",
            "--name",
            "bomb",
            "--pids-limit",
            "64",
            "--cpus",
            "0.5",
            &s.w.image,
            "sh",
            "-c",
            "sleep 1000 & f() { while true; do f & done; }; f & wait",
        ])
        .trim()
        .to_string();
    let current = cgroup_file("pids", &id, "pids.current", "pids.current");
    let events = cgroup_file("pids", &id, "pids.events", "pids.events");
    assert_eq!(
        read_u64(&cgroup_file("pids", &id, "pids.max", "pids.max")),
        Some(64)
    );

    // The bomb reaches the limit: the kernel refuses forks.
    wait_for(
        "the pids limit to refuse forks",
        Duration::from_secs(30),
        || pids_max_events(&events) > 0,
    );
    // The host keeps answering while the bomb pushes against the limit.
    let start = Instant::now();
    let ps = s.ok(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    let ps_took = start.elapsed();
    assert!(ps.starts_with("bomb Up "), "{ps}");
    assert!(ps_took < Duration::from_secs(10), "ps took {ps_took:?}");
    let mut highest = 0;
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        let n = read_u64(&current).expect("pids.current while the bomb runs");
        assert!(n <= 64, "pids.current {n} > 64");
        highest = highest.max(n);
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "fork bomb: ps answered in {:?}, pids.current up to {highest}",
        ps_took
    );
    assert!(
        highest > 32,
        "the bomb should fill the limit, saw at most {highest}"
    );
    if let Some(peak) = read_u64(&cgroup_file("pids", &id, "pids.peak", "pids.peak")) {
        assert!(peak <= 64, "pids.peak {peak}");
    }

    // rm -f ends it all: the pid namespace dies with its init.
    s.ok(&["rm", "-f", "bomb"]);
    s.assert_no_containers();
    let dir = current.parent().unwrap().to_path_buf();
    wait_for("the bomb's cgroup to go", Duration::from_secs(10), || {
        !dir.exists()
    });
}

#[test]
fn memory_hog_is_oom_killed() {
    let mut s = Session::start();
    let since = now_secs().to_string();
    // Each doubling copies the string; 32 MiB and no swap is soon spent.
    let (_, err, code) = s.run(&[
        "run",
        "--name",
        "hog",
        "--memory",
        "32m",
        "--memory-swap",
        "32m",
        &s.w.image,
        "sh",
        "-c",
        "x=a; while true; do x=$x$x; done",
    ]);
    assert_eq!(code, 137, "{err}");
    assert_eq!(
        s.ok(&[
            "inspect",
            "-f",
            "{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}",
            "hog"
        ]),
        "true 137 exited\n"
    );
    let until = (now_secs() + 1).to_string();
    let oom = s.ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "event=oom",
        "--format",
        "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
    ]);
    assert_eq!(oom, "container oom hog\n");
    // berthd is still serving, and the next container runs normally.
    assert!(s.d.alive(), "berthd died");
    assert_eq!(s.inside(&["--memory", "32m"], &["echo", "fine"]), "fine\n");
    s.ok(&["rm", "hog"]);
    s.assert_no_containers();
}

#[test]
fn docker_cli_sees_the_same_defaults() {
    let mut s = Session::start();
    s.with_cli(docker_cli());
    check_caps_and_paths(&s, false);
    assert_eq!(
        s.inside(
            &["--sysctl", "kernel.shmmax=1073741824"],
            &["cat", "/proc/sys/kernel/shmmax"]
        ),
        "1073741824\n"
    );
    // docker refuses a non-namespaced key itself ("is not allowed", or
    // "is not whitelisted" before 23.0); a net.* one under the host's
    // network reaches berthd, which refuses it.
    let (_, err, code) = s.try_inside(&["--sysctl", "kernel.pid_max=100000"], &["true"]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("sysctl 'kernel.pid_max=100000' is not"),
        "{err}"
    );
    let (_, err, code) = s.try_inside(
        &["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
        &["true"],
    );
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains(r#"sysctl "net.ipv4.ip_forward" not allowed in host network namespace"#),
        "{err}"
    );
    s.assert_no_containers();
}

/// What the host cannot honour, or what is risky, comes back as Docker's
/// warnings on stderr (`WARNING: ...`), and the container still runs.
#[test]
fn create_warns_as_docker_does() {
    let s = Session::start();
    let (out, err, code) = s.try_inside(&["--oom-kill-disable"], &["echo", "ran"]);
    assert_eq!((code, out.trim()), (0, "ran"), "{err}");
    assert!(
        err.contains(
            "WARNING: OOM killer is disabled for the container, but no memory limit is set"
        ),
        "{err}"
    );
    let (_, err, code) = s.try_inside(&["--oom-kill-disable", "--memory", "64m"], &["true"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("OOM killer is disabled"), "{err}");
    let (_, err, code) = s.try_inside(&["--blkio-weight", "300"], &["true"]);
    assert_eq!(code, 0, "{err}");
    let supported = ["blkio.weight", "blkio.bfq.weight"]
        .iter()
        .any(|f| Path::new("/sys/fs/cgroup/blkio").join(f).exists());
    assert_eq!(
        err.contains("WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."),
        !supported,
        "{err}"
    );
    s.assert_no_containers();
}
