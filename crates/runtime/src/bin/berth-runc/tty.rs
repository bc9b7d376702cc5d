//! For `run -t` / `exec -t` without `--console-socket`: receive the pty
//! master ourselves and copy between it and our own stdio.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use berth_runtime::console;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};

/// Puts stdin in raw mode while alive (if it is a terminal).
pub struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    /// Enters raw mode when stdin is a terminal.
    pub fn enter() -> Self {
        let stdin = std::io::stdin();
        let saved = tcgetattr(stdin.as_fd()).ok();
        if let Some(t) = &saved {
            let mut raw = t.clone();
            cfmakeraw(&mut raw);
            let _ = tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        }
        Self { saved }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, t);
        }
    }
}

/// The size of our own terminal, if stdin or stdout is one.
pub fn own_size() -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    for fd in [0, 1] {
        // SAFETY: TIOCGWINSZ writes into a winsize we own.
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0 {
            return Some((ws.ws_row, ws.ws_col));
        }
    }
    None
}

/// Receives the master from `socket` and returns it.
pub fn receive_master(socket: &UnixStream) -> berth_runtime::Result<OwnedFd> {
    console::recv_fd(socket.as_fd())
}

/// Copies stdin -> master (in a thread) and master -> stdout until the
/// container side of the pty is closed.
pub fn proxy(master: OwnedFd) -> std::io::Result<()> {
    let mut to_pty = File::from(master.try_clone()?);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut stdin = std::io::stdin();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || to_pty.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let mut from_pty = File::from(master);
    let mut stdout = std::io::stdout();
    let mut buf = [0u8; 4096];
    // EIO means every slave fd is closed: the container side is done.
    while let Ok(n) = from_pty.read(&mut buf) {
        if n == 0 || stdout.write_all(&buf[..n]).is_err() {
            break;
        }
        let _ = stdout.flush();
    }
    Ok(())
}
