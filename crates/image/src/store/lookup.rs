//! Finding an image from what a user typed (moby's `GetImage`).

use super::error::StoreError;
use super::ImageStore;
use crate::content::Digest;
use crate::record::ImageRecord;
use crate::reference::{is_full_image_id, parse_normalized_named, tag_name_only};

/// moby's `checkTruncatedID` (daemon/containerd/image.go): with an optional
/// `sha256:` prefix, 4 to 64 lowercase hex characters. Returns the hex.
pub(crate) fn truncated_id(s: &str) -> Option<&str> {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    let ok = (4..=64).contains(&hex.len())
        && hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    ok.then_some(hex)
}

impl ImageStore {
    /// Finds the image `ref_or_id` names, as moby's `GetImage` does:
    ///
    /// 1. A full ID, `<64 hex>` or `sha256:<64 hex>` (any valid digest):
    ///    the image with that ID, else `No such image: sha256:<hex>`.
    /// 2. Otherwise the string must be a valid reference (else
    ///    InvalidParameter with the grammar's message, e.g. `invalid
    ///    reference format`). It is looked up in the reference store:
    ///    `busybox` means `busybox:latest`, `name@sha256:…` is looked up
    ///    by digest.
    /// 3. If that finds nothing and the string looks like a short ID
    ///    (`[sha256:]` + 4 to 64 lowercase hex, the containerd image
    ///    service's rule), the image whose ID starts with it; when several
    ///    do, `ambiguous reference` (NotFound).
    /// 4. Else `No such image: <familiar reference, :latest added>`, e.g.
    ///    `No such image: busybox:latest` (NotFound).
    pub fn get_image(&self, ref_or_id: &str) -> Result<ImageRecord, StoreError> {
        // reference.ParseAnyReference: a bare 64-hex ID or a digest.
        let as_digest = if is_full_image_id(ref_or_id) {
            Digest::parse(&format!("sha256:{ref_or_id}")).ok()
        } else {
            Digest::parse(ref_or_id).ok()
        };
        if let Some(id) = as_digest {
            return self.get(&id).ok_or_else(|| StoreError::no_such_image(&id));
        }

        let named = parse_normalized_named(ref_or_id)?;
        let state = self.read();
        if let Some(record) = state.refs.get(&named).and_then(|id| state.images.get(&id)) {
            return Ok(record.clone());
        }

        if let Some(prefix) = truncated_id(ref_or_id) {
            let mut matches = state
                .images
                .iter()
                .filter(|(id, _)| id.algorithm() == "sha256" && id.hex().starts_with(prefix));
            if let Some((_, first)) = matches.next() {
                if matches.next().is_some() {
                    return Err(StoreError::NotFound("ambiguous reference".into()));
                }
                return Ok(first.clone());
            }
        }

        Err(StoreError::no_such_image(
            tag_name_only(named).familiar_string(),
        ))
    }
}
