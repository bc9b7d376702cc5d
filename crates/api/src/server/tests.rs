//! The router driven in-process with `tower::ServiceExt::oneshot` over a
//! fake backend (a fake at the seam: these test the HTTP layer only).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use berth_errdefs::ErrorKind;
use futures_util::FutureExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;
use crate::types::container::{
    AttachOptions, Change, ContainerCreateRequest, ContainerInspectResponse, ContainerSummary,
    CreateResponse, ListOptions, LogsOptions, PathStat, PruneReport, RemoveOptions, StatsOptions,
    StatsSnapshot, StopOptions, TopResponse, WaitCondition, WaitResponse,
};
use crate::types::events::Message;
use crate::types::exec::{ExecConfig, ExecInspect, ExecProcessConfig, ExecStartConfig};
use crate::types::filters::Filters;
use crate::types::system::{SystemInfo, SystemVersion, API_VERSION};

mod abuse;
mod ctl;
mod images;
mod networks;
mod volumes;

/// Records every call as a line; containers named after an error kind
/// fail with it (`missing` NotFound, `running` NotModified for start and
/// stop, `busy` Conflict, `broken` System).
#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn lookup(&self, name: &str) -> Result<(), ApiError> {
        match name {
            "missing" => Err(ApiError::not_found(format!("No such container: {name}"))),
            "busy" => Err(ApiError::new(
                ErrorKind::Conflict,
                format!("container {name} is busy"),
            )),
            "broken" => Err(ApiError::system("the disk caught fire")),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl ContainerBackend for Fake {
    async fn create(
        &self,
        name: Option<String>,
        request: ContainerCreateRequest,
    ) -> Result<CreateResponse, ApiError> {
        self.record(format!(
            "create name={name:?} image={} memory={:?}",
            request.config.image,
            request.host_config.map(|h| h.memory)
        ));
        Ok(CreateResponse {
            id: "c0ffee".into(),
            warnings: vec![],
        })
    }
    async fn start(&self, name: &str) -> Result<(), ApiError> {
        self.lookup(name)?;
        if name == "running" {
            return Err(ApiError::new(
                ErrorKind::NotModified,
                "container already started",
            ));
        }
        self.record(format!("start {name}"));
        Ok(())
    }
    async fn stop(&self, name: &str, options: StopOptions) -> Result<(), ApiError> {
        self.lookup(name)?;
        self.record(format!("stop {name} {options:?}"));
        Ok(())
    }
    async fn restart(&self, name: &str, options: StopOptions) -> Result<(), ApiError> {
        self.lookup(name)?;
        self.record(format!("restart {name} {options:?}"));
        Ok(())
    }
    async fn kill(&self, name: &str, signal: Option<String>) -> Result<(), ApiError> {
        self.lookup(name)?;
        self.record(format!("kill {name} {signal:?}"));
        Ok(())
    }
    async fn wait(&self, name: &str, condition: WaitCondition) -> Result<PendingWait, ApiError> {
        self.lookup(name)?;
        self.record(format!("wait {name} {}", condition.as_str()));
        Ok(async {
            WaitResponse {
                error: None,
                status_code: 3,
            }
        }
        .boxed())
    }
    async fn remove(&self, name: &str, options: RemoveOptions) -> Result<(), ApiError> {
        self.lookup(name)?;
        self.record(format!("remove {name} force={}", options.force));
        Ok(())
    }
    async fn inspect(&self, name: &str, size: bool) -> Result<ContainerInspectResponse, ApiError> {
        self.lookup(name)?;
        self.record(format!("inspect {name} size={size}"));
        Ok(ContainerInspectResponse {
            id: "c0ffee".into(),
            name: format!("/{name}"),
            ..Default::default()
        })
    }
    async fn list(&self, options: ListOptions) -> Result<Vec<ContainerSummary>, ApiError> {
        self.record(format!(
            "list all={} limit={:?} status={:?}",
            options.all,
            options.limit,
            options.filters.get("status")
        ));
        Ok(vec![ContainerSummary {
            id: "c0ffee".into(),
            ..Default::default()
        }])
    }
    async fn logs(&self, name: &str, _options: LogsOptions) -> Result<LogsStream, ApiError> {
        self.lookup(name)?;
        Ok(LogsStream {
            tty: false,
            stream: Box::pin(futures_util::stream::iter([Ok(bytes::Bytes::from_static(
                b"\x01\0\0\0\0\0\0\x03hi\n",
            ))])),
        })
    }
    async fn attach(
        &self,
        name: &str,
        options: AttachOptions,
    ) -> Result<HijackedStreams, ApiError> {
        self.lookup(name)?;
        self.record(format!(
            "attach {name} stream={} keys={}",
            options.stream, options.detach_keys
        ));
        Ok(HijackedStreams {
            stdin: None,
            output: Box::pin(std::io::Cursor::new(b"out\n".to_vec())),
            tty: true,
        })
    }
    async fn resize(&self, name: &str, height: u32, width: u32) -> Result<(), ApiError> {
        self.lookup(name)?;
        self.record(format!("resize {name} {height}x{width}"));
        Ok(())
    }
    async fn pause(&self, name: &str) -> Result<(), ApiError> {
        self.lookup(name)?;
        self.record(format!("pause {name}"));
        Ok(())
    }
    async fn unpause(&self, name: &str) -> Result<(), ApiError> {
        self.lookup(name)?;
        self.record(format!("unpause {name}"));
        Ok(())
    }
    async fn rename(&self, name: &str, new_name: &str) -> Result<(), ApiError> {
        self.lookup(name)?;
        self.record(format!("rename {name} {new_name}"));
        Ok(())
    }
    async fn top(&self, name: &str, ps_args: &str) -> Result<TopResponse, ApiError> {
        self.lookup(name)?;
        self.record(format!("top {name} {ps_args}"));
        Ok(TopResponse {
            titles: vec!["PID".into()],
            processes: vec![vec!["1".into()]],
        })
    }
    async fn stats(
        &self,
        name: &str,
        options: StatsOptions,
    ) -> Result<BoxStream<StatsSnapshot>, ApiError> {
        self.lookup(name)?;
        self.record(format!("stats {name} stream={}", options.stream));
        let one = StatsSnapshot::empty("/web", "c0ffee");
        Ok(Box::pin(futures_util::stream::iter([one.clone(), one])))
    }
    async fn changes(&self, name: &str) -> Result<Vec<Change>, ApiError> {
        self.lookup(name)?;
        Ok(vec![Change {
            path: "/tmp".into(),
            kind: 1,
        }])
    }
    async fn prune(&self, filters: Filters) -> Result<PruneReport, ApiError> {
        self.record(format!("prune until={:?}", filters.get("until")));
        Ok(PruneReport::default())
    }
    async fn archive_stat(&self, name: &str, path: &str) -> Result<PathStat, ApiError> {
        self.lookup(name)?;
        self.record(format!("stat {name} {path}"));
        Ok(PathStat {
            name: "hosts".into(),
            size: 3,
            ..PathStat::default()
        })
    }
    async fn archive_get(
        &self,
        name: &str,
        path: &str,
    ) -> Result<(PathStat, ByteStream), ApiError> {
        let stat = self.archive_stat(name, path).await?;
        let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(
            bytes::Bytes::from_static(b"tar!"),
        )]));
        Ok((stat, body))
    }
    async fn archive_put(
        &self,
        name: &str,
        path: &str,
        options: ArchivePutOptions,
        mut body: ByteStream,
    ) -> Result<(), ApiError> {
        use futures_util::StreamExt;
        self.lookup(name)?;
        let mut n = 0;
        while let Some(chunk) = body.next().await {
            n += chunk?.len();
        }
        self.record(format!(
            "put {name} {path} {n} bytes nooverwrite={}",
            options.no_overwrite_dir_non_dir
        ));
        Ok(())
    }
    async fn export(&self, name: &str) -> Result<ByteStream, ApiError> {
        self.lookup(name)?;
        Ok(Box::pin(futures_util::stream::iter([Ok(
            bytes::Bytes::from_static(b"all"),
        )])))
    }
}

#[async_trait]
impl ExecBackend for Fake {
    async fn exec_create(&self, name: &str, config: ExecConfig) -> Result<String, ApiError> {
        self.lookup(name)?;
        self.record(format!("exec_create {name} {:?}", config.cmd));
        Ok("e1".into())
    }
    async fn exec_inspect(&self, id: &str) -> Result<ExecInspect, ApiError> {
        if id != "e1" {
            return Err(ApiError::not_found(format!("No such exec instance: {id}")));
        }
        Ok(ExecInspect {
            id: id.into(),
            running: false,
            exit_code: Some(0),
            process_config: ExecProcessConfig {
                tty: false,
                entrypoint: "true".into(),
                arguments: vec![],
                privileged: Some(false),
                user: String::new(),
            },
            open_stdin: false,
            open_stderr: false,
            open_stdout: false,
            can_remove: true,
            container_id: "c0ffee".into(),
            detach_keys: String::new(),
            pid: 0,
        })
    }
    async fn exec_start(
        &self,
        _id: &str,
        _config: ExecStartConfig,
    ) -> Result<Option<HijackedStreams>, ApiError> {
        Err(ApiError::system("not in this fake"))
    }
    async fn exec_resize(&self, id: &str, height: u32, width: u32) -> Result<(), ApiError> {
        self.record(format!("exec_resize {id} {height}x{width}"));
        Ok(())
    }
}

#[async_trait]
impl SystemBackend for Fake {
    async fn version(&self) -> Result<SystemVersion, ApiError> {
        Ok(SystemVersion {
            version: "0.1.0".into(),
            api_version: API_VERSION.into(),
            ..Default::default()
        })
    }
    async fn info(&self) -> Result<SystemInfo, ApiError> {
        Ok(SystemInfo::default())
    }
    async fn events(&self, _options: EventsOptions) -> Result<BoxStream<Message>, ApiError> {
        Ok(Box::pin(futures_util::stream::empty()))
    }
}

fn app() -> (Arc<Fake>, Router) {
    let fake = Arc::new(Fake::default());
    (fake.clone(), router(Backends::from_one(fake)))
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Response, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    (status, Response::from_parts(parts, Body::empty()), bytes)
}

fn req(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

fn json_req(method: Method, uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn header<'a>(r: &'a Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("<absent>")
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(body)))
}

#[tokio::test]
async fn ping_get_and_head() {
    let (_, app) = app();
    let (status, r, body) = send(&app, req(Method::GET, "/_ping")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"OK");
    assert_eq!(header(&r, "Api-Version"), API_VERSION);
    assert_eq!(header(&r, "OSType"), "linux");
    assert_eq!(header(&r, "Docker-Experimental"), "false");
    assert_eq!(header(&r, "Builder-Version"), "1");
    assert_eq!(
        header(&r, "Cache-Control"),
        "no-cache, no-store, must-revalidate"
    );
    assert_eq!(header(&r, "Pragma"), "no-cache");

    let (status, r, body) = send(&app, req(Method::HEAD, "/v1.40/_ping")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    assert_eq!(header(&r, "Content-Length"), "0");
    assert_eq!(header(&r, "Api-Version"), API_VERSION);
    assert_eq!(header(&r, "Pragma"), "no-cache");
}

#[tokio::test]
async fn versioned_and_bare_paths_reach_the_same_handler() {
    let (fake, app) = app();
    for uri in [
        "/containers/json?all=1",
        "/v1.49/containers/json?all=1",
        "/v1.24/containers/json?all=true&limit=2&filters=%7B%22status%22%3A%5B%22running%22%5D%7D",
    ] {
        let (status, r, body) = send(&app, req(Method::GET, uri)).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(header(&r, "Content-Type"), "application/json");
        assert_eq!(json_of(&body)[0]["Id"], "c0ffee", "{uri}");
    }
    assert_eq!(
        fake.calls(),
        [
            "list all=true limit=None status=[]",
            "list all=true limit=None status=[]",
            "list all=true limit=Some(2) status=[\"running\"]",
        ]
    );
}

#[tokio::test]
async fn versions_out_of_range_are_400_with_dockers_message() {
    let (fake, app) = app();
    let (status, r, body) = send(&app, req(Method::GET, "/v1.50/version")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(header(&r, "Api-Version"), API_VERSION);
    assert_eq!(
        json_of(&body),
        json!({"message": "client version 1.50 is too new. Maximum supported API version is 1.49"})
    );

    let (status, r, body) = send(&app, req(Method::POST, "/v1.12/containers/x/start")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(header(&r, "Content-Type"), "text/plain; charset=utf-8");
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "client version 1.12 is too old. Minimum supported API version is 1.24, \
         please upgrade your client to a newer version\n"
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn unknown_routes_are_404_page_not_found() {
    let (_, app) = app();
    for uri in [
        "/nope",
        "/v1.44/nope",
        "/v1.99/nope",
        "/containers",
        "/vx/_ping",
    ] {
        let (status, r, body) = send(&app, req(Method::GET, uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(header(&r, "Content-Type"), "application/json", "{uri}");
        assert_eq!(
            json_of(&body),
            json!({"message": "page not found"}),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn backend_errors_map_to_status_and_message() {
    let (_, app) = app();
    let cases = [
        (
            "/containers/missing/json",
            StatusCode::NOT_FOUND,
            "No such container: missing",
        ),
        (
            "/containers/busy/json",
            StatusCode::CONFLICT,
            "container busy is busy",
        ),
        (
            "/containers/broken/json",
            StatusCode::INTERNAL_SERVER_ERROR,
            "the disk caught fire",
        ),
        (
            "/exec/nope/json",
            StatusCode::NOT_FOUND,
            "No such exec instance: nope",
        ),
    ];
    for (uri, want, msg) in cases {
        let (status, _, body) = send(&app, req(Method::GET, uri)).await;
        assert_eq!(status, want, "{uri}");
        assert_eq!(json_of(&body), json!({ "message": msg }), "{uri}");
    }
}

#[tokio::test]
async fn start_is_204_then_304_without_a_body() {
    let (fake, app) = app();
    let (status, _, body) = send(&app, req(Method::POST, "/v1.49/containers/web/start")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(body.is_empty());
    let (status, _, body) = send(&app, req(Method::POST, "/containers/running/start")).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(fake.calls(), ["start web"]);
}

#[tokio::test]
async fn create_is_201_and_passes_name_and_body() {
    let (fake, app) = app();
    let (status, _, body) = send(
        &app,
        json_req(
            Method::POST,
            "/v1.49/containers/create?name=web",
            r#"{"Image":"busybox","Cmd":"sh","HostConfig":{"Memory":1048576}}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(json_of(&body), json!({"Id": "c0ffee", "Warnings": []}));
    assert_eq!(
        fake.calls(),
        ["create name=Some(\"web\") image=busybox memory=Some(1048576)"]
    );
}

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_problem() {
    let (fake, app) = app();
    let cases: [(&str, Option<&str>, &str); 6] = [
        (
            "{not json",
            Some("application/json"),
            "invalid JSON: key must be a string",
        ),
        (
            r#"{"Image":"x","HostConfig":{"Memory":"lots"}}"#,
            Some("application/json"),
            "invalid JSON: HostConfig.Memory: invalid type: string \"lots\", expected i64",
        ),
        (
            r#"{"Image":"x","Tty":"yes"}"#,
            Some("application/json"),
            "invalid JSON: Tty: invalid type",
        ),
        (
            "",
            Some("application/json"),
            "invalid JSON: got EOF while reading request body",
        ),
        (
            r#"{"Image":"x"}"#,
            Some("text/plain"),
            "unsupported Content-Type header (text/plain): must be 'application/json'",
        ),
        (
            r#"[1,2]"#,
            Some("application/json; charset=utf-8"),
            "invalid JSON: invalid type: sequence",
        ),
    ];
    for (body, ct, want) in cases {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/containers/create");
        if let Some(ct) = ct {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        let (status, _, out) = send(&app, b.body(Body::from(body.to_string())).unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let msg = json_of(&out)["message"].as_str().unwrap().to_string();
        assert!(msg.starts_with(want), "{body}: {msg}");
    }
    let (status, _, out) = send(
        &app,
        json_req(
            Method::POST,
            "/containers/web/exec",
            r#"{"Cmd":"not a list"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json_of(&out)["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON: Cmd: invalid type"),
        "{out:?}"
    );
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn oversize_bodies_are_413() {
    let (fake, app) = app();
    let big = format!(r#"{{"Image":"{}"}}"#, "a".repeat(MAX_JSON_BODY));
    let (status, _, out) = send(&app, json_req(Method::POST, "/containers/create", &big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        json_of(&out)["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{out:?}"
    );
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn query_values_are_parsed_or_rejected() {
    let (fake, app) = app();
    let (status, _, _) = send(
        &app,
        req(Method::POST, "/containers/web/stop?t=5&signal=SIGINT"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, out) = send(&app, req(Method::POST, "/containers/web/stop?t=soon")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json_of(&out)["message"]
        .as_str()
        .unwrap()
        .contains("for t:"));
    let (status, _, _) = send(&app, req(Method::DELETE, "/containers/web?force=1&v=0")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(&app, req(Method::DELETE, "/containers/web?force=False")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, out) = send(&app, req(Method::GET, "/containers/json?filters=%7Bbad")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json_of(&out)["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid filter"));
    let (status, _, _) = send(&app, req(Method::POST, "/containers/web/resize?h=24&w=80")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, req(Method::POST, "/containers/web/resize?h=24")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        fake.calls(),
        [
            "stop web StopOptions { signal: Some(\"SIGINT\"), timeout: Some(5) }",
            "remove web force=true",
            "remove web force=false",
            "resize web 24x80",
        ]
    );
}

#[tokio::test]
async fn wait_answers_the_exit_status() {
    let (fake, app) = app();
    let (status, _, out) = send(
        &app,
        req(Method::POST, "/containers/web/wait?condition=next-exit"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out, b"{\"StatusCode\":3}\n");
    let (status, _, _) = send(&app, req(Method::POST, "/containers/missing/wait")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, out) = send(
        &app,
        req(Method::POST, "/containers/web/wait?condition=later"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(&out),
        json!({"message": "invalid condition: \"later\""})
    );
    assert_eq!(fake.calls(), ["wait web next-exit"]);
}

#[tokio::test]
async fn the_other_container_routes() {
    let (fake, app) = app();
    let expect = [
        (
            Method::POST,
            "/containers/web/kill?signal=HUP",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::POST,
            "/containers/web/restart",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::POST,
            "/containers/web/pause",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::POST,
            "/containers/web/unpause",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::POST,
            "/containers/web/rename?name=db",
            StatusCode::NO_CONTENT,
        ),
        (
            Method::GET,
            "/containers/web/top?ps_args=aux",
            StatusCode::OK,
        ),
        (Method::GET, "/containers/web/changes", StatusCode::OK),
        (
            Method::POST,
            "/containers/prune?filters=%7B%22until%22%3A%5B%221h%22%5D%7D",
            StatusCode::OK,
        ),
        (Method::GET, "/containers/web/json?size=1", StatusCode::OK),
    ];
    for (m, uri, want) in expect {
        let (status, _, _) = send(&app, req(m, uri)).await;
        assert_eq!(status, want, "{uri}");
    }
    assert_eq!(
        fake.calls(),
        [
            "kill web Some(\"HUP\")",
            "restart web StopOptions { signal: None, timeout: None }",
            "pause web",
            "unpause web",
            "rename web db",
            "top web aux",
            "prune until=[\"1h\"]",
            "inspect web size=true",
        ]
    );
    let (_, _, out) = send(&app, req(Method::GET, "/containers/web/changes")).await;
    assert_eq!(json_of(&out), json!([{"Path": "/tmp", "Kind": 1}]));
    let (_, _, out) = send(&app, req(Method::POST, "/containers/prune")).await;
    assert_eq!(
        json_of(&out),
        json!({"ContainersDeleted": null, "SpaceReclaimed": 0})
    );
}

#[tokio::test]
async fn exec_create_and_inspect() {
    let (fake, app) = app();
    let (status, _, out) = send(
        &app,
        json_req(
            Method::POST,
            "/v1.49/containers/web/exec",
            r#"{"Cmd":["ls","-l"]}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(json_of(&out), json!({"Id": "e1"}));
    let (status, _, out) = send(&app, req(Method::GET, "/exec/e1/json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&out)["ProcessConfig"]["entrypoint"], "true");
    let (status, _, _) = send(&app, req(Method::POST, "/containers/missing/exec")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(fake.calls(), ["exec_create web Some([\"ls\", \"-l\"])"]);
}

#[tokio::test]
async fn streams_logs_stats_version() {
    let (_, app) = app();
    let (status, r, out) = send(&app, req(Method::GET, "/containers/web/logs?stdout=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&r, "Content-Type"),
        "application/vnd.docker.multiplexed-stream"
    );
    assert_eq!(out, b"\x01\0\0\0\0\0\0\x03hi\n");
    let (status, _, _) = send(&app, req(Method::GET, "/containers/web/logs")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _, out) = send(&app, req(Method::GET, "/containers/web/stats?stream=0")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&out)["name"], "/web");
    let (_, _, out) = send(&app, req(Method::GET, "/containers/web/stats")).await;
    assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 2);

    let (status, _, out) = send(&app, req(Method::GET, "/version")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&out)["ApiVersion"], API_VERSION);
}

#[tokio::test]
async fn archive_routes_carry_the_stat_header_and_bodies() {
    use base64::Engine;
    let (fake, app) = app();
    let (status, r, _) = send(
        &app,
        req(Method::HEAD, "/v1.44/containers/c1/archive?path=/etc/hosts"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let encoded = header(&r, "X-Docker-Container-Path-Stat").to_string();
    let stat = json_of(
        &base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    );
    assert_eq!(
        (stat["name"].as_str(), stat["size"].as_i64()),
        (Some("hosts"), Some(3))
    );
    let (_, r, body) = send(
        &app,
        req(Method::GET, "/containers/c1/archive?path=/etc/hosts"),
    )
    .await;
    assert_eq!(header(&r, "content-type"), "application/x-tar");
    assert_eq!(body, b"tar!");
    let put = Request::builder()
        .method(Method::PUT)
        .uri("/containers/c1/archive?path=/tmp&noOverwriteDirNonDir=1")
        .body(Body::from("12345"))
        .unwrap();
    assert_eq!(send(&app, put).await.0, StatusCode::OK);
    let (status, _, _) = send(&app, req(Method::GET, "/containers/c1/archive")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(&app, req(Method::GET, "/containers/missing/export")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, body) = send(&app, req(Method::GET, "/containers/c1/export")).await;
    assert_eq!(body, b"all");
    assert!(fake
        .calls()
        .contains(&"put c1 /tmp 5 bytes nooverwrite=true".to_string()));
}

#[tokio::test]
async fn attach_without_upgrade_streams_the_output() {
    let (fake, app) = app();
    let uri = "/containers/c1/attach?stream=1&stdout=1&detachKeys=ctrl-x";
    let (status, r, body) = send(&app, req(Method::POST, uri)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&r, "content-type"), RAW_STREAM);
    assert_eq!(body, b"out\n");
    assert!(fake
        .calls()
        .contains(&"attach c1 stream=true keys=ctrl-x".to_string()));
    let (status, _, _) = send(
        &app,
        req(Method::POST, "/containers/missing/attach?stream=1"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
