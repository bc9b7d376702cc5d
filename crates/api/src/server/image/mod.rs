//! The image routes (moby `router/image`): pull, list, inspect, history,
//! tag, delete, prune, save and load.
//!
//! Image names may hold slashes and a registry port
//! (`127.0.0.1:5000/team/app:v1`), so, as moby's `{name:.*}` routes, every
//! named route is one catch-all under `/images/` whose suffix (`/json`,
//! `/history`, `/get`, `/tag`) picks the handler; the fixed routes
//! (`/images/json`, `/images/create`, ...) win over it.

mod backend;

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use futures_util::StreamExt;

pub use backend::{ImageBackend, JsonMessageStream};

use super::error::HttpError;
use super::request::Query;
use super::version::{compare_versions, RequestedVersion};
use super::{json_line, json_response, ApiError, Backends, ByteStream};
use crate::types::image::{AuthConfig, JsonMessage, ListOptions, PullOptions, RemoveOptions};

type Reply = Result<Response, HttpError>;

/// The routes, without the version prefix.
pub(crate) fn routes() -> Router<Backends> {
    // A DELETE of an image literally named like a fixed route still
    // reaches the delete handler (moby's `/images/{name:.*}` matches it).
    macro_rules! also_delete {
        ($name:literal) => {
            axum::routing::delete(|b: State<Backends>, q: RawQuery| remove(b, $name.to_string(), q))
        };
    }
    Router::new()
        .route("/images/create", post(create).merge(also_delete!("create")))
        .route("/images/json", get(list).merge(also_delete!("json")))
        .route("/images/prune", post(prune).merge(also_delete!("prune")))
        .route("/images/get", get(save_many).merge(also_delete!("get")))
        .route("/images/load", post(load).merge(also_delete!("load")))
        .route(
            "/images/{*name}",
            get(get_named).post(post_named).delete(
                |b: State<Backends>, Path(name): Path<String>, q: RawQuery| remove(b, name, q),
            ),
        )
}

/// moby's 404 for a path no route matches.
fn page_not_found() -> Reply {
    Ok(json_response(
        StatusCode::NOT_FOUND,
        &crate::types::ErrorResponse::new("page not found"),
    ))
}

/// `GET /images/{name}/json|history|get`.
async fn get_named(b: State<Backends>, Path(path): Path<String>, q: RawQuery) -> Reply {
    if let Some(name) = path.strip_suffix("/json") {
        inspect(b, name).await
    } else if let Some(name) = path.strip_suffix("/history") {
        history(b, name).await
    } else if let Some(name) = path.strip_suffix("/get") {
        save_one(b, name, q).await
    } else {
        page_not_found()
    }
}

/// `POST /images/{name}/tag`.
async fn post_named(b: State<Backends>, Path(path): Path<String>, q: RawQuery) -> Reply {
    match path.strip_suffix("/tag") {
        Some(name) => tag(b, name, q).await,
        None => page_not_found(),
    }
}

fn with_content_type(mut r: Response, content_type: &'static str) -> Response {
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Streams progress messages as JSON lines. With `answer_first_error`,
/// an error before the first message is the HTTP answer (moby writes
/// nothing until the first message, so the error still has a status);
/// otherwise, and after the first message, an error is an
/// `{"errorDetail":..}` line that ends the stream.
async fn json_stream(mut messages: JsonMessageStream, answer_first_error: bool) -> Reply {
    let first = messages.next().await;
    if answer_first_error {
        if let Some(Err(e)) = first {
            return Err(e.into());
        }
    }
    let lines = futures_util::stream::iter(first)
        .chain(messages)
        .scan(false, |ended, item| {
            if *ended {
                return futures_util::future::ready(None);
            }
            let line = match item {
                Ok(m) => m,
                Err(e) => {
                    *ended = true;
                    JsonMessage::error(e.message)
                }
            };
            futures_util::future::ready(Some(Ok::<_, Infallible>(json_line(&line))))
        });
    Ok(with_content_type(
        Response::new(Body::from_stream(lines)),
        "application/json",
    ))
}

/// `POST /images/create?fromImage=&tag=&platform=`: 200 and the pull's
/// progress lines. A bad reference or platform is a 4xx; so is a failure
/// before the first progress line (an unknown image).
async fn create(State(b): State<Backends>, RawQuery(q): RawQuery, headers: HeaderMap) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let from_image = q.get("fromImage");
    if from_image.is_empty() {
        let what = if q.get("fromSrc").is_empty() {
            "fromImage is required"
        } else {
            "importing an image (fromSrc) is not supported"
        };
        return Err(ApiError::invalid(what).into());
    }
    // For a pull a bad X-Registry-Auth is ignored, as moby does.
    let auth = headers
        .get("X-Registry-Auth")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| AuthConfig::decode_header(v).ok())
        .unwrap_or_default();
    let options = PullOptions {
        // `pull -a` may send `name:`; moby trims one trailing colon.
        from_image: from_image
            .strip_suffix(':')
            .unwrap_or(from_image)
            .to_string(),
        tag: q.get("tag").to_string(),
        platform: q.platform()?,
        auth,
    };
    let messages = b.image.pull_image(options).await?;
    json_stream(messages, true).await
}

/// `GET /images/json?all=&filters=` (and the `filter` glob of API < 1.41).
async fn list(
    State(b): State<Backends>,
    version: Option<Extension<RequestedVersion>>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let mut filters = q.filters()?;
    let legacy = version.is_some_and(|Extension(v)| {
        compare_versions(v.effective(), "1.41") == std::cmp::Ordering::Less
    });
    if legacy && !q.get("filter").is_empty() {
        filters.add("reference", q.get("filter"));
    }
    let options = ListOptions {
        all: q.bool("all"),
        filters,
    };
    let images = b.image.images(options).await?;
    Ok(json_response(StatusCode::OK, &images))
}

/// `GET /images/{name}/json`.
async fn inspect(State(b): State<Backends>, name: &str) -> Reply {
    let inspect = b.image.image_inspect(name).await?;
    Ok(json_response(StatusCode::OK, &inspect))
}

/// `GET /images/{name}/history`.
async fn history(State(b): State<Backends>, name: &str) -> Reply {
    let history = b.image.image_history(name).await?;
    Ok(json_response(StatusCode::OK, &history))
}

/// `POST /images/{name}/tag?repo=&tag=`: 201.
async fn tag(State(b): State<Backends>, name: &str, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let repo = q.get("repo");
    if repo.is_empty() {
        return Err(ApiError::invalid("repository name must have at least one component").into());
    }
    b.image.tag_image(name, repo, q.get("tag")).await?;
    Ok(StatusCode::CREATED.into_response())
}

/// `DELETE /images/{name}?force=&noprune=`: 200 and the untagged/deleted
/// items.
async fn remove(State(b): State<Backends>, name: String, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    if name.trim().is_empty() {
        return Err(ApiError::invalid("image name cannot be blank").into());
    }
    let options = RemoveOptions {
        force: q.bool("force"),
        prune_children: !q.bool("noprune"),
    };
    let items = b.image.image_delete(&name, options).await?;
    Ok(json_response(StatusCode::OK, &items))
}

/// `POST /images/prune?filters=`.
async fn prune(State(b): State<Backends>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let report = b.image.images_prune(q.filters()?).await?;
    Ok(json_response(StatusCode::OK, &report))
}

/// `GET /images/get?names=a&names=b`.
async fn save_many(b: State<Backends>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    save(b, q.all("names")).await
}

/// `GET /images/{name}/get`.
async fn save_one(b: State<Backends>, name: &str, RawQuery(q): RawQuery) -> Reply {
    Query::parse(q.as_deref())?;
    save(b, vec![name.to_string()]).await
}

/// The `docker save` tar. An error before the first byte is the HTTP
/// answer; after it, as moby, an error line is appended and the stream
/// ends.
async fn save(State(b): State<Backends>, names: Vec<String>) -> Reply {
    let mut tar: ByteStream = b.image.export_image(names).await?;
    let first = tar.next().await;
    if let Some(Err(e)) = first {
        return Err(e.into());
    }
    let body = futures_util::stream::iter(first)
        .chain(tar)
        .scan(false, |ended, item| {
            if *ended {
                return futures_util::future::ready(None);
            }
            let chunk = item.unwrap_or_else(|e| {
                *ended = true;
                json_line(&JsonMessage::error(e.message))
            });
            futures_util::future::ready(Some(Ok::<_, Infallible>(chunk)))
        });
    Ok(with_content_type(
        Response::new(Body::from_stream(body)),
        "application/x-tar",
    ))
}

/// `POST /images/load?quiet=` (default quiet, as moby): always 200; a
/// failure is an `{"errorDetail":..}` line.
async fn load(State(b): State<Backends>, RawQuery(q): RawQuery, body: Body) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let input: ByteStream = Box::pin(
        body.into_data_stream()
            .map(|r| r.map_err(|e| ApiError::invalid(format!("reading request body: {e}")))),
    );
    let messages = match b.image.load_image(input, q.bool_or("quiet", true)).await {
        Ok(m) => m,
        Err(e) => Box::pin(futures_util::stream::once(async { Err(e) })),
    };
    json_stream(messages, false).await
}
