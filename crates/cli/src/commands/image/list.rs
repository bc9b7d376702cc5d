//! `images` / `image ls` (docker/cli `image/list.go` and
//! `formatter/image.go`): one row per repository and tag of each image
//! (per digest too with `--digests`), `<none>` for dangling images, as
//! Docker's image context (`ID`, `Repository`, `Tag`, `Digest`,
//! `CreatedSince`, `CreatedAt`, `Size`, `Containers`, `SharedSize`,
//! `UniqueSize`, `VirtualSize`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_api::types::image::{ImageSummary, ListOptions};
use berth_client::Client;
use serde_json::{json, Value};

use super::args::ImagesArgs;
use super::format::{render, size3};
use crate::commands::ps::{go_time, parse_filters, short_id};
use crate::errors::CmdResult;
use crate::format::units::{ago, human_size};
use crate::stdio::Stdio;

/// Docker's default `images` table.
pub const DEFAULT_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";

/// The default table with `--digests`.
pub const DIGEST_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";

/// `NewImageFormat`: the template for the flags.
pub fn choose_format(args: &ImagesArgs) -> String {
    match args.format.as_deref().filter(|f| !f.is_empty()) {
        None | Some("table") if args.quiet => "{{.ID}}".into(),
        None | Some("table") if args.digests => DIGEST_TABLE.into(),
        None | Some("table") => DEFAULT_TABLE.into(),
        Some("raw") if args.quiet => "image_id: {{.ID}}".into(),
        Some("raw") => {
            let digest = if args.digests {
                "digest: {{.Digest}}\n"
            } else {
                ""
            };
            format!("repository: {{{{ .Repository }}}}\ntag: {{{{.Tag}}}}\n{digest}image_id: {{{{.ID}}}}\ncreated_at: {{{{.CreatedAt}}}}\nvirtual_size: {{{{.Size}}}}\n")
        }
        Some(f) if f.starts_with("table") && args.digests && !f.contains("{{.Digest}}") => {
            format!("{f}\t{{{{.Digest}}}}")
        }
        Some(f) => f.to_string(),
    }
}

/// The column titles.
fn header() -> Value {
    json!({
        "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
        "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
        "Containers": "CONTAINERS", "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE",
        "UniqueSize": "UNIQUE SIZE",
    })
}

/// `isDangling`: no name at all.
fn dangling(img: &ImageSummary) -> bool {
    let none = |tags: &[String], digests: &[String]| {
        tags.len() == 1
            && tags[0] == "<none>:<none>"
            && digests.len() == 1
            && digests[0] == "<none>@<none>"
    };
    (img.repo_tags.is_empty() && img.repo_digests.is_empty())
        || none(&img.repo_tags, &img.repo_digests)
}

/// `repo:tag` split at the tag's colon (not a registry port's).
fn split_tag(r: &str) -> Option<(&str, &str)> {
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    let colon = r[slash..].rfind(':')? + slash;
    Some((&r[..colon], &r[colon + 1..]))
}

/// The (repository, tag, digest) rows of one image, as
/// `imageFormatTaggedAndDigest` makes them: a row per tag (per digest of
/// the same repository too when digests are shown), then the
/// repositories known only by digest.
fn names(
    img: &ImageSummary,
    show_digests: bool,
    need_digest: bool,
) -> Vec<(String, String, String)> {
    if dangling(img) {
        return vec![("<none>".into(), "<none>".into(), "<none>".into())];
    }
    let mut tags: Vec<(String, Vec<String>)> = Vec::new();
    for r in &img.repo_tags {
        if let Some((repo, tag)) = split_tag(r) {
            match tags.iter_mut().find(|(k, _)| k == repo) {
                Some((_, v)) => v.push(tag.to_string()),
                None => tags.push((repo.to_string(), vec![tag.to_string()])),
            }
        }
    }
    let mut digests: Vec<(String, Vec<String>)> = Vec::new();
    for r in &img.repo_digests {
        if let Some((repo, digest)) = r.split_once('@') {
            match digests.iter_mut().find(|(k, _)| k == repo) {
                Some((_, v)) => v.push(digest.to_string()),
                None => digests.push((repo.to_string(), vec![digest.to_string()])),
            }
        }
    }
    let mut out = Vec::new();
    for (repo, repo_tags) in &tags {
        let own = digests
            .iter()
            .position(|(k, _)| k == repo)
            .map(|i| digests.remove(i).1)
            .filter(|_| need_digest)
            .unwrap_or_default();
        for tag in repo_tags {
            if own.is_empty() {
                out.push((repo.clone(), tag.clone(), "<none>".into()));
            }
            for d in &own {
                out.push((repo.clone(), tag.clone(), d.clone()));
            }
        }
    }
    for (repo, repo_digests) in digests {
        if show_digests {
            for d in repo_digests {
                out.push((repo.clone(), "<none>".into(), d));
            }
        } else {
            out.push((repo, "<none>".into(), String::new()));
        }
    }
    out
}

/// The rows of `images` for one image.
pub fn rows(
    img: &ImageSummary,
    trunc: bool,
    show_digests: bool,
    need_digest: bool,
    now: SystemTime,
) -> Vec<Value> {
    let created = UNIX_EPOCH + Duration::from_secs(img.created.max(0) as u64);
    let na_or = |n: i64, f: &dyn Fn(i64) -> String| if n == -1 { "N/A".into() } else { f(n) };
    names(img, show_digests, need_digest)
        .into_iter()
        .map(|(repo, tag, digest)| {
            json!({
                "ID": if trunc { short_id(&img.id) } else { img.id.clone() },
                "Repository": repo,
                "Tag": tag,
                "Digest": digest,
                "CreatedSince": ago(created, now),
                "CreatedAt": go_time(img.created),
                "Size": size3(img.size as f64),
                "Containers": na_or(img.containers, &|n| n.to_string()),
                "VirtualSize": human_size(img.size as f64),
                "SharedSize": na_or(img.shared_size, &|n| human_size(n as f64)),
                "UniqueSize": if img.size == -1 || img.shared_size == -1 {
                    "N/A".to_string()
                } else {
                    human_size((img.size - img.shared_size) as f64)
                },
            })
        })
        .collect()
}

/// `images`.
pub async fn images(client: &Client, args: &ImagesArgs, io: &mut Stdio) -> CmdResult {
    let mut filters = parse_filters(&args.filter)?;
    if let Some(r) = args.reference.as_deref().filter(|r| !r.is_empty()) {
        filters.add("reference", r);
    }
    let list = client
        .image_list(&ListOptions {
            all: args.all,
            filters,
        })
        .await?;
    let format = choose_format(args);
    let need_digest = args.digests || format.contains("{{.Digest}}");
    let now = SystemTime::now();
    let rows: Vec<Value> = list
        .iter()
        .flat_map(|img| rows(img, !args.no_trunc, args.digests, need_digest, now))
        .collect();
    io.out(&render(&format, &header(), &rows)?).await;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "sha256:2d6a0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";

    fn image(tags: &[&str], digests: &[&str]) -> ImageSummary {
        ImageSummary {
            id: ID.into(),
            created: 1_700_000_000,
            size: 4_261_000,
            containers: -1,
            shared_size: -1,
            repo_tags: tags.iter().map(|s| s.to_string()).collect(),
            repo_digests: digests.iter().map(|s| s.to_string()).collect(),
            ..ImageSummary::default()
        }
    }

    fn table(img: &ImageSummary, args: &ImagesArgs) -> String {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + 7200);
        let format = choose_format(args);
        let need = args.digests || format.contains("{{.Digest}}");
        let rows = rows(img, !args.no_trunc, args.digests, need, now);
        render(&format, &header(), &rows).unwrap()
    }

    #[test]
    fn the_classic_table() {
        let img = image(
            &["127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox:v1"],
            &["127.0.0.1:5000/busybox@sha256:feed"],
        );
        assert_eq!(
            table(&img, &ImagesArgs::default()),
            "REPOSITORY               TAG       IMAGE ID       CREATED       SIZE\n\
             127.0.0.1:5000/busybox   latest    2d6a01234567   2 hours ago   4.26MB\n\
             127.0.0.1:5000/busybox   v1        2d6a01234567   2 hours ago   4.26MB\n"
        );
        let digests = ImagesArgs {
            digests: true,
            ..ImagesArgs::default()
        };
        let t = table(&img, &digests);
        assert!(
            t.starts_with("REPOSITORY               TAG       DIGEST        IMAGE ID"),
            "{t}"
        );
        assert!(t.contains("latest    sha256:feed   2d6a01234567"), "{t}");
        let quiet = ImagesArgs {
            quiet: true,
            ..ImagesArgs::default()
        };
        assert_eq!(table(&img, &quiet), "2d6a01234567\n2d6a01234567\n");
        let full = ImagesArgs {
            quiet: true,
            no_trunc: true,
            ..ImagesArgs::default()
        };
        assert_eq!(table(&image(&["a:b"], &[]), &full), format!("{ID}\n"));
    }

    #[test]
    fn dangling_and_digest_only_images() {
        let none = image(&[], &[]);
        let t = table(&none, &ImagesArgs::default());
        assert!(
            t.lines()
                .nth(1)
                .unwrap()
                .starts_with("<none>       <none>    2d6a01234567"),
            "{t}"
        );
        let by_digest = image(&[], &["busybox@sha256:feed"]);
        let f = ImagesArgs {
            format: Some("{{.Repository}} {{.Tag}} {{.Digest}}".into()),
            ..ImagesArgs::default()
        };
        assert_eq!(table(&by_digest, &f), "busybox <none> \n");
        let d = ImagesArgs { digests: true, ..f };
        assert_eq!(table(&by_digest, &d), "busybox <none> sha256:feed\n");
    }

    #[test]
    fn templates_and_json() {
        let img = image(&["busybox:latest"], &[]);
        let f = |s: &str| ImagesArgs {
            format: Some(s.into()),
            ..ImagesArgs::default()
        };
        assert_eq!(
            table(
                &img,
                &f("{{.Repository}}:{{.Tag}} {{.Size}} {{.CreatedAt}}")
            ),
            "busybox:latest 4.26MB 2023-11-14 22:13:20 +0000 UTC\n"
        );
        assert_eq!(
            table(&img, &f("table {{.ID}}\\t{{.Containers}}")),
            "IMAGE ID       CONTAINERS\n2d6a01234567   N/A\n"
        );
        let j: Value = serde_json::from_str(table(&img, &f("{{json .}}")).trim()).unwrap();
        assert_eq!(j["Repository"], "busybox");
        assert_eq!(j["CreatedSince"], "2 hours ago");
        assert_eq!(j["Digest"], "<none>");
        let mut digest = f("table {{.ID}}");
        digest.digests = true;
        assert_eq!(choose_format(&digest), "table {{.ID}}\t{{.Digest}}");
    }
}
