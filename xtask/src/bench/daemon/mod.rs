//! `cargo xtask bench daemon`: Berth's daemon against dockerd + containerd,
//! side by side in one run, on the same busybox image from a local registry:
//!
//! - idle daemon memory: the real `berthd` binary (image pre-pulled into its
//!   data root, serving the Engine API on its socket) vs dockerd + its
//!   managed containerd;
//! - per-shim memory with N `sleep 1000` containers: `berth-shim` (driven
//!   in-process through the daemon library) vs `containerd-shim-runc-v2`
//!   (driven through the docker CLI);
//! - create + start + wait + remove of `true`: the daemon library,
//!   in-process, vs `docker run --rm` (and `docker create/start/wait/rm`),
//!   which include the CLI's own cost; interleaved run by run.
//!
//! Neither side has networking (`--network none`; dockerd runs with
//! `--bridge=none --iptables=false`).

pub(crate) mod berth;
mod docker;
pub mod procs;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};

use self::berth::{Berthd, Library, Scratch};
use self::docker::DockerSide;
use self::procs::{mean, Mem};
use super::{dockerd, format_kib, millis, Summary};
use crate::build::{build_bin, Profile};
use crate::fixtures::Fixtures;
use crate::registry::LocalRegistry;

/// Berth's daemon should use at most this share of dockerd + containerd's
/// idle RSS, and a berth-shim at most this share of a containerd-shim's.
const TARGET_RATIO: f64 = 0.2;

/// How long daemons and shims are left alone before they are measured.
const SETTLE: Duration = Duration::from_secs(2);

/// Set in the environment of the release re-run, so it does not re-run.
const REEXEC_ENV: &str = "BERTH_BENCH_DAEMON_REEXEC";

/// Options of the daemon bench.
#[derive(Clone, Debug)]
pub struct Options {
    /// Timed create+start+wait+remove runs per side.
    pub runs: usize,
    /// Sleeping containers per side for the per-shim memory.
    pub containers: usize,
    /// The dockerd binary [default: see [`dockerd::find_dockerd`]].
    pub dockerd: Option<PathBuf>,
    /// Skip the `docker create/start/wait/rm` timing.
    pub skip_docker_steps: bool,
    /// Run in this (debug) build instead of re-running in a release build.
    pub allow_debug: bool,
}

/// Everything measured.
#[derive(Default)]
struct Results {
    berthd_idle: Mem,
    dockerd_idle: Mem,
    containerd_idle: Mem,
    berth_shims: Vec<Mem>,
    docker_shims: Vec<Mem>,
    berth_run_ms: Vec<f64>,
    docker_run_ms: Vec<f64>,
    docker_steps_ms: Vec<f64>,
}

/// Runs the bench and prints its table.
pub fn run(options: &Options) -> Result<()> {
    ensure!(options.runs > 0, "--runs must be at least 1");
    ensure!(options.containers > 0, "--containers must be at least 1");
    if cfg!(debug_assertions) && !options.allow_debug && std::env::var_os(REEXEC_ENV).is_none() {
        return super::rerun_in_release("daemon", REEXEC_ENV);
    }
    // SAFETY: geteuid has no preconditions.
    ensure!(
        unsafe { libc::geteuid() } == 0,
        "bench daemon must run as root (it mounts, runs containers and starts dockerd)"
    );
    let dockerd_bin = dockerd::find_dockerd(options.dockerd.as_deref())?;
    let docker_cli = super::dockerd::find_docker_cli(&dockerd_bin)?;
    let berthd_bin = build_bin("berth-daemon", "berthd", Profile::Release)?;
    let shim_bin = build_bin("berth-shim", "berth-shim", Profile::Release)?;

    let fixtures = Fixtures::ensure_default()?;
    let registry = LocalRegistry::try_start()?;
    let digest = registry
        .try_push_layout(&fixtures.image_layout("busybox"), "busybox", "latest")
        .context("pushing busybox")?;
    let image = format!("{}/busybox:latest", registry.host());
    println!("pushed {image} ({digest})");

    // Short prefixes: shim sockets live under the exec roots.
    let berthd_dir = Scratch::new("bbd-")?;
    let lib_dir = Scratch::new("bbl-")?;
    for sub in ["data", "exec"] {
        for dir in [&berthd_dir, &lib_dir] {
            std::fs::create_dir(dir.path().join(sub))
                .with_context(|| format!("creating {}/{sub}", dir.path().display()))?;
        }
    }
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the tokio runtime")?;
        berth::pull_into(&rt, &berthd_dir.path().join("data"), &image)?;
    }

    let docker = DockerSide::start(&dockerd_bin, &docker_cli)?;
    let server = docker
        .daemon
        .run(&["version", "--format", "{{.Server.Version}}"])
        .unwrap_or_default();
    docker.daemon.run(&["pull", &image])?;
    let berthd = Berthd::start(
        &berthd_bin,
        &shim_bin,
        berthd_dir.path(),
        &berthd_dir.path().join("data"),
        &berthd_dir.path().join("exec"),
    )?;
    println!(
        "bench daemon: {} containers, {} timed runs per side, image {image}\n  \
         berth  {} (idle), berth_daemon::daemon::Daemon in-process + {}\n  \
         docker {} (dockerd {}, {}), runc {}",
        options.containers,
        options.runs,
        berthd_bin.display(),
        shim_bin.display(),
        docker_cli.display(),
        server.trim(),
        dockerd_bin.display(),
        crate::find_on_path("runc").map_or("not on PATH".into(), |p| p.display().to_string()),
    );

    let mut results = Results::default();

    // 1. Idle daemons.
    std::thread::sleep(SETTLE);
    results.berthd_idle = procs::read_mem(berthd.pid())?;
    let (dockerd_pid, containerd_pid) = docker.daemon_pids()?;
    results.dockerd_idle = procs::read_mem(dockerd_pid)?;
    results.containerd_idle = procs::read_mem(containerd_pid)?;
    drop(berthd);
    berth::remove_daemon_network(
        &berthd_dir.path().join("data"),
        &berthd_dir.path().join("exec"),
    );
    eprintln!("idle daemons measured");

    // 2. Per-shim memory with N sleeping containers, one side at a time.
    let library = Library::open(
        &shim_bin,
        &lib_dir.path().join("data"),
        &lib_dir.path().join("exec"),
        &image,
    )?;
    let ids = library.start_sleepers(options.containers)?;
    std::thread::sleep(SETTLE);
    let pids = library.shim_pids();
    warn_count("berth-shim", pids.len(), options.containers);
    results.berth_shims = berth::mems(&pids);
    library.remove_all(&ids)?;
    eprintln!("berth shims measured ({} processes)", pids.len());

    docker.start_sleepers(&image, options.containers)?;
    std::thread::sleep(SETTLE);
    let pids = docker.shim_pids();
    warn_count("containerd-shim", pids.len(), options.containers);
    results.docker_shims = berth::mems(&pids);
    docker.remove_all()?;
    eprintln!("containerd shims measured ({} processes)", pids.len());

    // 3. create + start + wait + remove of `true`, interleaved. One warm-up
    // run per side first (untimed).
    library.run_true().context("berth warm-up run")?;
    docker.run_true(&image).context("docker warm-up run")?;
    let started = Instant::now();
    for n in 0..options.runs {
        let b = library
            .run_true()
            .with_context(|| format!("berth run {n}"))?;
        results.berth_run_ms.push(millis(b));
        let d = docker
            .run_true(&image)
            .with_context(|| format!("docker run {n}"))?;
        results.docker_run_ms.push(millis(d));
        let mut line = format!(
            "  run {n}: berth {:>7.1} ms  docker run --rm {:>7.1} ms",
            millis(b),
            millis(d)
        );
        if !options.skip_docker_steps {
            let s = docker
                .create_start_wait_rm(&image)
                .with_context(|| format!("docker create/start/wait/rm, run {n}"))?;
            results.docker_steps_ms.push(millis(s));
            line += &format!("  docker create+start+wait+rm {:>7.1} ms", millis(s));
        }
        eprintln!("{line}");
    }
    eprintln!(
        "timed runs done in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    drop(library);
    drop(docker);
    drop(lib_dir);
    drop(berthd_dir);
    drop(registry);
    print_report(&results, options.containers);
    Ok(())
}

fn warn_count(what: &str, found: usize, expected: usize) {
    if found != expected {
        eprintln!("warning: found {found} {what} processes, expected {expected}");
    }
}

fn verdict(ratio: f64) -> &'static str {
    if ratio <= TARGET_RATIO {
        "met"
    } else {
        "NOT met"
    }
}

fn print_report(r: &Results, containers: usize) {
    let docker_idle = r.dockerd_idle + r.containerd_idle;
    println!();
    println!("idle daemon (after {SETTLE:?})");
    println!("  {:<28} {:>24} {:>24}", "", "VmRSS", "Pss");
    let row = |name: &str, m: Mem| {
        println!(
            "  {:<28} {:>24} {:>24}",
            name,
            format_kib(m.rss_kib),
            format_kib(m.pss_kib)
        );
    };
    row("berthd", r.berthd_idle);
    row("dockerd", r.dockerd_idle);
    row("containerd", r.containerd_idle);
    row("dockerd + containerd", docker_idle);
    let idle_ratio = r.berthd_idle.rss_kib as f64 / docker_idle.rss_kib as f64;
    println!(
        "  ratio berthd / (dockerd + containerd): RSS {idle_ratio:.3}, Pss {:.3} \
         (target RSS <= {TARGET_RATIO}: {})",
        r.berthd_idle.pss_kib as f64 / docker_idle.pss_kib as f64,
        verdict(idle_ratio)
    );

    println!();
    println!("per shim, {containers} sleeping containers per side (after {SETTLE:?})");
    println!(
        "  {:<16} {:>6} {:>12} {:>12} {:>12} {:>12}",
        "shim", "count", "RSS mean", "RSS median", "Pss mean", "Pss median"
    );
    let shim_row = |name: &str, mems: &[Mem]| -> Option<(f64, f64)> {
        let rss: Vec<f64> = mems.iter().map(|m| m.rss_kib as f64).collect();
        let pss: Vec<f64> = mems.iter().map(|m| m.pss_kib as f64).collect();
        let (rs, ps) = (Summary::of(&rss)?, Summary::of(&pss)?);
        println!(
            "  {:<16} {:>6} {:>9.0} KiB {:>9.0} KiB {:>9.0} KiB {:>9.0} KiB",
            name,
            mems.len(),
            mean(&rss),
            rs.median,
            mean(&pss),
            ps.median
        );
        Some((rs.median, ps.median))
    };
    let b = shim_row("berth-shim", &r.berth_shims);
    let d = shim_row("containerd-shim", &r.docker_shims);
    match (b, d) {
        (Some((brss, bpss)), Some((drss, dpss))) => {
            let ratio = brss / drss;
            println!(
                "  ratio berth-shim / containerd-shim (median): RSS {ratio:.3}, Pss {:.3} \
                 (target RSS <= {TARGET_RATIO}: {})",
                bpss / dpss,
                verdict(ratio)
            );
        }
        _ => println!("  ratio: n/a (no shims measured on one side)"),
    }

    println!();
    println!("create + start + wait + remove of `true`");
    println!(
        "  {:<44} {:>5} {:>10} {:>10} {:>10} {:>10}",
        "", "runs", "median ms", "p90 ms", "min ms", "max ms"
    );
    let time_row = |name: &str, samples: &[f64]| -> Option<Summary> {
        let s = Summary::of(samples)?;
        println!(
            "  {:<44} {:>5} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            name, s.count, s.median, s.p90, s.min, s.max
        );
        Some(s)
    };
    let b = time_row("berth daemon library (in-process)", &r.berth_run_ms);
    let d = time_row("docker run --rm (CLI, incl. its cost)", &r.docker_run_ms);
    let s = time_row(
        "docker create+start+wait+rm (4 CLI calls)",
        &r.docker_steps_ms,
    );
    if let (Some(b), Some(d)) = (b, d) {
        println!(
            "  ratio berth / docker run --rm: median {:.3}, p90 {:.3}",
            b.median / d.median,
            b.p90 / d.p90
        );
    }
    if let (Some(b), Some(s)) = (b, s) {
        println!(
            "  ratio berth / docker create+start+wait+rm: median {:.3}, p90 {:.3}",
            b.median / s.median,
            b.p90 / s.p90
        );
    }
    println!(
        "  note: docker's times include the docker CLI process(es) and the API \
         round trips; berth's are daemon-library calls in this process, as the \
         daemon issue asks (this bench does not time the API path)."
    );
}
