//! Planning mount points from settings, without a volume store.

use super::*;
use serde_json::json;

fn host(binds: &[&str]) -> HostConfig {
    HostConfig {
        binds: Some(binds.iter().map(|s| s.to_string()).collect()),
        ..HostConfig::default()
    }
}

fn no_from(name: &str) -> Result<MountPoints> {
    Err(DaemonError::NotFound(format!("No such container: {name}")))
}

fn planned(config: &Config, h: &HostConfig) -> Result<BTreeMap<String, Planned>> {
    plan(config, h, &no_from)
}

fn ready(p: &Planned) -> &MountPoint {
    match p {
        Planned::Ready(m) => m,
        Planned::Volume(v) => &v.point,
    }
}

#[test]
fn binds_split_into_host_paths_and_named_volumes() {
    let h = host(&[
        "/srv/a:/a:ro",
        "data:/data",
        "cache:/c:nocopy",
        "/b:/b:rshared",
    ]);
    let p = planned(&Config::default(), &h).unwrap();
    let a = ready(&p["/a"]);
    assert_eq!(
        (a.kind.as_str(), a.source.as_str(), a.rw),
        ("bind", "/srv/a", false)
    );
    assert!(a.create_source);
    assert_eq!(a.propagation, "rprivate");
    assert_eq!(ready(&p["/b"]).propagation, "rshared");
    let Planned::Volume(d) = &p["/data"] else {
        panic!("a named volume")
    };
    assert_eq!(
        (d.point.name.as_str(), d.point.rw, d.point.copy_data),
        ("data", true, true)
    );
    let Planned::Volume(c) = &p["/c"] else {
        panic!("a named volume")
    };
    assert!(!c.point.copy_data, "nocopy");
}

#[test]
fn bad_binds_are_invalid_parameters() {
    for (bind, why) in [
        ("/a:rel", "must be absolute"),
        ("/a:/", "destination can't be '/'"),
        ("/a:/b:bogus", "invalid mode: bogus"),
        ("a:b:c:d", "invalid number of fields"),
        (
            "bad@name:/x",
            "includes invalid characters for a local volume name",
        ),
        ("vol:/x:rshared", "invalid mode"),
    ] {
        let e = planned(&Config::default(), &host(&[bind])).err().unwrap();
        assert!(
            matches!(
                e,
                DaemonError::InvalidParameter(_) | DaemonError::Layer { .. }
            ),
            "{bind}"
        );
        assert!(e.to_string().contains(why), "{bind}: {e}");
    }
    let e = planned(&Config::default(), &host(&["/a:/x", "vol:/x/"]))
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "Duplicate mount point: /x");
}

#[test]
fn mount_flag_bind_needs_an_existing_source() {
    let missing = ApiMount {
        kind: "bind".into(),
        source: "/nonexistent/berth-test".into(),
        target: "/x".into(),
        ..ApiMount::default()
    };
    let e = parse_mount(&missing).err().unwrap();
    assert_eq!(
        e.to_string(),
        "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent/berth-test"
    );
    let ok = ApiMount {
        source: "/tmp".into(),
        read_only: true,
        ..missing
    };
    let Some(Planned::Ready(m)) = parse_mount(&ok).unwrap() else {
        panic!("a bind")
    };
    assert!(!m.rw && !m.create_source);
}

#[test]
fn mount_flag_volume_options_carry_over() {
    let m = ApiMount {
        kind: "volume".into(),
        target: "/v".into(),
        volume_options: Some(json!({"NoCopy": true, "Labels": {"a": "b"},
            "DriverConfig": {"Name": "local", "Options": {"type": "tmpfs"}}})),
        ..ApiMount::default()
    };
    let Some(Planned::Volume(v)) = parse_mount(&m).unwrap() else {
        panic!("a volume")
    };
    assert_eq!(v.point.name, "", "no source: anonymous");
    assert!(!v.point.copy_data);
    assert_eq!(v.labels["a"], "b");
    assert_eq!(v.options["type"], "tmpfs");
    assert_eq!(v.point.driver, "local");
    let tmpfs = ApiMount {
        kind: "tmpfs".into(),
        target: "/t".into(),
        ..ApiMount::default()
    };
    assert!(parse_mount(&tmpfs).unwrap().is_none());
    let bad = ApiMount {
        kind: "npipe".into(),
        target: "/t".into(),
        ..ApiMount::default()
    };
    assert!(parse_mount(&bad)
        .err()
        .unwrap()
        .to_string()
        .contains("mount type unknown"));
}

#[test]
fn image_volumes_become_anonymous_unless_covered() {
    let config = Config {
        volumes: Some(BTreeMap::from([
            ("/data".to_string(), json!({})),
            ("/logs/".to_string(), json!({})),
            ("/run".to_string(), json!({})),
        ])),
        ..Config::default()
    };
    let mut h = host(&["named:/data"]);
    h.tmpfs = Some(BTreeMap::from([("/run".to_string(), String::new())]));
    let p = planned(&config, &h).unwrap();
    assert_eq!(p.keys().collect::<Vec<_>>(), ["/data", "/logs"]);
    let Planned::Volume(logs) = &p["/logs"] else {
        panic!("anonymous")
    };
    assert_eq!(logs.point.name, "");
    assert!(logs.point.copy_data);
    let Planned::Volume(data) = &p["/data"] else {
        panic!("named")
    };
    assert_eq!(
        data.point.name, "named",
        "the bind wins over the image's VOLUME"
    );
}

#[test]
fn volumes_from_copies_with_the_asked_mode() {
    let theirs = MountPoints::from([(
        "/shared".to_string(),
        MountPoint {
            kind: "volume".into(),
            name: "v1".into(),
            destination: "/shared".into(),
            rw: true,
            copy_data: true,
            ..MountPoint::default()
        },
    )]);
    let from = |name: &str| {
        if name == "src" {
            Ok(theirs.clone())
        } else {
            no_from(name)
        }
    };
    let h = HostConfig {
        volumes_from: Some(vec!["src:ro".into()]),
        ..HostConfig::default()
    };
    let p = plan(&Config::default(), &h, &from).unwrap();
    let m = ready(&p["/shared"]);
    assert_eq!((m.name.as_str(), m.rw, m.copy_data), ("v1", false, false));
    let h = HostConfig {
        volumes_from: Some(vec!["nope".into()]),
        ..HostConfig::default()
    };
    assert!(plan(&Config::default(), &h, &from).is_err());
    let h = HostConfig {
        volumes_from: Some(vec!["src:zz".into()]),
        ..HostConfig::default()
    };
    assert!(plan(&Config::default(), &h, &from).is_err());
}

#[test]
fn oci_mounts_use_rbind_and_the_mode() {
    let m = MountPoint {
        kind: "volume".into(),
        source: "/var/lib/berth/volumes/v/_data".into(),
        destination: "/v".into(),
        rw: false,
        ..MountPoint::default()
    };
    let oci = m.to_oci();
    assert_eq!(oci.typ().as_deref(), Some("bind"));
    assert_eq!(
        oci.options().clone().unwrap(),
        ["rbind", "ro", "rprivate"].map(String::from)
    );
}
