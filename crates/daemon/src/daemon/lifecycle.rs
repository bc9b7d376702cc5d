//! Start, stop and kill (moby's `ContainerStart` / `containerStart`,
//! `ContainerStop`, `ContainerKill`) and what happens when a container's
//! process exits.

use std::sync::Arc;
use std::time::Duration;

use berth_shim::{CreateRequest, ExitStatus, StdioOptions};

use crate::error::{DaemonError, Result};
use crate::events::action;
use crate::spec::{build_spec, SpecInput};

use super::{now_rfc3339, parse_signal, Container, Daemon};

/// `stop`'s grace period when neither the request nor the container sets one.
const DEFAULT_STOP_TIMEOUT: i64 = 10;
/// How long to wait for a SIGKILLed container to be reported gone.
const KILL_WAIT: Duration = Duration::from_secs(30);
/// How long a kill that met a shim hanging up waits for the exit to be
/// recorded before reporting the shim unavailable.
const SHIM_HANGUP_WAIT: Duration = Duration::from_secs(5);
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

impl Daemon {
    /// Starts the container. Errors: paused (Conflict), already running
    /// (NotModified), marked for removal or dead (Conflict).
    pub async fn start(self: &Arc<Self>, reference: &str) -> Result<()> {
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let state = container.record().state;
        if state.paused {
            return Err(DaemonError::Conflict(
                "cannot start a paused container, try unpause instead".into(),
            ));
        }
        if state.running {
            return Err(DaemonError::NotModified("container already started".into()));
        }
        if state.removal_in_progress || state.dead {
            return Err(DaemonError::Conflict(
                "container is marked for removal and cannot be started".into(),
            ));
        }
        container.update(self.data_root(), |r| r.manually_stopped = false)?;
        match self.start_locked(&container).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.cleanup_runtime(&container).await;
                let message = e.to_string();
                container.update(self.data_root(), |r| {
                    r.state.set_start_error(message, now_rfc3339());
                    super::network::clear_runtime_settings(r);
                })?;
                if container.host_config().auto_remove {
                    self.spawn_remove(container.clone());
                }
                Err(e)
            }
        }
    }

    pub(crate) async fn start_locked(self: &Arc<Self>, container: &Arc<Container>) -> Result<()> {
        let record = container.record();
        let id = record.id.clone();
        let image = self
            .images
            .get_image(&record.image)
            .map_err(DaemonError::layer)?;
        let rootfs = self.images.rootfs(&id).map_err(DaemonError::layer)?;
        // Mounts unless a `docker cp` holds it mounted already.
        self.rootfs_mounts.hold_running(&id, &rootfs)?;
        crate::failpoint::hit("start:after-mount");
        let binds = self
            .setup_mount_points(container, &rootfs.merged_dir)
            .await?;
        let mut net = self.start_network(container).await?;
        crate::failpoint::hit("start:after-network");
        // Whatever happens here, the plumbing must end before the caller's
        // cleanup undoes it: the result is looked at after it has.
        let created: Result<()> = async {
            let host_config = container.host_config();
            let mut input = SpecInput::new(
                &id,
                &image.config,
                &record.config,
                &host_config,
                &rootfs.merged_dir,
                container.dir(),
            );
            input.ip = net.ip;
            input.netns_path = net.netns_path.as_deref();
            input.embedded_dns = net.embedded_dns;
            input.shared_etc = net.shared_etc.as_deref();
            input.host_gateway = self.host_gateway();
            input.binds = binds;
            input.init = Some(self.init_options());
            let spec = build_spec(&input)?;
            if let Some(process) = spec.process() {
                crate::spec::ensure_working_dir(
                    &rootfs.merged_dir,
                    &process.cwd().to_string_lossy(),
                )?;
            }
            let bundle = self.bundle_dir(&id);
            std::fs::create_dir_all(&bundle)
                .map_err(|e| DaemonError::io(format!("creating {}", bundle.display()), e))?;
            let spec_json = serde_json::to_vec(&spec)
                .map_err(|e| DaemonError::System(format!("encoding the OCI spec: {e}")))?;
            crate::persist::write_replace(&bundle.join("config.json"), &spec_json)?;

            let (max_size, max_files) = log_rotation(container)?;
            self.shims
                .create(CreateRequest {
                    id: id.clone(),
                    bundle,
                    stdio: StdioOptions {
                        terminal: record.config.tty,
                        open_stdin: record.config.open_stdin,
                        log_path: container.log_path(),
                        log_max_size: max_size,
                        log_max_files: max_files,
                    },
                })
                .await
                .map_err(DaemonError::layer)?;
            Ok(())
        }
        .await;
        let plugged = net.plugged().await;
        created?;
        crate::failpoint::hit("start:after-shim-create");
        plugged?;
        self.connect_pending_attaches(container).await;
        let pid = self.shims.start(&id).await.map_err(DaemonError::layer)?;
        crate::failpoint::hit("start:after-shim-start");
        container.update(self.data_root(), |r| {
            r.state.set_running(pid, now_rfc3339());
            if let Some(settings) = net.settings {
                r.network_settings = settings;
            }
        })?;
        container.backoff.started();
        self.container_event(container, action::START, &[]);
        self.spawn_monitor(container.clone());
        self.init_health_monitor(container);
        Ok(())
    }

    /// Mounts the container's volumes (pre-filling new ones from the
    /// image), creates missing `-v` bind sources, records the result and
    /// logs a volume `mount` event each; returns the OCI bind mounts.
    async fn setup_mount_points(
        &self,
        container: &Arc<Container>,
        rootfs: &std::path::Path,
    ) -> Result<Vec<oci_spec::runtime::Mount>> {
        let record = container.record();
        if record.mount_points.is_empty() {
            return Ok(Vec::new());
        }
        let (store, id, root) = (
            self.volumes.clone(),
            record.id.clone(),
            rootfs.to_path_buf(),
        );
        let mut points = record.mount_points;
        let (points, binds) = tokio::task::spawn_blocking(move || {
            super::mounts::setup(&store, &id, &root, &mut points).map(|b| (points, b))
        })
        .await
        .map_err(|e| DaemonError::System(format!("volume setup task: {e}")))??;
        container.update(self.data_root(), |r| r.mount_points = points.clone())?;
        for p in points.values().filter(|p| p.is_volume()) {
            let rw = p.rw.to_string();
            self.volume_event(
                action::MOUNT,
                &p.name,
                &[
                    ("container", &record.id),
                    ("destination", &p.destination),
                    ("driver", &p.driver),
                    ("propagation", &p.propagation),
                    ("read/write", &rw),
                ],
            );
        }
        Ok(binds)
    }

    /// Waits (in the background) for the container's exit and records it.
    pub(crate) fn spawn_monitor(self: &Arc<Self>, container: Arc<Container>) {
        let daemon = self.clone();
        tokio::spawn(async move {
            let id = container.record().id;
            let exit = daemon.shims.wait(&id, None).await;
            daemon
                .handle_exit(&container, exit.map_err(DaemonError::layer))
                .await;
        });
    }

    /// Records an exit: tears down the shim and the mount, writes the new
    /// state, wakes waiters, and honours AutoRemove.
    pub(crate) async fn handle_exit(
        self: &Arc<Self>,
        container: &Arc<Container>,
        exit: Result<ExitStatus>,
    ) {
        super::health::stop_health_monitor(container);
        let (code, oom) = match &exit {
            Ok(status) => (status.code, status.oom_killed),
            Err(e) => {
                tracing::warn!(id = %container.record().id, error = %e, "lost the container's exit status");
                (255, false)
            }
        };
        self.cleanup_runtime(container).await;
        if let Err(e) = container.update(self.data_root(), |r| {
            r.state.set_stopped(code, oom, now_rfc3339());
            super::network::clear_runtime_settings(r);
        }) {
            tracing::error!(error = %e, "cannot record a container exit");
        }
        if oom {
            self.container_event(container, action::OOM, &[]);
        }
        self.container_event(container, action::DIE, &[("exitCode", &code.to_string())]);
        container.notify_exit(code);
        let record = container.record();
        let policy = &container.host_config().restart_policy;
        if container.host_config().auto_remove {
            self.spawn_remove(container.clone());
        } else if !record.state.removal_in_progress
            && super::restart::should_restart(policy, &record, code)
        {
            self.schedule_restart(container.clone());
        }
    }

    /// Deletes the shim (and so the runtime's container and cgroup),
    /// unmounts the rootfs and removes the bundle. Idempotent.
    pub(crate) async fn cleanup_runtime(&self, container: &Container) {
        let id = container.record().id;
        if let Err(e) = self.shims.delete(&id).await {
            if berth_errdefs::HasKind::kind(&e) != berth_errdefs::ErrorKind::NotFound {
                tracing::warn!(%id, error = %e, "cannot delete the shim");
            }
        }
        self.stop_network(&id).await;
        let points = container.record().mount_points;
        super::mounts::teardown(&self.volumes, &id, &points);
        if let Ok(rootfs) = self.images.rootfs(&id) {
            // Left mounted while a `docker cp` still reads it.
            self.rootfs_mounts.release_running(&id, &rootfs.merged_dir);
        }
        let _ = std::fs::remove_dir_all(self.bundle_dir(&id));
    }

    fn spawn_remove(self: &Arc<Self>, container: Arc<Container>) {
        let daemon = self.clone();
        tokio::spawn(async move {
            let id = container.record().id;
            if let Err(e) = daemon.remove_with_volumes(&id, true, true).await {
                if berth_errdefs::HasKind::kind(&e) != berth_errdefs::ErrorKind::NotFound {
                    tracing::warn!(%id, error = %e, "auto-remove failed");
                }
            }
        });
    }

    /// Stops the container: its StopSignal (or SIGTERM), then SIGKILL
    /// after `timeout` seconds (the container's StopTimeout, else 10; -1
    /// waits forever). A stopped container is NotModified.
    pub async fn stop(self: &Arc<Self>, reference: &str, timeout: Option<i64>) -> Result<()> {
        let container = self.get(reference)?;
        let _op = container.op.lock().await;
        let record = container.record();
        if record.state.restarting {
            // Cancel the pending restart: the container is down already.
            return container.update(self.data_root(), |r| {
                r.manually_stopped = true;
                r.state.restarting = false;
                r.state.running = false;
            });
        }
        if !record.state.running {
            return Err(DaemonError::NotModified(
                "container is already stopped".into(),
            ));
        }
        container.update(self.data_root(), |r| r.manually_stopped = true)?;
        let signal = match record.config.stop_signal.as_str() {
            "" => SIGTERM,
            s => parse_signal(s)?,
        };
        let timeout = timeout
            .or(record.config.stop_timeout)
            .unwrap_or(DEFAULT_STOP_TIMEOUT);
        self.signal_and_wait(&container, signal, timeout).await?;
        self.container_event(&container, action::STOP, &[]);
        Ok(())
    }

    /// Signals the container's process; `false` when its shim is already
    /// gone (it exited), which is not an error here.
    async fn kill_unless_gone(
        &self,
        container: &Container,
        signal: i32,
        all: bool,
    ) -> Result<bool> {
        let id = container.record().id;
        match self.shims.kill(&id, signal, all).await {
            Ok(()) => Ok(true),
            Err(e) => match berth_errdefs::HasKind::kind(&e) {
                berth_errdefs::ErrorKind::NotFound => Ok(false),
                // The shim hung up: the process has just exited and the
                // exit monitor is deleting the shim beside us. Once that
                // exit is recorded the container is gone, as above.
                berth_errdefs::ErrorKind::Unavailable => {
                    let mut exits = container.subscribe();
                    let recorded = tokio::time::timeout(
                        SHIM_HANGUP_WAIT,
                        exits.wait_for(|_| !container.record().state.running),
                    )
                    .await;
                    match recorded {
                        Ok(Ok(_)) => Ok(false),
                        _ => Err(DaemonError::layer(e)),
                    }
                }
                _ => Err(DaemonError::layer(e)),
            },
        }
    }

    /// Sends `signal`, waits up to `timeout` seconds for the exit, then
    /// SIGKILLs and waits for that.
    pub(crate) async fn signal_and_wait(
        &self,
        container: &Arc<Container>,
        signal: i32,
        timeout: i64,
    ) -> Result<()> {
        let id = container.record().id;
        let mut exits = container.subscribe();
        let seen = exits.borrow().exits;
        if container.record().state.paused {
            self.shims.resume(&id).await.map_err(DaemonError::layer)?;
        }
        // The shim is gone: the process exited and its exit is being
        // recorded right now. Wait for that instead of failing.
        let exited = |l: &super::Lifecycle| l.exits > seen || !container.record().state.running;
        if signal != SIGKILL {
            if !self.kill_unless_gone(container, signal, false).await? {
                let _ = tokio::time::timeout(KILL_WAIT, exits.wait_for(exited)).await;
                return Ok(());
            }
            self.container_event(container, action::KILL, &[("signal", &signal.to_string())]);
            let grace = if timeout < 0 {
                None
            } else {
                Some(Duration::from_secs(timeout as u64))
            };
            let exited = exits.wait_for(|l| l.exits > seen);
            let done = match grace {
                None => exited.await.is_ok(),
                Some(g) => matches!(tokio::time::timeout(g, exited).await, Ok(Ok(_))),
            };
            if done {
                return Ok(());
            }
            tracing::info!(%id, "container did not stop in time; killing it");
        }
        if self.kill_unless_gone(container, SIGKILL, true).await? {
            self.container_event(container, action::KILL, &[("signal", "9")]);
        }
        let killed = tokio::time::timeout(KILL_WAIT, exits.wait_for(exited))
            .await
            .is_ok_and(|r| r.is_ok());
        if killed {
            Ok(())
        } else {
            Err(DaemonError::System(format!(
                "container {id} did not exit after SIGKILL"
            )))
        }
    }

    /// Sends `signal` (default SIGKILL) to the container's init.
    pub async fn kill(self: &Arc<Self>, reference: &str, signal: Option<&str>) -> Result<()> {
        let container = self.get(reference)?;
        let record = container.record();
        if !record.state.running {
            return Err(DaemonError::Conflict(format!(
                "Container {} is not running",
                record.id
            )));
        }
        let signal = match signal.filter(|s| !s.is_empty()) {
            Some(s) => parse_signal(s)?,
            None => SIGKILL,
        };
        if signal == SIGKILL && record.state.paused {
            self.shims
                .resume(&record.id)
                .await
                .map_err(DaemonError::layer)?;
        }
        self.shims
            .kill(&record.id, signal, signal == SIGKILL)
            .await
            .map_err(DaemonError::layer)?;
        self.container_event(&container, action::KILL, &[("signal", &signal.to_string())]);
        Ok(())
    }
}

/// `max-size` / `max-file` of the json-file log driver.
fn log_rotation(container: &Container) -> Result<(Option<u64>, u32)> {
    let log = &container.host_config().log_config;
    if !matches!(log.kind.as_str(), "" | "json-file") {
        return Err(DaemonError::invalid(format!(
            "logging driver {:?} is not supported; use json-file",
            log.kind
        )));
    }
    let opts = log.config.clone().unwrap_or_default();
    let max_size = match opts.get("max-size") {
        None => None,
        Some(s) => Some(
            parse_size(s).ok_or_else(|| DaemonError::invalid(format!("invalid max-size: {s}")))?,
        ),
    };
    let max_files = match opts.get("max-file") {
        None => 1,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| DaemonError::invalid(format!("invalid max-file: {s}")))?,
    };
    if max_files > 1 && max_size.is_none() {
        return Err(DaemonError::invalid(
            "max-file cannot be set without max-size",
        ));
    }
    Ok((max_size, max_files))
}

/// `10m`, `1g`, `512k`, `100` (bytes), as `docker run --log-opt max-size=` takes them.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.strip_suffix('b').unwrap_or(&s);
    let (num, mult) = match s.chars().last()? {
        'k' => (&s[..s.len() - 1], 1u64 << 10),
        'm' => (&s[..s.len() - 1], 1 << 20),
        'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: f64 = num.parse().ok()?;
    (n > 0.0).then_some((n * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("0"), None);
    }
}
