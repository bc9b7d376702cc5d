//! The API listeners berthd opens for its `-H` addresses (unix sockets,
//! TCP, and `fd://` sockets inherited from systemd socket activation), and
//! serving the Engine API router on all of them.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::sys::socket::SockaddrLike;
use std::path::PathBuf;

use tokio::net::{TcpListener, UnixListener};

use crate::error::{DaemonError, Result};
use crate::options::ListenAddr;

/// The first fd systemd passes (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: u32 = 3;

/// One bound listener.
#[derive(Debug)]
pub enum Listener {
    /// A unix socket.
    Unix(UnixListener),
    /// A TCP socket.
    Tcp(TcpListener),
}

/// Every bound listener; unix socket files berthd created are removed on
/// drop.
#[derive(Debug)]
pub struct Listeners {
    listeners: Vec<Listener>,
    created: Vec<PathBuf>,
}

/// The fds systemd passed this process (`LISTEN_PID` / `LISTEN_FDS`).
fn activation_fds() -> Vec<u32> {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    let n = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0);
    if ours {
        (LISTEN_FDS_START..LISTEN_FDS_START + n).collect()
    } else {
        Vec::new()
    }
}

/// Wraps inherited listening socket `fd` as the listener of its family.
fn inherited(fd: u32) -> Result<Listener> {
    let raw = fd as i32;
    let family = nix::sys::socket::getsockname::<nix::sys::socket::SockaddrStorage>(raw)
        .map_err(|e| DaemonError::invalid(format!("fd://{fd} is not a socket: {e}")))?
        .family();
    // SAFETY: systemd handed this process `fd` to own; nothing else in the
    // process uses it, and it is taken exactly once here.
    let owned = unsafe { OwnedFd::from_raw_fd(raw) };
    let io = |e| DaemonError::io(format!("using fd://{fd}"), e);
    match family {
        Some(nix::sys::socket::AddressFamily::Unix) => {
            let std = std::os::unix::net::UnixListener::from(owned);
            std.set_nonblocking(true).map_err(io)?;
            Ok(Listener::Unix(UnixListener::from_std(std).map_err(io)?))
        }
        Some(nix::sys::socket::AddressFamily::Inet | nix::sys::socket::AddressFamily::Inet6) => {
            let std = std::net::TcpListener::from(owned);
            std.set_nonblocking(true).map_err(io)?;
            Ok(Listener::Tcp(TcpListener::from_std(std).map_err(io)?))
        }
        other => Err(DaemonError::invalid(format!(
            "fd://{fd}: unsupported socket family {other:?}"
        ))),
    }
}

impl Listeners {
    /// Binds every address; a unix socket is created mode 0660. `fd://`
    /// takes every socket systemd passed, `fd://N` only fd N.
    pub async fn bind(addrs: &[ListenAddr]) -> Result<Listeners> {
        let mut out = Listeners {
            listeners: Vec::new(),
            created: Vec::new(),
        };
        for addr in addrs {
            match addr {
                ListenAddr::Unix(path) => {
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            DaemonError::io(format!("creating {}", dir.display()), e)
                        })?;
                    }
                    // A socket left by a dead daemon (the pidfile lock
                    // proves no live one owns it).
                    let _ = std::fs::remove_file(path);
                    let l = UnixListener::bind(path).map_err(|e| {
                        DaemonError::io(format!("listening on {}", path.display()), e)
                    })?;
                    out.created.push(path.clone());
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
                        .map_err(|e| DaemonError::io(format!("chmod {}", path.display()), e))?;
                    out.listeners.push(Listener::Unix(l));
                }
                ListenAddr::Tcp(a) => {
                    let l = TcpListener::bind(a)
                        .await
                        .map_err(|e| DaemonError::io(format!("listening on tcp://{a}"), e))?;
                    out.listeners.push(Listener::Tcp(l));
                }
                ListenAddr::Fd(which) => {
                    let fds = activation_fds();
                    let chosen: Vec<u32> = match which {
                        None => fds.clone(),
                        Some(n) => fds.iter().copied().filter(|f| f == n).collect(),
                    };
                    if chosen.is_empty() {
                        return Err(DaemonError::invalid(match which {
                            None => "fd://: no sockets were passed (LISTEN_FDS)".to_string(),
                            Some(n) => {
                                format!("fd://{n}: not among the sockets passed (LISTEN_FDS)")
                            }
                        }));
                    }
                    for fd in chosen {
                        out.listeners.push(inherited(fd)?);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Serves `app` on every listener until the future is dropped.
    pub async fn serve(&mut self, app: axum::Router) {
        let tasks: Vec<_> = std::mem::take(&mut self.listeners)
            .into_iter()
            .map(|l| {
                let app = app.clone();
                async move {
                    let result = match l {
                        Listener::Unix(u) => axum::serve(u, app).await,
                        Listener::Tcp(t) => axum::serve(t, app).await,
                    };
                    if let Err(e) = result {
                        tracing::error!(error = %e, "API listener failed");
                    }
                }
            })
            .collect();
        futures_util::future::join_all(tasks).await;
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for path in &self.created {
            let _ = std::fs::remove_file(path);
        }
    }
}
