//! Byte pipes between a blocking thread and async code, so a tar is
//! produced (or consumed) on a blocking thread while the caller streams it,
//! chunk by chunk, never holding a whole tree in memory.
//!
//! [`TarStream`] is the read end the caller gets: an [`AsyncRead`] and a
//! [`Stream`] of chunks. Dropping it makes the producer's next write fail
//! with `BrokenPipe`, so the producer stops and releases what it holds.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio::sync::mpsc;

/// Size of the chunks handed over.
const CHUNK: usize = 64 << 10;
/// Chunks in flight between the two ends.
const DEPTH: usize = 4;

/// A tar being produced on a blocking thread: read it as an
/// [`AsyncRead`] or as a [`Stream`] of byte chunks. An error of the
/// producer ends the stream with that error.
#[derive(Debug)]
pub struct TarStream {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

/// The write end, for the blocking producer.
#[derive(Debug)]
pub(crate) struct PipeWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

/// A connected pair.
pub(crate) fn pipe() -> (PipeWriter, TarStream) {
    let (tx, rx) = mpsc::channel(DEPTH);
    (
        PipeWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        },
        TarStream {
            rx,
            current: Bytes::new(),
        },
    )
}

impl PipeWriter {
    fn send(&mut self, item: io::Result<Bytes>) -> io::Result<()> {
        self.tx
            .blocking_send(item)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the reader went away"))
    }

    /// Sends what is buffered, then ends the stream with `error` (if any).
    pub(crate) fn finish(mut self, error: Option<io::Error>) {
        let _ = self.flush();
        if let Some(e) = error {
            let _ = self.send(Err(e));
        }
    }
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.send(Ok(chunk))
    }
}

impl Stream for TarStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if !self.current.is_empty() {
            return Poll::Ready(Some(Ok(std::mem::take(&mut self.current))));
        }
        self.rx.poll_recv(cx)
    }
}

impl AsyncRead for TarStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.current.is_empty() {
            match ready!(self.rx.poll_recv(cx)) {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = self.current.len().min(buf.remaining());
        buf.put_slice(&self.current[..n]);
        self.current.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// The read end of a pipe fed from async code, for a blocking consumer.
#[derive(Debug)]
pub(crate) struct PipeReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = self.current.len().min(out.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// Runs `consume` on a blocking thread over the bytes of `input`, which
/// this task reads and forwards meanwhile. If `consume` stops early, the
/// rest of `input` is not read.
pub(crate) async fn consume_blocking<T, R>(
    mut input: R,
    consume: impl FnOnce(PipeReader) -> T + Send + 'static,
) -> io::Result<T>
where
    T: Send + 'static,
    R: AsyncRead + Unpin,
{
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(DEPTH);
    let worker = tokio::task::spawn_blocking(move || {
        consume(PipeReader {
            rx,
            current: Bytes::new(),
        })
    });
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let item = match input.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => {
                chunk.truncate(n);
                Ok(Bytes::from(chunk))
            }
            Err(e) => Err(e),
        };
        let failed = item.is_err();
        // A send error means the consumer is done; it reports why.
        if tx.send(item).await.is_err() || failed {
            break;
        }
    }
    drop(tx);
    worker
        .await
        .map_err(|e| io::Error::other(format!("the extraction thread failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn bytes_arrive_in_order_and_errors_end_the_stream() {
        let (mut w, mut r) = pipe();
        let producer = tokio::task::spawn_blocking(move || {
            for i in 0..1000u32 {
                w.write_all(&i.to_le_bytes().repeat(100)).unwrap();
            }
            w.finish(Some(io::Error::other("boom")));
        });
        let mut got = Vec::new();
        let e = r.read_to_end(&mut got).await.unwrap_err();
        assert_eq!(e.to_string(), "boom");
        assert_eq!(got.len(), 1000 * 400);
        assert_eq!(&got[400..404], &1u32.to_le_bytes());
        producer.await.unwrap();
    }

    #[tokio::test]
    async fn dropping_the_reader_stops_the_writer() {
        let (mut w, mut r) = pipe();
        let producer = tokio::task::spawn_blocking(move || {
            let chunk = vec![7u8; 1 << 20];
            loop {
                if let Err(e) = w.write_all(&chunk) {
                    return e.kind();
                }
            }
        });
        let first = r.next().await.unwrap().unwrap();
        assert!(!first.is_empty());
        drop(r);
        assert_eq!(producer.await.unwrap(), io::ErrorKind::BrokenPipe);
    }

    #[tokio::test]
    async fn a_consumer_reads_what_the_task_forwards() {
        let data: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let expect = data.clone();
        let got = consume_blocking(data.as_slice(), |mut r| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            v
        })
        .await
        .unwrap();
        assert_eq!(got, expect);
        // A consumer that stops early does not hang the forwarder.
        let n = consume_blocking(expect.as_slice(), |mut r| {
            let mut b = [0u8; 10];
            r.read(&mut b).unwrap()
        })
        .await
        .unwrap();
        assert_eq!(n, 10);
    }
}
