//! Validation and normalization of layer entry paths.
//!
//! Every tar entry name is reduced to a list of plain components relative to
//! the layer root: leading `/` and `./` are dropped (absolute names are taken
//! relative to the layer root, as Docker does), `.` components vanish, and a
//! `..` component removes the previous one, or is refused when it would climb
//! above the root. A component with the reserved whiteout prefix `.wh.` may
//! only be the last one (a whiteout is a leaf, never a directory to go
//! through), so names like `x/.wh.../../y` are refused.

/// The reserved whiteout prefix (OCI image spec, "Whiteouts").
pub(crate) const WHITEOUT_PREFIX: &[u8] = b".wh.";

/// Longest accepted entry or link name, in bytes (Linux `PATH_MAX`).
pub(crate) const MAX_PATH_LEN: usize = 4096;

/// A normalized path inside the layer: zero components is the layer root.
pub(crate) type Components = Vec<Vec<u8>>;

/// Normalizes a raw tar path. Returns the reason on refusal. `layer`:
/// the path is in an image layer, where `.wh.` names are whiteouts (so
/// never directories); elsewhere they are ordinary names.
pub(crate) fn normalize(raw: &[u8], layer: bool) -> Result<Components, String> {
    // Docker works on whole path strings, so anything past PATH_MAX fails
    // there; refusing it here also bounds directory depth (and recursion).
    if raw.len() > MAX_PATH_LEN {
        return Err("path too long".to_string());
    }
    if raw.contains(&0) {
        return Err("path contains a NUL byte".to_string());
    }
    let raw_comps: Vec<&[u8]> = raw
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    let mut out: Components = Vec::with_capacity(raw_comps.len());
    let last = raw_comps.len().saturating_sub(1);
    for (i, comp) in raw_comps.iter().enumerate() {
        if *comp == b".." {
            if out.pop().is_none() {
                let root = if layer {
                    "the layer"
                } else {
                    "the extraction directory"
                };
                return Err(format!("path escapes {root}"));
            }
            continue;
        }
        if layer && comp.starts_with(WHITEOUT_PREFIX) && i != last {
            return Err("whiteout name used as a directory".to_string());
        }
        out.push(comp.to_vec());
    }
    Ok(out)
}

/// Renders components for error messages and logs.
pub(crate) fn display(comps: &[Vec<u8>]) -> String {
    if comps.is_empty() {
        return ".".to_string();
    }
    let joined: Vec<u8> = comps.join(&b'/');
    String::from_utf8_lossy(&joined).into_owned()
}
