//! Berth's side: the real `berthd` binary idling, and containers driven
//! in-process through the daemon library (`berth_daemon::daemon::Daemon`)
//! with real `berth-shim`s.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use berth_daemon::config::{Config, ContainerCreateRequest, HostConfig, StrSlice};
use berth_daemon::daemon::{Daemon, DaemonConfig, NetworkOptions, WaitCondition};
use berth_image::progress::Progress;
use berth_image::service::{ImageService as _, ImageServiceConfig, LocalImageService, PullOptions};
use berth_shim::{ShimClient, ShimConfig};
use tempfile::TempDir;

use super::procs::{self, Mem};
use crate::bench::dockerd::unmount_under;

/// How long berthd gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A temp dir whose mounts are unmounted before it is removed.
pub struct Scratch(TempDir);

impl Scratch {
    /// A new temp dir named `<prefix>XXXXXX` (keep it short: shim sockets
    /// live under exec roots and `sun_path` holds 108 bytes).
    pub fn new(prefix: &str) -> Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .with_context(|| format!("creating a {prefix} temp dir"))?;
        Ok(Scratch(dir))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        unmount_under(self.0.path());
    }
}

/// Pulls `reference` into the data root `data_root` with the image service.
pub fn pull_into(rt: &tokio::runtime::Runtime, data_root: &Path, reference: &str) -> Result<()> {
    let images = LocalImageService::open(ImageServiceConfig::new(data_root))
        .with_context(|| format!("opening the image service on {}", data_root.display()))?;
    rt.block_on(images.pull(reference, PullOptions::default(), Progress::discard()))
        .with_context(|| format!("pulling {reference} into {}", data_root.display()))?;
    Ok(())
}

/// The default bridge of the bench's berthd (removed with its rules when
/// the bench ends; see [`remove_daemon_network`]).
pub const BENCH_BRIDGE: &str = "berthbench1";

/// Removes the bridges and rules a (stopped) berthd on `data`/`exec` made:
/// for the bench's and the demo's daemons, which leave nothing behind.
pub fn remove_daemon_network(data: &Path, exec: &Path) {
    let config = berth_network::ControllerConfig {
        data_dir: data.join("network"),
        netns_dir: exec.join("netns"),
        default_bridge: BENCH_BRIDGE.into(),
        default_subnet: None,
        iptables: true,
        host_resolv_conf: PathBuf::from("/etc/resolv.conf"),
    };
    match berth_network::NetworkController::open(config) {
        Ok(ctl) => ctl.teardown(),
        Err(e) => eprintln!("warning: removing the bench's berth bridge: {e}"),
    }
}

/// A running `berthd`, stopped by PID (SIGTERM, then SIGKILL) on drop.
pub struct Berthd {
    child: Child,
    log: PathBuf,
    socket: PathBuf,
}

impl Berthd {
    /// Starts `berthd` on `data`/`exec` roots (the image already pulled into
    /// `data`), with its pidfile, socket and log in `dir`; waits for the socket.
    pub fn start(
        berthd: &Path,
        shim: &Path,
        dir: &Path,
        data: &Path,
        exec: &Path,
    ) -> Result<Berthd> {
        let sock = dir.join("berth.sock");
        let log = dir.join("berthd.log");
        let out = fs::File::create(&log).context("creating the berthd log")?;
        let child = Command::new(berthd)
            .arg("--data-root")
            .arg(data)
            .arg("--exec-root")
            .arg(exec)
            .arg("--pidfile")
            .arg(dir.join("berthd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args(["--bridge", BENCH_BRIDGE])
            .env("BERTH_SHIM", shim)
            .stdin(Stdio::null())
            .stdout(out.try_clone().context("duplicating the berthd log")?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("spawning {}", berthd.display()))?;
        let mut daemon = Berthd {
            child,
            log,
            socket: sock.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !sock.exists() {
            if let Some(status) = daemon.child.try_wait()? {
                bail!(
                    "berthd exited ({status}) before serving its socket; log {}:\n{}",
                    daemon.log.display(),
                    fs::read_to_string(&daemon.log).unwrap_or_default()
                );
            }
            ensure!(
                Instant::now() < deadline,
                "berthd did not create {} within 30 s",
                sock.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(daemon)
    }

    /// The berthd process's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The unix socket it serves the Engine API on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Berthd {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill has no memory-safety preconditions; `pid` is our
            // unreaped child, so it cannot have been reused.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("warning: berthd did not stop within {STOP_GRACE:?}; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The daemon library on its own roots, in this process. On drop every
/// container is force-removed, then any shim still running under its exec
/// root is killed.
pub struct Library {
    rt: tokio::runtime::Runtime,
    daemon: Option<Arc<Daemon>>,
    image: String,
    shims_dir: PathBuf,
}

impl Library {
    /// Pulls `image` into `data` and opens the daemon on `data` and `exec`.
    pub fn open(shim: &Path, data: &Path, exec: &Path, image: &str) -> Result<Library> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("building the tokio runtime")?;
        pull_into(&rt, data, image)?;
        let images = LocalImageService::open(ImageServiceConfig::new(data))
            .with_context(|| format!("opening the image service on {}", data.display()))?;
        let shims_dir = exec.join("shims");
        let shims = ShimClient::new(ShimConfig {
            exec_root: shims_dir.clone(),
            runtime_root: exec.join("runtime"),
            shim_binary: shim.to_path_buf(),
        });
        let daemon = rt
            .block_on(Daemon::open(
                DaemonConfig {
                    data_root: data.to_path_buf(),
                    exec_root: exec.to_path_buf(),
                    // A bridge of the bench's own, removed when it ends.
                    network: NetworkOptions {
                        bridge: "berthlib0".into(),
                        ..NetworkOptions::default()
                    },
                    init: Default::default(),
                },
                Arc::new(images),
                Arc::new(shims),
            ))
            .context("opening the daemon")?;
        Ok(Library {
            rt,
            daemon: Some(daemon),
            image: image.to_owned(),
            shims_dir,
        })
    }

    fn daemon(&self) -> &Arc<Daemon> {
        self.daemon.as_ref().expect("open until dropped")
    }

    fn request(&self, cmd: &[&str]) -> ContainerCreateRequest {
        ContainerCreateRequest {
            config: Config {
                image: self.image.clone(),
                cmd: Some(StrSlice(cmd.iter().map(|s| s.to_string()).collect())),
                ..Default::default()
            },
            host_config: Some(HostConfig {
                network_mode: "none".into(),
                ..Default::default()
            }),
            networking_config: None,
        }
    }

    /// Creates and starts `count` containers running `sleep 1000`.
    pub fn start_sleepers(&self, count: usize) -> Result<Vec<String>> {
        let d = self.daemon();
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let id = self
                .rt
                .block_on(d.create(None, self.request(&["sleep", "1000"])))
                .with_context(|| format!("creating sleeper {n}"))?
                .id;
            self.rt
                .block_on(d.start(&id))
                .with_context(|| format!("starting sleeper {n}"))?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// The `berth-shim` processes running under this daemon's exec root.
    pub fn shim_pids(&self) -> Vec<u32> {
        shim_processes(&self.shims_dir)
    }

    /// Force-removes the containers `ids`.
    pub fn remove_all(&self, ids: &[String]) -> Result<()> {
        let d = self.daemon();
        for id in ids {
            self.rt
                .block_on(d.remove(id, true))
                .with_context(|| format!("removing {id}"))?;
        }
        Ok(())
    }

    /// One timed create + start + wait + remove of `true`.
    pub fn run_true(&self) -> Result<Duration> {
        let d = self.daemon();
        let request = self.request(&["true"]);
        let start = Instant::now();
        let code = self.rt.block_on(async {
            let id = d.create(None, request).await.context("create")?.id;
            d.start(&id).await.context("start")?;
            let code = d
                .wait(&id, WaitCondition::NotRunning)
                .await
                .context("wait")?;
            d.remove(&id, false).await.context("remove")?;
            anyhow::Ok(code)
        })?;
        let elapsed = start.elapsed();
        ensure!(code == 0, "`true` exited with {code}");
        Ok(elapsed)
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        if let Some(d) = self.daemon.take() {
            for c in d.list() {
                let id = c.record().id;
                if let Err(e) = self.rt.block_on(d.remove(&id, true)) {
                    eprintln!("warning: force-removing berth container {id}: {e}");
                }
            }
            d.networks().teardown();
        }
        // Anything left (a failed remove): only shims under our exec root.
        for pid in shim_processes(&self.shims_dir) {
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

/// Shims are started as `berth-shim <exec_root>/shims/<id>`: the processes
/// whose `argv[1]` lies under `shims_dir`.
pub(crate) fn shim_processes(shims_dir: &Path) -> Vec<u32> {
    procs::processes()
        .into_iter()
        .filter(|p| {
            p.name().starts_with("berth-shim")
                && p.argv
                    .get(1)
                    .is_some_and(|a| Path::new(a).starts_with(shims_dir))
        })
        .map(|p| p.pid)
        .collect()
}

/// Memory of each PID (skipping those that vanished, with a warning).
pub fn mems(pids: &[u32]) -> Vec<Mem> {
    pids.iter()
        .filter_map(|&pid| match procs::read_mem(pid) {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("warning: {e:#}");
                None
            }
        })
        .collect()
}
