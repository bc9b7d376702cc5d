//! The image methods against a fake Engine API on a unix socket that
//! records each request (method, URI, `X-Registry-Auth`, body) and answers
//! as the daemon does: the methods must build Docker's requests, decode
//! its answers, and stream a loaded tar up.

mod support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use berth_api::types::filters::Filters;
use berth_api::types::image::{AuthConfig, DeleteItem, ListOptions, PullOptions, RemoveOptions};
use berth_client::{Client, Host};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

/// One request as the fake saw it.
#[derive(Debug, Clone, Default)]
struct Seen {
    method: String,
    uri: String,
    auth: Option<String>,
    body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn reply(body: &'static str) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(body.as_bytes())))
}

async fn answer(req: Request<Incoming>, log: Log) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/_ping" {
        return Ok(Response::builder()
            .header("Api-Version", "1.49")
            .body(Full::new(Bytes::from_static(b"OK")))
            .unwrap());
    }
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let auth = req
        .headers()
        .get("X-Registry-Auth")
        .map(|v| v.to_str().unwrap().to_string());
    let path = req.uri().path().trim_start_matches("/v1.49").to_string();
    let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
    log.lock().unwrap().push(Seen {
        method: method.clone(),
        uri,
        auth,
        body,
    });
    let r = match (method.as_str(), path.as_str()) {
        ("POST", "/images/create") => reply("{\"status\":\"Pulling from a\",\"id\":\"latest\"}\n{\"status\":\"Digest: sha256:ab\"}\n"),
        ("GET", "/images/json") => reply(r#"[{"Id":"sha256:ab","RepoTags":["a:latest"],"RepoDigests":[],"Created":1,"Size":5,"SharedSize":-1,"Containers":-1,"Labels":null,"ParentId":""}]"#),
        ("GET", "/images/127.0.0.1:5000/a:v1/json") => reply(r#"{"Id":"sha256:ab","RepoTags":["127.0.0.1:5000/a:v1"]}"#),
        ("GET", "/images/a/history") => reply(r#"[{"Id":"sha256:ab","Created":1,"CreatedBy":"x","Size":5,"Comment":"","Tags":["a:latest"]},{"Id":"<missing>","Created":1,"CreatedBy":"y","Size":0,"Comment":"","Tags":null}]"#),
        ("POST", "/images/a/tag") => Response::builder().status(201).body(Full::new(Bytes::new())).unwrap(),
        ("DELETE", "/images/a") => reply(r#"[{"Untagged":"a:latest"},{"Deleted":"sha256:ab"}]"#),
        ("POST", "/images/prune") => reply(r#"{"ImagesDeleted":null,"SpaceReclaimed":0}"#),
        ("GET", "/images/a/get") | ("GET", "/images/get") => reply("TARBYTES"),
        ("POST", "/images/load") => reply("{\"stream\":\"Loaded image: a:latest\\n\"}\n"),
        _ => Response::builder()
            .status(404)
            .body(Full::new(Bytes::from_static(br#"{"message":"No such image: nosuch:latest"}"#)))
            .unwrap(),
    };
    Ok(r)
}

async fn setup() -> (tempfile::TempDir, Client, Log) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let log: Log = Arc::default();
    let l = log.clone();
    support::serve_unix(&sock, move |req| answer(req, l.clone()));
    (dir, Client::new(Host::Unix(sock)), log)
}

fn last(log: &Log) -> Seen {
    log.lock().unwrap().last().cloned().unwrap()
}

#[tokio::test]
async fn image_requests_and_answers() {
    let (_dir, c, log) = setup().await;

    // Pull: credentials ride in X-Registry-Auth only when there are some.
    let auth = AuthConfig {
        username: "u".into(),
        password: "p".into(),
        server_address: "127.0.0.1:5000".into(),
        ..AuthConfig::default()
    };
    let mut pull = c
        .image_pull(&PullOptions {
            from_image: "127.0.0.1:5000/a".into(),
            tag: "v1".into(),
            platform: Some("linux/amd64".into()),
            auth: auth.clone(),
        })
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(
        seen.uri,
        "/v1.49/images/create?fromImage=127.0.0.1%3A5000%2Fa&tag=v1&platform=linux%2Famd64"
    );
    assert_eq!(
        AuthConfig::decode_header(seen.auth.as_deref().unwrap()).unwrap(),
        auth
    );
    assert_eq!(pull.next().await.unwrap().unwrap().id, "latest");
    assert_eq!(
        pull.next().await.unwrap().unwrap().status,
        "Digest: sha256:ab"
    );
    assert!(pull.next().await.is_none());
    c.image_pull(&PullOptions {
        from_image: "a".into(),
        ..PullOptions::default()
    })
    .await
    .unwrap();
    assert_eq!(last(&log).auth, None);

    let list = c
        .image_list(&ListOptions {
            all: true,
            filters: Filters::new().with("dangling", "false"),
        })
        .await
        .unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/images/json?all=1&filters=%7B%22dangling%22%3A%7B%22false%22%3Atrue%7D%7D"
    );
    assert_eq!(
        (list[0].id.as_str(), list[0].shared_size),
        ("sha256:ab", -1)
    );

    // Names keep their registry port and slashes in the path.
    let i = c.image_inspect("127.0.0.1:5000/a:v1").await.unwrap();
    assert_eq!(i.repo_tags, ["127.0.0.1:5000/a:v1"]);
    let raw = c.image_inspect_raw("127.0.0.1:5000/a:v1").await.unwrap();
    assert!(raw.starts_with(br#"{"Id":"sha256:ab""#));
    let e = c.image_inspect("nosuch").await.unwrap_err();
    assert_eq!(
        (e.status(), e.to_string().as_str()),
        (
            Some(404),
            "Error response from daemon: No such image: nosuch:latest"
        )
    );

    let h = c.image_history("a").await.unwrap();
    assert_eq!((h.len(), h[1].id.as_str()), (2, "<missing>"));

    c.image_tag("a", "b/c", "v2").await.unwrap();
    let seen = last(&log);
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/v1.49/images/a/tag?repo=b%2Fc&tag=v2")
    );

    let items = c
        .image_remove(
            "a",
            &RemoveOptions {
                force: true,
                prune_children: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(last(&log).uri, "/v1.49/images/a?force=1&noprune=1");
    assert_eq!(
        items,
        [
            DeleteItem::Untagged("a:latest".into()),
            DeleteItem::Deleted("sha256:ab".into())
        ]
    );
    c.image_remove("a", &RemoveOptions::default())
        .await
        .unwrap();
    assert_eq!(last(&log).uri, "/v1.49/images/a?noprune=1");

    let report = c
        .images_prune(&Filters::new().with("dangling", "true"))
        .await
        .unwrap();
    assert_eq!((report.images_deleted, report.space_reclaimed), (None, 0));
}

#[tokio::test]
async fn save_streams_down_and_load_streams_up() {
    let (_dir, c, log) = setup().await;

    let tar = c.image_save(&["a".into()]).await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/images/a/get");
    assert_eq!(&tar.collect(1024).await.unwrap()[..], b"TARBYTES");
    c.image_save(&["a".into(), "b:1".into()]).await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/images/get?names=a&names=b%3A1");

    // A tar larger than one chunk arrives whole.
    let data: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    let mut answer = c
        .image_load(std::io::Cursor::new(data.clone()), true)
        .await
        .unwrap();
    let seen = last(&log);
    assert_eq!(seen.uri, "/v1.49/images/load?quiet=1");
    assert_eq!(seen.body, data);
    let m = answer.next().await.unwrap().unwrap();
    assert_eq!(m.stream, "Loaded image: a:latest\n");
    assert!(answer.next().await.is_none());
}
