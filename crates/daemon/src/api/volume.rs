//! The volume endpoints over the daemon: Docker's request shapes in,
//! `Volume`s out (RFC 3339 creation time, `null` for empty labels and
//! options, as moby encodes them).

use async_trait::async_trait;
use berth_api::server::{ApiError, VolumeBackend};
use berth_api::types::filters::Filters;
use berth_api::types::volume::{
    Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneReport,
};
use berth_volume::{CreateOptions, VolumeInfo};

use super::{api_error, ApiBackend};

/// A store volume as the API shows it.
pub(crate) fn to_api(v: VolumeInfo) -> Volume {
    let created = humantime::format_rfc3339_seconds(v.created_at).to_string();
    Volume {
        created_at: created,
        driver: v.driver,
        labels: Some(v.labels).filter(|l| !l.is_empty()),
        mountpoint: v.mountpoint.to_string_lossy().into_owned(),
        name: v.name,
        options: Some(v.options).filter(|o| !o.is_empty()),
        scope: "local".into(),
        usage_data: None,
    }
}

#[async_trait]
impl VolumeBackend for ApiBackend {
    async fn volume_list(&self, filters: Filters) -> Result<VolumeListResponse, ApiError> {
        let volumes = self.daemon().volume_list(&filters).map_err(api_error)?;
        Ok(VolumeListResponse {
            volumes: volumes.into_iter().map(to_api).collect(),
            warnings: Vec::new(),
        })
    }

    async fn volume_create(&self, req: VolumeCreateRequest) -> Result<Volume, ApiError> {
        let opts = CreateOptions {
            name: Some(req.name).filter(|n| !n.is_empty()),
            driver: Some(req.driver).filter(|d| !d.is_empty()),
            labels: req.labels,
            options: req.driver_opts,
        };
        let v = self.daemon().volume_create(opts).await.map_err(api_error)?;
        Ok(to_api(v))
    }

    async fn volume_inspect(&self, name: &str) -> Result<Volume, ApiError> {
        self.daemon()
            .volume_get(name)
            .map(to_api)
            .map_err(api_error)
    }

    async fn volume_remove(&self, name: &str, force: bool) -> Result<(), ApiError> {
        self.daemon()
            .volume_remove(name, force)
            .await
            .map_err(api_error)
    }

    async fn volume_prune(&self, filters: Filters) -> Result<VolumePruneReport, ApiError> {
        let (deleted, reclaimed) = self
            .daemon()
            .volume_prune(&filters)
            .await
            .map_err(api_error)?;
        Ok(VolumePruneReport {
            volumes_deleted: deleted,
            space_reclaimed: reclaimed,
        })
    }
}
