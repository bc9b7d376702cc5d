//! Flags -> create request, through the real clap grammar.

use std::path::Path;

use clap::Parser;
use serde_json::json;

use crate::cli::{Cli, Command};

use super::CreateSpec;

fn spec(args: &[&str]) -> Result<CreateSpec, String> {
    let mut argv = vec!["berth", "run"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let Command::Run(run) = cli.command else {
        panic!("not run")
    };
    let (image, cmd) = run.args.split_first().unwrap();
    run.options
        .to_spec(image, cmd, !run.detach, Path::new("/cwd"), Some([24, 80]))
}

fn body(args: &[&str]) -> serde_json::Value {
    serde_json::to_value(spec(args).unwrap().request).unwrap()
}

#[test]
fn image_and_command_split_at_the_first_positional() {
    let s = spec(&["-i", "busybox", "ls", "-la", "-i"]).unwrap();
    let c = &s.request.config;
    assert_eq!(c.image, "busybox");
    assert_eq!(c.cmd.as_ref().unwrap().0, ["ls", "-la", "-i"]);
    assert!(c.open_stdin && c.attach_stdin && c.stdin_once && c.attach_stdout && c.attach_stderr);
    assert!(!c.tty);
    // Without a command, Cmd is null (the image's applies).
    let v = body(&["busybox"]);
    assert_eq!(v["Cmd"], serde_json::Value::Null);
    assert_eq!(v["Env"], json!([]));
    // Detached: nothing attached.
    let v = body(&["-d", "-i", "busybox"]);
    assert_eq!(
        (
            v["AttachStdin"].clone(),
            v["AttachStdout"].clone(),
            v["OpenStdin"].clone()
        ),
        (json!(false), json!(false), json!(true))
    );
}

#[test]
fn ports_volumes_and_mounts() {
    let v = body(&[
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1:53:53/udp",
        "--expose",
        "9000-9001",
        "-P",
        "-v",
        "/host:/ctr:ro",
        "-v",
        "/anon",
        "-v",
        "./rel:/rel",
        "--mount",
        "type=tmpfs,target=/scratch,tmpfs-size=1m",
        "--tmpfs",
        "/run:size=64m",
        "busybox",
    ]);
    assert_eq!(
        v["ExposedPorts"],
        json!({"80/tcp": {}, "53/udp": {}, "9000/tcp": {}, "9001/tcp": {}})
    );
    assert_eq!(
        v["HostConfig"]["PortBindings"],
        json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "53"}]})
    );
    assert_eq!(v["HostConfig"]["PublishAllPorts"], true);
    assert_eq!(
        v["HostConfig"]["Binds"],
        json!(["/host:/ctr:ro", "/cwd/rel:/rel"])
    );
    assert_eq!(v["Volumes"], json!({"/anon": {}}));
    assert_eq!(
        v["HostConfig"]["Mounts"],
        json!([{"Type": "tmpfs", "Target": "/scratch", "TmpfsOptions": {"SizeBytes": 1048576}}])
    );
    assert_eq!(v["HostConfig"]["Tmpfs"], json!({"/run": "size=64m"}));
}

#[test]
fn resources_and_security() {
    let v = body(&[
        "-m",
        "64m",
        "--memory-swap",
        "-1",
        "--cpus",
        "1.5",
        "--cpu-shares",
        "512",
        "--cpuset-cpus",
        "0-1",
        "--pids-limit",
        "100",
        "--ulimit",
        "nofile=1024:2048",
        "--shm-size",
        "128m",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "ALL",
        "--privileged",
        "--read-only",
        "--security-opt",
        "no-new-privileges",
        "--security-opt",
        "apparmor:unconfined",
        "--init",
        "--stop-signal",
        "SIGINT",
        "--stop-timeout",
        "5",
        "--device",
        "/dev/fuse",
        "--group-add",
        "audio",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--log-driver",
        "json-file",
        "--log-opt",
        "max-size=10m",
        "--restart",
        "on-failure:3",
        "busybox",
    ]);
    let h = &v["HostConfig"];
    assert_eq!(h["Memory"], 64 << 20);
    assert_eq!(h["MemorySwap"], -1);
    assert_eq!(h["NanoCpus"], 1_500_000_000i64);
    assert_eq!(h["CpuShares"], 512);
    assert_eq!(h["CpusetCpus"], "0-1");
    assert_eq!(h["PidsLimit"], 100);
    assert_eq!(
        h["Ulimits"],
        json!([{"Name": "nofile", "Soft": 1024, "Hard": 2048}])
    );
    assert_eq!(h["ShmSize"], 128 << 20);
    assert_eq!(h["CapAdd"], json!(["NET_ADMIN"]));
    assert_eq!(h["CapDrop"], json!(["ALL"]));
    assert_eq!(
        (h["Privileged"].clone(), h["ReadonlyRootfs"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        h["SecurityOpt"],
        json!(["no-new-privileges", "apparmor=unconfined"])
    );
    assert_eq!(h["Init"], true);
    assert_eq!(v["StopSignal"], "SIGINT");
    assert_eq!(v["StopTimeout"], 5);
    assert_eq!(
        h["Devices"],
        json!([{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}])
    );
    assert_eq!(h["GroupAdd"], json!(["audio"]));
    assert_eq!(h["Sysctls"], json!({"net.ipv4.ip_forward": "1"}));
    assert_eq!(
        h["LogConfig"],
        json!({"Type": "json-file", "Config": {"max-size": "10m"}})
    );
    assert_eq!(
        h["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 3})
    );
    // No --init: the daemon's default (absent).
    assert!(body(&["busybox"])["HostConfig"].get("Init").is_none());
}

#[test]
fn identity_env_and_misc() {
    std::env::set_var("BERTH_OPTS_TEST", "passed");
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env");
    std::fs::write(&env_file, "# c\nFROM_FILE=1\n").unwrap();
    let v = body(&[
        "--name",
        "web",
        "-h",
        "box",
        "-u",
        "1000:1000",
        "-w",
        "/srv",
        "-e",
        "A=1",
        "-e",
        "BERTH_OPTS_TEST",
        "--env-file",
        env_file.to_str().unwrap(),
        "-l",
        "tier=web",
        "--label",
        "solo",
        "--network",
        "host",
        "--add-host",
        "db:10.0.0.2",
        "--dns",
        "8.8.8.8",
        "--entrypoint",
        "/bin/sh",
        "-t",
        "--platform",
        "linux/amd64",
        "--rm",
        "busybox",
    ]);
    assert_eq!(v["Hostname"], "box");
    assert_eq!(v["User"], "1000:1000");
    assert_eq!(v["WorkingDir"], "/srv");
    assert_eq!(
        v["Env"],
        json!(["FROM_FILE=1", "A=1", "BERTH_OPTS_TEST=passed"])
    );
    assert_eq!(v["Labels"], json!({"tier": "web", "solo": ""}));
    assert_eq!(v["Entrypoint"], json!(["/bin/sh"]));
    assert_eq!(v["Tty"], true);
    let h = &v["HostConfig"];
    assert_eq!(h["NetworkMode"], "host");
    assert_eq!(h["ExtraHosts"], json!(["db:10.0.0.2"]));
    assert_eq!(h["Dns"], json!(["8.8.8.8"]));
    assert_eq!(h["AutoRemove"], true);
    assert_eq!(h["ConsoleSize"], json!([24, 80]));
    let s = spec(&["--name", "web", "--platform", "linux/amd64", "busybox"]).unwrap();
    assert_eq!(s.name.as_deref(), Some("web"));
    assert_eq!(s.platform.as_deref(), Some("linux/amd64"));
    // An empty --entrypoint resets the image's.
    assert_eq!(
        body(&["--entrypoint", "", "busybox"])["Entrypoint"],
        json!([""])
    );
    // Without -t the console size is not sent.
    assert_eq!(
        body(&["busybox"])["HostConfig"]["ConsoleSize"],
        json!([0, 0])
    );
}

#[test]
fn healthchecks() {
    let v = body(&[
        "--health-cmd",
        "curl -f localhost",
        "--health-interval",
        "30s",
        "--health-timeout",
        "1m30s",
        "--health-retries",
        "3",
        "--health-start-period",
        "500ms",
        "busybox",
    ]);
    assert_eq!(
        v["Healthcheck"],
        json!({"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 30_000_000_000i64,
               "Timeout": 90_000_000_000i64, "StartPeriod": 500_000_000, "Retries": 3})
    );
    assert_eq!(
        body(&["--no-healthcheck", "busybox"])["Healthcheck"],
        json!({"Test": ["NONE"]})
    );
    assert!(body(&["busybox"]).get("Healthcheck").is_none());
}

#[test]
fn bad_values_name_the_flag() {
    let e = spec(&["-p", "80/xtp", "busybox"]).unwrap_err();
    assert_eq!(
        e,
        "invalid argument \"80/xtp\" for \"--publish\" flag: invalid proto: xtp"
    );
    let e = spec(&["-m", "12x", "busybox"]).unwrap_err();
    assert!(
        e.starts_with("invalid argument \"12x\" for \"--memory\" flag"),
        "{e}"
    );
    let e = spec(&["--health-interval", "30", "busybox"]).unwrap_err();
    assert!(e.contains("missing unit"), "{e}");
    assert_eq!(
        spec(&["--health-interval", "-1s", "busybox"]).unwrap_err(),
        "--health-interval cannot be negative"
    );
    assert_eq!(
        spec(&["--no-healthcheck", "--health-cmd", "x", "busybox"]).unwrap_err(),
        "--no-healthcheck conflicts with --health-* options"
    );
    assert_eq!(
        spec(&["--rm", "--restart", "always", "busybox"]).unwrap_err(),
        "conflicting options: cannot specify both --restart and --rm"
    );
    assert!(spec(&["--cpus", "lots", "busybox"])
        .unwrap_err()
        .contains("--cpus"));
    assert!(spec(&["--ulimit", "nofile", "busybox"])
        .unwrap_err()
        .contains("--ulimit"));
    assert!(spec(&["--dns", "resolver", "busybox"])
        .unwrap_err()
        .contains("--dns"));
    assert!(spec(&["--env-file", "/nonexistent/env", "busybox"])
        .unwrap_err()
        .contains("no such file or directory"));
    assert!(
        spec(&["--security-opt", "seccomp=/nonexistent.json", "busybox"])
            .unwrap_err()
            .contains("seccomp profile")
    );
    // clap refuses what the grammar refuses.
    assert!(spec(&["--pull", "sometimes", "busybox"]).is_err());
    assert!(spec(&["--bogus", "busybox"]).is_err());
    assert!(spec(&[]).is_err());
}

#[test]
fn seccomp_profiles_travel_inline() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("profile.json");
    std::fs::write(&p, "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n").unwrap();
    let v = body(&[
        "--security-opt",
        &format!("seccomp={}", p.display()),
        "busybox",
    ]);
    assert_eq!(
        v["HostConfig"]["SecurityOpt"],
        json!(["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"])
    );
}

#[test]
fn repeated_key_values_become_a_map_or_dockers_error() {
    let ok = super::parse::key_values("--opt", &["a=1".into(), "b=x=y".into()]).unwrap();
    assert_eq!(ok.get("a").map(String::as_str), Some("1"));
    assert_eq!(ok.get("b").map(String::as_str), Some("x=y"));
    let e = super::parse::key_values("--opt", &["novalue".into()]).unwrap_err();
    assert_eq!(
        e.message.as_deref(),
        Some("invalid argument \"novalue\" for \"--opt\" flag: invalid key=value: novalue")
    );
}
