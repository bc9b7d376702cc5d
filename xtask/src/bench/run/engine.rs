//! One engine as a user drives it: its CLI (`berth` or `docker`) pointed at
//! its daemon's socket. Everything here is timed or checked from the CLI's
//! side, so both engines pay for a CLI process and the API round trips.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use super::NetworkMode;
use crate::bench::measure;

/// How long the concurrent start may take before it is abandoned.
const CONCURRENT_TIMEOUT: Duration = Duration::from_secs(180);

/// Pause between `ps` polls while waiting for containers to run.
const POLL: Duration = Duration::from_millis(20);

/// A CLI bound to one daemon: program, leading args (`-H unix://...`) and
/// environment, as captured from a ready-made [`Command`].
pub struct Engine {
    /// `berth` or `docker`, for messages.
    pub name: &'static str,
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
}

/// The outcome of a concurrent start.
#[derive(Clone, Copy, Debug)]
pub struct Concurrent {
    /// From the first spawn until every `run -d` CLI had exited successfully
    /// (each returns once its container has started).
    pub cli_done: Duration,
    /// From the first spawn until `ps` was seen listing all of them running;
    /// equal to `cli_done` when the first `ps` after that already does.
    pub all_running: Duration,
}

impl Engine {
    /// An engine whose CLI invocations start like `base` (program, args
    /// and environment changes).
    pub fn from_command(name: &'static str, base: &Command) -> Engine {
        Engine {
            name,
            program: base.get_program().to_owned(),
            args: base.get_args().map(ToOwned::to_owned).collect(),
            env: base
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
                .collect(),
        }
    }

    /// The berth CLI `berth` talking to the berthd on `socket`.
    pub fn berth(berth: PathBuf, socket: &std::path::Path) -> Engine {
        let mut base = Command::new(berth);
        base.env_remove("DOCKER_HOST")
            .env_remove("BERTH_HOST")
            .arg("-H")
            .arg(format!("unix://{}", socket.display()));
        Engine::from_command("berth", &base)
    }

    /// A new CLI command, stdin from `/dev/null`.
    pub fn cli(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::null());
        for (key, value) in &self.env {
            match value {
                Some(v) => command.env(key, v),
                None => command.env_remove(key),
            };
        }
        command
    }

    /// Runs `<cli> args` to completion, insisting on success; its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        let out = self
            .cli()
            .args(args)
            .output()
            .with_context(|| format!("running {} {}", self.name, args.join(" ")))?;
        ensure!(
            out.status.success(),
            "{} {} failed ({}): {}",
            self.name,
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// One timed `<cli> run --rm [--network none] <image> true`: the CLI
    /// process from spawn to exit.
    pub fn run_rm_true(&self, image: &str, mode: NetworkMode) -> Result<Duration> {
        let mut command = self.cli();
        command
            .args(["run", "--rm"])
            .args(mode.cli_args())
            .args([image, "true"]);
        let m = measure::run(&mut command)?;
        ensure!(
            m.status.success(),
            "{} run --rm {} {image} true failed ({}): {}",
            self.name,
            mode.cli_args().join(" "),
            m.status,
            String::from_utf8_lossy(&m.stderr).trim()
        );
        Ok(m.wall)
    }

    /// The IDs `ps` lists (`-a` for every state, else running ones).
    pub fn ids(&self, all: bool) -> Result<Vec<String>> {
        let args: &[&str] = if all {
            &["ps", "-aq"]
        } else {
            &["ps", "-q", "--filter", "status=running"]
        };
        Ok(self
            .run(args)?
            .split_whitespace()
            .map(str::to_owned)
            .collect())
    }

    /// Force-removes every container, then checks `ps -a` lists none.
    pub fn remove_all(&self) -> Result<()> {
        let ids = self.ids(true)?;
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            self.run(&args)?;
        }
        let left = self.ids(true)?;
        ensure!(
            left.is_empty(),
            "{}: {} containers still listed after rm -f",
            self.name,
            left.len()
        );
        Ok(())
    }

    /// Spawns `count` `<cli> run -d [--network none] <image> sleep 1000` at
    /// once, then times until all are running (see [`Concurrent`]).
    /// Leaves the containers running; the caller removes them.
    pub fn concurrent_start(
        &self,
        image: &str,
        mode: NetworkMode,
        count: usize,
    ) -> Result<Concurrent> {
        let before = self.ids(true)?;
        ensure!(
            before.is_empty(),
            "{}: {} containers exist before the concurrent start",
            self.name,
            before.len()
        );
        let mut children: Vec<Child> = Vec::with_capacity(count);
        let start = Instant::now();
        for n in 0..count {
            let mut command = self.cli();
            command
                .args(["run", "-d"])
                .args(mode.cli_args())
                .args([image, "sleep", "1000"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            match command.spawn() {
                Ok(child) => children.push(child),
                Err(e) => {
                    reap(children);
                    bail!("spawning {} run -d #{n}: {e}", self.name);
                }
            }
        }
        let mut failures = Vec::new();
        for child in children {
            let out = child
                .wait_with_output()
                .context("waiting for a run -d CLI")?;
            if !out.status.success() {
                failures.push(format!(
                    "{}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        let cli_done = start.elapsed();
        ensure!(
            failures.is_empty(),
            "{}: {} of {count} `run -d` failed, e.g. {}",
            self.name,
            failures.len(),
            failures[0]
        );
        let mut first = true;
        loop {
            let polled_at = start.elapsed();
            let running = self.ids(false)?.len();
            if running >= count {
                let all_running = if first { cli_done } else { polled_at };
                return Ok(Concurrent {
                    cli_done,
                    all_running,
                });
            }
            ensure!(
                start.elapsed() < CONCURRENT_TIMEOUT,
                "{}: only {running} of {count} containers running after {CONCURRENT_TIMEOUT:?}",
                self.name
            );
            first = false;
            std::thread::sleep(POLL);
        }
    }
}

/// Waits for already-spawned CLIs after a failed spawn, so none is left
/// unreaped (their containers are removed by the caller's cleanup).
fn reap(children: Vec<Child>) {
    for mut child in children {
        let _ = child.wait();
    }
}
