//! [`ImageBackend`] over the daemon (moby `daemon/images` as the image
//! router sees it): mutations go through the daemon's image methods so
//! they log image events; reads go to the image service. Blocking work
//! (rmi, prune, save, load) runs on the blocking pool, streaming through
//! channels so a save or load never sits whole in memory.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Read, Write};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use berth_api::server::{ApiError, ByteStream, ImageBackend, JsonMessageStream};
use berth_api::types::filters::Filters as ApiFilters;
use berth_api::types::image::{
    AuthConfig, DeleteItem, HistoryResponseItem, ImageInspect, ImageSummary, JsonMessage,
    JsonProgress, ListOptions, PruneReport, PullOptions, RemoveOptions,
};
use berth_errdefs::ErrorKind;
use berth_image::distribution::Credentials;
use berth_image::platform::Platform;
use berth_image::progress::{Progress, PullEvent};
use berth_image::reference::{parse_normalized_named, Reference};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{api_error, ApiBackend};
use crate::daemon::Daemon;
use crate::events::{action, EventType, Message};
use crate::filters::{FilterMatch, Filters};

/// The filter keys `GET /images/json` accepts (moby's
/// `acceptedImageFilterTags`).
const LIST_FILTERS: &[&str] = &["dangling", "label", "before", "since", "reference", "until"];

/// The filter keys `POST /images/prune` accepts.
const PRUNE_FILTERS: &[&str] = &["dangling", "label", "label!", "until"];

/// A pull's progress event as the line dockerd writes for it: whole-pull
/// lines as `progress.Message` (no detail), layer lines as
/// `progress.Update` (a detail, `{}` when there are no numbers).
fn pull_message(event: PullEvent) -> JsonMessage {
    match event {
        PullEvent::Status { id, status } => JsonMessage::status(id.as_deref(), status),
        PullEvent::Layer { id, status } => {
            let detail = status
                .progress()
                .map_or_else(JsonProgress::default, |(c, t)| JsonProgress::bytes(c, t));
            JsonMessage::progress(&id, status.text(), detail)
        }
    }
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(e.to_string())
}

/// moby's `postImagesCreate` reference: `fromImage`, with `tag` as a tag or
/// (when it parses as one) a digest; `scratch` is reserved.
fn pull_reference(from_image: &str, tag: &str) -> Result<Reference, ApiError> {
    let mut r = parse_normalized_named(from_image).map_err(invalid)?;
    if !tag.is_empty() {
        r = if tag.contains(':') {
            r.trim_named().with_digest(tag)
        } else {
            r.with_tag(tag)
        }
        .map_err(invalid)?;
    }
    if r.familiar_name() == "scratch" {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "'scratch' is a reserved name",
        ));
    }
    Ok(r)
}

/// moby's `RepoTagReference` plus the tag route's check: the reference a
/// `docker tag` creates.
fn tag_reference(repo: &str, tag: &str) -> Result<Reference, ApiError> {
    let r = parse_normalized_named(repo).map_err(invalid)?;
    if r.digest().is_some() {
        return Err(ApiError::invalid("cannot import digest reference"));
    }
    let r = if tag.is_empty() {
        berth_image::reference::tag_name_only(r)
    } else {
        r.with_tag(tag).map_err(invalid)?
    };
    if r.familiar_name() == "sha256" {
        return Err(ApiError::invalid(
            "refusing to create an ambiguous tag using digest algorithm as name",
        ));
    }
    Ok(r)
}

/// Registry credentials from `X-Registry-Auth`.
fn credentials(auth: &AuthConfig) -> Credentials {
    if !auth.registry_token.is_empty() {
        return Credentials::Token(auth.registry_token.clone());
    }
    if !auth.identity_token.is_empty() {
        return Credentials::Token(auth.identity_token.clone());
    }
    match auth.basic() {
        Some((username, password)) => Credentials::Basic { username, password },
        None => Credentials::Anonymous,
    }
}

/// Aborts a spawned task when dropped: a client that goes away cancels
/// its pull (the image service then drops the download once no other
/// caller waits for it).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::system(format!("image task failed: {e}")))?
}

/// `Read` over the request body, for the blocking load (runs on the
/// blocking pool, so `block_on` is allowed).
struct BodyReader {
    stream: ByteStream,
    buf: Bytes,
    rt: tokio::runtime::Handle,
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.buf.is_empty() {
            match self.rt.block_on(self.stream.next()) {
                Some(Ok(b)) => self.buf = b,
                Some(Err(e)) => return Err(io::Error::other(e.message)),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf.split_to(n));
        Ok(n)
    }
}

/// `Write` into the response body, for the blocking save; fails once the
/// client has gone, which ends the save.
struct BodyWriter(mpsc::Sender<Result<Bytes, ApiError>>);

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(data)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// go-units-free Unix seconds of `t` (negative before the epoch).
fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The API's filters, for the daemon's matching rules.
fn daemon_filters(f: &ApiFilters) -> Result<Filters, ApiError> {
    Ok(f.clone())
}

/// moby's `GetBoolOrDefault`.
fn bool_filter(f: &Filters, key: &str, default: bool) -> Result<bool, ApiError> {
    let values = f.get(key);
    if values.is_empty() {
        return Ok(default);
    }
    let is_true = values.iter().any(|v| matches!(v.as_str(), "1" | "true"));
    let is_false = values.iter().any(|v| matches!(v.as_str(), "0" | "false"));
    if is_true == is_false {
        return Err(ApiError::invalid(format!(
            "invalid filter '{key}={}'",
            values.join(",")
        )));
    }
    Ok(is_true)
}

/// The `until` filter as Unix seconds.
fn until_filter(f: &Filters) -> Result<Option<i64>, ApiError> {
    match f.get("until") {
        [] => Ok(None),
        [one] => crate::logs::parse_timestamp(one, SystemTime::now())
            .map(|t| Some(unix_seconds(t)))
            .map_err(api_error),
        _ => Err(ApiError::invalid("more than one until filter specified")),
    }
}

/// Go's `path.Match` for the `reference` filter: `*` and `?` within a
/// path element, `[...]` classes, `\` escapes.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, rest) => rest.is_none(),
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], name)
                || (!name.is_empty() && name[0] != b'/' && glob_match(pattern, &name[1..]))
        }
        (Some(_), None) => false,
        (Some(b'?'), Some(c)) => *c != b'/' && glob_match(&pattern[1..], &name[1..]),
        (Some(b'['), Some(c)) => {
            let Some(end) = pattern.iter().skip(1).position(|b| *b == b']') else {
                return false;
            };
            let class = &pattern[1..=end];
            let (negate, class) = match class.first() {
                Some(b'^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= class[i] <= *c && *c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == *c;
                    i += 1;
                }
            }
            hit != negate && *c != b'/' && glob_match(&pattern[end + 2..], &name[1..])
        }
        (Some(b'\\'), Some(c)) if pattern.len() > 1 => {
            pattern[1] == *c && glob_match(&pattern[2..], &name[1..])
        }
        (Some(p), Some(c)) => p == c && glob_match(&pattern[1..], &name[1..]),
    }
}

/// The repository part of a familiar reference (`reference.FamiliarName`).
fn familiar_name(familiar: &str) -> &str {
    let s = familiar.split('@').next().unwrap_or(familiar);
    match (s.rfind(':'), s.rfind('/')) {
        (Some(colon), Some(slash)) if colon > slash => &s[..colon],
        (Some(colon), None) => &s[..colon],
        _ => s,
    }
}

/// moby's `reference.FamiliarMatch`: the pattern against the familiar
/// string, else against the familiar name.
fn reference_matches(pattern: &str, familiar: &str) -> bool {
    glob_match(pattern.as_bytes(), familiar.as_bytes())
        || glob_match(pattern.as_bytes(), familiar_name(familiar).as_bytes())
}

impl ApiBackend {
    /// The creation time of the image `name` names (for `before`/`since`).
    fn created_of(&self, name: &str, all: &[ImageSummary]) -> Result<i64, ApiError> {
        let id = self
            .daemon()
            .images()
            .get_image(name)
            .map_err(|e| ApiError::from_error(&e))?
            .id
            .to_string();
        Ok(all.iter().find(|s| s.id == id).map_or(0, |s| s.created))
    }
}

/// moby's image prune over the daemon (blocking): see
/// [`ImageBackend::images_prune`].
fn prune(daemon: &Daemon, filters: &Filters) -> Result<PruneReport, ApiError> {
    filters.validate(PRUNE_FILTERS).map_err(api_error)?;
    let dangling_only = bool_filter(filters, "dangling", true)?;
    let until = until_filter(filters)?;
    let mut deleted: Vec<DeleteItem> = Vec::new();
    let mut layer_sizes: BTreeMap<String, u64> = BTreeMap::new();
    for image in daemon.images().list_images() {
        if until.is_some_and(|u| image.created == 0 || image.created > u) {
            continue;
        }
        let labels = image.labels.clone();
        if !filters.match_labels("label", labels.as_ref())
            || (filters.contains("label!") && filters.match_labels("label!", labels.as_ref()))
        {
            continue;
        }
        if dangling_only && !image.repo_tags.is_empty() {
            continue;
        }
        if let Ok(record) = daemon.images().get_image(&image.id) {
            for layer in &record.layers {
                layer_sizes.insert(layer.chain_id.to_string(), layer.unpacked_size);
            }
        }
        let refs: Vec<String> = image
            .repo_tags
            .iter()
            .chain(&image.repo_digests)
            .cloned()
            .collect();
        let targets = if refs.is_empty() {
            vec![image.id.clone()]
        } else {
            refs
        };
        for target in targets {
            match daemon.remove_image(&target, false) {
                Ok(items) => deleted.extend(items),
                // In use: kept, silently (moby's `imageDeleteFailed`).
                Err(e) if berth_errdefs::HasKind::kind(&e) == ErrorKind::Conflict => {}
                // Gone with an earlier reference of the same image.
                Err(e) if berth_errdefs::HasKind::kind(&e) == ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(image = %target, error = %e, "failed to prune image"),
            }
        }
    }
    let space_reclaimed = deleted
        .iter()
        .filter_map(|d| match d {
            DeleteItem::Deleted(id) => layer_sizes.get(id),
            DeleteItem::Untagged(_) => None,
        })
        .sum();
    let attrs = BTreeMap::from([("reclaimed".to_string(), format!("{space_reclaimed}"))]);
    daemon
        .events()
        .log(Message::new(EventType::Image, action::PRUNE, "", attrs));
    Ok(PruneReport {
        images_deleted: (!deleted.is_empty()).then_some(deleted),
        space_reclaimed,
    })
}

#[async_trait]
impl ImageBackend for ApiBackend {
    async fn pull_image(&self, options: PullOptions) -> Result<JsonMessageStream, ApiError> {
        let reference = pull_reference(&options.from_image, &options.tag)?.to_string();
        let platform = options
            .platform
            .as_deref()
            .map(Platform::parse)
            .transpose()
            .map_err(ApiError::invalid)?;
        let pull_options = berth_image::service::PullOptions {
            platform,
            credentials: credentials(&options.auth),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let progress = {
            let tx = tx.clone();
            Progress::new(move |e| {
                let _ = tx.send(Some(Ok(pull_message(e))));
            })
        };
        let daemon = self.daemon().clone();
        let task = tokio::spawn(async move {
            let result = daemon.pull_image(&reference, pull_options, progress).await;
            if let Err(e) = result {
                let _ = tx.send(Some(Err(api_error(e))));
            }
            // An explicit end (`None`): the progress sink, and with it a
            // sender, may outlive the pull.
            let _ = tx.send(None);
        });
        let guard = AbortOnDrop(task.abort_handle());
        let lines = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
            let line = rx.recv().await.flatten()?;
            Some((line, (rx, guard)))
        });
        Ok(Box::pin(lines))
    }

    async fn images(&self, options: ListOptions) -> Result<Vec<ImageSummary>, ApiError> {
        let f = daemon_filters(&options.filters)?;
        f.validate(LIST_FILTERS).map_err(api_error)?;
        let dangling = if f.contains("dangling") {
            Some(bool_filter(&f, "dangling", false)?)
        } else {
            None
        };
        let all = self.daemon().images().list_images();
        let mut before = None;
        for b in f.get("before") {
            before = Some(self.created_of(b, &all)?);
        }
        let mut since = None;
        for s in f.get("since") {
            since = Some(self.created_of(s, &all)?);
        }
        let until = until_filter(&f)?;
        let patterns = f.get("reference");
        let mut out = Vec::new();
        for mut image in all {
            if before.is_some_and(|b| image.created >= b)
                || since.is_some_and(|s| image.created <= s)
                || until.is_some_and(|u| image.created > u)
                || !f.match_labels("label", image.labels.as_ref())
            {
                continue;
            }
            if !patterns.is_empty() {
                // Only the matching references are listed (moby).
                let keep = |r: &String| patterns.iter().any(|p| reference_matches(p, r));
                image.repo_tags.retain(keep);
                image.repo_digests.retain(keep);
                if image.repo_tags.is_empty() && image.repo_digests.is_empty() {
                    continue;
                }
            }
            match dangling {
                Some(true) if !image.repo_tags.is_empty() => continue,
                Some(false) if image.repo_tags.is_empty() && image.repo_digests.is_empty() => {
                    continue
                }
                _ => {}
            }
            out.push(image);
        }
        // `all` would add intermediate images; Berth keeps no parent
        // chains, so there are none to hide.
        let _ = options.all;
        Ok(out)
    }

    async fn image_inspect(&self, name: &str) -> Result<ImageInspect, ApiError> {
        self.daemon()
            .images()
            .inspect(name)
            .map_err(|e| ApiError::from_error(&e))
    }

    async fn image_history(&self, name: &str) -> Result<Vec<HistoryResponseItem>, ApiError> {
        self.daemon()
            .images()
            .history(name)
            .map_err(|e| ApiError::from_error(&e))
    }

    async fn tag_image(&self, name: &str, repo: &str, tag: &str) -> Result<(), ApiError> {
        let target = tag_reference(repo, tag)?.to_string();
        let (daemon, name) = (self.daemon().clone(), name.to_string());
        blocking(move || daemon.tag_image(&name, &target).map_err(api_error)).await
    }

    async fn image_delete(
        &self,
        name: &str,
        options: RemoveOptions,
    ) -> Result<Vec<DeleteItem>, ApiError> {
        // `prune_children` only matters for parent chains, which Berth
        // does not keep; unused layers always go.
        let (daemon, name) = (self.daemon().clone(), name.to_string());
        blocking(move || daemon.remove_image(&name, options.force).map_err(api_error)).await
    }

    async fn images_prune(&self, filters: ApiFilters) -> Result<PruneReport, ApiError> {
        let filters = daemon_filters(&filters)?;
        let daemon = self.daemon().clone();
        blocking(move || prune(&daemon, &filters)).await
    }

    async fn export_image(&self, names: Vec<String>) -> Result<ByteStream, ApiError> {
        let (tx, rx) = mpsc::channel::<Result<Bytes, ApiError>>(16);
        let daemon = self.daemon().clone();
        tokio::task::spawn_blocking(move || {
            let mut out = BufWriter::with_capacity(64 << 10, BodyWriter(tx.clone()));
            let result = daemon
                .save_images(&names, &mut out)
                .map_err(api_error)
                .and_then(|()| out.flush().map_err(|e| ApiError::system(e.to_string())));
            if let Err(e) = result {
                // Drop what is buffered unsent: an error before the first
                // byte must stay a plain HTTP error.
                let _ = out.into_parts();
                let _ = tx.blocking_send(Err(e));
            }
        });
        let chunks =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|c| (c, rx)) },
            );
        Ok(Box::pin(chunks))
    }

    async fn load_image(
        &self,
        input: ByteStream,
        _quiet: bool,
    ) -> Result<JsonMessageStream, ApiError> {
        // Quiet or not, the answer is the same: Berth reports no per-layer
        // load progress, only the `Loaded image` lines.
        let daemon: Arc<Daemon> = self.daemon().clone();
        let rt = tokio::runtime::Handle::current();
        let lines = blocking(move || {
            let mut reader = BodyReader {
                stream: input,
                buf: Bytes::new(),
                rt,
            };
            daemon.load_images(&mut reader).map_err(api_error)
        })
        .await?;
        let messages: Vec<Result<JsonMessage, ApiError>> = lines
            .into_iter()
            .map(|l| Ok(JsonMessage::stream(format!("{l}\n"))))
            .collect();
        Ok(Box::pin(futures_util::stream::iter(messages)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_filter_globs_like_path_match() {
        for (pattern, name, want) in [
            ("busybox", "busybox:latest", true),
            ("busy*", "busybox:latest", true),
            ("busybox:lat*", "busybox:latest", true),
            ("*", "127.0.0.1:5000/busybox:latest", false),
            ("*/*", "127.0.0.1:5000/busybox:latest", true),
            (
                "127.0.0.1:5000/busybox",
                "127.0.0.1:5000/busybox:latest",
                true,
            ),
            ("b?sybox", "busybox:v1", true),
            ("[a-c]usybox", "busybox:v1", true),
            ("[^b]usybox", "busybox:v1", false),
            ("alpine", "busybox:latest", false),
            ("busybox", "busybox@sha256:abc", true),
        ] {
            assert_eq!(reference_matches(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn pull_and_tag_references_follow_moby() {
        assert_eq!(
            pull_reference("busybox", "").unwrap().to_string(),
            "docker.io/library/busybox"
        );
        assert_eq!(
            pull_reference("127.0.0.1:5000/busybox", "v1")
                .unwrap()
                .to_string(),
            "127.0.0.1:5000/busybox:v1"
        );
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            pull_reference("busybox:old", &d).unwrap().to_string(),
            format!("docker.io/library/busybox@{d}")
        );
        assert_eq!(
            pull_reference("Bad", "").unwrap_err().kind,
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            pull_reference("busybox", "bad tag!").unwrap_err().kind,
            ErrorKind::InvalidParameter
        );
        assert_eq!(
            pull_reference("scratch", "").unwrap_err().kind,
            ErrorKind::Forbidden
        );
        assert_eq!(
            tag_reference("app", "").unwrap().to_string(),
            "docker.io/library/app:latest"
        );
        assert_eq!(
            tag_reference("app:v1", "").unwrap().to_string(),
            "docker.io/library/app:v1"
        );
        assert!(tag_reference(&format!("app@{d}"), "").is_err());
        assert!(tag_reference("sha256", "x").is_err());
    }

    #[test]
    fn credentials_from_the_auth_header() {
        assert!(matches!(
            credentials(&AuthConfig::default()),
            Credentials::Anonymous
        ));
        let basic = AuthConfig {
            username: "u".into(),
            password: "p".into(),
            ..AuthConfig::default()
        };
        assert!(matches!(credentials(&basic), Credentials::Basic { .. }));
        let token = AuthConfig {
            registry_token: "t".into(),
            ..AuthConfig::default()
        };
        assert!(matches!(credentials(&token), Credentials::Token(t) if t == "t"));
    }

    #[test]
    fn pull_events_become_dockerd_lines() {
        use berth_image::progress::LayerStatus;
        let line = |e| serde_json::to_string(&pull_message(e)).unwrap();
        assert_eq!(
            line(PullEvent::Layer {
                id: "abc".into(),
                status: LayerStatus::PullComplete
            }),
            r#"{"status":"Pull complete","progressDetail":{},"id":"abc"}"#
        );
        assert_eq!(
            line(PullEvent::Status {
                id: None,
                status: "Digest: sha256:1".into()
            }),
            r#"{"status":"Digest: sha256:1"}"#
        );
        let down = pull_message(PullEvent::Layer {
            id: "abc".into(),
            status: LayerStatus::Downloading {
                current: 5,
                total: 10,
            },
        });
        assert_eq!(down.progress_detail, Some(JsonProgress::bytes(5, 10)));
        assert!(down.progress.ends_with("      5B/10B"), "{}", down.progress);
    }
}
