//! berth-runc end to end, as root, against the real kernel: what a
//! container observes, the lifecycle states, exec, console, hooks,
//! pause/resume, cgroup limits, and the two runtime CVE defences.

use std::fs;
use std::os::fd::AsFd;
use std::os::unix::net::UnixListener;
use std::time::Duration;

use integration_tests::{unique, Bundle, LeakCheck, RuntimeCli};
use serde_json::{json, Value};

/// Runs `script` in a fresh busybox container and returns (stdout, code).
fn run_script(script: &str, edit: impl FnOnce(&mut Value)) -> (String, String, i32) {
    let rt = RuntimeCli::berth();
    let mut b = Bundle::new(&["sh", "-c", script]);
    edit(&mut b.config);
    b.save();
    let _leak = LeakCheck::new(&b);
    rt.run(&b, &unique("run"))
}

#[test]
fn stdout_and_exit_code_propagate() {
    let (out, _, code) = run_script("echo hello; exit 7", |_| {});
    assert_eq!(out, "hello\n");
    assert_eq!(code, 7);
}

#[test]
fn init_is_pid_1_with_own_hostname_and_only_lo() {
    let (out, err, code) = run_script("echo $$; hostname; ls /sys/class/net", |c| {
        c["hostname"] = json!("boxy");
    });
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "1\nboxy\nlo\n");
}

#[test]
fn proc_is_mounted() {
    let (out, _, code) = run_script(
        "cat /proc/1/cmdline | tr '\\0' ' '; mount | grep -c '^proc on /proc '",
        |_| {},
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("sh -c"), "{out}");
    assert!(out.trim_end().ends_with('1'), "{out}");
}

#[test]
fn readonly_root_refuses_writes() {
    let (out, err, code) = run_script("touch /newfile 2>&1; echo rc=$?", |c| {
        c["root"]["readonly"] = json!(true);
    });
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Read-only file system") && out.contains("rc=1"),
        "{out}"
    );
}

#[test]
fn masked_and_readonly_paths() {
    let (out, err, code) = run_script(
        "wc -c < /proc/keys; ls /sys/firmware | wc -l; (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1; echo rc=$?",
        |c| {
            c["linux"]["maskedPaths"] = json!(["/proc/keys", "/sys/firmware"]);
            c["linux"]["readonlyPaths"] = json!(["/proc/sys"]);
        },
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0].trim(), "0", "/proc/keys not masked: {out}");
    assert_eq!(lines[1].trim(), "0", "/sys/firmware not masked: {out}");
    assert!(
        out.contains("Read-only file system") && out.contains("rc=1"),
        "{out}"
    );
}

#[test]
fn rlimit_is_visible() {
    let (out, _, code) = run_script("ulimit -n; ulimit -Hn", |c| {
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 432}]);
    });
    assert_eq!(code, 0);
    assert_eq!(out, "321\n432\n");
}

/// The bit mask of a set of capability numbers.
fn mask(bits: &[u32]) -> String {
    format!("{:016x}", bits.iter().fold(0u64, |m, b| m | (1 << b)))
}

#[test]
fn capability_sets_match_the_spec() {
    // CAP_CHOWN=0, CAP_KILL=5, CAP_NET_BIND_SERVICE=10
    let caps = json!(["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let (out, _, code) = run_script("grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status", |c| {
        c["process"]["capabilities"] =
            json!({"bounding": caps, "effective": caps, "permitted": caps});
    });
    assert_eq!(code, 0);
    let want = mask(&[0, 5, 10]);
    for line in out.lines() {
        assert!(line.ends_with(&want), "{line} != {want}\n{out}");
    }
    assert_eq!(out.lines().count(), 3);
}

#[test]
fn non_root_user_and_groups() {
    let (out, _, code) = run_script("id -u; id -g; id -G", |c| {
        c["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [50]});
    });
    assert_eq!(code, 0);
    assert_eq!(out, "1000\n1000\n1000 50\n");
}

#[test]
fn seccomp_rule_returns_eperm() {
    let (out, err, code) = run_script(
        "mkdir /tmp/x 2>&1; echo rc=$?; ls / > /dev/null && echo ok",
        |c| {
            c["linux"]["seccomp"] = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
            });
        },
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Operation not permitted") && out.contains("rc=1"),
        "{out}"
    );
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn sysctl_and_domainname() {
    let (out, err, code) = run_script(
        "cat /proc/sys/kernel/msgmax /proc/sys/kernel/domainname",
        |c| {
            c["linux"]["sysctl"] = json!({"kernel.msgmax": "12345"});
            c["domainname"] = json!("berth.test");
        },
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "12345\nberth.test\n");
}

#[test]
fn missing_executable_is_a_clear_error_and_leaves_nothing() {
    let rt = RuntimeCli::berth();
    let b = Bundle::new(&["nosuch"]);
    let _leak = LeakCheck::new(&b);
    let id = unique("noexec");
    let out = rt.output(&["create", "--bundle", b.path.to_str().unwrap(), &id]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"exec: "nosuch": executable file not found in $PATH"#),
        "{err}"
    );
    let st = rt.output(&["state", &id]);
    assert!(
        !st.status.success(),
        "state of a failed create must not exist"
    );
}

#[test]
fn malformed_config_names_the_field() {
    let rt = RuntimeCli::berth();
    let mut b = Bundle::new(&["true"]);
    b.config["process"]["user"]["uid"] = json!("root");
    b.save();
    let out = rt.output(&["run", "--bundle", b.path.to_str().unwrap(), &unique("bad")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("process.user.uid"), "{err}");
}

#[test]
fn lifecycle_goes_through_the_states() {
    let rt = RuntimeCli::berth();
    let b = Bundle::new(&["sleep", "1000"]);
    let _leak = LeakCheck::new(&b);
    let id = unique("life");
    let pid_file = b.path.join("init.pid");
    rt.ok(&[
        "create",
        "--bundle",
        b.path.to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
        &id,
    ]);
    assert_eq!(rt.status(&id), "created");
    let st: Value = serde_json::from_str(&rt.ok(&["state", &id])).unwrap();
    let pid = st["pid"].as_i64().unwrap();
    assert_eq!(fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    assert_eq!(st["id"], json!(id));
    assert_eq!(st["bundle"], json!(b.path.to_str().unwrap()));
    assert!(rt.ok(&["list", "-q"]).lines().any(|l| l == id));

    rt.ok(&["start", &id]);
    assert_eq!(rt.status(&id), "running");
    let start_again = rt.output(&["start", &id]);
    assert!(!start_again.status.success());

    let del = rt.output(&["delete", &id]);
    assert!(
        !del.status.success(),
        "delete of a running container needs --force"
    );
    assert!(String::from_utf8_lossy(&del.stderr).contains("not stopped"));

    rt.ok(&["kill", &id, "KILL"]);
    rt.wait_status(&id, "stopped");
    rt.ok(&["delete", &id]);
    assert!(!rt.output(&["state", &id]).status.success());
}

#[test]
fn delete_force_kills_a_running_container() {
    let rt = RuntimeCli::berth();
    let b = Bundle::new(&["sleep", "1000"]);
    let _leak = LeakCheck::new(&b);
    let id = rt.run_detached(&b, "force");
    assert_eq!(rt.status(&id), "running");
    rt.ok(&["delete", "--force", &id]);
}

#[test]
fn exec_into_a_running_container() {
    let rt = RuntimeCli::berth();
    let b = Bundle::new(&["sleep", "1000"]);
    let _leak = LeakCheck::new(&b);
    let id = rt.run_detached(&b, "exec");
    let out = rt.ok(&[
        "exec",
        "--env",
        "GREETING=hi",
        &id,
        "sh",
        "-c",
        "echo $GREETING from $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("hi from "), "{out}");
    assert_ne!(lines[0], "hi from 1");
    assert_eq!(lines[1].trim(), "sleep 1000");
    let code = rt
        .output(&["exec", &id, "sh", "-c", "exit 5"])
        .status
        .code();
    assert_eq!(code, Some(5));
    let missing = rt.output(&["exec", &id, "nosuch"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("executable file not found"));
    // `ps` sees both the init and a detached exec.
    rt.ok(&["exec", "-d", &id, "sleep", "500"]);
    let pids: Vec<i64> = serde_json::from_str(&rt.ok(&["ps", "--format", "json", &id])).unwrap();
    assert_eq!(pids.len(), 2, "{pids:?}");
    rt.ok(&["delete", "--force", &id]);
}

#[test]
fn exec_with_a_tty() {
    let rt = RuntimeCli::berth();
    let b = Bundle::new(&["sleep", "1000"]);
    let _leak = LeakCheck::new(&b);
    let id = rt.run_detached(&b, "exectty");
    let out = rt.ok(&[
        "exec",
        "-t",
        &id,
        "sh",
        "-c",
        "tty; test -t 0 && echo stdin-is-tty",
    ]);
    assert!(out.contains("/dev/pts/"), "{out}");
    assert!(out.contains("stdin-is-tty"), "{out}");
    rt.ok(&["delete", "--force", &id]);
}

#[test]
fn terminal_hands_the_pty_to_the_console_socket() {
    let rt = RuntimeCli::berth();
    let mut b = Bundle::new(&["sh", "-c", "tty; echo console-ok; sleep 1000"]);
    b.config["process"]["terminal"] = json!(true);
    b.save();
    let _leak = LeakCheck::new(&b);
    let sock = b.path.join("console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let id = unique("tty");
    let accept = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        berth_runtime::console::recv_fd(conn.as_fd()).unwrap()
    });
    rt.ok(&[
        "create",
        "--bundle",
        b.path.to_str().unwrap(),
        "--console-socket",
        sock.to_str().unwrap(),
        &id,
    ]);
    let master = accept.join().unwrap();
    rt.ok(&["start", &id]);
    let mut pty = fs::File::from(master);
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("console-ok") {
        let n = std::io::Read::read(&mut pty, &mut buf).unwrap();
        assert!(n > 0);
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("/dev/pts/0"), "{seen}");
    rt.ok(&["delete", "--force", &id]);
}

#[test]
fn hooks_run_in_order_with_state() {
    let rt = RuntimeCli::berth();
    let mut b = Bundle::new(&["true"]);
    let log = b.rootfs().join("hooks.log");
    let host_log = log.to_str().unwrap().to_string();
    let hook = |name: &str, path: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {path}.{name}.json; echo {name} >> {path}")]});
    b.config["hooks"] = json!({
        "prestart": [hook("prestart", &host_log)],
        "createRuntime": [hook("createRuntime", &host_log)],
        "createContainer": [hook("createContainer", &host_log)],
        // startContainer runs inside the pivoted container: container path.
        "startContainer": [hook("startContainer", "/hooks.log")],
        "poststart": [hook("poststart", &host_log)],
        "poststop": [hook("poststop", &host_log)],
    });
    b.save();
    let _leak = LeakCheck::new(&b);
    let id = unique("hooks");
    let (_, err, code) = rt.run(&b, &id);
    assert_eq!(code, 0, "{err}");
    let order = fs::read_to_string(&log).unwrap();
    assert_eq!(
        order,
        "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop\n"
    );
    let state: Value =
        serde_json::from_slice(&fs::read(format!("{host_log}.prestart.json")).unwrap()).unwrap();
    assert_eq!(state["id"], json!(id));
    assert_eq!(state["status"], json!("creating"));
    assert!(state["pid"].as_i64().unwrap() > 1);
}

#[test]
fn failing_hook_fails_create_and_cleans_up() {
    let rt = RuntimeCli::berth();
    let mut b = Bundle::new(&["true"]);
    b.config["hooks"] = json!({"createRuntime": [{"path": "/bin/false"}]});
    b.save();
    let _leak = LeakCheck::new(&b);
    let (_, err, code) = rt.run(&b, &unique("badhook"));
    assert_ne!(code, 0);
    assert!(err.contains("createRuntime hook #0"), "{err}");
}

#[test]
fn pause_freezes_and_resume_thaws() {
    let rt = RuntimeCli::berth();
    // Written via rename so a freeze can never leave the file half-written.
    let b = Bundle::new(&[
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/count; done",
    ]);
    let _leak = LeakCheck::new(&b);
    let id = rt.run_detached(&b, "pause");
    let count = || {
        let text = fs::read_to_string(b.rootfs().join("tmp/count")).unwrap_or_default();
        text.trim().parse::<u64>().unwrap_or(0)
    };
    std::thread::sleep(Duration::from_millis(100));
    rt.ok(&["pause", &id]);
    assert_eq!(rt.status(&id), "paused");
    assert_eq!(
        fs::read_to_string(b.cgroup_dir("freezer").join("freezer.state"))
            .unwrap()
            .trim(),
        "FROZEN"
    );
    let frozen = count();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(count(), frozen, "counter moved while paused");
    rt.ok(&["resume", &id]);
    assert_eq!(rt.status(&id), "running");
    std::thread::sleep(Duration::from_millis(200));
    assert!(count() > frozen, "counter did not move after resume");
    rt.ok(&["delete", "--force", &id]);
}

#[test]
fn memory_and_pids_limits_land_in_the_cgroup() {
    let rt = RuntimeCli::berth();
    let mut b = Bundle::new(&["sleep", "1000"]);
    b.config["linux"]["resources"] = json!({
        "memory": {"limit": 67108864},
        "pids": {"limit": 42},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}
    });
    b.config["linux"]["resources"]["memory"]["reservation"] = json!(33554432);
    b.save();
    let _leak = LeakCheck::new(&b);
    let id = unique("limits");
    rt.ok(&["create", "--bundle", b.path.to_str().unwrap(), &id]);
    let read = |ctrl: &str, file: &str| {
        fs::read_to_string(b.cgroup_dir(ctrl).join(file))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(read("memory", "memory.limit_in_bytes"), "67108864");
    assert_eq!(read("pids", "pids.max"), "42");
    assert_eq!(read("cpu", "cpu.shares"), "512");
    assert_eq!(read("cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(read("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(read("cpuset", "cpuset.cpus"), "0");
    assert_eq!(read("memory", "memory.soft_limit_in_bytes"), "33554432");
    let st: Value = serde_json::from_str(&rt.ok(&["state", &id])).unwrap();
    assert!(read("memory", "cgroup.procs").contains(&st["pid"].to_string()));
    rt.ok(&["delete", &id]);
}

#[test]
fn pids_limit_is_enforced() {
    // The loop waits a second so grep is forked before the sleeps use up
    // the limit (else the shell itself cannot fork grep and exits 2).
    let (out, _, code) = run_script("{ sleep 1; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; } 2>&1 | grep -c 'Resource temporarily unavailable\\|can.t fork'; true", |c| {
        c["linux"]["resources"] = json!({"pids": {"limit": 5}});
    });
    assert_eq!(code, 0);
    assert!(
        out.trim().parse::<u32>().unwrap_or(0) > 0,
        "forks beyond the limit did not fail: {out}"
    );
}

#[test]
fn no_host_fd_leaks_into_the_container() {
    let rt = RuntimeCli::berth();
    let b = Bundle::new(&["ls", "/proc/self/fd"]);
    let _leak = LeakCheck::new(&b);
    let mut cmd = rt.cmd(&["run", "--bundle", b.path.to_str().unwrap(), &unique("fds")]);
    // Hand berth-runc an inheritable fd, as a careless caller would.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let fd = libc::open(c"/etc/hostname".as_ptr(), libc::O_RDONLY);
            if fd >= 0 && fd != 9 {
                libc::dup2(fd, 9);
                libc::close(fd);
            }
            Ok(())
        });
    }
    let out = integration_tests::output_via_files(cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fds: Vec<u32> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    // 0-2 are stdio and 3 is ls's own handle on the directory.
    assert!(fds.iter().all(|fd| *fd <= 3), "leaked fds: {fds:?}");
}

#[test]
fn runtime_binary_cannot_be_overwritten_from_the_container() {
    // CVE-2019-5736: a process in the container grabs the runtime's binary
    // through /proc/<init>/exe while the init is still the runtime (here in
    // a startContainer hook), then writes to it once the runtime has exited.
    // A private copy of berth-runc is used, so no other test's process keeps
    // it busy (ETXTBSY would hide a missing defence).
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("berth-runc");
    fs::copy(integration_tests::workspace_bin("berth-runc"), &copy).unwrap();
    let before = fs::read(&copy).unwrap();
    let rt = RuntimeCli::with_bin(copy.clone());
    let mut b = Bundle::new(&["sleep", "1000"]);
    let attack = "exec 3< /proc/$PPID/exe; readlink /proc/$PPID/exe > /exe-link; \
        (sleep 1; echo pwned 2> /exe-err >> /proc/self/fd/3; echo $? > /exe-rc.tmp; mv /exe-rc.tmp /exe-rc) \
        > /dev/null 2>&1 &";
    b.config["hooks"] =
        json!({"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", attack]}]});
    b.save();
    let _leak = LeakCheck::new(&b);
    let id = rt.run_detached(&b, "cve");
    let rc_file = b.rootfs().join("exe-rc");
    for _ in 0..100 {
        if rc_file.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let rc = fs::read_to_string(&rc_file).expect("the attack ran");
    let link = fs::read_to_string(b.rootfs().join("exe-link")).unwrap();
    let err = fs::read_to_string(b.rootfs().join("exe-err")).unwrap();
    rt.ok(&["delete", "--force", &id]);
    assert_ne!(rc.trim(), "0", "write through {link} succeeded");
    assert!(
        err.contains("Read-only") || err.contains("not permitted"),
        "{err}"
    );
    assert_eq!(fs::read(&copy).unwrap(), before, "runtime binary changed");
}

#[test]
fn systemd_cgroup_is_refused_clearly() {
    let rt = RuntimeCli::berth();
    let out = rt.output(&["--systemd-cgroup", "list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not supported"));
}

#[test]
fn spec_writes_a_loadable_config() {
    let dir = tempfile::tempdir().unwrap();
    let rt = RuntimeCli::berth();
    rt.ok(&["spec", "--bundle", dir.path().to_str().unwrap()]);
    let c: Value =
        serde_json::from_slice(&fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(c["process"]["args"], json!(["sh"]));
    assert!(!rt
        .output(&["spec", "--bundle", dir.path().to_str().unwrap()])
        .status
        .success());
}

#[test]
fn cwd_through_a_leaked_fd_is_refused() {
    // CVE-2024-21626: the caller leaks a host directory fd into the runtime
    // and the config points process.cwd at it through /proc/self/fd.
    let rt = RuntimeCli::berth();
    let mut b = Bundle::new(&["sh", "-c", "ls /etc/hostname /proc/1/root/etc/os-release"]);
    b.config["process"]["cwd"] = json!("/proc/self/fd/9");
    b.save();
    let _leak = LeakCheck::new(&b);
    let mut cmd = rt.cmd(&["run", "--bundle", b.path.to_str().unwrap(), &unique("cwd")]);
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let fd = libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            if fd >= 0 && fd != 9 {
                libc::dup2(fd, 9);
                libc::close(fd);
            }
            Ok(())
        });
    }
    let out = integration_tests::output_via_files(cmd);
    assert!(!out.status.success(), "container started with a host cwd");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("outside of the container's root") || err.contains("chdir"),
        "{err}"
    );
}

#[test]
fn joins_another_containers_namespaces_by_path() {
    let rt = RuntimeCli::berth();
    let mut a = Bundle::new(&["sleep", "1000"]);
    a.config["hostname"] = json!("first");
    a.save();
    let _leak_a = LeakCheck::new(&a);
    let id_a = rt.run_detached(&a, "nsa");
    let st: Value = serde_json::from_str(&rt.ok(&["state", &id_a])).unwrap();
    let pid = st["pid"].as_i64().unwrap();

    let mut b = Bundle::new(&[
        "sh",
        "-c",
        "hostname; ps -o comm | grep -c sleep; readlink /proc/self/ns/net",
    ]);
    let ns = b.config["linux"]["namespaces"].as_array_mut().unwrap();
    ns.retain(|n| !["uts", "pid", "network"].contains(&n["type"].as_str().unwrap()));
    for (t, name) in [("uts", "uts"), ("pid", "pid"), ("network", "net")] {
        ns.push(json!({"type": t, "path": format!("/proc/{pid}/ns/{name}")}));
    }
    b.config.as_object_mut().unwrap().remove("hostname");
    b.save();
    let _leak_b = LeakCheck::new(&b);
    let (out, err, code) = rt.run(&b, &unique("nsb"));
    let a_net = fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    rt.ok(&["delete", "--force", &id_a]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "first", "uts not joined: {out}");
    assert_eq!(lines[1], "1", "pid namespace not joined: {out}");
    assert_eq!(lines[2], a_net.to_str().unwrap(), "net not joined: {out}");
}

#[test]
fn user_namespace_maps_root_to_an_unprivileged_host_uid() {
    let rt = RuntimeCli::berth();
    let mut b = Bundle::new(&[
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map; touch /tmp/made-inside; sleep 1000",
    ]);
    // The mapped root (host uid 100000) may write only where it owns the dir.
    // (Only /tmp: the bundle's symlinks are hard links into the template.)
    std::os::unix::fs::chown(b.rootfs().join("tmp"), Some(100000), Some(100000)).unwrap();
    b.config["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "user"}));
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.save();
    let _leak = LeakCheck::new(&b);
    let id = unique("userns");
    // The detached container keeps writing to the runtime's stdout: a file.
    let out_file = b.path.join("out");
    let err_file = b.path.join("err");
    let mut cmd = rt.cmd(&["run", "-d", "--bundle", b.path.to_str().unwrap(), &id]);
    cmd.stdout(fs::File::create(&out_file).unwrap())
        .stderr(fs::File::create(&err_file).unwrap());
    let status = cmd.status().unwrap();
    assert!(
        status.success(),
        "{}",
        fs::read_to_string(&err_file).unwrap_or_default()
    );
    let st: Value = serde_json::from_str(&rt.ok(&["state", &id])).unwrap();
    let pid = st["pid"].as_i64().unwrap();
    let host_uid = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    for _ in 0..100 {
        if b.rootfs().join("tmp/made-inside").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = fs::read_to_string(&out_file).unwrap();
    rt.ok(&["delete", "--force", &id]);
    assert!(out.starts_with("0\n"), "{out}");
    assert!(out.contains("100000"), "{out}");
    assert!(
        host_uid
            .lines()
            .any(|l| l.starts_with("Uid:") && l.contains("100000")),
        "{host_uid}"
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(b.rootfs().join("tmp/made-inside"))
            .unwrap()
            .uid(),
        100000
    );
}

#[test]
fn bind_tmpfs_and_device_mounts_and_no_pivot() {
    let rt = RuntimeCli::berth();
    let host = tempfile::tempdir().unwrap();
    fs::write(host.path().join("data"), "from-host\n").unwrap();
    let mut b = Bundle::new(&[
        "sh",
        "-c",
        "cat /mnt/ro/data; (touch /mnt/ro/x) 2>&1 | grep -c Read-only; \
        touch /mnt/rw/y && echo wrote; grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4; \
        stat -c '%F %t %T' /dev/mynull; echo hi > /dev/mynull && echo dev-ok",
    ]);
    let mounts = b.config["mounts"].as_array_mut().unwrap();
    mounts.push(json!({"destination": "/mnt/ro", "type": "bind", "source": host.path(), "options": ["rbind", "ro", "nosuid", "nodev", "rprivate"]}));
    mounts.push(json!({"destination": "/mnt/rw", "type": "bind", "source": host.path(), "options": ["bind"]}));
    mounts.push(json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777", "noexec"]}));
    b.config["linux"]["devices"] =
        json!([{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 438}]);
    b.save();
    let _leak = LeakCheck::new(&b);
    let out = rt.output(&[
        "run",
        "--no-pivot",
        "--bundle",
        b.path.to_str().unwrap(),
        &unique("mounts"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "from-host");
    assert_eq!(lines[1], "1", "ro bind was writable: {text}");
    assert_eq!(lines[2], "wrote");
    assert!(
        lines[3].starts_with("tmpfs ")
            && lines[3].contains("noexec")
            && lines[3].contains("size=1024k"),
        "{text}"
    );
    assert_eq!(lines[4], "character special file 1 3");
    assert_eq!(lines[5], "dev-ok");
    assert!(host.path().join("y").exists());
}

#[test]
fn exec_with_process_json_cwd_and_user() {
    let rt = RuntimeCli::berth();
    let b = Bundle::new(&["sleep", "1000"]);
    let _leak = LeakCheck::new(&b);
    let id = rt.run_detached(&b, "execp");
    let out = rt.ok(&[
        "exec",
        "--cwd",
        "/tmp",
        "--user",
        "1000:1000",
        &id,
        "sh",
        "-c",
        "pwd; id -u",
    ]);
    assert_eq!(out, "/tmp\n1000\n");
    let process = b.path.join("process.json");
    fs::write(&process, serde_json::to_vec(&json!({
        "args": ["sh", "-c", "echo $FROM_JSON; id -u"], "cwd": "/", "env": ["FROM_JSON=yes", "PATH=/bin"],
        "user": {"uid": 65534, "gid": 65534}
    })).unwrap()).unwrap();
    let out = rt.ok(&["exec", "--process", process.to_str().unwrap(), &id]);
    assert_eq!(out, "yes\n65534\n");
    rt.ok(&["delete", "--force", &id]);
}

#[test]
fn json_log_records_errors() {
    let rt = RuntimeCli::berth();
    let log = tempfile::NamedTempFile::new().unwrap();
    let out = rt.output(&[
        "--log",
        log.path().to_str().unwrap(),
        "--log-format",
        "json",
        "state",
        "absent",
    ]);
    assert!(!out.status.success());
    let text = fs::read_to_string(log.path()).unwrap();
    let line: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(line["level"], json!("ERROR"));
    assert!(
        line["message"].as_str().unwrap().contains("absent"),
        "{text}"
    );
}
