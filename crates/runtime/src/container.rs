//! The lifecycle API: create, start, state, kill, delete, pause, resume,
//! exec and list, with runc's semantics and state transitions
//! (creating -> created -> running <-> paused -> stopped).

use std::fs;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use oci_spec::runtime::{Process, Spec};

use crate::cgroups::{self, Cgroup};
use crate::error::{Context, Error, Result};
use crate::hooks::run_hooks;
use crate::namespaces::NamespacePlan;
use crate::process::{self, ChildConfig, ChildKind};
use crate::state::{self, ContainerState, OciState, Status, EXEC_FIFO};
use crate::sync::{self, SyncMsg};

/// How long `delete` waits for killed processes to go away.
const KILL_TIMEOUT: Duration = Duration::from_secs(10);

/// A runtime instance: the directory holding every container's state.
#[derive(Debug, Clone)]
pub struct Runtime {
    root: PathBuf,
}

/// What `create` needs.
#[derive(Debug, Default)]
pub struct CreateOptions {
    /// The container id.
    pub id: String,
    /// The bundle dir holding config.json.
    pub bundle: PathBuf,
    /// Where the console master goes when `process.terminal` is set.
    pub console_socket: Option<UnixStream>,
    /// Use MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
}

/// What `exec` needs.
#[derive(Debug)]
pub struct ExecOptions {
    /// The process to start in the container.
    pub process: Process,
    /// Where the console master goes when `process.terminal` is set.
    pub console_socket: Option<UnixStream>,
}

/// A container known to the runtime.
#[derive(Debug, Clone)]
pub struct Container {
    root: PathBuf,
    state: ContainerState,
}

/// Checks an id the way runc does: no path separators, no surprises.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+.-".contains(c))
        && id.len() <= 1024;
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.to_string()))
    }
}

impl Runtime {
    /// A runtime keeping state under `root` (runc's `--root`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The state root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Loads a container by id.
    pub fn load(&self, id: &str) -> Result<Container> {
        validate_id(id)?;
        Ok(Container {
            root: self.root.clone(),
            state: ContainerState::load(&self.root, id)?,
        })
    }

    /// Every container under the root.
    pub fn list(&self) -> Result<Vec<Container>> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).context("read state root"),
        };
        let mut out: Vec<Container> = entries
            .flatten()
            .filter_map(|e| self.load(e.file_name().to_str()?).ok())
            .collect();
        out.sort_by(|a, b| a.state.created.cmp(&b.state.created));
        Ok(out)
    }

    /// Creates a container: the init is set up and waits for `start`.
    pub fn create(&self, opts: CreateOptions) -> Result<Container> {
        validate_id(&opts.id)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .context_with(|| format!("create state root {}", self.root.display()))?;
        let dir = ContainerState::dir(&self.root, &opts.id);
        match fs::DirBuilder::new().mode(0o711).create(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Exists(opts.id))
            }
            r => r.context_with(|| format!("create {}", dir.display()))?,
        }
        let mut undo = Undo::new(dir);
        let container = self.create_in(&opts, &mut undo)?;
        undo.disarm();
        Ok(container)
    }

    fn create_in(&self, opts: &CreateOptions, undo: &mut Undo) -> Result<Container> {
        let bundle = fs::canonicalize(&opts.bundle)
            .context_with(|| format!("bundle {}", opts.bundle.display()))?;
        let spec = crate::spec::load_spec(&bundle)?;
        tracing::debug!(id = %opts.id, "spec loaded");
        let root_path = spec
            .root()
            .as_ref()
            .map(|r| r.path().clone())
            .unwrap_or_default();
        let rootfs = fs::canonicalize(bundle.join(&root_path))
            .context_with(|| format!("rootfs {}", root_path.display()))?;
        let ns = NamespacePlan::from_spec(&spec)?;
        let linux = spec.linux().as_ref();
        let cgroup_path =
            cgroups::resolve_path(linux.and_then(|l| l.cgroups_path().as_deref()), &opts.id);
        let process_spec = spec.process().clone().unwrap_or_default();
        if process_spec.terminal().unwrap_or(false) && opts.console_socket.is_none() {
            return Err(Error::Spec(
                "process.terminal is set: a console socket is required (--console-socket)".into(),
            ));
        }

        let fifo_path = undo.dir.join(EXEC_FIFO);
        nix::unistd::mkfifo(&fifo_path, Mode::from_bits_truncate(0o622))
            .context("create exec fifo")?;
        // mkfifo honours the umask; a non-root init must be able to write it.
        fs::set_permissions(
            &fifo_path,
            std::os::unix::fs::PermissionsExt::from_mode(0o622),
        )
        .context("chmod exec fifo")?;
        let fifo: OwnedFd =
            nix::fcntl::open(&fifo_path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
                .context("open exec fifo")?;

        // The cgroup exists, with its limits, before the init does.
        let mut cgroup = Cgroup::create(&cgroup_path)?;
        undo.cgroup = Some(cgroup_path.clone());
        let devices = linux.and_then(|l| l.devices().clone()).unwrap_or_default();
        cgroup.set_resources(&cgroups::effective_resources(
            linux.and_then(|l| l.resources().as_ref()),
            &devices,
        ))?;
        let self_attach = cgroup.self_attach_files();
        tracing::debug!("cgroup created");

        let (parent, child) = sync::channel()?;
        let cfg = ChildConfig {
            cgroup_tasks: self_attach.as_deref(),
            kind: ChildKind::Init {
                fifo: fifo.as_raw_fd(),
            },
            spec: &spec,
            process: &process_spec,
            id: &opts.id,
            bundle: &bundle,
            rootfs: &rootfs,
            cgroup_path: &cgroup_path,
            ns: &ns,
            console: opts.console_socket.as_ref().map(|s| s.as_fd()),
            no_pivot: opts.no_pivot,
            seccomp: linux.and_then(|l| l.seccomp().as_ref()),
        };
        // Relative bind sources are relative to the bundle, as in runc.
        std::env::set_current_dir(&bundle).context("chdir to bundle")?;
        let pid = process::spawn(&cfg, &parent, child)?;
        tracing::debug!(pid = pid.as_raw(), "init cloned");
        undo.pid = Some(pid);

        // If the init dies meanwhile, its own report says why.
        let init_error = |e: Error| parent.pending_error().unwrap_or(e);
        if ns.new_userns() {
            write_id_maps(pid, &spec).map_err(init_error)?;
            parent.send(&SyncMsg::IdMapsWritten).map_err(init_error)?;
        }
        if self_attach.is_none() {
            // cgroup v2: the runtime moves the init, which mounts its rootfs meanwhile.
            cgroup.add_process(pid.as_raw()).map_err(init_error)?;
        }
        // A failed send means the init is gone; the loop below reports why.
        let _ = parent.send(&SyncMsg::Go);
        tracing::debug!("init released");

        let (_, start_time) = state::proc_stat(pid.as_raw())
            .ok_or_else(|| Error::Init("container init exited during setup".into()))?;
        let record = ContainerState {
            id: opts.id.clone(),
            pid: pid.as_raw(),
            pid_start_time: start_time,
            bundle: bundle.clone(),
            rootfs: rootfs.clone(),
            created: state::now_rfc3339(),
            cgroup_path: cgroup_path.clone(),
            config: spec.clone(),
        };
        loop {
            match parent.expect("it was ready")? {
                SyncMsg::RunHooks => {
                    let st = record.oci_state_with(Status::Creating);
                    if let Some(h) = spec.hooks() {
                        run_hooks("prestart", h.prestart().as_deref().unwrap_or(&[]), &st)?;
                        run_hooks(
                            "createRuntime",
                            h.create_runtime().as_deref().unwrap_or(&[]),
                            &st,
                        )?;
                    }
                    parent.send(&SyncMsg::HooksDone)?;
                }
                SyncMsg::Ready => {
                    tracing::debug!("init ready");
                    break;
                }
                other => return Err(Error::Init(format!("unexpected message {other:?}"))),
            }
        }
        record.save(&self.root)?;
        tracing::debug!("state saved");
        Ok(Container {
            root: self.root.clone(),
            state: record,
        })
    }
}

/// Writes `linux.uidMappings` / `gidMappings` for a new user namespace.
fn write_id_maps(pid: Pid, spec: &Spec) -> Result<()> {
    let linux = spec.linux().as_ref();
    let fmt = |maps: Option<Vec<oci_spec::runtime::LinuxIdMapping>>| {
        maps.unwrap_or_default()
            .iter()
            .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
            .collect::<String>()
    };
    let uid = fmt(linux.and_then(|l| l.uid_mappings().clone()));
    let gid = fmt(linux.and_then(|l| l.gid_mappings().clone()));
    fs::write(format!("/proc/{pid}/uid_map"), uid).context("write uid_map")?;
    fs::write(format!("/proc/{pid}/gid_map"), gid).context("write gid_map")
}

/// Cleans up a half-created container unless disarmed.
struct Undo {
    dir: PathBuf,
    pid: Option<Pid>,
    cgroup: Option<String>,
    armed: bool,
}

impl Undo {
    fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            pid: None,
            cgroup: None,
            armed: true,
        }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(pid) = self.pid {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
        if let Some(path) = &self.cgroup {
            if let Ok(mut cg) = Cgroup::open(path) {
                let _ = destroy_cgroup(&mut cg);
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Container {
    /// The container id.
    pub fn id(&self) -> &str {
        &self.state.id
    }

    /// The init's pid on the host.
    pub fn pid(&self) -> i32 {
        self.state.pid
    }

    /// The persisted record.
    pub fn record(&self) -> &ContainerState {
        &self.state
    }

    /// The live status.
    pub fn status(&self) -> Status {
        self.state.status(&self.root)
    }

    /// The OCI state document (`runc state`).
    pub fn oci_state(&self) -> OciState {
        self.state.oci_state(&self.root)
    }

    fn dir(&self) -> PathBuf {
        ContainerState::dir(&self.root, &self.state.id)
    }

    /// Lets the init exec the user's program.
    pub fn start(&self) -> Result<()> {
        match self.status() {
            Status::Created => {}
            Status::Stopped => {
                return Err(Error::InvalidState(
                    "cannot start a container that has stopped".into(),
                ))
            }
            s => {
                return Err(Error::InvalidState(format!(
                    "cannot start an already {s} container"
                )))
            }
        }
        let fifo_path = self.dir().join(EXEC_FIFO);
        let fifo = nix::fcntl::open(
            &fifo_path,
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .context("open exec fifo")?;
        self.await_exec(&fifo, &fifo_path)?;
        tracing::debug!(id = %self.state.id, "user process running");
        if let Some(h) = self
            .state
            .config
            .hooks()
            .as_ref()
            .and_then(|h| h.poststart().clone())
        {
            // A failing poststart hook is reported, but the container runs on (OCI).
            if let Err(e) = run_hooks("poststart", &h, &self.state.oci_state_with(Status::Running))
            {
                tracing::warn!("{e}");
            }
        }
        Ok(())
    }

    /// Lets the init go and waits until it has exec'd the user's program.
    /// The init writes one byte once it sees a reader, runs the
    /// startContainer hooks and execs; its write end is close-on-exec, so
    /// EOF means the program runs (or the init died). Poll so a dead init
    /// cannot block `start` forever.
    fn await_exec(&self, fifo: &OwnedFd, fifo_path: &Path) -> Result<()> {
        let deadline = Instant::now() + KILL_TIMEOUT;
        let mut got_byte = false;
        loop {
            let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::POLLIN)];
            let ready = poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0);
            if ready > 0 {
                let mut b = [0u8; 1];
                match nix::unistd::read(fifo, &mut b) {
                    Ok(1) => {
                        got_byte = true;
                        // The container counts as started from here on.
                        fs::remove_file(fifo_path).context("remove exec fifo")?;
                    }
                    Ok(0) if got_byte => return Ok(()),
                    _ => {}
                }
            }
            if !state::process_alive(self.state.pid, self.state.pid_start_time) {
                // Having taken the byte, the init ran (a short program may
                // already be done); without it, it never will.
                if got_byte {
                    return Ok(());
                }
                let _ = fs::remove_file(fifo_path);
                return Err(Error::InvalidState(
                    "cannot start a container that has stopped".into(),
                ));
            }
            if Instant::now() > deadline {
                return Err(Error::Init(
                    "container init did not respond to start".into(),
                ));
            }
        }
    }

    /// Sends `signal` to the init, or with `all` to every process in the cgroup.
    pub fn kill(&self, signal: Signal, all: bool) -> Result<()> {
        if self.status() == Status::Stopped {
            return Err(Error::InvalidState("container not running".into()));
        }
        if all {
            for pid in Cgroup::open(&self.state.cgroup_path)?.pids() {
                let _ = kill(Pid::from_raw(pid), signal);
            }
            return Ok(());
        }
        kill(Pid::from_raw(self.state.pid), signal).context("kill")
    }

    /// Freezes every process of a running container.
    pub fn pause(&self) -> Result<()> {
        match self.status() {
            Status::Running => Cgroup::open(&self.state.cgroup_path)?.set_frozen(true),
            s => Err(Error::InvalidState(format!("container not running: {s}"))),
        }
    }

    /// Thaws a paused container.
    pub fn resume(&self) -> Result<()> {
        match self.status() {
            Status::Paused => Cgroup::open(&self.state.cgroup_path)?.set_frozen(false),
            s => Err(Error::InvalidState(format!("container not paused: {s}"))),
        }
    }

    /// The pids of every process in the container (host pid namespace).
    pub fn processes(&self) -> Result<Vec<i32>> {
        Ok(Cgroup::open(&self.state.cgroup_path)?.pids())
    }

    /// Removes a stopped (or, with `force`, any) container and everything
    /// the runtime made for it: processes, cgroup, state dir.
    pub fn delete(&self, force: bool) -> Result<()> {
        let status = self.status();
        match status {
            Status::Stopped | Status::Created => {}
            s if !force => {
                return Err(Error::InvalidState(format!(
                    "cannot delete container {} that is not stopped: {s}",
                    self.state.id
                )))
            }
            _ => {}
        }
        let mut cgroup = Cgroup::open(&self.state.cgroup_path)?;
        if status != Status::Stopped {
            let _ = kill(Pid::from_raw(self.state.pid), Signal::SIGKILL);
        }
        // Kill whatever else is left (exec'd processes, daemons).
        for pid in cgroup.pids() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        if status == Status::Paused {
            let _ = cgroup.set_frozen(false);
        }
        destroy_cgroup(&mut cgroup)?;
        tracing::debug!("cgroup removed");
        if let Some(h) = self
            .state
            .config
            .hooks()
            .as_ref()
            .and_then(|h| h.poststop().clone())
        {
            if let Err(e) = run_hooks("poststop", &h, &self.state.oci_state_with(Status::Stopped)) {
                tracing::warn!("{e}");
            }
        }
        fs::remove_dir_all(self.dir()).context("remove state dir")
    }

    /// Starts another process in the running container; returns its pid
    /// (a child of the caller).
    pub fn exec(&self, opts: ExecOptions) -> Result<Pid> {
        match self.status() {
            Status::Running | Status::Created => {}
            s => {
                return Err(Error::InvalidState(format!(
                    "cannot exec in a {s} container"
                )))
            }
        }
        if opts.process.terminal().unwrap_or(false) && opts.console_socket.is_none() {
            return Err(Error::Spec(
                "process.terminal is set: a console socket is required".into(),
            ));
        }
        let spec = &self.state.config;
        let ns = NamespacePlan::join_all_of(spec, self.state.pid);
        let (parent, child) = sync::channel()?;
        let cfg = ChildConfig {
            cgroup_tasks: None,
            kind: ChildKind::Exec,
            spec,
            process: &opts.process,
            id: &self.state.id,
            bundle: &self.state.bundle,
            rootfs: &self.state.rootfs,
            cgroup_path: &self.state.cgroup_path,
            ns: &ns,
            console: opts.console_socket.as_ref().map(|s| s.as_fd()),
            no_pivot: false,
            seccomp: spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()),
        };
        let pid = process::spawn(&cfg, &parent, child)?;
        let result = (|| {
            Cgroup::open(&self.state.cgroup_path)?.add_process(pid.as_raw())?;
            parent.send(&SyncMsg::Go)?;
            // Success is silence: the channel closes on execve (CLOEXEC).
            match parent.recv()? {
                None => Ok(()),
                Some(SyncMsg::Error(m)) => Err(Error::Init(m)),
                Some(other) => Err(Error::Init(format!("unexpected message {other:?}"))),
            }
        })();
        if let Err(e) = result {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
            return Err(e);
        }
        Ok(pid)
    }
}

/// Removes a cgroup, waiting for its processes to be gone first.
fn destroy_cgroup(cgroup: &mut Cgroup) -> Result<()> {
    let deadline = Instant::now() + KILL_TIMEOUT;
    while !cgroup.pids().is_empty() {
        if Instant::now() > deadline {
            return Err(Error::Cgroup(format!(
                "processes in {} did not exit",
                cgroup.path()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cgroup.destroy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(validate_id("abc-1.2_x+y").is_ok());
        for bad in ["", "../x", "a/b", "-a", "a b"] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }
}
