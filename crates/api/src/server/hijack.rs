//! Taking over a connection for attach and exec start: answer `101
//! Switching Protocols` (`Upgrade: tcp`), then pump the client's bytes to
//! the process's stdin and the process's output back until the output
//! ends. A client that did not ask to upgrade gets the output as an
//! ordinary streamed body.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;

use super::backend::HijackedStreams;

/// The media type of a raw (TTY) stream.
pub const RAW_STREAM: &str = "application/vnd.docker.raw-stream";
/// The media type of a stdcopy-multiplexed stream.
pub const MULTIPLEXED_STREAM: &str = "application/vnd.docker.multiplexed-stream";

/// Whether the client asked to upgrade the connection (`Connection:
/// Upgrade` and `Upgrade: tcp`, as the Docker CLI sends).
pub(crate) fn wants_upgrade(headers: &HeaderMap) -> bool {
    let has = |name: header::HeaderName, want: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(want)))
        })
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "tcp")
}

/// The answer for a started attach or exec: `101` and a background pump
/// when `upgrade` is there, else a `200` streaming the output.
pub(crate) fn respond(upgrade: Option<OnUpgrade>, streams: HijackedStreams) -> Response {
    let media = if streams.tty {
        RAW_STREAM
    } else {
        MULTIPLEXED_STREAM
    };
    let Some(upgrade) = upgrade else {
        let body = Body::from_stream(tokio_util::io::ReaderStream::new(streams.output));
        let mut r = Response::new(body);
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
        return r;
    };
    tokio::spawn(pump(upgrade, streams));
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    r
}

/// Copies until the process's output ends. The client closing its side
/// only ends the stdin (the output keeps flowing, as for `echo x | docker
/// run -i`).
async fn pump(upgrade: OnUpgrade, streams: HijackedStreams) {
    let io = match upgrade.await {
        Ok(u) => TokioIo::new(u),
        Err(e) => {
            tracing::debug!(error = %e, "the connection was not upgraded");
            return;
        }
    };
    let (mut from_client, mut to_client) = tokio::io::split(io);
    let HijackedStreams {
        stdin, mut output, ..
    } = streams;
    let input = async move {
        if let Some(mut stdin) = stdin {
            let _ = tokio::io::copy(&mut from_client, &mut stdin).await;
            let _ = stdin.shutdown().await;
        }
        std::future::pending::<()>().await
    };
    let out = async move {
        let _ = tokio::io::copy(&mut output, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::select! {
        _ = out => {}
        _ = input => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_needs_both_headers() {
        let mut h = HeaderMap::new();
        assert!(!wants_upgrade(&h));
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(!wants_upgrade(&h));
        h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
        assert!(wants_upgrade(&h));
    }
}
