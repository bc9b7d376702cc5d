//! Defence against CVE-2019-5736: a container process must never be able to
//! reach the runtime's binary on the host through /proc/<pid>/exe and
//! overwrite it. Before any process enters a container, the runtime
//! re-executes itself from a sealed, read-only memfd copy, so /proc/self/exe
//! points at that copy.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::{Context, Result};

/// The seals that make the copy immutable.
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// Whether the running binary is already a sealed memfd copy.
pub fn is_cloned() -> bool {
    let Ok(exe) = File::open("/proc/self/exe") else {
        return false;
    };
    // SAFETY: F_GET_SEALS on an fd we own; fails with EINVAL for non-memfds.
    let seals = unsafe { libc::fcntl(exe.as_raw_fd(), libc::F_GET_SEALS) };
    seals >= 0 && seals & SEALS == SEALS
}

/// Re-executes the current program from a sealed memfd copy unless it
/// already runs from one. Returns only on failure, or if already cloned.
pub fn ensure_cloned() -> Result<()> {
    if is_cloned() {
        return Ok(());
    }
    let memfd = sealed_copy()?;
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.into_encoded_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
        .context("argv")?;
    let env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv)
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
        .context("environ")?;
    let err = nix::unistd::fexecve(&memfd, &args, &env).unwrap_err();
    Err(err).context("re-exec from sealed memfd")
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
