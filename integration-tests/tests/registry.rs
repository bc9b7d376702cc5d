//! The local test registry itself: a real docker-registry, seeded with the
//! fixture images by skopeo, serving what was pushed, and gone after drop.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use integration_tests::registry::{sha256_digest, LocalRegistry};
use integration_tests::require_root;
use serde_json::Value;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[test]
fn local_registry_serves_seeded_fixtures_and_stops_on_drop() {
    require_root();
    let reg = LocalRegistry::start();
    let host = reg.host();
    assert!(host.starts_with("127.0.0.1:"), "{host}");

    let (status, _) = reg.get("/v2/");
    assert_eq!(status, 200);

    let pushed = reg.seed_fixtures();
    let names: Vec<&str> = pushed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["busybox", "multilayer", "multiplatform", "volumes"]);
    let digest_of = |name: &str| {
        pushed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.clone())
            .unwrap()
    };

    // The catalog lists every fixture repository.
    let (status, body) = reg.get("/v2/_catalog");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let catalog = json(&body);
    let repos: Vec<&str> = catalog["repositories"]
        .as_array()
        .expect("repositories array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in ["busybox", "multilayer", "multiplatform", "volumes"] {
        assert!(repos.contains(&name), "{name} missing from {repos:?}");
    }

    // busybox:latest is served byte for byte as pushed.
    let (status, body) =
        reg.get_with_headers("/v2/busybox/manifests/latest", &[("Accept", OCI_MANIFEST)]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(sha256_digest(&body), digest_of("busybox"));
    let manifest = json(&body);
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    // --preserve-digests: the same manifest digest as in the fixture layout.
    let fixtures = xtask::fixtures::Fixtures::ensure_default().unwrap();
    let layout_index: Value =
        json(&std::fs::read(fixtures.image_layout("busybox").join("index.json")).unwrap());
    assert_eq!(
        layout_index["manifests"][0]["digest"].as_str().unwrap(),
        digest_of("busybox")
    );

    // Its layers are in storage where tests can corrupt them.
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let hex = layer.strip_prefix("sha256:").unwrap();
    let data = reg
        .storage()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    assert!(data.is_file(), "{} missing", data.display());
    assert_eq!(data, reg.blob_data_path(layer));
    let (status, blob) = reg.get(&format!("/v2/busybox/blobs/{layer}"));
    assert_eq!(status, 200);
    assert_eq!(sha256_digest(&blob), layer);

    // multiplatform:latest is an index of two manifests, pushed whole.
    let (status, body) = reg.get_with_headers(
        "/v2/multiplatform/manifests/latest",
        &[("Accept", OCI_INDEX)],
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(sha256_digest(&body), digest_of("multiplatform"));
    let index = json(&body);
    assert_eq!(index["mediaType"], OCI_INDEX);
    let manifests = index["manifests"].as_array().expect("manifests array");
    assert_eq!(manifests.len(), 2, "{index:#}");
    for m in manifests {
        let d = m["digest"].as_str().unwrap();
        let (status, body) = reg.get_with_headers(
            &format!("/v2/multiplatform/manifests/{d}"),
            &[("Accept", OCI_MANIFEST)],
        );
        assert_eq!(status, 200, "platform manifest {d}");
        assert_eq!(sha256_digest(&body), d);
    }

    // multilayer too.
    let (status, body) = reg.get_with_headers(
        "/v2/multilayer/manifests/latest",
        &[("Accept", OCI_MANIFEST)],
    );
    assert_eq!(status, 200);
    assert_eq!(sha256_digest(&body), digest_of("multilayer"));

    // Unknown things are 404.
    let (status, _) = reg.get("/v2/nope/manifests/latest");
    assert_eq!(status, 404);

    // Drop: the process is gone, the port is closed, the storage removed.
    let pid = reg.pid();
    let port = reg.port();
    let storage = reg.storage();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(reg);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "registry pid {pid} still exists after drop"
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "port {port} still accepts connections after drop"
    );
    assert!(!storage.exists(), "{} left behind", storage.display());
}

#[test]
fn two_registries_run_side_by_side() {
    require_root();
    let a = LocalRegistry::start();
    let b = LocalRegistry::start();
    assert_ne!(a.host(), b.host());
    assert_ne!(a.storage(), b.storage());
    let fixtures = xtask::fixtures::Fixtures::ensure_default().unwrap();
    let d = a.push_layout(&fixtures.image_layout("busybox"), "lib/small", "v1");
    let (status, body) =
        a.get_with_headers("/v2/lib/small/manifests/v1", &[("Accept", OCI_MANIFEST)]);
    assert_eq!(status, 200);
    assert_eq!(sha256_digest(&body), d);
    let (status, _) = b.get("/v2/lib/small/manifests/v1");
    assert_eq!(status, 404);
}
