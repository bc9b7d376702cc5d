//! `history` / `image history` (docker/cli `image/history.go` and
//! `formatter/history.go`): the image's steps, newest first, as Docker's
//! history context (`ID`, `CreatedSince`, `CreatedAt`, `CreatedBy`,
//! `Size`, `Comment`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_api::types::image::HistoryResponseItem;
use berth_client::Client;
use serde_json::{json, Value};

use super::args::HistoryArgs;
use super::format::{render, size3};
use crate::commands::ps::{ellipsis, short_id};
use crate::errors::CmdResult;
use crate::format::units::ago;
use crate::stdio::Stdio;

/// Docker's default `history` table.
pub const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// The table of `--human=false`.
pub const NON_HUMAN_TABLE: &str =
    "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// `NewHistoryFormat`: the template for the flags.
pub fn choose_format(args: &HistoryArgs) -> String {
    match args.format.as_deref().filter(|f| !f.is_empty()) {
        None | Some("table") if args.quiet => "{{.ID}}".into(),
        None | Some("table") if !args.human => NON_HUMAN_TABLE.into(),
        None | Some("table") => DEFAULT_TABLE.into(),
        Some(f) => f.to_string(),
    }
}

fn header() -> Value {
    json!({
        "ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT",
    })
}

/// Go's `time.Unix(secs, 0).Format(time.RFC3339)` in UTC.
fn rfc3339(secs: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// One step as Docker's history context.
pub fn row(h: &HistoryResponseItem, trunc: bool, human: bool, now: SystemTime) -> Value {
    let created_at = rfc3339(h.created);
    let created_by = h.created_by.replace('\t', " ");
    json!({
        "ID": if trunc { short_id(&h.id) } else { h.id.clone() },
        "CreatedSince": if human {
            ago(UNIX_EPOCH + Duration::from_secs(h.created.max(0) as u64), now)
        } else {
            created_at.clone()
        },
        "CreatedAt": created_at,
        "CreatedBy": if trunc { ellipsis(&created_by, 45) } else { created_by },
        "Size": if human { size3(h.size as f64) } else { h.size.to_string() },
        "Comment": h.comment,
    })
}

/// `history`.
pub async fn history(client: &Client, args: &HistoryArgs, io: &mut Stdio) -> CmdResult {
    let steps = client.image_history(&args.image).await?;
    let now = SystemTime::now();
    let rows: Vec<Value> = steps
        .iter()
        .map(|h| row(h, !args.no_trunc, args.human, now))
        .collect();
    io.out(&render(&choose_format(args), &header(), &rows)?)
        .await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn steps() -> Vec<HistoryResponseItem> {
        vec![
            HistoryResponseItem {
                id: "sha256:2d6a0123456789abcdef".into(),
                created: 1_700_000_000,
                created_by: "/bin/sh -c #(nop)\tCMD [\"sh\"] and a very long tail of words".into(),
                size: 0,
                comment: String::new(),
                tags: Some(vec!["busybox:latest".into()]),
            },
            HistoryResponseItem {
                id: "<missing>".into(),
                created: 1_700_000_000,
                created_by: "ADD rootfs.tar /".into(),
                size: 2_155_000,
                comment: "layer".into(),
                tags: None,
            },
        ]
    }

    fn args(extra: &[&str]) -> HistoryArgs {
        #[derive(Parser)]
        struct P {
            #[command(flatten)]
            a: HistoryArgs,
        }
        let mut argv = vec!["history"];
        argv.extend_from_slice(extra);
        argv.push("busybox");
        P::parse_from(argv).a
    }

    fn table(a: &HistoryArgs) -> String {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 3 * 86400);
        let rows: Vec<Value> = steps()
            .iter()
            .map(|h| row(h, !a.no_trunc, a.human, now))
            .collect();
        render(&choose_format(a), &header(), &rows).unwrap()
    }

    #[test]
    fn the_default_table() {
        assert_eq!(
            table(&args(&[])),
            "IMAGE          CREATED      CREATED BY                                      SIZE      COMMENT\n\
             2d6a01234567   3 days ago   /bin/sh -c #(nop) CMD [\"sh\"] and a very long…   0B        \n\
             <missing>      3 days ago   ADD rootfs.tar /                                2.15MB    layer\n"
        );
        assert_eq!(table(&args(&["-q"])), "2d6a01234567\n<missing>\n");
        let raw = table(&args(&[
            "--human=false",
            "--format",
            "{{.CreatedSince}} {{.Size}}",
        ]));
        assert_eq!(
            raw,
            "2023-11-14T22:13:20Z 0\n2023-11-14T22:13:20Z 2155000\n"
        );
        let full = table(&args(&["--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}"]));
        assert!(
            full.starts_with("sha256:2d6a0123456789abcdef|/bin/sh -c #(nop) CMD"),
            "{full}"
        );
        assert!(full.contains("long tail of words\n"), "{full}");
    }
}
