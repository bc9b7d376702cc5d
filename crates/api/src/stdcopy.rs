//! Docker's multiplexed stream format (`stdcopy`): frames of an 8-byte
//! header (stream type, three zero bytes, big-endian length) and a payload.
//! Logs and attach without a TTY arrive this way.

use bytes::{Buf, Bytes, BytesMut};

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdStream {
    /// Input echoed back (type 0).
    Stdin,
    /// The process's stdout (type 1).
    Stdout,
    /// The process's stderr (type 2).
    Stderr,
    /// An error the daemon reports in-band (type 3).
    SystemErr,
}

/// Splits a multiplexed byte stream into frames, across chunk boundaries.
#[derive(Debug, Default)]
pub struct Demuxer {
    buf: BytesMut,
}

/// A malformed frame header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad stream frame header (type {0})")]
pub struct BadFrame(pub u8);

impl Demuxer {
    /// A demuxer with nothing buffered.
    pub fn new() -> Demuxer {
        Demuxer::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<(StdStream, Bytes)>, BadFrame> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let stream = match self.buf[0] {
            0 => StdStream::Stdin,
            1 => StdStream::Stdout,
            2 => StdStream::Stderr,
            3 => StdStream::SystemErr,
            other => return Err(BadFrame(other)),
        };
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < 8 + len {
            return Ok(None);
        }
        self.buf.advance(8);
        Ok(Some((stream, self.buf.split_to(len).freeze())))
    }

    /// Bytes left over that do not make a whole frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Encodes one frame (what the daemon writes).
pub fn frame(stream: StdStream, data: &[u8]) -> Vec<u8> {
    let kind = match stream {
        StdStream::Stdin => 0,
        StdStream::Stdout => 1,
        StdStream::Stderr => 2,
        StdStream::SystemErr => 3,
    };
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_chunks() {
        let mut wire = frame(StdStream::Stdout, b"hello\n");
        wire.extend(frame(StdStream::Stderr, b""));
        wire.extend(frame(StdStream::Stderr, b"oops"));
        let mut d = Demuxer::new();
        let mut got = Vec::new();
        for chunk in wire.chunks(3) {
            d.push(chunk);
            while let Some(f) = d.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(
            got,
            vec![
                (StdStream::Stdout, Bytes::from_static(b"hello\n")),
                (StdStream::Stderr, Bytes::new()),
                (StdStream::Stderr, Bytes::from_static(b"oops")),
            ]
        );
        assert_eq!(d.pending(), 0);
        d.push(&[9, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(d.next_frame(), Err(BadFrame(9)));
    }
}
