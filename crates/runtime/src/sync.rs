//! The message channel between the runtime and a process it is setting up
//! inside the container (a SOCK_SEQPACKET pair, one JSON message a packet).

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};

/// A message on the setup channel.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum SyncMsg {
    /// Runtime -> init: the uid/gid maps of its new user namespace are written.
    IdMapsWritten,
    /// Runtime -> init: it is in its cgroup, limits applied; go on.
    Go,
    /// Init -> runtime: the pid of the process cloned into the namespaces
    /// (sent by the intermediate process that joins namespaces).
    Pid(i32),
    /// Init -> runtime: run prestart/createRuntime hooks now.
    RunHooks,
    /// Runtime -> init: hooks done.
    HooksDone,
    /// Init -> runtime: set up; waiting for `start`.
    Ready,
    /// Either way: setup failed with this message.
    Error(String),
}

/// One end of the setup channel.
pub struct SyncChannel {
    fd: OwnedFd,
}

/// Creates a connected pair: (runtime end, child end).
pub fn channel() -> Result<(SyncChannel, SyncChannel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context("socketpair")?;
    Ok((SyncChannel { fd: a }, SyncChannel { fd: b }))
}

impl SyncChannel {
    /// Sends one message.
    pub fn send(&self, msg: &SyncMsg) -> Result<()> {
        let data = serde_json::to_vec(msg).map_err(|e| Error::Init(e.to_string()))?;
        send(self.fd.as_raw_fd(), &data, MsgFlags::MSG_NOSIGNAL).context("sync send")?;
        Ok(())
    }

    /// Receives one message; `None` when the other end has closed.
    pub fn recv(&self) -> Result<Option<SyncMsg>> {
        let mut buf = vec![0u8; 64 * 1024];
        let n = loop {
            match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Err(nix::errno::Errno::EINTR) => continue,
                r => break r.context("sync recv")?,
            }
        };
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&buf[..n])
            .map(Some)
            .map_err(|e| Error::Init(format!("bad sync message: {e}")))
    }

    /// Closes this end in a forked child, so the child's reports fail
    /// visibly once the runtime side is gone instead of reaching itself.
    /// The child never returns (it execs or exits), so the OwnedFd is never
    /// dropped twice.
    pub fn close_in_child(&self) {
        // SAFETY: only called in a child that will exec or _exit; the fd is
        // this process's copy and nothing else in the child uses it.
        unsafe { libc::close(self.fd.as_raw_fd()) };
    }

    /// An error the child has already reported, without blocking. Used when
    /// a runtime-side step fails because the child died: its own message
    /// says why, better than "no such process".
    pub fn pending_error(&self) -> Option<Error> {
        let mut buf = vec![0u8; 64 * 1024];
        let n = recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT).ok()?;
        match serde_json::from_slice(&buf[..n]).ok()? {
            SyncMsg::Error(m) => Some(Error::Init(m)),
            _ => None,
        }
    }

    /// Receives one message and fails on an error report or a closed channel.
    pub fn expect(&self, what: &str) -> Result<SyncMsg> {
        match self.recv()? {
            Some(SyncMsg::Error(m)) => Err(Error::Init(m)),
            Some(m) => Ok(m),
            None => Err(Error::Init(format!("container init exited before {what}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_eof() {
        let (a, b) = channel().unwrap();
        a.send(&SyncMsg::Pid(42)).unwrap();
        assert_eq!(b.recv().unwrap(), Some(SyncMsg::Pid(42)));
        b.send(&SyncMsg::Error("boom".into())).unwrap();
        assert_eq!(a.expect("x").unwrap_err().to_string(), "boom");
        drop(b);
        assert!(a
            .expect("ready")
            .unwrap_err()
            .to_string()
            .contains("before ready"));
    }
}
