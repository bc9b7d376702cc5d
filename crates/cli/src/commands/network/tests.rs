//! The network commands parsed as `berth` parses them and run over a fake
//! daemon: the requests they make and what they print.

use std::cell::RefCell;

use clap::Parser;
use serde_json::json;

use super::*;
use crate::cli::{Cli, Command};
use crate::stdio::MemWriter as Buf;

/// Records every call; the network `missing` is NotFound, `bridge`
/// cannot be removed.
#[derive(Default)]
struct Fake {
    calls: RefCell<Vec<String>>,
    networks: Vec<NetworkResource>,
    deleted: Vec<String>,
}

fn api_error(status: u16, message: &str) -> ClientError {
    ClientError::Api {
        status,
        message: message.into(),
    }
}

impl NetworkApi for Fake {
    async fn create(
        &self,
        req: &NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ClientError> {
        self.calls
            .borrow_mut()
            .push(serde_json::to_string(req).unwrap());
        Ok(NetworkCreateResponse {
            id: "3f2a9c1b7e5d4c3b2a1908f7e6d5c4b3".into(),
            warning: String::new(),
        })
    }
    async fn list(&self, filters: &Filters) -> Result<Vec<NetworkResource>, ClientError> {
        self.calls
            .borrow_mut()
            .push(format!("list {}", filters.to_json()));
        Ok(self.networks.clone())
    }
    async fn remove(&self, id: &str) -> Result<(), ClientError> {
        self.calls.borrow_mut().push(format!("remove {id}"));
        match id {
            "missing" => Err(api_error(404, "network missing not found")),
            "bridge" => Err(api_error(
                403,
                "bridge is a pre-defined network and cannot be removed",
            )),
            _ => Ok(()),
        }
    }
    async fn prune(&self, filters: &Filters) -> Result<NetworkPruneReport, ClientError> {
        self.calls
            .borrow_mut()
            .push(format!("prune {}", filters.to_json()));
        Ok(NetworkPruneReport {
            networks_deleted: self.deleted.clone(),
        })
    }
    async fn connect(
        &self,
        id: &str,
        container: &str,
        config: &EndpointSettings,
    ) -> Result<(), ClientError> {
        self.calls.borrow_mut().push(format!(
            "connect {id} {container} {}",
            serde_json::to_string(config).unwrap()
        ));
        Ok(())
    }
    async fn disconnect(&self, id: &str, container: &str, force: bool) -> Result<(), ClientError> {
        self.calls
            .borrow_mut()
            .push(format!("disconnect {id} {container} force={force}"));
        Ok(())
    }
}

fn stdio() -> (Stdio, Buf, Buf) {
    let (out, err) = (Buf::default(), Buf::default());
    let io = Stdio {
        stdin: Some(Box::new(&b""[..])),
        stdout: Box::new(out.clone()),
        stderr: Box::new(err.clone()),
        stdin_tty: false,
        stdout_tty: false,
        stderr_tty: false,
    };
    (io, out, err)
}

fn parse(args: &[&str]) -> Result<NetworkCommand, clap::Error> {
    let mut argv = vec!["berth", "network"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv)?.command {
        Command::Network(c) => Ok(c),
        _ => unreachable!(),
    }
}

/// Runs `berth network <args>` over `fake`: the status (or the error's
/// message and status), stdout and stderr.
async fn run_cmd(
    fake: &Fake,
    args: &[&str],
) -> (Result<i32, (Option<String>, i32)>, String, String) {
    let (mut io, out, err) = stdio();
    let result = run(fake, &parse(args).unwrap(), &mut io)
        .await
        .map_err(|e| (e.message, e.status));
    (result, out.text(), err.text())
}

fn network(name: &str, id: &str, driver: &str) -> NetworkResource {
    NetworkResource {
        name: name.into(),
        id: id.into(),
        driver: driver.into(),
        scope: "local".into(),
        created: "2025-01-02T03:04:05.120000000Z".into(),
        ..NetworkResource::default()
    }
}

#[tokio::test]
async fn create_sends_dockers_request_and_prints_the_id() {
    let fake = Fake::default();
    let (status, out, _) = run_cmd(
        &fake,
        &[
            "create",
            "--subnet",
            "10.5.0.0/24,10.6.0.0/16",
            "--gateway",
            "10.6.0.1",
            "--ip-range",
            "10.5.0.128/25",
            "--aux-address",
            "router=10.5.0.2",
            "--label",
            "env=prod",
            "--label",
            "bare",
            "-o",
            "com.docker.network.bridge.name=br1",
            "--ipv6",
            "--internal",
            "n1",
        ],
    )
    .await;
    assert_eq!(status, Ok(0));
    assert_eq!(out, "3f2a9c1b7e5d4c3b2a1908f7e6d5c4b3\n");
    let sent: serde_json::Value = serde_json::from_str(&fake.calls.borrow()[0]).unwrap();
    assert_eq!(
        sent,
        json!({
            "Driver": "bridge", "Scope": "", "EnableIPv6": true,
            "IPAM": {"Driver": "default", "Options": {}, "Config": [
                {"Subnet": "10.5.0.0/24", "IPRange": "10.5.0.128/25",
                 "AuxiliaryAddresses": {"router": "10.5.0.2"}},
                {"Subnet": "10.6.0.0/16", "Gateway": "10.6.0.1"}]},
            "Internal": true, "Attachable": false, "Ingress": false, "ConfigOnly": false,
            "ConfigFrom": null, "Options": {"com.docker.network.bridge.name": "br1"},
            "Labels": {"env": "prod", "bare": ""}, "Name": "n1"
        })
    );

    // The defaults: no pools, IPv4/IPv6 left to the daemon.
    let fake = Fake::default();
    run_cmd(
        &fake,
        &["create", "--ipv4=false", "--config-from", "base", "n2"],
    )
    .await
    .0
    .unwrap();
    let sent: serde_json::Value = serde_json::from_str(&fake.calls.borrow()[0]).unwrap();
    assert_eq!(sent["IPAM"]["Config"], json!([]));
    assert_eq!(sent["EnableIPv4"], false);
    assert!(sent.get("EnableIPv6").is_none());
    assert_eq!(sent["ConfigFrom"], json!({"Network": "base"}));
}

#[tokio::test]
async fn create_refuses_what_docker_refuses_before_the_daemon() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["--gateway", "10.5.0.1"],
            "every ip-range or gateway must have a corresponding subnet",
        ),
        (
            &["--subnet", "10.5.0.0/16,10.5.1.0/24"],
            "multiple overlapping subnet configuration is not supported",
        ),
        (
            &["--subnet", "10.5.0.0/24", "--gateway", "10.9.0.1"],
            "no matching subnet for gateway 10.9.0.1",
        ),
        (
            &["--subnet", "10.5.0.0/24", "--ip-range", "10.9.0.0/25"],
            "no matching subnet for range 10.9.0.0/25",
        ),
        (
            &["--subnet", "10.5.0.0/24", "--aux-address", "a=10.9.0.2"],
            "no matching subnet for aux-address 10.9.0.2",
        ),
        (
            &["--subnet", "10.5.0/24", "--gateway", "10.5.0.1"],
            "invalid subnet: invalid CIDR address: 10.5.0/24",
        ),
        (
            &["--label", "=x"],
            "invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name",
        ),
    ];
    for (flags, message) in cases {
        let fake = Fake::default();
        let mut args = vec!["create"];
        args.extend_from_slice(flags);
        args.push("n1");
        let (status, _, _) = run_cmd(&fake, &args).await;
        assert_eq!(status, Err((Some(message.to_string()), 1)), "{flags:?}");
        assert!(fake.calls.borrow().is_empty());
    }
}

#[test]
fn ipv6_subnets_and_gateways_pair_up() {
    let pools = consolidate_ipam(
        &["2001:db8::/64".into(), "10.0.0.0/8".into()],
        &[],
        &["2001:db8::1".into(), "10.0.0.1".into()],
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(pools[0].gateway, "2001:db8::1");
    assert_eq!(pools[1].gateway, "10.0.0.1");
}

#[tokio::test]
async fn ls_prints_dockers_table_sorted_by_name() {
    let fake = Fake {
        networks: vec![
            network("net10", "c3d4e5f6a7b8c9d0e1f2", "bridge"),
            network("bridge", "a1b2c3d4e5f6a7b8c9d0", "bridge"),
            network("net9", "d4e5f6a7b8c9d0e1f2a3", "bridge"),
            network("host", "b2c3d4e5f6a7b8c9d0e1", "host"),
        ],
        ..Fake::default()
    };
    let (status, out, _) = run_cmd(&fake, &["ls", "-f", "driver=bridge"]).await;
    assert_eq!(status, Ok(0));
    assert_eq!(
        out,
        "NETWORK ID     NAME      DRIVER    SCOPE\n\
         a1b2c3d4e5f6   bridge    bridge    local\n\
         b2c3d4e5f6a7   host      host      local\n\
         d4e5f6a7b8c9   net9      bridge    local\n\
         c3d4e5f6a7b8   net10     bridge    local\n"
    );
    assert_eq!(fake.calls.borrow()[0], r#"list {"driver":{"bridge":true}}"#);

    let (_, out, _) = run_cmd(&fake, &["ls", "-q", "--no-trunc"]).await;
    assert_eq!(
        out,
        "a1b2c3d4e5f6a7b8c9d0\nb2c3d4e5f6a7b8c9d0e1\nd4e5f6a7b8c9d0e1f2a3\nc3d4e5f6a7b8c9d0e1f2\n"
    );
    let (_, out, _) = run_cmd(
        &fake,
        &["ls", "--format", "{{.Name}} {{.IPv6}} {{.CreatedAt}}"],
    )
    .await;
    assert_eq!(
        out.lines().next().unwrap(),
        "bridge false 2025-01-02 03:04:05.12 +0000 UTC"
    );
    let (status, _, _) = run_cmd(&fake, &["ls", "-f", "driver"]).await;
    assert_eq!(
        status,
        Err((
            Some("bad format of filter (expected name=value)".into()),
            125
        ))
    );
}

#[test]
fn go_times_and_natural_order() {
    assert_eq!(
        go_time_string("2025-01-02T03:04:05.123456789+02:00"),
        "2025-01-02 03:04:05.123456789 +0200 +0200"
    );
    assert_eq!(
        go_time_string("2025-01-02T03:04:05Z"),
        "2025-01-02 03:04:05 +0000 UTC"
    );
    let mut names = vec!["n10", "n2", "a", "n02", "n1b"];
    names.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(names, ["a", "n1b", "n2", "n02", "n10"]);
}

#[tokio::test]
async fn rm_goes_on_after_an_error_and_exits_1() {
    let fake = Fake::default();
    let (status, out, err) = run_cmd(&fake, &["rm", "n1", "bridge", "missing", "n2"]).await;
    assert_eq!(status, Err((None, 1)));
    assert_eq!(out, "n1\nn2\n");
    assert_eq!(
        err,
        "Error response from daemon: bridge is a pre-defined network and cannot be removed\n\
         Error response from daemon: network missing not found\n"
    );
    let (status, out, err) = run_cmd(&fake, &["rm", "-f", "missing", "n1"]).await;
    assert_eq!(status, Ok(0));
    assert_eq!((out.as_str(), err.as_str()), ("n1\n", ""));
}

#[tokio::test]
async fn prune_lists_what_went() {
    let fake = Fake {
        deleted: vec!["n1".into(), "n2".into()],
        ..Fake::default()
    };
    let (status, out, _) = run_cmd(&fake, &["prune", "-f", "--filter", "until=24h"]).await;
    assert_eq!(status, Ok(0));
    assert_eq!(out, "Deleted Networks:\nn1\nn2\n\n");
    assert_eq!(fake.calls.borrow()[0], r#"prune {"until":{"24h":true}}"#);
    let (_, out, _) = run_cmd(&Fake::default(), &["prune", "--force"]).await;
    assert_eq!(out, "");
}

#[tokio::test]
async fn connect_and_disconnect_send_dockers_bodies() {
    let fake = Fake::default();
    let (status, _, _) = run_cmd(
        &fake,
        &[
            "connect",
            "--alias",
            "db,cache",
            "--ip",
            "10.5.0.7",
            "--link",
            "other:o",
            "--driver-opt",
            "k = v",
            "n1",
            "web",
        ],
    )
    .await;
    assert_eq!(status, Ok(0));
    let call = fake.calls.borrow()[0].clone();
    let (head, body) = call.split_at("connect n1 web ".len());
    assert_eq!(head, "connect n1 web ");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["IPAMConfig"], json!({"IPv4Address": "10.5.0.7"}));
    assert_eq!(body["Aliases"], json!(["db", "cache"]));
    assert_eq!(body["Links"], json!(["other:o"]));
    assert_eq!(body["DriverOpts"], json!({"k": "v"}));

    let (status, _, _) = run_cmd(&fake, &["connect", "--driver-opt", "novalue", "n1", "web"]).await;
    assert_eq!(
        status,
        Err((
            Some("invalid key/value pair format in driver options".into()),
            1
        ))
    );
    let (status, _, _) = run_cmd(&fake, &["connect", "--link", "a:b:c", "n1", "web"]).await;
    assert_eq!(
        status,
        Err((
            Some(
                "invalid argument \"a:b:c\" for \"--link\" flag: bad format for links: a:b:c"
                    .into()
            ),
            1
        ))
    );

    run_cmd(&fake, &["disconnect", "-f", "n1", "web"])
        .await
        .0
        .unwrap();
    assert_eq!(
        fake.calls.borrow().last().unwrap(),
        "disconnect n1 web force=true"
    );
}

#[test]
fn flags_parse_as_dockers() {
    assert!(parse(&["create"]).is_err(), "the name is required");
    assert!(parse(&["rm"]).is_err(), "a network is required");
    assert!(
        parse(&["connect", "n1"]).is_err(),
        "a container is required"
    );
    match parse(&["create", "--ipv6=false", "-d", "macvlan", "n"]).unwrap() {
        NetworkCommand::Create(a) => {
            assert_eq!(a.ipv6, Some(false));
            assert_eq!(a.ipv4, None);
            assert_eq!(a.driver, "macvlan");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(parse(&["list"]).unwrap(), NetworkCommand::Ls(_)));
    assert!(matches!(
        parse(&["remove", "a"]).unwrap(),
        NetworkCommand::Rm(_)
    ));
}
