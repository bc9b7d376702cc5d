//! `docker attach` / `docker start -a` / the attach half of `docker run`
//! (moby's `daemon/attach.go`), and the client side of an attached exec.
//!
//! The shim owns the process's stdio; an [`AttachSession`] is one client's
//! connection to it: output chunks filtered to the streams the client
//! asked for (after a replay of the log when it asked for that), and a
//! stdin that watches for the detach keys. A container that is not running
//! yet is attached when it next starts, between the shim's create and
//! start, so not a byte of its output is missed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use berth_shim::{Attach, AttachOutput, AttachStdin, ContainerdClient, OutputStream};
use tokio::sync::oneshot;

use crate::detach_keys::{parse_detach_keys, Escape, EscapeProxy};
use crate::error::{DaemonError, Result};
use crate::events::{action, MessageExt};
use crate::logs::{read_logs, LogsOptions, Stream};

use super::{Container, Daemon};

/// What a client attaches to (the Engine API's attach query).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachOptions {
    /// Send the client's input to the process's stdin (only when the
    /// container has `OpenStdin`).
    pub stdin: bool,
    /// Send the process's stdout to the client.
    pub stdout: bool,
    /// Send the process's stderr to the client.
    pub stderr: bool,
    /// Replay the log first.
    pub logs: bool,
    /// Stream live output (until the process exits).
    pub stream: bool,
    /// The detach sequence in Docker's syntax; empty for `ctrl-p,ctrl-q`.
    pub detach_keys: String,
}

/// A client's attachment: split into output and input so they can be
/// driven at the same time.
#[derive(Debug)]
pub struct AttachSession {
    /// Whether the process has a TTY (output is then raw, all on stdout).
    pub tty: bool,
    /// The process's output.
    pub output: AttachOutputStream,
    /// The process's stdin, when the client attached it.
    pub input: Option<AttachInput>,
}

/// Where live output comes from.
#[derive(Debug)]
enum Live {
    /// No live output (not asked for, or already ended).
    Ended,
    /// Waiting for the container to start.
    Pending(oneshot::Receiver<AttachOutput>),
    /// Connected to the shim.
    Connected(AttachOutput),
}

/// The output half of an [`AttachSession`].
#[derive(Debug)]
pub struct AttachOutputStream {
    replay: VecDeque<(OutputStream, Vec<u8>)>,
    live: Live,
    stdout: bool,
    stderr: bool,
}

impl AttachOutputStream {
    /// Reads everything until the process exits: (stdout, stderr).
    pub async fn collect(mut self) -> (Vec<u8>, Vec<u8>) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some((stream, data)) = self.next().await {
            match stream {
                OutputStream::Stdout => out.extend(data),
                OutputStream::Stderr => err.extend(data),
            }
        }
        (out, err)
    }

    /// The next chunk for the client; `None` once the process has exited
    /// (or, without live streaming, once the replay is done).
    pub async fn next(&mut self) -> Option<(OutputStream, Vec<u8>)> {
        if let Some(chunk) = self.replay.pop_front() {
            return Some(chunk);
        }
        loop {
            match &mut self.live {
                Live::Ended => return None,
                Live::Pending(rx) => match rx.await {
                    Ok(output) => self.live = Live::Connected(output),
                    Err(_) => self.live = Live::Ended,
                },
                Live::Connected(output) => match output.next().await {
                    Some(Ok((stream, data))) => {
                        let wanted = match stream {
                            OutputStream::Stdout => self.stdout,
                            OutputStream::Stderr => self.stderr,
                        };
                        if wanted {
                            return Some((stream, data));
                        }
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "attach output ended");
                        self.live = Live::Ended;
                    }
                    None => self.live = Live::Ended,
                },
            }
        }
    }
}

/// Where the process's stdin is.
#[derive(Debug)]
enum Sink {
    Pending(oneshot::Receiver<AttachStdin>),
    Connected(AttachStdin),
    Gone,
}

/// What happened to a chunk of client input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputOutcome {
    /// Delivered (or held while it may be the start of the detach keys).
    Sent,
    /// The client typed the detach keys: stop attaching, leave the
    /// process running.
    Detached,
}

/// The input half of an [`AttachSession`].
pub struct AttachInput {
    sink: Sink,
    proxy: EscapeProxy,
    /// Close the process's stdin when the client closes its input (the
    /// container's `StdinOnce`; always for an exec).
    close_on_eof: bool,
    shims: Arc<dyn ContainerdClient>,
    container_id: String,
    exec_id: Option<String>,
    on_detach: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for AttachInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachInput")
            .field("container_id", &self.container_id)
            .field("exec_id", &self.exec_id)
            .finish()
    }
}

impl AttachInput {
    async fn sink(&mut self) -> Option<&mut AttachStdin> {
        if let Sink::Pending(rx) = &mut self.sink {
            self.sink = match rx.await {
                Ok(stdin) => Sink::Connected(stdin),
                Err(_) => Sink::Gone,
            };
        }
        match &mut self.sink {
            Sink::Connected(s) => Some(s),
            _ => None,
        }
    }

    /// Sends client input to the process (waiting for it to start if
    /// needed), watching for the detach keys. Input for a process that
    /// is gone is dropped.
    pub async fn write(&mut self, data: &[u8]) -> Result<InputOutcome> {
        let (forward, detach) = match self.proxy.feed(data) {
            Escape::Forward(b) => (b, false),
            Escape::Detach(b) => (b, true),
        };
        if !forward.is_empty() {
            if let Some(sink) = self.sink().await {
                if let Err(e) = sink.write_all(&forward).await {
                    tracing::debug!(error = %e, "attach stdin closed");
                    self.sink = Sink::Gone;
                }
            }
        }
        if detach {
            if let Some(f) = self.on_detach.take() {
                f();
            }
            return Ok(InputOutcome::Detached);
        }
        Ok(InputOutcome::Sent)
    }

    /// The client's input ended: closes the process's stdin when the
    /// process was set up to get stdin once.
    pub async fn close(mut self) -> Result<()> {
        if !self.close_on_eof {
            return Ok(());
        }
        if self.sink().await.is_none() {
            return Ok(());
        }
        self.shims
            .close_stdin(&self.container_id, self.exec_id.as_deref())
            .await
            .map_err(DaemonError::layer)
    }
}

/// A client waiting for a container's next start.
#[derive(Debug)]
pub(crate) struct PendingAttach {
    output: oneshot::Sender<AttachOutput>,
    stdin: Option<oneshot::Sender<AttachStdin>>,
}

/// The clients waiting for a container's next start.
#[derive(Debug, Default)]
pub(crate) struct PendingAttaches(Mutex<Vec<PendingAttach>>);

impl PendingAttaches {
    fn push(&self, p: PendingAttach) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(p);
    }

    fn take(&self) -> Vec<PendingAttach> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Drops every waiter (their sessions end): the container is gone.
    pub(crate) fn clear(&self) {
        self.take();
    }
}

/// Splits a shim attachment between the two halves of a session.
fn deliver(
    attach: Attach,
    output: oneshot::Sender<AttachOutput>,
    stdin: Option<oneshot::Sender<AttachStdin>>,
) {
    let _ = output.send(attach.output);
    if let Some(tx) = stdin {
        let _ = tx.send(attach.stdin);
    }
}

impl Daemon {
    /// Attaches to container `reference`. Errors as moby's: bad detach
    /// keys (InvalidParameter), no such container (NotFound), paused or
    /// restarting (Conflict). A container that is not running is attached
    /// at its next start; the session ends when it exits.
    pub async fn attach(&self, reference: &str, options: AttachOptions) -> Result<AttachSession> {
        let keys = parse_detach_keys(&options.detach_keys)?;
        let container = self.get(reference)?;
        let record = container.record();
        if record.state.paused {
            return Err(DaemonError::Conflict(format!(
                "container {reference} is paused, unpause the container before attach"
            )));
        }
        if record.state.restarting {
            return Err(DaemonError::Conflict(format!(
                "container {reference} is restarting, wait until the container is running"
            )));
        }
        let use_stdin = options.stdin && record.config.open_stdin;
        let mut replay = VecDeque::new();
        if options.logs {
            let logs = LogsOptions {
                stdout: options.stdout,
                stderr: options.stderr,
                ..LogsOptions::default()
            };
            if options.stdout || options.stderr {
                for m in read_logs(&container.log_path(), &logs)? {
                    let stream = match m.stream {
                        Stream::Stdout => OutputStream::Stdout,
                        Stream::Stderr => OutputStream::Stderr,
                    };
                    replay.push_back((stream, m.line));
                }
            }
        }
        let (live, sink) = if options.stream {
            self.connect(&container, use_stdin).await?
        } else {
            (Live::Ended, None)
        };
        self.container_event(&container, action::ATTACH, &[]);
        let input = sink.map(|sink| AttachInput {
            sink,
            proxy: EscapeProxy::new(keys),
            // With a TTY the client leaving (a detach, a closed terminal)
            // must not hang up the shell: Docker closes stdin only without one.
            close_on_eof: record.config.stdin_once && !record.config.tty,
            shims: self.shims.clone(),
            container_id: record.id.clone(),
            exec_id: None,
            on_detach: Some(self.detach_event(&container, action::DETACH, &[])),
        });
        Ok(AttachSession {
            tty: record.config.tty,
            output: AttachOutputStream {
                replay,
                live,
                stdout: options.stdout,
                stderr: options.stderr,
            },
            input,
        })
    }

    /// Connects to the running container's shim, or queues for its next
    /// start (under the operation lock, so a start cannot slip between).
    async fn connect(
        &self,
        container: &Container,
        use_stdin: bool,
    ) -> Result<(Live, Option<Sink>)> {
        let _op = container.op.lock().await;
        let record = container.record();
        if record.state.running {
            let attach = self
                .shims
                .attach(&record.id, None)
                .await
                .map_err(DaemonError::layer)?;
            let sink = use_stdin.then(|| Sink::Connected(attach.stdin));
            return Ok((Live::Connected(attach.output), sink));
        }
        let (out_tx, out_rx) = oneshot::channel();
        let (stdin_tx, sink) = if use_stdin {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(Sink::Pending(rx)))
        } else {
            (None, None)
        };
        container.pending_attaches.push(PendingAttach {
            output: out_tx,
            stdin: stdin_tx,
        });
        Ok((Live::Pending(out_rx), sink))
    }

    /// Resizes the container's TTY to `height` x `width` (moby's
    /// `ContainerResize`). Not running: Conflict.
    pub async fn resize(&self, reference: &str, height: u32, width: u32) -> Result<()> {
        let container = self.get(reference)?;
        let record = container.record();
        if !record.state.running {
            return Err(DaemonError::Conflict(format!(
                "Container {} is not running",
                record.id
            )));
        }
        let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        self.shims
            .resize(&record.id, None, clamp(width), clamp(height))
            .await
            .map_err(DaemonError::layer)
    }

    /// Hands the shim to every client waiting for this start (called
    /// between the shim's create and start).
    pub(crate) async fn connect_pending_attaches(&self, container: &Container) {
        let id = container.record().id;
        for p in container.pending_attaches.take() {
            if p.output.is_closed() {
                continue;
            }
            match self.shims.attach(&id, None).await {
                Ok(attach) => deliver(attach, p.output, p.stdin),
                Err(e) => tracing::warn!(%id, error = %e, "cannot attach a waiting client"),
            }
        }
    }

    /// Logs `action` for the container when a client detaches.
    fn detach_event(
        &self,
        container: &Container,
        action: &str,
        extra: &[(&str, &str)],
    ) -> Box<dyn FnOnce() + Send> {
        let r = container.record();
        let events = self.events.clone();
        let msg = crate::events::Message::container(
            action,
            &r.id,
            &r.name,
            &r.config.image,
            r.config.labels.as_ref(),
            extra,
        );
        Box::new(move || events.log(msg))
    }

    /// Wraps a started exec's shim attachment as a session: only the
    /// streams the exec attached, and its detach keys on stdin.
    pub(crate) fn exec_session(
        &self,
        attach: Attach,
        container: &Container,
        exec_id: &str,
        config: &super::ExecConfig,
    ) -> Result<AttachSession> {
        let keys = parse_detach_keys(&config.detach_keys)?;
        let input = config.attach_stdin.then(|| AttachInput {
            sink: Sink::Connected(attach.stdin),
            proxy: EscapeProxy::new(keys),
            close_on_eof: true,
            shims: self.shims.clone(),
            container_id: container.record().id,
            exec_id: Some(exec_id.to_string()),
            on_detach: Some(self.detach_event(
                container,
                action::EXEC_DETACH,
                &[("execID", exec_id)],
            )),
        });
        let (tty, stdout, stderr) = (config.tty, config.attach_stdout, config.attach_stderr);
        Ok(AttachSession {
            tty,
            output: AttachOutputStream {
                replay: VecDeque::new(),
                live: Live::Connected(attach.output),
                stdout,
                stderr,
            },
            input,
        })
    }
}
