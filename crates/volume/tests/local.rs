//! The local driver against the real filesystem, with real tmpfs and bind
//! mounts in temporary directories (run as root).

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use berth_volume::{LocalDriver, VolumeDriver, VolumeError};
use common::{is_mounted, mount_at, opts, MountGuard};

#[test]
fn create_list_remove_plain_volume() {
    let root = tempfile::tempdir().unwrap();
    let d = LocalDriver::open(root.path()).unwrap();
    let path = d.create("data1", &opts(&[])).unwrap();
    let real_root = std::fs::canonicalize(root.path()).unwrap();
    assert_eq!(path, real_root.join("data1/_data"));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&real_root.join("data1")), 0o701);
    assert_eq!(mode(&path), 0o755);
    assert!(
        !real_root.join("data1/opts.json").exists(),
        "opts.json only when options are given"
    );

    // Things that are not volumes are not listed.
    std::fs::create_dir_all(root.path().join("_meta")).unwrap();
    std::fs::create_dir_all(root.path().join("nodata")).unwrap();
    std::fs::write(root.path().join("stray"), b"x").unwrap();
    d.create("data2", &opts(&[])).unwrap();
    assert_eq!(d.list().unwrap(), vec!["data1", "data2"]);

    // Without options mount/unmount only hand out the path.
    assert_eq!(d.mount("data1", "c1").unwrap(), path);
    assert!(!is_mounted(&path));
    d.unmount("data1", "c1").unwrap();

    assert!(matches!(
        d.create("data1", &opts(&[])),
        Err(VolumeError::Conflict(_))
    ));
    std::fs::write(path.join("file"), b"hello").unwrap();
    d.remove("data1").unwrap();
    assert!(!real_root.join("data1").exists());
    assert_eq!(d.list().unwrap(), vec!["data2"]);
    assert!(matches!(d.remove("data1"), Err(VolumeError::NotFound(_))));
    assert!(matches!(d.path("data1"), Err(VolumeError::NotFound(_))));
    assert!(matches!(
        d.mount("data1", "c1"),
        Err(VolumeError::NotFound(_))
    ));
}

#[test]
fn options_are_validated_and_persisted() {
    let root = tempfile::tempdir().unwrap();
    let d = LocalDriver::open(root.path()).unwrap();
    let err = d.create("bad", &opts(&[("foo", "bar")])).unwrap_err();
    assert!(matches!(err, VolumeError::InvalidParameter(_)), "{err:?}");
    assert_eq!(err.to_string(), "invalid option: \"foo\"");
    let err = d.create("bad", &opts(&[("type", "tmpfs")])).unwrap_err();
    assert_eq!(err.to_string(), "missing required option: \"device\"");
    let err = d.create("bad", &opts(&[("o", "size=1m")])).unwrap_err();
    assert_eq!(err.to_string(), "missing required option: \"device\"");
    assert!(
        !root.path().join("bad").exists(),
        "a refused create leaves nothing"
    );
    assert!(matches!(
        d.create("-bad", &opts(&[])),
        Err(VolumeError::InvalidParameter(_))
    ));

    let o = opts(&[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=1m")]);
    d.create("withopts", &o).unwrap();
    let saved: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(root.path().join("withopts/opts.json")).unwrap())
            .unwrap();
    assert_eq!(saved, o);
    drop(d);
    let d = LocalDriver::open(root.path()).unwrap();
    assert_eq!(d.options("withopts").unwrap(), o);
    assert!(
        !is_mounted(&d.path("withopts").unwrap()),
        "create does not mount"
    );
    d.remove("withopts").unwrap();
}

#[test]
fn tmpfs_volume_is_mounted_on_first_ref_and_unmounted_on_last() {
    let root = tempfile::tempdir().unwrap();
    let d = LocalDriver::open(root.path()).unwrap();
    let o = opts(&[
        ("type", "tmpfs"),
        ("device", "tmpfs"),
        ("o", "size=2m,mode=0750"),
    ]);
    let data = d.create("tmp", &o).unwrap();
    let mut guard = MountGuard::default();
    guard.watch(&data);

    assert_eq!(d.mount("tmp", "c1").unwrap(), data);
    let (fstype, sopts) = mount_at(&data).expect("mounted after the first mount");
    assert_eq!(fstype, "tmpfs");
    assert!(sopts.contains("size=2048k"), "{sopts}");
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o7777,
        0o750
    );
    std::fs::write(data.join("f"), b"in tmpfs").unwrap();

    d.mount("tmp", "c2").unwrap();
    d.mount("tmp", "c2").unwrap(); // the same container again: still one ref
    d.unmount("tmp", "c1").unwrap();
    assert!(is_mounted(&data), "c2 still uses it");
    d.unmount("tmp", "unknown").unwrap();
    assert!(is_mounted(&data));
    d.unmount("tmp", "c2").unwrap();
    assert!(!is_mounted(&data), "the last unmount takes it down");
    assert!(!data.join("f").exists(), "the file lived in the tmpfs");
    d.unmount("tmp", "c2").unwrap(); // a retry is harmless

    // A daemon restart finds the mount and does not stack a second one.
    d.mount("tmp", "c3").unwrap();
    drop(d);
    let d = LocalDriver::open(root.path()).unwrap();
    d.mount("tmp", "c3").unwrap();
    let count = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.split(' ').nth(4) == Some(data.to_str().unwrap()))
        .count();
    assert_eq!(count, 1);
    d.unmount("tmp", "c3").unwrap();
    assert!(!is_mounted(&data));

    // Removing a mounted volume unmounts it first.
    d.mount("tmp", "c4").unwrap();
    d.remove("tmp").unwrap();
    assert!(!is_mounted(&data));
    assert!(!root.path().join("tmp").exists());
}

#[test]
fn bind_volume_shows_the_host_directory_and_removal_spares_it() {
    let root = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("host-file"), b"from host").unwrap();
    let d = LocalDriver::open(root.path()).unwrap();
    let dev = host.path().to_str().unwrap();
    let data = d
        .create(
            "bound",
            &opts(&[("type", "none"), ("device", dev), ("o", "bind")]),
        )
        .unwrap();
    let mut guard = MountGuard::default();
    guard.watch(&data);

    d.mount("bound", "c1").unwrap();
    assert_eq!(std::fs::read(data.join("host-file")).unwrap(), b"from host");
    std::fs::write(data.join("from-volume"), b"x").unwrap();
    assert!(host.path().join("from-volume").exists());
    d.unmount("bound", "c1").unwrap();
    assert!(!is_mounted(&data));
    assert!(!data.join("host-file").exists());

    // Removal while mounted unmounts and never deletes the host's files.
    d.mount("bound", "c1").unwrap();
    d.remove("bound").unwrap();
    assert!(!is_mounted(&data));
    assert!(host.path().join("host-file").exists());
    assert!(host.path().join("from-volume").exists());

    // `o=bind,ro` is honoured (it needs a remount after the bind).
    let data = d
        .create(
            "boundro",
            &opts(&[("type", "none"), ("device", dev), ("o", "bind,ro")]),
        )
        .unwrap();
    guard.watch(&data);
    d.mount("boundro", "c1").unwrap();
    let err = std::fs::write(data.join("nope"), b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS));
    d.unmount("boundro", "c1").unwrap();
    assert!(!is_mounted(&data));
    d.remove("boundro").unwrap();
}

#[test]
fn a_failed_mount_is_reported_and_not_counted() {
    let root = tempfile::tempdir().unwrap();
    let d = LocalDriver::open(root.path()).unwrap();
    let o = opts(&[
        ("type", "nosuchfs"),
        ("device", "none"),
        ("o", "nosuid,user=u,password=secret"),
    ]);
    let data = d.create("broken", &o).unwrap();
    let err = d.mount("broken", "c1").unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "failed to mount local volume: mount none:{}, flags: 0x2, \
             data: user=u,password=********: no such device",
            data.display()
        )
    );
    assert!(!is_mounted(&data));
    d.unmount("broken", "c1").unwrap();
    d.remove("broken").unwrap();
}

#[test]
fn removal_handles_hostile_trees_without_following_symlinks() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious"), b"keep").unwrap();
    let outside_mode = std::fs::metadata(outside.path()).unwrap().mode();
    let d = LocalDriver::open(root.path()).unwrap();
    let data = d.create("hostile", &opts(&[])).unwrap();

    std::fs::create_dir_all(data.join("ro/deeper")).unwrap();
    std::fs::write(data.join("ro/deeper/f"), b"x").unwrap();
    std::fs::write(data.join("ro/g"), b"x").unwrap();
    std::os::unix::fs::chown(data.join("ro/g"), Some(4321), Some(4321)).unwrap();
    std::fs::set_permissions(data.join("ro/deeper"), PermissionsExt::from_mode(0o000)).unwrap();
    std::fs::set_permissions(data.join("ro"), PermissionsExt::from_mode(0o555)).unwrap();
    std::os::unix::fs::chown(data.join("ro"), Some(4321), Some(4321)).unwrap();
    std::os::unix::fs::symlink(outside.path(), data.join("escape")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("precious"), data.join("escape-file")).unwrap();
    std::os::unix::fs::symlink(outside.path(), data.join("ro/escape")).unwrap();

    d.remove("hostile").unwrap();
    assert!(!root.path().join("hostile").exists());
    assert_eq!(
        std::fs::read(outside.path().join("precious")).unwrap(),
        b"keep"
    );
    assert_eq!(
        std::fs::metadata(outside.path()).unwrap().mode(),
        outside_mode
    );
}

#[test]
fn removal_refuses_to_empty_a_foreign_mount_inside_the_volume() {
    let root = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("precious"), b"keep").unwrap();
    let d = LocalDriver::open(root.path()).unwrap();
    let data = d.create("withmount", &opts(&[])).unwrap();
    let sub = data.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let mut guard = MountGuard::default();
    nix::mount::mount(
        Some(host.path()),
        &sub,
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .unwrap();
    guard.watch(&sub);

    let err = d.remove("withmount").unwrap_err();
    assert!(
        err.to_string().ends_with("/_data/sub: it is a mount point"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(host.path().join("precious")).unwrap(),
        b"keep"
    );
    // Refused before anything moved: the volume is intact and listed.
    assert!(is_mounted(&sub));
    assert_eq!(d.list().unwrap(), vec!["withmount"]);
    drop(guard);
    d.remove("withmount").unwrap();
    assert!(host.path().join("precious").exists());
}

#[test]
fn leftovers_of_an_interrupted_removal_are_swept_on_open() {
    let root = tempfile::tempdir().unwrap();
    let leftover = root.path().join("_removing.gone/_data/x");
    std::fs::create_dir_all(&leftover).unwrap();
    std::fs::write(leftover.join("f"), b"x").unwrap();
    let d = LocalDriver::open(root.path()).unwrap();
    assert!(!root.path().join("_removing.gone").exists());
    assert!(d.list().unwrap().is_empty());
}
