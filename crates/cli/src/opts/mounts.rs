//! `--mount` (docker/cli `opts.MountOpt`), `-v` (`volumes` -> `Binds` or
//! anonymous `Volumes`) and `--tmpfs`.

use std::collections::BTreeMap;
use std::path::Path;

use berth_api::types::container::Mount;
use serde_json::{json, Map, Value};

use crate::format::units::ram_in_bytes;

fn parse_bool(key: &str, v: Option<&str>) -> Result<bool, String> {
    match v {
        None => Ok(true),
        Some("1" | "true" | "True" | "TRUE" | "t" | "T") => Ok(true),
        Some("0" | "false" | "False" | "FALSE" | "f" | "F") => Ok(false),
        Some(other) => Err(format!("invalid value for {key}: {other}")),
    }
}

/// Parses one `--mount type=bind,source=/a,target=/b,readonly` value.
pub fn mount(spec: &str) -> Result<Mount, String> {
    let mut m = Mount {
        kind: "volume".into(),
        ..Mount::default()
    };
    let mut bind = Map::new();
    let mut volume = Map::new();
    let mut labels = Map::new();
    let mut driver = Map::new();
    let mut driver_opts = Map::new();
    let mut tmpfs = Map::new();
    for field in spec.split(',') {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let need =
            || value.ok_or_else(|| format!("invalid field '{field}' must be a key=value pair"));
        match key.as_str() {
            "readonly" | "ro" => m.read_only = parse_bool(&key, value)?,
            "volume-nocopy" => {
                volume.insert("NoCopy".into(), Value::Bool(parse_bool(&key, value)?));
            }
            "bind-nonrecursive" => {
                bind.insert("NonRecursive".into(), Value::Bool(parse_bool(&key, value)?));
            }
            "type" => m.kind = need()?.to_ascii_lowercase(),
            "source" | "src" => m.source = need()?.to_string(),
            "target" | "dst" | "destination" => m.target = need()?.to_string(),
            "consistency" => m.consistency = need()?.to_string(),
            "bind-propagation" => {
                bind.insert("Propagation".into(), json!(need()?.to_ascii_lowercase()));
            }
            "bind-recursive" => {
                let v = need()?;
                match v {
                    "enabled" => {}
                    "disabled" => {
                        bind.insert("NonRecursive".into(), Value::Bool(true));
                    }
                    "writable" => {
                        bind.insert("ReadOnlyNonRecursive".into(), Value::Bool(true));
                    }
                    "readonly" => {
                        bind.insert("ReadOnlyForceRecursive".into(), Value::Bool(true));
                    }
                    _ => return Err(format!("invalid value for {key}: {v}")),
                }
            }
            "volume-driver" => {
                driver.insert("Name".into(), json!(need()?));
            }
            "volume-label" => {
                let (k, v) = need()?.split_once('=').unwrap_or((need()?, ""));
                labels.insert(k.into(), json!(v));
            }
            "volume-opt" => {
                let (k, v) = need()?.split_once('=').unwrap_or((need()?, ""));
                driver_opts.insert(k.into(), json!(v));
            }
            "tmpfs-size" => {
                let v = need()?;
                let n = ram_in_bytes(v).map_err(|_| format!("invalid value for {key}: {v}"))?;
                tmpfs.insert("SizeBytes".into(), json!(n));
            }
            "tmpfs-mode" => {
                let v = need()?;
                let n = u32::from_str_radix(v, 8)
                    .map_err(|_| format!("invalid value for {key}: {v}"))?;
                tmpfs.insert("Mode".into(), json!(n));
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if !labels.is_empty() {
        volume.insert("Labels".into(), Value::Object(labels));
    }
    if !driver_opts.is_empty() {
        driver.insert("Options".into(), Value::Object(driver_opts));
    }
    if !driver.is_empty() {
        volume.insert("DriverConfig".into(), Value::Object(driver));
    }
    if m.target.is_empty() {
        return Err("target is required".into());
    }
    if !bind.is_empty() && m.kind != "bind" {
        return Err(format!(
            "cannot mix 'bind-*' options with mount type '{}'",
            m.kind
        ));
    }
    if !volume.is_empty() && m.kind != "volume" {
        return Err(format!(
            "cannot mix 'volume-*' options with mount type '{}'",
            m.kind
        ));
    }
    if !tmpfs.is_empty() && m.kind != "tmpfs" {
        return Err(format!(
            "cannot mix 'tmpfs-*' options with mount type '{}'",
            m.kind
        ));
    }
    m.bind_options = (!bind.is_empty()).then_some(Value::Object(bind));
    m.volume_options = (!volume.is_empty()).then_some(Value::Object(volume));
    m.tmpfs_options = (!tmpfs.is_empty()).then_some(Value::Object(tmpfs));
    Ok(m)
}

/// Where `-v` values go: bind and named-volume specs to `Binds` (a
/// relative host path made absolute against `cwd`), bare container paths
/// to the anonymous `Volumes`.
#[derive(Debug, Default, PartialEq)]
pub struct Volumes {
    /// `HostConfig.Binds`.
    pub binds: Vec<String>,
    /// `Config.Volumes` keys.
    pub anonymous: Vec<String>,
}

/// Sorts `-v` specs into [`Volumes`].
pub fn volumes(specs: &[String], cwd: &Path) -> Result<Volumes, String> {
    let mut out = Volumes::default();
    for spec in specs {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.as_slice() {
            [""] => return Err(format!("invalid empty volume spec: {spec}")),
            [dst] => {
                if !dst.starts_with('/') {
                    return Err(format!(
                        "invalid volume specification: '{spec}': invalid mount config for type \"volume\": invalid mount path: '{dst}' mount path must be absolute"
                    ));
                }
                out.anonymous.push(dst.to_string());
            }
            [src, dst] | [src, dst, _] => {
                if src.is_empty() || dst.is_empty() {
                    return Err(format!("invalid volume specification: '{spec}'"));
                }
                if src.starts_with('.') || src.starts_with("~") {
                    // A relative host path: a bind of the absolute path.
                    let abs = if let Some(rest) = src.strip_prefix("~") {
                        let home = std::env::var("HOME").unwrap_or_default();
                        format!("{home}{rest}")
                    } else {
                        normalize(&cwd.join(src))
                    };
                    let mut rebuilt = vec![abs];
                    rebuilt.extend(parts[1..].iter().map(|s| s.to_string()));
                    out.binds.push(rebuilt.join(":"));
                } else {
                    out.binds.push(spec.clone());
                }
            }
            _ => return Err(format!("invalid volume specification: '{spec}'")),
        }
    }
    Ok(out)
}

/// `a/./b/../c` -> `a/c` without touching the filesystem.
fn normalize(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}

/// `--tmpfs /run[:opts]` into `HostConfig.Tmpfs`.
pub fn tmpfs(specs: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for spec in specs {
        let (path, opts) = spec.split_once(':').unwrap_or((spec, ""));
        if !path.starts_with('/') {
            return Err(format!(
                "invalid tmpfs path: {path}: mount path must be absolute"
            ));
        }
        out.insert(path.to_string(), opts.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_flags() {
        let m =
            mount("type=bind,source=/src,target=/dst,readonly,bind-propagation=rshared").unwrap();
        assert_eq!(m.kind, "bind");
        assert_eq!(
            (m.source.as_str(), m.target.as_str(), m.read_only),
            ("/src", "/dst", true)
        );
        assert_eq!(m.bind_options, Some(json!({"Propagation": "rshared"})));
        let m = mount(
            "src=data,dst=/data,volume-label=a=b,volume-nocopy,volume-driver=local,volume-opt=o=1",
        )
        .unwrap();
        assert_eq!(m.kind, "volume");
        assert_eq!(
            m.volume_options,
            Some(
                json!({"NoCopy": true, "Labels": {"a": "b"}, "DriverConfig": {"Name": "local", "Options": {"o": "1"}}})
            )
        );
        let m = mount("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        assert_eq!(
            m.tmpfs_options,
            Some(json!({"SizeBytes": 64 << 20, "Mode": 0o1770}))
        );
        assert_eq!(mount("type=bind,src=/a").unwrap_err(), "target is required");
        assert!(mount("type=volume,target=/a,bind-propagation=shared")
            .unwrap_err()
            .contains("cannot mix"));
        assert!(mount("target=/a,bogus=1")
            .unwrap_err()
            .contains("unexpected key 'bogus'"));
        assert!(mount("target=/a,readonly=maybe").is_err());
        assert!(!mount("target=/a,ro=false").unwrap().read_only);
    }

    #[test]
    fn volume_flags() {
        let v = volumes(
            &[
                "/anon".into(),
                "/h:/c:ro".into(),
                "named:/d".into(),
                "./rel/../x:/e".into(),
            ],
            Path::new("/work/dir"),
        )
        .unwrap();
        assert_eq!(v.anonymous, ["/anon"]);
        assert_eq!(v.binds, ["/h:/c:ro", "named:/d", "/work/dir/x:/e"]);
        assert!(volumes(&["relative".into()], Path::new("/")).is_err());
        assert!(volumes(&[":/x".into()], Path::new("/")).is_err());
        assert!(volumes(&["a:b:c:d".into()], Path::new("/")).is_err());
        let t = tmpfs(&["/run:rw,size=64m".into(), "/tmp".into()]).unwrap();
        assert_eq!(t["/run"], "rw,size=64m");
        assert_eq!(t["/tmp"], "");
        assert!(tmpfs(&["run".into()]).is_err());
    }
}
