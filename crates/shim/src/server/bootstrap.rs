//! Detaching the shim from whoever launched it.
//!
//! The launched process forks; the child starts a new session, becomes a
//! child subreaper, points its own stdio at /dev/null and `shim.log`,
//! creates the container and reports one line back over a pipe: `ok`, or
//! the error as a JSON [`WireError`]. The launcher prints that line to its
//! stdout and exits 0 or 1, so the client learns the outcome from the exit
//! status and a file, never from a pipe the shim could keep open. The
//! shim, orphaned, is re-parented and lives on after the client dies.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::fcntl::OFlag;
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout, fork, pipe2, setsid, ForkResult};

use crate::error::{ShimError, WireError};

/// In the launcher: forks, and returns in the detached child with the write
/// end of the report pipe. The launcher itself never returns: it relays
/// the child's report and exits.
pub fn detach(log: &Path) -> Result<File, ShimError> {
    let (r, w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| ShimError::io("report pipe", e.into()))?;
    // SAFETY: the launcher is single-threaded here (nothing spawned threads
    // yet), so the child may run arbitrary code after fork.
    match unsafe { fork() }.map_err(|e| ShimError::io("fork", e.into()))? {
        ForkResult::Parent { .. } => {
            drop(w);
            relay(r)
        }
        ForkResult::Child => {
            drop(r);
            setsid().map_err(|e| ShimError::io("setsid", e.into()))?;
            nix::sys::prctl::set_child_subreaper(true)
                .map_err(|e| ShimError::io("become child subreaper", e.into()))?;
            redirect_stdio(log)?;
            Ok(File::from(w))
        }
    }
}

/// The launcher's side: prints the child's report line and exits.
fn relay(r: OwnedFd) -> ! {
    let mut report = Vec::new();
    let mut f = File::from(r);
    let mut byte = [0u8; 1];
    // Read one line only: the container's init may hold the write end
    // until it execs, so EOF would come late.
    while let Ok(1) = f.read(&mut byte) {
        if byte[0] == b'\n' {
            break;
        }
        report.push(byte[0]);
    }
    let mut out = std::io::stdout();
    if report == b"ok" {
        let _ = writeln!(out, "ok");
        std::process::exit(0);
    }
    if report.is_empty() {
        let e = ShimError::System("shim exited during setup (see shim.log)".into());
        report = serde_json::to_vec(&WireError::from(&e)).unwrap_or_default();
    }
    let _ = out.write_all(&report);
    let _ = writeln!(out);
    std::process::exit(1)
}

/// Sends the setup outcome to the launcher.
pub fn report(mut w: File, result: &Result<(), ShimError>) {
    let line = match result {
        Ok(()) => b"ok".to_vec(),
        Err(e) => serde_json::to_vec(&WireError::from(e)).unwrap_or_default(),
    };
    let _ = w.write_all(&line);
    let _ = w.write_all(b"\n");
}

fn redirect_stdio(log: &Path) -> Result<(), ShimError> {
    let null = File::open("/dev/null").map_err(|e| ShimError::io("open /dev/null", e))?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| ShimError::io("open shim.log", e))?;
    let io = |e: nix::Error| ShimError::io("redirect stdio", e.into());
    dup2_stdin(&null).map_err(io)?;
    dup2_stdout(&log).map_err(io)?;
    dup2_stderr(&log).map_err(io)?;
    Ok(())
}
