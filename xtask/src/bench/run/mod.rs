//! `cargo xtask bench run`: `berth run --rm busybox true` against berthd vs
//! `docker run --rm` against a private dockerd, both end to end from their
//! CLI process, on the same image from the same local registry (pulled by
//! both beforehand), with `--network none` and with the default network,
//! engines and modes interleaved run by run; then N `run -d ... sleep 1000` spawned at once
//! per engine, timed until all are running.
//!
//! dockerd runs with Docker's default bridge network on a private bridge
//! ([`bridge::BRIDGE`]) with iptables on; the bridge, veths, iptables rules
//! and sysctls are put back afterwards; berthd's default network is its own
//! bridge ([`super::daemon::berth::BENCH_BRIDGE`]) with iptables, removed
//! the same way. The report gives what networking adds to each engine's
//! `run --rm` (default minus none).

mod bridge;
mod engine;
mod iptables;
mod report;

use std::path::PathBuf;

use anyhow::{ensure, Context, Result};

use self::bridge::PrivateBridge;
use self::engine::Engine;
use self::report::{ConcurrentRow, RunSamples};
use super::daemon::berth::{self as berth_side, Berthd, Scratch};
use super::dockerd::{self, Dockerd, DockerdNetwork};
use super::millis;
use crate::build::{build_bin, Profile};
use crate::fixtures::Fixtures;
use crate::registry::LocalRegistry;

/// Untimed runs per engine and network mode before the timed ones.
const WARMUP_RUNS: usize = 2;

/// Options of the run bench.
#[derive(Clone, Debug)]
pub struct Options {
    /// Timed `run --rm` runs per engine and network mode.
    pub runs: usize,
    /// Containers per engine and network mode in the concurrent start
    /// (0 skips it).
    pub concurrent: usize,
    /// The dockerd binary [default: see [`dockerd::find_dockerd`]].
    pub dockerd: Option<PathBuf>,
}

/// A container network mode as both CLIs spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkMode {
    /// `--network none`: a network namespace with only loopback.
    None,
    /// No `--network` flag: each engine's default network.
    Default,
}

impl NetworkMode {
    /// The CLI flags selecting this mode.
    pub fn cli_args(self) -> &'static [&'static str] {
        match self {
            NetworkMode::None => &["--network", "none"],
            NetworkMode::Default => &[],
        }
    }

    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            NetworkMode::None => "--network none",
            NetworkMode::Default => "default network",
        }
    }
}

/// The berth side: the CLI and its berthd. On drop every container is
/// force-removed before berthd stops (shims outlive berthd), then any shim
/// left under its exec root is killed.
struct BerthSide {
    engine: Engine,
    daemon: Option<Berthd>,
    shims_dir: PathBuf,
    /// berthd's roots, for removing its bridge once it is gone.
    roots: (PathBuf, PathBuf),
}

impl Drop for BerthSide {
    fn drop(&mut self) {
        if let Err(e) = self.engine.remove_all() {
            eprintln!("warning: removing berth containers: {e:#}");
        }
        drop(self.daemon.take());
        berth_side::remove_daemon_network(&self.roots.0, &self.roots.1);
        for pid in berth_side::shim_processes(&self.shims_dir) {
            eprintln!("warning: killing leftover berth-shim {pid}");
            if let Ok(pid) = libc::pid_t::try_from(pid) {
                // SAFETY: kill has no memory-safety preconditions; the
                // process is a berth-shim serving our private exec root.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// The docker side: the CLI and its dockerd; containers are force-removed
/// before [`Dockerd`]'s own drop stops it.
struct DockerSide {
    engine: Engine,
    _daemon: Dockerd,
}

impl Drop for DockerSide {
    fn drop(&mut self) {
        if let Err(e) = self.engine.remove_all() {
            eprintln!("warning: removing docker containers: {e:#}");
        }
    }
}

/// Runs the bench and prints its tables.
pub fn run(options: &Options) -> Result<()> {
    ensure!(options.runs > 0, "--runs must be at least 1");
    // SAFETY: geteuid has no preconditions.
    ensure!(
        unsafe { libc::geteuid() } == 0,
        "bench run must run as root (it starts daemons, runs containers and \
         sets up a bridge with iptables)"
    );
    let dockerd_bin = dockerd::find_dockerd(options.dockerd.as_deref())?;
    let docker_cli = dockerd::find_docker_cli(&dockerd_bin)?;
    let berthd_bin = build_bin("berth-daemon", "berthd", Profile::Release)?;
    let shim_bin = build_bin("berth-shim", "berth-shim", Profile::Release)?;
    build_bin("berth-runtime", "berth-runc", Profile::Release)?;
    let berth_cli = build_bin("berth-cli", "berth", Profile::Release)?;

    let fixtures = Fixtures::ensure_default()?;
    let registry = LocalRegistry::try_start()?;
    let digest = registry
        .try_push_layout(&fixtures.image_layout("busybox"), "busybox", "latest")
        .context("pushing busybox")?;
    let image = format!("{}/busybox:latest", registry.host());
    eprintln!("pushed {image} ({digest})");

    // A short prefix: shim sockets live under the exec root.
    let scratch = Scratch::new("bbr-")?;
    let (data, exec) = (scratch.path().join("data"), scratch.path().join("exec"));
    for dir in [&data, &exec] {
        std::fs::create_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the tokio runtime")?;
        berth_side::pull_into(&rt, &data, &image)?;
    }

    // Declared in this order so they drop in reverse: berth's containers
    // and berthd, docker's containers and dockerd, then the bridge (after
    // dockerd has let go of it), the scratch dir and the registry.
    let bridge = PrivateBridge::create()?;
    let dockerd = Dockerd::start_with(
        &dockerd_bin,
        &docker_cli,
        &DockerdNetwork::Bridge(bridge::BRIDGE.into()),
    )?;
    let docker = DockerSide {
        engine: Engine::from_command("docker", &dockerd.cli()),
        _daemon: dockerd,
    };
    docker.engine.run(&["pull", "--quiet", &image])?;
    let berthd = Berthd::start(&berthd_bin, &shim_bin, scratch.path(), &data, &exec)?;
    let berth = BerthSide {
        engine: Engine::berth(berth_cli.clone(), berthd.socket()),
        daemon: Some(berthd),
        shims_dir: exec.join("shims"),
        roots: (data.clone(), exec.clone()),
    };

    let version = |e: &Engine| {
        e.run(&["version", "--format", "{{.Server.Version}}"])
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|e| format!("unknown ({e:#})"))
    };
    println!(
        "bench run: {} timed runs per engine and network mode ({WARMUP_RUNS} warm-ups \
         discarded), interleaved; image {image}\n  \
         berth  {} -> berthd {} ({})\n  \
         docker {} -> dockerd {} ({}), default network: bridge {} ({}) with iptables",
        options.runs,
        berth_cli.display(),
        version(&berth.engine),
        berthd_bin.display(),
        docker_cli.display(),
        version(&docker.engine),
        dockerd_bin.display(),
        bridge::BRIDGE,
        bridge.subnet(),
    );

    let modes = [NetworkMode::None, NetworkMode::Default];
    let timings = time_run_rm(&berth.engine, &docker.engine, &image, &modes, options.runs)?;
    println!();
    print!("{}", report::run_table(&image, &timings));

    if options.concurrent > 0 {
        let mut rows = Vec::new();
        for mode in modes {
            let row = ConcurrentRow {
                mode,
                berth: concurrent(&berth.engine, &image, mode, options.concurrent),
                docker: concurrent(&docker.engine, &image, mode, options.concurrent),
            };
            // `--network none` is the comparison the target is for;
            // a failure there is a failure of the bench.
            if mode == NetworkMode::None {
                if let Err(e) = row.berth.as_ref().and(row.docker.as_ref()) {
                    anyhow::bail!("concurrent start with --network none: {e}");
                }
            }
            rows.push(row);
        }
        println!();
        print!(
            "{}",
            report::concurrent_table(&image, options.concurrent, &rows)
        );
    }

    drop(berth);
    drop(docker);
    drop(bridge);
    drop(scratch);
    drop(registry);
    eprintln!("cleaned up: containers, berthd, dockerd, bridge, iptables, scratch dirs, registry");
    Ok(())
}

/// Warm-ups, then `runs` timed `run --rm ... true` per engine and network
/// mode, interleaved run by run: each round times every mode on both
/// engines (the mode order alternating between rounds), so a machine that
/// drifts slower or faster during the bench shifts every column alike and
/// the default-minus-none difference stays honest.
fn time_run_rm(
    berth: &Engine,
    docker: &Engine,
    image: &str,
    modes: &[NetworkMode],
    runs: usize,
) -> Result<Vec<(NetworkMode, RunSamples)>> {
    for n in 0..WARMUP_RUNS {
        for &mode in modes {
            berth
                .run_rm_true(image, mode)
                .with_context(|| format!("berth warm-up {n}, {}", mode.label()))?;
            docker
                .run_rm_true(image, mode)
                .with_context(|| format!("docker warm-up {n}, {}", mode.label()))?;
        }
    }
    let mut samples: Vec<(NetworkMode, RunSamples)> =
        modes.iter().map(|&m| (m, RunSamples::default())).collect();
    for n in 0..runs {
        let order: Vec<usize> = if n % 2 == 0 {
            (0..modes.len()).collect()
        } else {
            (0..modes.len()).rev().collect()
        };
        for i in order {
            let (mode, s) = &mut samples[i];
            let mode = *mode;
            let b = berth
                .run_rm_true(image, mode)
                .with_context(|| format!("berth run {n}, {}", mode.label()))?;
            let d = docker
                .run_rm_true(image, mode)
                .with_context(|| format!("docker run {n}, {}", mode.label()))?;
            eprintln!(
                "  {} run {n}: berth {:>7.1} ms  docker {:>7.1} ms",
                mode.label(),
                millis(b),
                millis(d)
            );
            s.berth.push(millis(b));
            s.docker.push(millis(d));
        }
    }
    Ok(samples)
}

/// One engine's concurrent start, then every container removed (and
/// checked gone) whether or not it worked; an error as text for the report.
fn concurrent(
    engine: &Engine,
    image: &str,
    mode: NetworkMode,
    count: usize,
) -> Result<engine::Concurrent, String> {
    let result = engine.concurrent_start(image, mode, count);
    if let Ok(c) = &result {
        eprintln!(
            "  {} concurrent start, {}: all {count} running after {:.1} ms",
            engine.name,
            mode.label(),
            millis(c.all_running)
        );
    }
    let removed = engine.remove_all();
    match (result, removed) {
        (Ok(c), Ok(())) => Ok(c),
        (Err(e), _) | (Ok(_), Err(e)) => {
            eprintln!(
                "  {} concurrent start, {}: {e:#}",
                engine.name,
                mode.label()
            );
            Err(format!("{e:#}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_modes_as_cli_flags() {
        assert_eq!(NetworkMode::None.cli_args(), ["--network", "none"]);
        assert!(NetworkMode::Default.cli_args().is_empty());
        assert_eq!(NetworkMode::Default.label(), "default network");
    }
}
