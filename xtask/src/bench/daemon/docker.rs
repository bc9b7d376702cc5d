//! Docker's side: a private dockerd (with its managed containerd) driven
//! through the docker CLI.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};

use super::procs;
use crate::bench::dockerd::Dockerd;
use crate::bench::measure;

/// A private dockerd whose containers are all force-removed on drop,
/// before dockerd itself is stopped (by [`Dockerd`]'s own drop).
pub struct DockerSide {
    pub daemon: Dockerd,
}

impl DockerSide {
    pub fn start(dockerd: &Path, docker: &Path) -> Result<DockerSide> {
        Ok(DockerSide {
            daemon: Dockerd::start(dockerd, docker)?,
        })
    }

    /// dockerd's and its containerd's PIDs.
    pub fn daemon_pids(&self) -> Result<(u32, u32)> {
        let containerd = self
            .daemon
            .containerd_pid()
            .context("dockerd's managed containerd is not running")?;
        Ok((self.daemon.pid(), u32::try_from(containerd)?))
    }

    /// Starts `count` detached `sleep 1000` containers.
    pub fn start_sleepers(&self, image: &str, count: usize) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            let out =
                self.daemon
                    .run(&["run", "-d", "--network", "none", image, "sleep", "1000"])?;
            ids.push(out.trim().to_owned());
        }
        Ok(ids)
    }

    /// Force-removes every container of this dockerd.
    pub fn remove_all(&self) -> Result<()> {
        let ids = self.daemon.run(&["ps", "-aq"])?;
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids);
            self.daemon.run(&args)?;
        }
        Ok(())
    }

    /// The containerd shims serving our containerd: named
    /// `containerd-shim*`, in our (per-bench) containerd namespace and
    /// talking to the containerd socket under our exec root.
    pub fn shim_pids(&self) -> Vec<u32> {
        let namespace = self.daemon.containerd_namespace();
        let exec = self.daemon.exec_root();
        let exec = exec.to_string_lossy();
        procs::processes()
            .into_iter()
            .filter(|p| {
                p.name().starts_with("containerd-shim")
                    && p.argv
                        .windows(2)
                        .any(|w| w[0] == "-namespace" && w[1] == namespace)
                    && p.argv.iter().any(|a| a.contains(&*exec))
            })
            .map(|p| p.pid)
            .collect()
    }

    /// One timed `docker run --rm --network none <image> true` (the CLI
    /// process, spawn to exit).
    pub fn run_true(&self, image: &str) -> Result<Duration> {
        let m = measure::run(self.daemon.cli().args([
            "run",
            "--rm",
            "--network",
            "none",
            image,
            "true",
        ]))?;
        if !m.status.success() {
            bail!(
                "docker run --rm {image} true failed ({}): {}",
                m.status,
                String::from_utf8_lossy(&m.stderr).trim()
            );
        }
        Ok(m.wall)
    }

    /// One timed `docker create` + `start` + `wait` + `rm` of `true`: four
    /// CLI processes, timed together.
    pub fn create_start_wait_rm(&self, image: &str) -> Result<Duration> {
        let mut total = Duration::ZERO;
        let m =
            measure::run(
                self.daemon
                    .cli()
                    .args(["create", "--network", "none", image, "true"]),
            )?;
        ensure!(
            m.status.success(),
            "docker create failed: {}",
            String::from_utf8_lossy(&m.stderr).trim()
        );
        total += m.wall;
        let id = String::from_utf8_lossy(&m.stdout).trim().to_owned();
        for args in [["start", &id], ["wait", &id], ["rm", &id]] {
            let m = measure::run(self.daemon.cli().args(args))?;
            ensure!(
                m.status.success(),
                "docker {} failed: {}",
                args[0],
                String::from_utf8_lossy(&m.stderr).trim()
            );
            if args[0] == "wait" {
                let code = String::from_utf8_lossy(&m.stdout);
                ensure!(code.trim() == "0", "`true` exited with {}", code.trim());
            }
            total += m.wall;
        }
        Ok(total)
    }
}

impl Drop for DockerSide {
    fn drop(&mut self) {
        if let Err(e) = self.remove_all() {
            eprintln!("warning: removing docker containers: {e:#}");
        }
    }
}
