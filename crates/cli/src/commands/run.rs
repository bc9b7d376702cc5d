//! `run` and `create` (docker/cli `container/run.go`, `create.go`): build
//! the create request from the flags; create, pulling the image when the
//! daemon has none; for `run` attach and ask for the exit before starting,
//! start, size the terminal, pump the streams and exit with the
//! container's status.
//!
//! The flow talks to the daemon through [`Engine`], implemented by
//! [`Client`] and by fakes in the tests.

use std::path::Path;

use berth_api::types::container::{AttachOptions, CreateResponse, WaitCondition, WaitResponse};
use berth_api::types::image::{JsonMessage, PullOptions};
use berth_client::stream::JsonStream;
use berth_client::{Client, ClientError, Waiter};

use crate::cli::{CreateArgs, RunArgs};
use crate::errors::{start_error_status, CliError, CmdResult, RUN_ERROR};
use crate::opts::{io_reason, CreateSpec};
use crate::progress::{show, Target};
use crate::reference::ImageRef;
use crate::stdio::{
    detach_key_bytes, pump, terminal_size, BoxConn, PumpEnd, RawTerminal, Stdio,
    DEFAULT_DETACH_KEYS,
};

/// A source of pull progress messages (the one `docker pull` shows too).
pub use crate::progress::MessageSource as PullSource;

/// A wait registered with the daemon.
#[allow(async_fn_in_trait)]
pub trait WaitSource {
    /// The answer once the condition is met.
    async fn result(self) -> Result<WaitResponse, ClientError>;
}

impl WaitSource for Waiter {
    async fn result(self) -> Result<WaitResponse, ClientError> {
        Waiter::result(self).await
    }
}

/// What `run` and `create` need from the daemon.
#[allow(async_fn_in_trait)]
pub trait Engine {
    /// The pull progress stream.
    type Pull: PullSource;
    /// A pending wait.
    type Wait: WaitSource;
    /// `POST /containers/create`.
    async fn create(&self, spec: &CreateSpec) -> Result<CreateResponse, ClientError>;
    /// `POST /images/create`.
    async fn pull(
        &self,
        image: &ImageRef,
        platform: Option<&str>,
    ) -> Result<Self::Pull, ClientError>;
    /// `POST /containers/{id}/attach`, hijacked.
    async fn attach(&self, id: &str, options: &AttachOptions) -> Result<BoxConn, ClientError>;
    /// `POST /containers/{id}/wait`, registered.
    async fn wait(&self, id: &str, condition: WaitCondition) -> Result<Self::Wait, ClientError>;
    /// `POST /containers/{id}/start`.
    async fn start(&self, id: &str) -> Result<(), ClientError>;
    /// `POST /containers/{id}/resize`.
    async fn resize(&self, id: &str, height: u32, width: u32) -> Result<(), ClientError>;
    /// `POST /containers/{id}/kill?signal=` (the signal proxy).
    async fn kill(&self, id: &str, signal: &str) -> Result<(), ClientError>;
}

impl Engine for Client {
    type Pull = JsonStream<JsonMessage>;
    type Wait = Waiter;

    async fn create(&self, spec: &CreateSpec) -> Result<CreateResponse, ClientError> {
        self.container_create(
            &spec.request,
            spec.name.as_deref(),
            spec.platform.as_deref(),
        )
        .await
    }

    async fn pull(
        &self,
        image: &ImageRef,
        platform: Option<&str>,
    ) -> Result<Self::Pull, ClientError> {
        self.image_pull(&PullOptions {
            from_image: image.name.clone(),
            tag: image.api_tag(),
            platform: platform.map(str::to_string),
            auth: crate::commands::image::auth::for_image(&image.name),
        })
        .await
    }

    async fn attach(&self, id: &str, options: &AttachOptions) -> Result<BoxConn, ClientError> {
        Ok(Box::new(self.container_attach(id, options).await?))
    }

    async fn wait(&self, id: &str, condition: WaitCondition) -> Result<Waiter, ClientError> {
        self.container_wait_begin(id, condition).await
    }

    async fn start(&self, id: &str) -> Result<(), ClientError> {
        self.container_start(id).await
    }

    async fn resize(&self, id: &str, height: u32, width: u32) -> Result<(), ClientError> {
        self.container_resize(id, height, width).await
    }

    async fn kill(&self, id: &str, signal: &str) -> Result<(), ClientError> {
        self.container_kill(id, Some(signal)).await
    }
}

/// Whether a create error means the image is missing (Docker checks
/// `IsNotFound`; the daemon's message names the image).
pub fn is_missing_image(e: &ClientError) -> bool {
    e.status() == Some(404) && e.message().contains("No such image")
}

/// Pulls `image`, showing progress on stderr; a failure reported in the
/// stream is an error.
pub async fn pull_image<E: Engine>(
    engine: &E,
    image: &ImageRef,
    platform: Option<&str>,
    io: &mut Stdio,
) -> Result<(), CliError> {
    let mut stream = engine.pull(image, platform).await?;
    show(&mut stream, io, Target::Stderr).await
}

/// docker/cli's `createContainer`: the `--cidfile`, `--pull` policy, the
/// pull on a missing image, the warnings. Returns the new ID.
pub async fn create_container<E: Engine>(
    engine: &E,
    spec: &CreateSpec,
    pull: &str,
    cidfile: Option<&str>,
    io: &mut Stdio,
) -> Result<String, CliError> {
    let image = ImageRef::parse(&spec.request.config.image).map_err(CliError::msg)?;
    let cid = match cidfile.filter(|c| !c.is_empty()) {
        Some(path) => {
            if Path::new(path).exists() {
                return Err(CliError::msg(format!(
                    "container ID file found, make sure the other container isn't running or delete {path}"
                )));
            }
            std::fs::File::create(path).map_err(|e| {
                CliError::msg(format!(
                    "failed to create the container ID file: open {path}: {}",
                    io_reason(&e)
                ))
            })?;
            Some(path)
        }
        None => None,
    };
    let result = create_inner(engine, spec, pull, &image, io).await;
    match (&result, cid) {
        (Ok(id), Some(path)) => std::fs::write(path, id).map_err(|e| {
            CliError::msg(format!("failed to write the container ID to the file: {e}"))
        })?,
        (Err(_), Some(path)) => {
            let _ = std::fs::remove_file(path);
        }
        _ => {}
    }
    result
}

async fn create_inner<E: Engine>(
    engine: &E,
    spec: &CreateSpec,
    pull: &str,
    image: &ImageRef,
    io: &mut Stdio,
) -> Result<String, CliError> {
    let platform = spec.platform.as_deref();
    if pull == "always" {
        pull_image(engine, image, platform, io).await?;
    }
    let created = match engine.create(spec).await {
        Err(e) if is_missing_image(&e) && pull == "missing" => {
            io.err(&format!(
                "Unable to find image '{}' locally\n",
                image.familiar()
            ))
            .await;
            pull_image(engine, image, platform, io).await?;
            engine.create(spec).await?
        }
        other => other?,
    };
    for w in &created.warnings {
        io.err(&format!("WARNING: {w}\n")).await;
    }
    Ok(created.id)
}

/// The terminal's size for `ConsoleSize`, when stdout is one.
fn console_size(io: &Stdio) -> Option<[u64; 2]> {
    if !io.stdout_tty {
        return None;
    }
    terminal_size().map(|(h, w)| [h as u64, w as u64])
}

/// `create`: prints the new container's ID.
pub async fn create<E: Engine>(
    engine: &E,
    args: &CreateArgs,
    io: &mut Stdio,
    cwd: &Path,
) -> CmdResult {
    let (image, command) = args.args.split_first().expect("clap requires IMAGE");
    let spec = args
        .options
        .to_spec(image, command, false, cwd, console_size(io))
        .map_err(|e| CliError::msg(e).with_status(RUN_ERROR))?;
    let id = create_container(
        engine,
        &spec,
        &args.options.pull,
        args.options.cidfile.as_deref(),
        io,
    )
    .await
    .map_err(|e| e.with_status(RUN_ERROR))?;
    io.out(&format!("{id}\n")).await;
    Ok(0)
}

/// Keeps the container's TTY the size of ours: at once and on `SIGWINCH`.
/// Never returns (the caller drops it when the streams end).
async fn monitor_size<E: Engine>(engine: &E, id: &str) {
    if let Some((h, w)) = terminal_size() {
        let _ = engine.resize(id, h as u32, w as u32).await;
    }
    if let Ok(mut winch) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
    {
        while winch.recv().await.is_some() {
            if let Some((h, w)) = terminal_size() {
                let _ = engine.resize(id, h as u32, w as u32).await;
            }
        }
    }
    std::future::pending().await
}

/// The signals `--sig-proxy` forwards (docker/cli `ForwardAllSignals`
/// minus the ones a terminal session needs for itself).
const PROXIED: [(i32, &str); 6] = [
    (2, "SIGINT"),
    (15, "SIGTERM"),
    (1, "SIGHUP"),
    (3, "SIGQUIT"),
    (10, "SIGUSR1"),
    (12, "SIGUSR2"),
];

/// Forwards the signals this process receives to the container. Never
/// returns.
async fn proxy_signals<E: Engine>(engine: &E, id: &str) {
    use tokio::signal::unix::{signal, SignalKind};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<&'static str>();
    for (num, name) in PROXIED {
        if let Ok(mut s) = signal(SignalKind::from_raw(num)) {
            let tx = tx.clone();
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    if tx.send(name).is_err() {
                        return;
                    }
                }
            });
        }
    }
    drop(tx);
    while let Some(name) = rx.recv().await {
        let _ = engine.kill(id, name).await;
    }
    std::future::pending().await
}

/// What runs beside the stream pump: the terminal size monitor (`-t` on a
/// terminal) and the signal proxy (`--sig-proxy` without `-t`).
async fn beside_streams<E: Engine>(engine: &E, id: &str, resize: bool, proxy: bool) {
    let size = async {
        if resize {
            monitor_size(engine, id).await
        }
        std::future::pending::<()>().await
    };
    let signals = async {
        if proxy {
            proxy_signals(engine, id).await
        }
        std::future::pending::<()>().await
    };
    tokio::join!(size, signals);
}

/// `run`: the container's exit status, or Docker's 125/126/127.
pub async fn run<E: Engine>(engine: &E, args: &RunArgs, io: &mut Stdio, cwd: &Path) -> CmdResult {
    let opts = &args.options;
    let (image, command) = args.args.split_first().expect("clap requires IMAGE");
    let fail = |m: String| CliError::msg(m).with_status(RUN_ERROR);
    let detach_keys = args.detach_keys.clone().unwrap_or_default();
    let escape = detach_key_bytes(if detach_keys.is_empty() {
        DEFAULT_DETACH_KEYS
    } else {
        &detach_keys
    })
    .map_err(|e| fail(format!("Invalid detach keys ({detach_keys}) provided: {e}")))?;
    let attach = !args.detach;
    let spec = opts
        .to_spec(image, command, attach, cwd, console_size(io))
        .map_err(fail)?;
    let config = &spec.request.config;
    if attach && config.attach_stdin && config.tty && !io.stdin_tty {
        return Err(CliError::msg("the input device is not a TTY"));
    }
    let id = create_container(engine, &spec, &opts.pull, opts.cidfile.as_deref(), io)
        .await
        .map_err(|e| e.with_status(RUN_ERROR))?;

    let start_failed = |e: ClientError| {
        let status = start_error_status(&e.message());
        CliError::from(e).with_status(status)
    };
    if args.detach {
        engine.start(&id).await.map_err(start_failed)?;
        io.out(&format!("{id}\n")).await;
        return Ok(0);
    }

    let tty = config.tty;
    let attach_stdin = config.attach_stdin;
    let conn = engine
        .attach(
            &id,
            &AttachOptions {
                stream: true,
                stdin: attach_stdin,
                stdout: true,
                stderr: true,
                logs: false,
                detach_keys,
            },
        )
        .await
        .map_err(|e| CliError::from(e).with_status(RUN_ERROR))?;
    let condition = if opts.rm {
        WaitCondition::Removed
    } else {
        WaitCondition::NextExit
    };
    let waiter = engine
        .wait(&id, condition)
        .await
        .map_err(|e| CliError::from(e).with_status(RUN_ERROR))?;
    if let Err(e) = engine.start(&id).await {
        if opts.rm {
            let _ = waiter.result().await;
        }
        return Err(start_failed(e));
    }

    let raw = if tty && attach_stdin && io.stdin_tty {
        RawTerminal::stdin().ok()
    } else {
        None
    };
    let stdin = if attach_stdin { io.stdin.take() } else { None };
    let escape = tty.then_some(escape);
    let pumped = {
        let streams = pump(conn, stdin, &mut io.stdout, &mut io.stderr, tty, escape);
        let resize = tty && io.stdout_tty;
        let proxy = args.sig_proxy && !tty;
        tokio::select! {
            r = streams => r,
            _ = beside_streams(engine, &id, resize, proxy) => unreachable!("runs until cancelled"),
        }
    };
    drop(raw);
    match pumped {
        Ok(PumpEnd::Detached) => return Ok(0),
        Ok(PumpEnd::Finished) => {}
        Err(e) => return Err(CliError::msg(format!("error attaching: {e}")).with_status(RUN_ERROR)),
    }
    let status = waiter
        .result()
        .await
        .map_err(|e| CliError::from(e).with_status(RUN_ERROR))?;
    if let Some(err) = status.error.filter(|e| !e.message.is_empty()) {
        return Err(CliError::msg(err.message).with_status(RUN_ERROR));
    }
    Ok(status.status_code as i32)
}

#[cfg(test)]
mod tests;
