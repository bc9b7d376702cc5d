//! The image service against a real registry (Debian's docker-registry on
//! 127.0.0.1, seeded with the fixture images), the real kernel's overlayfs
//! and real files: pull by tag, digest and platform, whiteouts through a
//! mounted rootfs, a corrupted blob, hostile layers, concurrent pulls, rmi
//! conflicts and GC, cancellation of a stalled pull, the manifest size
//! bound, and a pull killed mid-way then resumed.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth_errdefs::{ErrorKind, HasKind};
use berth_image::content::Digest;
use berth_image::error::ImageError;
use berth_image::platform::Platform;
use berth_image::progress::Progress;
use berth_image::record::ImageRecord;
use berth_image::service::{
    DeleteItem, ImageService, ImageServiceConfig, ImageUser, ImageUsers, LocalImageService,
    PullOptions,
};
use integration_tests::registry::LocalRegistry;
use integration_tests::{require_root, unique};
use serde_json::{json, Value};
use support::stall_proxy::StallProxy;
use tempfile::TempDir;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// One test's world: its own registry, data root and service.
struct World {
    reg: LocalRegistry,
    pushed: Vec<(String, String)>,
    data: TempDir,
    svc: LocalImageService,
    rt: tokio::runtime::Runtime,
}

fn world() -> World {
    require_root();
    let reg = LocalRegistry::start();
    let pushed = reg.seed_fixtures();
    let data = tempfile::tempdir().expect("data root");
    let svc = LocalImageService::open(ImageServiceConfig::new(data.path())).expect("open service");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    World {
        reg,
        pushed,
        data,
        svc,
        rt,
    }
}

impl World {
    fn r(&self, name: &str) -> String {
        format!("{}/{name}", self.reg.host())
    }

    fn digest(&self, name: &str) -> String {
        self.pushed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.clone())
            .expect("pushed")
    }

    fn pull(&self, reference: &str) -> Result<ImageRecord, ImageError> {
        self.pull_with(reference, PullOptions::default()).0
    }

    fn pull_with(
        &self,
        reference: &str,
        options: PullOptions,
    ) -> (Result<ImageRecord, ImageError>, Vec<String>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let lines = lines.clone();
            Progress::new(move |e| lines.lock().unwrap().push(e.to_string()))
        };
        let result = self.rt.block_on(self.svc.pull(reference, options, sink));
        let lines = lines.lock().unwrap().clone();
        (result, lines)
    }

    /// The manifest the registry serves for `name:latest` (OCI).
    fn manifest(&self, name: &str) -> Value {
        let (status, body) = self.reg.get_with_headers(
            &format!("/v2/{name}/manifests/latest"),
            &[("Accept", OCI_MANIFEST)],
        );
        assert_eq!(status, 200);
        serde_json::from_slice(&body).unwrap()
    }

    /// Nothing half-written anywhere under the data root.
    fn assert_no_leftovers(&self) {
        let ingest: Vec<_> = fs::read_dir(self.data.path().join("image/content/ingest"))
            .unwrap()
            .collect();
        assert!(ingest.is_empty(), "ingest leftovers: {ingest:?}");
        let tmp: Vec<_> = fs::read_dir(self.data.path().join("overlay/tmp"))
            .unwrap()
            .collect();
        assert!(tmp.is_empty(), "snapshot tmp leftovers: {tmp:?}");
    }
}

fn blob_set(svc: &LocalImageService) -> BTreeSet<String> {
    svc.content()
        .list()
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect()
}

#[test]
fn pull_by_tag_and_digest_records_dockers_fields() {
    let w = world();
    let name = w.r("busybox");
    let (image, lines) = w.pull_with(&name, PullOptions::default());
    let image = image.expect("pull");
    let manifest = w.manifest("busybox");
    assert_eq!(
        image.id.to_string(),
        manifest["config"]["digest"].as_str().unwrap()
    );
    let layer = &manifest["layers"][0]["digest"].as_str().unwrap()[7..19];
    assert_eq!(lines[0], "latest: Pulling from busybox");
    for want in [
        format!("{layer}: Pulling fs layer"),
        format!("{layer}: Verifying Checksum"),
        format!("{layer}: Pull complete"),
        format!("Digest: {}", w.digest("busybox")),
        format!("Status: Downloaded newer image for {name}:latest"),
    ] {
        assert!(lines.contains(&want), "missing {want:?} in {lines:#?}");
    }

    let inspect = serde_json::to_value(w.svc.inspect(&name).unwrap()).unwrap();
    assert_eq!(inspect["Id"], image.id.to_string());
    assert_eq!(inspect["RepoTags"], json!([format!("{name}:latest")]));
    assert_eq!(
        inspect["RepoDigests"],
        json!([format!("{name}@{}", w.digest("busybox"))])
    );
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Os"], "linux");
    assert_eq!(inspect["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert!(
        inspect["Size"].as_u64().unwrap() > 500_000,
        "{}",
        inspect["Size"]
    );

    // Again: nothing to fetch.
    let (again, lines) = w.pull_with(&name, PullOptions::default());
    assert_eq!(again.unwrap().id, image.id);
    assert!(
        lines.contains(&format!("{layer}: Already exists")),
        "{lines:#?}"
    );
    assert!(lines.contains(&format!("Status: Image is up to date for {name}:latest")));

    // By digest: the same image, recorded under the digest reference.
    let by_digest = format!("{name}@{}", w.digest("busybox"));
    assert_eq!(w.pull(&by_digest).unwrap().id, image.id);
    assert_eq!(w.svc.get_image(&by_digest).unwrap().id, image.id);

    // GetImage by full ID, sha256: ID, short prefix, and a miss.
    let hex = image.id.hex().to_string();
    for key in [
        hex.clone(),
        image.id.to_string(),
        hex[..12].to_string(),
        hex[..4].to_string(),
    ] {
        assert_eq!(w.svc.get_image(&key).unwrap().id, image.id, "{key}");
    }
    let err = w.svc.get_image("nosuchimage").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "No such image: nosuchimage:latest");
    let err = w.svc.get_image("Busybox").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);

    // A missing tag in the registry.
    let err = w.pull(&format!("{name}:nope")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("manifest unknown"), "{err}");
    w.assert_no_leftovers();
}

#[test]
fn platform_is_selected_from_an_index() {
    let w = world();
    let name = w.r("multiplatform");
    let platform_file = |image: &ImageRecord| {
        let top = image.layers.last().unwrap().chain_id.clone();
        fs::read_to_string(w.svc.snapshots().layer_diff_dir(&top).join("etc/platform")).unwrap()
    };
    let amd = w.pull(&name).expect("default platform");
    assert_eq!(amd.config.architecture, "amd64");
    assert_eq!(platform_file(&amd), "linux/amd64\n");

    let arm = w
        .pull_with(
            &name,
            PullOptions {
                platform: Some(Platform::parse("linux/arm64").unwrap()),
                ..Default::default()
            },
        )
        .0
        .expect("arm64");
    assert_eq!(arm.config.architecture, "arm64");
    assert_eq!(platform_file(&arm), "linux/arm64/v8\n");
    assert_ne!(arm.id, amd.id);
    // The RepoDigest is the index's, as Docker records it; like moby, a
    // digest reference never moves, so it stays with the first image.
    let repo_digests = |image: &ImageRecord| {
        serde_json::to_value(w.svc.inspect(&image.id.to_string()).unwrap()).unwrap()["RepoDigests"]
            .clone()
    };
    assert_eq!(
        repo_digests(&amd),
        json!([format!("{name}@{}", w.digest("multiplatform"))])
    );
    assert_eq!(repo_digests(&arm), json!([]));
    // The tag moved to the last pull.
    assert_eq!(w.svc.get_image(&name).unwrap().id, arm.id);

    let err = w
        .pull_with(
            &name,
            PullOptions {
                platform: Some(Platform::parse("linux/s390x").unwrap()),
                ..Default::default()
            },
        )
        .0
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "no matching manifest for linux/s390x in the manifest list entries"
    );
}

/// Unmounts on drop, so a failing assertion leaves no mount behind.
struct Rootfs<'a> {
    svc: &'a LocalImageService,
    key: String,
}

impl Drop for Rootfs<'_> {
    fn drop(&mut self) {
        let _ = self.svc.remove_rootfs(&self.key);
    }
}

#[test]
fn overlay_rootfs_shows_whiteouts_opaque_dirs_and_links() {
    let w = world();
    let image = w.pull(&w.r("multilayer")).expect("pull");
    assert_eq!(image.layers.len(), 3);
    let key = unique("ctr");
    w.svc.prepare_rootfs(&key, &image.id).expect("prepare");
    let guard = Rootfs {
        svc: &w.svc,
        key: key.clone(),
    };
    let root = w.svc.snapshots().mount_rootfs(&key).expect("mount");
    let names = |dir: &str| -> BTreeSet<String> {
        fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(
        names("data"),
        ["hard", "keep", "link"].map(String::from).into()
    );
    assert_eq!(names("opaque"), ["new"].map(String::from).into());
    let keep = fs::metadata(root.join("data/keep")).unwrap();
    let hard = fs::metadata(root.join("data/hard")).unwrap();
    assert_eq!(keep.ino(), hard.ino(), "hard link lost");
    assert_eq!(
        fs::read_to_string(root.join("data/hard")).unwrap(),
        "keep\n"
    );
    assert_eq!(
        fs::read_link(root.join("data/link")).unwrap(),
        Path::new("keep")
    );
    assert!(root.join("bin/busybox").is_file());
    // Writes land in the container's upper dir, never in a layer.
    fs::write(root.join("data/new-file"), "x").unwrap();
    let top = w.svc.snapshots().layer_diff_dir(&image.layers[2].chain_id);
    assert!(!top.join("data/new-file").exists());
    drop(guard);
    assert!(!berth_image::snapshot::is_mounted(&root).unwrap());
}

#[test]
fn a_corrupted_blob_fails_the_pull_and_stores_nothing() {
    let w = world();
    let manifest = w.manifest("busybox");
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let path = w.reg.blob_data_path(&layer);
    let mut bytes = fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(&path, &bytes).unwrap();

    let err = w.pull(&w.r("busybox")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&layer) && (msg.contains("digest") || msg.contains("verification")),
        "{msg}"
    );
    assert!(w.svc.images().list().is_empty());
    assert!(blob_set(&w.svc).is_empty(), "{:?}", blob_set(&w.svc));
    assert!(w.svc.snapshots().layers().unwrap().is_empty());
    w.assert_no_leftovers();
}

/// A raw tar entry (names are written byte for byte: `..` and absolute
/// paths included).
struct Entry<'a> {
    name: &'a str,
    kind: tar::EntryType,
    link: &'a str,
    data: &'a [u8],
}

fn file<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry {
        name,
        kind: tar::EntryType::Regular,
        link: "",
        data,
    }
}

fn link<'a>(name: &'a str, kind: tar::EntryType, target: &'a str) -> Entry<'a> {
    Entry {
        name,
        kind,
        link: target,
        data: b"",
    }
}

fn raw_tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..e.name.len()].copy_from_slice(e.name.as_bytes());
        gnu.linkname[..e.link.len()].copy_from_slice(e.link.as_bytes());
        h.set_entry_type(e.kind);
        h.set_mode(if e.kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(e.data.len() as u64);
        h.set_cksum();
        b.append(&h, e.data).unwrap();
    }
    b.into_inner().unwrap()
}

fn sha256(data: &[u8]) -> String {
    Digest::sha256_of(data).to_string()
}

/// Writes an OCI layout holding one image with these uncompressed layers.
fn layout_with_layers(dir: &Path, layers: &[Vec<u8>]) {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| {
        let d = sha256(data);
        fs::write(blobs.join(&d[7..]), data).unwrap();
        json!({"digest": d, "size": data.len()})
    };
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let mut cfg = put(&config);
    cfg["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
    let layer_descs: Vec<Value> = layers
        .iter()
        .map(|l| {
            let mut d = put(l);
            d["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar");
            d
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfg, "layers": layer_descs,
    }))
    .unwrap();
    let mut m = put(&manifest);
    m["mediaType"] = json!(OCI_MANIFEST);
    m["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [m]}))
            .unwrap(),
    )
    .unwrap();
}

#[test]
fn hostile_layers_are_refused_or_contained() {
    let w = world();
    let outside = tempfile::tempdir().unwrap();
    let out = outside.path().display().to_string();
    let rel_out = format!("../../../../../../../../..{out}/dotdot");
    let abs = format!("{out}/absolute");
    let passwd_links = fs::metadata("/etc/passwd").unwrap().nlink();
    let s_pwned = "s/pwned".to_string();
    let cases: Vec<(&str, Vec<Vec<u8>>, bool)> = vec![
        ("dotdot", vec![raw_tar(&[file(&rel_out, b"x")])], false),
        ("absolute", vec![raw_tar(&[file(&abs, b"x")])], true),
        (
            "symlink-write-through",
            vec![raw_tar(&[
                link("s", tar::EntryType::Symlink, &out),
                file(&s_pwned, b"x"),
            ])],
            false,
        ),
        (
            "hardlink-out",
            vec![raw_tar(&[link("h", tar::EntryType::Link, "/etc/passwd")])],
            false,
        ),
        (
            "whiteout-escape",
            vec![raw_tar(&[file("x/.wh.../../y", b"")])],
            false,
        ),
        (
            // The symlink sits in a lower layer: each layer unpacks into its
            // own directory, so the upper layer's `s/pwned` makes a real
            // directory there and nothing reaches the target.
            "symlink-in-lower-layer",
            vec![
                raw_tar(&[link("s", tar::EntryType::Symlink, &out)]),
                raw_tar(&[file(&s_pwned, b"x")]),
            ],
            true,
        ),
    ];
    for (case, layers, contained) in cases {
        let layout = tempfile::tempdir().unwrap();
        layout_with_layers(layout.path(), &layers);
        w.reg
            .push_layout(layout.path(), &format!("hostile/{case}"), "latest");
        let result = w.pull(&w.r(&format!("hostile/{case}")));
        match (contained, result) {
            (true, Ok(image)) => {
                if case == "absolute" {
                    let diff = w.svc.snapshots().layer_diff_dir(&image.layers[0].chain_id);
                    assert!(diff.join(abs.trim_start_matches('/')).is_file(), "{case}");
                }
            }
            (false, Err(err)) => {
                let msg = err.to_string();
                assert!(msg.contains("layer entry"), "{case}: {msg}");
                assert!(
                    w.svc.get_image(&w.r(&format!("hostile/{case}"))).is_err(),
                    "{case}"
                );
            }
            (want, got) => panic!("{case}: contained={want} but got {got:?}"),
        }
        let leaked: Vec<_> = fs::read_dir(outside.path()).unwrap().collect();
        assert!(leaked.is_empty(), "{case}: wrote outside: {leaked:?}");
        w.assert_no_leftovers();
    }
    assert_eq!(fs::metadata("/etc/passwd").unwrap().nlink(), passwd_links);
}

#[test]
fn concurrent_pulls_succeed_and_store_each_blob_once() {
    let w = world();
    let other = LocalImageService::open(ImageServiceConfig::new(w.data.path())).unwrap();
    let name = w.r("multilayer");
    let (a, b, c) = w.rt.block_on(async {
        tokio::join!(
            w.svc
                .pull(&name, PullOptions::default(), Progress::discard()),
            w.svc
                .pull(&name, PullOptions::default(), Progress::discard()),
            other.pull(&name, PullOptions::default(), Progress::discard()),
        )
    });
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert_eq!(a.id, b.id);
    assert_eq!(a.id, c.id);
    let manifest = w.manifest("multilayer");
    let mut want: BTreeSet<String> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect();
    want.insert(manifest["config"]["digest"].as_str().unwrap().to_string());
    want.insert(w.digest("multilayer"));
    assert_eq!(blob_set(&w.svc), want);
    assert_eq!(w.svc.snapshots().layers().unwrap().len(), 3);
    w.assert_no_leftovers();
}

/// The daemon's container table, reduced to what rmi asks of it.
#[derive(Default)]
struct Containers(Mutex<Vec<(Digest, ImageUser)>>);

impl ImageUsers for Containers {
    fn users_of(&self, image_id: &Digest) -> Vec<ImageUser> {
        let list = self.0.lock().unwrap();
        list.iter()
            .filter(|(i, _)| i == image_id)
            .map(|(_, u)| u.clone())
            .collect()
    }
}

#[test]
fn rmi_conflicts_and_garbage_collection() {
    let w = world();
    let containers = Arc::new(Containers::default());
    w.svc.set_image_users(containers.clone());
    let busybox = w.r("busybox");
    let bb = w.pull(&busybox).unwrap();
    let ml = w.pull(&w.r("multilayer")).unwrap();
    // The two images share the busybox base layer.
    assert_eq!(bb.layers[0].chain_id, ml.layers[0].chain_id);
    w.svc.tag(&busybox, "other:tag").unwrap();

    // Two names: removing one only untags.
    let items = w.svc.remove("other:tag", false).unwrap();
    assert_eq!(items, [DeleteItem::Untagged("other:tag".into())]);

    let ctr = "0123456789abcdef".repeat(4);
    containers.0.lock().unwrap().push((
        bb.id.clone(),
        ImageUser {
            container_id: ctr.clone(),
            running: true,
        },
    ));
    let short = &bb.id.hex()[..12];
    let err = w.svc.remove(short, true).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        err.to_string(),
        format!("conflict: unable to delete {short} (cannot be forced) - image is being used by running container 0123456789ab")
    );
    containers.0.lock().unwrap()[0].1.running = false;
    let err = w.svc.remove(&busybox, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("conflict: unable to remove repository reference \"{busybox}\" (must force) - container 0123456789ab is using its referenced image {short}")
    );
    let err = w.svc.remove(short, false).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("(must be forced) - image is being used by stopped container 0123456789ab"),
        "{err}"
    );
    assert!(
        w.svc.get_image(&busybox).is_ok(),
        "a refused rmi changes nothing"
    );

    // Forced: untagged and deleted; the shared base layer stays.
    let items = w.svc.remove(&busybox, true).unwrap();
    assert!(
        items.contains(&DeleteItem::Untagged(format!("{busybox}:latest"))),
        "{items:?}"
    );
    assert!(
        items.contains(&DeleteItem::Deleted(bb.id.to_string())),
        "{items:?}"
    );
    assert!(w.svc.get_image(&bb.id.to_string()).is_err());
    assert!(w.svc.snapshots().has_layer(&ml.layers[0].chain_id));
    assert!(w.svc.content().contains(&ml.layers[0].blob));
    assert!(
        !w.svc.content().contains(&bb.id),
        "busybox config collected"
    );

    // The last image: every layer and blob goes.
    let items = w.svc.remove(&w.r("multilayer"), false).unwrap();
    for layer in &ml.layers {
        assert!(
            items.contains(&DeleteItem::Deleted(layer.chain_id.to_string())),
            "{items:?}"
        );
    }
    assert!(blob_set(&w.svc).is_empty(), "{:?}", blob_set(&w.svc));
    assert!(w.svc.snapshots().layers().unwrap().is_empty());
}

#[test]
fn a_stalled_pull_is_cancelled_and_its_connections_closed() {
    let w = world();
    let proxy = StallProxy::start(&w.reg.host());
    proxy.set_stall(true);
    let name = format!("{}/busybox", proxy.host());
    let started = Instant::now();
    let result = w.rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(2),
            w.svc
                .pull(&name, PullOptions::default(), Progress::discard()),
        )
        .await
    });
    assert!(result.is_err(), "the stalled pull should still be running");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        proxy.wait_open(0, Duration::from_secs(5)),
        "{} connections still open after cancel",
        proxy.open_connections()
    );
    // Give the unpacking thread a moment to notice and clean up.
    let deadline = Instant::now() + Duration::from_secs(5);
    while fs::read_dir(w.data.path().join("overlay/tmp"))
        .unwrap()
        .count()
        > 0
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    w.assert_no_leftovers();
    assert!(w.svc.images().list().is_empty());

    // The service keeps serving.
    proxy.set_stall(false);
    w.pull(&name).expect("pull after cancel");
}

/// A hostile registry answering every manifest request with a body far
/// bigger than any real manifest.
fn huge_manifest_server(chunked: bool) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        for _ in 0..2 {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            let mut req = [0u8; 4096];
            let n = conn.read(&mut req).unwrap_or(0);
            let req = String::from_utf8_lossy(&req[..n]).to_string();
            if req.starts_with("GET /v2/ ") {
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
                continue;
            }
            let head = if chunked {
                format!("HTTP/1.1 200 OK\r\nContent-Type: {OCI_MANIFEST}\r\nTransfer-Encoding: chunked\r\n\r\n")
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {}\r\n\r\n",
                    1u64 << 34
                )
            };
            let _ = conn.write_all(head.as_bytes());
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..2048 {
                let ok = if chunked {
                    conn.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .and_then(|_| conn.write_all(&chunk))
                        .and_then(|_| conn.write_all(b"\r\n"))
                } else {
                    conn.write_all(&chunk)
                };
                if ok.is_err() {
                    break;
                }
            }
        }
    });
    (port, handle)
}

#[test]
fn an_oversized_manifest_is_refused_before_it_is_read_whole() {
    let w = world();
    for chunked in [false, true] {
        let (port, server) = huge_manifest_server(chunked);
        let err = w.pull(&format!("127.0.0.1:{port}/huge")).unwrap_err();
        assert!(
            err.to_string().contains("4194304-byte limit"),
            "chunked={chunked}: {err}"
        );
        server.join().unwrap();
    }
}

fn ingest_files(root: &Path) -> Vec<PathBuf> {
    fs::read_dir(root.join("image/content/ingest"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn a_pull_killed_midway_completes_when_run_again() {
    let w = world();
    let proxy = StallProxy::start(&w.reg.host());
    proxy.set_stall(true);
    let name = format!("{}/multilayer", proxy.host());
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("pull.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth-pull"))
        .arg(data.path().join("root"))
        .arg(&name)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let root = data.path().join("root");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ingest_files(&root).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the pull never started a download"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !ingest_files(&root).is_empty(),
        "the kill should leave a partial download"
    );

    proxy.set_stall(false);
    let svc = LocalImageService::open(ImageServiceConfig::new(&root)).unwrap();
    assert!(
        ingest_files(&root).is_empty(),
        "open removes abandoned downloads"
    );
    assert!(svc.images().list().is_empty(), "nothing half-registered");
    let image =
        w.rt.block_on(svc.pull(&name, PullOptions::default(), Progress::discard()))
            .unwrap();
    assert_eq!(image.layers.len(), 3);
    for l in &image.layers {
        assert!(svc.snapshots().has_layer(&l.chain_id));
        assert!(svc.content().contains(&l.blob));
    }
    let key = unique("crash");
    svc.prepare_rootfs(&key, &image.id).unwrap();
    let guard = Rootfs {
        svc: &svc,
        key: key.clone(),
    };
    let merged = svc.snapshots().mount_rootfs(&key).unwrap();
    assert_eq!(
        fs::read_to_string(merged.join("data/keep")).unwrap(),
        "keep\n"
    );
    drop(guard);
}

#[test]
fn basic_and_bearer_auth() {
    use berth_image::distribution::Credentials;
    use support::auth_gateway::{AuthGateway, AuthMode};
    let w = world();
    let good = Credentials::Basic {
        username: "alice".into(),
        password: "s3cret".into(),
    };
    let bad = Credentials::Basic {
        username: "alice".into(),
        password: "wrong".into(),
    };
    for mode in [AuthMode::Basic, AuthMode::Bearer] {
        let gw = AuthGateway::start(&w.reg.host(), mode, "alice", "s3cret");
        let name = format!("{}/busybox", gw.host());
        for creds in [Credentials::Anonymous, bad.clone()] {
            let err = w
                .pull_with(
                    &name,
                    PullOptions {
                        credentials: creds.clone(),
                        ..Default::default()
                    },
                )
                .0
                .unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Forbidden,
                "{mode:?} {creds:?}: {err}"
            );
            assert!(err.to_string().contains("pull access denied for"), "{err}");
        }
        // A fresh data root, so every blob has to come through the gateway.
        let root = tempfile::tempdir().unwrap();
        let svc = LocalImageService::open(ImageServiceConfig::new(root.path())).unwrap();
        let options = PullOptions {
            credentials: good.clone(),
            ..Default::default()
        };
        let image =
            w.rt.block_on(svc.pull(&name, options, Progress::discard()))
                .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(image.layers.len(), 1);
        // Manifest, config and layer each went through with credentials.
        assert!(
            gw.authorized_requests() >= 3,
            "{mode:?}: {}",
            gw.authorized_requests()
        );
    }
}

#[test]
fn save_remove_load_round_trip_keeps_the_image_id() {
    let w = world();
    let name = w.r("multilayer");
    let image = w.pull(&name).unwrap();
    let mut archive = Vec::new();
    w.svc
        .save(std::slice::from_ref(&name), &mut archive)
        .unwrap();
    w.svc.remove(&name, false).unwrap();
    assert!(w.svc.get_image(&image.id.to_string()).is_err());
    assert!(blob_set(&w.svc).is_empty(), "rmi collected everything");

    let lines = w.svc.load(&mut archive.as_slice()).unwrap();
    assert_eq!(lines, [format!("Loaded image: {name}:latest")]);
    let loaded = w.svc.get_image(&name).unwrap();
    assert_eq!(loaded.id, image.id);
    assert_eq!(loaded.manifest.digest, image.manifest.digest);
    assert_eq!(loaded.chain(), image.chain());
    let key = unique("loaded");
    w.svc.prepare_rootfs(&key, &loaded.id).unwrap();
    let guard = Rootfs {
        svc: &w.svc,
        key: key.clone(),
    };
    let merged = w.svc.snapshots().mount_rootfs(&key).unwrap();
    assert_eq!(
        fs::read_to_string(merged.join("opaque/new")).unwrap(),
        "new\n"
    );
    assert!(!merged.join("data/gone").exists());
    drop(guard);
    w.assert_no_leftovers();
}
