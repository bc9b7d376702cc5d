//! Container models (moby `api/types/container`): the configuration a
//! container is created with ([`Config`], [`HostConfig`],
//! [`ContainerCreateRequest`]), what inspect and `docker ps` show
//! ([`ContainerInspectResponse`], [`ContainerSummary`]), and the bodies of
//! wait, top, stats, changes, prune, update and archive.
//!
//! Decoding follows Go's `encoding/json` as moby uses it: unknown fields are
//! ignored, `null` means the zero value, `Cmd`/`Entrypoint`/`Shell` accept a
//! string or an array; a wrong type is an error naming the field.

mod archive;
mod changes;
mod config;
mod create;
mod host;
mod inspect;
mod options;
mod prune;
mod stats;
mod strslice;
mod summary;
mod top;
mod update;
mod wait;

pub use archive::{PathStat, MODE_DIR, MODE_SYMLINK, PATH_STAT_HEADER};
pub use changes::{Change, CHANGE_ADD, CHANGE_DELETE, CHANGE_MODIFY};
pub use config::{Config, HealthConfig};
pub use create::{decode_create_request, ContainerCreateRequest, CreateResponse};
pub use host::{
    DeviceMapping, HostConfig, LogConfig, Mount, PortBinding, RestartPolicy, Ulimit, WeightDevice,
};
pub use inspect::{
    health_status, status, ContainerInspectResponse, ContainerState, EndpointIpamConfig,
    EndpointSettings, GraphDriverData, Health, HealthcheckResult, MountPoint, NetworkSettings,
    ZERO_TIME,
};
pub use options::{
    AttachOptions, ListOptions, LogsOptions, RemoveOptions, StatsOptions, StopOptions,
    WaitCondition,
};
pub use prune::PruneReport;
pub use stats::{
    BlkioStats, CpuStats, CpuUsage, MemoryStats, PidsStats, StatsSnapshot, ThrottlingData,
};
pub use strslice::StrSlice;
pub use summary::{ContainerSummary, NetworkSettingsSummary, Port, SummaryHostConfig};
pub use top::TopResponse;
pub use update::{ContainerUpdateRequest, ContainerUpdateResponse};
pub use wait::{WaitExitError, WaitResponse};

#[cfg(test)]
mod tests;
