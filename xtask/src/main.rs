//! `cargo xtask`: Berth's developer tasks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use xtask::bench;
use xtask::fixtures::{self, Fixtures, IMAGE_NAMES};

/// Berth's developer tasks.
#[derive(Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the test fixtures (busybox bundle template, OCI image layouts).
    Fixtures(FixturesArgs),
    /// Run a benchmark.
    #[command(subcommand)]
    Bench(Bench),
    /// Run a busybox container end to end: a local registry, berthd, and
    /// `berth run --rm <registry>/busybox:latest echo hello`.
    Demo {
        /// Skip the daemon: pull in-process and run the bundle with
        /// berth-runc.
        #[arg(long)]
        runtime_only: bool,
        /// The command to run in the container [default: echo hello].
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Build the static `berth-init` (`--init`) into target/init/release
    /// and print its path, for berthd's `--init-path`.
    BuildInit,
}

#[derive(Args)]
struct FixturesArgs {
    /// Output directory [default: <workspace>/target/fixtures].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Bench {
    /// `berth-runc run` vs `runc run` of `true`, interleaved.
    Runtime(RuntimeArgs),
    /// Cold pull of a large image from a local registry: Berth's image
    /// service (in-process) vs a private dockerd, interleaved. Needs root.
    Pull(PullArgs),
    /// Daemon and shim memory and create+start+wait+remove of `true`:
    /// berthd and the daemon library vs dockerd + containerd, side by
    /// side. Needs root.
    Daemon(DaemonArgs),
    /// `berth run --rm busybox true` (CLI + berthd) vs `docker run --rm`
    /// (CLI + a private dockerd with its bridge), with `--network none` and
    /// the default network, interleaved; then N concurrent `run -d`, timed
    /// until all are running. Needs root.
    Run(RunArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Timed `run --rm` runs per engine and network mode.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Containers started at once per engine and network mode (0 skips the
    /// concurrent start).
    #[arg(long, default_value_t = 50)]
    concurrent: u32,
    /// The dockerd binary [default: /usr/sbin/dockerd, dockerd on PATH, or
    /// target/bench-tools/docker/usr/sbin/dockerd].
    #[arg(long, env = "BERTH_BENCH_DOCKERD", value_name = "PATH")]
    dockerd: Option<PathBuf>,
}

#[derive(Args)]
struct DaemonArgs {
    /// Timed create+start+wait+remove runs per side.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Sleeping containers per side for the per-shim memory.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    containers: u32,
    /// The dockerd binary [default: /usr/sbin/dockerd, dockerd on PATH, or
    /// target/bench-tools/docker/usr/sbin/dockerd].
    #[arg(long, env = "BERTH_BENCH_DOCKERD", value_name = "PATH")]
    dockerd: Option<PathBuf>,
    /// Skip timing `docker create` + `start` + `wait` + `rm` (4 CLI calls).
    #[arg(long)]
    skip_docker_steps: bool,
    /// Run in this debug build instead of re-running in a release build.
    #[arg(long)]
    allow_debug: bool,
}

#[derive(Args)]
struct PullArgs {
    /// Cold pulls per engine.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// The dockerd binary [default: /usr/sbin/dockerd, dockerd on PATH, or
    /// target/bench-tools/docker/usr/sbin/dockerd].
    #[arg(long, env = "BERTH_BENCH_DOCKERD", value_name = "PATH")]
    dockerd: Option<PathBuf>,
    /// Time dockerd only, not Berth.
    #[arg(long)]
    docker_only: bool,
    /// Run in this debug build instead of re-running in a release build.
    #[arg(long)]
    allow_debug: bool,
}

#[derive(Args)]
struct RuntimeArgs {
    /// Runs per runtime.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Benchmark this binary as berth-runc instead of building it.
    #[arg(long, env = "BERTH_RUNC", value_name = "PATH")]
    berth_runc: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Task::Demo {
        runtime_only,
        command,
    } = &cli.command
    {
        let result = if *runtime_only {
            xtask::demo::run_runtime_only(command)
        } else {
            xtask::demo::run(command)
        };
        return match result {
            Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Task::Fixtures(args) => build_fixtures(args),
        Task::Bench(Bench::Runtime(args)) => bench::runtime::run(&bench::runtime::Options {
            runs: usize::try_from(args.runs)?,
            berth_runc: args.berth_runc,
        }),
        Task::Bench(Bench::Pull(args)) => bench::pull::run(&bench::pull::Options {
            runs: usize::try_from(args.runs)?,
            dockerd: args.dockerd,
            docker_only: args.docker_only,
            allow_debug: args.allow_debug,
        }),
        Task::Bench(Bench::Daemon(args)) => bench::daemon::run(&bench::daemon::Options {
            runs: usize::try_from(args.runs)?,
            containers: usize::try_from(args.containers)?,
            dockerd: args.dockerd,
            skip_docker_steps: args.skip_docker_steps,
            allow_debug: args.allow_debug,
        }),
        Task::Bench(Bench::Run(args)) => bench::run::run(&bench::run::Options {
            runs: usize::try_from(args.runs)?,
            concurrent: usize::try_from(args.concurrent)?,
            dockerd: args.dockerd,
        }),
        Task::BuildInit => {
            println!("{}", xtask::init::build_static_init()?.display());
            Ok(())
        }
        Task::Demo { .. } => unreachable!("handled in main"),
    }
}

fn build_fixtures(args: FixturesArgs) -> Result<()> {
    let dir = args.out.unwrap_or_else(fixtures::default_dir);
    let fixtures = Fixtures::ensure(&dir)?;
    println!("fixtures: {}", fixtures.root().display());
    println!("  rootfs:      {}", fixtures.rootfs().display());
    println!("  config.json: {}", fixtures.config_json().display());
    for name in IMAGE_NAMES {
        println!("  image {name}: {}", fixtures.image_layout(name).display());
        for manifest in fixtures.manifests(name)? {
            let label = match (&manifest.reference, &manifest.platform) {
                (Some(tag), _) => format!("{name}:{tag}"),
                (None, Some(platform)) => format!("  {platform}"),
                (None, None) => "-".to_owned(),
            };
            let kind = manifest
                .media_type
                .rsplit('.')
                .nth(1)
                .unwrap_or(&manifest.media_type);
            println!("    {label:<22} {kind:<8} {}", manifest.digest);
        }
    }
    Ok(())
}
