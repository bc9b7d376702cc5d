//! The volume routes over the fake backend: what reaches the backend from
//! the path, query and body, moby's status codes, the prune default that
//! depends on the API version, and errors.

use super::*;
use crate::types::volume::{Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneReport};

fn volume(name: &str) -> Volume {
    Volume {
        name: name.into(),
        driver: "local".into(),
        scope: "local".into(),
        mountpoint: format!("/var/lib/berth/volumes/{name}/_data"),
        ..Volume::default()
    }
}

/// Volumes named `missing` are NotFound and `busy` is in use.
#[async_trait]
impl VolumeBackend for Fake {
    async fn volume_list(&self, filters: Filters) -> Result<VolumeListResponse, ApiError> {
        self.record(format!(
            "volume_list dangling={:?}",
            filters.get("dangling")
        ));
        Ok(VolumeListResponse {
            volumes: vec![volume("data")],
            warnings: Vec::new(),
        })
    }
    async fn volume_create(&self, req: VolumeCreateRequest) -> Result<Volume, ApiError> {
        self.record(format!(
            "volume_create {} driver={} labels={:?} opts={:?}",
            req.name, req.driver, req.labels, req.driver_opts
        ));
        Ok(volume(&req.name))
    }
    async fn volume_inspect(&self, name: &str) -> Result<Volume, ApiError> {
        match name {
            "missing" => Err(ApiError::not_found("get missing: no such volume")),
            _ => Ok(volume(name)),
        }
    }
    async fn volume_remove(&self, name: &str, force: bool) -> Result<(), ApiError> {
        self.record(format!("volume_remove {name} force={force}"));
        match name {
            "busy" => Err(ApiError::new(
                ErrorKind::Conflict,
                "remove busy: volume is in use - [c0ffee]",
            )),
            _ => Ok(()),
        }
    }
    async fn volume_prune(&self, filters: Filters) -> Result<VolumePruneReport, ApiError> {
        self.record(format!("volume_prune all={:?}", filters.get("all")));
        Ok(VolumePruneReport {
            volumes_deleted: vec!["data".into()],
            space_reclaimed: 42,
        })
    }
}

#[tokio::test]
async fn create_is_201_and_passes_the_body() {
    let (fake, app) = app();
    let (status, _, body) = send(
        &app,
        json_req(
            Method::POST,
            "/v1.43/volumes/create",
            r#"{"Name":"data","Driver":"local","Labels":{"a":"b"},"DriverOpts":{"type":"tmpfs"}}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        json_of(&body)["Mountpoint"],
        "/var/lib/berth/volumes/data/_data"
    );
    assert_eq!(
        fake.calls(),
        [r#"volume_create data driver=local labels={"a": "b"} opts={"type": "tmpfs"}"#]
    );
}

#[tokio::test]
async fn create_refuses_a_malformed_body_before_the_backend() {
    let (fake, app) = app();
    let (status, _, _) = send(
        &app,
        json_req(Method::POST, "/volumes/create", r#"{"Labels":"x"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn list_inspect_and_errors() {
    let (fake, app) = app();
    let uri = "/volumes?filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D";
    let (status, _, body) = send(&app, req(Method::GET, uri)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body)["Volumes"][0]["Name"], "data");
    assert_eq!(json_of(&body)["Warnings"], Value::Null);
    assert_eq!(fake.calls(), [r#"volume_list dangling=["true"]"#]);

    let (status, _, body) = send(&app, req(Method::GET, "/volumes/data")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body)["Name"], "data");
    let (status, _, body) = send(&app, req(Method::GET, "/volumes/missing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        json_of(&body),
        json!({"message": "get missing: no such volume"})
    );
}

#[tokio::test]
async fn remove_is_204_and_in_use_is_409() {
    let (fake, app) = app();
    let (status, _, _) = send(&app, req(Method::DELETE, "/volumes/data?force=1")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = send(&app, req(Method::DELETE, "/volumes/busy")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(String::from_utf8_lossy(&body).contains("volume is in use"));
    assert_eq!(
        fake.calls(),
        [
            "volume_remove data force=true",
            "volume_remove busy force=false"
        ]
    );
}

#[tokio::test]
async fn prune_prunes_everything_for_clients_before_1_42() {
    let (fake, app) = app();
    let (status, _, body) = send(&app, req(Method::POST, "/v1.41/volumes/prune")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json_of(&body),
        json!({"VolumesDeleted": ["data"], "SpaceReclaimed": 42})
    );
    send(&app, req(Method::POST, "/v1.43/volumes/prune")).await;
    assert_eq!(
        fake.calls(),
        [r#"volume_prune all=["true"]"#, "volume_prune all=[]"]
    );
}

#[tokio::test]
async fn cluster_update_is_refused() {
    let (_, app) = app();
    let (status, _, body) = send(&app, req(Method::PUT, "/volumes/data?version=1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&body).contains("not a swarm manager"));
}
