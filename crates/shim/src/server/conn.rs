//! One client connection to the shim: non-blocking, with buffers both ways.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

/// The longest output backlog an attached client may have before it is dropped.
const MAX_BACKLOG: usize = 8 << 20;

/// Which process a connection refers to: `None` is the init, else an exec id.
pub type ProcKey = Option<String>;

/// What a connection is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Waiting for its request.
    Request,
    /// Waiting for a process to exit.
    Waiting,
    /// Streaming a process's stdio.
    Attached(ProcKey),
    /// Answered: closes once its output is flushed.
    Closing,
}

/// A client connection.
pub struct Conn {
    /// The socket (non-blocking).
    pub stream: UnixStream,
    /// Bytes read and not yet consumed.
    pub inbuf: Vec<u8>,
    /// Bytes queued for the client.
    pub outbuf: Vec<u8>,
    /// What the connection is doing.
    pub mode: Mode,
    /// The client has shut down its writing side.
    pub read_closed: bool,
    /// The connection failed and is to be dropped.
    pub dead: bool,
}

impl Conn {
    /// Wraps an accepted socket.
    pub fn new(stream: UnixStream) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(Self {
            stream,
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            mode: Mode::Request,
            read_closed: false,
            dead: false,
        })
    }

    /// Reads whatever is available into `inbuf`.
    pub fn fill(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    self.read_closed = true;
                    return;
                }
                Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.dead = true;
                    return;
                }
            }
        }
    }

    /// Queues bytes for the client and writes what the socket takes now.
    pub fn send(&mut self, data: &[u8]) {
        if self.dead {
            return;
        }
        self.outbuf.extend_from_slice(data);
        if self.outbuf.len() > MAX_BACKLOG {
            // A client that does not read must not make the shim grow.
            self.dead = true;
            return;
        }
        self.flush();
    }

    /// Writes queued bytes until the socket would block.
    pub fn flush(&mut self) {
        while !self.outbuf.is_empty() {
            match self.stream.write(&self.outbuf) {
                Ok(n) => {
                    self.outbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.dead = true;
                    return;
                }
            }
        }
    }

    /// Whether the connection can be dropped now.
    pub fn finished(&self) -> bool {
        self.dead || (self.mode == Mode::Closing && self.outbuf.is_empty())
    }

    /// Writes everything queued, blocking for at most a second (used right
    /// before the shim exits, so a client that does not read cannot hold it).
    pub fn flush_blocking(&mut self) {
        let timeout = Some(std::time::Duration::from_secs(1));
        if self.stream.set_nonblocking(false).is_ok()
            && self.stream.set_write_timeout(timeout).is_ok()
        {
            let _ = self.stream.write_all(&self.outbuf);
            self.outbuf.clear();
        }
    }
}
