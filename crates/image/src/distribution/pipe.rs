//! Readers that connect the async download to the blocking unpacker: chunks
//! arrive over a channel, are copied into the content store as they are
//! read, and the decompressed stream is hashed for its DiffID.

use std::io::{self, Read, Write};

use bytes::Bytes;
use sha2::Digest as _;
use tokio::sync::mpsc;

use crate::content::Digest;

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

/// Copies everything read through it into `sink` (the content store's blob
/// writer), so the blob is stored by the same pass that unpacks it.
pub(crate) struct TeeReader<R, W> {
    inner: R,
    sink: W,
}

impl<R: Read, W: Write> TeeReader<R, W> {
    pub(crate) fn new(inner: R, sink: W) -> Self {
        TeeReader { inner, sink }
    }

    /// Reads the rest of the stream (trailing bytes after the tar's end).
    pub(crate) fn drain(&mut self) -> io::Result<u64> {
        io::copy(self, &mut io::sink())
    }

    pub(crate) fn into_sink(self) -> W {
        self.sink
    }
}

impl<R: Read, W: Write> Read for TeeReader<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sink.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Hashes (sha256) everything read through it: the DiffID of the
/// uncompressed layer.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: sha2::Sha256,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: sha2::Sha256::new(),
        }
    }

    /// Reads to the end (the tar's trailing zero blocks) and returns the
    /// digest of everything read.
    pub(crate) fn finish(mut self) -> io::Result<Digest> {
        io::copy(&mut self, &mut io::sink())?;
        let hex: String = self
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Digest::parse(&format!("sha256:{hex}")).map_err(io::Error::other)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
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
        let mut tee = TeeReader::new(ChunkReader::new(rx), Vec::new());
        tee.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello world");
        assert_eq!(tee.into_sink(), b"hello world");
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

    #[test]
    fn hashing_reader_gives_the_sha256() {
        let h = HashingReader::new(&b"abc"[..]).finish().unwrap();
        assert_eq!(h, Digest::sha256_of(b"abc"));
    }
}
