//! The network routes (moby `router/network`): decode the path, query and
//! body, call the [`NetworkBackend`](super::NetworkBackend), encode the
//! answer with moby's status codes (create 201, delete 204, the rest 200).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::HttpError;
use super::request::{read_json_default, Query};
use super::{json_response, Backends};
use crate::types::network::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
};

/// What a network backend that has no networks answers (the daemon's
/// placeholder until its network layer serves them).
pub const NETWORKS_NOT_IMPLEMENTED: &str = "networks are not implemented yet in Berth";

type Reply = Result<Response, HttpError>;

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

/// `GET /networks?filters=`: 200 and the list (`[]` when empty).
async fn list(State(b): State<Backends>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let list = b.network.network_list(q.filters()?).await?;
    Ok(json_response(StatusCode::OK, &list))
}

/// `POST /networks/create`: 201 `{"Id", "Warning"}`. An empty body is
/// the zero request, as moby's `ReadJSON` leaves it (the backend then
/// refuses the empty name).
async fn create(State(b): State<Backends>, headers: HeaderMap, body: Body) -> Reply {
    let req: NetworkCreateRequest = read_json_default(&headers, body).await?;
    let created = b.network.network_create(req).await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

/// `POST /networks/prune?filters=`: 200 `{"NetworksDeleted"}`.
async fn prune(State(b): State<Backends>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let report = b.network.network_prune(q.filters()?).await?;
    Ok(json_response(StatusCode::OK, &report))
}

/// `GET /networks/{id}?verbose=&scope=`: 200 and the network.
async fn inspect(
    State(b): State<Backends>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let network = b
        .network
        .network_inspect(&id, q.bool("verbose"), q.opt("scope"))
        .await?;
    Ok(json_response(StatusCode::OK, &network))
}

/// `DELETE /networks/{id}`: 204.
async fn remove(State(b): State<Backends>, Path(id): Path<String>) -> Reply {
    b.network.network_remove(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /networks/{id}/connect` `{"Container", "EndpointConfig"}`: 200.
async fn connect(
    State(b): State<Backends>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let req: NetworkConnectRequest = read_json_default(&headers, body).await?;
    b.network.network_connect(&id, req).await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /networks/{id}/disconnect` `{"Container", "Force"}`: 200.
async fn disconnect(
    State(b): State<Backends>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let req: NetworkDisconnectRequest = read_json_default(&headers, body).await?;
    b.network.network_disconnect(&id, req).await?;
    Ok(StatusCode::OK.into_response())
}
