//! The pre-fill copy over real files: owners, modes, times, xattrs,
//! symlinks, hard links and special files, and no symlink ever followed.

use std::ffi::OsStr;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use berth_volume::{copy_dir_contents, is_empty_dir};
use nix::sys::stat::{utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;

fn set_times(p: &Path, secs: i64, nsec: i64) {
    let t = TimeSpec::new(secs, nsec);
    utimensat(
        nix::fcntl::AT_FDCWD,
        p,
        &t,
        &t,
        UtimensatFlags::NoFollowSymlink,
    )
    .unwrap();
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, PermissionsExt::from_mode(mode)).unwrap();
}

#[test]
fn empty_dir_checks() {
    let t = tempfile::tempdir().unwrap();
    assert!(is_empty_dir(&t.path().join("missing")).unwrap());
    assert!(is_empty_dir(t.path()).unwrap());
    std::fs::write(t.path().join("f"), b"").unwrap();
    assert!(!is_empty_dir(t.path()).unwrap());
}

#[test]
fn copy_keeps_owners_modes_times_xattrs_links_and_special_files() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    let dst = t.path().join("dst");
    std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
    std::fs::create_dir(&dst).unwrap();

    std::fs::write(src.join("sub/file"), b"content").unwrap();
    chown(&src.join("sub/file"), 1001, 1002);
    chmod(&src.join("sub/file"), 0o640);
    set_times(&src.join("sub/file"), 1_000_000_000, 123_456_789);
    let has_xattr = xattr::set(src.join("sub/file"), "user.berth", b"kept").is_ok();

    std::fs::write(src.join("setuid"), b"#!").unwrap();
    chmod(&src.join("setuid"), 0o4755);
    std::fs::write(src.join("sub/deeper/h1"), b"linked").unwrap();
    std::fs::hard_link(src.join("sub/deeper/h1"), src.join("h2")).unwrap();
    std::os::unix::fs::symlink("/etc", src.join("etc-link")).unwrap();
    std::os::unix::fs::symlink("sub/file", src.join("rel-link")).unwrap();
    chown(&src.join("rel-link"), 1003, 1003);
    set_times(&src.join("rel-link"), 1_100_000_000, 0);
    nix::unistd::mkfifo(&src.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
    chmod(&src.join("fifo"), 0o620); // past the umask
    nix::sys::stat::mknod(
        &src.join("null"),
        SFlag::S_IFCHR,
        Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(src.join("sock")).unwrap();

    if has_xattr {
        xattr::set(src.join("sub"), "user.dir", b"d").unwrap();
    }
    chown(&src.join("sub"), 1000, 1000);
    chmod(&src.join("sub"), 0o750);
    set_times(&src.join("sub"), 900_000_000, 5);
    chown(&src, 1234, 1234);
    chmod(&src, 0o711);

    copy_dir_contents(&src, &dst).unwrap();

    // dst itself takes src's owner and mode.
    let m = std::fs::metadata(&dst).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1234, 1234, 0o711));

    let m = std::fs::metadata(dst.join("sub")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1000, 1000, 0o750));
    assert_eq!(
        (m.mtime(), m.mtime_nsec()),
        (900_000_000, 5),
        "dir mtime set after its content"
    );

    let f = dst.join("sub/file");
    let m = std::fs::metadata(&f).unwrap();
    assert_eq!(std::fs::read(&f).unwrap(), b"content");
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1001, 1002, 0o640));
    assert_eq!((m.mtime(), m.mtime_nsec()), (1_000_000_000, 123_456_789));
    assert_eq!((m.atime(), m.atime_nsec()), (1_000_000_000, 123_456_789));
    if has_xattr {
        assert_eq!(
            xattr::get(&f, "user.berth").unwrap().as_deref(),
            Some(&b"kept"[..])
        );
        let d = xattr::get(dst.join("sub"), "user.dir").unwrap();
        assert_eq!(d.as_deref(), Some(&b"d"[..]));
    }

    assert_eq!(
        std::fs::metadata(dst.join("setuid")).unwrap().mode() & 0o7777,
        0o4755
    );

    let (a, b) = (
        std::fs::metadata(dst.join("sub/deeper/h1")).unwrap(),
        std::fs::metadata(dst.join("h2")).unwrap(),
    );
    assert_eq!(a.ino(), b.ino(), "hard links stay hard links");
    assert_eq!(a.nlink(), 2);

    let l = std::fs::symlink_metadata(dst.join("etc-link")).unwrap();
    assert!(
        l.file_type().is_symlink(),
        "a symlink out of the tree is copied as a link"
    );
    assert_eq!(
        std::fs::read_link(dst.join("etc-link")).unwrap(),
        Path::new("/etc")
    );
    let l = std::fs::symlink_metadata(dst.join("rel-link")).unwrap();
    assert!(l.file_type().is_symlink());
    assert_eq!((l.uid(), l.mtime()), (1003, 1_100_000_000));

    let p = std::fs::symlink_metadata(dst.join("fifo")).unwrap();
    assert!(p.file_type().is_fifo());
    assert_eq!(p.mode() & 0o7777, 0o620);
    let n = std::fs::symlink_metadata(dst.join("null")).unwrap();
    assert!(n.file_type().is_char_device());
    assert_eq!(n.rdev(), nix::sys::stat::makedev(1, 3));

    assert!(!dst.join("sock").exists(), "sockets are skipped");
    let mut names: Vec<_> = std::fs::read_dir(&dst)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    let want: Vec<&OsStr> = [
        "etc-link", "fifo", "h2", "null", "rel-link", "setuid", "sub",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    assert_eq!(names, want);
}

#[test]
fn copy_never_writes_through_a_symlink_in_the_destination() {
    let t = tempfile::tempdir().unwrap();
    let (src, dst, outside) = (
        t.path().join("src"),
        t.path().join("dst"),
        t.path().join("outside"),
    );
    std::fs::create_dir_all(src.join("d")).unwrap();
    std::fs::write(src.join("d/f"), b"from image").unwrap();
    std::fs::write(src.join("g"), b"from image").unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, dst.join("d")).unwrap();
    std::os::unix::fs::symlink(outside.join("g"), dst.join("g")).unwrap();

    assert!(copy_dir_contents(&src, &dst).is_err());
    assert!(is_empty_dir(&outside).unwrap(), "nothing landed outside");

    // Nor is a symlinked src or dst root followed.
    let linked = t.path().join("linked");
    std::os::unix::fs::symlink(&src, &linked).unwrap();
    assert!(copy_dir_contents(&linked, &outside).is_err());
    assert!(copy_dir_contents(&src, &linked).is_err());
    assert!(is_empty_dir(&outside).unwrap());
}
