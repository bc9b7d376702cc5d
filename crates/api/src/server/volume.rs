//! The volume routes (moby `router/volume`). Berth has no volume store
//! yet, so every route answers 501 with a clear message instead of
//! pretending to succeed. Each route has its own handler so the volume
//! issue can fill them in one by one (decode, call a `VolumeBackend`,
//! encode) without touching the route table.

use axum::extract::Path;
use axum::routing::{get, post};
use axum::Router;
use berth_errdefs::ErrorKind;

use super::error::HttpError;
use super::{ApiError, Backends};

/// What every volume route answers for now.
pub const VOLUMES_NOT_IMPLEMENTED: &str = "volumes are not implemented yet in Berth";

type Reply = Result<axum::response::Response, HttpError>;

fn not_implemented() -> Reply {
    Err(ApiError::new(ErrorKind::NotImplemented, VOLUMES_NOT_IMPLEMENTED).into())
}

/// The routes, without the version prefix.
pub(crate) fn routes() -> Router<Backends> {
    Router::new()
        .route("/volumes", get(list))
        .route("/volumes/create", post(create))
        .route("/volumes/prune", post(prune))
        .route(
            "/volumes/{name}",
            get(inspect).delete(remove).put(cluster_update),
        )
}

/// `GET /volumes?filters=`.
async fn list() -> Reply {
    not_implemented()
}

/// `POST /volumes/create`.
async fn create() -> Reply {
    not_implemented()
}

/// `POST /volumes/prune?filters=`.
async fn prune() -> Reply {
    not_implemented()
}

/// `GET /volumes/{name}`.
async fn inspect(Path(_name): Path<String>) -> Reply {
    not_implemented()
}

/// `DELETE /volumes/{name}?force=`.
async fn remove(Path(_name): Path<String>) -> Reply {
    not_implemented()
}

/// `PUT /volumes/{name}?version=` (cluster volumes only, in Docker too).
async fn cluster_update(Path(_name): Path<String>) -> Reply {
    not_implemented()
}
