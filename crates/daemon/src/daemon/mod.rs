//! The daemon core: the container store and the create / start / stop /
//! kill / wait / remove state machine of moby's `daemon/`, over two seams:
//! [`ImageService`] for images and root filesystems, and
//! [`ContainerdClient`] for the per-container shims that own the processes.
//!
//! Every state change is written to `config.v2.json` before it is
//! reported, and the daemon can be killed at any point: [`Daemon::open`]
//! reloads the containers and reconnects to the shims that are still running.

mod archive;
mod attach;
mod cgroupfs;
mod changes;
mod container;
pub mod container_fs;
mod create;
mod df;
mod exec;
mod export;
mod health;
mod images;
mod lifecycle;
mod list;
mod logs;
pub mod mounts;
mod network;
mod pause;
mod prune;
mod remove;
mod rename;
mod restart;
mod restart_cmd;
mod restore;
mod rootfs_mounts;
mod signal;
mod state;
mod stats;
mod tar_stream;
mod top;
mod update;
mod volumes;
mod wait;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_image::service::ImageService;
use berth_shim::ContainerdClient;

pub use archive::{ArchivePutOptions, PathStat};
pub use attach::{AttachInput, AttachOptions, AttachOutputStream, AttachSession, InputOutcome};
pub use changes::{Change, CHANGE_ADD, CHANGE_DELETE, CHANGE_MODIFY, INIT_PATHS};
pub use container::{Container, Lifecycle};
pub use create::CreateResponse;
pub use df::{images_usage, ImageLayers, ImagesUsage};
pub use exec::{ExecConfig, ExecInspect, ExecProcessConfig, ExecStarted};
pub use health::{
    probe_command, Health, HealthcheckResult, HEALTH_HEALTHY, HEALTH_STARTING, HEALTH_UNHEALTHY,
};
pub use images::ContainerImageUsers;
pub use list::{ListOptions, LIST_ACCEPTED_FILTERS};
pub use network::network_name;
pub use prune::{dir_size, PruneFilters, PruneReport, PRUNE_ACCEPTED_FILTERS};
pub use signal::parse_signal;
pub use state::{human_duration, now_rfc3339, State, ZERO_TIME};
pub use stats::{
    BlkioStats, CpuStats, CpuUsage, MemoryStats, PidsStats, StatsSnapshot, ThrottlingData,
};
pub use tar_stream::TarStream;
pub use top::{TopResponse, DEFAULT_PS_ARGS};
pub use update::{merge as merge_update, verify_update, BLKIO_WEIGHT_UNSUPPORTED};
pub use wait::WaitCondition;

use crate::error::Result;
use crate::events::{Events, Message, MessageExt};
use crate::names::NameRegistry;
use crate::store::Store;

/// Where the daemon keeps things.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Persistent state (`containers/`, `image/`, `overlay/`, `network/`).
    pub data_root: PathBuf,
    /// Runtime state (OCI bundles under `containers/<id>`, `netns/`).
    pub exec_root: PathBuf,
    /// The default bridge and NAT.
    pub network: NetworkOptions,
    /// `--init` and `--init-path`.
    pub init: crate::spec::init::InitOptions,
}

impl DaemonConfig {
    /// A config on these roots with the default networking.
    pub fn new(data_root: impl Into<PathBuf>, exec_root: impl Into<PathBuf>) -> DaemonConfig {
        DaemonConfig {
            data_root: data_root.into(),
            exec_root: exec_root.into(),
            network: NetworkOptions::default(),
            init: Default::default(),
        }
    }
}

/// dockerd's networking flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkOptions {
    /// The default bridge's Linux name (`berth0`).
    pub bridge: String,
    /// `--bip`: the default bridge's address and subnet; picked clear of
    /// the host's routes when `None`.
    pub bip: Option<berth_network::Ipv4Net>,
    /// `--iptables`: program NAT, forwarding and published ports.
    pub iptables: bool,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            bridge: "berth0".into(),
            bip: None,
            iptables: true,
        }
    }
}

/// The daemon: every container, and the layers it drives.
pub struct Daemon {
    config: DaemonConfig,
    images: Arc<dyn ImageService>,
    shims: Arc<dyn ContainerdClient>,
    containers: Store<Container>,
    names: NameRegistry,
    execs: exec::ExecStore,
    events: Events,
    rootfs_mounts: Arc<rootfs_mounts::RootfsMounts>,
    network: Arc<berth_network::NetworkController>,
    volumes: Arc<berth_volume::VolumeStore>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("config", &self.config)
            .finish()
    }
}

impl Daemon {
    /// Opens the daemon on its roots: loads every container from disk and
    /// reconnects to the shims still running (live restore).
    pub async fn open(
        config: DaemonConfig,
        images: Arc<dyn ImageService>,
        shims: Arc<dyn ContainerdClient>,
    ) -> Result<Arc<Daemon>> {
        let net_config = berth_network::ControllerConfig {
            data_dir: config.data_root.join("network"),
            netns_dir: config.exec_root.join("netns"),
            default_bridge: config.network.bridge.clone(),
            default_subnet: config.network.bip,
            iptables: config.network.iptables,
            host_resolv_conf: PathBuf::from("/etc/resolv.conf"),
        };
        let network =
            tokio::task::spawn_blocking(move || berth_network::NetworkController::open(net_config))
                .await
                .map_err(|e| crate::error::DaemonError::System(format!("network task: {e}")))?
                .map_err(crate::error::DaemonError::layer)?;
        let volumes_root = config.data_root.join("volumes");
        let volumes =
            tokio::task::spawn_blocking(move || berth_volume::VolumeStore::open(&volumes_root))
                .await
                .map_err(|e| crate::error::DaemonError::System(format!("volume task: {e}")))?
                .map_err(crate::error::DaemonError::layer)?;
        let daemon = Arc::new(Daemon {
            config,
            images,
            shims,
            containers: Store::new(),
            names: NameRegistry::new(),
            execs: exec::ExecStore::default(),
            events: Events::new(),
            rootfs_mounts: Arc::default(),
            network,
            volumes: Arc::new(volumes),
        });
        restore::restore(&daemon).await?;
        Ok(daemon)
    }

    /// The container `reference` names (full ID, name, or unique ID prefix).
    pub fn get(&self, reference: &str) -> Result<Arc<Container>> {
        self.containers.get(reference)
    }

    /// Every container.
    pub fn list(&self) -> Vec<Arc<Container>> {
        self.containers.list()
    }

    /// The event stream (`docker events`).
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Logs a container event with the container's image, name and labels
    /// (moby's `LogContainerEventWithAttributes`).
    pub(crate) fn container_event(
        &self,
        container: &Container,
        action: &str,
        extra: &[(&str, &str)],
    ) {
        let r = container.record();
        self.events.log(Message::container(
            action,
            &r.id,
            &r.name,
            &r.config.image,
            r.config.labels.as_ref(),
            extra,
        ));
    }

    /// The data root.
    pub fn data_root(&self) -> &Path {
        &self.config.data_root
    }

    /// The daemon's `--init` settings.
    pub(crate) fn init_options(&self) -> &crate::spec::init::InitOptions {
        &self.config.init
    }

    /// The OCI bundle directory of container `id`.
    fn bundle_dir(&self, id: &str) -> PathBuf {
        self.config.exec_root.join("containers").join(id)
    }
}
