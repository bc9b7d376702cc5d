//! `docker cp` and `docker export` through the daemon core, end to end:
//! a real registry and busybox pull, real overlay mounts, real shims.
//! Copies out of running and stopped containers, extraction into them,
//! hostile archives, export, the events they log, and that no mount is
//! left behind, including when a stream is dropped half way or the
//! container starts and stops while a copy streams.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use berth_daemon::daemon::container_fs::go_mode;
use berth_daemon::daemon::{ArchivePutOptions, Daemon, TarStream};
use berth_daemon::events::EventFilter;
use berth_errdefs::{ErrorKind, HasKind};
use integration_tests::daemon_world::{mounts_under, wait_for, DaemonWorld};
use tar::{EntryType, Header};
use tokio::io::AsyncReadExt;

/// The shared world plus one daemon on it.
struct World {
    // Declared first: the daemon goes before the world cleans up.
    d: Arc<Daemon>,
    base: DaemonWorld,
}

impl std::ops::Deref for World {
    type Target = DaemonWorld;

    fn deref(&self) -> &DaemonWorld {
        &self.base
    }
}

fn world() -> World {
    let base = DaemonWorld::new();
    World {
        d: base.daemon(),
        base,
    }
}

/// One entry of a read tar: (type, link name, content).
type Entries = BTreeMap<String, (EntryType, String, Vec<u8>)>;

fn entries(bytes: &[u8]) -> (Vec<String>, Entries) {
    let mut order = Vec::new();
    let mut map = Entries::new();
    let mut archive = tar::Archive::new(bytes);
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
        let kind = e.header().entry_type();
        let link = e
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        order.push(name.clone());
        map.insert(name, (kind, link, data));
    }
    (order, map)
}

/// A tar of `(name, type, link or content)`.
fn tar_of(items: &[(&str, EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, arg) in items {
        let mut h = Header::new_gnu();
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
            if matches!(kind, EntryType::Symlink | EntryType::Link) {
                gnu.linkname[..arg.len()].copy_from_slice(arg.as_bytes());
            }
        }
        h.set_entry_type(*kind);
        h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        let data: &[u8] = if *kind == EntryType::Regular {
            arg.as_bytes()
        } else {
            b""
        };
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

impl World {
    fn read_all(&self, mut s: TarStream) -> Vec<u8> {
        let mut out = Vec::new();
        self.rt
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out)).await
            })
            .expect("tar in time")
            .unwrap();
        out
    }

    fn get(&self, c: &str, path: &str) -> (berth_daemon::daemon::PathStat, Entries, Vec<String>) {
        let (stat, stream) = self.rt.block_on(self.d.archive_get(c, path)).unwrap();
        let (order, map) = entries(&self.read_all(stream));
        (stat, map, order)
    }

    fn put(&self, c: &str, path: &str, tar: &[u8]) -> berth_daemon::error::Result<()> {
        self.rt.block_on(
            self.d
                .archive_put(c, path, tar, ArchivePutOptions::default()),
        )
    }

    /// Runs `cmd` in the container; its stdout.
    fn exec(&self, c: &str, cmd: &[&str]) -> String {
        let config = berth_daemon::daemon::ExecConfig {
            attach_stdout: true,
            attach_stderr: true,
            cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        };
        let id = self.d.exec_create(c, config).unwrap();
        let started = self.rt.block_on(self.d.exec_start(&id, false)).unwrap();
        let (out, _) = self
            .rt
            .block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(30),
                    started.attach.unwrap().output.collect(),
                )
                .await
            })
            .expect("exec output in time");
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Waits until nothing is mounted under the data root.
    fn no_mounts(&self, what: &str) {
        wait_for(what, Duration::from_secs(10), || {
            mounts_under(self.data.path()) == 0
        });
    }

    /// Force-removes every container; nothing may stay mounted.
    fn teardown(&self) {
        for c in self.d.list() {
            self.rt
                .block_on(self.d.remove(&c.record().id, true))
                .unwrap();
        }
        assert_eq!(mounts_under(self.data.path()), 0, "mounts left behind");
    }
}

/// The container's files this file's tests copy out.
const SETUP: &str = "mkdir -p /data/sub && printf hi > /data/a && printf deep > /data/sub/b \
     && ln -s /data/a /data/link && ln -s ../../../../../../ /data/up && touch /ready";

#[test]
fn copy_out_of_running_and_stopped_containers() {
    let w = world();
    let filter =
        EventFilter::from_json(r#"{"type":["container"],"event":["archive-path"]}"#).unwrap();
    let (_, mut events) = w.d.events().subscribe(filter, None, None);
    let cmd = format!("{SETUP} && sleep 1000");
    let id = w.run(&w.d, "box", &["sh", "-c", &cmd]);
    wait_for("the setup", Duration::from_secs(10), || {
        w.rt.block_on(w.d.archive_stat("box", "/ready")).is_ok()
    });

    for state in ["running", "stopped"] {
        // A file: one entry named after it.
        let (stat, tar, order) = w.get("box", "/data/a");
        assert_eq!((stat.name.as_str(), stat.size), ("a", 2), "{state}");
        assert_eq!(stat.mode, 0o644);
        assert_eq!(stat.link_target, "");
        assert!(stat.mtime.ends_with('Z'), "{}", stat.mtime);
        assert_eq!(order, ["a"]);
        assert_eq!(tar["a"].2, b"hi");

        // A directory: itself, then its tree under its name.
        let (stat, tar, order) = w.get("box", "/data");
        assert_eq!(stat.name, "data");
        assert_eq!(stat.mode & go_mode::DIR, go_mode::DIR, "{state}");
        assert_eq!(
            order,
            [
                "data/",
                "data/a",
                "data/link",
                "data/sub/",
                "data/sub/b",
                "data/up"
            ]
        );
        assert_eq!(tar["data/sub/b"].2, b"deep");
        assert_eq!(tar["data/link"].0, EntryType::Symlink);
        assert_eq!(tar["data/link"].1, "/data/a");

        // `dir/.`: the contents.
        let (stat, _, order) = w.get("box", "/data/.");
        assert_eq!(stat.name, ".");
        assert_eq!(order, ["./", "./a", "./link", "./sub/", "./sub/b", "./up"]);

        // A symlink is not followed, but its target is resolved in scope.
        let stat =
            w.rt.block_on(w.d.archive_stat("box", "/data/link"))
                .unwrap();
        assert_eq!(stat.mode & go_mode::SYMLINK, go_mode::SYMLINK);
        assert_eq!(stat.link_target, "/data/a");
        let stat = w.rt.block_on(w.d.archive_stat("box", "/data/up")).unwrap();
        assert_eq!(stat.link_target, "/", "`..` stops at the rootfs");
        // Through a symlink to the root, still the container's file.
        let (_, tar, _) = w.get("box", "/data/up/etc/passwd");
        assert!(String::from_utf8_lossy(&tar["passwd"].2).starts_with("root:"));

        // The bind-mounted /etc files are the container's.
        let (_, tar, _) = w.get("box", "/etc/hostname");
        assert_eq!(tar["hostname"].2, format!("{}\n", &id[..12]).as_bytes());

        // Missing: Docker's NotFound.
        let e =
            w.rt.block_on(w.d.archive_stat("box", "/nope/x"))
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(
            e.to_string(),
            "Could not find the file /nope/x in container box"
        );
        let e = w.rt.block_on(w.d.archive_get("box", "/nope")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);

        if state == "running" {
            w.rt.block_on(w.d.stop("box", Some(0))).unwrap();
            w.no_mounts("the stop's unmount");
        } else {
            w.no_mounts("the copies' unmounts");
        }
    }
    let mut n = 0;
    while let Some(m) = events.try_next() {
        assert_eq!(m.action, "archive-path");
        assert_eq!(m.actor.id, id);
        n += 1;
    }
    assert_eq!(n, 10, "one archive-path per successful get");
    let e = w.rt.block_on(w.d.archive_stat("nosuch", "/")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    w.teardown();
}

#[test]
fn streams_hold_the_mount_across_start_stop_and_release_it_when_dropped() {
    let w = world();
    w.create(&w.d, Some("box"), &["sleep", "1000"]);

    // Dropped half way: the producer stops and the rootfs is unmounted.
    let (_, mut stream) = w.rt.block_on(w.d.archive_get("box", "/")).unwrap();
    let mut head = [0u8; 4096];
    w.rt.block_on(stream.read_exact(&mut head)).unwrap();
    assert!(mounts_under(w.data.path()) > 0, "mounted while streaming");
    drop(stream);
    w.no_mounts("the dropped stream's unmount");

    // A copy of the stopped container streams while it starts and stops.
    let (_, stream) = w.rt.block_on(w.d.archive_get("box", "/")).unwrap();
    w.rt.block_on(w.d.start("box")).unwrap();
    w.rt.block_on(w.d.stop("box", Some(0))).unwrap();
    assert!(
        mounts_under(w.data.path()) > 0,
        "stop must not unmount under a copy"
    );
    let (order, _) = entries(&w.read_all(stream));
    assert_eq!(order[0], "./");
    assert!(order.iter().any(|n| n == "./bin/busybox"), "{order:?}");
    w.no_mounts("the copy's unmount");

    // A copy of a running container that stops: the mount outlives the stop.
    w.rt.block_on(w.d.start("box")).unwrap();
    let (_, stream) = w.rt.block_on(w.d.archive_get("box", "/bin")).unwrap();
    w.rt.block_on(w.d.stop("box", Some(0))).unwrap();
    let (order, _) = entries(&w.read_all(stream));
    assert!(order.iter().any(|n| n == "bin/busybox"), "{order:?}");
    w.no_mounts("the last holder's unmount");
    // The container still starts afterwards, its rootfs intact.
    w.rt.block_on(w.d.start("box")).unwrap();
    assert!(w.exec("box", &["cat", "/etc/passwd"]).starts_with("root:"));
    w.teardown();
}

#[test]
fn put_into_running_and_created_containers() {
    let w = world();
    let filter =
        EventFilter::from_json(r#"{"type":["container"],"event":["extract-to-dir"]}"#).unwrap();
    let (_, mut events) = w.d.events().subscribe(filter, None, None);
    w.run(&w.d, "box", &["sleep", "1000"]);
    let tar = tar_of(&[
        ("hello.txt", EntryType::Regular, "hello\n"),
        ("d/", EntryType::Directory, ""),
        ("d/x", EntryType::Regular, "x\n"),
    ]);
    w.put("box", "/tmp", &tar).unwrap();
    assert_eq!(
        w.exec("box", &["cat", "/tmp/hello.txt", "/tmp/d/x"]),
        "hello\nx\n"
    );
    // /tmp keeps its mode: the archive root is not applied to it.
    let stat = w.rt.block_on(w.d.archive_stat("box", "/tmp")).unwrap();
    assert_eq!(stat.mode & 0o777, 0o777);
    assert_eq!(stat.mode & go_mode::STICKY, go_mode::STICKY);

    // gzip is accepted; a symlink to a directory is followed.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_of(&[("z", EntryType::Regular, "zipped")]))
        .unwrap();
    w.put(
        "box",
        "/tmp",
        &tar_of(&[("tmplink", EntryType::Symlink, "/tmp/d")]),
    )
    .unwrap();
    w.put("box", "/tmp/tmplink", &gz.finish().unwrap()).unwrap();
    assert_eq!(w.exec("box", &["cat", "/tmp/d/z"]), "zipped");

    // Refusals, worded as Docker words them.
    let e = w.put("box", "/etc/passwd", &tar).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.to_string(), "extraction point is not a directory");
    let e = w.put("box", "/nope", &tar).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        "Could not find the file /nope in container box"
    );
    let e =
        w.rt.block_on(w.d.archive_put(
            "box",
            "/",
            tar_of(&[("tmp", EntryType::Regular, "x")]).as_slice(),
            ArchivePutOptions {
                no_overwrite_dir_non_dir: true,
                copy_uid_gid: false,
            },
        ))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e}");
    assert!(
        e.to_string().contains("cannot overwrite a directory"),
        "{e}"
    );

    // A created container: mounted for the put, unmounted after, and the
    // file is there when it runs.
    let baseline = mounts_under(w.data.path());
    w.create(&w.d, Some("new"), &["cat", "/tmp/hello.txt"]);
    w.put("new", "/tmp", &tar).unwrap();
    wait_for("the put's unmount", Duration::from_secs(10), || {
        mounts_under(w.data.path()) == baseline
    });
    let (_, got, _) = w.get("new", "/tmp/hello.txt");
    assert_eq!(got["hello.txt"].2, b"hello\n");

    // A read-only rootfs refuses.
    let mut req = w.request(&["sleep", "1000"]);
    req.host_config.as_mut().unwrap().readonly_rootfs = true;
    w.rt.block_on(w.d.create(Some("ro"), req)).unwrap();
    let e = w.put("ro", "/tmp", &tar).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    assert_eq!(e.to_string(), "container rootfs is marked read-only");

    let mut n = 0;
    while let Some(m) = events.try_next() {
        assert_eq!(m.action, "extract-to-dir");
        n += 1;
    }
    assert_eq!(n, 4, "one extract-to-dir per successful put");
    w.teardown();
}

#[test]
fn hostile_archives_stay_inside_the_rootfs() {
    let w = world();
    let id = w.create(&w.d, Some("box"), &["sleep", "1000"]);
    // A host directory that nothing may reach.
    let host = tempfile::Builder::new()
        .prefix("berth-cp-host-")
        .tempdir()
        .unwrap();
    let host_path = host.path().to_str().unwrap().to_string();
    let rootfs_parent = w.data.path().join("overlay/active").join(&id);
    let before: Vec<_> = std::fs::read_dir(&rootfs_parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    let up = "../".repeat(12);
    let hostile = [
        tar_of(&[("../escape", EntryType::Regular, "x")]),
        tar_of(&[(
            &format!("{up}{}/escape", &host_path[1..]),
            EntryType::Regular,
            "x",
        )]),
        tar_of(&[(
            "out",
            EntryType::Symlink,
            &format!("{up}{}", &host_path[1..]),
        )]),
        tar_of(&[
            ("abs", EntryType::Symlink, &host_path),
            ("abs/pwned", EntryType::Regular, "x"),
        ]),
        tar_of(&[("hl", EntryType::Link, &format!("{up}etc/shadow"))]),
    ];
    for tar in &hostile {
        let e = w.put("box", "/tmp", tar).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{e}");
    }
    // Absolute names are taken inside the extraction directory.
    w.put(
        "box",
        "/tmp",
        &tar_of(&[(
            &format!("/{}", &host_path[1..]),
            EntryType::Regular,
            "inside",
        )]),
    )
    .unwrap();
    let (_, tar, _) = w.get("box", &format!("/tmp{host_path}"));
    assert_eq!(tar.values().next().unwrap().2, b"inside");

    // A symlink already in the container pointing at the host path is
    // resolved inside the rootfs: the target does not exist there.
    w.put(
        "box",
        "/",
        &tar_of(&[("hostlink", EntryType::Symlink, &host_path)]),
    )
    .unwrap();
    let e = w
        .put(
            "box",
            "/hostlink",
            &tar_of(&[("pwned", EntryType::Regular, "x")]),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e =
        w.rt.block_on(w.d.archive_get("box", "/hostlink/"))
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let stat = w.rt.block_on(w.d.archive_stat("box", "/hostlink")).unwrap();
    assert_eq!(stat.link_target, host_path);

    assert_eq!(
        std::fs::read_dir(host.path()).unwrap().count(),
        0,
        "host dir written"
    );
    let after: Vec<_> = std::fs::read_dir(&rootfs_parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "something landed next to the rootfs");
    assert!(!w.data.path().join("escape").exists());
    w.no_mounts("the puts' unmounts");
    w.teardown();
}

#[test]
fn export_streams_the_whole_rootfs() {
    let w = world();
    let filter = EventFilter::from_json(r#"{"type":["container"],"event":["export"]}"#).unwrap();
    let (_, mut events) = w.d.events().subscribe(filter, None, None);
    w.run(&w.d, "box", &["sleep", "1000"]);
    for state in ["running", "stopped"] {
        let stream = w.rt.block_on(w.d.export("box")).unwrap();
        let (order, map) = entries(&w.read_all(stream));
        assert!(map.contains_key("bin/busybox"), "{state}: {order:?}");
        assert!(map.contains_key("etc/hostname"), "{state}: {order:?}");
        assert_eq!(map["bin/"].0, EntryType::Directory);
        assert!(!order
            .iter()
            .any(|n| n.starts_with('/') || n.starts_with("./")));
        // Parents come before their children.
        let bin = order.iter().position(|n| n == "bin/").unwrap();
        let busybox = order.iter().position(|n| n == "bin/busybox").unwrap();
        assert!(bin < busybox);
        if state == "running" {
            w.rt.block_on(w.d.stop("box", Some(0))).unwrap();
        }
    }
    w.no_mounts("the export's unmount");
    let mut n = 0;
    while let Some(m) = events.try_next() {
        assert_eq!(m.action, "export");
        n += 1;
    }
    assert_eq!(n, 2);
    let e = w.rt.block_on(w.d.export("nosuch")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    w.teardown();
}
