//! `system prune` (docker/cli `cli/command/system/prune.go`): after
//! Docker's warning prompt (unless `-f`), prune stopped containers, with
//! `--volumes` unused volumes, then dangling images (every unused image
//! with `-a`), and print the `Total reclaimed space:` line.
//!
//! Networks and the build cache, which Docker also prunes, are left out
//! (and out of the warning): Berth has neither yet, so there is nothing of
//! theirs to remove.

use std::io::BufRead;

use berth_api::types::filters::Filters;
use berth_api::types::image::{DeleteItem, PruneReport as ImagePruneReport};
use berth_client::{Call, Client, Method};
use clap::Args;

use crate::commands::ps::parse_filters;
use crate::errors::{CliError, CmdResult};
use crate::format::units::human_size;
use crate::stdio::Stdio;

/// `system prune`.
#[derive(Debug, Clone, Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<key>=<value>")
    #[arg(long = "filter", value_name = "filter")]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    pub volumes: bool,
}

/// Docker's confirmation text (without the ` [y/N] ` the prompt adds).
pub fn confirmation_message(args: &SystemPruneArgs) -> String {
    let mut warnings = vec!["all stopped containers"];
    if args.volumes {
        warnings.push("all anonymous volumes not used by at least one container");
    }
    warnings.push(if args.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    });
    let mut s = String::from("WARNING! This will remove:\n");
    for w in warnings {
        s.push_str(&format!("  - {w}\n"));
    }
    if !args.filter.is_empty() {
        s.push_str("\n  Items to be pruned will be filtered with:\n");
        for f in &args.filter {
            s.push_str(&format!("  - {f}\n"));
        }
    }
    s.push_str("\nAre you sure you want to continue?");
    s
}

/// `POST /images/prune?filters=`; kept private here until the image
/// commands' client methods land.
async fn images_prune(client: &Client, filters: &Filters) -> Result<ImagePruneReport, CliError> {
    let call = Call::new(Method::POST, "/images/prune")
        .query_opt("filters", (!filters.is_empty()).then(|| filters.to_json()));
    Ok(client.json(call).await?)
}

/// `POST /volumes/prune?filters=` (the daemon answers 501 until volumes
/// exist; the error stops the prune, as any prune error does in Docker).
async fn volumes_prune(client: &Client, filters: &Filters) -> Result<u64, CliError> {
    let report = client.volumes_prune(filters).await?;
    Ok(report
        .get("SpaceReclaimed")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0))
}

/// The `Deleted Images:` block of an image prune.
pub fn image_prune_output(report: &ImagePruneReport) -> String {
    let items = report.images_deleted.as_deref().unwrap_or_default();
    if items.is_empty() {
        return String::new();
    }
    let mut s = String::from("Deleted Images:\n");
    for item in items {
        match item {
            DeleteItem::Untagged(r) => s.push_str(&format!("untagged: {r}\n")),
            DeleteItem::Deleted(id) => s.push_str(&format!("deleted: {id}\n")),
        }
    }
    s
}

/// `system prune`.
pub async fn system_prune(client: &Client, args: &SystemPruneArgs, io: &mut Stdio) -> CmdResult {
    let filters = parse_filters(&args.filter)?;
    if !args.force {
        io.out(&format!("{} [y/N] ", confirmation_message(args)))
            .await;
        let mut line = String::new();
        let yes = std::io::stdin().lock().read_line(&mut line).is_ok()
            && matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes");
        if !yes {
            return Ok(0);
        }
    }
    let mut reclaimed = 0u64;
    let containers = client.containers_prune(&filters).await?;
    reclaimed += containers.space_reclaimed;
    if !containers.containers_deleted.is_empty() {
        let mut s = String::from("Deleted Containers:\n");
        for id in &containers.containers_deleted {
            s.push_str(id);
            s.push('\n');
        }
        io.out(&format!("{s}\n")).await;
    }
    if args.volumes {
        reclaimed += volumes_prune(client, &filters).await?;
    }
    let mut image_filters = filters.clone();
    image_filters.add("dangling", if args.all { "false" } else { "true" });
    let images = images_prune(client, &image_filters).await?;
    reclaimed += images.space_reclaimed;
    let out = image_prune_output(&images);
    if !out.is_empty() {
        io.out(&format!("{out}\n")).await;
    }
    io.out(&format!(
        "Total reclaimed space: {}\n",
        human_size(reclaimed as f64)
    ))
    .await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(all: bool, volumes: bool, filter: &[&str]) -> SystemPruneArgs {
        SystemPruneArgs {
            all,
            filter: filter.iter().map(|f| f.to_string()).collect(),
            force: false,
            volumes,
        }
    }

    #[test]
    fn warnings_follow_the_flags() {
        assert_eq!(
            confirmation_message(&args(false, false, &[])),
            "WARNING! This will remove:\n  - all stopped containers\n  - all dangling images\n\nAre you sure you want to continue?"
        );
        let m = confirmation_message(&args(true, true, &["label=a"]));
        assert!(
            m.contains("  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them\n"),
            "{m}"
        );
        assert!(
            m.contains("\n  Items to be pruned will be filtered with:\n  - label=a\n"),
            "{m}"
        );
    }

    #[test]
    fn image_prune_lines() {
        let r = ImagePruneReport {
            images_deleted: Some(vec![
                DeleteItem::Untagged("busybox:old".into()),
                DeleteItem::Deleted("sha256:abc".into()),
            ]),
            space_reclaimed: 5,
        };
        assert_eq!(
            image_prune_output(&r),
            "Deleted Images:\nuntagged: busybox:old\ndeleted: sha256:abc\n"
        );
        assert_eq!(image_prune_output(&ImagePruneReport::default()), "");
    }
}
