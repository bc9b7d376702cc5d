//! One HTTP/1.1 exchange with the daemon over a fresh unix or TCP
//! connection (the Engine API is cheap to connect to, and a connection
//! per request keeps hijacking and streaming simple).

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

use crate::error::{ClientError, Result};
use crate::host::Host;

/// The `Host` header for unix sockets (any name works; Docker uses a
/// dummy one too).
pub const UNIX_HOST_HEADER: &str = "berth";

/// The `Host` header value for `host`.
pub fn host_header(host: &Host) -> String {
    match host {
        Host::Unix(_) => UNIX_HOST_HEADER.to_string(),
        Host::Tcp(addr) => addr.clone(),
    }
}

/// Sends `req` on a new connection to `host`; the connection lives until
/// the response body (or an upgraded stream) is dropped. The body is
/// whole for most calls, streamed for uploads (`docker load`).
pub async fn send<B>(host: &Host, req: Request<B>) -> Result<Response<Incoming>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connect_err = |source| ClientError::Connect {
        host: host.to_string(),
        source,
    };
    match host {
        Host::Unix(path) => {
            let s = UnixStream::connect(path).await.map_err(connect_err)?;
            send_on(s, req).await
        }
        Host::Tcp(addr) => {
            let s = TcpStream::connect(addr).await.map_err(connect_err)?;
            let _ = s.set_nodelay(true);
            send_on(s, req).await
        }
    }
}

async fn send_on<S, B>(stream: S, req: Request<B>) -> Result<Response<Incoming>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ClientError::Http(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "daemon connection ended");
        }
    });
    sender
        .send_request(req)
        .await
        .map_err(|e| ClientError::Http(e.to_string()))
}
