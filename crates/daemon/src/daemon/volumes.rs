//! The volume operations of the Engine API (moby `daemon/volumes` and
//! `volume/service`): create, list with filters, inspect, remove, prune
//! and usage, each logging Docker's `volume` events. The store itself is
//! `berth-volume`; which container uses which volume is recorded there
//! by [`super::mounts`].

use std::collections::BTreeMap;
use std::sync::Arc;

use berth_api::types::events::EventType;
use berth_api::types::filters::Filters;
use berth_volume::{CreateOptions, VolumeInfo, VolumeStore};

use crate::error::{DaemonError, Result};
use crate::events::{action, Message};
use crate::filters::FilterMatch;

use super::Daemon;

/// The filters `GET /volumes` takes.
pub const VOLUME_LIST_FILTERS: &[&str] = &["dangling", "driver", "label", "name"];
/// The filters `POST /volumes/prune` takes.
pub const VOLUME_PRUNE_FILTERS: &[&str] = &["label", "label!", "all"];

/// A volume with what `system df` adds: bytes used and containers using it.
#[derive(Debug, Clone)]
pub struct VolumeUsage {
    /// The volume.
    pub volume: VolumeInfo,
    /// Bytes its data holds.
    pub size: u64,
    /// Containers referencing it.
    pub ref_count: usize,
}

fn is_true(v: &str) -> Result<bool> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(DaemonError::invalid(format!(
            "invalid filter 'dangling={other}'"
        ))),
    }
}

impl Daemon {
    /// The volume store (for embedders and tests).
    pub fn volumes(&self) -> &VolumeStore {
        &self.volumes
    }

    /// Runs a volume store call on a blocking thread (it walks and
    /// removes directories).
    async fn on_volumes<T: Send + 'static>(
        &self,
        f: impl FnOnce(&VolumeStore) -> berth_volume::Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.volumes.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| DaemonError::System(format!("volume task: {e}")))?
            .map_err(DaemonError::layer)
    }

    pub(crate) fn volume_event(&self, act: &str, name: &str, attrs: &[(&str, &str)]) {
        let attrs: BTreeMap<String, String> = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.events
            .log(Message::new(EventType::Volume, act, name, attrs));
    }

    /// `POST /volumes/create`: the new volume, or the existing one of
    /// that name.
    pub async fn volume_create(&self, opts: CreateOptions) -> Result<VolumeInfo> {
        let existed = match opts.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => self.volumes.get(name).is_ok(),
            None => false,
        };
        let info = self.on_volumes(move |s| s.create(opts)).await?;
        if !existed {
            self.volume_event(action::CREATE, &info.name, &[("driver", &info.driver)]);
        }
        Ok(info)
    }

    /// `GET /volumes/{name}`.
    pub fn volume_get(&self, name: &str) -> Result<VolumeInfo> {
        self.volumes.get(name).map_err(DaemonError::layer)
    }

    /// `GET /volumes?filters=`: `name` (substring or regexp), `driver`,
    /// `label` and `dangling` (no container uses it).
    pub fn volume_list(&self, filters: &Filters) -> Result<Vec<VolumeInfo>> {
        filters.validate(VOLUME_LIST_FILTERS)?;
        let dangling = match filters.get("dangling") {
            [] => None,
            [v] => Some(is_true(v)?),
            _ => return Err(DaemonError::invalid("invalid filter 'dangling'")),
        };
        let volumes = self.volumes.list().map_err(DaemonError::layer)?;
        Ok(volumes
            .into_iter()
            .filter(|v| {
                filters.matches("name", &v.name)
                    && filters.exact_match("driver", &v.driver)
                    && filters.match_labels("label", Some(&v.labels))
                    && dangling.is_none_or(|d| d == self.volumes.refs(&v.name).is_empty())
            })
            .collect())
    }

    /// `DELETE /volumes/{name}`: Conflict while a container uses it.
    pub async fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        let existed = self.volumes.get(name).ok();
        let owned = name.to_string();
        self.on_volumes(move |s| s.remove(&owned, force)).await?;
        if let Some(v) = existed {
            self.volume_event(action::DESTROY, name, &[("driver", &v.driver)]);
        }
        Ok(())
    }

    /// `POST /volumes/prune`: removes the volumes no container uses,
    /// only anonymous ones unless `all=true`, that pass the label
    /// filters; returns their names and the bytes freed.
    pub async fn volume_prune(&self, filters: &Filters) -> Result<(Vec<String>, u64)> {
        filters.validate(VOLUME_PRUNE_FILTERS)?;
        let all = match filters.get("all") {
            [] => false,
            [v] => {
                is_true(v).map_err(|_| DaemonError::invalid(format!("invalid filter 'all={v}'")))?
            }
            _ => return Err(DaemonError::invalid("invalid filter 'all'")),
        };
        let labels = super::PruneFilters::from_filters(filters.clone());
        let candidates: Vec<VolumeInfo> = self
            .volumes
            .list()
            .map_err(DaemonError::layer)?
            .into_iter()
            .filter(|v| {
                (all || v.is_anonymous())
                    && self.volumes.refs(&v.name).is_empty()
                    && labels.match_labels(Some(&v.labels))
            })
            .collect();
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for v in candidates {
            let name = v.name.clone();
            let removed = self
                .on_volumes(move |s| {
                    let size = s.usage(&name).unwrap_or(0);
                    s.remove(&name, false).map(|()| size)
                })
                .await;
            match removed {
                Ok(size) => {
                    reclaimed += size;
                    self.volume_event(action::DESTROY, &v.name, &[("driver", &v.driver)]);
                    deleted.push(v.name);
                }
                // In use since the list, or a filesystem error: skipped, as moby.
                Err(e) => tracing::warn!(volume = %v.name, error = %e, "cannot prune a volume"),
            }
        }
        self.volume_event(action::PRUNE, "", &[("reclaimed", &reclaimed.to_string())]);
        Ok((deleted, reclaimed))
    }

    /// Every volume with its size and users (`system df`).
    pub async fn volumes_usage(self: &Arc<Self>) -> Result<Vec<VolumeUsage>> {
        let daemon = self.clone();
        self.on_volumes(move |s| {
            let mut out = Vec::new();
            for volume in s.list()? {
                let size = s.usage(&volume.name).unwrap_or(0);
                let ref_count = daemon.volumes.refs(&volume.name).len();
                out.push(VolumeUsage {
                    volume,
                    size,
                    ref_count,
                });
            }
            Ok(out)
        })
        .await
    }
}
