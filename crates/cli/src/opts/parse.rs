//! Parsers for single flag values, as docker/cli's `opts` package and the
//! libraries it uses parse them (`nat.ParsePortSpecs`, `time.ParseDuration`,
//! `units.ParseUlimit`, `opts.ParseCPUs`, ...). Each returns the reason a
//! value is bad; the caller names the flag.

use std::collections::BTreeMap;

use berth_api::types::container::{DeviceMapping, PortBinding, Ulimit};

/// Go's `time.ParseDuration` in nanoseconds: `300ms`, `1.5h`, `1m30s`,
/// `-2s`, `0`.
pub fn go_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("time: invalid duration \"{s}\"");
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("time: missing unit in duration \"{s}\""))?;
        let (num, tail) = rest.split_at(num_end);
        if num.is_empty() || num == "." {
            return Err(bad());
        }
        let n: f64 = num.parse().map_err(|_| bad())?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let mult = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(format!("time: unknown unit \"{unit}\" in duration \"{s}\"")),
        };
        total += n * mult;
        rest = tail;
    }
    if total > i64::MAX as f64 {
        return Err(bad());
    }
    let v = total.round() as i64;
    Ok(if neg { -v } else { v })
}

/// `opts.ParseCPUs`: `1.5` CPUs as nano-CPUs (`1500000000`).
pub fn nano_cpus(s: &str) -> Result<i64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| "failed to parse as a rational number".to_string())?;
    if !v.is_finite() || v < 0.0 {
        return Err("failed to parse as a rational number".into());
    }
    let nano = v * 1e9;
    if nano.fract().abs() > 1e-6 {
        return Err("value is too precise".into());
    }
    Ok(nano.round() as i64)
}

/// `units.ParseUlimit`: `nofile=1024[:2048]` (soft[:hard]).
pub fn ulimit(s: &str) -> Result<Ulimit, String> {
    let (name, limits) = s
        .split_once('=')
        .ok_or_else(|| format!("invalid ulimit argument: {s}"))?;
    const KNOWN: [&str; 16] = [
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
        "as",
    ];
    if !KNOWN.contains(&name) {
        return Err(format!("invalid ulimit type: {name}"));
    }
    let num = |v: &str| -> Result<i64, String> {
        v.parse::<i64>()
            .map_err(|_| format!("invalid ulimit argument: {s}"))
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((soft, hard)) => (num(soft)?, num(hard)?),
        None => {
            let v = num(limits)?;
            (v, v)
        }
    };
    if soft > hard && hard != -1 {
        return Err(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        ));
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

/// `opts.ValidateEnv`: `KEY=value` as given; a bare `KEY` takes the
/// client's value when it has one, else stays bare (the daemon unsets it).
pub fn env(s: &str) -> Result<String, String> {
    if s.is_empty() || s.starts_with('=') {
        return Err(format!("invalid environment variable: {s}"));
    }
    if s.contains('=') {
        return Ok(s.to_string());
    }
    Ok(match std::env::var(s) {
        Ok(v) => format!("{s}={v}"),
        Err(_) => s.to_string(),
    })
}

/// `opts.ParseEnvFile`: `KEY=value` lines, `#` comments and blank lines
/// skipped, bare names taken from the client's environment (dropped when
/// unset).
pub fn env_file(content: &str, path: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (n, line) in content.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match trimmed.split_once('=') {
            Some(("", _)) => {
                return Err(format!(
                    "invalid environment variable: {line} (line {} of {path})",
                    n + 1
                ))
            }
            Some((k, v)) => {
                if k.contains(char::is_whitespace) {
                    return Err(format!(
                        "variable '{}' contains whitespaces (line {} of {path})",
                        k,
                        n + 1
                    ));
                }
                out.push(format!("{k}={v}"));
            }
            None => {
                let k = trimmed.trim_end();
                if let Ok(v) = std::env::var(k) {
                    out.push(format!("{k}={v}"));
                }
            }
        }
    }
    Ok(out)
}

/// `key=value` (or a bare `key`, value empty) for `--label`.
pub fn label(s: &str) -> (String, String) {
    match s.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (s.to_string(), String::new()),
    }
}

/// `key=value` with a required `=` (`--log-opt`, `--sysctl`).
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("invalid key=value: {s}")),
    }
}

/// Every `key=value` of a repeated flag (`--opt`, `--driver-opt`) as a
/// map, or Docker's `invalid argument "v" for "--flag" flag: ...`.
pub fn key_values(
    flag: &str,
    values: &[String],
) -> Result<std::collections::BTreeMap<String, String>, crate::errors::CliError> {
    values
        .iter()
        .map(|v| {
            key_value(v).map_err(|e| {
                crate::errors::CliError::msg(format!(
                    "invalid argument \"{v}\" for \"{flag}\" flag: {e}"
                ))
            })
        })
        .collect()
}

/// `opts.ValidateExtraHost`: `host:ip` (or `host=ip`), normalized to
/// `host:ip`; the IP may be `host-gateway`.
pub fn extra_host(s: &str) -> Result<String, String> {
    let (host, ip) = match s.split_once('=') {
        Some(p) => p,
        None => s
            .split_once(':')
            .ok_or_else(|| format!("bad format for add-host: \"{s}\""))?,
    };
    if host.is_empty() {
        return Err(format!("bad format for add-host: \"{s}\""));
    }
    let bare = ip.trim_start_matches('[').trim_end_matches(']');
    if bare != "host-gateway" && bare.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address in add-host: \"{ip}\""));
    }
    Ok(format!("{host}:{bare}"))
}

/// `opts.ValidateIPAddress` for `--dns`.
pub fn ip_address(s: &str) -> Result<String, String> {
    let t = s.trim();
    t.parse::<std::net::IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| format!("IP address is not correctly formatted: {s}"))
}

/// `--restart`: `no`, `always`, `unless-stopped`, `on-failure[:N]`
/// (`opts.ParseRestartPolicy`): the name and retry count.
pub fn restart_policy(s: &str) -> Result<(String, i64), String> {
    if s.is_empty() {
        return Ok((String::new(), 0));
    }
    let (name, count) = match s.split_once(':') {
        Some((n, c)) => (
            n,
            Some(c.parse::<i64>().map_err(|_| {
                "invalid restart policy format: maximum retry count must be an integer".to_string()
            })?),
        ),
        None => (s, None),
    };
    match (name, count) {
        ("no" | "always" | "unless-stopped", Some(_)) => Err(
            "invalid restart policy format: maximum retry count can only be used with 'on-failure'"
                .to_string(),
        ),
        ("no" | "always" | "unless-stopped", None) => Ok((name.to_string(), 0)),
        ("on-failure", c) => Ok((name.to_string(), c.unwrap_or(0))),
        _ => Err(format!(
            "invalid restart policy format: unknown policy '{name}'"
        )),
    }
}

/// `opts.ParseDevice`: `/dev/host[:/dev/container][:perms]`.
pub fn device(s: &str) -> Result<DeviceMapping, String> {
    let valid_perms =
        |p: &str| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| "rwm".contains(c));
    let parts: Vec<&str> = s.split(':').collect();
    let (src, dst, perms) = match parts.as_slice() {
        [src] => (*src, *src, "rwm"),
        [src, p] if valid_perms(p) => (*src, *src, *p),
        [src, dst] => (*src, *dst, "rwm"),
        [src, dst, p] => {
            if !valid_perms(p) {
                return Err(format!("bad mode specified: {p}"));
            }
            (*src, *dst, *p)
        }
        _ => return Err(format!("invalid device specification: {s}")),
    };
    if !dst.starts_with('/') {
        return Err(format!("bad format for path: {dst}"));
    }
    Ok(DeviceMapping {
        path_on_host: src.to_string(),
        path_in_container: dst.to_string(),
        cgroup_permissions: perms.to_string(),
    })
}

/// A port or port range (`80`, `8000-8010`).
fn port_range(s: &str) -> Option<(u16, u16)> {
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
        None => {
            let p = s.parse().ok()?;
            (p, p)
        }
    };
    (a <= b).then_some((a, b))
}

fn proto(s: &str) -> Result<(&str, &str), String> {
    let (port, proto) = s.rsplit_once('/').unwrap_or((s, "tcp"));
    let proto = if proto.is_empty() { "tcp" } else { proto };
    match proto {
        "tcp" | "udp" | "sctp" => Ok((port, proto)),
        _ => Err(format!("invalid proto: {proto}")),
    }
}

/// `--expose 80[/proto]` or a range: the `port/proto` keys.
pub fn expose(s: &str) -> Result<Vec<String>, String> {
    let (port, proto) = proto(s)?;
    let (a, b) =
        port_range(port).ok_or_else(|| format!("invalid range format for --expose: {s}"))?;
    Ok((a..=b).map(|p| format!("{p}/{proto}")).collect())
}

/// Exposed ports and their host bindings (`nat.ParsePortSpecs`).
pub type PortMap = BTreeMap<String, Vec<PortBinding>>;

/// `nat.ParsePortSpec` for `-p [ip:][hostPort:]containerPort[/proto]`,
/// ranges pairwise (`8000-8001:80-81`) or a host range for one container
/// port; adds to `ports`.
pub fn publish(s: &str, ports: &mut PortMap) -> Result<(), String> {
    let (spec, proto) = proto(s)?;
    // An IPv6 host IP comes in brackets: [::1]:8080:80.
    let (ip, rest) = if let Some(after) = spec.strip_prefix('[') {
        let (ip, rest) = after
            .split_once(']')
            .ok_or_else(|| format!("invalid IP address: {spec}"))?;
        (
            ip.to_string(),
            rest.strip_prefix(':').unwrap_or(rest).to_string(),
        )
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            1 | 2 => (String::new(), spec.to_string()),
            3 => (parts[0].to_string(), format!("{}:{}", parts[1], parts[2])),
            _ => return Err(format!("invalid port format: {s}")),
        }
    };
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (h.to_string(), c.to_string()),
        None => (String::new(), rest.clone()),
    };
    if container.is_empty() {
        return Err(format!("no port specified: {s}<empty>"));
    }
    let (c0, c1) =
        port_range(&container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
    let host_range = if host.is_empty() {
        None
    } else {
        Some(port_range(&host).ok_or_else(|| format!("invalid hostPort: {host}"))?)
    };
    if let Some((h0, h1)) = host_range {
        if c1 - c0 != h1 - h0 && c0 != c1 {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {container} and {host}"
            ));
        }
    }
    for (i, port) in (c0..=c1).enumerate() {
        let host_port = match host_range {
            None => String::new(),
            Some((h0, h1)) if c0 == c1 && h0 != h1 => format!("{h0}-{h1}"),
            Some((h0, _)) => (h0 as usize + i).to_string(),
        };
        ports
            .entry(format!("{port}/{proto}"))
            .or_default()
            .push(PortBinding {
                host_ip: ip.clone(),
                host_port,
            });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(go_duration("30s"), Ok(30_000_000_000));
        assert_eq!(go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(go_duration("300ms"), Ok(300_000_000));
        assert_eq!(go_duration("2us"), Ok(2_000));
        assert_eq!(go_duration("-2s"), Ok(-2_000_000_000));
        assert_eq!(go_duration("0"), Ok(0));
        assert_eq!(
            go_duration("30"),
            Err("time: missing unit in duration \"30\"".into())
        );
        assert!(go_duration("").is_err());
        assert!(go_duration("1x").unwrap_err().contains("unknown unit"));
        assert!(go_duration("s").is_err());
    }

    #[test]
    fn cpus_and_ulimits() {
        assert_eq!(nano_cpus("1.5"), Ok(1_500_000_000));
        assert_eq!(nano_cpus("0.001"), Ok(1_000_000));
        assert!(nano_cpus("abc").is_err());
        assert!(nano_cpus("-1").is_err());
        assert_eq!(
            ulimit("nofile=1024:2048"),
            Ok(Ulimit {
                name: "nofile".into(),
                soft: 1024,
                hard: 2048
            })
        );
        assert_eq!(ulimit("nproc=10").unwrap().hard, 10);
        assert!(ulimit("nofile=9:1").unwrap_err().contains("soft limit"));
        assert!(ulimit("bogus=1")
            .unwrap_err()
            .contains("invalid ulimit type"));
        assert!(ulimit("nofile").is_err());
    }

    #[test]
    fn ports_parse_like_nat() {
        let mut m = PortMap::new();
        publish("8080:80", &mut m).unwrap();
        publish("127.0.0.1:53:53/udp", &mut m).unwrap();
        publish("443", &mut m).unwrap();
        publish("[::1]:9000:9000", &mut m).unwrap();
        publish("127.0.0.1::5000", &mut m).unwrap();
        publish("8000-8001:90-91", &mut m).unwrap();
        publish("7000-7010:22", &mut m).unwrap();
        let b = |ip: &str, port: &str| PortBinding {
            host_ip: ip.into(),
            host_port: port.into(),
        };
        assert_eq!(m["80/tcp"], [b("", "8080")]);
        assert_eq!(m["53/udp"], [b("127.0.0.1", "53")]);
        assert_eq!(m["443/tcp"], [b("", "")]);
        assert_eq!(m["9000/tcp"], [b("::1", "9000")]);
        assert_eq!(m["5000/tcp"], [b("127.0.0.1", "")]);
        assert_eq!(m["90/tcp"], [b("", "8000")]);
        assert_eq!(m["91/tcp"], [b("", "8001")]);
        assert_eq!(m["22/tcp"], [b("", "7000-7010")]);
        // The same container port twice keeps both bindings.
        publish("8081:80", &mut m).unwrap();
        assert_eq!(m["80/tcp"].len(), 2);
        for bad in [
            "abc",
            "80/xtp",
            "1:2:3:4",
            "x:80",
            "300.1.1.1:80:80",
            "8000-8002:90-91",
            "70000",
        ] {
            assert!(publish(bad, &mut PortMap::new()).is_err(), "{bad}");
        }
        assert_eq!(
            expose("8000-8002/udp").unwrap(),
            ["8000/udp", "8001/udp", "8002/udp"]
        );
        assert!(expose("a").is_err());
    }

    #[test]
    fn small_values() {
        assert_eq!(restart_policy("on-failure:3"), Ok(("on-failure".into(), 3)));
        assert_eq!(restart_policy("always"), Ok(("always".into(), 0)));
        assert!(restart_policy("always:3").is_err());
        assert!(restart_policy("sometimes").is_err());
        assert_eq!(extra_host("db:10.0.0.2"), Ok("db:10.0.0.2".into()));
        assert_eq!(extra_host("db=::1"), Ok("db:::1".into()));
        assert_eq!(extra_host("gw:host-gateway"), Ok("gw:host-gateway".into()));
        assert!(extra_host("db:notanip").is_err());
        assert!(ip_address("8.8.8.8").is_ok() && ip_address("dns").is_err());
        let d = device("/dev/fuse").unwrap();
        assert_eq!(
            (d.path_in_container.as_str(), d.cgroup_permissions.as_str()),
            ("/dev/fuse", "rwm")
        );
        let d = device("/dev/sda:/dev/xvda:r").unwrap();
        assert_eq!(
            (d.path_in_container.as_str(), d.cgroup_permissions.as_str()),
            ("/dev/xvda", "r")
        );
        assert_eq!(device("/dev/null:rw").unwrap().cgroup_permissions, "rw");
        assert!(device("/dev/sda:/dev/xvda:rwx").is_err());
        assert_eq!(label("a=b=c"), ("a".into(), "b=c".into()));
        assert_eq!(label("flag"), ("flag".into(), String::new()));
        assert!(key_value("novalue").is_err());
        std::env::set_var("BERTH_TEST_ENV_PASS", "from-client");
        assert_eq!(
            env("BERTH_TEST_ENV_PASS"),
            Ok("BERTH_TEST_ENV_PASS=from-client".into())
        );
        assert_eq!(
            env("BERTH_TEST_UNSET_XYZ"),
            Ok("BERTH_TEST_UNSET_XYZ".into())
        );
        assert!(env("=x").is_err());
        let f = env_file(
            "# comment\n\nA=1\nBERTH_TEST_ENV_PASS\nBERTH_TEST_UNSET_XYZ\nB = x\n",
            "f",
        );
        assert!(f.unwrap_err().contains("whitespaces"));
        let f = env_file(
            "A=1\n  # c\nBERTH_TEST_ENV_PASS\nBERTH_TEST_UNSET_XYZ\nC=\n",
            "f",
        )
        .unwrap();
        assert_eq!(f, ["A=1", "BERTH_TEST_ENV_PASS=from-client", "C="]);
    }
}
