//! The volume endpoints (docker/cli's `client/volume_*.go`). Bodies and
//! answers are plain JSON values until Berth has volume models; the
//! daemon answers 501 on all of them for now.

use berth_api::types::filters::Filters;
use serde_json::Value;

use crate::client::{encode, Call, Client};
use crate::error::Result;
use crate::Method;

fn filters_query(call: Call, filters: &Filters) -> Call {
    call.query_opt("filters", (!filters.is_empty()).then(|| filters.to_json()))
}

impl Client {
    /// `GET /volumes?filters=`: `{"Volumes": [...], "Warnings": [...]}`.
    pub async fn volume_list(&self, filters: &Filters) -> Result<Value> {
        self.json(filters_query(Call::new(Method::GET, "/volumes"), filters))
            .await
    }

    /// `POST /volumes/create` with Docker's `CreateOptions` body (`Name`,
    /// `Driver`, `DriverOpts`, `Labels`).
    pub async fn volume_create(&self, body: &Value) -> Result<Value> {
        self.json(Call::new(Method::POST, "/volumes/create").json(body)?)
            .await
    }

    /// `GET /volumes/{name}`.
    pub async fn volume_inspect(&self, name: &str) -> Result<Value> {
        self.json(Call::new(Method::GET, format!("/volumes/{}", encode(name))))
            .await
    }

    /// `DELETE /volumes/{name}?force=`.
    pub async fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        let call = Call::new(Method::DELETE, format!("/volumes/{}", encode(name)))
            .query_opt("force", force.then_some("1"));
        self.empty(call).await
    }

    /// `POST /volumes/prune?filters=`: `{"VolumesDeleted", "SpaceReclaimed"}`.
    pub async fn volumes_prune(&self, filters: &Filters) -> Result<Value> {
        self.json(filters_query(
            Call::new(Method::POST, "/volumes/prune"),
            filters,
        ))
        .await
    }
}
