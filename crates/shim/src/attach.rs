//! The client's side of an attach stream.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::error::ShimError;
use crate::protocol::{MAX_FRAME, STREAM_STDERR};

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// stdout (or the terminal).
    Stdout,
    /// stderr.
    Stderr,
}

/// A live connection to a process's stdio.
#[derive(Debug)]
pub struct Attach {
    /// Writes to the process's stdin (when it was opened).
    pub stdin: AttachStdin,
    /// The process's output, until it exits.
    pub output: AttachOutput,
}

/// The writing half of an attach stream.
#[derive(Debug)]
pub struct AttachStdin(pub(crate) OwnedWriteHalf);

impl AttachStdin {
    /// Sends bytes to the process's stdin.
    pub async fn write_all(&mut self, data: &[u8]) -> Result<(), ShimError> {
        self.0
            .write_all(data)
            .await
            .map_err(|e| ShimError::io("write attach stdin", e))
    }

    /// Stops sending (the process's stdin stays open: see `close_stdin`).
    pub async fn shutdown(&mut self) -> Result<(), ShimError> {
        self.0
            .shutdown()
            .await
            .map_err(|e| ShimError::io("shut down attach stdin", e))
    }
}

/// The reading half of an attach stream: stdcopy-framed output chunks.
#[derive(Debug)]
pub struct AttachOutput(pub(crate) OwnedReadHalf);

impl AttachOutput {
    /// The next chunk of output, `None` once the process has exited and
    /// everything was delivered.
    pub async fn next(&mut self) -> Option<Result<(OutputStream, Vec<u8>), ShimError>> {
        let mut header = [0u8; 8];
        match self.0.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
            Err(e) => return Some(Err(ShimError::io("read attach stream", e))),
        }
        let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if len > MAX_FRAME {
            return Some(Err(ShimError::Protocol(format!("chunk of {len} bytes"))));
        }
        let mut data = vec![0u8; len];
        if let Err(e) = self.0.read_exact(&mut data).await {
            return Some(Err(ShimError::io("read attach stream", e)));
        }
        let stream = if header[0] == STREAM_STDERR {
            OutputStream::Stderr
        } else {
            OutputStream::Stdout
        };
        Some(Ok((stream, data)))
    }

    /// Reads everything until the process exits: (stdout, stderr).
    pub async fn collect(mut self) -> Result<(Vec<u8>, Vec<u8>), ShimError> {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(chunk) = self.next().await {
            match chunk? {
                (OutputStream::Stdout, d) => out.extend(d),
                (OutputStream::Stderr, d) => err.extend(d),
            }
        }
        Ok((out, err))
    }
}
