//! The daemon's side: [`ContainerdClient`] (libcontainerd's `Client`) and
//! [`ShimClient`], which launches one `berth-shim` per container and talks
//! to it over `<exec_root>/<id>/shim.sock`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use oci_spec::runtime::Process;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::attach::{Attach, AttachOutput, AttachStdin};
use crate::error::{ShimError, WireError};
use crate::protocol::{decode_payload, encode, frame_len, Reply, Request, Response};
use crate::server::{Launch, LAUNCH_FILE, SOCKET};
use crate::types::{CreateRequest, ExecStdio, ExitStatus, ShimState};

/// What the daemon drives containers through (libcontainerd's `Client`).
#[async_trait]
pub trait ContainerdClient: Send + Sync {
    /// Launches the container's shim, which creates the container (not started).
    async fn create(&self, req: CreateRequest) -> Result<(), ShimError>;
    /// Starts the created container; returns the init's pid.
    async fn start(&self, id: &str) -> Result<u32, ShimError>;
    /// Signals the init, or every process of the container with `all`.
    async fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), ShimError>;
    /// Freezes the container.
    async fn pause(&self, id: &str) -> Result<(), ShimError>;
    /// Thaws the container.
    async fn resume(&self, id: &str) -> Result<(), ShimError>;
    /// Starts another process in the container; returns its pid. Its output
    /// is kept for the first [`ContainerdClient::attach`] to it.
    async fn exec(
        &self,
        id: &str,
        exec_id: &str,
        process: Process,
        stdio: ExecStdio,
    ) -> Result<u32, ShimError>;
    /// Resizes the terminal of the init or of an exec.
    async fn resize(
        &self,
        id: &str,
        exec_id: Option<&str>,
        width: u16,
        height: u16,
    ) -> Result<(), ShimError>;
    /// Streams the stdio of the init or of an exec.
    async fn attach(&self, id: &str, exec_id: Option<&str>) -> Result<Attach, ShimError>;
    /// Closes the stdin of the init or of an exec.
    async fn close_stdin(&self, id: &str, exec_id: Option<&str>) -> Result<(), ShimError>;
    /// Waits for the init or an exec to exit.
    async fn wait(&self, id: &str, exec_id: Option<&str>) -> Result<ExitStatus, ShimError>;
    /// The container's status, pid and exit.
    async fn state(&self, id: &str) -> Result<ShimState, ShimError>;
    /// Deletes the stopped (or never started) container; its shim exits and
    /// its state dir goes. Returns the init's exit, if it ran.
    async fn delete(&self, id: &str) -> Result<Option<ExitStatus>, ShimError>;
    /// The ids of every container with a live shim (after a daemon restart).
    async fn restore(&self) -> Result<Vec<String>, ShimError>;
}

/// Where shims live and what they run.
#[derive(Debug, Clone)]
pub struct ShimConfig {
    /// The shims' state dirs, one per container (e.g. `/run/berth/shims`).
    pub exec_root: PathBuf,
    /// The `berth-runtime` state root (e.g. `/run/berth/runtime`).
    pub runtime_root: PathBuf,
    /// The `berth-shim` binary.
    pub shim_binary: PathBuf,
}

/// The [`ContainerdClient`] over `berth-shim` processes.
#[derive(Debug, Clone)]
pub struct ShimClient {
    cfg: ShimConfig,
}

impl ShimClient {
    /// A client for the shims under `cfg.exec_root`.
    pub fn new(cfg: ShimConfig) -> Self {
        Self { cfg }
    }

    /// The state dir of `id`'s shim.
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.cfg.exec_root.join(id)
    }

    async fn connect(&self, id: &str) -> Result<UnixStream, ShimError> {
        berth_runtime::validate_id(id)?;
        let sock = self.state_dir(id).join(SOCKET);
        UnixStream::connect(&sock)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    ShimError::NotFound(format!("no such container: {id}"))
                }
                std::io::ErrorKind::ConnectionRefused => {
                    ShimError::Unavailable(format!("the shim of container {id} is not running"))
                }
                _ => ShimError::io(format!("connect to {}", sock.display()), e),
            })
    }

    /// Sends one request on a fresh connection and reads the answer.
    async fn request(&self, id: &str, req: &Request) -> Result<(Reply, UnixStream), ShimError> {
        let mut s = self.connect(id).await?;
        s.write_all(&encode(req))
            .await
            .map_err(|e| ShimError::io("send request to shim", e))?;
        let reply = read_response(&mut s, id).await?;
        Ok((reply, s))
    }

    async fn call(&self, id: &str, req: Request) -> Result<Reply, ShimError> {
        Ok(self.request(id, &req).await?.0)
    }

    async fn done(&self, id: &str, req: Request) -> Result<(), ShimError> {
        match self.call(id, req).await? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    async fn launch(&self, req: &CreateRequest, dir: &Path) -> Result<(), ShimError> {
        let launch = Launch {
            create: req.clone(),
            runtime_root: self.cfg.runtime_root.clone(),
        };
        let data = serde_json::to_vec(&launch).map_err(|e| ShimError::System(e.to_string()))?;
        berth_runtime::state::write_atomic(&dir.join(LAUNCH_FILE), &data)?;
        // Files, never pipes: the detached shim keeps what it inherits.
        let report_path = dir.join("launch.out");
        let report =
            fs::File::create(&report_path).map_err(|e| ShimError::io("create launch report", e))?;
        let report_err = report
            .try_clone()
            .map_err(|e| ShimError::io("create launch report", e))?;
        let status = tokio::process::Command::new(&self.cfg.shim_binary)
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(report)
            .stderr(report_err)
            .status()
            .await
            .map_err(|e| ShimError::io(format!("run {}", self.cfg.shim_binary.display()), e))?;
        if status.success() {
            let _ = fs::remove_file(&report_path);
            return Ok(());
        }
        let text = fs::read_to_string(&report_path).unwrap_or_default();
        let err = text
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<WireError>(l).ok())
            .map(ShimError::from)
            .unwrap_or_else(|| {
                ShimError::System(format!("berth-shim failed ({status}): {}", text.trim()))
            });
        Err(err)
    }
}

async fn read_response(s: &mut UnixStream, id: &str) -> Result<Reply, ShimError> {
    let gone = |e: std::io::Error| {
        ShimError::Unavailable(format!("the shim of container {id} did not answer: {e}"))
    };
    let mut header = [0u8; 4];
    s.read_exact(&mut header).await.map_err(gone)?;
    let mut payload = vec![0u8; frame_len(header)?];
    s.read_exact(&mut payload).await.map_err(gone)?;
    decode_payload::<Response>(&payload)?.into_result()
}

fn unexpected(r: Reply) -> ShimError {
    ShimError::Protocol(format!("unexpected reply {r:?}"))
}

#[async_trait]
impl ContainerdClient for ShimClient {
    async fn create(&self, req: CreateRequest) -> Result<(), ShimError> {
        berth_runtime::validate_id(&req.id)?;
        fs::create_dir_all(&self.cfg.exec_root)
            .map_err(|e| ShimError::io(format!("create {}", self.cfg.exec_root.display()), e))?;
        let dir = self.state_dir(&req.id);
        match fs::create_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(ShimError::Conflict(format!(
                    "container {} already exists",
                    req.id
                )))
            }
            r => r.map_err(|e| ShimError::io(format!("create {}", dir.display()), e))?,
        }
        let result = self.launch(&req, &dir).await;
        if result.is_err() {
            let _ = fs::remove_dir_all(&dir);
        }
        result
    }

    async fn start(&self, id: &str) -> Result<u32, ShimError> {
        match self.call(id, Request::Start).await? {
            Reply::Pid { pid } => Ok(pid),
            other => Err(unexpected(other)),
        }
    }

    async fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), ShimError> {
        self.done(id, Request::Kill { signal, all }).await
    }

    async fn pause(&self, id: &str) -> Result<(), ShimError> {
        self.done(id, Request::Pause).await
    }

    async fn resume(&self, id: &str) -> Result<(), ShimError> {
        self.done(id, Request::Resume).await
    }

    async fn exec(
        &self,
        id: &str,
        exec_id: &str,
        process: Process,
        stdio: ExecStdio,
    ) -> Result<u32, ShimError> {
        let req = Request::Exec {
            exec_id: exec_id.to_string(),
            process: Box::new(process),
            stdio,
        };
        match self.call(id, req).await? {
            Reply::Pid { pid } => Ok(pid),
            other => Err(unexpected(other)),
        }
    }

    async fn resize(
        &self,
        id: &str,
        exec_id: Option<&str>,
        width: u16,
        height: u16,
    ) -> Result<(), ShimError> {
        let exec_id = exec_id.map(str::to_string);
        self.done(
            id,
            Request::Resize {
                exec_id,
                width,
                height,
            },
        )
        .await
    }

    async fn attach(&self, id: &str, exec_id: Option<&str>) -> Result<Attach, ShimError> {
        let exec_id = exec_id.map(str::to_string);
        let (reply, stream) = self.request(id, &Request::Attach { exec_id }).await?;
        match reply {
            Reply::Attached => {
                let (r, w) = stream.into_split();
                Ok(Attach {
                    stdin: AttachStdin(w),
                    output: AttachOutput(r),
                })
            }
            other => Err(unexpected(other)),
        }
    }

    async fn close_stdin(&self, id: &str, exec_id: Option<&str>) -> Result<(), ShimError> {
        let exec_id = exec_id.map(str::to_string);
        self.done(id, Request::CloseStdin { exec_id }).await
    }

    async fn wait(&self, id: &str, exec_id: Option<&str>) -> Result<ExitStatus, ShimError> {
        let exec_id = exec_id.map(str::to_string);
        match self.call(id, Request::Wait { exec_id }).await? {
            Reply::Exit { exit: Some(e) } => Ok(e),
            other => Err(unexpected(other)),
        }
    }

    async fn state(&self, id: &str) -> Result<ShimState, ShimError> {
        match self.call(id, Request::State).await? {
            Reply::State { state } => Ok(state),
            other => Err(unexpected(other)),
        }
    }

    async fn delete(&self, id: &str) -> Result<Option<ExitStatus>, ShimError> {
        let (reply, mut stream) = self.request(id, &Request::Delete).await?;
        let exit = match reply {
            Reply::Exit { exit } => exit,
            other => return Err(unexpected(other)),
        };
        // The shim closes the connection as it exits.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        Ok(exit)
    }

    async fn restore(&self) -> Result<Vec<String>, ShimError> {
        let entries = match fs::read_dir(&self.cfg.exec_root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(ShimError::io(
                    format!("read {}", self.cfg.exec_root.display()),
                    e,
                ))
            }
        };
        let mut ids = Vec::new();
        for entry in entries.flatten() {
            let Some(id) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if !entry.path().join(SOCKET).exists() {
                continue;
            }
            match self.state(&id).await {
                Ok(_) => ids.push(id),
                Err(e) => tracing::warn!(id, "shim not restored: {e}"),
            }
        }
        ids.sort();
        Ok(ids)
    }
}

impl ShimClient {
    /// The init's exit as the shim recorded it on disk, if it has ended;
    /// readable even when the shim itself is gone.
    pub fn recorded_exit(&self, id: &str) -> Result<Option<ExitStatus>, ShimError> {
        berth_runtime::validate_id(id)?;
        let path = self.state_dir(id).join(crate::server::EXIT_FILE);
        match fs::read(&path) {
            Ok(d) => serde_json::from_slice(&d)
                .map(Some)
                .map_err(|e| ShimError::System(format!("corrupt {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ShimError::io(format!("read {}", path.display()), e)),
        }
    }

    /// Kills and deletes whatever `id` is in, and ends its shim: for
    /// cleaning up after a failed create or start.
    pub async fn shutdown(&self, id: &str) -> Result<(), ShimError> {
        let (_, mut stream) = self.request(id, &Request::Shutdown).await?;
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        Ok(())
    }
}
