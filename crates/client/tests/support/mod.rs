//! What the client's fake-daemon tests share: an HTTP/1.1 server on a unix
//! socket (connection upgrades allowed, for hijack tests) that hands each
//! request to the test's own handler.

use std::convert::Infallible;
use std::future::Future;
use std::path::Path;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

/// Binds `path` and serves `handler` on every connection from a
/// background task of the current runtime.
pub fn serve_unix<F, Fut>(path: &Path, handler: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let listener = UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            let handler = handler.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), service_fn(handler))
                    .with_upgrades()
                    .await;
            });
        }
    });
}
