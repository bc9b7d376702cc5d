//! The network methods against a fake Engine API on a unix socket that
//! records each request (method, URI, body) and answers what Docker 28
//! answers: the methods must build Docker's requests and decode its
//! answers and errors.

mod support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use berth_api::types::container::{EndpointIpamConfig, EndpointSettings};
use berth_api::types::filters::Filters;
use berth_api::types::network::{Ipam, IpamConfig, NetworkCreateRequest, NetworkInspectOptions};
use berth_client::{Client, Host};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{json, Value};

/// One request as the fake saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    body: String,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Docker 28's answer to `GET /networks/n1`.
const INSPECT: &str = r#"{"Name":"n1","Id":"3f2a9c1b7e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2","Created":"2025-01-02T03:04:05.123456789Z","Scope":"local","Driver":"bridge","EnableIPv4":true,"EnableIPv6":false,"IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.5.0.0/24","Gateway":"10.5.0.1"}]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{},"Labels":{"a":"b"}}"#;

fn reply(status: u16, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

async fn answer(
    req: Request<Incoming>,
    log: Log,
    version: &'static str,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/_ping" {
        return Ok(Response::builder()
            .header("Api-Version", version)
            .body(Full::new(Bytes::from_static(b"OK")))
            .unwrap());
    }
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let prefix = format!("/v{version}");
    let path = req.uri().path().trim_start_matches(&prefix).to_string();
    let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
    log.lock().unwrap().push(Seen {
        method: method.clone(),
        uri,
        body: String::from_utf8(body).unwrap(),
    });
    let r = match (method.as_str(), path.as_str()) {
        ("POST", "/networks/create") => reply(201, r#"{"Id":"3f2a9c1b7e5d","Warning":""}"#),
        ("GET", "/networks") => reply(200, "[]"),
        ("GET", "/networks/n1") => reply(200, INSPECT),
        ("DELETE", "/networks/n1") => reply(204, ""),
        ("DELETE", "/networks/bridge") => reply(
            403,
            r#"{"message":"bridge is a pre-defined network and cannot be removed"}"#,
        ),
        ("POST", "/networks/n1/connect") | ("POST", "/networks/n1/disconnect") => reply(200, ""),
        ("POST", "/networks/prune") => reply(200, r#"{"NetworksDeleted":null}"#),
        _ => reply(404, r#"{"message":"network nosuch not found"}"#),
    };
    Ok(r)
}

async fn setup(version: &'static str) -> (tempfile::TempDir, Client, Log) {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("api.sock");
    let log: Log = Arc::default();
    let l = log.clone();
    support::serve_unix(&sock, move |req| answer(req, l.clone(), version));
    (dir, Client::new(Host::Unix(sock)), log)
}

fn last(log: &Log) -> Seen {
    log.lock().unwrap().last().cloned().unwrap()
}

fn create_request() -> NetworkCreateRequest {
    NetworkCreateRequest {
        name: "n1".into(),
        driver: "bridge".into(),
        ipam: Some(Ipam {
            driver: "default".into(),
            options: None,
            config: Some(vec![IpamConfig {
                subnet: "10.5.0.0/24".into(),
                gateway: "10.5.0.1".into(),
                ..IpamConfig::default()
            }]),
        }),
        labels: Some([("a".to_string(), "b".to_string())].into()),
        ..NetworkCreateRequest::default()
    }
}

#[tokio::test]
async fn create_list_inspect() {
    let (_dir, c, log) = setup("1.49").await;

    let created = c.network_create(&create_request()).await.unwrap();
    assert_eq!(created.id, "3f2a9c1b7e5d");
    let seen = last(&log);
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/v1.49/networks/create")
    );
    let body = seen.json();
    assert_eq!(body["Name"], "n1");
    assert_eq!(
        body["IPAM"],
        json!({"Driver": "default", "Options": null, "Config": [{"Subnet": "10.5.0.0/24", "Gateway": "10.5.0.1"}]})
    );
    assert!(body.get("CheckDuplicate").is_none(), "{body}");

    let list = c
        .network_list(&Filters::new().with("driver", "bridge"))
        .await
        .unwrap();
    assert!(list.is_empty());
    assert_eq!(
        last(&log).uri,
        "/v1.49/networks?filters=%7B%22driver%22%3A%7B%22bridge%22%3Atrue%7D%7D"
    );
    c.network_list(&Filters::new()).await.unwrap();
    assert_eq!(last(&log).uri, "/v1.49/networks");

    let options = NetworkInspectOptions {
        verbose: true,
        scope: "local".into(),
    };
    let (n, raw) = c.network_inspect_with_raw("n1", &options).await.unwrap();
    assert_eq!(
        last(&log).uri,
        "/v1.49/networks/n1?verbose=true&scope=local"
    );
    assert_eq!(n.ipam.config.unwrap()[0].gateway, "10.5.0.1");
    assert_eq!(n.labels.unwrap()["a"], "b");
    assert_eq!(raw, INSPECT.as_bytes(), "the daemon's bytes as they came");
    let n = c
        .network_inspect("n1", &NetworkInspectOptions::default())
        .await
        .unwrap();
    assert_eq!(last(&log).uri, "/v1.49/networks/n1");
    assert!(n.enable_ipv4);

    let e = c
        .network_inspect("nosuch", &NetworkInspectOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert_eq!(
        e.to_string(),
        "Error response from daemon: network nosuch not found"
    );
}

#[tokio::test]
async fn older_daemons_get_check_duplicate() {
    let (_dir, c, log) = setup("1.43").await;
    c.network_create(&create_request()).await.unwrap();
    let seen = last(&log);
    assert_eq!(seen.uri, "/v1.43/networks/create");
    assert_eq!(seen.json()["CheckDuplicate"], true);
}

#[tokio::test]
async fn remove_connect_disconnect_prune() {
    let (_dir, c, log) = setup("1.49").await;

    c.network_remove("n1").await.unwrap();
    assert_eq!(last(&log).method, "DELETE");
    let e = c.network_remove("bridge").await.unwrap_err();
    assert_eq!(e.status(), Some(403));
    assert_eq!(
        e.to_string(),
        "Error response from daemon: bridge is a pre-defined network and cannot be removed"
    );

    let ep = EndpointSettings {
        aliases: Some(vec!["db".into()]),
        ipam_config: Some(EndpointIpamConfig {
            ipv4_address: "10.5.0.7".into(),
            ..EndpointIpamConfig::default()
        }),
        ..EndpointSettings::default()
    };
    c.network_connect("n1", "web", Some(&ep)).await.unwrap();
    let seen = last(&log);
    assert_eq!(seen.uri, "/v1.49/networks/n1/connect");
    let body = seen.json();
    assert_eq!(body["Container"], "web");
    assert_eq!(body["EndpointConfig"]["Aliases"], json!(["db"]));
    assert_eq!(
        body["EndpointConfig"]["IPAMConfig"],
        json!({"IPv4Address": "10.5.0.7"})
    );
    c.network_connect("n1", "web", None).await.unwrap();
    assert_eq!(last(&log).json(), json!({"Container": "web"}));

    c.network_disconnect("n1", "web", true).await.unwrap();
    let seen = last(&log);
    assert_eq!(seen.uri, "/v1.49/networks/n1/disconnect");
    assert_eq!(seen.json(), json!({"Container": "web", "Force": true}));

    let report = c
        .networks_prune(&Filters::new().with("until", "24h"))
        .await
        .unwrap();
    assert!(report.networks_deleted.is_empty());
    let seen = last(&log);
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.uri,
        "/v1.49/networks/prune?filters=%7B%22until%22%3A%7B%2224h%22%3Atrue%7D%7D"
    );
}
