//! The typed endpoint methods against a fake Engine API on a unix socket
//! that records each request (method, path and query, body) and answers
//! what the real daemon would: the methods must build Docker's requests
//! and decode Docker's answers.

mod support;

use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};

use berth_api::types::container::{
    AttachOptions, Config, ContainerCreateRequest, HostConfig, ListOptions, LogsOptions,
    RemoveOptions, StatsOptions, StopOptions, WaitCondition,
};
use berth_api::types::exec::{ExecConfig, ExecStartConfig};
use berth_api::types::filters::Filters;
use berth_client::stdcopy::{frame, StdStream};
use berth_client::{Client, EventsOptions, Host};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    uri: String,
    body: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn reply(status: u16, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

async fn answer(req: Request<Incoming>, log: Log) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let path = req.uri().path().to_string();
    if path == "/_ping" {
        return Ok(Response::builder()
            .header("Api-Version", "1.49")
            .body(Full::new(Bytes::from_static(b"OK")))
            .unwrap());
    }
    let path = path.strip_prefix("/v1.49").unwrap_or(&path).to_string();
    let hijack = path.ends_with("/attach") || path.ends_with("/exec/e1/start");
    let upgrade = hijack && req.headers().get("Upgrade").is_some();
    let (parts, body) = req.into_parts();
    if upgrade {
        // Echo five bytes of stdin back as a stdout frame.
        let req = Request::from_parts(parts, body);
        log.lock().unwrap().push(Seen {
            method,
            uri,
            body: String::new(),
        });
        tokio::spawn(async move {
            let upgraded = hyper::upgrade::on(req).await.unwrap();
            let mut io = TokioIo::new(upgraded);
            let mut buf = [0u8; 5];
            io.read_exact(&mut buf).await.unwrap();
            io.write_all(&frame(StdStream::Stdout, &buf)).await.unwrap();
            io.shutdown().await.unwrap();
        });
        return Ok(Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("Connection", "Upgrade")
            .header("Upgrade", "tcp")
            .body(Full::new(Bytes::new()))
            .unwrap());
    }
    let body = body.collect().await.unwrap().to_bytes();
    log.lock().unwrap().push(Seen {
        method: method.clone(),
        uri: uri.clone(),
        body: String::from_utf8_lossy(&body).to_string(),
    });
    let r = match (method.as_str(), path.as_str()) {
        ("POST", "/containers/create") => reply(201, r#"{"Id":"c1","Warnings":["careful"]}"#),
        ("POST", "/containers/c1/start") => reply(204, ""),
        ("POST", "/containers/running/start") => reply(304, ""),
        ("POST", "/containers/c1/wait") => reply(200, "{\"StatusCode\":3}\n"),
        ("GET", "/containers/c1/json") => reply(
            200,
            r#"{"Id":"c1","Name":"/web","State":{"Status":"exited","ExitCode":3},"Extra":1}"#,
        ),
        ("GET", "/containers/json") => reply(200, r#"[{"Id":"c1","Names":["/web"],"Command":"sh"}]"#),
        ("GET", "/containers/c1/logs") => {
            let mut b = frame(StdStream::Stdout, b"out\n");
            b.extend(frame(StdStream::Stderr, b"err\n"));
            Response::new(Full::new(Bytes::from(b)))
        }
        ("GET", "/containers/c1/top") => reply(
            200,
            r#"{"Titles":["PID","CMD"],"Processes":[["1","sh"]]}"#,
        ),
        ("GET", "/containers/c1/stats") => reply(
            200,
            r#"{"name":"/web","id":"c1","read":"x","preread":"y","pids_stats":{},"blkio_stats":{},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":5,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":1,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"memory_stats":{}}"#,
        ),
        ("POST", "/containers/prune") => reply(200, r#"{"ContainersDeleted":["c1"],"SpaceReclaimed":42}"#),
        ("POST", "/containers/c1/exec") => reply(201, r#"{"Id":"e1"}"#),
        ("POST", "/exec/e1/start") => reply(200, ""),
        ("GET", "/exec/e1/json") => reply(
            200,
            r#"{"ID":"e1","Running":false,"ExitCode":7,"ProcessConfig":{"tty":false,"entrypoint":"sh","arguments":[]},"OpenStdin":false,"OpenStderr":true,"OpenStdout":true,"CanRemove":true,"ContainerID":"c1","DetachKeys":"","Pid":9}"#,
        ),
        ("GET", "/version") => reply(200, r#"{"Version":"0.1.0","ApiVersion":"1.49","Os":"linux","Arch":"amd64"}"#),
        ("GET", "/info") => reply(200, r#"{"Containers":2,"ContainersRunning":1,"Driver":"overlay2"}"#),
        ("GET", "/events") => reply(
            200,
            "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"c1\",\"Attributes\":{}},\"scope\":\"local\",\"time\":1,\"timeNano\":1000000000}\n",
        ),
        ("POST", "/images/create") => reply(200, "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\n{\"status\":\"Done\"}\n"),
        ("POST", _) | ("DELETE", _) if path.starts_with("/containers/c1/") || path == "/containers/c1" || path.starts_with("/exec/e1/") => reply(204, ""),
        _ => reply(404, r#"{"message":"No such container: nosuch"}"#),
    };
    Ok(r)
}

fn serve(path: &Path) -> Log {
    let log: Log = Arc::default();
    let l = log.clone();
    support::serve_unix(path, move |req| answer(req, l.clone()));
    log
}

fn last(log: &Log) -> Seen {
    log.lock().unwrap().last().cloned().unwrap()
}

async fn setup() -> (tempfile::TempDir, Client, Log) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let log = serve(&sock);
    (dir, Client::new(Host::Unix(sock)), log)
}

#[tokio::test]
async fn container_lifecycle_requests() {
    let (_dir, c, log) = setup().await;

    let body = ContainerCreateRequest {
        config: Config {
            image: "busybox".into(),
            ..Config::default()
        },
        host_config: Some(HostConfig {
            memory: 1 << 20,
            ..HostConfig::default()
        }),
        networking_config: None,
    };
    let created = c
        .container_create(&body, Some("web"), Some("linux/amd64"))
        .await
        .unwrap();
    assert_eq!(created.id, "c1");
    assert_eq!(created.warnings, ["careful"]);
    let seen = last(&log);
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.uri,
        "/v1.49/containers/create?name=web&platform=linux%2Famd64"
    );
    let sent: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(sent["Image"], "busybox");
    assert_eq!(sent["HostConfig"]["Memory"], 1 << 20);

    c.container_start("c1").await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/containers/c1/start");
    // 304 (already started) is not an error, as in Docker's client.
    c.container_start("running").await.unwrap();

    c.container_stop(
        "c1",
        &StopOptions {
            signal: Some("SIGINT".into()),
            timeout: Some(5),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/containers/c1/stop?t=5&signal=SIGINT"
    );
    c.container_restart("c1", &StopOptions::default())
        .await
        .unwrap();
    assert_eq!(last(&log).uri, "/v1.49/containers/c1/restart");
    c.container_kill("c1", Some("HUP")).await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/containers/c1/kill?signal=HUP");
    c.container_pause("c1").await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/containers/c1/pause");
    c.container_unpause("c1").await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/containers/c1/unpause");
    c.container_rename("c1", "new name").await.unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/containers/c1/rename?name=new%20name"
    );
    c.container_resize("c1", 24, 80).await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/containers/c1/resize?h=24&w=80");

    let waiter = c
        .container_wait_begin("c1", WaitCondition::NextExit)
        .await
        .unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/containers/c1/wait?condition=next-exit"
    );
    assert_eq!(waiter.result().await.unwrap().status_code, 3);
    let w = c
        .container_wait("c1", WaitCondition::Removed)
        .await
        .unwrap();
    assert_eq!(w.status_code, 3);
    assert_eq!(
        last(&log).uri,
        "/v1.49/containers/c1/wait?condition=removed"
    );

    c.container_remove(
        "c1",
        &RemoveOptions {
            force: true,
            remove_volumes: true,
            remove_link: false,
        },
    )
    .await
    .unwrap();
    let seen = last(&log);
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("DELETE", "/v1.49/containers/c1?force=1&v=1")
    );

    let e = c
        .container_remove("nosuch", &RemoveOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert_eq!(e.message(), "No such container: nosuch");
}

#[tokio::test]
async fn container_queries() {
    let (_dir, c, log) = setup().await;

    let i = c.container_inspect("c1").await.unwrap();
    assert_eq!(i.name, "/web");
    assert_eq!(i.state.unwrap().exit_code, 3);
    let raw: serde_json::Value =
        serde_json::from_slice(&c.container_inspect_raw("c1", true).await.unwrap()).unwrap();
    assert_eq!(raw["Extra"], 1, "the raw form keeps unknown fields");
    assert_eq!(last(&log).uri, "/v1.49/containers/c1/json?size=1");

    let rows = c
        .container_list(&ListOptions {
            all: true,
            limit: Some(3),
            size: true,
            filters: Filters::new().with("status", "exited"),
        })
        .await
        .unwrap();
    assert_eq!(rows[0].names, ["/web"]);
    assert_eq!(
        last(&log).uri,
        "/v1.49/containers/json?all=1&size=1&limit=3&filters=%7B%22status%22%3A%7B%22exited%22%3Atrue%7D%7D"
    );
    c.container_list(&ListOptions::default()).await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/containers/json");

    let mut out = c
        .container_logs(
            "c1",
            &LogsOptions {
                stdout: true,
                stderr: true,
                follow: true,
                tail: "10".into(),
                since: "1700000000".into(),
                ..LogsOptions::default()
            },
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/containers/c1/logs?stdout=1&stderr=1&follow=1&since=1700000000&tail=10"
    );
    let mut got = Vec::new();
    while let Some(f) = out.next().await {
        got.push(f.unwrap());
    }
    assert_eq!(
        got,
        [
            (StdStream::Stdout, Bytes::from_static(b"out\n")),
            (StdStream::Stderr, Bytes::from_static(b"err\n"))
        ]
    );

    let top = c.container_top("c1", Some("aux")).await.unwrap();
    assert_eq!(top.titles, ["PID", "CMD"]);
    assert_eq!(last(&log).uri, "/v1.49/containers/c1/top?ps_args=aux");

    let mut stats = c
        .container_stats(
            "c1",
            &StatsOptions {
                stream: false,
                one_shot: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/containers/c1/stats?stream=0&one-shot=1"
    );
    let s = stats.next().await.unwrap().unwrap();
    assert_eq!(s.cpu_stats.cpu_usage.total_usage, 5);
    assert!(stats.next().await.is_none());

    let report = c
        .containers_prune(&Filters::new().with("until", "1h"))
        .await
        .unwrap();
    assert_eq!(report.containers_deleted, ["c1"]);
    assert_eq!(report.space_reclaimed, 42);
}

#[tokio::test]
async fn attach_and_exec() {
    let (_dir, c, log) = setup().await;

    let mut io = c
        .container_attach(
            "c1",
            &AttachOptions {
                stdin: true,
                stdout: true,
                stderr: true,
                stream: true,
                logs: false,
                detach_keys: "ctrl-x".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/containers/c1/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x"
    );
    io.write_all(b"hello").await.unwrap();
    let mut back = Vec::new();
    io.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, frame(StdStream::Stdout, b"hello"));

    let id = c
        .exec_create(
            "c1",
            &ExecConfig {
                cmd: Some(vec!["sh".into()]),
                attach_stdout: true,
                ..ExecConfig::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(id.id, "e1");
    let seen = last(&log);
    assert_eq!(seen.uri, "/v1.49/containers/c1/exec");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&seen.body).unwrap()["Cmd"],
        serde_json::json!(["sh"])
    );

    c.exec_start_detached("e1", &ExecStartConfig::default())
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(seen.uri, "/v1.49/exec/e1/start");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&seen.body).unwrap()["Detach"],
        true
    );
    let mut io = c
        .exec_start_attached("e1", &ExecStartConfig::default())
        .await
        .unwrap();
    io.write_all(b"abcde").await.unwrap();
    let mut back = Vec::new();
    io.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, frame(StdStream::Stdout, b"abcde"));

    let inspect = c.exec_inspect("e1").await.unwrap();
    assert_eq!(inspect.exit_code, Some(7));
    c.exec_resize("e1", 10, 20).await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/exec/e1/resize?h=10&w=20");
}

#[tokio::test]
async fn system_and_pull() {
    let (_dir, c, log) = setup().await;

    assert_eq!(c.api_version().await.unwrap(), "1.49");
    let v = c.version().await.unwrap();
    assert_eq!((v.version.as_str(), v.arch.as_str()), ("0.1.0", "amd64"));
    let info = c.info().await.unwrap();
    assert_eq!((info.containers, info.driver.as_str()), (2, "overlay2"));

    let mut events = c
        .events(&EventsOptions {
            since: Some("1".into()),
            until: Some("2".into()),
            filters: Filters::new().with("type", "container"),
        })
        .await
        .unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/events?since=1&until=2&filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D"
    );
    let m = events.next().await.unwrap().unwrap();
    assert_eq!((m.action.as_str(), m.actor.id.as_str()), ("start", "c1"));
    assert!(events.next().await.is_none());

    let mut pull = c
        .image_create::<serde_json::Value>("busybox", "latest", None)
        .await
        .unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/images/create?fromImage=busybox&tag=latest"
    );
    let mut statuses = Vec::new();
    while let Some(m) = pull.next().await {
        statuses.push(m.unwrap()["status"].as_str().unwrap().to_string());
    }
    assert_eq!(statuses, ["Pulling from library/busybox", "Done"]);
}
