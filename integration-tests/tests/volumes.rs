//! Volumes and mounts the way a user drives them: the `berth` CLI (and the
//! real `docker` CLI) against a real berthd, with real overlay rootfs,
//! bind mounts and tmpfs. Named volumes that outlive containers and are
//! pre-filled from the image, anonymous and image VOLUME volumes removed
//! with `rm -v` and `--rm`, `--volumes-from`, read-only binds, `-v`
//! creating a missing host path while `--mount` refuses it, tmpfs,
//! `--read-only`, the `volume` commands with labels, filters and prune,
//! and nothing left mounted afterwards.

use std::fs;
use std::path::Path;

use integration_tests::berthd::{cli, docker_cli, text};
use integration_tests::daemon_world::mounts_under;
use integration_tests::session::Session;
use integration_tests::workspace_bin;

/// `<registry>/<name>:latest` of the session's registry.
fn image(s: &Session, name: &str) -> String {
    s.w.image.replace("/busybox:", &format!("/{name}:"))
}

/// Everything the session's daemon mounted is gone, and no volume remains.
/// Checked with `berth` whatever CLI drove the test (docker 20.10 has no
/// `volume prune --all`).
fn assert_clean(s: &Session) {
    let berth = |args: &[&str]| {
        let (out, err, code) = text(&cli(&workspace_bin("berth"), &s.d.sock, args, b""));
        assert_eq!(code, 0, "berth {args:?}: {err}");
        out
    };
    assert_eq!(berth(&["ps", "-aq"]), "");
    berth(&["volume", "prune", "-af"]);
    assert_eq!(berth(&["volume", "ls", "-q"]), "");
    assert_eq!(
        mounts_under(s.w.data.path()),
        0,
        "mounts left under the data root"
    );
}

/// The volume names `volume ls -q` prints, sorted.
fn volume_names(s: &Session, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["volume", "ls", "-q"];
    for f in filters {
        args.extend(["-f", f]);
    }
    let mut names: Vec<String> = s.ok(&args).lines().map(String::from).collect();
    names.sort();
    names
}

#[test]
fn named_volumes_persist_are_prefilled_and_refuse_removal_in_use() {
    let s = Session::start();
    assert_eq!(
        s.ok(&["volume", "create", "--label", "team=a", "data"]),
        "data\n"
    );
    let mountpoint = s.ok(&["volume", "inspect", "-f", "{{.Mountpoint}}", "data"]);
    assert_eq!(
        mountpoint.trim(),
        s.w.data.path().join("volumes/data/_data").to_str().unwrap()
    );
    assert_eq!(
        s.ok(&["volume", "inspect", "-f", "{{.Labels.team}}", "data"]),
        "a\n"
    );

    // What one container writes, the next one reads.
    s.inside(&["-v", "data:/data"], &["sh", "-c", "echo hello > /data/f"]);
    assert_eq!(
        s.inside(&["-v", "data:/data"], &["cat", "/data/f"]),
        "hello\n"
    );
    assert_eq!(
        fs::read_to_string(Path::new(mountpoint.trim()).join("f")).unwrap(),
        "hello\n"
    );

    // A volume named for the first time is created, and filled with what
    // the image has there: hard and symbolic links kept.
    let multilayer = image(&s, "multilayer");
    let out = s.ok(&[
        "run",
        "--rm",
        "-v",
        "fresh:/data",
        &multilayer,
        "sh",
        "-c",
        "cat /data/keep; stat -c %h /data/keep; readlink /data/link",
    ]);
    assert_eq!(out, "keep\n2\nkeep\n");
    // It keeps its content for a container of another image.
    assert_eq!(
        s.inside(&["-v", "fresh:/data"], &["ls", "/data"]),
        "hard\nkeep\nlink\n"
    );
    // `nocopy` leaves a new volume empty.
    let empty = s.ok(&[
        "run",
        "--rm",
        "-v",
        "bare:/data:nocopy",
        &multilayer,
        "ls",
        "-A",
        "/data",
    ]);
    assert_eq!(empty, "");

    // In use, even by a stopped container: refused, and the data stays.
    s.ok(&["create", "--name", "holder", "-v", "data:/data", &s.w.image]);
    let err = s.fails(&["volume", "rm", "data"]);
    assert!(err.contains("volume is in use"), "{err}");
    let id = s.inspect("{{.Id}}", "holder");
    assert!(err.contains(&id), "the user is named: {err}");
    assert_eq!(volume_names(&s, &["dangling=true"]), ["bare", "fresh"]);
    s.ok(&["rm", "holder"]);
    assert_eq!(volume_names(&s, &["label=team=a"]), ["data"]);

    // Prune takes only anonymous volumes unless asked for all.
    assert_eq!(
        s.ok(&["volume", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    assert_eq!(volume_names(&s, &[]), ["bare", "data", "fresh"]);
    let out = s.ok(&["volume", "prune", "-af", "--filter", "label=team=a"]);
    assert!(out.starts_with("Deleted Volumes:\ndata\n"), "{out}");
    assert_eq!(s.ok(&["volume", "rm", "fresh", "bare"]), "fresh\nbare\n");
    let err = s.fails(&["volume", "inspect", "fresh"]);
    assert!(err.contains("no such volume"), "{err}");
    let err = s.fails(&["volume", "create", "bad/name"]);
    assert!(
        err.contains("includes invalid characters for a local volume name"),
        "{err}"
    );
    assert_clean(&s);
}

#[test]
fn anonymous_and_image_volumes_go_with_rm_v_and_rm() {
    let s = Session::start();
    let vol_image = image(&s, "volumes");
    // The image's VOLUME /data becomes an anonymous volume with its content.
    s.ok(&["run", "-d", "--name", "anon", &vol_image, "sleep", "1000"]);
    let name = s.inspect("{{range .Mounts}}{{.Name}}{{end}}", "anon");
    assert_eq!(name.len(), 64, "an anonymous volume: {name:?}");
    assert_eq!(
        s.inspect(
            "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}",
            "anon"
        ),
        "volume /data true"
    );
    let out = s.ok(&[
        "exec",
        "anon",
        "sh",
        "-c",
        "cat /data/seed /data/sub/deep; stat -c %a /data/seed",
    ]);
    assert_eq!(out, "seed\ndeep\n640\n");
    assert_eq!(volume_names(&s, &[]), std::slice::from_ref(&name));
    s.ok(&[
        "volume",
        "inspect",
        "-f",
        "{{index .Labels \"com.docker.volume.anonymous\"}}",
        &name,
    ]);
    s.ok(&["rm", "-fv", "anon"]);
    assert_eq!(volume_names(&s, &[]), Vec::<String>::new());

    // `--rm` takes `-v /path` volumes with it.
    s.inside(&["-v", "/scratch"], &["touch", "/scratch/x"]);
    assert_eq!(volume_names(&s, &[]), Vec::<String>::new());

    // Plain `rm` keeps them, dangling, for `volume prune`.
    s.ok(&["create", "--name", "keeper", "-v", "/keep", &s.w.image]);
    s.ok(&["rm", "keeper"]);
    assert_eq!(volume_names(&s, &["dangling=true"]).len(), 1);
    let out = s.ok(&["volume", "prune", "-f"]);
    assert!(out.starts_with("Deleted Volumes:\n"), "{out}");
    assert_eq!(volume_names(&s, &[]), Vec::<String>::new());

    // --volumes-from shares the source's volumes, read-only when asked;
    // `rm -v` leaves a named volume alone.
    s.ok(&["create", "--name", "src", "-v", "shared:/s", &s.w.image]);
    s.inside(&["--volumes-from", "src"], &["sh", "-c", "echo x > /s/y"]);
    assert_eq!(s.inside(&["-v", "shared:/s"], &["cat", "/s/y"]), "x\n");
    let (_, err, code) = s.try_inside(&["--volumes-from", "src:ro"], &["touch", "/s/z"]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    s.ok(&["rm", "-v", "src"]);
    assert_eq!(volume_names(&s, &[]), ["shared"]);
    assert_clean(&s);
}

#[test]
fn binds_tmpfs_and_read_only_rootfs() {
    let s = Session::start();
    let host = tempfile::tempdir().unwrap();
    fs::write(host.path().join("hostfile"), "from the host\n").unwrap();
    let dir = host.path().to_str().unwrap();

    // A read-only bind reads the host's files and refuses writes.
    let bind = format!("{dir}:/h:ro");
    assert_eq!(
        s.inside(&["-v", &bind], &["cat", "/h/hostfile"]),
        "from the host\n"
    );
    let (_, err, code) = s.try_inside(&["-v", &bind], &["touch", "/h/new"]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    // A writable one writes through.
    s.inside(
        &["-v", &format!("{dir}:/h")],
        &["sh", "-c", "echo back > /h/out"],
    );
    assert_eq!(
        fs::read_to_string(host.path().join("out")).unwrap(),
        "back\n"
    );

    // `-v` creates a missing host path; `--mount` refuses it.
    let missing = host.path().join("made/by/run");
    s.inside(&["-v", &format!("{}:/m", missing.display())], &["true"]);
    assert!(missing.is_dir());
    let absent = host.path().join("absent");
    let (_, err, code) = s.try_inside(
        &[
            "--mount",
            &format!("type=bind,source={},target=/m", absent.display()),
        ],
        &["true"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("bind source path does not exist"), "{err}");
    assert!(!absent.exists());
    s.assert_no_containers();

    // tmpfs, from --tmpfs and --mount, with the asked size.
    let out = s.inside(
        &[
            "--tmpfs",
            "/t1",
            "--mount",
            "type=tmpfs,target=/t2,tmpfs-size=1m",
        ],
        &["sh", "-c", "grep -E ' /t[12] ' /proc/mounts"],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("tmpfs /t")), "{out}");
    assert!(out.contains("size=1024k"), "{out}");

    // --read-only: the rootfs refuses writes, volumes and tmpfs do not.
    let (_, err, code) = s.try_inside(&["--read-only"], &["touch", "/x"]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    s.inside(
        &["--read-only", "-v", "rw:/data", "--tmpfs", "/tmp"],
        &["sh", "-c", "touch /data/ok /tmp/ok"],
    );

    // A local volume backed by a tmpfs (driver options).
    s.ok(&[
        "volume",
        "create",
        "--opt",
        "type=tmpfs",
        "--opt",
        "device=tmpfs",
        "--opt",
        "o=size=2m",
        "tv",
    ]);
    let out = s.inside(&["-v", "tv:/tv"], &["grep", " /tv ", "/proc/mounts"]);
    assert!(
        out.starts_with("tmpfs /tv tmpfs") && out.contains("size=2048k"),
        "{out}"
    );
    assert_eq!(
        mounts_under(s.w.data.path()),
        0,
        "the tmpfs is unmounted after the container"
    );
    assert_clean(&s);
}

/// The same user-visible behaviour through the real docker CLI.
#[test]
fn the_docker_cli_drives_volumes() {
    let mut s = Session::start();
    s.with_cli(docker_cli());
    assert_eq!(s.ok(&["volume", "create", "--label", "k=v", "dv"]), "dv\n");
    s.inside(
        &["-v", "dv:/data"],
        &["sh", "-c", "echo persisted > /data/f"],
    );
    assert_eq!(
        s.inside(&["--mount", "source=dv,target=/d"], &["cat", "/d/f"]),
        "persisted\n"
    );
    let out = s.ok(&[
        "volume",
        "ls",
        "--format",
        "{{.Driver}} {{.Name}}",
        "-f",
        "label=k",
    ]);
    assert_eq!(out, "local dv\n");
    let vol_image = image(&s, "volumes");
    assert_eq!(
        s.ok(&["run", "--rm", &vol_image, "cat", "/data/seed"]),
        "seed\n"
    );
    let host = tempfile::tempdir().unwrap();
    let bind = format!("{}:/h:ro", host.path().display());
    let (_, err, code) = s.try_inside(&["-v", &bind], &["touch", "/h/x"]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    let out = s.inside(&["--tmpfs", "/t"], &["grep", " /t ", "/proc/mounts"]);
    assert!(out.starts_with("tmpfs /t tmpfs"), "{out}");
    s.ok(&["create", "--name", "user", "-v", "dv:/data", &s.w.image]);
    let err = s.fails(&["volume", "rm", "dv"]);
    assert!(err.contains("volume is in use"), "{err}");
    s.ok(&["rm", "user"]);
    s.ok(&["volume", "rm", "dv"]);
    assert_clean(&s);
}

/// A daemon killed and started again still knows which containers use
/// which volume, and a running container's tmpfs-backed volume is
/// unmounted when that container stops.
#[test]
fn a_restarted_daemon_keeps_volume_users() {
    let Session { w, d, bin } = Session::start();
    let first = Session { w, d, bin };
    first.ok(&[
        "volume",
        "create",
        "--opt",
        "type=tmpfs",
        "--opt",
        "device=tmpfs",
        "tv",
    ]);
    first.ok(&[
        "run",
        "-d",
        "--name",
        "live",
        "-v",
        "tv:/tv",
        &first.w.image,
        "sleep",
        "1000",
    ]);
    first.ok(&["create", "--name", "idle", "-v", "data:/d", &first.w.image]);
    assert_eq!(
        mounts_under(first.w.data.path()),
        2,
        "the rootfs and the tmpfs"
    );

    let Session { w, d, bin } = first;
    d.kill9();
    let d = integration_tests::berthd::Berthd::start(&w);
    let s = Session { w, d, bin };
    for name in ["data", "tv"] {
        let err = s.fails(&["volume", "rm", name]);
        assert!(err.contains("volume is in use"), "{name}: {err}");
    }
    assert_eq!(
        s.ok(&["exec", "live", "sh", "-c", "grep -c ' /tv ' /proc/mounts"]),
        "1\n"
    );
    s.ok(&["stop", "-t", "0", "live"]);
    assert_eq!(
        mounts_under(s.w.data.path()),
        0,
        "the tmpfs went with the container"
    );
    s.ok(&["rm", "live", "idle"]);
    assert_clean(&s);
}

/// `cp` reaches into volumes and binds, on running and stopped
/// containers, and refuses to write into a read-only one.
#[test]
fn cp_reads_and_writes_volumes_and_binds() {
    let s = Session::start();
    let host = tempfile::tempdir().unwrap();
    let local = tempfile::tempdir().unwrap();
    fs::write(local.path().join("in.txt"), "copied in\n").unwrap();
    let ro = format!("{}:/ro:ro", host.path().display());
    s.ok(&[
        "run",
        "-d",
        "--name",
        "cpv",
        "-v",
        "cpvol:/data",
        "-v",
        &ro,
        &s.w.image,
        "sleep",
        "1000",
    ]);
    let src = local.path().join("in.txt");
    s.ok(&["cp", src.to_str().unwrap(), "cpv:/data/"]);
    assert_eq!(s.ok(&["exec", "cpv", "cat", "/data/in.txt"]), "copied in\n");
    let err = s.fails(&["cp", src.to_str().unwrap(), "cpv:/ro/"]);
    assert!(err.contains("mounted volume is marked read-only"), "{err}");
    assert!(!host.path().join("in.txt").exists());

    s.ok(&[
        "exec",
        "cpv",
        "sh",
        "-c",
        "echo from inside > /data/out.txt",
    ]);
    s.ok(&["stop", "-t", "0", "cpv"]);
    let out = local.path().join("out.txt");
    s.ok(&["cp", "cpv:/data/out.txt", out.to_str().unwrap()]);
    assert_eq!(fs::read_to_string(&out).unwrap(), "from inside\n");
    // The whole mount point, by its own name.
    let dir = local.path().join("copy");
    s.ok(&["cp", "cpv:/data", dir.to_str().unwrap()]);
    assert_eq!(
        fs::read_to_string(dir.join("in.txt")).unwrap(),
        "copied in\n"
    );
    s.ok(&["rm", "-v", "cpv"]);
    assert_clean(&s);
}
