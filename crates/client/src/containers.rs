//! The container endpoints (docker/cli's `client/container_*.go`) as typed
//! methods of [`Client`]: create, start, stop, restart, kill, wait, remove,
//! inspect, list, logs, attach, resize, pause, unpause, rename, top, stats,
//! prune, update, changes (`diff`) and export.

use berth_api::types::container::{
    AttachOptions, Change, ContainerCreateRequest, ContainerInspectResponse, ContainerSummary,
    ContainerUpdateRequest, ContainerUpdateResponse, CreateResponse, ListOptions, LogsOptions,
    PruneReport, RemoveOptions, StatsOptions, StatsSnapshot, StopOptions, TopResponse,
    WaitCondition, WaitResponse,
};
use berth_api::types::filters::Filters;
use hyper::body::Incoming;

use crate::client::{encode, Call, Client, Hijacked};
use crate::error::{ClientError, Result};
use crate::stream::{ByteStream, JsonStream, OutputStream, MAX_BODY};
use crate::Method;

/// `/containers/{id}{rest}` with the ID percent-encoded.
pub(crate) fn container_path(id: &str, rest: &str) -> String {
    format!("/containers/{}{rest}", encode(id))
}

/// Docker's query form of a boolean flag (`1`).
const TRUE: &str = "1";

/// A pending `POST /containers/{id}/wait`: the daemon has answered its
/// headers (so the wait is registered), the body comes when the condition
/// is met. `docker run` asks for it before starting the container so that
/// no exit is missed.
#[derive(Debug)]
pub struct Waiter {
    body: Incoming,
}

impl Waiter {
    /// Waits for the condition and returns the daemon's answer. A body
    /// that ends without an answer is an error (the connection dropped).
    pub async fn result(self) -> Result<WaitResponse> {
        let body = ByteStream::new(self.body).collect(MAX_BODY).await?;
        if body.trim_ascii().is_empty() {
            return Err(ClientError::Decode(
                "the wait ended without an answer".into(),
            ));
        }
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

impl Client {
    /// `POST /containers/create?name=&platform=`.
    pub async fn container_create(
        &self,
        body: &ContainerCreateRequest,
        name: Option<&str>,
        platform: Option<&str>,
    ) -> Result<CreateResponse> {
        let call = Call::new(Method::POST, "/containers/create")
            .query_opt("name", name.filter(|n| !n.is_empty()))
            .query_opt("platform", platform.filter(|p| !p.is_empty()))
            .json(body)?;
        self.json(call).await
    }

    /// `POST /containers/{id}/start` (a running container is not an error).
    pub async fn container_start(&self, id: &str) -> Result<()> {
        self.empty(Call::new(Method::POST, container_path(id, "/start")))
            .await
    }

    /// `POST /containers/{id}/stop?t=&signal=`.
    pub async fn container_stop(&self, id: &str, options: &StopOptions) -> Result<()> {
        self.empty(stop_call(container_path(id, "/stop"), options))
            .await
    }

    /// `POST /containers/{id}/restart?t=&signal=`.
    pub async fn container_restart(&self, id: &str, options: &StopOptions) -> Result<()> {
        self.empty(stop_call(container_path(id, "/restart"), options))
            .await
    }

    /// `POST /containers/{id}/kill?signal=` (the daemon's default: `SIGKILL`).
    pub async fn container_kill(&self, id: &str, signal: Option<&str>) -> Result<()> {
        let call = Call::new(Method::POST, container_path(id, "/kill"))
            .query_opt("signal", signal.filter(|s| !s.is_empty()));
        self.empty(call).await
    }

    /// `POST /containers/{id}/wait?condition=`, answered once the daemon
    /// has registered the wait; [`Waiter::result`] gives the exit.
    pub async fn container_wait_begin(&self, id: &str, condition: WaitCondition) -> Result<Waiter> {
        let call = Call::new(Method::POST, container_path(id, "/wait"))
            .query("condition", condition.as_str());
        let resp = self.send(call).await?;
        Ok(Waiter {
            body: resp.into_body(),
        })
    }

    /// `POST /containers/{id}/wait?condition=` until the condition is met.
    pub async fn container_wait(&self, id: &str, condition: WaitCondition) -> Result<WaitResponse> {
        self.container_wait_begin(id, condition)
            .await?
            .result()
            .await
    }

    /// `DELETE /containers/{id}?force=&v=&link=`.
    pub async fn container_remove(&self, id: &str, options: &RemoveOptions) -> Result<()> {
        let mut call = Call::new(Method::DELETE, container_path(id, ""));
        if options.force {
            call = call.query("force", TRUE);
        }
        if options.remove_volumes {
            call = call.query("v", TRUE);
        }
        if options.remove_link {
            call = call.query("link", TRUE);
        }
        self.empty(call).await
    }

    /// `GET /containers/{id}/json`.
    pub async fn container_inspect(&self, id: &str) -> Result<ContainerInspectResponse> {
        self.json(Call::new(Method::GET, container_path(id, "/json")))
            .await
    }

    /// `GET /containers/{id}/json` as the daemon's bytes, every field and
    /// its order kept (what `inspect` prints and runs templates over).
    pub async fn container_inspect_raw(&self, id: &str, size: bool) -> Result<bytes::Bytes> {
        let mut call = Call::new(Method::GET, container_path(id, "/json"));
        if size {
            call = call.query("size", TRUE);
        }
        ByteStream::new(self.send(call).await?.into_body())
            .collect(MAX_BODY)
            .await
    }

    /// `GET /containers/json?all=&limit=&size=&filters=`.
    pub async fn container_list(&self, options: &ListOptions) -> Result<Vec<ContainerSummary>> {
        self.json(list_call(options)).await
    }

    /// `GET /containers/json` as the daemon's JSON rows (for `--format`).
    pub async fn container_list_raw(
        &self,
        options: &ListOptions,
    ) -> Result<Vec<serde_json::Value>> {
        self.json(list_call(options)).await
    }

    /// `GET /containers/{id}/logs`; `tty` says whether the container has a
    /// TTY (its output is then raw, not multiplexed).
    pub async fn container_logs(
        &self,
        id: &str,
        options: &LogsOptions,
        tty: bool,
    ) -> Result<OutputStream> {
        let mut call = Call::new(Method::GET, container_path(id, "/logs"));
        for (key, on) in [
            ("stdout", options.stdout),
            ("stderr", options.stderr),
            ("timestamps", options.timestamps),
            ("follow", options.follow),
            ("details", options.details),
        ] {
            if on {
                call = call.query(key, TRUE);
            }
        }
        for (key, value) in [
            ("since", &options.since),
            ("until", &options.until),
            ("tail", &options.tail),
        ] {
            if !value.is_empty() {
                call = call.query(key, value);
            }
        }
        let resp = self.send(call).await?;
        Ok(OutputStream::new(resp.into_body(), tty))
    }

    /// `POST /containers/{id}/attach?stream=&stdin=&stdout=&stderr=&logs=&detachKeys=`,
    /// hijacked: write the container's stdin, read its output (multiplexed
    /// unless it has a TTY).
    pub async fn container_attach(&self, id: &str, options: &AttachOptions) -> Result<Hijacked> {
        let mut call = Call::new(Method::POST, container_path(id, "/attach"));
        for (key, on) in [
            ("stream", options.stream),
            ("stdin", options.stdin),
            ("stdout", options.stdout),
            ("stderr", options.stderr),
            ("logs", options.logs),
        ] {
            if on {
                call = call.query(key, TRUE);
            }
        }
        if !options.detach_keys.is_empty() {
            call = call.query("detachKeys", &options.detach_keys);
        }
        self.hijack(call).await
    }

    /// `POST /containers/{id}/resize?h=&w=`.
    pub async fn container_resize(&self, id: &str, height: u32, width: u32) -> Result<()> {
        let call = Call::new(Method::POST, container_path(id, "/resize"))
            .query("h", height)
            .query("w", width);
        self.empty(call).await
    }

    /// `POST /containers/{id}/pause`.
    pub async fn container_pause(&self, id: &str) -> Result<()> {
        self.empty(Call::new(Method::POST, container_path(id, "/pause")))
            .await
    }

    /// `POST /containers/{id}/unpause`.
    pub async fn container_unpause(&self, id: &str) -> Result<()> {
        self.empty(Call::new(Method::POST, container_path(id, "/unpause")))
            .await
    }

    /// `POST /containers/{id}/rename?name=`.
    pub async fn container_rename(&self, id: &str, new_name: &str) -> Result<()> {
        let call = Call::new(Method::POST, container_path(id, "/rename")).query("name", new_name);
        self.empty(call).await
    }

    /// `GET /containers/{id}/top?ps_args=`.
    pub async fn container_top(&self, id: &str, ps_args: Option<&str>) -> Result<TopResponse> {
        let call = Call::new(Method::GET, container_path(id, "/top"))
            .query_opt("ps_args", ps_args.filter(|a| !a.is_empty()));
        self.json(call).await
    }

    /// `GET /containers/{id}/stats?stream=&one-shot=`: one sample per line
    /// while streaming, else a single one.
    pub async fn container_stats(
        &self,
        id: &str,
        options: &StatsOptions,
    ) -> Result<JsonStream<StatsSnapshot>> {
        let call = Call::new(Method::GET, container_path(id, "/stats"))
            .query("stream", if options.stream { "1" } else { "0" })
            .query_opt("one-shot", options.one_shot.then_some(TRUE));
        let resp = self.send(call).await?;
        Ok(JsonStream::new(resp.into_body()))
    }

    /// `POST /containers/prune?filters=`.
    pub async fn containers_prune(&self, filters: &Filters) -> Result<PruneReport> {
        let call = Call::new(Method::POST, "/containers/prune")
            .query_opt("filters", (!filters.is_empty()).then(|| filters.to_json()));
        self.json(call).await
    }

    /// `POST /containers/{id}/update`: new resource limits and restart
    /// policy; the daemon's warnings come back.
    pub async fn container_update(
        &self,
        id: &str,
        update: &ContainerUpdateRequest,
    ) -> Result<ContainerUpdateResponse> {
        let call = Call::new(Method::POST, container_path(id, "/update")).json(update)?;
        self.json(call).await
    }

    /// `GET /containers/{id}/changes`: what changed in the container's
    /// filesystem against its image (`docker diff`).
    pub async fn container_diff(&self, id: &str) -> Result<Vec<Change>> {
        let changes: Option<Vec<Change>> = self
            .json(Call::new(Method::GET, container_path(id, "/changes")))
            .await?;
        Ok(changes.unwrap_or_default())
    }

    /// `GET /containers/{id}/export`: a tar of the container's whole
    /// filesystem, streamed.
    pub async fn container_export(&self, id: &str) -> Result<ByteStream> {
        let resp = self
            .send(Call::new(Method::GET, container_path(id, "/export")))
            .await?;
        Ok(ByteStream::new(resp.into_body()))
    }
}

fn stop_call(path: String, options: &StopOptions) -> Call {
    Call::new(Method::POST, path)
        .query_opt("t", options.timeout)
        .query_opt(
            "signal",
            options.signal.as_deref().filter(|s| !s.is_empty()),
        )
}

fn list_call(options: &ListOptions) -> Call {
    let mut call = Call::new(Method::GET, "/containers/json");
    if options.all {
        call = call.query("all", TRUE);
    }
    if options.size {
        call = call.query("size", TRUE);
    }
    call.query_opt("limit", options.limit).query_opt(
        "filters",
        (!options.filters.is_empty()).then(|| options.filters.to_json()),
    )
}
