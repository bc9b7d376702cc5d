//! A container as the daemon holds it: its persisted record and host
//! config, a lock that serializes lifecycle operations on it, and a watch
//! channel that tells waiters about exits and removal.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::watch;

use crate::config::HostConfig;
use crate::error::Result;
use crate::persist::{self, ContainerRecord};
use crate::store::StoreItem;

/// What waiters observe: a counter of exits, the last exit code, and
/// whether the container is gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// Exits seen since the daemon loaded the container.
    pub exits: u64,
    /// The last exit code.
    pub exit_code: i32,
    /// Set once the container is removed.
    pub removed: bool,
}

/// One container.
#[derive(Debug)]
pub struct Container {
    id: String,
    dir: PathBuf,
    record: Mutex<ContainerRecord>,
    /// Behind a lock because `docker update` changes it in place.
    host_config: Mutex<HostConfig>,
    /// Held across start / stop / remove so they never interleave.
    pub(crate) op: tokio::sync::Mutex<()>,
    lifecycle: watch::Sender<Lifecycle>,
    /// Restart-policy back-off.
    pub(crate) backoff: super::restart::Backoff,
    /// Clients attached before the container's next start.
    pub(crate) pending_attaches: super::attach::PendingAttaches,
    /// The running health-check monitor, if any.
    pub(crate) health_monitor: super::health::MonitorSlot,
}

impl Container {
    /// Wraps a loaded or new record; `dir` is its directory under the data root.
    pub fn new(record: ContainerRecord, host_config: HostConfig, dir: PathBuf) -> Container {
        let exit_code = record.state.exit_code;
        Container {
            id: record.id.clone(),
            dir,
            record: Mutex::new(record),
            host_config: Mutex::new(host_config),
            op: tokio::sync::Mutex::new(()),
            lifecycle: watch::Sender::new(Lifecycle {
                exit_code,
                ..Lifecycle::default()
            }),
            backoff: super::restart::Backoff::default(),
            pending_attaches: Default::default(),
            health_monitor: Default::default(),
        }
    }

    /// A copy of the record (config, state, name).
    pub fn record(&self) -> ContainerRecord {
        self.lock().clone()
    }

    /// A copy of the host config (as created, then as `update` changed it).
    pub fn host_config(&self) -> HostConfig {
        self.host_config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Its directory (`<data root>/containers/<id>`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The json-file log (`<dir>/<id>-json.log`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(format!("{}-json.log", self.id))
    }

    /// Changes the record under its lock and writes it to disk atomically.
    pub fn update<T>(
        &self,
        data_root: &Path,
        f: impl FnOnce(&mut ContainerRecord) -> T,
    ) -> Result<T> {
        let mut record = self.lock();
        let out = f(&mut record);
        persist::save(data_root, &record, &self.host_config())?;
        Ok(out)
    }

    /// Changes the host config and writes it to disk with the record; on a
    /// failed write the old host config stays.
    pub fn update_host_config<T>(
        &self,
        data_root: &Path,
        f: impl FnOnce(&mut HostConfig) -> T,
    ) -> Result<T> {
        // Record first, then host config: the order `update` takes them in.
        let record = self.lock();
        let mut host = self.host_config.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = host.clone();
        let out = f(&mut changed);
        persist::save(data_root, &record, &changed)?;
        *host = changed;
        Ok(out)
    }

    /// Subscribes to exits and removal.
    pub fn subscribe(&self) -> watch::Receiver<Lifecycle> {
        self.lifecycle.subscribe()
    }

    /// Tells waiters about an exit.
    pub(crate) fn notify_exit(&self, exit_code: i32) {
        self.lifecycle.send_modify(|l| {
            l.exits += 1;
            l.exit_code = exit_code;
        });
    }

    /// Tells waiters the container is gone.
    pub(crate) fn notify_removed(&self) {
        self.pending_attaches.clear();
        self.lifecycle.send_modify(|l| l.removed = true);
    }

    fn lock(&self) -> MutexGuard<'_, ContainerRecord> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StoreItem for Container {
    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> String {
        self.lock().name.clone()
    }
}
