//! The network endpoints (docker/cli's `client/network_*.go`). Bodies and
//! answers are plain JSON values until Berth has network models; the
//! daemon answers 501 on all of them for now.

use berth_api::types::filters::Filters;
use serde_json::Value;

use crate::client::{encode, Call, Client};
use crate::error::Result;
use crate::Method;

fn network_path(id: &str, rest: &str) -> String {
    format!("/networks/{}{rest}", encode(id))
}

impl Client {
    /// `GET /networks?filters=`: the networks as JSON objects.
    pub async fn network_list(&self, filters: &Filters) -> Result<Vec<Value>> {
        let call = Call::new(Method::GET, "/networks")
            .query_opt("filters", (!filters.is_empty()).then(|| filters.to_json()));
        let list: Option<Vec<Value>> = self.json(call).await?;
        Ok(list.unwrap_or_default())
    }

    /// `POST /networks/create` with Docker's `CreateRequest` body; answers
    /// `{"Id", "Warning"}`.
    pub async fn network_create(&self, body: &Value) -> Result<Value> {
        self.json(Call::new(Method::POST, "/networks/create").json(body)?)
            .await
    }

    /// `GET /networks/{id}?verbose=`.
    pub async fn network_inspect(&self, id: &str, verbose: bool) -> Result<Value> {
        let call = Call::new(Method::GET, network_path(id, ""))
            .query_opt("verbose", verbose.then_some("true"));
        self.json(call).await
    }

    /// `DELETE /networks/{id}`.
    pub async fn network_remove(&self, id: &str) -> Result<()> {
        self.empty(Call::new(Method::DELETE, network_path(id, "")))
            .await
    }

    /// `POST /networks/{id}/connect` with `{"Container", "EndpointConfig"}`.
    pub async fn network_connect(&self, id: &str, body: &Value) -> Result<()> {
        self.empty(Call::new(Method::POST, network_path(id, "/connect")).json(body)?)
            .await
    }

    /// `POST /networks/{id}/disconnect` with `{"Container", "Force"}`.
    pub async fn network_disconnect(&self, id: &str, body: &Value) -> Result<()> {
        self.empty(Call::new(Method::POST, network_path(id, "/disconnect")).json(body)?)
            .await
    }

    /// `POST /networks/prune?filters=`: `{"NetworksDeleted": [...]}`.
    pub async fn networks_prune(&self, filters: &Filters) -> Result<Value> {
        let call = Call::new(Method::POST, "/networks/prune")
            .query_opt("filters", (!filters.is_empty()).then(|| filters.to_json()));
        self.json(call).await
    }
}
