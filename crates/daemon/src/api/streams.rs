//! The daemon's streams in the router's shapes: attach sessions as a
//! hijackable pair of pipes, logs as stdcopy frames (raw with a TTY), and
//! tar streams as byte streams.

use berth_api::server::{ApiError, ByteStream, HijackedStreams};
use berth_api::stdcopy::{frame, StdStream};
use berth_shim::OutputStream;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use crate::daemon::{AttachSession, InputOutcome, TarStream};
use crate::logs::{LogStream, Stream};

/// How long the end of an exec's output waits for its exit to be recorded.
const FINISH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How much a hijacked pipe buffers in each direction.
const PIPE: usize = 64 * 1024;

fn std_stream(s: OutputStream) -> StdStream {
    match s {
        OutputStream::Stdout => StdStream::Stdout,
        OutputStream::Stderr => StdStream::Stderr,
    }
}

/// Pumps an attach session through two in-memory pipes the router can
/// copy to and from the client's connection. Typing the detach keys ends
/// the output, which ends the connection; the process keeps running.
pub(crate) fn hijack(session: AttachSession) -> HijackedStreams {
    hijack_until(session, None)
}

/// [`hijack`], holding the end of the output until `finished` resolves
/// when the process ended by itself (an exec's exit code must be recorded
/// before its client, which inspects it next, sees the stream close).
pub(crate) fn hijack_until(
    session: AttachSession,
    finished: Option<futures_util::future::BoxFuture<'static, ()>>,
) -> HijackedStreams {
    let AttachSession {
        tty,
        mut output,
        input,
    } = session;
    let (detached_tx, mut detached_rx) = watch::channel(false);
    let detached_flag = detached_rx.clone();
    let (mut out_w, out_r) = tokio::io::duplex(PIPE);
    tokio::spawn(async move {
        // Without stdin nobody can detach: a dropped sender is "never".
        let detached = async move {
            if detached_rx.wait_for(|d| *d).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::pin!(detached);
        loop {
            let chunk = tokio::select! {
                c = output.next() => c,
                _ = &mut detached => None,
            };
            let Some((stream, data)) = chunk else {
                if !*detached_flag.borrow() {
                    if let Some(f) = finished {
                        let _ = tokio::time::timeout(FINISH_WAIT, f).await;
                    }
                }
                break;
            };
            let bytes = if tty {
                data
            } else {
                frame(std_stream(stream), &data)
            };
            if out_w.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = out_w.shutdown().await;
    });
    let stdin = input.map(|mut input| {
        let (in_w, mut in_r) = tokio::io::duplex(PIPE);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match in_r.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        if let Err(e) = input.close().await {
                            tracing::debug!(error = %e, "closing stdin");
                        }
                        return;
                    }
                    Ok(n) => match input.write(&buf[..n]).await {
                        Ok(InputOutcome::Sent) => {}
                        Ok(InputOutcome::Detached) => {
                            let _ = detached_tx.send(true);
                            return;
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "attach stdin failed");
                            return;
                        }
                    },
                }
            }
        });
        Box::pin(in_w) as berth_api::server::HijackedWriter
    });
    HijackedStreams {
        stdin,
        output: Box::pin(out_r),
        tty,
    }
}

/// A log reader as the bytes `GET /containers/{id}/logs` sends.
pub(crate) fn logs(mut stream: LogStream, tty: bool, timestamps: bool) -> ByteStream {
    Box::pin(async_stream(move |tx| async move {
        while let Some(m) = stream.recv().await {
            let item = m
                .map(|m| {
                    let data = m.render(timestamps);
                    if tty {
                        Bytes::from(data)
                    } else {
                        let s = match m.stream {
                            Stream::Stdout => StdStream::Stdout,
                            Stream::Stderr => StdStream::Stderr,
                        };
                        Bytes::from(frame(s, &data))
                    }
                })
                .map_err(|e| ApiError::from_error(&e));
            if tx.send(item).await.is_err() {
                return;
            }
        }
    }))
}

/// A tar stream as a byte stream.
pub(crate) fn tar(stream: TarStream) -> ByteStream {
    Box::pin(stream.map(|r| r.map_err(|e| ApiError::system(e.to_string()))))
}

/// A stream fed by a task through a small channel (so producers can be
/// written as plain loops).
fn async_stream<T, F, Fut>(f: F) -> impl futures_util::Stream<Item = T> + Send
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<T>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(f(tx));
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}
