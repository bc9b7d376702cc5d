//! The service side of a pull: one shared download per (reference,
//! platform, credentials), cancelled when every caller has gone away; then
//! recording the image and its references, and Docker's closing status lines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::{BoxFuture, FutureExt, Shared, WeakShared};
use sha2::Digest as _;

use super::{remove, Inner, PullOptions};
use crate::distribution::{pull_image, Credentials, PullSpec, PullStores};
use crate::error::ImageError;
use crate::platform::Platform;
use crate::progress::{Progress, PullEvent};
use crate::record::ImageRecord;
use crate::reference::{parse_normalized_named, tag_name_only, Reference};

type PullResult = Result<ImageRecord, Arc<ImageError>>;
type PullFuture = BoxFuture<'static, PullResult>;
type SharedPull = Shared<PullFuture>;
/// A pull in flight: a weak handle on its future and its progress fan-out.
type InflightEntry = (WeakShared<PullFuture>, Arc<Fanout>);

/// Pulls in flight, by key. Holds only weak handles: the download lives
/// exactly as long as some caller is waiting for it.
#[derive(Default)]
pub(crate) struct InflightPulls {
    map: Mutex<HashMap<String, InflightEntry>>,
}

/// Delivers a shared pull's events to every caller's sink.
#[derive(Default)]
struct Fanout {
    sinks: Mutex<Vec<Progress>>,
}

impl Fanout {
    fn add(&self, sink: Progress) {
        self.sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sink);
    }

    fn emit(&self, event: PullEvent) {
        let sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for s in sinks {
            s.emit(event.clone());
        }
    }
}

/// Identifies pulls that may share one download. Credentials are part of
/// it (hashed) so one caller's access never serves another's pull.
fn pull_key(reference: &Reference, platform: &Platform, credentials: &Credentials) -> String {
    let secret = match credentials {
        Credentials::Anonymous => String::new(),
        Credentials::Basic { username, password } => format!("basic\0{username}\0{password}"),
        Credentials::Token(t) => format!("token\0{t}"),
    };
    let h: String = sha2::Sha256::digest(secret.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{reference}|{platform}|{h}")
}

pub(super) async fn pull(
    inner: &Arc<Inner>,
    reference: &str,
    options: PullOptions,
    progress: Progress,
) -> Result<ImageRecord, ImageError> {
    let reference = tag_name_only(parse_normalized_named(reference)?);
    let platform = options.platform.unwrap_or_else(Platform::host);
    let key = pull_key(&reference, &platform, &options.credentials);
    let shared = join_or_start(
        inner,
        &key,
        reference,
        platform,
        options.credentials,
        progress,
    );
    let result = shared.await;
    inner
        .pulls
        .map
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|_, (weak, _)| weak.upgrade().is_some_and(|s| s.peek().is_none()));
    result.map_err(|e| Arc::try_unwrap(e).unwrap_or_else(ImageError::Shared))
}

fn join_or_start(
    inner: &Arc<Inner>,
    key: &str,
    reference: Reference,
    platform: Platform,
    credentials: Credentials,
    progress: Progress,
) -> SharedPull {
    let mut map = inner.pulls.map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((weak, fanout)) = map.get(key) {
        if let Some(shared) = weak.upgrade().filter(|s| s.peek().is_none()) {
            fanout.add(progress);
            return shared;
        }
    }
    let fanout = Arc::new(Fanout::default());
    fanout.add(progress);
    let sink = {
        let fanout = fanout.clone();
        Progress::new(move |e| fanout.emit(e))
    };
    let task_inner = inner.clone();
    let future: PullFuture = async move {
        run_pull(&task_inner, reference, platform, credentials, sink)
            .await
            .map_err(Arc::new)
    }
    .boxed();
    let shared = future.shared();
    if let Some(weak) = shared.downgrade() {
        map.insert(key.to_string(), (weak, fanout));
    }
    shared
}

async fn run_pull(
    inner: &Arc<Inner>,
    reference: Reference,
    platform: Platform,
    credentials: Credentials,
    progress: Progress,
) -> Result<ImageRecord, ImageError> {
    let gate = inner.gc.hold();
    let spec = PullSpec {
        reference: reference.clone(),
        platform,
        credentials,
        max_concurrent_downloads: inner.config.max_concurrent_downloads,
    };
    let stores = PullStores {
        content: inner.content.clone(),
        snapshots: inner.snapshots.clone(),
    };
    let pulled = pull_image(&stores, &inner.config.registries, &spec, &progress).await?;
    let id = pulled.record.id.clone();
    let images = &inner.images;
    let up_to_date =
        images.contains(&id) && images.resolve_reference(&reference) == Some(id.clone());
    images.put(pulled.record.clone())?;
    if reference.tag().is_some() && reference.digest().is_none() {
        images.add_tag(&reference, &id)?;
    }
    let digest_ref = reference
        .trim_named()
        .with_digest(&pulled.repo_digest.to_string())?;
    match images.resolve_reference(&digest_ref) {
        None => images.add_digest_ref(&digest_ref, &id)?,
        // moby keeps the old mapping and logs: digest references never move.
        Some(old) if old != id => tracing::error!(
            digest = %pulled.repo_digest, old = %old, new = %id,
            "image ID for digest changed, cannot update"
        ),
        Some(_) => {}
    }
    progress.status(None, format!("Digest: {}", pulled.repo_digest));
    let verdict = if up_to_date {
        "Image is up to date for"
    } else {
        "Downloaded newer image for"
    };
    progress.status(
        None,
        format!("Status: {verdict} {}", reference.familiar_string()),
    );
    drop(gate);
    remove::run_deferred_gc(inner);
    Ok(pulled.record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_keys_separate_platforms_and_credentials() {
        let r = parse_normalized_named("busybox:latest").unwrap();
        let amd = Platform::parse("linux/amd64").unwrap();
        let arm = Platform::parse("linux/arm64").unwrap();
        let anon = Credentials::Anonymous;
        let alice = Credentials::Basic {
            username: "alice".into(),
            password: "pw".into(),
        };
        assert_eq!(pull_key(&r, &amd, &anon), pull_key(&r, &amd, &anon));
        assert_ne!(pull_key(&r, &amd, &anon), pull_key(&r, &arm, &anon));
        assert_ne!(pull_key(&r, &amd, &anon), pull_key(&r, &amd, &alice));
        assert!(!pull_key(&r, &amd, &alice).contains("pw"));
    }
}
