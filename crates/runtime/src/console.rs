//! The container's terminal: a pty created inside the container whose
//! master is handed to the caller over a unix socket (SCM_RIGHTS), as runc
//! does with `--console-socket`.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use nix::unistd::setsid;

use crate::error::{Context, Error, Result};

/// Creates a pty in the (pivoted) container, sends its master over
/// `socket`, binds the slave onto /dev/console and makes it the process's
/// controlling terminal and stdio.
pub fn setup_console(
    socket: BorrowedFd,
    size: Option<(u16, u16)>,
    bind_dev_console: bool,
) -> Result<()> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .context("open /dev/ptmx")?;
    grantpt(&master).context("grantpt")?;
    unlockpt(&master).context("unlockpt")?;
    let slave_path = ptsname_r(&master).context("ptsname")?;
    if let Some((rows, cols)) = size {
        set_size(master.as_raw_fd(), rows, cols)?;
    }
    let slave = nix::fcntl::open(
        Path::new(&slave_path),
        OFlag::O_RDWR | OFlag::O_NOCTTY,
        nix::sys::stat::Mode::empty(),
    )
    .context_with(|| format!("open {slave_path}"))?;
    // Only the init's terminal becomes /dev/console (as runc does): an
    // exec's pty goes away with the exec and would leave a dangling bind.
    if bind_dev_console && Path::new("/dev").exists() {
        crate::rootfs::ensure_file(Path::new("/dev/console"))?;
        mount(
            Some(slave_path.as_str()),
            "/dev/console",
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .context("bind /dev/console")?;
    }
    send_fd(socket, &slave_path, master.as_raw_fd())?;
    drop(master);
    setsid().context("setsid")?;
    // SAFETY: TIOCSCTTY on an fd we own; arg 0 = do not steal.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } != 0 {
        return Err(std::io::Error::last_os_error()).context("set controlling terminal");
    }
    for target in 0..=2 {
        // SAFETY: dup2 onto the stdio slots; nix's dup2 wants an OwnedFd target.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(std::io::Error::last_os_error()).context("dup2 pty slave");
        }
    }
    Ok(())
}

/// Sets a terminal's window size.
pub fn set_size(fd: RawFd, rows: u16, cols: u16) -> Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a valid winsize we own.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } != 0 {
        return Err(std::io::Error::last_os_error()).context("set window size");
    }
    Ok(())
}

/// Sends `fd` with `name` as payload over a unix socket.
pub fn send_fd(socket: BorrowedFd, name: &str, fd: RawFd) -> Result<()> {
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(name.as_bytes())];
    sendmsg::<()>(socket.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None)
        .context("send pty master")?;
    Ok(())
}

/// Receives an fd sent with [`send_fd`] (what a console-socket listener does).
pub fn recv_fd(socket: BorrowedFd) -> Result<OwnedFd> {
    let mut buf = [0u8; 4096];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .context("receive pty master")?;
    for c in msg.cmsgs().context("read control message")? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed this fd for us.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Err(Error::Init(
        "console socket: no file descriptor received".into(),
    ))
}
