//! `docker exec` (moby's `daemon/exec.go` and `daemon/exec/exec.go`): an
//! in-memory store of exec instances, and create / start / inspect / resize
//! over the container's shim.
//!
//! An exec's process is the container's own OCI process (read back from the
//! bundle's `config.json`) with the exec's command, environment, user,
//! working directory, terminal and, when privileged, every capability.
//! Exec instances live only in memory, as in moby: they are gone after a
//! daemon restart, and dropped when their container is removed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use berth_shim::oci_spec::runtime::{BoxBuilder, LinuxCapabilities, Process, Spec};
use berth_shim::{ContainerdClient, ExecStdio};
use tokio::sync::watch;

use crate::error::{DaemonError, Result};
use crate::events::{action, Events, Message, MessageExt};
use crate::spec::{caps, replace_or_append_env, user};

use super::{AttachSession, Container, Daemon};
use crate::detach_keys::parse_detach_keys;

/// What a lost exec status is recorded as (as for a container's init).
const LOST_EXIT_CODE: i32 = 255;
/// moby's exit code for an exec that could not be started.
const START_FAILED_EXIT_CODE: i32 = 126;

pub use berth_api::types::exec::{ExecConfig, ExecInspect, ExecProcessConfig};

/// What [`Daemon::exec_start`] hands back.
#[derive(Debug)]
pub struct ExecStarted {
    /// The exec's pid on the host.
    pub pid: u32,
    /// For an attached start: the exec's output (the streams it attached;
    /// all of it on stdout with a TTY) until it exits, and its stdin when
    /// attached. `None` for a detached start.
    pub attach: Option<AttachSession>,
}

/// The mutable part of an exec instance.
#[derive(Debug, Default, Clone, Copy)]
struct ExecState {
    started: bool,
    running: bool,
    exit_code: Option<i32>,
    pid: u32,
}

/// One exec instance.
#[derive(Debug)]
struct ExecEntry {
    id: String,
    container_id: String,
    config: ExecConfig,
    state: Mutex<ExecState>,
    /// The exit code, once the process has exited (or failed to start).
    exited: watch::Sender<Option<i32>>,
}

impl ExecEntry {
    fn lock(&self) -> MutexGuard<'_, ExecState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_exited(&self, code: i32) {
        {
            let mut s = self.lock();
            s.running = false;
            s.exit_code = Some(code);
        }
        self.exited.send_replace(Some(code));
    }
}

/// The daemon's exec instances, by full ID.
#[derive(Debug, Default)]
pub(crate) struct ExecStore {
    execs: Mutex<HashMap<String, Arc<ExecEntry>>>,
}

impl ExecStore {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<ExecEntry>>> {
        self.execs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, id: &str) -> Result<Arc<ExecEntry>> {
        self.lock()
            .get(id)
            .cloned()
            .ok_or_else(|| DaemonError::NotFound(format!("No such exec instance: {id}")))
    }
}

/// moby's `getActiveContainer` checks: running, not paused, not restarting.
/// `name` is what the paused message names (moby uses the caller's
/// reference there).
fn check_active(container: &Container, name: &str) -> Result<()> {
    let record = container.record();
    if !record.state.running {
        return Err(DaemonError::Conflict(format!(
            "Container {} is not running",
            record.id
        )));
    }
    if record.state.paused {
        return Err(DaemonError::Conflict(format!(
            "Container {name} is paused, unpause the container before exec"
        )));
    }
    if record.state.restarting {
        return Err(DaemonError::Conflict(format!(
            "Container {} is restarting, wait until the container is running",
            record.id
        )));
    }
    Ok(())
}

impl Daemon {
    /// Creates an exec instance in the running container `reference`;
    /// returns its ID. Errors: no such container (NotFound); not running,
    /// paused or restarting (Conflict); no command (InvalidParameter
    /// `No exec command specified`).
    pub fn exec_create(&self, reference: &str, config: ExecConfig) -> Result<String> {
        if config.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            return Err(DaemonError::invalid("No exec command specified"));
        }
        if parse_detach_keys(&config.detach_keys).is_err() {
            return Err(DaemonError::invalid(format!(
                "Invalid escape keys ({}) provided",
                config.detach_keys
            )));
        }
        let container = self.get(reference)?;
        check_active(&container, reference)?;
        let id = crate::ids::generate_id()?;
        let entry = Arc::new(ExecEntry {
            id: id.clone(),
            container_id: container.record().id,
            config,
            state: Mutex::new(ExecState::default()),
            exited: watch::Sender::new(None),
        });
        let action = exec_action(action::EXEC_CREATE, &entry.config);
        self.execs.lock().insert(id.clone(), entry);
        self.container_event(&container, &action, &[("execID", &id)]);
        Ok(id)
    }

    /// Starts exec `exec_id`: its process joins the container through the
    /// shim, and a background task records its exit. With `detach` false
    /// the exec's stdio is attached and returned. Errors: unknown exec
    /// (NotFound); container gone (NotFound), not running, paused or
    /// restarting (Conflict); started before (Conflict, `Error: Exec
    /// command <id> has already run` / `is already running`).
    pub async fn exec_start(&self, exec_id: &str, detach: bool) -> Result<ExecStarted> {
        let entry = self.exec_entry(exec_id)?;
        let container = self
            .get(&entry.container_id)
            .map_err(|_| DaemonError::no_such_container(&entry.container_id))?;
        check_active(&container, &entry.container_id)?;
        {
            let mut s = entry.lock();
            if s.exit_code.is_some() {
                return Err(DaemonError::Conflict(format!(
                    "Error: Exec command {} has already run",
                    entry.id
                )));
            }
            if s.started {
                return Err(DaemonError::Conflict(format!(
                    "Error: Exec command {} is already running",
                    entry.id
                )));
            }
            s.started = true;
        }
        match self.exec_spawn(&container, &entry).await {
            Ok(pid) => {
                let action = exec_action(action::EXEC_START, &entry.config);
                self.container_event(&container, &action, &[("execID", &entry.id)]);
                let attach = if detach {
                    None
                } else {
                    let a = self
                        .shims
                        .attach(&entry.container_id, Some(&entry.id))
                        .await
                        .map_err(DaemonError::layer)?;
                    Some(self.exec_session(a, &container, &entry.id, &entry.config)?)
                };
                Ok(ExecStarted { pid, attach })
            }
            Err(e) => {
                entry.set_exited(START_FAILED_EXIT_CODE);
                Err(e)
            }
        }
    }

    /// Launches the exec's process (under the container's operation lock,
    /// so a stop or remove does not interleave) and the task that waits.
    async fn exec_spawn(&self, container: &Arc<Container>, entry: &Arc<ExecEntry>) -> Result<u32> {
        let _op = container.op.lock().await;
        check_active(container, &entry.container_id)?;
        let process = self.exec_process(container, &entry.config)?;
        let stdio = ExecStdio {
            terminal: entry.config.tty,
            open_stdin: entry.config.attach_stdin,
        };
        let pid = self
            .shims
            .exec(&entry.container_id, &entry.id, process, stdio)
            .await
            .map_err(DaemonError::layer)?;
        {
            let mut s = entry.lock();
            s.running = true;
            s.pid = pid;
        }
        let r = container.record();
        let die = Message::container(
            action::EXEC_DIE,
            &r.id,
            &r.name,
            &r.config.image,
            r.config.labels.as_ref(),
            &[],
        );
        spawn_exec_monitor(self.shims.clone(), entry.clone(), self.events.clone(), die);
        Ok(pid)
    }

    /// The exec's OCI process: the container's, with the exec's settings.
    fn exec_process(&self, container: &Container, config: &ExecConfig) -> Result<Process> {
        let record = container.record();
        let path = self.bundle_dir(&record.id).join("config.json");
        let data = std::fs::read(&path)
            .map_err(|e| DaemonError::io(format!("reading {}", path.display()), e))?;
        let spec: Spec = serde_json::from_slice(&data)
            .map_err(|e| DaemonError::System(format!("corrupt {}: {e}", path.display())))?;
        let mut process = spec
            .process()
            .clone()
            .ok_or_else(|| DaemonError::System(format!("{} has no process", path.display())))?;
        let rootfs: PathBuf = spec
            .root()
            .as_ref()
            .map(|r| r.path().clone())
            .ok_or_else(|| DaemonError::System(format!("{} has no root", path.display())))?;

        let container_env = record.config.env.clone().unwrap_or_default();
        let container_sets = |key: &str| {
            container_env
                .iter()
                .any(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
        };
        let mut env = process.env().clone().unwrap_or_default();
        // The daemon's TERM follows the exec's TTY, not the container's.
        if !container_sets("TERM") {
            env.retain(|e| !e.starts_with("TERM="));
            if config.tty {
                env.push("TERM=xterm".to_string());
            }
        }
        if !config.user.is_empty() {
            let host = container.host_config();
            let group_add = host.group_add.as_deref().unwrap_or_default();
            let exec_user = user::resolve_user(&rootfs, &config.user, group_add)?;
            let mut u = process.user().clone();
            u.set_uid(exec_user.uid);
            u.set_gid(exec_user.gid);
            u.set_additional_gids(if exec_user.additional_gids.is_empty() {
                None
            } else {
                Some(exec_user.additional_gids.clone())
            });
            u.set_username(None);
            process.set_user(u);
            if !container_sets("HOME") {
                env = replace_or_append_env(&env, &[format!("HOME={}", exec_user.home)]);
            }
        }
        let env = replace_or_append_env(&env, config.env.as_deref().unwrap_or_default());
        process.set_env(Some(env));
        process.set_args(config.cmd.clone());
        if !config.working_dir.is_empty() {
            process.set_cwd(PathBuf::from(&config.working_dir));
        }
        process.set_terminal(Some(config.tty));
        let size = config.console_size.filter(|s| config.tty && *s != [0, 0]);
        process.set_console_size(match size {
            Some([h, w]) => Some(
                BoxBuilder::default()
                    .height(h)
                    .width(w)
                    .build()
                    .map_err(|e| DaemonError::System(format!("building console size: {e}")))?,
            ),
            None => None,
        });
        if config.privileged {
            let all = caps::to_oci(&caps::host_capabilities())?;
            let mut pcaps = LinuxCapabilities::default();
            pcaps.set_bounding(Some(all.clone()));
            pcaps.set_effective(Some(all.clone()));
            pcaps.set_permitted(Some(all));
            pcaps.set_inheritable(None);
            pcaps.set_ambient(None);
            process.set_capabilities(Some(pcaps));
        }
        Ok(process)
    }

    /// The state of exec `exec_id`. Unknown: NotFound `No such exec
    /// instance: <id>`.
    pub fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspect> {
        let entry = self.exec_entry(exec_id)?;
        let s = *entry.lock();
        let c = &entry.config;
        let cmd = c.cmd.clone().unwrap_or_default();
        let (entrypoint, arguments) = match cmd.split_first() {
            Some((first, rest)) => (first.clone(), rest.to_vec()),
            None => (String::new(), Vec::new()),
        };
        Ok(ExecInspect {
            id: entry.id.clone(),
            running: s.running,
            exit_code: s.exit_code,
            process_config: ExecProcessConfig {
                tty: c.tty,
                entrypoint,
                arguments,
                privileged: Some(c.privileged),
                user: c.user.clone(),
            },
            open_stdin: c.attach_stdin,
            open_stderr: c.attach_stderr,
            open_stdout: c.attach_stdout,
            can_remove: s.exit_code.is_some(),
            container_id: entry.container_id.clone(),
            detach_keys: c.detach_keys.clone(),
            pid: s.pid,
        })
    }

    /// Waits until exec `exec_id` has exited (or failed to start) and
    /// returns its exit code. Waits as long as it takes, including for an
    /// exec never started. Unknown: NotFound.
    pub async fn exec_wait(&self, exec_id: &str) -> Result<i32> {
        let entry = self.exec_entry(exec_id)?;
        let mut rx = entry.exited.subscribe();
        let code = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| DaemonError::System(format!("exec {exec_id} was dropped")))?;
        Ok(code.unwrap_or(LOST_EXIT_CODE))
    }

    /// Resizes the TTY of exec `exec_id` to `height` x `width`. Unknown:
    /// NotFound; no TTY, or not running: the shim's error (Conflict /
    /// NotFound).
    pub async fn exec_resize(&self, exec_id: &str, height: u32, width: u32) -> Result<()> {
        let entry = self.exec_entry(exec_id)?;
        let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        self.shims
            .resize(
                &entry.container_id,
                Some(&entry.id),
                clamp(width),
                clamp(height),
            )
            .await
            .map_err(DaemonError::layer)
    }

    /// The IDs of the container's execs that have not exited (the
    /// `ExecIDs` of a container inspect), sorted.
    pub fn exec_ids_of(&self, container_id: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .execs
            .lock()
            .values()
            .filter(|e| e.container_id == container_id && e.lock().exit_code.is_none())
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Exec `exec_id`, NotFound when unknown or when its container is gone
    /// (then it is dropped: execs go with their container).
    fn exec_entry(&self, exec_id: &str) -> Result<Arc<ExecEntry>> {
        let entry = self.execs.get(exec_id)?;
        if self.containers.get(&entry.container_id).is_err() {
            self.forget_execs_of(&entry.container_id);
            return Err(DaemonError::NotFound(format!(
                "No such exec instance: {exec_id}"
            )));
        }
        Ok(entry)
    }

    /// Drops exec instance `exec_id` (a finished health probe).
    pub(crate) fn exec_forget(&self, exec_id: &str) {
        self.execs.lock().remove(exec_id);
    }

    /// Drops every exec instance of container `container_id` (call when
    /// the container is removed; lookups also drop them lazily).
    pub(crate) fn forget_execs_of(&self, container_id: &str) {
        self.execs
            .lock()
            .retain(|_, e| e.container_id != container_id);
    }
}

/// Waits (in the background) for the exec's exit and records it.
/// moby's exec event action: `exec_create: <cmd> <args...>`.
fn exec_action(kind: &str, config: &ExecConfig) -> String {
    let cmd = config.cmd.as_ref().map(|c| c.join(" ")).unwrap_or_default();
    format!("{kind}: {cmd}")
}

fn spawn_exec_monitor(
    shims: Arc<dyn ContainerdClient>,
    entry: Arc<ExecEntry>,
    events: Events,
    mut die: Message,
) {
    tokio::spawn(async move {
        let code = match shims.wait(&entry.container_id, Some(&entry.id)).await {
            Ok(status) => status.code,
            Err(e) => {
                tracing::warn!(exec = %entry.id, container = %entry.container_id, error = %e,
                    "lost the exec's exit status");
                LOST_EXIT_CODE
            }
        };
        entry.set_exited(code);
        die.actor
            .attributes
            .insert("execID".into(), entry.id.clone());
        die.actor
            .attributes
            .insert("exitCode".into(), code.to_string());
        events.log(die);
    });
}
