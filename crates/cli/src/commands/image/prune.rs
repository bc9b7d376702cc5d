//! `image prune` (docker/cli `image/prune.go`): dangling images, or with
//! `-a` every image no container uses, after Docker's confirmation.

use berth_client::Client;

use super::args::ImagePruneArgs;
use crate::commands::prompt::confirm;
use crate::commands::ps::parse_filters;
use crate::errors::CmdResult;
use crate::format::units::human_size;
use crate::stdio::Stdio;
use berth_api::types::image::{DeleteItem, PruneReport};

/// The prompt without `-a`.
pub const DANGLING_WARNING: &str =
    "WARNING! This will remove all dangling images.\nAre you sure you want to continue?";

/// The prompt with `-a`.
pub const ALL_WARNING: &str = "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?";

/// The `Deleted Images:` block listing what a prune untagged and deleted
/// (empty when nothing was); `system prune` prints it too.
pub fn deleted_block(report: &PruneReport) -> String {
    let deleted = report.images_deleted.as_deref().unwrap_or_default();
    if deleted.is_empty() {
        return String::new();
    }
    let mut out = String::from("Deleted Images:\n");
    for item in deleted {
        match item {
            DeleteItem::Untagged(r) => out.push_str(&format!("untagged: {r}\n")),
            DeleteItem::Deleted(id) => out.push_str(&format!("deleted: {id}\n")),
        }
    }
    out
}

/// What prune prints: the removed names and IDs, then the space freed.
pub fn report_text(report: &PruneReport) -> String {
    let mut out = deleted_block(report);
    let deleted = report.images_deleted.as_deref().unwrap_or_default();
    if !deleted.is_empty() {
        // Docker prints its list with Println: a blank line follows.
        out.push('\n');
    }
    let freed = if deleted.is_empty() {
        0
    } else {
        report.space_reclaimed
    };
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(freed as f64)
    ));
    out
}

/// `image prune`.
pub async fn prune(client: &Client, args: &ImagePruneArgs, io: &mut Stdio) -> CmdResult {
    let mut filters = parse_filters(&args.filter)?;
    filters.add("dangling", if args.all { "false" } else { "true" });
    if !args.force {
        let warning = if args.all {
            ALL_WARNING
        } else {
            DANGLING_WARNING
        };
        if !confirm(io, warning).await {
            // A refusal is a cancellation, not a failure (exit 0).
            return Ok(0);
        }
    }
    let report = client.images_prune(&filters).await?;
    io.out(&report_text(&report)).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_reports() {
        assert_eq!(
            report_text(&PruneReport::default()),
            "Total reclaimed space: 0B\n"
        );
        let r = PruneReport {
            images_deleted: Some(vec![
                DeleteItem::Untagged("a:latest".into()),
                DeleteItem::Deleted("sha256:ab".into()),
            ]),
            space_reclaimed: 1_234_567,
        };
        assert_eq!(
            report_text(&r),
            "Deleted Images:\nuntagged: a:latest\ndeleted: sha256:ab\n\nTotal reclaimed space: 1.235MB\n"
        );
    }
}
