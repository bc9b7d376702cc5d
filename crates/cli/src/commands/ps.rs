//! `ps` (docker/cli `container/list.go` and `formatter/container.go`):
//! each row as Docker's container context (`ID`, `Image`, `Command`,
//! `CreatedAt`, `RunningFor`, `Ports`, `State`, `Status`, `Size`, `Names`,
//! `Labels`, `Mounts`, `Networks`, `LocalVolumes`), printed through the
//! default table, `table ...`, a template or `{{json .}}`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_api::types::container::{ContainerSummary, ListOptions, Port};
use berth_api::types::filters::Filters;
use berth_client::Client;
use serde_json::{json, Value};

use crate::cli::PsArgs;
use crate::errors::{CliError, CmdResult};
use crate::format::units::{human_duration, human_size};
use crate::stdio::Stdio;

/// Docker's default `ps` table.
pub const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// `--filter key=value` values into [`Filters`].
pub fn parse_filters(values: &[String]) -> Result<Filters, CliError> {
    let mut f = Filters::new();
    for v in values {
        let (k, val) = v.split_once('=').ok_or_else(|| {
            CliError::msg("bad format of filter (expected name=value)").with_status(125)
        })?;
        f.add(k.trim().to_ascii_lowercase().as_str(), val);
    }
    Ok(f)
}

/// `formatter.Ellipsis`: at most `max` characters, the last one `…`.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Go's `strconv.Quote` for the printable text Docker shows.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A 12-character ID (`stringid.TruncateID`, without `sha256:`).
pub fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.chars().take(12).collect()
}

/// `DisplayablePorts`: published ports as `ip:public->private/type`, the
/// rest as `private/type`, IPv6 addresses bracketed, in Docker's order.
pub fn display_ports(ports: &[Port]) -> String {
    let mut sorted: Vec<&Port> = ports.iter().collect();
    sorted.sort_by(|a, b| {
        (a.private_port, &a.kind, a.public_port == 0, &a.ip).cmp(&(
            b.private_port,
            &b.kind,
            b.public_port == 0,
            &b.ip,
        ))
    });
    let mut out: Vec<String> = Vec::new();
    for p in sorted {
        let s = if p.public_port != 0 {
            let ip = if p.ip.contains(':') {
                format!("[{}]", p.ip)
            } else {
                p.ip.clone()
            };
            format!("{ip}:{}->{}/{}", p.public_port, p.private_port, p.kind)
        } else {
            format!("{}/{}", p.private_port, p.kind)
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.join(", ")
}

/// One row as Docker's container context, every value a string.
pub fn row(c: &ContainerSummary, trunc: bool, now: SystemTime) -> Value {
    let id = if trunc { short_id(&c.id) } else { c.id.clone() };
    let image = if trunc {
        if c.image.starts_with("sha256:") {
            short_id(&c.image)
        } else {
            c.image.split('@').next().unwrap_or_default().to_string()
        }
    } else {
        c.image.clone()
    };
    let command = if trunc {
        ellipsis(&c.command, 20)
    } else {
        c.command.clone()
    };
    let names: Vec<&str> = c
        .names
        .iter()
        .map(|n| n.strip_prefix('/').unwrap_or(n))
        // Legacy link names (`other/alias`) only without truncation.
        .filter(|n| !trunc || !n.contains('/'))
        .collect();
    let created = UNIX_EPOCH + Duration::from_secs(c.created.max(0) as u64);
    let labels: Vec<String> = c
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mounts: Vec<String> = c
        .mounts
        .iter()
        .map(|m| {
            let name = if m.name.is_empty() {
                m.source.clone()
            } else {
                m.name.clone()
            };
            if trunc {
                ellipsis(&name, 15)
            } else {
                name
            }
        })
        .collect();
    let networks: Vec<String> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    let local_volumes = c.mounts.iter().filter(|m| m.kind == "volume").count();
    let size = if c.size_rw == 0 && c.size_root_fs == 0 {
        "0B".to_string()
    } else {
        format!(
            "{} (virtual {})",
            human_size(c.size_rw as f64),
            human_size(c.size_root_fs as f64)
        )
    };
    json!({
        "ID": id,
        "Image": image,
        "Command": go_quote(&command),
        "CreatedAt": go_time(c.created),
        "RunningFor": format!("{} ago", human_duration(now.duration_since(created).unwrap_or_default())),
        "Ports": display_ports(&c.ports),
        "State": c.state,
        "Status": c.status,
        "Size": size,
        "Names": names.join(","),
        "Labels": labels.join(","),
        "Mounts": mounts.join(","),
        "Networks": networks.join(","),
        "LocalVolumes": local_volumes.to_string(),
    })
}

/// Go's `time.Time.String()` of a Unix time in UTC:
/// `2024-06-01 10:00:00 +0000 UTC`.
pub fn go_time(secs: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} {} +0000 UTC", &s[..10], &s[11..19])
}

/// The header row's values (what `table` templates print on top).
fn header() -> Value {
    json!({
        "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
        "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS",
        "State": "STATE", "Status": "STATUS", "Size": "SIZE", "Names": "NAMES",
        "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
        "LocalVolumes": "LOCAL VOLUMES",
    })
}

/// Renders rows with `format` (`table ...`, a template, `json`) under
/// `ps`'s column titles.
pub fn render(format: &str, rows: &[Value]) -> Result<String, CliError> {
    crate::format::output::rows(format, &header(), rows)
}

/// The template `ps` uses for its flags.
pub fn choose_format(args: &PsArgs) -> String {
    match (&args.format, args.quiet) {
        (Some(f), _) if !f.is_empty() => f.clone(),
        (_, true) => "{{.ID}}".to_string(),
        _ if args.size => format!("{DEFAULT_TABLE}\t{{{{.Size}}}}"),
        _ => DEFAULT_TABLE.to_string(),
    }
}

/// `ps`.
pub async fn ps(client: &Client, args: &PsArgs, io: &mut Stdio) -> CmdResult {
    let limit = if args.latest { 1 } else { args.last };
    let options = ListOptions {
        all: args.all,
        limit: (limit > 0).then_some(limit as usize),
        size: args.size || args.format.as_deref().is_some_and(|f| f.contains(".Size")),
        filters: parse_filters(&args.filter)?,
    };
    let list = client.container_list(&options).await?;
    let now = SystemTime::now();
    let rows: Vec<Value> = list.iter().map(|c| row(c, !args.no_trunc, now)).collect();
    let text = render(&choose_format(args), &rows)?;
    io.out(&text).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::types::container::MountPoint;

    fn summary() -> ContainerSummary {
        serde_json::from_value(json!({
            "Id": "8dfafdbc3a40f0a3b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4",
            "Names": ["/web", "/other/alias"],
            "Image": "busybox@sha256:abcdef",
            "ImageID": "sha256:2d6a",
            "Command": "sh -c 'while true; do sleep 1; done'",
            "Created": 1_700_000_000,
            "Ports": [
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"PrivatePort": 443, "Type": "tcp"}
            ],
            "Labels": {"a": "1"},
            "State": "running",
            "Status": "Up 2 minutes",
            "HostConfig": {"NetworkMode": "bridge"},
            "NetworkSettings": {"Networks": {"bridge": {}}},
            "Mounts": []
        }))
        .unwrap()
    }

    #[test]
    fn rows_truncate_like_docker() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 120);
        let r = row(&summary(), true, now);
        assert_eq!(r["ID"], "8dfafdbc3a40");
        assert_eq!(r["Image"], "busybox");
        assert_eq!(r["Command"], "\"sh -c 'while true; …\"");
        assert_eq!(r["RunningFor"], "2 minutes ago");
        assert_eq!(r["Names"], "web");
        assert_eq!(
            r["Ports"],
            "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp"
        );
        assert_eq!(r["Networks"], "bridge");
        assert_eq!(r["Labels"], "a=1");
        assert_eq!(r["CreatedAt"], "2023-11-14 22:13:20 +0000 UTC");
        let full = row(&summary(), false, now);
        assert_eq!(full["ID"].as_str().unwrap().len(), 64);
        assert_eq!(full["Command"], "\"sh -c 'while true; do sleep 1; done'\"");
        assert_eq!(full["Names"], "web,other/alias");
        assert_eq!(full["Image"], "busybox@sha256:abcdef");
        let mut s = summary();
        s.image = "sha256:2d6a0123456789abcdef".into();
        s.mounts = vec![MountPoint {
            kind: "volume".into(),
            name: "0123456789abcdefghij".into(),
            ..MountPoint::default()
        }];
        let r = row(&s, true, now);
        assert_eq!(r["Image"], "2d6a01234567");
        assert_eq!(r["Mounts"], "0123456789abcd…");
        assert_eq!(r["LocalVolumes"], "1");
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(ellipsis("short", 20), "short");
    }

    #[test]
    fn tables_and_templates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 120);
        let rows = vec![row(&summary(), true, now)];
        let text = render(DEFAULT_TABLE, &rows).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS                                              NAMES"
        );
        assert_eq!(
            lines[1],
            "8dfafdbc3a40   busybox   \"sh -c 'while true; …\"   2 minutes ago   Up 2 minutes   0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp   web"
        );
        assert_eq!(render("{{.ID}}", &rows).unwrap(), "8dfafdbc3a40\n");
        assert_eq!(
            render("table {{.Names}}\\t{{.State}}", &rows).unwrap(),
            "NAMES     STATE\nweb       running\n"
        );
        let j: Value = serde_json::from_str(render("{{json .}}", &rows).unwrap().trim()).unwrap();
        assert_eq!(j["Names"], "web");
        assert_eq!(j["Status"], "Up 2 minutes");
        assert_eq!(
            render("json", &rows).unwrap(),
            render("{{json .}}", &rows).unwrap()
        );
        // No rows: the table still has its header.
        assert!(render(DEFAULT_TABLE, &[])
            .unwrap()
            .starts_with("CONTAINER ID"));
        assert!(render("{{.ID", &rows).is_err());
    }

    #[test]
    fn flags_choose_the_format() {
        let mut a = PsArgs::default();
        assert_eq!(choose_format(&a), DEFAULT_TABLE);
        a.size = true;
        assert!(choose_format(&a).ends_with("\t{{.Size}}"));
        a.quiet = true;
        assert_eq!(choose_format(&a), "{{.ID}}");
        a.format = Some("{{.Names}}".into());
        assert_eq!(choose_format(&a), "{{.Names}}");
        assert!(
            parse_filters(&["status=exited".into()])
                .unwrap()
                .get("status")
                == ["exited"]
        );
        assert_eq!(parse_filters(&["bad".into()]).unwrap_err().status, 125);
    }
}
