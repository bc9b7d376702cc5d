//! The network endpoints (docker/cli's `client/network_*.go`), typed with
//! `berth_api::types::network`.

use berth_api::types::container::EndpointSettings;
use berth_api::types::filters::Filters;
use berth_api::types::network::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest,
    NetworkInspectOptions, NetworkPruneReport, NetworkResource,
};
use bytes::Bytes;

use crate::client::{encode, Call, Client};
use crate::error::{ClientError, Result};
use crate::stream::{ByteStream, MAX_BODY};
use crate::version::parse_version;
use crate::Method;

fn network_path(id: &str, rest: &str) -> String {
    format!("/networks/{}{rest}", encode(id))
}

/// `?filters=` when there are any.
fn with_filters(call: Call, filters: &Filters) -> Call {
    call.query_opt("filters", (!filters.is_empty()).then(|| filters.to_json()))
}

impl Client {
    /// `POST /networks/create`: creates `req.name`. Daemons older than API
    /// 1.44 get `CheckDuplicate: true`, as Docker's client sends, so that
    /// they refuse a duplicate name as newer ones always do.
    pub async fn network_create(
        &self,
        req: &NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse> {
        let mut req = req.clone();
        let version = self.api_version().await?;
        if parse_version(&version).is_some_and(|v| v < (1, 44)) {
            req.check_duplicate = Some(true);
        }
        self.json(Call::new(Method::POST, "/networks/create").json(&req)?)
            .await
    }

    /// `GET /networks?filters=`: the networks as the daemon lists them.
    pub async fn network_list(&self, filters: &Filters) -> Result<Vec<NetworkResource>> {
        let call = with_filters(Call::new(Method::GET, "/networks"), filters);
        let list: Option<Vec<NetworkResource>> = self.json(call).await?;
        Ok(list.unwrap_or_default())
    }

    /// `GET /networks/{id}?verbose=&scope=`: one network, decoded.
    pub async fn network_inspect(
        &self,
        id: &str,
        options: &NetworkInspectOptions,
    ) -> Result<NetworkResource> {
        Ok(self.network_inspect_with_raw(id, options).await?.0)
    }

    /// `GET /networks/{id}?verbose=&scope=`: one network, decoded and as
    /// the daemon's bytes (every field and its order kept, for `inspect`).
    pub async fn network_inspect_with_raw(
        &self,
        id: &str,
        options: &NetworkInspectOptions,
    ) -> Result<(NetworkResource, Bytes)> {
        let call = Call::new(Method::GET, network_path(id, ""))
            .query_opt("verbose", options.verbose.then_some("true"))
            .query_opt(
                "scope",
                Some(options.scope.as_str()).filter(|s| !s.is_empty()),
            );
        let raw = ByteStream::new(self.send(call).await?.into_body())
            .collect(MAX_BODY)
            .await?;
        let network =
            serde_json::from_slice(&raw).map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok((network, raw))
    }

    /// `DELETE /networks/{id}`.
    pub async fn network_remove(&self, id: &str) -> Result<()> {
        self.empty(Call::new(Method::DELETE, network_path(id, "")))
            .await
    }

    /// `POST /networks/{id}/connect`: attaches `container`, with `config`
    /// for the endpoint when given.
    pub async fn network_connect(
        &self,
        id: &str,
        container: &str,
        config: Option<&EndpointSettings>,
    ) -> Result<()> {
        let body = NetworkConnectRequest {
            container: container.to_string(),
            endpoint_config: config.cloned(),
        };
        self.empty(Call::new(Method::POST, network_path(id, "/connect")).json(&body)?)
            .await
    }

    /// `POST /networks/{id}/disconnect`: detaches `container`.
    pub async fn network_disconnect(&self, id: &str, container: &str, force: bool) -> Result<()> {
        let body = NetworkDisconnectRequest {
            container: container.to_string(),
            force,
        };
        self.empty(Call::new(Method::POST, network_path(id, "/disconnect")).json(&body)?)
            .await
    }

    /// `POST /networks/prune?filters=`: the names of the removed networks.
    pub async fn networks_prune(&self, filters: &Filters) -> Result<NetworkPruneReport> {
        let call = with_filters(Call::new(Method::POST, "/networks/prune"), filters);
        self.json(call).await
    }
}
