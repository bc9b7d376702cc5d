//! The five capability sets of the container process.

use caps::{CapSet, Capability, CapsHashSet};
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

use crate::error::{Error, Result};

fn convert(set: &Option<Capabilities>) -> CapsHashSet {
    let supported = caps::runtime::thread_all_supported();
    set.iter()
        .flatten()
        .filter_map(|c| {
            // oci-spec displays `AUDIT_WRITE`; caps parses `CAP_AUDIT_WRITE`.
            let name = c.to_string();
            let name = if name.starts_with("CAP_") {
                name
            } else {
                format!("CAP_{name}")
            };
            name.parse::<Capability>().ok()
        })
        // A capability the kernel does not know is ignored, as runc does.
        .filter(|c| supported.contains(c))
        .collect()
}

fn cap_err(what: &str, e: caps::errors::CapsError) -> Error {
    Error::Init(format!("capabilities: {what}: {e}"))
}

/// Drops from the bounding set every capability the spec does not keep.
/// Must run while the process still holds CAP_SETPCAP (before setuid).
pub fn drop_bounding(spec_caps: &LinuxCapabilities) -> Result<()> {
    let keep = convert(spec_caps.bounding());
    for cap in caps::runtime::thread_all_supported() {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap).map_err(|e| cap_err("drop bounding", e))?;
        }
    }
    Ok(())
}

/// Sets the effective, permitted, inheritable and ambient sets. Order
/// matters: inheritable needs CAP_SETPCAP still effective, effective must
/// stay within permitted, ambient within permitted and inheritable.
pub fn apply(spec_caps: &LinuxCapabilities) -> Result<()> {
    caps::set(None, CapSet::Inheritable, &convert(spec_caps.inheritable()))
        .map_err(|e| cap_err("set inheritable", e))?;
    caps::set(None, CapSet::Effective, &convert(spec_caps.effective()))
        .map_err(|e| cap_err("set effective", e))?;
    caps::set(None, CapSet::Permitted, &convert(spec_caps.permitted()))
        .map_err(|e| cap_err("set permitted", e))?;
    caps::clear(None, CapSet::Ambient).map_err(|e| cap_err("clear ambient", e))?;
    for cap in convert(spec_caps.ambient()) {
        // A capability missing from the inheritable set cannot be ambient;
        // runc warns and carries on, and so do we.
        if let Err(e) = caps::raise(None, CapSet::Ambient, cap) {
            tracing::warn!("cannot raise ambient capability {cap}: {e}");
        }
    }
    Ok(())
}
