//! What every daemon test starts from: a real registry seeded with the
//! fixture images, busybox pulled into a fresh data root, an exec root, and
//! a tokio runtime; daemons opened on those roots as the real berthd opens
//! them. Dropping the world force-removes whatever a (failed) test left.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_daemon::config::{Config, ContainerCreateRequest, HostConfig, StrSlice};
use berth_daemon::daemon::Daemon;
use berth_image::progress::Progress;
use berth_image::service::{ImageService, ImageServiceConfig, LocalImageService, PullOptions};
use berth_shim::{ShimClient, ShimConfig};
use tempfile::TempDir;

use crate::registry::LocalRegistry;
use crate::{require_root, workspace_bin};

/// A registry with busybox, a data root, an exec root and a runtime.
pub struct DaemonWorld {
    /// The registry the image came from (stopped on drop).
    pub reg: LocalRegistry,
    /// `<registry>/busybox:latest`, already pulled.
    pub image: String,
    /// The daemon's data root.
    pub data: TempDir,
    /// The daemon's exec root.
    pub exec: TempDir,
    /// The runtime daemons run on.
    pub rt: tokio::runtime::Runtime,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

impl DaemonWorld {
    /// Starts the registry, seeds it and pulls busybox.
    pub fn new() -> DaemonWorld {
        require_root();
        let reg = LocalRegistry::start();
        reg.seed_fixtures();
        let data = tempfile::tempdir().unwrap();
        let exec = tempfile::Builder::new()
            .prefix("berth-exec-")
            .tempdir()
            .unwrap();
        let rt = runtime();
        let image = format!("{}/busybox:latest", reg.host());
        let images = LocalImageService::open(ImageServiceConfig::new(data.path())).unwrap();
        rt.block_on(images.pull(&image, PullOptions::default(), Progress::discard()))
            .unwrap();
        DaemonWorld {
            reg,
            image,
            data,
            exec,
            rt,
        }
    }

    /// A daemon on the world's roots (a fresh one each call: a restart).
    pub fn daemon(&self) -> Arc<Daemon> {
        let images = LocalImageService::open(ImageServiceConfig::new(self.data.path())).unwrap();
        let shims = ShimClient::new(ShimConfig {
            exec_root: self.exec.path().join("shims"),
            runtime_root: self.exec.path().join("runtime"),
            shim_binary: workspace_bin("berth-shim"),
        });
        let config = crate::daemon_cleanup::test_config(self.data.path(), self.exec.path());
        self.rt
            .block_on(Daemon::open(config, Arc::new(images), Arc::new(shims)))
            .unwrap()
    }

    /// Ends a daemon as `kill -9` would: its tasks die with its runtime,
    /// nothing is stopped or cleaned up. Later daemons get a new runtime.
    pub fn kill_daemon(&mut self, d: Arc<Daemon>) {
        drop(d);
        let old = std::mem::replace(&mut self.rt, runtime());
        old.shutdown_background();
    }

    /// A create request for busybox running `cmd`.
    pub fn request(&self, cmd: &[&str]) -> ContainerCreateRequest {
        ContainerCreateRequest {
            config: Config {
                image: self.image.clone(),
                cmd: Some(StrSlice(cmd.iter().map(|s| s.to_string()).collect())),
                ..Default::default()
            },
            host_config: Some(HostConfig::default()),
            networking_config: None,
        }
    }

    /// Creates a container running `cmd`; returns its ID.
    pub fn create(&self, d: &Arc<Daemon>, name: Option<&str>, cmd: &[&str]) -> String {
        self.rt
            .block_on(d.create(name, self.request(cmd)))
            .unwrap()
            .id
    }

    /// Creates and starts a container running `cmd`; returns its ID.
    pub fn run(&self, d: &Arc<Daemon>, name: &str, cmd: &[&str]) -> String {
        let id = self.create(d, Some(name), cmd);
        self.rt.block_on(d.start(&id)).unwrap();
        id
    }
}

impl Default for DaemonWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DaemonWorld {
    /// Force-removes whatever a failed test left running.
    fn drop(&mut self) {
        crate::daemon_cleanup::cleanup_daemon_roots(self.data.path(), self.exec.path());
    }
}

/// How many mounts live under `path`.
pub fn mounts_under(path: &Path) -> usize {
    let needle = path.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&needle))
        .count()
}

/// Polls `f` until it holds, failing the test after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
