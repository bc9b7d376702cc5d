//! The exec endpoints (docker/cli's `client/container_exec.go`): create,
//! start (hijacked, or detached), inspect and resize.

use berth_api::types::exec::{ExecConfig, ExecInspect, ExecStartConfig};
use berth_api::types::IdResponse;

use crate::client::{encode, Call, Client, Hijacked};
use crate::containers::container_path;
use crate::error::Result;
use crate::Method;

fn exec_path(id: &str, rest: &str) -> String {
    format!("/exec/{}{rest}", encode(id))
}

impl Client {
    /// `POST /containers/{id}/exec`: the new exec's ID.
    pub async fn exec_create(&self, container: &str, config: &ExecConfig) -> Result<IdResponse> {
        let call = Call::new(Method::POST, container_path(container, "/exec")).json(config)?;
        self.json(call).await
    }

    /// `POST /exec/{id}/start` with `Detach: false`, hijacked: the exec's
    /// stdin one way, its output (multiplexed unless `Tty`) the other.
    pub async fn exec_start_attached(
        &self,
        id: &str,
        config: &ExecStartConfig,
    ) -> Result<Hijacked> {
        let mut config = config.clone();
        config.detach = false;
        let call = Call::new(Method::POST, exec_path(id, "/start")).json(&config)?;
        self.hijack(call).await
    }

    /// `POST /exec/{id}/start` with `Detach: true`: starts the process and
    /// returns at once.
    pub async fn exec_start_detached(&self, id: &str, config: &ExecStartConfig) -> Result<()> {
        let mut config = config.clone();
        config.detach = true;
        let call = Call::new(Method::POST, exec_path(id, "/start")).json(&config)?;
        self.empty(call).await
    }

    /// `GET /exec/{id}/json`.
    pub async fn exec_inspect(&self, id: &str) -> Result<ExecInspect> {
        self.json(Call::new(Method::GET, exec_path(id, "/json")))
            .await
    }

    /// `POST /exec/{id}/resize?h=&w=`.
    pub async fn exec_resize(&self, id: &str, height: u32, width: u32) -> Result<()> {
        let call = Call::new(Method::POST, exec_path(id, "/resize"))
            .query("h", height)
            .query("w", width);
        self.empty(call).await
    }
}
