//! The system routes (moby `router/system`): `/_ping`, `/version`,
//! `/info`, `/events`, `/system/df`.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;

use super::backend::EventsOptions;
use super::error::HttpError;
use super::request::Query;
use super::{json_line, json_response, ApiError, Backends};
use crate::types::df::DiskUsageOptions;

/// The routes, without the version prefix.
pub(crate) fn routes() -> Router<Backends> {
    Router::new()
        .route("/_ping", get(ping).head(ping))
        .route("/version", get(version))
        .route("/info", get(info))
        .route("/events", get(events))
        .route("/system/df", get(disk_usage))
}

/// `GET`/`HEAD /_ping`: `OK` (no body for HEAD) with the headers the CLI
/// negotiates from (the version middleware adds `Api-Version`, `OSType`
/// and `Docker-Experimental`).
async fn ping(method: Method) -> Response {
    let mut r = if method == Method::HEAD {
        let mut r = StatusCode::OK.into_response();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        r
    } else {
        "OK".into_response()
    };
    let h = r.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert("Builder-Version", HeaderValue::from_static("1"));
    h.insert("Swarm", HeaderValue::from_static("inactive"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// `GET /version`.
async fn version(State(b): State<Backends>) -> Result<Response, HttpError> {
    let v = b.system.version().await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// `GET /info`.
async fn info(State(b): State<Backends>) -> Result<Response, HttpError> {
    let i = b.system.info().await?;
    Ok(json_response(StatusCode::OK, &i))
}

/// `GET /events?since=&until=&filters=`: one JSON message per line.
async fn events(State(b): State<Backends>, RawQuery(q): RawQuery) -> Result<Response, HttpError> {
    let q = Query::parse(q.as_deref())?;
    let options = EventsOptions {
        since: q.get("since").to_string(),
        until: q.get("until").to_string(),
        filters: q.filters()?,
    };
    let events = b.system.events(options).await?;
    let body = events.map(|m| Ok::<_, Infallible>(json_line(&m)));
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// `GET /system/df?type=`: the disk usage of the selected object kinds
/// (every kind when `type` is absent).
async fn disk_usage(
    State(b): State<Backends>,
    RawQuery(q): RawQuery,
) -> Result<Response, HttpError> {
    let q = Query::parse(q.as_deref())?;
    let options = DiskUsageOptions::from_types(&q.all("type")).map_err(ApiError::invalid)?;
    let du = b.system.disk_usage(options).await?;
    Ok(json_response(StatusCode::OK, &du))
}
