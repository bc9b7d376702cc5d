//! The `berth-shim` process: one per container, detached from the daemon.
//! It creates the container through `berth-runtime`, owns its stdio
//! (json-file log, attach streams), reaps its processes, records the
//! init's exit on disk and serves the protocol on `<state dir>/shim.sock`.

mod bootstrap;
mod conn;
mod memory;
mod process;
mod requests;
mod shim;
mod stdio;

use std::path::{Path, PathBuf};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use serde::{Deserialize, Serialize};

use crate::error::ShimError;
use crate::types::CreateRequest;

/// The socket the shim serves, in its state dir.
pub const SOCKET: &str = "shim.sock";
/// What the client writes for the shim to read at launch, in its state dir.
pub const LAUNCH_FILE: &str = "launch.json";
/// The init's exit status, written before anyone is told, in the state dir.
pub const EXIT_FILE: &str = "exit.json";
/// The shim's own diagnostics, in its state dir.
pub const LOG_FILE: &str = "shim.log";

/// What the shim is launched with (`<state dir>/launch.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Launch {
    /// The container to create.
    pub create: CreateRequest,
    /// The `berth-runtime` state root.
    pub runtime_root: PathBuf,
}

/// The `berth-shim` program: `berth-shim <state dir>`. Returns the exit code.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().collect();
    let [_, state_dir] = args.as_slice() else {
        eprintln!("usage: berth-shim <state dir>  (started by berth's shim client)");
        return 2;
    };
    // CVE-2019-5736: re-executes from a protected copy (returns when done).
    if let Err(e) = berth_runtime::cloned_binary::ensure_cloned() {
        eprintln!("berth-shim: {e}");
        return 1;
    }
    let state_dir = Path::new(state_dir);
    let w = match bootstrap::detach(&state_dir.join(LOG_FILE)) {
        Ok(w) => w,
        Err(e) => {
            println!(
                "{}",
                serde_json::to_string(&crate::error::WireError::from(&e)).unwrap_or_default()
            );
            return 1;
        }
    };
    match setup(state_dir) {
        Ok(shim) => {
            bootstrap::report(w, &Ok(()));
            memory::trim();
            shim.run()
        }
        Err(e) => {
            eprintln!("berth-shim: {e}");
            bootstrap::report(w, &Err(e));
            1
        }
    }
}

fn setup(state_dir: &Path) -> Result<shim::Shim, ShimError> {
    let launch: Launch = std::fs::read(state_dir.join(LAUNCH_FILE))
        .map_err(|e| ShimError::io("read launch.json", e))
        .and_then(|d| {
            serde_json::from_slice(&d)
                .map_err(|e| ShimError::InvalidParameter(format!("launch.json: {e}")))
        })?;
    // Children are reaped through a signalfd. SIGPIPE is blocked rather
    // than ignored: a client going away must not kill the shim, and an
    // ignored disposition would be inherited by the container's processes
    // (the runtime's child unblocks every signal before exec).
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    let mut blocked = mask;
    blocked.add(Signal::SIGPIPE);
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&blocked), None)
        .map_err(|e| ShimError::io("block signals", e.into()))?;
    // SAFETY: restoring the default disposition runs no code of ours.
    unsafe { nix::sys::signal::signal(Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl) }
        .map_err(|e| ShimError::io("reset SIGPIPE", e.into()))?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| ShimError::io("signalfd", e.into()))?;
    shim::Shim::create(state_dir, &launch.runtime_root, &launch.create, signals)
}
