//! Creating processes inside a container: the container's init and the
//! processes `exec` adds. The runtime forks; the child sets itself up
//! (mounts, user, capabilities, seccomp) and reports over a sync channel.

pub mod capabilities;
mod child;
pub mod user;

use std::os::fd::{BorrowedFd, RawFd};
use std::path::Path;

use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::{Process, Spec};

use crate::error::{Context, Error, Result};
use crate::namespaces::NamespacePlan;
use crate::sync::{SyncChannel, SyncMsg};

/// Whether the child is a container's init or a process joining one.
#[derive(Debug, Clone, Copy)]
pub enum ChildKind {
    /// The init: sets up the rootfs and waits on the exec FIFO (this fd).
    Init {
        /// An O_PATH fd of the exec FIFO, reopened for writing by the init.
        fifo: RawFd,
    },
    /// A process joining a running container's namespaces.
    Exec,
}

/// What the child needs to set itself up.
pub struct ChildConfig<'a> {
    /// Init or exec.
    pub kind: ChildKind,
    /// The container's spec (rootfs, mounts, sysctls, hostname, hooks).
    pub spec: &'a Spec,
    /// The process to run.
    pub process: &'a Process,
    /// The container id.
    pub id: &'a str,
    /// The bundle dir (for hook state).
    pub bundle: &'a Path,
    /// The rootfs on the host.
    pub rootfs: &'a Path,
    /// The container's cgroup path.
    pub cgroup_path: &'a str,
    /// Namespaces to create or join.
    pub ns: &'a NamespacePlan,
    /// The console socket, when `process.terminal` is set.
    pub console: Option<BorrowedFd<'a>>,
    /// Use MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
    /// cgroup v1 `tasks` files the init writes `0` to, moving itself into
    /// its cgroup first thing (see `Cgroup::self_attach_files`).
    pub cgroup_tasks: Option<&'a [std::path::PathBuf]>,
    /// The seccomp profile to load before exec, if any.
    pub seccomp: Option<&'a oci_spec::runtime::LinuxSeccomp>,
}

/// Clones like fork(2), but into the namespaces in `flags`. `Ok(None)` in the child.
fn clone_process(flags: CloneFlags) -> Result<Option<Pid>> {
    // SAFETY: a raw clone without CLONE_VM and with a null stack behaves as
    // fork: the child gets a copy-on-write copy of this (single-threaded)
    // process and continues from here.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags.bits() | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match rc {
        -1 => Err(std::io::Error::last_os_error()).context("clone"),
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid as i32))),
    }
}

/// Starts the child in its namespaces and returns its pid. The child is a
/// direct child of the caller, so the caller can wait for it.
pub fn spawn(cfg: &ChildConfig, parent: &SyncChannel, child: SyncChannel) -> Result<Pid> {
    if cfg.ns.joins.is_empty() {
        return match clone_process(cfg.ns.clone_flags)? {
            None => {
                parent.close_in_child();
                child::main(cfg, child)
            }
            Some(pid) => Ok(pid),
        };
    }
    // setns(pid) only affects children, and setns(mnt) wants a process of
    // its own: an intermediate process joins, then clones the real child
    // as a sibling (CLONE_PARENT) so the caller stays its parent.
    // SAFETY: the runtime is single-threaded when it spawns.
    match unsafe { fork() }.context("fork")? {
        ForkResult::Child => {
            let result = cfg
                .ns
                .join()
                .and_then(|_| clone_process(cfg.ns.clone_flags | CloneFlags::CLONE_PARENT));
            match result {
                Ok(None) => {
                    parent.close_in_child();
                    child::main(cfg, child)
                }
                Ok(Some(pid)) => {
                    let _ = child.send(&SyncMsg::Pid(pid.as_raw()));
                }
                Err(e) => {
                    let _ = child.send(&SyncMsg::Error(e.to_string()));
                }
            }
            // SAFETY: leave the intermediate without running destructors
            // or atexit handlers that belong to the parent.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child: mid } => {
            drop(child);
            let _ = waitpid(mid, None);
            match parent.expect("joining namespaces")? {
                SyncMsg::Pid(pid) => Ok(Pid::from_raw(pid)),
                other => Err(Error::Init(format!("unexpected message {other:?}"))),
            }
        }
    }
}

/// Waits for a child and turns its end into a shell-style exit code
/// (128 + signal when killed).
pub fn wait_exit_code(pid: Pid) -> Result<i32> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e).context("wait for container process"),
        }
    }
}
