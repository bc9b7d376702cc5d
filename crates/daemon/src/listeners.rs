//! The API listeners berthd opens for its `-H` addresses (unix sockets,
//! TCP, and `fd://` sockets inherited from systemd socket activation), and
//! serving the Engine API router on all of them.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::sys::socket::SockaddrLike;

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

/// The group that may use the API socket without being root (dockerd's
/// `docker` group).
pub const SOCKET_GROUP: &str = "berth";

/// Gives a unix socket berthd created to root and `group` (root's own group
/// when `group` does not exist), mode 0660: the API is root-equivalent, so
/// only root and members of that group may connect.
pub fn secure_socket(path: &Path, group: &str) -> Result<()> {
    let gid = match nix::unistd::Group::from_name(group) {
        Ok(Some(g)) => g.gid,
        Ok(None) => nix::unistd::Gid::from_raw(0),
        Err(e) => {
            return Err(DaemonError::io(
                format!("looking up group {group}"),
                std::io::Error::from(e),
            ))
        }
    };
    nix::unistd::chown(path, Some(nix::unistd::Uid::from_raw(0)), Some(gid)).map_err(|e| {
        DaemonError::io(format!("chown {}", path.display()), std::io::Error::from(e))
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| DaemonError::io(format!("chmod {}", path.display()), e))
}

impl Listeners {
    /// Binds every address; a unix socket is created mode 0660, owned by
    /// root and the [`SOCKET_GROUP`] group when it exists (see
    /// [`secure_socket`]). `fd://`
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
                    secure_socket(path, SOCKET_GROUP)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// A group other than root's that exists on this machine, if any.
    fn some_group() -> Option<(String, u32)> {
        let text = std::fs::read_to_string("/etc/group").ok()?;
        text.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?.to_string();
            let gid: u32 = f.nth(1)?.parse().ok()?;
            (gid != 0).then_some((name, gid))
        })
    }

    fn socket_in(dir: &Path) -> PathBuf {
        let path = dir.join("api.sock");
        let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        // Open as wide as the umask allows, so the test sees the narrowing.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        drop(l);
        path
    }

    #[test]
    fn socket_is_root_only_without_the_group() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: chown to root needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = socket_in(dir.path());
        secure_socket(&path, "berth-no-such-group-xyz").unwrap();
        let md = std::fs::metadata(&path).unwrap();
        assert_eq!(md.mode() & 0o7777, 0o660);
        assert_eq!((md.uid(), md.gid()), (0, 0));
    }

    #[test]
    fn socket_belongs_to_the_group_when_it_exists() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: chown to root needs root");
            return;
        }
        let Some((name, gid)) = some_group() else {
            eprintln!("skipped: no group other than root's in /etc/group");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = socket_in(dir.path());
        secure_socket(&path, &name).unwrap();
        let md = std::fs::metadata(&path).unwrap();
        assert_eq!(md.mode() & 0o7777, 0o660);
        assert_eq!((md.uid(), md.gid()), (0, gid));
    }

    #[tokio::test]
    async fn bind_secures_the_socket_it_creates() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: chown to root needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/berth.sock");
        let listeners = Listeners::bind(&[ListenAddr::Unix(path.clone())])
            .await
            .unwrap();
        let md = std::fs::metadata(&path).unwrap();
        assert_eq!(md.mode() & 0o7777, 0o660);
        assert_eq!(md.uid(), 0);
        let want_gid = nix::unistd::Group::from_name(SOCKET_GROUP)
            .unwrap()
            .map_or(0, |g| g.gid.as_raw());
        assert_eq!(md.gid(), want_gid);
        drop(listeners);
        assert!(!path.exists(), "the socket is removed on drop");
    }
}
