//! `cargo xtask demo`: Berth's main job end to end on a fresh machine. A
//! busybox image (built from Debian's busybox-static) is pushed to a real
//! local registry, pulled by berth-image into a fresh data root, its rootfs
//! mounted as an overlay snapshot, and a container run on it by berth-runc
//! with the image's Env, WorkingDir and Cmd.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use berth_image::progress::Progress;
use berth_image::record::ImageRecord;
use berth_image::service::{ImageService, ImageServiceConfig, LocalImageService, PullOptions};
use serde_json::Value;

use crate::bench::cgroups::remove_parent_if_empty;
use crate::build::{build_bin, Profile};
use crate::fixtures::{spec_with_args, Fixtures};
use crate::registry::LocalRegistry;

/// What the demo container runs when no command is given.
const DEFAULT_SCRIPT: &str = "echo \"hello from a berth container\"; \
    echo \"hostname: $(hostname)\"; echo \"pid: $$\"; id; \
    echo \"network: $(ls /sys/class/net)\"";

/// Runs `command` (or a short tour) in a fresh container from the busybox
/// image and returns the container's exit code.
pub fn run(command: &[String]) -> Result<i32> {
    let runc = build_bin("berth-runtime", "berth-runc", Profile::Debug)?;
    let fixtures = Fixtures::ensure_default()?;
    let work = tempfile::Builder::new().prefix("berth-demo-").tempdir()?;

    let registry = LocalRegistry::try_start()?;
    let reference = format!("{}/demo/busybox:latest", registry.host());
    registry.try_push_layout(&fixtures.image_layout("busybox"), "demo/busybox", "latest")?;
    eprintln!("$ pull {reference}");
    let service = LocalImageService::open(ImageServiceConfig::new(work.path().join("data")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let progress = Progress::new(|event| eprintln!("{event}"));
    let image = runtime.block_on(service.pull(&reference, PullOptions::default(), progress))?;

    let id = format!("demo-{}", std::process::id());
    let rootfs = service.prepare_rootfs(&id, &image.id)?;
    let result = (|| {
        rootfs.mount(&rootfs.merged_dir)?;
        let args: Vec<String> = if command.is_empty() {
            ["sh", "-c", DEFAULT_SCRIPT].map(String::from).to_vec()
        } else {
            command.to_vec()
        };
        let bundle = work.path().join("bundle");
        std::fs::create_dir_all(&bundle)?;
        write_spec(&bundle, &rootfs.merged_dir, &image, &args, &id)?;
        eprintln!("$ berth-runc run --bundle {} {id}", bundle.display());
        Command::new(&runc)
            .arg("--root")
            .arg(work.path().join("state"))
            .args(["run", "--bundle"])
            .arg(&bundle)
            .arg(&id)
            .status()
            .context("running berth-runc")
    })();
    service.remove_rootfs(&id)?;
    remove_parent_if_empty("berth", "demo-");
    let code = result?.code().unwrap_or(1);
    eprintln!("container exited with code {code}");
    Ok(code)
}

/// The bundle's config.json: the fixture defaults, on the mounted rootfs,
/// with the image's environment and working directory.
fn write_spec(
    bundle: &Path,
    rootfs: &Path,
    image: &ImageRecord,
    args: &[String],
    id: &str,
) -> Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut spec = spec_with_args(&args);
    spec["root"] = serde_json::json!({ "path": rootfs, "readonly": false });
    spec["linux"]["cgroupsPath"] = Value::String(format!("/berth/{id}"));
    if let Some(c) = &image.config.config {
        if let Some(env) = &c.env {
            spec["process"]["env"] = serde_json::json!(env);
        }
        if let Some(dir) = c.working_dir.as_deref().filter(|d| !d.is_empty()) {
            spec["process"]["cwd"] = Value::String(dir.to_string());
        }
    }
    std::fs::write(
        bundle.join("config.json"),
        serde_json::to_vec_pretty(&spec)?,
    )?;
    Ok(())
}
