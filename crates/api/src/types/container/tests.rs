use super::*;
use crate::types::decode;
use berth_errdefs::{ErrorKind, HasKind};

/// The example request of `POST /containers/create` in moby's
/// api/swagger.yaml (v1.44), as the docs show it.
const SWAGGER_EXAMPLE: &str = r#"{
  "Hostname": "",
  "Domainname": "",
  "User": "",
  "AttachStdin": false,
  "AttachStdout": true,
  "AttachStderr": true,
  "Tty": false,
  "OpenStdin": false,
  "StdinOnce": false,
  "Env": ["FOO=bar", "BAZ=quux"],
  "Cmd": ["date"],
  "Entrypoint": "",
  "Image": "ubuntu",
  "Labels": {"com.example.vendor": "Acme", "com.example.license": "GPL", "com.example.version": "1.0"},
  "Volumes": {"/volumes/data": {}},
  "WorkingDir": "",
  "NetworkDisabled": false,
  "MacAddress": "12:34:56:78:9a:bc",
  "ExposedPorts": {"22/tcp": {}},
  "StopSignal": "SIGTERM",
  "StopTimeout": 10,
  "HostConfig": {
    "Binds": ["/tmp:/tmp"],
    "Links": ["redis3:redis"],
    "Memory": 0,
    "MemorySwap": 0,
    "MemoryReservation": 0,
    "NanoCpus": 500000,
    "CpuPercent": 80,
    "CpuShares": 512,
    "CpuPeriod": 100000,
    "CpuRealtimePeriod": 1000000,
    "CpuRealtimeRuntime": 10000,
    "CpuQuota": 50000,
    "CpusetCpus": "0,1",
    "CpusetMems": "0,1",
    "MaximumIOps": 0,
    "MaximumIOBps": 0,
    "BlkioWeight": 300,
    "BlkioWeightDevice": [{}],
    "BlkioDeviceReadBps": [{}],
    "BlkioDeviceReadIOps": [{}],
    "BlkioDeviceWriteBps": [{}],
    "BlkioDeviceWriteIOps": [{}],
    "DeviceRequests": [{"Driver": "nvidia", "Count": -1, "DeviceIDs": ["0", "1", "GPU-fef8089b-4820-abfc-e83e-94318197576e"], "Capabilities": [["gpu", "nvidia", "compute"]], "Options": {"property1": "string", "property2": "string"}}],
    "MemorySwappiness": 60,
    "OomKillDisable": false,
    "OomScoreAdj": 500,
    "PidMode": "",
    "PidsLimit": 0,
    "PortBindings": {"22/tcp": [{"HostPort": "11022"}]},
    "PublishAllPorts": false,
    "Privileged": false,
    "ReadonlyRootfs": false,
    "Dns": ["8.8.8.8"],
    "DnsOptions": [""],
    "DnsSearch": [""],
    "VolumesFrom": ["parent", "other:ro"],
    "CapAdd": ["NET_ADMIN"],
    "CapDrop": ["MKNOD"],
    "GroupAdd": ["newgroup"],
    "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
    "AutoRemove": true,
    "NetworkMode": "bridge",
    "Devices": [],
    "Ulimits": [{}],
    "LogConfig": {"Type": "json-file", "Config": {}},
    "SecurityOpt": [],
    "StorageOpt": {},
    "CgroupParent": "",
    "VolumeDriver": "",
    "ShmSize": 67108864
  },
  "NetworkingConfig": {
    "EndpointsConfig": {
      "isolated_nw": {
        "IPAMConfig": {"IPv4Address": "172.20.30.33", "IPv6Address": "2001:db8:abcd::3033", "LinkLocalIPs": ["169.254.34.68", "fe80::3468"]},
        "Links": ["container_1", "container_2"],
        "Aliases": ["server_x", "server_y"]
      },
      "database_nw": {}
    }
  }
}"#;

/// What `docker create --name x -e A=1 busybox` (CLI 27) sends: lots of nulls.
const CLI_BODY: &str = r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,
"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1"],"Cmd":null,
"Image":"busybox","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},
"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default",
"PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"",
"VolumesFrom":null,"ConsoleSize":[50,200],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],
"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,
"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,
"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,
"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],
"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,
"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],
"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,
"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":null,"Ulimits":[],"CpuCount":0,"CpuPercent":0,
"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},
"NetworkingConfig":{"EndpointsConfig":{}}}"#;

#[test]
fn decodes_the_swagger_example() {
    let req = decode_create_request(SWAGGER_EXAMPLE.as_bytes()).unwrap();
    let c = &req.config;
    assert_eq!(c.image, "ubuntu");
    assert!(c.attach_stdout && !c.tty);
    assert_eq!(c.env.as_deref().unwrap(), ["FOO=bar", "BAZ=quux"]);
    assert_eq!(c.cmd.as_ref().unwrap().0, ["date"]);
    // A string Entrypoint is a one-element list.
    assert_eq!(c.entrypoint.as_ref().unwrap().0, [""]);
    assert_eq!(c.stop_timeout, Some(10));
    assert!(c.exposed_ports.as_ref().unwrap().contains_key("22/tcp"));
    let h = req.host_config.as_ref().unwrap();
    assert_eq!(h.nano_cpus, 500000);
    assert_eq!(h.cpu_shares, 512);
    assert_eq!(h.cpuset_cpus, "0,1");
    assert_eq!(h.blkio_weight, 300);
    assert_eq!(h.memory_swappiness, Some(60));
    assert_eq!(h.ulimits.as_ref().unwrap()[0], Ulimit::default());
    assert_eq!(h.oom_score_adj, 500);
    assert_eq!(h.cap_add.as_ref().unwrap().0, ["NET_ADMIN"]);
    assert_eq!(h.cap_drop.as_ref().unwrap().0, ["MKNOD"]);
    assert_eq!(
        h.port_bindings.as_ref().unwrap()["22/tcp"]
            .as_ref()
            .unwrap()[0]
            .host_port,
        "11022"
    );
    assert!(h.auto_remove);
    assert_eq!(h.log_config.kind, "json-file");
    assert_eq!(h.shm_size, 67108864);
    assert_eq!(h.network_mode, "bridge");
    assert!(req.networking_config.unwrap()["EndpointsConfig"]["isolated_nw"].is_object());
}

#[test]
fn decodes_a_cli_body_with_nulls_and_round_trips() {
    let req = decode_create_request(CLI_BODY.as_bytes()).unwrap();
    assert_eq!(req.config.cmd, None);
    assert_eq!(req.config.entrypoint, None);
    let h = req.host_config.clone().unwrap();
    assert_eq!(h.pids_limit, None);
    assert_eq!(h.restart_policy.name, "no");
    assert_eq!(h.console_size, [50, 200]);
    let again: ContainerCreateRequest =
        decode(serde_json::to_vec(&req).unwrap().as_slice()).unwrap();
    assert_eq!(again, req);
}

#[test]
fn null_scalars_are_zero_values() {
    let req = decode_create_request(
        br#"{"Image":"x","Tty":null,"HostConfig":{"Memory":null,"Privileged":null}}"#,
    )
    .unwrap();
    assert!(!req.config.tty);
    let h = req.host_config.unwrap();
    assert_eq!(h.memory, 0);
    assert!(!h.privileged);
}

#[test]
fn wrong_types_name_the_field() {
    let e = decode_create_request(br#"{"Image":"x","HostConfig":{"Memory":"lots"}}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "invalid JSON: HostConfig.Memory: invalid type: string \"lots\", expected i64"
        ),
        "{msg}"
    );

    let e = decode_create_request(br#"{"Image":"x","Tty":"yes"}"#).unwrap_err();
    assert!(
        e.to_string().starts_with("invalid JSON: Tty: invalid type"),
        "{e}"
    );

    let e = decode::<HostConfig>(br#"{"RestartPolicy":{"MaximumRetryCount":"x"}}"#).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid JSON: RestartPolicy.MaximumRetryCount: invalid type"),
        "{e}"
    );

    let e = decode_create_request(br#"{"Image":"x","Cmd":[1]}"#).unwrap_err();
    assert!(e.to_string().contains("Cmd"), "{e}");

    let e = decode_create_request(br#"{"Image":"x","HostConfig":{"Privileged":1}}"#).unwrap_err();
    assert!(e.to_string().contains("HostConfig.Privileged"), "{e}");

    let e = decode_create_request(b"{not json").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidParameter);
}

#[test]
fn unknown_fields_are_ignored() {
    let req = decode_create_request(
        br#"{"Image":"x","FutureField":{"a":1},"HostConfig":{"FutureLimit":3,"Memory":5}}"#,
    )
    .unwrap();
    assert_eq!(req.host_config.unwrap().memory, 5);
}
