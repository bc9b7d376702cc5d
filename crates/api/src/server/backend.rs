//! The seams the router calls (moby `api/server/router/*/backend.go`),
//! in terms of the API types. The daemon implements them; handlers only
//! decode, call and encode.
//!
//! Every call that names a container takes the reference as the user gave
//! it (full ID, name, or unique ID prefix). Every error is an [`ApiError`]
//! whose kind picks the status (a NotModified start or stop answers 304).

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite};

use super::ApiError;
use crate::types::container::PathStat;
use crate::types::container::{
    AttachOptions, Change, ContainerCreateRequest, ContainerInspectResponse, ContainerSummary,
    ContainerUpdateRequest, ContainerUpdateResponse, CreateResponse, ListOptions, LogsOptions,
    PruneReport, RemoveOptions, StatsOptions, StatsSnapshot, StopOptions, TopResponse,
    WaitCondition, WaitResponse,
};
use crate::types::df::{DiskUsage, DiskUsageOptions};
use crate::types::events::Message;
use crate::types::exec::{ExecConfig, ExecInspect, ExecStartConfig};
use crate::types::filters::Filters;
use crate::types::network::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest,
    NetworkPruneReport, NetworkResource,
};
use crate::types::system::{SystemInfo, SystemVersion};
use crate::types::volume::{Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneReport};

/// A boxed, sendable stream.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;

/// A stream of bytes (logs, export); an error ends it.
pub type ByteStream = BoxStream<Result<Bytes, ApiError>>;

/// The readable half of a hijacked stream.
pub type HijackedReader = Pin<Box<dyn AsyncRead + Send>>;

/// The writable half of a hijacked stream.
pub type HijackedWriter = Pin<Box<dyn AsyncWrite + Send>>;

/// What the router pumps a hijacked connection (attach, exec start) into
/// and out of once it has answered `101 UPGRADED`: the client's bytes go to
/// `stdin`, `output` goes to the client until it ends.
pub struct HijackedStreams {
    /// The process's stdin, when it was attached.
    pub stdin: Option<HijackedWriter>,
    /// The process's output: stdcopy-framed (8-byte headers) without a TTY,
    /// raw with one.
    pub output: HijackedReader,
    /// Whether the process has a TTY (the content type is then
    /// `application/vnd.docker.raw-stream`, else `multiplexed-stream`).
    pub tty: bool,
}

impl std::fmt::Debug for HijackedStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HijackedStreams")
            .field("stdin", &self.stdin.is_some())
            .field("tty", &self.tty)
            .finish()
    }
}

/// A container's logs: the bytes (stdcopy-framed unless `tty`) and
/// whether it has a TTY.
pub struct LogsStream {
    /// Whether the container has a TTY (raw bytes, not multiplexed).
    pub tty: bool,
    /// The log bytes.
    pub stream: ByteStream,
}

impl std::fmt::Debug for LogsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsStream")
            .field("tty", &self.tty)
            .finish()
    }
}

/// A wait in progress: resolves with the exit status (or an error in the
/// body) once the condition is met.
pub type PendingWait = BoxFuture<'static, WaitResponse>;

/// The container endpoints (moby `router/container` `stateBackend`,
/// `monitorBackend`, `attachBackend`).
#[async_trait]
pub trait ContainerBackend: Send + Sync {
    /// `POST /containers/create?name=`: creates a container.
    async fn create(
        &self,
        name: Option<String>,
        request: ContainerCreateRequest,
    ) -> Result<CreateResponse, ApiError>;

    /// `POST /containers/{id}/start`. NotModified when already running.
    async fn start(&self, name: &str) -> Result<(), ApiError>;

    /// `POST /containers/{id}/stop`. NotModified when not running.
    async fn stop(&self, name: &str, options: StopOptions) -> Result<(), ApiError>;

    /// `POST /containers/{id}/restart`.
    async fn restart(&self, name: &str, options: StopOptions) -> Result<(), ApiError>;

    /// `POST /containers/{id}/kill?signal=` (default `SIGKILL`).
    async fn kill(&self, name: &str, signal: Option<String>) -> Result<(), ApiError>;

    /// `POST /containers/{id}/wait`: registers the wait (an unknown
    /// container fails here, before the 200 is sent) and returns what
    /// completes it. The router sends the headers as soon as this returns,
    /// so a client may start the container knowing the wait is in place.
    async fn wait(&self, name: &str, condition: WaitCondition) -> Result<PendingWait, ApiError>;

    /// `DELETE /containers/{id}`.
    async fn remove(&self, name: &str, options: RemoveOptions) -> Result<(), ApiError>;

    /// `GET /containers/{id}/json?size=`.
    async fn inspect(&self, name: &str, size: bool) -> Result<ContainerInspectResponse, ApiError>;

    /// `GET /containers/json`.
    async fn list(&self, options: ListOptions) -> Result<Vec<ContainerSummary>, ApiError>;

    /// `GET /containers/{id}/logs`.
    async fn logs(&self, name: &str, options: LogsOptions) -> Result<LogsStream, ApiError>;

    /// `POST /containers/{id}/attach`: the streams to pump once hijacked.
    async fn attach(&self, name: &str, options: AttachOptions)
        -> Result<HijackedStreams, ApiError>;

    /// `POST /containers/{id}/resize?h=&w=`: the TTY's size.
    async fn resize(&self, name: &str, height: u32, width: u32) -> Result<(), ApiError>;

    /// `POST /containers/{id}/pause`.
    async fn pause(&self, name: &str) -> Result<(), ApiError>;

    /// `POST /containers/{id}/unpause`.
    async fn unpause(&self, name: &str) -> Result<(), ApiError>;

    /// `POST /containers/{id}/rename?name=`.
    async fn rename(&self, name: &str, new_name: &str) -> Result<(), ApiError>;

    /// `GET /containers/{id}/top?ps_args=`.
    async fn top(&self, name: &str, ps_args: &str) -> Result<TopResponse, ApiError>;

    /// `GET /containers/{id}/stats`: one sample, or a sample a second.
    async fn stats(
        &self,
        name: &str,
        options: StatsOptions,
    ) -> Result<BoxStream<StatsSnapshot>, ApiError>;

    /// `GET /containers/{id}/changes`.
    async fn changes(&self, name: &str) -> Result<Vec<Change>, ApiError>;

    /// `POST /containers/prune?filters=`.
    async fn prune(&self, filters: Filters) -> Result<PruneReport, ApiError>;

    /// `HEAD /containers/{name}/archive?path=`: the stat of a path.
    async fn archive_stat(&self, name: &str, path: &str) -> Result<PathStat, ApiError>;

    /// `GET /containers/{name}/archive?path=`: the stat and a tar of it.
    async fn archive_get(&self, name: &str, path: &str)
        -> Result<(PathStat, ByteStream), ApiError>;

    /// `PUT /containers/{name}/archive?path=`: extracts the tar `body`
    /// into the directory `path`.
    async fn archive_put(
        &self,
        name: &str,
        path: &str,
        options: ArchivePutOptions,
        body: ByteStream,
    ) -> Result<(), ApiError>;

    /// `GET /containers/{name}/export`: a tar of the whole filesystem.
    async fn export(&self, name: &str) -> Result<ByteStream, ApiError>;

    /// `POST /containers/{name}/update`: new resource limits and restart
    /// policy. A backend that cannot update answers NotImplemented (501).
    async fn update(
        &self,
        name: &str,
        request: ContainerUpdateRequest,
    ) -> Result<ContainerUpdateResponse, ApiError> {
        let _ = (name, request);
        Err(ApiError::new(
            berth_errdefs::ErrorKind::NotImplemented,
            "container update is not implemented by this backend",
        ))
    }
}

/// The query of `PUT /containers/{name}/archive`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchivePutOptions {
    /// Refuse to replace a directory with a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Give extracted files the container user's owner.
    pub copy_uid_gid: bool,
}

/// The exec endpoints (moby `router/container` `execBackend`).
#[async_trait]
pub trait ExecBackend: Send + Sync {
    /// `POST /containers/{id}/exec`: creates an exec instance, returns its ID.
    async fn exec_create(&self, name: &str, config: ExecConfig) -> Result<String, ApiError>;

    /// `GET /exec/{id}/json`.
    async fn exec_inspect(&self, id: &str) -> Result<ExecInspect, ApiError>;

    /// `POST /exec/{id}/start`: starts it; the streams to pump once
    /// hijacked, or `None` when `Detach` was set.
    async fn exec_start(
        &self,
        id: &str,
        config: ExecStartConfig,
    ) -> Result<Option<HijackedStreams>, ApiError>;

    /// `POST /exec/{id}/resize?h=&w=`.
    async fn exec_resize(&self, id: &str, height: u32, width: u32) -> Result<(), ApiError>;
}

/// `GET /events` options (moby `events.ListOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsOptions {
    /// Replay from this time (as given: Unix seconds, RFC 3339, duration).
    pub since: String,
    /// Stop at this time, same forms.
    pub until: String,
    /// `type`, `event`, `container`, `image`, `label`, ...
    pub filters: Filters,
}

/// The system endpoints (moby `router/system` `Backend`).
#[async_trait]
pub trait SystemBackend: Send + Sync {
    /// `GET /version`.
    async fn version(&self) -> Result<SystemVersion, ApiError>;

    /// `GET /info`.
    async fn info(&self) -> Result<SystemInfo, ApiError>;

    /// `GET /events`: replay then live events, until `until` or the client
    /// goes away.
    async fn events(&self, options: EventsOptions) -> Result<BoxStream<Message>, ApiError>;

    /// `GET /system/df?type=`: disk usage of the parts `options` selects. A
    /// backend that cannot tell answers NotImplemented (501).
    async fn disk_usage(&self, options: DiskUsageOptions) -> Result<DiskUsage, ApiError> {
        let _ = options;
        Err(ApiError::new(
            berth_errdefs::ErrorKind::NotImplemented,
            "disk usage is not implemented by this backend",
        ))
    }
}

/// The network endpoints (moby `router/network` `Backend`). Every call that
/// names a network takes the reference as the user gave it (full ID, name,
/// or unique ID prefix).
#[async_trait]
pub trait NetworkBackend: Send + Sync {
    /// `POST /networks/create`: creates the network; Conflict when the
    /// name is taken.
    async fn network_create(
        &self,
        req: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ApiError>;

    /// `GET /networks?filters=`: the networks `filters` selects
    /// (`driver`, `id`, `label`, `name`, `scope`, `type`, `dangling`).
    async fn network_list(&self, filters: Filters) -> Result<Vec<NetworkResource>, ApiError>;

    /// `GET /networks/{id}?verbose=&scope=`: one network; NotFound when
    /// there is none.
    async fn network_inspect(
        &self,
        id: &str,
        verbose: bool,
        scope: Option<String>,
    ) -> Result<NetworkResource, ApiError>;

    /// `DELETE /networks/{id}`: Forbidden for the predefined networks,
    /// Forbidden (moby) while endpoints are attached.
    async fn network_remove(&self, id: &str) -> Result<(), ApiError>;

    /// `POST /networks/prune?filters=`: removes the unused user-defined
    /// networks.
    async fn network_prune(&self, filters: Filters) -> Result<NetworkPruneReport, ApiError>;

    /// `POST /networks/{id}/connect`: attaches a container.
    async fn network_connect(&self, id: &str, req: NetworkConnectRequest) -> Result<(), ApiError>;

    /// `POST /networks/{id}/disconnect`: detaches a container.
    async fn network_disconnect(
        &self,
        id: &str,
        req: NetworkDisconnectRequest,
    ) -> Result<(), ApiError>;
}

/// The volume endpoints (moby `router/volume` `Backend`).
#[async_trait]
pub trait VolumeBackend: Send + Sync {
    /// `GET /volumes?filters=`: the volumes `filters` selects (`name`,
    /// `driver`, `label`, `dangling`).
    async fn volume_list(&self, filters: Filters) -> Result<VolumeListResponse, ApiError>;

    /// `POST /volumes/create`: creates the volume, or returns the existing
    /// one of that name.
    async fn volume_create(&self, req: VolumeCreateRequest) -> Result<Volume, ApiError>;

    /// `GET /volumes/{name}`: one volume; NotFound when there is none.
    async fn volume_inspect(&self, name: &str) -> Result<Volume, ApiError>;

    /// `DELETE /volumes/{name}?force=`: Conflict while a container uses
    /// it; with `force`, a missing volume is not an error.
    async fn volume_remove(&self, name: &str, force: bool) -> Result<(), ApiError>;

    /// `POST /volumes/prune?filters=`: removes unused volumes, only the
    /// anonymous ones unless the filter `all=true` is given (the router
    /// adds it for clients older than API 1.42, as moby does).
    async fn volume_prune(&self, filters: Filters) -> Result<VolumePruneReport, ApiError>;
}
