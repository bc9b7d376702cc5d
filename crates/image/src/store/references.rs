//! The reference store (moby's `reference/store.go`): which names point at
//! which image ID, kept as Docker's `repositories.json`:
//!
//! ```json
//! {"Repositories":{"busybox":{"busybox:latest":"sha256:…","busybox@sha256:…":"sha256:…"}}}
//! ```
//!
//! Keys are familiar names (`busybox`, `user/app`, `localhost:5000/app`)
//! and familiar strings (`busybox:latest`, `busybox@sha256:…`). A reference
//! with both a tag and a digest is stored by its digest only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::StoreError;
use crate::content::Digest;
use crate::reference::{parse_normalized_named, tag_name_only, Reference};

/// The on-disk form, as read (values kept as strings so one bad entry does
/// not make the whole file unreadable).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RefFileIn {
    #[serde(rename = "Repositories", default)]
    repositories: Option<BTreeMap<String, Option<BTreeMap<String, String>>>>,
}

/// The on-disk form, as written.
#[derive(Serialize)]
struct RefFileOut<'a> {
    #[serde(rename = "Repositories")]
    repositories: &'a BTreeMap<String, BTreeMap<String, Digest>>,
}

/// Repositories by familiar name; in each, image IDs by familiar string.
#[derive(Debug, Default, Clone)]
pub(crate) struct RefMap {
    repos: BTreeMap<String, BTreeMap<String, Digest>>,
}

/// moby's `favorDigest`: `name:tag@digest` is stored as `name@digest`.
fn favor_digest(r: &Reference) -> Result<Reference, StoreError> {
    match (r.tag(), r.digest()) {
        (Some(_), Some(d)) => Ok(r.trim_named().with_digest(d)?),
        _ => Ok(r.clone()),
    }
}

/// The stored form of a lookup key: the digest alone when there is one,
/// else the tag, `latest` when there is neither (moby's `Get`/`Delete`).
fn lookup_key(r: &Reference) -> Result<Reference, StoreError> {
    Ok(tag_name_only(favor_digest(r)?))
}

impl RefMap {
    /// Builds the map from the file's content, keeping only entries whose
    /// key parses as a reference, whose value is a valid digest and for
    /// which `keep` is true (the image exists). Returns the map and whether
    /// anything was dropped (so the caller rewrites the file).
    pub(crate) fn load(file: RefFileIn, keep: impl Fn(&Digest) -> bool) -> (RefMap, bool) {
        let mut map = RefMap::default();
        let mut dropped = false;
        for (repo, refs) in file.repositories.unwrap_or_default() {
            for (key, value) in refs.unwrap_or_default() {
                let parsed = parse_normalized_named(&key)
                    .map_err(|e| e.to_string())
                    .and_then(|r| {
                        if r.is_name_only() {
                            Err("neither tag nor digest".to_string())
                        } else {
                            favor_digest(&r).map_err(|e| e.to_string())
                        }
                    });
                let r = match parsed {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(repository = %repo, reference = %key, error = %e, "dropping invalid reference");
                        dropped = true;
                        continue;
                    }
                };
                let id = match Digest::parse(&value) {
                    Ok(id) => id,
                    Err(e) => {
                        tracing::warn!(reference = %key, error = %e, "dropping reference with an invalid image ID");
                        dropped = true;
                        continue;
                    }
                };
                if !keep(&id) {
                    tracing::warn!(reference = %key, image = %id, "dropping reference to a missing image");
                    dropped = true;
                    continue;
                }
                if r.familiar_string() != key || r.familiar_name() != repo {
                    dropped = true; // re-keyed: rewrite in canonical form
                }
                map.repos
                    .entry(r.familiar_name())
                    .or_default()
                    .insert(r.familiar_string(), id);
            }
        }
        (map, dropped)
    }

    /// The file content (`{"Repositories":{...}}`).
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&RefFileOut {
            repositories: &self.repos,
        })
        .unwrap_or_else(|_| b"{\"Repositories\":{}}".to_vec())
    }

    /// The image `r` points at (moby's `Get`): by digest when `r` has one
    /// (a tag next to it is ignored), else by tag, `latest` if none.
    pub(crate) fn get(&self, r: &Reference) -> Option<Digest> {
        let key = lookup_key(r).ok()?;
        self.repos
            .get(&key.familiar_name())?
            .get(&key.familiar_string())
            .cloned()
    }

    /// moby's `AddTag(ref, id, force=true)`: points `name:tag` (`:latest`
    /// when no tag) at `id`, moving the tag if it pointed elsewhere.
    /// Returns whether anything changed.
    pub(crate) fn add_tag(&mut self, r: &Reference, id: &Digest) -> Result<bool, StoreError> {
        if r.digest().is_some() {
            return Err(StoreError::InvalidParameter(
                "refusing to create a tag with a digest reference".into(),
            ));
        }
        self.add(&tag_name_only(r.clone()), id, true)
    }

    /// moby's `AddDigest`: points `name@digest` at `id`. Adding what is
    /// already there is a no-op (as distribution's `addDigestReference`
    /// does); a digest already pointing at another image is
    /// `Cannot overwrite digest <digest>` (Conflict).
    pub(crate) fn add_digest(&mut self, r: &Reference, id: &Digest) -> Result<bool, StoreError> {
        if r.digest().is_none() {
            return Err(StoreError::InvalidParameter(format!(
                "reference {} has no digest",
                r.familiar_string()
            )));
        }
        let r = favor_digest(r)?;
        if self.get(&r).as_ref() == Some(id) {
            return Ok(false);
        }
        self.add(&r, id, false)
    }

    /// moby's `addReference`.
    fn add(&mut self, r: &Reference, id: &Digest, force: bool) -> Result<bool, StoreError> {
        let r = favor_digest(r)?;
        let name = r.familiar_name();
        let key = r.familiar_string();
        if name == "sha256" {
            return Err(StoreError::InvalidParameter(
                "refusing to create an ambiguous tag using digest algorithm as name".into(),
            ));
        }
        let repo = self.repos.entry(name).or_default();
        if let Some(old) = repo.get(&key) {
            if let Some(d) = r.digest() {
                return Err(StoreError::Conflict(format!("Cannot overwrite digest {d}")));
            }
            if !force {
                return Err(StoreError::Conflict(format!(
                    "Conflict: Tag {key} is already set to image {old}, if you want to replace it, please use the force option"
                )));
            }
            if old == id {
                return Ok(false);
            }
        }
        repo.insert(key, id.clone());
        Ok(true)
    }

    /// moby's `Delete`: removes `r` (`:latest` when it has neither tag nor
    /// digest) and returns the image it pointed at; `reference does not
    /// exist` (NotFound) when absent.
    pub(crate) fn delete(&mut self, r: &Reference) -> Result<Digest, StoreError> {
        let key = lookup_key(r)?;
        let name = key.familiar_name();
        let not_found = || StoreError::NotFound("reference does not exist".into());
        let repo = self.repos.get_mut(&name).ok_or_else(not_found)?;
        let id = repo.remove(&key.familiar_string()).ok_or_else(not_found)?;
        if repo.is_empty() {
            self.repos.remove(&name);
        }
        Ok(id)
    }

    /// Every reference to `id`, sorted by full name as moby's `References`
    /// sorts them (`docker.io/library/busybox:latest` < `…@sha256:…`).
    pub(crate) fn references(&self, id: &Digest) -> Vec<Reference> {
        let mut refs: Vec<Reference> = self
            .repos
            .values()
            .flat_map(|repo| repo.iter())
            .filter(|(_, v)| *v == id)
            .filter_map(|(k, _)| parse_normalized_named(k).ok())
            .collect();
        refs.sort_by_key(|r| r.to_string());
        refs
    }

    /// Removes every reference to `id`; returns them (sorted).
    pub(crate) fn remove_all(&mut self, id: &Digest) -> Vec<Reference> {
        let removed = self.references(id);
        for repo in self.repos.values_mut() {
            repo.retain(|_, v| v != id);
        }
        self.repos.retain(|_, repo| !repo.is_empty());
        removed
    }
}
