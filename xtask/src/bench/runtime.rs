//! `cargo xtask bench runtime`: `berth-runc run` against `runc run` on the
//! same busybox bundle running `true`, interleaved run by run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};

use super::{cgroups, format_kib, measure, millis, Summary};
use crate::fixtures::Fixtures;

/// The cgroup parent of every bench container (`/berth/bench-<runtime>-<n>`).
const CGROUP_PARENT: &str = "berth";

/// Options of the runtime bench.
#[derive(Clone, Debug)]
pub struct Options {
    /// Runs per runtime.
    pub runs: usize,
    /// Use this binary as berth-runc instead of building it (e.g. point it
    /// at runc to check the bench itself).
    pub berth_runc: Option<PathBuf>,
}

/// One runtime under test and its results so far.
struct Runtime {
    /// Short name, used in container ids and cgroup paths.
    name: &'static str,
    binary: PathBuf,
    /// The runtime's `--root` state directory.
    state: PathBuf,
    bundle: PathBuf,
    config: Value,
    times_ms: Vec<f64>,
    max_rss_kib: Vec<u64>,
}

/// Runs the bench and prints its table.
pub fn run(options: &Options) -> Result<()> {
    ensure!(options.runs > 0, "--runs must be at least 1");
    let runc = crate::find_on_path("runc")
        .context("runc not found on PATH: install runc (apt-get install runc)")?;
    let berth_runc = match &options.berth_runc {
        Some(path) => path.clone(),
        None => crate::build::build_bin(
            "berth-runtime",
            "berth-runc",
            crate::build::Profile::Release,
        )?,
    };
    let fixtures = Fixtures::ensure_default()?;
    let scratch = tempfile::Builder::new()
        .prefix("berth-bench-runtime-")
        .tempdir()
        .context("creating a scratch directory")?;

    let mut runtimes = [
        Runtime::new("berth", berth_runc, &fixtures, scratch.path())?,
        Runtime::new("runc", runc, &fixtures, scratch.path())?,
    ];
    println!(
        "bench runtime: {} interleaved runs each of `true` in a busybox bundle (read-only rootfs)",
        options.runs
    );
    for runtime in &runtimes {
        println!("  {:<6} {}", runtime.name, runtime.binary.display());
    }

    let outcome = run_interleaved(&mut runtimes, options.runs);
    // Clean up even after a failure; report what the runtimes left behind.
    for dir in cgroups::remove_parent_if_empty(CGROUP_PARENT, "bench-") {
        eprintln!("warning: cgroup {} was left behind", dir.display());
    }
    outcome?;
    print_report(&runtimes)
}

/// Run 0 of each runtime, then run 1 of each, and so on.
fn run_interleaved(runtimes: &mut [Runtime], runs: usize) -> Result<()> {
    for n in 0..runs {
        for runtime in runtimes.iter_mut() {
            runtime.run_once(n)?;
        }
    }
    Ok(())
}

impl Runtime {
    fn new(
        name: &'static str,
        binary: PathBuf,
        fixtures: &Fixtures,
        scratch: &Path,
    ) -> Result<Self> {
        let state = scratch.join(format!("{name}-root"));
        fs::create_dir(&state).with_context(|| format!("creating {}", state.display()))?;
        let bundle = fixtures.new_bundle(&scratch.join(format!("{name}-bundle")), &["true"])?;
        let path = bundle.join("config.json");
        let text = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut config: Value =
            serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?;
        config["root"]["readonly"] = json!(true);
        Ok(Self {
            name,
            binary,
            state,
            bundle,
            config,
            times_ms: Vec::new(),
            max_rss_kib: Vec::new(),
        })
    }

    /// Container `bench-<name>-<n>`: rewrites the bundle's cgroupsPath
    /// (untimed), runs it (timed), force-deletes it (untimed).
    fn run_once(&mut self, n: usize) -> Result<()> {
        let id = format!("bench-{}-{n}", self.name);
        self.config["linux"]["cgroupsPath"] = json!(format!("/{CGROUP_PARENT}/{id}"));
        let path = self.bundle.join("config.json");
        let text = serde_json::to_vec_pretty(&self.config).context("serializing config.json")?;
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;

        let mut command = Command::new(&self.binary);
        command
            .arg("--root")
            .arg(&self.state)
            .arg("run")
            .arg("--bundle")
            .arg(&self.bundle)
            .arg(&id);
        let measured = measure::run(&mut command);
        self.delete(&id);
        let measured = measured.with_context(|| format!("{} run {id}", self.name))?;
        if !measured.status.success() {
            let stderr = String::from_utf8_lossy(&measured.stderr);
            let stderr = match stderr.trim_end() {
                "" => "(no stderr output)",
                text => text,
            };
            bail!(
                "{} run {id} failed ({}):\n{stderr}",
                self.binary.display(),
                measured.status,
            );
        }
        self.times_ms.push(millis(measured.wall));
        self.max_rss_kib.push(measured.max_rss_kib);
        Ok(())
    }

    /// `delete --force`, ignoring errors: `run` normally deletes already.
    fn delete(&self, id: &str) {
        let _ = measure::run(
            Command::new(&self.binary)
                .arg("--root")
                .arg(&self.state)
                .args(["delete", "--force", id]),
        );
    }
}

fn print_report(runtimes: &[Runtime]) -> Result<()> {
    println!();
    println!(
        "{:<8} {:>5} {:>10} {:>8} {:>8} {:>8}  peak RSS",
        "runtime", "runs", "median ms", "p90 ms", "min ms", "max ms"
    );
    let mut medians = Vec::new();
    for runtime in runtimes {
        let summary = Summary::of(&runtime.times_ms).context("no samples")?;
        let peak = runtime.max_rss_kib.iter().copied().max().unwrap_or(0);
        println!(
            "{:<8} {:>5} {:>10.2} {:>8.2} {:>8.2} {:>8.2}  {}",
            runtime.name,
            summary.count,
            summary.median,
            summary.p90,
            summary.min,
            summary.max,
            format_kib(peak)
        );
        medians.push(summary.median);
    }
    if let [berth, runc] = medians[..] {
        println!();
        println!("ratio berth/runc median: {:.2}x", berth / runc);
    }
    Ok(())
}
