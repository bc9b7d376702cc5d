//! The volume routes (moby `router/volume`): decode the path, query and
//! body, call the [`VolumeBackend`](super::VolumeBackend), encode the
//! answer with moby's status codes (create 201, delete 204, the rest 200).

use std::cmp::Ordering;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use berth_errdefs::ErrorKind;

use super::error::HttpError;
use super::request::{read_json_default, Query};
use super::version::{compare_versions, RequestedVersion};
use super::{json_response, ApiError, Backends};
use crate::types::volume::VolumeCreateRequest;

type Reply = Result<Response, HttpError>;

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

/// `GET /volumes?filters=`: 200 `{"Volumes", "Warnings"}`.
async fn list(State(b): State<Backends>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let list = b.volume.volume_list(q.filters()?).await?;
    Ok(json_response(StatusCode::OK, &list))
}

/// `POST /volumes/create`: 201 and the volume.
async fn create(State(b): State<Backends>, headers: HeaderMap, body: Body) -> Reply {
    let req: VolumeCreateRequest = read_json_default(&headers, body).await?;
    let volume = b.volume.volume_create(req).await?;
    Ok(json_response(StatusCode::CREATED, &volume))
}

/// `POST /volumes/prune?filters=`: 200 `{"VolumesDeleted",
/// "SpaceReclaimed"}`. Clients before API 1.42 expect every unused volume
/// pruned, not only the anonymous ones.
async fn prune(
    State(b): State<Backends>,
    version: Option<Extension<RequestedVersion>>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let mut filters = q.filters()?;
    let legacy = version
        .is_some_and(|Extension(v)| compare_versions(v.effective(), "1.42") == Ordering::Less);
    if legacy {
        filters.add("all", "true");
    }
    let report = b.volume.volume_prune(filters).await?;
    Ok(json_response(StatusCode::OK, &report))
}

/// `GET /volumes/{name}`: 200 and the volume.
async fn inspect(State(b): State<Backends>, Path(name): Path<String>) -> Reply {
    let volume = b.volume.volume_inspect(&name).await?;
    Ok(json_response(StatusCode::OK, &volume))
}

/// `DELETE /volumes/{name}?force=`: 204.
async fn remove(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    b.volume.volume_remove(&name, q.bool("force")).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /volumes/{name}?version=`: cluster volumes exist only in swarm
/// mode, which Berth does not have.
async fn cluster_update(Path(_name): Path<String>) -> Reply {
    Err(ApiError::new(
        ErrorKind::Unavailable,
        "This node is not a swarm manager. Cluster volumes are not supported by Berth.",
    )
    .into())
}
