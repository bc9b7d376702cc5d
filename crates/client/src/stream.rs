//! Reading response bodies: whole (bounded), as raw chunks, as Docker's
//! newline-delimited JSON messages, or demultiplexed (`stdcopy`).

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::de::DeserializeOwned;

use crate::error::{ClientError, Result};
use crate::stdcopy::{Demuxer, StdStream};

/// The most a non-streaming answer may hold.
pub const MAX_BODY: usize = 64 << 20;

/// A response body read chunk by chunk.
#[derive(Debug)]
pub struct ByteStream {
    body: Incoming,
}

impl ByteStream {
    /// Wraps a response body.
    pub fn new(body: Incoming) -> ByteStream {
        ByteStream { body }
    }

    /// The next chunk of data; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Bytes>> {
        loop {
            match self.body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            return Some(Ok(data));
                        }
                    }
                }
                Err(e) => return Some(Err(ClientError::Http(e.to_string()))),
            }
        }
    }

    /// Reads the rest, refusing more than `limit` bytes.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes> {
        let mut buf = BytesMut::new();
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            if buf.len() + chunk.len() > limit {
                return Err(ClientError::Decode(format!(
                    "the answer is larger than {limit} bytes"
                )));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }
}

/// Newline-delimited JSON messages (pull progress, events, stats).
#[derive(Debug)]
pub struct JsonStream<T> {
    bytes: ByteStream,
    buf: BytesMut,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonStream<T> {
    /// Decodes messages from a response body.
    pub fn new(body: Incoming) -> JsonStream<T> {
        JsonStream {
            bytes: ByteStream::new(body),
            buf: BytesMut::new(),
            _t: std::marker::PhantomData,
        }
    }

    /// The next message; `None` at the end of the body.
    pub async fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line = self.buf.split_to(i + 1);
                let line = line.trim_ascii();
                if line.is_empty() {
                    continue;
                }
                return Some(decode(line));
            }
            match self.bytes.next().await {
                Some(Ok(chunk)) => {
                    if self.buf.len() + chunk.len() > MAX_BODY {
                        return Some(Err(ClientError::Decode("a message too large".into())));
                    }
                    self.buf.extend_from_slice(&chunk);
                }
                Some(Err(e)) => return Some(Err(e)),
                None => {
                    let rest = std::mem::take(&mut self.buf);
                    let rest = rest.trim_ascii();
                    return (!rest.is_empty()).then(|| decode(rest));
                }
            }
        }
    }
}

fn decode<T: DeserializeOwned>(line: &[u8]) -> Result<T> {
    serde_json::from_slice(line).map_err(|e| ClientError::Decode(e.to_string()))
}

/// Output of a container or exec: demultiplexed frames without a TTY, raw
/// bytes (all stdout) with one.
#[derive(Debug)]
pub struct OutputStream {
    bytes: ByteStream,
    demux: Option<Demuxer>,
}

impl OutputStream {
    /// Reads `body`; `tty` says whether it is raw.
    pub fn new(body: Incoming, tty: bool) -> OutputStream {
        OutputStream {
            bytes: ByteStream::new(body),
            demux: (!tty).then(Demuxer::new),
        }
    }

    /// The next chunk and the stream it belongs to.
    pub async fn next(&mut self) -> Option<Result<(StdStream, Bytes)>> {
        loop {
            if let Some(d) = &mut self.demux {
                match d.next_frame() {
                    Ok(Some(f)) => return Some(Ok(f)),
                    Ok(None) => {}
                    Err(e) => return Some(Err(ClientError::Decode(e.to_string()))),
                }
            }
            let chunk = match self.bytes.next().await? {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            };
            match &mut self.demux {
                Some(d) => d.push(&chunk),
                None => return Some(Ok((StdStream::Stdout, chunk))),
            }
        }
    }
}
