//! `docker save` / `docker load` against real stores on a temp data root:
//! OCI and legacy archives built by hand, a save/remove/load round trip,
//! and hostile archives that must be refused without side effects.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use berth_image::content::Digest;
use berth_image::manifest::{OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST};
use berth_image::record::chain_ids;
use berth_image::service::{ImageService, ImageServiceConfig, LocalImageService};
use serde_json::{json, Value};

fn digest(b: &[u8]) -> Digest {
    Digest::sha256_of(b)
}

fn open(dir: &Path) -> LocalImageService {
    LocalImageService::open(ImageServiceConfig::new(dir.join("data"))).unwrap()
}

/// A layer tar with the given files (and their directories).
fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dirs = std::collections::BTreeSet::new();
    for (name, data) in files {
        let mut parts: Vec<&str> = name.split('/').collect();
        parts.pop();
        let mut acc = String::new();
        for p in parts {
            acc.push_str(p);
            acc.push('/');
            if dirs.insert(acc.clone()) {
                let mut h = tar::Header::new_ustar();
                h.set_path(&acc).unwrap();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_uid(0);
                h.set_gid(0);
                h.set_mtime(0);
                h.set_size(0);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
        }
        let mut h = tar::Header::new_ustar();
        h.set_path(name).unwrap();
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// An image built by hand: the config bytes and, per layer, the blob as
/// stored and its uncompressed tar.
struct Img {
    config: Vec<u8>,
    blobs: Vec<Vec<u8>>,
    diff_ids: Vec<Digest>,
}

impl Img {
    fn new(tag: &str, layers: Vec<(Vec<u8>, bool)>) -> Img {
        let diff_ids: Vec<Digest> = layers.iter().map(|(t, _)| digest(t)).collect();
        let blobs = layers
            .into_iter()
            .map(|(t, gz)| if gz { gzip(&t) } else { t })
            .collect();
        Img::with_config(tag, diff_ids.clone(), blobs, diff_ids)
    }

    fn with_config(
        tag: &str,
        claimed: Vec<Digest>,
        blobs: Vec<Vec<u8>>,
        diff_ids: Vec<Digest>,
    ) -> Img {
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-01-02T03:04:05Z",
            "config": {"Cmd": ["sh"], "Labels": {"which": tag}},
            "rootfs": {"type": "layers", "diff_ids": claimed.iter().map(|d| d.to_string()).collect::<Vec<_>>()},
        }))
        .unwrap();
        Img {
            config,
            blobs,
            diff_ids,
        }
    }

    fn id(&self) -> Digest {
        digest(&self.config)
    }

    fn manifest(&self) -> Vec<u8> {
        let layers: Vec<Value> = self
            .blobs
            .iter()
            .map(|b| {
                let media = if b.starts_with(&[0x1f, 0x8b]) {
                    OCI_LAYER_GZIP
                } else {
                    OCI_LAYER_TAR
                };
                json!({"mediaType": media, "digest": digest(b).to_string(), "size": b.len()})
            })
            .collect();
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": self.id().to_string(), "size": self.config.len()},
            "layers": layers,
        }))
        .unwrap()
    }
}

/// Entries of a hand-made archive.
enum E {
    File(String, Vec<u8>),
    /// A file whose name is written raw (no validation by the tar crate).
    Raw(Vec<u8>, Vec<u8>),
    Symlink(String, String),
    CharDevice(String),
}

fn tar_of(entries: Vec<E>) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        match e {
            E::File(name, data) => {
                h.set_path(&name).unwrap();
                h.set_size(data.len() as u64);
                h.set_cksum();
                b.append(&h, &data[..]).unwrap();
            }
            E::Raw(name, data) => {
                h.as_old_mut().name[..name.len()].copy_from_slice(&name);
                h.set_size(data.len() as u64);
                h.set_cksum();
                b.append(&h, &data[..]).unwrap();
            }
            E::Symlink(name, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_path(&name).unwrap();
                h.set_link_name(&target).unwrap();
                h.set_size(0);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            E::CharDevice(name) => {
                h.set_entry_type(tar::EntryType::Char);
                h.set_path(&name).unwrap();
                h.set_size(0);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn blob(b: &[u8]) -> E {
    E::File(format!("blobs/sha256/{}", digest(b).hex()), b.to_vec())
}

/// The OCI layout entries for `images` (each with an optional full name).
fn oci_entries(images: &[(&Img, Option<&str>)]) -> Vec<E> {
    let mut entries = vec![E::File(
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    )];
    let mut index = Vec::new();
    for (img, name) in images {
        let m = img.manifest();
        let mut desc =
            json!({"mediaType": OCI_MANIFEST, "digest": digest(&m).to_string(), "size": m.len()});
        if let Some(name) = name {
            desc["annotations"] = json!({
                "io.containerd.image.name": name,
                "org.opencontainers.image.ref.name": name.rsplit(':').next().unwrap(),
            });
        }
        index.push(desc);
        entries.push(blob(&m));
        entries.push(blob(&img.config));
        for b in &img.blobs {
            entries.push(blob(b));
        }
    }
    entries.push(E::File(
        "index.json".into(),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": index})).unwrap(),
    ));
    entries
}

fn two_layer_image() -> Img {
    Img::new(
        "two",
        vec![
            (layer_tar(&[("bin/hello", b"hello world\n")]), true),
            (layer_tar(&[("etc/motd", b"welcome\n")]), false),
        ],
    )
}

/// Every file under `dir` (recursively), relative.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            }
            out.push(e.path().strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out
}

/// No image, no spool directory left, no committed layer.
fn assert_untouched(svc: &LocalImageService, root: &Path) {
    assert!(svc.images().list().is_empty(), "an image was registered");
    let ingest = svc.data_root().join("image/content/ingest");
    let left: Vec<_> = std::fs::read_dir(&ingest)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in ingest: {left:?}");
    assert!(
        svc.snapshots().layers().unwrap().is_empty(),
        "a layer was committed"
    );
    let evil: Vec<_> = walk(root)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("evil"))
        })
        .collect();
    assert!(evil.is_empty(), "written outside the spool: {evil:?}");
}

/// (path, mtime, bytes) of every entry of a tar.
fn read_tar(bytes: &[u8]) -> Vec<(String, u64, Vec<u8>)> {
    let mut a = tar::Archive::new(bytes);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mtime = e.header().mtime().unwrap();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (path, mtime, data)
        })
        .collect()
}

#[test]
fn loads_an_oci_archive_with_two_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let img = two_layer_image();
    let archive = tar_of(oci_entries(&[(&img, Some("docker.io/library/app:v1"))]));

    let out = svc.load(&mut &archive[..]).unwrap();
    assert_eq!(out, vec!["Loaded image: app:v1".to_string()]);

    let rec = svc.get_image("app:v1").unwrap();
    assert_eq!(rec.id, img.id());
    assert_eq!(rec.manifest.digest, digest(&img.manifest()));
    assert_eq!(rec.manifest.media_type, OCI_MANIFEST);
    assert_eq!(rec.layers.len(), 2);
    let chain = chain_ids(&img.diff_ids);
    for (i, l) in rec.layers.iter().enumerate() {
        assert_eq!(l.blob, digest(&img.blobs[i]));
        assert_eq!(l.blob_size, img.blobs[i].len() as u64);
        assert_eq!(l.diff_id, img.diff_ids[i]);
        assert_eq!(l.chain_id, chain[i]);
        assert!(svc.content().contains(&l.blob));
    }
    assert_eq!(rec.layers[0].media_type, OCI_LAYER_GZIP);
    assert_eq!(rec.layers[1].media_type, OCI_LAYER_TAR);
    assert_eq!(rec.layers[0].unpacked_size, 12);
    let snaps = svc.snapshots();
    assert_eq!(
        std::fs::read(snaps.layer_diff_dir(&chain[0]).join("bin/hello")).unwrap(),
        b"hello world\n"
    );
    assert_eq!(
        std::fs::read(snaps.layer_diff_dir(&chain[1]).join("etc/motd")).unwrap(),
        b"welcome\n"
    );
    assert_eq!(
        svc.content().read_all(&img.id(), 1 << 20).unwrap(),
        img.config
    );

    // Loading again is idempotent.
    let again = svc.load(&mut &archive[..]).unwrap();
    assert_eq!(again, out);
    assert_eq!(svc.images().list().len(), 1);
    let ingest = svc.data_root().join("image/content/ingest");
    assert_eq!(std::fs::read_dir(ingest).unwrap().count(), 0);
}

#[test]
fn save_writes_both_formats_deterministically_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let img = two_layer_image();
    let archive = tar_of(oci_entries(&[(&img, Some("docker.io/library/app:v1"))]));
    svc.load(&mut &archive[..]).unwrap();
    svc.tag("app:v1", "app:v2").unwrap();
    let original = svc.get_image("app:v1").unwrap();

    let mut saved = Vec::new();
    svc.save(&["app:v1".to_string()], &mut saved).unwrap();
    let mut saved2 = Vec::new();
    svc.save(&["app:v1".to_string()], &mut saved2).unwrap();
    assert_eq!(saved, saved2, "save is not deterministic");

    let entries = read_tar(&saved);
    let names: Vec<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
    let mut blob_names: Vec<String> = [
        img.config.clone(),
        img.manifest(),
        img.blobs[0].clone(),
        img.blobs[1].clone(),
    ]
    .iter()
    .map(|b| format!("blobs/sha256/{}", digest(b).hex()))
    .collect();
    blob_names.sort();
    let mut expect = vec!["blobs/".to_string(), "blobs/sha256/".to_string()];
    expect.extend(blob_names);
    expect.extend(["index.json", "manifest.json", "oci-layout", "repositories"].map(String::from));
    assert_eq!(names, expect);
    for (name, mtime, data) in &entries {
        assert_eq!(*mtime, 0, "{name}");
        if let Some(hex) = name.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()) {
            assert_eq!(
                digest(data).hex(),
                hex,
                "blob {name} does not match its name"
            );
        }
    }
    let file = |n: &str| &entries.iter().find(|(name, _, _)| name == n).unwrap().2;

    let manifest: Value = serde_json::from_slice(file("manifest.json")).unwrap();
    assert_eq!(
        manifest,
        json!([{
            "Config": format!("blobs/sha256/{}", img.id().hex()),
            "RepoTags": ["app:v1"],
            "Layers": img.blobs.iter().map(|b| format!("blobs/sha256/{}", digest(b).hex())).collect::<Vec<_>>(),
        }])
    );
    let index: Value = serde_json::from_slice(file("index.json")).unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    let m = &index["manifests"][0];
    assert_eq!(m["digest"], original.manifest.digest.to_string());
    assert_eq!(m["mediaType"], OCI_MANIFEST);
    assert_eq!(
        m["annotations"]["io.containerd.image.name"],
        "docker.io/library/app:v1"
    );
    assert_eq!(m["annotations"]["org.opencontainers.image.ref.name"], "v1");
    assert_eq!(
        m["platform"],
        json!({"architecture": "amd64", "os": "linux"})
    );
    assert_eq!(file("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#);
    let repos: Value = serde_json::from_slice(file("repositories")).unwrap();
    assert_eq!(repos, json!({"app": {"v1": digest(&img.blobs[1]).hex()}}));

    // Remove everything, load the saved archive back.
    svc.remove("app:v2", true).unwrap();
    svc.remove("app:v1", true).unwrap();
    assert!(svc.get_image("app:v1").is_err());
    assert!(svc.images().list().is_empty());
    let out = svc.load(&mut &saved[..]).unwrap();
    assert_eq!(out, vec!["Loaded image: app:v1".to_string()]);
    let back = svc.get_image("app:v1").unwrap();
    assert_eq!(back.id, original.id);
    assert_eq!(back.manifest, original.manifest);
    assert_eq!(back.layers, original.layers);
    assert!(svc.get_image("app:v2").is_err());
    let refs: Vec<String> = svc
        .images()
        .references_to(&back.id)
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(refs, vec!["docker.io/library/app:v1".to_string()]);
}

#[test]
fn save_by_repository_and_by_id() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let img = two_layer_image();
    svc.load(&mut &tar_of(oci_entries(&[(&img, Some("docker.io/library/app:v1"))]))[..])
        .unwrap();
    svc.tag("app:v1", "app:v2").unwrap();
    svc.tag("app:v1", "other:x").unwrap();
    // A bare repository name saves every tag of that repository, even
    // without a `latest`.
    let mut saved = Vec::new();
    svc.save(&["app".to_string()], &mut saved).unwrap();
    let manifest: Value = serde_json::from_slice(
        &read_tar(&saved)
            .into_iter()
            .find(|(name, _, _)| name == "manifest.json")
            .unwrap()
            .2,
    )
    .unwrap();
    assert_eq!(manifest[0]["RepoTags"], json!(["app:v1", "app:v2"]));
    svc.tag("app:v1", "app:latest").unwrap();
    let mut saved = Vec::new();
    svc.save(&["app".to_string()], &mut saved).unwrap();
    let entries = read_tar(&saved);
    let file = |n: &str| {
        entries
            .iter()
            .find(|(name, _, _)| name == n)
            .unwrap()
            .2
            .clone()
    };
    let manifest: Value = serde_json::from_slice(&file("manifest.json")).unwrap();
    assert_eq!(
        manifest[0]["RepoTags"],
        json!(["app:latest", "app:v1", "app:v2"])
    );
    let index: Value = serde_json::from_slice(&file("index.json")).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 3);
    let repos: Value = serde_json::from_slice(&file("repositories")).unwrap();
    let top = digest(&img.blobs[1]).hex().to_string();
    assert_eq!(repos, json!({"app": {"latest": top, "v1": top, "v2": top}}));

    // By ID: untagged.
    let id = img.id().to_string();
    let mut by_id = Vec::new();
    svc.save(std::slice::from_ref(&id), &mut by_id).unwrap();
    let entries = read_tar(&by_id);
    let file = |n: &str| {
        entries
            .iter()
            .find(|(name, _, _)| name == n)
            .map(|e| e.2.clone())
    };
    let manifest: Value = serde_json::from_slice(&file("manifest.json").unwrap()).unwrap();
    assert_eq!(manifest[0]["RepoTags"], Value::Null);
    let index: Value = serde_json::from_slice(&file("index.json").unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert!(index["manifests"][0].get("annotations").is_none());
    assert!(file("repositories").is_none());

    for name in ["app:latest", "app:v1", "app:v2", "other:x"] {
        svc.remove(name, true).unwrap();
    }
    assert!(svc.images().list().is_empty());
    let out = svc.load(&mut &by_id[..]).unwrap();
    assert_eq!(out, vec![format!("Loaded image ID: {id}")]);
    assert_eq!(svc.get_image(&id).unwrap().id, img.id());
    assert!(svc.images().references_to(&img.id()).is_empty());
}

#[test]
fn loads_a_legacy_docker_save_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let a = layer_tar(&[("a.txt", b"layer a")]);
    let b = layer_tar(&[("b.txt", b"layer b")]);
    let first = Img::new("first", vec![(a.clone(), false), (b.clone(), false)]);
    let second = Img::new("second", vec![(a.clone(), false)]);
    let (ida, idb, idc) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
    let manifest = json!([
        {"Config": format!("{}.json", first.id().hex()), "RepoTags": ["first:latest", "example.com/team/first:1.0"],
         "Layers": [format!("{ida}/layer.tar"), format!("{idb}/layer.tar")]},
        {"Config": format!("{}.json", second.id().hex()), "RepoTags": null,
         "Layers": [format!("{idc}/layer.tar")]},
    ]);
    let archive = tar_of(vec![
        E::File(format!("{ida}/VERSION"), b"1.0".to_vec()),
        E::File(format!("{ida}/layer.tar"), a.clone()),
        E::File(format!("{idb}/layer.tar"), b.clone()),
        E::Symlink(format!("{idc}/layer.tar"), format!("../{ida}/layer.tar")),
        E::File(format!("{}.json", first.id().hex()), first.config.clone()),
        E::File(format!("{}.json", second.id().hex()), second.config.clone()),
        E::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
        E::File(
            "repositories".into(),
            format!(r#"{{"first":{{"latest":"{idb}"}}}}"#).into_bytes(),
        ),
    ]);

    let out = svc.load(&mut &archive[..]).unwrap();
    assert_eq!(
        out,
        vec![
            "Loaded image: first:latest".to_string(),
            "Loaded image: example.com/team/first:1.0".to_string(),
            format!("Loaded image ID: {}", second.id()),
        ]
    );
    let rec = svc.get_image("first").unwrap();
    assert_eq!(rec.id, first.id());
    assert_eq!(
        svc.get_image("example.com/team/first:1.0").unwrap().id,
        first.id()
    );
    assert_eq!(rec.layers.len(), 2);
    assert_eq!(rec.layers[0].blob, digest(&a));
    assert_eq!(rec.layers[1].blob, digest(&b));
    assert_eq!(rec.layers[0].media_type, OCI_LAYER_TAR);
    assert_eq!(rec.layers[1].blob_size, b.len() as u64);
    // A manifest was made for it, and stored.
    assert_eq!(rec.manifest.media_type, OCI_MANIFEST);
    let m: Value = serde_json::from_slice(
        &svc.content()
            .read_all(&rec.manifest.digest, 1 << 20)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(m["config"]["digest"], first.id().to_string());
    assert_eq!(m["layers"][1]["digest"], digest(&b).to_string());
    let sec = svc.get_image(&second.id().to_string()).unwrap();
    assert_eq!(sec.layers[0].chain_id, rec.layers[0].chain_id);
    assert_eq!(
        std::fs::read(
            svc.snapshots()
                .layer_diff_dir(&rec.layers[1].chain_id)
                .join("b.txt")
        )
        .unwrap(),
        b"layer b"
    );
}

fn docker_archive_with_layer_path(img: &Img, layer_path: &str, extra: Vec<E>) -> Vec<u8> {
    let manifest =
        json!([{"Config": "config.json", "RepoTags": ["bad:latest"], "Layers": [layer_path]}]);
    let mut entries = vec![
        E::File("config.json".into(), img.config.clone()),
        E::File(
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ),
    ];
    entries.extend(extra);
    tar_of(entries)
}

fn one_layer() -> (Vec<u8>, Img) {
    let layer = layer_tar(&[("x", b"x")]);
    let img = Img::new("one", vec![(layer.clone(), false)]);
    (layer, img)
}

#[test]
fn refuses_a_parent_directory_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let (layer, img) = one_layer();
    let archive = docker_archive_with_layer_path(
        &img,
        "l/layer.tar",
        vec![
            E::Raw(b"../evil".to_vec(), b"pwned".to_vec()),
            E::File("l/layer.tar".into(), layer),
        ],
    );
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(err.contains("\"../evil\"") && err.contains("'..'"), "{err}");
    assert_untouched(&svc, tmp.path());
}

#[test]
fn refuses_an_absolute_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let (layer, img) = one_layer();
    let target = tmp.path().join("abs-evil");
    let archive = docker_archive_with_layer_path(
        &img,
        "l/layer.tar",
        vec![
            E::File("l/layer.tar".into(), layer),
            E::Raw(
                target.to_string_lossy().as_bytes().to_vec(),
                b"pwned".to_vec(),
            ),
        ],
    );
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(
        err.contains("abs-evil") && err.contains("absolute"),
        "{err}"
    );
    assert!(!target.exists());
    assert_untouched(&svc, tmp.path());
}

#[test]
fn refuses_a_symlink_out_of_the_archive_as_a_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let (_, img) = one_layer();
    let archive = docker_archive_with_layer_path(
        &img,
        "l/layer.tar",
        vec![E::Symlink("l/layer.tar".into(), "/etc/passwd".into())],
    );
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(
        err.contains("\"l/layer.tar\"") && err.contains("outside the archive"),
        "{err}"
    );
    assert_untouched(&svc, tmp.path());

    // Climbing out with `..` is refused the same way.
    let archive = docker_archive_with_layer_path(
        &img,
        "l/layer.tar",
        vec![E::Symlink(
            "l/layer.tar".into(),
            "../../../../etc/passwd".into(),
        )],
    );
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(
        err.contains("\"l/layer.tar\"") && err.contains("outside the archive"),
        "{err}"
    );
    // And so is a manifest.json path that climbs out.
    let archive = docker_archive_with_layer_path(&img, "../../etc/passwd", vec![]);
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(
        err.contains("../../etc/passwd") && err.contains("outside the archive"),
        "{err}"
    );
    assert_untouched(&svc, tmp.path());
}

#[test]
fn refuses_device_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let (layer, img) = one_layer();
    let archive = docker_archive_with_layer_path(
        &img,
        "l/layer.tar",
        vec![
            E::File("l/layer.tar".into(), layer),
            E::CharDevice("dev-evil".into()),
        ],
    );
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(
        err.contains("\"dev-evil\"") && err.contains("unsupported entry type"),
        "{err}"
    );
    assert_untouched(&svc, tmp.path());
}

#[test]
fn refuses_a_layer_whose_diff_id_does_not_match_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let layer = layer_tar(&[("x", b"x")]);
    let claimed = digest(b"something else");
    let img = Img::with_config(
        "liar",
        vec![claimed.clone()],
        vec![gzip(&layer)],
        vec![claimed.clone()],
    );
    let archive = tar_of(oci_entries(&[(&img, Some("docker.io/library/liar:1"))]));
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(
        err.contains("uncompressed content has digest")
            && err.contains(&digest(&layer).to_string())
            && err.contains(&claimed.to_string()),
        "{err}"
    );
    assert!(svc.get_image("liar:1").is_err());
    assert_untouched(&svc, tmp.path());

    // Same through the legacy format.
    let archive = docker_archive_with_layer_path(
        &img,
        "l/layer.tar",
        vec![E::File("l/layer.tar".into(), layer)],
    );
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(err.contains("uncompressed content has digest"), "{err}");
    assert_untouched(&svc, tmp.path());
}

#[test]
fn refuses_blobs_that_do_not_match_their_names() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let img = two_layer_image();
    let honest = img.blobs[1].clone();
    let name = format!("blobs/sha256/{}", digest(&honest).hex());
    // Same size, different bytes, under the honest name.
    let mut forged = honest.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0xff;
    let entries: Vec<E> = oci_entries(&[(&img, Some("docker.io/library/app:v1"))])
        .into_iter()
        .map(|e| match e {
            E::File(n, _) if n == name => E::File(n, forged.clone()),
            e => e,
        })
        .collect();
    let err = svc.load(&mut &tar_of(entries)[..]).unwrap_err().to_string();
    assert!(
        err.contains(&name) && err.contains("does not match its digest"),
        "{err}"
    );
    assert!(!svc.content().contains(&digest(&honest)));
    assert!(svc.images().list().is_empty());

    // A config under a wrong name.
    let cfg_name = format!("blobs/sha256/{}", img.id().hex());
    let entries: Vec<E> = oci_entries(&[(&img, None)])
        .into_iter()
        .map(|e| match e {
            E::File(n, mut data) if n == cfg_name => {
                data[0] = b' ';
                E::File(n, data)
            }
            e => e,
        })
        .collect();
    let err = svc.load(&mut &tar_of(entries)[..]).unwrap_err().to_string();
    assert!(
        err.contains(&cfg_name) && err.contains("not the digest its name claims"),
        "{err}"
    );
    assert!(svc.images().list().is_empty());
    let ingest = svc.data_root().join("image/content/ingest");
    assert_eq!(std::fs::read_dir(ingest).unwrap().count(), 0);
}

#[test]
fn refuses_an_archive_of_neither_format() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let archive = tar_of(vec![E::File("hello.txt".into(), b"hi".to_vec())]);
    let err = svc.load(&mut &archive[..]).unwrap_err().to_string();
    assert!(
        err.contains("manifest.json") && err.contains("index.json"),
        "{err}"
    );
    let err = svc
        .load(&mut &b"not a tar at all, not even close"[..])
        .unwrap_err();
    assert!(!err.to_string().is_empty());
    assert_untouched(&svc, tmp.path());
}

#[test]
fn picks_the_host_platform_from_a_nested_index() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let host = berth_image::platform::Platform::host();
    let img = two_layer_image();
    let other = Img::new("other", vec![(layer_tar(&[("o", b"o")]), true)]);
    let (m, mo) = (img.manifest(), other.manifest());
    let foreign_arch = if host.arch == "s390x" {
        "riscv64"
    } else {
        "s390x"
    };
    let nested = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": digest(&mo).to_string(), "size": mo.len(),
             "platform": {"architecture": foreign_arch, "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": digest(&m).to_string(), "size": m.len(),
             "platform": {"architecture": host.arch, "os": host.os, "variant": host.variant}},
        ],
    }))
    .unwrap();
    let mut entries = vec![
        E::File(
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        blob(&nested),
        blob(&m),
        blob(&img.config),
        blob(&img.blobs[0]),
        blob(&img.blobs[1]),
    ];
    entries.push(E::File(
        "index.json".into(),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest(&nested).to_string(),
             "size": nested.len(), "annotations": {"org.opencontainers.image.ref.name": "example.com/multi:3"}},
        ]}))
        .unwrap(),
    ));
    let out = svc.load(&mut &tar_of(entries)[..]).unwrap();
    assert_eq!(out, vec!["Loaded image: example.com/multi:3".to_string()]);
    let rec = svc.get_image("example.com/multi:3").unwrap();
    assert_eq!(rec.id, img.id());
    assert_eq!(rec.manifest.digest, digest(&m));
    // The other platform's blobs were never needed (nor present).
    assert!(!svc.content().contains(&other.id()));
}

#[test]
fn a_moved_tag_is_reported_as_docker_does() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let first = two_layer_image();
    let second = Img::new("second", vec![(layer_tar(&[("s", b"s")]), true)]);
    svc.load(&mut &tar_of(oci_entries(&[(&first, Some("docker.io/library/app:v1"))]))[..])
        .unwrap();
    let out = svc
        .load(&mut &tar_of(oci_entries(&[(&second, Some("docker.io/library/app:v1"))]))[..])
        .unwrap();
    assert_eq!(
        out,
        vec![
            format!(
                "The image app:v1 already exists, renaming the old one with ID {} to empty string",
                first.id()
            ),
            "Loaded image: app:v1".to_string(),
        ]
    );
    assert_eq!(svc.get_image("app:v1").unwrap().id, second.id());
    assert!(svc.images().contains(&first.id()));
}

#[test]
fn save_rebuilds_a_missing_manifest_and_writes_shared_blobs_once() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = open(tmp.path());
    let shared = layer_tar(&[("shared", b"shared")]);
    let one = Img::new("one", vec![(shared.clone(), true)]);
    let two = Img::new(
        "two",
        vec![(shared.clone(), true), (layer_tar(&[("t", b"t")]), false)],
    );
    svc.load(
        &mut &tar_of(oci_entries(&[
            (&one, Some("docker.io/library/one:1")),
            (&two, Some("docker.io/library/two:2")),
        ]))[..],
    )
    .unwrap();
    let rec_one = svc.get_image("one:1").unwrap();
    svc.content().delete(&rec_one.manifest.digest).unwrap();

    let mut saved = Vec::new();
    svc.save(&["one:1".to_string(), "two:2".to_string()], &mut saved)
        .unwrap();
    let entries = read_tar(&saved);
    let shared_name = format!("blobs/sha256/{}", digest(&gzip(&shared)).hex());
    assert_eq!(
        entries.iter().filter(|(n, _, _)| *n == shared_name).count(),
        1
    );
    let mut names: Vec<&String> = entries.iter().map(|(n, _, _)| n).collect();
    let total = names.len();
    names.dedup();
    assert_eq!(names.len(), total, "duplicate entries");
    let file = |n: &str| {
        entries
            .iter()
            .find(|(name, _, _)| name == n)
            .unwrap()
            .2
            .clone()
    };
    let manifest: Value = serde_json::from_slice(&file("manifest.json")).unwrap();
    assert_eq!(manifest[0]["RepoTags"], json!(["one:1"]));
    assert_eq!(manifest[1]["RepoTags"], json!(["two:2"]));
    let index: Value = serde_json::from_slice(&file("index.json")).unwrap();
    let rebuilt: Digest = serde_json::from_value(index["manifests"][0]["digest"].clone()).unwrap();
    assert_ne!(rebuilt, rec_one.manifest.digest);
    let m: Value =
        serde_json::from_slice(&file(&format!("blobs/sha256/{}", rebuilt.hex()))).unwrap();
    assert_eq!(m["config"]["digest"], one.id().to_string());
    assert_eq!(m["layers"][0]["digest"], digest(&gzip(&shared)).to_string());
    assert_eq!(m["layers"][0]["mediaType"], OCI_LAYER_GZIP);

    svc.remove("one:1", true).unwrap();
    svc.remove("two:2", true).unwrap();
    let out = svc.load(&mut &saved[..]).unwrap();
    assert_eq!(
        out,
        vec![
            "Loaded image: one:1".to_string(),
            "Loaded image: two:2".to_string()
        ]
    );
    let back = svc.get_image("one:1").unwrap();
    assert_eq!(back.id, one.id());
    assert_eq!(back.manifest.digest, rebuilt);
    assert_eq!(
        svc.get_image("two:2").unwrap().layers[0].blob,
        rec_one.layers[0].blob
    );
}
