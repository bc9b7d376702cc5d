use super::*;
use crate::config::{Mount as CfgMount, Ulimit};
use berth_errdefs::{ErrorKind, HasKind};
use oci_spec::runtime::Capability;
use std::fs;

const ID: &str = "4f3c2b1a0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a";

struct Fixture {
    _tmp: tempfile::TempDir,
    rootfs: PathBuf,
    dir: PathBuf,
    resolv: PathBuf,
    image: ImageConfigFile,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    fs::create_dir_all(rootfs.join("etc")).unwrap();
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n# comment\n\
         daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
         alice:x:1000:1000:Alice:/home/alice:/bin/sh\nbroken:line\n",
    )
    .unwrap();
    fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\ndaemon:x:1:\nwheel:x:10:alice,root\naudio:x:29:alice\nalice:x:1000:\nstaff:x:50:\n",
    )
    .unwrap();
    let dir = tmp.path().join("containers").join(ID);
    let resolv = tmp.path().join("host-resolv.conf");
    fs::write(
        &resolv,
        "# host\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nsearch corp.example\noptions edns0\n",
    )
    .unwrap();
    let image = ImageConfigFile::parse(
        br#"{"architecture":"amd64","os":"linux",
            "config":{"Env":["PATH=/usr/bin:/bin","LANG=C","IMG=1"],"Cmd":["sh"],"WorkingDir":"/srv",
                      "Labels":{"from":"image"}},
            "rootfs":{"type":"layers","diff_ids":[]}}"#,
    )
    .unwrap();
    Fixture {
        _tmp: tmp,
        rootfs,
        dir,
        resolv,
        image,
    }
}

fn build(f: &Fixture, config: &Config, host: &HostConfig) -> Result<Spec> {
    let mut input = SpecInput::new(ID, &f.image, config, host, &f.rootfs, &f.dir);
    input.host_resolv_conf = &f.resolv;
    build_spec(&input)
}

fn caps_of(spec: &Spec) -> HashSet<Capability> {
    spec.process()
        .as_ref()
        .unwrap()
        .capabilities()
        .as_ref()
        .unwrap()
        .bounding()
        .clone()
        .unwrap()
}

use std::collections::HashSet;

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn ss(v: &[&str]) -> Option<StrSlice> {
    Some(StrSlice(strs(v)))
}

#[test]
fn env_merge() {
    let merged = merge_env(&strs(&["A=1", "B=2", "C=3"]), &strs(&["B=20", "D=4", "C"]));
    assert_eq!(merged, strs(&["A=1", "B=20", "D=4"]));
    assert_eq!(merge_env(&[], &strs(&["X=1"])), strs(&["X=1"]));

    let f = fixture();
    let config = Config {
        env: Some(strs(&["LANG=en_US.UTF-8", "MINE=yes"])),
        tty: true,
        ..Default::default()
    };
    let spec = build(&f, &config, &HostConfig::default()).unwrap();
    let env = spec.process().as_ref().unwrap().env().clone().unwrap();
    assert_eq!(
        env,
        strs(&[
            "PATH=/usr/bin:/bin",
            &format!("HOSTNAME={}", &ID[..12]),
            "TERM=xterm",
            "LANG=en_US.UTF-8",
            "IMG=1",
            "MINE=yes",
            "HOME=/root",
        ])
    );
}

fn args_for(
    image_ep: Option<&[&str]>,
    image_cmd: Option<&[&str]>,
    ep: Option<&[&str]>,
    cmd: Option<&[&str]>,
) -> Result<Vec<String>> {
    let image = ContainerConfig {
        entrypoint: image_ep.map(strs),
        cmd: image_cmd.map(strs),
        ..Default::default()
    };
    let mut config = Config {
        entrypoint: ep.map(|e| StrSlice(strs(e))),
        cmd: cmd.map(|c| StrSlice(strs(c))),
        ..Default::default()
    };
    merge_image_config(&mut config, &image);
    // Merging twice changes nothing.
    let once = config.clone();
    merge_image_config(&mut config, &image);
    assert_eq!(once, config);
    resolve_command(&config)
}

#[test]
fn entrypoint_cmd_matrix() {
    let iep: Option<&[&str]> = Some(&["/entry", "-x"]);
    let icmd: Option<&[&str]> = Some(&["serve"]);
    // Nothing from the container: image entrypoint + image cmd.
    assert_eq!(
        args_for(iep, icmd, None, None).unwrap(),
        strs(&["/entry", "-x", "serve"])
    );
    // Container cmd replaces the image's cmd, keeps its entrypoint.
    assert_eq!(
        args_for(iep, icmd, None, Some(&["run"])).unwrap(),
        strs(&["/entry", "-x", "run"])
    );
    // Container entrypoint replaces the image's and drops the image cmd.
    assert_eq!(
        args_for(iep, icmd, Some(&["/mine"]), None).unwrap(),
        strs(&["/mine"])
    );
    // ... and takes the container's cmd.
    assert_eq!(
        args_for(iep, icmd, Some(&["/mine"]), Some(&["a"])).unwrap(),
        strs(&["/mine", "a"])
    );
    // `--entrypoint ""` clears the entrypoint; the container cmd runs.
    assert_eq!(
        args_for(iep, icmd, Some(&[""]), Some(&["echo", "hi"])).unwrap(),
        strs(&["echo", "hi"])
    );
    // Image with only a cmd.
    assert_eq!(args_for(None, icmd, None, None).unwrap(), strs(&["serve"]));
    assert_eq!(
        args_for(None, icmd, None, Some(&["ls"])).unwrap(),
        strs(&["ls"])
    );
    // Explicit empty entrypoint: keep no entrypoint but inherit the cmd.
    assert_eq!(
        args_for(iep, icmd, Some(&[]), None).unwrap(),
        strs(&["serve"])
    );
    // Nothing at all.
    for r in [
        args_for(None, None, None, None),
        args_for(iep, icmd, Some(&[""]), None),
        args_for(None, None, None, Some(&[])),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(e.to_string(), "no command specified");
    }
}

#[test]
fn working_dir_rules() {
    let f = fixture();
    let spec = build(&f, &Config::default(), &HostConfig::default()).unwrap();
    assert_eq!(spec.process().as_ref().unwrap().cwd(), Path::new("/srv"));
    let c = Config {
        working_dir: "/a/./b/../c/".into(),
        ..Default::default()
    };
    let spec = build(&f, &c, &HostConfig::default()).unwrap();
    assert_eq!(spec.process().as_ref().unwrap().cwd(), Path::new("/a/c"));
    let none = Config::default();
    assert_eq!(resolve_working_dir(&none).unwrap(), "/");
    let rel = Config {
        working_dir: "rel".into(),
        ..Default::default()
    };
    let e = build(&f, &rel, &HostConfig::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(
        e.to_string(),
        "the working directory 'rel' is invalid, it needs to be an absolute path"
    );
}

#[test]
fn user_resolution() {
    let f = fixture();
    let r = |u: &str, ga: &[&str]| user::resolve_user(&f.rootfs, u, &strs(ga));
    let root = r("", &[]).unwrap();
    assert_eq!((root.uid, root.gid, root.home.as_str()), (0, 0, "/root"));
    assert_eq!(root.additional_gids, vec![10]);

    let alice = r("alice", &[]).unwrap();
    assert_eq!((alice.uid, alice.gid), (1000, 1000));
    assert_eq!(alice.additional_gids, vec![10, 29]);
    assert_eq!(alice.home, "/home/alice");

    let by_uid = r("1000", &[]).unwrap();
    assert_eq!((by_uid.uid, by_uid.gid), (1000, 1000));

    let unknown_uid = r("4242", &[]).unwrap();
    assert_eq!(
        (unknown_uid.uid, unknown_uid.gid, unknown_uid.home.as_str()),
        (4242, 0, "/")
    );

    let uid_gid = r("1000:50", &[]).unwrap();
    assert_eq!((uid_gid.uid, uid_gid.gid), (1000, 50));
    assert!(
        uid_gid.additional_gids.is_empty(),
        "explicit group: no implicit groups"
    );

    let name_group = r("alice:staff", &[]).unwrap();
    assert_eq!((name_group.uid, name_group.gid), (1000, 50));

    let numeric_free = r("5:777", &[]).unwrap();
    assert_eq!((numeric_free.uid, numeric_free.gid), (5, 777));

    let with_add = r("daemon", &["audio", "4000"]).unwrap();
    assert_eq!((with_add.uid, with_add.gid), (1, 1));
    assert_eq!(with_add.additional_gids, vec![29, 4000]);

    let e = r("xyz", &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(
        e.to_string(),
        "unable to find user xyz: no matching entries in passwd file"
    );
    let e = r("alice:nogroup", &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unable to find group nogroup: no matching entries in group file"
    );
    let e = r("alice", &["nosuch"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Unable to find group nosuch: no matching entries in group file"
    );

    // Through the spec.
    let c = Config {
        user: "alice".into(),
        ..Default::default()
    };
    let h = HostConfig {
        group_add: Some(strs(&["staff"])),
        ..Default::default()
    };
    let spec = build(&f, &c, &h).unwrap();
    let u = spec.process().as_ref().unwrap().user().clone();
    assert_eq!((u.uid(), u.gid()), (1000, 1000));
    assert_eq!(u.additional_gids().clone().unwrap(), vec![10, 29, 50]);
    assert!(spec
        .process()
        .as_ref()
        .unwrap()
        .env()
        .as_ref()
        .unwrap()
        .contains(&"HOME=/home/alice".to_string()));
}

#[test]
fn symlinked_passwd_outside_the_rootfs_is_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    // A "host" passwd with a user the image does not have.
    let host_etc = tmp.path().join("hostetc");
    fs::create_dir_all(&host_etc).unwrap();
    fs::write(host_etc.join("passwd"), "mallory:x:666:666::/m:/bin/sh\n").unwrap();
    let rootfs = tmp.path().join("rootfs");
    fs::create_dir_all(rootfs.join("etc")).unwrap();

    // Absolute link: resolved inside the rootfs, where nothing exists.
    std::os::unix::fs::symlink(host_etc.join("passwd"), rootfs.join("etc/passwd")).unwrap();
    let e = user::resolve_user(&rootfs, "mallory", &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unable to find user mallory: no matching entries in passwd file"
    );

    // Relative link climbing out: `..` stops at the rootfs.
    fs::remove_file(rootfs.join("etc/passwd")).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../../hostetc/passwd",
        rootfs.join("etc/passwd"),
    )
    .unwrap();
    assert!(user::resolve_user(&rootfs, "mallory", &[]).is_err());
    assert_eq!(
        user::resolve_in_root(&rootfs, Path::new("/etc/passwd")).unwrap(),
        rootfs.join("hostetc/passwd")
    );

    // A link that stays inside the rootfs is followed.
    fs::create_dir_all(rootfs.join("hostetc")).unwrap();
    fs::write(rootfs.join("hostetc/passwd"), "bob:x:7:8::/b:/bin/sh\n").unwrap();
    let bob = user::resolve_user(&rootfs, "bob", &[]).unwrap();
    assert_eq!((bob.uid, bob.gid), (7, 8));

    // Directory symlink to the host's /etc: still confined.
    fs::remove_dir_all(rootfs.join("etc")).unwrap();
    std::os::unix::fs::symlink(&host_etc, rootfs.join("etc")).unwrap();
    assert!(user::resolve_user(&rootfs, "mallory", &[]).is_err());
    // Numeric users need no passwd at all.
    assert_eq!(user::resolve_user(&rootfs, "12:34", &[]).unwrap().uid, 12);
}

#[test]
fn capabilities_add_drop_all() {
    let all: Vec<String> = caps::ALL_CAPABILITIES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let d = &caps::DEFAULT_CAPABILITIES;
    let t = |a: &[&str], dr: &[&str]| caps::tweak_capabilities(d, &all, &strs(a), &strs(dr), false);
    assert_eq!(t(&[], &[]).unwrap().len(), 14);
    let v = t(&["net_admin", "CAP_SYS_TIME"], &["MKNOD", "cap_chown"]).unwrap();
    assert!(v.contains(&"CAP_NET_ADMIN".to_string()) && v.contains(&"CAP_SYS_TIME".to_string()));
    assert!(!v.contains(&"CAP_MKNOD".to_string()) && !v.contains(&"CAP_CHOWN".to_string()));
    assert_eq!(v.len(), 14);
    let v = t(&["ALL"], &["SYS_ADMIN"]).unwrap();
    assert_eq!(v.len(), all.len() - 1);
    assert!(!v.contains(&"CAP_SYS_ADMIN".to_string()));
    let v = t(&["KILL"], &["all"]).unwrap();
    assert_eq!(v, strs(&["CAP_KILL"]));
    assert!(t(&[], &["ALL"]).unwrap().is_empty());
    let e = t(&["BOGUS"], &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.to_string(), "unknown capability: \"CAP_BOGUS\"");

    let f = fixture();
    let spec = build(&f, &Config::default(), &HostConfig::default()).unwrap();
    let set = caps_of(&spec);
    assert_eq!(set.len(), 14);
    assert!(set.contains(&Capability::AuditWrite) && !set.contains(&Capability::SysAdmin));
    let p = spec
        .process()
        .as_ref()
        .unwrap()
        .capabilities()
        .clone()
        .unwrap();
    assert_eq!(p.effective(), p.bounding());
    assert_eq!(p.permitted(), p.bounding());
    assert!(p.inheritable().is_none() && p.ambient().is_none());

    let h = HostConfig {
        cap_add: ss(&["NET_ADMIN"]),
        cap_drop: ss(&["ALL"]),
        ..Default::default()
    };
    let spec = build(&f, &Config::default(), &h).unwrap();
    assert_eq!(caps_of(&spec), HashSet::from([Capability::NetAdmin]));
}

#[test]
fn default_spec_shape() {
    let f = fixture();
    let spec = build(&f, &Config::default(), &HostConfig::default()).unwrap();
    assert_eq!(spec.version(), OCI_VERSION);
    assert_eq!(spec.hostname().as_deref(), Some(&ID[..12]));
    assert_eq!(spec.root().as_ref().unwrap().path(), &f.rootfs);
    assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(false));
    let p = spec.process().as_ref().unwrap();
    assert_eq!(p.args().clone().unwrap(), strs(&["sh"]));
    assert_eq!(p.terminal(), Some(false));
    assert_eq!(p.no_new_privileges(), Some(false));
    let linux = spec.linux().as_ref().unwrap();
    let masked = linux.masked_paths().clone().unwrap();
    for m in defaults::MASKED_PATHS {
        assert!(masked.contains(&m.to_string()), "{m}");
    }
    assert!(masked.contains(&"/proc/kcore".to_string()));
    assert_eq!(
        linux.readonly_paths().clone().unwrap(),
        strs(&defaults::READONLY_PATHS)
    );
    assert_eq!(
        linux.cgroups_path().as_deref(),
        Some(Path::new(&format!("/berth/{ID}")))
    );
    let ns: Vec<LinuxNamespaceType> = linux
        .namespaces()
        .clone()
        .unwrap()
        .iter()
        .map(|n| n.typ())
        .collect();
    for t in [
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Cgroup,
    ] {
        assert!(ns.contains(&t), "{t:?}");
    }
    assert!(!ns.contains(&LinuxNamespaceType::User));
    let mounts = spec.mounts().clone().unwrap();
    let dests: Vec<String> = mounts
        .iter()
        .map(|m| m.destination().display().to_string())
        .collect();
    for d in [
        "/proc",
        "/dev",
        "/dev/pts",
        "/sys",
        "/sys/fs/cgroup",
        "/dev/mqueue",
        "/dev/shm",
        "/etc/resolv.conf",
        "/etc/hostname",
        "/etc/hosts",
    ] {
        assert!(dests.contains(&d.to_string()), "{d}");
    }
    let shm = mounts
        .iter()
        .find(|m| m.destination() == Path::new("/dev/shm"))
        .unwrap();
    assert!(shm
        .options()
        .clone()
        .unwrap()
        .contains(&"size=67108864".to_string()));
    let sys = mounts
        .iter()
        .find(|m| m.destination() == Path::new("/sys"))
        .unwrap();
    assert!(sys.options().clone().unwrap().contains(&"ro".to_string()));
    let rules = linux
        .resources()
        .as_ref()
        .unwrap()
        .devices()
        .clone()
        .unwrap();
    assert!(!rules[0].allow());
    // The spec serializes as JSON a runtime can read back.
    let json = serde_json::to_string(&spec).unwrap();
    let back: Spec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, spec);
}

#[test]
fn etc_files_are_created_and_mounted() {
    let f = fixture();
    let c = Config {
        hostname: "web".into(),
        domainname: "example.org".into(),
        ..Default::default()
    };
    let h = HostConfig {
        extra_hosts: Some(strs(&["db:10.1.2.3", "v6:[::2]"])),
        ..Default::default()
    };
    let mut input = SpecInput::new(ID, &f.image, &c, &h, &f.rootfs, &f.dir);
    input.host_resolv_conf = &f.resolv;
    input.ip = Some("172.17.0.2".parse().unwrap());
    let spec = build_spec(&input).unwrap();
    assert_eq!(spec.hostname().as_deref(), Some("web"));
    assert_eq!(spec.domainname().as_deref(), Some("example.org"));
    assert_eq!(fs::read_to_string(f.dir.join("hostname")).unwrap(), "web\n");
    let hosts = fs::read_to_string(f.dir.join("hosts")).unwrap();
    assert!(hosts.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
    assert!(
        hosts.contains("172.17.0.2\tweb.example.org web\n"),
        "{hosts}"
    );
    assert!(
        hosts.contains("10.1.2.3\tdb\n") && hosts.contains("::2\tv6\n"),
        "{hosts}"
    );
    let resolv = fs::read_to_string(f.dir.join("resolv.conf")).unwrap();
    assert!(resolv.contains("nameserver 10.0.0.2\n"), "{resolv}");
    assert!(
        !resolv.contains("127.0.0.53") && !resolv.contains("::1"),
        "{resolv}"
    );
    assert!(resolv.contains("search corp.example\n") && resolv.contains("options edns0\n"));
    let mounts = spec.mounts().clone().unwrap();
    let hosts_mount = mounts
        .iter()
        .find(|m| m.destination() == Path::new("/etc/hosts"))
        .unwrap();
    assert_eq!(
        hosts_mount.source().as_deref(),
        Some(f.dir.join("hosts").as_path())
    );
    assert_eq!(hosts_mount.typ().as_deref(), Some("bind"));
    // No temp files left behind.
    let mut names: Vec<String> = fs::read_dir(&f.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, strs(&["hostname", "hosts", "resolv.conf"]));
}

#[test]
fn resolv_conf_rules() {
    let path = Path::new("/nonexistent");
    let base = EtcFiles {
        hostname: "h",
        domainname: "",
        ip: None,
        extra_hosts: &[],
        dns: &[],
        dns_search: &[],
        dns_options: &[],
        host_network: false,
        embedded_dns: false,
        host_gateway: Some("10.0.0.1".parse().unwrap()),
        host_resolv_conf: path,
    };
    // Only loopback resolvers on the host: Docker's public fallback.
    let out = etc::resolv_conf_content("nameserver 127.0.0.53\nnameserver ::1\n", &base);
    assert!(
        out.contains("nameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
        "{out}"
    );
    let dns = strs(&["1.1.1.1"]);
    let search = strs(&["."]);
    let opts = strs(&["ndots:2"]);
    let custom = EtcFiles {
        dns: &dns,
        dns_search: &search,
        dns_options: &opts,
        ..base.clone()
    };
    let out = etc::resolv_conf_content("nameserver 10.0.0.1\nsearch a.b\noptions x\n", &custom);
    assert!(
        out.contains("nameserver 1.1.1.1\n") && !out.contains("10.0.0.1"),
        "{out}"
    );
    assert!(
        !out.contains("search") && out.contains("options ndots:2\n"),
        "{out}"
    );
    // User-defined networks: only the embedded resolver, search kept,
    // Docker's ndots:0 added unless an ndots is given.
    let embedded = EtcFiles {
        embedded_dns: true,
        ..base.clone()
    };
    let out = etc::resolv_conf_content("nameserver 10.0.0.1\nsearch a.b\n", &embedded);
    assert_eq!(
        out,
        "# Generated by Berth.\nnameserver 127.0.0.11\nsearch a.b\noptions ndots:0\n"
    );
    let out = etc::resolv_conf_content(
        "nameserver 10.0.0.1\n",
        &EtcFiles {
            dns_options: &opts,
            ..embedded
        },
    );
    assert!(
        out.contains("options ndots:2\n") && !out.contains("ndots:0"),
        "{out}"
    );
    // Host network: loopback resolvers stay (they are reachable).
    let host = EtcFiles {
        host_network: true,
        ..base.clone()
    };
    let out = etc::resolv_conf_content("nameserver 127.0.0.53\n", &host);
    assert!(
        out.contains("nameserver 127.0.0.53\n") && !out.contains("8.8.8.8"),
        "{out}"
    );
    // No IP: no line for the container itself.
    let hosts = etc::hosts_content(&base).unwrap();
    assert_eq!(hosts.lines().count(), 6);
    let gw = strs(&["host.docker.internal:host-gateway"]);
    let hosts = etc::hosts_content(&EtcFiles {
        extra_hosts: &gw,
        ..base.clone()
    })
    .unwrap();
    assert!(
        hosts.ends_with("10.0.0.1\thost.docker.internal\n"),
        "{hosts}"
    );
    let bad = strs(&["x:not-an-ip"]);
    let e = etc::hosts_content(&EtcFiles {
        extra_hosts: &bad,
        ..base
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
}

#[test]
fn privileged() {
    let f = fixture();
    let h = HostConfig {
        privileged: true,
        ..Default::default()
    };
    let spec = build(&f, &Config::default(), &h).unwrap();
    let set = caps_of(&spec);
    assert_eq!(set.len(), caps::host_capabilities().len());
    assert!(set.len() > 14);
    let linux = spec.linux().as_ref().unwrap();
    assert!(linux.masked_paths().clone().unwrap().is_empty());
    assert!(linux.readonly_paths().clone().unwrap().is_empty());
    let rules = linux
        .resources()
        .as_ref()
        .unwrap()
        .devices()
        .clone()
        .unwrap();
    assert!(rules[0].allow());
    let mounts = spec.mounts().clone().unwrap();
    let sys = mounts
        .iter()
        .find(|m| m.destination() == Path::new("/sys"))
        .unwrap();
    assert!(!sys.options().clone().unwrap().contains(&"ro".to_string()));
}

#[test]
fn resources_mapping() {
    let f = fixture();
    let h = HostConfig {
        nano_cpus: 1_500_000_000,
        memory: 64 << 20,
        memory_swap: 128 << 20,
        memory_reservation: 32 << 20,
        cpu_shares: 512,
        cpuset_cpus: "0".into(),
        pids_limit: Some(100),
        blkio_weight: 300,
        oom_kill_disable: Some(true),
        oom_score_adj: 500,
        ..Default::default()
    };
    let spec = build(&f, &Config::default(), &h).unwrap();
    let r = spec.linux().as_ref().unwrap().resources().clone().unwrap();
    let cpu = r.cpu().clone().unwrap();
    assert_eq!(cpu.period(), Some(100_000));
    assert_eq!(cpu.quota(), Some(150_000));
    assert_eq!(cpu.shares(), Some(512));
    assert_eq!(cpu.cpus().as_deref(), Some("0"));
    let mem = r.memory().unwrap();
    assert_eq!(mem.limit(), Some(64 << 20));
    assert_eq!(mem.swap(), Some(128 << 20));
    assert_eq!(mem.reservation(), Some(32 << 20));
    assert_eq!(mem.disable_oom_killer(), Some(true));
    assert_eq!(r.pids().unwrap().limit(), 100);
    assert_eq!(r.block_io().clone().unwrap().weight(), Some(300));
    assert_eq!(spec.process().as_ref().unwrap().oom_score_adj(), Some(500));

    let explicit = HostConfig {
        cpu_period: 50_000,
        cpu_quota: 25_000,
        pids_limit: Some(0),
        ..Default::default()
    };
    let r = build_resources(&explicit, vec![]);
    assert_eq!(r.cpu().clone().unwrap().period(), Some(50_000));
    assert_eq!(r.cpu().clone().unwrap().quota(), Some(25_000));
    assert_eq!(r.pids().unwrap().limit(), -1);
    assert!(r.memory().is_none());

    for (bad, msg) in [
        (
            HostConfig {
                memory: 1024,
                ..Default::default()
            },
            "Minimum memory limit allowed is 6MB",
        ),
        (
            HostConfig {
                nano_cpus: 1_000_000_000,
                cpu_quota: 5000,
                ..Default::default()
            },
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ),
        (
            HostConfig {
                oom_score_adj: 2000,
                ..Default::default()
            },
            "Invalid value 2000, range for oom score adj is [-1000, 1000]",
        ),
        (
            HostConfig {
                blkio_weight: 5,
                ..Default::default()
            },
            "Range of blkio weight is from 10 to 1000",
        ),
    ] {
        let e = build(&f, &Config::default(), &bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(e.to_string(), msg);
    }
}

#[test]
fn rlimits_sysctls_security_tty_readonly() {
    let f = fixture();
    let c = Config {
        tty: true,
        ..Default::default()
    };
    let h = HostConfig {
        ulimits: Some(vec![Ulimit {
            name: "nofile".into(),
            soft: 1024,
            hard: 2048,
        }]),
        sysctls: Some([("net.ipv4.ip_forward".to_string(), "1".to_string())].into()),
        security_opt: Some(strs(&["no-new-privileges"])),
        readonly_rootfs: true,
        console_size: [40, 120],
        shm_size: 1 << 20,
        ..Default::default()
    };
    let spec = build(&f, &c, &h).unwrap();
    let p = spec.process().as_ref().unwrap();
    assert_eq!(p.terminal(), Some(true));
    assert_eq!(p.console_size().unwrap().width(), 120);
    assert_eq!(p.no_new_privileges(), Some(true));
    let rl = p.rlimits().clone().unwrap();
    assert_eq!(rl[0].typ(), PosixRlimitType::RlimitNofile);
    assert_eq!((rl[0].soft(), rl[0].hard()), (1024, 2048));
    assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(true));
    let sysctl = spec.linux().as_ref().unwrap().sysctl().clone().unwrap();
    assert_eq!(sysctl["net.ipv4.ip_forward"], "1");
    let mounts = spec.mounts().clone().unwrap();
    let shm = mounts
        .iter()
        .find(|m| m.destination() == Path::new("/dev/shm"))
        .unwrap();
    assert!(shm
        .options()
        .clone()
        .unwrap()
        .contains(&"size=1048576".to_string()));

    assert!(
        parse_security_opts(&strs(&["no-new-privileges=false"])).unwrap()
            == SecurityOptions::default()
    );
    assert_eq!(
        parse_security_opts(&strs(&["bogus"]))
            .unwrap_err()
            .to_string(),
        "invalid --security-opt 1: \"bogus\""
    );
    assert_eq!(
        parse_security_opts(&strs(&["no-new-privileges=maybe"]))
            .unwrap_err()
            .to_string(),
        "invalid --security-opt 2: \"no-new-privileges=maybe\""
    );
    let bad = HostConfig {
        ulimits: Some(vec![Ulimit {
            name: "bogus".into(),
            soft: 1,
            hard: 1,
        }]),
        ..Default::default()
    };
    assert_eq!(
        build(&f, &Config::default(), &bad).unwrap_err().kind(),
        ErrorKind::InvalidParameter
    );
    let bad = HostConfig {
        ulimits: Some(vec![Ulimit {
            name: "nofile".into(),
            soft: 10,
            hard: 1,
        }]),
        ..Default::default()
    };
    assert_eq!(
        build(&f, &Config::default(), &bad).unwrap_err().to_string(),
        "ulimit soft limit must be less than or equal to hard limit: 10 > 1"
    );
}

#[test]
fn host_modes_and_user_mounts() {
    let f = fixture();
    let h = HostConfig {
        network_mode: "host".into(),
        pid_mode: "host".into(),
        ipc_mode: "host".into(),
        cgroupns_mode: "host".into(),
        tmpfs: Some([("/run".to_string(), "size=1m,exec".to_string())].into()),
        mounts: Some(vec![CfgMount {
            kind: "tmpfs".into(),
            target: "/scratch".into(),
            read_only: true,
            ..Default::default()
        }]),
        ..Default::default()
    };
    let config = Config::default();
    let mut input = SpecInput::new(ID, &f.image, &config, &h, &f.rootfs, &f.dir);
    input.host_resolv_conf = &f.resolv;
    // The daemon's mount points, ready: binds and volumes.
    input.binds = vec![
        defaults::mount("/data", "bind", "/tmp", &["rbind", "ro", "rprivate"]),
        defaults::mount("/v", "bind", "/var", &["rbind", "rw", "rprivate"]),
    ];
    let spec = build_spec(&input).unwrap();
    let ns: Vec<LinuxNamespaceType> = spec
        .linux()
        .as_ref()
        .unwrap()
        .namespaces()
        .clone()
        .unwrap()
        .iter()
        .map(|n| n.typ())
        .collect();
    assert_eq!(ns, vec![LinuxNamespaceType::Mount, LinuxNamespaceType::Uts]);
    let mounts = spec.mounts().clone().unwrap();
    let find = |d: &str| {
        mounts
            .iter()
            .find(|m| m.destination() == Path::new(d))
            .cloned()
            .unwrap()
    };
    assert_eq!(
        find("/data").options().clone().unwrap(),
        strs(&["rbind", "ro", "rprivate"])
    );
    assert_eq!(
        find("/v").options().clone().unwrap(),
        strs(&["rbind", "rw", "rprivate"])
    );
    assert_eq!(
        find("/scratch").options().clone().unwrap(),
        strs(&["noexec", "nosuid", "nodev", "ro"])
    );
    assert_eq!(
        find("/run").options().clone().unwrap(),
        strs(&["nosuid", "nodev", "size=1m", "exec"])
    );
    assert_eq!(find("/dev/shm").typ().as_deref(), Some("bind"));
    assert!(mounts
        .iter()
        .all(|m| m.destination() != Path::new("/dev/mqueue")));

    for (bad, want) in [
        (
            HostConfig { tmpfs: Some([("rel".to_string(), String::new())].into()), ..Default::default() },
            "invalid mount config for type \"tmpfs\": invalid mount path: 'rel' mount path must be absolute",
        ),
        (
            HostConfig {
                tmpfs: Some([("/x".to_string(), String::new())].into()),
                mounts: Some(vec![CfgMount { kind: "tmpfs".into(), target: "/x".into(), ..Default::default() }]),
                ..Default::default()
            },
            "Duplicate mount point: /x",
        ),
        (
            HostConfig { cgroupns_mode: "weird".into(), ..Default::default() },
            "invalid cgroup namespace mode: weird",
        ),
        (
            HostConfig { uts_mode: "host".into(), ..Default::default() },
            "conflicting options: hostname and the UTS mode",
        ),
    ] {
        let c = Config {
            hostname: if bad.uts_mode == "host" { "x".into() } else { String::new() },
            ..Default::default()
        };
        let e = build(&f, &c, &bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(e.to_string(), want);
    }
}

#[test]
fn cgroup_parent() {
    let f = fixture();
    let h = HostConfig {
        cgroup_parent: "mygroup/".into(),
        ..Default::default()
    };
    let spec = build(&f, &Config::default(), &h).unwrap();
    assert_eq!(
        spec.linux().as_ref().unwrap().cgroups_path().as_deref(),
        Some(Path::new(&format!("/mygroup/{ID}")))
    );
}

#[test]
fn healthcheck_merges_field_by_field() {
    let image = ContainerConfig {
        healthcheck: Some(serde_json::json!({
            "Test": ["CMD", "img-check"], "Interval": 5_000_000_000i64, "Retries": 7
        })),
        ..Default::default()
    };
    // Nothing set: the image's check.
    let mut config = Config::default();
    merge_image_config(&mut config, &image);
    let h = config.healthcheck.unwrap();
    assert_eq!(h.test, Some(strs(&["CMD", "img-check"])));
    assert_eq!((h.interval, h.retries), (5_000_000_000, 7));
    // A partial check: the image fills only what is unset.
    let mut config = Config {
        healthcheck: Some(crate::config::HealthConfig {
            test: Some(strs(&["CMD-SHELL", "mine"])),
            retries: 2,
            ..Default::default()
        }),
        ..Default::default()
    };
    merge_image_config(&mut config, &image);
    let h = config.healthcheck.unwrap();
    assert_eq!(h.test, Some(strs(&["CMD-SHELL", "mine"])));
    assert_eq!((h.interval, h.retries), (5_000_000_000, 2));
}

#[test]
fn a_missing_working_dir_is_created_inside_the_rootfs() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    // A link to a host path is followed as inside the container.
    std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();
    ensure_working_dir(root.path(), "/srv/app/data").unwrap();
    assert!(root.path().join("srv/app/data").is_dir());
    ensure_working_dir(root.path(), "/escape/work").unwrap();
    let inner = outside.path().strip_prefix("/").unwrap().join("work");
    assert!(root.path().join(inner).is_dir());
    assert!(!outside.path().join("work").exists());
    fs::write(root.path().join("file"), b"x").unwrap();
    let e = ensure_working_dir(root.path(), "/file").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.to_string(), "Cannot mkdir: /file is not a directory");
}

#[test]
fn network_modes_and_their_namespace() {
    let has_netns = |mode: &str| {
        let h = HostConfig {
            network_mode: mode.into(),
            ..Default::default()
        };
        build_namespaces(&h)
            .unwrap()
            .iter()
            .any(|n| n.typ() == LinuxNamespaceType::Network)
    };
    for mode in ["", "default", "bridge", "none", "mynet", "container:web"] {
        assert!(has_netns(mode), "{mode}");
    }
    assert!(!has_netns("host"));
    let h = HostConfig {
        network_mode: "container:".into(),
        ..Default::default()
    };
    assert_eq!(
        build_namespaces(&h).unwrap_err().kind(),
        ErrorKind::InvalidParameter
    );
}
