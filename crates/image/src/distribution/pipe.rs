//! The reader that connects the async download to the blocking unpacker:
//! chunks arrive over a channel and are read as one stream.

use std::io::{self, Read};

use bytes::Bytes;
use tokio::sync::mpsc;

/// What the downloading task sends to the unpacking thread.
pub(crate) enum Chunk {
    /// The next bytes of the blob.
    Data(Bytes),
    /// The download failed; the reader reports this error.
    Failed(String),
    /// The whole blob was sent.
    End,
}

/// A blocking [`Read`] over the chunks of a download. A sender dropped
/// without [`Chunk::End`] (the pull was cancelled) reads as an error, never
/// as a clean end of stream.
pub(crate) struct ChunkReader {
    rx: mpsc::Receiver<Chunk>,
    current: Bytes,
    done: bool,
}

impl ChunkReader {
    pub(crate) fn new(rx: mpsc::Receiver<Chunk>) -> Self {
        ChunkReader {
            rx,
            current: Bytes::new(),
            done: false,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Chunk::Data(b)) => self.current = b,
                Some(Chunk::End) => self.done = true,
                Some(Chunk::Failed(e)) => return Err(io::Error::other(e)),
                None => return Err(io::Error::other("download cancelled")),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_read_back_in_order_and_end_cleanly() {
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(Chunk::Data(Bytes::from_static(b"hello ")))
            .unwrap();
        tx.try_send(Chunk::Data(Bytes::from_static(b"world")))
            .unwrap();
        tx.try_send(Chunk::End).unwrap();
        let mut out = Vec::new();
        ChunkReader::new(rx).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello world");
    }

    #[test]
    fn a_dropped_sender_is_an_error_not_eof() {
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(Chunk::Data(Bytes::from_static(b"part")))
            .unwrap();
        drop(tx);
        let mut out = Vec::new();
        let err = ChunkReader::new(rx).read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("cancelled"), "{err}");
    }
}
