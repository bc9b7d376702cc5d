//! The volume endpoints (docker/cli's `client/volume_*.go`), with Berth's
//! typed volume models.

use berth_api::types::filters::Filters;
use berth_api::types::volume::{
    Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneReport,
};
use bytes::Bytes;

use crate::client::{encode, Call, Client};
use crate::error::{ClientError, Result};
use crate::stream::ByteStream;
use crate::Method;

/// The most of an inspect answer read into memory.
const MAX_BODY: usize = 16 << 20;

fn filters_query(call: Call, filters: &Filters) -> Call {
    call.query_opt("filters", (!filters.is_empty()).then(|| filters.to_json()))
}

impl Client {
    /// `GET /volumes?filters=`: the volumes and any warnings.
    pub async fn volume_list(&self, filters: &Filters) -> Result<VolumeListResponse> {
        self.json(filters_query(Call::new(Method::GET, "/volumes"), filters))
            .await
    }

    /// `POST /volumes/create`: the new (or existing) volume.
    pub async fn volume_create(&self, req: &VolumeCreateRequest) -> Result<Volume> {
        self.json(Call::new(Method::POST, "/volumes/create").json(req)?)
            .await
    }

    /// `GET /volumes/{name}`.
    pub async fn volume_inspect(&self, name: &str) -> Result<Volume> {
        Ok(self.volume_inspect_with_raw(name).await?.0)
    }

    /// `GET /volumes/{name}`, decoded and as the daemon's bytes (every
    /// field and its order kept, for `inspect`).
    pub async fn volume_inspect_with_raw(&self, name: &str) -> Result<(Volume, Bytes)> {
        let call = Call::new(Method::GET, format!("/volumes/{}", encode(name)));
        let raw = ByteStream::new(self.send(call).await?.into_body())
            .collect(MAX_BODY)
            .await?;
        let volume =
            serde_json::from_slice(&raw).map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok((volume, raw))
    }

    /// `DELETE /volumes/{name}?force=`.
    pub async fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        let call = Call::new(Method::DELETE, format!("/volumes/{}", encode(name)))
            .query_opt("force", force.then_some("1"));
        self.empty(call).await
    }

    /// `POST /volumes/prune?filters=`: the removed volumes and the bytes
    /// freed.
    pub async fn volumes_prune(&self, filters: &Filters) -> Result<VolumePruneReport> {
        self.json(filters_query(
            Call::new(Method::POST, "/volumes/prune"),
            filters,
        ))
        .await
    }
}
