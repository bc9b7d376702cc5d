//! Runs one process and measures it: wall time and peak memory, the latter
//! from `wait4(2)`'s rusage (`ru_maxrss`: the largest resident set of the
//! process and of its descendants it waited for, e.g. `runc init`).

use std::fs::File;
use std::io::{Read, Seek};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The outcome of one measured run.
#[derive(Debug)]
pub struct Measurement {
    /// How the process ended.
    pub status: ExitStatus,
    /// From just before spawning to just after reaping.
    pub wall: Duration,
    /// Peak resident set size, in KiB.
    pub max_rss_kib: u64,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// Runs `command` with stdin from `/dev/null` and stdout/stderr captured
/// (into anonymous temporary files, so no reader threads run meanwhile)
/// and measures it.
pub fn run(command: &mut Command) -> Result<Measurement> {
    let mut stdout = tempfile::tempfile().context("creating a temporary file for stdout")?;
    let mut stderr = tempfile::tempfile().context("creating a temporary file for stderr")?;
    command
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().context("duplicating stdout file")?)
        .stderr(stderr.try_clone().context("duplicating stderr file")?);

    let start = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("spawning {:?}", command.get_program()))?;
    let (status, rusage) = wait4(child.id())?;
    let wall = start.elapsed();

    Ok(Measurement {
        status,
        wall,
        max_rss_kib: u64::try_from(rusage.ru_maxrss).unwrap_or(0),
        stdout: read_back(&mut stdout)?,
        stderr: read_back(&mut stderr)?,
    })
}

/// Reaps `pid` with `wait4`, returning its status and resource usage.
fn wait4(pid: u32) -> Result<(ExitStatus, libc::rusage)> {
    let pid = libc::pid_t::try_from(pid).context("pid out of range")?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are valid for writes for the whole call.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
        if reaped == pid {
            return Ok((ExitStatus::from_raw(status), rusage));
        }
        let err = std::io::Error::last_os_error();
        if reaped == -1 && err.kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        bail!("wait4({pid}) failed: {err}");
    }
}

fn read_back(file: &mut File) -> Result<Vec<u8>> {
    file.rewind().context("rewinding captured output")?;
    let mut data = Vec::new();
    file.read_to_end(&mut data)
        .context("reading captured output")?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_status_output_and_memory() {
        let m = run(Command::new("/bin/sh").args(["-c", "echo out; echo err >&2; exit 3"]))
            .expect("sh runs");
        assert_eq!(m.status.code(), Some(3));
        assert_eq!(m.stdout, b"out\n");
        assert_eq!(m.stderr, b"err\n");
        assert!(m.max_rss_kib > 0);
        assert!(m.wall > Duration::ZERO);
    }
}
