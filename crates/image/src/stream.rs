//! Readers that do something with the bytes passing through: copy them into
//! a blob writer ([`TeeReader`]) or hash them ([`HashingReader`]). Pulls and
//! archive loads both store a layer, decompress it and compute its DiffID in
//! one pass with these.

use std::io::{self, Read, Write};

use sha2::Digest as _;

use crate::content::Digest;

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
    fn tee_copies_and_hashing_reader_gives_the_sha256() {
        let mut tee = TeeReader::new(&b"abc"[..], Vec::new());
        let h = HashingReader::new(&mut tee).finish().unwrap();
        assert_eq!(h, Digest::sha256_of(b"abc"));
        assert_eq!(tee.into_sink(), b"abc");
    }
}
