//! `cargo xtask bench pull`: a cold pull of a large image (about 200 MiB
//! unpacked in 5 layers plus busybox, see [`crate::fixtures::large`]) from a
//! local registry, Berth's image service (in-process) against a private
//! `dockerd` (timed around `docker pull`), interleaved run by run.
//!
//! Every run is cold: dockerd's image is removed and pruned (and its
//! overlay2 layers checked gone) after each pull; each Berth pull gets a
//! fresh data root, removed afterwards. The page cache is left alone: the
//! registry's blobs are cached for both sides alike.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use super::dockerd::{self, Dockerd};
use super::{measure, millis, Summary};
use crate::fixtures::large::ensure_default_large;
use crate::registry::LocalRegistry;

/// The repository the large image is pushed to.
const REPO: &str = "bench/large";

/// What Berth should reach: at most half of dockerd's median.
const TARGET_RATIO: f64 = 0.5;

/// Set in the environment of the release re-run, so it does not re-run.
const REEXEC_ENV: &str = "BERTH_BENCH_PULL_REEXEC";

/// Options of the pull bench.
#[derive(Clone, Debug)]
pub struct Options {
    /// Cold pulls per side.
    pub runs: usize,
    /// The dockerd binary [default: see [`dockerd::find_dockerd`]].
    pub dockerd: Option<PathBuf>,
    /// Only time dockerd (e.g. while Berth's pull does not work yet).
    pub docker_only: bool,
    /// Run in this (debug) build instead of re-running in a release build.
    pub allow_debug: bool,
}

/// One side's results.
struct Side {
    name: &'static str,
    times_ms: Vec<f64>,
}

/// Runs the bench and prints its table.
pub fn run(options: &Options) -> Result<()> {
    ensure!(options.runs > 0, "--runs must be at least 1");
    if cfg!(debug_assertions) && !options.allow_debug && std::env::var_os(REEXEC_ENV).is_none() {
        return super::rerun_in_release("pull", REEXEC_ENV);
    }
    // SAFETY: geteuid has no preconditions.
    ensure!(
        unsafe { libc::geteuid() } == 0,
        "bench pull must run as root (it starts dockerd)"
    );
    let dockerd_bin = dockerd::find_dockerd(options.dockerd.as_deref())?;
    let docker_cli = super::dockerd::find_docker_cli(&dockerd_bin)?;

    let image = ensure_default_large()?;
    let spec = image.spec;
    let registry = LocalRegistry::try_start()?;
    let started = Instant::now();
    let digest = registry
        .try_push_layout(&image.layout, REPO, "latest")
        .context("pushing the large image")?;
    let reference = format!("{}/{REPO}:latest", registry.host());
    println!(
        "pushed {reference} ({digest}) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let daemon = Dockerd::start(&dockerd_bin, &docker_cli)?;
    let server = daemon
        .run(&["version", "--format", "{{.Server.Version}}"])
        .unwrap_or_default();
    let scratch = tempfile::Builder::new()
        .prefix("berth-bench-pull-")
        .tempdir()
        .context("creating a scratch directory")?;
    let scratch = ScratchDir(scratch);

    println!(
        "bench pull: {} interleaved cold pulls each of {reference}\n  \
         image: busybox + {} layers x {} files x {:.1} MiB = {:.0} MiB generated, {:.0} MiB compressed",
        options.runs,
        spec.layers,
        spec.files_per_layer,
        spec.file_size as f64 / 1048576.0,
        spec.generated_bytes() as f64 / 1048576.0,
        compressed_size(&image.layout)? as f64 / 1048576.0,
    );
    println!(
        "  docker {} (dockerd {}, {}, data root {})",
        docker_cli.display(),
        server.trim(),
        dockerd_bin.display(),
        daemon.data_root().display()
    );
    if options.docker_only {
        println!("  berth  (skipped: --docker-only)");
    } else {
        println!("  berth  berth_image::service::LocalImageService::pull, in-process");
    }

    let mut docker = Side {
        name: "docker",
        times_ms: Vec::new(),
    };
    let mut berth = Side {
        name: "berth",
        times_ms: Vec::new(),
    };
    for n in 0..options.runs {
        settle();
        let t = docker_pull_once(&daemon, &reference, &digest)
            .with_context(|| format!("docker pull, run {n}"))?;
        docker.times_ms.push(millis(t));
        eprintln!("  run {n}: docker {:>8.0} ms", millis(t));
        if !options.docker_only {
            let root = scratch.0.path().join(format!("berth-{n}"));
            fs::create_dir(&root).with_context(|| format!("creating {}", root.display()))?;
            settle();
            let pulled = berth_pull_once(&root, &reference).and_then(|t| {
                // A pull that skipped unpacking would not be a cold pull.
                let stored = stored_bytes(&root)?;
                ensure!(
                    stored >= spec.generated_bytes(),
                    "berth's data root holds only {stored} bytes after the pull; \
                     expected at least the {} bytes of generated files",
                    spec.generated_bytes()
                );
                Ok(t)
            });
            remove_data_root(&root);
            let t = pulled.with_context(|| format!("berth pull, run {n}"))?;
            berth.times_ms.push(millis(t));
            eprintln!("  run {n}: berth  {:>8.0} ms", millis(t));
        }
    }
    drop(daemon);
    drop(registry);
    print_report(&docker, &berth)
}

/// Timed `docker pull` (the CLI process, start to exit), checked against
/// the pushed digest; then (untimed) `docker rmi`, `docker image prune -af`
/// and a check that dockerd holds no image and no overlay2 layer anymore.
fn docker_pull_once(daemon: &Dockerd, reference: &str, digest: &str) -> Result<Duration> {
    let measured = measure::run(daemon.cli().args(["pull", reference]))?;
    let stdout = String::from_utf8_lossy(&measured.stdout);
    if !measured.status.success() {
        bail!(
            "docker pull {reference} failed ({}):\n{}{}\ndockerd log {}",
            measured.status,
            stdout,
            String::from_utf8_lossy(&measured.stderr),
            daemon.log_file().display()
        );
    }
    ensure!(
        stdout.contains(digest),
        "docker pull did not report digest {digest}:\n{stdout}"
    );
    daemon.run(&["rmi", reference])?;
    daemon.run(&["image", "prune", "-af"])?;
    let images = daemon.run(&["images", "-aq"])?;
    ensure!(
        images.trim().is_empty(),
        "images left after prune: {images}"
    );
    let layers = daemon.overlay2_layers()?;
    ensure!(
        layers.is_empty(),
        "overlay2 layers left after rmi and prune: {layers:?}"
    );
    Ok(measured.wall)
}

/// One cold pull of `reference` by Berth's image service, in-process, into
/// the empty `data_root`. Times the pull only (not opening the stores nor
/// building the tokio runtime).
pub fn berth_pull_once(data_root: &Path, reference: &str) -> Result<Duration> {
    use berth_image::progress::Progress;
    use berth_image::service::{
        ImageService as _, ImageServiceConfig, LocalImageService, PullOptions,
    };
    let svc = LocalImageService::open(ImageServiceConfig::new(data_root))
        .with_context(|| format!("opening the image service on {}", data_root.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    let start = Instant::now();
    rt.block_on(svc.pull(reference, PullOptions::default(), Progress::discard()))
        .with_context(|| format!("pulling {reference}"))?;
    let elapsed = start.elapsed();
    drop(svc);
    drop(rt);
    Ok(elapsed)
}

/// Flushes dirty pages (`sync(2)`), untimed, so that one run's writes (and
/// the previous cleanup's deletes) are not written back during the next
/// timed pull. The page cache itself is kept.
fn settle() {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() };
}

/// Total size of the regular files under `dir` (symlinks not followed).
fn stored_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

/// Unmounts whatever is mounted under a Berth data root and removes it.
fn remove_data_root(root: &Path) {
    dockerd::unmount_under(root);
    if let Err(e) = fs::remove_dir_all(root) {
        eprintln!("warning: removing {}: {e}", root.display());
    }
}

/// The scratch dir of the Berth data roots: unmounted under, then removed.
struct ScratchDir(tempfile::TempDir);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        dockerd::unmount_under(self.0.path());
    }
}

/// Total size of the layout's blobs.
fn compressed_size(layout: &Path) -> Result<u64> {
    let dir = layout.join("blobs/sha256");
    let mut total = 0;
    for entry in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
        total += entry?.metadata()?.len();
    }
    Ok(total)
}

fn print_report(docker: &Side, berth: &Side) -> Result<()> {
    println!();
    println!(
        "{:<8} {:>5} {:>10} {:>10} {:>10}",
        "engine", "runs", "median ms", "min ms", "max ms"
    );
    let mut medians = Vec::new();
    for side in [docker, berth] {
        let Some(summary) = Summary::of(&side.times_ms) else {
            continue;
        };
        println!(
            "{:<8} {:>5} {:>10.0} {:>10.0} {:>10.0}",
            side.name, summary.count, summary.median, summary.min, summary.max
        );
        medians.push(summary.median);
    }
    println!();
    if let [docker, berth] = medians[..] {
        let ratio = berth / docker;
        println!(
            "ratio berth/docker median: {ratio:.2}x (target <= {TARGET_RATIO:.1}x: {})",
            if ratio <= TARGET_RATIO {
                "met"
            } else {
                "NOT met"
            }
        );
    } else {
        println!("ratio berth/docker: n/a (target <= {TARGET_RATIO:.1}x)");
    }
    Ok(())
}
