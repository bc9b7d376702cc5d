//! The network endpoints. The daemon has no network layer behind them
//! yet, so each answers 501 with a clear message rather than pretending
//! to succeed; the network issue replaces these bodies.

use async_trait::async_trait;
use berth_api::server::{ApiError, NetworkBackend, NETWORKS_NOT_IMPLEMENTED};
use berth_api::types::filters::Filters;
use berth_api::types::network::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest,
    NetworkPruneReport, NetworkResource,
};
use berth_errdefs::ErrorKind;

use super::ApiBackend;

/// The 501 every network call answers for now.
fn not_implemented() -> ApiError {
    ApiError::new(ErrorKind::NotImplemented, NETWORKS_NOT_IMPLEMENTED)
}

#[async_trait]
impl NetworkBackend for ApiBackend {
    async fn network_create(
        &self,
        _req: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ApiError> {
        Err(not_implemented())
    }

    async fn network_list(&self, _filters: Filters) -> Result<Vec<NetworkResource>, ApiError> {
        Err(not_implemented())
    }

    async fn network_inspect(
        &self,
        _id: &str,
        _verbose: bool,
        _scope: Option<String>,
    ) -> Result<NetworkResource, ApiError> {
        Err(not_implemented())
    }

    async fn network_remove(&self, _id: &str) -> Result<(), ApiError> {
        Err(not_implemented())
    }

    async fn network_prune(&self, _filters: Filters) -> Result<NetworkPruneReport, ApiError> {
        Err(not_implemented())
    }

    async fn network_connect(
        &self,
        _id: &str,
        _req: NetworkConnectRequest,
    ) -> Result<(), ApiError> {
        Err(not_implemented())
    }

    async fn network_disconnect(
        &self,
        _id: &str,
        _req: NetworkDisconnectRequest,
    ) -> Result<(), ApiError> {
        Err(not_implemented())
    }
}
