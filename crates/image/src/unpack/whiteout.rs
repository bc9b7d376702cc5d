//! Conversion of OCI/Docker whiteout entries to overlayfs whiteouts.
//!
//! - `dir/.wh.name` becomes a character device 0/0 named `dir/name`.
//! - `dir/.wh..wh..opq` sets `trusted.overlay.opaque=y` on `dir`.

use crate::unpack::safe_path::WHITEOUT_PREFIX;

/// The opaque-directory marker name.
pub(crate) const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// Prefix of AUFS metadata names (`.wh..wh.plnk`, ...), skipped like Docker does.
const META_PREFIX: &[u8] = b".wh..wh.";
/// The overlayfs xattr marking a directory opaque.
pub(crate) const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What a last path component means as a whiteout.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Whiteout {
    /// Not a whiteout: an ordinary name.
    None,
    /// The parent directory is opaque.
    Opaque,
    /// The sibling with this name is deleted.
    Remove(Vec<u8>),
    /// Other `.wh..wh.` metadata, ignored.
    Meta,
}

/// Classifies the last component of an entry. `Err` carries the refusal reason.
pub(crate) fn classify(name: &[u8]) -> Result<Whiteout, String> {
    if name == OPAQUE_MARKER {
        return Ok(Whiteout::Opaque);
    }
    if name.starts_with(META_PREFIX) {
        return Ok(Whiteout::Meta);
    }
    match name.strip_prefix(WHITEOUT_PREFIX) {
        None => Ok(Whiteout::None),
        Some(b"") | Some(b".") | Some(b"..") => Err("invalid whiteout name".to_string()),
        Some(target) if target.contains(&b'/') || target.contains(&0) => {
            Err("invalid whiteout name".to_string())
        }
        Some(target) => Ok(Whiteout::Remove(target.to_vec())),
    }
}
