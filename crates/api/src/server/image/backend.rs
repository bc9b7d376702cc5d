//! The image seam (moby `api/server/router/image/backend.go`), in terms of
//! the API types. The daemon implements it; the router only decodes, calls
//! and encodes.

use async_trait::async_trait;

use crate::server::{ApiError, BoxStream, ByteStream};
use crate::types::filters::Filters;
use crate::types::image::{
    DeleteItem, HistoryResponseItem, ImageInspect, ImageSummary, JsonMessage, ListOptions,
    PruneReport, PullOptions, RemoveOptions,
};

/// A stream of progress messages (pull, load). An item that is an error
/// ends it: before the first message it becomes the HTTP answer, after it
/// an `{"errorDetail":..}` line (moby's "flushed yet?" rule).
pub type JsonMessageStream = BoxStream<Result<JsonMessage, ApiError>>;

/// The image endpoints (moby `router/image` `imageBackend`,
/// `importExportBackend`, `registryBackend`). Every `name` is as the user
/// gave it: a reference (`busybox`, `127.0.0.1:5000/busybox:latest`,
/// `busybox@sha256:...`), a full or short image ID.
#[async_trait]
pub trait ImageBackend: Send + Sync {
    /// `POST /images/create?fromImage=&tag=&platform=`: starts a pull. A
    /// bad reference or platform fails here (a 4xx); what happens after
    /// is in the stream.
    async fn pull_image(&self, options: PullOptions) -> Result<JsonMessageStream, ApiError>;

    /// `GET /images/json?all=&filters=`.
    async fn images(&self, options: ListOptions) -> Result<Vec<ImageSummary>, ApiError>;

    /// `GET /images/{name}/json`. NotFound `No such image: <name>`.
    async fn image_inspect(&self, name: &str) -> Result<ImageInspect, ApiError>;

    /// `GET /images/{name}/history`.
    async fn image_history(&self, name: &str) -> Result<Vec<HistoryResponseItem>, ApiError>;

    /// `POST /images/{name}/tag?repo=&tag=`: tags image `name` as
    /// `repo:tag` (`tag` empty: `latest`).
    async fn tag_image(&self, name: &str, repo: &str, tag: &str) -> Result<(), ApiError>;

    /// `DELETE /images/{name}?force=&noprune=`: what was untagged and
    /// deleted.
    async fn image_delete(
        &self,
        name: &str,
        options: RemoveOptions,
    ) -> Result<Vec<DeleteItem>, ApiError>;

    /// `POST /images/prune?filters=` (`dangling`, default true; `until`;
    /// `label`, `label!`).
    async fn images_prune(&self, filters: Filters) -> Result<PruneReport, ApiError>;

    /// `GET /images/{name}/get`, `GET /images/get?names=`: the `docker
    /// save` tar of `names`. Unknown names fail here, before any byte.
    async fn export_image(&self, names: Vec<String>) -> Result<ByteStream, ApiError>;

    /// `POST /images/load?quiet=`: reads a `docker save` (or OCI) tar from
    /// `input`; the stream carries `{"stream":"Loaded image: ...\n"}` lines.
    async fn load_image(
        &self,
        input: ByteStream,
        quiet: bool,
    ) -> Result<JsonMessageStream, ApiError>;
}
