//! Tests for layer unpacking. Most need root (chown, mknod, trusted xattrs,
//! overlay mounts) and are skipped with a message otherwise.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{Builder, EntryType, Header};

use super::{decompress, unpack_layer, UnpackError};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

macro_rules! require_root {
    () => {
        if !is_root() {
            eprintln!("skipping: needs root");
            return;
        }
    };
}

/// One tar entry with a raw (unvalidated) name and link name.
struct E<'a> {
    name: &'a [u8],
    kind: EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    link: &'a [u8],
    data: &'a [u8],
}

impl<'a> E<'a> {
    fn new(name: &'a str, kind: EntryType) -> Self {
        Self::raw(name.as_bytes(), kind)
    }
    fn raw(name: &'a [u8], kind: EntryType) -> Self {
        E {
            name,
            kind,
            mode: if kind == EntryType::Directory {
                0o755
            } else {
                0o644
            },
            uid: 0,
            gid: 0,
            mtime: 1_600_000_000,
            link: b"",
            data: b"",
        }
    }
    fn file(name: &'a str, data: &'a [u8]) -> Self {
        let mut e = Self::new(name, EntryType::Regular);
        e.data = data;
        e
    }
    fn link(name: &'a str, kind: EntryType, target: &'a str) -> Self {
        let mut e = Self::new(name, kind);
        e.link = target.as_bytes();
        e
    }
    fn mode(mut self, m: u32) -> Self {
        self.mode = m;
        self
    }
    fn owner(mut self, uid: u64, gid: u64) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }
    fn mtime(mut self, t: u64) -> Self {
        self.mtime = t;
        self
    }
}

fn append(b: &mut Builder<Vec<u8>>, e: &E<'_>) {
    let mut h = Header::new_gnu();
    {
        let gnu = h.as_gnu_mut().expect("gnu header");
        assert!(e.name.len() <= gnu.name.len());
        gnu.name[..e.name.len()].copy_from_slice(e.name);
        assert!(e.link.len() <= gnu.linkname.len());
        gnu.linkname[..e.link.len()].copy_from_slice(e.link);
    }
    h.set_entry_type(e.kind);
    h.set_mode(e.mode);
    h.set_uid(e.uid);
    h.set_gid(e.gid);
    h.set_mtime(e.mtime);
    h.set_size(e.data.len() as u64);
    h.set_cksum();
    b.append(&h, e.data).expect("append");
}

fn tar_of(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = Builder::new(Vec::new());
    for e in entries {
        append(&mut b, e);
    }
    b.into_inner().expect("finish tar")
}

/// A scratch area: `base/layer` (the dest) and `base/outside` (must stay empty).
struct Scratch {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    dest: PathBuf,
    outside: PathBuf,
}

fn scratch() -> Scratch {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().to_path_buf();
    let dest = base.join("layer");
    let outside = base.join("outside");
    fs::create_dir(&dest).expect("mkdir dest");
    fs::create_dir(&outside).expect("mkdir outside");
    Scratch {
        _tmp: tmp,
        base,
        dest,
        outside,
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

impl Scratch {
    fn assert_contained(&self) {
        assert!(
            names(&self.outside).is_empty(),
            "outside dir was written to"
        );
        assert_eq!(names(&self.base), vec!["layer", "outside"]);
    }
}

fn expect_unsafe(r: Result<super::UnpackStats, UnpackError>) -> String {
    match r {
        Err(e @ UnpackError::Unsafe { .. }) => e.to_string(),
        other => panic!("expected Unsafe, got {other:?}"),
    }
}

fn normal_layer() -> Vec<u8> {
    let mut b = Builder::new(Vec::new());
    append(&mut b, &E::new("./", EntryType::Directory).mode(0o755));
    append(
        &mut b,
        &E::new("etc/", EntryType::Directory).mode(0o750).mtime(1000),
    );
    append(
        &mut b,
        &E::file("etc/conf", b"hello").mode(0o640).mtime(2000),
    );
    append(
        &mut b,
        &E::link("etc/link", EntryType::Symlink, "conf").mtime(3000),
    );
    append(&mut b, &E::link("etc/hard", EntryType::Link, "etc/conf"));
    append(
        &mut b,
        &E::new("home/user/", EntryType::Directory)
            .owner(1000, 1000)
            .mode(0o700),
    );
    append(
        &mut b,
        &E::file("home/user/f", b"data")
            .owner(1000, 1000)
            .mode(0o600)
            .mtime(4000),
    );
    append(
        &mut b,
        &E::new("run/fifo", EntryType::Fifo).mode(0o620).mtime(5000),
    );
    append(
        &mut b,
        &E::new("ro/", EntryType::Directory).mode(0o555).mtime(6000),
    );
    append(&mut b, &E::file("ro/x", b"x").mode(0o4755));
    b.append_pax_extensions([("SCHILY.xattr.user.test", b"xval".as_slice())])
        .expect("pax");
    append(&mut b, &E::file("xa", b"with xattr"));
    b.into_inner().expect("finish tar")
}

#[test]
fn normal_layer_round_trips() {
    require_root!();
    let s = scratch();
    let stats = unpack_layer(normal_layer().as_slice(), &s.dest).expect("unpack");
    assert_eq!(stats.entries, 11);
    assert_eq!(stats.bytes, 5 + 4 + 1 + 10);
    let d = &s.dest;
    let md = |p: &str| fs::symlink_metadata(d.join(p)).expect(p);

    let etc = md("etc");
    assert!(etc.is_dir());
    assert_eq!(etc.mode() & 0o7777, 0o750);
    assert_eq!(etc.mtime(), 1000, "dir mtime applied after children");

    let conf = md("etc/conf");
    assert_eq!(conf.mode() & 0o7777, 0o640);
    assert_eq!(conf.mtime(), 2000);
    assert_eq!(fs::read(d.join("etc/conf")).expect("read"), b"hello");

    let link = md("etc/link");
    assert!(link.file_type().is_symlink());
    assert_eq!(link.mtime(), 3000);
    assert_eq!(
        fs::read_link(d.join("etc/link")).expect("readlink"),
        Path::new("conf")
    );

    let hard = md("etc/hard");
    assert_eq!(hard.ino(), conf.ino());
    assert_eq!(md("etc/conf").nlink(), 2);

    let user = md("home/user");
    assert_eq!(
        (user.uid(), user.gid(), user.mode() & 0o7777),
        (1000, 1000, 0o700)
    );
    let f = md("home/user/f");
    assert_eq!((f.uid(), f.gid(), f.mode() & 0o7777), (1000, 1000, 0o600));
    assert_eq!(f.mtime(), 4000);
    // implicitly created parent
    assert_eq!(md("home").mode() & 0o7777, 0o755);

    let fifo = md("run/fifo");
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.mode() & 0o7777, 0o620);
    assert_eq!(fifo.mtime(), 5000);

    let ro = md("ro");
    assert_eq!(ro.mode() & 0o7777, 0o555);
    assert_eq!(ro.mtime(), 6000);
    assert_eq!(
        md("ro/x").mode() & 0o7777,
        0o4755,
        "setuid kept after chown"
    );

    match xattr::get(d.join("xa"), "user.test") {
        Ok(v) => assert_eq!(v.as_deref(), Some(b"xval".as_slice())),
        Err(e) => eprintln!("user xattrs unsupported here: {e}"),
    }
    s.assert_contained();
}

/// A comparable description of a tree.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).expect("read_dir") {
            let p = e.expect("entry").path();
            let m = fs::symlink_metadata(&p).expect("lstat");
            let rel = p.strip_prefix(root).expect("prefix").display().to_string();
            let extra = if m.file_type().is_symlink() {
                fs::read_link(&p).expect("readlink").display().to_string()
            } else if m.is_file() {
                String::from_utf8_lossy(&fs::read(&p).expect("read")).into_owned()
            } else {
                String::new()
            };
            out.insert(
                rel,
                format!(
                    "{:o} {}:{} {} {} {}",
                    m.mode(),
                    m.uid(),
                    m.gid(),
                    m.mtime(),
                    m.nlink(),
                    extra
                ),
            );
            if m.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn compressed_layers_unpack_identically() {
    require_root!();
    let plain = normal_layer();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).expect("gzip");
    let gz = gz.finish().expect("gzip finish");
    let zst = zstd::encode_all(plain.as_slice(), 3).expect("zstd");
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    assert_eq!(&zst[..4], &[0x28, 0xb5, 0x2f, 0xfd]);

    for bytes in [&gz, &zst, &plain] {
        let mut out = Vec::new();
        decompress(std::io::Cursor::new(bytes.clone()))
            .expect("decompress")
            .read_to_end(&mut out)
            .expect("read");
        assert_eq!(out, plain);
    }

    let snaps: Vec<_> = [&plain, &gz, &zst]
        .iter()
        .map(|bytes| {
            let s = scratch();
            unpack_layer(bytes.as_slice(), &s.dest).expect("unpack");
            snapshot(&s.dest)
        })
        .collect();
    assert!(!snaps[0].is_empty());
    assert_eq!(snaps[0], snaps[1]);
    assert_eq!(snaps[0], snaps[2]);
}

#[test]
fn decompress_short_and_empty_streams() {
    for input in [&b""[..], b"ab", b"\x1f"] {
        let mut out = Vec::new();
        decompress(std::io::Cursor::new(input.to_vec()))
            .expect("decompress")
            .read_to_end(&mut out)
            .expect("read");
        assert_eq!(out, input);
    }
}

#[test]
fn hostile_dotdot_is_refused() {
    let s = scratch();
    let tar = tar_of(&[E::file("../evil", b"x")]);
    let msg = expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));
    assert_eq!(msg, "layer entry \"../evil\": path escapes the layer");
    for name in ["../outside/evil", "a/../../evil", "./../evil"] {
        let tar = tar_of(&[E::file(name, b"x")]);
        expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));
    }
    s.assert_contained();
    assert!(names(&s.dest).is_empty() || names(&s.dest) == vec!["a"]);
}

#[test]
fn absolute_paths_are_layer_relative() {
    let s = scratch();
    let tar = tar_of(&[E::file("/abs/file", b"x"), E::file("//abs/./y", b"y")]);
    unpack_layer(tar.as_slice(), &s.dest).expect("unpack");
    assert_eq!(fs::read(s.dest.join("abs/file")).expect("read"), b"x");
    assert_eq!(fs::read(s.dest.join("abs/y")).expect("read"), b"y");
    assert!(!Path::new("/abs/file").exists() || !Path::new("/abs").is_dir());
    s.assert_contained();
}

#[test]
fn writing_through_symlink_to_outside_is_refused() {
    let s = scratch();
    let outside = s.outside.display().to_string();
    let tar = tar_of(&[
        E::link("s", EntryType::Symlink, &outside),
        E::file("s/pwned", b"x"),
    ]);
    let msg = expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));
    assert!(msg.contains("path goes through a symlink"), "{msg}");
    s.assert_contained();

    // Also as a directory entry and as a nested parent.
    for victim in ["s/dir/", "s/a/b/c"] {
        let s = scratch();
        let outside = s.outside.display().to_string();
        let kind = if victim.ends_with('/') {
            EntryType::Directory
        } else {
            EntryType::Regular
        };
        let tar = tar_of(&[
            E::link("s", EntryType::Symlink, &outside),
            E::new(victim, kind),
        ]);
        expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));
        s.assert_contained();
    }
}

#[test]
fn relative_symlink_escape_is_refused() {
    let s = scratch();
    let tar = tar_of(&[
        E::link("up", EntryType::Symlink, "../.."),
        E::file("up/x", b"x"),
    ]);
    expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));
    s.assert_contained();
    // The symlink itself is fine and kept as-is.
    assert_eq!(
        fs::read_link(s.dest.join("up")).expect("readlink"),
        Path::new("../..")
    );
}

#[test]
fn file_replacing_symlink_does_not_write_through_it() {
    let s = scratch();
    let target = s.outside.join("target").display().to_string();
    let tar = tar_of(&[
        E::link("s", EntryType::Symlink, &target),
        E::file("s", b"replaced"),
    ]);
    unpack_layer(tar.as_slice(), &s.dest).expect("unpack");
    let m = fs::symlink_metadata(s.dest.join("s")).expect("lstat");
    assert!(m.is_file());
    assert_eq!(fs::read(s.dest.join("s")).expect("read"), b"replaced");
    s.assert_contained();
}

#[test]
fn hardlink_escapes_are_refused() {
    let s = scratch();
    let before = fs::metadata("/etc/passwd").expect("stat").nlink();

    let tar = tar_of(&[E::link("h", EntryType::Link, "../../etc/passwd")]);
    let msg = expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));
    assert!(msg.contains("hard link target"), "{msg}");

    let tar = tar_of(&[E::link("h", EntryType::Link, "/etc/passwd")]);
    let err = unpack_layer(tar.as_slice(), &s.dest).expect_err("must fail");
    assert!(err.to_string().contains("etc/passwd"), "{err}");

    // Through a symlinked directory inside the layer.
    let tar = tar_of(&[
        E::link("e", EntryType::Symlink, "/etc"),
        E::link("h", EntryType::Link, "e/passwd"),
    ]);
    expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));

    // A link to a symlink links the symlink itself, never its target.
    let tar = tar_of(&[
        E::link("p", EntryType::Symlink, "/etc/passwd"),
        E::link("h2", EntryType::Link, "p"),
    ]);
    unpack_layer(tar.as_slice(), &s.dest).expect("unpack");
    assert!(fs::symlink_metadata(s.dest.join("h2"))
        .expect("lstat")
        .file_type()
        .is_symlink());

    assert!(!s.dest.join("h").exists());
    assert_eq!(fs::metadata("/etc/passwd").expect("stat").nlink(), before);
    s.assert_contained();
}

#[test]
fn whiteout_escapes_are_refused() {
    let s = scratch();
    for name in ["x/.wh.../../y", ".wh...", "x/.wh..", "x/.wh.", ".wh.a/b"] {
        let tar = tar_of(&[E::file(name, b"")]);
        expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));
    }
    s.assert_contained();
    assert!(!s.dest.join("y").exists() && !s.dest.join("x/y").exists());
}

#[test]
fn unsupported_entry_types_are_named() {
    let s = scratch();
    let mut b = Builder::new(Vec::new());
    let mut h = Header::new_gnu();
    h.set_path("sparse").expect("path");
    h.set_entry_type(EntryType::GNUSparse);
    h.set_mode(0o644);
    h.set_size(0);
    h.set_mtime(0);
    h.as_gnu_mut().expect("gnu").set_real_size(0);
    h.set_cksum();
    b.append(&h, &b""[..]).expect("append");
    let tar = b.into_inner().expect("finish");
    match unpack_layer(tar.as_slice(), &s.dest) {
        Err(UnpackError::Unsupported { entry, .. }) => assert_eq!(entry, "sparse"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

fn whiteout_layer() -> Vec<u8> {
    tar_of(&[
        E::new("a/", EntryType::Directory),
        E::file("a/.wh.gone", b""),
        E::new("opaque/", EntryType::Directory),
        E::file("opaque/.wh..wh..opq", b""),
        E::file("opaque/new", b"new"),
        E::file("implicit/.wh..wh..opq", b""),
    ])
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    require_root!();
    let s = scratch();
    unpack_layer(whiteout_layer().as_slice(), &s.dest).expect("unpack");
    let gone = fs::symlink_metadata(s.dest.join("a/gone")).expect("lstat");
    assert!(gone.file_type().is_char_device());
    assert_eq!(gone.rdev(), 0);
    assert!(!s.dest.join("a/.wh.gone").exists());
    for dir in ["opaque", "implicit"] {
        let v = xattr::get(s.dest.join(dir), "trusted.overlay.opaque").expect("getxattr");
        assert_eq!(v.as_deref(), Some(b"y".as_slice()));
        assert!(fs::symlink_metadata(s.dest.join(dir).join(".wh..wh..opq")).is_err());
    }
    assert_eq!(names(&s.dest.join("opaque")), vec!["new"]);
    s.assert_contained();
}

/// Unmounts on drop.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        if let Err(e) = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH) {
            eprintln!("umount {}: {e}", self.0.display());
        }
    }
}

#[test]
fn overlay_honours_converted_whiteouts() {
    require_root!();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (l1, l2, mnt) = (
        tmp.path().join("l1"),
        tmp.path().join("l2"),
        tmp.path().join("mnt"),
    );
    for d in [&l1, &l2, &mnt] {
        fs::create_dir(d).expect("mkdir");
    }
    let layer1 = tar_of(&[
        E::file("a/gone", b"old"),
        E::file("a/kept", b"kept"),
        E::file("opaque/old", b"old"),
    ]);
    unpack_layer(layer1.as_slice(), &l1).expect("layer1");
    unpack_layer(whiteout_layer().as_slice(), &l2).expect("layer2");

    let opts = format!("lowerdir={}:{}", l2.display(), l1.display());
    nix::mount::mount(
        Some("overlay"),
        &mnt,
        Some("overlay"),
        nix::mount::MsFlags::MS_RDONLY,
        Some(opts.as_str()),
    )
    .expect("mount overlay");
    let _guard = MountGuard(mnt.clone());

    assert!(
        fs::symlink_metadata(mnt.join("a/gone")).is_err(),
        "whiteout hides a/gone"
    );
    assert_eq!(names(&mnt.join("a")), vec!["kept"]);
    assert_eq!(names(&mnt.join("opaque")), vec!["new"]);
}

#[test]
fn overlong_paths_are_refused() {
    let s = scratch();
    let long = "a/".repeat(3000);
    let mut b = Builder::new(Vec::new());
    let mut h = Header::new_gnu();
    h.set_entry_type(EntryType::Regular);
    h.set_size(0);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    b.append_data(&mut h, format!("{long}f"), &b""[..])
        .expect("append long name");
    let tar = b.into_inner().expect("finish");
    let msg = expect_unsafe(unpack_layer(tar.as_slice(), &s.dest));
    assert!(msg.contains("path too long"), "{msg}");
    assert!(names(&s.dest).is_empty());
}

#[test]
fn directory_replaces_symlink_without_following_it() {
    let s = scratch();
    let outside = s.outside.display().to_string();
    let tar = tar_of(&[
        E::link("s", EntryType::Symlink, &outside),
        E::new("s/", EntryType::Directory).mode(0o700),
        E::file("s/inside", b"x"),
    ]);
    unpack_layer(tar.as_slice(), &s.dest).expect("unpack");
    assert!(fs::symlink_metadata(s.dest.join("s"))
        .expect("lstat")
        .is_dir());
    assert_eq!(names(&s.dest.join("s")), vec!["inside"]);
    s.assert_contained();
}

// ---- `extract` (docker cp into a directory) ----

fn extract_into(
    s: &Scratch,
    tar: &[u8],
    opts: super::ExtractOptions,
) -> Result<super::UnpackStats, UnpackError> {
    let fd = super::fsutil::open_dir(&s.dest).expect("open dest");
    super::extract(tar, fd, opts)
}

#[test]
fn extract_keeps_the_destination_and_copies_wh_names() {
    let s = scratch();
    fs::set_permissions(
        &s.dest,
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    fs::create_dir(s.dest.join("d")).unwrap();
    fs::write(s.dest.join("d/old"), "old").unwrap();
    let tar = tar_of(&[
        E::new("./", EntryType::Directory).mode(0o700),
        E::new("d/", EntryType::Directory),
        E::file("d/new", b"new"),
        E::file(".wh.x", b"not a whiteout"),
        E::new(".wh.dir/", EntryType::Directory),
        E::file(".wh.dir/f", b"f"),
    ]);
    extract_into(&s, &tar, Default::default()).unwrap();
    let mode = fs::metadata(&s.dest).unwrap().mode() & 0o7777;
    assert_eq!(
        mode, 0o1777,
        "the root entry must not touch the destination"
    );
    assert_eq!(names(&s.dest.join("d")), ["new", "old"]);
    assert_eq!(
        fs::read_to_string(s.dest.join(".wh.x")).unwrap(),
        "not a whiteout"
    );
    assert_eq!(fs::read_to_string(s.dest.join(".wh.dir/f")).unwrap(), "f");
    s.assert_contained();
}

#[test]
fn extract_no_overwrite_dir_non_dir() {
    let opts = super::ExtractOptions {
        no_overwrite_dir_non_dir: true,
        chown: None,
    };
    let s = scratch();
    fs::create_dir(s.dest.join("dir")).unwrap();
    fs::write(s.dest.join("file"), "x").unwrap();
    let msg = expect_unsafe(extract_into(&s, &tar_of(&[E::file("dir", b"f")]), opts));
    assert!(msg.contains("cannot overwrite a directory"), "{msg}");
    let msg = expect_unsafe(extract_into(
        &s,
        &tar_of(&[E::new("file/", EntryType::Directory)]),
        opts,
    ));
    assert!(msg.contains("cannot overwrite a non-directory"), "{msg}");
    assert!(s.dest.join("dir").is_dir() && s.dest.join("file").is_file());
    // Without the option, both are replaced (moby's default).
    let tar = tar_of(&[E::file("dir", b"f"), E::new("file/", EntryType::Directory)]);
    extract_into(&s, &tar, Default::default()).unwrap();
    assert!(s.dest.join("dir").is_file() && s.dest.join("file").is_dir());
}

#[test]
fn extract_refuses_hostile_entries() {
    let s = scratch();
    let hostile: Vec<Vec<u8>> = vec![
        tar_of(&[E::file("../escape", b"x")]),
        tar_of(&[E::file("a/../../escape", b"x")]),
        tar_of(&[E::link("out", EntryType::Symlink, "../outside")]),
        tar_of(&[E::link("sub/out", EntryType::Symlink, "../../outside")]),
        tar_of(&[E::link("hl", EntryType::Link, "../outside/x")]),
    ];
    for tar in &hostile {
        expect_unsafe(extract_into(&s, tar, Default::default()));
    }
    // An absolute symlink is relative to the container root: allowed, but
    // never written through.
    let tar = tar_of(&[
        E::link("abs", EntryType::Symlink, "/"),
        E::file("abs/escape", b"x"),
    ]);
    let msg = expect_unsafe(extract_into(&s, &tar, Default::default()));
    assert!(msg.contains("through a symlink"), "{msg}");
    // Absolute names land inside the destination.
    extract_into(
        &s,
        &tar_of(&[E::file("/abs-name", b"x")]),
        Default::default(),
    )
    .unwrap();
    assert!(s.dest.join("abs-name").is_file());
    s.assert_contained();
}

#[test]
fn extract_chowns_when_asked() {
    require_root!();
    let s = scratch();
    let opts = super::ExtractOptions {
        no_overwrite_dir_non_dir: false,
        chown: Some((1234, 5678)),
    };
    let tar = tar_of(&[
        E::new("d/", EntryType::Directory).owner(1, 1),
        E::file("d/f", b"x").owner(2, 2),
    ]);
    extract_into(&s, &tar, opts).unwrap();
    for p in ["d", "d/f"] {
        let m = fs::symlink_metadata(s.dest.join(p)).unwrap();
        assert_eq!((m.uid(), m.gid()), (1234, 5678), "{p}");
    }
}
