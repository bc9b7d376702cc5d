//! `rmi` / `image rm` and `tag` (docker/cli `image/remove.go`,
//! `image/tag.go`).

use berth_api::types::image::{DeleteItem, RemoveOptions};
use berth_client::Client;

use super::args::{RmiArgs, TagArgs};
use crate::errors::{CliError, CmdResult};
use crate::reference::ImageRef;
use crate::stdio::Stdio;

/// The lines `rmi` prints for what the daemon removed.
pub fn removed_lines(items: &[DeleteItem]) -> String {
    let mut out = String::new();
    for item in items {
        match item {
            DeleteItem::Untagged(r) => out.push_str(&format!("Untagged: {r}\n")),
            DeleteItem::Deleted(id) => out.push_str(&format!("Deleted: {id}\n")),
        }
    }
    out
}

/// `rmi`: each image in turn; the failures are reported together at the
/// end. With `--force`, images that do not exist are only mentioned on
/// stderr, as Docker does.
pub async fn rmi(client: &Client, args: &RmiArgs, io: &mut Stdio) -> CmdResult {
    let options = RemoveOptions {
        force: args.force,
        prune_children: !args.no_prune,
    };
    let mut errors = Vec::new();
    let mut fatal = false;
    for image in &args.images {
        match client.image_remove(image, &options).await {
            Ok(items) => io.out(&removed_lines(&items)).await,
            Err(e) => {
                fatal |= e.status() != Some(404);
                errors.push(e.to_string());
            }
        }
    }
    if errors.is_empty() {
        return Ok(0);
    }
    let message = errors.join("\n");
    if !args.force || fatal {
        return Err(CliError::msg(message));
    }
    io.err(&format!("{message}\n")).await;
    Ok(0)
}

/// `tag SOURCE TARGET`: the target's repository and tag (`latest` when
/// none); a digest is not a tag.
pub async fn tag(client: &Client, args: &TagArgs, _io: &mut Stdio) -> CmdResult {
    let invalid = |r: &str, e: String| {
        CliError::msg(format!(
            "Error parsing reference: \"{r}\" is not a valid repository/tag: {e}"
        ))
    };
    ImageRef::parse(&args.source).map_err(|e| invalid(&args.source, e))?;
    let target = ImageRef::parse(&args.target).map_err(|e| invalid(&args.target, e))?;
    if target.digest.is_some() {
        return Err(CliError::msg(
            "refusing to create a tag with a digest reference",
        ));
    }
    let tag = target.tag.as_deref().unwrap_or("latest");
    client.image_tag(&args.source, &target.name, tag).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_lines() {
        let items = vec![
            DeleteItem::Untagged("busybox:latest".into()),
            DeleteItem::Untagged("busybox@sha256:ab".into()),
            DeleteItem::Deleted("sha256:cd".into()),
        ];
        assert_eq!(
            removed_lines(&items),
            "Untagged: busybox:latest\nUntagged: busybox@sha256:ab\nDeleted: sha256:cd\n"
        );
    }
}
