//! The API listeners berthd opens for its `-H` addresses. Until the Engine
//! API router exists (the API issue), every request is answered with a
//! clear 501 JSON error rather than a hang or a fake success.

use std::path::PathBuf;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};

use crate::error::{DaemonError, Result};
use crate::options::ListenAddr;

/// The body every request gets for now.
const NOT_IMPLEMENTED: &str =
    "{\"message\":\"berthd does not serve the Engine API yet (it comes with the API issue)\"}";

/// One bound listener.
pub enum Listener {
    /// A unix socket (removed on drop of [`Listeners`]).
    Unix(UnixListener, PathBuf),
    /// A TCP socket.
    Tcp(TcpListener),
}

/// Every bound listener.
pub struct Listeners(Vec<Listener>);

impl Listeners {
    /// Binds every address; a unix socket is created mode 0660. `fd://` is
    /// refused for now (socket activation comes with the API).
    pub async fn bind(addrs: &[ListenAddr]) -> Result<Listeners> {
        let mut out = Vec::new();
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
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
                        .map_err(|e| DaemonError::io(format!("chmod {}", path.display()), e))?;
                    out.push(Listener::Unix(l, path.clone()));
                }
                ListenAddr::Tcp(a) => {
                    let l = TcpListener::bind(a)
                        .await
                        .map_err(|e| DaemonError::io(format!("listening on tcp://{a}"), e))?;
                    out.push(Listener::Tcp(l));
                }
                ListenAddr::Fd(_) => {
                    return Err(DaemonError::invalid(
                        "fd:// (socket activation) is not supported yet",
                    ))
                }
            }
        }
        Ok(Listeners(out))
    }

    /// Serves every listener until the future is dropped.
    pub async fn serve(&self) {
        let tasks = self.0.iter().map(|l| async move {
            loop {
                match l {
                    Listener::Unix(u, _) => {
                        if let Ok((s, _)) = u.accept().await {
                            tokio::spawn(answer(s));
                        }
                    }
                    Listener::Tcp(t) => {
                        if let Ok((s, _)) = t.accept().await {
                            tokio::spawn(answer(s));
                        }
                    }
                }
            }
        });
        futures_util::future::join_all(tasks).await;
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for l in &self.0 {
            if let Listener::Unix(_, path) = l {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Reads the request head (bounded) and answers 501.
async fn answer<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut s: S) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut n = 0;
    while n < buf.len() {
        match tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf[n..])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(k)) => {
                n += k;
                if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let response = format!(
        "HTTP/1.1 501 Not Implemented\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{NOT_IMPLEMENTED}",
        NOT_IMPLEMENTED.len()
    );
    let _ = s.write_all(response.as_bytes()).await;
    let _ = s.shutdown().await;
}
