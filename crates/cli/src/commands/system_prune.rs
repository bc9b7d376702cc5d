//! `system prune` (docker/cli `cli/command/system/prune.go`): after
//! Docker's warning prompt (unless `-f`), prune stopped containers, with
//! `--volumes` unused volumes, then dangling images (every unused image
//! with `-a`), and print the `Total reclaimed space:` line.
//!
//! Networks and the build cache, which Docker also prunes, are left out
//! (and out of the warning): Berth has neither yet, so there is nothing of
//! theirs to remove.

use berth_api::types::filters::Filters;
use berth_client::Client;
use clap::Args;

use crate::commands::image::prune::deleted_block;
use crate::commands::prompt::confirm;
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

/// `POST /volumes/prune?filters=`: the bytes freed (an error stops the
/// prune, as any prune error does in Docker).
async fn volumes_prune(client: &Client, filters: &Filters) -> Result<u64, CliError> {
    Ok(client.volumes_prune(filters).await?.space_reclaimed)
}

/// `system prune`.
pub async fn system_prune(client: &Client, args: &SystemPruneArgs, io: &mut Stdio) -> CmdResult {
    let filters = parse_filters(&args.filter)?;
    if !args.force && !confirm(io, &confirmation_message(args)).await {
        return Ok(0);
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
    let images = client.images_prune(&image_filters).await?;
    reclaimed += images.space_reclaimed;
    let out = deleted_block(&images);
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
}
