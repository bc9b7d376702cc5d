//! The image routes over the fake backend: routing of names with slashes
//! and registry ports, status codes, and the streamed pull/load/save
//! answers with errors before and after the stream started.

use bytes::Bytes;

use super::*;
use crate::types::image::{
    DeleteItem, HistoryResponseItem, ImageInspect, ImageSummary, JsonMessage, JsonProgress,
    ListOptions, PruneReport, PullOptions, RemoveOptions,
};

/// Images named `missing` are NotFound, `in-use` Conflict.
fn image_lookup(name: &str) -> Result<(), ApiError> {
    match name {
        "missing" => Err(ApiError::not_found(format!("No such image: {name}"))),
        "in-use" => Err(ApiError::new(
            ErrorKind::Conflict,
            "conflict: unable to remove repository reference \"in-use\" (must force)",
        )),
        _ => Ok(()),
    }
}

#[async_trait]
impl ImageBackend for Fake {
    async fn pull_image(&self, o: PullOptions) -> Result<JsonMessageStream, ApiError> {
        self.record(format!(
            "pull {} tag={:?} platform={:?} user={:?}",
            o.from_image, o.tag, o.platform, o.auth.username
        ));
        let ok = |m: JsonMessage| Ok::<_, ApiError>(m);
        let items = match o.from_image.as_str() {
            "Bad" => return Err(ApiError::invalid("invalid reference format")),
            "nosuch" => vec![Err(ApiError::not_found(
                "manifest for nosuch:latest not found: manifest unknown",
            ))],
            "flaky" => vec![
                ok(JsonMessage::status(
                    Some("latest"),
                    "Pulling from library/flaky",
                )),
                Err(ApiError::system("connection reset")),
                ok(JsonMessage::status(None, "never sent")),
            ],
            _ => vec![
                ok(JsonMessage::status(
                    Some("latest"),
                    "Pulling from library/busybox",
                )),
                ok(JsonMessage::progress(
                    "abc123def456",
                    "Downloading",
                    JsonProgress::bytes(1200, 3400),
                )),
                ok(JsonMessage::status(None, "Digest: sha256:00")),
            ],
        };
        Ok(Box::pin(futures_util::stream::iter(items)))
    }
    async fn images(&self, o: ListOptions) -> Result<Vec<ImageSummary>, ApiError> {
        self.record(format!(
            "images all={} reference={:?} dangling={:?}",
            o.all,
            o.filters.get("reference"),
            o.filters.get("dangling")
        ));
        Ok(vec![ImageSummary {
            id: "sha256:1".into(),
            ..Default::default()
        }])
    }
    async fn image_inspect(&self, name: &str) -> Result<ImageInspect, ApiError> {
        image_lookup(name)?;
        self.record(format!("inspect {name}"));
        Ok(ImageInspect {
            id: "sha256:1".into(),
            repo_tags: vec![name.into()],
            ..Default::default()
        })
    }
    async fn image_history(&self, name: &str) -> Result<Vec<HistoryResponseItem>, ApiError> {
        image_lookup(name)?;
        self.record(format!("history {name}"));
        Ok(vec![HistoryResponseItem {
            id: "sha256:1".into(),
            ..Default::default()
        }])
    }
    async fn tag_image(&self, name: &str, repo: &str, tag: &str) -> Result<(), ApiError> {
        image_lookup(name)?;
        self.record(format!("tag {name} {repo} {tag:?}"));
        Ok(())
    }
    async fn image_delete(
        &self,
        name: &str,
        o: RemoveOptions,
    ) -> Result<Vec<DeleteItem>, ApiError> {
        image_lookup(name)?;
        self.record(format!(
            "delete {name} force={} prune={}",
            o.force, o.prune_children
        ));
        Ok(vec![
            DeleteItem::Untagged(name.into()),
            DeleteItem::Deleted("sha256:1".into()),
        ])
    }
    async fn images_prune(&self, filters: Filters) -> Result<PruneReport, ApiError> {
        self.record(format!("prune dangling={:?}", filters.get("dangling")));
        Ok(PruneReport::default())
    }
    async fn export_image(&self, names: Vec<String>) -> Result<ByteStream, ApiError> {
        for n in &names {
            image_lookup(n)?;
        }
        self.record(format!("save {names:?}"));
        let mut chunks = vec![Ok(Bytes::from_static(b"tar-bytes"))];
        if names.iter().any(|n| n == "truncated") {
            chunks.push(Err(ApiError::system("disk read failed")));
        }
        Ok(Box::pin(futures_util::stream::iter(chunks)))
    }
    async fn load_image(
        &self,
        input: ByteStream,
        quiet: bool,
    ) -> Result<JsonMessageStream, ApiError> {
        use futures_util::StreamExt;
        let body: Vec<Bytes> = input.map(Result::unwrap).collect().await;
        let body = body.concat();
        self.record(format!(
            "load {:?} quiet={quiet}",
            String::from_utf8_lossy(&body)
        ));
        if body == b"not a tar" {
            return Err(ApiError::invalid("unexpected EOF"));
        }
        Ok(Box::pin(futures_util::stream::iter([Ok(
            JsonMessage::stream("Loaded image: busybox:latest\n"),
        )])))
    }
}

fn lines(body: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(body)
        .lines()
        .map(|l| json_of(l.as_bytes()))
        .collect()
}

#[tokio::test]
async fn names_with_slashes_ports_and_digests_reach_the_handlers() {
    let (fake, app) = app();
    let cases = [
        (Method::GET, "/images/busybox/json", StatusCode::OK),
        (
            Method::GET,
            "/v1.49/images/127.0.0.1:5000/busybox:latest/json",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/images/127.0.0.1:5000/team/app:v1/history",
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/images/busybox@sha256:abcd/json",
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/images/127.0.0.1:5000/busybox:latest/tag?repo=127.0.0.1:5000/copy&tag=v2",
            StatusCode::CREATED,
        ),
        (
            Method::DELETE,
            "/images/127.0.0.1:5000/busybox:latest?force=1&noprune=1",
            StatusCode::OK,
        ),
        // An image literally named like a fixed route is still deletable.
        (Method::DELETE, "/images/json", StatusCode::OK),
        (Method::GET, "/images/a/json/json", StatusCode::OK),
    ];
    for (m, uri, want) in cases {
        let (status, _, body) = send(&app, req(m, uri)).await;
        assert_eq!(status, want, "{uri}: {}", String::from_utf8_lossy(&body));
    }
    assert_eq!(
        fake.calls(),
        [
            "inspect busybox",
            "inspect 127.0.0.1:5000/busybox:latest",
            "history 127.0.0.1:5000/team/app:v1",
            "inspect busybox@sha256:abcd",
            "tag 127.0.0.1:5000/busybox:latest 127.0.0.1:5000/copy \"v2\"",
            "delete 127.0.0.1:5000/busybox:latest force=true prune=false",
            "delete json force=false prune=true",
            "inspect a/json",
        ]
    );
    // Unknown suffixes are page-not-found, not an image lookup.
    for (m, uri) in [
        (Method::GET, "/images/busybox/push"),
        (Method::POST, "/images/busybox/json"),
    ] {
        let (status, _, body) = send(&app, req(m, uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(json_of(&body), json!({"message": "page not found"}));
    }
}

#[tokio::test]
async fn image_answers_and_errors() {
    let (fake, app) = app();
    let (status, _, body) = send(&app, req(Method::GET, "/images/missing/json")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json_of(&body), json!({"message": "No such image: missing"}));
    let (status, _, _) = send(&app, req(Method::DELETE, "/images/in-use")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, body) = send(&app, req(Method::POST, "/images/busybox/tag")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");

    let (status, r, body) = send(&app, req(Method::DELETE, "/images/busybox")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&r, "Content-Type"), "application/json");
    assert_eq!(
        json_of(&body),
        json!([{"Untagged": "busybox"}, {"Deleted": "sha256:1"}])
    );
    let (status, _, body) = send(&app, req(Method::GET, "/images/busybox/history")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body)[0]["Id"], "sha256:1");

    let filters = "%7B%22dangling%22%3A%5B%22true%22%5D%7D";
    let (status, _, body) = send(
        &app,
        req(Method::POST, &format!("/images/prune?filters={filters}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json_of(&body),
        json!({"ImagesDeleted": null, "SpaceReclaimed": 0})
    );
    let (status, _, body) = send(
        &app,
        req(
            Method::GET,
            &format!("/images/json?all=1&filters={filters}"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body)[0]["Id"], "sha256:1");
    // API < 1.41 still takes the `filter` glob.
    let (status, _, _) = send(&app, req(Method::GET, "/v1.40/images/json?filter=bus*")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, req(Method::GET, "/images/json?filter=bus*")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, req(Method::GET, "/images/json?filters=%7Bbad")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        fake.calls(),
        [
            "delete busybox force=false prune=true",
            "history busybox",
            "prune dangling=[\"true\"]",
            "images all=true reference=[] dangling=[\"true\"]",
            "images all=false reference=[\"bus*\"] dangling=[]",
            "images all=false reference=[] dangling=[]",
        ]
    );
}

#[tokio::test]
async fn pull_streams_progress_lines_as_dockerd_writes_them() {
    let (fake, app) = app();
    let auth = crate::types::image::AuthConfig {
        username: "alice".into(),
        password: "pw".into(),
        ..Default::default()
    };
    let r = Request::builder()
        .method(Method::POST)
        .uri("/v1.49/images/create?fromImage=busybox:&tag=latest&platform=linux/amd64")
        .header("X-Registry-Auth", auth.encode_header())
        .body(Body::empty())
        .unwrap();
    let (status, r, body) = send(&app, r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&r, "Content-Type"), "application/json");
    let text = String::from_utf8(body).unwrap();
    let want = format!(
        "{}\n{}\n{}\n",
        r#"{"status":"Pulling from library/busybox","id":"latest"}"#,
        format_args!(
            r#"{{"status":"Downloading","progressDetail":{{"current":1200,"total":3400}},"progress":"[{}>{}]    1.2kB/3.4kB","id":"abc123def456"}}"#,
            "=".repeat(17),
            " ".repeat(33)
        ),
        r#"{"status":"Digest: sha256:00"}"#,
    );
    assert_eq!(text, want);
    assert_eq!(
        fake.calls(),
        ["pull busybox tag=\"latest\" platform=Some(\"linux/amd64\") user=\"alice\""]
    );
}

#[tokio::test]
async fn pull_errors_before_the_stream_are_statuses_after_it_error_lines() {
    let (_, app) = app();
    let (status, _, body) = send(&app, req(Method::POST, "/images/create?fromImage=Bad")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(&body),
        json!({"message": "invalid reference format"})
    );
    let (status, _, body) = send(&app, req(Method::POST, "/images/create?fromImage=nosuch")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        json_of(&body)["message"],
        "manifest for nosuch:latest not found: manifest unknown"
    );
    let (status, _, body) = send(&app, req(Method::POST, "/images/create?fromImage=flaky")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        lines(&body),
        [
            json!({"status": "Pulling from library/flaky", "id": "latest"}),
            json!({"errorDetail": {"message": "connection reset"}, "error": "connection reset"}),
        ]
    );
    let (status, _, _) = send(&app, req(Method::POST, "/images/create")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = send(&app, req(Method::POST, "/images/create?fromSrc=-")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json_of(&body)["message"]
        .as_str()
        .unwrap()
        .contains("not supported"));
}

#[tokio::test]
async fn save_and_load_stream() {
    let (fake, app) = app();
    let (status, r, body) = send(&app, req(Method::GET, "/images/get?names=a&names=b%2Fc")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&r, "Content-Type"), "application/x-tar");
    assert_eq!(body, b"tar-bytes");
    let (status, _, _) = send(&app, req(Method::GET, "/images/127.0.0.1:5000/x:y/get")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = send(&app, req(Method::GET, "/images/get?names=a&names=missing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json_of(&body), json!({"message": "No such image: missing"}));
    // Past the first byte, moby appends an error line.
    let (status, _, body) = send(&app, req(Method::GET, "/images/truncated/get")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "tar-bytes{\"errorDetail\":{\"message\":\"disk read failed\"},\"error\":\"disk read failed\"}\n"
    );

    let load = |body: &'static str, uri: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/x-tar")
            .body(Body::from(body))
            .unwrap()
    };
    let (status, r, body) = send(&app, load("TARBALL", "/images/load")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&r, "Content-Type"), "application/json");
    assert_eq!(body, b"{\"stream\":\"Loaded image: busybox:latest\\n\"}\n");
    // A load that fails is still a 200, with an error line (moby).
    let (status, _, body) = send(&app, load("not a tar", "/images/load?quiet=0")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        lines(&body),
        [json!({"errorDetail": {"message": "unexpected EOF"}, "error": "unexpected EOF"})]
    );
    assert_eq!(
        fake.calls(),
        [
            "save [\"a\", \"b/c\"]",
            "save [\"127.0.0.1:5000/x:y\"]",
            "save [\"truncated\"]",
            "load \"TARBALL\" quiet=true",
            "load \"not a tar\" quiet=false",
        ]
    );
}
