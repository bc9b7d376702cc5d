//! Which signals the init takes over, and putting them back for the child.
//!
//! The init never installs handlers: it blocks every signal it may receive
//! and collects them with `sigwaitinfo`, so a signal meant for the child
//! can never kill or interrupt the init itself. Blocked signals stay
//! pending even for a namespace's pid 1, whose default-action signals the
//! kernel would otherwise drop.

use std::io;
use std::mem::MaybeUninit;

/// Signals the kernel raises synchronously for a faulting instruction:
/// blocking them would turn the init's own crash into a silent kill, so
/// they stay unblocked (and are never forwarded).
pub const SYNCHRONOUS: [i32; 7] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGABRT,
    libc::SIGSYS,
    libc::SIGTRAP,
];

/// A `sigset_t` with a safe interface.
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl SigSet {
    /// No signal.
    pub fn empty() -> SigSet {
        let mut s = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given.
        unsafe {
            libc::sigemptyset(s.as_mut_ptr());
            SigSet(s.assume_init())
        }
    }

    /// The signals the init waits for: everything but SIGKILL and SIGSTOP
    /// (which cannot be blocked) and the [`SYNCHRONOUS`] ones.
    pub fn taken_over() -> SigSet {
        let mut s = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigfillset initialises the set; sigdelset only edits it.
        unsafe {
            libc::sigfillset(s.as_mut_ptr());
            let mut s = SigSet(s.assume_init());
            for sig in SYNCHRONOUS.iter().chain(&[libc::SIGKILL, libc::SIGSTOP]) {
                libc::sigdelset(&mut s.0, *sig);
            }
            s
        }
    }

    /// Whether `sig` is in the set.
    pub fn contains(&self, sig: i32) -> bool {
        // SAFETY: the set is initialised; an invalid signal number gives -1.
        unsafe { libc::sigismember(&self.0, sig) == 1 }
    }

    /// Makes this the calling thread's signal mask.
    pub fn set_mask(&self) -> io::Result<()> {
        // SAFETY: both pointers are valid for the call.
        let r = unsafe { libc::sigprocmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut()) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits for one pending signal of the set (which must be blocked) and
    /// returns its number; EINTR is retried.
    pub fn wait(&self) -> io::Result<i32> {
        loop {
            // SAFETY: the set is initialised; a null siginfo is allowed.
            let sig = unsafe { libc::sigwaitinfo(&self.0, std::ptr::null_mut()) };
            if sig >= 0 {
                return Ok(sig);
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
    }
}

/// Every signal number the kernel knows (1 to SIGRTMAX).
pub fn all_signals() -> impl Iterator<Item = i32> {
    1..=libc::SIGRTMAX()
}

/// Resets every signal to its default action, in the child before exec:
/// handlers are reset by exec anyway, but ignored signals would stay
/// ignored — and the Rust runtime ignores SIGPIPE. Errors (SIGKILL,
/// SIGSTOP, the C library's reserved real-time signals) are expected.
pub fn reset_dispositions() {
    for sig in all_signals() {
        // SAFETY: SIG_DFL installs no code; a refused signal is left as is.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_takes_over_what_users_send_but_not_its_own_faults() {
        let s = SigSet::taken_over();
        for sig in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGWINCH,
            libc::SIGCONT,
            libc::SIGALRM,
            libc::SIGCHLD,
            libc::SIGPIPE,
            libc::SIGTSTP,
            libc::SIGRTMIN() + 3,
        ] {
            assert!(s.contains(sig), "signal {sig} not taken over");
        }
        for sig in SYNCHRONOUS.iter().chain(&[libc::SIGKILL, libc::SIGSTOP]) {
            assert!(!s.contains(*sig), "signal {sig} taken over");
        }
        assert!(!SigSet::empty().contains(libc::SIGTERM));
    }
}
