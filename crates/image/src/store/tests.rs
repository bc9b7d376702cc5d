use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use berth_errdefs::{ErrorKind, HasKind};

use super::time::Timestamp;
use super::*;
use crate::config::{ContainerConfig, History, ImageConfigFile, RootFs};
use crate::content::Digest;
use crate::record::{ImageRecord, LayerRecord, ManifestDescriptor};
use crate::reference::{parse_docker_ref, parse_normalized_named};

fn digest_of(s: &str) -> Digest {
    Digest::sha256_of(s.as_bytes())
}

/// An ID with a chosen hex prefix (the rest filled with `fill`).
fn id_with_prefix(prefix: &str, fill: char) -> Digest {
    let mut hex = prefix.to_string();
    while hex.len() < 64 {
        hex.push(fill);
    }
    Digest::parse(&format!("sha256:{hex}")).unwrap()
}

fn record(id: Digest, created: &str) -> ImageRecord {
    let diff_ids = vec![digest_of("diff0"), digest_of("diff1")];
    let chain = crate::record::chain_ids(&diff_ids);
    let layers = diff_ids
        .iter()
        .zip(&chain)
        .enumerate()
        .map(|(i, (diff, chain))| LayerRecord {
            blob: digest_of(&format!("blob{i}")),
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            blob_size: 100,
            diff_id: diff.clone(),
            chain_id: chain.clone(),
            unpacked_size: 1000 * (i as u64 + 1),
        })
        .collect();
    let mut labels = BTreeMap::new();
    labels.insert("maintainer".to_string(), "me".to_string());
    ImageRecord {
        id,
        config: ImageConfigFile {
            created: Some(created.to_string()),
            author: Some("someone".into()),
            architecture: "amd64".into(),
            os: "linux".into(),
            variant: None,
            config: Some(ContainerConfig {
                env: Some(vec!["PATH=/bin".into()]),
                cmd: Some(vec!["sh".into()]),
                labels: Some(labels),
                ..ContainerConfig::default()
            }),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids,
            },
            history: vec![
                History {
                    created: Some("2024-01-01T00:00:00Z".into()),
                    created_by: Some("ADD rootfs.tar /".into()),
                    ..History::default()
                },
                History {
                    created: Some("2024-01-01T00:00:01Z".into()),
                    created_by: Some("ENV PATH=/bin".into()),
                    empty_layer: true,
                    ..History::default()
                },
                History {
                    created: Some("2024-01-02T00:00:00Z".into()),
                    created_by: Some("RUN make".into()),
                    comment: Some("buildkit.dockerfile.v0".into()),
                    ..History::default()
                },
            ],
            extra: BTreeMap::new(),
        },
        manifest: ManifestDescriptor {
            digest: digest_of("manifest"),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            size: 500,
        },
        layers,
    }
}

fn open(dir: &Path) -> ImageStore {
    ImageStore::open(dir).unwrap()
}

fn r(s: &str) -> Reference {
    parse_normalized_named(s).unwrap()
}

fn names(refs: &[Reference]) -> Vec<String> {
    refs.iter().map(|r| r.familiar_string()).collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn records_and_refs_persist_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    {
        let s = open(dir.path());
        s.put(a.clone()).unwrap();
        s.put(a.clone()).unwrap(); // idempotent
        s.add_tag(&r("busybox"), &a.id).unwrap();
        let dref = r(&format!("busybox@{}", digest_of("manifest")));
        s.add_digest_ref(&dref, &a.id).unwrap();
    }
    let s = open(dir.path());
    assert_eq!(s.get(&a.id), Some(a.clone()));
    assert_eq!(s.list().len(), 1);
    assert_eq!(
        names(&s.references_to(&a.id)),
        vec![
            "busybox:latest".to_string(),
            format!("busybox@{}", digest_of("manifest"))
        ]
    );
    assert_eq!(
        files_in(&dir.path().join("images")),
        vec![format!("{}.json", a.id.hex())]
    );

    // Docker's refstore format, keyed by familiar names.
    let raw: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("repositories.json")).unwrap()).unwrap();
    assert_eq!(
        raw["Repositories"]["busybox"]["busybox:latest"],
        a.id.to_string()
    );
    let dkey = format!("busybox@{}", digest_of("manifest"));
    assert_eq!(
        raw["Repositories"]["busybox"][dkey.as_str()],
        a.id.to_string()
    );
}

#[test]
fn writes_leave_no_temp_files_and_open_cleans_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    let s = open(dir.path());
    s.put(a.clone()).unwrap();
    s.tag_image(&r("app:v1"), &a.id).unwrap();
    s.remove_reference(&r("app:v1")).unwrap();
    let leftovers: Vec<_> = all_files(dir.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Simulate a crash mid-write: temp files in every directory.
    fs::write(dir.path().join(".tmp-repositories.json-1-1"), b"{").unwrap();
    fs::write(dir.path().join("images/.tmp-abc.json-1-2"), b"{").unwrap();
    drop(s);
    let s = open(dir.path());
    assert!(!dir.path().join(".tmp-repositories.json-1-1").exists());
    assert!(!dir.path().join("images/.tmp-abc.json-1-2").exists());
    assert_eq!(s.list().len(), 1);
}

#[test]
fn broken_record_is_skipped_and_dangling_refs_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    let b = record(digest_of("config-b"), "2024-01-02T00:00:00Z");
    {
        let s = open(dir.path());
        s.put(a.clone()).unwrap();
        s.put(b.clone()).unwrap();
        s.add_tag(&r("a"), &a.id).unwrap();
        s.add_tag(&r("b"), &b.id).unwrap();
    }
    fs::write(
        dir.path().join(format!("images/{}.json", b.id.hex())),
        b"not json",
    )
    .unwrap();
    let s = open(dir.path());
    assert_eq!(s.list(), vec![a.clone()]);
    assert_eq!(s.resolve_reference(&r("a")), Some(a.id.clone()));
    assert_eq!(s.resolve_reference(&r("b")), None);
    // The file was rewritten without the dangling ref.
    let raw: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("repositories.json")).unwrap()).unwrap();
    assert!(raw["Repositories"].get("b").is_none(), "{raw}");
    assert_eq!(raw["Repositories"]["a"]["a:latest"], a.id.to_string());
}

#[test]
fn tags_move_like_docker_tag() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    let b = record(digest_of("config-b"), "2024-01-03T00:00:00Z");
    s.put(a.clone()).unwrap();
    s.put(b.clone()).unwrap();
    s.add_tag(&r("app:1"), &a.id).unwrap();
    s.add_tag(&r("app:1"), &b.id).unwrap();
    assert_eq!(s.resolve_reference(&r("app:1")), Some(b.id.clone()));
    assert!(s.references_to(&a.id).is_empty());
    assert_eq!(names(&s.references_to(&b.id)), vec!["app:1"]);

    // A name without a tag means :latest.
    s.add_tag(&r("app"), &a.id).unwrap();
    assert_eq!(s.resolve_reference(&r("app:latest")), Some(a.id.clone()));
    assert_eq!(s.resolve_reference(&r("app")), Some(a.id.clone()));

    let err = s
        .add_tag(&r(&format!("app@{}", digest_of("m"))), &a.id)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert_eq!(
        err.to_string(),
        "refusing to create a tag with a digest reference"
    );
    let err = s.add_tag(&r("sha256:abc"), &a.id).unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing to create an ambiguous tag using digest algorithm as name"
    );
    let missing = digest_of("nope");
    let err = s.add_tag(&r("x"), &missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), format!("No such image: {missing}"));
}

#[test]
fn digest_refs_cannot_be_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    let b = record(digest_of("config-b"), "2024-01-02T00:00:00Z");
    s.put(a.clone()).unwrap();
    s.put(b.clone()).unwrap();
    let m = digest_of("manifest");
    // name:tag@digest is stored as name@digest.
    s.add_digest_ref(&r(&format!("localhost:5000/app:v1@{m}")), &a.id)
        .unwrap();
    s.add_digest_ref(&r(&format!("localhost:5000/app@{m}")), &a.id)
        .unwrap(); // same pair again: fine
    assert_eq!(
        names(&s.references_to(&a.id)),
        vec![format!("localhost:5000/app@{m}")]
    );
    let err = s
        .add_digest_ref(&r(&format!("localhost:5000/app@{m}")), &b.id)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.to_string(), format!("Cannot overwrite digest {m}"));
    let err = s
        .add_digest_ref(&r("localhost:5000/app:v1"), &a.id)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    // Lookup with a tag next to the digest goes by digest.
    assert_eq!(
        s.resolve_reference(&r(&format!("localhost:5000/app:other@{m}"))),
        Some(a.id.clone())
    );
}

#[test]
fn remove_reference_returns_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    s.put(a.clone()).unwrap();
    s.add_tag(&r("busybox:latest"), &a.id).unwrap();
    s.add_tag(&r("busybox:1.36"), &a.id).unwrap();
    assert_eq!(s.remove_reference(&r("busybox")).unwrap(), a.id);
    assert_eq!(names(&s.references_to(&a.id)), vec!["busybox:1.36"]);
    let err = s.remove_reference(&r("busybox")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "reference does not exist");
    let err = s.remove_reference(&r("other:1")).unwrap_err();
    assert_eq!(err.to_string(), "reference does not exist");
    // The image itself stays.
    assert!(s.contains(&a.id));
    drop(s);
    let s = open(dir.path());
    assert_eq!(names(&s.references_to(&a.id)), vec!["busybox:1.36"]);
}

#[test]
fn delete_record_drops_its_refs() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    s.put(a.clone()).unwrap();
    s.tag_image(&r("busybox:latest"), &a.id).unwrap();
    let removed = s.delete_record(&a.id).unwrap();
    assert_eq!(names(&removed), vec!["busybox:latest"]);
    assert!(s.get(&a.id).is_none());
    assert!(files_in(&dir.path().join("images")).is_empty());
    assert!(files_in(&dir.path().join("metadata")).is_empty());
    assert_eq!(s.resolve_reference(&r("busybox")), None);
    let err = s.delete_record(&a.id).unwrap_err();
    assert_eq!(err.to_string(), format!("No such image: {}", a.id));
    drop(s);
    assert!(open(dir.path()).list().is_empty());
}

fn lookup_store(dir: &Path) -> (ImageStore, ImageRecord, ImageRecord, ImageRecord) {
    let s = open(dir);
    let a = record(id_with_prefix("abcd1", '0'), "2024-01-02T00:00:00Z");
    let b = record(id_with_prefix("abcd2", '0'), "2024-01-02T00:00:00Z");
    let c = record(id_with_prefix("fedc", '9'), "2024-01-02T00:00:00Z");
    for rec in [&a, &b, &c] {
        s.put(rec.clone()).unwrap();
    }
    s.add_tag(&r("busybox:latest"), &a.id).unwrap();
    s.add_tag(&r("localhost:5000/team/app:v2"), &b.id).unwrap();
    s.add_digest_ref(&r(&format!("busybox@{}", digest_of("manifest"))), &c.id)
        .unwrap();
    (s, a, b, c)
}

#[test]
fn get_image_by_name_id_digest_and_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let (s, a, b, c) = lookup_store(dir.path());
    assert_eq!(s.get_image("busybox").unwrap().id, a.id);
    assert_eq!(s.get_image("busybox:latest").unwrap().id, a.id);
    assert_eq!(s.get_image("docker.io/library/busybox").unwrap().id, a.id);
    assert_eq!(s.get_image("localhost:5000/team/app:v2").unwrap().id, b.id);
    assert_eq!(
        s.get_image(&format!("busybox@{}", digest_of("manifest")))
            .unwrap()
            .id,
        c.id
    );
    assert_eq!(s.get_image(c.id.hex()).unwrap().id, c.id);
    assert_eq!(s.get_image(&c.id.to_string()).unwrap().id, c.id);
    assert_eq!(s.get_image("abcd1").unwrap().id, a.id);
    assert_eq!(s.get_image("sha256:abcd2").unwrap().id, b.id);
    assert_eq!(s.get_image("fedc").unwrap().id, c.id);
}

#[test]
fn get_image_errors_match_moby() {
    let dir = tempfile::tempdir().unwrap();
    let (s, ..) = lookup_store(dir.path());

    let err = s.get_image("abcd").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "ambiguous reference");
    let err = s.get_image("sha256:abcd").unwrap_err();
    assert_eq!(err.to_string(), "ambiguous reference");

    let err = s.get_image("nosuch").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "No such image: nosuch:latest");
    let err = s.get_image("localhost:5000/team/app").unwrap_err();
    assert_eq!(
        err.to_string(),
        "No such image: localhost:5000/team/app:latest"
    );
    // Fewer than 4 hex characters is a name, not a short ID.
    let err = s.get_image("abc").unwrap_err();
    assert_eq!(err.to_string(), "No such image: abc:latest");
    // A prefix matching nothing.
    let err = s.get_image("0123").unwrap_err();
    assert_eq!(err.to_string(), "No such image: 0123:latest");
    // A full ID that is not stored, bare or with its algorithm.
    let missing = digest_of("missing");
    let err = s.get_image(missing.hex()).unwrap_err();
    assert_eq!(err.to_string(), format!("No such image: {missing}"));
    let err = s.get_image(&missing.to_string()).unwrap_err();
    assert_eq!(err.to_string(), format!("No such image: {missing}"));
    let m = digest_of("other-manifest");
    let err = s.get_image(&format!("busybox@{m}")).unwrap_err();
    assert_eq!(err.to_string(), format!("No such image: busybox@{m}"));

    for bad in ["Busybox", "bad ref", "", "busybox:"] {
        let err = s.get_image(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{bad:?}");
        let want = parse_docker_ref(bad).unwrap_err().to_string();
        assert_eq!(err.to_string(), want, "{bad:?}");
    }
    assert_eq!(
        s.get_image("Busybox").unwrap_err().to_string(),
        "invalid reference format: repository name (library/Busybox) must be lowercase"
    );
}

#[test]
fn inspect_has_dockers_field_names_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let mut a = record(digest_of("config-a"), "2024-01-02T03:04:05.500000000Z");
    a.config
        .extra
        .insert("docker_version".into(), serde_json::json!("24.0.7"));
    s.put(a.clone()).unwrap();
    s.add_tag(&r("busybox"), &a.id).unwrap();
    s.add_digest_ref(&r(&format!("busybox@{}", digest_of("manifest"))), &a.id)
        .unwrap();

    let gd = overlay2_graph_driver(
        &[PathBuf::from("/o/l1/diff")],
        Path::new("/o/l2/diff"),
        Path::new("/o/l2/work"),
        Path::new("/o/l2/merged"),
    );
    let inspect = s.inspect(&a.id, gd).unwrap();
    let v = serde_json::to_value(&inspect).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "Id",
        "RepoTags",
        "RepoDigests",
        "Parent",
        "Comment",
        "Created",
        "DockerVersion",
        "Author",
        "Config",
        "Architecture",
        "Os",
        "Size",
        "GraphDriver",
        "RootFS",
        "Metadata",
        "Descriptor",
    ];
    want.sort();
    let mut got = keys.clone();
    got.sort();
    assert_eq!(got, want);

    assert_eq!(v["Id"], a.id.to_string());
    assert_eq!(v["RepoTags"], serde_json::json!(["busybox:latest"]));
    assert_eq!(
        v["RepoDigests"],
        serde_json::json!([format!("busybox@{}", digest_of("manifest"))])
    );
    assert_eq!(v["Created"], "2024-01-02T03:04:05.5Z");
    assert_eq!(v["Comment"], "buildkit.dockerfile.v0");
    assert_eq!(v["DockerVersion"], "24.0.7");
    assert_eq!(v["Author"], "someone");
    assert_eq!(v["Size"], 3000);
    assert_eq!(v["Parent"], "");
    assert_eq!(v["GraphDriver"]["Name"], "overlay2");
    assert_eq!(v["GraphDriver"]["Data"]["LowerDir"], "/o/l1/diff");
    assert_eq!(v["GraphDriver"]["Data"]["UpperDir"], "/o/l2/diff");
    assert_eq!(v["RootFS"]["Type"], "layers");
    assert_eq!(
        v["RootFS"]["Layers"],
        serde_json::json!([
            digest_of("diff0").to_string(),
            digest_of("diff1").to_string()
        ])
    );
    assert_eq!(v["Metadata"]["LastTagTime"], "0001-01-01T00:00:00Z");
    assert_eq!(v["Descriptor"]["mediaType"], a.manifest.media_type);
    assert_eq!(v["Descriptor"]["digest"], a.manifest.digest.to_string());
    assert_eq!(v["Descriptor"]["size"], 500);

    let c = v["Config"].as_object().unwrap();
    for (k, val) in [
        ("Hostname", serde_json::json!("")),
        ("Domainname", serde_json::json!("")),
        ("User", serde_json::json!("")),
        ("AttachStdin", serde_json::json!(false)),
        ("AttachStdout", serde_json::json!(false)),
        ("AttachStderr", serde_json::json!(false)),
        ("Tty", serde_json::json!(false)),
        ("OpenStdin", serde_json::json!(false)),
        ("StdinOnce", serde_json::json!(false)),
        ("Env", serde_json::json!(["PATH=/bin"])),
        ("Cmd", serde_json::json!(["sh"])),
        ("Image", serde_json::json!("")),
        ("Volumes", serde_json::Value::Null),
        ("WorkingDir", serde_json::json!("")),
        ("Entrypoint", serde_json::Value::Null),
        ("OnBuild", serde_json::Value::Null),
        ("Labels", serde_json::json!({"maintainer": "me"})),
    ] {
        assert_eq!(c.get(k), Some(&val), "Config.{k}");
    }
    for absent in [
        "ExposedPorts",
        "Healthcheck",
        "ArgsEscaped",
        "StopSignal",
        "Shell",
    ] {
        assert!(!c.contains_key(absent), "Config.{absent} should be omitted");
    }

    // Round trip.
    let back: ImageInspect = serde_json::from_value(v).unwrap();
    assert_eq!(back, inspect);

    // docker tag records LastTagTime.
    s.tag_image(&r("app:v1"), &a.id).unwrap();
    let again = s.inspect(&a.id, GraphDriverData::default()).unwrap();
    let t = Timestamp::parse(&again.metadata.last_tag_time).unwrap();
    assert!(t.secs > 1_700_000_000, "{}", again.metadata.last_tag_time);
    assert_eq!(again.repo_tags, vec!["app:v1", "busybox:latest"]);
    drop(s);
    let s = open(dir.path());
    let reopened = s.inspect(&a.id, GraphDriverData::default()).unwrap();
    assert_eq!(reopened.metadata, again.metadata);
}

#[test]
fn summaries_are_newest_first_with_docker_fields() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let old = record(digest_of("old"), "2020-01-01T00:00:00Z");
    let new = record(digest_of("new"), "2024-01-01T00:00:00+01:00");
    s.put(old.clone()).unwrap();
    s.put(new.clone()).unwrap();
    s.add_tag(&r("new:1"), &new.id).unwrap();
    let list = s.summaries();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, new.id.to_string());
    assert_eq!(list[0].created, 1_704_063_600); // 2023-12-31T23:00:00Z
    assert_eq!(list[0].repo_tags, vec!["new:1"]);
    assert_eq!(list[1].created, 1_577_836_800);
    let v = serde_json::to_value(&list[1]).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "Containers",
            "Created",
            "Id",
            "Labels",
            "ParentId",
            "RepoDigests",
            "RepoTags",
            "SharedSize",
            "Size"
        ]
    );
    assert_eq!(v["RepoTags"], serde_json::json!([]));
    assert_eq!(v["RepoDigests"], serde_json::json!([]));
    assert_eq!(v["SharedSize"], -1);
    assert_eq!(v["Containers"], -1);
    assert_eq!(v["Size"], 3000);
    assert_eq!(v["Labels"], serde_json::json!({"maintainer": "me"}));
}

#[test]
fn history_follows_moby() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    s.put(a.clone()).unwrap();
    s.add_tag(&r("busybox"), &a.id).unwrap();
    let h = s.history(&a.id).unwrap();
    assert_eq!(h.len(), 3);
    // Newest first; the top entry carries the ID and tags.
    assert_eq!(h[0].id, a.id.to_string());
    assert_eq!(h[0].created_by, "RUN make");
    assert_eq!(h[0].size, 2000);
    assert_eq!(h[0].comment, "buildkit.dockerfile.v0");
    assert_eq!(h[0].tags, Some(vec!["busybox:latest".to_string()]));
    assert_eq!(h[0].created, 1_704_153_600);
    assert_eq!(h[1].id, "<missing>");
    assert_eq!(h[1].size, 0);
    assert_eq!(h[1].created_by, "ENV PATH=/bin");
    assert_eq!(h[1].tags, None);
    assert_eq!(h[2].id, "<missing>");
    assert_eq!(h[2].size, 1000);
    let v = serde_json::to_value(&h[1]).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec!["Comment", "Created", "CreatedBy", "Id", "Size", "Tags"]
    );
    assert_eq!(v["Tags"], serde_json::Value::Null);

    // More layer-making steps than layers is refused.
    let mut bad = record(digest_of("config-bad"), "2024-01-02T00:00:00Z");
    bad.config.history[1].empty_layer = false;
    s.put(bad.clone()).unwrap();
    let err = s.history(&bad.id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::System);
    assert!(
        err.to_string()
            .contains("too many non-empty layers in History section"),
        "{err}"
    );
    let err = s.history(&digest_of("none")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn concurrent_tagging_from_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let a = record(digest_of("config-a"), "2024-01-02T00:00:00Z");
    s.put(a.clone()).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            let id = a.id.clone();
            std::thread::spawn(move || {
                for j in 0..10 {
                    s.add_tag(&r(&format!("app:t{i}-{j}")), &id).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(s.references_to(&a.id).len(), 80);
    drop(s);
    assert_eq!(open(dir.path()).references_to(&a.id).len(), 80);
}

#[test]
fn rfc3339_round_trips_like_go() {
    let t = Timestamp::parse("2024-02-29T23:59:59.123400+02:00").unwrap();
    assert_eq!(t.secs, 1_709_243_999); // date -d 2024-02-29T23:59:59+02:00 +%s
    assert_eq!(t.to_rfc3339_nano(), "2024-02-29T23:59:59.1234+02:00");
    assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z").unwrap().secs, 0);
    assert!(Timestamp::parse("2024-02-30T00:00:00Z").is_none());
    assert!(Timestamp::parse("yesterday").is_none());
}
