//! The client against a small HTTP server on a unix socket that answers
//! as the Engine API does: negotiation, error bodies, JSON streams,
//! multiplexed output and a hijacked (101) connection.

mod support;

use std::convert::Infallible;

use berth_client::stdcopy::{frame, StdStream};
use berth_client::stream::{JsonStream, OutputStream};
use berth_client::{Call, Client, ClientError, Host, Method};
use berth_errdefs::{ErrorKind, HasKind};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let resp = Response::builder();
    let r = match path.as_str() {
        "/_ping" => resp
            .header("Api-Version", "1.41")
            .header("OSType", "linux")
            .body(Full::new(Bytes::from_static(b"OK"))),
        "/v1.41/containers/nosuch/json" => resp.status(404).body(Full::new(Bytes::from_static(
            br#"{"message":"No such container: nosuch"}"#,
        ))),
        "/v1.41/echo-query" => resp.body(Full::new(Bytes::from(format!("{{\"q\":{:?}}}", query)))),
        "/v1.41/events" => resp.body(Full::new(Bytes::from_static(
            b"{\"n\":1}\n\n{\"n\":2}\n{\"n\":3}",
        ))),
        "/v1.41/logs" => {
            let mut body = frame(StdStream::Stdout, b"out\n");
            body.extend(frame(StdStream::Stderr, b"err\n"));
            resp.body(Full::new(Bytes::from(body)))
        }
        "/v1.41/attach" => {
            tokio::spawn(async move {
                let upgraded = hyper::upgrade::on(req).await.unwrap();
                let mut io = TokioIo::new(upgraded);
                let mut buf = [0u8; 5];
                io.read_exact(&mut buf).await.unwrap();
                io.write_all(&frame(StdStream::Stdout, &buf)).await.unwrap();
                io.shutdown().await.unwrap();
            });
            resp.status(StatusCode::SWITCHING_PROTOCOLS)
                .header("Connection", "Upgrade")
                .header("Upgrade", "tcp")
                .body(Full::new(Bytes::new()))
        }
        _ => resp
            .status(404)
            .body(Full::new(Bytes::from_static(b"page not found"))),
    };
    Ok(r.unwrap())
}

#[tokio::test]
async fn talks_to_an_engine_api_server() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    support::serve_unix(&sock, answer);
    let client = Client::new(Host::Unix(sock.clone()));

    let ping = client.ping().await.unwrap();
    assert_eq!(ping.api_version.as_deref(), Some("1.41"));
    assert_eq!(ping.os_type.as_deref(), Some("linux"));
    assert_eq!(client.api_version().await.unwrap(), "1.41");

    // Docker's error body becomes the message, the status its kind.
    let e = client
        .json::<serde_json::Value>(Call::new(Method::GET, "/containers/nosuch/json"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        "Error response from daemon: No such container: nosuch"
    );
    // A body that is not JSON is passed on as text.
    let e = client
        .empty(Call::new(Method::GET, "/nowhere"))
        .await
        .unwrap_err();
    assert!(matches!(&e, ClientError::Api { status: 404, message } if message == "page not found"));

    let v: serde_json::Value = client
        .json(Call::new(Method::GET, "/echo-query").query("filters", "{\"a\":[\"b c\"]}"))
        .await
        .unwrap();
    assert_eq!(v["q"], "filters=%7B%22a%22%3A%5B%22b%20c%22%5D%7D");

    let resp = client
        .send(Call::new(Method::GET, "/events"))
        .await
        .unwrap();
    let mut events = JsonStream::<serde_json::Value>::new(resp.into_body());
    let mut ns = Vec::new();
    while let Some(m) = events.next().await {
        ns.push(m.unwrap()["n"].as_i64().unwrap());
    }
    assert_eq!(ns, [1, 2, 3]);

    let resp = client.send(Call::new(Method::GET, "/logs")).await.unwrap();
    let mut out = OutputStream::new(resp.into_body(), false);
    let mut got = Vec::new();
    while let Some(chunk) = out.next().await {
        got.push(chunk.unwrap());
    }
    assert_eq!(
        got,
        [
            (StdStream::Stdout, Bytes::from_static(b"out\n")),
            (StdStream::Stderr, Bytes::from_static(b"err\n")),
        ]
    );

    let mut io = client
        .hijack(Call::new(Method::POST, "/attach"))
        .await
        .unwrap();
    io.write_all(b"hello").await.unwrap();
    let mut back = Vec::new();
    io.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, frame(StdStream::Stdout, b"hello"));
}

#[tokio::test]
async fn a_missing_daemon_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new(Host::Unix(dir.path().join("none.sock")));
    let e = client.ping().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(
        e.to_string(),
        format!(
            "Cannot connect to the Berth daemon at unix://{}. Is the daemon running?",
            dir.path().join("none.sock").display()
        )
    );
}
