//! The container and exec routes (moby `router/container`): decode the
//! path, query and body, call the backend, encode the answer.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use futures_util::StreamExt;

use super::backend::{ArchivePutOptions, ByteStream};
use super::error::HttpError;
use super::request::{read_json, read_json_default, Query};
use super::{hijack, json_line, json_response, ApiError, Backends};
use crate::types::container::{
    decode_create_request, AttachOptions, ContainerUpdateRequest, ListOptions, LogsOptions,
    PathStat, RemoveOptions, StatsOptions, StopOptions, WaitCondition, PATH_STAT_HEADER,
};
use crate::types::exec::{ExecConfig, ExecStartConfig};
use crate::types::IdResponse;

type Reply = Result<Response, HttpError>;

/// The routes, without the version prefix.
pub(crate) fn routes() -> Router<Backends> {
    Router::new()
        .route("/containers/create", post(create))
        .route("/containers/json", get(list))
        .route("/containers/prune", post(prune))
        .route("/containers/{name}", delete(remove))
        .route("/containers/{name}/json", get(inspect))
        .route("/containers/{name}/start", post(start))
        .route("/containers/{name}/stop", post(stop))
        .route("/containers/{name}/restart", post(restart))
        .route("/containers/{name}/kill", post(kill))
        .route("/containers/{name}/wait", post(wait))
        .route("/containers/{name}/pause", post(pause))
        .route("/containers/{name}/unpause", post(unpause))
        .route("/containers/{name}/rename", post(rename))
        .route("/containers/{name}/resize", post(resize))
        .route("/containers/{name}/top", get(top))
        .route("/containers/{name}/changes", get(changes))
        .route("/containers/{name}/logs", get(logs))
        .route("/containers/{name}/stats", get(stats))
        .route("/containers/{name}/exec", post(exec_create))
        .route("/exec/{id}/json", get(exec_inspect))
        .route("/exec/{id}/start", post(exec_start))
        .route("/containers/{name}/attach", post(attach))
        .route(
            "/containers/{name}/archive",
            get(archive_get).head(archive_stat).put(archive_put),
        )
        .route("/containers/{name}/export", get(export))
        .route("/containers/{name}/update", post(update))
        .route("/exec/{id}/resize", post(exec_resize))
}

fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /containers/create?name=`: 201 `{"Id", "Warnings"}`.
async fn create(
    State(b): State<Backends>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    q.platform()?;
    let request = read_json(&headers, body, decode_create_request)
        .await?
        .ok_or_else(|| ApiError::invalid("invalid JSON: got EOF while reading request body"))?;
    let created = b.container.create(q.opt("name"), request).await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

/// `GET /containers/json?all=&limit=&size=&filters=`.
async fn list(State(b): State<Backends>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let options = ListOptions {
        all: q.bool("all"),
        limit: q
            .int("limit")?
            .filter(|l| *l > 0)
            .and_then(|l| usize::try_from(l).ok()),
        size: q.bool("size"),
        filters: q.filters()?,
    };
    let list = b.container.list(options).await?;
    Ok(json_response(StatusCode::OK, &list))
}

/// `POST /containers/prune?filters=`.
async fn prune(State(b): State<Backends>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let report = b.container.prune(q.filters()?).await?;
    Ok(json_response(StatusCode::OK, &report))
}

/// `DELETE /containers/{name}?force=&v=&link=`: 204.
async fn remove(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let options = RemoveOptions {
        force: q.bool("force"),
        remove_volumes: q.bool("v"),
        remove_link: q.bool("link"),
    };
    b.container.remove(&name, options).await?;
    no_content()
}

/// `GET /containers/{name}/json?size=`.
async fn inspect(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let info = b.container.inspect(&name, q.bool("size")).await?;
    Ok(json_response(StatusCode::OK, &info))
}

/// `POST /containers/{name}/start`: 204, or 304 when already started.
async fn start(State(b): State<Backends>, Path(name): Path<String>) -> Reply {
    b.container.start(&name).await?;
    no_content()
}

fn stop_options(q: &Query) -> Result<StopOptions, HttpError> {
    Ok(StopOptions {
        signal: q.opt("signal"),
        timeout: q.int("t")?,
    })
}

/// `POST /containers/{name}/stop?t=&signal=`: 204, or 304 when not running.
async fn stop(State(b): State<Backends>, Path(name): Path<String>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    b.container.stop(&name, stop_options(&q)?).await?;
    no_content()
}

/// `POST /containers/{name}/restart?t=&signal=`: 204.
async fn restart(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    b.container.restart(&name, stop_options(&q)?).await?;
    no_content()
}

/// `POST /containers/{name}/kill?signal=`: 204.
async fn kill(State(b): State<Backends>, Path(name): Path<String>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    b.container.kill(&name, q.opt("signal")).await?;
    no_content()
}

/// `POST /containers/{name}/wait?condition=`: 200 at once, the body when
/// the condition is met.
async fn wait(State(b): State<Backends>, Path(name): Path<String>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let raw = q.get("condition");
    let condition = WaitCondition::parse(raw)
        .ok_or_else(|| ApiError::invalid(format!("invalid condition: \"{raw}\"")))?;
    let pending = b.container.wait(&name, condition).await?;
    let body =
        futures_util::stream::once(async move { Ok::<_, Infallible>(json_line(&pending.await)) });
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// `POST /containers/{name}/pause`: 204.
async fn pause(State(b): State<Backends>, Path(name): Path<String>) -> Reply {
    b.container.pause(&name).await?;
    no_content()
}

/// `POST /containers/{name}/unpause`: 204.
async fn unpause(State(b): State<Backends>, Path(name): Path<String>) -> Reply {
    b.container.unpause(&name).await?;
    no_content()
}

/// `POST /containers/{name}/rename?name=`: 204.
async fn rename(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    b.container.rename(&name, q.get("name")).await?;
    no_content()
}

/// The `h` and `w` of a resize, both required.
fn size(q: &Query) -> Result<(u32, u32), HttpError> {
    let dim = |key: &str| -> Result<u32, HttpError> {
        let v = q.int(key)?.ok_or_else(|| {
            HttpError::from(ApiError::invalid(format!("missing parameter: {key}")))
        })?;
        u32::try_from(v).map_err(|_| {
            ApiError::invalid(format!("invalid value for {key}: {v} is out of range")).into()
        })
    };
    Ok((dim("h")?, dim("w")?))
}

/// `POST /containers/{name}/resize?h=&w=`: 200.
async fn resize(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let (h, w) = size(&q)?;
    b.container.resize(&name, h, w).await?;
    Ok(StatusCode::OK.into_response())
}

/// `GET /containers/{name}/top?ps_args=`.
async fn top(State(b): State<Backends>, Path(name): Path<String>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let top = b.container.top(&name, q.get("ps_args")).await?;
    Ok(json_response(StatusCode::OK, &top))
}

/// `GET /containers/{name}/changes`.
async fn changes(State(b): State<Backends>, Path(name): Path<String>) -> Reply {
    let changes = b.container.changes(&name).await?;
    Ok(json_response(StatusCode::OK, &changes))
}

/// `GET /containers/{name}/logs`: the log stream, multiplexed unless the
/// container has a TTY. Asking for neither stdout nor stderr is a 400.
async fn logs(State(b): State<Backends>, Path(name): Path<String>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let options = LogsOptions {
        stdout: q.bool("stdout"),
        stderr: q.bool("stderr"),
        since: q.get("since").to_string(),
        until: q.get("until").to_string(),
        timestamps: q.bool("timestamps"),
        follow: q.bool("follow"),
        tail: q.get("tail").to_string(),
        details: q.bool("details"),
    };
    if !options.stdout && !options.stderr {
        return Err(
            ApiError::invalid("Bad parameters: you must choose at least one stream").into(),
        );
    }
    let logs = b.container.logs(&name, options).await?;
    let content_type = if logs.tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    let body = logs.stream.map(|r| r.map_err(std::io::Error::other));
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(r)
}

/// `GET /containers/{name}/stats?stream=&one-shot=`: one JSON object, or
/// one per line while streaming.
async fn stats(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let options = StatsOptions {
        stream: q.bool_or("stream", true),
        one_shot: q.bool("one-shot"),
    };
    if options.one_shot && options.stream {
        return Err(ApiError::invalid("cannot have stream=true and one-shot=true").into());
    }
    let mut samples = b.container.stats(&name, options).await?;
    if !options.stream {
        let sample = samples
            .next()
            .await
            .ok_or_else(|| ApiError::system("no stats sample"))?;
        return Ok(json_response(StatusCode::OK, &sample));
    }
    let body = samples.map(|s| Ok::<_, Infallible>(json_line(&s)));
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// `POST /containers/{name}/exec`: 201 `{"Id"}`.
async fn exec_create(
    State(b): State<Backends>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let config: ExecConfig = read_json_default(&headers, body).await?;
    let id = b.exec.exec_create(&name, config).await?;
    Ok(json_response(StatusCode::CREATED, &IdResponse { id }))
}

/// `GET /exec/{id}/json`.
async fn exec_inspect(State(b): State<Backends>, Path(id): Path<String>) -> Reply {
    let inspect = b.exec.exec_inspect(&id).await?;
    Ok(json_response(StatusCode::OK, &inspect))
}

/// `POST /exec/{id}/resize?h=&w=`: 200.
async fn exec_resize(
    State(b): State<Backends>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let (h, w) = size(&q)?;
    b.exec.exec_resize(&id, h, w).await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /containers/{name}/attach?stream=&stdin=&stdout=&stderr=&logs=&detachKeys=`:
/// hijacks the connection (101) when the client asks to upgrade.
async fn attach(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    req: axum::extract::Request,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let options = AttachOptions {
        stdin: q.bool("stdin"),
        stdout: q.bool("stdout"),
        stderr: q.bool("stderr"),
        logs: q.bool("logs"),
        stream: q.bool("stream"),
        detach_keys: q.get("detachKeys").to_string(),
    };
    let (mut parts, _) = req.into_parts();
    let upgrade = take_upgrade(&mut parts);
    let streams = b.container.attach(&name, options).await?;
    Ok(hijack::respond(upgrade, streams))
}

/// The connection upgrade of a request that asked for one.
fn take_upgrade(parts: &mut axum::http::request::Parts) -> Option<hyper::upgrade::OnUpgrade> {
    if !hijack::wants_upgrade(&parts.headers) {
        return None;
    }
    parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
}

/// `POST /exec/{id}/start`: 200 with nothing for a detached start, else
/// the hijacked stream.
async fn exec_start(
    State(b): State<Backends>,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Reply {
    let (mut parts, body) = req.into_parts();
    let upgrade = take_upgrade(&mut parts);
    let config: ExecStartConfig = read_json_default(&parts.headers, body).await?;
    match b.exec.exec_start(&id, config).await? {
        None => Ok(StatusCode::OK.into_response()),
        Some(streams) => Ok(hijack::respond(upgrade, streams)),
    }
}

fn archive_path(q: &Query) -> Result<String, HttpError> {
    match q.get("path") {
        "" => Err(ApiError::invalid("path is required").into()),
        p => Ok(p.to_string()),
    }
}

fn stat_header(stat: &PathStat) -> Result<HeaderValue, HttpError> {
    use base64::Engine;
    let json = serde_json::to_vec(stat)
        .map_err(|e| ApiError::system(format!("encoding the path stat: {e}")))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(json);
    HeaderValue::from_str(&encoded)
        .map_err(|e| ApiError::system(format!("encoding the path stat: {e}")).into())
}

fn tar_response(stream: ByteStream) -> Response {
    let body = stream.map(|r| r.map_err(std::io::Error::other));
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    r
}

/// `HEAD /containers/{name}/archive?path=`: the stat, in a header.
async fn archive_stat(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let stat = b.container.archive_stat(&name, &archive_path(&q)?).await?;
    let mut r = StatusCode::OK.into_response();
    r.headers_mut()
        .insert(PATH_STAT_HEADER, stat_header(&stat)?);
    Ok(r)
}

/// `GET /containers/{name}/archive?path=`: a tar, with the stat header.
async fn archive_get(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let (stat, stream) = b.container.archive_get(&name, &archive_path(&q)?).await?;
    let mut r = tar_response(stream);
    r.headers_mut()
        .insert(PATH_STAT_HEADER, stat_header(&stat)?);
    Ok(r)
}

/// `PUT /containers/{name}/archive?path=&noOverwriteDirNonDir=&copyUIDGID=`.
async fn archive_put(
    State(b): State<Backends>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    body: Body,
) -> Reply {
    let q = Query::parse(q.as_deref())?;
    let options = ArchivePutOptions {
        no_overwrite_dir_non_dir: q.bool("noOverwriteDirNonDir"),
        copy_uid_gid: q.bool("copyUIDGID"),
    };
    let stream: ByteStream = Box::pin(
        body.into_data_stream()
            .map(|r| r.map_err(|e| ApiError::invalid(format!("reading the archive: {e}")))),
    );
    b.container
        .archive_put(&name, &archive_path(&q)?, options, stream)
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// `GET /containers/{name}/export`.
async fn export(State(b): State<Backends>, Path(name): Path<String>) -> Reply {
    Ok(tar_response(b.container.export(&name).await?))
}

/// `POST /containers/{name}/update`: 200 `{"Warnings": [...]}`.
async fn update(
    State(b): State<Backends>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let request: ContainerUpdateRequest = read_json_default(&headers, body).await?;
    let answer = b.container.update(&name, request).await?;
    Ok(json_response(StatusCode::OK, &answer))
}
