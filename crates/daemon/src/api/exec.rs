//! [`ExecBackend`] over the daemon.

use async_trait::async_trait;
use berth_api::server::{ApiError, ExecBackend, HijackedStreams};
use berth_api::types::exec::{ExecConfig, ExecInspect, ExecStartConfig};

use super::{api_error, streams, ApiBackend};

#[async_trait]
impl ExecBackend for ApiBackend {
    async fn exec_create(&self, name: &str, config: ExecConfig) -> Result<String, ApiError> {
        self.daemon.exec_create(name, config).map_err(api_error)
    }

    async fn exec_inspect(&self, id: &str) -> Result<ExecInspect, ApiError> {
        self.daemon.exec_inspect(id).map_err(api_error)
    }

    async fn exec_start(
        &self,
        id: &str,
        config: ExecStartConfig,
    ) -> Result<Option<HijackedStreams>, ApiError> {
        let started = self
            .daemon
            .exec_start(id, config.detach)
            .await
            .map_err(api_error)?;
        let daemon = self.daemon.clone();
        let id = id.to_string();
        Ok(started.attach.map(move |session| {
            let exited = Box::pin(async move {
                let _ = daemon.exec_wait(&id).await;
            });
            streams::hijack_until(session, Some(exited))
        }))
    }

    async fn exec_resize(&self, id: &str, height: u32, width: u32) -> Result<(), ApiError> {
        self.daemon
            .exec_resize(id, height, width)
            .await
            .map_err(api_error)
    }
}
