//! Spawning the command and supervising it: the init's whole life.

use std::ffi::CString;
use std::io;

use crate::signals::{reset_dispositions, SigSet};
use crate::status::{exec_failure, exit_code};

/// Runs `argv` (program first, non-empty) as the init's child and returns
/// the init's exit code: the child's (128+N if signal N killed it), or 1 if
/// the init itself could not start it.
pub fn run(argv: &[CString]) -> i32 {
    match supervise(argv) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("berth-init: {e}");
            1
        }
    }
}

fn supervise(argv: &[CString]) -> io::Result<i32> {
    // SAFETY: getpid has no preconditions.
    if unsafe { libc::getpid() } != 1 {
        // Not a namespace's pid 1 (`--pid host`): orphans must still come
        // to the init to be reaped. Failure only costs reaping.
        // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
    }
    let taken = SigSet::taken_over();
    // Blocked before the fork, so no signal is lost between the child's
    // birth and the first wait, and the child starts with them blocked
    // until it has set itself up.
    taken.set_mask()?;
    let child = spawn(argv)?;
    loop {
        let sig = taken.wait()?;
        if sig == libc::SIGCHLD {
            if let Some(code) = reap(child)? {
                return Ok(code);
            }
        } else {
            forward(child, sig);
        }
    }
}

/// Forks the child and execs `argv` in it; returns its pid.
fn spawn(argv: &[CString]) -> io::Result<libc::pid_t> {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let program = argv[0].to_string_lossy().into_owned();
    // SAFETY: the init is single-threaded, so the child may run any code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid > 0 {
        return Ok(pid);
    }
    // The child. Its own process group, in the terminal's foreground when
    // there is one, so ^C reaches it and not the init (SIGTTOU is still
    // blocked, so a background tcsetpgrp is allowed). No terminal (ENOTTY)
    // is the usual case and not an error.
    // SAFETY: plain syscalls on the child's own process and stdin.
    unsafe {
        libc::setpgid(0, 0);
        libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp());
    }
    reset_dispositions();
    let unblocked = SigSet::empty().set_mask();
    let errno = match unblocked {
        Ok(()) => {
            // SAFETY: ptrs is a NULL-terminated array of C strings that
            // outlive the call.
            unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
            io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL)
        }
        Err(e) => e.raw_os_error().unwrap_or(libc::EINVAL),
    };
    let (code, message) = exec_failure(&program, errno);
    let line = format!("{message}\n");
    // SAFETY: writes a valid buffer to stderr, then leaves without running
    // the parent's atexit handlers or flushing its buffers twice.
    unsafe {
        libc::write(libc::STDERR_FILENO, line.as_ptr().cast(), line.len());
        libc::_exit(code)
    }
}

/// Reaps every exited child (the command and any orphan re-parented to
/// the init); returns the exit code once the command is among them.
fn reap(child: libc::pid_t) -> io::Result<Option<i32>> {
    let mut result = None;
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        match pid {
            0 => return Ok(result),
            p if p < 0 => {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::ECHILD) => return Ok(result),
                    Some(libc::EINTR) => continue,
                    _ => return Err(e),
                }
            }
            p if p == child => result = Some(exit_code(status)),
            _ => {}
        }
    }
}

/// Passes `sig` on to the command. It may have exited already (ESRCH);
/// its exit is collected by the next SIGCHLD.
fn forward(child: libc::pid_t, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(child, sig);
    }
}
