//! `docker cp` and `docker export`: a path's stat, a tar of it, and
//! extracting a tar into a container.

use base64::Engine;
use berth_api::types::container::{PathStat, PATH_STAT_HEADER};
use bytes::Bytes;

use crate::client::{Call, Client};
use crate::error::{ClientError, Result};
use crate::stream::ByteStream;
use crate::Method;

/// The most a copied archive may hold in memory.
pub const MAX_ARCHIVE: usize = 1 << 30;

fn path_stat(resp: &http::Response<hyper::body::Incoming>) -> Result<PathStat> {
    let header = resp
        .headers()
        .get(PATH_STAT_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ClientError::Decode(format!("no {PATH_STAT_HEADER} header")))?;
    let json = base64::engine::general_purpose::STANDARD
        .decode(header)
        .map_err(|e| ClientError::Decode(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| ClientError::Decode(e.to_string()))
}

impl Client {
    /// `HEAD /containers/{id}/archive?path=`: the stat of `path`.
    pub async fn container_stat_path(&self, container: &str, path: &str) -> Result<PathStat> {
        let resp = self
            .send(
                Call::new(Method::HEAD, format!("/containers/{container}/archive"))
                    .query("path", path),
            )
            .await?;
        path_stat(&resp)
    }

    /// `GET /containers/{id}/archive?path=`: the stat and a tar of `path`.
    pub async fn container_archive(
        &self,
        container: &str,
        path: &str,
    ) -> Result<(PathStat, Bytes)> {
        let resp = self
            .send(
                Call::new(Method::GET, format!("/containers/{container}/archive"))
                    .query("path", path),
            )
            .await?;
        let stat = path_stat(&resp)?;
        let tar = ByteStream::new(resp.into_body())
            .collect(MAX_ARCHIVE)
            .await?;
        Ok((stat, tar))
    }

    /// `PUT /containers/{id}/archive?path=`: extracts `tar` into the
    /// directory `dir`.
    pub async fn container_put_archive(
        &self,
        container: &str,
        dir: &str,
        tar: Bytes,
    ) -> Result<()> {
        self.empty(
            Call::new(Method::PUT, format!("/containers/{container}/archive"))
                .query("path", dir)
                .bytes(tar, "application/x-tar"),
        )
        .await
    }
}
