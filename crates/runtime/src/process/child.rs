//! The child side of process creation: everything that runs inside the new
//! namespaces, from the first instruction after clone to execve.

use std::convert::Infallible;
use std::ffi::CString;
use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, execve, sethostname, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::{LinuxNamespaceType, LinuxSeccomp, Process};

use super::{capabilities, user, ChildConfig, ChildKind};
use crate::error::{Context, Error, Result};
use crate::state::{OciState, Status};
use crate::sync::{SyncChannel, SyncMsg};
use crate::{fds, hooks, rootfs, seccomp};

/// The PATH used to find the program when the process env has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Runs the child's setup and execs the user program; never returns. On a
/// failure the error goes to the runtime over `sync` and the child exits.
pub fn main(cfg: &ChildConfig, sync: SyncChannel) -> ! {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cfg, &sync)));
    let message = match outcome {
        Ok(Err(e)) => e.to_string(),
        Ok(Ok(never)) => match never {},
        Err(_) => "container init panicked".to_string(),
    };
    // After `Ready` nobody reads the channel any more: say it on stderr.
    if sync.send(&SyncMsg::Error(message.clone())).is_err() {
        eprintln!("berth-runc: container init: {message}");
    }
    // SAFETY: exit the child without unwinding into the parent's code.
    unsafe { libc::_exit(1) }
}

fn run(cfg: &ChildConfig, sync: &SyncChannel) -> Result<Infallible> {
    // The parent may have blocked signals or installed forwarders.
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .context("unblock signals")?;
    if let ChildKind::Init { fifo } = cfg.kind {
        if let Some(files) = cfg.cgroup_tasks {
            crate::cgroups::attach_self(files)?;
        }
        if cfg.ns.new_userns() {
            expect(sync, SyncMsg::IdMapsWritten)?;
        }
        set_up_container(cfg, sync)?;
        let program = prepare_process(cfg.process, cfg.seccomp)?;
        sync.send(&SyncMsg::Ready)?;
        // Held open until execve closes it: `start` reads EOF as "running".
        let _started = wait_for_start(fifo)?;
        let state = hook_state(cfg, Status::Created);
        if let Some(h) = cfg
            .spec
            .hooks()
            .as_ref()
            .and_then(|h| h.start_container().clone())
        {
            hooks::run_hooks("startContainer", &h, &state)?;
        }
        exec(program, cfg.process, cfg.seccomp)
    } else {
        expect(sync, SyncMsg::Go)?;
        if cfg.process.terminal().unwrap_or(false) {
            let socket = cfg.console.ok_or_else(|| {
                Error::Spec("process.terminal is set but no console socket was given".into())
            })?;
            rootfs_console(socket, cfg.process, false)?;
        }
        let program = prepare_process(cfg.process, cfg.seccomp)?;
        exec(program, cfg.process, cfg.seccomp)
    }
}

/// The init's container-wide setup: namespaces, rootfs, hostname, sysctls.
/// On cgroup v2 the runtime moves the init into its cgroup while the init
/// mounts its rootfs (migration can wait for an RCU grace period), so `Go`
/// is awaited as late as possible: before hooks, or before unsharing a
/// cgroup namespace, whose root must be the container's cgroup. On v1 the
/// init has already moved itself.
fn set_up_container(cfg: &ChildConfig, sync: &SyncChannel) -> Result<()> {
    if cfg.ns.new_cgroupns {
        expect(sync, SyncMsg::Go)?;
        unshare(CloneFlags::CLONE_NEWCGROUP).context("unshare cgroup namespace")?;
    }
    if cfg.ns.new_userns() {
        setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .context("setgid 0 in user namespace")?;
        setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
            .context("setuid 0 in user namespace")?;
    }
    if !cfg.ns.has(LinuxNamespaceType::Mount) {
        return Err(Error::Spec(
            "config.json: a mount namespace is required".into(),
        ));
    }
    rootfs::prepare(&rootfs::RootfsPlan {
        spec: cfg.spec,
        rootfs: cfg.rootfs,
        cgroup_path: cfg.cgroup_path,
        in_userns: cfg.ns.has(LinuxNamespaceType::User),
    })?;
    if !cfg.ns.new_cgroupns {
        expect(sync, SyncMsg::Go)?;
    }
    sync.send(&SyncMsg::RunHooks)?;
    match sync.expect("hooks")? {
        SyncMsg::HooksDone => {}
        other => return Err(Error::Init(format!("unexpected message {other:?}"))),
    }
    if let Some(h) = cfg
        .spec
        .hooks()
        .as_ref()
        .and_then(|h| h.create_container().clone())
    {
        hooks::run_hooks("createContainer", &h, &hook_state(cfg, Status::Creating))?;
    }
    rootfs::enter(cfg.rootfs, cfg.no_pivot)?;
    if let Some(sysctl) = cfg.spec.linux().as_ref().and_then(|l| l.sysctl().as_ref()) {
        for (key, value) in sysctl {
            let path = PathBuf::from("/proc/sys").join(key.replace('.', "/"));
            fs::write(&path, value).context_with(|| format!("set sysctl {key}={value}"))?;
        }
    }
    if let Some(name) = cfg.spec.hostname() {
        sethostname(name).context("sethostname")?;
    }
    if let Some(name) = cfg.spec.domainname() {
        // SAFETY: setdomainname reads `len` bytes from a valid buffer.
        if unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) } != 0 {
            return Err(std::io::Error::last_os_error()).context("setdomainname");
        }
    }
    if cfg.process.terminal().unwrap_or(false) {
        let socket = cfg.console.ok_or_else(|| {
            Error::Spec("process.terminal is set but no console socket was given".into())
        })?;
        rootfs_console(socket, cfg.process, true)?;
    }
    rootfs::finalize(cfg.spec)
}

/// Waits for one specific message from the runtime.
fn expect(sync: &SyncChannel, want: SyncMsg) -> Result<()> {
    match sync.expect("setup")? {
        m if m == want => Ok(()),
        other => Err(Error::Init(format!("expected {want:?}, got {other:?}"))),
    }
}

fn rootfs_console(
    socket: std::os::fd::BorrowedFd,
    process: &Process,
    bind_dev_console: bool,
) -> Result<()> {
    let size = process
        .console_size()
        .map(|b| (b.height() as u16, b.width() as u16));
    crate::console::setup_console(socket, size, bind_dev_console)
}

/// The program to exec, resolved before privileges are dropped so a
/// missing binary fails `create`, not `start`.
struct Program {
    path: CString,
    args: Vec<CString>,
    env: Vec<CString>,
}

/// Per-process setup shared by init and exec: cwd, program lookup,
/// oom score, rlimits, seccomp, user, capabilities, no_new_privs.
fn prepare_process(process: &Process, seccomp_spec: Option<&LinuxSeccomp>) -> Result<Program> {
    let cwd = process.cwd();
    chdir(cwd).map_err(|e| {
        Error::Init(format!(
            "chdir to cwd ({:?}) set in config.json failed: {}",
            cwd,
            e.desc()
        ))
    })?;
    // CVE-2024-21626: a cwd such as /proc/self/fd/N naming a leaked host
    // directory would put the process outside the container's root.
    match nix::unistd::getcwd() {
        Ok(p) if p.starts_with("/") => {}
        _ => {
            return Err(Error::Init(format!(
                "cwd {cwd:?} is outside of the container's root"
            )))
        }
    }
    let mut env = process.env().clone().unwrap_or_default();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        // runc sets HOME from the container's passwd file when it is unset.
        env.push(format!("HOME={}", home_of(process.user().uid())));
    }
    let args = process.args().clone().unwrap_or_default();
    let path = find_executable(&args[0], &env)?;
    if let Some(adj) = process.oom_score_adj() {
        user::set_oom_score_adj(adj)?;
    }
    user::set_rlimits(process.rlimits().as_deref().unwrap_or(&[]))?;
    let nnp = process.no_new_privileges().unwrap_or(false);
    if let (Some(s), false) = (seccomp_spec, nnp) {
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it
        // before the capabilities are dropped.
        seccomp::load(s)?;
    }
    if let Some(c) = process.capabilities() {
        capabilities::drop_bounding(c)?;
    }
    nix::sys::prctl::set_keepcaps(true).context("set keepcaps")?;
    user::switch_user(process.user(), !userns_denies_setgroups())?;
    nix::sys::prctl::set_keepcaps(false).context("clear keepcaps")?;
    if let Some(c) = process.capabilities() {
        capabilities::apply(c)?;
    }
    if nnp {
        nix::sys::prctl::set_no_new_privs().context("set no_new_privs")?;
    }
    Ok(Program {
        path: cstring(path.as_os_str().as_encoded_bytes())?,
        args: args
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Result<_>>()?,
        env: env
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Result<_>>()?,
    })
}

/// The home directory of `uid` in the container's /etc/passwd, or `/`.
fn home_of(uid: u32) -> String {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 6 && f[2].parse() == Ok(uid))
        .map(|f| f[5].to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "/".to_string())
}

fn userns_denies_setgroups() -> bool {
    fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny")
}

fn cstring(bytes: &[u8]) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::Spec("argument or env holds a NUL byte".into()))
}

/// Blocks until `start` opens the FIFO, then tells it we are going. The
/// returned write end is close-on-exec; the caller keeps it until execve.
fn wait_for_start(fifo: std::os::fd::RawFd) -> Result<std::os::fd::OwnedFd> {
    let path = format!("/proc/self/fd/{fifo}");
    let fd = nix::fcntl::open(
        path.as_str(),
        OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("open exec fifo")?;
    nix::unistd::write(fd.as_fd(), b"0").context("write exec fifo")?;
    Ok(fd)
}

/// Finds the program like execvp would, with the container's PATH.
fn find_executable(name: &str, env: &[String]) -> Result<PathBuf> {
    let not_found = || {
        Error::Init(format!(
            "exec: {name:?}: executable file not found in $PATH"
        ))
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return match fs::metadata(&p) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(p),
            Ok(m) if m.is_dir() => Err(Error::Init(format!("exec: {name:?}: is a directory"))),
            Ok(_) => Err(Error::Init(format!("exec: {name:?}: permission denied"))),
            Err(_) => Err(Error::Init(format!(
                "exec: {name:?}: stat {name}: no such file or directory"
            ))),
        };
    }
    let path_var = env
        .iter()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    path_var
        .split(':')
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .ok_or_else(not_found)
}

fn exec(
    program: Program,
    process: &Process,
    seccomp_spec: Option<&LinuxSeccomp>,
) -> Result<Infallible> {
    if let (Some(s), true) = (seccomp_spec, process.no_new_privileges().unwrap_or(false)) {
        // With no_new_privs the filter goes on last, so it constrains as
        // little of the runtime's own setup as possible.
        seccomp::load(s)?;
    }
    fds::cloexec_from(3);
    let err = execve(&program.path, &program.args, &program.env).unwrap_err();
    Err(Error::Init(format!(
        "exec: {:?}: {}",
        program.args[0].to_string_lossy(),
        err.desc()
    )))
}

fn hook_state(cfg: &ChildConfig, status: Status) -> OciState {
    OciState {
        oci_version: cfg.spec.version().clone(),
        id: cfg.id.to_string(),
        pid: std::process::id() as i32,
        status,
        bundle: cfg.bundle.to_path_buf(),
        rootfs: cfg.rootfs.to_path_buf(),
        created: String::new(),
        owner: String::new(),
        annotations: cfg
            .spec
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    }
}
