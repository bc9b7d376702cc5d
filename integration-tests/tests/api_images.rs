//! The image endpoints end to end: the real router over a real daemon
//! (`ApiBackend`), served on a unix socket as berthd serves it and driven
//! with `berth_client` as the CLI would, against a real registry: pull
//! with dockerd's progress lines, list, inspect, tag, history, rmi,
//! save/load, prune, the 400/404 answers, and the image events logged.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use berth_api::server::router;
use berth_api::types::filters::Filters;
use berth_api::types::image::{
    DeleteItem, HistoryResponseItem, ImageInspect, ImageSummary, JsonMessage,
    PruneReport as ImagePruneReport,
};
use berth_client::stream::ByteStream;
use berth_client::{Call, Client, ClientError, Host, Method};
use berth_daemon::api::ApiBackend;
use berth_daemon::events::{EventFilter, EventType};
use bytes::Bytes;
use integration_tests::daemon_world::DaemonWorld;

/// Serves the real router over `d` on a unix socket at `sock`.
fn serve(w: &DaemonWorld, d: &Arc<berth_daemon::daemon::Daemon>, sock: &Path) {
    let app = router(ApiBackend::backends(d.clone()));
    let listener =
        w.rt.block_on(async { tokio::net::UnixListener::bind(sock) })
            .unwrap();
    w.rt.spawn(async move { axum::serve(listener, app).await });
}

/// The body of `call` as text, and its status.
async fn text(client: &Client, call: Call) -> Result<String, ClientError> {
    let resp = client.send(call).await?;
    let body = ByteStream::new(resp.into_body()).collect(64 << 20).await?;
    Ok(String::from_utf8(body.to_vec()).unwrap())
}

async fn bytes(client: &Client, call: Call) -> Bytes {
    let resp = client.send(call).await.unwrap();
    assert_eq!(
        resp.headers()["Content-Type"].to_str().unwrap(),
        "application/x-tar"
    );
    ByteStream::new(resp.into_body())
        .collect(256 << 20)
        .await
        .unwrap()
}

fn messages(body: &str) -> Vec<JsonMessage> {
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn filters(key: &str, value: &str) -> String {
    Filters::new().with(key, value).to_json()
}

#[test]
fn image_endpoints_over_a_real_daemon() {
    let w = DaemonWorld::new();
    let d = w.daemon();
    let (_, mut events) = d.events().subscribe(EventFilter::default(), None, None);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("berth.sock");
    serve(&w, &d, &sock);
    let client = Client::new(Host::Unix(sock));
    let reg = w.reg.host();
    let repo = format!("{reg}/multilayer");
    let tagged = format!("{repo}:latest");

    w.rt.block_on(async {
        // Pull: dockerd's lines, in dockerd's order and shapes.
        let body = text(
            &client,
            Call::new(Method::POST, "/images/create")
                .query("fromImage", &repo)
                .query("tag", "latest"),
        )
        .await
        .unwrap();
        let first = body.lines().next().unwrap();
        assert_eq!(
            first,
            r#"{"status":"Pulling from multilayer","id":"latest"}"#
        );
        let lines = messages(&body);
        let statuses: Vec<&str> = lines.iter().map(|m| m.status.as_str()).collect();
        for want in ["Pulling fs layer", "Downloading", "Pull complete"] {
            assert!(statuses.contains(&want), "no {want:?} in {body}");
        }
        let down = lines.iter().find(|m| m.status == "Downloading").unwrap();
        assert_eq!(down.id.len(), 12, "{down:?}");
        let detail = down.progress_detail.as_ref().unwrap();
        assert!(detail.total > 0, "{down:?}");
        assert!(down.progress.starts_with('['), "{down:?}");
        assert!(
            body.contains(r#""status":"Pulling fs layer","progressDetail":{},"id":""#),
            "{body}"
        );
        let n = lines.len();
        assert!(lines[n - 2].status.starts_with("Digest: sha256:"), "{body}");
        assert_eq!(
            lines[n - 1].status,
            format!("Status: Downloaded newer image for {tagged}")
        );
        assert!(lines.iter().all(|m| m.error_message().is_none()), "{body}");

        // List, with and without a reference filter.
        let all: Vec<ImageSummary> = client
            .json(Call::new(Method::GET, "/images/json"))
            .await
            .unwrap();
        assert!(all.iter().any(|i| i.repo_tags.contains(&tagged)), "{all:?}");
        assert!(
            all.iter().any(|i| i.repo_tags.contains(&w.image)),
            "{all:?}"
        );
        let only: Vec<ImageSummary> = client
            .json(
                Call::new(Method::GET, "/images/json")
                    .query("filters", filters("reference", "*/multilayer")),
            )
            .await
            .unwrap();
        assert_eq!(only.len(), 1, "{only:?}");
        assert_eq!(only[0].repo_tags, vec![tagged.clone()]);
        let bad = client
            .json::<Vec<ImageSummary>>(
                Call::new(Method::GET, "/images/json").query("filters", filters("colour", "red")),
            )
            .await
            .unwrap_err();
        assert_eq!(bad.status(), Some(400), "{bad}");
        assert_eq!(bad.message(), "invalid filter 'colour'");

        // Inspect by a name with a registry port and slashes.
        let inspect: ImageInspect = client
            .json(Call::new(Method::GET, format!("/images/{tagged}/json")))
            .await
            .unwrap();
        let id = inspect.id.clone();
        assert!(id.starts_with("sha256:"), "{id}");
        assert_eq!(inspect.repo_tags, vec![tagged.clone()]);
        assert_eq!(inspect.graph_driver.name, "overlay2");
        // ... and by a short ID.
        let by_id: ImageInspect = client
            .json(Call::new(
                Method::GET,
                format!("/images/{}/json", &id[7..19]),
            ))
            .await
            .unwrap();
        assert_eq!(by_id.id, id);

        // Tag (201), then history shows the new tag on the newest entry.
        let resp = client
            .send(
                Call::new(Method::POST, format!("/images/{tagged}/tag"))
                    .query("repo", "example.test/renamed")
                    .query("tag", "v1"),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let history: Vec<HistoryResponseItem> = client
            .json(Call::new(
                Method::GET,
                "/images/example.test/renamed:v1/history",
            ))
            .await
            .unwrap();
        assert_eq!(history[0].id, id);
        let tags = history[0].tags.clone().unwrap();
        assert!(
            tags.contains(&"example.test/renamed:v1".to_string()),
            "{tags:?}"
        );
        assert!(history[1..].iter().all(|h| h.id == "<missing>"));

        // Untag the extra name.
        let items: Vec<DeleteItem> = client
            .json(Call::new(Method::DELETE, "/images/example.test/renamed:v1"))
            .await
            .unwrap();
        assert_eq!(
            items,
            [DeleteItem::Untagged("example.test/renamed:v1".into())]
        );

        // Save by both routes: the same archive, with a docker-save manifest.
        let tar_one = bytes(
            &client,
            Call::new(Method::GET, format!("/images/{tagged}/get")),
        )
        .await;
        let tar_many = bytes(
            &client,
            Call::new(Method::GET, "/images/get").query("names", &tagged),
        )
        .await;
        assert_eq!(tar_one.len(), tar_many.len());
        let mut archive = tar::Archive::new(tar_one.as_ref());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(names.iter().any(|n| n == "manifest.json"), "{names:?}");

        // Delete: untagged and deleted items, then a 404 in moby's words.
        let items: Vec<DeleteItem> = client
            .json(Call::new(Method::DELETE, format!("/images/{tagged}")))
            .await
            .unwrap();
        assert!(
            items.contains(&DeleteItem::Untagged(tagged.clone())),
            "{items:?}"
        );
        assert!(
            items.contains(&DeleteItem::Deleted(id.clone())),
            "{items:?}"
        );
        let gone = client
            .json::<ImageInspect>(Call::new(Method::GET, format!("/images/{tagged}/json")))
            .await
            .unwrap_err();
        assert_eq!(gone.status(), Some(404));
        assert_eq!(gone.message(), format!("No such image: {tagged}"));

        // Load the saved archive back.
        let body = text(
            &client,
            Call::new(Method::POST, "/images/load")
                .query("quiet", "1")
                .bytes(tar_one.clone(), "application/x-tar"),
        )
        .await
        .unwrap();
        assert_eq!(
            body,
            format!("{{\"stream\":\"Loaded image: {tagged}\\n\"}}\n")
        );
        let back: ImageInspect = client
            .json(Call::new(Method::GET, format!("/images/{tagged}/json")))
            .await
            .unwrap();
        assert_eq!(back.id, id);
        // A broken archive is still a 200, with an error line.
        let body = text(
            &client,
            Call::new(Method::POST, "/images/load")
                .bytes(Bytes::from_static(b"not a tar"), "application/x-tar"),
        )
        .await
        .unwrap();
        let lines = messages(&body);
        assert_eq!(lines.len(), 1, "{body}");
        assert!(lines[0].error_message().is_some(), "{body}");

        // Move the tag to busybox: multilayer is now dangling, and prune
        // deletes it (only it) and reports the space.
        let (busybox_repo, busybox_tag) = w.image.rsplit_once(':').unwrap();
        let resp = client
            .send(
                Call::new(Method::POST, format!("/images/{busybox_repo}/tag"))
                    .query("repo", &repo)
                    .query("tag", busybox_tag),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let dangling: Vec<ImageSummary> = client
            .json(
                Call::new(Method::GET, "/images/json")
                    .query("filters", filters("dangling", "true")),
            )
            .await
            .unwrap();
        assert_eq!(
            dangling.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            [id.as_str()]
        );
        let report: ImagePruneReport = client
            .json(Call::new(Method::POST, "/images/prune"))
            .await
            .unwrap();
        let deleted = report.images_deleted.clone().unwrap();
        assert!(
            deleted.contains(&DeleteItem::Deleted(id.clone())),
            "{report:?}"
        );
        assert!(report.space_reclaimed > 0, "{report:?}");
        let busybox: ImageInspect = client
            .json(Call::new(Method::GET, format!("/images/{}/json", w.image)))
            .await
            .unwrap();
        assert!(busybox.repo_tags.contains(&tagged), "{busybox:?}");
        // Nothing left to prune: Docker's null list.
        let report: ImagePruneReport = client
            .json(Call::new(Method::POST, "/images/prune"))
            .await
            .unwrap();
        assert_eq!(report, ImagePruneReport::default());

        // Bad input and misses.
        let bad = text(
            &client,
            Call::new(Method::POST, "/images/create").query("fromImage", "Bad/Name"),
        )
        .await
        .unwrap_err();
        assert_eq!(bad.status(), Some(400), "{bad}");
        assert!(
            bad.message().starts_with("invalid reference format"),
            "{bad}"
        );
        let missing = client
            .json::<ImageInspect>(Call::new(Method::GET, "/images/nosuch/json"))
            .await
            .unwrap_err();
        assert_eq!(missing.status(), Some(404));
        assert_eq!(missing.message(), "No such image: nosuch:latest");
        let missing = client
            .json::<Vec<DeleteItem>>(Call::new(Method::DELETE, "/images/nosuch:v9"))
            .await
            .unwrap_err();
        assert_eq!(missing.status(), Some(404));
        assert_eq!(missing.message(), "No such image: nosuch:v9");
        // An image the registry does not have fails before any progress
        // line: a plain error answer, not a 200 stream.
        let unknown = text(
            &client,
            Call::new(Method::POST, "/images/create")
                .query("fromImage", format!("{reg}/nosuch"))
                .query("tag", "latest"),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(unknown.status(), Some(s) if (400..500).contains(&s)),
            "{unknown:?}"
        );
    });

    // The image events, as moby logs them.
    let mut seen = Vec::new();
    w.rt.block_on(async {
        while let Ok(Some(m)) =
            tokio::time::timeout(Duration::from_millis(500), events.next()).await
        {
            assert_eq!(m.event_type, EventType::Image, "{m:?}");
            let attrs: BTreeMap<String, String> = m.actor.attributes.clone();
            seen.push((m.action.clone(), m.actor.id.clone(), attrs));
        }
    });
    let actions: Vec<&str> = seen.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "pull", "tag", "untag", "save", "save", "untag", "untag", "delete", "load", "tag",
            "delete", "prune", "prune"
        ],
        "{seen:?}"
    );
    let (_, pull_id, _) = &seen[0];
    assert_eq!(pull_id, &tagged);
    let (_, _, prune_attrs) = &seen[11];
    assert_ne!(prune_attrs["reclaimed"], "0");
    let (_, _, prune_attrs) = &seen[12];
    assert_eq!(prune_attrs["reclaimed"], "0");
}
