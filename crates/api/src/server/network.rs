//! The network routes (moby `router/network`). Berth's networking is not
//! there yet, so every route answers 501 with a clear message instead of
//! pretending to succeed. Each route has its own handler so the network
//! issue can fill them in one by one (decode, call a `NetworkBackend`,
//! encode) without touching the route table.

use axum::extract::Path;
use axum::routing::{get, post};
use axum::Router;
use berth_errdefs::ErrorKind;

use super::error::HttpError;
use super::{ApiError, Backends};

/// What every network route answers for now.
pub const NETWORKS_NOT_IMPLEMENTED: &str = "networks are not implemented yet in Berth";

type Reply = Result<axum::response::Response, HttpError>;

fn not_implemented() -> Reply {
    Err(ApiError::new(ErrorKind::NotImplemented, NETWORKS_NOT_IMPLEMENTED).into())
}

/// The routes, without the version prefix.
pub(crate) fn routes() -> Router<Backends> {
    Router::new()
        .route("/networks", get(list))
        .route("/networks/create", post(create))
        .route("/networks/prune", post(prune))
        .route("/networks/{id}", get(inspect).delete(remove))
        .route("/networks/{id}/connect", post(connect))
        .route("/networks/{id}/disconnect", post(disconnect))
}

/// `GET /networks?filters=`.
async fn list() -> Reply {
    not_implemented()
}

/// `POST /networks/create`.
async fn create() -> Reply {
    not_implemented()
}

/// `POST /networks/prune?filters=`.
async fn prune() -> Reply {
    not_implemented()
}

/// `GET /networks/{id}?verbose=&scope=`.
async fn inspect(Path(_id): Path<String>) -> Reply {
    not_implemented()
}

/// `DELETE /networks/{id}`.
async fn remove(Path(_id): Path<String>) -> Reply {
    not_implemented()
}

/// `POST /networks/{id}/connect`.
async fn connect(Path(_id): Path<String>) -> Reply {
    not_implemented()
}

/// `POST /networks/{id}/disconnect`.
async fn disconnect(Path(_id): Path<String>) -> Reply {
    not_implemented()
}
