//! The client side of a hijacked attach or exec (docker/cli's
//! `hijackedIOStreamer`): stdin to the connection (through the detach-key
//! escape proxy when there is a TTY), the connection to stdout and stderr
//! (demultiplexed without a TTY), and the terminal put in raw mode and
//! sized.

use std::io::IsTerminal;
use std::os::fd::AsFd;

use berth_client::stdcopy::{Demuxer, StdStream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Docker's default detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// A connection to the daemon taken over for a stream.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// A boxed [`Conn`].
pub type BoxConn = Box<dyn Conn>;
/// A boxed input.
pub type BoxReader = Box<dyn AsyncRead + Unpin + Send>;
/// A boxed output.
pub type BoxWriter = Box<dyn AsyncWrite + Unpin + Send>;

/// The process's standard streams, or stand-ins in tests.
pub struct Stdio {
    /// Input, when it is to be forwarded.
    pub stdin: Option<BoxReader>,
    /// Output.
    pub stdout: BoxWriter,
    /// Errors and messages.
    pub stderr: BoxWriter,
    /// Whether stdin is a terminal.
    pub stdin_tty: bool,
    /// Whether stdout is a terminal.
    pub stdout_tty: bool,
    /// Whether stderr is a terminal.
    pub stderr_tty: bool,
}

impl Stdio {
    /// The real streams of this process.
    pub fn process() -> Stdio {
        Stdio {
            stdin: Some(Box::new(tokio::io::stdin())),
            stdout: Box::new(tokio::io::stdout()),
            stderr: Box::new(tokio::io::stderr()),
            stdin_tty: std::io::stdin().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    /// Writes `text` to stderr (best effort).
    pub async fn err(&mut self, text: &str) {
        let _ = self.stderr.write_all(text.as_bytes()).await;
        let _ = self.stderr.flush().await;
    }

    /// Writes `text` to stdout (best effort).
    pub async fn out(&mut self, text: &str) {
        let _ = self.stdout.write_all(text.as_bytes()).await;
        let _ = self.stdout.flush().await;
    }
}

/// How a stream session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PumpEnd {
    /// The daemon closed the output (the process ended or detached).
    Finished,
    /// The user typed the detach sequence.
    Detached,
}

/// `term.ToBytes`: `ctrl-p,ctrl-q` -> `[0x10, 0x11]`; single characters
/// stand for themselves.
pub fn detach_key_bytes(keys: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for key in keys.split(',') {
        let k = key.trim();
        if let Some(c) = k.strip_prefix("ctrl-") {
            let b = match c.as_bytes() {
                [b] => match b.to_ascii_lowercase() {
                    l @ b'a'..=b'z' => l - b'a' + 1,
                    b'@' => 0,
                    b'[' => 27,
                    b'\\' => 28,
                    b']' => 29,
                    b'^' => 30,
                    b'_' => 31,
                    _ => return Err(format!("Unknown character: '{c}'")),
                },
                _ => return Err(format!("Unknown character: '{c}'")),
            };
            out.push(b);
        } else if k.len() == 1 {
            out.push(k.as_bytes()[0]);
        } else {
            return Err(format!("Unknown character: '{k}'"));
        }
    }
    Ok(out)
}

/// Docker's `EscapeProxy`: passes input through, holding back a partial
/// detach sequence and reporting a complete one.
#[derive(Debug)]
pub struct EscapeProxy {
    keys: Vec<u8>,
    matched: usize,
}

impl EscapeProxy {
    /// A proxy for `keys` (empty: never detaches).
    pub fn new(keys: Vec<u8>) -> EscapeProxy {
        EscapeProxy { keys, matched: 0 }
    }

    /// Filters `input`: the bytes to forward, and whether the sequence
    /// completed (the rest of `input` is then dropped).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        if self.keys.is_empty() {
            out.extend_from_slice(input);
            return (out, false);
        }
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return (out, true);
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.matched]);
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return (out, true);
                }
            } else {
                self.matched = 0;
                out.push(b);
            }
        }
        (out, false)
    }
}

/// Runs a stream session: copies `stdin` into `conn` (closing the write
/// side at its end), and `conn` to `stdout` / `stderr` until the daemon
/// closes it. With `escape`, stdin goes through an [`EscapeProxy`].
pub async fn pump(
    conn: BoxConn,
    stdin: Option<BoxReader>,
    stdout: &mut BoxWriter,
    stderr: &mut BoxWriter,
    tty: bool,
    escape: Option<Vec<u8>>,
) -> std::io::Result<PumpEnd> {
    let (mut rd, mut wr) = tokio::io::split(conn);
    let (detached_tx, mut detached_rx) = tokio::sync::oneshot::channel::<()>();
    let input = stdin.map(|mut stdin| {
        tokio::spawn(async move {
            let mut proxy = EscapeProxy::new(escape.unwrap_or_default());
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = match stdin.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let (data, detach) = proxy.feed(&buf[..n]);
                if !data.is_empty() && wr.write_all(&data).await.is_err() {
                    return;
                }
                let _ = wr.flush().await;
                if detach {
                    let _ = detached_tx.send(());
                    return;
                }
            }
            // End of input: half-close so the process sees EOF.
            let _ = wr.shutdown().await;
        })
    });
    let output = async {
        let mut demux = (!tty).then(Demuxer::new);
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = rd.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            match &mut demux {
                None => {
                    stdout.write_all(&buf[..n]).await?;
                    stdout.flush().await?;
                }
                Some(d) => {
                    d.push(&buf[..n]);
                    while let Some((stream, data)) = d
                        .next_frame()
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
                    {
                        let w = match stream {
                            StdStream::Stderr | StdStream::SystemErr => &mut *stderr,
                            _ => &mut *stdout,
                        };
                        w.write_all(&data).await?;
                        w.flush().await?;
                    }
                }
            }
        }
        Ok::<_, std::io::Error>(())
    };
    let end = tokio::select! {
        r = output => { r?; PumpEnd::Finished }
        Ok(()) = &mut detached_rx => PumpEnd::Detached,
    };
    if let Some(task) = input {
        task.abort();
    }
    Ok(end)
}

/// The terminal in raw mode while this lives (stdin's settings restored
/// on drop).
pub struct RawTerminal {
    saved: rustix::termios::Termios,
}

impl RawTerminal {
    /// Puts the stdin terminal in raw mode.
    pub fn stdin() -> std::io::Result<RawTerminal> {
        let stdin = std::io::stdin();
        let saved = rustix::termios::tcgetattr(stdin.as_fd())?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(stdin.as_fd(), rustix::termios::OptionalActions::Now, &raw)?;
        Ok(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let stdin = std::io::stdin();
        let _ = rustix::termios::tcsetattr(
            stdin.as_fd(),
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}

/// The size of the terminal on stdout as `(height, width)`.
pub fn terminal_size() -> Option<(u16, u16)> {
    let ws = rustix::termios::tcgetwinsize(std::io::stdout().as_fd()).ok()?;
    (ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
}

/// An in-memory writer for tests: what is written collects in the shared
/// buffer, which the test reads back.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct MemWriter(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl MemWriter {
    /// Everything written so far, as UTF-8.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[cfg(test)]
impl AsyncWrite for MemWriter {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.lock().unwrap().extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_client::stdcopy::frame;

    #[test]
    fn detach_keys_parse_like_docker() {
        assert_eq!(detach_key_bytes("ctrl-p,ctrl-q").unwrap(), [16, 17]);
        assert_eq!(detach_key_bytes("ctrl-@,a,ctrl-_").unwrap(), [0, b'a', 31]);
        assert!(detach_key_bytes("ctrl-1").is_err());
        assert!(detach_key_bytes("abc").is_err());
    }

    #[test]
    fn escape_proxy_holds_partial_sequences() {
        let mut p = EscapeProxy::new(vec![16, 17]);
        assert_eq!(p.feed(b"ab\x10"), (b"ab".to_vec(), false));
        // The held ctrl-p is released when the next byte does not match.
        assert_eq!(p.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(p.feed(b"x\x10\x10"), (b"x\x10".to_vec(), false));
        assert_eq!(p.feed(b"\x11ignored"), (Vec::new(), true));
        let mut none = EscapeProxy::new(Vec::new());
        assert_eq!(none.feed(b"\x10\x11"), (b"\x10\x11".to_vec(), false));
    }

    #[tokio::test]
    async fn pump_demuxes_and_forwards_stdin() {
        let (client, mut daemon) = tokio::io::duplex(1024);
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let err = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut stdout: BoxWriter = Box::new(MemWriter(out.clone()));
        let mut stderr: BoxWriter = Box::new(MemWriter(err.clone()));
        let daemon_side = tokio::spawn(async move {
            // Read stdin to its EOF (the client half-closes), then answer.
            let mut got = Vec::new();
            daemon.read_to_end(&mut got).await.unwrap();
            daemon
                .write_all(&frame(StdStream::Stdout, &got))
                .await
                .unwrap();
            daemon
                .write_all(&frame(StdStream::Stderr, b"oops"))
                .await
                .unwrap();
            daemon.shutdown().await.unwrap();
        });
        let stdin: BoxReader = Box::new(&b"input"[..]);
        let end = pump(
            Box::new(client),
            Some(stdin),
            &mut stdout,
            &mut stderr,
            false,
            None,
        )
        .await
        .unwrap();
        daemon_side.await.unwrap();
        assert_eq!(end, PumpEnd::Finished);
        assert_eq!(out.lock().unwrap().as_slice(), b"input");
        assert_eq!(err.lock().unwrap().as_slice(), b"oops");
    }

    #[tokio::test]
    async fn pump_detaches_on_the_key_sequence() {
        let (client, mut daemon) = tokio::io::duplex(1024);
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut stdout: BoxWriter = Box::new(MemWriter(out.clone()));
        let mut stderr: BoxWriter = Box::new(MemWriter(out.clone()));
        let stdin: BoxReader = Box::new(&b"ls\x10\x11more"[..]);
        let end = pump(
            Box::new(client),
            Some(stdin),
            &mut stdout,
            &mut stderr,
            true,
            Some(vec![16, 17]),
        )
        .await
        .unwrap();
        assert_eq!(end, PumpEnd::Detached);
        let mut got = [0u8; 2];
        daemon.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ls");
    }
}
