//! Defence against CVE-2019-5736: a container process must never be able to
//! reach the runtime's binary on the host through /proc/<pid>/exe and
//! overwrite it. Before any process enters a container, the runtime
//! re-executes itself from a copy the container cannot write:
//!
//! 1. preferred (as runc 1.2 does): in a private mount namespace, bind the
//!    binary read-only over itself and re-exec it; /proc/<pid>/exe then
//!    resolves through a read-only mount (EROFS), and nothing is copied;
//! 2. fallback: a sealed memfd copy (F_SEAL_WRITE and friends).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::statvfs::{fstatvfs, FsFlags};

use crate::error::{Context, Result};

/// The seals that make a memfd copy immutable.
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// Whether the running binary cannot be written through /proc/self/exe:
/// it sits on a read-only mount, or is a sealed memfd.
pub fn is_protected() -> bool {
    let Ok(exe) = File::open("/proc/self/exe") else {
        return false;
    };
    if fstatvfs(exe.as_fd()).is_ok_and(|s| s.flags().contains(FsFlags::ST_RDONLY)) {
        return true;
    }
    // SAFETY: F_GET_SEALS on an fd we own; fails with EINVAL for non-memfds.
    let seals = unsafe { libc::fcntl(exe.as_raw_fd(), libc::F_GET_SEALS) };
    seals >= 0 && seals & SEALS == SEALS
}

/// Re-executes the current program from a protected copy unless it already
/// runs from one. Returns only on failure, or if already protected.
pub fn ensure_cloned() -> Result<()> {
    if is_protected() {
        return Ok(());
    }
    let (args, env) = argv_and_environ()?;
    if let Err(e) = reexec_read_only(&args, &env) {
        tracing::debug!("read-only re-exec unavailable ({e}); using a sealed memfd");
    }
    let memfd = sealed_copy()?;
    let err = nix::unistd::fexecve(&memfd, &args, &env).unwrap_err();
    Err(err).context("re-exec from sealed memfd")
}

/// Binds the binary read-only over itself in a private mount namespace and
/// execs it. Returns only on failure.
fn reexec_read_only(args: &[CString], env: &[CString]) -> Result<()> {
    let exe: PathBuf = std::fs::read_link("/proc/self/exe").context("readlink /proc/self/exe")?;
    if !exe.exists() {
        // "(deleted)": the binary was replaced since it started.
        return Err(io::Error::from(io::ErrorKind::NotFound)).context("locate own binary");
    }
    unshare(CloneFlags::CLONE_NEWNS).context("unshare mount namespace")?;
    // Nothing mounted here may propagate back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .context("make mounts slave")?;
    bind_read_only(&exe)?;
    let path = CString::new(exe.as_os_str().as_encoded_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
        .context("binary path")?;
    let err = nix::unistd::execve(&path, args, env).unwrap_err();
    Err(err).context("re-exec read-only binary")
}

fn bind_read_only(path: &Path) -> Result<()> {
    mount(
        Some(path),
        path,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .context("bind own binary")?;
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    mount(None::<&str>, path, None::<&str>, flags, None::<&str>)
        .context("remount own binary read-only")
}

fn argv_and_environ() -> Result<(Vec<CString>, Vec<CString>)> {
    let bad = |e| io::Error::new(io::ErrorKind::InvalidInput, e);
    let args = std::env::args_os()
        .map(|a| CString::new(a.into_encoded_bytes()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(bad)
        .context("argv")?;
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(bad)
        .context("environ")?;
    Ok((args, env))
}

/// Copies /proc/self/exe into a memfd and seals it.
fn sealed_copy() -> Result<OwnedFd> {
    let name = c"berth-runtime";
    // SAFETY: memfd_create with a valid C string; returns a new fd or -1.
    let fd =
        unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(io::Error::last_os_error()).context("memfd_create");
    }
    // SAFETY: fd was just returned by memfd_create and is owned by nobody else.
    let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
    let exe = File::open("/proc/self/exe").context("open /proc/self/exe")?;
    let len = exe.metadata().context("stat /proc/self/exe")?.len();
    let mut copied = 0u64;
    while copied < len {
        // SAFETY: sendfile between two fds we own; offset pointer is null.
        let n = unsafe {
            libc::sendfile(
                memfd.as_raw_fd(),
                exe.as_raw_fd(),
                std::ptr::null_mut(),
                (len - copied) as usize,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error()).context("copy binary to memfd");
        }
        if n == 0 {
            break;
        }
        copied += n as u64;
    }
    // SAFETY: F_ADD_SEALS on our memfd.
    if unsafe { libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } != 0 {
        return Err(io::Error::last_os_error()).context("seal memfd");
    }
    Ok(memfd)
}
