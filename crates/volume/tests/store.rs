//! The volume store over a real directory: create/get/list/remove,
//! references, reopening, adoption and usage.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use berth_volume::{CreateOptions, VolumeError, VolumeStore, ANONYMOUS_LABEL};
use common::{is_mounted, opts, MountGuard};

fn named(name: &str) -> CreateOptions {
    CreateOptions {
        name: Some(name.to_owned()),
        ..Default::default()
    }
}

#[test]
fn create_is_idempotent_and_keeps_the_first_labels() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    let first = store
        .create(CreateOptions {
            name: Some("web".into()),
            labels: opts(&[("tier", "front")]),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(first.driver, "local");
    assert!(first.mountpoint.ends_with("web/_data"));
    assert!(first.mountpoint.is_dir());
    assert!(!first.is_anonymous());
    let again = store
        .create(CreateOptions {
            name: Some("web".into()),
            driver: Some("local".into()),
            labels: opts(&[("tier", "back")]),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(store.get("web").unwrap(), first);

    store.create(named("alpha")).unwrap();
    let names: Vec<_> = store.list().unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(names, vec!["alpha", "web"]);
}

#[test]
fn bad_names_options_and_drivers_are_refused_with_mobys_words() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    let err = store.create(named("a/b")).unwrap_err();
    assert!(matches!(err, VolumeError::InvalidParameter(_)));
    assert!(err
        .to_string()
        .starts_with("create a/b: \"a/b\" includes invalid characters"));

    let err = store
        .create(CreateOptions {
            name: Some("v".repeat(2)),
            options: opts(&[("size", "1g")]),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(err, VolumeError::InvalidParameter(_)));
    assert_eq!(err.to_string(), "create vv: invalid option: \"size\"");

    let err = store
        .create(CreateOptions {
            name: Some("vv".into()),
            driver: Some("nfs-plugin".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(err, VolumeError::NotFound(_)));
    assert_eq!(
        err.to_string(),
        "create vv: error looking up volume plugin nfs-plugin: plugin \"nfs-plugin\" not found"
    );
    assert!(store.list().unwrap().is_empty(), "nothing half-created");
    assert!(!root.path().join("vv").exists());
}

#[test]
fn anonymous_volumes_get_a_random_name_and_the_label() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    let a = store.create(CreateOptions::default()).unwrap();
    let b = store
        .create(CreateOptions {
            name: Some(String::new()),
            labels: opts(&[("x", "y")]),
            ..Default::default()
        })
        .unwrap();
    for v in [&a, &b] {
        assert_eq!(v.name.len(), 64);
        assert!(v.name.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(v.is_anonymous());
        assert_eq!(v.labels.get(ANONYMOUS_LABEL).map(String::as_str), Some(""));
    }
    assert_eq!(b.labels.get("x").map(String::as_str), Some("y"));
    assert_ne!(a.name, b.name);
}

#[test]
fn in_use_volumes_are_not_removed_even_with_force() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    let v = store.create(named("shared")).unwrap();
    store.add_ref("shared", "c2").unwrap();
    store.add_ref("shared", "c1").unwrap();
    store.add_ref("shared", "c1").unwrap();
    assert_eq!(store.refs("shared"), vec!["c1", "c2"]);
    for force in [false, true] {
        let err = store.remove("shared", force).unwrap_err();
        assert!(matches!(err, VolumeError::Conflict(_)));
        assert_eq!(
            err.to_string(),
            "remove shared: volume is in use - [c1, c2]"
        );
    }
    store.remove_ref("shared", "c1");
    store.remove_ref("shared", "nobody");
    store.remove_ref("nothing", "c1");
    assert_eq!(
        store.remove("shared", false).unwrap_err().to_string(),
        "remove shared: volume is in use - [c2]"
    );
    store.remove_ref("shared", "c2");
    assert!(store.refs("shared").is_empty());
    store.remove("shared", false).unwrap();
    assert!(!v.mountpoint.exists());

    let err = store.get("shared").unwrap_err();
    assert!(matches!(err, VolumeError::NotFound(_)));
    assert_eq!(err.to_string(), "get shared: no such volume");
    assert_eq!(
        store.remove("shared", false).unwrap_err().to_string(),
        "get shared: no such volume"
    );
    store.remove("shared", true).unwrap();
    assert!(matches!(
        store.add_ref("shared", "c1"),
        Err(VolumeError::NotFound(_))
    ));
    assert!(matches!(
        store.mount("shared", "c1"),
        Err(VolumeError::NotFound(_))
    ));
}

#[test]
fn reopen_keeps_metadata_adopts_bare_dirs_and_drops_orphan_metadata() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    let kept = store
        .create(CreateOptions {
            name: Some("kept".into()),
            labels: opts(&[("a", "1")]),
            options: opts(&[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=1m")]),
            ..Default::default()
        })
        .unwrap();
    let anon = store.create(CreateOptions::default()).unwrap();
    drop(store);

    // A volume directory from an older daemon, with no metadata.
    std::fs::create_dir_all(root.path().join("handmade/_data")).unwrap();
    let mtime = std::fs::metadata(root.path().join("handmade"))
        .unwrap()
        .modified()
        .unwrap();
    // Metadata whose volume is gone.
    std::fs::write(
        root.path().join("_meta/ghost.json"),
        br#"{"name":"ghost","driver":"local","created_at":"2020-01-01T00:00:00Z"}"#,
    )
    .unwrap();

    let store = VolumeStore::open(root.path()).unwrap();
    assert_eq!(
        store.get("kept").unwrap(),
        kept,
        "labels, options and created_at survive"
    );
    assert_eq!(store.get(&anon.name).unwrap(), anon);
    let handmade = store.get("handmade").unwrap();
    assert_eq!(handmade.created_at, mtime);
    assert!(handmade.labels.is_empty() && handmade.options.is_empty());
    assert!(
        root.path().join("_meta/handmade.json").exists(),
        "adoption is recorded"
    );
    assert!(matches!(store.get("ghost"), Err(VolumeError::NotFound(_))));
    assert!(!root.path().join("_meta/ghost.json").exists());
    let names: Vec<_> = store.list().unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(names.len(), 3);
    drop(store);

    // And once more: the adopted volume keeps its date too.
    let store = VolumeStore::open(root.path()).unwrap();
    assert_eq!(store.get("handmade").unwrap().created_at, mtime);
}

#[test]
fn a_volume_deleted_behind_the_stores_back_disappears() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    store.create(named("vanish")).unwrap();
    std::fs::remove_dir_all(root.path().join("vanish")).unwrap();
    assert!(matches!(store.get("vanish"), Err(VolumeError::NotFound(_))));
    assert!(store.list().unwrap().is_empty());
    // And its name can be used again.
    store.create(named("vanish")).unwrap();
}

#[test]
fn a_create_that_fails_after_the_driver_made_the_volume_is_undone() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    // Metadata cannot be written once `_meta` is a file.
    std::fs::remove_dir(root.path().join("_meta")).unwrap();
    std::fs::write(root.path().join("_meta"), b"").unwrap();
    let err = store.create(named("doomed")).unwrap_err();
    assert!(matches!(err, VolumeError::System(_)), "{err:?}");
    assert!(err.to_string().starts_with("create doomed: "), "{err}");
    assert!(
        !root.path().join("doomed").exists(),
        "the driver's directory was removed"
    );
    assert!(matches!(store.get("doomed"), Err(VolumeError::NotFound(_))));
}

#[test]
fn created_at_is_now_and_round_trips_exactly() {
    let root = tempfile::tempdir().unwrap();
    let before = SystemTime::now();
    let store = VolumeStore::open(root.path()).unwrap();
    let v = store.create(named("timed")).unwrap();
    assert!(v.created_at >= before && v.created_at <= SystemTime::now() + Duration::from_secs(1));
    drop(store);
    let store = VolumeStore::open(root.path()).unwrap();
    assert_eq!(store.get("timed").unwrap().created_at, v.created_at);
    let meta = std::fs::read_to_string(root.path().join("_meta/timed.json")).unwrap();
    let meta: BTreeMap<String, serde_json::Value> = serde_json::from_str(&meta).unwrap();
    assert!(meta["created_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn mount_and_unmount_go_through_the_driver() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    let plain = store.create(named("plain")).unwrap();
    assert_eq!(store.mount("plain", "c1").unwrap(), plain.mountpoint);
    store.unmount("plain", "c1").unwrap();

    let tmp = store
        .create(CreateOptions {
            name: Some("tmp".into()),
            options: opts(&[("type", "tmpfs"), ("device", "tmpfs")]),
            ..Default::default()
        })
        .unwrap();
    let mut guard = MountGuard::default();
    guard.watch(&tmp.mountpoint);
    store.mount("tmp", "c1").unwrap();
    assert!(is_mounted(&tmp.mountpoint));
    store.unmount("tmp", "c1").unwrap();
    assert!(!is_mounted(&tmp.mountpoint));
}

#[test]
fn usage_counts_hard_links_once_and_follows_no_symlink() {
    let root = tempfile::tempdir().unwrap();
    let store = VolumeStore::open(root.path()).unwrap();
    let v = store.create(named("sized")).unwrap();
    assert_eq!(store.usage("sized").unwrap(), 0);
    let data = &v.mountpoint;
    std::fs::write(data.join("big"), vec![7u8; 10_000]).unwrap();
    std::fs::hard_link(data.join("big"), data.join("big-again")).unwrap();
    std::fs::create_dir(data.join("dir")).unwrap();
    std::fs::hard_link(data.join("big"), data.join("dir/big-third")).unwrap();
    std::fs::write(data.join("dir/small"), b"12345").unwrap();
    std::os::unix::fs::symlink("/usr", data.join("usr-link")).unwrap();
    // 10_000 once, 5, and the 4-byte link itself (not what it points at).
    assert_eq!(store.usage("sized").unwrap(), 10_000 + 5 + 4);
    assert!(matches!(store.usage("nope"), Err(VolumeError::NotFound(_))));
}
