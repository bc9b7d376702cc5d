//! `system df` (docker/cli `cli/command/system/df.go` and
//! `formatter/disk_usage.go`): one summary row per object kind
//! (`TYPE TOTAL ACTIVE SIZE RECLAIMABLE`), or with `-v` a table per kind.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_api::types::df::DiskUsage;
use berth_client::Client;
use clap::Args;
use serde_json::{json, Value};

use crate::commands::ps::{self, short_id};
use crate::errors::{CliError, CmdResult};
use crate::format::output::rows as render_with_header;
use crate::format::units::{ago, human_size};
use crate::stdio::Stdio;

/// `system df`.
#[derive(Debug, Clone, Args)]
pub struct DfArgs {
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Show detailed information on space usage
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// Docker's summary table.
const SUMMARY_FORMAT: &str =
    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

/// `size (pct%)` when there is anything at all, as the CLI writes it.
fn with_percent(reclaimable: i64, total: i64) -> String {
    if total > 0 {
        format!(
            "{} ({}%)",
            human_size(reclaimable as f64),
            reclaimable * 100 / total
        )
    } else {
        human_size(reclaimable as f64)
    }
}

fn summary_row(kind: &str, total: usize, active: usize, size: String, reclaim: String) -> Value {
    json!({
        "Type": kind,
        "TotalCount": total.to_string(),
        "Active": active.to_string(),
        "Size": size,
        "Reclaimable": reclaim,
    })
}

/// Whether a container counts as active (its writable layer is in use).
fn container_active(state: &str) -> bool {
    matches!(state, "running" | "paused" | "restarting")
}

/// The summary rows for `du`, in Docker's order; kinds the daemon did not
/// report are left out.
pub fn summary_rows(du: &DiskUsage) -> Vec<Value> {
    let mut rows = Vec::new();
    if let Some(images) = &du.images {
        let active = images.iter().filter(|i| i.containers > 0).count();
        let used: i64 = images
            .iter()
            .filter(|i| i.containers != 0 && i.size != -1 && i.shared_size != -1)
            .map(|i| i.size - i.shared_size)
            .sum();
        rows.push(summary_row(
            "Images",
            images.len(),
            active,
            human_size(du.layers_size as f64),
            with_percent(du.layers_size - used, du.layers_size),
        ));
    }
    if let Some(containers) = &du.containers {
        let active = containers
            .iter()
            .filter(|c| container_active(&c.state))
            .count();
        let size: i64 = containers.iter().map(|c| c.size_rw).sum();
        let reclaim: i64 = containers
            .iter()
            .filter(|c| !container_active(&c.state))
            .map(|c| c.size_rw)
            .sum();
        rows.push(summary_row(
            "Containers",
            containers.len(),
            active,
            human_size(size as f64),
            with_percent(reclaim, size),
        ));
    }
    if let Some(volumes) = &du.volumes {
        let usage: Vec<_> = volumes.iter().filter_map(|v| v.usage_data).collect();
        let active = usage.iter().filter(|u| u.ref_count > 0).count();
        let size: i64 = usage.iter().filter(|u| u.size != -1).map(|u| u.size).sum();
        let reclaim: i64 = usage
            .iter()
            .filter(|u| u.ref_count == 0 && u.size != -1)
            .map(|u| u.size)
            .sum();
        rows.push(summary_row(
            "Local Volumes",
            volumes.len(),
            active,
            human_size(size as f64),
            with_percent(reclaim, size),
        ));
    }
    if let Some(cache) = &du.build_cache {
        let size: i64 = cache.iter().filter(|b| !b.shared).map(|b| b.size).sum();
        let in_use: i64 = cache
            .iter()
            .filter(|b| b.in_use && !b.shared)
            .map(|b| b.size)
            .sum();
        rows.push(summary_row(
            "Build Cache",
            cache.len(),
            cache.iter().filter(|b| b.in_use).count(),
            human_size(size as f64),
            human_size((size - in_use) as f64),
        ));
    }
    rows
}

fn summary_header() -> Value {
    json!({"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
        "Reclaimable": "RECLAIMABLE"})
}

/// The `-v` tables: images, containers, local volumes, build cache.
pub fn verbose_text(du: &DiskUsage, now: SystemTime) -> Result<String, CliError> {
    let since = |secs: i64| ago(UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64), now);
    let mut out = String::from("Images space usage:\n\n");
    let mut rows = Vec::new();
    for i in du.images.iter().flatten() {
        let tags: Vec<(String, String)> = if i.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.repo_tags
                .iter()
                .map(
                    |t| match t.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
                        Some((r, tag)) => (r.to_string(), tag.to_string()),
                        None => (t.clone(), "<none>".into()),
                    },
                )
                .collect()
        };
        let shared = if i.shared_size == -1 {
            "N/A".to_string()
        } else {
            human_size(i.shared_size as f64)
        };
        let unique = if i.shared_size == -1 {
            "N/A".to_string()
        } else {
            human_size((i.size - i.shared_size) as f64)
        };
        for (repo, tag) in tags {
            rows.push(json!({
                "Repository": repo, "Tag": tag, "ID": short_id(&i.id),
                "CreatedSince": since(i.created), "VirtualSize": human_size(i.size as f64),
                "SharedSize": shared, "UniqueSize": unique, "Containers": i.containers.to_string(),
            }));
        }
    }
    out.push_str(&render_with_header(
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.VirtualSize}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
        &json!({"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID",
            "CreatedSince": "CREATED", "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE",
            "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS"}),
        &rows,
    )?);
    out.push_str("\nContainers space usage:\n\n");
    let rows: Vec<Value> = du
        .containers
        .iter()
        .flatten()
        .map(|c| {
            let mut r = ps::row(c, true, now);
            r["Size"] = json!(human_size(c.size_rw as f64));
            r
        })
        .collect();
    out.push_str(&render_with_header(
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
        &json!({"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
            "LocalVolumes": "LOCAL VOLUMES", "Size": "SIZE", "RunningFor": "CREATED",
            "Status": "STATUS", "Names": "NAMES"}),
        &rows,
    )?);
    out.push_str("\nLocal Volumes space usage:\n\n");
    let rows: Vec<Value> = du
        .volumes
        .iter()
        .flatten()
        .map(|v| {
            let u = v.usage_data.unwrap_or_default();
            json!({"Name": v.name, "Links": u.ref_count.to_string(),
                "Size": if u.size == -1 { "N/A".to_string() } else { human_size(u.size as f64) }})
        })
        .collect();
    out.push_str(&render_with_header(
        "table {{.Name}}\t{{.Links}}\t{{.Size}}",
        &json!({"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}),
        &rows,
    )?);
    let cache = du.build_cache.as_deref().unwrap_or_default();
    let cache_size: i64 = cache.iter().filter(|b| !b.shared).map(|b| b.size).sum();
    out.push_str(&format!(
        "\nBuild cache usage: {}\n\n",
        human_size(cache_size as f64)
    ));
    let rows: Vec<Value> = cache
        .iter()
        .map(|b| {
            json!({"ID": b.id, "CacheType": b.kind, "Size": human_size(b.size as f64),
                "CreatedSince": b.created_at, "LastUsedSince": b.last_used_at.clone().unwrap_or_default(),
                "UsageCount": b.usage_count.to_string(), "Shared": b.shared.to_string()})
        })
        .collect();
    out.push_str(&render_with_header(
        "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
        &json!({"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE",
            "CreatedSince": "CREATED", "LastUsedSince": "LAST USED", "UsageCount": "USAGE",
            "Shared": "SHARED"}),
        &rows,
    )?);
    Ok(out)
}

/// `system df [-v] [--format]`.
pub async fn df(client: &Client, args: &DfArgs, io: &mut Stdio) -> CmdResult {
    let du = client.disk_usage(&[]).await?;
    let format = args.format.as_deref().filter(|f| !f.is_empty());
    if args.verbose {
        if format == Some("json") {
            io.out(&format!(
                "{}\n",
                serde_json::to_string(&du).map_err(|e| CliError::msg(e.to_string()))?
            ))
            .await;
        } else {
            io.out(&verbose_text(&du, SystemTime::now())?).await;
        }
        return Ok(0);
    }
    let format = match format {
        None | Some("table") => SUMMARY_FORMAT,
        Some("json") => "{{json .}}",
        Some(f) => f,
    };
    io.out(&render_with_header(
        format,
        &summary_header(),
        &summary_rows(&du),
    )?)
    .await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::types::container::ContainerSummary;
    use berth_api::types::image::ImageSummary;

    fn du() -> DiskUsage {
        DiskUsage {
            layers_size: 4_300_000,
            images: Some(vec![ImageSummary {
                id: "sha256:0123456789abcdef".into(),
                repo_tags: vec!["127.0.0.1:5000/busybox:latest".into()],
                size: 4_300_000,
                shared_size: 0,
                containers: 1,
                ..ImageSummary::default()
            }]),
            containers: Some(vec![
                ContainerSummary {
                    id: "aaaaaaaaaaaaaaaa".into(),
                    state: "running".into(),
                    size_rw: 100,
                    ..ContainerSummary::default()
                },
                ContainerSummary {
                    id: "bbbbbbbbbbbbbbbb".into(),
                    state: "exited".into(),
                    size_rw: 300,
                    ..ContainerSummary::default()
                },
            ]),
            volumes: Some(vec![]),
            build_cache: Some(vec![]),
        }
    }

    #[test]
    fn summary_table_like_docker() {
        let text =
            render_with_header(SUMMARY_FORMAT, &summary_header(), &summary_rows(&du())).unwrap();
        assert_eq!(
            text,
            "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
             Images          1         1         4.3MB     0B (0%)\n\
             Containers      2         1         400B      300B (75%)\n\
             Local Volumes   0         0         0B        0B\n\
             Build Cache     0         0         0B        0B\n"
        );
    }

    #[test]
    fn verbose_tables_name_every_kind() {
        let text = verbose_text(&du(), SystemTime::now()).unwrap();
        assert!(
            text.starts_with("Images space usage:\n\nREPOSITORY"),
            "{text}"
        );
        assert!(text.contains("127.0.0.1:5000/busybox   latest"), "{text}");
        assert!(
            text.contains("\nContainers space usage:\n\nCONTAINER ID"),
            "{text}"
        );
        assert!(
            text.contains("\nLocal Volumes space usage:\n\nVOLUME NAME"),
            "{text}"
        );
        assert!(
            text.contains("\nBuild cache usage: 0B\n\nCACHE ID"),
            "{text}"
        );
    }
}
