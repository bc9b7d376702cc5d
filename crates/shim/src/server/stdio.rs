//! The container side of a process's stdio: pipes (or /dev/null) that the
//! runtime's child inherits as fds 0, 1 and 2.
//!
//! `berth-runtime` hands a container process the caller's own stdio, as
//! runc does. The shim is single-threaded, so it installs the child's ends
//! as its own fds 0-2 just for the spawn ([`with_child_stdio`]) and puts
//! /dev/null back afterwards.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::unistd::{dup, dup2_stderr, dup2_stdin, dup2_stdout, pipe2};

/// The ends the child gets: its stdin, stdout and stderr.
pub struct ChildStdio {
    fds: [OwnedFd; 3],
}

/// The shim's ends: where stdin is written and output is read.
pub struct ShimStdio {
    /// Write end of the child's stdin pipe, if stdin is open.
    pub stdin: Option<OwnedFd>,
    /// Read ends of stdout and stderr.
    pub outputs: [Option<OwnedFd>; 2],
}

fn null(write: bool) -> io::Result<OwnedFd> {
    let f = if write {
        File::options().write(true).open("/dev/null")?
    } else {
        File::open("/dev/null")?
    };
    Ok(f.into())
}

/// Makes an fd non-blocking.
pub fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Pipes for stdout and stderr, and for stdin when `open_stdin` (else /dev/null).
pub fn pipes(open_stdin: bool) -> io::Result<(ShimStdio, ChildStdio)> {
    let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC)?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC)?;
    let (stdin, child_in) = if open_stdin {
        let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
        set_nonblocking(&w)?;
        (Some(w), r)
    } else {
        (None, null(false)?)
    };
    set_nonblocking(&out_r)?;
    set_nonblocking(&err_r)?;
    Ok((
        ShimStdio {
            stdin,
            outputs: [Some(out_r), Some(err_r)],
        },
        ChildStdio {
            fds: [child_in, out_w, err_w],
        },
    ))
}

/// /dev/null all round, for a process whose stdio is a terminal.
pub fn null_stdio() -> io::Result<ChildStdio> {
    Ok(ChildStdio {
        fds: [null(false)?, null(true)?, null(true)?],
    })
}

/// Runs `f` with `child`'s fds installed as this process's fds 0-2, then
/// restores the previous ones. Only sound in a single-threaded process.
pub fn with_child_stdio<T>(child: &ChildStdio, f: impl FnOnce() -> T) -> io::Result<T> {
    let saved = [
        dup(io::stdin().as_fd())?,
        dup(io::stdout().as_fd())?,
        dup(io::stderr().as_fd())?,
    ];
    for s in &saved {
        fcntl(s, FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))?;
    }
    install(&child.fds)?;
    let out = f();
    install(&saved)?;
    Ok(out)
}

fn install(fds: &[OwnedFd; 3]) -> io::Result<()> {
    dup2_stdin(&fds[0])?;
    dup2_stdout(&fds[1])?;
    dup2_stderr(&fds[2])?;
    Ok(())
}

/// The shim's side of a process's stdio, before the spawn.
pub enum ShimSide {
    /// Pipes.
    Pipes(ShimStdio),
    /// A terminal: the master arrives on `console` during the spawn.
    Terminal {
        /// The shim's end of the console socket.
        console: UnixStream,
        /// Whether stdin is written to the terminal.
        open_stdin: bool,
    },
}

/// Everything a spawn needs for stdio.
pub struct Prepared {
    /// What the shim keeps.
    pub shim: ShimSide,
    /// What the child inherits as fds 0-2.
    pub child: ChildStdio,
    /// The runtime's end of the console socket, for a terminal.
    pub console_socket: Option<UnixStream>,
}

/// Pipes, or /dev/null plus a console socket for a terminal.
pub fn prepare(terminal: bool, open_stdin: bool) -> io::Result<Prepared> {
    if terminal {
        let (ours, theirs) = UnixStream::pair()?;
        Ok(Prepared {
            shim: ShimSide::Terminal {
                console: ours,
                open_stdin,
            },
            child: null_stdio()?,
            console_socket: Some(theirs),
        })
    } else {
        let (shim, child) = pipes(open_stdin)?;
        Ok(Prepared {
            shim: ShimSide::Pipes(shim),
            child,
            console_socket: None,
        })
    }
}
