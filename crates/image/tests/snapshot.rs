//! The overlay snapshot store against the real kernel: unpacked layers,
//! whiteouts and opaque dirs seen through a mounted overlay, concurrent
//! commits, reference counting, GC and crash recovery. Root only: each test
//! prints a message and passes when not run as root.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_errdefs::{ErrorKind, HasKind};
use berth_image::content::Digest;
use berth_image::record::chain_ids;
use berth_image::snapshot::{unmount, SnapshotStore};
use berth_image::unpack::unpack_layer;

fn is_root(test: &str) -> bool {
    // SAFETY: geteuid cannot fail and has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipping {test}: needs root (overlay mounts, whiteout devices)");
    }
    root
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}

/// A layer tar: `dirs` (created 0755) and `files` (path, contents), in order.
fn layer_tar(dirs: &[&str], files: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for d in dirs {
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        b.append_data(&mut h, d, std::io::empty()).unwrap();
    }
    for (path, data) in files {
        let mut h = header(tar::EntryType::Regular, 0o644, data.len() as u64);
        b.append_data(&mut h, path, data.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

fn lower_tar() -> Vec<u8> {
    layer_tar(
        &["etc/", "opq/", "opq/sub/"],
        &[
            ("etc/keep", "lower"),
            ("etc/gone", "deleted above"),
            ("opq/old", "hidden by opaque"),
            ("opq/sub/deep", "hidden too"),
        ],
    )
}

fn upper_tar() -> Vec<u8> {
    layer_tar(
        &["etc/", "opq/"],
        &[
            ("etc/.wh.gone", ""),
            ("opq/.wh..wh..opq", ""),
            ("opq/new", "from upper layer"),
            ("etc/added", "upper"),
        ],
    )
}

/// Unpacks and commits `tars` (bottom first); returns their ChainIDs.
fn commit_layers(store: &SnapshotStore, tars: &[Vec<u8>]) -> Vec<Digest> {
    let diff_ids: Vec<Digest> = tars.iter().map(|t| Digest::sha256_of(t)).collect();
    let chain = chain_ids(&diff_ids);
    for (tar, chain_id) in tars.iter().zip(&chain) {
        let pending = store.begin_layer().unwrap();
        unpack_layer(tar.as_slice(), pending.diff_dir()).unwrap();
        pending.commit(chain_id).unwrap();
        assert!(store.has_layer(chain_id));
    }
    chain
}

/// Unmounts everything this test may have mounted below `root`, even when
/// an assertion fails half-way.
struct MountGuard(Vec<PathBuf>);

impl Drop for MountGuard {
    fn drop(&mut self) {
        for p in &self.0 {
            // Stacked mounts: unmount until nothing is left.
            for _ in 0..4 {
                let _ = unmount(p);
            }
        }
    }
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.to_str().unwrap();
    text.lines()
        .filter(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with(dir)))
        .map(str::to_owned)
        .collect()
}

fn tmp_entries(root: &Path) -> usize {
    fs::read_dir(root.join("tmp")).unwrap().count()
}

#[test]
fn overlay_view_whiteouts_opaque_and_writes() {
    if !is_root("overlay_view_whiteouts_opaque_and_writes") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(&tmp.path().join("overlay")).unwrap();
    let root = store.root().to_path_buf();
    let chain = commit_layers(&store, &[lower_tar(), upper_tar()]);
    assert_eq!(store.layers().unwrap().len(), 2);
    assert_eq!(tmp_entries(&root), 0, "pending dirs left after commit");

    let snap = store.prepare("c1", &chain).unwrap();
    let _guard = MountGuard(vec![snap.merged_dir.clone()]);
    assert_eq!(
        snap.lower_dirs,
        vec![
            store.layer_diff_dir(&chain[1]),
            store.layer_diff_dir(&chain[0])
        ],
        "lower dirs are top first"
    );
    assert_eq!(store.snapshot_parent("c1").unwrap(), chain);
    assert_eq!(store.active().unwrap(), vec!["c1".to_string()]);
    assert!(snap.overlay_options().starts_with(&format!(
        "lowerdir={}:{},",
        snap.lower_dirs[0].display(),
        snap.lower_dirs[1].display()
    )));

    let merged = store.mount_rootfs("c1").unwrap();
    assert_eq!(merged, snap.merged_dir);
    // Idempotent: a second call does not stack another mount.
    store.mount_rootfs("c1").unwrap();
    let merged_str = merged.to_str().unwrap();
    let count = mounts_under(&merged)
        .iter()
        .filter(|l| l.split(' ').nth(4) == Some(merged_str))
        .count();
    assert_eq!(count, 1, "mounted exactly once");

    // Lower content shows through; the upper layer's changes apply.
    assert_eq!(
        fs::read_to_string(merged.join("etc/keep")).unwrap(),
        "lower"
    );
    assert_eq!(
        fs::read_to_string(merged.join("etc/added")).unwrap(),
        "upper"
    );
    assert!(!merged.join("etc/gone").exists(), "whiteout hides etc/gone");
    assert!(!merged.join("opq/old").exists(), "opaque dir hides opq/old");
    assert!(!merged.join("opq/sub").exists(), "opaque dir hides opq/sub");
    assert_eq!(
        fs::read_to_string(merged.join("opq/new")).unwrap(),
        "from upper layer"
    );
    let names: Vec<_> = fs::read_dir(merged.join("opq"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["new"]);

    // Writes land in upper only; deletions become whiteouts in upper.
    fs::write(merged.join("etc/written"), "rw").unwrap();
    fs::remove_file(merged.join("etc/keep")).unwrap();
    assert_eq!(
        fs::read_to_string(snap.upper_dir.join("etc/written")).unwrap(),
        "rw"
    );
    assert!(fs::symlink_metadata(snap.upper_dir.join("etc/keep"))
        .unwrap()
        .file_type()
        .is_char_device());
    for lower in &snap.lower_dirs {
        assert!(!lower.join("etc/written").exists());
    }
    assert_eq!(
        fs::read_to_string(store.layer_diff_dir(&chain[0]).join("etc/keep")).unwrap(),
        "lower"
    );
    assert!(store.layer_size(&chain[0]).unwrap() >= "lower".len() as u64);

    // Unmount, remount: the container's changes persist in upper.
    store.unmount_rootfs("c1").unwrap();
    assert!(mounts_under(&root).is_empty());
    store.unmount_rootfs("c1").unwrap();
    store.mount_rootfs("c1").unwrap();
    assert_eq!(
        fs::read_to_string(merged.join("etc/written")).unwrap(),
        "rw"
    );
    assert!(!merged.join("etc/keep").exists());

    // remove unmounts and deletes; it is idempotent.
    store.remove("c1").unwrap();
    store.remove("c1").unwrap();
    assert!(store.active().unwrap().is_empty());
    assert_eq!(
        store.snapshot_parent("c1").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(mounts_under(&root).is_empty(), "no mounts left");
    assert_eq!(tmp_entries(&root), 0);
}

#[test]
fn empty_chain_uses_empty_lower() {
    if !is_root("empty_chain_uses_empty_lower") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(&tmp.path().join("overlay")).unwrap();
    let snap = store.prepare("scratch", &[]).unwrap();
    let _guard = MountGuard(vec![snap.merged_dir.clone()]);
    assert_eq!(snap.lower_dirs.len(), 1);
    let merged = store.mount_rootfs("scratch").unwrap();
    assert_eq!(fs::read_dir(&merged).unwrap().count(), 0);
    fs::write(merged.join("f"), "x").unwrap();
    assert!(snap.upper_dir.join("f").exists());
    assert_eq!(fs::read_dir(&snap.lower_dirs[0]).unwrap().count(), 0);
    store.remove("scratch").unwrap();
    assert!(mounts_under(store.root()).is_empty());
}

#[test]
fn prepare_errors() {
    if !is_root("prepare_errors") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(&tmp.path().join("overlay")).unwrap();
    let chain = commit_layers(&store, &[lower_tar()]);
    let missing = Digest::sha256_of(b"not committed");

    let e = store
        .prepare("c", &[chain[0].clone(), missing.clone()])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains(&missing.to_string()), "{e}");
    assert!(store.active().unwrap().is_empty());

    assert_eq!(
        store.prepare("../x", &chain).unwrap_err().kind(),
        ErrorKind::InvalidParameter
    );
    store.prepare("c", &chain).unwrap();
    assert_eq!(
        store.prepare("c", &chain).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        store.mount_rootfs("nope").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    store.remove("c").unwrap();
    assert_eq!(tmp_entries(store.root()), 0);
}

#[test]
fn concurrent_commit_of_same_chain() {
    if !is_root("concurrent_commit_of_same_chain") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(SnapshotStore::open(&tmp.path().join("overlay")).unwrap());
    let tar = Arc::new(lower_tar());
    let chain_id = Digest::sha256_of(&tar);
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (store, tar, chain_id, barrier) = (
                store.clone(),
                tar.clone(),
                chain_id.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                let pending = store.begin_layer().unwrap();
                unpack_layer(tar.as_slice(), pending.diff_dir()).unwrap();
                barrier.wait();
                pending.commit(&chain_id)
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(store.layers().unwrap(), vec![chain_id.clone()]);
    assert_eq!(tmp_entries(store.root()), 0, "duplicates dropped");
    let diff = store.layer_diff_dir(&chain_id);
    assert_eq!(fs::read_to_string(diff.join("etc/keep")).unwrap(), "lower");
    // Exactly one copy: layers/<hex> holds only diff/.
    let entries: Vec<_> = fs::read_dir(diff.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, vec!["diff"]);
}

#[test]
fn refcount_and_gc() {
    if !is_root("refcount_and_gc") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(&tmp.path().join("overlay")).unwrap();
    let chain = commit_layers(&store, &[lower_tar(), upper_tar()]);
    let other = commit_layers(&store, &[layer_tar(&[], &[("x", "other")])]);
    let unrelated = commit_layers(&store, &[layer_tar(&[], &[("y", "kept")])]);

    let snap = store.prepare("user", &chain).unwrap();
    let _guard = MountGuard(vec![snap.merged_dir.clone()]);
    store.mount_rootfs("user").unwrap();
    let in_use = store.layers_in_use().unwrap();
    assert_eq!(in_use, chain.iter().cloned().collect::<HashSet<_>>());

    let e = store.remove_layer(&chain[0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("user"), "{e}");
    assert!(store.has_layer(&chain[0]));

    let keep: HashSet<Digest> = unrelated.iter().cloned().collect();
    let removed = store.gc_layers(&keep).unwrap();
    assert_eq!(removed, other);
    assert!(store.has_layer(&chain[0]) && store.has_layer(&chain[1]));
    assert!(store.has_layer(&unrelated[0]));
    assert_eq!(
        store.remove_layer(&other[0]).unwrap_err().kind(),
        ErrorKind::NotFound
    );

    store.remove("user").unwrap();
    assert!(store.layers_in_use().unwrap().is_empty());
    let mut removed = store.gc_layers(&HashSet::new()).unwrap();
    removed.sort();
    let mut expected = vec![chain[0].clone(), chain[1].clone(), unrelated[0].clone()];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(store.layers().unwrap().is_empty());
    assert_eq!(tmp_entries(store.root()), 0);
    assert!(mounts_under(store.root()).is_empty());
}

#[test]
fn removal_of_hostile_layer() {
    if !is_root("removal_of_hostile_layer") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("precious"), "x").unwrap();
    let store = SnapshotStore::open(&tmp.path().join("overlay")).unwrap();

    let pending = store.begin_layer().unwrap();
    let diff = pending.diff_dir().to_path_buf();
    unpack_layer(upper_tar().as_slice(), &diff).unwrap();
    std::os::unix::fs::symlink(&outside, diff.join("escape")).unwrap();
    fs::create_dir(diff.join("ro")).unwrap();
    fs::write(diff.join("ro/f"), "f").unwrap();
    fs::set_permissions(diff.join("ro"), fs::Permissions::from_mode(0o500)).unwrap();
    let id = Digest::sha256_of(b"hostile");
    pending.commit(&id).unwrap();

    store.remove_layer(&id).unwrap();
    assert!(!store.has_layer(&id));
    assert!(outside.join("precious").exists());
    assert_eq!(tmp_entries(store.root()), 0);
}

#[test]
fn crash_recovery_and_dropped_pending() {
    if !is_root("crash_recovery_and_dropped_pending") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("overlay");
    let store = SnapshotStore::open(&root).unwrap();

    // Dropping an uncommitted layer removes it.
    let pending = store.begin_layer().unwrap();
    unpack_layer(lower_tar().as_slice(), pending.diff_dir()).unwrap();
    drop(pending);
    assert_eq!(tmp_entries(store.root()), 0);

    // A process killed mid-unpack leaves tmp/<unique>/diff behind (and
    // maybe whiteouts); the next open removes it and never commits it.
    let pending = store.begin_layer().unwrap();
    unpack_layer(upper_tar().as_slice(), pending.diff_dir()).unwrap();
    std::mem::forget(pending);
    assert_eq!(tmp_entries(store.root()), 1);
    drop(store);

    let store = SnapshotStore::open(&root).unwrap();
    assert_eq!(tmp_entries(store.root()), 0);
    assert!(store.layers().unwrap().is_empty());
}
