//! The network routes over the fake backend: what reaches the backend from
//! the path, query and body, moby's status codes, and errors.

use super::*;
use crate::types::network::{
    EndpointResource, NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse,
    NetworkDisconnectRequest, NetworkPruneReport, NetworkResource,
};

/// Networks named `missing` are NotFound. Besides, `bridge` cannot be
/// removed (Forbidden, as moby's predefined networks) and `taken` cannot
/// be created (Conflict).
fn network_lookup(id: &str) -> Result<(), ApiError> {
    match id {
        "missing" => Err(ApiError::not_found(format!("network {id} not found"))),
        _ => Ok(()),
    }
}

#[async_trait]
impl NetworkBackend for Fake {
    async fn network_create(
        &self,
        req: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ApiError> {
        if req.name == "taken" {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                "network with name taken already exists",
            ));
        }
        let pools: Vec<String> = req
            .ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.subnet)
            .collect();
        self.record(format!(
            "network_create {} driver={} internal={} ipv6={:?} pools={pools:?} labels={:?}",
            req.name, req.driver, req.internal, req.enable_ipv6, req.labels
        ));
        Ok(NetworkCreateResponse {
            id: "n0ffee".into(),
            warning: String::new(),
        })
    }
    async fn network_list(&self, filters: Filters) -> Result<Vec<NetworkResource>, ApiError> {
        self.record(format!("network_list driver={:?}", filters.get("driver")));
        Ok(vec![NetworkResource {
            name: "bridge".into(),
            id: "n0ffee".into(),
            driver: "bridge".into(),
            scope: "local".into(),
            ..NetworkResource::default()
        }])
    }
    async fn network_inspect(
        &self,
        id: &str,
        verbose: bool,
        scope: Option<String>,
    ) -> Result<NetworkResource, ApiError> {
        network_lookup(id)?;
        self.record(format!(
            "network_inspect {id} verbose={verbose} scope={scope:?}"
        ));
        Ok(NetworkResource {
            name: id.into(),
            id: "n0ffee".into(),
            containers: Some(
                [(
                    "c0ffee".to_string(),
                    EndpointResource {
                        name: "web".into(),
                        ipv4_address: "172.18.0.2/16".into(),
                        ..EndpointResource::default()
                    },
                )]
                .into(),
            ),
            ..NetworkResource::default()
        })
    }
    async fn network_remove(&self, id: &str) -> Result<(), ApiError> {
        network_lookup(id)?;
        if id == "bridge" {
            return Err(ApiError::new(
                ErrorKind::Forbidden,
                "bridge is a pre-defined network and cannot be removed",
            ));
        }
        self.record(format!("network_remove {id}"));
        Ok(())
    }
    async fn network_prune(&self, filters: Filters) -> Result<NetworkPruneReport, ApiError> {
        self.record(format!("network_prune until={:?}", filters.get("until")));
        Ok(NetworkPruneReport {
            networks_deleted: vec!["n1".into()],
        })
    }
    async fn network_connect(&self, id: &str, req: NetworkConnectRequest) -> Result<(), ApiError> {
        network_lookup(id)?;
        self.lookup(&req.container)?;
        let ep = req.endpoint_config.unwrap_or_default();
        self.record(format!(
            "network_connect {id} {} aliases={:?} ip={:?}",
            req.container,
            ep.aliases,
            ep.ipam_config.map(|c| c.ipv4_address)
        ));
        Ok(())
    }
    async fn network_disconnect(
        &self,
        id: &str,
        req: NetworkDisconnectRequest,
    ) -> Result<(), ApiError> {
        network_lookup(id)?;
        self.lookup(&req.container)?;
        self.record(format!(
            "network_disconnect {id} {} force={}",
            req.container, req.force
        ));
        Ok(())
    }
}

#[tokio::test]
async fn create_is_201_with_the_id_and_decodes_the_body() {
    let (fake, app) = app();
    let body = r#"{"Name":"n1","Driver":"bridge","EnableIPv6":true,"Internal":true,
        "IPAM":{"Driver":"default","Config":[{"Subnet":"10.5.0.0/24"}]},"Labels":{"a":"b"},
        "CheckDuplicate":true}"#;
    let (status, r, out) = send(&app, json_req(Method::POST, "/v1.44/networks/create", body)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(header(&r, "Content-Type"), "application/json");
    assert_eq!(json_of(&out), json!({"Id": "n0ffee", "Warning": ""}));
    assert_eq!(
        fake.calls(),
        [
            r#"network_create n1 driver=bridge internal=true ipv6=Some(true) pools=["10.5.0.0/24"] labels=Some({"a": "b"})"#
        ]
    );

    let (status, _, out) = send(
        &app,
        json_req(Method::POST, "/networks/create", r#"{"Name":"taken"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        json_of(&out)["message"],
        "network with name taken already exists"
    );
}

#[tokio::test]
async fn a_malformed_body_is_400_before_the_backend() {
    let (fake, app) = app();
    for (uri, body) in [
        ("/networks/create", r#"{"Name":"n1","Internal":"yes"}"#),
        ("/networks/create", r#"{"Name":"#),
        ("/networks/n1/connect", r#"{"Container":7}"#),
        ("/networks/n1/disconnect", r#"{"Force":"very"}"#),
    ] {
        let (status, _, out) = send(&app, json_req(Method::POST, uri, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}");
        let message = json_of(&out)["message"].as_str().unwrap().to_string();
        assert!(message.starts_with("invalid JSON"), "{message}");
    }
    // Not JSON at all: moby's CheckForJSON.
    let r = Request::builder()
        .method(Method::POST)
        .uri("/networks/create")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _, _) = send(&app, r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn list_and_inspect_pass_filters_verbose_and_scope() {
    let (fake, app) = app();
    let (status, _, out) = send(
        &app,
        req(
            Method::GET,
            "/networks?filters=%7B%22driver%22%3A%7B%22bridge%22%3Atrue%7D%7D",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let list = json_of(&out);
    assert_eq!(list[0]["Name"], "bridge");
    assert_eq!(list[0]["Containers"], Value::Null);
    assert_eq!(list[0]["ConfigFrom"], json!({"Network": ""}));

    let (status, _, out) = send(
        &app,
        req(Method::GET, "/v1.49/networks/n1?verbose=true&scope=local"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json_of(&out)["Containers"]["c0ffee"],
        json!({"Name": "web", "EndpointID": "", "MacAddress": "",
               "IPv4Address": "172.18.0.2/16", "IPv6Address": ""})
    );
    let (status, _, out) = send(&app, req(Method::GET, "/networks/missing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json_of(&out)["message"], "network missing not found");
    let (status, _, _) = send(&app, req(Method::GET, "/networks?filters=notjson")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        fake.calls(),
        [
            r#"network_list driver=["bridge"]"#,
            r#"network_inspect n1 verbose=true scope=Some("local")"#,
        ]
    );
}

#[tokio::test]
async fn remove_is_204_and_prune_reports() {
    let (fake, app) = app();
    let (status, _, out) = send(&app, req(Method::DELETE, "/networks/n1")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(out.is_empty());
    let (status, _, out) = send(&app, req(Method::DELETE, "/networks/bridge")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        json_of(&out)["message"],
        "bridge is a pre-defined network and cannot be removed"
    );
    let (status, _, out) = send(
        &app,
        req(
            Method::POST,
            "/networks/prune?filters=%7B%22until%22%3A%5B%2224h%22%5D%7D",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&out), json!({"NetworksDeleted": ["n1"]}));
    assert_eq!(
        fake.calls(),
        ["network_remove n1", r#"network_prune until=["24h"]"#]
    );
}

#[tokio::test]
async fn connect_and_disconnect_are_200() {
    let (fake, app) = app();
    let body = r#"{"Container":"web","EndpointConfig":{"Aliases":["db"],"IPAMConfig":{"IPv4Address":"10.5.0.7"}}}"#;
    let (status, _, out) = send(&app, json_req(Method::POST, "/networks/n1/connect", body)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(out.is_empty());
    let (status, _, _) = send(
        &app,
        json_req(
            Method::POST,
            "/networks/n1/disconnect",
            r#"{"Container":"web","Force":true}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, out) = send(
        &app,
        json_req(
            Method::POST,
            "/networks/n1/connect",
            r#"{"Container":"missing"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json_of(&out)["message"], "No such container: missing");
    assert_eq!(
        fake.calls(),
        [
            r#"network_connect n1 web aliases=Some(["db"]) ip=Some("10.5.0.7")"#,
            "network_disconnect n1 web force=true",
        ]
    );
}
