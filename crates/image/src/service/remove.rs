//! `docker rmi` with moby's rules (`ImageDelete`): untag first, delete the
//! image only when nothing else names it, refuse with Docker's conflict
//! messages when a container uses it; and the garbage collector that then
//! removes blobs and layers no image references.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::Inner;
use crate::content::Digest;
use crate::error::ImageError;
use crate::reference::{parse_normalized_named, Reference};

/// A container that uses an image, as the daemon reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUser {
    /// The container's full ID.
    pub container_id: String,
    /// Whether it is running (a running user is a hard conflict).
    pub running: bool,
}

/// Tells the image service which containers use an image; the daemon
/// implements it over its container store.
pub trait ImageUsers: Send + Sync {
    /// The containers whose image is `image_id`.
    fn users_of(&self, image_id: &Digest) -> Vec<ImageUser>;
}

/// One line of `docker rmi` output; the model lives in `berth-api`.
pub use berth_api::types::image::DeleteItem;

/// Keeps the garbage collector away from blobs and layers that an
/// in-flight pull or load has written but not yet recorded.
#[derive(Default)]
pub(crate) struct GcGate {
    active: Mutex<usize>,
    pending: AtomicBool,
}

/// Held for the duration of a pull or load.
pub(crate) struct GateHold<'a>(&'a GcGate);

impl GcGate {
    pub(crate) fn hold(&self) -> GateHold<'_> {
        *lock(&self.active) += 1;
        GateHold(self)
    }
}

impl Drop for GateHold<'_> {
    fn drop(&mut self) {
        let mut n = lock(&self.0.active);
        *n = n.saturating_sub(1);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs a garbage collection that an earlier `remove` had to defer.
pub(crate) fn run_deferred_gc(inner: &Inner) {
    if inner.gc.pending.load(Ordering::SeqCst) {
        if let Err(e) = garbage_collect(inner) {
            tracing::warn!(error = %e, "deferred garbage collection failed");
        }
    }
}

/// Removes unreferenced blobs and layers; deferred (returns zeros) while a
/// pull or load is in flight.
pub(crate) fn garbage_collect(inner: &Inner) -> Result<(usize, usize), ImageError> {
    // Holding the lock keeps new pulls from starting while we sweep.
    let active = lock(&inner.gc.active);
    if *active > 0 {
        inner.gc.pending.store(true, Ordering::SeqCst);
        return Ok((0, 0));
    }
    inner.gc.pending.store(false, Ordering::SeqCst);
    let (blobs, layers) = referenced(inner);
    let removed_blobs = inner
        .content
        .garbage_collect(&blobs)
        .map_err(ImageError::content("garbage collecting blobs"))?;
    let removed_layers = inner.snapshots.gc_layers(&layers)?;
    drop(active);
    Ok((removed_blobs.len(), removed_layers.len()))
}

/// The blobs and layers some image record references.
fn referenced(inner: &Inner) -> (HashSet<Digest>, HashSet<Digest>) {
    let mut blobs = HashSet::new();
    let mut layers = HashSet::new();
    for record in inner.images.list() {
        blobs.insert(record.id.clone());
        blobs.insert(record.manifest.digest.clone());
        for l in &record.layers {
            blobs.insert(l.blob.clone());
            layers.insert(l.chain_id.clone());
        }
    }
    (blobs, layers)
}

/// `docker rmi ref_or_id` (moby's `ImageDelete`, without `prune` of
/// parents: pulled images have none).
pub(crate) fn remove(
    inner: &Inner,
    users: Option<&dyn ImageUsers>,
    ref_or_id: &str,
    force: bool,
) -> Result<Vec<DeleteItem>, ImageError> {
    let images = &inner.images;
    let record = images.get_image(ref_or_id)?;
    let id = record.id.clone();
    let container_users = users.map(|u| u.users_of(&id)).unwrap_or_default();
    let mut refs = images.references_to(&id);
    let mut items = Vec::new();
    let mut removed_repository_ref = false;

    if !is_id_prefix(&id, ref_or_id) {
        // A reference was named: remove it first.
        if !force && is_single_reference(&refs) {
            if let Some(user) = container_users.first() {
                return Err(ImageError::Conflict(format!(
                    "conflict: unable to remove repository reference \"{ref_or_id}\" (must force) - container {} is using its referenced image {}",
                    short(&user.container_id),
                    short(id.hex())
                )));
            }
        }
        let named = parse_normalized_named(ref_or_id)?;
        let named = crate::reference::tag_name_only(named);
        images.remove_reference(&named)?;
        items.push(DeleteItem::Untagged(named.familiar_string()));
        refs = images.references_to(&id);
        if named.digest().is_none() {
            // The last tag of a repository takes the repository's digest
            // references with it.
            let tag_left = refs
                .iter()
                .any(|r| r.digest().is_none() && r.name() == named.name());
            if !tag_left {
                for r in refs
                    .iter()
                    .filter(|r| r.digest().is_some() && r.name() == named.name())
                {
                    images.remove_reference(r)?;
                    items.push(DeleteItem::Untagged(r.familiar_string()));
                }
                refs = images.references_to(&id);
            }
        }
        if !refs.is_empty() {
            return Ok(items);
        }
        removed_repository_ref = true;
    } else if is_single_reference(&refs) {
        // An ID was named and only one repository names the image: those
        // references go along with it, unless something conflicts.
        check_conflict(&id, &container_users, &refs, force, true)?;
        for r in &refs {
            images.remove_reference(r)?;
            items.push(DeleteItem::Untagged(r.familiar_string()));
        }
        refs.clear();
    }

    if let Err(conflict) = check_conflict(&id, &container_users, &refs, force, false) {
        // Untagging was what the user asked for; a container still using
        // the now dangling image keeps it (moby's "quiet" delete).
        if removed_repository_ref && !container_users.is_empty() {
            return Ok(items);
        }
        return Err(conflict);
    }
    for r in &refs {
        images.remove_reference(r)?;
        items.push(DeleteItem::Untagged(r.familiar_string()));
    }
    let keep_after: HashSet<Digest> = images
        .list()
        .iter()
        .filter(|r| r.id != id)
        .flat_map(|r| r.chain())
        .collect();
    images.delete_record(&id)?;
    items.push(DeleteItem::Deleted(id.to_string()));
    let in_use = inner.snapshots.layers_in_use()?;
    let (_, _) = garbage_collect(inner)?;
    for chain in record.chain().iter().rev() {
        if !keep_after.contains(chain)
            && !in_use.contains(chain)
            && !inner.snapshots.has_layer(chain)
        {
            items.push(DeleteItem::Deleted(chain.to_string()));
        }
    }
    Ok(items)
}

/// moby's `checkImageDeleteConflict`: a running container is a hard
/// conflict; other references and stopped containers are soft ones that
/// `force` overrides. `ignore_refs` skips the reference check (the caller
/// is about to remove them).
fn check_conflict(
    id: &Digest,
    users: &[crate::service::ImageUser],
    refs: &[Reference],
    force: bool,
    ignore_refs: bool,
) -> Result<(), ImageError> {
    let conflict = |hard: bool, message: String| {
        let how = if hard {
            "cannot be forced"
        } else {
            "must be forced"
        };
        Err(ImageError::Conflict(format!(
            "conflict: unable to delete {} ({how}) - {message}",
            short(id.hex())
        )))
    };
    if let Some(u) = users.iter().find(|u| u.running) {
        return conflict(
            true,
            format!(
                "image is being used by running container {}",
                short(&u.container_id)
            ),
        );
    }
    if force {
        return Ok(());
    }
    if !ignore_refs && !refs.is_empty() {
        return conflict(false, "image is referenced in multiple repositories".into());
    }
    if let Some(u) = users.iter().find(|u| !u.running) {
        return conflict(
            false,
            format!(
                "image is being used by stopped container {}",
                short(&u.container_id)
            ),
        );
    }
    Ok(())
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

/// Whether the user named the image by (a prefix of) its ID.
fn is_id_prefix(id: &Digest, given: &str) -> bool {
    let full = id.to_string();
    !given.is_empty() && (full.starts_with(given) || id.hex().starts_with(given))
}

/// moby's `isSingleReference`: at most one tag, and every reference is in
/// the same repository.
fn is_single_reference(refs: &[Reference]) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let mut single: Option<&Reference> = None;
    let mut canonical = HashSet::new();
    for r in refs {
        if r.digest().is_some() {
            canonical.insert(r.name());
        } else if single.is_none() {
            single = Some(r);
        } else {
            return false;
        }
    }
    let single = single.unwrap_or(&refs[0]);
    canonical.len() == 1 && canonical.contains(&single.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        parse_normalized_named(s).unwrap()
    }

    #[test]
    fn single_reference_follows_moby() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert!(!is_single_reference(&[]));
        assert!(is_single_reference(&[r("busybox:latest")]));
        assert!(is_single_reference(&[
            r("busybox:latest"),
            r(&format!("busybox@{d}"))
        ]));
        assert!(!is_single_reference(&[
            r("busybox:latest"),
            r("busybox:other")
        ]));
        assert!(!is_single_reference(&[
            r("busybox:latest"),
            r(&format!("other@{d}"))
        ]));
    }

    #[test]
    fn id_prefixes() {
        let id = Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
        assert!(is_id_prefix(&id, "abab"));
        assert!(is_id_prefix(&id, "sha256:abab"));
        assert!(!is_id_prefix(&id, "busybox"));
        assert!(!is_id_prefix(&id, ""));
    }

    #[test]
    fn conflicts_use_dockers_messages() {
        let id = Digest::parse(&format!("sha256:{}", "c".repeat(64))).unwrap();
        let running = [ImageUser {
            container_id: "1234567890abcdef".into(),
            running: true,
        }];
        let err = check_conflict(&id, &running, &[], true, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "conflict: unable to delete cccccccccccc (cannot be forced) - image is being used by running container 1234567890ab"
        );
        let stopped = [ImageUser {
            container_id: "fedcba0987654321".into(),
            running: false,
        }];
        let err = check_conflict(&id, &stopped, &[], false, false).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "(must be forced) - image is being used by stopped container fedcba098765"
            ),
            "{err}"
        );
        assert!(check_conflict(&id, &stopped, &[], true, false).is_ok());
        let err = check_conflict(&id, &[], &[r("a:b")], false, false).unwrap_err();
        assert!(err
            .to_string()
            .contains("image is referenced in multiple repositories"));
    }
}
