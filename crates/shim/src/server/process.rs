//! One process the shim owns (the init or an exec): its stdio fds, where
//! its output goes, who is attached or waiting, and how it ended.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::OwnedFd;
use std::time::{Instant, SystemTime};

use crate::jsonlog::{JsonFileLogger, LineSplitter, LogStream};
use crate::protocol::{stream_chunk, STREAM_STDERR, STREAM_STDOUT};
use crate::types::ExitStatus;

use super::conn::{Conn, Mode};

/// How much exec output is kept for the first attach.
const MAX_REPLAY: usize = 1 << 20;
/// How much pending stdin stops the shim reading more from attached clients.
pub const MAX_STDIN_BACKLOG: usize = 1 << 20;

/// Where a process's output goes besides the attached clients.
pub enum Sink {
    /// The init: Docker's json-file log.
    Log {
        /// The log.
        logger: JsonFileLogger,
        /// Line assembly for stdout and stderr.
        lines: [LineSplitter; 2],
    },
    /// An exec: kept until the first client attaches, then streamed only.
    Replay(Option<Vec<u8>>),
}

/// A process of the container.
pub struct Proc {
    /// Its pid on the host.
    pub pid: i32,
    /// Read ends of stdout and stderr (a terminal is a single stdout).
    pub outputs: [Option<OwnedFd>; 2],
    /// The terminal master, when the process has one (for resize).
    pub terminal: Option<OwnedFd>,
    /// Where stdin is written, while open.
    pub stdin: Option<OwnedFd>,
    /// Stdin bytes not yet written.
    pub stdin_buf: Vec<u8>,
    /// Close stdin once `stdin_buf` is written.
    pub stdin_close: bool,
    /// Where output goes.
    pub sink: Sink,
    /// Connections streaming this process's stdio.
    pub attached: Vec<u64>,
    /// Connections waiting for its exit.
    pub waiters: Vec<u64>,
    /// Reaped: the status, and until when output may still drain.
    pub reaped: Option<(ExitStatus, Instant)>,
    /// Its final exit, once reaped and drained.
    pub exit: Option<ExitStatus>,
}

impl Proc {
    /// A process with the given stdio.
    pub fn new(
        pid: i32,
        outputs: [Option<OwnedFd>; 2],
        stdin: Option<OwnedFd>,
        sink: Sink,
    ) -> Self {
        Self {
            pid,
            outputs,
            terminal: None,
            stdin,
            stdin_buf: Vec::new(),
            stdin_close: false,
            sink,
            attached: Vec::new(),
            waiters: Vec::new(),
            reaped: None,
            exit: None,
        }
    }

    /// Whether every output has reached EOF.
    pub fn drained(&self) -> bool {
        self.outputs.iter().all(Option::is_none)
    }

    /// Handles a chunk of output from stream `idx` (0 stdout, 1 stderr).
    pub fn output(&mut self, idx: usize, data: &[u8], conns: &mut BTreeMap<u64, Conn>) {
        let stream = if idx == 0 {
            STREAM_STDOUT
        } else {
            STREAM_STDERR
        };
        match &mut self.sink {
            Sink::Log { logger, lines } => {
                let ls = if idx == 0 {
                    LogStream::Stdout
                } else {
                    LogStream::Stderr
                };
                let now = SystemTime::now();
                lines[idx].feed(data, &mut |line| {
                    if let Err(e) = logger.log(ls, line, now) {
                        eprintln!("berth-shim: write log: {e}");
                    }
                });
            }
            Sink::Replay(Some(buf)) if self.attached.is_empty() => {
                if buf.len() + data.len() <= MAX_REPLAY {
                    buf.extend_from_slice(&stream_chunk(stream, data));
                }
                return;
            }
            Sink::Replay(_) => {}
        }
        let chunk = stream_chunk(stream, data);
        for id in &self.attached {
            if let Some(c) = conns.get_mut(id) {
                c.send(&chunk);
            }
        }
    }

    /// Stream `idx` reached EOF: flushes a partial line to the log.
    pub fn output_closed(&mut self, idx: usize) {
        self.outputs[idx] = None;
        if let Sink::Log { logger, lines } = &mut self.sink {
            let ls = if idx == 0 {
                LogStream::Stdout
            } else {
                LogStream::Stderr
            };
            let now = SystemTime::now();
            lines[idx].finish(&mut |line| {
                let _ = logger.log(ls, line, now);
            });
        }
    }

    /// Registers an attached connection and hands it any replayed output.
    pub fn attach(&mut self, id: u64, conn: &mut Conn) {
        if let Sink::Replay(buf) = &mut self.sink {
            if let Some(b) = buf.take() {
                conn.send(&b);
            }
        }
        if self.exit.is_some() {
            conn.mode = Mode::Closing;
        } else {
            self.attached.push(id);
        }
    }

    /// Queues stdin bytes from an attached client.
    pub fn write_stdin(&mut self, data: &[u8]) {
        if self.stdin.is_some() && !self.stdin_close {
            self.stdin_buf.extend_from_slice(data);
            self.flush_stdin();
        }
    }

    /// Writes pending stdin until the pipe would block; closes it when asked.
    pub fn flush_stdin(&mut self) {
        let Some(fd) = &self.stdin else {
            self.stdin_buf.clear();
            return;
        };
        while !self.stdin_buf.is_empty() {
            match nix::unistd::write(fd, &self.stdin_buf) {
                Ok(n) => {
                    self.stdin_buf.drain(..n);
                }
                Err(nix::errno::Errno::EAGAIN) => return,
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => {
                    // The reader is gone.
                    self.stdin = None;
                    self.stdin_buf.clear();
                    return;
                }
            }
        }
        if self.stdin_close {
            self.stdin = None;
        }
    }

    /// Closes stdin (for a terminal: sends EOF, ^D, as `docker attach` does).
    pub fn close_stdin(&mut self) {
        if self.terminal.is_some() && self.stdin.is_some() {
            self.stdin_buf.push(0x04);
        }
        self.stdin_close = true;
        self.flush_stdin();
    }
}

/// Reads what `fd` has; `Ok(None)` at EOF (EIO from a terminal counts).
pub fn read_some(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    loop {
        match nix::unistd::read(fd, buf) {
            Ok(0) | Err(nix::errno::Errno::EIO) => return Ok(None),
            Ok(n) => return Ok(Some(n)),
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}
