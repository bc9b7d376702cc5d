//! The Engine API server (moby `api/server`), behind the `server` feature:
//! [`router`] builds the axum [`Router`] over the [`Backends`] the daemon
//! implements ([`ContainerBackend`], [`ExecBackend`], [`SystemBackend`],
//! [`ImageBackend`], [`NetworkBackend`]).
//!
//! - Every route answers with and without a `/v1.NN` prefix; a version
//!   above [`API_VERSION`] or below [`MIN_API_VERSION`] is a 400 with
//!   Docker's message (plain text below the minimum, as moby).
//! - Every matched route's answer has `Server`, `Api-Version`, `OSType`
//!   and `Docker-Experimental` headers.
//! - A backend error's kind picks the status and the body is
//!   `{"message": ...}` (304 without a body); a body that does not decode
//!   is a 400 naming the field; a body over [`MAX_JSON_BODY`] is a 413;
//!   an unknown route, or a known one with the wrong method, is 404
//!   `{"message":"page not found"}` (as moby).
//!
//! Volumes answer 501 (`volumes are not implemented yet in Berth`) on
//! every route. Not served yet: commit, image
//! push/search/import.
//!
//! [`API_VERSION`]: crate::types::system::API_VERSION
//! [`MIN_API_VERSION`]: crate::types::system::MIN_API_VERSION

mod backend;
mod container;
mod error;
mod hijack;
mod image;
mod network;
mod request;
mod system;
mod version;
mod volume;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;

pub use backend::{
    ArchivePutOptions, BoxStream, ByteStream, ContainerBackend, EventsOptions, ExecBackend,
    HijackedReader, HijackedStreams, HijackedWriter, LogsStream, NetworkBackend, PendingWait,
    SystemBackend, VolumeBackend,
};
pub use error::ApiError;
pub use hijack::{MULTIPLEXED_STREAM, RAW_STREAM};
pub use image::{ImageBackend, JsonMessageStream};
pub use network::NETWORKS_NOT_IMPLEMENTED;
pub use request::MAX_JSON_BODY;
pub use version::{compare_versions, RequestedVersion};

/// The backends the router calls. Cheap to clone.
#[derive(Clone)]
pub struct Backends {
    /// The container endpoints.
    pub container: Arc<dyn ContainerBackend>,
    /// The exec endpoints.
    pub exec: Arc<dyn ExecBackend>,
    /// Ping, version, info, events.
    pub system: Arc<dyn SystemBackend>,
    /// The image endpoints.
    pub image: Arc<dyn ImageBackend>,
    /// The network endpoints.
    pub network: Arc<dyn NetworkBackend>,
    /// The volume endpoints.
    pub volume: Arc<dyn VolumeBackend>,
}

impl Backends {
    /// All of them from one value implementing every backend trait (the
    /// daemon's adapter, or a test fake).
    pub fn from_one<B>(backend: Arc<B>) -> Self
    where
        B: ContainerBackend
            + ExecBackend
            + SystemBackend
            + ImageBackend
            + NetworkBackend
            + VolumeBackend
            + 'static,
    {
        Backends {
            container: backend.clone(),
            exec: backend.clone(),
            image: backend.clone(),
            network: backend.clone(),
            volume: backend.clone(),
            system: backend,
        }
    }
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends").finish_non_exhaustive()
    }
}

/// The Engine API router over `backends`: serve it with `axum::serve` on
/// berthd's listeners.
pub fn router(backends: Backends) -> Router {
    let routes: Router = Router::new()
        .merge(system::routes())
        .merge(container::routes())
        .merge(image::routes())
        .merge(volume::routes())
        .merge(network::routes())
        .route_layer(axum::middleware::from_fn(version::check))
        // moby answers a known path with the wrong method as an unknown
        // route (its mux's MethodNotAllowedHandler is the 404 handler), not
        // with a bodiless 405.
        .method_not_allowed_fallback(not_found)
        .fallback(not_found)
        .with_state(backends);
    let versioned = tower::Layer::layer(&axum::middleware::from_fn(version::strip_prefix), routes);
    Router::new().fallback_service(versioned)
}

/// moby's 404 for any unknown path.
async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &crate::types::ErrorResponse::new("page not found"),
    )
}

/// `v` as Go's `json.Encoder` writes it: compact, with a trailing newline.
pub(crate) fn json_line<T: Serialize>(v: &T) -> bytes::Bytes {
    let mut buf = serde_json::to_vec(v).unwrap_or_else(|e| {
        serde_json::to_vec(&crate::types::ErrorResponse::new(format!(
            "encoding the response: {e}"
        )))
        .unwrap_or_default()
    });
    buf.push(b'\n');
    buf.into()
}

/// A JSON answer with `status`.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, v: &T) -> Response {
    let mut r = (status, Body::from(json_line(v))).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
